"""Migration 0015: decisions and polls closed before it count as announced (the version that
closed them posted their outcome); a close after it is unannounced until its post is delivered."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from storage import decisions, polls
from storage.db import Database, migrations, split_statements

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_rows_closed_before_the_migration_are_not_announced_again(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    known = migrations()
    before = next(m.version for m in known if m.name.startswith("0015")) - 1
    with sqlite3.connect(path) as raw:
        for migration in known[:before]:
            for statement in split_statements(migration.sql):
                raw.execute(statement)
        raw.execute(f"PRAGMA user_version = {before}")
        raw.execute(
            "INSERT INTO chats (id, type, title, language, timezone, settings, joined_at)"
            " VALUES (-5, 'group', 'Old', 'en', 'UTC', '{}', '2026-01-01T00:00:00Z')"
        )
        for status, closed in (("closed", "'2026-01-03T00:00:00Z'"), ("open", "NULL")):
            raw.execute(
                "INSERT INTO decisions (chat_id, title, rule, secret, creator_id, creator_name,"
                " created_at, closes_at, status, closed_at) VALUES (-5, 'Old', 'majority', 0, 1,"
                " 'Alice',"
                f" '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', '{status}', {closed})"
            )
            raw.execute(
                "INSERT INTO polls (chat_id, creator_id, question, options, created_at, status,"
                f" closed_at) VALUES (-5, 1, 'Old?', '[\"a\",\"b\"]', '2026-01-01T00:00:00Z',"
                f" '{status}', {closed})"
            )
    db = await Database.open(path)
    try:
        assert await decisions.unannounced(db) == []
        assert await polls.unannounced(db) == []
        # the open ones, once closed, wait for their post
        for table in ("decisions", "polls"):
            await db.write_one(
                f"UPDATE {table} SET status = 'closed', closed_at = '2026-03-01' WHERE id = 2"
            )
        assert await decisions.unannounced(db) == [2]
        assert await polls.unannounced(db) == [2]
        await decisions.announced(db, 2, NOW)
        await polls.announced(db, 2, NOW)
        assert await decisions.unannounced(db) == [] and await polls.unannounced(db) == []
        # a group the bot left is not posted to
        await db.write_one("UPDATE decisions SET announced_at = NULL WHERE id = 2")
        await db.write_one("UPDATE chats SET active = 0 WHERE id = -5")
        assert await decisions.unannounced(db) == []
    finally:
        await db.close()
