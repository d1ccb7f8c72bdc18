"""What each card last showed on Telegram, and which cards there are.

A *card* is a bot message that shows a row's live state and is edited as it changes (a poll,
a decision, an event, a roster, a listing, a group buy, a chain). ``card_digests`` keeps, per
message, a hash of the text and keyboard Telegram last confirmed (a send or an edit); at
start-up every card is rendered afresh and compared with it (handlers/cards.py), so a card
left behind by a crash is brought up to date and an unchanged card is not touched.

Only a hash is kept (no text, no names). Rows of messages that are not cards (menus, prompts)
and of cards that are settled are pruned at start-up.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.db import Database, to_db

__all__ = [
    "KINDS",
    "Card",
    "CardTable",
    "digest",
    "digests",
    "forget",
    "listed",
    "migrated_chats",
    "record",
]

#: An event's card stays live until a day after the event (its status stays 'open').
EVENT_GRACE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CardTable:
    """Where a kind of card lives: the table, its message-id column, what "open" means."""

    table: str
    message: str
    open: str  # an SQL condition over the row; ``:now`` is the current UTC time
    id: str = "id"  # the row's id column (the card's ``row_id``)


#: Every feature's editable card. A feature registers its renderer under the same name
#: (handlers/cards.py).
KINDS: Mapping[str, CardTable] = {
    "poll": CardTable("polls", "message_id", "status = 'open'"),
    "decision": CardTable("decisions", "message_id", "status = 'open'"),
    "meeting": CardTable("meetings", "message_id", "status = 'open'"),
    "event": CardTable(
        "events", "message_id", "status = 'open' AND coalesce(ends_at, starts_at) >= :since"
    ),
    "roster": CardTable("rosters", "message_id", "status = 'open'"),
    "item": CardTable("items", "card_id", "status IN ('open', 'lent')"),
    "groupbuy": CardTable("groupbuys", "card_id", "status = 'open'"),
    "chain": CardTable("chains", "card_id", "status = 'open'"),
    "proposal": CardTable(
        "proposals", "message_id", "stage NOT IN ('reviewed', 'declined', 'expired')"
    ),
    "rollcall": CardTable("rollcalls", "message_id", "status = 'open'"),
    "report": CardTable(
        "reports", "message_id", "status IN ('open', 'acknowledged', 'in_progress', 'fixed')"
    ),
    "notice": CardTable("notices", "message_id", "status = 'open'"),
    "rules_draft": CardTable("rules_versions", "message_id", "status = 'draft'"),
    "rules_amendment": CardTable("rules_amendments", "message_id", "status = 'pending'"),
    # the one approval card per group (handlers/units.py): its row id is the chat's id
    "unit_queue": CardTable("unit_queue_cards", "message_id", "TRUE", id="chat_id"),
}


@dataclass(frozen=True, slots=True)
class Card:
    kind: str
    row_id: int
    chat_id: int
    message_id: int
    open: bool

    @property
    def key(self) -> tuple[int, int]:
        return (self.chat_id, self.message_id)


def digest(text: str, markup: Mapping[str, Any] | None) -> str:
    """A short hash of a card's HTML text and its keyboard (``InlineKeyboardMarkup.to_dict``)."""
    shape = json.dumps(markup or None, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(f"{text}\0{shape}".encode(), digest_size=16).hexdigest()


async def record(db: Database, chat_id: int, message_id: int, value: str, now: datetime) -> None:
    """Telegram confirmed that this message shows ``value`` (a :func:`digest`)."""
    await db.write_one(
        "INSERT INTO card_digests (chat_id, message_id, digest, drawn_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (chat_id, message_id) DO UPDATE SET"
        "  digest = excluded.digest, drawn_at = excluded.drawn_at",
        (chat_id, message_id, value, to_db(now)),
    )


async def digests(db: Database) -> dict[tuple[int, int], str]:
    rows = await db.fetchall("SELECT chat_id, message_id, digest FROM card_digests")
    return {(int(r["chat_id"]), int(r["message_id"])): str(r["digest"]) for r in rows}


async def forget(db: Database, keys: Iterable[tuple[int, int]]) -> int:
    """Drop the digests of these messages (settled cards, messages that are not cards)."""
    pending = list(keys)
    removed = 0
    for start in range(0, len(pending), 500):
        async with db.write() as conn:
            cursor = await conn.executemany(
                "DELETE FROM card_digests WHERE chat_id = ? AND message_id = ?",
                pending[start : start + 500],
            )
            removed += max(cursor.rowcount, 0)
    return removed


async def listed(db: Database, kinds: Iterable[str], now: datetime) -> list[Card]:
    """Every open card of these kinds, and every closed one that still has a digest (its last
    drawing may predate its closing)."""
    since = to_db(now - EVENT_GRACE)
    found: list[Card] = []
    for kind in kinds:
        spec = KINDS[kind]
        open_sql = spec.open.replace(":since", "?")
        params = (since,) * spec.open.count(":since")
        rows = await db.fetchall(
            f"SELECT t.{spec.id} AS id, t.chat_id, t.{spec.message} AS message_id,"
            f" ({open_sql}) AS live"
            f" FROM {spec.table} t"
            f" WHERE t.{spec.message} IS NOT NULL AND (({open_sql}) OR EXISTS ("
            "   SELECT 1 FROM card_digests d"
            f"  WHERE d.chat_id = t.chat_id AND d.message_id = t.{spec.message}))"
            " ORDER BY 2, 1",  # chat, then row
            params * 2,
        )
        found.extend(
            Card(kind, int(r["id"]), int(r["chat_id"]), int(r["message_id"]), bool(r["live"]))
            for r in rows
        )
    return found


async def migrated_chats(db: Database) -> set[int]:
    """Supergroups that were basic groups: a card there without a digest may carry a message
    id of the old group, which names another message in the supergroup — never edit by it."""
    rows = await db.fetchall("SELECT DISTINCT new_id FROM chat_migrations")
    return {int(r["new_id"]) for r in rows}
