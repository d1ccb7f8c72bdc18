"""Chats: create on first contact, settings, activity, titles, and supergroup migration."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import aiosqlite

from bot.domain.chats import Chat
from bot.domain.settings import ChatSettings
from storage import cards
from storage.db import Database, from_db, to_db

_COLUMNS = "id, type, title, language, timezone, settings, active"


def _chat(row: aiosqlite.Row) -> Chat:
    return Chat(
        id=row["id"],
        type=row["type"],
        title=row["title"],
        settings=ChatSettings.from_row(row["language"], row["timezone"], row["settings"]),
        active=bool(row["active"]),
    )


async def get(db: Database, chat_id: int) -> Chat | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM chats WHERE id = ?", (chat_id,))
    return _chat(row) if row else None


async def ensure(
    db: Database,
    chat_id: int,
    *,
    type: str,
    title: str | None,
    defaults: ChatSettings,
    now: datetime,
) -> tuple[Chat, bool]:
    """The chat's row, created with ``defaults`` if it is new. Returns (chat, created)."""
    existing = await get(db, chat_id)
    if existing is not None:
        return existing, False
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT INTO chats (id, type, title, language, timezone, settings, active, joined_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT (id) DO NOTHING",
            (
                chat_id,
                type,
                title,
                defaults.language,
                defaults.timezone,
                defaults.extra_json(),
                to_db(now),
            ),
        )
        created = cur.rowcount == 1
    chat = await get(db, chat_id)
    assert chat is not None
    return chat, created


async def update_settings(
    db: Database, chat_id: int, change: Callable[[ChatSettings], ChatSettings]
) -> Chat | None:
    """Read, change and write a chat's settings in one transaction, so two leads changing two
    settings at the same moment both keep their change. ``None`` if the chat is gone."""
    async with db.write() as conn:
        row = await (
            await conn.execute(f"SELECT {_COLUMNS} FROM chats WHERE id = ?", (chat_id,))
        ).fetchone()
        if row is None:
            return None
        new = change(_chat(row).settings)
        await conn.execute(
            "UPDATE chats SET language = ?, timezone = ?, settings = ? WHERE id = ?",
            (new.language, new.timezone, new.extra_json(), chat_id),
        )
    return await get(db, chat_id)


async def save_settings(db: Database, chat_id: int, settings: ChatSettings) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE chats SET language = ?, timezone = ?, settings = ? WHERE id = ?",
            (settings.language, settings.timezone, settings.extra_json(), chat_id),
        )


async def set_active(db: Database, chat_id: int, active: bool, now: datetime) -> bool:
    """Mark the chat (in)active. Returns True if that changed anything."""
    async with db.write() as conn:
        if active:
            cur = await conn.execute(
                "UPDATE chats SET active = 1, joined_at = ?, left_at = NULL"
                " WHERE id = ? AND active = 0",
                (to_db(now), chat_id),
            )
        else:
            cur = await conn.execute(
                "UPDATE chats SET active = 0, left_at = ? WHERE id = ? AND active = 1",
                (to_db(now), chat_id),
            )
        return cur.rowcount == 1


async def set_title(db: Database, chat_id: int, title: str) -> None:
    async with db.write() as conn:
        await conn.execute("UPDATE chats SET title = ? WHERE id = ?", (title, chat_id))


async def resolve(db: Database, chat_id: int) -> int:
    """The current id of a chat that may have become a supergroup (follows chains)."""
    seen = {chat_id}
    while True:
        row = await db.fetchone("SELECT new_id FROM chat_migrations WHERE old_id = ?", (chat_id,))
        if row is None or row["new_id"] in seen:
            return chat_id
        chat_id = row["new_id"]
        seen.add(chat_id)


async def _child_tables(conn: aiosqlite.Connection) -> list[tuple[str, str]]:
    """(table, column) for every foreign key that points at chats(id), found from the schema.

    Feature tables added later are moved too, without this code knowing about them.
    """
    tables = await (
        await conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ).fetchall()
    found = []
    for (name,) in tables:
        for fk in await (await conn.execute(f'PRAGMA foreign_key_list("{name}")')).fetchall():
            if fk["table"] == "chats" and fk["to"] in ("id", None):
                found.append((name, fk["from"]))
    return found


