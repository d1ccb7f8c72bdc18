"""Prompts: a question with buttons that belongs to one message and one person.

``create`` stores the prompt and returns its id, which goes in the buttons' data (``pv:y:<id>``,
``pv:x:<id>``); ``attach`` records the message once it is sent. ``take`` answers it exactly once
(confirm) and ``cancel`` closes it (so the old confirm button is dead too): both are one
conditional ``UPDATE`` under the write lock, so two presses at the same moment cannot both win.
A press is accepted only in the prompt's chat, on its message, by its author (or, for a prompt
without an author, by anyone — the caller checks that they are a lead), while it is open and not
expired. Rows are kept a day after they are answered or expire, then deleted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import aiosqlite

from storage.db import Database, from_db, to_db

#: Answered or expired prompts are deleted this long after they were created.
KEEP_FOR: Final = timedelta(days=1)


class Outcome(enum.Enum):
    TAKEN = "taken"  # this press answered it
    STALE = "stale"  # no such prompt here, another message, already answered or cancelled
    NOT_YOURS = "not_yours"  # someone else's question
    EXPIRED = "expired"  # asked too long ago


@dataclass(frozen=True, slots=True)
class Prompt:
    id: int
    chat_id: int
    author_id: int | None
    member_id: int | None
    kind: str
    message_id: int | None
    created_at: datetime
    expires_at: datetime | None
    state: str


def _prompt(r: aiosqlite.Row) -> Prompt:
    return Prompt(
        id=int(r["id"]),
        chat_id=int(r["chat_id"]),
        author_id=r["author_id"],
        member_id=r["member_id"],
        kind=str(r["kind"]),
        message_id=r["message_id"],
        created_at=from_db(r["created_at"]),
        expires_at=from_db(r["expires_at"]) if r["expires_at"] else None,
        state=str(r["state"]),
    )


async def create(
    db: Database,
    chat_id: int,
    kind: str,
    now: datetime,
    *,
    author_id: int | None,
    lasts: timedelta | None,
    member_id: int | None = None,
) -> int:
    """A new open prompt; returns its id (never given to another prompt). ``author_id`` None:
    any lead may answer it. ``lasts`` None: it does not expire."""
    expires = to_db(now + lasts) if lasts is not None else None
    async with db.write() as conn:
        await conn.execute(
            "DELETE FROM prompts WHERE created_at < ? AND (state != 'open' OR expires_at < ?)",
            (to_db(now - KEEP_FOR), to_db(now)),
        )
        cur = await conn.execute(
            "INSERT INTO prompts (chat_id, author_id, member_id, kind, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (chat_id, author_id, member_id, kind, to_db(now), expires),
        )
        assert cur.lastrowid is not None
        return int(cur.lastrowid)


async def attach(db: Database, prompt_id: int, message_id: int) -> None:
    """The message that carries the prompt's buttons (only it can answer the prompt)."""
    await db.write_one(
        "UPDATE prompts SET message_id = ? WHERE id = ? AND message_id IS NULL",
        (message_id, prompt_id),
    )


async def get(db: Database, prompt_id: int) -> Prompt | None:
    row = await db.fetchone("SELECT * FROM prompts WHERE id = ?", (prompt_id,))
    return _prompt(row) if row else None


async def _answer(
    db: Database,
    state: str,
    prompt_id: int,
    chat_id: int,
    user_id: int,
    message_id: int,
    now: datetime,
    kinds: tuple[str, ...],
) -> tuple[Outcome, Prompt | None]:
    marks = ", ".join("?" for _ in kinds)
    async with db.write() as conn:
        cur = await conn.execute(
            f"UPDATE prompts SET state = ? WHERE id = ? AND chat_id = ? AND state = 'open'"
            f" AND message_id = ? AND kind IN ({marks})"
            " AND (author_id IS NULL OR author_id = ?)"
            " AND (expires_at IS NULL OR expires_at > ?)",
            (state, prompt_id, chat_id, message_id, *kinds, user_id, to_db(now)),
        )
        changed = cur.rowcount == 1
        row = await (
            await conn.execute("SELECT * FROM prompts WHERE id = ?", (prompt_id,))
        ).fetchone()
    found = _prompt(row) if row else None
    if changed:
        return Outcome.TAKEN, found
    if (
        found is None
        or found.chat_id != chat_id
        or found.message_id != message_id
        or found.kind not in kinds
        or found.state != "open"
    ):
        return Outcome.STALE, None
    if found.author_id is not None and found.author_id != user_id:
        return Outcome.NOT_YOURS, None
    return Outcome.EXPIRED, None


async def take(
    db: Database,
    prompt_id: int,
    chat_id: int,
    user_id: int,
    message_id: int,
    now: datetime,
    *,
    kinds: tuple[str, ...],
) -> tuple[Outcome, Prompt | None]:
    """Answer the prompt (confirm): ``TAKEN`` with the prompt exactly once, for the first
    valid press; every other press gets why not and changes nothing."""
    return await _answer(db, "taken", prompt_id, chat_id, user_id, message_id, now, kinds)


async def cancel(
    db: Database,
    prompt_id: int,
    chat_id: int,
    user_id: int,
    message_id: int,
    now: datetime,
    *,
    kinds: tuple[str, ...],
) -> tuple[Outcome, Prompt | None]:
    """Close the prompt without acting: its confirm button stops working too."""
    return await _answer(db, "cancelled", prompt_id, chat_id, user_id, message_id, now, kinds)
