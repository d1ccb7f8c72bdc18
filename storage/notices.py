"""Notices residents confirm, their Got-it rows and the deadline row (kind ``notice_deadline``:
at the confirm-by time the author is told privately which households have not confirmed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage import scheduled
from storage.db import Database, from_db, to_db

DEADLINE = "notice_deadline"


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    chat_id: int
    author_id: int
    author_name: str
    text: str
    confirm_by: datetime | None
    pinned: bool
    status: str
    message_id: int | None
    created_at: datetime
    thread_id: int | None = None  # the forum topic of its card, chasing and deadline


_COLS = (
    "id, chat_id, author_id, author_name, text, deadline, pinned, status, message_id, created_at,"
    " thread_id"
)


def _notice(r: aiosqlite.Row) -> Notice:
    return Notice(
        id=r["id"],
        chat_id=r["chat_id"],
        author_id=r["author_id"],
        author_name=r["author_name"],
        text=r["text"],
        confirm_by=from_db(r["deadline"]) if r["deadline"] else None,
        pinned=bool(r["pinned"]),
        status=r["status"],
        message_id=r["message_id"],
        created_at=from_db(r["created_at"]),
        thread_id=r["thread_id"],
    )


async def create(
    db: Database,
    *,
    chat_id: int,
    author_id: int,
    author_name: str,
    text: str,
    confirm_by: datetime | None,
    now: datetime,
    thread_id: int | None = None,
) -> tuple[int, int | None]:
    """Store the notice and, with a deadline, its deadline row: (notice id, row id).
    ``thread_id``: the forum topic it was posted in."""
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT INTO notices (chat_id, author_id, author_name, text, deadline, created_at,"
            " thread_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                author_id,
                author_name,
                text,
                to_db(confirm_by) if confirm_by else None,
                to_db(now),
                thread_id,
            ),
        )
        notice_id = cur.lastrowid
        assert notice_id is not None
        row_id = None
        if confirm_by is not None:
            row_id = await scheduled.insert(
                conn, chat_id=chat_id, kind=DEADLINE, ref_id=notice_id, run_at=confirm_by, now=now
            )
    return notice_id, row_id


async def get(db: Database, notice_id: int) -> Notice | None:
    row = await db.fetchone(f"SELECT {_COLS} FROM notices WHERE id = ?", (notice_id,))
    return _notice(row) if row else None


async def set_message(db: Database, notice_id: int, message_id: int, pinned: bool) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE notices SET message_id = ?, pinned = ? WHERE id = ?",
            (message_id, int(pinned), notice_id),
        )


async def close(db: Database, notice_id: int, now: datetime) -> list[int] | None:
    """Close an open notice (no more Got it); returns deadline rows to disarm, None if it
    was closed already."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE notices SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open'",
            (to_db(now), notice_id),
        )
        if cur.rowcount != 1:
            return None
        return await scheduled.set_status_for(
            conn, DEADLINE, notice_id, "cancelled", only=("pending", "paused")
        )


async def discard(db: Database, notice_id: int) -> list[int] | None:
    """Remove a notice whose card Telegram did not accept (open, shown nowhere): returns its
    deadline rows to disarm, None if it was kept. Its id is not used again (AUTOINCREMENT)."""
    async with db.write() as conn:
        cur = await conn.execute(
            "DELETE FROM notices WHERE id = ? AND message_id IS NULL AND status = 'open'",
            (notice_id,),
        )
        if cur.rowcount != 1:
            return None
        return await scheduled.set_status_for(
            conn, DEADLINE, notice_id, "cancelled", only=("pending", "paused")
        )


async def confirm(
    db: Database, notice_id: int, user_id: int, household: str, now: datetime
) -> bool | None:
    """Got it: True when it is new, False when this person had confirmed already, None when
    the notice is not open."""
    async with db.write() as conn:
        row = await (
            await conn.execute("SELECT chat_id, status FROM notices WHERE id = ?", (notice_id,))
        ).fetchone()
        if row is None or row["status"] != "open":
            return None
        cur = await conn.execute(
            "INSERT INTO notice_confirms (notice_id, chat_id, user_id, household, at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (notice_id, row["chat_id"], user_id, household, to_db(now)),
        )
        return cur.rowcount == 1


async def confirmations(db: Database, notice_id: int) -> list[str]:
    """The households that confirmed, as the register says now: ``u<unit>`` for every unit a
    confirming person holds (one who holds two flats confirms for both; a claim approved after
    the press counts), ``p<user>`` for a confirming person with no approved unit."""
    units = await db.fetchall(
        "SELECT DISTINCT m.unit_id FROM notice_confirms c JOIN unit_members m"
        " ON m.chat_id = c.chat_id AND m.user_id = c.user_id AND m.status = 'approved'"
        " WHERE c.notice_id = ?",
        (notice_id,),
    )
    alone = await db.fetchall(
        "SELECT c.user_id FROM notice_confirms c WHERE c.notice_id = ? AND NOT EXISTS"
        " (SELECT 1 FROM unit_members m WHERE m.chat_id = c.chat_id AND m.user_id = c.user_id"
        " AND m.status = 'approved')",
        (notice_id,),
    )
    return [f"u{r['unit_id']}" for r in units] + [f"p{r['user_id']}" for r in alone]


async def register(db: Database, chat_id: int) -> list[tuple[int, str]]:
    """The group's units (id, label)."""
    rows = await db.fetchall("SELECT id, label FROM units WHERE chat_id = ?", (chat_id,))
    return [(int(r["id"]), r["label"]) for r in rows]


async def unit_members(db: Database, chat_id: int) -> dict[int, list[tuple[int, str]]]:
    """Approved members of every unit (user id, name), for Remind the rest."""
    rows = await db.fetchall(
        "SELECT m.unit_id, m.user_id, coalesce(mb.display_name, '') AS name"
        " FROM unit_members m LEFT JOIN members mb"
        " ON mb.chat_id = m.chat_id AND mb.user_id = m.user_id"
        " WHERE m.chat_id = ? AND m.status = 'approved' ORDER BY m.requested_at",
        (chat_id,),
    )
    found: dict[int, list[tuple[int, str]]] = {}
    for r in rows:
        found.setdefault(int(r["unit_id"]), []).append(
            (int(r["user_id"]), r["name"] or str(r["user_id"]))
        )
    return found


async def open_notices(db: Database, chat_id: int, limit: int = 20) -> list[Notice]:
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM notices WHERE chat_id = ? AND status = 'open'"
        " ORDER BY id DESC LIMIT ?",
        (chat_id, limit),
    )
    return [_notice(r) for r in rows]
