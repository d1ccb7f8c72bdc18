"""Proposals: the row and its stage, support, statements and their votes, minutes, progress,
the review, and the scheduled rows that move a proposal on (expiry, the vote's deadline, the
review's opening and end).

Support, statement votes and review answers are the household's: they are stored per unit of
the register (``unit_id`` and the label it had), never with the person who pressed. A unit
removed from the register stops counting (its rows are matched with the register by id and
label, as decisions do). Every stage change is a compare-and-set (``advance``): two leads
pressing at once, or a lead racing the scheduler, move a proposal once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.domain import proposals as rules
from bot.domain.errors import DomainError
from storage import scheduled
from storage.db import Database, from_db, to_db

#: Scheduled kinds (ref_id: the proposal).
EXPIRY = "proposal_expiry"
VOTE_CHECK = "proposal_vote"
REVIEW_OPEN = "proposal_review"
REVIEW_CLOSE = "proposal_review_end"
KINDS = (EXPIRY, VOTE_CHECK, REVIEW_OPEN, REVIEW_CLOSE)


@dataclass(frozen=True, slots=True)
class Proposal:
    id: int
    chat_id: int
    author_id: int
    title: str
    body: str
    stage: str
    how: str | None
    reason: str | None
    dispute: str | None
    hearing_id: int | None
    coordination_id: int | None
    decision_id: int | None
    last_vote: str | None
    assignee: str | None
    message_id: int | None
    created_at: datetime
    expires_at: datetime
    stage_at: datetime
    decided_at: datetime | None
    review_at: datetime | None
    review_ends_at: datetime | None
    result: dict[str, int] | None
    thread_id: int | None = None  # the forum topic of its card and notices (None: General)


@dataclass(frozen=True, slots=True)
class Statement:
    id: int
    proposal_id: int
    meeting: str
    author_id: int
    text: str
    message_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Minutes:
    id: int
    meeting: str
    by_id: int
    text: str
    attendance: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Update:
    id: int
    text: str
    percent: int | None
    created_at: datetime


_COLS = (
    "id, chat_id, author_id, title, body, stage, how, reason, dispute, hearing_id,"
    " coordination_id, decision_id, last_vote, assignee, message_id, created_at, expires_at,"
    " stage_at, decided_at, review_at, review_ends_at, result, thread_id"
)
_MOMENTS = ("decided_at", "review_at", "review_ends_at")


def _opt(value: str | None) -> datetime | None:
    return from_db(value) if value else None


def _proposal(row: aiosqlite.Row) -> Proposal:
    return Proposal(
        id=row["id"],
        chat_id=row["chat_id"],
        author_id=row["author_id"],
        title=row["title"],
        body=row["body"],
        stage=row["stage"],
        how=row["how"],
        reason=row["reason"],
        dispute=row["dispute"],
        hearing_id=row["hearing_id"],
        coordination_id=row["coordination_id"],
        decision_id=row["decision_id"],
        last_vote=row["last_vote"],
        assignee=row["assignee"],
        message_id=row["message_id"],
        created_at=from_db(row["created_at"]),
        expires_at=from_db(row["expires_at"]),
        stage_at=from_db(row["stage_at"]),
        decided_at=_opt(row["decided_at"]),
        review_at=_opt(row["review_at"]),
        review_ends_at=_opt(row["review_ends_at"]),
        result=json.loads(row["result"]) if row["result"] else None,
        thread_id=row["thread_id"],
    )


def _statement(row: aiosqlite.Row) -> Statement:
    return Statement(
        id=row["id"],
        proposal_id=row["proposal_id"],
        meeting=row["meeting"],
        author_id=row["author_id"],
        text=row["text"],
        message_id=row["message_id"],
        created_at=from_db(row["created_at"]),
    )


async def _get(conn: aiosqlite.Connection, proposal_id: int) -> Proposal | None:
    row = await (
        await conn.execute(f"SELECT {_COLS} FROM proposals WHERE id = ?", (proposal_id,))
    ).fetchone()
    return _proposal(row) if row else None


# --- the proposal -------------------------------------------------------------------------------


async def create(
    db: Database,
    *,
    chat_id: int,
    author_id: int,
    title: str,
    body: str,
    expires_at: datetime,
    now: datetime,
    thread_id: int | None = None,
) -> tuple[int, int]:
    """Store a proposal collecting support and its expiry row: (proposal id, row id).
    ``thread_id``: the forum topic it was proposed in.
    Refuses a resident's fourth proposal collecting support at once (``proposal.too_many``)."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT count(*) FROM proposals WHERE chat_id = ? AND author_id = ?"
                " AND stage = 'collecting'",
                (chat_id, author_id),
            )
        ).fetchone()
        if row is not None and int(row[0]) >= rules.MAX_OPEN_EACH:
            raise DomainError("proposal.too_many", limit=rules.MAX_OPEN_EACH)
        cur = await conn.execute(
            "INSERT INTO proposals (chat_id, author_id, title, body, created_at, expires_at,"
            " stage_at, thread_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                author_id,
                title,
                body,
                to_db(now),
                to_db(expires_at),
                to_db(now),
                thread_id,
            ),
        )
        proposal_id = cur.lastrowid
        assert proposal_id is not None
        row_id = await scheduled.insert(
            conn, chat_id=chat_id, kind=EXPIRY, ref_id=proposal_id, run_at=expires_at, now=now
        )
    return proposal_id, row_id


