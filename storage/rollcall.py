"""Emergency roll-calls, helpers and /checkonme lines.

A roll-call copies the group's register when it opens (``rollcall_units``), so the households
it counts never change under it. Answers are one row per household (or per resident without
one); :func:`answer` runs the pure rule ``bot.domain.rollcall.next_answer`` inside the write
transaction, so two members pressing at once cannot both win. The reminder of households not
heard from is one row of the shared ``scheduled`` table (kind ``rollcall_reminder``), written
in the same transaction as the roll-call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.domain.rollcall import Answer, Recorded, Refusal
from storage import scheduled
from storage.db import Database, from_db, to_db
from storage.units import APPROVED, natural_key

REMINDER = "rollcall_reminder"


@dataclass(frozen=True, slots=True)
class RollCall:
    id: int
    chat_id: int
    creator_id: int
    creator_name: str
    title: str
    status: str  # open | closed
    message_id: int | None
    opened_at: datetime
    closed_at: datetime | None
    thread_id: int | None = None  # the forum topic of its card and follow-ups (None: General)


@dataclass(frozen=True, slots=True)
class Household:
    id: int  # rollcall_units.id: our own, never reused (goes into button data)
    label: str


@dataclass(frozen=True, slots=True)
class AnswerRow:
    unit_id: int | None  # None: a resident without a household
    label: str | None
    recorded: Recorded
    answered_at: datetime


_COLS = (
    "id, chat_id, creator_id, creator_name, title, status, message_id, opened_at, closed_at,"
    " thread_id"
)


def _rollcall(r: aiosqlite.Row) -> RollCall:
    return RollCall(
        id=int(r["id"]),
        chat_id=int(r["chat_id"]),
        creator_id=int(r["creator_id"]),
        creator_name=str(r["creator_name"]),
        title=str(r["title"]),
        status=str(r["status"]),
        message_id=r["message_id"],
        opened_at=from_db(r["opened_at"]),
        closed_at=from_db(r["closed_at"]) if r["closed_at"] else None,
        thread_id=r["thread_id"],
    )


async def open_rollcall(
    db: Database,
    *,
    chat_id: int,
    creator_id: int,
    creator_name: str,
    title: str,
    now: datetime,
    remind_at: datetime,
    thread_id: int | None = None,
) -> tuple[int, int] | None:
    """A new roll-call over the register as it is now, with its reminder row. ``None`` when the
    group already has one open. Returns (roll-call id, scheduled row id to arm). ``thread_id``:
    the forum topic it was opened in, where its reminder and closing go."""
    async with db.write() as conn:
        busy = await (
            await conn.execute(
                "SELECT id FROM rollcalls WHERE chat_id = ? AND status = 'open'", (chat_id,)
            )
        ).fetchone()
        if busy is not None:
            return None
        cur = await conn.execute(
            "INSERT INTO rollcalls (chat_id, creator_id, creator_name, title, opened_at, thread_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (chat_id, creator_id, creator_name, title, to_db(now), thread_id),
        )
        rollcall_id = cur.lastrowid
        assert rollcall_id is not None
        labels = [
            str(r[0])
            for r in await (
                await conn.execute("SELECT label FROM units WHERE chat_id = ?", (chat_id,))
            ).fetchall()
        ]
        labels.sort(key=natural_key)
        await conn.executemany(
            "INSERT INTO rollcall_units (rollcall_id, chat_id, position, label)"
            " VALUES (?, ?, ?, ?)",
            [(rollcall_id, chat_id, n, label) for n, label in enumerate(labels)],
        )
        row_id = await scheduled.insert(
            conn, chat_id=chat_id, kind=REMINDER, ref_id=rollcall_id, run_at=remind_at, now=now
        )
    return rollcall_id, row_id


async def get(db: Database, rollcall_id: int) -> RollCall | None:
    row = await db.fetchone(f"SELECT {_COLS} FROM rollcalls WHERE id = ?", (rollcall_id,))
    return _rollcall(row) if row else None


async def open_in(db: Database, chat_id: int) -> RollCall | None:
    row = await db.fetchone(
        f"SELECT {_COLS} FROM rollcalls WHERE chat_id = ? AND status = 'open'", (chat_id,)
    )
    return _rollcall(row) if row else None


async def set_message(db: Database, rollcall_id: int, message_id: int) -> None:
    await db.write_one(
        "UPDATE rollcalls SET message_id = ? WHERE id = ?", (message_id, rollcall_id)
    )


async def households(db: Database, rollcall_id: int) -> list[Household]:
    rows = await db.fetchall(
        "SELECT id, label FROM rollcall_units WHERE rollcall_id = ? ORDER BY position",
        (rollcall_id,),
    )
    return [Household(int(r["id"]), str(r["label"])) for r in rows]


async def household(db: Database, unit_id: int) -> tuple[int, Household] | None:
    """(roll-call id, household) of a ``rollcall_units`` id."""
    row = await db.fetchone(
        "SELECT id, rollcall_id, label FROM rollcall_units WHERE id = ?", (unit_id,)
    )
    if row is None:
        return None
    return int(row["rollcall_id"]), Household(int(row["id"]), str(row["label"]))


async def answers(db: Database, rollcall_id: int) -> list[AnswerRow]:
    rows = await db.fetchall(
        "SELECT a.unit_id, u.label, a.user_id, a.name, a.answer, a.note, a.answered_at"
        " FROM rollcall_answers a LEFT JOIN rollcall_units u ON u.id = a.unit_id"
        " WHERE a.rollcall_id = ? ORDER BY a.id",
        (rollcall_id,),
    )
    return [
        AnswerRow(
            unit_id=r["unit_id"],
            label=r["label"],
            recorded=Recorded(Answer(r["answer"]), int(r["user_id"]), str(r["name"]), r["note"]),
            answered_at=from_db(r["answered_at"]),
        )
        for r in rows
    ]


async def own_households(db: Database, rollcall_id: int, user_id: int) -> list[Household]:
    """The households of the roll-call that ``user_id`` belongs to (approved claims now)."""
    rows = await db.fetchall(
        "SELECT r.id, r.label FROM rollcall_units r"
        " JOIN units u ON u.chat_id = r.chat_id AND u.label = r.label"
        " JOIN unit_members m ON m.unit_id = u.id AND m.status = ?"
        " WHERE r.rollcall_id = ? AND m.user_id = ? ORDER BY r.position",
        (APPROVED, rollcall_id, user_id),
    )
    return [Household(int(r["id"]), str(r["label"])) for r in rows]


async def members_of(
    db: Database, rollcall_id: int, unit_ids: list[int]
) -> dict[int, list[tuple[int, str]]]:
    """Approved members (user id, name) of the given households, by household id."""
    if not unit_ids:
        return {}
    marks = ", ".join("?" for _ in unit_ids)
    rows = await db.fetchall(
        "SELECT r.id AS rid, m.user_id, coalesce(mb.display_name, '') AS name"
        " FROM rollcall_units r"
        " JOIN units u ON u.chat_id = r.chat_id AND u.label = r.label"
        " JOIN unit_members m ON m.unit_id = u.id AND m.status = ?"
        " LEFT JOIN members mb ON mb.chat_id = m.chat_id AND mb.user_id = m.user_id"
        f" WHERE r.rollcall_id = ? AND r.id IN ({marks}) ORDER BY r.position, mb.display_name",
        (APPROVED, rollcall_id, *unit_ids),
    )
    found: dict[int, list[tuple[int, str]]] = {}
    for r in rows:
        found.setdefault(int(r["rid"]), []).append(
            (int(r["user_id"]), str(r["name"]) or str(r["user_id"]))
        )
    return found


async def answer(
    db: Database,
    rollcall_id: int,
    unit_id: int | None,
    *,
    user_id: int,
    name: str,
    decide: Callable[[Recorded | None], Answer | Refusal],
    note: str | None,
    now: datetime,
) -> Answer | Refusal | None:
    """Record an answer for a household (``unit_id``) or for the resident alone (``None``),
    as the rule ``decide(current)`` says. ``None`` when the roll-call is not open."""
    async with db.write() as conn:
        status = await (
            await conn.execute("SELECT status FROM rollcalls WHERE id = ?", (rollcall_id,))
        ).fetchone()
        if status is None or status[0] != "open":
            return None
        if unit_id is None:
            where, params = "unit_id IS NULL AND user_id = ?", (rollcall_id, user_id)
        else:
            where, params = "unit_id = ?", (rollcall_id, unit_id)
        row = await (
            await conn.execute(
                f"SELECT id, user_id, name, answer, note FROM rollcall_answers"
                f" WHERE rollcall_id = ? AND {where}",
                params,
            )
        ).fetchone()
        current = (
            Recorded(Answer(row["answer"]), int(row["user_id"]), str(row["name"]), row["note"])
            if row
            else None
        )
        outcome = decide(current)
        if isinstance(outcome, Refusal):
            return outcome
        kept_note = note
        if kept_note is None and current is not None and outcome is Answer.HELP:
            kept_note = current.note if current.answer is Answer.HELP else None
        if row is None:
            await conn.execute(
                "INSERT INTO rollcall_answers (rollcall_id, chat_id, unit_id, user_id, name,"
                " answer, note, answered_at)"
                " SELECT ?, chat_id, ?, ?, ?, ?, ?, ? FROM rollcalls WHERE id = ?",
                (
                    rollcall_id,
                    unit_id,
                    user_id,
                    name,
                    outcome.value,
                    kept_note,
                    to_db(now),
                    rollcall_id,
                ),
            )
        else:
            await conn.execute(
                "UPDATE rollcall_answers SET user_id = ?, name = ?, answer = ?, note = ?,"
                " answered_at = ? WHERE id = ?",
                (user_id, name, outcome.value, kept_note, to_db(now), row["id"]),
            )
        return outcome


async def add_note(db: Database, rollcall_id: int, user_id: int, note: str) -> list[str | None]:
    """Attach ``note`` to the "Need help" answers ``user_id`` gave in an open roll-call; the
    labels (None: their own, without a household) that now carry it."""
    async with db.write() as conn:
        rows = await (
            await conn.execute(
                "SELECT a.id, u.label FROM rollcall_answers a"
                " JOIN rollcalls c ON c.id = a.rollcall_id AND c.status = 'open'"
                " LEFT JOIN rollcall_units u ON u.id = a.unit_id"
                " WHERE a.rollcall_id = ? AND a.user_id = ? AND a.answer = 'help'",
                (rollcall_id, user_id),
            )
        ).fetchall()
        for r in rows:
            await conn.execute("UPDATE rollcall_answers SET note = ? WHERE id = ?", (note, r["id"]))
    return [r["label"] for r in rows]


async def close(db: Database, rollcall_id: int, now: datetime) -> list[int] | None:
    """Close an open roll-call: its pending reminder rows (to disarm), or ``None`` when it was
    not open (a second close changes nothing)."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE rollcalls SET status = 'closed', closed_at = ?"
            " WHERE id = ? AND status = 'open'",
            (to_db(now), rollcall_id),
        )
        if cur.rowcount != 1:
            return None
        return await scheduled.set_status_for(
            conn, REMINDER, rollcall_id, "cancelled", only=("pending",)
        )


