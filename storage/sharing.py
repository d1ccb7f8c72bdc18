"""Sharing: listings (offers, needs, skills), requests, loans, group buys and chains, with the
scheduled rows that close, remind and expire them (written in the same transaction).

Search: ``items_fts`` is an FTS5 trigram index over ``items.search`` (kept in sync by triggers
of migration 7, keyed by the item id only; the chat lives in ``items``). Words shorter than
three characters (trigram's minimum: "书", "电脑") are matched with an escaped ``LIKE`` on the
same case-folded column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.domain.errors import DomainError
from bot.domain.sharing import Minimum, change_quantity, fts_phrase, like_pattern, needs_like
from storage import scheduled
from storage.db import Database, from_db, to_db

KIND_EXPIRY = "item_expiry"
KIND_REMIND = "loan_remind"
KIND_OVERDUE = "loan_overdue"
KIND_GB_CLOSE = "groupbuy_close"
KIND_CHAIN_CLOSE = "chain_close"

OPEN_STATES = ("pending", "paused", "running")


def _dt(value: str | None) -> datetime | None:
    return from_db(value) if value else None


# --- items ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    chat_id: int
    kind: str  # offer | need | skill
    mode: str | None  # lend | give (offers)
    owner_id: int
    owner_name: str
    title: str
    note: str
    photo: str | None
    status: str  # open | lent | given | expired | withdrawn
    card_id: int | None
    created_at: datetime
    expires_at: datetime | None
    thread_id: int | None = None  # the forum topic of its card, expiry and loans' notes


_ITEM_COLS = (
    "id, chat_id, kind, mode, owner_id, owner_name, title, note, photo, status, card_id,"
    " created_at, expires_at, thread_id"
)


def _item(row: aiosqlite.Row) -> Item:
    created = from_db(row["created_at"])
    return Item(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        mode=row["mode"],
        owner_id=row["owner_id"],
        owner_name=row["owner_name"],
        title=row["title"],
        note=row["note"],
        photo=row["photo"],
        status=row["status"],
        card_id=row["card_id"],
        created_at=created,
        expires_at=_dt(row["expires_at"]),
        thread_id=row["thread_id"],
    )


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    item_id: int
    chat_id: int
    user_id: int
    user_name: str


@dataclass(frozen=True, slots=True)
class Loan:
    id: int
    item_id: int
    chat_id: int
    borrower_id: int
    borrower_name: str
    lent_at: datetime
    due_at: datetime | None
    returned_at: datetime | None
    status: str  # out | returned


def _loan(row: aiosqlite.Row) -> Loan:
    return Loan(
        id=row["id"],
        item_id=row["item_id"],
        chat_id=row["chat_id"],
        borrower_id=row["borrower_id"],
        borrower_name=row["borrower_name"],
        lent_at=from_db(row["lent_at"]),
        due_at=_dt(row["due_at"]),
        returned_at=_dt(row["returned_at"]),
        status=row["status"],
    )


_LOAN_COLS = (
    "id, item_id, chat_id, borrower_id, borrower_name, lent_at, due_at, returned_at, status"
)


async def create_item(
    db: Database,
    *,
    chat_id: int,
    kind: str,
    mode: str | None,
    owner_id: int,
    owner_name: str,
    title: str,
    note: str,
    photo: str | None,
    search: str,
    now: datetime,
    expires: datetime | None,
    thread_id: int | None = None,
) -> tuple[Item, int | None]:
    """Store a listing and (if it expires) its expiry row: (item, scheduled row id).
    ``thread_id``: the forum topic it was listed in."""
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT INTO items (chat_id, kind, mode, owner_id, owner_name, title, note, photo,"
            " search, created_at, expires_at, thread_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                kind,
                mode,
                owner_id,
                owner_name,
                title,
                note,
                photo,
                search,
                to_db(now),
                to_db(expires) if expires else None,
                thread_id,
            ),
        )
        item_id = cur.lastrowid
        assert item_id is not None
        row_id = None
        if expires is not None:
            row_id = await scheduled.insert(
                conn, chat_id=chat_id, kind=KIND_EXPIRY, ref_id=item_id, run_at=expires, now=now
            )
    item = await get_item(db, item_id)
    assert item is not None
    return item, row_id


async def get_item(db: Database, item_id: int) -> Item | None:
    row = await db.fetchone(f"SELECT {_ITEM_COLS} FROM items WHERE id = ?", (item_id,))
    return _item(row) if row else None


async def set_item_card(db: Database, item_id: int, message_id: int) -> None:
    async with db.write() as conn:
        await conn.execute("UPDATE items SET card_id = ? WHERE id = ?", (message_id, item_id))


async def add_request(
    db: Database, item: Item, user_id: int, user_name: str, now: datetime
) -> tuple[Request, bool]:
    """A neighbour's "I'd like it" / "I have one" / "Ask": (the request, whether it is new)."""
    async with db.write() as conn:
        row = await (
            await conn.execute(
                "SELECT id FROM item_requests WHERE item_id = ? AND user_id = ?",
                (item.id, user_id),
            )
        ).fetchone()
        if row is not None:
            return Request(row["id"], item.id, item.chat_id, user_id, user_name), False
        cur = await conn.execute(
            "INSERT INTO item_requests (item_id, chat_id, user_id, user_name, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (item.id, item.chat_id, user_id, user_name, to_db(now)),
        )
        assert cur.lastrowid is not None
        return Request(cur.lastrowid, item.id, item.chat_id, user_id, user_name), True


