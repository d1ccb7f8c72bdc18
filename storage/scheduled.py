"""The scheduled table: every future action, claimed atomically so nothing runs twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import Database, from_db, to_db


@dataclass(frozen=True, slots=True)
class Scheduled:
    id: int
    chat_id: int
    kind: str
    ref_id: int | None
    run_at: datetime
    due_at: datetime
    status: str
    attempts: int


def _row(row: aiosqlite.Row) -> Scheduled:
    return Scheduled(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        ref_id=row["ref_id"],
        run_at=from_db(row["run_at"]),
        due_at=from_db(row["due_at"]),
        status=row["status"],
        attempts=row["attempts"],
    )


_COLS = "id, chat_id, kind, ref_id, run_at, due_at, status, attempts"


async def insert(
    conn: aiosqlite.Connection,
    *,
    chat_id: int,
    kind: str,
    ref_id: int | None,
    run_at: datetime,
    now: datetime,
    status: str = "pending",
) -> int:
    """Add a row inside the caller's write transaction (arm it after the commit)."""
    cur = await conn.execute(
        "INSERT INTO scheduled (chat_id, kind, ref_id, run_at, due_at, status, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (chat_id, kind, ref_id, to_db(run_at), to_db(run_at), status, to_db(now)),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


async def get(db: Database, row_id: int) -> Scheduled | None:
    row = await db.fetchone(f"SELECT {_COLS} FROM scheduled WHERE id = ?", (row_id,))
    return _row(row) if row else None


async def due_before(db: Database, until: datetime, *, limit: int = 5_000) -> list[Scheduled]:
    """Pending rows due before ``until`` (the arming horizon), earliest first."""
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM scheduled WHERE status = 'pending' AND run_at <= ?"
        " ORDER BY run_at LIMIT ?",
        (to_db(until), limit),
    )
    return [_row(r) for r in rows]


async def recover(db: Database, *, expired_at: datetime | None = None) -> list[int]:
    """Rows a crash left 'running' (their send may or may not have happened) are pending again:
    at-least-once, so a reminder is never lost; at most that one send is repeated. Returns
    their ids.

    One process (``expired_at`` None): every running row, at start. Several workers on one
    database: only rows whose lease ran out by ``expired_at`` (a worker that died mid-fire; the
    rows of workers still running are theirs), or that no worker leased."""
    async with db.write() as conn:
        if expired_at is None:
            rows = await conn.execute_fetchall(
                "UPDATE scheduled SET status = 'pending' WHERE status = 'running' RETURNING id"
            )
        else:
            rows = await conn.execute_fetchall(
                "UPDATE scheduled SET status = 'pending', worker = NULL, lease_until = NULL"
                " WHERE status = 'running' AND (lease_until IS NULL OR lease_until <= ?)"
                " RETURNING id",
                (to_db(expired_at),),
            )
        return [int(r[0]) for r in rows]


async def claim(
    db: Database,
    row_id: int,
    now: datetime,
    *,
    worker: str | None = None,
    lease_until: datetime | None = None,
) -> Scheduled | None:
    """Take a due row for firing. Only one caller ever gets it (pending -> running).

    With ``worker`` (several workers on one database) the row is leased to it until
    ``lease_until``, renewed by :func:`renew` while it runs; on PostgreSQL the row is taken
    ``FOR UPDATE SKIP LOCKED``, so a worker never waits for a row another one is taking."""
    async with db.write() as conn:
        if worker is None:
            cur = await conn.execute(
                "UPDATE scheduled SET status = 'running', attempts = attempts + 1"
                " WHERE id = ? AND status = 'pending' AND run_at <= ?",
                (row_id, to_db(now)),
            )
            if cur.rowcount != 1:
                return None
            row = await (
                await conn.execute(f"SELECT {_COLS} FROM scheduled WHERE id = ?", (row_id,))
            ).fetchone()
            return _row(row) if row else None
        assert lease_until is not None, "a worker's claim needs a lease"
        lock = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else ""
        rows = await conn.execute_fetchall(
            "UPDATE scheduled SET status = 'running', attempts = attempts + 1, worker = ?,"
            " lease_until = ? WHERE id = (SELECT id FROM scheduled WHERE id = ?"
            f" AND status = 'pending' AND run_at <= ?{lock}) RETURNING {_COLS}",
            (worker, to_db(lease_until), row_id, to_db(now)),
        )
    found = list(rows)
    return _row(found[0]) if found else None


async def renew(db: Database, worker: str, lease_until: datetime) -> int:
    """Extend the leases of every row ``worker`` is firing now (it is alive). Returns how many."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE scheduled SET lease_until = ? WHERE worker = ? AND status = 'running'",
            (to_db(lease_until), worker),
        )
        return cur.rowcount


async def release(db: Database, worker: str) -> list[int]:
    """A worker stopping cleanly hands back the rows it was firing (pending again, for any
    worker at once) instead of leaving them to their lease. Returns their ids."""
    async with db.write() as conn:
        rows = await conn.execute_fetchall(
            "UPDATE scheduled SET status = 'pending', worker = NULL, lease_until = NULL"
            " WHERE worker = ? AND status = 'running' RETURNING id",
            (worker,),
        )
        return [int(r[0]) for r in rows]


async def retry_later(db: Database, row_id: int, run_at: datetime) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET status = 'pending', run_at = ?"
            " WHERE id = ? AND status = 'running'",
            (to_db(run_at), row_id),
        )


async def set_status_for(
    conn: aiosqlite.Connection,
    kind: str,
    ref_id: int | None,
    status: str,
    *,
    only: tuple[str, ...],
    chat_id: int | None = None,
) -> list[int]:
    """Change the open rows of one chain (cancel / pause): rows of ``kind`` for ``ref_id``
    (``None`` for chains with no feature row, such as a chat's digest), optionally only in
    ``chat_id``. Returns their ids, to disarm."""
    where = f"kind = ? AND ref_id IS ? AND status IN ({','.join('?' for _ in only)})"
    params: list[object] = [kind, ref_id, *only]
    if chat_id is not None:
        where += " AND chat_id = ?"
        params.append(chat_id)
    rows = await (await conn.execute(f"SELECT id FROM scheduled WHERE {where}", params)).fetchall()
    ids = [int(r["id"]) for r in rows]
    if ids:
        await conn.execute(f"UPDATE scheduled SET status = ? WHERE {where}", (status, *params))
    return ids


async def pending_for(db: Database, kind: str, ref_id: int) -> Scheduled | None:
    row = await db.fetchone(
        f"SELECT {_COLS} FROM scheduled WHERE kind = ? AND ref_id = ?"
        " AND status IN ('pending', 'paused') ORDER BY run_at LIMIT 1",
        (kind, ref_id),
    )
    return _row(row) if row else None


async def count_by_status(db: Database) -> dict[str, int]:
    rows = await db.fetchall("SELECT status, count(*) AS n FROM scheduled GROUP BY status")
    return {r["status"]: r["n"] for r in rows}
