"""Events: sign-ups with guests and a waitlist, reminders, calendar files, edits and exports.

/event <title> | <when> | <place> | <capacity>   create (who may: the group setting for events)
/event edit E12 capacity 10 | time sat 11:00 | place Yard | title ...   creator or a lead
/event cancel E12                                creator or a lead (also ``/close E12``)
/events                                          upcoming events of the group
/calendar                                        all upcoming events as one .ics file
/export E12                                      attendees, guests and waitlist as CSV (private)

``edit`` and ``cancel`` also work as a reply to the card without the reference. The rules
(capacity with guests, waitlist, promotion, lowering the capacity) are in bot.domain.events.

Callback data: ev:g:<id> going, ev:p:<id> +1 guest, ev:m:<id> −1 guest, ev:x:<id> can't go,
ev:c:<id> add to calendar. Reminders: scheduled kind ``event_reminder`` (one open row per
event; each fired row is followed by the next offset of the group's ``event_reminders``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
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
from bot.domain.languages import WordSet
from bot.domain.refs import Ref, find_ref, parse_ref
from bot.domain.roles import Action, Role, required_role
from bot.domain.text import utf16_len
from bot.i18n import Html, escape, format_datetime, format_datetime_zone, shorten, t, tn
from bot.services import Services
from handlers import cards, digest, refs
from handlers.common import (
    GROUP_ONLY,
    Turn,
    button,
    command,
    display_name,
    is_id,
    mention_batches,
    role_key,
)
from storage import chats
from storage import events as store
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE

#: Telegram's limit for a message text; cards stay below it with some margin.
MAX_TEXT = 4096
CARD_BUDGET = 3900
#: Upcoming events listed by /events; at most this many go into /calendar's file.
LIST_LIMIT = 15
CALENDAR_LIMIT = 200
#: Names in group mentions are cut to this many characters (50 mentions per message).

EDIT_WORDS = WordSet({"edit", "change", "修改", "编辑", "изменить", "правка"})
CANCEL_WORDS = WordSet({"cancel", "取消", "отменить", "отмена"})

#: Keys built at run time (notices sent through :func:`tell`).
DYNAMIC_KEYS: frozenset[str] = frozenset(
    {
        "event.promoted_private",
        "event.promoted_group",
        "event.demoted_private",
        "event.demoted_group",
        "event.changed_private",
        "event.changed_group",
        "event.cancelled_private",
        "event.cancelled_group",
        "event.reminder_private",
        "event.reminder_group",
        "roster.reminder_private",
        "roster.reminder_group",
        "event.joined",
        "event.joined_guest",
        "event.already_going",
        "event.already_waiting",
        "event.waitlisted",
        "event.guest_added",
        "event.guest_added_waiting",
        "event.guest_removed",
        "event.guest_removed_waiting",
        "event.left",
        "event.capacity_changed",
    }
)


# --- shared helpers (rosters use them too) --------------------------------------------------


def when_range(lang: str, tz: str, start: datetime, end: datetime | None) -> str:
    """ "Sat 21 Nov, 10:00–12:00 (Europe/Berlin)"; without an end, the start and zone."""
    if end is None:
        return format_datetime_zone(start, lang, tz)
    zone = ZoneInfo(tz)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.date() == local_end.date():
        return f"{format_datetime(start, lang, tz)}–{local_end:%H:%M} ({tz})"
    return f"{format_datetime(start, lang, tz)} – {format_datetime(end, lang, tz)} ({tz})"


def collapse(lang: str, items: Sequence[str], budget: int) -> str:
    """Escaped items joined by commas; what does not fit in ``budget`` (UTF-16 units, see
    :func:`units`) becomes "and 43 more"."""
    shown: list[str] = []
    used = 0
    for number, item in enumerate(items):
        size = utf16_len(item) + 2
        if shown and used + size > budget - 30:
            return ", ".join(shown) + " " + tn(lang, "event.and_more", len(items) - number)
        shown.append(item)
        used += size
    return ", ".join(shown)


async def started_bot(services: Services, user_id: int) -> Chat | None:
    """The user's private chat with the bot, if they started it (and did not block it)."""
    private = await chats.get(services.db, user_id)
    if private is None or not private.is_private or not private.active:
        return None
    return private


