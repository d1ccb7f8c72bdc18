"""Formal decisions: the decision, one current ballot per unit, the audit trail, and the final
totals. The scheduled row that closes a decision at its deadline (kind ``decision_close``) is
written in the same transaction as the decision.

Secret decisions: while open, each unit's current choice is stored (exact area counting needs
it) but never shown; the audit trail never holds a choice. At closing the final totals are
stored and every per-unit choice is set to NULL in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

import aiosqlite

from bot.domain.decisions import Totals
from storage import scheduled
from storage.db import Database, from_db, to_db
from storage.units import Unit

KIND = "decision_close"
OPEN = "open"
CLOSED = "closed"


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

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


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
    " closed_at, closed_by, message_id, totals"
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
    )


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
) -> tuple[int, int]:
    """Store the decision and its closing row in one transaction: (decision id, row id)."""
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT INTO decisions (chat_id, title, rule, secret, creator_id, creator_name,"
            " created_at, closes_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                title,
                rule,
                int(secret),
                creator_id,
                creator_name,
                to_db(now),
                to_db(closes_at),
            ),
        )
        decision_id = cur.lastrowid
        assert decision_id is not None
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
) -> bool:
    """Record ``choice`` as the current ballot of each ``(unit id, label)``; False (nothing
    stored) when the decision is not open any more or its deadline has passed."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT chat_id, secret FROM decisions"
                " WHERE id = ? AND status = 'open' AND closes_at > ?",
                (decision_id, to_db(now)),
            )
        ).fetchone()
        if row is None:
            return False
        chat_id, secret = row["chat_id"], bool(row["secret"])
        for unit_id, label in units:
            await conn.execute(
                "INSERT INTO decision_ballots (decision_id, chat_id, unit_id, label, choice,"
                " by_id, by_name, paper, note, cast_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (decision_id, unit_id) DO UPDATE SET label = excluded.label,"
                " choice = excluded.choice, by_id = excluded.by_id, by_name = excluded.by_name,"
                " paper = excluded.paper, note = excluded.note, cast_at = excluded.cast_at",
                (
                    decision_id,
                    chat_id,
                    unit_id,
                    label,
                    choice,
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
    return True


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
        "SELECT unit_id, label, choice, by_id, by_name, paper, note, cast_at"
        " FROM decision_ballots WHERE decision_id = ? ORDER BY cast_at, unit_id",
        (decision_id,),
    )
    return [_ballot(r) for r in rows]


async def audit(db: Database, decision_id: int) -> list[AuditEntry]:
    rows = await db.fetchall(
        "SELECT label, choice, by_id, by_name, paper, note, at FROM decision_audit"
        " WHERE decision_id = ? ORDER BY id",
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


#: Computes the final count from the register and the ballots, read inside the closing
#: transaction (so no ballot or register change can slip between the count and the close).
Recount = Callable[[Sequence[Unit], Sequence[StoredBallot]], Final]

_BALLOT_COLS = "unit_id, label, choice, by_id, by_name, paper, note, cast_at"


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
    chat's register and the decision's ballots as they are at that moment, so a ballot cast
    while the count was being made can never be left out of the totals (and, for a secret
    decision, silently discarded with the other choices).

    Idempotent: a second close (the deadline racing a lead's /close) changes nothing. For a
    secret decision every per-unit choice is discarded in the same transaction.
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
            register = [
                Unit(
                    id=r["id"],
                    chat_id=r["chat_id"],
                    label=r["label"],
                    area=(
                        None
                        if r["area_num"] is None or r["area_den"] is None
                        else Fraction(r["area_num"], r["area_den"])
                    ),
                )
                for r in await (
                    await conn.execute(
                        "SELECT id, chat_id, label, area_num, area_den FROM units"
                        " WHERE chat_id = ?",
                        (row["chat_id"],),
                    )
                ).fetchall()
            ]
            cast_ = [
                _ballot(r)
                for r in await (
                    await conn.execute(
                        f"SELECT {_BALLOT_COLS} FROM decision_ballots WHERE decision_id = ?"
                        " ORDER BY cast_at, unit_id",
                        (decision_id,),
                    )
                ).fetchall()
            ]
            final = final(register, cast_)
        cur = await conn.execute(
            "UPDATE decisions SET status = 'closed', closed_at = ?, closed_by = ?, totals = ?"
            " WHERE id = ? AND status = 'open'",
            (to_db(now), closed_by, final_to_json(final), decision_id),
        )
        if cur.rowcount != 1:
            return False, []
        await conn.execute(
            "UPDATE decision_ballots SET choice = NULL WHERE decision_id = ?"
            " AND (SELECT secret FROM decisions WHERE id = ?) = 1",
            (decision_id, decision_id),
        )
        stopped = await scheduled.set_status_for(
            conn, KIND, decision_id, "cancelled", only=("pending", "paused")
        )
    return True, stopped


async def non_voters(db: Database, chat_id: int, decision_id: int) -> list[tuple[int, str]]:
    """Approved members of the chat's units that have no ballot: (user id, name), each once."""
    rows = await db.fetchall(
        "SELECT DISTINCT m.user_id, coalesce(mb.display_name, '') AS name"
        " FROM unit_members m JOIN units u ON u.id = m.unit_id"
        " LEFT JOIN members mb ON mb.chat_id = m.chat_id AND mb.user_id = m.user_id"
        " WHERE u.chat_id = ? AND m.status = 'approved'"
        " AND NOT EXISTS (SELECT 1 FROM decision_ballots b"
        "   WHERE b.decision_id = ? AND b.unit_id = u.id)"
        " ORDER BY name COLLATE NOCASE, m.user_id",
        (chat_id, decision_id),
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
