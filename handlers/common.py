"""What every Telegram-facing handler shares: the turn (who, where, which language) and the
decorators that parse -> authorize -> run -> answer, turning a DomainError into a translated
reply and a refused permission into a polite, translated refusal.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update, User
from telegram.ext import CallbackContext, ExtBot

from bot.domain.chats import Chat
from bot.domain.commands import Where
from bot.domain.errors import DomainError
from bot.domain.languages import normalize_language
from bot.domain.roles import Action, Role, may, required_role
from bot.flood import Verdict
from bot.i18n import Html, escape, shorten, t
from bot.services import Services
from storage import chats, members

log = logging.getLogger(__name__)

#: How long we trust that a member row is up to date before writing "seen" again.
SEEN_TTL = 3600.0

BOTH = frozenset({Where.PRIVATE, Where.GROUP})
GROUP_ONLY = frozenset({Where.GROUP})
PRIVATE_ONLY = frozenset({Where.PRIVATE})


class CourtyardContext(
    CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
):
    """PTB's context with typed access to our services."""

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data["services"]
        return services


def display_name(user: User) -> str:
    return user.full_name.strip() or (f"@{user.username}" if user.username else str(user.id))


#: Telegram notifies at most this many mentioned users per message; more are not notified.
MAX_MENTIONS = 50
#: Names in a batch of mentions are cut to this: 50 of Telegram's longest names (129
#: characters) plus their links would pass the 4096 of one message.
MENTION_NAME = 24


def mention(user_id: int, name: str) -> Html:
    """A mention that notifies the user without needing a username (no phone, no @ handle)."""
    return Html(f'<a href="tg://user?id={user_id}">{escape(name)}</a>')


def mention_batches(people: Sequence[tuple[int, str]], size: int = MAX_MENTIONS) -> list[str]:
    """``(user id, name)`` pairs as mention lists of at most ``size`` each, comma-separated:
    one message per batch keeps every mention notifying, and names are cut to
    ``MENTION_NAME`` so a batch always fits in a message."""
    if size < 1:
        raise ValueError("batch size must be positive")
    batches = [people[i : i + size] for i in range(0, len(people), size)]
    return [
        ", ".join(mention(uid, shorten(name, MENTION_NAME)) for uid, name in batch)
        for batch in batches
    ]


_TAG_RE = re.compile(r"<[^>]+>")


def is_id(raw: str, *, digits: int = 12) -> bool:
    """Whether button data holds a row id we can look up: 1 to ``digits`` ASCII digits.

    ``str.isdigit`` alone is not enough: "²" and "١" are digits to it but not to ``int`` or
    SQLite, and a hundred nines overflow SQLite's integers."""
    return 0 < len(raw) <= digits and raw.isascii() and raw.isdigit()


def plain(html_text: str) -> str:
    """A catalog message (Telegram HTML) as plain text, for button answers, which Telegram
    shows without parsing: tags dropped, entities such as ``&amp;`` turned back into ``&``."""
    return html.unescape(_TAG_RE.sub("", html_text))


def user_language(user: User | None) -> str | None:
    return normalize_language(user.language_code) if user else None


@dataclass(slots=True)
class Turn:
    """One update being handled: the chat row, the acting user and the language to answer in."""

    update: Update
    context: CourtyardContext
    services: Services
    chat: Chat
    user: User | None
    now: datetime
    _role: Role | None = field(default=None, repr=False)

    @property
    def lang(self) -> str:
        return self.chat.language

    @property
    def personal_lang(self) -> str:
        """For texts only this user sees (button alerts): their own language if we speak it."""
        return user_language(self.user) or self.chat.language

    @property
    def where(self) -> Where:
        return Where.PRIVATE if self.chat.is_private else Where.GROUP

    @property
    def message(self) -> Message | None:
        return self.update.effective_message

    @property
    def query(self) -> CallbackQuery | None:
        return self.update.callback_query

    @property
    def args(self) -> list[str]:
        return list(self.context.args or [])

    @property
    def rest(self) -> str:
        """What follows the command word, with its line breaks (``args`` would lose them)."""
        message = self.message
        text = (message.text or message.caption or "") if message else ""
        parts = text.split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""

    async def role(self) -> Role:
        if self._role is None:
            uid = self.user.id if self.user else 0
            self._role = await self.services.roles.role_of(self.chat, uid)
        return self._role

    async def may(self, action: Action) -> bool:
        """The one rule (bot.domain.roles.may); no admin lookup when every member may act."""
        if required_role(action, self.chat.settings) is Role.RESIDENT:
            return True
        return may(await self.role(), action, self.chat.settings)

    def t(self, key: str, /, **params: Any) -> str:
        return t(self.lang, key, **params)

    async def reply(
        self, key: str, /, *, markup: InlineKeyboardMarkup | None = None, **params: Any
    ) -> Message | None:
        return await self.say(self.t(key, **params), markup=markup)

    async def say(self, text: str, *, markup: InlineKeyboardMarkup | None = None) -> Message | None:
        """Send HTML to this chat; in a group, as a reply to the message that asked."""
        reply_to = None
        if not self.chat.is_private and self.message is not None and self.query is None:
            reply_to = self.message.message_id
        return await self.services.outbox.send(
            self.chat.id, text, reply_markup=markup, reply_to=reply_to
        )

    async def answer(
        self, key: str | None = None, /, *, alert: bool = False, **params: Any
    ) -> None:
        """Answer the pressed button with a short notice in the presser's language."""
        if self.query is None:
            return
        text = plain(t(self.personal_lang, key, **params)) if key else None
        await self.services.outbox.answer(self.query.id, text, alert=alert)


