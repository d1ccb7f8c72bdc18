"""Who is a lead, organizer or resident in a chat — the answer to "may this user do X here".

Leads are the chat's administrators, asked from Telegram with getChatAdministrators and cached for
``ttl`` seconds (concurrent lookups share one request); the cache of a chat is dropped when
Telegram reports a change of its administrators. Organizers are granted by leads and stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

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

log = logging.getLogger(__name__)

#: Telegram's user id for "Group" when an administrator posts anonymously in their group.
GROUP_ANONYMOUS_BOT = 1087968824


class Roles:
    def __init__(
        self,
        bot: Bot,
        db: Database,
        *,
        ttl: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.bot = bot
        self.db = db
        self.ttl = ttl
        self._clock = clock
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
        """getChatAdministrators, waiting out a 429 (as long as Telegram asks, up to
        ``MAX_WAIT`` in all) and retrying timeouts and 5xx a few times, like the outbox does."""
        waited = 0.0
        for attempt in range(1, LOOKUP_ATTEMPTS + 1):
            try:
                return await self.bot.get_chat_administrators(chat_id)
            except RetryAfter as exc:
                pause = retry_seconds(exc)
                if waited + pause > MAX_WAIT:
                    raise
                waited += pause
                log.warning("429 on the admin lookup in chat %s: waiting %.1fs", chat_id, pause)
                await asyncio.sleep(pause)
            except BadRequest:
                raise  # chat not found and the like: retrying changes nothing
            except NetworkError:  # timeouts and 5xx
                if attempt == LOOKUP_ATTEMPTS:
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
