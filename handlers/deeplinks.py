"""Deep links that lead where they promised.

When the bot cannot write to someone first (they never started it, or blocked it), it hands
out ``t.me/<bot>?start=<token>`` as a URL button. The token is bound to that one person, the
group it came from and what was promised (``kind`` and ``args``: the export of ``#D3``, the
reminders list, an introduction), and expires after :data:`LINK_TTL`. Opening it — ``/start
<token>`` in the private chat — does what was promised: the file that could not be sent is
sent, the list is shown. A neighbour who taps the same link gets nothing of it (the export is
computed again for the person who opens it, with their rights, and only if it is their link).

Features register what their kind opens with :func:`opener`; the opener gets the private
turn and a turn bound to the group (for permission checks and the group's data), with the
link's ``args``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.errors import DomainError
from bot.i18n import t
from bot.services import Services
from handlers.common import Turn
from storage import chats
from storage import start_links as store

log = logging.getLogger(__name__)

#: How long a link can be opened: long enough to find the bot the next morning.
LINK_TTL = timedelta(days=2)

#: The words older versions put in links (``?start=export``): still answered, with the way on.
#: (``?start=sharing``, ``helper``, ``checkonme`` promise only that the bot can write to the
#: person from now on: the greeting keeps that promise.)
OLD_WORDS = frozenset({"export"})

Opener = Callable[[Turn, Turn, str], Awaitable[None]]
OPENERS: dict[str, Opener] = {}

#: Links that name a place rather than a promise (``?start=reports``: your reports list): the
#: same for everyone, opening only what the person who opens it may see, so not bound to
#: anyone. Registered with :func:`word`.
WordOpener = Callable[[Turn], Awaitable[None]]
WORDS: dict[str, WordOpener] = {}


def word(name: str) -> Callable[[WordOpener], WordOpener]:
    """Register what ``/start <name>`` shows in a private chat."""

    def deco(fn: WordOpener) -> WordOpener:
        WORDS[name] = fn
        return fn

    return deco


def opener(kind: str) -> Callable[[Opener], Opener]:
    """Register what opening a link of ``kind`` does: ``fn(private_turn, group_turn, args)``."""

    def deco(fn: Opener) -> Opener:
        OPENERS[kind] = fn
        return fn

    return deco


async def link(
    services: Services, *, user_id: int, chat_id: int, kind: str, args: str = "", now: datetime
) -> str:
    """A link to the bot's private chat that opens ``kind`` for ``user_id`` only."""
    if kind not in OPENERS:
        raise ValueError(f"no opener for {kind!r}")
    token = await store.issue(
        services.db,
        user_id=user_id,
        chat_id=chat_id,
        kind=kind,
        args=args,
        now=now,
        expires_at=now + LINK_TTL,
    )
    return f"https://t.me/{services.bot_username}?start={token}"


def button(lang: str, url: str) -> InlineKeyboardMarkup:
    """The link as a button (elderly residents tap, they do not copy addresses)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(t(lang, "link.button"), url=url)]])


async def open_link(turn: Turn, payload: str) -> bool:
    """``/start <payload>`` in a private chat. True when the payload was ours (answered)."""
    if payload in WORDS:
        try:
            await WORDS[payload](turn)
        except DomainError as exc:
            await turn.reply(exc.key, **exc.params)
        return True
    if payload in OLD_WORDS:
        await turn.reply("link.old")
        return True
    found = await store.get(turn.services.db, payload[:64])
    if found is None:
        return False
    assert turn.user is not None
    if found.user_id != turn.user.id:
        await turn.reply("link.not_yours")
        return True
    if found.expires_at <= turn.now:
        await turn.reply("link.expired")
        return True
    group = await chats.get(turn.services.db, found.chat_id)
    fn = OPENERS.get(found.kind)
    if group is None or fn is None:
        await turn.reply("link.expired")
        return True
    group_turn = Turn(
        update=turn.update,
        context=turn.context,
        services=turn.services,
        chat=group,
        user=turn.user,
        now=turn.now,
    )
    await store.opened(turn.services.db, found.token, turn.now)
    try:
        await fn(turn, group_turn, found.args)
    except DomainError as exc:
        await turn.reply(exc.key, **exc.params)
    return True
