"""Households: the register of units of a group and the residents' claims to them.

Only what the rules need is stored: a unit's normalised label and optional floor area (an exact
fraction, numerator and denominator), and per claim the Telegram user id, a status and the lead
who decided. Labels are normalised by the caller (``bot.domain.units.normalize_label``).

Who changes the register: only a lead. A resident's claim to a label the register has is a
claim to that unit (``unit_members``); a claim to a label it does not have is a *request* that
names the label (``unit_requests``) and adds nothing: a lead's approval of it adds the unit.
``/units add``, the CSV import, a lead's own claim and that approval are the only ways a unit
appears; each of them, and every removal or area change, calls
``storage.decisions.register_changed`` inside the same write transaction, so open decisions learn
of it as an audited act (or refuse it, and nothing is written).

Look-alikes: a unit is found by its skeleton (``bot.domain.units.skeleton``), so "1-О1" with a
Cyrillic О or "١-٠١" finds unit 1-01, and no second unit that looks the same can be added; the
label shown is the one first registered. The register is small, so the skeletons are computed
in Python inside the write transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction

import aiosqlite

from bot.domain.errors import DomainError
from bot.domain.units import part_key, skeleton
from storage.db import Database, from_db, to_db

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
#: Set when the holder left the group (until a lead restores it): shown, never counted.
SUSPENDED = "suspended"
#: Most requests naming new labels one resident may have waiting in a group (a household rarely
#: has more than a couple of units; a hostile resident must not fill the leads' card).
MAX_REQUESTS = 3


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    chat_id: int
    label: str
    area: Fraction | None
    part: str | None = None  # the part of the building (entrance, building), as a lead wrote it


@dataclass(frozen=True, slots=True)
class Claim:
    """A resident's claim. ``request_id`` is set (and ``unit_id`` is 0) for a request naming a
    label that is not in the register."""

    unit_id: int
    chat_id: int
    user_id: int
    label: str
    status: str  # pending | approved | rejected | suspended
    decided_by: int | None
    request_id: int | None = None

    @property
    def is_request(self) -> bool:
        return self.request_id is not None


@dataclass(frozen=True, slots=True)
class Waiting:
    """One line of the approval card: a pending claim or request, with the resident's name."""

    claim: Claim
    name: str
    requested_at: datetime
    left: bool = False  # the resident has left the group since (approving needs a confirmation)


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the register: the unit, its approved members' names, claims waiting."""

    unit: Unit
    members: tuple[str, ...]
    pending: int
    suspended: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    decisions: tuple[int, ...] = ()  # open decisions touched (refresh their cards)


@dataclass(frozen=True, slots=True)
class Added:
    unit: Unit
    created: bool
    changed: bool
    decisions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Claimed:
    claim: Claim
    before: str | None  # its status before, None if new
    created: bool  # a lead's act added the unit to the register
    decisions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Decided:
    claim: Claim  # as it is now
    created: bool  # approving a request added its unit
    decisions: tuple[int, ...]


def _area(row: aiosqlite.Row) -> Fraction | None:
    if row["area_num"] is None or row["area_den"] is None:
        return None
    return Fraction(row["area_num"], row["area_den"])


def _unit(row: aiosqlite.Row) -> Unit:
    return Unit(
        id=row["id"],
        chat_id=row["chat_id"],
        label=row["label"],
        area=_area(row),
        part=row["part"],
    )


def _claim(row: aiosqlite.Row) -> Claim:
    return Claim(
        unit_id=row["unit_id"],
        chat_id=row["chat_id"],
        user_id=row["user_id"],
        label=row["label"],
        status=row["status"],
        decided_by=row["decided_by"],
    )