async def get_request(db: Database, request_id: int) -> Request | None:
    row = await db.fetchone(
        "SELECT id, item_id, chat_id, user_id, user_name FROM item_requests WHERE id = ?",
        (request_id,),
    )
    if row is None:
        return None
    return Request(row["id"], row["item_id"], row["chat_id"], row["user_id"], row["user_name"])


async def requests_for(db: Database, item_id: int, limit: int = 8) -> list[Request]:
    """The most recent requests first."""
    rows = await db.fetchall(
        "SELECT id, item_id, chat_id, user_id, user_name FROM item_requests WHERE item_id = ?"
        " ORDER BY id DESC LIMIT ?",
        (item_id, limit),
    )
    return [
        Request(r["id"], r["item_id"], r["chat_id"], r["user_id"], r["user_name"]) for r in rows
    ]


async def lend(db: Database, item_id: int, request: Request, now: datetime) -> Loan:
    """The owner lends the item to the neighbour who asked: a new open loan.
    Raises DomainError when the item is not open (already lent, withdrawn...)."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE items SET status = 'lent' WHERE id = ? AND status = 'open' AND kind = 'offer'",
            (item_id,),
        )
        if cur.rowcount != 1:
            raise DomainError("sharing.not_available")
        cur = await conn.execute(
            "INSERT INTO loans (item_id, chat_id, borrower_id, borrower_name, lent_at)"
            " SELECT id, chat_id, ?, ?, ? FROM items WHERE id = ?",
            (request.user_id, request.user_name, to_db(now), item_id),
        )
        loan_id = cur.lastrowid
    assert loan_id is not None
    loan = await get_loan(db, loan_id)
    assert loan is not None
    return loan


async def get_loan(db: Database, loan_id: int) -> Loan | None:
    row = await db.fetchone(f"SELECT {_LOAN_COLS} FROM loans WHERE id = ?", (loan_id,))
    return _loan(row) if row else None


async def open_loan(db: Database, item_id: int) -> Loan | None:
    row = await db.fetchone(
        f"SELECT {_LOAN_COLS} FROM loans WHERE item_id = ? AND status = 'out'", (item_id,)
    )
    return _loan(row) if row else None


async def loan_history(db: Database, item_id: int, limit: int = 20) -> list[Loan]:
    rows = await db.fetchall(
        f"SELECT {_LOAN_COLS} FROM loans WHERE item_id = ? ORDER BY id DESC LIMIT ?",
        (item_id, limit),
    )
    return [_loan(r) for r in rows]


async def _cancel(conn: aiosqlite.Connection, kind: str, ref_id: int) -> list[int]:
    return await scheduled.set_status_for(
        conn, kind, ref_id, "cancelled", only=("pending", "paused")
    )


async def set_due(
    db: Database,
    loan_id: int,
    due: datetime,
    remind_at: datetime | None,
    now: datetime,
) -> tuple[list[int], list[tuple[int, datetime]]]:
    """Set (or change) an open loan's due time and plan its reminder and overdue notice.
    Returns (rows to disarm, rows to arm)."""
    async with db.write() as conn:
        row = await (
            await conn.execute("SELECT chat_id, status FROM loans WHERE id = ?", (loan_id,))
        ).fetchone()
        if row is None or row["status"] != "out":
            raise DomainError("sharing.loan_closed")
        chat_id = int(row["chat_id"])
        await conn.execute("UPDATE loans SET due_at = ? WHERE id = ?", (to_db(due), loan_id))
        stale = await _cancel(conn, KIND_REMIND, loan_id) + await _cancel(
            conn, KIND_OVERDUE, loan_id
        )
        armed: list[tuple[int, datetime]] = []
        if remind_at is not None:
            rid = await scheduled.insert(
                conn, chat_id=chat_id, kind=KIND_REMIND, ref_id=loan_id, run_at=remind_at, now=now
            )
            armed.append((rid, remind_at))
        oid = await scheduled.insert(
            conn, chat_id=chat_id, kind=KIND_OVERDUE, ref_id=loan_id, run_at=due, now=now
        )
        armed.append((oid, due))
    return stale, armed


async def clear_due(db: Database, loan_id: int) -> list[int]:
    """ "No date" for an open loan: forget any due time and cancel its reminder and overdue
    notice. Returns scheduled rows to disarm."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE loans SET due_at = NULL WHERE id = ? AND status = 'out'", (loan_id,)
        )
        if cur.rowcount != 1:
            raise DomainError("sharing.loan_closed")
        return await _cancel(conn, KIND_REMIND, loan_id) + await _cancel(
            conn, KIND_OVERDUE, loan_id
        )