async def get(db: Database, proposal_id: int) -> Proposal | None:
    row = await db.fetchone(f"SELECT {_COLS} FROM proposals WHERE id = ?", (proposal_id,))
    return _proposal(row) if row else None


async def set_message(db: Database, proposal_id: int, message_id: int) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE proposals SET message_id = ? WHERE id = ?", (message_id, proposal_id)
        )


async def place_card(db: Database, proposal_id: int, message_id: int) -> bool:
    """Store where a card posted late shows, unless one was stored meanwhile."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE proposals SET message_id = ? WHERE id = ? AND message_id IS NULL",
            (message_id, proposal_id),
        )
        return cur.rowcount == 1


async def discard(db: Database, proposal_id: int) -> list[int] | None:
    """Remove a proposal whose card Telegram did not accept: still collecting, shown nowhere.
    Returns its scheduled rows to disarm, or None if it was kept (its card was stored, or a
    lead moved it on meanwhile). Its id is not used again (AUTOINCREMENT, a sequence)."""
    async with db.write() as conn:
        cur = await conn.execute(
            "DELETE FROM proposals WHERE id = ? AND message_id IS NULL AND stage = 'collecting'",
            (proposal_id,),
        )
        if cur.rowcount != 1:
            return None
        return await scheduled.set_status_for(
            conn, EXPIRY, proposal_id, "cancelled", only=("pending",)
        )


async def cardless(db: Database, before: datetime) -> list[Proposal]:
    """Proposals collecting support that show nowhere, created before ``before``: a process
    stopped between storing one and storing its card."""
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM proposals WHERE message_id IS NULL AND stage = 'collecting'"
        " AND created_at < ? ORDER BY chat_id, id",
        (to_db(before),),
    )
    return [_proposal(r) for r in rows]


async def listed(db: Database, chat_id: int, *, limit: int = 60) -> list[Proposal]:
    """The group's proposals still under way, then the most recent finished ones."""
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM proposals WHERE chat_id = ?"
        " ORDER BY stage IN ('reviewed', 'declined', 'expired'), id DESC LIMIT ?",
        (chat_id, limit),
    )
    return [_proposal(r) for r in rows]


async def by_decision(db: Database, decision_id: int) -> Proposal | None:
    row = await db.fetchone(
        f"SELECT {_COLS} FROM proposals WHERE decision_id = ? AND stage = 'vote'", (decision_id,)
    )
    return _proposal(row) if row else None


@dataclass(frozen=True, slots=True)
class Advanced:
    proposal: Proposal
    armed: list[tuple[int, datetime]]  # new scheduled rows to arm after the commit
    stale: list[int]  # cancelled rows to disarm


