"""General meetings of owners: the meeting, its numbered items, its electorate (fixed when it
opens, as a decision's), each household's answer per item, and the final totals per item. The
scheduled row that closes a meeting at its deadline (kind ``meeting_close``) is written in the
same transaction as the meeting.

A meeting's electorate is the register (or one part of it) as it stood when the meeting opened:
later changes to the register do not reach an open meeting (a unit added afterwards does not
vote in it; a unit removed keeps its ballot). A rule that counts floor area cannot open while a
unit of the electorate lacks an area, so a count at closing can always be made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

import aiosqlite

from bot.domain.decisions import Totals, parse_rule
from bot.domain.errors import DomainError
from bot.domain.units import part_key
from storage import scheduled
from storage.db import Database, from_db, to_db
from storage.decisions import Final, final_from_json, final_to_json
from storage.units import natural_key

KIND = "meeting_close"
OPEN = "open"
CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Item:
    number: int
    title: str
    rule: str
    totals: Totals | None  # set at closing


@dataclass(frozen=True, slots=True)
class Meeting:
    id: int
    chat_id: int
    title: str
    creator_id: int
    creator_name: str
    created_at: datetime
    closes_at: datetime
    status: str
    closed_at: datetime | None
    closed_by: str | None
    message_id: int | None
    thread_id: int | None
    part: str | None
    announced_at: datetime | None
    items: tuple[Item, ...]

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


@dataclass(frozen=True, slots=True)
class Voter:
    unit_id: int
    label: str
    area: Fraction | None


@dataclass(frozen=True, slots=True)
class Answer:
    unit_id: int
    label: str
    item: int
    choice: str
    by_id: int
    by_name: str
    paper: bool
    cast_at: datetime


@dataclass(frozen=True, slots=True)
class Cast:
    """What a ballot changed: the labels it was stored for, and whether a paper ballot
    replaced answers the household had given before (by whom, when)."""

    labels: tuple[str, ...]
    replaced: tuple[Answer, ...] = ()


_COLS = (
    "id, chat_id, title, creator_id, creator_name, created_at, closes_at, status, closed_at,"
    " closed_by, message_id, thread_id, part, announced_at"
)


def _area(num: int | None, den: int | None) -> Fraction | None:
    return None if num is None or den is None else Fraction(num, den)


def _natural(label: str) -> tuple[tuple[int, int | str], ...]:
    return natural_key(label)


def _some(labels: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (f", +{len(labels) - limit}" if len(labels) > limit else "")


async def create(
    db: Database,
    *,
    chat_id: int,
    title: str,
    items: Sequence[tuple[str, str]],
    creator_id: int,
    creator_name: str,
    closes_at: datetime,
    now: datetime,
    part: str | None = None,
    thread_id: int | None = None,
) -> tuple[int, int]:
    """Store the meeting, its items ((title, rule text), numbered from 1), its electorate and
    its closing row in one transaction: (meeting id, row id). Refuses as a decision does
    (``decision.no_units``, ``decision.no_units_in_part``, ``decision.missing_area_labels``
    with ``item`` naming the first item whose rule counts area), storing nothing."""
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
            part = named[wanted]
        area_item = next(
            (n for n, (_, rule) in enumerate(items, start=1) if parse_rule(rule).needs_area), None
        )
        if area_item is not None:
            lacking = sorted((r["label"] for r in register if r["area_num"] is None), key=_natural)
            if lacking:
                raise DomainError(
                    "decision.missing_area_labels",
                    item=area_item,
                    units=len(lacking),
                    labels=_some(lacking),
                    first=lacking[0],
                )
        cur = await conn.execute(
            "INSERT INTO meetings (chat_id, title, creator_id, creator_name, created_at,"
            " closes_at, part, thread_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                title,
                creator_id,
                creator_name,
                to_db(now),
                to_db(closes_at),
                part,
                thread_id,
            ),
        )
        meeting_id = cur.lastrowid
        assert meeting_id is not None
        await conn.executemany(
            "INSERT INTO meeting_items (meeting_id, chat_id, number, title, rule)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (meeting_id, chat_id, n, item_title, rule)
                for n, (item_title, rule) in enumerate(items, start=1)
            ],
        )
        await conn.executemany(
            "INSERT INTO meeting_units (meeting_id, chat_id, unit_id, label, area_num, area_den)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (meeting_id, chat_id, r["id"], r["label"], r["area_num"], r["area_den"])
                for r in register
            ],
        )
        row_id = await scheduled.insert(
            conn, chat_id=chat_id, kind=KIND, ref_id=meeting_id, run_at=closes_at, now=now
        )
    return meeting_id, row_id


def _totals(text: str | None) -> Totals | None:
    return final_from_json(text).totals if text else None


async def get(db: Database, meeting_id: int) -> Meeting | None:
    row = await db.fetchone(f"SELECT {_COLS} FROM meetings WHERE id = ?", (meeting_id,))
    if row is None:
        return None
    items = await db.fetchall(
        "SELECT number, title, rule, totals FROM meeting_items WHERE meeting_id = ?"
        " ORDER BY number",
        (meeting_id,),
    )
    return Meeting(
        id=row["id"],
        chat_id=row["chat_id"],
        title=row["title"],
        creator_id=row["creator_id"],
        creator_name=row["creator_name"],
        created_at=from_db(row["created_at"]),
        closes_at=from_db(row["closes_at"]),
        status=row["status"],
        closed_at=from_db(row["closed_at"]) if row["closed_at"] else None,
        closed_by=row["closed_by"],
        message_id=row["message_id"],
        thread_id=row["thread_id"],
        part=row["part"],
        announced_at=from_db(row["announced_at"]) if row["announced_at"] else None,
        items=tuple(
            Item(int(r["number"]), r["title"], r["rule"], _totals(r["totals"])) for r in items
        ),
    )


async def set_message(db: Database, meeting_id: int, message_id: int) -> None:
    await db.write_one("UPDATE meetings SET message_id = ? WHERE id = ?", (message_id, meeting_id))


async def _voters(conn: aiosqlite.Connection | Database, meeting_id: int) -> list[Voter]:
    sql = "SELECT unit_id, label, area_num, area_den FROM meeting_units WHERE meeting_id = ?"
    if isinstance(conn, Database):
        rows = await conn.fetchall(sql, (meeting_id,))
    else:
        rows = list(await (await conn.execute(sql, (meeting_id,))).fetchall())
    found = [
        Voter(int(r["unit_id"]), r["label"], _area(r["area_num"], r["area_den"])) for r in rows
    ]
    return sorted(found, key=lambda v: _natural(v.label))


async def electorate(db: Database, meeting_id: int) -> list[Voter]:
    """The meeting's units in natural label order."""
    return await _voters(db, meeting_id)