async def return_loan(db: Database, loan_id: int, now: datetime) -> list[int]:
    """Close the loan; the item is open again. Returns scheduled rows to disarm."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE loans SET status = 'returned', returned_at = ? WHERE id = ? AND status = 'out'",
            (to_db(now), loan_id),
        )
        if cur.rowcount != 1:
            raise DomainError("sharing.loan_closed")
        await conn.execute(
            "UPDATE items SET status = 'open' WHERE id = (SELECT item_id FROM loans WHERE id = ?)"
            " AND status = 'lent'",
            (loan_id,),
        )
        return await _cancel(conn, KIND_REMIND, loan_id) + await _cancel(
            conn, KIND_OVERDUE, loan_id
        )


async def set_item_status(
    db: Database, item_id: int, status: str, *, only: tuple[str, ...]
) -> list[int] | None:
    """Move a listing to ``status`` if it is in one of ``only``; ``None`` if it was not.
    Leaving for good (withdrawn, given) cancels its expiry. Returns rows to disarm."""
    marks = ",".join("?" for _ in only)
    async with db.write() as conn:
        cur = await conn.execute(
            f"UPDATE items SET status = ? WHERE id = ? AND status IN ({marks})",
            (status, item_id, *only),
        )
        if cur.rowcount != 1:
            return None
        if status in ("withdrawn", "given"):
            return await _cancel(conn, KIND_EXPIRY, item_id)
        return []


async def renew(db: Database, item_id: int, expires: datetime, now: datetime) -> int | None:
    """An expired (or open) listing gets a new expiry: returns the new scheduled row id."""
    async with db.write() as conn:
        row = await (
            await conn.execute("SELECT chat_id, status FROM items WHERE id = ?", (item_id,))
        ).fetchone()
        if row is None or row["status"] not in ("open", "expired"):
            return None
        await _cancel(conn, KIND_EXPIRY, item_id)
        await conn.execute(
            "UPDATE items SET status = 'open', expires_at = ? WHERE id = ?",
            (to_db(expires), item_id),
        )
        return await scheduled.insert(
            conn, chat_id=row["chat_id"], kind=KIND_EXPIRY, ref_id=item_id, run_at=expires, now=now
        )


async def push_expiry(db: Database, item_id: int, expires: datetime) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE items SET expires_at = ? WHERE id = ?", (to_db(expires), item_id)
        )


async def search(
    db: Database,
    chat_id: int,
    terms: list[str],
    *,
    kinds: tuple[str, ...],
    statuses: tuple[str, ...] = ("open", "lent"),
    limit: int = 20,
) -> tuple[list[Item], int]:
    """Listings of the chat whose title or note contain every term (a part of a word is
    enough, in any script). Newest first; returns (the first ``limit``, how many in all)."""
    where = [
        "chat_id = ?",
        f"kind IN ({','.join('?' for _ in kinds)})",
        f"status IN ({','.join('?' for _ in statuses)})",
    ]
    params: list[object] = [chat_id, *kinds, *statuses]
    # PostgreSQL: a pg_trgm index on items.search serves LIKE itself, so every term is one
    trigram = db.dialect == "sqlite"
    long_terms = [t for t in terms if trigram and not needs_like(t)]
    if long_terms:
        where.append("id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
        params.append(" AND ".join(fts_phrase(t) for t in long_terms))
    for term in terms:
        if needs_like(term) or not trigram:
            where.append("search LIKE ? ESCAPE '\\'")
            params.append(like_pattern(term))
    clause = " AND ".join(where)
    count = await db.fetchone(f"SELECT count(*) AS n FROM items WHERE {clause}", params)
    rows = await db.fetchall(
        f"SELECT {_ITEM_COLS} FROM items WHERE {clause} ORDER BY id DESC LIMIT ?",
        (*params, limit),
    )
    return [_item(r) for r in rows], int(count["n"]) if count else 0


async def mine(db: Database, chat_id: int, owner_id: int, limit: int = 30) -> list[Item]:
    rows = await db.fetchall(
        f"SELECT {_ITEM_COLS} FROM items WHERE chat_id = ? AND owner_id = ?"
        " AND status IN ('open', 'lent', 'expired') ORDER BY id DESC LIMIT ?",
        (chat_id, owner_id, limit),
    )
    return [_item(r) for r in rows]


async def new_since(db: Database, chat_id: int, since: datetime, limit: int = 10) -> list[Item]:
    rows = await db.fetchall(
        f"SELECT {_ITEM_COLS} FROM items WHERE chat_id = ? AND created_at >= ?"
        " AND status IN ('open', 'lent') ORDER BY id LIMIT ?",
        (chat_id, to_db(since), limit),
    )
    return [_item(r) for r in rows]


# --- group buys -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupBuy:
    id: int
    chat_id: int
    organizer_id: int
    organizer_name: str
    title: str
    price_cents: int
    currency: str
    minimum: Minimum | None
    closes_at: datetime
    status: str  # open | closed
    card_id: int | None
    created_at: datetime
    thread_id: int | None = None  # the forum topic of its card and its closing


_GB_COLS = (
    "id, chat_id, organizer_id, organizer_name, title, price_cents, currency, min_kind,"
    " min_value, closes_at, status, card_id, created_at, thread_id"
)


def _groupbuy(row: aiosqlite.Row) -> GroupBuy:
    minimum = Minimum(row["min_kind"], row["min_value"]) if row["min_kind"] else None
    return GroupBuy(
        id=row["id"],
        chat_id=row["chat_id"],
        organizer_id=row["organizer_id"],
        organizer_name=row["organizer_name"],
        title=row["title"],
        price_cents=row["price_cents"],
        currency=row["currency"],
        minimum=minimum,
        closes_at=from_db(row["closes_at"]),
        status=row["status"],
        card_id=row["card_id"],
        created_at=from_db(row["created_at"]),
        thread_id=row["thread_id"],
    )


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    groupbuy_id: int
    user_id: int
    user_name: str
    quantity: int
    paid: bool
    picked: bool


def _order(row: aiosqlite.Row) -> Order:
    return Order(
        id=row["id"],
        groupbuy_id=row["groupbuy_id"],
        user_id=row["user_id"],
        user_name=row["user_name"],
        quantity=row["quantity"],
        paid=bool(row["paid"]),
        picked=bool(row["picked"]),
    )


_ORDER_COLS = "id, groupbuy_id, user_id, user_name, quantity, paid, picked"


async def create_groupbuy(
    db: Database,
    *,
    chat_id: int,
    organizer_id: int,
    organizer_name: str,
    title: str,
    price_cents: int,
    currency: str,
    minimum: Minimum | None,
    closes_at: datetime,
    now: datetime,
    thread_id: int | None = None,
) -> tuple[GroupBuy, int]:
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT INTO groupbuys (chat_id, organizer_id, organizer_name, title, price_cents,"
            " currency, min_kind, min_value, closes_at, created_at, thread_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                organizer_id,
                organizer_name,
                title,
                price_cents,
                currency,
                minimum.kind if minimum else None,
                minimum.value if minimum else None,
                to_db(closes_at),
                to_db(now),
                thread_id,
            ),
        )
        gb_id = cur.lastrowid
        assert gb_id is not None
        row_id = await scheduled.insert(
            conn, chat_id=chat_id, kind=KIND_GB_CLOSE, ref_id=gb_id, run_at=closes_at, now=now
        )
    found = await get_groupbuy(db, gb_id)
    assert found is not None
    return found, row_id


async def get_groupbuy(db: Database, gb_id: int) -> GroupBuy | None:
    row = await db.fetchone(f"SELECT {_GB_COLS} FROM groupbuys WHERE id = ?", (gb_id,))
    return _groupbuy(row) if row else None


async def set_groupbuy_card(db: Database, gb_id: int, message_id: int) -> None:
    async with db.write() as conn:
        await conn.execute("UPDATE groupbuys SET card_id = ? WHERE id = ?", (message_id, gb_id))


async def change_order(
    db: Database, gb_id: int, user_id: int, user_name: str, delta: int, now: datetime
) -> int:
    """+1 / -1 on a resident's quantity while the group buy is open; returns the new one."""
    async with db.write() as conn:
        gb = await (
            await conn.execute("SELECT chat_id, status FROM groupbuys WHERE id = ?", (gb_id,))
        ).fetchone()
        if gb is None:
            raise DomainError("error.stale_button")
        if gb["status"] != "open":
            raise DomainError("sharing.gb_closed")
        row = await (
            await conn.execute(
                "SELECT quantity FROM groupbuy_orders WHERE groupbuy_id = ? AND user_id = ?",
                (gb_id, user_id),
            )
        ).fetchone()
        new = change_quantity(int(row["quantity"]) if row else 0, delta)
        await conn.execute(
            "INSERT INTO groupbuy_orders (groupbuy_id, chat_id, user_id, user_name, quantity,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (groupbuy_id, user_id) DO UPDATE"
            " SET quantity = excluded.quantity, user_name = excluded.user_name,"
            " updated_at = excluded.updated_at",
            (gb_id, gb["chat_id"], user_id, user_name, new, to_db(now)),
        )
    return new