async def advance(
    db: Database,
    proposal_id: int,
    *,
    chat_id: int,
    to: str,
    now: datetime,
    fields: Mapping[str, Any] | None = None,
    schedule: Sequence[tuple[str, datetime]] = (),
    cancel: Iterable[str] = (),
) -> Advanced:
    """Move the proposal to ``to`` if the rules allow it from its stage now (read inside the
    transaction), setting ``fields``, cancelling its pending rows of the ``cancel`` kinds and
    adding rows ``(kind, run_at)``. Raises ``proposal.not_found`` / ``proposal.wrong_stage``."""
    allowed = {
        "how",
        "reason",
        "dispute",
        "hearing_id",
        "coordination_id",
        "decision_id",
        "last_vote",
        "assignee",
        "decided_at",
        "review_at",
        "review_ends_at",
        "result",
    }
    values = dict(fields or {})
    if set(values) - allowed:
        raise ValueError(f"unknown fields {set(values) - allowed}")
    for key in _MOMENTS:
        if isinstance(values.get(key), datetime):
            values[key] = to_db(values[key])
    if "result" in values and values["result"] is not None:
        values["result"] = json.dumps(values["result"], sort_keys=True)
    async with db.write() as conn:
        found = await _get(conn, proposal_id)
        if found is None or found.chat_id != chat_id:
            raise DomainError("proposal.not_found", ref=f"T{proposal_id}")
        rules.check_move(found.stage, to)
        sets = ", ".join(f"{k} = ?" for k in values)
        await conn.execute(
            f"UPDATE proposals SET stage = ?, stage_at = ?{', ' + sets if sets else ''}"
            " WHERE id = ?",
            (to, to_db(now), *values.values(), proposal_id),
        )
        stale: list[int] = []
        for kind in cancel:
            stale += await scheduled.set_status_for(
                conn, kind, proposal_id, "cancelled", only=("pending",)
            )
        armed = []
        for kind, run_at in schedule:
            row_id = await scheduled.insert(
                conn, chat_id=found.chat_id, kind=kind, ref_id=proposal_id, run_at=run_at, now=now
            )
            armed.append((row_id, run_at))
        current = await _get(conn, proposal_id)
    assert current is not None
    return Advanced(current, armed, stale)


async def revert_vote(db: Database, proposal_id: int, stage: str, rows: Iterable[int]) -> bool:
    """Undo a move to the vote that opened no decision (refused, or cut by a crash): back to
    ``stage``, its pending rows of ``rows`` cancelled."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE proposals SET stage = ? WHERE id = ? AND stage = 'vote'"
            " AND decision_id IS NULL",
            (stage, proposal_id),
        )
        for row_id in rows:
            await conn.execute(
                "UPDATE scheduled SET status = 'cancelled' WHERE id = ? AND status = 'pending'",
                (row_id,),
            )
    return cur.rowcount == 1


async def move_review(
    db: Database, proposal_id: int, run_at: datetime, now: datetime
) -> tuple[list[int], int] | None:
    """A lead's new review date: the pending opening row is replaced, while the proposal is
    decided or in progress. Returns (rows to disarm, the new row), or None at another stage."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE proposals SET review_at = ? WHERE id = ? AND stage IN ('decided', 'progress')",
            (to_db(run_at), proposal_id),
        )
        if cur.rowcount != 1:
            return None
        stale = await scheduled.set_status_for(
            conn, REVIEW_OPEN, proposal_id, "cancelled", only=("pending",)
        )
        found = await _get(conn, proposal_id)
        assert found is not None
        row_id = await scheduled.insert(
            conn,
            chat_id=found.chat_id,
            kind=REVIEW_OPEN,
            ref_id=proposal_id,
            run_at=run_at,
            now=now,
        )
    return stale, row_id