#: Columns that hold a Telegram message id of the row's chat (cards, prompts).
MESSAGE_COLUMNS = ("message_id", "card_id")


async def _message_columns(conn: aiosqlite.Connection, table: str) -> list[str]:
    """The nullable message-id columns of ``table`` (found from the schema, like the tables)."""
    columns = await (await conn.execute(f'PRAGMA table_info("{table}")')).fetchall()
    return [c["name"] for c in columns if c["name"] in MESSAGE_COLUMNS and not c["notnull"]]


async def cards_without_message(
    db: Database, chat_id: int, kinds: Iterable[str], now: datetime
) -> list[tuple[str, int]]:
    """Open cards of the chat that show nowhere (``(kind, row id)``, oldest first): after a
    migration, every open card of the old group."""
    since = to_db(now - cards.EVENT_GRACE)
    found: list[tuple[str, int]] = []
    for kind in kinds:
        spec = cards.KINDS[kind]
        open_sql = spec.open.replace(":since", "?")
        params = (since,) * spec.open.count(":since")
        rows = await db.fetchall(
            f"SELECT {spec.id} AS id FROM {spec.table} WHERE chat_id = ?"
            f" AND {spec.message} IS NULL AND ({open_sql}) ORDER BY 1",
            (chat_id, *params),
        )
        found.extend((kind, int(r["id"])) for r in rows)
    return found


async def set_card_message(db: Database, kind: str, row_id: int, message_id: int) -> bool:
    """Store where a card posted anew shows, unless another one was stored meanwhile."""
    spec = cards.KINDS[kind]
    async with db.write() as conn:
        cur = await conn.execute(
            f"UPDATE {spec.table} SET {spec.message} = ?"
            f" WHERE {spec.id} = ? AND {spec.message} IS NULL",
            (message_id, row_id),
        )
        return cur.rowcount == 1


async def migrate(db: Database, old_id: int, new_id: int, now: datetime) -> bool:
    """Move a group and everything that belongs to it to its new supergroup id.

    Idempotent (Telegram announces a migration in both chats). The old group's message ids
    are forgotten (set to NULL in every table that keeps one). If the supergroup already has a
    row (an update from it arrived first), the old group's settings win and the two member lists
    are merged, keeping the organizer role from either side and each person's presence (the
    supergroup's where it knows, else the old group's: someone who left stays gone). Returns
    True if rows moved.
    """
    if old_id == new_id:
        return False
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO chat_migrations (old_id, new_id, migrated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (old_id) DO UPDATE SET new_id = excluded.new_id",
            (old_id, new_id, to_db(now)),
        )
        await conn.execute(
            "UPDATE chat_migrations SET new_id = ? WHERE new_id = ?", (new_id, old_id)
        )
        old = await (await conn.execute("SELECT id FROM chats WHERE id = ?", (old_id,))).fetchone()
        if old is None:
            return False
        # The old group's messages reach the supergroup with new ids, which the bot is never
        # told: a message id kept from the old group names some other message there. Forget
        # them all (cards are posted anew once the move is done: cards_without_message).
        for table, column in await _child_tables(conn):
            for held in await _message_columns(conn, table):
                await conn.execute(
                    f'UPDATE "{table}" SET "{held}" = NULL WHERE "{column}" = ?', (old_id,)
                )
        # the approval card's row cannot hold a NULL message: the row goes, and the card is
        # posted anew in the supergroup (handlers/lifecycle.py move_chat)
        await conn.execute("DELETE FROM unit_queue_cards WHERE chat_id = ?", (old_id,))
        new = await (await conn.execute("SELECT id FROM chats WHERE id = ?", (new_id,))).fetchone()
        if new is not None:
            # presence (0011): what the supergroup knows is newer; else the old group's
            await conn.execute(
                "INSERT INTO members (chat_id, user_id, display_name, role, status)"
                " SELECT ?, user_id, display_name, role, status FROM members WHERE chat_id = ?"
                " ON CONFLICT (chat_id, user_id) DO UPDATE SET"
                "  display_name = excluded.display_name,"
                "  role = CASE WHEN 'organizer' IN (members.role, excluded.role)"
                "         THEN 'organizer' ELSE 'resident' END,"
                "  status = coalesce(excluded.status, members.status)",
                (old_id, new_id),
            )
            for table, column in await _child_tables(conn):
                if table != "members":
                    await conn.execute(
                        # OR IGNORE: a row clashing with the old group's (same unit label)
                        # stays behind and goes with the supergroup's row below
                        f'UPDATE OR IGNORE "{table}" SET "{column}" = ? WHERE "{column}" = ?',
                        (old_id, new_id),
                    )
            await conn.execute("DELETE FROM chats WHERE id = ?", (new_id,))
        # ON UPDATE CASCADE carries every child row along.
        await conn.execute(
            "UPDATE chats SET id = ?, type = 'supergroup' WHERE id = ?", (new_id, old_id)
        )
        return True


