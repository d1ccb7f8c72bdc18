"""Events end to end: sign-ups past capacity with guests, the waitlist, leaving and automatic
promotion (told privately or by mention), reminders fired by the real JobQueue, .ics files a
calendar library parses back, edits (capacity, time), cancellation, exports, long lists,
a deleted card, forged buttons and bad input."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.domain import events as rules
from storage import events as store
from storage import scheduled
from tests.e2e.conftest import World
from tests.e2e.test_reminders import eventually

TZ = "Europe/Berlin"


def day(world: World, days: int = 3) -> str:
    """A date a few days ahead in the group's zone, as residents type it."""
    local = world.services.clock().astimezone(ZoneInfo(TZ)) + timedelta(days=days)
    return local.strftime("%Y-%m-%d")


async def setup_group(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, f"/settings timezone {TZ}"))


async def card(world: World, event_id: int) -> str:
    event = await store.get(world.services.db, event_id)
    assert event is not None and event.message_id is not None
    message = world.fake.message(world.court, event.message_id)
    assert message is not None
    return message.text or ""


async def make_due(world: World, kind: str, ref_id: int) -> None:
    """Let the pending row fire now. Only ``run_at`` moves: ``due_at`` stays the reminder moment
    the row stands for, as when the clock really reaches it (the next one is planned from it)."""
    due = world.services.clock() - timedelta(seconds=1)
    from storage.db import to_db

    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ? WHERE kind = ? AND ref_id = ? AND status = 'pending'",
            (to_db(due), kind, ref_id),
        )


async def fire(world: World) -> None:
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()


def ics_of(call) -> Calendar:
    return Calendar.from_ical(call.params["document"])


