"""Who is a lead, organizer or resident in a chat — the answer to "may this user do X here" —
and whether someone is in the group at all.

Leads are the chat's administrators, asked from Telegram with getChatAdministrators and cached for
``ttl`` seconds (concurrent lookups share one request); the cache of a chat is dropped when
Telegram reports a change of its administrators. Organizers are granted by leads and stored.

Presence is stored in ``members`` (storage/members.py); this class keeps the in-memory side:
the people known to be in a chat (so a vote press reads nothing), and Telegram's getChatMember
answers "not in this group", trusted for ``absent_ttl`` seconds (a stranger pressing a hundred
buttons costs one lookup a minute). The bot need not be an administrator for getChatMember.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, ChatMember
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.domain.chats import Chat
from bot.domain.roles import Role
from bot.outbox import retry_seconds
from storage import members
from storage.db import Database

#: Attempts of one admin lookup on timeouts and 5xx, and the longest 429 wait it accepts.
LOOKUP_ATTEMPTS = 4
MAX_WAIT = 60.0
#: A member lookup answers a button press, which Telegram drops if unanswered for long: it
#: waits out at most this long a 429 and retries once; then the press is refused politely.
PRESS_WAIT = 3.0
PRESS_ATTEMPTS = 2

log = logging.getLogger(__name__)

#: Telegram's user id for "Group" when an administrator posts anonymously in their group.
GROUP_ANONYMOUS_BOT = 1087968824

_T = TypeVar("_T")

#: How long Telegram's answer "not in this group" is trusted before asking again.
ABSENT_TTL = 60.0
#: The in-memory presence sets are dropped (and rebuilt from the database) past this size.
MAX_KNOWN = 100_000


def is_present(member: ChatMember) -> bool:
    """Whether a ChatMember status means "in the group" (a restricted member still is)."""
    if member.status in (
        ChatMemberStatus.OWNER,
        ChatMemberStatus.ADMINISTRATOR,
        ChatMemberStatus.MEMBER,
    ):
        return True
    return member.status == ChatMemberStatus.RESTRICTED and bool(
        getattr(member, "is_member", False)
    )


def _no_such_user(exc: BadRequest) -> bool:
    """getChatMember's 400s that mean "this person is not in the chat" (not "no such chat")."""
    text = str(exc).lower()
    return "user" in text or "participant" in text or "member not found" in text