async def orders(db: Database, gb_id: int) -> list[Order]:
    """Orders with a quantity, in the order people joined."""
    rows = await db.fetchall(
        f"SELECT {_ORDER_COLS} FROM groupbuy_orders WHERE groupbuy_id = ? AND quantity > 0"
        " ORDER BY id",
        (gb_id,),
    )
    return [_order(r) for r in rows]


async def get_order(db: Database, order_id: int) -> Order | None:
    row = await db.fetchone(f"SELECT {_ORDER_COLS} FROM groupbuy_orders WHERE id = ?", (order_id,))
    return _order(row) if row else None


async def close_groupbuy(db: Database, gb_id: int, now: datetime) -> list[int] | None:
    """Close an open group buy; ``None`` if it was not open. Returns rows to disarm."""
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE groupbuys SET status = 'closed', closed_at = ?"
            " WHERE id = ? AND status = 'open'",
            (to_db(now), gb_id),
        )
        if cur.rowcount != 1:
            return None
        return await _cancel(conn, KIND_GB_CLOSE, gb_id)


async def toggle_order(db: Database, order_id: int, column: str) -> Order:
    """Flip the Paid or Picked-up tick of an order of a closed group buy."""
    if column not in ("paid", "picked"):
        raise ValueError(column)
    async with db.write() as conn:
        await conn.execute(
            f"UPDATE groupbuy_orders SET {column} = 1 - {column} WHERE id = ?", (order_id,)
        )
    found = await get_order(db, order_id)
    assert found is not None
    return found


