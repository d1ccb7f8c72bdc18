"""Decisions storage on a real SQLite file: the decision and its closing row in one
transaction, latest ballot per unit, the audit trail, idempotent closing, secret choices
discarded at closing, and supergroup migration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from bot.domain.decisions import Totals
from bot.domain.settings import ChatSettings
from storage import chats, decisions, members, scheduled, units
from storage.db import Database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=14)
GROUP = -1001
BOB, CAROL, ALICE = 7, 8, 1


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    await chats.ensure(
        database, GROUP, type="group", title="Maple", defaults=ChatSettings(), now=NOW
    )
    yield database
    await database.close()


async def make(db: Database, *, secret: bool = False) -> int:
    decision_id, row_id = await decisions.create(
        db,
        chat_id=GROUP,
        title="Elevator",
        rule="cn-278-special",
        secret=secret,
        creator_id=ALICE,
        creator_name="Alice",
        closes_at=LATER,
        now=NOW,
    )
    row = await scheduled.get(db, row_id)
    assert row is not None and row.kind == decisions.KIND and row.ref_id == decision_id
    assert row.run_at == LATER and row.status == "pending"
    return decision_id


TOTALS = Totals(3, Fraction(30025, 100), 2, 1, 0, Fraction(200), Fraction(10025, 100), Fraction(0))


async def test_latest_ballot_counts_and_the_audit_keeps_every_one(db: Database) -> None:
    decision_id = await make(db)
    assert await decisions.cast(
        db, decision_id, [(1, "3-502")], "against", by_id=BOB, by_name="Bob", now=NOW
    )
    assert await decisions.cast(
        db, decision_id, [(1, "3-502"), (2, "3-503")], "for", by_id=BOB, by_name="Bob", now=NOW
    )
    assert await decisions.cast(
        db,
        decision_id,
        [(3, "4-101")],
        "abstain",
        by_id=ALICE,
        by_name="Alice",
        paper=True,
        note="proxy",
        now=NOW,
    )
    found = {b.label: b for b in await decisions.ballots(db, decision_id)}
    assert {k: b.choice for k, b in found.items()} == {
        "3-502": "for",
        "3-503": "for",
        "4-101": "abstain",
    }
    assert found["4-101"].paper and found["4-101"].note == "proxy"
    trail = await decisions.audit(db, decision_id)
    assert [(e.label, e.choice) for e in trail] == [
        ("3-502", "against"),
        ("3-502", "for"),
        ("3-503", "for"),
        ("4-101", "abstain"),
    ]
    # after the deadline nothing is stored
    assert not await decisions.cast(
        db, decision_id, [(1, "3-502")], "against", by_id=BOB, by_name="Bob", now=LATER
    )


async def test_close_is_idempotent_and_cancels_the_closing_row(db: Database) -> None:
    decision_id = await make(db)
    final = decisions.Final(TOTALS, ("9-999",), 0)
    closed, stopped = await decisions.close(db, decision_id, final, closed_by="Alice", now=NOW)
    assert closed and len(stopped) == 1
    assert (await scheduled.get(db, stopped[0])).status == "cancelled"
    again, none = await decisions.close(db, decision_id, final, closed_by=None, now=NOW)
    assert not again and none == []
    decision = await decisions.get(db, decision_id)
    assert decision is not None and not decision.is_open and decision.closed_by == "Alice"
    assert decision.final == final  # exact fractions survive the JSON
    assert not await decisions.cast(
        db, decision_id, [(1, "3-502")], "for", by_id=BOB, by_name="Bob", now=NOW
    )


async def test_secret_choices_never_reach_the_audit_and_are_discarded_at_closing(
    db: Database,
) -> None:
    decision_id = await make(db, secret=True)
    await decisions.cast(db, decision_id, [(1, "3-502")], "for", by_id=BOB, by_name="Bob", now=NOW)
    assert [b.choice for b in await decisions.ballots(db, decision_id)] == ["for"]
    assert [e.choice for e in await decisions.audit(db, decision_id)] == [None]
    await decisions.close(db, decision_id, decisions.Final(TOTALS), closed_by=None, now=NOW)
    assert [b.choice for b in await decisions.ballots(db, decision_id)] == [None]
    decision = await decisions.get(db, decision_id)
    assert decision is not None and decision.final is not None
    assert decision.final.totals == TOTALS


async def test_non_voters_and_supergroup_migration(db: Database) -> None:
    for user_id, name in ((BOB, "Bob"), (CAROL, "Carol")):
        await members.seen(db, GROUP, user_id, name, NOW)
    bob_claim, _, _ = await units.claim(db, GROUP, "3-502", BOB, approved=True, now=NOW)
    await units.claim(db, GROUP, "3-503", CAROL, approved=True, now=NOW)
    await units.claim(db, GROUP, "3-504", ALICE, approved=False, now=NOW)  # pending: not asked
    decision_id = await make(db)
    assert await decisions.non_voters(db, GROUP, decision_id) == [(BOB, "Bob"), (CAROL, "Carol")]
    await decisions.cast(
        db, decision_id, [(bob_claim.unit_id, "3-502")], "for", by_id=BOB, by_name="Bob", now=NOW
    )
    assert await decisions.non_voters(db, GROUP, decision_id) == [(CAROL, "Carol")]
    assert await decisions.open_count(db, GROUP) == 1

    assert await chats.migrate(db, GROUP, -100777, NOW)
    decision = await decisions.get(db, decision_id)
    assert decision is not None and decision.chat_id == -100777
    for table in ("decision_ballots", "decision_audit"):
        row = await db.fetchone(f"SELECT DISTINCT chat_id FROM {table}")
        assert row["chat_id"] == -100777, table
    assert await decisions.non_voters(db, -100777, decision_id) == [(CAROL, "Carol")]
    assert await decisions.open_count(db, GROUP) == 0


async def test_close_counts_inside_its_own_transaction(db: Database) -> None:
    """The recount gets the register and ballots as they are when the close commits."""
    unit, _, _ = await units.add(db, GROUP, "3-502", Fraction(8950, 100), NOW)
    decision_id = await make(db, secret=True)
    await decisions.cast(
        db, decision_id, [(unit.id, unit.label)], "for", by_id=BOB, by_name="Bob", now=NOW
    )
    seen: list[tuple[list[units.Unit], list[str | None]]] = []

    def recount(register, ballots) -> decisions.Final:
        seen.append((list(register), [b.choice for b in ballots]))
        return decisions.Final(TOTALS)

    closed, _ = await decisions.close(db, decision_id, recount, closed_by=None, now=NOW)
    assert closed and seen == [([unit], ["for"])]
    again, _ = await decisions.close(db, decision_id, recount, closed_by=None, now=NOW)
    assert not again and len(seen) == 1  # closed already: not counted again
    assert [b.choice for b in await decisions.ballots(db, decision_id)] == [None]