async def set_fields(db: Database, proposal_id: int, stages: Iterable[str], **fields: Any) -> bool:
    """Change fields (``assignee``, ``review_at``...) while the stage is one of ``stages``."""
    stages = tuple(stages)
    values = {k: (to_db(v) if isinstance(v, datetime) else v) for k, v in fields.items()}
    sets = ", ".join(f"{k} = ?" for k in values)
    marks = ", ".join("?" for _ in stages)
    async with db.write() as conn:
        cur = await conn.execute(
            f"UPDATE proposals SET {sets} WHERE id = ? AND stage IN ({marks})",
            (*values.values(), proposal_id, *stages),
        )
    return cur.rowcount == 1


# --- support and followers ----------------------------------------------------------------------

_COUNTS = " JOIN units u ON u.id = s.unit_id AND u.label = s.label"  # still in the register


async def toggle_support(
    db: Database, proposal_id: int, households: Sequence[tuple[int, str]], now: datetime
) -> tuple[bool, list[str]] | None:
    """The presser's households support the proposal, or — when they all do already — withdraw.
    Returns (supporting now, labels), or ``None`` when it no longer takes support."""
    async with db.write() as conn:
        found = await _get(conn, proposal_id)
        if found is None or found.stage not in rules.SUPPORTABLE:
            return None
        ids = [unit_id for unit_id, _ in households]
        marks = ", ".join("?" for _ in ids)
        rows = await (
            await conn.execute(
                f"SELECT unit_id FROM proposal_support WHERE proposal_id = ?"
                f" AND unit_id IN ({marks})",
                (proposal_id, *ids),
            )
        ).fetchall()
        have = {int(r[0]) for r in rows}
        labels = [label for _, label in households]
        if have == set(ids):
            await conn.execute(
                f"DELETE FROM proposal_support WHERE proposal_id = ? AND unit_id IN ({marks})",
                (proposal_id, *ids),
            )
            return False, labels
        for unit_id, label in households:
            await conn.execute(
                "INSERT INTO proposal_support (proposal_id, chat_id, unit_id, label, at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (proposal_id, found.chat_id, unit_id, label, to_db(now)),
            )
    return True, labels


async def support_count(db: Database, proposal_id: int) -> int:
    row = await db.fetchone(
        f"SELECT count(*) AS n FROM proposal_support s{_COUNTS} WHERE s.proposal_id = ?",
        (proposal_id,),
    )
    return int(row["n"]) if row else 0


async def toggle_follow(db: Database, proposal_id: int, chat_id: int, user_id: int) -> bool:
    """Follow (True) or stop following (False)."""
    async with db.write() as conn:
        cur = await conn.execute(
            "DELETE FROM proposal_followers WHERE proposal_id = ? AND user_id = ?",
            (proposal_id, user_id),
        )
        if cur.rowcount:
            return False
        await conn.execute(
            "INSERT INTO proposal_followers (proposal_id, chat_id, user_id) VALUES (?, ?, ?)",
            (proposal_id, chat_id, user_id),
        )
    return True


async def followers(db: Database, proposal_id: int) -> list[int]:
    rows = await db.fetchall(
        "SELECT user_id FROM proposal_followers WHERE proposal_id = ? ORDER BY user_id",
        (proposal_id,),
    )
    return [int(r["user_id"]) for r in rows]


# --- statements ---------------------------------------------------------------------------------

_STATEMENT_COLS = "id, proposal_id, meeting, author_id, text, message_id, created_at"