class Roles:
    def __init__(
        self,
        bot: Bot,
        db: Database,
        *,
        ttl: float = 120.0,
        absent_ttl: float = ABSENT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.bot = bot
        self.db = db
        self.ttl = ttl
        self.absent_ttl = absent_ttl
        self._clock = clock
        self._present: set[tuple[int, int]] = set()
        self._absent: dict[tuple[int, int], float] = {}
        self.member_lookups = 0
        self._cache: dict[int, tuple[float, frozenset[int]]] = {}
        self._inflight: dict[int, asyncio.Future[frozenset[int]]] = {}
        self._generation: dict[int, int] = {}
        self.lookups = 0

    def invalidate(self, chat_id: int) -> None:
        """Telegram reported a change: forget the list, and any lookup already under way."""
        self._cache.pop(chat_id, None)
        self._inflight.pop(chat_id, None)
        self._generation[chat_id] = self._generation.get(chat_id, 0) + 1

    def move(self, old_id: int, new_id: int) -> None:
        self.invalidate(old_id)
        self.invalidate(new_id)
        moved = (old_id, new_id)
        self._present = {k for k in self._present if k[0] not in moved}
        self._absent = {k: v for k, v in self._absent.items() if k[0] not in moved}

    # --- presence (the database holds the truth; see storage/members.py) --------------------

    def known_present(self, chat_id: int, user_id: int) -> bool:
        return (chat_id, user_id) in self._present

    def note_present(self, chat_id: int, user_id: int) -> None:
        if len(self._present) > MAX_KNOWN:
            self._present.clear()
        self._present.add((chat_id, user_id))
        self._absent.pop((chat_id, user_id), None)

    def note_absent(self, chat_id: int, user_id: int) -> None:
        self._present.discard((chat_id, user_id))
        if len(self._absent) > MAX_KNOWN:
            self._absent.clear()
        self._absent[(chat_id, user_id)] = self._clock()

    async def in_chat(self, chat_id: int, user_id: int) -> bool:
        """Ask Telegram (getChatMember) whether the user is in the chat now. "No" is trusted
        for ``absent_ttl`` seconds; "yes" is the caller's to store. Raises TelegramError when
        Telegram cannot answer."""
        key = (chat_id, user_id)
        asked = self._absent.get(key)
        if asked is not None and self._clock() - asked < self.absent_ttl:
            return False
        self.member_lookups += 1
        try:
            member = await self._patiently(
                lambda: self.bot.get_chat_member(chat_id, user_id),
                "member lookup",
                chat_id,
                max_wait=PRESS_WAIT,
                attempts=PRESS_ATTEMPTS,
            )
        except BadRequest as exc:
            if not _no_such_user(exc):
                raise
            present = False
        else:
            present = is_present(member)
        if present:
            self.note_present(chat_id, user_id)
        else:
            self.note_absent(chat_id, user_id)
        return present

    async def admins(self, chat_id: int) -> frozenset[int]:
        """User ids of the chat's administrators (cached; stale values are used if Telegram
        cannot be reached, and an error is raised only when there is nothing cached)."""
        cached = self._cache.get(chat_id)
        if cached and self._clock() - cached[0] < self.ttl:
            return cached[1]
        pending = self._inflight.get(chat_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[frozenset[int]] = asyncio.get_running_loop().create_future()
        self._inflight[chat_id] = future
        generation = self._generation.get(chat_id, 0)
        try:
            self.lookups += 1
            found = await self._lookup(chat_id)
            ids = frozenset(
                m.user.id
                for m in found
                if m.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
            )
            if self._generation.get(chat_id, 0) == generation:  # no change reported meanwhile
                self._cache[chat_id] = (self._clock(), ids)
            future.set_result(ids)
            return ids
        except TelegramError as exc:
            if cached:
                log.warning("admin lookup failed in chat %s, using cached list: %s", chat_id, exc)
                future.set_result(cached[1])
                return cached[1]
            future.set_exception(exc)
            raise
        except BaseException as exc:  # anything else, or cancellation: never leave waiters hanging
            if not future.done():
                future.set_exception(RuntimeError(f"admin lookup aborted: {exc!r}"))
            raise
        finally:
            if self._inflight.get(chat_id) is future:
                del self._inflight[chat_id]
            if future.done() and not future.cancelled():
                future.exception()  # mark retrieved: no "exception never retrieved" warning

    async def _lookup(self, chat_id: int) -> tuple[ChatMember, ...]:
        """getChatAdministrators, patiently."""
        return await self._patiently(
            lambda: self.bot.get_chat_administrators(chat_id), "admin lookup", chat_id
        )

    async def _patiently(
        self,
        call: Callable[[], Awaitable[_T]],
        what: str,
        chat_id: int,
        *,
        max_wait: float = MAX_WAIT,
        attempts: int = LOOKUP_ATTEMPTS,
    ) -> _T:
        """One lookup, waiting out a 429 (as long as Telegram asks, up to ``max_wait`` in all)
        and retrying timeouts and 5xx a few times, like the outbox does."""
        waited = 0.0
        for attempt in range(1, attempts + 1):
            try:
                return await call()
            except RetryAfter as exc:
                pause = retry_seconds(exc)
                if waited + pause > max_wait:
                    raise
                waited += pause
                log.warning("429 on the %s in chat %s: waiting %.1fs", what, chat_id, pause)
                await asyncio.sleep(pause)
            except BadRequest:
                raise  # chat not found and the like: retrying changes nothing
            except NetworkError:  # timeouts and 5xx
                if attempt == attempts:
                    raise
                await asyncio.sleep(0.5 * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def role_of(self, chat: Chat, user_id: int) -> Role:
        """The user's role in ``chat``. In a private chat the user owns it: LEAD."""
        if chat.is_private:
            return Role.LEAD
        if user_id == GROUP_ANONYMOUS_BOT or user_id in await self.admins(chat.id):
            return Role.LEAD
        return await members.stored_role(self.db, chat.id, user_id)
