"""Scheduler benchmark: start-up re-arming of 100 000 pending rows, and firing lateness.

    python bench/scheduler_bench.py [--rows 100000] [--burst 10000]

Measured in one run, on a real SQLite file and PTB's real JobQueue (APScheduler):

1. start-up: 100 000 pending rows spread over the next 90 days; ``Scheduler.start()`` arms only
   the rows due within the horizon (2 h). Time and memory (RSS growth) are printed beside the
   naive baseline measured in the same run: arming every row in the JobQueue.
2. lateness: 10 000 rows due within the next 10 s, all armed; each firing records how late it
   ran (claim + a no-op delivery). p50 / p99 / max lateness.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import logging

from telegram.ext import ApplicationBuilder

# jobs still pending when a phase's event loop closes are cancelled; that noise is not a result
logging.getLogger("apscheduler").setLevel(logging.CRITICAL)

from bot import scheduler as scheduler_module  # noqa: E402
from bot.domain.settings import ChatSettings  # noqa: E402
from bot.scheduler import Scheduler  # noqa: E402
from storage import chats  # noqa: E402
from storage.db import Database, to_db  # noqa: E402
from storage.scheduled import Scheduled  # noqa: E402

DEFAULT_BATCH = scheduler_module.REFILL_BATCH


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def seed(db: Database, rows: int, now: datetime, spread: timedelta) -> None:
    chat_ids = [-(1000 + i) for i in range(max(1, rows // 10))]  # 10 rows per group
    for i in range(0, len(chat_ids), 5000):
        async with db.write() as conn:
            await conn.executemany(
                "INSERT INTO chats (id, type, title, language, timezone, settings, joined_at)"
                " VALUES (?, 'group', 'g', 'en', 'UTC', '{}', ?)",
                [(c, to_db(now)) for c in chat_ids[i : i + 5000]],
            )
    rnd = random.Random(7)
    batch = []
    for n in range(rows):
        run_at = now + timedelta(seconds=rnd.uniform(1, spread.total_seconds()))
        batch.append((chat_ids[n % len(chat_ids)], "bench", n, to_db(run_at), to_db(now)))
    async with db.write() as conn:
        await conn.executemany(
            "INSERT INTO scheduled (chat_id, kind, ref_id, run_at, due_at, created_at)"
            " VALUES (?, ?, ?, ?, ?4, ?5)",
            batch,
        )


def new_app():
    return ApplicationBuilder().token("123456:BENCH-token-000000000000").build()


async def startup(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        now = datetime.now(UTC)
        db = await Database.open(Path(tmp) / "b.sqlite3")
        await seed(db, rows, now, timedelta(days=90))
        await db.close()

        results = {}
        for label in ("horizon (Courtyard)", "every row (baseline)"):
            gc.collect()
            db = await Database.open(Path(tmp) / "b.sqlite3")
            app = new_app()
            baseline = not label.startswith("horizon")
            horizon = timedelta(days=100) if baseline else timedelta(hours=2)
            # the baseline arms every row at once: lift the per-refill cap for it
            scheduler_module.REFILL_BATCH = rows + 1 if baseline else DEFAULT_BATCH
            sched = Scheduler(
                db,
                app.job_queue,
                lambda: datetime.now(UTC),
                horizon=horizon,
                refill=min(horizon / 2, timedelta(minutes=15)),
            )
            sched.register("bench", run=_noop)
            before = rss_mb()
            t0 = time.perf_counter()
            armed = await sched.start()
            elapsed = time.perf_counter() - t0
            grown = rss_mb() - before
            results[label] = (elapsed, grown, armed)
            app.job_queue.scheduler.remove_all_jobs()
            await db.close()
            del sched, app
        print(f"start-up with {rows:,} pending rows over 90 days")
        for label, (elapsed, grown, armed) in results.items():
            print(
                f"  {label:22s} armed {armed:>7,}  {elapsed * 1000:8.0f} ms  RSS +{grown:6.1f} MB"
            )
        (h_t, h_m, _), (b_t, b_m, _) = results.values()
        print(
            f"  ratio baseline/horizon: time x{b_t / h_t:.1f},"
            f" memory x{max(b_m, 0.1) / max(h_m, 0.1):.1f}"
        )


async def _noop(row: Scheduled, late_by: timedelta) -> None:
    return None


async def lateness(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "l.sqlite3")
        now = datetime.now(UTC)
        await chats.ensure(db, -1, type="group", title="g", defaults=ChatSettings(), now=now)
        start = now + timedelta(seconds=2)
        async with db.write() as conn:
            await conn.executemany(
                "INSERT INTO scheduled (chat_id, kind, ref_id, run_at, due_at, created_at)"
                " VALUES (-1, 'bench', ?1, ?2, ?2, ?3)",
                [
                    (i, to_db(start + timedelta(seconds=10 * i / count)), to_db(now))
                    for i in range(count)
                ],
            )
        # to_db keeps whole seconds: read back the stored due times for exact lateness
        due = {r["id"]: r["run_at"] for r in await db.fetchall("SELECT id, run_at FROM scheduled")}
        late: list[float] = []
        done = asyncio.Event()

        async def run(row: Scheduled, late_by: timedelta) -> None:
            late.append(late_by.total_seconds())
            if len(late) == count:
                done.set()

        app = new_app()
        sched = Scheduler(db, app.job_queue, lambda: datetime.now(UTC))
        sched.register("bench", run=run)
        app.job_queue.set_application(app)
        await app.job_queue.start()
        t0 = time.perf_counter()
        await sched.start()
        arm_time = time.perf_counter() - t0
        await asyncio.wait_for(done.wait(), timeout=120)
        while sched.stats["fired"] < count:  # noqa: ASYNC110 - the last rows finish their bookkeeping
            await asyncio.sleep(0.01)
        await app.job_queue.stop(wait=True)
        await db.close()
        q = statistics.quantiles(late, n=100)
        print(f"lateness of {count:,} rows due within 10 s (armed in {arm_time * 1000:.0f} ms)")
        print(
            f"  p50 {q[49] * 1000:7.1f} ms   p99 {q[98] * 1000:7.1f} ms"
            f"   max {max(late) * 1000:7.1f} ms"
            f"   (stored times are whole seconds; lateness is measured from them)"
        )
        assert len(due) == count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--burst", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(startup(args.rows))
    asyncio.run(lateness(args.burst))


if __name__ == "__main__":
    main()