async def open_turn(update: Update, context: CourtyardContext) -> Turn | None:
    """Load (or create) the chat row and note the member. ``None`` for updates without a chat."""
    services = context.services
    tg_chat = update.effective_chat
    if tg_chat is None:
        return None
    user = update.effective_user
    now = services.clock()
    chat_id = tg_chat.id
    chat = await chats.get(services.db, chat_id)
    if chat is None:
        moved = await chats.resolve(services.db, chat_id)
        if moved != chat_id:
            chat = await chats.get(services.db, moved)
    if chat is None:
        defaults = services.defaults(user_language(user))
        title = None if tg_chat.type == "private" else tg_chat.title
        chat, _ = await chats.ensure(
            services.db, chat_id, type=tg_chat.type, title=title, defaults=defaults, now=now
        )
    elif not chat.active:
        # An update arrived from it, so the bot is there (again) / the user unblocked it.
        await chats.set_active(services.db, chat.id, True, now)
    if user is not None and not chat.is_private and not user.is_bot:
        await _note_member(services, chat.id, user)
    return Turn(update=update, context=context, services=services, chat=chat, user=user, now=now)


async def _note_member(services: Services, chat_id: int, user: User) -> None:
    name = display_name(user)
    key = (chat_id, user.id)
    known = services.seen.get(key)
    mono = time.monotonic()
    if known and known[0] == name and mono - known[1] < SEEN_TTL:
        return
    await members.seen(services.db, chat_id, user.id, name, services.clock())
    if len(services.seen) > 50_000:
        services.seen.clear()
    services.seen[key] = (name, mono)


Handler = Callable[[Update, CourtyardContext], Coroutine[Any, Any, None]]


def role_key(role: Role) -> str:
    return {Role.LEAD: "role.leads", Role.ORGANIZER: "role.organizers"}.get(role, "role.everyone")


def _flood_verdict(update: Update, context: CourtyardContext) -> Verdict:
    guard = context.services.flood
    chat, user = update.effective_chat, update.effective_user
    if guard is None or chat is None or user is None:
        return Verdict.ALLOW
    return guard.check(chat.id, user.id)


def _wait(update: Update, context: CourtyardContext) -> int:
    guard = context.services.flood
    chat, user = update.effective_chat, update.effective_user
    if guard is None or chat is None or user is None:
        return 1
    return guard.wait_seconds(chat.id, user.id)


def command(
    *, action: Action = Action.USE_BOT, where: frozenset[Where] = BOTH
) -> Callable[[Callable[[Turn], Awaitable[None]]], Handler]:
    """Wrap a command body: build the turn, check place and permission, translate refusals."""

    def deco(body: Callable[[Turn], Awaitable[None]]) -> Handler:
        @functools.wraps(body)
        async def handler(update: Update, context: CourtyardContext) -> None:
            verdict = _flood_verdict(update, context)
            turn = await open_turn(update, context)
            if turn is None:
                return
            # leads are not limited: a lead typing a stack of paper ballots must not lose them
            if verdict is not Verdict.ALLOW and await turn.role() is not Role.LEAD:
                if verdict is Verdict.WARN:
                    await turn.reply("error.slow_down", seconds=_wait(update, context))
                return
            if turn.where not in where:
                key = "error.group_only" if Where.GROUP in where else "error.private_only"
                await turn.reply(key)
                return
            if not await turn.may(action):
                needed = required_role(action, turn.chat.settings)
                await turn.reply("error.not_allowed", who=Html(turn.t(role_key(needed))))
                return
            try:
                await body(turn)
            except DomainError as exc:
                await turn.reply(exc.key, **exc.params)

        return handler

    return deco


def button(
    *, action: Action = Action.USE_BOT
) -> Callable[[Callable[[Turn, list[str]], Awaitable[None]]], Handler]:
    """Wrap a button body: the callback data is split on ':' (prefix dropped) and handed over.

    Callback data is never trusted: the body validates it and raises
    ``DomainError("error.stale_button")`` for anything it does not recognise. Every press is
    answered, exactly once.
    """

    def deco(body: Callable[[Turn, list[str]], Awaitable[None]]) -> Handler:
        @functools.wraps(body)
        async def handler(update: Update, context: CourtyardContext) -> None:
            query = update.callback_query
            if query is None:
                return
            turn = await open_turn(update, context)
            if turn is None:
                await context.services.outbox.answer(query.id)
                return
            if not await turn.may(action):
                needed = required_role(action, turn.chat.settings)
                await turn.answer(
                    "error.not_allowed_button",
                    alert=True,
                    who=Html(t(turn.personal_lang, role_key(needed))),
                )
                return
            parts = (query.data or "").split(":")[1:]
            try:
                await body(turn, parts)
            except DomainError as exc:
                await turn.answer(exc.key, alert=True, **exc.params)

        return handler

    return deco