# --- chains ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chain:
    id: int
    chat_id: int
    creator_id: int
    creator_name: str
    title: str
    closes_at: datetime | None
    status: str  # open | closed
    card_id: int | None
    thread_id: int | None = None  # the forum topic of its card and its closing


@dataclass(frozen=True, slots=True)
class Line:
    user_id: int
    user_name: str
    text: str
    updated_at: datetime


_CHAIN_COLS = "id, chat_id, creator_id, creator_name, title, closes_at, status, card_id, thread_id"


def _chain(row: aiosqlite.Row) -> Chain:
    return Chain(
        id=row["id"],
        chat_id=row["chat_id"],
        creator_id=row["creator_id"],
        creator_name=row["creator_name"],
        title=row["title"],
        closes_at=_dt(row["closes_at"]),
        status=row["status"],
        card_id=row["card_id"],
        thread_id=row["thread_id"],
    )


async def create_chain(
    db: Database,
    *,
    chat_id: int,
    creator_id: int,
    creator_name: str,
    title: str,
    closes_at: datetime | None,
    now: datetime,
    thread_id: int | None = None,
) -> tuple[Chain, int | None]:
    async with db.write() as conn:
        cur = await conn.execute(
            "INSERT INTO chains (chat_id, creator_id, creator_name, title, closes_at, created_at,"
            " thread_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                chat_id,
                creator_id,
                creator_name,
                title,
                to_db(closes_at) if closes_at else None,
                to_db(now),
                thread_id,
            ),
        )
        chain_id = cur.lastrowid
        assert chain_id is not None
        row_id = None
        if closes_at is not None:
            row_id = await scheduled.insert(
                conn,
                chat_id=chat_id,
                kind=KIND_CHAIN_CLOSE,
                ref_id=chain_id,
                run_at=closes_at,
                now=now,
            )
    found = await get_chain(db, chain_id)
    assert found is not None
    return found, row_id