#: A failure of a promised action (its reason names the action) is recorded, and its author
#: told, once in this long: not once per retry, nor once a week for a weekly announcement.
FAILURE_ONCE = timedelta(days=30)


async def record_delivery_failure(
    db: Database, chat_id: int, method: str, reason: str, now: datetime, *, once: bool = False
) -> bool:
    """Record a message or action we gave up on (only for chats we know; others are just
    logged). With ``once``, the same failure (chat, method and reason) is recorded only if it
    was not in the last ``FAILURE_ONCE``. Returns whether a row was written."""
    reason = reason[:200]
    async with db.write() as conn:
        if once:
            seen = await (
                await conn.execute(
                    "SELECT 1 FROM delivery_failures WHERE chat_id = ? AND method = ?"
                    " AND reason = ? AND failed_at >= ?",
                    (chat_id, method, reason, to_db(now - FAILURE_ONCE)),
                )
            ).fetchone()
            if seen is not None:
                return False
        cur = await conn.execute(
            "INSERT INTO delivery_failures (chat_id, method, reason, failed_at)"
            " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM chats WHERE id = ?)",
            (chat_id, method, reason, to_db(now), chat_id),
        )
        return cur.rowcount == 1


#: Who asked for a card, per card table (the column of their Telegram user id).
AUTHOR_COLUMNS = ("creator_id", "owner_id", "organizer_id")


async def card_of(db: Database, chat_id: int, message_id: int) -> tuple[str, int, int, str] | None:
    """The card shown by this message: (kind, row id, author's user id, author's name)."""
    for kind, spec in cards.KINDS.items():
        columns = await db.fetchall(f'PRAGMA table_info("{spec.table}")')
        author = next((c["name"] for c in columns if c["name"] in AUTHOR_COLUMNS), None)
        if author is None:
            continue
        row = await db.fetchone(
            f"SELECT t.id, t.{author} AS author, m.display_name AS name FROM {spec.table} t"
            f" LEFT JOIN members m ON m.chat_id = t.chat_id AND m.user_id = t.{author}"
            f" WHERE t.chat_id = ? AND t.{spec.message} = ?",
            (chat_id, message_id),
        )
        if row is not None:
            return kind, int(row["id"]), int(row["author"]), str(row["name"] or row["author"])
    return None


async def delivery_failures(db: Database, chat_id: int) -> list[tuple[str, str, str]]:
    rows = await db.fetchall(
        "SELECT method, reason, failed_at FROM delivery_failures WHERE chat_id = ? ORDER BY id",
        (chat_id,),
    )
    return [(r["method"], r["reason"], r["failed_at"]) for r in rows]


async def recent_delivery_failures(
    db: Database, chat_id: int, since: datetime
) -> tuple[int, str | None, datetime | None]:
    """How many messages to this chat were given up on since ``since``, and the latest reason
    and time (shown to the chat's leads on the settings panel)."""
    row = await db.fetchone(
        "SELECT COUNT(*) AS n, MAX(id) AS last FROM delivery_failures"
        " WHERE chat_id = ? AND failed_at >= ?",
        (chat_id, to_db(since)),
    )
    if row is None or not row["n"]:
        return 0, None, None
    last = await db.fetchone(
        "SELECT reason, failed_at FROM delivery_failures WHERE id = ?", (row["last"],)
    )
    assert last is not None
    return int(row["n"]), str(last["reason"]), from_db(last["failed_at"])