_ANSWER_COLS = "unit_id, label, item, choice, by_id, by_name, paper, cast_at"


def _answer(row: aiosqlite.Row) -> Answer:
    return Answer(
        unit_id=int(row["unit_id"]),
        label=row["label"],
        item=int(row["item"]),
        choice=row["choice"],
        by_id=int(row["by_id"]),
        by_name=row["by_name"],
        paper=bool(row["paper"]),
        cast_at=from_db(row["cast_at"]),
    )


async def answers(db: Database, meeting_id: int) -> list[Answer]:
    rows = await db.fetchall(
        f"SELECT {_ANSWER_COLS} FROM meeting_answers WHERE meeting_id = ?"
        " ORDER BY cast_at, unit_id, item",
        (meeting_id,),
    )
    return [_answer(r) for r in rows]


async def cast(
    db: Database,
    meeting_id: int,
    units: Sequence[tuple[int, str]],
    chosen: Mapping[int, str],
    *,
    by_id: int,
    by_name: str,
    paper: bool = False,
    now: datetime,
) -> Cast | None:
    """Record ``chosen`` (item number -> choice) for each ``(unit id, label)`` of the meeting's
    electorate (others are skipped). A press (``paper`` False) sets the items it names and
    keeps the household's other answers; a paper ballot is the household's whole ballot and
    replaces every answer it had. None (nothing stored) when the meeting is not open any more
    or its deadline has passed; item numbers not of the meeting are a programming error."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT chat_id FROM meetings WHERE id = ? AND status = 'open' AND closes_at > ?",
                (meeting_id, to_db(now)),
            )
        ).fetchone()
        if row is None:
            return None
        chat_id = row["chat_id"]
        numbers = {
            int(r["number"])
            for r in await (
                await conn.execute(
                    "SELECT number FROM meeting_items WHERE meeting_id = ?", (meeting_id,)
                )
            ).fetchall()
        }
        if not set(chosen) <= numbers:
            raise ValueError(f"items {sorted(set(chosen) - numbers)} are not of the meeting")
        voters = {v.unit_id: v.label for v in await _voters(conn, meeting_id)}
        mine = [(u, label) for u, label in units if voters.get(u) == label]
        replaced: list[Answer] = []
        for unit_id, label in mine:
            if paper:
                replaced += [
                    _answer(r)
                    for r in await (
                        await conn.execute(
                            f"SELECT {_ANSWER_COLS} FROM meeting_answers"
                            " WHERE meeting_id = ? AND unit_id = ? ORDER BY item",
                            (meeting_id, unit_id),
                        )
                    ).fetchall()
                ]
                await conn.execute(
                    "DELETE FROM meeting_answers WHERE meeting_id = ? AND unit_id = ?",
                    (meeting_id, unit_id),
                )
            await conn.executemany(
                "INSERT INTO meeting_answers (meeting_id, chat_id, unit_id, label, item, choice,"
                " by_id, by_name, paper, cast_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (meeting_id, unit_id, item) DO UPDATE SET label = excluded.label,"
                " choice = excluded.choice, by_id = excluded.by_id, by_name = excluded.by_name,"
                " paper = excluded.paper, cast_at = excluded.cast_at",
                [
                    (
                        meeting_id,
                        chat_id,
                        unit_id,
                        label,
                        number,
                        choice,
                        by_id,
                        by_name,
                        int(paper),
                        to_db(now),
                    )
                    for number, choice in sorted(chosen.items())
                ],
            )
    return Cast(tuple(label for _, label in mine), tuple(replaced))


#: Given the electorate and the answers as they are inside the closing transaction, the final
#: totals of every item (number -> totals).
Recount = Callable[[Sequence[Voter], Sequence[Answer]], Mapping[int, Totals]]


async def close(
    db: Database,
    meeting_id: int,
    recount: Recount,
    *,
    closed_by: str | None,
    closed_by_id: int | None,
    now: datetime,
) -> tuple[bool, list[int]]:
    """Close an open meeting with every item's final totals, counted inside the transaction
    (a ballot cast a moment before is in them): (closed now, scheduled rows to disarm).
    Idempotent: a second close (the deadline racing a lead's /close) changes nothing."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT chat_id FROM meetings WHERE id = ? AND status = 'open'", (meeting_id,)
            )
        ).fetchone()
        if row is None:
            return False, []
        voters = await _voters(conn, meeting_id)
        cast_ = [
            _answer(r)
            for r in await (
                await conn.execute(
                    f"SELECT {_ANSWER_COLS} FROM meeting_answers WHERE meeting_id = ?",
                    (meeting_id,),
                )
            ).fetchall()
        ]
        totals = recount(voters, cast_)
        cur = await conn.execute(
            "UPDATE meetings SET status = 'closed', closed_at = ?, closed_by = ?,"
            " closed_by_id = ? WHERE id = ? AND status = 'open'",
            (to_db(now), closed_by, closed_by_id, meeting_id),
        )
        if cur.rowcount != 1:
            return False, []
        await conn.executemany(
            "UPDATE meeting_items SET totals = ? WHERE meeting_id = ? AND number = ?",
            [(final_to_json(Final(t)), meeting_id, n) for n, t in totals.items()],
        )
        stopped = await scheduled.set_status_for(
            conn, KIND, meeting_id, "cancelled", only=("pending", "paused")
        )
    return True, stopped


