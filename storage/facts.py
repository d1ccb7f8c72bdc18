"""The facts board: a group's facts by folded key, and where the board is pinned."""

from __future__ import annotations

from datetime import datetime

from bot.domain.facts import MAX_FACTS, Fact
from storage.db import Database, to_db


async def all_of(db: Database, chat_id: int) -> list[Fact]:
    rows = await db.fetchall(
        "SELECT id, key, folded, text FROM facts WHERE chat_id = ? ORDER BY folded", (chat_id,)
    )
    return [Fact(int(r["id"]), str(r["key"]), str(r["folded"]), str(r["text"])) for r in rows]


async def put(
    db: Database, chat_id: int, key: str, folded: str, text: str, now: datetime
) -> bool | None:
    """Add the fact or replace the text of the one with the same folded key: True when new,
    False when replaced, ``None`` when the group already has :data:`MAX_FACTS`."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT id FROM facts WHERE chat_id = ? AND folded = ?", (chat_id, folded)
            )
        ).fetchone()
        if row is not None:
            await conn.execute(
                "UPDATE facts SET key = ?, text = ?, updated_at = ? WHERE id = ?",
                (key, text, to_db(now), row["id"]),
            )
            return False
        count = await (
            await conn.execute("SELECT count(*) FROM facts WHERE chat_id = ?", (chat_id,))
        ).fetchone()
        if count is not None and int(count[0]) >= MAX_FACTS:
            return None
        await conn.execute(
            "INSERT INTO facts (chat_id, key, folded, text, updated_at) VALUES (?, ?, ?, ?, ?)",
            (chat_id, key, folded, text, to_db(now)),
        )
        return True


async def remove(db: Database, chat_id: int, folded: str) -> bool:
    return (
        await db.write_one("DELETE FROM facts WHERE chat_id = ? AND folded = ?", (chat_id, folded))
        > 0
    )


async def board(db: Database, chat_id: int) -> int | None:
    """The message id of the group's pinned board, if any."""
    row = await db.fetchone("SELECT message_id FROM fact_boards WHERE chat_id = ?", (chat_id,))
    return int(row["message_id"]) if row and row["message_id"] is not None else None


async def set_board(db: Database, chat_id: int, message_id: int | None) -> None:
    await db.write_one(
        "INSERT INTO fact_boards (chat_id, message_id) VALUES (?, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET message_id = excluded.message_id",
        (chat_id, message_id),
    )
