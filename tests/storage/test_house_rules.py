"""House rules storage on a real SQLite file: one draft per group, a draft starting from the
version in force, amendments applied in the transaction that accepts them, one support per
household, versions numbered once however often the outcome arrives, a supergroup move."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import house_rules as rules
from bot.domain.decisions import Totals
from bot.domain.errors import DomainError
from bot.domain.settings import ChatSettings
from storage import chats, decisions, units
from storage import house_rules as store
from storage.db import Database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GROUP, OTHER = -1001, -1002
ALICE, BOB = 1, 7


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    for chat_id in (GROUP, OTHER):
        await chats.ensure(
            database, chat_id, type="group", title="Maple", defaults=ChatSettings(), now=NOW
        )
    await units.add(database, GROUP, "1-101", None, NOW)
    await units.add(database, GROUP, "1-102", None, NOW)
    yield database
    await database.close()


async def drafted(db: Database, chat_id: int = GROUP, text: str = "1. A\n2. B") -> store.Version:
    found, _ = await store.start_draft(db, chat_id, creator_id=ALICE, creator_name="Alice", now=NOW)
    await store.set_text(db, found.id, rules.parse_text(text), NOW)
    again = await store.get(db, found.id)
    assert again is not None
    return again


async def vote(db: Database, version: store.Version, *, passed: bool = True) -> int:
    decision_id, _ = await decisions.create(
        db,
        chat_id=GROUP,
        title="Ratify",
        rule="majority",
        secret=False,
        creator_id=ALICE,
        creator_name="Alice",
        closes_at=NOW + timedelta(days=7),
        now=NOW,
    )
    assert await store.open_ratification(db, version.id, decision_id, "majority", NOW)
    totals = Totals(
        units=2,
        area=None,
        for_units=2 if passed else 0,
        against_units=0 if passed else 2,
        abstain_units=0,
        for_area=None,
        against_area=None,
        abstain_area=None,
    )
    await decisions.close(
        db,
        decision_id,
        lambda electorate, ballots: decisions.Final(totals),
        closed_by="Alice",
        now=NOW,
    )
    return decision_id


async def test_one_draft_per_group_starting_from_the_version_in_force(db: Database) -> None:
    first = await drafted(db)
    again, created = await store.start_draft(db, GROUP, creator_id=BOB, creator_name="Bob", now=NOW)
    assert again.id == first.id and not created
    with pytest.raises(sqlite3.IntegrityError):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO rules_versions (chat_id, creator_id, creator_name, created_at,"
                " updated_at) VALUES (?, 1, 'x', 'x', 'x')",
                (GROUP,),
            )
    decision_id = await vote(db, first)
    ratified = await store.ratify(db, decision_id, NOW)
    assert ratified is not None and ratified.number == 1
    assert await store.ratify(db, decision_id, NOW) is None  # the outcome arrives twice
    second, created = await store.start_draft(
        db, GROUP, creator_id=BOB, creator_name="Bob", now=NOW
    )
    assert created and second.articles == ("A", "B") and second.id != first.id
    other = await drafted(db, OTHER, "1. Oak")
    assert other.articles == ("Oak",)  # another group's draft starts empty


async def test_versions_are_numbered_in_the_group_and_never_twice(db: Database) -> None:
    for n, text in enumerate(("1. A", "1. A\n2. B", "1. C"), start=1):
        found = await drafted(db, text=text)
        decision_id = await vote(db, found)
        ratified = await store.ratify(db, decision_id, NOW)
        assert ratified is not None and ratified.number == n
    assert [v.number for v in await store.ratified(db, GROUP)] == [3, 2, 1]
    current = await store.current(db, GROUP)
    assert current is not None and current.articles == ("C",)
    before = await store.previous(db, GROUP, 3)
    assert before is not None and before.number == 2


async def test_amendments_apply_when_accepted_and_wait_while_voted_on(db: Database) -> None:
    found = await drafted(db)
    amendment = await store.propose(
        db, found.id, article=2, text="B2", author_id=BOB, author_name="Bob", now=NOW
    )
    assert amendment.base == "B"
    added = await store.propose(
        db, found.id, article=None, text="C", author_id=BOB, author_name="Bob", now=NOW
    )
    with pytest.raises(DomainError) as caught:
        await store.propose(
            db, found.id, article=2, text="B", author_id=BOB, author_name="Bob", now=NOW
        )
    assert caught.value.key == "rules.same_text"
    # one support per household, withdrawable
    assert await store.support(db, amendment.id, [1, 2], BOB, NOW, on=True) == 2
    assert await store.support(db, amendment.id, [1], ALICE, NOW, on=True) == 0
    assert await store.support(db, amendment.id, [2], BOB, NOW, on=False) == 1
    assert (await store.amendment(db, amendment.id)).supports == 1  # type: ignore[union-attr]
    done = await store.decide(
        db, amendment.id, accept=True, reason=None, by_id=ALICE, by_name="Alice", now=NOW
    )
    assert done.status == store.ACCEPTED
    assert (await store.get(db, found.id)).articles == ("A", "B2")  # type: ignore[union-attr]
    with pytest.raises(DomainError):
        await store.decide(
            db, amendment.id, accept=False, reason="x", by_id=ALICE, by_name="Alice", now=NOW
        )
    # while the ratification is open nothing moves
    decision_id, _ = await decisions.create(
        db,
        chat_id=GROUP,
        title="Ratify",
        rule="majority",
        secret=False,
        creator_id=ALICE,
        creator_name="Alice",
        closes_at=NOW + timedelta(days=7),
        now=NOW,
    )
    assert await store.open_ratification(db, found.id, decision_id, "majority", NOW)
    assert not await store.open_ratification(db, found.id, decision_id + 1, "majority", NOW)
    for attempt in (
        store.decide(db, added.id, accept=True, reason=None, by_id=ALICE, by_name="A", now=NOW),
        store.support(db, added.id, [1], BOB, NOW, on=True),
        store.set_text(db, found.id, rules.parse_text("1. X"), NOW),
        store.propose(db, found.id, article=1, text="Z", author_id=BOB, author_name="B", now=NOW),
        store.discard(db, found.id, NOW),
    ):
        with pytest.raises(DomainError) as caught:
            await attempt
        assert caught.value.key == "rules.voting"
    assert (await store.get(db, found.id)).articles == ("A", "B2")  # type: ignore[union-attr]


async def test_a_group_becoming_a_supergroup_keeps_its_rules(db: Database) -> None:
    found = await drafted(db)
    await store.set_message(db, found.id, 55)
    await chats.migrate(db, GROUP, -100777, NOW)
    moved = await store.draft_of(db, -100777)
    assert moved is not None and moved.id == found.id and moved.message_id is None
    assert await store.draft_of(db, GROUP) is None
