"""Repair and problem reports, their Me-too presses, categories, handlers and overdue rows.

State changes run the pure rule of ``bot.domain.reports`` on the state read inside the write
transaction (:func:`change`), so two handlers pressing at once cannot both move a report, and a
replayed button finds the state already changed. The overdue check is one chain of scheduled
rows per report (kind ``report_overdue``): the first at the acknowledgement deadline, the next
(``next_run``) at the fix deadline; a reopened report starts a new chain, a closed one cancels
its row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.domain import reports as rules
from storage import scheduled
from storage.db import Database, from_db, to_db

OVERDUE = "report_overdue"


@dataclass(frozen=True, slots=True)
class Report:
    id: int
    chat_id: int
    reporter_id: int
    reporter_name: str
    what: str
    place: str | None
    photo_id: str | None
    category: str | None
    private: bool
    status: str
    reason: str | None
    since: datetime
    flagged_ack: bool
    flagged_fix: bool
    message_id: int | None
    created_at: datetime
    changed_at: datetime
    thread_id: int | None = None  # the forum topic of its card and what is told in the group

    @property
    def clock(self) -> rules.Clock:
        return rules.Clock(self.status, self.since, self.flagged_ack, self.flagged_fix)


@dataclass(frozen=True, slots=True)
class Change:
    """One line of a report's history."""

    status: str
    by_id: int
    by_name: str
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Changed:
    before: Report
    after: Report
    disarm: list[int]
    arm: tuple[int, datetime] | None


_COLS = (
    "id, chat_id, reporter_id, reporter_name, what, place, photo_id, category, private, status,"
    " reason, since, flagged_ack, flagged_fix, message_id, created_at, changed_at, thread_id"
)


def _report(r: aiosqlite.Row) -> Report:
    return Report(
        id=r["id"],
        chat_id=r["chat_id"],
        reporter_id=r["reporter_id"],
        reporter_name=r["reporter_name"],
        what=r["what"],
        place=r["place"],
        photo_id=r["photo_id"],
        category=r["category"],
        private=bool(r["private"]),
        status=r["status"],
        reason=r["reason"],
        since=from_db(r["since"]),
        flagged_ack=bool(r["flagged_ack"]),
        flagged_fix=bool(r["flagged_fix"]),
        message_id=r["message_id"],
        created_at=from_db(r["created_at"]),
        changed_at=from_db(r["changed_at"]),
        thread_id=r["thread_id"],
    )


async def _get(conn: aiosqlite.Connection, report_id: int) -> Report | None:
    row = await (
        await conn.execute(f"SELECT {_COLS} FROM reports WHERE id = ?", (report_id,))
    ).fetchone()
    return _report(row) if row else None


async def create(
    db: Database,
    *,
    chat_id: int,
    reporter_id: int,
    reporter_name: str,
    draft: rules.Draft,
    photo_id: str | None,
    now: datetime,
    ack_days: int,
    status: str = rules.OPEN,
    thread_id: int | None = None,
) -> tuple[int, tuple[int, datetime] | None]:
    """Store a report (and, unless a draft, its first overdue row): (id, row to arm).
    ``thread_id``: the forum topic it was reported in."""
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT INTO reports (chat_id, reporter_id, reporter_name, what, place, photo_id,"
            " private, status, since, created_at, changed_at, thread_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                reporter_id,
                reporter_name,
                draft.what,
                draft.where,
                photo_id,
                int(draft.private),
                status,
                to_db(now),
                to_db(now),
                to_db(now),
                thread_id,
            ),
        )
        report_id = cur.lastrowid
        assert report_id is not None
        arm = None
        if status != rules.DRAFT:
            arm = await _first_row(conn, chat_id, report_id, now, ack_days)
    return report_id, arm


async def _first_row(
    conn: aiosqlite.Connection, chat_id: int, report_id: int, since: datetime, ack_days: int
) -> tuple[int, datetime]:
    at = since + timedelta(days=ack_days)
    row_id = await scheduled.insert(
        conn, chat_id=chat_id, kind=OVERDUE, ref_id=report_id, run_at=at, now=since
    )
    return row_id, at


