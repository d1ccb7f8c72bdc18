"""Owners' meetings in SQLite: the electorate is fixed at opening, a press sets one item and a
paper ballot replaces the household's ballot, nothing is taken after the deadline, closing is
counted inside its transaction and happens once, and the rows go with their group."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from bot.domain.decisions import AGAINST, FOR, Totals
from bot.domain.errors import DomainError
from bot.domain.settings import ChatSettings
from storage import chats
from storage import meetings as store
from storage.db import Database

GROUP = -100
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    await chats.ensure(
        database, GROUP, type="group", title="Maple", defaults=ChatSettings(), now=NOW
    )
    async with database.write() as conn:
        for n, part in ((1, "Entrance 1"), (2, "Entrance 2"), (3, "Entrance 2")):
            await conn.execute(
                "INSERT INTO units (chat_id, label, area_num, area_den, part, created_at)"
                " VALUES (?, ?, ?, 1, ?, ?)",
                (GROUP, f"1-0{n}", 50 + 10 * n, part, "2026-12-01T00:00:00Z"),
            )
    yield database
    await database.close()


async def new(db: Database, **kw: object) -> int:
    meeting_id, _ = await store.create(
        db,
        chat_id=GROUP,
        title="AGM",
        items=[("Roof", "majority"), ("Lift", "cn-278-special")],
        creator_id=7,
        creator_name="Alice",
        closes_at=NOW + timedelta(days=14),
        now=NOW,
        **kw,  # type: ignore[arg-type]
    )
    return meeting_id


async def units_of(db: Database) -> dict[str, int]:
    rows = await db.fetchall("SELECT id, label FROM units WHERE chat_id = ?", (GROUP,))
    return {r["label"]: int(r["id"]) for r in rows}


async def test_the_electorate_is_the_register_or_its_part_when_it_opens(db: Database) -> None:
    whole = await new(db)
    part = await new(db, part="entrance  2")
    assert [v.label for v in await store.electorate(db, whole)] == ["1-01", "1-02", "1-03"]
    found = await store.get(db, part)
    assert found is not None and found.part == "Entrance 2"  # as the register spells it
    assert [v.area for v in await store.electorate(db, part)] == [Fraction(70), Fraction(80)]
    with pytest.raises(DomainError) as info:
        await new(db, part="Entrance 9")
    assert info.value.key == "decision.no_units_in_part"
    async with db.write() as conn:
        await conn.execute("UPDATE units SET area_num = NULL, area_den = NULL WHERE label = '1-03'")
    with pytest.raises(DomainError) as info:
        await new(db)
    assert info.value.key == "decision.missing_area_labels" and info.value.params["item"] == 2
    row = await db.fetchone("SELECT count(*) AS n FROM meetings")
    assert row is not None and row["n"] == 2  # a refusal stores nothing


async def test_presses_set_items_and_a_paper_ballot_replaces_them(db: Database) -> None:
    m = await new(db)
    ids = await units_of(db)
    one = [(ids["1-01"], "1-01")]
    await store.cast(db, m, one, {1: FOR}, by_id=1, by_name="Bob", now=NOW)
    await store.cast(db, m, one, {2: AGAINST}, by_id=2, by_name="Erin", now=NOW)
    found = {(a.item, a.choice, a.by_name) for a in await store.answers(db, m)}
    assert found == {(1, FOR, "Bob"), (2, AGAINST, "Erin")}
    done = await store.cast(db, m, one, {2: FOR}, by_id=7, by_name="Alice", paper=True, now=NOW)
    assert done is not None and done.labels == ("1-01",)
    assert {(a.item, a.choice) for a in done.replaced} == {(1, FOR), (2, AGAINST)}
    after = await store.answers(db, m)
    assert [(a.item, a.choice, a.paper) for a in after] == [(2, FOR, True)]
    # a unit that is not in the electorate (or under another label) is skipped
    skipped = await store.cast(db, m, [(999, "9-99")], {1: FOR}, by_id=1, by_name="B", now=NOW)
    assert skipped is not None and skipped.labels == ()
    with pytest.raises(ValueError):
        await store.cast(db, m, one, {3: FOR}, by_id=1, by_name="Bob", now=NOW)


async def test_nothing_is_taken_after_the_deadline_and_closing_happens_once(db: Database) -> None:
    m = await new(db)
    ids = await units_of(db)
    late = NOW + timedelta(days=15)
    assert (
        await store.cast(db, m, [(ids["1-01"], "1-01")], {1: FOR}, by_id=1, by_name="B", now=late)
        is None
    )
    await store.cast(db, m, [(ids["1-02"], "1-02")], {1: FOR}, by_id=1, by_name="B", now=NOW)
    seen: list[int] = []

    def recount(voters, answers):  # type: ignore[no-untyped-def]
        seen.append(len(answers))
        zero = Fraction(0)
        whole = sum((v.area for v in voters), zero)
        return {
            1: Totals(len(voters), whole, len(answers), 0, 0, Fraction(60), zero, zero),
            2: Totals(len(voters), whole, 0, 0, 0, zero, zero, zero),
        }

    results = await asyncio.gather(
        *(
            store.close(db, m, recount, closed_by=None, closed_by_id=None, now=late)
            for _ in range(3)
        )
    )
    assert [closed for closed, _ in results].count(True) == 1 and seen[0] == 1
    found = await store.get(db, m)
    assert found is not None and not found.is_open and found.announced_at is None
    assert found.items[0].totals is not None and found.items[0].totals.for_units == 1
    assert await store.unannounced(db) == [m]
    await store.announced(db, m, late)
    assert await store.unannounced(db) == []
    row = await db.fetchone(
        "SELECT status FROM scheduled WHERE kind = ? AND ref_id = ?", (store.KIND, m)
    )
    assert row is not None and row["status"] == "cancelled"


async def test_rows_go_with_their_group_and_ids_are_not_reused(db: Database) -> None:
    first = await new(db)
    ids = await units_of(db)
    await store.cast(db, first, [(ids["1-01"], "1-01")], {1: FOR}, by_id=1, by_name="B", now=NOW)
    async with db.write() as conn:
        await conn.execute("DELETE FROM meetings WHERE id = ?", (first,))
    for table in ("meeting_items", "meeting_units", "meeting_answers"):
        row = await db.fetchone(f"SELECT count(*) AS n FROM {table}")
        assert row is not None and row["n"] == 0, table
    assert await new(db) == first + 1
