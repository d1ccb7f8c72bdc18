"""Households storage on a real SQLite file: claims, sharing, decisions, the register, imports,
and supergroup migration."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from bot.domain.errors import DomainError
from bot.domain.settings import ChatSettings
from bot.domain.units import normalize_label
from storage import chats, decisions, members, privacy, units
from storage.db import Database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GROUP = -1001
OTHER = -1002
DEFAULTS = ChatSettings()
BOB, CAROL, ALICE = 7, 8, 1


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    for chat_id, title in ((GROUP, "Maple"), (OTHER, "Oak")):
        await chats.ensure(database, chat_id, type="group", title=title, defaults=DEFAULTS, now=NOW)
    yield database
    await database.close()


async def make_decision(db: Database, rule: str = "majority") -> int:
    decision_id, _ = await decisions.create(
        db,
        chat_id=GROUP,
        title="Paint the gate",
        rule=rule,
        secret=False,
        creator_id=ALICE,
        creator_name="Alice",
        closes_at=NOW + timedelta(days=7),
        now=NOW,
    )
    return decision_id


async def snapshot(db: Database) -> list[tuple[object, ...]]:
    rows = await db.fetchall("SELECT * FROM units ORDER BY id")
    return [tuple(r) for r in rows]


async def test_a_residents_claim_to_an_unknown_label_is_a_request_not_a_unit(
    db: Database,
) -> None:
    claim, before, created = await units.claim(db, GROUP, "99-01", BOB, approved=False, now=NOW)
    assert before is None and not created
    assert claim.is_request and claim.status == units.PENDING and claim.label == "99-01"
    assert await units.count(db, GROUP) == 0  # the register did not change
    again, before, _ = await units.claim(db, GROUP, "99-01", BOB, approved=False, now=NOW)
    assert before == units.PENDING and again.request_id == claim.request_id
    [waiting] = await units.waiting(db, GROUP)
    assert waiting.claim == claim
    [mine] = await units.claims_of(db, GROUP, BOB)
    assert mine.is_request and mine.status == units.PENDING


async def test_a_claim_to_a_registered_unit_waits_in_unit_members(db: Database) -> None:
    await units.add(db, GROUP, "3-502", None, NOW, by=ALICE)
    claim, before, created = await units.claim(db, GROUP, "3-502", BOB, approved=False, now=NOW)
    assert before is None and not created and not claim.is_request
    assert claim.status == units.PENDING and claim.label == "3-502" and claim.chat_id == GROUP
    again, before, created = await units.claim(db, GROUP, "3-502", BOB, approved=False, now=NOW)
    assert before == units.PENDING and not created and again.status == units.PENDING
    assert await units.count(db, GROUP) == 1


async def test_rejecting_a_request_leaves_the_register_exactly_as_it_was(db: Database) -> None:
    await units.add(db, GROUP, "1-01", Fraction(50), NOW, by=ALICE)
    before = await snapshot(db)
    claim, _, _ = await units.claim(db, GROUP, "99-01", BOB, approved=False, now=NOW)
    assert claim.request_id is not None
    done = await units.decide_request(db, GROUP, claim.request_id, approve=False, by=ALICE, now=NOW)
    assert done is not None and done.claim.status == units.REJECTED and not done.created
    assert await snapshot(db) == before
    assert await units.waiting(db, GROUP) == []
    # decided once: a second press finds nothing pending
    assert (
        await units.decide_request(db, GROUP, claim.request_id, approve=True, by=ALICE, now=NOW)
        is None
    )
    assert await snapshot(db) == before
    # the resident may ask again: the same request, pending again
    again, was, _ = await units.claim(db, GROUP, "99-01", BOB, approved=False, now=NOW)
    assert was == units.REJECTED and again.status == units.PENDING


async def test_approving_a_request_adds_the_unit_and_tells_open_decisions(db: Database) -> None:
    await units.add(db, GROUP, "1-01", None, NOW, by=ALICE)
    decision_id = await make_decision(db)
    claim, _, _ = await units.claim(db, GROUP, "1-02", BOB, approved=False, now=NOW)
    assert claim.request_id is not None
    # another chat's id does not reach it
    assert await units.get_request(db, OTHER, claim.request_id) is None
    assert (
        await units.decide_request(db, OTHER, claim.request_id, approve=True, by=ALICE, now=NOW)
        is None
    )
    done = await units.decide_request(db, GROUP, claim.request_id, approve=True, by=ALICE, now=NOW)
    assert done is not None and done.created and done.decisions == (decision_id,)
    assert done.claim.status == units.APPROVED and done.claim.decided_by == ALICE
    unit = await units.get(db, GROUP, "1-02")
    assert unit is not None and done.claim.unit_id == unit.id
    assert await units.get_request(db, GROUP, claim.request_id) is None
    [change] = await decisions.changes(db, decision_id)
    assert change.kind == "added" and change.label == "1-02" and change.by_id == ALICE


async def test_a_lead_claiming_an_unknown_label_adds_it_as_a_register_change(
    db: Database,
) -> None:
    await units.add(db, GROUP, "1-01", None, NOW, by=ALICE)
    decision_id = await make_decision(db)
    done = await units.claim_unit(db, GROUP, "1-03", ALICE, approved=True, now=NOW, by=ALICE)
    assert done.created and done.claim.status == units.APPROVED
    assert done.decisions == (decision_id,)
    assert [c.kind for c in await decisions.changes(db, decision_id)] == ["added"]


async def test_register_changes_reach_open_decisions(db: Database) -> None:
    await units.add(db, GROUP, "1-01", Fraction(50), NOW, by=ALICE)
    decision_id = await make_decision(db)
    added = await units.add_unit(db, GROUP, "1-02", Fraction(60), NOW, by=ALICE)
    assert added.created and added.decisions == (decision_id,)
    area = await units.add_unit(db, GROUP, "1-02", Fraction(61), NOW, by=ALICE)
    assert area.changed and area.decisions == (decision_id,)
    same = await units.add_unit(db, GROUP, "1-02", Fraction(61), NOW, by=ALICE)
    assert not same.changed and same.decisions == ()
    result = await units.import_rows(
        db, GROUP, [("1-03", None), ("1-01", Fraction(51))], NOW, by=ALICE
    )
    assert (result.added, result.updated) == (1, 1) and result.decisions == (decision_id,)
    removed = await units.remove(db, GROUP, "1-03", now=NOW, by=ALICE)
    assert removed is not None and removed[1] == (decision_id,)
    kinds = [c.kind for c in await decisions.changes(db, decision_id)]
    assert kinds == ["added", "area", "added", "area", "removed"]


async def test_a_refused_register_change_writes_nothing(db: Database) -> None:
    """An area rule cannot take a unit without an area: the whole import rolls back."""
    await units.add(db, GROUP, "1-01", Fraction(50), NOW, by=ALICE)
    decision_id = await make_decision(db, rule="cn-278")
    before = await snapshot(db)
    with pytest.raises(DomainError):
        await units.import_rows(db, GROUP, [("1-02", Fraction(40)), ("1-03", None)], NOW, by=ALICE)
    assert await snapshot(db) == before
    assert await decisions.changes(db, decision_id) == []
    claim, _, _ = await units.claim(db, GROUP, "1-04", BOB, approved=False, now=NOW)
    assert claim.request_id is not None
    with pytest.raises(DomainError):
        await units.decide_request(db, GROUP, claim.request_id, approve=True, by=ALICE, now=NOW)
    assert await snapshot(db) == before
    [still] = await units.waiting(db, GROUP)
    assert still.claim.request_id == claim.request_id and still.claim.status == units.PENDING


LOOK_ALIKES = [
    "1-\u041e1",  # Cyrillic О
    "1-\u039f1",  # Greek Ο
    "1-O1",  # Latin O
    "1-0\u03011",  # a combining acute accent
    "\u0661-\u0660\u0661",  # Arabic-Indic digits
    "\u06f1-\u06f0\u06f1",  # Eastern Arabic-Indic digits
    "\u0967-\u0966\u0967",  # Devanagari digits
    "\uff11\uff0d\uff10\uff11",  # full-width
    "1\u200b-0\u200d1",  # zero-width characters
    "1\u201001",  # hyphen
    "1\u201101",  # non-breaking hyphen
    "1\u201301",  # en dash
    "1\u201401",  # em dash
    "1\u221201",  # minus sign
    "1\u20e3-01",  # a combining enclosing keycap
]


@pytest.mark.parametrize("typed", LOOK_ALIKES)
async def test_two_look_alikes_cannot_both_exist(db: Database, typed: str) -> None:
    await units.add(db, GROUP, "1-01", Fraction(50), NOW, by=ALICE)
    label = normalize_label(typed)
    unit, created, _ = await units.add(db, GROUP, label, None, NOW, by=ALICE)
    assert not created and unit.label == "1-01"  # the label as first registered
    result = await units.import_rows(db, GROUP, [(label, Fraction(51))], NOW, by=ALICE)
    assert (result.added, result.updated) == (0, 1)
    claim, _, created = await units.claim(db, GROUP, label, BOB, approved=False, now=NOW)
    assert not created and not claim.is_request and claim.label == "1-01"
    assert await units.count(db, GROUP) == 1
    found = await units.get(db, GROUP, label)
    assert found is not None and found.label == "1-01"
    removed = await units.remove(db, GROUP, label, now=NOW, by=ALICE)
    assert removed is not None and removed[0].label == "1-01"


async def test_look_alike_requests_are_one_request(db: Database) -> None:
    first, _, _ = await units.claim(db, GROUP, "7-01", BOB, approved=False, now=NOW)
    second, before, _ = await units.claim(
        db, GROUP, normalize_label("7-\u041e1"), BOB, approved=False, now=NOW
    )
    assert before == units.PENDING and second.request_id == first.request_id
    assert second.label == "7-01"
    # approving it when a lead has meanwhile added a look-alike joins that unit
    await units.add(db, GROUP, normalize_label("7\u20130\u200b1"), Fraction(40), NOW, by=ALICE)
    assert first.request_id is not None
    done = await units.decide_request(db, GROUP, first.request_id, approve=True, by=ALICE, now=NOW)
    assert done is not None and not done.created and await units.count(db, GROUP) == 1


async def test_cyrillic_and_chinese_labels_stay_legal(db: Database) -> None:
    for typed in ("кв 12", "3栋502", "кв. 12а", "КОРПУС 2"):
        label = normalize_label(typed)
        _, created, _ = await units.add(db, GROUP, label, None, NOW, by=ALICE)
        assert created, typed
    assert [e.unit.label for e in await units.register(db, GROUP)] == [
        "3栋502",
        "КВ 12",
        "КВ. 12А",
        "КОРПУС 2",
    ]


async def test_forgetme_takes_the_requests_along(db: Database) -> None:
    await units.claim(db, GROUP, "99-01", BOB, approved=False, now=NOW)
    other, _, _ = await units.claim(db, GROUP, "99-02", CAROL, approved=False, now=NOW)
    assert other.request_id is not None
    await units.decide_request(db, GROUP, other.request_id, approve=False, by=BOB, now=NOW)
    data = await privacy.collect(db, BOB)
    assert [r["unit"] for r in data["unit_requests"]] == ["99-01"]
    await privacy.forget(db, BOB, lambda lang: privacy.Placeholders("former", "a lead"))
    assert await privacy.rows_about(db, BOB) == {}
    assert await db.fetchall("SELECT * FROM unit_requests WHERE user_id = ?", (BOB,)) == []


async def test_several_residents_share_a_unit_and_one_holds_two(db: Database) -> None:
    a, _, _ = await units.claim(db, GROUP, "3-502", BOB, approved=True, now=NOW)
    b, _, created = await units.claim(db, GROUP, "3-502", CAROL, approved=True, now=NOW)
    assert a.unit_id == b.unit_id and not created
    await units.claim(db, GROUP, "3-503", BOB, approved=True, now=NOW)
    assert [c.label for c in await units.claims_of(db, GROUP, BOB)] == ["3-502", "3-503"]
    await members.seen(db, GROUP, BOB, "Bob", NOW)
    await members.seen(db, GROUP, CAROL, "Carol", NOW)
    [first, second] = await units.register(db, GROUP)
    assert first.unit.label == "3-502" and first.members == ("Bob", "Carol")
    assert second.members == ("Bob",)


async def test_approve_and_reject_only_pending_claims_of_this_chat(db: Database) -> None:
    await units.import_rows(db, GROUP, [("3-502", None), ("4-101", None)], NOW, by=ALICE)
    claim, _, _ = await units.claim(db, GROUP, "3-502", BOB, approved=False, now=NOW)
    # another chat's id does not reach it
    assert await units.get_claim(db, OTHER, claim.unit_id, BOB) is None
    assert not await units.decide(db, OTHER, claim.unit_id, BOB, approve=True, by=ALICE)
    assert await units.decide(db, GROUP, claim.unit_id, BOB, approve=True, by=ALICE)
    assert not await units.decide(db, GROUP, claim.unit_id, BOB, approve=False, by=ALICE)
    got = await units.get_claim(db, GROUP, claim.unit_id, BOB)
    assert got is not None and got.status == units.APPROVED and got.decided_by == ALICE

    other, _, _ = await units.claim(db, GROUP, "4-101", CAROL, approved=False, now=NOW)
    assert await units.decide(db, GROUP, other.unit_id, CAROL, approve=False, by=ALICE)
    got = await units.get_claim(db, GROUP, other.unit_id, CAROL)
    assert got is not None and got.status == units.REJECTED
    entries = {e.unit.label: e for e in await units.register(db, GROUP)}
    assert entries["4-101"].members == () and entries["4-101"].pending == 0
    # a rejected resident may ask again: a new pending request
    again, before, _ = await units.claim(db, GROUP, "4-101", CAROL, approved=False, now=NOW)
    assert before == units.REJECTED and again.status == units.PENDING and again.decided_by is None


async def test_add_updates_area_and_import_never_duplicates(db: Database) -> None:
    unit, created, changed = await units.add(db, GROUP, "3-502", Fraction("89.5"), NOW)
    assert created and unit.area == Fraction(179, 2)
    unit, created, changed = await units.add(db, GROUP, "3-502", None, NOW)
    assert not created and not changed and unit.area == Fraction("89.5")  # kept
    unit, created, changed = await units.add(db, GROUP, "3-502", Fraction("90.25"), NOW)
    assert not created and changed and unit.area == Fraction("90.25")

    rows = [("3-502", Fraction(90)), ("3-503", Fraction("70.1")), ("3-504", None)]
    result = await units.import_rows(db, GROUP, rows, NOW)
    assert (result.added, result.updated, result.unchanged) == (2, 1, 0)
    result = await units.import_rows(db, GROUP, rows, NOW)
    assert (result.added, result.updated, result.unchanged) == (0, 0, 3)
    assert await units.count(db, GROUP) == 3
    assert await units.count(db, OTHER) == 0
    stored = await units.get(db, GROUP, "3-503")
    assert stored is not None and stored.area == Fraction(701, 10)  # exact, never a float


async def test_labels_are_unique_per_chat(db: Database) -> None:
    await units.add(db, GROUP, "3-502", None, NOW)
    await units.add(db, OTHER, "3-502", None, NOW)  # another building may have the same label
    with pytest.raises(sqlite3.IntegrityError):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO units (chat_id, label, created_at) VALUES (?, '3-502', 'x')", (GROUP,)
            )


async def test_remove_takes_the_claims_along(db: Database) -> None:
    claim, _, _ = await units.claim(db, GROUP, "3-502", BOB, approved=True, now=NOW)
    assert await units.remove(db, GROUP, "3-502", now=NOW)
    assert not await units.remove(db, GROUP, "3-502", now=NOW)
    assert await units.get_claim(db, GROUP, claim.unit_id, BOB) is None
    assert await db.fetchall("SELECT * FROM unit_members") == []


async def test_register_in_natural_order(db: Database) -> None:
    for label in ("10-101", "3-502", "2-10", "2-9"):
        await units.add(db, GROUP, label, None, NOW)
    assert [e.unit.label for e in await units.register(db, GROUP)] == [
        "2-9",
        "2-10",
        "3-502",
        "10-101",
    ]


async def test_rows_move_on_supergroup_migration(db: Database) -> None:
    await units.add(db, GROUP, "3-502", None, NOW)
    claim, _, _ = await units.claim(db, GROUP, "3-502", BOB, approved=False, now=NOW)
    asked, _, _ = await units.claim(db, GROUP, "9-9", CAROL, approved=False, now=NOW)
    await units.add(db, GROUP, "3-503", Fraction(80), NOW)
    assert await chats.migrate(db, GROUP, -100777, NOW)
    assert await units.count(db, GROUP) == 0
    assert await units.count(db, -100777) == 2
    moved = await units.get_claim(db, -100777, claim.unit_id, BOB)
    assert moved is not None and moved.chat_id == -100777 and moved.status == units.PENDING
    assert asked.request_id is not None
    request = await units.get_request(db, -100777, asked.request_id)
    assert request is not None and request.label == "9-9"


async def test_migration_into_an_existing_supergroup_row_with_the_same_label(
    db: Database,
) -> None:
    await units.claim(db, GROUP, "3-502", BOB, approved=True, now=NOW)
    await chats.ensure(db, -100888, type="supergroup", title="M", defaults=DEFAULTS, now=NOW)
    await units.claim(db, -100888, "3-502", CAROL, approved=True, now=NOW)
    assert await chats.migrate(db, GROUP, -100888, NOW)  # no unique clash: the old group wins
    [entry] = await units.register(db, -100888)
    assert entry.unit.label == "3-502"
    assert [c.user_id for c in await units.claims_of(db, -100888, BOB)] == [BOB]


async def test_groups_of_a_user(db: Database) -> None:
    await members.seen(db, GROUP, ALICE, "Alice", NOW)
    await members.seen(db, OTHER, ALICE, "Alice", NOW)
    await chats.set_active(db, OTHER, False, NOW)
    await chats.ensure(db, ALICE, type="private", title=None, defaults=DEFAULTS, now=NOW)
    assert await units.groups_of(db, ALICE) == [GROUP]


async def test_parts_of_the_building_are_listed_and_found_by_any_spelling(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from bot.domain.settings import ChatSettings
    from storage import chats
    from storage import units as store
    from storage.db import Database

    now = datetime(2026, 3, 1, tzinfo=UTC)
    db = await Database.open(tmp_path / "c.sqlite3")
    try:
        await chats.ensure(db, -7, type="group", title="T", defaults=ChatSettings(), now=now)
        result = await store.import_rows(
            db,
            -7,
            [
                ("2-10", None, "Entrance 2"),
                ("2-9", None, "entrance  2"),
                ("1-1", None, "Entrance 1"),
                ("9-9", None),
                ("3-1", None, "Entrance 10"),
            ],
            now,
            by=1,
        )
        assert result.added == 5
        assert await store.parts(db, -7) == ["Entrance 1", "Entrance 2", "Entrance 10"]
        found = await store.of_part(db, -7, "ENTRANCE 2")
        assert [(u.label, u.part) for u in found] == [("2-9", "Entrance 2"), ("2-10", "Entrance 2")]
        assert await store.of_part(db, -7, "entrance 3") == []
        # "" takes a unit out of its part, None keeps it
        await store.import_rows(db, -7, [("2-9", None, ""), ("2-10", None, None)], now, by=1)
        assert [u.label for u in await store.of_part(db, -7, "Entrance 2")] == ["2-10"]
    finally:
        await db.close()
