"""What every Telegram-facing handler shares: the turn (who, where, which language) and the
decorators that parse -> authorize -> run -> answer, turning a DomainError into a translated
reply and a refused permission into a polite, translated refusal.

Membership: a command or button that COUNTS (``counts=True``: votes, ballots, sign-ups, slots,
orders, chain lines) is taken only from someone in the group now (:func:`present`). What proves
presence, strongest first: Telegram's word (a join or leave message, a ``chat_member`` update,
getChatMember); then, for someone Telegram has said nothing about, a message or press in a
group only its members can see (no public username). Anyone else is asked from Telegram once
(getChatMember, which needs no admin rights) and the answer is stored. Leaving suspends the
person's unit claims (:func:`member_left`) and tells the leads once, with a Restore button.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
    User,
)
from telegram.error import TelegramError
from telegram.ext import CallbackContext, ExtBot

from bot.domain.chats import Chat
from bot.domain.commands import Where
from bot.domain.errors import DomainError
from bot.domain.languages import normalize_language
from bot.domain.roles import Action, Role, may, required_role
from bot.flood import Verdict
from bot.i18n import Html, escape, shorten, t, tn
from bot.outbox import TOPIC, Topic
from bot.roles import GROUP_ANONYMOUS_BOT
from bot.services import Services
from storage import chats, members, prompts

log = logging.getLogger(__name__)

#: How long we trust that a member row is up to date before writing "seen" again.
SEEN_TTL = 3600.0

BOTH = frozenset({Where.PRIVATE, Where.GROUP})
GROUP_ONLY = frozenset({Where.GROUP})
PRIVATE_ONLY = frozenset({Where.PRIVATE})

#: What a hurried hand puts between a command and its text ("/report,lift", "/propose: …").
_AFTER_COMMAND = " \t,:;，：；、"


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
        entities = (message.entities or message.caption_entities or ()) if message else ()
        head = entities[0] if entities else None
        if head is not None and head.type == MessageEntity.BOT_COMMAND and head.offset == 0:
            # the command ends where Telegram says (its letters are ASCII, so UTF-16 units are
            # characters): "/report,lift broken" once lost "lift" with the first word
            return text[head.length :].lstrip(_AFTER_COMMAND).strip()
        parts = text.split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""

    async def role(self) -> Role:
        if self._role is None:
            uid = self.user.id if self.user else 0
            self._role = await self.services.roles.role_of(self.chat, uid)
        return self._role

    @property
    def public(self) -> bool:
        """A group with a public username: anyone can read it and press its buttons."""
        return is_public(self.update)

    async def is_member(self) -> bool:
        """Whether the acting user is in this group now (always, in a private chat)."""
        if self.user is None:
            return False
        return await present(self.services, self.chat, self.user, now=self.now)

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

    @property
    def thread_id(self) -> int | None:
        """The forum topic this was asked in (a command's or a pressed card's), else None."""
        return topic_of(self.message)

    def moved_note(self) -> str:
        """The line an answer starts with when its topic was closed or deleted meanwhile."""
        return self.t("topic.moved_to_general")

    async def say(self, text: str, *, markup: InlineKeyboardMarkup | None = None) -> Message | None:
        """Send HTML to this chat; in a group, as a reply to the message that asked, in the
        topic it was asked in (also when that message was deleted meanwhile)."""
        reply_to = None
        if not self.chat.is_private and self.message is not None and self.query is None:
            reply_to = self.message.message_id
        thread = self.thread_id
        return await self.services.outbox.send(
            self.chat.id,
            text,
            reply_markup=markup,
            reply_to=reply_to,
            thread_id=thread,
            moved_note=self.moved_note() if thread is not None else None,
        )

    async def answer(
        self, key: str | None = None, /, *, alert: bool = False, **params: Any
    ) -> None:
        """Answer the pressed button with a short notice in the presser's language."""
        if self.query is None:
            return
        text = plain(t(self.personal_lang, key, **params)) if key else None
        await self.services.outbox.answer(self.query.id, text, alert=alert)


def topic_of(message: Message | None) -> int | None:
    """The forum topic a message is in (None: General, or a chat without topics)."""
    if message is None or not message.is_topic_message:
        return None
    return message.message_thread_id


def _unthread_reply(message: Message | None) -> None:
    """Telegram gives a message written in a topic, when it replies to nothing, the topic's
    ``forum_topic_created`` message as ``reply_to_message``. That is not a reply: without this,
    ``/grant organizer`` in a topic would name the topic's creator, ``/report`` would report
    the topic. The update's message is changed in place, once, before any handler reads it."""
    if message is None or topic_of(message) is None:
        return
    replied = message.reply_to_message
    if replied is not None and (
        replied.forum_topic_created is not None or replied.message_id == message.message_thread_id
    ):
        with message._unfrozen():
            message.reply_to_message = None


def _enter_topic(turn: Turn) -> None:
    """Sends to this chat while the update is handled go to its topic (bot/outbox.py)."""
    thread = turn.thread_id
    TOPIC.set(
        Topic(turn.chat.id, thread, turn.moved_note(), asyncio.current_task())
        if thread is not None
        else None
    )