# --- helpers and /checkonme -------------------------------------------------------------------


async def set_helper(db: Database, chat_id: int, user_id: int, on: bool, now: datetime) -> bool:
    """Sign up (or off) as a helper; whether anything changed."""
    if on:
        changed = await db.write_one(
            "INSERT OR IGNORE INTO rollcall_helpers (chat_id, user_id, since) VALUES (?, ?, ?)",
            (chat_id, user_id, to_db(now)),
        )
    else:
        changed = await db.write_one(
            "DELETE FROM rollcall_helpers WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
        )
    return changed > 0


async def helpers(db: Database, chat_id: int) -> list[tuple[int, str]]:
    rows = await db.fetchall(
        "SELECT h.user_id, coalesce(m.display_name, '') AS name FROM rollcall_helpers h"
        " LEFT JOIN members m ON m.chat_id = h.chat_id AND m.user_id = h.user_id"
        " WHERE h.chat_id = ? ORDER BY h.id",
        (chat_id,),
    )
    return [(int(r["user_id"]), str(r["name"]) or str(r["user_id"])) for r in rows]


async def is_helper(db: Database, chat_id: int, user_id: int) -> bool:
    row = await db.fetchone(
        "SELECT 1 FROM rollcall_helpers WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
    )
    return row is not None