async def get_chain(db: Database, chain_id: int) -> Chain | None:
    row = await db.fetchone(f"SELECT {_CHAIN_COLS} FROM chains WHERE id = ?", (chain_id,))
    return _chain(row) if row else None


async def set_chain_card(db: Database, chain_id: int, message_id: int) -> None:
    async with db.write() as conn:
        await conn.execute("UPDATE chains SET card_id = ? WHERE id = ?", (message_id, chain_id))


async def put_line(
    db: Database, chain_id: int, user_id: int, user_name: str, text: str | None, now: datetime
) -> str:
    """Add, replace (in place) or remove (``text=None``) a person's line of an open chain.
    Returns "added", "replaced", "removed" or "none" (nothing to remove)."""
    async with db.write() as conn:
        chain = await (
            await conn.execute("SELECT chat_id, status FROM chains WHERE id = ?", (chain_id,))
        ).fetchone()
        if chain is None:
            raise DomainError("sharing.chain_unknown")
        if chain["status"] != "open":
            raise DomainError("sharing.chain_closed")
        if text is None:
            cur = await conn.execute(
                "DELETE FROM chain_lines WHERE chain_id = ? AND user_id = ?", (chain_id, user_id)
            )
            return "removed" if cur.rowcount else "none"
        cur = await conn.execute(
            "UPDATE chain_lines SET text = ?, user_name = ?, updated_at = ?"
            " WHERE chain_id = ? AND user_id = ?",
            (text, user_name, to_db(now), chain_id, user_id),
        )
        if cur.rowcount:
            return "replaced"
        await conn.execute(
            "INSERT INTO chain_lines (chain_id, chat_id, user_id, user_name, text, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (chain_id, chain["chat_id"], user_id, user_name, text, to_db(now)),
        )
        return "added"


async def lines(db: Database, chain_id: int) -> list[Line]:
    rows = await db.fetchall(
        "SELECT user_id, user_name, text, updated_at FROM chain_lines WHERE chain_id = ?"
        " ORDER BY id",
        (chain_id,),
    )
    return [Line(r["user_id"], r["user_name"], r["text"], from_db(r["updated_at"])) for r in rows]


async def close_chain(db: Database, chain_id: int, now: datetime) -> list[int] | None:
    async with db.write() as conn:
        cur = await conn.execute(
            "UPDATE chains SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open'",
            (to_db(now), chain_id),
        )
        if cur.rowcount != 1:
            return None
        return await _cancel(conn, KIND_CHAIN_CLOSE, chain_id)


async def open_counts(db: Database, chat_id: int, since: datetime) -> tuple[int, int]:
    """(group buys, chains) opened since ``since`` and still open, for the digest."""
    gb = await db.fetchone(
        "SELECT count(*) AS n FROM groupbuys WHERE chat_id = ? AND status = 'open'"
        " AND created_at >= ?",
        (chat_id, to_db(since)),
    )
    ch = await db.fetchone(
        "SELECT count(*) AS n FROM chains WHERE chat_id = ? AND status = 'open'"
        " AND created_at >= ?",
        (chat_id, to_db(since)),
    )
    return (int(gb["n"]) if gb else 0, int(ch["n"]) if ch else 0)


async def unit_labels(db: Database, chat_id: int, user_ids: list[int]) -> dict[int, str]:
    """Each person's approved unit in the chat (the first by label), for group-buy lines."""
    if not user_ids:
        return {}
    marks = ",".join("?" for _ in user_ids)
    rows = await db.fetchall(
        "SELECT m.user_id, min(u.label) AS label FROM unit_members m JOIN units u"
        " ON u.id = m.unit_id WHERE m.chat_id = ? AND m.status = 'approved'"
        f" AND m.user_id IN ({marks}) GROUP BY m.user_id",
        (chat_id, *user_ids),
    )
    return {int(r["user_id"]): str(r["label"]) for r in rows}
