"""PostgreSQL's own side of the storage (run with COURTYARD_TEST_PG=1 or COURTYARD_TEST_PG_URL):
the version table, a newer schema refused, `courtyard migrate` on a URL, one writer at a time
across two processes' databases, SQLite's SQL as PostgreSQL runs it."""

from __future__ import annotations

import asyncio

import pytest

from bot.__main__ import cmd_migrate
from storage.db import DatabaseError, migrations
from storage.pg import PgDatabase, translate
from tests import pg


@pytest.fixture(autouse=True)
def postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL's own side")


def test_sqlite_statements_become_postgresql_ones() -> None:
    assert translate("SELECT a FROM t WHERE b = ? AND c LIKE 'x?%'").sql == (
        "SELECT a FROM t WHERE b = $1 AND c ILIKE 'x?%'"
    )
    assert translate("INSERT OR IGNORE INTO t (a) VALUES (?)").sql == (
        "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING"
    )
    assert translate("SELECT 1 FROM m WHERE s IS NOT 'left' AND n IS NULL").sql == (
        "SELECT 1 FROM m WHERE s IS DISTINCT FROM 'left' AND n IS NULL"
    )


async def test_a_new_database_gets_the_baseline_and_its_version() -> None:
    url = await pg.new_database(migrated=False)
    async with await PgDatabase.open(url) as db:
        assert await db.schema_version() == len(migrations())
        assert {"chats", "members", "polls", "decisions", "items"} <= set(await db.tables())
        assert await db.migrate() == []  # a second run changes nothing


async def test_a_newer_schema_is_refused() -> None:
    url = await pg.new_database()
    async with await PgDatabase.open(url) as db, db.write() as conn:
        await conn.execute(
            "INSERT INTO courtyard_schema (version, name) VALUES (?, 'future')",
            (len(migrations()) + 1,),
        )
    with pytest.raises(DatabaseError, match="newer than this Courtyard knows"):
        await PgDatabase.open(url)


def test_courtyard_migrate_takes_a_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = asyncio.run(pg.new_database(migrated=False))
    monkeypatch.setenv("COURTYARD_DB", url)
    assert cmd_migrate() == 0
    assert "0024_baseline.sql" in capsys.readouterr().out
    assert cmd_migrate() == 0
    assert "already up to date" in capsys.readouterr().out


async def test_writers_of_two_databases_on_one_server_take_turns() -> None:
    """Two workers' databases (two connections): a read-then-write in each never interleaves,
    as BEGIN IMMEDIATE promises on SQLite."""
    url = await pg.new_database()
    first, second = await PgDatabase.open(url), await PgDatabase.open(url)
    try:
        async with first.write() as conn:
            await conn.execute(
                "INSERT INTO chats (id, type, title, language, timezone, joined_at)"
                " VALUES (1, 'group', 'x', 'en', 'UTC', 'now')"
            )

        async def bump(db: PgDatabase) -> None:
            async with db.write() as conn:
                row = await (await conn.execute("SELECT title FROM chats WHERE id = 1")).fetchone()
                await asyncio.sleep(0.01)  # another writer would read the same value here
                await conn.execute("UPDATE chats SET title = ? WHERE id = 1", (row["title"] + "+",))

        await asyncio.gather(*(bump(db) for _ in range(10) for db in (first, second)))
        row = await first.fetchone("SELECT title FROM chats WHERE id = 1")
        assert row is not None and row["title"] == "x" + "+" * 20
    finally:
        await first.close()
        await second.close()


async def test_a_constraint_is_sqlites_integrity_error() -> None:
    import sqlite3

    url = await pg.new_database()
    async with await PgDatabase.open(url) as db:
        with pytest.raises(sqlite3.IntegrityError):
            async with db.write() as conn:
                await conn.execute(
                    "INSERT INTO chats (id, type, title, language, timezone, joined_at)"
                    " VALUES (1, 'nope', 'x', 'en', 'UTC', 'n')"
                )
