"""Privacy on disk: rows deleted for privacy (an anonymous poll's voter keys, a secret
ballot's choices) are overwritten (``secure_delete``) and leave no copy in the write-ahead log
once the database is scrubbed — someone with the file cannot recover who voted what."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.domain.settings import ChatSettings
from storage import chats, polls
from storage.db import Database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GROUP = -1001


def raw_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


async def test_anonymous_voter_keys_leave_no_trace_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "courtyard.sqlite3"
    db = await Database.open(path)
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
        secret_row = await db.fetchone("SELECT * FROM polls WHERE id = ?", (poll.id,))
        assert secret_row is not None
        await db.scrub()  # as an automatic checkpoint would: the keys are in the main file now
        before = path.read_bytes()
        assert all(k.encode() in before for k in keys)  # the check below can find them

        assert await polls.close(db, poll.id, NOW, None) is not None
        await db.scrub()
        after = raw_bytes(path)
        found = [k for k in keys if k.encode() in after]
        assert found == [], f"{len(found)} voter keys still readable in the file"
        final = await polls.results(db, (await polls.get(db, poll.id)))  # type: ignore[arg-type]
        assert final.counts == (20, 20)
    finally:
        await db.close()


async def test_scrub_truncates_the_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "courtyard.sqlite3"
    db = await Database.open(path)
    try:
        await chats.ensure(db, GROUP, type="group", title="g", defaults=ChatSettings(), now=NOW)
        wal = path.with_name(path.name + "-wal")
        assert wal.exists() and wal.stat().st_size > 0
        await db.scrub()
        assert wal.stat().st_size == 0
        row = await db.fetchone("PRAGMA secure_delete")
        # on (SQLite builds differ in the default; Database sets it on every connection)
        assert row is not None and row[0] == 1
    finally:
        await db.close()