async def test_a_full_event(world: World) -> None:
    await setup_group(world)
    await world.do(world.wang.send(world.wang.private, "/start"))
    date = day(world)
    replies = await world.do(
        world.alice.send(world.court, f"/event Yard cleanup | {date} 10:00-12:00 | Yard | 3")
    )
    text = replies.text(world.court)
    assert "Yard cleanup" in text and "10:00–12:00 (Europe/Berlin)" in text
    assert "0/3 going" in text and "#E1" in text
    event = await store.get(world.services.db, 1)
    assert event is not None and event.starts_at.hour == 9  # stored UTC (10:00 CET)
    assert event.ends_at == event.starts_at + timedelta(hours=2)
    message = world.fake.last_bot_message(world.court)

    # sign-ups past the capacity, guests counted
    replies = await world.do(world.bob.press(message, "ev:g:1"))
    assert "You’re going" in replies.answer_text()
    replies = await world.do(world.carol.press(message, "ev:p:1"))  # joins with a guest: 3/3
    assert "Вы идёте" in replies.answer_text()  # her own language
    replies = await world.do(world.wang.press(message, "ev:g:1"))
    assert "候补" in replies.answer_text() and "1" in replies.answer_text()
    replies = await world.do(world.alice.press(message, "ev:g:1"))
    assert "waitlist, number 2" in replies.answer_text()
    shown = await card(world, 1)
    assert "3/3 going — full" in shown and "Кэрол (+1)" in shown
    assert "Waitlist: 1. 王芳, 2. Alice" in shown
    # pressing again changes nothing
    replies = await world.do(world.alice.press(message, "ev:g:1"))
    assert "already on the waitlist, number 2" in replies.answer_text()

    # a guest leaves: the first on the waitlist who fits is promoted and told privately
    replies = await world.do(world.carol.press(message, "ev:m:1"))
    private = replies.text(world.wang.private)
    assert "Yard cleanup" in private and "有空位" in private
    assert not replies.sent(world.court)
    # someone leaves: the next one (never started the bot) is told in the group by mention
    replies = await world.do(world.bob.press(message, "ev:x:1"))
    said = replies.text(world.court)
    assert f"tg://user?id={world.alice.id}" in said and "a place freed up" in said
    shown = await card(world, 1)
    assert "3/3 going" in shown and "Waitlist" not in shown and "Bob" not in shown
    signups = await store.signups(world.services.db, 1)
    assert [(s.user_id, s.guests) for s in rules.going(signups)] == [
        (world.carol.id, 0),
        (world.wang.id, 0),
        (world.alice.id, 0),
    ]

    # reminders: privately to those who started the bot, one group message for the rest
    row = await scheduled.pending_for(world.services.db, store.EVENT_REMINDER, 1)
    assert row is not None and row.run_at == event.starts_at - timedelta(days=1)
    mark = world.fake.mark()
    await make_due(world, store.EVENT_REMINDER, 1)
    await fire(world)
    call = await world.fake.wait_for("sendMessage", since=mark, chat_id=world.court.id)
    assert "Reminder" in call.params["text"]
    assert f"tg://user?id={world.carol.id}" in call.params["text"]
    assert f"tg://user?id={world.wang.id}" not in call.params["text"]
    await world.fake.wait_for("sendMessage", since=mark, chat_id=world.wang.private.id)

    async def next_planned() -> bool:
        nxt = await scheduled.pending_for(world.services.db, store.EVENT_REMINDER, 1)
        return nxt is not None and nxt.run_at == event.starts_at - timedelta(hours=1)

    await eventually(next_planned)

    # "Add to calendar": privately to Wang, in the group for Bob (never started the bot)
    replies = await world.do(world.wang.press(message, "ev:c:1"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument"]
    assert int(doc.params["chat_id"]) == world.wang.id
    [vevent] = ics_of(doc).walk("VEVENT")
    assert vevent.decoded("DTSTART") == event.starts_at
    assert vevent.decoded("DTEND") == event.ends_at
    assert str(vevent["SUMMARY"]) == "Yard cleanup" and str(vevent["LOCATION"]) == "Yard"
    uid = str(vevent["UID"])
    replies = await world.do(world.bob.press(message, "ev:c:1"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument"]
    assert int(doc.params["chat_id"]) == world.court.id
    assert str(ics_of(doc).walk("VEVENT")[0]["UID"]) == uid  # stable per event

    # /events and /calendar
    await world.do(world.alice.send(world.court, f"/event Tea | {day(world, 5)} 17:00"))
    listed = (await world.do(world.bob.send(world.court, "/events"))).text(world.court)
    assert listed.index("Yard cleanup") < listed.index("Tea") and "3/3" in listed
    replies = await world.do(world.bob.send(world.court, "/calendar"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument"]
    events = ics_of(doc).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Yard cleanup", "Tea"]
    assert str(events[0]["UID"]) == uid

    # export: the creator, privately, once she started the bot
    replies = await world.do(world.bob.send(world.court, "/export E1"))
    assert "creator or a lead" in replies.text(world.court)
    await world.do(world.alice.send(world.alice.private, "/start"))
    replies = await world.do(world.alice.send(world.court, "/export E1"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument"]
    assert int(doc.params["chat_id"]) == world.alice.id
    rows = list(csv.reader(io.StringIO(doc.params["document"].decode("utf-8-sig"))))
    assert rows[0] == ["Status", "Waitlist position", "Name", "Guests"]
    assert [r[2] for r in rows[1:]] == ["Кэрол", "王芳", "Alice"]


async def test_edits_capacity_time_cancel_and_who_may(world: World) -> None:
    await setup_group(world)
    date = day(world)
    await world.do(world.bob.send(world.court, f"/event Board games | {date} 19:00 | Hall | 3"))
    message = world.fake.last_bot_message(world.court)
    for person in (world.alice, world.carol, world.wang):
        await world.do(person.press(message, "ev:g:1"))

    # lowering the capacity moves the last joiners to the waitlist and tells them
    replies = await world.do(world.bob.send(world.court, "/event edit E1 capacity 1"))
    said = replies.text(world.court)
    assert "Moved to the waitlist: 2" in said
    assert f"tg://user?id={world.wang.id}" in said and "fewer places" in said
    signups = await store.signups(world.services.db, 1)
    assert [s.user_id for s in rules.going(signups)] == [world.alice.id]
    assert [s.user_id for s in rules.waitlist(signups)] == [world.carol.id, world.wang.id]
    assert "1/1 going" in await card(world, 1)

    # residents other than the creator may not edit; a lead may
    replies = await world.do(world.carol.send(world.court, "/event edit E1 capacity 9"))
    assert "creator or a lead" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/event edit E1 capacity 2"))
    assert f"tg://user?id={world.carol.id}" in replies.text(world.court)  # promoted back

    # a new time replaces the reminder and tells everyone signed up
    old = await scheduled.pending_for(world.services.db, store.EVENT_REMINDER, 1)
    replies = await world.do(
        world.bob.send(world.court, f"/event edit E1 time {day(world, 4)} 18:00-20:00")
    )
    assert "18:00–20:00" in replies.text(world.court)
    assert f"tg://user?id={world.wang.id}" in replies.text(world.court)
    new = await scheduled.pending_for(world.services.db, store.EVENT_REMINDER, 1)
    assert old is not None and new is not None and new.id != old.id
    assert (await scheduled.get(world.services.db, old.id)).status == "cancelled"
    assert "18:00–20:00" in await card(world, 1)

    # the card was deleted: the next refresh posts it again and remembers the new message
    world.fake.delete_message(world.court, message.message_id)
    await world.do(world.bob.send(world.court, "/event edit E1 place Garden room"))
    event = await store.get(world.services.db, 1)
    assert event is not None and event.message_id != message.message_id
    assert "Garden room" in await card(world, 1)
    message = world.fake.message(world.court, event.message_id)

    # cancel by replying to the card: attendees told, buttons gone, presses refused
    replies = await world.do(world.bob.send(world.court, "/event cancel", reply_to=message))
    said = replies.text(world.court)
    assert "is cancelled" in said and f"tg://user?id={world.alice.id}" in said
    assert "Cancelled" in await card(world, 1)
    assert world.fake.message(world.court, event.message_id).reply_markup is None
    assert await scheduled.pending_for(world.services.db, store.EVENT_REMINDER, 1) is None
    replies = await world.do(world.carol.press(message, "ev:g:1", check=False))
    assert "отменено" in replies.answer_text()  # in her language
    replies = await world.do(world.bob.send(world.court, "/close E1"))
    assert "cancelled" in replies.text(world.court)


async def test_long_lists_collapse_and_forged_buttons_are_refused(world: World) -> None:
    await setup_group(world)
    await world.do(world.alice.send(world.court, f"/event Concert | {day(world)} 20:00 | | 300"))
    message = world.fake.last_bot_message(world.court)
    for uid in range(1000, 1400):  # 400 neighbours with long names, straight into the DB

        def rule(e, s, uid=uid):
            # Telegram allows 64 + 64 characters of first and last name
            name = f"Neighbour number {uid} " + "with a very long name " * 5
            return rules.join(e.capacity, s, uid, name)

        await store.apply(world.services.db, 1, rule)
    await world.do(world.bob.press(message, "ev:g:1"))  # refreshes the card
    shown = await card(world, 1)
    assert len(shown) <= 4096 and "300/300 going — full" in shown
    assert "more" in shown and "Waitlist: 1. Neighbour number 1300" in shown

    for data in ("ev:g:999", "ev:z:1", "ev:g:abc", "ev:g", "ev:g:1:2"):
        replies = await world.do(world.bob.press(message, data, check=False))
        assert "no longer works" in replies.answer_text(), data
    assert not world.fake.unanswered_callbacks

    # cancelling tells all 401 (none started the bot): mentions in batches of 50, each
    # message within Telegram's limit even with the longest names
    replies = await world.do(world.alice.send(world.court, "/event cancel E1"))
    told = [c.params["text"] for c in replies.sent(world.court) if "tg://user" in c.params["text"]]
    assert len(told) == 9  # 401 people: 8 × 50 + 1
    assert all(text.count("tg://user?id=") <= 50 for text in told)
    assert sum(text.count("tg://user?id=") for text in told) == 401
    assert not [c for c in replies.calls if c.method == "sendMessage" and not c.ok]


async def test_bad_input_gets_clear_answers_and_stores_nothing(world: World) -> None:
    await setup_group(world)
    for text, expect in (
        ("/event", "/event Title | when"),
        ("/event Party", "/event Title | when"),
        ("/event Party | yesterday 10:00", "in the past"),
        ("/event Party | every monday 9:00", "happens once"),
        ("/event Party | blorp", "could not understand the time"),
        ("/event Party | tomorrow 10:00 | Hall | many", "is not a capacity"),
        ("/event Party | tomorrow 8-26", "time range"),
        ("/event edit E9 capacity 3", "no event E9"),
        ("/event edit", "Edit like this"),
        ("/event cancel", "Which event"),
    ):
        replies = await world.do(world.bob.send(world.court, text))
        assert len(replies.sent(world.court)) == 1, text
        assert expect in replies.text(world.court), (text, replies.text(world.court))
    assert await world.services.db.fetchone("SELECT id FROM events") is None
    replies = await world.do(world.bob.send(world.bob.private, "/event Party | tomorrow 10:00"))
    assert "group" in replies.text(world.bob.private)
    # only leads may create events when the group says so
    await world.do(world.alice.send(world.court, "/settings events leads"))
    replies = await world.do(world.bob.send(world.court, "/event Party | tomorrow 10:00"))
    assert "leads" in replies.text(world.court)
    assert await world.services.db.fetchone("SELECT id FROM events") is None


def test_cards_stay_under_4096_utf16_units_with_emoji_names() -> None:
    """Telegram counts UTF-16 units: an emoji is 2. 400 residents named "Anna 🌸🌸" overflowed
    a card measured in characters; every language must stay within the limit."""
    from datetime import UTC, datetime

    from handlers.events import render_card
    from handlers.rosters import render_roster
    from playground.textparse import parse_text, utf16_len

    start = datetime(2030, 1, 1, 10, tzinfo=UTC)
    for capacity in (300, None):
        event = store.Event(
            1, 1, 1, "a", "Spring 🎉" * 20, "Yard 🏠" * 20, start, None, capacity, "open", 1, 0
        )
        people = [
            rules.Signup(1000 + n, f"Anna {n} 🌸🌸" if n % 3 else "😀" * 64, n % 2, n + 1, n < 300)
            for n in range(400)
        ]
        for lang in ("en", "ru", "zh_Hans"):
            text, _ = render_card(lang, TZ, event, people)
            assert utf16_len(parse_text(text, "HTML").text) <= 4096, (capacity, lang)
            assert "🌸" in text
    roster = store.Roster(1, 1, 1, "a", "Gate 🚪" * 25, 50, "open", 1)
    slots = [
        rules.Slot(
            n, 1, n, start, start + timedelta(hours=2), tuple((u, "😀" * 64) for u in range(50))
        )
        for n in range(rules.MAX_SLOTS)
    ]
    for lang in ("en", "ru", "zh_Hans"):
        text, _ = render_roster(lang, TZ, roster, slots)
        assert utf16_len(parse_text(text, "HTML").text) <= 4096, lang


def next_dst_change(world: World) -> str:
    """The next day (a few days ahead at least) on which Berlin changes its clocks."""
    zone = ZoneInfo(TZ)
    local = world.services.clock().astimezone(zone) + timedelta(days=2)
    for _ in range(400):
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if midnight.utcoffset() != midnight.replace(hour=5).utcoffset():
            return local.strftime("%Y-%m-%d")
        local += timedelta(days=1)
    raise AssertionError("no DST change within 400 days")


async def test_an_event_on_a_dst_day_is_reminded_in_elapsed_time(world: World) -> None:
    """Stored in UTC, shown in local time; "24 h" and "1 h before" are elapsed time, and the
    1 h reminder still follows the first across the clock change. A time edit into the past
    is refused and a started event's list (capacity) cannot change."""
    await setup_group(world)
    date = next_dst_change(world)
    await world.do(world.alice.send(world.court, f"/event Tea | {date} 10:00-12:00 | | 5"))
    event = await store.get(world.services.db, 1)
    assert event is not None
    local = event.starts_at.astimezone(ZoneInfo(TZ))
    assert (local.hour, local.minute) == (10, 0) and event.starts_at.tzinfo is not None
    assert "10:00–12:00 (Europe/Berlin)" in await card(world, 1)
    message = world.fake.last_bot_message(world.court)
    await world.do(world.bob.press(message, "ev:g:1"))
    row = await scheduled.pending_for(world.services.db, store.EVENT_REMINDER, 1)
    assert row is not None and row.due_at == event.starts_at - timedelta(hours=24)

    mark = world.fake.mark()
    await make_due(world, store.EVENT_REMINDER, 1)
    await fire(world)
    await world.fake.wait_for("sendMessage", since=mark, chat_id=world.court.id)

    async def one_hour_before() -> bool:
        nxt = await scheduled.pending_for(world.services.db, store.EVENT_REMINDER, 1)
        return nxt is not None and nxt.due_at == event.starts_at - timedelta(hours=1)

    await eventually(one_hour_before)

    # a time edit into the past is refused and changes nothing
    replies = await world.do(world.alice.send(world.court, "/event edit E1 time yesterday 10:00"))
    assert "in the past" in replies.text(world.court)
    assert (await store.get(world.services.db, 1)) == event

    # once started, the list is final: no capacity change moves anyone
    from storage.db import to_db

    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE events SET starts_at = ? WHERE id = 1",
            (to_db(world.services.clock() - timedelta(minutes=5)),),
        )
    replies = await world.do(world.alice.send(world.court, "/event edit E1 capacity 1"))
    assert "already started" in replies.text(world.court)
    assert (await store.get(world.services.db, 1)).capacity == 5  # type: ignore[union-attr]


def test_russian_and_english_counts_need_no_plural_form() -> None:
    """ "(2 мест)" / "(1 places)" were wrong forms: the counts now follow a colon."""
    from bot.i18n import t

    for capacity in (1, 2, 5, 21):
        assert f"({capacity} мест)" not in t("ru", "event.party_too_big", capacity=capacity)
        assert f"{capacity} places" not in t("en", "event.party_too_big", capacity=capacity)
        text = t("en", "event.edited_capacity", title="T", capacity=capacity, moved=0, promoted=0)
        assert f"{capacity} places" not in text
