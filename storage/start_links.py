"""Deep links bound to one person, one group and one promise, with an expiry."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db, to_db


@dataclass(frozen=True, slots=True)
class StartLink:
    token: str
    user_id: int
    chat_id: int
    kind: str
    args: str
    expires_at: datetime


async def issue(
    db: Database,
    *,
    user_id: int,
    chat_id: int,
    kind: str,
    args: str = "",
    now: datetime,
    expires_at: datetime,
) -> str:
    """A new token (16 random URL-safe characters: 96 bits); old expired links are removed in
    the same transaction, so the table holds only what can still be opened."""
    token = secrets.token_urlsafe(12)
    async with db.write() as conn:
        await conn.execute("DELETE FROM start_links WHERE expires_at <= ?", (to_db(now),))
        await conn.execute(
            "INSERT INTO start_links (token, user_id, chat_id, kind, args, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token, user_id, chat_id, kind, args, to_db(now), to_db(expires_at)),
        )
    return token


async def get(db: Database, token: str) -> StartLink | None:
    row = await db.fetchone(
        "SELECT token, user_id, chat_id, kind, args, expires_at FROM start_links WHERE token = ?",
        (token,),
    )
    if row is None:
        return None
    return StartLink(
        row["token"],
        row["user_id"],
        row["chat_id"],
        row["kind"],
        row["args"],
        from_db(row["expires_at"]),
    )


async def opened(db: Database, token: str, now: datetime) -> None:
    await db.write_one("UPDATE start_links SET opened_at = ? WHERE token = ?", (to_db(now), token))
