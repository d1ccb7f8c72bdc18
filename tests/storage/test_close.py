"""Closing the database does not wait for reads: a read still running on the reader's thread
is interrupted, reads queued behind it end at once; writes are never cut short."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.settings import ChatSettings
from storage import chats
from storage.db import Database, DatabaseClosed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GROUP = -1001

#: A read that takes SQLite tens of seconds (counting to 300 million); running() tells the test
#: it has begun, from the reader's thread.
LONG_READ = (
    "WITH RECURSIVE c(x) AS (SELECT running() UNION ALL SELECT x + 1 FROM c"
    " WHERE x < 300000000) SELECT count(*) AS n FROM c"
)


async def started(db: Database) -> asyncio.Task[object]:
    """The long read, once it runs on the reader's thread."""
    loop = asyncio.get_running_loop()
    running = asyncio.Event()

    def note() -> int:
        loop.call_soon_threadsafe(running.set)
        return 1

    await db._reader.create_function("running", 0, note)
    task: asyncio.Task[object] = asyncio.ensure_future(db.fetchone(LONG_READ))
    await running.wait()
    return task


async def test_close_interrupts_a_running_read_and_ends_the_queued_ones(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "courtyard.sqlite3")
    if not isinstance(db, Database):
        pytest.skip("aiosqlite's threads: SQLite only")
    long_read = await started(db)
    queued = [asyncio.ensure_future(db.fetchall("SELECT * FROM chats")) for _ in range(20)]
    await asyncio.sleep(0)
    await db.close()
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        await long_read  # without the interrupt it would run to its count
    for read in queued:
        with pytest.raises(DatabaseClosed):
            await read
    with pytest.raises(DatabaseClosed):
        await db.fetchone("SELECT 1")


async def test_a_write_asked_for_before_the_close_is_committed(tmp_path: Path) -> None:
    path = tmp_path / "courtyard.sqlite3"
    db = await Database.open(path)
    await chats.ensure(db, GROUP, type="group", title="g", defaults=ChatSettings(), now=NOW)
    long_read = await started(db)
    write = asyncio.ensure_future(
        db.write_one("UPDATE chats SET title = 'kept' WHERE id = ?", (GROUP,))
    )
    await asyncio.sleep(0)
    await db.close()
    assert await write == 1
    with pytest.raises((sqlite3.OperationalError, DatabaseClosed)):
        await long_read
    again = await Database.open(path)
    try:
        row = await again.fetchone("SELECT title FROM chats WHERE id = ?", (GROUP,))
        assert row is not None and row["title"] == "kept"
    finally:
        await again.close()
