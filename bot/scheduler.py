"""Generic scheduling: rows of the ``scheduled`` table -> JobQueue jobs. No feature logic here.

The database is the truth; PTB's JobQueue (APScheduler) is only an in-memory cache of the rows
due within ``horizon``, refilled every ``refill`` (so 100 000 future rows do not sit in memory or
block the start). Firing *claims* the row first (``pending -> running`` in one UPDATE), so a row
never runs twice, even if it was armed twice. Features register a runner per ``kind``::

    scheduler.register("post", run=..., next_run=..., missed=...)

* ``run(row, late_by)`` delivers; raising makes the row retry (1, 2, 3... minutes apart, at most
  10) as long as it is within ``grace`` of its due time; after that it counts as missed.
* ``next_run(row, after)`` gives the next occurrence of a recurring action (or ``None``); it is
  inserted in the same transaction that marks this one done.
* ``missed(row, late_by)`` is told when a row fell due more than ``grace`` ago (the bot was down):
  the row is marked ``missed`` instead of delivered stale, and the feature tells its organizer.

Rows a crash left ``running`` are pending again at start (at-least-once delivery).

Several workers on one PostgreSQL (``worker=`` set, see bot/workers.py): every worker arms the
due rows, and the first to claim one fires it (the claim is one row lock, ``FOR UPDATE SKIP
LOCKED``; the others' jobs find it taken and skip). The claim is a *lease* (``lease``): the
worker renews the leases of the rows it is firing every third of it; a worker killed mid-fire
stops renewing, and when its lease has run out another worker's sweep makes the row pending and
fires it — at least once, as after a crash of the one process, and never while the first
worker is alive. The sweep also arms rows due soon that another worker inserted (its job would
be lost with it). A start recovers only rows whose lease ran out: the rows other workers are
firing stay theirs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import CallbackContext, Job, JobQueue

from bot.outbox import BACKGROUND, Stopping
from storage import scheduled
from storage.db import Database, to_db
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

Run = Callable[[Scheduled, timedelta], Awaitable[None]]
NextRun = Callable[[Scheduled, datetime], Awaitable[datetime | None]]
Missed = Callable[[Scheduled, timedelta], Awaitable[None]]

_JOB_KWARGS = {"misfire_grace_time": None, "coalesce": True}

#: Rows armed per refill; a larger backlog is armed in further rounds a second apart.
REFILL_BATCH = 5_000

#: At a stop, scheduled actions still running get this long to finish; the rest are cut short
#: and run again at the next start (a row cut short is still ``running``: see ``recover``).
STOP_GRACE = 0.5
#: ...and once cut short, this long to end (a send on its way finishes) before being cancelled.
CUT_WAIT = 0.5


class StoppingJobQueue(JobQueue[Any]):
    """PTB's JobQueue, whose stop waits for running jobs at most ``grace`` seconds.

    PTB's own waits for every running job to finish: with 500 reminders due at one second, each
    waiting its turn in the outbox (20 background sends a second, 20 a minute per group), a stop
    took 34 s (bench/scale_bench.py). After the grace the ``on_stop`` callbacks run — the outbox
    then ends the waits of scheduled sends (:meth:`bot.outbox.Outbox.stop_background`): nothing
    of those was sent, and their rows, still ``running``, run at the next start (``recover``);
    a send already on its way finishes. A job still running ``CUT_WAIT`` later (a Telegram
    answering very slowly) is cancelled, and its row too runs again at the next start: at least
    once, as after a crash.
    """

    def __init__(self, grace: float = STOP_GRACE) -> None:
        super().__init__()
        self.grace = grace
        self.on_stop: list[Callable[[], None]] = []

    async def stop(self, wait: bool = True) -> None:
        running = [f for f in self._executor._pending_futures if not f.done()]
        if wait and running:
            _, late = await asyncio.wait(running, timeout=self.grace)
            if late:
                for callback in self.on_stop:
                    callback()
                _, late = await asyncio.wait(late, timeout=CUT_WAIT)
                for future in late:
                    future.cancel()
        await super().stop(wait=wait)


@dataclass(frozen=True, slots=True)
class Kind:
    run: Run
    next_run: NextRun | None
    missed: Missed | None


class Scheduler:
    def __init__(
        self,
        db: Database,
        job_queue: JobQueue[Any] | None,
        clock: Callable[[], datetime],
        *,
        horizon: timedelta = timedelta(hours=2),
        refill: timedelta = timedelta(minutes=15),
        grace: timedelta = timedelta(hours=2),
        retry_delay: timedelta = timedelta(minutes=1),
        worker: str | None = None,
        lease: timedelta = timedelta(seconds=30),
    ):
        if refill >= horizon:
            raise ValueError("refill must be shorter than the horizon, or rows would be missed")
        if lease <= timedelta(0):
            raise ValueError("a lease must be positive")
        #: this worker's name when several share the database (None: one process, SQLite's
        #: rules: every running row is recovered at start)
        self.worker = worker
        self.lease = lease
        self.db = db
        self.job_queue = job_queue
        self.clock = clock
        self.horizon = horizon
        self.refill_every = refill
        self.grace = grace
        self.retry_delay = retry_delay
        self._kinds: dict[str, Kind] = {}
        self._armed: dict[int, Job[Any]] = {}
        self.stats = {"fired": 0, "late": 0, "missed": 0, "retried": 0, "failed": 0, "stopped": 0}
        self.stats["taken_over"] = 0  # rows of a worker whose lease ran out, pending again

    def register(
        self, kind: str, *, run: Run, next_run: NextRun | None = None, missed: Missed | None = None
    ) -> None:
        self._kinds[kind] = Kind(run, next_run, missed)

    # --- arming ---------------------------------------------------------------------------

    @property
    def armed(self) -> int:
        return len(self._armed)

    async def start(self) -> int:
        """Recover crashed rows, arm everything due within the horizon, start the refill."""
        expired_at = self.clock() if self.worker is not None else None
        recovered = len(await scheduled.recover(self.db, expired_at=expired_at))
        if recovered:
            log.warning(
                "%d scheduled action(s) were in flight at the last stop; firing again", recovered
            )
        armed = await self.refill()
        if self.job_queue is not None:
            self.job_queue.run_repeating(
                self._refill_job,
                interval=self.refill_every,
                first=self.refill_every,
                name="scheduler:refill",
                job_kwargs=_JOB_KWARGS,
            )
            if self.worker is not None:
                self.job_queue.run_repeating(
                    self._sweep_job,
                    interval=self.lease / 3,
                    first=self.lease / 3,
                    name="scheduler:leases",
                    job_kwargs=_JOB_KWARGS,
                )
        return armed

    async def sweep(self) -> int:
        """Several workers: renew this worker's leases, make the rows of workers whose lease
        ran out pending again, and arm the rows due within the next two sweeps that are not
        armed here (another worker's job for them may have died with it). Returns how many
        rows were taken over."""
        assert self.worker is not None, "only several workers sweep"
        now = self.clock()
        await scheduled.renew(self.db, self.worker, now + self.lease)
        taken = await scheduled.recover(self.db, expired_at=now)
        if taken:
            self.stats["taken_over"] += len(taken)
            log.warning(
                "%d scheduled action(s) of a worker that stopped answering; firing them here",
                len(taken),
            )
        soon = now + self.lease
        for row in await scheduled.due_before(self.db, soon, limit=REFILL_BATCH):
            self.arm(row.id, row.run_at)
        return len(taken)

    async def release(self) -> int:
        """Several workers, at a clean stop: the rows this worker was still firing are pending
        again at once (for the other workers) instead of waiting for the lease to run out."""
        if self.worker is None:
            return 0
        return len(await scheduled.release(self.db, self.worker))

    async def _sweep_job(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.sweep()

    async def refill(self) -> int:
        """Arm pending rows due within the horizon that are not armed yet, earliest first, at
        most ``REFILL_BATCH`` at a time (after a long outage the rest follow a second later, so
        a start never blocks the loop on a huge backlog)."""
        until = self.clock() + self.horizon
        rows = await scheduled.due_before(self.db, until, limit=REFILL_BATCH + len(self._armed))
        count = 0
        for row in rows:
            if row.id not in self._armed and count < REFILL_BATCH:
                self.arm(row.id, row.run_at)
                count += 1
        if count >= REFILL_BATCH and self.job_queue is not None:
            self.job_queue.run_once(
                self._refill_job, when=1.0, name="scheduler:refill-more", job_kwargs=_JOB_KWARGS
            )
        return count

    async def _refill_job(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.refill()

    def arm(self, row_id: int, run_at: datetime) -> None:
        """Put a committed row into the JobQueue if it is due within the horizon."""
        if self.job_queue is None or row_id in self._armed:
            return
        now = self.clock()
        if run_at > now + self.horizon:
            return  # a later refill arms it
        job = self.job_queue.run_once(
            self._job,
            when=max(run_at, now),
            data=row_id,
            name=f"scheduled:{row_id}",
            job_kwargs=_JOB_KWARGS,
        )
        self._armed[row_id] = job

    def disarm(self, row_ids: list[int]) -> None:
        for row_id in row_ids:
            job = self._armed.pop(row_id, None)
            if job is not None:
                job.schedule_removal()

    async def _job(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        assert context.job is not None
        row_id = context.job.data
        assert isinstance(row_id, int)
        self._armed.pop(row_id, None)
        await self.fire(row_id)

    # --- firing ---------------------------------------------------------------------------

    async def fire(self, row_id: int) -> str:
        """Claim and run one row. Returns what happened: done, missed, retry, failed, skipped,
        stopped (the bot stopped before it could be sent).

        Everything the row sends is a background send (``bot.outbox.BACKGROUND``)."""
        token = BACKGROUND.set(True)
        try:
            return await self._fire(row_id)
        finally:
            BACKGROUND.reset(token)

    async def _fire(self, row_id: int) -> str:
        now = self.clock()
        if self.worker is None:
            row = await scheduled.claim(self.db, row_id, now)
        else:
            row = await scheduled.claim(
                self.db, row_id, now, worker=self.worker, lease_until=now + self.lease
            )
        if row is None:
            return "skipped"  # cancelled, paused, already fired, or not due yet
        kind = self._kinds.get(row.kind)
        if kind is None:
            log.error("no runner for scheduled kind %r (row %s)", row.kind, row.id)
            await self._complete(row, None, "failed", now)
            return "failed"
        late_by = now - row.due_at
        if late_by > self.grace:
            return await self._missed(row, kind, late_by, now)
        try:
            await kind.run(row, late_by)
        except Stopping:
            # the bot is stopping and nothing of this was sent: the row stays 'running', and the
            # next start runs it (``recover``; no write now: hundreds may stop at once)
            self.stats["stopped"] += 1
            return "stopped"
        except Exception:
            retry_at = now + min(self.retry_delay * row.attempts, timedelta(minutes=10))
            if retry_at - row.due_at <= self.grace:
                self.stats["retried"] += 1
                log.exception(
                    "scheduled row %s failed (attempt %d); retrying", row.id, row.attempts
                )
                await scheduled.retry_later(self.db, row.id, retry_at)
                self.arm(row.id, retry_at)
                return "retry"
            log.exception("scheduled row %s still failing past the grace period", row.id)
            return await self._missed(row, kind, late_by, now)
        self.stats["fired"] += 1
        if late_by > timedelta(minutes=1):
            self.stats["late"] += 1
        await self._complete(row, kind, "done", now)
        return "done"

    async def _missed(self, row: Scheduled, kind: Kind, late_by: timedelta, now: datetime) -> str:
        self.stats["missed"] += 1
        await self._complete(row, kind, "missed", now)
        if kind.missed is not None:
            try:
                await kind.missed(row, late_by)
            except Stopping:
                log.info("the note about missed row %s was cut short by the stop", row.id)
            except Exception:
                log.exception("telling about missed row %s failed", row.id)
        return "missed"

    async def _complete(
        self, row: Scheduled, kind: Kind | None, status: str, now: datetime
    ) -> None:
        """Close the row and, for a recurring action, insert its next occurrence — atomically.

        The row is read again first: while it was firing, its chat may have become a supergroup
        (rows move by cascade) or it may have been paused or replaced. A chain never gets a
        second pending row: if one exists already (a reschedule happened meanwhile), no
        next occurrence is added.
        """
        current = await scheduled.get(self.db, row.id) or row
        following = None
        if kind is not None and kind.next_run is not None:
            try:
                following = await kind.next_run(current, max(current.due_at, now))
            except Exception:
                log.exception("next occurrence of row %s could not be computed", row.id)
        new_id = None
        async with self.db.write() as conn:
            await conn.execute(
                "UPDATE scheduled SET status = ?, fired_at = ? WHERE id = ? AND status = 'running'",
                (status, to_db(now), row.id),
            )
            if following is not None:
                open_row = await (
                    await conn.execute(
                        "SELECT 1 FROM scheduled WHERE kind = ? AND chat_id = ? AND ref_id IS ?"
                        " AND status IN ('pending', 'paused', 'running')",
                        (current.kind, current.chat_id, current.ref_id),
                    )
                ).fetchone()
                if open_row is None:
                    new_id = await scheduled.insert(
                        conn,
                        chat_id=current.chat_id,
                        kind=current.kind,
                        ref_id=current.ref_id,
                        run_at=following,
                        now=now,
                    )
        if new_id is not None and following is not None:
            self.arm(new_id, following)
