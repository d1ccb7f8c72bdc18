"""Formal decisions: the decision, one current ballot per unit, the audit trail, and the final
totals. The scheduled row that closes a decision at its deadline (kind ``decision_close``) is
written in the same transaction as the decision.

The electorate (``decision_units``): the units a decision counts, with their labels and areas,
is copied from the register in the transaction that opens it. From then on the live register is
never read for the count: only :func:`register_changed` (a lead's change to the register, called
inside the register's own write transaction) reaches an open decision, as an audit entry its card
and outcome name. A ballot counts only while its unit is in the electorate under the same id and
label; a removed unit's ballot stays stored and is listed as no longer counting.

Secret decisions: while open, each unit's current choice is stored (exact area counting needs
it), only sealed under the decision's key in the keys folder (storage/secrets.py), and never
shown; the audit trail never holds a choice. At closing the final totals are
computed and stored, and only then every per-unit choice is set to NULL, in the same
transaction; a count that cannot be made (a unit without an area under an area rule) refuses the
close and destroys nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

import aiosqlite

from bot.domain.decisions import Totals, parse_rule
from bot.domain.errors import DomainError
from bot.domain.units import part_key
from storage import scheduled
from storage import secrets as sealing
from storage.db import Database, from_db, to_db
from storage.units import Unit, natural_key

KIND = "decision_close"
OPEN = "open"
CLOSED = "closed"
#: Kinds of a lead's register change that reach an open decision (see :func:`register_changed`).
ADDED = "added"
REMOVED = "removed"
AREA = "area"
CHANGES = (ADDED, REMOVED, AREA)


@dataclass(frozen=True, slots=True)
class Final:
    """What is kept of a count at closing: the totals, the labels of ballots that no longer
    counted (units removed mid-vote) and, when the count was impossible, the number of units
    without an area (``totals`` is then None)."""

    totals: Totals | None
    ignored: tuple[str, ...] = ()
    missing_area: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    id: int
    chat_id: int
    title: str
    rule: str
    secret: bool
    creator_id: int
    creator_name: str
    created_at: datetime
    closes_at: datetime
    status: str
    closed_at: datetime | None
    closed_by: str | None
    message_id: int | None
    final: Final | None
    #: when closing was first refused because the count was impossible (None: never)
    blocked_at: datetime | None = None
    #: the part of the building whose households it counts (None: the whole building)
    part: str | None = None
    #: the forum topic its card and outcome go to (None: General)
    thread_id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


@dataclass(frozen=True, slots=True)
class Voter:
    """One unit of a decision's electorate: ``counts`` is False once a lead removed it."""

    unit_id: int
    label: str
    area: Fraction | None
    counts: bool


@dataclass(frozen=True, slots=True)
class Change:
    """A lead's change to the register while the decision was open (an audit entry)."""

    kind: str  # ADDED | REMOVED | AREA
    label: str
    area: Fraction | None  # the area after (added, area)
    old_area: Fraction | None  # the area before (area)
    counted: bool  # removed: the unit had a ballot, which no longer counts
    by_id: int
    by_name: str
    at: datetime


@dataclass(frozen=True, slots=True)
class StoredBallot:
    unit_id: int
    label: str
    choice: str | None  # None once a secret decision has closed
    by_id: int
    by_name: str
    paper: bool
    note: str | None
    cast_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    label: str
    choice: str | None  # always None for a secret decision
    by_id: int
    by_name: str
    paper: bool
    note: str | None
    at: datetime


def _fraction(value: Fraction | None) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def _unfraction(value: str | None) -> Fraction | None:
    return None if value is None else Fraction(value)


def final_to_json(final: Final) -> str:
    data: dict[str, Any] = {"ignored": list(final.ignored), "missing_area": final.missing_area}
    t = final.totals
    if t is not None:
        data["totals"] = {
            "units": t.units,
            "area": _fraction(t.area),
            "for_units": t.for_units,
            "against_units": t.against_units,
            "abstain_units": t.abstain_units,
            "for_area": _fraction(t.for_area),
            "against_area": _fraction(t.against_area),
            "abstain_area": _fraction(t.abstain_area),
        }
    return json.dumps(data, sort_keys=True)


