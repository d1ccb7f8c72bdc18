"""Notices residents confirm (通知 · 收到): a card ``#N3`` with a Got it button; the card counts
the households that confirmed; its author (or a lead) sees privately which have not, and
Remind the rest mentions them (batches of 50, as the chasing of decision non-voters).

/notice [pin] <text> [| confirm by <when>]   leads and organizers (Action.ANNOUNCE)
/notice close N3                             the author or a lead (or as a reply to the card)

Callback data: nt:g:<id> Got it (members only), nt:w:<id> who has not (privately), nt:r:<id>
Remind the rest, nt:p:<id> pin — the last three for the author or a lead, also from the
author's private chat (the deadline message). At the confirm-by time (scheduled kind
``notice_deadline``) the author is told privately who has not confirmed, with the Remind
button; if they never opened a private chat with the bot, the group card says so instead.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from functools import partial
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.domain import notices as rules
from bot.domain import when as when_
from bot.domain.chats import Chat
from bot.domain.errors import DomainError
from bot.domain.languages import WordSet
from bot.domain.roles import Action, Role
from bot.i18n import Html, escape, format_datetime_zone, shorten, t, tn
from bot.services import Services
from handlers import cards, posts, refs
from handlers.common import (
    GROUP_ONLY,
    Turn,
    button,
    command,
    display_name,
    in_group,
    is_id,
    mention_batches,
)
from handlers.events import started_bot
from handlers.topics import topic
from storage import chats
from storage import notices as store
from storage import reports as households
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE
#: Remind the rest: at most once per notice in this many seconds (as for decisions).
REMIND_COOLDOWN = 600.0
#: Units listed in the private "who has not" message.
LIST_LIMIT = 200
CLOSE_WORDS = WordSet({"close", "end", "关闭", "结束", "закрыть"})
_STATE = "notices"

DYNAMIC_KEYS: frozenset[str] = frozenset()


# --- the card --------------------------------------------------------------------------------


async def _tally(services: Services, notice: store.Notice) -> rules.Tally:
    units = [uid for uid, _ in await store.register(services.db, notice.chat_id)]
    return rules.tally(units, await store.confirmations(services.db, notice.id))


def _count_line(lang: str, tally: rules.Tally) -> str:
    if tally.registered:
        line = t(lang, "notice.card_count", done=tally.confirmed, total=tally.registered)
        if tally.unregistered:
            line += " " + tn(lang, "notice.card_count_unregistered", tally.unregistered)
        return line
    return tn(lang, "notice.card_count_people", tally.unregistered)


async def render_card(
    services: Services, notice_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    notice = await store.get(services.db, notice_id)
    if notice is None:
        return None
    group = await chats.get(services.db, notice.chat_id)
    if group is None:
        return None
    lang = group.language
    tally = await _tally(services, notice)
    lines = [
        t(lang, "notice.card_title"),
        "",
        escape(notice.text),
        "",
        t(lang, "notice.card_author", name=shorten(notice.author_name, 40)),
    ]
    if notice.confirm_by is not None:
        lines.append(
            t(
                lang,
                "notice.card_by",
                when=format_datetime_zone(notice.confirm_by, lang, group.timezone),
            )
        )
    lines.append(_count_line(lang, tally))
    if notice.status != "open":
        lines.append(t(lang, "notice.card_closed"))
    lines += ["", rules.tag(notice.id)]
    if notice.status != "open":
        return "\n".join(lines), None
    nid = notice.id
    rows = [
        [InlineKeyboardButton(t(lang, "notice.btn_got_it"), callback_data=f"nt:g:{nid}")],
        [
            InlineKeyboardButton(t(lang, "notice.btn_who_not"), callback_data=f"nt:w:{nid}"),
            InlineKeyboardButton(t(lang, "notice.btn_remind"), callback_data=f"nt:r:{nid}"),
        ],
    ]
    if not notice.pinned:
        rows[1].append(InlineKeyboardButton(t(lang, "notice.btn_pin"), callback_data=f"nt:p:{nid}"))
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def refresh_card(services: Services, notice: store.Notice) -> None:
    if notice.message_id is None:
        return

    async def moved(new_id: int) -> None:
        await store.set_message(services.db, notice.id, new_id, notice.pinned)

    services.outbox.refresh(
        notice.chat_id,
        notice.message_id,
        partial(render_card, services, notice.id),
        on_moved=moved,
        thread_id=notice.thread_id,
    )


async def _redraw(services: Services, notice_id: int) -> None:
    found = await store.get(services.db, notice_id)
    if found is not None:
        refresh_card(services, found)


cards.register("notice", render=render_card, redraw=_redraw)  # brought up to date after a restart


# --- /notice ---------------------------------------------------------------------------------


@command(action=Action.ANNOUNCE, where=GROUP_ONLY)
async def notice(turn: Turn) -> None:
    raw = turn.rest
    words = raw.split()
    if words and words[0].casefold() in CLOSE_WORDS and "|" not in raw:
        await _close(turn, words[1:])
        return
    draft = rules.parse_notice(raw)
    confirm_by = None
    if draft.confirm_by is not None:
        moment = when_.parse(draft.confirm_by, lang=turn.lang, tz=turn.chat.timezone, now=turn.now)
        if moment.rrule is not None:
            raise DomainError("notice.no_recurrence")
        confirm_by = moment.first
    assert turn.user is not None
    services = turn.services
    notice_id, row_id = await store.create(
        services.db,
        chat_id=turn.chat.id,
        author_id=turn.user.id,
        author_name=display_name(turn.user),
        text=draft.text,
        confirm_by=confirm_by,
        now=turn.now,
        thread_id=turn.thread_id,
    )
    if row_id is not None and confirm_by is not None:
        services.scheduler.arm(row_id, confirm_by)
    rendered = await render_card(services, notice_id)
    assert rendered is not None
    message = await turn.say(rendered[0], markup=rendered[1])
    if message is None:
        # nobody saw it: its deadline must not tell the author that nobody confirmed it
        stale = await store.discard(services.db, notice_id)
        if stale is not None:
            services.scheduler.disarm(stale)
            short = shorten(draft.text, 60)
            group = turn.chat.title or ""
            await posts.tell_author(
                services,
                turn.user.id,
                display_name(turn.user),
                turn.chat.id,
                lambda lang: t(lang, "notice.card_refused", title=short, group=group),
            )
        return
    pinned = False
    if draft.pin:
        pinned = await services.outbox.pin(turn.chat.id, message.message_id)
        if not pinned:
            await turn.reply("notice.pin_refused")
    await store.set_message(services.db, notice_id, message.message_id, pinned)
    if pinned:
        current = await store.get(services.db, notice_id)
        assert current is not None
        refresh_card(services, current)  # the Pin button goes


async def _may_manage(services: Services, group: Chat, user_id: int, found: store.Notice) -> bool:
    if user_id == found.author_id and await in_group(
        services, group, user_id, name=None, now=services.clock()
    ):
        return True  # an author who left the group no longer acts on its notices
    return await services.roles.role_of(group, user_id) >= Role.LEAD


async def _close(turn: Turn, words: list[str]) -> None:
    assert turn.user is not None
    notice_id = rules.parse_ref(words[0]) if words else None
    if notice_id is None and turn.message is not None and turn.message.reply_to_message:
        replied = turn.message.reply_to_message
        notice_id = rules.find_ref(replied.text or replied.caption or "")
    if notice_id is None:
        raise DomainError("notice.close_usage")
    services = turn.services
    found = await store.get(services.db, notice_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("notice.not_found", ref=rules.tag(notice_id))
    if not await _may_manage(services, turn.chat, turn.user.id, found):
        raise DomainError("notice.not_yours")
    stale = await store.close(services.db, notice_id, turn.now)
    if stale is None:
        raise DomainError("notice.closed", ref=rules.tag(notice_id))
    services.scheduler.disarm(stale)
    await turn.reply("notice.closed_now", ref=rules.tag(notice_id))
    current = await store.get(services.db, notice_id)
    assert current is not None
    refresh_card(services, current)


@refs.closer("notice")
async def close_notice(turn: Turn, notice_id: int) -> None:
    """/close N3 (or a reply to the card with /close): as /notice close N3."""
    await _close(turn, [rules.tag(notice_id)])


# --- buttons ---------------------------------------------------------------------------------


@button()
async def notice_button(turn: Turn, parts: list[str]) -> None:
    if len(parts) != 2 or parts[0] not in ("g", "w", "r", "p") or not is_id(parts[1]):
        raise DomainError("error.stale_button")
    if turn.user is None:
        raise DomainError("error.stale_button")
    op, notice_id = parts[0], int(parts[1])
    services = turn.services
    found = await store.get(services.db, notice_id)
    if found is None:
        raise DomainError("error.stale_button")
    if turn.chat.is_private:
        # only the author's own deadline message carries buttons in a private chat
        if op not in ("w", "r"):
            raise DomainError("error.stale_button")
    elif found.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    group = await chats.get(services.db, found.chat_id)
    if group is None:
        raise DomainError("error.stale_button")
    if found.status != "open":
        raise DomainError("notice.closed", ref=rules.tag(found.id))
    if op == "g":
        await _got_it(turn, found)
        return
    if not await _may_manage(services, group, turn.user.id, found):
        raise DomainError("notice.not_yours")
    if op == "w":
        await _who_not(turn, group, found)
    elif op == "r":
        await _remind(turn, group, found)
    else:
        await _pin(turn, found)


async def _got_it(turn: Turn, found: store.Notice) -> None:
    assert turn.user is not None
    if not await turn.is_member():
        raise DomainError("membership.not_member_button")
    services = turn.services
    key = await households.household_of(services.db, found.chat_id, turn.user.id)
    added = await store.confirm(services.db, found.id, turn.user.id, key, turn.now)
    if added is None:
        raise DomainError("notice.closed", ref=rules.tag(found.id))
    await turn.answer("notice.confirmed" if added else "notice.confirmed_already")
    if added:
        refresh_card(services, found)


async def _missing(services: Services, found: store.Notice) -> list[tuple[int, str]]:
    from storage.units import natural_key

    units = sorted(
        await store.register(services.db, found.chat_id), key=lambda u: natural_key(u[1])
    )
    return rules.not_confirmed(units, await store.confirmations(services.db, found.id))


async def _who_not(turn: Turn, group: Chat, found: store.Notice) -> None:
    assert turn.user is not None
    services = turn.services
    private = await started_bot(services, turn.user.id)
    if private is None:
        raise DomainError("notice.start_first")
    text = await who_not_text(services, group, found, private.language)
    sent = await services.outbox.send(
        turn.user.id, text, reply_markup=_remind_markup(private.language, found)
    )
    if sent is None:
        raise DomainError("notice.start_first")
    await turn.answer("notice.who_not_sent")


def _remind_markup(lang: str, found: store.Notice) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(lang, "notice.btn_remind"), callback_data=f"nt:r:{found.id}")]]
    )


async def who_not_text(services: Services, group: Chat, found: store.Notice, lang: str) -> str:
    missing = await _missing(services, found)
    tally = await _tally(services, found)
    head = t(
        lang,
        "notice.who_not_head",
        ref=rules.tag(found.id),
        group=group.title or "",
        text=shorten(found.text, 80),
    )
    lines = [head, _count_line(lang, tally)]
    if not tally.registered:
        lines.append(t(lang, "notice.who_not_no_register"))
    elif not missing:
        lines.append(t(lang, "notice.who_not_none"))
    else:
        labels = [escape(label) for _, label in missing[:LIST_LIMIT]]
        lines.append(tn(lang, "notice.who_not_list", len(missing), units=Html(", ".join(labels))))
    return "\n".join(lines)


def _reminded(services: Services) -> dict[int, float]:
    state: dict[int, float] = services.state.setdefault(_STATE, {})
    return state


async def _remind(turn: Turn, group: Chat, found: store.Notice) -> None:
    services = turn.services
    reminded = _reminded(services)
    last = reminded.get(found.id)
    if last is not None and time.monotonic() - last < REMIND_COOLDOWN:
        raise DomainError("notice.remind_wait", minutes=int(REMIND_COOLDOWN // 60))
    missing = await _missing(services, found)
    members = await store.unit_members(services.db, found.chat_id)
    people = rules.to_remind(members, [uid for uid, _ in missing])
    if not people:
        raise DomainError("notice.remind_none")
    reminded[found.id] = time.monotonic()
    await turn.answer("notice.reminded", count=len(people))
    lang = group.language
    for batch in mention_batches(people):
        await services.outbox.send(
            group.id,
            t(
                lang,
                "notice.remind",
                mentions=Html(batch),
                text=shorten(found.text, 80),
                ref=rules.tag(found.id),
            ),
            **topic(lang, found.thread_id),
        )


async def _pin(turn: Turn, found: store.Notice) -> None:
    services = turn.services
    if found.message_id is None or found.pinned:
        raise DomainError("notice.pinned_already")
    if not await services.outbox.pin(found.chat_id, found.message_id):
        raise DomainError("notice.pin_refused")
    await store.set_message(services.db, found.id, found.message_id, True)
    await turn.answer("notice.pinned")
    current = await store.get(services.db, found.id)
    assert current is not None
    refresh_card(services, current)


# --- the deadline (run from the scheduler) ---------------------------------------------------


async def run_deadline(services: Services, row: Scheduled, late_by: timedelta) -> None:
    assert row.ref_id is not None
    found = await store.get(services.db, row.ref_id)
    if found is None or found.status != "open":
        return
    group = await chats.get(services.db, found.chat_id)
    if group is None or not group.active:
        return
    private = await started_bot(services, found.author_id)
    if private is not None:
        lang = private.language
        text = await who_not_text(services, group, found, lang)
        text = t(lang, "notice.deadline_private") + "\n\n" + text
        if await services.outbox.send(
            found.author_id, text, reply_markup=_remind_markup(lang, found)
        ):
            return
    lang = group.language
    tally = await _tally(services, found)
    await services.outbox.send(
        group.id,
        t(
            lang,
            "notice.deadline_group",
            ref=rules.tag(found.id),
            count=Html(_count_line(lang, tally)),
        ),
        **topic(lang, found.thread_id),
    )


# --- wiring ----------------------------------------------------------------------------------


def register(app: Any) -> None:
    app.add_handler(CommandHandler("notice", notice, filters=NEW))
    app.add_handler(CallbackQueryHandler(notice_button, pattern=r"^nt:"))


def setup(services: Services) -> None:
    services.scheduler.register(store.DEADLINE, run=partial(run_deadline, services))
