"""Volunteer hours: claims of roster slots ("I did it"), the organizer's decision, totals, and
whether a volunteer's first name may be thanked in the group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.domain.hours import CLAIMED
from storage.db import Database, from_db, to_db


@dataclass(frozen=True, slots=True)
class Claim:
    id: int
    slot_id: int
    chat_id: int
    user_id: int
    minutes: int
    status: str
    worked_at: datetime
    roster_id: int
    roster_title: str
    creator_id: int
    starts_at: datetime
    ends_at: datetime
    message_id: int | None


_SQL = (
    "SELECT h.id, h.slot_id, h.chat_id, h.user_id, h.minutes, h.status, h.worked_at,"
    " h.message_id, s.roster_id, s.starts_at, s.ends_at, r.title, r.creator_id"
    " FROM volunteer_hours h JOIN roster_slots s ON s.id = h.slot_id"
    " JOIN rosters r ON r.id = s.roster_id"
)


def _claim(row: aiosqlite.Row) -> Claim:
    return Claim(
        id=int(row["id"]),
        slot_id=int(row["slot_id"]),
        chat_id=int(row["chat_id"]),
        user_id=int(row["user_id"]),
        minutes=int(row["minutes"]),
        status=str(row["status"]),
        worked_at=from_db(row["worked_at"]),
        roster_id=int(row["roster_id"]),
        roster_title=str(row["title"]),
        creator_id=int(row["creator_id"]),
        starts_at=from_db(row["starts_at"]),
        ends_at=from_db(row["ends_at"]),
        message_id=row["message_id"],
    )


async def get(db: Database, claim_id: int) -> Claim | None:
    row = await db.fetchone(f"{_SQL} WHERE h.id = ?", (claim_id,))
    return _claim(row) if row else None


async def status_of(db: Database, slot_id: int, user_id: int) -> str | None:
    row = await db.fetchone(
        "SELECT status FROM volunteer_hours WHERE slot_id = ? AND user_id = ?", (slot_id, user_id)
    )
    return str(row["status"]) if row else None


async def claim(
    db: Database,
    *,
    slot_id: int,
    chat_id: int,
    user_id: int,
    minutes: int,
    worked_at: datetime,
    now: datetime,
) -> int | None:
    """Record "I did it"; ``None`` when this volunteer already claimed the slot (two presses at
    once: the second finds the first)."""
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT OR IGNORE INTO volunteer_hours"
            " (slot_id, chat_id, user_id, minutes, worked_at, claimed_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (slot_id, chat_id, user_id, minutes, to_db(worked_at), to_db(now)),
        )
        return int(cur.lastrowid) if cur.rowcount == 1 and cur.lastrowid else None


async def decide(
    db: Database, claim_id: int, rule: Callable[[str], str], now: datetime
) -> str | None:
    """Apply the organizer's decision (``rule(status) -> new status`` may refuse) exactly once;
    the new status, or ``None`` when there is no such claim."""
    async with db.write() as conn:
        row = await (
            await conn.execute("SELECT status FROM volunteer_hours WHERE id = ?", (claim_id,))
        ).fetchone()
        if row is None:
            return None
        status = rule(str(row["status"]))
        await conn.execute(
            "UPDATE volunteer_hours SET status = ?, decided_at = ? WHERE id = ? AND status = ?",
            (status, to_db(now), claim_id, CLAIMED),
        )
        return status


async def set_message(db: Database, claim_id: int, message_id: int) -> None:
    await db.write_one(
        "UPDATE volunteer_hours SET message_id = ? WHERE id = ?", (message_id, claim_id)
    )


async def mine(db: Database, user_id: int) -> list[tuple[int, datetime, int, str]]:
    """The person's claims: (chat id, slot start, minutes, status)."""
    rows = await db.fetchall(
        "SELECT chat_id, worked_at, minutes, status FROM volunteer_hours WHERE user_id = ?",
        (user_id,),
    )
    return [
        (int(r["chat_id"]), from_db(r["worked_at"]), int(r["minutes"]), str(r["status"]))
        for r in rows
    ]


async def approved_in(db: Database, chat_id: int) -> list[tuple[int, datetime, int]]:
    """The group's approved hours: (user id, slot start, minutes)."""
    rows = await db.fetchall(
        "SELECT user_id, worked_at, minutes FROM volunteer_hours"
        " WHERE chat_id = ? AND status = 'approved'",
        (chat_id,),
    )
    return [(int(r["user_id"]), from_db(r["worked_at"]), int(r["minutes"])) for r in rows]


async def set_public(db: Database, chat_ids: list[int], user_id: int, public: bool) -> None:
    async with db.write() as conn:
        for chat_id in chat_ids:
            await conn.execute(
                "INSERT INTO volunteer_prefs (chat_id, user_id, public) VALUES (?, ?, ?)"
                " ON CONFLICT (chat_id, user_id) DO UPDATE SET public = excluded.public",
                (chat_id, user_id, int(public)),
            )


async def public_names(db: Database, chat_id: int, user_ids: list[int]) -> list[str]:
    """Display names of the given volunteers who allowed thanks by name, in name order."""
    if not user_ids:
        return []
    marks = ", ".join("?" for _ in user_ids)
    rows = await db.fetchall(
        "SELECT m.display_name FROM volunteer_prefs p JOIN members m"
        " ON m.chat_id = p.chat_id AND m.user_id = p.user_id"
        f" WHERE p.chat_id = ? AND p.public = 1 AND p.user_id IN ({marks})"
        " ORDER BY m.display_name COLLATE NOCASE",
        (chat_id, *user_ids),
    )
    return [str(r["display_name"]) for r in rows]


async def is_public(db: Database, chat_id: int, user_id: int) -> bool:
    row = await db.fetchone(
        "SELECT public FROM volunteer_prefs WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
    )
    return bool(row and row["public"])
