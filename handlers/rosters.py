"""Volunteer duty rosters: slots residents take and leave with buttons.

/roster <title> | <slot> | <slot> ... | per slot <n>    e.g.
/roster Gate duty | sat 8:00-12:00 | sat 12-16 | sun 8:00-12:00 | per slot 2

Each slot is a time expression with an optional end ("8:00-12:00", "8-12"; without an end a
slot lasts two hours); slots are shown in time order. The card lists every slot with its
volunteers, marks the ones still short of people, and has one button per slot (take it; press
again to leave it) and a "Still needed" button with which the creator or a lead posts a call
for the open slots. ``/close R3`` closes the roster (creator or lead), ``/export R3`` sends the
slots and volunteers as CSV. Volunteers are reminded before their slot by the group's
``event_reminders`` offsets (scheduled kind ``roster_reminder``, one chain per slot).

Callback data: rs:t:<slot id> take/leave, rs:n:<roster id> still needed, rs:d:<roster id>
"I did it" after a slot ended (volunteer hours, handlers/hours.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.domain import events as rules
from bot.domain import when as when_
from bot.domain.chats import Chat
from bot.domain.errors import DomainError
from bot.domain.refs import Ref
from bot.domain.roles import Action
from bot.domain.text import utf16_len
from bot.i18n import Html, escape, format_datetime, shorten, t
from bot.services import Services
from handlers import cards, hours, refs
from handlers.common import GROUP_ONLY, Turn, button, command, display_name, is_id
from handlers.events import CARD_BUDGET, collapse, is_manager, tell, when_range
from handlers.topics import topic
from storage import chats
from storage import events as store
from storage.scheduled import Scheduled

NEW = filters.UpdateType.MESSAGE


def _slot_short(lang: str, tz: str, slot: rules.Slot) -> str:
    zone = ZoneInfo(tz)
    return f"{format_datetime(slot.starts_at, lang, tz)}–{slot.ends_at.astimezone(zone):%H:%M}"


def render_roster(
    lang: str, tz: str, roster: store.Roster, slots: list[rules.Slot]
) -> tuple[str, InlineKeyboardMarkup | None]:
    open_slots = [s for s in slots if rules.open_places(s, roster.per_slot)]
    missing = sum(rules.open_places(s, roster.per_slot) for s in slots)
    head = []
    if roster.status != "open":
        head.append(t(lang, "roster.card_closed"))
    head.append(t(lang, "roster.card_title", title=roster.title))
    head.append(t(lang, "roster.card_per_slot", n=roster.per_slot, tz=tz))
    if missing:
        head.append(t(lang, "roster.card_needed", places=missing, slots=len(open_slots)))
    else:
        head.append(t(lang, "roster.card_all_filled"))
    tag = Ref("roster", roster.id).tag
    budget = (CARD_BUDGET - sum(utf16_len(h) + 1 for h in head) - utf16_len(tag)) // max(
        len(slots), 1
    )
    lines = []
    for number, slot in enumerate(slots, start=1):
        names = [escape(shorten(name, 32)) for _, name in slot.volunteers]
        people = collapse(lang, names, max(budget - 60, 40)) if names else "—"
        short = rules.open_places(slot, roster.per_slot)
        mark = "⚠️" if short else "✅"
        lines.append(
            t(
                lang,
                "roster.card_slot",
                number=number,
                mark=mark,
                when=_slot_short(lang, tz, slot),
                taken=len(slot.volunteers),
                per_slot=roster.per_slot,
                names=Html(people),
            )
        )
    text = "\n".join([*head, "", *lines, "", tag])
    did = InlineKeyboardButton(t(lang, "hours.btn_did"), callback_data=f"rs:d:{roster.id}")
    if roster.status != "open":  # volunteers still say "I did it" after the roster is closed
        return text, InlineKeyboardMarkup([[did]])
    rows = []
    for number, slot in enumerate(slots, start=1):
        full = not rules.open_places(slot, roster.per_slot)
        label = t(
            lang,
            "roster.btn_slot_full" if full else "roster.btn_slot",
            number=number,
            when=_slot_short(lang, tz, slot),
            taken=len(slot.volunteers),
            per_slot=roster.per_slot,
        )
        rows.append([InlineKeyboardButton(label[:60], callback_data=f"rs:t:{slot.id}")])
    rows.append(
        [
            InlineKeyboardButton(t(lang, "roster.btn_needed"), callback_data=f"rs:n:{roster.id}"),
            did,
        ]
    )
    return text, InlineKeyboardMarkup(rows)


async def render(
    services: Services, roster_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    roster = await store.get_roster(services.db, roster_id)
    if roster is None:
        return None
    chat = await chats.get(services.db, roster.chat_id)
    if chat is None:
        return None
    return render_roster(
        chat.language, chat.timezone, roster, await store.slots(services.db, roster_id)
    )


def refresh_card(services: Services, roster: store.Roster) -> None:
    if roster.message_id is None:
        return

    async def moved(new_id: int) -> None:
        await store.set_roster_message(services.db, roster.id, new_id)

    services.outbox.refresh(
        roster.chat_id,
        roster.message_id,
        partial(render, services, roster.id),
        on_moved=moved,
        thread_id=roster.thread_id,
    )


async def _redraw(services: Services, roster_id: int) -> None:
    roster = await store.get_roster(services.db, roster_id)
    if roster is not None:
        refresh_card(services, roster)


cards.register("roster", render=render, redraw=_redraw)  # brought up to date after a restart


@command(action=Action.CREATE_EVENT, where=GROUP_ONLY)
async def roster(turn: Turn) -> None:
    assert turn.user is not None
    draft = rules.parse_roster(turn.rest)
    planned: list[tuple[datetime, datetime, datetime | None]] = []
    offsets = turn.chat.settings.event_reminders
    for text in draft.slots:
        start_text, end = rules.split_range(text)
        moment = when_.parse(start_text, lang=turn.lang, tz=turn.chat.timezone, now=turn.now)
        if moment.rrule is not None:
            raise DomainError("event.no_recurrence")
        start = moment.first
        finish = rules.end_of(start, end) or start + rules.DEFAULT_DURATION
        planned.append((start, finish, rules.next_reminder(start, offsets, turn.now)))
    planned.sort(key=lambda p: p[0])
    services = turn.services
    roster_id, rows = await store.create_roster(
        services.db,
        chat_id=turn.chat.id,
        creator_id=turn.user.id,
        creator_name=display_name(turn.user),
        title=draft.title,
        per_slot=draft.per_slot,
        slots=planned,
        now=turn.now,
        thread_id=turn.thread_id,
    )
    for row_id, run_at in rows:
        services.scheduler.arm(row_id, run_at)
    rendered = await render(services, roster_id)
    assert rendered is not None
    message = await turn.say(rendered[0], markup=rendered[1])
    if message is not None:
        await store.set_roster_message(services.db, roster_id, message.message_id)


async def _roster_here(turn: Turn, roster_id: int) -> store.Roster:
    found = await store.get_roster(turn.services.db, roster_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("roster.not_found", ref=Ref("roster", roster_id).text)
    return found


@button(counts=True)
async def roster_button(turn: Turn, parts: list[str]) -> None:
    if len(parts) != 2 or parts[0] not in ("t", "n", "d") or not is_id(parts[1]):
        raise DomainError("error.stale_button")
    assert turn.user is not None
    services = turn.services
    if parts[0] == "d":  # "I did it": volunteer hours (handlers/hours.py)
        found = await store.get_roster(services.db, int(parts[1]))
        if found is None or found.chat_id != turn.chat.id:
            raise DomainError("error.stale_button")
        await hours.did_it(turn, found)
        return
    if parts[0] == "n":
        found = await store.get_roster(services.db, int(parts[1]))
        if found is None or found.chat_id != turn.chat.id:
            raise DomainError("error.stale_button")
        if found.status != "open":
            raise DomainError("roster.not_open")
        if not await is_manager(turn, found.creator_id):
            raise DomainError("roster.not_yours")
        await _still_needed(turn, found)
        return
    slot = await store.get_slot(services.db, int(parts[1]))
    found = await store.get_roster(services.db, slot.roster_id) if slot else None
    if slot is None or found is None or found.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    if found.status != "open":
        raise DomainError("roster.not_open")
    uid, now = turn.user.id, turn.now
    took = await store.take_slot(
        services.db,
        slot.id,
        uid,
        display_name(turn.user),
        lambda s, per: rules.take_or_leave(s, per, uid, now),
        now,
    )
    await turn.answer("roster.taken" if took else "roster.left")
    refresh_card(services, found)


async def _still_needed(turn: Turn, found: store.Roster) -> None:
    lang, tz = turn.lang, turn.chat.timezone
    open_slots = [
        s
        for s in await store.slots(turn.services.db, found.id)
        if rules.open_places(s, found.per_slot) and s.starts_at > turn.now
    ]
    if not open_slots:
        raise DomainError("roster.all_filled")
    await turn.answer("roster.call_posted")
    lines = [t(lang, "roster.call_title", title=found.title)]
    for slot in open_slots:
        lines.append(
            t(
                lang,
                "roster.call_item",
                when=_slot_short(lang, tz, slot),
                places=rules.open_places(slot, found.per_slot),
            )
        )
    lines.append(t(lang, "roster.call_footer", ref=Ref("roster", found.id).tag))
    await turn.services.outbox.send(
        turn.chat.id, "\n".join(lines), reply_to=found.message_id, **topic(lang, found.thread_id)
    )


@refs.closer("roster")
async def close_roster(turn: Turn, roster_id: int) -> None:
    found = await _roster_here(turn, roster_id)
    if not await is_manager(turn, found.creator_id):
        raise DomainError("roster.not_yours")
    stale = await store.close_roster(turn.services.db, roster_id)
    if stale is None:
        raise DomainError("roster.not_open")
    turn.services.scheduler.disarm(stale)
    await turn.reply("roster.closed_notice", title=found.title)
    refresh_card(turn.services, found)


@refs.exporter("roster")
async def export_roster(turn: Turn, roster_id: int) -> refs.Export:
    found = await _roster_here(turn, roster_id)
    if not await is_manager(turn, found.creator_id):
        raise DomainError("roster.not_yours")
    lang, tz = turn.personal_lang, turn.chat.timezone
    zone = ZoneInfo(tz)
    rows = []
    for number, slot in enumerate(await store.slots(turn.services.db, roster_id), start=1):
        start = slot.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        end = slot.ends_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        names = [name for _, name in slot.volunteers] or [""]
        rows += [[str(number), start, end, name] for name in names]
    header = [
        t(lang, "roster.csv_slot"),
        t(lang, "roster.csv_start", tz=tz),
        t(lang, "roster.csv_end", tz=tz),
        t(lang, "event.csv_name"),
    ]
    return refs.Export(filename=f"roster-{roster_id}.csv", header=header, rows=rows)


# --- reminders ------------------------------------------------------------------------------


async def _slot_context(
    services: Services, slot_id: int
) -> tuple[store.Roster, rules.Slot, Chat] | None:
    slot = await store.get_slot(services.db, slot_id)
    if slot is None:
        return None
    found = await store.get_roster(services.db, slot.roster_id)
    if found is None or found.status != "open":
        return None
    chat = await chats.get(services.db, found.chat_id)
    if chat is None:
        return None
    return found, slot, chat


async def run_slot_reminder(services: Services, row: Scheduled, late_by: timedelta) -> None:
    assert row.ref_id is not None
    context = await _slot_context(services, row.ref_id)
    if context is None:
        return
    found, slot, chat = context
    if not chat.active or slot.starts_at <= services.clock() or not slot.volunteers:
        return

    def params(lang: str) -> dict[str, Any]:
        return {
            "title": found.title,
            "when": when_range(lang, chat.timezone, slot.starts_at, slot.ends_at),
            "group": chat.title or "",
            "ref": Ref("roster", found.id).tag,
        }

    await tell(
        services,
        chat,
        list(slot.volunteers),
        "roster.reminder_private",
        "roster.reminder_group",
        params,
        thread_id=found.thread_id,
    )


async def next_slot_reminder(
    services: Services, row: Scheduled, after: datetime
) -> datetime | None:
    assert row.ref_id is not None
    context = await _slot_context(services, row.ref_id)
    if context is None:
        return None
    _, slot, chat = context
    return rules.following_reminder(
        slot.starts_at, chat.settings.event_reminders, row.due_at, after
    )


def register(app: Any) -> None:
    app.add_handler(CommandHandler("roster", roster, filters=NEW))
    app.add_handler(CallbackQueryHandler(roster_button, pattern=r"^rs:"))


def setup(services: Services) -> None:
    services.scheduler.register(
        store.ROSTER_REMINDER,
        run=partial(run_slot_reminder, services),
        next_run=partial(next_slot_reminder, services),
    )
