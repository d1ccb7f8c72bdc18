"""Reports and notices on a real SQLite file: a state change is decided inside the write
transaction (two handlers at once: one wins), Me too one per household, the retention purge
deletes only settled reports and finished notices, and ids are never reused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import reports as rules
from bot.domain.errors import DomainError
from bot.domain.settings import ChatSettings
from storage import chats, privacy
from storage import notices as notices_store
from storage import reports as store
from storage.db import Database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
GROUP = -1001


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    await chats.ensure(
        database, GROUP, type="group", title="Maple", defaults=ChatSettings(), now=NOW
    )
    yield database
    await database.close()


async def report(db: Database, what: str = "Lift stuck") -> int:
    report_id, _ = await store.create(
        db,
        chat_id=GROUP,
        reporter_id=7,
        reporter_name="Bob",
        draft=rules.Draft(what, None, False),
        photo_id=None,
        now=NOW,
        ack_days=2,
    )
    return report_id


async def test_two_handlers_at_once_one_wins(db: Database) -> None:
    report_id = await report(db)

    async def press(by: int) -> str:
        try:
            await store.change(
                db,
                report_id,
                rules.FIXED,
                by_id=by,
                by_name=str(by),
                by_reporter=False,
                reason=None,
                now=NOW,
                ack_days=2,
            )
        except DomainError as exc:
            return exc.key
        return "ok"

    results = await asyncio.gather(press(1), press(2))
    assert sorted(results) == ["ok", "report.bad_change"]
    assert len(await store.history(db, report_id, limit=10)) == 1


async def test_me_too_one_per_household(db: Database) -> None:
    report_id = await report(db)
    mine = lambda r: "u1"  # noqa: E731 - the reporter's household
    assert (await store.add_me_too(db, report_id, 8, "u2", mine, NOW))[1] == "report.metoo_added"
    assert (await store.add_me_too(db, report_id, 9, "u2", mine, NOW))[1] == "report.metoo_already"
    assert (await store.add_me_too(db, report_id, 10, "u1", mine, NOW))[1] == "report.metoo_own"
    assert await store.me_too_count(db, report_id) == 1


async def test_retention_deletes_only_settled_reports_and_finished_notices(db: Database) -> None:
    settled, active = await report(db, "old, fixed"), await report(db, "old, open")
    await store.change(
        db,
        settled,
        rules.NOT_OURS,
        by_id=1,
        by_name="A",
        by_reporter=False,
        reason="the city",
        now=NOW,
        ack_days=2,
    )
    made = []
    for text, by in (("closed", None), ("standing", None), ("due", NOW + timedelta(days=1))):
        notice_id, _ = await notices_store.create(
            db, chat_id=GROUP, author_id=1, author_name="A", text=text, confirm_by=by, now=NOW
        )
        made.append(notice_id)
    done, ongoing, late = made
    await notices_store.close(db, done, NOW)
    counts = await privacy.purge_old(db, GROUP, NOW + timedelta(days=400))
    assert counts.get("reports") == 1 and counts.get("notices") == 2
    assert await store.get(db, settled) is None and await store.get(db, active) is not None
    assert await notices_store.get(db, ongoing) is not None
    assert await notices_store.get(db, late) is None and await notices_store.get(db, done) is None
    # ids are never given again, not even the highest after a delete
    await db.write_one("DELETE FROM reports WHERE id = ?", (active,))
    assert await report(db) == active + 1