async def add_statement(
    db: Database, proposal_id: int, *, chat_id: int, author_id: int, text: str, now: datetime
) -> Statement:
    """A statement for the meeting the proposal is in. Refusals: ``proposal.no_meeting``,
    ``proposal.statements_each`` (a resident's limit), ``proposal.statements_full``,
    ``proposal.statement_repeated`` (the same words twice)."""
    async with db.write() as conn:
        found = await _get(conn, proposal_id)
        if found is None or found.chat_id != chat_id:
            raise DomainError("proposal.not_found", ref=f"T{proposal_id}")
        if found.stage not in rules.MEETINGS:
            raise DomainError("proposal.no_meeting", ref=f"T{proposal_id}")
        rows = list(
            await (
                await conn.execute(
                    "SELECT author_id, text FROM proposal_statements WHERE proposal_id = ?",
                    (proposal_id,),
                )
            ).fetchall()
        )
        if len(rows) >= rules.MAX_STATEMENTS:
            raise DomainError("proposal.statements_full", limit=rules.MAX_STATEMENTS)
        if sum(1 for r in rows if r["author_id"] == author_id) >= rules.MAX_STATEMENTS_EACH:
            raise DomainError("proposal.statements_each", limit=rules.MAX_STATEMENTS_EACH)
        if any(r["text"].casefold() == text.casefold() for r in rows):
            raise DomainError("proposal.statement_repeated")
        cur = await conn.execute(
            "INSERT INTO proposal_statements (proposal_id, chat_id, meeting, author_id, text,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (proposal_id, chat_id, found.stage, author_id, text, to_db(now)),
        )
        statement_id = cur.lastrowid
        assert statement_id is not None
        row = await (
            await conn.execute(
                f"SELECT {_STATEMENT_COLS} FROM proposal_statements WHERE id = ?", (statement_id,)
            )
        ).fetchone()
    assert row is not None
    return _statement(row)


async def get_statement(db: Database, statement_id: int) -> Statement | None:
    row = await db.fetchone(
        f"SELECT {_STATEMENT_COLS} FROM proposal_statements WHERE id = ?", (statement_id,)
    )
    return _statement(row) if row else None


async def set_statement_message(db: Database, statement_id: int, message_id: int) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE proposal_statements SET message_id = ? WHERE id = ?",
            (message_id, statement_id),
        )


async def vote_statement(
    db: Database, statement_id: int, households: Sequence[tuple[int, str]], choice: str
) -> bool:
    """The households' answer to a statement (the latest counts). False once the meeting is
    over (the proposal left the meeting stages)."""
    if choice not in rules.CHOICES:
        raise ValueError(choice)
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT p.stage, s.chat_id FROM proposal_statements s"
                " JOIN proposals p ON p.id = s.proposal_id WHERE s.id = ?",
                (statement_id,),
            )
        ).fetchone()
        if row is None or row["stage"] not in rules.MEETINGS:
            return False
        for unit_id, _ in households:
            await conn.execute(
                "INSERT INTO proposal_statement_votes (statement_id, chat_id, unit_id, choice)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (statement_id, unit_id)"
                " DO UPDATE SET choice = excluded.choice",
                (statement_id, row["chat_id"], unit_id, choice),
            )
    return True


async def statements(db: Database, proposal_id: int) -> list[tuple[Statement, rules.Tally]]:
    """Every statement with the households' answers (units still in the register only)."""
    found = [
        _statement(r)
        for r in await db.fetchall(
            f"SELECT {_STATEMENT_COLS} FROM proposal_statements WHERE proposal_id = ? ORDER BY id",
            (proposal_id,),
        )
    ]
    votes = await db.fetchall(
        "SELECT v.statement_id, v.choice FROM proposal_statement_votes v"
        " JOIN proposal_statements s ON s.id = v.statement_id"
        " JOIN units u ON u.id = v.unit_id AND u.chat_id = v.chat_id"
        " WHERE s.proposal_id = ?",
        (proposal_id,),
    )
    by: dict[int, list[str]] = {}
    for v in votes:
        by.setdefault(int(v["statement_id"]), []).append(str(v["choice"]))
    return [(s, rules.tally(s.id, by.get(s.id, ()))) for s in found]


# --- minutes and progress -----------------------------------------------------------------------


async def add_minutes(
    db: Database,
    proposal_id: int,
    *,
    chat_id: int,
    meeting: str,
    by_id: int,
    text: str,
    attendance: int | None,
    now: datetime,
) -> int:
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT INTO proposal_minutes (proposal_id, chat_id, meeting, by_id, text,"
            " attendance, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (proposal_id, chat_id, meeting, by_id, text, attendance, to_db(now)),
        )
    assert cur.lastrowid is not None
    return cur.lastrowid