async def tell(
    services: Services,
    chat: Chat,
    people: Sequence[tuple[int, str]],
    private_key: str,
    group_key: str,
    params: Callable[[str], dict[str, Any]],
    thread_id: int | None = None,
) -> None:
    """Tell people something: privately to those who started the bot (in their language), one
    group message mentioning the rest (in batches of at most 50 mentions), in the forum topic
    ``thread_id`` (the event's) if it has one."""
    rest: list[tuple[int, str]] = []
    for user_id, name in people:
        private = await started_bot(services, user_id)
        if private is not None:
            lang = private.language
            sent = await services.outbox.send(user_id, t(lang, private_key, **params(lang)))
            if sent is not None:
                continue
        rest.append((user_id, name))
    for batch in mention_batches(rest):
        lang = chat.language
        await services.outbox.send(
            chat.id,
            t(lang, group_key, mentions=Html(batch), **params(lang)),
            thread_id=thread_id,
            moved_note=t(lang, "topic.moved_to_general") if thread_id else None,
        )


async def is_manager(turn: Turn, creator_id: int) -> bool:
    """The creator or a lead."""
    assert turn.user is not None
    return turn.user.id == creator_id or await turn.role() >= Role.LEAD


def _ref_from(turn: Turn, words: list[str], kind: str, usage: str) -> tuple[int, list[str]]:
    """``E12 rest...`` -> (12, rest); without a reference, the card replied to."""
    if words:
        found = parse_ref(words[0], default_kind=kind)
        if found is not None:
            if found.kind != kind:
                raise DomainError(usage)
            return found.id, words[1:]
    replied = turn.message.reply_to_message if turn.message is not None else None
    if replied is not None:
        card: Ref | None = find_ref(replied.text or replied.caption or "")
        if card is not None and card.kind == kind:
            return card.id, words
    raise DomainError(usage)


# --- the card -------------------------------------------------------------------------------


def _count_line(lang: str, event: store.Event, signups: Sequence[rules.Signup]) -> str:
    taken = rules.taken(signups)
    if event.capacity is None:
        return t(lang, "event.card_count", taken=taken)
    if taken >= event.capacity:
        return t(lang, "event.card_count_full", taken=taken, capacity=event.capacity)
    return t(lang, "event.card_count_cap", taken=taken, capacity=event.capacity)


def _person(s: rules.Signup) -> str:
    name = escape(shorten(s.name, 64))
    return f"{name} (+{s.guests})" if s.guests else name


def render_card(
    lang: str, tz: str, event: store.Event, signups: Sequence[rules.Signup]
) -> tuple[str, InlineKeyboardMarkup | None]:
    head = []
    if event.status == "cancelled":
        head.append(t(lang, "event.card_cancelled"))
    head.append(t(lang, "event.card_title", title=event.title))
    head.append(
        t(lang, "event.card_when", when=when_range(lang, tz, event.starts_at, event.ends_at))
    )
    if event.place:
        head.append(t(lang, "event.card_place", place=event.place))
    head.append(_count_line(lang, event, signups))
    tag = Ref("event", event.id).tag
    going = [_person(s) for s in rules.going(signups)]
    waiting = [f"{n}. {_person(s)}" for n, s in enumerate(rules.waitlist(signups), start=1)]
    budget = CARD_BUDGET - sum(utf16_len(h) + 1 for h in head) - utf16_len(tag) - 80
    body = []
    if going:
        share = budget * 2 // 3 if waiting else budget
        body.append(t(lang, "event.card_going", names=Html(collapse(lang, going, share))))
        budget -= min(share, sum(utf16_len(g) + 2 for g in going) + 40)
    elif event.status == "open":
        body.append(t(lang, "event.card_nobody"))
    if waiting:
        body.append(t(lang, "event.card_waitlist", names=Html(collapse(lang, waiting, budget))))
    text = "\n".join([*head, *body, "", tag])
    if len(text) > MAX_TEXT:  # pragma: no cover - the budget above keeps us well below
        text = text[: MAX_TEXT - 1] + "…"
    if event.status != "open":
        return text, None
    eid = event.id
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(lang, "event.btn_going"), callback_data=f"ev:g:{eid}"),
                InlineKeyboardButton(t(lang, "event.btn_guest_plus"), callback_data=f"ev:p:{eid}"),
                InlineKeyboardButton(t(lang, "event.btn_guest_minus"), callback_data=f"ev:m:{eid}"),
            ],
            [
                InlineKeyboardButton(t(lang, "event.btn_cant"), callback_data=f"ev:x:{eid}"),
                InlineKeyboardButton(t(lang, "event.btn_calendar"), callback_data=f"ev:c:{eid}"),
            ],
        ]
    )
    return text, markup


