"""Quick polls and their votes (see storage/migrations/0004_polls.sql for what is stored).

Every function that acts on a poll takes the chat it is asked from and checks, inside its
transaction, that the poll belongs to that chat and is still open: button data is never trusted.

Anonymous polls never store a user id: a voter is ``HMAC-SHA256(key, user id)`` with a
random per-poll key that lives in the keys folder (:mod:`storage.secrets`), outside the
database and its backups, only while the poll is open. :func:`close` stores the final counts,
deletes the voter rows and then destroys the key: a backup taken while the poll was open keeps
rows that no key on disk links to anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite

from bot.domain.errors import DomainError
from bot.domain.polls import apply_vote
from storage import scheduled
from storage import secrets as keys
from storage.db import Database, Steps, from_db, to_db, transaction

#: The scheduled kind that closes a poll at its closing time.
CLOSE_KIND = "poll_close"

OPEN = "open"
CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Poll:
    id: int
    chat_id: int
    creator_id: int
    question: str
    options: tuple[str, ...]
    multiple: bool
    anonymous: bool
    closes_at: datetime | None
    status: str
    message_id: int | None
    final_counts: tuple[int, ...] | None
    final_voters: int | None
    closed_at: datetime | None
    closed_by: int | None
    thread_id: int | None = None  # the forum topic its card and results go to (None: General)

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


@dataclass(frozen=True, slots=True)
class Results:
    """Counts per option, the number of voters, and (open polls) the voters' names per option
    in the order they voted."""

    counts: tuple[int, ...]
    voters: int
    names: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Vote:
    poll: Poll
    before: frozenset[int]
    after: frozenset[int]


_COLS = (
    "id, chat_id, creator_id, question, options, multiple, anonymous, closes_at, status,"
    " message_id, final_counts, final_voters, closed_at, closed_by, thread_id"
)


def _poll(row: aiosqlite.Row | sqlite3.Row) -> Poll:
    return Poll(
        id=row["id"],
        chat_id=row["chat_id"],
        creator_id=row["creator_id"],
        question=row["question"],
        options=tuple(json.loads(row["options"])),
        multiple=bool(row["multiple"]),
        anonymous=bool(row["anonymous"]),
        closes_at=from_db(row["closes_at"]) if row["closes_at"] else None,
        status=row["status"],
        message_id=row["message_id"],
        final_counts=tuple(json.loads(row["final_counts"])) if row["final_counts"] else None,
        final_voters=row["final_voters"],
        closed_at=from_db(row["closed_at"]) if row["closed_at"] else None,
        closed_by=row["closed_by"],
        thread_id=row["thread_id"],
    )


def to_mask(choices: frozenset[int]) -> int:
    return sum(1 << i for i in choices)


def from_mask(mask: int) -> frozenset[int]:
    return frozenset(i for i in range(mask.bit_length()) if mask >> i & 1)


def voter_key(user_id: int, secret: bytes | None) -> str:
    """How a voter is recorded: the user id, or its HMAC under the poll's secret."""
    if secret is None:
        return str(user_id)
    return hmac.new(secret, str(user_id).encode(), hashlib.sha256).hexdigest()


def _poll_key(db: Database, poll_id: int) -> bytes:
    """An open anonymous poll's key. Missing only when the keys folder was lost while the bot
    ran (at start-up :func:`storage.secrets.sweep` gives every open poll its key): a new key
    would let everyone vote twice, so the vote is refused."""
    key = keys.keys_for(db.path).get(keys.POLL, poll_id)
    if key is None:
        raise DomainError("privacy.key_missing")
    return key


async def _load(conn: aiosqlite.Connection, poll_id: int) -> aiosqlite.Row | None:
    # execute and fetch in one call on the connection's thread (one round trip, not two)
    rows = await conn.execute_fetchall(
        f"SELECT {_COLS}, secret FROM polls WHERE id = ?", (poll_id,)
    )
    return next(iter(rows), None)


async def _open_in(conn: aiosqlite.Connection, poll_id: int, chat_id: int) -> aiosqlite.Row:
    """The poll's row if it belongs to ``chat_id`` and is open, else a DomainError."""
    row = await _load(conn, poll_id)
    if row is None or row["chat_id"] != chat_id:
        raise DomainError("error.stale_button")
    if row["status"] != OPEN:
        raise DomainError("poll.is_closed")
    return row


