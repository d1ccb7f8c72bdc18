"""Ids are forever: an id that reached a card, button data, an export or a calendar UID is never
given to anything else — after a delete, after /purge, after the migration that introduced
AUTOINCREMENT (from a database of the release before), and after a restore of an older backup."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.settings import ChatSettings
from storage import backup, chats
from storage.db import Database, migrations, split_statements

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
GROUP = -1001
STAMP = "2026-12-02T09:00:00"

#: Tables whose integer key is not an id we hand out: Telegram's own chat ids, the old id of a
#: migrated chat, Telegram's update ids, and SQLite's own FTS5 shadow tables.
NOT_OURS = {"chats", "chat_migrations", "updates_seen", "items_fts_data", "items_fts_docsize"}


def _rowid_tables(conn: sqlite3.Connection) -> dict[str, str]:
    """Every table with a single ``INTEGER PRIMARY KEY`` (an alias of the rowid) -> its SQL."""
    found = {}
    for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL"
    ):
        if re.search(r"\bINTEGER\s+PRIMARY\s+KEY\b", sql, re.IGNORECASE) and name not in NOT_OURS:
            found[name] = sql
    return found


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    await chats.ensure(
        database, GROUP, type="group", title="Maple", defaults=ChatSettings(), now=NOW
    )
    yield database
    await database.close()


async def test_every_table_of_ours_never_reuses_an_id(db: Database) -> None:
    with sqlite3.connect(db.path) as conn:
        tables = _rowid_tables(conn)
    # the schema guard: a new table with a reusable key fails here, whoever adds it
    assert len(tables) >= 17
    reusable = [name for name, sql in tables.items() if "AUTOINCREMENT" not in sql.upper()]
    assert reusable == []


async def test_a_deleted_units_id_is_not_given_to_the_next_unit(db: Database) -> None:
    async with db.write() as conn:
        for label in ("1-01", "1-02", "1-03"):
            await conn.execute(
                "INSERT INTO units (chat_id, label, created_at) VALUES (?, ?, ?)",
                (GROUP, label, STAMP),
            )
        await conn.execute("DELETE FROM units WHERE label = '1-03'")
        cursor = await conn.execute(
            "INSERT INTO units (chat_id, label, created_at) VALUES (?, '1-04', ?)", (GROUP, STAMP)
        )
        new_id = cursor.lastrowid
    assert new_id == 4  # 3 was shown once; it is never handed out again


async def test_purge_keeps_the_sequence(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO polls (chat_id, creator_id, question, options, created_at) "
            "VALUES (?, 1, 'Gate?', '[\"a\",\"b\"]', ?)",
            (GROUP, STAMP),
        )
        await conn.execute("DELETE FROM polls")
        cursor = await conn.execute(
            "INSERT INTO polls (chat_id, creator_id, question, options, created_at) "
            "VALUES (?, 1, 'Bins?', '[\"a\",\"b\"]', ?)",
            (GROUP, STAMP),
        )
        assert cursor.lastrowid == 2


def _release_before(path: Path) -> None:
    """A database as the release before wrote it: migrations 1-8, with rows in it."""
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for migration in migrations()[:8]:
            conn.execute("BEGIN")
            for statement in split_statements(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {migration.version}")
            conn.execute("COMMIT")
        conn.executescript(
            f"""
            INSERT INTO chats (id, type, title, language, timezone, joined_at)
                VALUES ({GROUP}, 'group', 'Maple', 'en', 'UTC', '{STAMP}');
            INSERT INTO units (id, chat_id, label, area_num, area_den, created_at) VALUES
                (1, {GROUP}, '1-01', 80, 1, '{STAMP}'), (2, {GROUP}, '1-02', 60, 1, '{STAMP}');
            INSERT INTO unit_members (unit_id, chat_id, user_id, status, requested_at)
                VALUES (1, {GROUP}, 7, 'approved', '{STAMP}');
            INSERT INTO decisions (id, chat_id, title, rule, creator_id, creator_name,
                created_at, closes_at) VALUES (1, {GROUP}, 'Lift', 'majority', 1, 'Alice',
                '{STAMP}', '{STAMP}');
            -- unit 3 voted and was removed: its ballot stays, and remembers the id
            INSERT INTO decision_ballots (decision_id, chat_id, unit_id, label, choice, by_id,
                by_name, cast_at) VALUES (1, {GROUP}, 3, '1-03', 'for', 9, 'Dan', '{STAMP}');
            INSERT INTO items (id, chat_id, kind, mode, owner_id, owner_name, title, search,
                created_at) VALUES (5, {GROUP}, 'offer', 'lend', 7, 'Bob', 'Drill',
                'drill for walls', '{STAMP}');
            INSERT INTO polls (id, chat_id, creator_id, question, options, created_at)
                VALUES (4, {GROUP}, 1, 'Gate?', '["a","b"]', '{STAMP}');
            INSERT INTO poll_votes (poll_id, chat_id, voter, user_id, choices)
                VALUES (4, {GROUP}, '7', 7, 1);
            -- poll 6 was deleted; its closing row is still remembered
            INSERT INTO scheduled (chat_id, kind, ref_id, run_at, due_at, status, created_at)
                VALUES ({GROUP}, 'poll_close', 6, '{STAMP}', '{STAMP}', 'cancelled', '{STAMP}');
            """
        )


async def test_the_release_before_migrates_with_every_row_and_above_every_remembered_id(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    _release_before(path)
    async with await Database.open(path) as db:
        assert await db.schema_version() == len(migrations())
        # nothing cascaded away while the tables were rebuilt
        for table, expected in (
            ("units", 2),
            ("unit_members", 1),
            ("decision_ballots", 1),
            ("poll_votes", 1),
            ("items", 1),
            ("scheduled", 1),
        ):
            row = await db.fetchone(f"SELECT count(*) FROM {table}")
            assert row is not None and row[0] == expected, table
        # the search index still finds the listing by part of a word
        found = await db.fetchall("SELECT rowid FROM items_fts WHERE items_fts MATCH ?", ('"ril"',))
        assert [r[0] for r in found] == [5]
        async with db.write() as conn:
            unit = await conn.execute(
                "INSERT INTO units (chat_id, label, created_at) VALUES (?, '1-04', ?)",
                (GROUP, STAMP),
            )
            poll = await conn.execute(
                "INSERT INTO polls (chat_id, creator_id, question, options, created_at) "
                "VALUES (?, 1, 'Bins?', '[\"a\",\"b\"]', ?)",
                (GROUP, STAMP),
            )
            item = await conn.execute(
                "INSERT INTO items (chat_id, kind, mode, owner_id, owner_name, title, search, "
                "created_at) VALUES (?, 'need', NULL, 8, 'Carol', 'Ladder', 'ladder', ?)",
                (GROUP, STAMP),
            )
        # 3 is on a ballot, 6 on a scheduled row: both were shown, neither comes back
        assert unit.lastrowid == 4
        assert poll.lastrowid == 7
        assert item.lastrowid == 6
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            assert conn.execute("PRAGMA foreign_keys").fetchone() == (0,)  # a new connection
        row = await db.fetchone("PRAGMA foreign_keys")
        assert row is not None and row[0] == 1  # ours are back on after the rebuild


async def test_restoring_an_older_backup_never_hands_out_an_id_shown_since(
    tmp_path: Path,
) -> None:
    path = tmp_path / "courtyard.sqlite3"
    backups = tmp_path / "backups"
    async with await Database.open(path) as db:
        await chats.ensure(db, GROUP, type="group", title="Maple", defaults=ChatSettings(), now=NOW)
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO events (chat_id, creator_id, creator_name, title, starts_at, "
                "created_at) VALUES (?, 1, 'Alice', 'Cleanup', ?, ?)",
                (GROUP, STAMP, STAMP),
            )
    taken = backup.backup(path, backups, keep=3, now=NOW)
    async with await Database.open(path) as db, db.write() as conn:
        for title in ("Concert", "Picnic"):  # ids 2 and 3 reach the group (and calendars)
            await conn.execute(
                "INSERT INTO events (chat_id, creator_id, creator_name, title, starts_at, "
                "created_at) VALUES (?, 1, 'Alice', ?, ?, ?)",
                (GROUP, title, STAMP, STAMP),
            )
    backup.restore(taken.path, path, known_version=len(migrations()), now=NOW)
    async with await Database.open(path) as db:
        titles = await db.fetchall("SELECT title FROM events")
        assert [r[0] for r in titles] == ["Cleanup"]
        async with db.write() as conn:
            cursor = await conn.execute(
                "INSERT INTO events (chat_id, creator_id, creator_name, title, starts_at, "
                "created_at) VALUES (?, 1, 'Alice', 'Market', ?, ?)",
                (GROUP, STAMP, STAMP),
            )
        assert cursor.lastrowid == 4