async def publish(
    db: Database, report_id: int, user_id: int, chat_id: int, now: datetime, ack_days: int
) -> tuple[int, datetime] | None:
    """A private draft goes to its group (chosen by its reporter): None if it is no draft of
    theirs any more (a second press)."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE reports SET chat_id = ?, status = 'open', since = ?, changed_at = ?"
            " WHERE id = ? AND reporter_id = ? AND status = 'draft'",
            (chat_id, to_db(now), to_db(now), report_id, user_id),
        )
        if cur.rowcount != 1:
            return None
        return await _first_row(conn, chat_id, report_id, now, ack_days)


async def get(db: Database, report_id: int) -> Report | None:
    row = await db.fetchone(f"SELECT {_COLS} FROM reports WHERE id = ?", (report_id,))
    return _report(row) if row else None


async def set_message(db: Database, report_id: int, message_id: int) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE reports SET message_id = ? WHERE id = ?", (message_id, report_id)
        )


async def set_category(db: Database, report_id: int, reporter_id: int | None, key: str) -> bool:
    """The category is chosen once, by the reporter (``reporter_id``) or, for a reporter who
    did not, by a lead (``None``); a replayed or forged press of another category changes
    nothing: the handlers were routed by the first."""
    # the reporter's condition only when there is one (PostgreSQL cannot type `? IS NULL`)
    by = "" if reporter_id is None else " AND reporter_id = ?"
    async with db.write() as conn:
        cur = await conn.execute(
            f"UPDATE reports SET category = ? WHERE id = ?{by}"
            " AND category IS NULL AND status IN ('open', 'acknowledged', 'in_progress', 'draft')",
            (key, report_id) if reporter_id is None else (key, report_id, reporter_id),
        )
        return cur.rowcount == 1


async def change(
    db: Database,
    report_id: int,
    target: str,
    *,
    by_id: int,
    by_name: str,
    by_reporter: bool,
    reason: str | None,
    now: datetime,
    ack_days: int,
) -> Changed:
    """Move a report to ``target`` by the state machine (DomainError if it may not), log it,
    and keep its overdue chain right: a final state cancels it, a reopening starts anew."""
    async with db.write() as conn:
        before = await _get(conn, report_id)
        if before is None:
            raise LookupError(report_id)
        rules.change(before.status, target, by_reporter=by_reporter, reason=reason)
        disarm: list[int] = []
        arm = None
        if target == rules.OPEN:  # reopened: the clocks start again
            await conn.execute(
                "UPDATE reports SET status = 'open', reason = NULL, since = ?, flagged_ack = 0,"
                " flagged_fix = 0, changed_at = ? WHERE id = ?",
                (to_db(now), to_db(now), report_id),
            )
            disarm = await scheduled.set_status_for(
                conn, OVERDUE, report_id, "cancelled", only=("pending", "paused")
            )
            arm = await _first_row(conn, before.chat_id, report_id, now, ack_days)
        else:
            await conn.execute(
                "UPDATE reports SET status = ?, reason = ?, changed_at = ? WHERE id = ?",
                (target, reason if target in rules.NEEDS_REASON else None, to_db(now), report_id),
            )
            if target not in rules.ACTIVE:
                disarm = await scheduled.set_status_for(
                    conn, OVERDUE, report_id, "cancelled", only=("pending", "paused")
                )
        await conn.execute(
            "INSERT INTO report_log (report_id, chat_id, status, by_id, by_name, reason, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (report_id, before.chat_id, target, by_id, by_name, reason, to_db(now)),
        )
        after = await _get(conn, report_id)
        assert after is not None
    return Changed(before, after, disarm, arm)


async def history(db: Database, report_id: int, limit: int = 3) -> list[Change]:
    """The last ``limit`` changes, oldest first."""
    rows = await db.fetchall(
        "SELECT status, by_id, by_name, reason, at FROM report_log WHERE report_id = ?"
        " ORDER BY id DESC LIMIT ?",
        (report_id, limit),
    )
    return [
        Change(r["status"], r["by_id"], r["by_name"], r["reason"], from_db(r["at"]))
        for r in reversed(rows)
    ]


async def flag(db: Database, report_id: int, kinds: tuple[str, ...]) -> None:
    sets = [f"flagged_{k} = 1" for k in kinds if k in ("ack", "fix")]
    if not sets:
        return
    async with db.write() as conn:
        await conn.execute(f"UPDATE reports SET {', '.join(sets)} WHERE id = ?", (report_id,))


async def active(db: Database, chat_id: int, limit: int = 50) -> list[Report]:
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM reports WHERE chat_id = ?"
        " AND status IN ('open', 'acknowledged', 'in_progress', 'fixed')"
        " ORDER BY since, id LIMIT ?",
        (chat_id, limit),
    )
    return [_report(r) for r in rows]


async def drafts_of(db: Database, user_id: int) -> list[Report]:
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM reports WHERE reporter_id = ? AND status = 'draft'", (user_id,)
    )
    return [_report(r) for r in rows]


# --- households and Me too -------------------------------------------------------------------


async def units_of(db: Database, chat_id: int, user_id: int) -> list[int]:
    """The approved units of a resident here (suspended claims do not count)."""
    rows = await db.fetchall(
        "SELECT unit_id FROM unit_members WHERE chat_id = ? AND user_id = ? AND status = ?",
        (chat_id, user_id, "approved"),
    )
    return [int(r["unit_id"]) for r in rows]


async def household_of(db: Database, chat_id: int, user_id: int) -> str:
    return rules.household(await units_of(db, chat_id, user_id), user_id)


async def add_me_too(
    db: Database,
    report_id: int,
    user_id: int,
    key: str,
    reporter_key: Callable[[Report], str],
    now: datetime,
) -> tuple[Report, str]:
    """A Me too press, decided on the state inside the write transaction: (report, notice key
    of ``bot.domain.reports.me_too``). Only active reports take it."""
    async with db.write() as conn:
        report = await _get(conn, report_id)
        if report is None:
            raise LookupError(report_id)
        if report.status not in rules.ACTIVE:
            return report, "report.metoo_closed"
        rows = await (
            await conn.execute(
                "SELECT household, user_id FROM report_metoo WHERE report_id = ?", (report_id,)
            )
        ).fetchall()
        taken = {r["household"]: int(r["user_id"]) for r in rows}
        notice = rules.me_too(reporter_key(report), taken, key, user_id)
        if notice == "report.metoo_added":
            await conn.execute(
                "INSERT INTO report_metoo (report_id, chat_id, user_id, household, at)"
                " VALUES (?, ?, ?, ?, ?)",
                (report_id, report.chat_id, user_id, key, to_db(now)),
            )
    return report, notice


async def me_too_count(db: Database, report_id: int) -> int:
    row = await db.fetchone(
        "SELECT count(*) AS n FROM report_metoo WHERE report_id = ?", (report_id,)
    )
    return int(row["n"]) if row else 0


async def me_too_people(db: Database, report_id: int) -> list[tuple[int, str]]:
    """Who pressed Me too (user id, name as we know it), in order."""
    rows = await db.fetchall(
        "SELECT t.user_id, coalesce(m.display_name, '') AS name FROM report_metoo t"
        " LEFT JOIN members m ON m.chat_id = t.chat_id AND m.user_id = t.user_id"
        " WHERE t.report_id = ? ORDER BY t.at",
        (report_id,),
    )
    return [(int(r["user_id"]), r["name"] or str(r["user_id"])) for r in rows]


async def me_too_counts(db: Database, report_ids: list[int]) -> dict[int, int]:
    if not report_ids:
        return {}
    marks = ",".join("?" for _ in report_ids)
    rows = await db.fetchall(
        f"SELECT report_id, count(*) AS n FROM report_metoo WHERE report_id IN ({marks})"
        " GROUP BY report_id",
        report_ids,
    )
    return {int(r["report_id"]): int(r["n"]) for r in rows}


# --- private copies --------------------------------------------------------------------------


async def add_copy(db: Database, report_id: int, user_id: int, message_id: int) -> None:
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO report_copies (report_id, user_id, message_id) VALUES (?, ?, ?)"
            " ON CONFLICT (report_id, user_id) DO UPDATE SET message_id = excluded.message_id",
            (report_id, user_id, message_id),
        )


async def copies(db: Database, report_id: int) -> list[tuple[int, int]]:
    rows = await db.fetchall(
        "SELECT user_id, message_id FROM report_copies WHERE report_id = ?", (report_id,)
    )
    return [(int(r["user_id"]), int(r["message_id"])) for r in rows]


# --- categories and handlers -----------------------------------------------------------------


async def category_names(db: Database, chat_id: int) -> dict[str, str]:
    """The group's own names: renamed built-ins and added categories (key -> name)."""
    rows = await db.fetchall(
        "SELECT key, label FROM report_categories WHERE chat_id = ? ORDER BY id", (chat_id,)
    )
    return {r["key"]: r["label"] for r in rows}


