"""Members we have met in a chat: Telegram user id, display name, granted role, and whether
they are in the group now (``status``). Nothing else: no times.

Presence: ``member`` once Telegram says so (a join, a ``chat_member`` update, getChatMember) or a
message or press comes from them in a group that only its members can see; ``left`` once
Telegram says they left or were removed; ``None`` while nothing proves either. Leaving suspends
the person's approved unit claims (``unit_members.status = 'suspended'``) in the same
transaction; only a lead restores them (:func:`restore_claims`), never a return on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.roles import Role
from storage.db import Database
from storage.units import natural_key

_STORED = {Role.RESIDENT: "resident", Role.ORGANIZER: "organizer"}

PRESENT = "member"
LEFT = "left"


@dataclass(frozen=True, slots=True)
class Member:
    chat_id: int
    user_id: int
    display_name: str
    role: Role
    status: str | None = None  # PRESENT, LEFT or None (not known)


@dataclass(frozen=True, slots=True)
class Departure:
    """What leaving changed: whether we thought them present before, and the labels of the
    unit claims it suspended (natural order)."""

    changed: bool
    suspended: tuple[str, ...]


async def seen(
    db: Database,
    chat_id: int,
    user_id: int,
    display_name: str,
    now: datetime,
    *,
    present: bool = False,
) -> None:
    """Remember that this member used the bot (keeps their granted role). ``present``: the
    update itself proves they are in the group (a private group's message or press); it never
    overrides Telegram's word that they left."""
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO members (chat_id, user_id, display_name, status) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (chat_id, user_id) DO UPDATE SET display_name = excluded.display_name,"
            " status = coalesce(members.status, excluded.status)",
            (chat_id, user_id, display_name, PRESENT if present else None),
        )


async def presence(db: Database, chat_id: int, user_id: int) -> str | None:
    """PRESENT, LEFT, or None when we have no word either way (or never met them)."""
    row = await db.fetchone(
        "SELECT status FROM members WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
    )
    return str(row["status"]) if row and row["status"] is not None else None


async def joined(
    db: Database, chat_id: int, user_id: int, display_name: str | None, now: datetime
) -> bool:
    """Telegram says they are in the group. Returns True if we did not know it. Suspended unit
    claims stay suspended: only a lead restores them. Someone we never met gets a row only
    with ``display_name`` (when they are using the bot), not for a join alone."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT status FROM members WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
            )
        ).fetchone()
        if row is None:
            if display_name is None:
                return True  # nothing to store a row with; the next update brings the name
            await conn.execute(
                "INSERT INTO members (chat_id, user_id, display_name, status)"
                " VALUES (?, ?, ?, 'member')",
                (chat_id, user_id, display_name),
            )
            return True
        await conn.execute(
            "UPDATE members SET status = 'member',"
            " display_name = coalesce(?, display_name) WHERE chat_id = ? AND user_id = ?",
            (display_name, chat_id, user_id),
        )
        return bool(row["status"] != PRESENT)


async def departed(
    db: Database, chat_id: int, user_id: int, display_name: str | None, now: datetime
) -> Departure:
    """Telegram says they left (or were removed): mark them, and suspend their approved unit
    claims in the same transaction. A second report of the same departure changes nothing.
    Someone we never met gets no row (if they press later, Telegram is asked) unless they hold
    claims."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT status FROM members WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
            )
        ).fetchone()
        labels = [
            str(r["label"])
            for r in await (
                await conn.execute(
                    "SELECT u.label FROM unit_members m JOIN units u ON u.id = m.unit_id"
                    " WHERE m.chat_id = ? AND m.user_id = ? AND m.status = 'approved'",
                    (chat_id, user_id),
                )
            ).fetchall()
        ]
        if row is not None and row["status"] != LEFT:
            await conn.execute(
                "UPDATE members SET status = 'left' WHERE chat_id = ? AND user_id = ?",
                (chat_id, user_id),
            )
        elif row is None and labels and display_name is not None:
            # met through their claims only: written down, as the register names them
            await conn.execute(
                "INSERT INTO members (chat_id, user_id, display_name, status)"
                " VALUES (?, ?, ?, 'left')",
                (chat_id, user_id, display_name),
            )
        if labels:
            await conn.execute(
                "UPDATE unit_members SET status = 'suspended'"
                " WHERE chat_id = ? AND user_id = ? AND status = 'approved'",
                (chat_id, user_id),
            )
    changed = row is None or row["status"] != LEFT
    return Departure(changed=changed, suspended=tuple(sorted(labels, key=natural_key)))


async def suspended_claims(db: Database, chat_id: int, user_id: int) -> list[str]:
    rows = await db.fetchall(
        "SELECT u.label FROM unit_members m JOIN units u ON u.id = m.unit_id"
        " WHERE m.chat_id = ? AND m.user_id = ? AND m.status = 'suspended'",
        (chat_id, user_id),
    )
    return sorted((str(r["label"]) for r in rows), key=natural_key)


async def restore_claims(db: Database, chat_id: int, user_id: int, *, by: int) -> list[str]:
    """A lead restores the person's suspended claims (approved again, decided by the lead).
    Returns the labels restored (none if another lead was first)."""
    async with db.write() as conn:
        rows = await (
            await conn.execute(
                "SELECT u.label FROM unit_members m JOIN units u ON u.id = m.unit_id"
                " WHERE m.chat_id = ? AND m.user_id = ? AND m.status = 'suspended'",
                (chat_id, user_id),
            )
        ).fetchall()
        await conn.execute(
            "UPDATE unit_members SET status = 'approved', decided_by = ?"
            " WHERE chat_id = ? AND user_id = ? AND status = 'suspended'",
            (by, chat_id, user_id),
        )
    return sorted((str(r["label"]) for r in rows), key=natural_key)


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
    """ORGANIZER if granted here and not gone from the group, else RESIDENT (leads are decided
    by Telegram, not stored)."""
    row = await db.fetchone(
        "SELECT role, status FROM members WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
    )
    if row and row["role"] == "organizer" and row["status"] != LEFT:
        return Role.ORGANIZER
    return Role.RESIDENT


async def organizers(db: Database, chat_id: int) -> list[Member]:
    rows = await db.fetchall(
        "SELECT user_id, display_name, status FROM members WHERE chat_id = ?"
        " AND role = 'organizer' ORDER BY display_name COLLATE NOCASE",
        (chat_id,),
    )
    return [
        Member(chat_id, r["user_id"], r["display_name"], Role.ORGANIZER, r["status"]) for r in rows
    ]


async def get(db: Database, chat_id: int, user_id: int) -> Member | None:
    row = await db.fetchone(
        "SELECT display_name, role, status FROM members WHERE chat_id = ? AND user_id = ?",
        (chat_id, user_id),
    )
    if row is None:
        return None
    role = Role.ORGANIZER if row["role"] == "organizer" else Role.RESIDENT
    return Member(chat_id, user_id, row["display_name"], role, row["status"])


async def count(db: Database, chat_id: int) -> int:
    """Members we have met who have not left."""
    row = await db.fetchone(
        "SELECT count(*) AS n FROM members WHERE chat_id = ? AND status IS NOT 'left'",
        (chat_id,),
    )
    return int(row["n"]) if row else 0
