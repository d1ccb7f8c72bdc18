"""Scheduled rows claimed once across several workers on one database (run on SQLite and, with
COURTYARD_TEST_PG=1, on PostgreSQL): each worker is its own ``Database`` (its own connections,
as a process has), the claim is a lease renewed while the row runs, a worker that dies mid-fire
leaves a lease that runs out and another worker fires the row, once."""

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
LEASE = timedelta(seconds=30)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def dbs(tmp_path: Path):
    """Three handles on one database, as three workers have."""
    first = await Database.open(tmp_path / "w.sqlite3")
    await chats.ensure(first, CHAT, type="group", title="A", defaults=ChatSettings(), now=T0)
    others = [await Database.open(tmp_path / "w.sqlite3") for _ in range(2)]
    yield [first, *others]
    for db in (first, *others):
        await db.close()


async def add(db: Database, run_at: datetime) -> int:
    async with db.write() as conn:
        return await scheduled.insert(
            conn, chat_id=CHAT, kind="test", ref_id=7, run_at=run_at, now=T0
        )


def worker(db: Database, clock: Clock, name: str, ran: list[tuple[str, int]], **options):
    sched = Scheduler(db, None, clock, worker=name, lease=LEASE, **options)

    async def run(row: Scheduled, late_by: timedelta) -> None:
        ran.append((name, row.id))

    sched.register("test", run=run)
    return sched


async def test_three_workers_firing_the_same_rows_fire_each_once(dbs: list[Database]) -> None:
    clock = Clock(T0)
    ran: list[tuple[str, int]] = []
    workers = [worker(db, clock, f"w{i}", ran) for i, db in enumerate(dbs)]
    rows = [await add(dbs[0], T0 - timedelta(seconds=1)) for _ in range(10)]
    results = await asyncio.gather(*(w.fire(r) for r in rows for w in workers for _ in range(3)))
    assert results.count("done") == 10 and results.count("skipped") == 80
    assert sorted(r for _, r in ran) == rows
    for row_id in rows:
        row = await scheduled.get(dbs[0], row_id)
        assert row is not None and row.status == "done" and row.attempts == 1


async def test_a_claim_names_its_worker_and_lease(dbs: list[Database]) -> None:
    row_id = await add(dbs[0], T0)
    row = await scheduled.claim(dbs[1], row_id, T0, worker="w1", lease_until=T0 + LEASE)
    assert row is not None and row.status == "running"
    stored = await dbs[2].fetchone(
        "SELECT worker, lease_until FROM scheduled WHERE id = ?", (row_id,)
    )
    assert stored is not None and stored["worker"] == "w1"
    assert stored["lease_until"] == "2026-11-21T12:00:30Z"
    # and nobody else gets it while it runs
    again = await scheduled.claim(dbs[2], row_id, T0, worker="w2", lease_until=T0 + LEASE)
    assert again is None


async def test_a_dead_workers_row_is_fired_by_another_once_its_lease_ran_out(
    dbs: list[Database],
) -> None:
    clock = Clock(T0)
    ran: list[tuple[str, int]] = []
    row_id = await add(dbs[0], T0)
    # w0 claims the row and dies before sending (its process killed: nothing renews the lease)
    assert await scheduled.claim(dbs[0], row_id, T0, worker="w0", lease_until=T0 + LEASE)
    other = worker(dbs[1], clock, "w1", ran)
    clock.now = T0 + LEASE - timedelta(seconds=1)
    assert await other.sweep() == 0  # the lease still holds: w0 may be sending
    assert await other.fire(row_id) == "skipped" and ran == []
    clock.now = T0 + LEASE
    assert await other.sweep() == 1 and other.stats["taken_over"] == 1
    assert await other.fire(row_id) == "done"
    assert ran == [("w1", row_id)]
    row = await scheduled.get(dbs[2], row_id)
    assert row is not None and row.status == "done" and row.attempts == 2  # at least once


async def test_a_live_worker_keeps_its_rows_by_renewing(dbs: list[Database]) -> None:
    clock = Clock(T0)
    ran: list[tuple[str, int]] = []
    row_id = await add(dbs[0], T0)
    alive = worker(dbs[0], clock, "w0", ran)
    other = worker(dbs[1], clock, "w1", ran)
    assert await scheduled.claim(dbs[0], row_id, T0, worker="w0", lease_until=T0 + LEASE)
    for step in range(1, 7):  # three minutes, each sweep a third of a lease apart
        clock.now = T0 + step * LEASE / 3
        await alive.sweep()
        assert await other.sweep() == 0
    row = await scheduled.get(dbs[2], row_id)
    assert row is not None and row.status == "running" and ran == []


async def test_a_workers_start_takes_only_rows_whose_lease_ran_out(dbs: list[Database]) -> None:
    clock = Clock(T0 + timedelta(seconds=10))
    ran: list[tuple[str, int]] = []
    mine = await add(dbs[0], T0)
    theirs = await add(dbs[0], T0)
    assert await scheduled.claim(dbs[0], mine, T0, worker="gone", lease_until=T0)
    assert await scheduled.claim(dbs[0], theirs, T0, worker="w0", lease_until=T0 + LEASE)
    starting = worker(dbs[1], clock, "w1", ran)
    await starting.start()  # no job queue: nothing is armed, the recovery is what counts
    assert (await scheduled.get(dbs[2], mine)).status == "pending"  # type: ignore[union-attr]
    assert (await scheduled.get(dbs[2], theirs)).status == "running"  # type: ignore[union-attr]


async def test_one_process_still_recovers_every_running_row_at_start(dbs: list[Database]) -> None:
    clock = Clock(T0)
    row_id = await add(dbs[0], T0)
    assert await scheduled.claim(dbs[0], row_id, T0)
    alone = Scheduler(dbs[0], None, clock)
    await alone.start()
    assert (await scheduled.get(dbs[0], row_id)).status == "pending"  # type: ignore[union-attr]


async def test_a_clean_stop_hands_its_rows_back_at_once(dbs: list[Database]) -> None:
    clock = Clock(T0)
    ran: list[tuple[str, int]] = []
    row_id = await add(dbs[0], T0)
    stopping = worker(dbs[0], clock, "w0", ran)
    assert await scheduled.claim(dbs[0], row_id, T0, worker="w0", lease_until=T0 + LEASE)
    assert await stopping.release() == 1
    other = worker(dbs[1], clock, "w1", ran)
    assert await other.fire(row_id) == "done" and ran == [("w1", row_id)]


async def test_a_row_locked_elsewhere_is_skipped_without_waiting(
    dbs: list[Database], backend: str
) -> None:
    """PostgreSQL: a row another transaction holds is passed over (SKIP LOCKED), not waited
    for; SQLite has one writer at a time and no row locks."""
    if backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    import asyncpg

    row_id = await add(dbs[0], T0)
    holder = await asyncpg.connect(dbs[0].url)  # type: ignore[attr-defined]
    try:
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM scheduled WHERE id = $1 FOR UPDATE", row_id)
            claimed = await asyncio.wait_for(
                scheduled.claim(dbs[1], row_id, T0, worker="w1", lease_until=T0 + LEASE), 5
            )
            assert claimed is None
    finally:
        await holder.close()
    claimed = await scheduled.claim(dbs[1], row_id, T0, worker="w1", lease_until=T0 + LEASE)
    assert claimed is not None and claimed.status == "running"