async def render_event(
    services: Services, event_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """The card as the database says now (read at edit time by the coalescing outbox)."""
    event = await store.get(services.db, event_id)
    if event is None:
        return None
    chat = await chats.get(services.db, event.chat_id)
    if chat is None:
        return None
    return render_card(
        chat.language, chat.timezone, event, await store.signups(services.db, event_id)
    )


def refresh_card(services: Services, event: store.Event) -> None:
    if event.message_id is None:
        return

    async def moved(new_id: int) -> None:
        await store.set_message(services.db, event.id, new_id)

    services.outbox.refresh(
        event.chat_id,
        event.message_id,
        partial(render_event, services, event.id),
        on_moved=moved,
        thread_id=event.thread_id,
    )


async def _redraw(services: Services, event_id: int) -> None:
    event = await store.get(services.db, event_id)
    if event is not None:
        refresh_card(services, event)


cards.register("event", render=render_event, redraw=_redraw)  # brought up to date after a restart


def _params(chat: Chat, event: store.Event) -> Callable[[str], dict[str, Any]]:
    def params(lang: str) -> dict[str, Any]:
        place = t(lang, "event.at_place", place=event.place) if event.place else ""
        return {
            "title": event.title,
            "when": when_range(lang, chat.timezone, event.starts_at, event.ends_at),
            "place": Html(place),
            "group": chat.title or "",
            "ref": Ref("event", event.id).tag,
        }

    return params


async def announce_moves(
    services: Services, chat: Chat, event: store.Event, outcome: rules.Outcome
) -> None:
    """Tell the promoted they are in, and those a smaller capacity moved that they wait."""
    base = _params(chat, event)
    if outcome.promoted:
        await tell(
            services,
            chat,
            [(s.user_id, s.name) for s in outcome.promoted],
            "event.promoted_private",
            "event.promoted_group",
            base,
            event.thread_id,
        )
    if outcome.demoted:
        await tell(
            services,
            chat,
            [(s.user_id, s.name) for s in outcome.demoted],
            "event.demoted_private",
            "event.demoted_group",
            base,
            event.thread_id,
        )


# --- /event ---------------------------------------------------------------------------------


@command(where=GROUP_ONLY)
async def event(turn: Turn) -> None:
    raw = turn.rest
    if not raw:
        raise DomainError("event.usage")
    words = raw.split()
    first = words[0].lower()
    if "|" not in raw and "\n" not in raw and first in EDIT_WORDS | CANCEL_WORDS:
        if first in CANCEL_WORDS:
            event_id, _ = _ref_from(turn, words[1:], "event", "event.cancel_usage")
            await cancel_event(turn, event_id)
        else:
            event_id, rest = _ref_from(turn, words[1:], "event", "event.edit_usage")
            await _edit(turn, event_id, " ".join(rest))
        return
    if not await turn.may(Action.CREATE_EVENT):
        needed = required_role(Action.CREATE_EVENT, turn.chat.settings)
        raise DomainError("error.not_allowed", who=Html(turn.t(role_key(needed))))
    await _create(turn, raw)


def _moment(turn: Turn, text: str) -> tuple[datetime, datetime | None]:
    start_text, end = rules.split_range(text)
    moment = when_.parse(start_text, lang=turn.lang, tz=turn.chat.timezone, now=turn.now)
    if moment.rrule is not None:
        raise DomainError("event.no_recurrence")
    return moment.first, rules.end_of(moment.first, end)


async def _create(turn: Turn, raw: str) -> None:
    assert turn.user is not None
    draft = rules.parse_event(raw)
    starts, ends = _moment(turn, draft.when)
    services = turn.services
    reminder_at = rules.next_reminder(starts, turn.chat.settings.event_reminders, turn.now)
    event_id, row_id = await store.create(
        services.db,
        chat_id=turn.chat.id,
        creator_id=turn.user.id,
        creator_name=display_name(turn.user),
        title=draft.title,
        place=draft.place,
        starts_at=starts,
        ends_at=ends,
        capacity=draft.capacity,
        reminder_at=reminder_at,
        now=turn.now,
        thread_id=turn.thread_id,
    )
    if row_id is not None and reminder_at is not None:
        services.scheduler.arm(row_id, reminder_at)
    rendered = await render_event(services, event_id)
    assert rendered is not None
    message = await turn.say(rendered[0], markup=rendered[1])
    if message is not None:
        await store.set_message(services.db, event_id, message.message_id)


async def _managed_event(turn: Turn, event_id: int) -> store.Event:
    found = await store.get(turn.services.db, event_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("event.not_found", ref=Ref("event", event_id).text)
    if not await is_manager(turn, found.creator_id):
        raise DomainError("event.not_yours")
    if found.status != "open":
        raise DomainError("event.not_open")
    return found


async def _edit(turn: Turn, event_id: int, text: str) -> None:
    found = await _managed_event(turn, event_id)
    field, value = rules.parse_edit(text)
    services = turn.services
    db = services.db
    if field == "capacity":
        if found.starts_at <= turn.now:  # the list of a started event is final
            raise DomainError("event.started")
        capacity = rules.parse_capacity(value)
        _, outcome = await store.apply(
            db, event_id, lambda e, s: rules.change_capacity(capacity, s), capacity=capacity
        )
        current = await store.get(db, event_id)
        assert current is not None
        shown = capacity if capacity is not None else "∞"
        await turn.reply(
            "event.edited_capacity",
            title=current.title,
            capacity=shown,
            moved=len(outcome.demoted),
            promoted=len(outcome.promoted),
        )
        refresh_card(services, current)
        await announce_moves(services, turn.chat, current, outcome)
        return
    if field == "time":
        starts, ends = _moment(turn, value)
        reminder_at = rules.next_reminder(starts, turn.chat.settings.event_reminders, turn.now)
        stale, row_id = await store.reschedule(db, event_id, starts, ends, reminder_at, turn.now)
        services.scheduler.disarm(stale)
        if row_id is not None and reminder_at is not None:
            services.scheduler.arm(row_id, reminder_at)
    elif field == "place":
        place = rules.clean_place(value)
        await store.update(db, event_id, place=place, clear_place=place is None)
    else:
        await store.update(db, event_id, title=rules.clean_title(value))
    current = await store.get(db, event_id)
    assert current is not None
    params = _params(turn.chat, current)
    await turn.reply("event.edited", **params(turn.lang))
    refresh_card(services, current)
    if field != "title" or current.title != found.title:
        people = [(s.user_id, s.name) for s in await store.signups(db, event_id)]
        await tell(
            services,
            turn.chat,
            people,
            "event.changed_private",
            "event.changed_group",
            params,
            current.thread_id,
        )


async def cancel_event(turn: Turn, event_id: int) -> None:
    await _managed_event(turn, event_id)
    services = turn.services
    stale = await store.cancel(services.db, event_id)
    if stale is None:
        raise DomainError("event.not_open")
    services.scheduler.disarm(stale)
    current = await store.get(services.db, event_id)
    assert current is not None
    params = _params(turn.chat, current)
    await turn.reply("event.cancelled_notice", **params(turn.lang))
    refresh_card(services, current)
    people = [(s.user_id, s.name) for s in await store.signups(services.db, event_id)]
    await tell(
        services,
        turn.chat,
        people,
        "event.cancelled_private",
        "event.cancelled_group",
        params,
        current.thread_id,
    )


@refs.closer("event")
async def close_event(turn: Turn, event_id: int) -> None:
    await cancel_event(turn, event_id)


@refs.exporter("event")
async def export_event(turn: Turn, event_id: int) -> refs.Export:
    found = await store.get(turn.services.db, event_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("event.not_found", ref=Ref("event", event_id).text)
    if not await is_manager(turn, found.creator_id):
        raise DomainError("event.not_yours")
    lang = turn.personal_lang
    signups = await store.signups(turn.services.db, event_id)
    rows = [[t(lang, "event.csv_going"), "", s.name, str(s.guests)] for s in rules.going(signups)]
    rows += [
        [t(lang, "event.csv_waiting"), str(n), s.name, str(s.guests)]
        for n, s in enumerate(rules.waitlist(signups), start=1)
    ]
    header = [
        t(lang, "event.csv_status"),
        t(lang, "event.csv_position"),
        t(lang, "event.csv_name"),
        t(lang, "event.csv_guests"),
    ]
    return refs.Export(filename=f"event-{event_id}.csv", header=header, rows=rows)


# --- buttons --------------------------------------------------------------------------------


@button(counts=True)
async def event_button(turn: Turn, parts: list[str]) -> None:
    if len(parts) != 2 or parts[0] not in ("g", "p", "m", "x", "c") or not is_id(parts[1]):
        raise DomainError("error.stale_button")
    op, event_id = parts[0], int(parts[1])
    services = turn.services
    found = await store.get(services.db, event_id)
    if found is None or found.chat_id != turn.chat.id or turn.user is None:
        raise DomainError("error.stale_button")
    if op == "c":
        await _send_ics(turn, found)
        return
    if found.status != "open":
        raise DomainError("event.not_open")
    if found.starts_at <= turn.now:
        raise DomainError("event.started")
    uid, name = turn.user.id, display_name(turn.user)
    rule: store.Rule
    if op == "g":
        rule = lambda e, s: rules.join(e.capacity, s, uid, name)  # noqa: E731
    elif op == "p":
        rule = lambda e, s: rules.add_guest(e.capacity, s, uid, name)  # noqa: E731
    elif op == "m":
        rule = lambda e, s: rules.remove_guest(e.capacity, s, uid)  # noqa: E731
    else:
        rule = lambda e, s: rules.leave(e.capacity, s, uid)  # noqa: E731
    try:
        current, outcome = await store.apply(services.db, event_id, rule)
    except LookupError:
        raise DomainError("error.stale_button") from None
    await turn.answer(outcome.notice, position=outcome.position, guests=outcome.guests)
    refresh_card(services, current)
    await announce_moves(services, turn.chat, current, outcome)


def _entry(services: Services, event: store.Event, lang: str) -> rules.CalendarEntry:
    return rules.CalendarEntry(
        uid=f"courtyard-event-{event.id}@{services.bot_username or 'courtyard'}",
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        place=event.place,
        description=t(lang, "event.ics_description", ref=Ref("event", event.id).tag),
        sequence=event.sequence,
        cancelled=event.status == "cancelled",
    )


async def _send_ics(turn: Turn, event: store.Event) -> None:
    assert turn.user is not None
    services = turn.services
    content = rules.ics([_entry(services, event, turn.lang)], stamp=turn.now)
    name = f"event-{event.id}.ics"
    private = await started_bot(services, turn.user.id)
    if private is not None:
        sent = await services.outbox.send_document(
            turn.user.id,
            content,
            name,
            caption=t(private.language, "event.ics_caption", title=event.title),
        )
        if sent is not None:
            await turn.answer("event.ics_sent_private")
            return
    await turn.answer("event.ics_sent_here")
    await services.outbox.send_document(
        turn.chat.id, content, name, caption=turn.t("event.ics_caption", title=event.title)
    )


# --- /events and /calendar ------------------------------------------------------------------


def event_line(lang: str, tz: str, event: store.Event, taken: int) -> str:
    count = f"{taken}/{event.capacity}" if event.capacity is not None else str(taken)
    return t(
        lang,
        "event.list_item",
        when=format_datetime(event.starts_at, lang, tz),
        title=shorten(event.title, 70),
        count=count,
        ref=Ref("event", event.id).tag,
    )


@command(where=GROUP_ONLY)
async def events_(turn: Turn) -> None:
    db = turn.services.db
    found = await store.upcoming(db, turn.chat.id, turn.now, limit=LIST_LIMIT + 1)
    if not found:
        await turn.reply("event.none")
        return
    counts = await store.counts(db, [e.id for e in found])
    lines = [turn.t("event.list_title", tz=turn.chat.timezone)]
    for e in found[:LIST_LIMIT]:
        lines.append(event_line(turn.lang, turn.chat.timezone, e, counts.get(e.id, (0, 0))[0]))
    if len(found) > LIST_LIMIT:
        lines.append(turn.t("event.list_more"))
    await turn.say("\n".join(lines))


@command(where=GROUP_ONLY)
async def calendar(turn: Turn) -> None:
    services = turn.services
    found = await store.upcoming(services.db, turn.chat.id, turn.now, limit=CALENDAR_LIMIT)
    if not found:
        await turn.reply("event.none")
        return
    content = rules.ics(
        [_entry(services, e, turn.lang) for e in found],
        stamp=turn.now,
        name=turn.chat.title or "Courtyard",
    )
    await services.outbox.send_document(
        turn.chat.id,
        content,
        "events.ics",
        caption=tn(turn.lang, "event.calendar_caption", len(found)),
    )


# --- reminders (run from the scheduler) -----------------------------------------------------


async def run_event_reminder(services: Services, row: Scheduled, late_by: timedelta) -> None:
    assert row.ref_id is not None
    found = await store.get(services.db, row.ref_id)
    if found is None or found.status != "open" or found.starts_at <= services.clock():
        return
    chat = await chats.get(services.db, found.chat_id)
    if chat is None or not chat.active:
        return
    people = [(s.user_id, s.name) for s in rules.going(await store.signups(services.db, found.id))]
    await tell(
        services,
        chat,
        people,
        "event.reminder_private",
        "event.reminder_group",
        _params(chat, found),
        found.thread_id,
    )


async def next_event_reminder(
    services: Services, row: Scheduled, after: datetime
) -> datetime | None:
    assert row.ref_id is not None
    found = await store.get(services.db, row.ref_id)
    if found is None or found.status != "open":
        return None
    chat = await chats.get(services.db, found.chat_id)
    offsets = chat.settings.event_reminders if chat is not None else ()
    return rules.following_reminder(found.starts_at, offsets, row.due_at, after)


# --- digest ---------------------------------------------------------------------------------


async def events_this_week(services: Services, chat: Chat, now: datetime) -> str | None:
    found = [
        e
        for e in await store.upcoming(services.db, chat.id, now, limit=30)
        if e.starts_at - now <= timedelta(days=7)
    ]
    if not found:
        return None
    counts = await store.counts(services.db, [e.id for e in found])
    lines = [t(chat.language, "event.digest_title")]
    lines += [
        event_line(chat.language, chat.timezone, e, counts.get(e.id, (0, 0))[0]) for e in found
    ]
    return "\n".join(lines)


# --- wiring ---------------------------------------------------------------------------------


def register(app: Any) -> None:
    """Add this feature's handlers to the application."""
    from handlers import rosters

    app.add_handler(CommandHandler("event", event, filters=NEW))
    app.add_handler(CommandHandler("events", events_, filters=NEW))
    app.add_handler(CommandHandler("calendar", calendar, filters=NEW))
    app.add_handler(CallbackQueryHandler(event_button, pattern=r"^ev:"))
    rosters.register(app)


def setup(services: Services) -> None:
    """Register this feature's scheduled kinds and digest sections."""
    from handlers import rosters

    services.scheduler.register(
        store.EVENT_REMINDER,
        run=partial(run_event_reminder, services),
        next_run=partial(next_event_reminder, services),
    )
    rosters.setup(services)
    if events_this_week not in digest.SECTIONS:
        digest.SECTIONS.append(events_this_week)
