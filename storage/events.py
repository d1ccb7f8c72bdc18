"""Events (sign-ups, guests, waitlist) and volunteer duty rosters, with their reminder rows.

Sign-up changes run a pure rule of ``bot.domain.events`` inside one write transaction
(:func:`apply`): the current state is read, the rule decides, the difference is written.
Reminders live in the shared ``scheduled`` table: one open row per event (kind
``event_reminder``) and one per roster slot (kind ``roster_reminder``); each fired row is
followed by the next reminder of the chain (see handlers/events.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.domain.events import Outcome, Signup, Slot
from storage import scheduled
from storage.db import Database, from_db, to_db

EVENT_REMINDER = "event_reminder"
ROSTER_REMINDER = "roster_reminder"


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    chat_id: int
    creator_id: int
    creator_name: str
    title: str
    place: str | None
    starts_at: datetime
    ends_at: datetime | None
    capacity: int | None
    status: str  # open | cancelled
    message_id: int | None
    sequence: int
    thread_id: int | None = None  # the forum topic of its card and reminders (None: General)


@dataclass(frozen=True, slots=True)
class Roster:
    id: int
    chat_id: int
    creator_id: int
    creator_name: str
    title: str
    per_slot: int
    status: str  # open | closed
    message_id: int | None
    thread_id: int | None = None  # the forum topic of its card, reminders and hours asked


_EVENT_COLS = (
    "id, chat_id, creator_id, creator_name, title, place, starts_at, ends_at, capacity,"
    " status, message_id, sequence, thread_id"
)
_ROSTER_COLS = (
    "id, chat_id, creator_id, creator_name, title, per_slot, status, message_id, thread_id"
)


def _event(row: aiosqlite.Row) -> Event:
    return Event(
        id=row["id"],
        chat_id=row["chat_id"],
        creator_id=row["creator_id"],
        creator_name=row["creator_name"],
        title=row["title"],
        place=row["place"],
        starts_at=from_db(row["starts_at"]),
        ends_at=from_db(row["ends_at"]) if row["ends_at"] else None,
        capacity=row["capacity"],
        status=row["status"],
        message_id=row["message_id"],
        sequence=row["sequence"],
        thread_id=row["thread_id"],
    )


def _roster(row: aiosqlite.Row) -> Roster:
    return Roster(
        id=row["id"],
        chat_id=row["chat_id"],
        creator_id=row["creator_id"],
        creator_name=row["creator_name"],
        title=row["title"],
        per_slot=row["per_slot"],
        status=row["status"],
        message_id=row["message_id"],
        thread_id=row["thread_id"],
    )


def _signup(row: aiosqlite.Row) -> Signup:
    return Signup(
        user_id=row["user_id"],
        name=row["name"],
        guests=row["guests"],
        seq=row["seq"],
        going=bool(row["going"]),
    )


def _opt(moment: datetime | None) -> str | None:
    return to_db(moment) if moment is not None else None


# --- events ---------------------------------------------------------------------------------


async def create(
    db: Database,
    *,
    chat_id: int,
    creator_id: int,
    creator_name: str,
    title: str,
    place: str | None,
    starts_at: datetime,
    ends_at: datetime | None,
    capacity: int | None,
    reminder_at: datetime | None,
    now: datetime,
    thread_id: int | None = None,
) -> tuple[int, int | None]:
    """Store the event and its first reminder row in one transaction: (event id, row id)."""
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT INTO events (chat_id, creator_id, creator_name, title, place, starts_at,"
            " ends_at, capacity, created_at, thread_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                creator_id,
                creator_name,
                title,
                place,
                to_db(starts_at),
                _opt(ends_at),
                capacity,
                to_db(now),
                thread_id,
            ),
        )
        event_id = cur.lastrowid
        assert event_id is not None
        row_id = None
        if reminder_at is not None:
            row_id = await scheduled.insert(
                conn,
                chat_id=chat_id,
                kind=EVENT_REMINDER,
                ref_id=event_id,
                run_at=reminder_at,
                now=now,
            )
    return event_id, row_id


async def get(db: Database, event_id: int) -> Event | None:
    row = await db.fetchone(f"SELECT {_EVENT_COLS} FROM events WHERE id = ?", (event_id,))
    return _event(row) if row else None


async def signups(db: Database, event_id: int) -> tuple[Signup, ...]:
    rows = await db.fetchall(
        "SELECT user_id, name, guests, seq, going FROM event_signups WHERE event_id = ?"
        " ORDER BY seq",
        (event_id,),
    )
    return tuple(_signup(r) for r in rows)


async def set_message(db: Database, event_id: int, message_id: int) -> None:
    async with db.write() as conn:
        await conn.execute("UPDATE events SET message_id = ? WHERE id = ?", (message_id, event_id))


Rule = Callable[[Event, tuple[Signup, ...]], Outcome]


class _Keep:
    pass


KEEP = _Keep()


async def apply(
    db: Database, event_id: int, rule: Rule, *, capacity: int | _Keep | None = KEEP
) -> tuple[Event, Outcome]:
    """Run a sign-up rule on the current state and store the result, atomically (with a new
    ``capacity`` first, when given: the rule then re-sorts the sign-ups for it).
    A DomainError from the rule rolls everything back and reaches the caller."""
    async with db.write() as conn:
        if not isinstance(capacity, _Keep):
            await conn.execute(
                "UPDATE events SET capacity = ?, sequence = sequence + 1 WHERE id = ?",
                (capacity, event_id),
            )
        row = await (
            await conn.execute(f"SELECT {_EVENT_COLS} FROM events WHERE id = ?", (event_id,))
        ).fetchone()
        if row is None:
            raise LookupError(event_id)
        event = _event(row)
        rows = await (
            await conn.execute(
                "SELECT user_id, name, guests, seq, going FROM event_signups"
                " WHERE event_id = ? ORDER BY seq",
                (event_id,),
            )
        ).fetchall()
        before = {s.user_id: s for s in (_signup(r) for r in rows)}
        outcome = rule(event, tuple(before.values()))
        after = {s.user_id: s for s in outcome.signups}
        for user_id in before.keys() - after.keys():
            await conn.execute(
                "DELETE FROM event_signups WHERE event_id = ? AND user_id = ?", (event_id, user_id)
            )
        for user_id, s in after.items():
            if before.get(user_id) == s:
                continue
            await conn.execute(
                "INSERT INTO event_signups (event_id, chat_id, user_id, name, guests, seq, going)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, user_id) DO UPDATE SET"
                " name = excluded.name, guests = excluded.guests, seq = excluded.seq,"
                " going = excluded.going",
                (event_id, event.chat_id, user_id, s.name, s.guests, s.seq, int(s.going)),
            )
    return event, outcome


async def update(
    db: Database,
    event_id: int,
    *,
    title: str | None = None,
    place: str | None = None,
    clear_place: bool = False,
) -> None:
    sets: list[str] = ["sequence = sequence + 1"]
    params: list[str | None] = []
    if title is not None:
        sets.append("title = ?")
        params.append(title)
    if place is not None or clear_place:
        sets.append("place = ?")
        params.append(place)
    async with db.write() as conn:
        await conn.execute(f"UPDATE events SET {', '.join(sets)} WHERE id = ?", (*params, event_id))


async def reschedule(
    db: Database,
    event_id: int,
    starts_at: datetime,
    ends_at: datetime | None,
    reminder_at: datetime | None,
    now: datetime,
) -> tuple[list[int], int | None]:
    """New time: the pending reminder is replaced. Returns (row ids to disarm, new row id)."""
    async with db.write() as conn:
        await conn.execute(
            "UPDATE events SET starts_at = ?, ends_at = ?, sequence = sequence + 1 WHERE id = ?",
            (to_db(starts_at), _opt(ends_at), event_id),
        )
        stale = await scheduled.set_status_for(
            conn, EVENT_REMINDER, event_id, "cancelled", only=("pending",)
        )
        row_id = None
        if reminder_at is not None:
            chat = await (
                await conn.execute("SELECT chat_id FROM events WHERE id = ?", (event_id,))
            ).fetchone()
            assert chat is not None
            row_id = await scheduled.insert(
                conn,
                chat_id=chat["chat_id"],
                kind=EVENT_REMINDER,
                ref_id=event_id,
                run_at=reminder_at,
                now=now,
            )
    return stale, row_id


async def cancel(db: Database, event_id: int) -> list[int] | None:
    """Cancel an open event; returns the reminder rows to disarm (None if it was not open)."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE events SET status = 'cancelled', sequence = sequence + 1"
            " WHERE id = ? AND status = 'open'",
            (event_id,),
        )
        if cur.rowcount != 1:
            return None
        return await scheduled.set_status_for(
            conn, EVENT_REMINDER, event_id, "cancelled", only=("pending",)
        )


