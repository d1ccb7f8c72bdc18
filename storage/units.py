"""Households: the register of units of a group and the residents' claims to them.

Only what the rules need is stored: a unit's normalised label and optional floor area (an exact
fraction, numerator and denominator), and per claim the Telegram user id, a status and the lead
who decided. Labels are normalised by the caller (``bot.domain.units.normalize_label``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

import aiosqlite

from storage.db import Database, to_db

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    chat_id: int
    label: str
    area: Fraction | None


@dataclass(frozen=True, slots=True)
class Claim:
    unit_id: int
    chat_id: int
    user_id: int
    label: str
    status: str  # pending | approved | rejected
    decided_by: int | None


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the register: the unit, its approved members' names, claims waiting."""

    unit: Unit
    members: tuple[str, ...]
    pending: int


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int


def _area(row: aiosqlite.Row) -> Fraction | None:
    if row["area_num"] is None or row["area_den"] is None:
        return None
    return Fraction(row["area_num"], row["area_den"])


def _unit(row: aiosqlite.Row) -> Unit:
    return Unit(id=row["id"], chat_id=row["chat_id"], label=row["label"], area=_area(row))


def _claim(row: aiosqlite.Row) -> Claim:
    return Claim(
        unit_id=row["unit_id"],
        chat_id=row["chat_id"],
        user_id=row["user_id"],
        label=row["label"],
        status=row["status"],
        decided_by=row["decided_by"],
    )


def _parts(area: Fraction | None) -> tuple[int | None, int | None]:
    return (None, None) if area is None else (area.numerator, area.denominator)


_NATURAL = re.compile(r"(\d+)")


def natural_key(label: str) -> tuple[tuple[int, int | str], ...]:
    """Sort "3-502" before "10-101" and "2-9" before "2-10"."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in _NATURAL.split(label) if part
    )


_CLAIM_SQL = (
    "SELECT m.unit_id, m.chat_id, m.user_id, u.label, m.status, m.decided_by"
    " FROM unit_members m JOIN units u ON u.id = m.unit_id"
)


async def _ensure_unit(conn: aiosqlite.Connection, chat_id: int, label: str, now: datetime) -> int:
    await conn.execute(
        "INSERT INTO units (chat_id, label, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT (chat_id, label) DO NOTHING",
        (chat_id, label, to_db(now)),
    )
    row = await (
        await conn.execute("SELECT id FROM units WHERE chat_id = ? AND label = ?", (chat_id, label))
    ).fetchone()
    assert row is not None
    return int(row["id"])


async def get(db: Database, chat_id: int, label: str) -> Unit | None:
    row = await db.fetchone(
        "SELECT id, chat_id, label, area_num, area_den FROM units WHERE chat_id = ? AND label = ?",
        (chat_id, label),
    )
    return _unit(row) if row else None


async def claim(
    db: Database, chat_id: int, label: str, user_id: int, *, approved: bool, now: datetime
) -> tuple[Claim, str | None, bool]:
    """A resident claims ``label`` (the unit is created when the register lacks it).

    Returns (the claim now, its status before or None if new, whether the unit was created).
    An approved claim stays approved and a pending one stays pending; a rejected one becomes a
    new request (or is approved at once when ``approved``).
    """
    status = APPROVED if approved else PENDING
    async with db.write() as conn:
        existed = await (
            await conn.execute(
                "SELECT 1 FROM units WHERE chat_id = ? AND label = ?", (chat_id, label)
            )
        ).fetchone()
        unit_id = await _ensure_unit(conn, chat_id, label, now)
        row = await (
            await conn.execute(
                "SELECT status FROM unit_members WHERE unit_id = ? AND user_id = ?",
                (unit_id, user_id),
            )
        ).fetchone()
        before = row["status"] if row else None
        if before is None:
            await conn.execute(
                "INSERT INTO unit_members (unit_id, chat_id, user_id, status, requested_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (unit_id, chat_id, user_id, status, to_db(now)),
            )
        elif before == REJECTED or (before == PENDING and approved):
            await conn.execute(
                "UPDATE unit_members SET status = ?, requested_at = ?, decided_by = NULL"
                " WHERE unit_id = ? AND user_id = ?",
                (status, to_db(now), unit_id, user_id),
            )
    found = await get_claim(db, chat_id, unit_id, user_id)
    assert found is not None
    return found, before, existed is None


async def get_claim(db: Database, chat_id: int, unit_id: int, user_id: int) -> Claim | None:
    """The claim, only if its unit belongs to ``chat_id`` (callback data is never trusted)."""
    row = await db.fetchone(
        f"{_CLAIM_SQL} WHERE m.unit_id = ? AND m.user_id = ? AND u.chat_id = ?",
        (unit_id, user_id, chat_id),
    )
    return _claim(row) if row else None


async def decide(
    db: Database, chat_id: int, unit_id: int, user_id: int, *, approve: bool, by: int
) -> bool:
    """Approve or reject a pending claim. False if it is not (or no longer) pending here."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE unit_members SET status = ?, decided_by = ?"
            " WHERE unit_id = ? AND user_id = ? AND chat_id = ? AND status = 'pending'",
            (APPROVED if approve else REJECTED, by, unit_id, user_id, chat_id),
        )
        return cur.rowcount == 1


