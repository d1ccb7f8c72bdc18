"""The scheduled table and the generic scheduler on a real SQLite file: claims are atomic,
nothing fires twice, late rows follow the grace policy, recurrences continue, crashes recover."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.settings import ChatSettings
from bot.scheduler import Scheduler
from storage import chats, scheduled
from storage.db import Database
from storage.scheduled import Scheduled

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CHAT = -1001


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "s.sqlite3")
    await chats.ensure(database, CHAT, type="group", title="A", defaults=ChatSettings(), now=T0)
    yield database
    await database.close()


async def add(db: Database, run_at: datetime, kind: str = "test") -> int:
    async with db.write() as conn:
        return await scheduled.insert(
            conn, chat_id=CHAT, kind=kind, ref_id=7, run_at=run_at, now=T0
        )


def make(db: Database, clock: Clock, **options) -> tuple[Scheduler, list[tuple[int, timedelta]]]:
    ran: list[tuple[int, timedelta]] = []
    sched = Scheduler(db, None, clock, **options)

    async def run(row: Scheduled, late_by: timedelta) -> None:
        ran.append((row.id, late_by))

    sched.register("test", run=run)
    return sched, ran


async def test_fires_once_even_when_fired_concurrently(db: Database) -> None:
    clock = Clock(T0)
    sched, ran = make(db, clock)
    row = await add(db, T0 - timedelta(seconds=1))
    results = await asyncio.gather(*(sched.fire(row) for _ in range(20)))
    assert results.count("done") == 1 and results.count("skipped") == 19
    assert len(ran) == 1
    assert (await scheduled.get(db, row)).status == "done"
    assert await sched.fire(row) == "skipped"  # and never again


async def test_not_due_yet_is_skipped(db: Database) -> None:
    clock = Clock(T0)
    sched, ran = make(db, clock)
    row = await add(db, T0 + timedelta(minutes=5))
    assert await sched.fire(row) == "skipped" and ran == []
    clock.now = T0 + timedelta(minutes=5)
    assert await sched.fire(row) == "done"


async def test_late_within_grace_is_delivered_with_its_lateness(db: Database) -> None:
    clock = Clock(T0 + timedelta(minutes=30))
    sched, ran = make(db, clock, grace=timedelta(hours=2))
    row = await add(db, T0)
    assert await sched.fire(row) == "done"
    assert ran == [(row, timedelta(minutes=30))]


async def test_beyond_grace_is_missed_and_reported(db: Database) -> None:
    clock = Clock(T0 + timedelta(hours=3))
    sched, ran = make(db, clock, grace=timedelta(hours=2))
    told: list[int] = []

    async def missed(row: Scheduled, late_by: timedelta) -> None:
        told.append(row.id)

    sched.register("test", run=sched._kinds["test"].run, missed=missed)
    row = await add(db, T0)
    assert await sched.fire(row) == "missed"
    assert ran == [] and told == [row]
    assert (await scheduled.get(db, row)).status == "missed"


async def test_failures_retry_within_grace_then_count_as_missed(db: Database) -> None:
    clock = Clock(T0)
    sched = Scheduler(db, None, clock, grace=timedelta(minutes=5), retry_delay=timedelta(minutes=1))
    calls = 0
    told: list[timedelta] = []

    async def flaky(row: Scheduled, late_by: timedelta) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("telegram is down")

    async def missed(row: Scheduled, late_by: timedelta) -> None:
        told.append(late_by)

    sched.register("test", run=flaky, missed=missed)
    row = await add(db, T0)
    assert await sched.fire(row) == "retry"
    stored = await scheduled.get(db, row)
    assert stored.status == "pending" and stored.run_at == T0 + timedelta(minutes=1)
    assert stored.due_at == T0  # the original due time is kept
    clock.now = T0 + timedelta(minutes=1)
    assert await sched.fire(row) == "retry"  # next try at +3 min
    clock.now = T0 + timedelta(minutes=3)
    assert await sched.fire(row) == "missed"  # +6 min would be past the grace: the author is told
    assert calls == 3 and told == [timedelta(minutes=3)]
    assert (await scheduled.get(db, row)).status == "missed"


async def test_lateness_counts_from_the_original_due_time(db: Database) -> None:
    clock = Clock(T0)
    sched = Scheduler(db, None, clock, retry_delay=timedelta(minutes=1))
    seen: list[timedelta] = []
    fail = True

    async def run(row: Scheduled, late_by: timedelta) -> None:
        nonlocal fail
        seen.append(late_by)
        if fail:
            fail = False
            raise RuntimeError("once")

    sched.register("test", run=run)
    row = await add(db, T0)
    await sched.fire(row)
    clock.now = T0 + timedelta(minutes=1)
    assert await sched.fire(row) == "done"
    assert seen == [timedelta(0), timedelta(minutes=1)]


async def test_recurring_rows_insert_their_next_occurrence_atomically(db: Database) -> None:
    clock = Clock(T0)
    sched, ran = make(db, clock)

    async def weekly(row: Scheduled, after: datetime) -> datetime | None:
        return row.run_at + timedelta(days=7)

    sched.register("test", run=sched._kinds["test"].run, next_run=weekly)
    row = await add(db, T0)
    assert await sched.fire(row) == "done" and len(ran) == 1
    following = await scheduled.due_before(db, T0 + timedelta(days=30))
    assert [r.run_at for r in following] == [T0 + timedelta(days=7)]
    assert following[0].kind == "test" and following[0].ref_id == 7


async def test_a_crash_mid_send_fires_again_after_restart(db: Database) -> None:
    clock = Clock(T0)
    row = await add(db, T0)
    claimed = await scheduled.claim(db, row, T0)  # claimed, then the process died
    assert claimed is not None and claimed.status == "running"
    sched, ran = make(db, clock)
    await sched.start()  # recovers 'running' rows
    assert (await scheduled.get(db, row)).status == "pending"
    assert await sched.fire(row) == "done" and len(ran) == 1


async def test_unknown_kind_fails_cleanly(db: Database) -> None:
    clock = Clock(T0)
    sched, _ = make(db, clock)
    row = await add(db, T0, kind="nobody")
    assert await sched.fire(row) == "failed"


async def test_cancelled_rows_never_fire(db: Database) -> None:
    clock = Clock(T0)
    sched, ran = make(db, clock)
    row = await add(db, T0)
    async with db.write() as conn:
        ids = await scheduled.set_status_for(conn, "test", 7, "cancelled", only=("pending",))
    assert ids == [row]
    assert await sched.fire(row) == "skipped" and ran == []


def test_refill_must_be_shorter_than_the_horizon(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Scheduler(None, None, Clock(T0), horizon=timedelta(minutes=5), refill=timedelta(minutes=5))  # type: ignore[arg-type]


async def test_a_chain_never_gets_two_pending_rows(db: Database) -> None:
    """Rescheduled while firing (e.g. the digest time changed): the reschedule's row stays the
    only successor."""
    clock = Clock(T0)
    sched = Scheduler(db, None, clock)

    async def run(row: Scheduled, late_by: timedelta) -> None:
        async with db.write() as conn:  # what a reschedule does meanwhile
            await scheduled.insert(
                conn, chat_id=CHAT, kind="test", ref_id=7, run_at=T0 + timedelta(days=3), now=T0
            )

    async def weekly(row: Scheduled, after: datetime) -> datetime | None:
        return row.due_at + timedelta(days=7)

    sched.register("test", run=run, next_run=weekly)
    row = await add(db, T0)
    assert await sched.fire(row) == "done"
    pending = await scheduled.due_before(db, T0 + timedelta(days=30))
    assert [r.run_at for r in pending] == [T0 + timedelta(days=3)]


async def test_a_row_paused_while_firing_gets_no_successor(db: Database) -> None:
    clock = Clock(T0)
    sched = Scheduler(db, None, clock)

    async def run(row: Scheduled, late_by: timedelta) -> None:
        async with db.write() as conn:  # Pause pressed while the message was going out
            await scheduled.set_status_for(conn, "test", 7, "paused", only=("pending", "running"))

    async def weekly(row: Scheduled, after: datetime) -> datetime | None:
        return row.due_at + timedelta(days=7)

    sched.register("test", run=run, next_run=weekly)
    row = await add(db, T0)
    assert await sched.fire(row) == "done"
    assert (await scheduled.get(db, row)).status == "paused"  # Resume will find it
    assert await scheduled.due_before(db, T0 + timedelta(days=30)) == []


async def test_a_chat_that_became_a_supergroup_while_firing_keeps_its_chain(db: Database) -> None:
    new_id = -1009999
    clock = Clock(T0)
    sched = Scheduler(db, None, clock)

    async def run(row: Scheduled, late_by: timedelta) -> None:
        await chats.migrate(db, CHAT, new_id, T0)  # discovered by this very send

    async def weekly(row: Scheduled, after: datetime) -> datetime | None:
        return row.due_at + timedelta(days=7)

    sched.register("test", run=run, next_run=weekly)
    row = await add(db, T0)
    assert await sched.fire(row) == "done"
    [following] = await scheduled.due_before(db, T0 + timedelta(days=30))
    assert following.chat_id == new_id and following.run_at == T0 + timedelta(days=7)


async def test_rows_are_armed_in_the_real_job_queue_and_fire(db: Database) -> None:
    from telegram.ext import ApplicationBuilder

    app = ApplicationBuilder().token("123456:TEST-scheduler-token-abcdef").build()
    assert app.job_queue is not None
    app.job_queue.set_application(app)
    await app.job_queue.start()
    try:
        now = datetime.now(UTC)
        sched = Scheduler(
            db,
            app.job_queue,
            lambda: datetime.now(UTC),
            horizon=timedelta(hours=1),
            refill=timedelta(minutes=10),
        )
        fired = asyncio.Event()

        async def run(row: Scheduled, late_by: timedelta) -> None:
            fired.set()

        sched.register("test", run=run)
        soon = await add(db, now + timedelta(milliseconds=300))
        later = await add(db, now + timedelta(hours=3))  # beyond the horizon
        assert await sched.start() == 1 and sched.armed == 1
        await asyncio.wait_for(fired.wait(), timeout=5)
        await asyncio.sleep(0.05)
        assert (await scheduled.get(db, soon)).status == "done"
        assert (await scheduled.get(db, later)).status == "pending" and sched.armed == 0
    finally:
        await app.job_queue.stop(wait=True)