async def non_voters(db: Database, chat_id: int, meeting_id: int) -> list[tuple[int, str]]:
    """Approved members of the meeting's units whose household answered no item yet."""
    rows = await db.fetchall(
        "SELECT user_id, name FROM (SELECT DISTINCT m.user_id,"
        " coalesce(mb.display_name, '') AS name"
        " FROM unit_members m JOIN units u ON u.id = m.unit_id"
        " JOIN meeting_units e ON e.meeting_id = ? AND e.unit_id = u.id AND e.label = u.label"
        " LEFT JOIN members mb ON mb.chat_id = m.chat_id AND mb.user_id = m.user_id"
        " WHERE u.chat_id = ? AND m.status = 'approved'"
        " AND NOT EXISTS (SELECT 1 FROM meeting_answers a"
        "   WHERE a.meeting_id = ? AND a.unit_id = u.id)) AS waiting"
        " ORDER BY name COLLATE NOCASE, user_id",
        (meeting_id, chat_id, meeting_id),
    )
    return [(int(r["user_id"]), r["name"] or str(r["user_id"])) for r in rows]


async def open_in(db: Database, chat_id: int) -> list[Meeting]:
    """The chat's open meetings, soonest closing first."""
    rows = await db.fetchall(
        "SELECT id FROM meetings WHERE chat_id = ? AND status = 'open' ORDER BY closes_at, id",
        (chat_id,),
    )
    found = [await get(db, int(r["id"])) for r in rows]
    return [m for m in found if m is not None]


async def announced(db: Database, meeting_id: int, now: datetime) -> None:
    """The results of a closed meeting were posted."""
    await db.write_one(
        "UPDATE meetings SET announced_at = ? WHERE id = ? AND announced_at IS NULL",
        (to_db(now), meeting_id),
    )


async def unannounced(db: Database) -> list[int]:
    """Closed meetings whose results were never posted (the process died between the close and
    the post), in groups the bot is still in, oldest first."""
    rows = await db.fetchall(
        "SELECT m.id FROM meetings m JOIN chats c ON c.id = m.chat_id"
        " WHERE m.status = 'closed' AND m.announced_at IS NULL AND c.active = 1 ORDER BY m.id"
    )
    return [int(r["id"]) for r in rows]