async def set_check_on_me(
    db: Database, chat_ids: list[int], user_id: int, note: str, now: datetime, expires: datetime
) -> int:
    """Store (or renew) the person's line in each of the groups; how many groups."""
    async with db.write() as conn:
        for chat_id in chat_ids:
            await conn.execute(
                "INSERT INTO check_on_me (chat_id, user_id, note, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id, user_id) DO UPDATE SET"
                " note = excluded.note, created_at = excluded.created_at,"
                " expires_at = excluded.expires_at",
                (chat_id, user_id, note, to_db(now), to_db(expires)),
            )
    return len(chat_ids)


async def remove_check_on_me(db: Database, user_id: int) -> int:
    return await db.write_one("DELETE FROM check_on_me WHERE user_id = ?", (user_id,))


async def check_on_me_of(
    db: Database, user_id: int, now: datetime
) -> list[tuple[int, str, datetime]]:
    """The person's current lines: (chat id, note, expires at)."""
    rows = await db.fetchall(
        "SELECT chat_id, note, expires_at FROM check_on_me WHERE user_id = ? AND expires_at > ?",
        (user_id, to_db(now)),
    )
    return [(int(r["chat_id"]), str(r["note"]), from_db(r["expires_at"])) for r in rows]


async def check_on_me_lines(
    db: Database, rollcall_id: int, chat_id: int, now: datetime
) -> list[tuple[str | None, str, str]]:
    """Current /checkonme lines of the group's residents: (their household's label in this
    roll-call or None, name, note), households in the register's order. Expired lines are
    deleted on the way."""
    await db.write_one("DELETE FROM check_on_me WHERE expires_at <= ?", (to_db(now),))
    rows = await db.fetchall(
        "SELECT c.user_id, c.note, coalesce(mb.display_name, '') AS name FROM check_on_me c"
        " LEFT JOIN members mb ON mb.chat_id = c.chat_id AND mb.user_id = c.user_id"
        " WHERE c.chat_id = ? AND c.expires_at > ?",
        (chat_id, to_db(now)),
    )
    order = {h.label: n for n, h in enumerate(await households(db, rollcall_id))}
    found: list[tuple[int, str | None, str, str]] = []
    for r in rows:
        own = await own_households(db, rollcall_id, int(r["user_id"]))
        label = own[0].label if own else None
        name = str(r["name"]) or str(r["user_id"])
        found.append(
            (order.get(label, len(order)) if label else len(order), label, name, r["note"])
        )
    found.sort(key=lambda f: (f[0], f[2]))
    return [(label, name, note) for _, label, name, note in found]


