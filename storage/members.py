"""Members we have met in a chat: Telegram user id, display name, granted role. Nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.roles import Role
from storage.db import Database

_STORED = {Role.RESIDENT: "resident", Role.ORGANIZER: "organizer"}


@dataclass(frozen=True, slots=True)
class Member:
    chat_id: int
    user_id: int
    display_name: str
    role: Role


async def seen(db: Database, chat_id: int, user_id: int, display_name: str, now: datetime) -> None:
    """Remember that this member used the bot (keeps their granted role)."""
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO members (chat_id, user_id, display_name) VALUES (?, ?, ?)"
            " ON CONFLICT (chat_id, user_id) DO UPDATE SET display_name = excluded.display_name",
            (chat_id, user_id, display_name),
        )


async def set_role(
    db: Database, chat_id: int, user_id: int, display_name: str, role: Role, now: datetime
) -> bool:
    """Grant (ORGANIZER) or revoke (RESIDENT). Returns True if the stored role changed."""
    if role not in _STORED:
        raise ValueError("leads are the chat's administrators; that role is not stored")
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT role FROM members WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
            )
        ).fetchone()
        before = row["role"] if row else "resident"
        await conn.execute(
            "INSERT INTO members (chat_id, user_id, display_name, role) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (chat_id, user_id) DO UPDATE SET"
            " display_name = excluded.display_name, role = excluded.role",
            (chat_id, user_id, display_name, _STORED[role]),
        )
        return before != _STORED[role]


async def stored_role(db: Database, chat_id: int, user_id: int) -> Role:
    """ORGANIZER if granted here, else RESIDENT (leads are decided by Telegram, not stored)."""
    row = await db.fetchone(
        "SELECT role FROM members WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
    )
    return Role.ORGANIZER if row and row["role"] == "organizer" else Role.RESIDENT


async def organizers(db: Database, chat_id: int) -> list[Member]:
    rows = await db.fetchall(
        "SELECT user_id, display_name FROM members WHERE chat_id = ? AND role = 'organizer'"
        " ORDER BY display_name COLLATE NOCASE",
        (chat_id,),
    )
    return [Member(chat_id, r["user_id"], r["display_name"], Role.ORGANIZER) for r in rows]


async def get(db: Database, chat_id: int, user_id: int) -> Member | None:
    row = await db.fetchone(
        "SELECT display_name, role FROM members WHERE chat_id = ? AND user_id = ?",
        (chat_id, user_id),
    )
    if row is None:
        return None
    role = Role.ORGANIZER if row["role"] == "organizer" else Role.RESIDENT
    return Member(chat_id, user_id, row["display_name"], role)


async def count(db: Database, chat_id: int) -> int:
    row = await db.fetchone("SELECT count(*) AS n FROM members WHERE chat_id = ?", (chat_id,))
    return int(row["n"]) if row else 0
