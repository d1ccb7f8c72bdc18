"""Events and rosters storage on a real SQLite file: sign-up rules applied atomically, reminder
rows written with the feature change and cancelled with it, and supergroup migration."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import events as rules
from bot.domain.errors import DomainError
from bot.domain.settings import ChatSettings
from storage import chats, scheduled
from storage import events as store
from storage.db import Database

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
START = NOW + timedelta(days=3)
GROUP = -1001
ALICE, BOB, CAROL = 1, 2, 3


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    await chats.ensure(
        database, GROUP, type="group", title="Maple", defaults=ChatSettings(), now=NOW
    )
    yield database
    await database.close()


async def _event(db: Database, capacity: int | None = 2) -> tuple[int, int | None]:
    return await store.create(
        db,
        chat_id=GROUP,
        creator_id=ALICE,
        creator_name="Alice",
        title="Cleanup",
        place="Yard",
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        capacity=capacity,
        reminder_at=START - timedelta(days=1),
        now=NOW,
    )


def joins(uid: int, name: str) -> store.Rule:
    return lambda e, s: rules.join(e.capacity, s, uid, name)


async def test_create_stores_the_event_and_its_reminder(db: Database) -> None:
    event_id, row_id = await _event(db)
    event = await store.get(db, event_id)
    assert event is not None and event.starts_at == START and event.capacity == 2
    assert row_id is not None
    row = await scheduled.get(db, row_id)
    assert row is not None and row.kind == store.EVENT_REMINDER and row.ref_id == event_id


async def test_apply_writes_the_rule_and_a_refusal_changes_nothing(db: Database) -> None:
    event_id, _ = await _event(db, capacity=1)
    await store.apply(db, event_id, joins(ALICE, "Alice"))
    _, out = await store.apply(db, event_id, joins(BOB, "Bob"))
    assert out.notice == "event.waitlisted"
    signups = await store.signups(db, event_id)
    assert [(s.user_id, s.going) for s in signups] == [(ALICE, True), (BOB, False)]
    with pytest.raises(DomainError):
        await store.apply(db, event_id, lambda e, s: rules.add_guest(e.capacity, s, ALICE, "A"))
    assert await store.signups(db, event_id) == signups
    _, out = await store.apply(db, event_id, lambda e, s: rules.leave(e.capacity, s, ALICE))
    assert [p.user_id for p in out.promoted] == [BOB]
    assert [(s.user_id, s.going) for s in await store.signups(db, event_id)] == [(BOB, True)]
    assert await store.counts(db, [event_id]) == {event_id: (1, 0)}


async def test_concurrent_joins_never_overbook(db: Database) -> None:
    event_id, _ = await _event(db, capacity=5)
    await asyncio.gather(*(store.apply(db, event_id, joins(uid, f"u{uid}")) for uid in range(30)))
    signups = await store.signups(db, event_id)
    assert rules.taken(signups) == 5 and len(rules.waitlist(signups)) == 25


async def test_capacity_change_is_one_transaction(db: Database) -> None:
    event_id, _ = await _event(db, capacity=3)
    for uid in (ALICE, BOB, CAROL):
        await store.apply(db, event_id, joins(uid, "x"))
    _, out = await store.apply(db, event_id, lambda e, s: rules.change_capacity(1, s), capacity=1)
    assert [d.user_id for d in out.demoted] == [CAROL, BOB]
    event = await store.get(db, event_id)
    assert event is not None and event.capacity == 1 and event.sequence == 1


async def test_reschedule_and_cancel_replace_and_stop_the_reminder(db: Database) -> None:
    event_id, row_id = await _event(db)
    later = START + timedelta(days=1)
    stale, new_id = await store.reschedule(
        db, event_id, later, None, later - timedelta(hours=1), NOW
    )
    assert stale == [row_id] and new_id is not None
    assert (await scheduled.get(db, row_id)).status == "cancelled"
    event = await store.get(db, event_id)
    assert event.starts_at == later and event.ends_at is None and event.sequence == 1
    assert await store.cancel(db, event_id) == [new_id]
    assert await store.cancel(db, event_id) is None  # only once
    assert await store.upcoming(db, GROUP, NOW) == []


async def test_roster_slots_take_leave_and_close(db: Database) -> None:
    slots = [
        (START, START + timedelta(hours=4), START - timedelta(hours=1)),
        (START + timedelta(hours=4), START + timedelta(hours=8), None),
    ]
    roster_id, rows = await store.create_roster(
        db,
        chat_id=GROUP,
        creator_id=ALICE,
        creator_name="Alice",
        title="Gate",
        per_slot=1,
        slots=slots,
        now=NOW,
    )
    assert len(rows) == 1
    first, second = await store.slots(db, roster_id)
    assert second.starts_at == START + timedelta(hours=4) and second.volunteers == ()

    def decide(uid: int):
        return lambda s, per: rules.take_or_leave(s, per, uid, NOW)

    results = await asyncio.gather(
        *(store.take_slot(db, first.id, uid, f"u{uid}", decide(uid), NOW) for uid in (BOB, CAROL)),
        return_exceptions=True,
    )
    assert sorted(map(repr, results)) == sorted(["True", repr(DomainError("roster.slot_full"))])
    [taken, _] = await store.slots(db, roster_id)
    assert len(taken.volunteers) == 1
    who = taken.volunteers[0][0]
    assert await store.take_slot(db, first.id, who, "x", decide(who), NOW) is False  # leaves
    assert (await store.get_slot(db, first.id)).volunteers == ()
    assert await store.close_roster(db, roster_id) == [rows[0][0]]
    assert await store.close_roster(db, roster_id) is None


async def test_everything_moves_with_a_supergroup(db: Database) -> None:
    event_id, row_id = await _event(db)
    await store.apply(db, event_id, joins(BOB, "Bob"))
    roster_id, _ = await store.create_roster(
        db,
        chat_id=GROUP,
        creator_id=ALICE,
        creator_name="Alice",
        title="Gate",
        per_slot=1,
        slots=[(START, START + timedelta(hours=1), None)],
        now=NOW,
    )
    [slot] = await store.slots(db, roster_id)
    await store.take_slot(
        db, slot.id, BOB, "Bob", lambda s, per: rules.take_or_leave(s, per, BOB, NOW), NOW
    )
    assert await chats.migrate(db, GROUP, -100777, NOW)
    assert (await store.get(db, event_id)).chat_id == -100777
    assert (await store.get_roster(db, roster_id)).chat_id == -100777
    assert [e.id for e in await store.upcoming(db, -100777, NOW)] == [event_id]
    assert (await scheduled.get(db, row_id)).chat_id == -100777
    for table in ("event_signups", "roster_slots", "roster_volunteers"):
        row = await db.fetchone(f"SELECT count(*) AS n FROM {table} WHERE chat_id = ?", (GROUP,))
        assert row["n"] == 0, table
    assert (await store.get_slot(db, slot.id)).volunteers == ((BOB, "Bob"),)