async def add_category(db: Database, chat_id: int, name: str) -> str | None:
    """Add a category; its key is ``c<row id>``. None when the group has too many."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT count(*) AS n FROM report_categories WHERE chat_id = ? AND key LIKE 'c%'",
                (chat_id,),
            )
        ).fetchone()
        if row is not None and int(row["n"]) >= rules.MAX_CUSTOM:
            return None
        cur = await conn.execute(
            "INSERT INTO report_categories (chat_id, key, label) VALUES (?, ?, ?)",
            (chat_id, f"tmp-{name}", name),
        )
        key = f"c{cur.lastrowid}"
        await conn.execute(
            "UPDATE report_categories SET key = ? WHERE id = ?", (key, cur.lastrowid)
        )
    return key


async def rename_category(db: Database, chat_id: int, key: str, name: str) -> None:
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO report_categories (chat_id, key, label) VALUES (?, ?, ?)"
            " ON CONFLICT (chat_id, key) DO UPDATE SET label = excluded.label",
            (chat_id, key, name),
        )


async def handlers_of(db: Database, chat_id: int, category: str | None) -> list[tuple[int, str]]:
    """The people a lead named for this category (leads handle every report besides)."""
    if category is None:
        return []
    rows = await db.fetchall(
        "SELECT user_id, name FROM report_handlers WHERE chat_id = ? AND category = ?"
        " ORDER BY added_at",
        (chat_id, category),
    )
    return [(int(r["user_id"]), r["name"]) for r in rows]


async def all_handlers(db: Database, chat_id: int) -> dict[str, list[str]]:
    rows = await db.fetchall(
        "SELECT category, name FROM report_handlers WHERE chat_id = ? ORDER BY added_at",
        (chat_id,),
    )
    found: dict[str, list[str]] = {}
    for r in rows:
        found.setdefault(r["category"], []).append(r["name"])
    return found


async def set_handler(
    db: Database, chat_id: int, category: str, user_id: int, name: str, on: bool, now: datetime
) -> bool:
    """Name (``on``) or remove a handler. True if something changed."""
    async with db.write() as conn:
        if on:
            cur = await conn.execute(
                "INSERT INTO report_handlers (chat_id, category, user_id, name, added_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (chat_id, category, user_id, name, to_db(now)),
            )
        else:
            cur = await conn.execute(
                "DELETE FROM report_handlers WHERE chat_id = ? AND category = ? AND user_id = ?",
                (chat_id, category, user_id),
            )
        return cur.rowcount == 1


def names_with(custom: Mapping[str, str], builtin: Mapping[str, str]) -> dict[str, str]:
    """Every category of a group in button order: built-ins (renamed where the group did),
    then the added ones."""
    names = {key: custom.get(key, builtin[key]) for key in rules.CATEGORIES}
    names.update({k: v for k, v in custom.items() if k not in names})
    return names