def final_from_json(text: str) -> Final:
    data = json.loads(text)
    raw = data.get("totals")
    totals = None
    if raw is not None:
        totals = Totals(
            units=int(raw["units"]),
            area=_unfraction(raw["area"]),
            for_units=int(raw["for_units"]),
            against_units=int(raw["against_units"]),
            abstain_units=int(raw["abstain_units"]),
            for_area=_unfraction(raw["for_area"]),
            against_area=_unfraction(raw["against_area"]),
            abstain_area=_unfraction(raw["abstain_area"]),
        )
    return Final(totals, tuple(data.get("ignored", ())), int(data.get("missing_area", 0)))


_COLS = (
    "id, chat_id, title, rule, secret, creator_id, creator_name, created_at, closes_at, status,"
    " closed_at, closed_by, message_id, totals, blocked_at, part, thread_id"
)


def _decision(row: aiosqlite.Row) -> Decision:
    return Decision(
        id=row["id"],
        chat_id=row["chat_id"],
        title=row["title"],
        rule=row["rule"],
        secret=bool(row["secret"]),
        creator_id=row["creator_id"],
        creator_name=row["creator_name"],
        created_at=from_db(row["created_at"]),
        closes_at=from_db(row["closes_at"]),
        status=row["status"],
        closed_at=from_db(row["closed_at"]) if row["closed_at"] else None,
        closed_by=row["closed_by"],
        message_id=row["message_id"],
        final=final_from_json(row["totals"]) if row["totals"] else None,
        blocked_at=from_db(row["blocked_at"]) if row["blocked_at"] else None,
        part=row["part"],
        thread_id=row["thread_id"],
    )


def _area(num: int | None, den: int | None) -> Fraction | None:
    return None if num is None or den is None else Fraction(num, den)


def _parts(area: Fraction | None) -> tuple[int | None, int | None]:
    return (None, None) if area is None else (area.numerator, area.denominator)


async def create(
    db: Database,
    *,
    chat_id: int,
    title: str,
    rule: str,
    secret: bool,
    creator_id: int,
    creator_name: str,
    closes_at: datetime,
    now: datetime,
    part: str | None = None,
    thread_id: int | None = None,
) -> tuple[int, int]:
    """Store the decision, its electorate (the chat's register as it is now — only the units
    of ``part`` when it is scoped to a part of the building) and its closing row in one
    transaction: (decision id, row id).

    Refuses, storing nothing, a chat without units (``decision.no_units``), a part without
    units (``decision.no_units_in_part``, naming the parts there are) and an area rule while a
    unit has no area (``decision.missing_area_labels``: the labels, how many)."""
    async with db.write() as conn:
        register = await (
            await conn.execute(
                "SELECT id, label, area_num, area_den, part FROM units WHERE chat_id = ?",
                (chat_id,),
            )
        ).fetchall()
        if not register:
            raise DomainError("decision.no_units")
        if part is not None:
            wanted = part_key(part)
            named: dict[str, str] = {}
            for r in sorted(register, key=lambda r: r["id"]):
                if r["part"]:
                    named.setdefault(part_key(r["part"]), r["part"])
            register = [r for r in register if r["part"] and part_key(r["part"]) == wanted]
            if not register:
                raise DomainError(
                    "decision.no_units_in_part",
                    part=part,
                    parts=", ".join(sorted(named.values(), key=_natural)) or "—",
                )
            part = named[wanted]  # as the register spells it
        if parse_rule(rule).needs_area:
            lacking = sorted((r["label"] for r in register if r["area_num"] is None), key=_natural)
            if lacking:
                raise DomainError(
                    "decision.missing_area_labels",
                    units=len(lacking),
                    labels=_some(lacking),
                    first=lacking[0],
                )
        cur = await conn.execute(
            "INSERT INTO decisions (chat_id, title, rule, secret, creator_id, creator_name,"
            " created_at, closes_at, part, thread_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                title,
                rule,
                int(secret),
                creator_id,
                creator_name,
                to_db(now),
                to_db(closes_at),
                part,
                thread_id,
            ),
        )
        decision_id = cur.lastrowid
        assert decision_id is not None
        await conn.executemany(
            "INSERT INTO decision_units (decision_id, chat_id, unit_id, label, area_num, area_den)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (decision_id, chat_id, r["id"], r["label"], r["area_num"], r["area_den"])
                for r in register
            ],
        )
        row_id = await scheduled.insert(
            conn, chat_id=chat_id, kind=KIND, ref_id=decision_id, run_at=closes_at, now=now
        )
    return decision_id, row_id


async def get(db: Database, decision_id: int) -> Decision | None:
    row = await db.fetchone(f"SELECT {_COLS} FROM decisions WHERE id = ?", (decision_id,))
    return _decision(row) if row else None