async def minutes(db: Database, proposal_id: int) -> list[Minutes]:
    rows = await db.fetchall(
        "SELECT id, meeting, by_id, text, attendance, created_at FROM proposal_minutes"
        " WHERE proposal_id = ? ORDER BY id",
        (proposal_id,),
    )
    return [
        Minutes(
            r["id"], r["meeting"], r["by_id"], r["text"], r["attendance"], from_db(r["created_at"])
        )
        for r in rows
    ]


async def add_progress(
    db: Database,
    proposal_id: int,
    *,
    chat_id: int,
    by_id: int,
    text: str,
    percent: int | None,
    now: datetime,
) -> Proposal:
    """A progress update; the first one moves a decided proposal to "in progress"."""
    async with db.write() as conn:
        found = await _get(conn, proposal_id)
        if found is None or found.chat_id != chat_id:
            raise DomainError("proposal.not_found", ref=f"T{proposal_id}")
        if found.stage not in (rules.DECIDED, rules.PROGRESS):
            raise DomainError("proposal.not_decided", ref=f"T{proposal_id}")
        await conn.execute(
            "INSERT INTO proposal_progress (proposal_id, chat_id, by_id, text, percent,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (proposal_id, chat_id, by_id, text, percent, to_db(now)),
        )
        if found.stage == rules.DECIDED:
            await conn.execute(
                "UPDATE proposals SET stage = 'progress', stage_at = ? WHERE id = ?",
                (to_db(now), proposal_id),
            )
        current = await _get(conn, proposal_id)
    assert current is not None
    return current


async def progress(db: Database, proposal_id: int) -> list[Update]:
    rows = await db.fetchall(
        "SELECT id, text, percent, created_at FROM proposal_progress WHERE proposal_id = ?"
        " ORDER BY id",
        (proposal_id,),
    )
    return [Update(r["id"], r["text"], r["percent"], from_db(r["created_at"])) for r in rows]


# --- review -------------------------------------------------------------------------------------


async def answer_review(
    db: Database,
    proposal_id: int,
    households: Sequence[tuple[int, str]],
    answer: str | None,
    remark: str | None,
    now: datetime,
) -> bool:
    """The households' review answer (and/or remark; the latest counts). False unless the
    review is open. A remark alone needs an answer given before (``proposal.remark_first``)."""
    async with db.write() as conn:
        found = await _get(conn, proposal_id)
        if found is None or found.stage != rules.REVIEW:
            return False
        for unit_id, _ in households:
            if answer is None:
                cur = await conn.execute(
                    "UPDATE proposal_reviews SET remark = ?, at = ?"
                    " WHERE proposal_id = ? AND unit_id = ?",
                    (remark, to_db(now), proposal_id, unit_id),
                )
                if cur.rowcount == 0:
                    raise DomainError("proposal.remark_first")
                continue
            await conn.execute(
                "INSERT INTO proposal_reviews (proposal_id, chat_id, unit_id, answer, remark, at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (proposal_id, unit_id) DO UPDATE SET"
                " answer = excluded.answer,"
                " remark = coalesce(excluded.remark, proposal_reviews.remark),"
                " at = excluded.at",
                (proposal_id, found.chat_id, unit_id, answer, remark, to_db(now)),
            )
    return True


async def review_answers(db: Database, proposal_id: int) -> list[tuple[str, str | None]]:
    """(answer, remark) of every household still in the register."""
    rows = await db.fetchall(
        "SELECT r.answer, r.remark FROM proposal_reviews r"
        " JOIN units u ON u.id = r.unit_id AND u.chat_id = r.chat_id"
        " WHERE r.proposal_id = ? ORDER BY r.at",
        (proposal_id,),
    )
    return [(str(r["answer"]), r["remark"]) for r in rows]


# --- digest -------------------------------------------------------------------------------------


async def under_way(db: Database, chat_id: int, stages: Iterable[str]) -> list[Proposal]:
    stages = tuple(stages)
    marks = ", ".join("?" for _ in stages)
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM proposals WHERE chat_id = ? AND stage IN ({marks}) ORDER BY id",
        (chat_id, *stages),
    )
    return [_proposal(r) for r in rows]