async def create(
    db: Database,
    *,
    chat_id: int,
    creator_id: int,
    question: str,
    options: list[str],
    multiple: bool,
    anonymous: bool,
    closes_at: datetime | None,
    now: datetime,
    thread_id: int | None = None,
) -> tuple[Poll, int | None]:
    """Store a poll and (with a closing time) its scheduled closing, in one transaction.
    Returns the poll and the scheduled row id to arm after the commit. An anonymous poll's key
    is written to the keys folder (never to the database)."""
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT INTO polls (chat_id, creator_id, question, options, multiple, anonymous,"
            " secret, closes_at, created_at, thread_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                creator_id,
                question,
                json.dumps(options, ensure_ascii=False),
                int(multiple),
                int(anonymous),
                None,
                to_db(closes_at) if closes_at else None,
                to_db(now),
                thread_id,
            ),
        )
        poll_id = cur.lastrowid
        assert poll_id is not None
        if anonymous:
            keys.keys_for(db.path).create(keys.POLL, poll_id)
        row_id = None
        if closes_at is not None:
            row_id = await scheduled.insert(
                conn, chat_id=chat_id, kind=CLOSE_KIND, ref_id=poll_id, run_at=closes_at, now=now
            )
    poll = await get(db, poll_id)
    assert poll is not None
    return poll, row_id


async def discard(db: Database, poll_id: int) -> list[int]:
    """Remove a poll whose card could not be posted; returns scheduled rows to disarm."""
    async with db.write() as conn:
        stale = await scheduled.set_status_for(
            conn, CLOSE_KIND, poll_id, "cancelled", only=("pending",)
        )
        await conn.execute("DELETE FROM polls WHERE id = ?", (poll_id,))
    keys.keys_for(db.path).destroy(keys.POLL, poll_id)
    return stale


async def get(db: Database, poll_id: int) -> Poll | None:
    row = await db.fetchone(f"SELECT {_COLS} FROM polls WHERE id = ?", (poll_id,))
    return _poll(row) if row else None


async def set_message(db: Database, poll_id: int, message_id: int) -> None:
    async with db.write() as conn:
        await conn.execute("UPDATE polls SET message_id = ? WHERE id = ?", (message_id, poll_id))


async def count_voters(db: Database, poll_id: int) -> int:
    row = await db.fetchone("SELECT count(*) AS n FROM poll_votes WHERE poll_id = ?", (poll_id,))
    return int(row["n"]) if row else 0


async def configure(
    db: Database,
    poll_id: int,
    chat_id: int,
    *,
    multiple: bool | None = None,
    anonymous: bool | None = None,
    toggle: Literal["multiple", "anonymous"] | None = None,
) -> Poll:
    """Change the mode before the first vote (``poll.settings_locked`` after it). ``toggle``
    switches a setting from its stored value, read inside the transaction (a button press)."""
    async with db.write() as conn:
        row = await _open_in(conn, poll_id, chat_id)
        voted = await (
            await conn.execute("SELECT 1 FROM poll_votes WHERE poll_id = ? LIMIT 1", (poll_id,))
        ).fetchone()
        if voted is not None:
            raise DomainError("poll.settings_locked")
        if toggle == "multiple":
            multiple = not row["multiple"]
        elif toggle == "anonymous":
            anonymous = not row["anonymous"]
        if multiple is not None:
            await conn.execute(
                "UPDATE polls SET multiple = ? WHERE id = ?", (int(multiple), poll_id)
            )
        if anonymous is not None and anonymous != bool(row["anonymous"]):
            await conn.execute(
                "UPDATE polls SET anonymous = ?, secret = NULL WHERE id = ?",
                (int(anonymous), poll_id),
            )
            store = keys.keys_for(db.path)
            if anonymous:
                store.create(keys.POLL, poll_id)
            else:
                store.destroy(keys.POLL, poll_id)
    poll = await get(db, poll_id)
    assert poll is not None
    return poll


async def vote(
    db: Database, poll_id: int, chat_id: int, user_id: int, option: int, now: datetime
) -> Vote:
    """One press on option ``option`` (0-based) by ``user_id``: vote, move, or withdraw.

    The whole transaction (the poll checked, the voter's row read and written) runs in one
    round trip to the writer's thread (:func:`storage.db.transaction`): a press is the bot's
    most frequent write, and each trip between the event loop and that thread costs more than
    the statements themselves (``bench/profile_votes.py``)."""
    return await transaction(db, _vote_steps(db, poll_id, chat_id, user_id, option, now))


def _vote_steps(
    db: Database, poll_id: int, chat_id: int, user_id: int, option: int, now: datetime
) -> Steps[Vote]:
    found = yield f"SELECT {_COLS}, secret FROM polls WHERE id = ?", (poll_id,)
    row = next(iter(found), None)
    if row is None or row["chat_id"] != chat_id:
        raise DomainError("error.stale_button")
    if row["status"] != OPEN:
        raise DomainError("poll.is_closed")
    n_options = len(json.loads(row["options"]))
    anonymous = bool(row["anonymous"])
    key = voter_key(user_id, _poll_key(db, poll_id) if anonymous else None)
    held = yield "SELECT choices FROM poll_votes WHERE poll_id = ? AND voter = ?", (poll_id, key)
    before = from_mask(held[0]["choices"]) if held else frozenset()
    after = apply_vote(before, option, multiple=bool(row["multiple"]), n_options=n_options)
    if not after:
        yield "DELETE FROM poll_votes WHERE poll_id = ? AND voter = ?", (poll_id, key)
    elif not held:
        yield (
            "INSERT INTO poll_votes (poll_id, chat_id, voter, user_id, choices, voted_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                poll_id,
                chat_id,
                key,
                None if anonymous else user_id,
                to_mask(after),
                None if anonymous else to_db(now),
            ),
        )
    else:
        yield (
            "UPDATE poll_votes SET choices = ? WHERE poll_id = ? AND voter = ?",
            (to_mask(after), poll_id, key),
        )
    return Vote(_poll(row), before, after)