async def claims_of(db: Database, chat_id: int, user_id: int) -> list[Claim]:
    rows = await db.fetchall(
        f"{_CLAIM_SQL} WHERE m.chat_id = ? AND m.user_id = ?", (chat_id, user_id)
    )
    return sorted((_claim(r) for r in rows), key=lambda c: natural_key(c.label))


async def add(
    db: Database, chat_id: int, label: str, area: Fraction | None, now: datetime
) -> tuple[Unit, bool, bool]:
    """Add a unit or update its area: (unit, created, area changed). ``None`` keeps the area."""
    result = await import_rows(db, chat_id, [(label, area)], now)
    unit = await get(db, chat_id, label)
    assert unit is not None
    return unit, result.added == 1, result.updated == 1


async def import_rows(
    db: Database, chat_id: int, rows: Iterable[tuple[str, Fraction | None]], now: datetime
) -> ImportResult:
    """Add or update many units in one transaction. Never duplicates: a known label gets the
    new area (a row without an area leaves the stored one alone)."""
    added = updated = unchanged = 0
    async with db.write() as conn:
        for label, area in rows:
            row = await (
                await conn.execute(
                    "SELECT id, area_num, area_den FROM units WHERE chat_id = ? AND label = ?",
                    (chat_id, label),
                )
            ).fetchone()
            num, den = _parts(area)
            if row is None:
                await conn.execute(
                    "INSERT INTO units (chat_id, label, area_num, area_den, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (chat_id, label, num, den, to_db(now)),
                )
                added += 1
            elif area is not None and _area(row) != area:
                await conn.execute(
                    "UPDATE units SET area_num = ?, area_den = ? WHERE id = ?",
                    (num, den, row["id"]),
                )
                updated += 1
            else:
                unchanged += 1
    return ImportResult(added, updated, unchanged)


async def remove(db: Database, chat_id: int, label: str) -> bool:
    """Remove a unit and every claim to it. False if there was none."""
    async with db.write() as conn:
        cur = await conn.execute(
            "DELETE FROM units WHERE chat_id = ? AND label = ?", (chat_id, label)
        )
        return cur.rowcount == 1


async def register(db: Database, chat_id: int) -> list[Entry]:
    """The group's units in natural label order, each with its approved members' names."""
    units_ = await db.fetchall(
        "SELECT id, chat_id, label, area_num, area_den FROM units WHERE chat_id = ?", (chat_id,)
    )
    people = await db.fetchall(
        "SELECT m.unit_id, m.user_id, m.status, mb.display_name FROM unit_members m"
        " LEFT JOIN members mb ON mb.chat_id = m.chat_id AND mb.user_id = m.user_id"
        " WHERE m.chat_id = ? AND m.status IN ('approved', 'pending')"
        " ORDER BY mb.display_name COLLATE NOCASE",
        (chat_id,),
    )
    names: dict[int, list[str]] = {}
    pending: dict[int, int] = {}
    for p in people:
        if p["status"] == APPROVED:
            names.setdefault(p["unit_id"], []).append(p["display_name"] or str(p["user_id"]))
        else:
            pending[p["unit_id"]] = pending.get(p["unit_id"], 0) + 1
    entries = [
        Entry(unit=_unit(r), members=tuple(names.get(r["id"], ())), pending=pending.get(r["id"], 0))
        for r in units_
    ]
    return sorted(entries, key=lambda e: natural_key(e.unit.label))


async def count(db: Database, chat_id: int) -> int:
    row = await db.fetchone("SELECT count(*) AS n FROM units WHERE chat_id = ?", (chat_id,))
    return int(row["n"]) if row else 0


async def groups_of(db: Database, user_id: int, limit: int = 50) -> list[int]:
    """Active groups where we have met this user (newest chat rows first), for the CSV import."""
    rows = await db.fetchall(
        "SELECT c.id FROM members m JOIN chats c ON c.id = m.chat_id"
        " WHERE m.user_id = ? AND c.active = 1 AND c.type IN ('group', 'supergroup')"
        " ORDER BY c.joined_at DESC LIMIT ?",
        (user_id, limit),
    )
    return [int(r["id"]) for r in rows]