async def groups_of(db: Database, user_id: int) -> list[int]:
    """Groups where the person is (or, for all we know, may be) a member."""
    rows = await db.fetchall(
        "SELECT chat_id FROM members WHERE user_id = ? AND status IS NOT 'left'", (user_id,)
    )
    return [int(r["chat_id"]) for r in rows]


async def open_prompt(
    db: Database, chat_id: int, kind: str, author_id: int, now: datetime
) -> int | None:
    """The message of this person's picker still open in the chat (one at a time each)."""
    row = await db.fetchone(
        "SELECT message_id FROM prompts WHERE chat_id = ? AND kind = ? AND author_id = ?"
        " AND state = 'open' AND message_id IS NOT NULL AND (expires_at IS NULL OR expires_at > ?)"
        " ORDER BY id DESC LIMIT 1",
        (chat_id, kind, author_id, to_db(now)),
    )
    return int(row["message_id"]) if row else None


async def open_help_of(db: Database, user_id: int) -> list[tuple[int, int]]:
    """Open roll-calls where the person's "Need help" stands: (roll-call id, chat id)."""
    rows = await db.fetchall(
        "SELECT DISTINCT r.id, r.chat_id FROM rollcall_answers a"
        " JOIN rollcalls r ON r.id = a.rollcall_id AND r.status = 'open'"
        " WHERE a.user_id = ? AND a.answer = 'help' ORDER BY r.id",
        (user_id,),
    )
    return [(int(r["id"]), int(r["chat_id"])) for r in rows]


async def open_prompt_of(
    db: Database, chat_id: int, kind: str, author_id: int, now: datetime
) -> tuple[int, int] | None:
    """(prompt id, message id) of the person's newest open prompt of ``kind`` in the chat."""
    row = await db.fetchone(
        "SELECT id, message_id FROM prompts WHERE chat_id = ? AND kind = ? AND author_id = ?"
        " AND state = 'open' AND message_id IS NOT NULL AND (expires_at IS NULL OR expires_at > ?)"
        " ORDER BY id DESC LIMIT 1",
        (chat_id, kind, author_id, to_db(now)),
    )
    return (int(row["id"]), int(row["message_id"])) if row else None