async def open_turn(update: Update, context: CourtyardContext, *, note: bool = True) -> Turn | None:
    """Load (or create) the chat row and note the member (``note``: not for Telegram's news of
    someone joining or leaving, which must not write down a person we never met).
    ``None`` for updates without a chat."""
    services = context.services
    tg_chat = update.effective_chat
    TOPIC.set(None)  # an update handled before in this task leaves no topic behind
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
    if note and user is not None and not chat.is_private and not user.is_bot:
        await _note_member(services, chat.id, user, present=not is_public(update))
    _unthread_reply(update.effective_message)
    turn = Turn(update=update, context=context, services=services, chat=chat, user=user, now=now)
    _enter_topic(turn)
    return turn


def is_public(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type != "private" and bool(chat.username)


async def _note_member(services: Services, chat_id: int, user: User, *, present: bool) -> None:
    """Remember the name (and, where only members can see the group, that they are in it)."""
    name = display_name(user)
    key = (chat_id, user.id)
    known = services.seen.get(key)
    mono = time.monotonic()
    if known and known[0] == name and mono - known[1] < SEEN_TTL:
        return
    await members.seen(services.db, chat_id, user.id, name, services.clock(), present=present)
    if len(services.seen) > 50_000:
        services.seen.clear()
    services.seen[key] = (name, mono)


# --- membership -------------------------------------------------------------------------------

#: Callback data of the leads' Restore button: mb:r:<prompt id>.
RESTORE_KIND = "restore"


async def present(services: Services, chat: Chat, user: User, *, now: datetime) -> bool:
    """Whether ``user`` is in ``chat`` now (see the module's notes). Raises
    ``DomainError("membership.check_failed")`` when only Telegram could tell and it cannot be
    reached."""
    if chat.is_private or user.id == GROUP_ANONYMOUS_BOT:
        return True  # an anonymous administrator posts as "Group": a lead of this group
    if user.is_bot:
        return False
    return await in_group(services, chat, user.id, name=display_name(user), now=now)


async def in_group(
    services: Services, chat: Chat, user_id: int, *, name: str | None, now: datetime
) -> bool:
    """Whether the person is in the group: what we know, else Telegram's answer (stored; a
    departure we had not noticed is handled as leaving now). ``name``: theirs, when they are
    the one acting (only then is someone new written down)."""
    roles = services.roles
    if roles.known_present(chat.id, user_id):
        return True
    status = await members.presence(services.db, chat.id, user_id)
    if status == members.PRESENT:
        roles.note_present(chat.id, user_id)
        return True
    try:
        inside = await roles.in_chat(chat.id, user_id)
    except TelegramError as exc:
        log.warning("could not ask Telegram whether a user is in chat %s: %s", chat.id, exc)
        raise DomainError("membership.check_failed") from exc
    if inside:
        await members.joined(services.db, chat.id, user_id, name, now)
        return True
    if status != members.LEFT:  # gone without our noticing: the same as leaving now
        await member_left(services, chat, user_id, name)
    return False


async def member_joined(services: Services, chat: Chat, user: User) -> None:
    """Telegram says ``user`` is in ``chat`` (a join, an update). Suspended claims stay so.
    Only someone we have met is written down: a join alone stores no name."""
    await members.joined(services.db, chat.id, user.id, None, services.clock())
    services.roles.note_present(chat.id, user.id)


async def member_left(services: Services, chat: Chat, user_id: int, name: str | None) -> None:
    """Telegram says the person left ``chat`` (or was removed): from now on nothing they press
    counts, their approved unit claims are suspended, and — if they had any — the leads are
    told once, quietly, with a Restore button only a lead can use."""
    now = services.clock()
    gone = await members.departed(services.db, chat.id, user_id, name, now)
    services.roles.note_absent(chat.id, user_id)
    services.seen.pop((chat.id, user_id), None)
    if not gone.suspended:
        return
    member = await members.get(services.db, chat.id, user_id)
    who = member.display_name if member else (name or str(user_id))
    prompt_id = await prompts.create(
        services.db, chat.id, RESTORE_KIND, now, author_id=None, lasts=None, member_id=user_id
    )
    lang = chat.language
    units = ", ".join(gone.suspended)
    text = tn(lang, "membership.suspended", len(gone.suspended), name=who, units=units)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "membership.btn_restore"), callback_data=f"mb:r:{prompt_id}"
                )
            ]
        ]
    )
    sent = await services.outbox.send(chat.id, text, reply_markup=markup, silent=True)
    if sent is not None:
        await prompts.attach(services.db, prompt_id, sent.message_id)


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
    *, action: Action = Action.USE_BOT, where: frozenset[Where] = BOTH, counts: bool = False
) -> Callable[[Callable[[Turn], Awaitable[None]]], Handler]:
    """Wrap a command body: build the turn, check place and permission, translate refusals.
    ``counts``: what the command does counts (an order, a chain line): members only."""

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
                if counts and not await turn.is_member():
                    await turn.reply("membership.not_member")
                    return
                await body(turn)
            except DomainError as exc:
                await turn.reply(exc.key, **exc.params)

        return handler

    return deco


def button(
    *, action: Action = Action.USE_BOT, counts: bool = False
) -> Callable[[Callable[[Turn, list[str]], Awaitable[None]]], Handler]:
    """Wrap a button body: the callback data is split on ':' (prefix dropped) and handed over.
    ``counts``: the card's buttons count (votes, sign-ups, slots, orders): only someone in the
    group now may press them; anyone else gets a polite alert and nothing changes.

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
                if counts and not await turn.is_member():
                    await turn.answer("membership.not_member_button", alert=True)
                    return
                await body(turn, parts)
            except DomainError as exc:
                await turn.answer(exc.key, alert=True, **exc.params)

        return handler

    return deco