async def upcoming(db: Database, chat_id: int, now: datetime, limit: int = 50) -> list[Event]:
    rows = await db.fetchall(
        f"SELECT {_EVENT_COLS} FROM events WHERE chat_id = ? AND status = 'open'"
        " AND starts_at > ? ORDER BY starts_at, id LIMIT ?",
        (chat_id, to_db(now), limit),
    )
    return [_event(r) for r in rows]


async def counts(db: Database, event_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Places taken and parties waiting per event."""
    if not event_ids:
        return {}
    marks = ",".join("?" for _ in event_ids)
    rows = await db.fetchall(
        "SELECT event_id, coalesce(sum(CASE WHEN going = 1 THEN 1 + guests END), 0) AS taken,"
        " coalesce(sum(CASE WHEN going = 1 THEN 0 ELSE 1 END), 0) AS waiting"
        f" FROM event_signups WHERE event_id IN ({marks}) GROUP BY event_id",
        event_ids,
    )
    return {r["event_id"]: (r["taken"], r["waiting"]) for r in rows}


# --- rosters --------------------------------------------------------------------------------


async def create_roster(
    db: Database,
    *,
    chat_id: int,
    creator_id: int,
    creator_name: str,
    title: str,
    per_slot: int,
    slots: list[tuple[datetime, datetime, datetime | None]],
    now: datetime,
    thread_id: int | None = None,
) -> tuple[int, list[tuple[int, datetime]]]:
    """Store a roster, its slots ``(start, end, first reminder)`` and their reminder rows.
    Returns (roster id, [(row id, run at)] to arm). ``thread_id``: its forum topic."""
    rows: list[tuple[int, datetime]] = []
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT INTO rosters (chat_id, creator_id, creator_name, title, per_slot, created_at,"
            " thread_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (chat_id, creator_id, creator_name, title, per_slot, to_db(now), thread_id),
        )
        roster_id = cur.lastrowid
        assert roster_id is not None
        for number, (start, end, remind_at) in enumerate(slots, start=1):
            cur = await conn.execute(
                "INSERT INTO roster_slots (roster_id, chat_id, position, starts_at, ends_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (roster_id, chat_id, number, to_db(start), to_db(end)),
            )
            slot_id = cur.lastrowid
            assert slot_id is not None
            if remind_at is not None:
                row_id = await scheduled.insert(
                    conn,
                    chat_id=chat_id,
                    kind=ROSTER_REMINDER,
                    ref_id=slot_id,
                    run_at=remind_at,
                    now=now,
                )
                rows.append((row_id, remind_at))
    return roster_id, rows


async def get_roster(db: Database, roster_id: int) -> Roster | None:
    row = await db.fetchone(f"SELECT {_ROSTER_COLS} FROM rosters WHERE id = ?", (roster_id,))
    return _roster(row) if row else None


async def set_roster_message(db: Database, roster_id: int, message_id: int) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE rosters SET message_id = ? WHERE id = ?", (message_id, roster_id)
        )


async def slots(db: Database, roster_id: int) -> list[Slot]:
    rows = await db.fetchall(
        "SELECT id, roster_id, position, starts_at, ends_at FROM roster_slots"
        " WHERE roster_id = ? ORDER BY position",
        (roster_id,),
    )
    people = await db.fetchall(
        "SELECT v.slot_id, v.user_id, v.name FROM roster_volunteers v"
        " JOIN roster_slots s ON s.id = v.slot_id WHERE s.roster_id = ?"
        " ORDER BY v.taken_at, v.rowid",
        (roster_id,),
    )
    by_slot: dict[int, list[tuple[int, str]]] = {}
    for p in people:
        by_slot.setdefault(p["slot_id"], []).append((p["user_id"], p["name"]))
    return [
        Slot(
            id=r["id"],
            roster_id=r["roster_id"],
            position=r["position"],
            starts_at=from_db(r["starts_at"]),
            ends_at=from_db(r["ends_at"]),
            volunteers=tuple(by_slot.get(r["id"], ())),
        )
        for r in rows
    ]


async def get_slot(db: Database, slot_id: int) -> Slot | None:
    row = await db.fetchone("SELECT roster_id FROM roster_slots WHERE id = ?", (slot_id,))
    if row is None:
        return None
    return next((s for s in await slots(db, row["roster_id"]) if s.id == slot_id), None)


async def take_slot(
    db: Database,
    slot_id: int,
    user_id: int,
    name: str,
    decide: Callable[[Slot, int], bool],
    now: datetime,
) -> bool:
    """Take or leave a slot, decided by ``decide(slot, per_slot)`` on the state read inside the
    write transaction (so two residents never both take the last place). True: taken."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT s.id, s.roster_id, s.position, s.starts_at, s.ends_at, s.chat_id,"
                " r.per_slot FROM roster_slots s JOIN rosters r ON r.id = s.roster_id"
                " WHERE s.id = ?",
                (slot_id,),
            )
        ).fetchone()
        if row is None:
            raise LookupError(slot_id)
        people = await (
            await conn.execute(
                "SELECT user_id, name FROM roster_volunteers WHERE slot_id = ?"
                " ORDER BY taken_at, rowid",
                (slot_id,),
            )
        ).fetchall()
        slot = Slot(
            id=row["id"],
            roster_id=row["roster_id"],
            position=row["position"],
            starts_at=from_db(row["starts_at"]),
            ends_at=from_db(row["ends_at"]),
            volunteers=tuple((p["user_id"], p["name"]) for p in people),
        )
        take = decide(slot, row["per_slot"])
        if take:
            await conn.execute(
                "INSERT INTO roster_volunteers (slot_id, chat_id, user_id, name, taken_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (slot_id, row["chat_id"], user_id, name, to_db(now)),
            )
        else:
            await conn.execute(
                "DELETE FROM roster_volunteers WHERE slot_id = ? AND user_id = ?",
                (slot_id, user_id),
            )
    return take


async def close_roster(db: Database, roster_id: int) -> list[int] | None:
    """Close an open roster; returns its slots' reminder rows to disarm (None if not open)."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE rosters SET status = 'closed' WHERE id = ? AND status = 'open'", (roster_id,)
        )
        if cur.rowcount != 1:
            return None
        rows = await (
            await conn.execute("SELECT id FROM roster_slots WHERE roster_id = ?", (roster_id,))
        ).fetchall()
        stale: list[int] = []
        for r in rows:
            stale += await scheduled.set_status_for(
                conn, ROSTER_REMINDER, int(r["id"]), "cancelled", only=("pending",)
            )
        return stale


async def open_rosters(db: Database, chat_id: int, limit: int = 20) -> list[Roster]:
    rows = await db.fetchall(
        f"SELECT {_ROSTER_COLS} FROM rosters WHERE chat_id = ? AND status = 'open'"
        " ORDER BY id DESC LIMIT ?",
        (chat_id, limit),
    )
    return [_roster(r) for r in rows]