async def results(db: Database, poll: Poll) -> Results:
    """Current (or final) counts; names only for polls that are not anonymous.

    A closed poll shows its final counts, stored at closing: a voter who later asks to be
    forgotten (/forgetme) loses their name on the card, the result does not change."""
    n = len(poll.options)
    if poll.anonymous:
        if poll.final_counts is not None:
            return Results(poll.final_counts, poll.final_voters or 0, ((),) * n)
        rows = await db.fetchall("SELECT choices FROM poll_votes WHERE poll_id = ?", (poll.id,))
        counts = [0] * n
        for r in rows:
            for i in from_mask(r["choices"]):
                if i < n:
                    counts[i] += 1
        return Results(tuple(counts), len(rows), ((),) * n)
    rows = await db.fetchall(
        "SELECT v.user_id, v.choices, m.display_name FROM poll_votes v"
        " LEFT JOIN members m ON m.chat_id = v.chat_id AND m.user_id = v.user_id"
        " WHERE v.poll_id = ? ORDER BY v.voted_at, v.voter",
        (poll.id,),
    )
    names: list[list[str]] = [[] for _ in range(n)]
    for r in rows:
        name = r["display_name"] or str(r["user_id"])
        for i in from_mask(r["choices"]):
            if i < n:
                names[i].append(name)
    frozen = tuple(tuple(x) for x in names)
    if poll.final_counts is not None and len(poll.final_counts) == n:
        return Results(poll.final_counts, poll.final_voters or 0, frozen)
    return Results(tuple(len(x) for x in names), len(rows), frozen)


async def close(
    db: Database, poll_id: int, now: datetime, by: int | None
) -> tuple[Poll, list[int]] | None:
    """Close an open poll: final counts stored, anonymous rows and secret deleted, its pending
    scheduled closing cancelled. ``None`` if it was not open (already closed, or gone).
    Returns the closed poll and the scheduled row ids to disarm."""
    poll = await get(db, poll_id)
    if poll is None or not poll.is_open:
        return None
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE polls SET status = 'closed', closed_at = ?, closed_by = ?"
            " WHERE id = ? AND status = 'open'",
            (to_db(now), by, poll_id),
        )
        if cur.rowcount != 1:
            return None
        row = await _load(conn, poll_id)
        assert row is not None
        n = len(json.loads(row["options"]))
        votes = list(
            await (
                await conn.execute("SELECT choices FROM poll_votes WHERE poll_id = ?", (poll_id,))
            ).fetchall()
        )
        counts = [0] * n
        for v in votes:
            for i in from_mask(v["choices"]):
                if i < n:
                    counts[i] += 1
        await conn.execute(
            "UPDATE polls SET final_counts = ?, final_voters = ?, secret = NULL WHERE id = ?",
            (json.dumps(counts), len(votes), poll_id),
        )
        if row["anonymous"]:
            await conn.execute("DELETE FROM poll_votes WHERE poll_id = ?", (poll_id,))
        stale = await scheduled.set_status_for(
            conn, CLOSE_KIND, poll_id, "cancelled", only=("pending",)
        )
    # the counts are committed: now nothing may link a voter row of any copy to a person
    keys.keys_for(db.path).destroy(keys.POLL, poll_id)
    closed = await get(db, poll_id)
    assert closed is not None
    return closed, stale


async def closing_between(db: Database, chat_id: int, start: datetime, end: datetime) -> list[Poll]:
    """Open polls of a chat that close in [start, end), soonest first (for the digest)."""
    rows = await db.fetchall(
        f"SELECT {_COLS} FROM polls WHERE chat_id = ? AND status = 'open'"
        " AND closes_at >= ? AND closes_at < ? ORDER BY closes_at",
        (chat_id, to_db(start), to_db(end)),
    )
    return [_poll(r) for r in rows]


async def announced(db: Database, poll_id: int, now: datetime) -> None:
    """The results of a closed poll were posted (migration 0015)."""
    await db.write_one(
        "UPDATE polls SET announced_at = ? WHERE id = ? AND announced_at IS NULL",
        (to_db(now), poll_id),
    )


async def unannounced(db: Database) -> list[int]:
    """Closed polls whose results were never posted (the process died between the close and
    the post), in groups the bot is still in, oldest first."""
    rows = await db.fetchall(
        "SELECT p.id FROM polls p JOIN chats c ON c.id = p.chat_id"
        " WHERE p.status = 'closed' AND p.announced_at IS NULL AND c.active = 1 ORDER BY p.id"
    )
    return [int(r["id"]) for r in rows]
