"""Update ids already taken in hand, so an update Telegram hands out again after a crash is
not handled twice (see migration 0008). Pruned to the newest ``KEEP`` ids and to the last
``FORGET``.

Telegram re-delivers only updates it handed out since the last confirmed offset, and keeps an
update at most 24 hours. Update ids are sequential, except that after a week without updates
the next id is chosen at random — it may fall below ids we noted long ago. So a noted id older
than ``FORGET`` is never taken for a re-delivery: the new update is handled, not dropped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import Database, to_db

#: Ids kept; Telegram re-delivers only updates it handed out since the last confirmed offset.
KEEP = 50_000
#: Prune once per this many new ids.
PRUNE_EVERY = 1_000
#: A noted id older than this is forgotten (Telegram keeps an update at most 24 hours).
FORGET = timedelta(days=2)


async def first_time(db: Database, update_id: int, now: datetime) -> bool:
    """Note ``update_id``; ``False`` when it was noted before (a re-delivery).

    One statement, one round trip (this runs before every update is handled)."""
    forgotten = to_db(now - FORGET)
    changed = await db.write_one(
        "INSERT INTO updates_seen (update_id, seen_at) VALUES (?, ?)"
        " ON CONFLICT (update_id) DO UPDATE SET seen_at = excluded.seen_at"
        " WHERE updates_seen.seen_at < ?",
        (update_id, to_db(now), forgotten),
    )
    if changed == 1 and update_id % PRUNE_EVERY == 0:
        await db.write_one(
            "DELETE FROM updates_seen WHERE update_id <= ? OR seen_at < ?",
            (update_id - KEEP, forgotten),
        )
    return changed == 1