def _request(row: aiosqlite.Row) -> Claim:
    return Claim(
        unit_id=0,
        chat_id=row["chat_id"],
        user_id=row["user_id"],
        label=row["label"],
        status=row["status"],
        decided_by=row["decided_by"],
        request_id=row["id"],
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
_REQUEST_SQL = (
    "SELECT id, chat_id, user_id, label, status, decided_by, requested_at FROM unit_requests"
)
_UNIT_SQL = "SELECT id, chat_id, label, area_num, area_den, part FROM units"


async def _register_changed(
    conn: aiosqlite.Connection,
    chat_id: int,
    *,
    kind: str,
    unit: Unit,
    area: Fraction | None,
    old_area: Fraction | None,
    by: int | None,
    now: datetime,
) -> list[int]:
    """Tell open decisions of a lead's change, inside the caller's transaction (may raise a
    DomainError, which rolls the change back)."""
    from storage import decisions  # decisions build on units, not the reverse

    return await decisions.register_changed(
        conn,
        chat_id,
        kind=kind,
        unit_id=unit.id,
        label=unit.label,
        area=area,
        old_area=old_area,
        by_user=by or 0,
        now=now,
        part=unit.part,
    )


async def _units_by_skeleton(conn: aiosqlite.Connection, chat_id: int) -> dict[str, Unit]:
    """The chat's units by skeleton; of look-alikes stored before skeletons were kept, the
    first registered wins."""
    rows = await (
        await conn.execute(f"{_UNIT_SQL} WHERE chat_id = ? ORDER BY id", (chat_id,))
    ).fetchall()
    found: dict[str, Unit] = {}
    for row in rows:
        found.setdefault(skeleton(row["label"]), _unit(row))
    return found


async def _find(conn: aiosqlite.Connection, chat_id: int, label: str) -> Unit | None:
    return (await _units_by_skeleton(conn, chat_id)).get(skeleton(label))


async def _insert_unit(
    conn: aiosqlite.Connection,
    chat_id: int,
    label: str,
    area: Fraction | None,
    now: datetime,
    part: str | None = None,
) -> Unit:
    num, den = _parts(area)
    cur = await conn.execute(
        "INSERT INTO units (chat_id, label, area_num, area_den, created_at, part)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (chat_id, label, num, den, to_db(now), part or None),
    )
    assert cur.lastrowid is not None
    return Unit(id=cur.lastrowid, chat_id=chat_id, label=label, area=area, part=part or None)


async def get(db: Database, chat_id: int, label: str) -> Unit | None:
    """The unit ``label`` names, look-alikes included (shown as first registered)."""
    rows = await db.fetchall(f"{_UNIT_SQL} WHERE chat_id = ? ORDER BY id", (chat_id,))
    wanted = skeleton(label)
    return next((_unit(r) for r in rows if skeleton(r["label"]) == wanted), None)


async def claim(
    db: Database, chat_id: int, label: str, user_id: int, *, approved: bool, now: datetime
) -> tuple[Claim, str | None, bool]:
    """:func:`claim_unit` as (claim, status before, unit created)."""
    done = await claim_unit(db, chat_id, label, user_id, approved=approved, now=now)
    return done.claim, done.before, done.created


async def claim_unit(
    db: Database,
    chat_id: int,
    label: str,
    user_id: int,
    *,
    approved: bool,
    now: datetime,
    by: int | None = None,
) -> Claimed:
    """A resident claims ``label``.

    A registered unit (found by skeleton): the claim is approved at once when ``approved``,
    else pending. An approved claim stays approved, a pending one pending, a suspended one
    suspended (only a lead restores it); a rejected one becomes a new request.

    A label the register does not have: without ``approved`` a pending *request* naming the
    label, and the register is left as it is (at most :data:`MAX_REQUESTS` waiting per resident,
    else ``DomainError("unit.too_many_requests")``). ``approved`` there is a lead's act (``by``, the
    lead; the claimant by default): the unit is added — a register change, told to open
    decisions in this transaction — with the claim approved.
    """
    status = APPROVED if approved else PENDING
    async with db.write() as conn:
        unit = await _find(conn, chat_id, label)
        touched: list[int] = []
        created = False
        if unit is None and not approved:
            return await _request_in(conn, chat_id, label, user_id, now)
        if unit is None:
            unit = await _insert_unit(conn, chat_id, label, None, now)
            created = True
            touched = await _register_changed(
                conn,
                chat_id,
                kind="added",
                unit=unit,
                area=None,
                old_area=None,
                by=by or user_id,
                now=now,
            )
        row = await (
            await conn.execute(
                "SELECT status FROM unit_members WHERE unit_id = ? AND user_id = ?",
                (unit.id, user_id),
            )
        ).fetchone()
        before = row["status"] if row else None
        if before is None:
            await conn.execute(
                "INSERT INTO unit_members (unit_id, chat_id, user_id, status, requested_at,"
                " decided_by) VALUES (?, ?, ?, ?, ?, ?)",
                (unit.id, chat_id, user_id, status, to_db(now), by if approved else None),
            )
        elif before == REJECTED or (before == PENDING and approved):
            await conn.execute(
                "UPDATE unit_members SET status = ?, requested_at = ?, decided_by = NULL"
                " WHERE unit_id = ? AND user_id = ?",
                (status, to_db(now), unit.id, user_id),
            )
        found = await (
            await conn.execute(
                f"{_CLAIM_SQL} WHERE m.unit_id = ? AND m.user_id = ?", (unit.id, user_id)
            )
        ).fetchone()
    assert found is not None
    return Claimed(_claim(found), before, created, tuple(touched))


async def _request_in(
    conn: aiosqlite.Connection, chat_id: int, label: str, user_id: int, now: datetime
) -> Claimed:
    key = skeleton(label)
    row = await (
        await conn.execute(
            f"{_REQUEST_SQL} WHERE chat_id = ? AND skeleton = ? AND user_id = ?",
            (chat_id, key, user_id),
        )
    ).fetchone()
    before = row["status"] if row else None
    if before != PENDING:
        waiting = await (
            await conn.execute(
                "SELECT count(*) AS n FROM unit_requests"
                " WHERE chat_id = ? AND user_id = ? AND status = 'pending'",
                (chat_id, user_id),
            )
        ).fetchone()
        if waiting is not None and waiting["n"] >= MAX_REQUESTS:
            raise DomainError("unit.too_many_requests", limit=MAX_REQUESTS)
    if row is None:
        await conn.execute(
            "INSERT INTO unit_requests (chat_id, user_id, label, skeleton, requested_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (chat_id, user_id, label, key, to_db(now)),
        )
    elif before == REJECTED:
        await conn.execute(
            "UPDATE unit_requests SET status = 'pending', requested_at = ?, decided_by = NULL"
            " WHERE id = ?",
            (to_db(now), row["id"]),
        )
    found = await (
        await conn.execute(
            f"{_REQUEST_SQL} WHERE chat_id = ? AND skeleton = ? AND user_id = ?",
            (chat_id, key, user_id),
        )
    ).fetchone()
    assert found is not None
    return Claimed(_request(found), before, False, ())


async def get_claim(db: Database, chat_id: int, unit_id: int, user_id: int) -> Claim | None:
    """The claim, only if its unit belongs to ``chat_id`` (callback data is never trusted)."""
    row = await db.fetchone(
        f"{_CLAIM_SQL} WHERE m.unit_id = ? AND m.user_id = ? AND u.chat_id = ?",
        (unit_id, user_id, chat_id),
    )
    return _claim(row) if row else None


async def get_request(db: Database, chat_id: int, request_id: int) -> Claim | None:
    """The request, only if it belongs to ``chat_id``."""
    row = await db.fetchone(f"{_REQUEST_SQL} WHERE id = ? AND chat_id = ?", (request_id, chat_id))
    return _request(row) if row else None


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


async def decide_request(
    db: Database, chat_id: int, request_id: int, *, approve: bool, by: int, now: datetime
) -> Decided | None:
    """A lead approves or rejects a request naming a label. None if it is not (or no longer)
    pending here.

    Rejecting leaves the register exactly as it was. Approving adds the unit (unless a lead
    added it, or a look-alike, meanwhile) — a register change told to open decisions in this
    transaction, which may refuse it with a DomainError (nothing is written then) — and makes
    the claim an approved claim to it; the request row goes.
    """
    async with db.write() as conn:
        row = await (
            await conn.execute(
                f"{_REQUEST_SQL} WHERE id = ? AND chat_id = ? AND status = 'pending'",
                (request_id, chat_id),
            )
        ).fetchone()
        if row is None:
            return None
        if not approve:
            await conn.execute(
                "UPDATE unit_requests SET status = 'rejected', decided_by = ? WHERE id = ?",
                (by, request_id),
            )
            return Decided(
                Claim(0, chat_id, row["user_id"], row["label"], REJECTED, by, request_id),
                False,
                (),
            )
        unit = await _find(conn, chat_id, row["label"])
        touched: list[int] = []
        created = unit is None
        if unit is None:
            unit = await _insert_unit(conn, chat_id, row["label"], None, now)
            touched = await _register_changed(
                conn, chat_id, kind="added", unit=unit, area=None, old_area=None, by=by, now=now
            )
        await conn.execute(
            "INSERT INTO unit_members (unit_id, chat_id, user_id, status, requested_at,"
            " decided_by) VALUES (?, ?, ?, 'approved', ?, ?)"
            " ON CONFLICT (unit_id, user_id) DO UPDATE SET status = 'approved',"
            " decided_by = excluded.decided_by"
            " WHERE unit_members.status IN ('pending', 'rejected')",
            (unit.id, chat_id, row["user_id"], row["requested_at"], by),
        )
        await conn.execute("DELETE FROM unit_requests WHERE id = ?", (request_id,))
        found = await (
            await conn.execute(
                f"{_CLAIM_SQL} WHERE m.unit_id = ? AND m.user_id = ?", (unit.id, row["user_id"])
            )
        ).fetchone()
    assert found is not None
    return Decided(_claim(found), created, tuple(touched))


async def claims_of(db: Database, chat_id: int, user_id: int) -> list[Claim]:
    """The user's claims here, requests naming a label included (``is_request``)."""
    rows = await db.fetchall(
        f"{_CLAIM_SQL} WHERE m.chat_id = ? AND m.user_id = ?", (chat_id, user_id)
    )
    asked = await db.fetchall(
        f"{_REQUEST_SQL} WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
    )
    found = [_claim(r) for r in rows] + [_request(r) for r in asked]
    return sorted(found, key=lambda c: natural_key(c.label))


async def waiting(db: Database, chat_id: int) -> list[Waiting]:
    """Every claim and request waiting for a lead here, oldest first, with names."""
    name = "coalesce(mb.display_name, '')"
    claims_ = await db.fetchall(
        "SELECT m.unit_id, m.chat_id, m.user_id, u.label, m.status, m.decided_by,"
        f" m.requested_at, {name} AS name, mb.status AS presence"
        " FROM unit_members m JOIN units u ON u.id = m.unit_id"
        " LEFT JOIN members mb ON mb.chat_id = m.chat_id AND mb.user_id = m.user_id"
        " WHERE m.chat_id = ? AND m.status = 'pending'",
        (chat_id,),
    )
    requests = await db.fetchall(
        "SELECT r.id, r.chat_id, r.user_id, r.label, r.status, r.decided_by, r.requested_at,"
        f" {name} AS name, mb.status AS presence FROM unit_requests r"
        " LEFT JOIN members mb ON mb.chat_id = r.chat_id AND mb.user_id = r.user_id"
        " WHERE r.chat_id = ? AND r.status = 'pending'",
        (chat_id,),
    )
    found = [
        Waiting(_claim(r), r["name"] or str(r["user_id"]), from_db(r["requested_at"]), _left(r))
        for r in claims_
    ] + [
        Waiting(_request(r), r["name"] or str(r["user_id"]), from_db(r["requested_at"]), _left(r))
        for r in requests
    ]
    return sorted(found, key=lambda w: (w.requested_at, natural_key(w.claim.label)))


def _left(row: aiosqlite.Row) -> bool:
    return bool(row["presence"] == "left")


async def restore(db: Database, chat_id: int, unit_id: int, user_id: int, *, by: int) -> bool:
    """A lead restores one suspended claim (approved again, decided by the lead). False if it
    is not (or no longer) suspended here."""
    changed = await db.write_one(
        "UPDATE unit_members SET status = 'approved', decided_by = ?"
        " WHERE unit_id = ? AND user_id = ? AND chat_id = ? AND status = 'suspended'",
        (by, unit_id, user_id, chat_id),
    )
    return changed == 1


async def suspended(db: Database, chat_id: int) -> list[Waiting]:
    """Claims suspended because their holder left the group (a lead may restore them)."""
    rows = await db.fetchall(
        "SELECT m.unit_id, m.chat_id, m.user_id, u.label, m.status, m.decided_by,"
        " m.requested_at, coalesce(mb.display_name, '') AS name"
        " FROM unit_members m JOIN units u ON u.id = m.unit_id"
        " LEFT JOIN members mb ON mb.chat_id = m.chat_id AND mb.user_id = m.user_id"
        " WHERE m.chat_id = ? AND m.status = ?",
        (chat_id, SUSPENDED),
    )
    found = [
        Waiting(_claim(r), r["name"] or str(r["user_id"]), from_db(r["requested_at"])) for r in rows
    ]
    return sorted(found, key=lambda w: natural_key(w.claim.label))


async def add(
    db: Database,
    chat_id: int,
    label: str,
    area: Fraction | None,
    now: datetime,
    *,
    by: int | None = None,
) -> tuple[Unit, bool, bool]:
    """:func:`add_unit` as (unit, created, area changed)."""
    done = await add_unit(db, chat_id, label, area, now, by=by)
    return done.unit, done.created, done.changed


async def add_unit(
    db: Database,
    chat_id: int,
    label: str,
    area: Fraction | None,
    now: datetime,
    *,
    by: int | None = None,
    part: str | None = None,
) -> Added:
    """A lead adds a unit or updates its area (and its part of the building: ``None`` keeps
    it, ``""`` takes the unit out of its part). ``None`` keeps the area. A look-alike of a
    registered label is that unit (its label as first registered)."""
    result = await import_rows(db, chat_id, [(label, area, part)], now, by=by)
    unit = await get(db, chat_id, label)
    assert unit is not None
    return Added(unit, result.added == 1, result.updated == 1, result.decisions)


async def import_rows(
    db: Database,
    chat_id: int,
    rows: Iterable[tuple[str, Fraction | None] | tuple[str, Fraction | None, str | None]],
    now: datetime,
    *,
    by: int | None = None,
) -> ImportResult:
    """A lead adds or updates many units in one transaction. Never duplicates, look-alikes
    included: a known label gets the new area (a row without an area leaves the stored one
    alone). A row's third value is the unit's part of the building (``None`` or no third value
    keeps it, ``""`` takes the unit out of its part); a part changes no open decision (their
    households were fixed when they opened). Every other change is told to open decisions in
    the same transaction; a DomainError from them rolls the whole import back."""
    added = updated = unchanged = 0
    touched: set[int] = set()
    async with db.write() as conn:
        known = await _units_by_skeleton(conn, chat_id)
        # one part, one spelling: "entrance  2" joins the "Entrance 2" already registered
        spelled: dict[str, str] = {}
        for held in sorted(known.values(), key=lambda u: u.id):
            if held.part:
                spelled.setdefault(part_key(held.part), held.part)
        for row in rows:
            label, area = row[0], row[1]
            part = row[2] if len(row) > 2 else None
            if part:
                part = spelled.setdefault(part_key(part), part)
            key = skeleton(label)
            unit = known.get(key)
            moved = False
            if unit is not None and part is not None and (unit.part or "") != part:
                await conn.execute(
                    "UPDATE units SET part = ? WHERE id = ?", (part or None, unit.id)
                )
                unit = known[key] = replace(unit, part=part or None)
                moved = True
            if unit is None:
                unit = known[key] = await _insert_unit(conn, chat_id, label, area, now, part)
                added += 1
                kind, old = "added", None
            elif area is not None and unit.area != area:
                num, den = _parts(area)
                await conn.execute(
                    "UPDATE units SET area_num = ?, area_den = ? WHERE id = ?",
                    (num, den, unit.id),
                )
                old = unit.area
                unit = known[key] = replace(unit, area=area)
                updated += 1
                kind = "area"
            else:
                if moved:
                    updated += 1
                else:
                    unchanged += 1
                continue
            touched.update(
                await _register_changed(
                    conn, chat_id, kind=kind, unit=unit, area=area, old_area=old, by=by, now=now
                )
            )
    return ImportResult(added, updated, unchanged, tuple(sorted(touched)))


async def remove(
    db: Database, chat_id: int, label: str, *, now: datetime, by: int | None = None
) -> tuple[Unit, tuple[int, ...]] | None:
    """A lead removes a unit and every claim to it: (the unit, open decisions touched), or
    None if there was none. A look-alike of its label finds it."""
    async with db.write() as conn:
        unit = await _find(conn, chat_id, label)
        if unit is None:
            return None
        touched = await _register_changed(
            conn,
            chat_id,
            kind="removed",
            unit=unit,
            area=None,
            old_area=unit.area,
            by=by,
            now=now,
        )
        await conn.execute("DELETE FROM units WHERE id = ?", (unit.id,))
    return unit, tuple(touched)


async def register(db: Database, chat_id: int) -> list[Entry]:
    """The group's units in natural label order, each with its approved members' names (and
    the names of suspended claims apart: they never count as approved)."""
    units_ = await db.fetchall(f"{_UNIT_SQL} WHERE chat_id = ?", (chat_id,))
    people = await db.fetchall(
        "SELECT m.unit_id, m.user_id, m.status, mb.display_name FROM unit_members m"
        " LEFT JOIN members mb ON mb.chat_id = m.chat_id AND mb.user_id = m.user_id"
        " WHERE m.chat_id = ? AND m.status IN ('approved', 'pending', ?)"
        " ORDER BY mb.display_name COLLATE NOCASE",
        (chat_id, SUSPENDED),
    )
    names: dict[int, list[str]] = {}
    away: dict[int, list[str]] = {}
    pending: dict[int, int] = {}
    for p in people:
        who = p["display_name"] or str(p["user_id"])
        if p["status"] == APPROVED:
            names.setdefault(p["unit_id"], []).append(who)
        elif p["status"] == SUSPENDED:
            away.setdefault(p["unit_id"], []).append(who)
        else:
            pending[p["unit_id"]] = pending.get(p["unit_id"], 0) + 1
    entries = [
        Entry(
            unit=_unit(r),
            members=tuple(names.get(r["id"], ())),
            pending=pending.get(r["id"], 0),
            suspended=tuple(away.get(r["id"], ())),
        )
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


# --- the approval card ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueCard:
    chat_id: int
    message_id: int
    page: int
    posted_at: datetime
    thread_id: int | None = None  # the forum topic it was posted in (None: General)


async def queue_card(db: Database, chat_id: int) -> QueueCard | None:
    row = await db.fetchone(
        "SELECT chat_id, message_id, page, posted_at, thread_id FROM unit_queue_cards"
        " WHERE chat_id = ?",
        (chat_id,),
    )
    if row is None:
        return None
    return QueueCard(
        row["chat_id"],
        row["message_id"],
        row["page"],
        from_db(row["posted_at"]),
        row["thread_id"],
    )


async def set_queue_card(
    db: Database,
    chat_id: int,
    message_id: int,
    *,
    page: int = 0,
    now: datetime,
    thread_id: int | None = None,
) -> None:
    """The group's approval card is now ``message_id``, in the forum topic ``thread_id``."""
    await db.write_one(
        "INSERT INTO unit_queue_cards (chat_id, message_id, page, posted_at, thread_id)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET message_id = excluded.message_id,"
        " page = excluded.page, posted_at = excluded.posted_at, thread_id = excluded.thread_id",
        (chat_id, message_id, page, to_db(now), thread_id),
    )


async def set_queue_page(db: Database, chat_id: int, message_id: int, page: int) -> None:
    await db.write_one(
        "UPDATE unit_queue_cards SET page = ? WHERE chat_id = ? AND message_id = ?",
        (page, chat_id, message_id),
    )


async def parts(db: Database, chat_id: int) -> list[str]:
    """The parts of the building the register names (as first spelled), in natural order: for
    features that scope to a part (a decision, a notice, a roll-call)."""
    rows = await db.fetchall(
        "SELECT part FROM units WHERE chat_id = ? AND part IS NOT NULL ORDER BY id", (chat_id,)
    )
    named: dict[str, str] = {}
    for row in rows:
        named.setdefault(part_key(row["part"]), row["part"])
    return sorted(named.values(), key=natural_key)


async def of_part(db: Database, chat_id: int, part: str) -> list[Unit]:
    """The units of one part of the building (any spelling of it), in natural label order."""
    wanted = part_key(part)
    rows = await db.fetchall(
        f"{_UNIT_SQL} WHERE chat_id = ? AND part IS NOT NULL ORDER BY id", (chat_id,)
    )
    found = [_unit(r) for r in rows if part_key(r["part"]) == wanted]
    return sorted(found, key=lambda u: natural_key(u.label))
