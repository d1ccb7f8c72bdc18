"""Reminders and scheduled announcements, with their scheduled rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage import scheduled
from storage.db import Database, to_db

KIND = "post"


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    kind: str  # reminder | announcement
    chat_id: int  # where it was created
    target_chat_id: int  # where it is delivered
    creator_id: int
    creator_name: str
    text: str
    first_local: datetime  # naive local wall time of the first occurrence
    tz: str
    rrule: str | None
    pin: bool
    status: str
    thread_id: int | None = None  # the forum topic it is posted in (None: General)


_COLS = (
    "id, kind, chat_id, target_chat_id, creator_id, creator_name, text, first_local, tz,"
    " rrule, pin, status, thread_id"
)


def _post(row: aiosqlite.Row) -> Post:
    return Post(
        id=row["id"],
        kind=row["kind"],
        chat_id=row["chat_id"],
        target_chat_id=row["target_chat_id"],
        creator_id=row["creator_id"],
        creator_name=row["creator_name"],
        text=row["text"],
        first_local=datetime.fromisoformat(row["first_local"]),
        tz=row["tz"],
        rrule=row["rrule"],
        pin=bool(row["pin"]),
        status=row["status"],
        thread_id=row["thread_id"],
    )


async def create(
    db: Database,
    *,
    kind: str,
    chat_id: int,
    target_chat_id: int,
    creator_id: int,
    creator_name: str,
    text: str,
    first: datetime,
    rrule: str | None,
    pin: bool,
    now: datetime,
    thread_id: int | None = None,
) -> tuple[int, int]:
    """Store the post and its first scheduled row in one transaction: (post id, row id).
    ``thread_id``: the forum topic of ``target_chat_id`` it is posted in."""
    tz = str(first.tzinfo)
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT INTO posts (kind, chat_id, target_chat_id, creator_id, creator_name, text,"
            " first_local, tz, rrule, pin, created_at, thread_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                kind,
                chat_id,
                target_chat_id,
                creator_id,
                creator_name,
                text,
                first.replace(tzinfo=None).isoformat(timespec="minutes"),
                tz,
                rrule,
                int(pin),
                to_db(now),
                thread_id,
            ),
        )
        post_id = cur.lastrowid
        assert post_id is not None
        row_id = await scheduled.insert(
            conn, chat_id=target_chat_id, kind=KIND, ref_id=post_id, run_at=first, now=now
        )
    return post_id, row_id


async def get(db: Database, post_id: int) -> Post | None:
    row = await db.fetchone(f"SELECT {_COLS} FROM posts WHERE id = ?", (post_id,))
    return _post(row) if row else None


async def listing(
    db: Database,
    *,
    kind: str,
    chat_id: int | None = None,
    target_chat_id: int | None = None,
    creator_id: int | None = None,
    limit: int = 50,
) -> list[tuple[Post, datetime | None]]:
    """Open posts (active or paused) with their next run time, soonest first."""
    where = ["p.kind = ?", "p.status IN ('active', 'paused')"]
    params: list[object] = [kind]
    for column, value in (
        ("p.chat_id", chat_id),
        ("p.target_chat_id", target_chat_id),
        ("p.creator_id", creator_id),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    rows = await db.fetchall(  # ordered outside: PostgreSQL sorts by an alias only bare
        f"SELECT * FROM (SELECT {', '.join('p.' + c.strip() for c in _COLS.split(','))},"
        " (SELECT min(s.run_at) FROM scheduled s WHERE s.kind = 'post' AND s.ref_id = p.id"
        "   AND s.status IN ('pending', 'paused', 'running')) AS next_at"
        f" FROM posts p WHERE {' AND '.join(where)}) AS listed"
        " ORDER BY next_at IS NULL, next_at LIMIT ?",
        (*params, limit),
    )
    from storage.db import from_db

    return [(_post(r), from_db(r["next_at"]) if r["next_at"] else None) for r in rows]


async def set_status(db: Database, post_id: int, status: str) -> list[int]:
    """cancelled / paused / active; returns the scheduled row ids that stopped (to disarm)."""
    async with db.write() as conn:
        await conn.execute("UPDATE posts SET status = ? WHERE id = ?", (status, post_id))
        if status == "cancelled":
            return await scheduled.set_status_for(
                conn, KIND, post_id, "cancelled", only=("pending", "paused")
            )
        if status == "paused":
            # a row firing right now is paused too: it completes without a successor, and
            # Resume finds it
            return await scheduled.set_status_for(
                conn, KIND, post_id, "paused", only=("pending", "running")
            )
        return []


async def resume(db: Database, post_id: int, run_at: datetime, now: datetime) -> int:
    """Resume a paused post at ``run_at``; returns the scheduled row id to arm."""
    async with db.write() as conn:
        await conn.execute(
            "UPDATE posts SET status = 'active' WHERE id = ? AND status = 'paused'", (post_id,)
        )
        row = await (
            await conn.execute(
                "SELECT id FROM scheduled WHERE kind = ? AND ref_id = ? AND status = 'paused'",
                (KIND, post_id),
            )
        ).fetchone()
        if row is None:  # no paused row survived: plan a fresh one
            target = await (
                await conn.execute("SELECT target_chat_id FROM posts WHERE id = ?", (post_id,))
            ).fetchone()
            assert target is not None
            return await scheduled.insert(
                conn,
                chat_id=target["target_chat_id"],
                kind=KIND,
                ref_id=post_id,
                run_at=run_at,
                now=now,
            )
        row_id = int(row["id"])
        await conn.execute(
            "UPDATE scheduled SET status = 'pending', run_at = ?, due_at = ? WHERE id = ?",
            (to_db(run_at), to_db(run_at), row_id),
        )
        return row_id


async def mark_done(db: Database, post_id: int) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE posts SET status = 'done' WHERE id = ? AND status = 'active'", (post_id,)
        )


async def in_zone(db: Database, target_chat_id: int, tz: str) -> list[Post]:
    """Open posts delivered to a chat that were planned in zone ``tz``."""
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM posts WHERE target_chat_id = ? AND tz = ?"
        " AND status IN ('active', 'paused')",
        (target_chat_id, tz),
    )
    return [_post(r) for r in rows]


async def move_zone(db: Database, post_id: int, tz: str, run_at: datetime | None) -> list[int]:
    """The post now lives in ``tz`` (same wall time); its open row moves to ``run_at``.
    Returns the ids of rows whose time changed (to re-arm)."""
    async with db.write() as conn:
        await conn.execute("UPDATE posts SET tz = ? WHERE id = ?", (tz, post_id))
        if run_at is None:
            return []
        rows = await (
            await conn.execute(
                "SELECT id FROM scheduled WHERE kind = ? AND ref_id = ?"
                " AND status IN ('pending', 'paused')",
                (KIND, post_id),
            )
        ).fetchall()
        ids = [int(r["id"]) for r in rows]
        for row_id in ids:
            await conn.execute(
                "UPDATE scheduled SET run_at = ?, due_at = ? WHERE id = ?",
                (to_db(run_at), to_db(run_at), row_id),
            )
        return ids
