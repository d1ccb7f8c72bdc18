"""Households storage on a real SQLite file: claims, sharing, decisions, the register, imports,
and supergroup migration."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from bot.domain.settings import ChatSettings
from storage import chats, members, units
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


async def test_claim_creates_the_unit_and_waits(db: Database) -> None:
    claim, before, created = await units.claim(db, GROUP, "3-502", BOB, approved=False, now=NOW)
    assert before is None and created
    assert claim.status == units.PENDING and claim.label == "3-502" and claim.chat_id == GROUP
    again, before, created = await units.claim(db, GROUP, "3-502", BOB, approved=False, now=NOW)
    assert before == units.PENDING and not created and again.status == units.PENDING
    assert await units.count(db, GROUP) == 1


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
    assert await units.remove(db, GROUP, "3-502")
    assert not await units.remove(db, GROUP, "3-502")
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
    claim, _, _ = await units.claim(db, GROUP, "3-502", BOB, approved=False, now=NOW)
    await units.add(db, GROUP, "3-503", Fraction(80), NOW)
    assert await chats.migrate(db, GROUP, -100777, NOW)
    assert await units.count(db, GROUP) == 0
    assert await units.count(db, -100777) == 2
    moved = await units.get_claim(db, -100777, claim.unit_id, BOB)
    assert moved is not None and moved.chat_id == -100777 and moved.status == units.PENDING


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
