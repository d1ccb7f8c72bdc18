"""Privacy on disk, PostgreSQL: a closed secret vote's sealed ballots and an anonymous poll's
voter keys are deleted, then the tables are vacuumed (``PgDatabase.scrub``), so no dead row
version in the table's pages still holds them. The pages are read as they are on disk, dead
tuples included, with the ``pageinspect`` extension (shipped with PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.settings import ChatSettings
from storage import chats, polls
from storage.db import Database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GROUP = -1001


@pytest.fixture(autouse=True)
def _postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL only (test_scrub.py reads the SQLite file)")


async def page_bytes(db: object, table: str) -> bytes:
    """Every tuple's bytes in every page of ``table``, dead versions included."""
    import asyncpg

    conn = await asyncpg.connect(db.url)  # type: ignore[attr-defined]
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        await conn.execute("CHECKPOINT")  # what is in shared buffers is on disk too
        pages = await conn.fetchval(
            "SELECT pg_relation_size($1::regclass) / current_setting('block_size')::int", table
        )
        chunks: list[bytes] = []
        for page in range(int(pages)):
            rows = await conn.fetch(
                "SELECT t_data FROM heap_page_items(get_raw_page($1, $2::int))"
                " WHERE t_data IS NOT NULL",
                table,
                page,
            )
            chunks.extend(bytes(r["t_data"]) for r in rows)
        return b"".join(chunks)
    finally:
        await conn.close()


async def test_anonymous_voter_keys_leave_no_dead_row_behind(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = await Database.open(tmp_path / "courtyard.sqlite3")
    try:
        await chats.ensure(db, GROUP, type="group", title="g", defaults=ChatSettings(), now=NOW)
        poll, _ = await polls.create(
            db,
            chat_id=GROUP,
            creator_id=1,
            question="Secret lunch?",
            options=["Pizza", "Sushi"],
            multiple=False,
            anonymous=True,
            closes_at=None,
            now=NOW,
        )
        for user in range(100, 140):
            await polls.vote(db, poll.id, GROUP, user, user % 2, NOW)
        rows = await db.fetchall("SELECT voter FROM poll_votes WHERE poll_id = ?", (poll.id,))
        keys = [str(r["voter"]) for r in rows]
        assert len(keys) == 40 and all(len(k) >= 16 for k in keys)
        before = await page_bytes(db, "poll_votes")
        assert all(k.encode() in before for k in keys)  # the check below can find them

        assert await polls.close(db, poll.id, NOW, None) is not None
        dead = await page_bytes(db, "poll_votes")
        assert any(k.encode() in dead for k in keys)  # deleted, but still in the pages
        await db.scrub()
        after = await page_bytes(db, "poll_votes")
        found = [k for k in keys if k.encode() in after]
        assert found == [], f"{len(found)} voter keys still in the pages of poll_votes"
        final = await polls.results(db, (await polls.get(db, poll.id)))  # type: ignore[arg-type]
        assert final.counts == (20, 20)
    finally:
        await db.close()
