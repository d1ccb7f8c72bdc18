"""Proposals in SQLite: stage moves are compare-and-set, households count once and only while
their unit is in the register, ids are never reused, limits hold inside the transaction."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import DomainError
from bot.domain.settings import ChatSettings
from storage import chats
from storage import proposals as store
from storage.db import Database

GROUP, OTHER = -100, -200
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    for chat_id in (GROUP, OTHER):
        await chats.ensure(
            database, chat_id, type="group", title="Maple", defaults=ChatSettings(), now=NOW
        )
    async with database.write() as conn:
        for n in range(1, 6):
            await conn.execute(
                "INSERT INTO units (chat_id, label, created_at) VALUES (?, ?, ?)",
                (GROUP, f"1-0{n}", "2026-12-01T00:00:00Z"),
            )
    yield database
    await database.close()


async def unit(db: Database, label: str) -> tuple[int, str]:
    row = await db.fetchone("SELECT id FROM units WHERE label = ?", (label,))
    assert row is not None
    return int(row["id"]), label


async def new(db: Database, author: int = 7, chat_id: int = GROUP) -> int:
    proposal_id, _ = await store.create(
        db,
        chat_id=chat_id,
        author_id=author,
        title="Lights",
        body="",
        expires_at=NOW + timedelta(days=30),
        now=NOW,
    )
    return proposal_id


async def test_support_toggles_per_household_and_follows_the_register(db: Database) -> None:
    p = await new(db)
    a, b = await unit(db, "1-01"), await unit(db, "1-02")
    assert await store.toggle_support(db, p, [a, b], NOW) == (True, ["1-01", "1-02"])
    assert await store.support_count(db, p) == 2
    # all of the presser's units support: the press withdraws them
    assert await store.toggle_support(db, p, [a], NOW) == (False, ["1-01"])
    # only some do: the press adds the others, it never withdraws the ones that support
    assert await store.toggle_support(db, p, [a, b], NOW) == (True, ["1-01", "1-02"])
    assert await store.support_count(db, p) == 2
    # a unit removed from the register stops counting; one relabelled too
    async with db.write() as conn:
        await conn.execute("DELETE FROM units WHERE id = ?", (a[0],))
        await conn.execute("UPDATE units SET label = '1-02A' WHERE id = ?", (b[0],))
    assert await store.support_count(db, p) == 0


async def test_stage_moves_are_compare_and_set(db: Database) -> None:
    p = await new(db)
    results = await asyncio.gather(
        *(store.advance(db, p, chat_id=GROUP, to="agenda", now=NOW) for _ in range(5)),
        return_exceptions=True,
    )
    moved = [r for r in results if isinstance(r, store.Advanced)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(moved) == 1 and len(refused) == 4
    assert all(r.key == "proposal.wrong_stage" for r in refused)
    with pytest.raises(DomainError) as exc:  # another chat's id names nothing here
        await store.advance(db, p, chat_id=OTHER, to="hearing", now=NOW)
    assert exc.value.key == "proposal.not_found"
    # the expiry row was cancelled by the move that asked it
    done = await store.advance(
        db, p, chat_id=GROUP, to="vote", now=NOW, schedule=(("proposal_vote", NOW),)
    )
    assert len(done.armed) == 1
    assert await store.revert_vote(db, p, "agenda", [done.armed[0][0]])
    row = await db.fetchone("SELECT status FROM scheduled WHERE id = ?", (done.armed[0][0],))
    assert row is not None and row["status"] == "cancelled"
    assert (await store.get(db, p)).stage == "agenda"  # type: ignore[union-attr]


async def test_limits_hold_inside_the_transaction(db: Database) -> None:
    for _ in range(3):
        await new(db, author=9)
    with pytest.raises(DomainError) as exc:
        await new(db, author=9)
    assert exc.value.key == "proposal.too_many"
    await new(db, author=9, chat_id=OTHER)  # another group is another count
    p = await new(db)
    with pytest.raises(DomainError):  # no statements before a meeting
        await store.add_statement(db, p, chat_id=GROUP, author_id=7, text="x", now=NOW)
    for to in ("agenda", "hearing"):
        await store.advance(db, p, chat_id=GROUP, to=to, now=NOW)
    found = await asyncio.gather(
        *(
            store.add_statement(db, p, chat_id=GROUP, author_id=7, text=f"s{n}", now=NOW)
            for n in range(8)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(f, store.Statement) for f in found) == 5
    with pytest.raises(DomainError) as exc:
        await store.add_statement(db, p, chat_id=GROUP, author_id=8, text="S1", now=NOW)
    assert exc.value.key == "proposal.statement_repeated"


async def test_statement_answers_and_review_answers_are_the_households(db: Database) -> None:
    p = await new(db)
    for to in ("agenda", "hearing"):
        await store.advance(db, p, chat_id=GROUP, to=to, now=NOW)
    s = await store.add_statement(db, p, chat_id=GROUP, author_id=7, text="LED", now=NOW)
    a, b = await unit(db, "1-01"), await unit(db, "1-02")
    assert await store.vote_statement(db, s.id, [a, b], "agree")
    assert await store.vote_statement(db, s.id, [b], "disagree")  # the latest counts
    [(_, tally)] = await store.statements(db, p)
    assert (tally.agree, tally.disagree, tally.passed) == (1, 1, 0)
    await store.advance(db, p, chat_id=GROUP, to="vote", now=NOW)
    assert not await store.vote_statement(db, s.id, [a], "pass")  # the meeting is over
    for to in ("decided", "review"):
        await store.advance(db, p, chat_id=GROUP, to=to, now=NOW)
    with pytest.raises(DomainError):
        await store.answer_review(db, p, [a], None, "a remark first", NOW)
    assert await store.answer_review(db, p, [a], "well", None, NOW)
    assert await store.answer_review(db, p, [a], None, "one flickers", NOW)
    assert await store.answer_review(db, p, [a], "partly", None, NOW)  # the remark stays
    assert await store.review_answers(db, p) == [("partly", "one flickers")]


async def test_a_deleted_proposals_id_is_never_given_again(db: Database) -> None:
    first = await new(db)
    async with db.write() as conn:
        await conn.execute("DELETE FROM proposals WHERE id = ?", (first,))
    assert await new(db) == first + 1


async def test_the_retention_purge_drops_finished_proposals_only(db: Database) -> None:
    from storage import privacy

    done, open_ = await new(db), await new(db, author=8)
    await store.advance(db, done, chat_id=GROUP, to="declined", now=NOW, fields={"reason": "no"})
    later = NOW + timedelta(days=400)
    await store.advance(db, open_, chat_id=GROUP, to="agenda", now=NOW)
    counts = await privacy.purge_old(db, GROUP, later - timedelta(days=365))
    assert counts.get("proposals") == 1
    assert await store.get(db, done) is None and await store.get(db, open_) is not None