async def set_message(db: Database, decision_id: int, message_id: int) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE decisions SET message_id = ? WHERE id = ?", (message_id, decision_id)
        )


async def cast(
    db: Database,
    decision_id: int,
    units: Sequence[tuple[int, str]],
    choice: str,
    *,
    by_id: int,
    by_name: str,
    paper: bool = False,
    note: str | None = None,
    now: datetime,
) -> tuple[str, ...] | None:
    """Record ``choice`` as the current ballot of each ``(unit id, label)`` that is in the
    decision's electorate (others are skipped): the labels stored, or None (nothing stored)
    when the decision is not open any more or its deadline has passed."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT chat_id, secret FROM decisions"
                " WHERE id = ? AND status = 'open' AND closes_at > ?",
                (decision_id, to_db(now)),
            )
        ).fetchone()
        if row is None:
            return None
        chat_id, secret = row["chat_id"], bool(row["secret"])
        voters = {
            int(r["unit_id"]): r["label"]
            for r in await (
                await conn.execute(
                    "SELECT unit_id, label FROM decision_units"
                    " WHERE decision_id = ? AND status = 'in'",
                    (decision_id,),
                )
            ).fetchall()
        }
        units = [(u, label) for u, label in units if voters.get(u) == label]
        for unit_id, label in units:
            await conn.execute(
                "INSERT INTO decision_ballots (decision_id, chat_id, unit_id, label, choice,"
                " sealed, by_id, by_name, paper, note, cast_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (decision_id, unit_id) DO UPDATE SET label = excluded.label,"
                " choice = excluded.choice, sealed = excluded.sealed, by_id = excluded.by_id,"
                " by_name = excluded.by_name, paper = excluded.paper, note = excluded.note,"
                " cast_at = excluded.cast_at",
                (
                    decision_id,
                    chat_id,
                    unit_id,
                    label,
                    # a secret choice is stored only sealed, under a key outside the database
                    None if secret else choice,
                    sealing.seal_choice(db.path, decision_id, unit_id, choice) if secret else None,
                    by_id,
                    by_name,
                    int(paper),
                    note,
                    to_db(now),
                ),
            )
            await conn.execute(
                "INSERT INTO decision_audit (decision_id, chat_id, label, choice, by_id, by_name,"
                " paper, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    decision_id,
                    chat_id,
                    label,
                    None if secret else choice,
                    by_id,
                    by_name,
                    int(paper),
                    note,
                    to_db(now),
                ),
            )
    return tuple(label for _, label in units)


def _ballot(row: aiosqlite.Row) -> StoredBallot:
    return StoredBallot(
        unit_id=row["unit_id"],
        label=row["label"],
        choice=row["choice"],
        by_id=row["by_id"],
        by_name=row["by_name"],
        paper=bool(row["paper"]),
        note=row["note"],
        cast_at=from_db(row["cast_at"]),
    )


async def ballots(db: Database, decision_id: int) -> list[StoredBallot]:
    rows = await db.fetchall(
        "SELECT unit_id, label, choice, sealed, by_id, by_name, paper, note, cast_at"
        " FROM decision_ballots WHERE decision_id = ? ORDER BY cast_at, unit_id",
        (decision_id,),
    )
    return [sealing.opened(db.path, decision_id, _ballot(r), r["sealed"]) for r in rows]


async def audit(db: Database, decision_id: int) -> list[AuditEntry]:
    rows = await db.fetchall(
        "SELECT label, choice, by_id, by_name, paper, note, at FROM decision_audit"
        " WHERE decision_id = ? AND kind = 'ballot' ORDER BY id",
        (decision_id,),
    )
    return [
        AuditEntry(
            label=r["label"],
            choice=r["choice"],
            by_id=r["by_id"],
            by_name=r["by_name"],
            paper=bool(r["paper"]),
            note=r["note"],
            at=from_db(r["at"]),
        )
        for r in rows
    ]


#: Computes the final count from the electorate (the units that still count) and the
#: ballots, read inside the closing transaction (so no ballot or register change can slip
#: between the count and the close). It raises a DomainError when no count can be made: the
#: close is then refused and nothing (no ballot, no secret choice) is touched.
Recount = Callable[[Sequence[Unit], Sequence[StoredBallot]], Final]

_BALLOT_COLS = "unit_id, label, choice, sealed, by_id, by_name, paper, note, cast_at"


async def close(
    db: Database,
    decision_id: int,
    final: Final | Recount,
    *,
    closed_by: str | None,
    now: datetime,
) -> tuple[bool, list[int]]:
    """Close an open decision with its final count: (closed now, scheduled rows to disarm).

    ``final`` is best a :data:`Recount`: it is called inside the write transaction with the
    decision's electorate and ballots as they are at that moment, so a ballot cast while the
    count was being made can never be left out of the totals (and, for a secret decision,
    silently discarded with the other choices). A Final without totals (no count possible) is
    refused with ``decision.cannot_close``; a DomainError from the recount propagates. Either
    way the transaction rolls back: the decision stays open with every ballot intact.

    Idempotent: a second close (the deadline racing a lead's /close) changes nothing. For a
    secret decision every per-unit choice is discarded in the same transaction, after the
    totals are stored.
    """
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT chat_id FROM decisions WHERE id = ? AND status = 'open'", (decision_id,)
            )
        ).fetchone()
        if row is None:
            return False, []
        if not isinstance(final, Final):
            electorate = [
                Unit(id=v.unit_id, chat_id=row["chat_id"], label=v.label, area=v.area)
                for v in await _voters(conn, decision_id)
                if v.counts
            ]
            cast_ = [
                sealing.opened(db.path, decision_id, _ballot(r), r["sealed"])
                for r in await (
                    await conn.execute(
                        f"SELECT {_BALLOT_COLS} FROM decision_ballots WHERE decision_id = ?"
                        " ORDER BY cast_at, unit_id",
                        (decision_id,),
                    )
                ).fetchall()
            ]
            final = final(electorate, cast_)
        if final.totals is None:
            raise DomainError("decision.cannot_close", units=final.missing_area)
        cur = await conn.execute(
            "UPDATE decisions SET status = 'closed', closed_at = ?, closed_by = ?, totals = ?"
            " WHERE id = ? AND status = 'open'",
            (to_db(now), closed_by, final_to_json(final), decision_id),
        )
        if cur.rowcount != 1:
            return False, []
        await conn.execute(
            "UPDATE decision_ballots SET choice = NULL, sealed = NULL WHERE decision_id = ?"
            " AND (SELECT secret FROM decisions WHERE id = ?) = 1",
            (decision_id, decision_id),
        )
        stopped = await scheduled.set_status_for(
            conn, KIND, decision_id, "cancelled", only=("pending", "paused")
        )
    # the totals are committed: destroy the key, so no copy of the file opens a sealed ballot
    sealing.keys_for(db.path).destroy(sealing.DECISION, decision_id)
    return True, stopped


async def blocked(
    db: Database, decision_id: int, *, retry_at: datetime, now: datetime
) -> tuple[bool, int | None]:
    """The scheduled close could not count: note it and add a closing row at ``retry_at``.

    Returns (first time: the leads must be told, the new row's id to arm; None when the
    decision is closed or has a pending closing row already)."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT chat_id, blocked_at FROM decisions WHERE id = ? AND status = 'open'",
                (decision_id,),
            )
        ).fetchone()
        if row is None:
            return False, None
        first = row["blocked_at"] is None
        if first:
            await conn.execute(
                "UPDATE decisions SET blocked_at = ? WHERE id = ?", (to_db(now), decision_id)
            )
        waiting = await (
            await conn.execute(
                "SELECT 1 FROM scheduled WHERE kind = ? AND ref_id = ? AND status = 'pending'",
                (KIND, decision_id),
            )
        ).fetchone()
        row_id = None
        if waiting is None:
            row_id = await scheduled.insert(
                conn,
                chat_id=row["chat_id"],
                kind=KIND,
                ref_id=decision_id,
                run_at=retry_at,
                now=now,
            )
    return first, row_id


