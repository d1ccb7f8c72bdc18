"""Write transactions given as steps (storage.db.transaction): one round trip to SQLite's
writer thread for a whole vote press, everything rolled back on an error, and the same steps
run statement by statement on a backend without the one-trip path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.domain.errors import DomainError
from bot.domain.settings import ChatSettings
from storage import chats, polls
from storage.db import Database, Steps, transaction

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GROUP = -1001
BOB = 7


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    await chats.ensure(database, GROUP, type="group", title="g", defaults=ChatSettings(), now=NOW)
    yield database
    await database.close()


async def make_poll(db: Database) -> polls.Poll:
    poll, _ = await polls.create(
        db,
        chat_id=GROUP,
        creator_id=BOB,
        question="Lunch?",
        options=["Pizza", "Sushi"],
        multiple=False,
        anonymous=False,
        closes_at=None,
        now=NOW,
    )
    return poll


class Trips:
    """Counts the calls queued to aiosqlite's connection threads (each is one round trip:
    the event loop hands work to the thread and wakes up when it is done)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = aiosqlite.Connection._execute

        async def counted(conn: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await original(conn, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)


async def test_a_vote_press_is_one_round_trip(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The press path's write: poll checked, the voter's row read and written, committed, in
    one trip (it was five: BEGIN, two reads, the write, COMMIT)."""
    if not isinstance(db, Database):
        pytest.skip("aiosqlite's threads: SQLite only")
    poll = await make_poll(db)
    trips = Trips(monkeypatch)
    for option in (0, 1, 1):  # a vote, a move, a withdrawal
        await polls.vote(db, poll.id, GROUP, BOB, option, NOW)
    assert trips.count == 3
    results = await polls.results(db, poll)
    assert results.counts == (0, 0) and results.voters == 0


async def test_a_refused_press_changes_nothing_and_leaves_no_transaction_open(
    db: Database,
) -> None:
    poll = await make_poll(db)
    with pytest.raises(DomainError) as refused:
        await polls.vote(db, poll.id, GROUP + 1, BOB, 0, NOW)  # another chat's button
    assert refused.value.key == "error.stale_button"
    await polls.vote(db, poll.id, GROUP, BOB, 1, NOW)
    assert (await polls.results(db, poll)).counts == (0, 1)


def insert_then_refuse(chat_id: int) -> Steps[None]:
    yield "UPDATE chats SET title = 'changed' WHERE id = ?", (chat_id,)
    raise DomainError("error.stale_button")


async def test_an_error_in_the_steps_rolls_back_what_they_wrote(db: Database) -> None:
    with pytest.raises(DomainError):
        await transaction(db, insert_then_refuse(GROUP))
    row = await db.fetchone("SELECT title FROM chats WHERE id = ?", (GROUP,))
    assert row is not None and row["title"] == "g"
    # the writer is usable: no transaction was left open
    await db.write_one("UPDATE chats SET title = 'next' WHERE id = ?", (GROUP,))
    row = await db.fetchone("SELECT title FROM chats WHERE id = ?", (GROUP,))
    assert row is not None and row["title"] == "next"


class StatementByStatement:
    """A backend with ``write()`` only (as PostgreSQL's): the same steps, one call each."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.path = db.path

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Any]:
        async with self.db.write() as conn:
            yield conn


async def test_the_same_steps_run_statement_by_statement_without_the_one_trip_path(
    db: Database,
) -> None:
    poll = await make_poll(db)
    other = StatementByStatement(db)
    vote = await polls.vote(other, poll.id, GROUP, BOB, 0, NOW)  # type: ignore[arg-type]
    assert vote.before == frozenset() and vote.after == {0}
    vote = await polls.vote(other, poll.id, GROUP, BOB, 1, NOW)  # type: ignore[arg-type]
    assert vote.before == {0} and vote.after == {1}
    assert (await polls.results(db, poll)).counts == (0, 1)
    with pytest.raises(DomainError):
        await transaction(other, insert_then_refuse(GROUP))
    row = await db.fetchone("SELECT title FROM chats WHERE id = ?", (GROUP,))
    assert row is not None and row["title"] == "g"
