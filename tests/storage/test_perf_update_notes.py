"""Noting update ids several at a time (storage.updates.note, one statement with RETURNING),
on every backend: new ids, re-deliveries, an id noted long ago taken as new, the prune."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import updates
from storage.db import Database

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    yield database
    await database.close()


async def test_new_ids_and_redeliveries_in_one_note(db: Database) -> None:
    assert await updates.note(db, [1, 2, 3], NOW) == {1, 2, 3}
    assert await updates.note(db, [3, 4, 4, 2], NOW) == {4}  # 4 asked twice: noted once
    assert await updates.note(db, [], NOW) == set()
    rows = await db.fetchall("SELECT update_id FROM updates_seen ORDER BY update_id")
    assert [r["update_id"] for r in rows] == [1, 2, 3, 4]


async def test_an_id_noted_longer_ago_than_forget_is_new_again(db: Database) -> None:
    assert await updates.note(db, [10, 11], NOW) == {10, 11}
    later = NOW + updates.FORGET + timedelta(minutes=1)
    assert await updates.note(db, [10, 12], later) == {10, 12}
    assert await updates.note(db, [10], later) == set()


async def test_write_rows_returns_the_rows_of_its_statement(db: Database) -> None:
    rows = await db.write_rows(
        "INSERT INTO updates_seen (update_id, seen_at) VALUES (?, ?), (?, ?) RETURNING update_id",
        (5, "2026-12-03 10:00:00", 6, "2026-12-03 10:00:00"),
    )
    assert sorted(int(r[0]) for r in rows) == [5, 6]
    assert await db.write_one("DELETE FROM updates_seen WHERE update_id = ?", (5,)) == 1


async def test_a_note_with_a_round_id_prunes_the_old_ones(db: Database) -> None:
    assert await updates.note(db, [1, 2], NOW) == {1, 2}
    top = updates.KEEP + updates.PRUNE_EVERY * 3
    assert await updates.note(db, [top - 1, top], NOW) == {top - 1, top}
    rows = await db.fetchall("SELECT update_id FROM updates_seen ORDER BY update_id")
    assert [r["update_id"] for r in rows] == [top - 1, top]