# --- the electorate ----------------------------------------------------------------------


def _natural(label: str) -> tuple[tuple[int, int | str], ...]:
    return natural_key(label)


def _some(labels: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (f", +{len(labels) - limit}" if len(labels) > limit else "")


async def _voters(conn: aiosqlite.Connection, decision_id: int) -> list[Voter]:
    rows = await (
        await conn.execute(
            "SELECT unit_id, label, area_num, area_den, status FROM decision_units"
            " WHERE decision_id = ?",
            (decision_id,),
        )
    ).fetchall()
    found = [
        Voter(
            unit_id=int(r["unit_id"]),
            label=r["label"],
            area=_area(r["area_num"], r["area_den"]),
            counts=r["status"] == "in",
        )
        for r in rows
    ]
    return sorted(found, key=lambda v: _natural(v.label))


async def electorate(db: Database, decision_id: int) -> list[Voter]:
    """The decision's units in natural label order, removed ones included (``counts`` False)."""
    rows = await db.fetchall(
        "SELECT unit_id, label, area_num, area_den, status FROM decision_units"
        " WHERE decision_id = ?",
        (decision_id,),
    )
    found = [
        Voter(
            unit_id=int(r["unit_id"]),
            label=r["label"],
            area=_area(r["area_num"], r["area_den"]),
            counts=r["status"] == "in",
        )
        for r in rows
    ]
    return sorted(found, key=lambda v: _natural(v.label))


async def changes(db: Database, decision_id: int) -> list[Change]:
    """The leads' changes to the decision's electorate, in order."""
    rows = await db.fetchall(
        "SELECT kind, label, area_num, area_den, old_num, old_den, counted, by_id, by_name, at"
        " FROM decision_audit WHERE decision_id = ? AND kind != 'ballot' ORDER BY id",
        (decision_id,),
    )
    return [
        Change(
            kind=r["kind"],
            label=r["label"],
            area=_area(r["area_num"], r["area_den"]),
            old_area=_area(r["old_num"], r["old_den"]),
            counted=bool(r["counted"]),
            by_id=int(r["by_id"]),
            by_name=r["by_name"],
            at=from_db(r["at"]),
        )
        for r in rows
    ]


async def register_changed(
    conn: aiosqlite.Connection,
    chat_id: int,
    *,
    kind: str,
    unit_id: int,
    label: str,
    area: Fraction | None,
    old_area: Fraction | None,
    by_user: int,
    now: datetime,
    part: str | None = None,
) -> list[int]:
    """A lead changed the register: apply it to every open decision of the chat, as an audit
    entry; the ids of the decisions touched (refresh their cards after the commit). ``part``
    is the unit's part of the building: a unit added joins a decision scoped to a part only
    when it is in that part.

    Runs inside the caller's write transaction (the register change and this are one commit).

    * ``added``: the unit joins the electorate with ``area`` and may vote from now on.
    * ``removed``: the unit leaves it; its ballot, if any, stays stored but no longer counts
      (the entry records that it had one).
    * ``area``: the unit's area becomes ``area`` (from ``old_area``): its ballot is re-weighted.
    * A decision past its deadline (open only because its count waits for a missing area) takes
      nothing but that missing area: the register can no longer change who counted.

    Refused with ``DomainError("decision.register_needs_area", label, refs)`` when it would leave
    a decision whose rule counts floor area with a unit without area (added without an area, or
    an area cleared); the caller's transaction then rolls back with the register change.
    """
    if kind not in CHANGES:
        raise ValueError(f"bad register change {kind!r}")
    rows = await (
        await conn.execute(
            "SELECT id, rule, closes_at, part FROM decisions WHERE chat_id = ?"
            " AND status = 'open' ORDER BY id",
            (chat_id,),
        )
    ).fetchall()
    plan: list[tuple[int, aiosqlite.Row | None]] = []
    blocking: list[int] = []
    for row in rows:
        current = await (
            await conn.execute(
                "SELECT unit_id, label, area_num, area_den, status FROM decision_units"
                " WHERE decision_id = ? AND unit_id = ?",
                (row["id"], unit_id),
            )
        ).fetchone()
        inside = current is not None and current["status"] == "in" and current["label"] == label
        now_area = _area(current["area_num"], current["area_den"]) if current else None
        if kind == ADDED and inside and now_area == area:
            continue  # already there as it is
        if (
            kind == ADDED
            and not inside
            and row["part"] is not None
            and (part is None or part_key(part) != part_key(row["part"]))
        ):
            continue  # a unit of another part (or of none) is not one of its households
        if kind in (REMOVED, AREA) and not inside:
            continue  # not one of this decision's units (or removed already)
        if kind == AREA and now_area == area:
            continue
        if from_db(row["closes_at"]) <= now and not (kind == AREA and now_area is None):
            continue  # past its deadline the count only waits for a missing area
        if kind != REMOVED and area is None and parse_rule(row["rule"]).needs_area:
            blocking.append(int(row["id"]))
        plan.append((int(row["id"]), current))
    if blocking:
        raise DomainError(
            "decision.register_needs_area",
            label=label,
            refs=", ".join(f"D{i}" for i in blocking),
        )
    if not plan:
        return []
    member = await (
        await conn.execute(
            "SELECT display_name FROM members WHERE chat_id = ? AND user_id = ?",
            (chat_id, by_user),
        )
    ).fetchone()
    by_name = member["display_name"] if member is not None else ""
    num, den = _parts(area)
    touched = []
    for decision_id, current in plan:
        counted = None
        before = old_area
        if kind == REMOVED:
            await conn.execute(
                "UPDATE decision_units SET status = 'removed'"
                " WHERE decision_id = ? AND unit_id = ?",
                (decision_id, unit_id),
            )
            had = await (
                await conn.execute(
                    "SELECT 1 FROM decision_ballots WHERE decision_id = ? AND unit_id = ?"
                    " AND label = ?",
                    (decision_id, unit_id, label),
                )
            ).fetchone()
            counted = int(had is not None)
        else:
            if current is not None and current["status"] == "in" and current["label"] == label:
                before = _area(current["area_num"], current["area_den"])
            # a unit added (or an id that came back) takes its place; an area is re-weighted
            await conn.execute(
                "INSERT INTO decision_units (decision_id, chat_id, unit_id, label, area_num,"
                " area_den) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (decision_id, unit_id)"
                " DO UPDATE SET label = excluded.label, area_num = excluded.area_num,"
                " area_den = excluded.area_den, status = 'in'",
                (decision_id, chat_id, unit_id, label, num, den),
            )
        old_num, old_den = _parts(before if kind == AREA else None)
        await conn.execute(
            # paper = 1: a lead's act (so /forgetme leaves "a lead" in place of the name)
            "INSERT INTO decision_audit (decision_id, chat_id, label, by_id, by_name, paper, at,"
            " kind, area_num, area_den, old_num, old_den, counted)"
            " VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
            (
                decision_id,
                chat_id,
                label,
                by_user,
                by_name,
                to_db(now),
                kind,
                num if kind != REMOVED else None,
                den if kind != REMOVED else None,
                old_num,
                old_den,
                counted,
            ),
        )
        touched.append(decision_id)
    return touched


async def non_voters(db: Database, chat_id: int, decision_id: int) -> list[tuple[int, str]]:
    """Approved members of the decision's units (those that still count) without a ballot:
    (user id, name), each once."""
    rows = await db.fetchall(
        "SELECT user_id, name FROM (SELECT DISTINCT m.user_id,"
        " coalesce(mb.display_name, '') AS name"
        " FROM unit_members m JOIN units u ON u.id = m.unit_id"
        " JOIN decision_units e ON e.decision_id = ? AND e.unit_id = u.id"
        "   AND e.label = u.label AND e.status = 'in'"
        " LEFT JOIN members mb ON mb.chat_id = m.chat_id AND mb.user_id = m.user_id"
        " WHERE u.chat_id = ? AND m.status = 'approved'"
        " AND NOT EXISTS (SELECT 1 FROM decision_ballots b"
        "   WHERE b.decision_id = ? AND b.unit_id = u.id)) AS waiting"
        " ORDER BY name COLLATE NOCASE, user_id",
        (decision_id, chat_id, decision_id),
    )
    return [(int(r["user_id"]), r["name"] or str(r["user_id"])) for r in rows]


async def open_in(db: Database, chat_id: int) -> list[Decision]:
    """The chat's open decisions (their cards follow changes of the register)."""
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM decisions WHERE chat_id = ? AND status = 'open' ORDER BY id",
        (chat_id,),
    )
    return [_decision(r) for r in rows]


async def open_count(db: Database, chat_id: int) -> int:
    row = await db.fetchone(
        "SELECT count(*) AS n FROM decisions WHERE chat_id = ? AND status = 'open'", (chat_id,)
    )
    return int(row["n"]) if row else 0


async def announced(db: Database, decision_id: int, now: datetime) -> None:
    """The outcome of a closed decision was posted (migration 0015)."""
    await db.write_one(
        "UPDATE decisions SET announced_at = ? WHERE id = ? AND announced_at IS NULL",
        (to_db(now), decision_id),
    )


async def unannounced(db: Database) -> list[int]:
    """Closed decisions whose outcome was never posted (the process died between the close and
    the post), in groups the bot is still in, oldest first."""
    rows = await db.fetchall(
        "SELECT d.id FROM decisions d JOIN chats c ON c.id = d.chat_id"
        " WHERE d.status = 'closed' AND d.announced_at IS NULL AND c.active = 1 ORDER BY d.id"
    )
    return [int(r["id"]) for r in rows]
