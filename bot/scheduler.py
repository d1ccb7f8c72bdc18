"""Generic scheduling: rows of the ``scheduled`` table -> JobQueue jobs. No feature logic here.

The database is the truth; PTB's JobQueue (APScheduler) is only an in-memory cache of the rows
due within ``horizon``, refilled every ``refill`` (so 100 000 future rows do not sit in memory or
block the start). Firing *claims* the row first (``pending -> running`` in one UPDATE), so a row
never runs twice, even if it was armed twice. Features register a runner per ``kind``::

    scheduler.register("post", run=..., next_run=..., missed=...)

* ``run(row, late_by)`` delivers; raising makes the row retry (up to ``max_attempts``).
* ``next_run(row, after)`` gives the next occurrence of a recurring action (or ``None``); it is
  inserted in the same transaction that marks this one done.
* ``missed(row, late_by)`` is told when a row fell due more than ``grace`` ago (the bot was down):
  the row is marked ``missed`` instead of delivered stale, and the feature tells its organizer.

Rows a crash left ``running`` are pending again at start (at-least-once delivery).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import CallbackContext, Job, JobQueue

from storage import scheduled
from storage.db import Database, to_db
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

Run = Callable[[Scheduled, timedelta], Awaitable[None]]
NextRun = Callable[[Scheduled, datetime], Awaitable[datetime | None]]
Missed = Callable[[Scheduled, timedelta], Awaitable[None]]

_JOB_KWARGS = {"misfire_grace_time": None, "coalesce": True}


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
        max_attempts: int = 5,
        retry_delay: timedelta = timedelta(minutes=1),
    ):
        if refill >= horizon:
            raise ValueError("refill must be shorter than the horizon, or rows would be missed")
        self.db = db
        self.job_queue = job_queue
        self.clock = clock
        self.horizon = horizon
        self.refill_every = refill
        self.grace = grace
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self._kinds: dict[str, Kind] = {}
        self._armed: dict[int, Job[Any]] = {}
        self.stats = {"fired": 0, "late": 0, "missed": 0, "retried": 0, "failed": 0}

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
        recovered = await scheduled.recover(self.db)
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
        return armed

    async def refill(self) -> int:
        """Arm every pending row due within the horizon that is not armed yet."""
        until = self.clock() + self.horizon
        count = 0
        for row in await scheduled.due_before(self.db, until):
            if row.id not in self._armed:
                self.arm(row.id, row.run_at)
                count += 1
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
        """Claim and run one row. Returns what happened: done, missed, retry, failed, skipped."""
        now = self.clock()
        row = await scheduled.claim(self.db, row_id, now)
        if row is None:
            return "skipped"  # cancelled, paused, already fired, or not due yet
        kind = self._kinds.get(row.kind)
        if kind is None:
            log.error("no runner for scheduled kind %r (row %s)", row.kind, row.id)
            await scheduled.finish(self.db, row.id, "failed", now)
            return "failed"
        late_by = now - row.run_at
        if late_by > self.grace:
            self.stats["missed"] += 1
            await self._complete(row, kind, "missed", now)
            if kind.missed is not None:
                try:
                    await kind.missed(row, late_by)
                except Exception:
                    log.exception("telling about missed row %s failed", row.id)
            return "missed"
        try:
            await kind.run(row, late_by)
        except Exception:
            if row.attempts < self.max_attempts:
                self.stats["retried"] += 1
                log.exception(
                    "scheduled row %s failed (attempt %d); retrying", row.id, row.attempts
                )
                retry_at = now + self.retry_delay * row.attempts
                await scheduled.retry_later(self.db, row.id, retry_at)
                self.arm(row.id, retry_at)
                return "retry"
            self.stats["failed"] += 1
            log.exception("scheduled row %s failed %d times; giving up", row.id, row.attempts)
            await self._complete(row, kind, "failed", now)
            return "failed"
        self.stats["fired"] += 1
        if late_by > timedelta(minutes=1):
            self.stats["late"] += 1
        await self._complete(row, kind, "done", now)
        return "done"

    async def _complete(self, row: Scheduled, kind: Kind, status: str, now: datetime) -> None:
        """Close the row and, for a recurring action, insert its next occurrence — atomically."""
        following = None
        if kind.next_run is not None:
            following = await kind.next_run(row, max(row.run_at, now))
        async with self.db.write() as conn:
            await conn.execute(
                "UPDATE scheduled SET status = ?, fired_at = ? WHERE id = ? AND status = 'running'",
                (status, to_db(now), row.id),
            )
            new_id = None
            if following is not None:
                new_id = await scheduled.insert(
                    conn,
                    chat_id=row.chat_id,
                    kind=row.kind,
                    ref_id=row.ref_id,
                    run_at=following,
                    now=now,
                )
        if new_id is not None and following is not None:
            self.arm(new_id, following)
