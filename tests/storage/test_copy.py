"""`courtyard copy`: a building's SQLite file, filled through the storage modules, moved into a
real PostgreSQL database (run with COURTYARD_TEST_PG=1 or COURTYARD_TEST_PG_URL): every row
there, counts and checksums equal, ids continuing above every id SQLite ever handed out, a used
or other-version target refused, a changed row found by the verification, the command line."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from bot.domain import events as event_rules
from bot.domain.settings import ChatSettings
from bot.lock import ProcessLock
from storage import chats, decisions, events, members, polls, proposals, scheduled, units
from storage import copy as moving
from storage.db import Database, migrations
from storage.pg import PgDatabase
from tests import pg

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
GROUP, OTHER = -1001, -1002
ALICE, BOB, CAROL = 1, 2, 3
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def one_run(backend: str) -> None:
    """The copy opens SQLite and PostgreSQL itself: one run, on real files and a real server."""
    if backend != "sqlite":
        pytest.skip("the copy reads SQLite and writes PostgreSQL itself: run once")
    if not pg.wanted():
        pytest.skip("PostgreSQL: set COURTYARD_TEST_PG=1 or COURTYARD_TEST_PG_URL")


async def _fill(path: Path) -> None:
    """A building with every kind of row, some deleted (SQLite's sqlite_sequence then runs
    ahead of the highest id left)."""
    db = await Database.open(path)
    try:
        for chat_id, title in ((GROUP, "Maple Court"), (OTHER, "楓葉苑")):
            await chats.ensure(
                db, chat_id, type="supergroup", title=title, defaults=ChatSettings(), now=NOW
            )
        for uid, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Кэрол")):
            await members.seen(db, GROUP, uid, name, NOW)
        for label, area in (
            ("1-01", Fraction(8950, 100)),
            ("1-02", Fraction(111)),
            ("1-03", Fraction(100)),
        ):
            await units.add(db, GROUP, label, area, NOW, by=ALICE)
        for n in range(4, 9):  # units 4..8, the last two deleted below
            await units.add(db, GROUP, f"2-0{n}", Fraction(60 + n), NOW)
        # polls: an open one with votes, an anonymous one (a key as a blob), one deleted
        poll, _ = await polls.create(
            db,
            chat_id=GROUP,
            creator_id=ALICE,
            question="Paint the hall?",
            options=["Green", "White", "Leave it"],
            multiple=False,
            anonymous=False,
            closes_at=NOW + timedelta(days=3),
            now=NOW,
        )
        await polls.vote(db, poll.id, GROUP, BOB, 1, NOW)
        await polls.vote(db, poll.id, GROUP, CAROL, 0, NOW + timedelta(seconds=3))
        secret_poll, _ = await polls.create(
            db,
            chat_id=GROUP,
            creator_id=BOB,
            question="Who walks dogs on the lawn?",
            options=["Me", "Not me"],
            multiple=True,
            anonymous=True,
            closes_at=None,
            now=NOW,
        )
        await polls.vote(db, secret_poll.id, GROUP, ALICE, 1, NOW)
        gone, _ = await polls.create(
            db,
            chat_id=GROUP,
            creator_id=BOB,
            question="Typo",
            options=["a", "b"],
            multiple=False,
            anonymous=False,
            closes_at=None,
            now=NOW,
        )
        # decisions: an open one with ballots (paper too), a secret one (sealed blobs)
        unit_rows = await db.fetchall("SELECT id, label FROM units ORDER BY id")
        homes = [(int(r["id"]), str(r["label"])) for r in unit_rows]
        for secret in (False, True):
            decision_id, _ = await decisions.create(
                db,
                chat_id=GROUP,
                title="Elevator" if not secret else "Caretaker",
                rule="cn-278-special",
                secret=secret,
                creator_id=ALICE,
                creator_name="Alice",
                closes_at=NOW + timedelta(days=14),
                now=NOW,
            )
            await decisions.cast(
                db, decision_id, homes[:2], "for", by_id=BOB, by_name="Bob", now=NOW
            )
            await decisions.cast(
                db,
                decision_id,
                homes[2:3],
                "against",
                by_id=ALICE,
                by_name="Alice",
                paper=True,
                note="ballot 7",
                now=NOW,
            )
        # an event with sign-ups and its reminder, a roster with a volunteer
        event_id, _ = await events.create(
            db,
            chat_id=GROUP,
            creator_id=ALICE,
            creator_name="Alice",
            title="Yard cleanup",
            place="Yard",
            starts_at=NOW + timedelta(days=3),
            ends_at=NOW + timedelta(days=3, hours=2),
            capacity=2,
            reminder_at=NOW + timedelta(days=2),
            now=NOW,
        )
        for uid, name in ((BOB, "Bob"), (CAROL, "Кэрол")):
            await events.apply(
                db, event_id, lambda e, s, u=uid, n=name: event_rules.join(e.capacity, s, u, n)
            )
        roster_id, _ = await events.create_roster(
            db,
            chat_id=GROUP,
            creator_id=ALICE,
            creator_name="Alice",
            title="Stairs",
            per_slot=2,
            slots=[(NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1), None)],
            now=NOW,
        )
        [slot] = await events.slots(db, roster_id)
        await events.take_slot(db, slot.id, BOB, "Bob", lambda s, per: True, NOW)
        # a proposal with support
        proposal_id, _ = await proposals.create(
            db,
            chat_id=GROUP,
            author_id=BOB,
            title="Lights in the bike shed",
            body="LED, on a timer",
            expires_at=NOW + timedelta(days=30),
            now=NOW,
        )
        await proposals.toggle_support(db, proposal_id, homes[:2], NOW)
        # scheduled rows: pending, and one deleted
        async with db.write() as conn:
            await scheduled.insert(
                conn, chat_id=GROUP, kind="test", ref_id=1, run_at=NOW + timedelta(hours=1), now=NOW
            )
            dropped = await scheduled.insert(
                conn, chat_id=GROUP, kind="test", ref_id=2, run_at=NOW + timedelta(hours=2), now=NOW
            )
            await conn.execute("DELETE FROM scheduled WHERE id = ?", (dropped,))
            await conn.execute("DELETE FROM polls WHERE id = ?", (gone.id,))
        await units.remove(db, GROUP, "2-08", now=NOW)
        await units.remove(db, GROUP, "2-07", now=NOW)
    finally:
        await db.close()


@pytest.fixture
async def building(tmp_path: Path) -> Path:
    path = tmp_path / "courtyard.sqlite3"
    await _fill(path)
    return path


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        names = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND name NOT LIKE 'items_fts%'"
            )
        ]
        return {n: int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}


def _remembered(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {str(n): int(s) for n, s in conn.execute("SELECT name, seq FROM sqlite_sequence")}


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _pg_rows(url: str, sql: str, *args: Any) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def test_every_row_is_copied_and_both_sides_agree(building: Path) -> None:
    before = _file_digest(building)
    counts = _counts(building)
    for table in (
        "polls",
        "poll_votes",
        "decisions",
        "decision_ballots",
        "decision_audit",
        "events",
        "event_signups",
        "roster_volunteers",
        "units",
        "proposals",
        "proposal_support",
        "scheduled",
        "members",
    ):
        assert counts[table] > 0, table  # the building has every kind of row
    url = await pg.new_database()
    constraints = "SELECT conname, pg_get_constraintdef(oid) AS d FROM pg_constraint ORDER BY 1, 2"
    before_keys = await _pg_rows(url, constraints)

    result = await moving.copy(building, url)

    assert result.ok
    assert await _pg_rows(url, constraints) == before_keys  # the foreign keys set aside are back
    checked = {c.name: c for c in result.checks}
    assert set(checked) == set(counts)
    assert checked["rate_limits"].note  # Telegram's budgets are not carried over
    del counts["rate_limits"]
    for name, rows in counts.items():
        check = checked[name]
        assert (check.source_rows, check.target_rows) == (rows, rows), name
        assert check.source_sum == check.target_sum and len(check.source_sum) == 64
    assert result.rows == sum(counts.values())
    # what is there on PostgreSQL is what the storage modules read back
    async with await PgDatabase.open(url) as there:
        [secret] = await there.fetchall(
            "SELECT sealed FROM decision_ballots WHERE sealed IS NOT NULL LIMIT 1"
        )
        assert isinstance(secret["sealed"], bytes) and secret["sealed"]
        names = [
            r["name"]
            for r in await there.fetchall("SELECT name FROM roster_volunteers ORDER BY rowid")
        ]
        assert names == ["Bob"]
        titles = {r["title"] for r in await there.fetchall("SELECT title FROM chats")}
        assert titles == {"Maple Court", "楓葉苑"}
    # a second look, later, with the same figures; the source never changed
    again = {c.name: c for c in await moving.verify(building, url)}
    assert all(c.ok for c in again.values())
    assert {n: c.target_sum for n, c in again.items()} == {
        n: c.target_sum for n, c in checked.items()
    }
    assert _file_digest(building) == before


async def test_a_new_row_on_postgresql_gets_an_id_above_every_id_ever_used(
    building: Path,
) -> None:
    remembered = _remembered(building)
    with sqlite3.connect(building) as conn:
        highest_unit = conn.execute("SELECT max(id) FROM units").fetchone()[0]
        highest_poll = conn.execute("SELECT max(id) FROM polls").fetchone()[0]
        highest_row = conn.execute("SELECT max(id) FROM scheduled").fetchone()[0]
    # the deleted rows' ids are remembered by SQLite only
    assert remembered["units"] > highest_unit
    assert remembered["polls"] > highest_poll
    assert remembered["scheduled"] > highest_row
    url = await pg.new_database()
    assert (await moving.copy(building, url)).ok

    async with await PgDatabase.open(url) as there:
        unit, created, _ = await units.add(there, GROUP, "9-99", Fraction(50), NOW)
        poll, _ = await polls.create(
            there,
            chat_id=GROUP,
            creator_id=ALICE,
            question="After the move?",
            options=["Yes", "No"],
            multiple=False,
            anonymous=False,
            closes_at=None,
            now=NOW,
        )
        async with there.write() as conn:
            row = await scheduled.insert(
                conn, chat_id=GROUP, kind="test", ref_id=3, run_at=NOW, now=NOW
            )
        [volunteer] = await there.fetchall("SELECT max(rowid) AS top FROM roster_volunteers")
    assert created and unit.id == remembered["units"] + 1
    assert poll.id == remembered["polls"] + 1
    assert row == remembered["scheduled"] + 1
    assert volunteer["top"] == 1


async def test_a_database_that_holds_rows_is_refused(building: Path) -> None:
    url = await pg.new_database()
    assert (await moving.copy(building, url)).ok
    before = await _pg_rows(url, "SELECT count(*) AS n FROM units")

    with pytest.raises(moving.CopyError, match=r"already holds rows \(in .*units"):
        await moving.copy(building, url)

    assert await _pg_rows(url, "SELECT count(*) AS n FROM units") == before
    # one row anywhere is enough
    fresh = await pg.new_database()
    async with await PgDatabase.open(fresh) as there:
        await chats.ensure(there, -5, type="group", title="x", defaults=ChatSettings(), now=NOW)
    with pytest.raises(moving.CopyError, match=r"already holds rows \(in chats\)"):
        await moving.copy(building, fresh)


async def test_a_database_at_another_version_is_refused(building: Path) -> None:
    empty = await pg.new_database(migrated=False)
    with pytest.raises(moving.CopyError, match=r"is not migrated.*courtyard migrate"):
        await moving.copy(building, empty)

    older = await pg.new_database()
    async with await PgDatabase.open(older) as there, there.write() as conn:
        await conn.execute("DELETE FROM courtyard_schema WHERE version = ?", (len(migrations()),))
    with pytest.raises(
        moving.CopyError, match=f"has schema version {len(migrations()) - 1}, this Courtyard's"
    ):
        await moving.copy(building, older)
    assert await _pg_rows(older, "SELECT 1 FROM chats") == []


async def test_a_source_at_another_version_is_refused(building: Path, tmp_path: Path) -> None:
    behind = tmp_path / "behind.sqlite3"
    with sqlite3.connect(building) as here, sqlite3.connect(behind) as there:
        here.backup(there)
        there.execute(f"PRAGMA user_version = {len(migrations()) - 1}")
    url = await pg.new_database()
    with pytest.raises(
        moving.CopyError, match=r"bring it up to date first with .*courtyard migrate"
    ):
        await moving.copy(behind, url)
    with pytest.raises(moving.CopyError, match="there is no SQLite database"):
        await moving.copy(tmp_path / "missing.sqlite3", url)


async def test_a_row_changed_after_the_copy_is_found(building: Path) -> None:
    url = await pg.new_database()
    assert (await moving.copy(building, url)).ok
    async with await PgDatabase.open(url) as there, there.write() as conn:
        await conn.execute("UPDATE polls SET question = 'Paint the hall!' WHERE id = 1")
        await conn.execute("DELETE FROM event_signups WHERE user_id = ?", (CAROL,))
        await conn.execute(
            "UPDATE decision_ballots SET sealed = ? WHERE sealed IS NOT NULL", (b"\x00" * 8,)
        )

    checks = {c.name: c for c in await moving.verify(building, url)}

    wrong = sorted(n for n, c in checks.items() if not c.ok)
    assert wrong == ["decision_ballots", "event_signups", "polls"]
    assert checks["polls"].source_rows == checks["polls"].target_rows  # same count, other sum
    assert checks["event_signups"].target_rows == checks["event_signups"].source_rows - 1
    table = moving.report(list(checks.values()))
    assert table.count("DIFFERENT") == 3


def test_values_of_each_kind_give_different_checksums() -> None:
    def digest(*row: object) -> str:
        h = hashlib.sha256()
        moving.digest_row(h, row)
        return h.hexdigest()

    kinds = [(1,), (1.0,), ("1",), (b"1",), (None,), ("",), (b"",)]
    assert len({digest(*row) for row in kinds}) == len(kinds)
    assert digest(True) == digest(1) and digest(False) == digest(0)
    assert digest("ab", "c") != digest("a", "bc")  # values never run together
    assert digest(memoryview(b"\x01\x02")) == digest(b"\x01\x02")


def _courtyard(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURTYARD_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def cli_target() -> Iterator[str]:
    import asyncio

    yield asyncio.run(pg.new_database())


def test_the_command_line(building: Path, cli_target: str) -> None:
    lock = ProcessLock(building, "run").acquire()  # a bot runs on the file
    try:
        refused = _courtyard("copy", "--from", str(building), "--to", cli_target)
    finally:
        lock.release()
    assert refused.returncode == 1
    assert "is in use by `courtyard run`" in refused.stderr and "Stop the bot" in refused.stderr

    done = _courtyard("copy", "--from", str(building), "--to", cli_target)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[0] == "table"
    assert any(line.split()[0] == "units" and line.rstrip().endswith("ok") for line in lines)
    assert "DIFFERENT" not in done.stdout
    assert f"{building}.keys" in done.stdout  # the operator moves the keys folder
    again = _courtyard("copy", "--from", str(building), "--to", cli_target)
    assert again.returncode == 1 and "already holds rows" in again.stderr
    wrong = _courtyard("copy", "--from", str(building), "--to", str(building))
    assert wrong.returncode == 2 and "postgresql:// URL" in wrong.stderr


async def test_a_source_whose_foreign_keys_do_not_hold_is_refused(
    building: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.sqlite3"
    with sqlite3.connect(building) as here, sqlite3.connect(broken) as there:
        here.backup(there)
    with sqlite3.connect(broken) as conn:  # a vote of a poll that is not there
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(
            "INSERT INTO poll_votes (poll_id, chat_id, voter, user_id, choices, voted_at)"
            " VALUES (999, ?, '7', 7, 1, '2026-12-02T09:00:00')",
            (GROUP,),
        )
    url = await pg.new_database()

    with pytest.raises(moving.CopyError, match="the table poll_votes point at rows that are not"):
        await moving.copy(broken, url)

    assert await _pg_rows(url, "SELECT 1 FROM chats") == []  # nothing kept
    keys = await _pg_rows(url, "SELECT count(*) AS n FROM pg_constraint WHERE contype = 'f'")
    assert keys[0]["n"] > 40  # and the foreign keys are all still there


async def test_rows_are_compared_in_byte_order_whatever_the_databases_collation(
    building: Path,
) -> None:
    """Keys of text in an order where a language's collation and bytes disagree ('B' < 'a' <
    'é' in bytes, not in English): the checksums still match on a database whose default
    collation is English."""
    with sqlite3.connect(building) as conn:
        poll = conn.execute("SELECT min(id) FROM polls").fetchone()[0]
        conn.executemany(
            "INSERT INTO poll_votes (poll_id, chat_id, voter, user_id, choices) VALUES (?, ?, ?,"
            " NULL, 1)",
            [(poll, GROUP, voter) for voter in ("a", "B", "é", "_z", "Z", "ä")],
        )
    name = f"courtyard_en_{os.getpid()}"
    await pg._admin(
        f'DROP DATABASE IF EXISTS "{name}"',
        f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        " LOCALE 'C.UTF-8'",
    )
    url = pg.database_url(name)
    async with await PgDatabase.open(url) as there:
        english = await there.fetchall(
            "SELECT voter FROM poll_votes WHERE poll_id = ? ORDER BY voter", (poll,)
        )
    assert english == []  # migrated, empty

    result = await moving.copy(building, url)

    assert result.ok
    async with await PgDatabase.open(url) as there:
        rows = await there.fetchall(
            "SELECT voter FROM poll_votes WHERE poll_id = ? AND user_id IS NULL ORDER BY voter",
            (poll,),
        )
    # the database's own order is not the bytes' order (so the comparison had to choose)
    assert [r["voter"] for r in rows] != sorted(r["voter"] for r in rows)


async def test_a_user_who_may_not_alter_the_tables_copies_with_the_foreign_keys_in_place(
    building: Path,
) -> None:
    url = await pg.new_database()
    name = url.rsplit("/", 1)[1]
    role = f"copier_{name}"  # one per database: its grants are there
    await pg._admin(f'CREATE ROLE "{role}" LOGIN')
    import asyncpg

    owner = await asyncpg.connect(url)
    try:
        await owner.execute(
            f'GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO "{role}";'
            f' GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO "{role}"'
        )
    finally:
        await owner.close()
    parts = pg.database_url(name).split("://", 1)[1].split("@", 1)[1]
    as_copier = f"postgresql://{role}@{parts}"

    result = await moving.copy(building, as_copier)

    assert result.ok and result.rows == sum(
        n for t, n in _counts(building).items() if t not in moving.NOT_COPIED
    )
    async with await PgDatabase.open(url) as there:
        unit, _, _ = await units.add(there, GROUP, "9-98", Fraction(40), NOW)
    assert unit.id == _remembered(building)["units"] + 1
