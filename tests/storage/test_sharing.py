"""Sharing storage on a real SQLite file: the trigram index stays in sync (insert, update,
delete, cascade), short words fall back to LIKE, everything moves with a supergroup migration,
loans and chains keep their rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import DomainError
from bot.domain.settings import ChatSettings
from bot.domain.sharing import search_terms, search_text
from storage import chats
from storage import sharing as store
from storage.db import Database

NOW = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
GROUP = -100


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "s.sqlite3")
    await chats.ensure(database, GROUP, type="group", title="G", defaults=ChatSettings(), now=NOW)
    yield database
    await database.close()


async def add(db: Database, title: str, kind: str = "offer", chat: int = GROUP) -> store.Item:
    item, _ = await store.create_item(
        db,
        chat_id=chat,
        kind=kind,
        mode="lend" if kind == "offer" else None,
        owner_id=1,
        owner_name="Bob",
        title=title,
        note="",
        photo=None,
        search=search_text(title),
        now=NOW,
        expires=NOW + timedelta(days=30) if kind != "skill" else None,
    )
    return item


async def find(db: Database, query: str, chat: int = GROUP, kinds=("offer", "skill")) -> list[str]:
    found, _ = await store.search(db, chat, search_terms(query), kinds=kinds)
    return sorted(i.title for i in found)


async def test_search_by_part_of_a_word_in_three_languages(db: Database) -> None:
    for title in ("Power drill", "Детский велосипед", "修电脑", "书架", "100% cotton_bag"):
        await add(db, title)
    assert await find(db, "dril") == ["Power drill"]
    assert await find(db, "ВЕЛОСИП") == ["Детский велосипед"]
    assert await find(db, "电脑") == ["修电脑"]
    assert await find(db, "书") == ["书架"]
    assert await find(db, "%") == ["100% cotton_bag"]
    assert await find(db, "_b") == ["100% cotton_bag"]
    assert await find(db, 'dr"ill OR x*') == []  # quotes and operators are not syntax
    assert await find(db, "drill 修") == []
    assert len(await find(db, "")) == 5


async def test_index_follows_updates_deletes_and_migration(db: Database, tmp_path: Path) -> None:
    item = await add(db, "Ladder")
    async with db.write() as conn:
        await conn.execute("UPDATE items SET search = 'stepladder tall' WHERE id = ?", (item.id,))
    assert await find(db, "tall") == ["Ladder"]
    # the group becomes a supergroup: items, requests, loans, chains and orders move
    request, _ = await store.add_request(db, item, 2, "Carol", NOW)
    await store.lend(db, item.id, request, NOW)
    gb, _ = await store.create_groupbuy(
        db,
        chat_id=GROUP,
        organizer_id=1,
        organizer_name="Bob",
        title="Tea",
        price_cents=100,
        currency="",
        minimum=None,
        closes_at=NOW + timedelta(days=1),
        now=NOW,
    )
    await store.change_order(db, gb.id, 2, "Carol", 1, NOW)
    chain, _ = await store.create_chain(
        db, chat_id=GROUP, creator_id=1, creator_name="Bob", title="T", closes_at=None, now=NOW
    )
    await store.put_line(db, chain.id, 2, "Carol", "me", NOW)
    assert await chats.migrate(db, GROUP, -1009, NOW)
    assert await find(db, "tall") == []
    assert await find(db, "tall", chat=-1009) == ["Ladder"]
    for table in (
        "items",
        "item_requests",
        "loans",
        "groupbuys",
        "groupbuy_orders",
        "chains",
        "chain_lines",
        "scheduled",
    ):
        row = await db.fetchone(f"SELECT count(*) AS n FROM {table} WHERE chat_id = ?", (GROUP,))
        assert row["n"] == 0, table
        row = await db.fetchone(f"SELECT count(*) AS n FROM {table} WHERE chat_id = -1009")
        assert row["n"] >= 1, table
    # deleting the chat deletes its items and their index rows
    async with db.write() as conn:
        await conn.execute("DELETE FROM chats WHERE id = -1009")
        await conn.execute("INSERT INTO items_fts (items_fts) VALUES ('integrity-check')")
    row = await db.fetchone("SELECT count(*) AS n FROM items_fts WHERE items_fts MATCH '\"tall\"'")
    assert row["n"] == 0


async def test_loans_one_at_a_time_and_return(db: Database) -> None:
    item = await add(db, "Drill")
    first, created = await store.add_request(db, item, 2, "Carol", NOW)
    again, created_again = await store.add_request(db, item, 2, "Carol", NOW)
    assert created and not created_again and again.id == first.id
    loan = await store.lend(db, item.id, first, NOW)
    with pytest.raises(DomainError):
        await store.lend(db, item.id, first, NOW)
    stale, armed = await store.set_due(
        db, loan.id, NOW + timedelta(days=3), NOW + timedelta(days=2), NOW
    )
    assert stale == [] and [when for _, when in armed] == [
        NOW + timedelta(days=2),
        NOW + timedelta(days=3),
    ]
    stale, armed = await store.set_due(db, loan.id, NOW + timedelta(days=5), None, NOW)
    assert len(stale) == 2 and len(armed) == 1
    cancelled = await store.return_loan(db, loan.id, NOW + timedelta(days=1))
    assert cancelled == [armed[0][0]]
    assert (await store.get_item(db, item.id)).status == "open"
    with pytest.raises(DomainError):
        await store.return_loan(db, loan.id, NOW)
    [past] = await store.loan_history(db, item.id)
    assert past.returned_at == NOW + timedelta(days=1)


async def test_chain_lines_and_closing(db: Database) -> None:
    chain, row_id = await store.create_chain(
        db,
        chat_id=GROUP,
        creator_id=1,
        creator_name="Bob",
        title="T",
        closes_at=NOW + timedelta(hours=1),
        now=NOW,
    )
    assert row_id is not None
    assert await store.put_line(db, chain.id, 2, "Carol", "a", NOW) == "added"
    assert await store.put_line(db, chain.id, 3, "Wang", "b", NOW) == "added"
    assert await store.put_line(db, chain.id, 2, "Carol", "a2", NOW) == "replaced"
    assert [line.text for line in await store.lines(db, chain.id)] == ["a2", "b"]
    assert await store.put_line(db, chain.id, 9, "X", None, NOW) == "none"
    assert await store.close_chain(db, chain.id, NOW) == [row_id]
    assert await store.close_chain(db, chain.id, NOW) is None
    with pytest.raises(DomainError):
        await store.put_line(db, chain.id, 2, "Carol", "late", NOW)


async def test_no_date_clears_the_due_time_and_its_rows(db: Database) -> None:
    item = await add(db, "Ladder")
    request, _ = await store.add_request(db, item, 2, "Carol", NOW)
    loan = await store.lend(db, item.id, request, NOW)
    _, armed = await store.set_due(
        db, loan.id, NOW + timedelta(days=3), NOW + timedelta(days=2), NOW
    )
    assert sorted(await store.clear_due(db, loan.id)) == sorted(r for r, _ in armed)
    cleared = await store.get_loan(db, loan.id)
    assert cleared is not None and cleared.due_at is None and cleared.status == "out"
    await store.return_loan(db, loan.id, NOW)
    with pytest.raises(DomainError):
        await store.clear_due(db, loan.id)


async def test_search_finds_yo_written_as_ye(db: Database) -> None:
    await add(db, "Шуруповёрт Bosch")
    assert await find(db, "шуруповерт") == ["Шуруповёрт Bosch"]
    assert await find(db, "ШУРУПОВЁРТ") == ["Шуруповёрт Bosch"]
