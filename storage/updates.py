"""Update ids already taken in hand, so an update Telegram hands out again after a crash is
not handled twice (see migration 0008). Pruned to the newest ``KEEP`` ids and to the last
``FORGET``.

Telegram re-delivers only updates it handed out since the last confirmed offset, and keeps an
update at most 24 hours. Update ids are sequential, except that after a week without updates
the next id is chosen at random — it may fall below ids we noted long ago. So a noted id older
than ``FORGET`` is never taken for a re-delivery: the new update is handled, not dropped.

Every update's id is noted before it is handled. :class:`Notes` notes the ids of updates that
arrive together (a getUpdates batch, a burst of presses) in one write: the ids asked for while
one note is being written go into the next, so a quiet bot writes each id at once and a busy
one writes one transaction for many updates instead of one each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from storage.db import Database, to_db

#: Ids kept; Telegram re-delivers only updates it handed out since the last confirmed offset.
KEEP = 50_000
#: Prune once per this many new ids.
PRUNE_EVERY = 1_000
#: A noted id older than this is forgotten (Telegram keeps an update at most 24 hours).
FORGET = timedelta(days=2)
#: Ids noted by one statement at most (two parameters each, far below SQLite's limit).
BATCH = 500


def _statement(ids: list[int], now: datetime) -> tuple[str, tuple[Any, ...]]:
    """One statement noting the ids; it returns the ids that were new (or noted longer than
    ``FORGET`` ago)."""
    seen_at = to_db(now)
    return (
        "INSERT INTO updates_seen (update_id, seen_at) VALUES "
        + ", ".join("(?, ?)" for _ in ids)
        + " ON CONFLICT (update_id) DO UPDATE SET seen_at = excluded.seen_at"
        " WHERE updates_seen.seen_at < ? RETURNING update_id",
        (*(v for i in ids for v in (i, seen_at)), to_db(now - FORGET)),
    )


async def note(db: Database, update_ids: Iterable[int], now: datetime) -> set[int]:
    """Note the ids (each once) in one statement, its own transaction (one round trip);
    returns those seen for the first time. Old ids are pruned once per ``PRUNE_EVERY``."""
    ids = list(dict.fromkeys(update_ids))
    if not ids:
        return set()
    fresh = {int(row[0]) for row in await db.write_rows(*_statement(ids, now))}
    prune = [i for i in fresh if i % PRUNE_EVERY == 0]
    if prune:
        await db.write_one(
            "DELETE FROM updates_seen WHERE update_id <= ? OR seen_at < ?",
            (max(prune) - KEEP, to_db(now - FORGET)),
        )
    return fresh


async def first_time(db: Database, update_id: int, now: datetime) -> bool:
    """Note ``update_id``; ``False`` when it was noted before (a re-delivery)."""
    return update_id in await note(db, [update_id], now)


class Notes:
    """:func:`first_time` for the update processor, the ids of updates that come together
    noted in one write. A caller waits for the write that holds its id: nothing is handled
    before its id is committed. An id asked for twice before its write (never by Telegram's
    own doing) is new only to the first caller."""

    def __init__(self, db: Database, clock: Callable[[], datetime]):
        self.db = db
        self.clock = clock
        self.writes = 0  # transactions written (for the benchmarks and tests)
        self._waiting: list[tuple[int, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def first_time(self, update_id: int) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((update_id, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            try:
                fresh = await note(self.db, (i for i, _ in batch), self.clock())
            except asyncio.CancelledError:  # the loop is ending: so do the waits
                for _, future in batch + self._waiting:
                    future.cancel()
                self._waiting = []
                raise
            except Exception as exc:  # every waiter hears it: its update is not handled
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            finally:
                self.writes += 1
            for update_id, future in batch:
                if not future.done():
                    future.set_result(update_id in fresh)
                fresh.discard(update_id)  # a second caller with the same id: not new
