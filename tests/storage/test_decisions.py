"""Decisions storage on a real SQLite file: the decision and its closing row in one
transaction, latest ballot per unit, the audit trail, idempotent closing, secret choices
discarded at closing, and supergroup migration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from bot.domain.decisions import Totals
from bot.domain.errors import DomainError
from bot.domain.settings import ChatSettings
from storage import chats, decisions, members, scheduled, units
from storage.db import Database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=14)
GROUP = -1001
BOB, CAROL, ALICE = 7, 8, 1
REGISTER = [("3-502", Fraction(8950, 100)), ("3-503", Fraction(111)), ("4-101", Fraction(100))]


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    await chats.ensure(
        database, GROUP, type="group", title="Maple", defaults=ChatSettings(), now=NOW
    )
    # ids 1, 2, 3 (a fresh file)
    for label, area in REGISTER:
        await units.add(database, GROUP, label, area, NOW)
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
    await units.claim(db, GROUP, "4-101", ALICE, approved=False, now=NOW)  # pending: not asked
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
    for table in ("decision_ballots", "decision_audit", "decision_units"):
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
    assert closed and [u.label for u in seen[0][0]] == ["3-502", "3-503", "4-101"]
    assert seen[0][0][0] == unit and seen[0][1] == ["for"]
    again, _ = await decisions.close(db, decision_id, recount, closed_by=None, now=NOW)
    assert not again and len(seen) == 1  # closed already: not counted again
    assert [b.choice for b in await decisions.ballots(db, decision_id)] == [None]


async def test_the_electorate_is_fixed_when_the_decision_opens(db: Database) -> None:
    decision_id = await make(db)
    voters = await decisions.electorate(db, decision_id)
    assert [(v.unit_id, v.label, v.area, v.counts) for v in voters] == [
        (1, "3-502", Fraction(8950, 100), True),
        (2, "3-503", Fraction(111), True),
        (3, "4-101", Fraction(100), True),
    ]
    # the register changes without a lead's audited act: the decision does not see it
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO units (chat_id, label, created_at) VALUES (?, '99-01', ?)",
            (GROUP, "2026-11-21T12:00:00Z"),
        )
        await conn.execute("UPDATE units SET area_num = 5, area_den = 1 WHERE label = '3-503'")
    assert await decisions.electorate(db, decision_id) == voters
    stray = await units.get(db, GROUP, "99-01")
    assert stray is not None
    stored = await decisions.cast(
        db, decision_id, [(stray.id, "99-01"), (1, "3-502")], "for", by_id=BOB, by_name="B", now=NOW
    )
    assert stored == ("3-502",)  # 99-01 is no unit of this decision: skipped
    assert [b.label for b in await decisions.ballots(db, decision_id)] == ["3-502"]


async def test_an_area_rule_cannot_open_while_a_unit_lacks_an_area(db: Database) -> None:
    await units.add(db, GROUP, "6", None, NOW)
    await units.add(db, GROUP, "10", None, NOW)
    with pytest.raises(DomainError) as caught:
        await make(db)
    assert caught.value.key == "decision.missing_area_labels"
    assert caught.value.params == {"units": 2, "labels": "6, 10", "first": "6"}
    assert await db.fetchone("SELECT 1 FROM decisions") is None
    assert await db.fetchone("SELECT 1 FROM decision_units") is None
    assert await db.fetchone("SELECT 1 FROM scheduled") is None
    # a rule by units opens, with the unit without area in its electorate
    decision_id, _ = await decisions.create(
        db,
        chat_id=GROUP,
        title="Bikes",
        rule="majority",
        secret=False,
        creator_id=ALICE,
        creator_name="Alice",
        closes_at=LATER,
        now=NOW,
    )
    assert len(await decisions.electorate(db, decision_id)) == 5


async def test_no_units_no_decision(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "empty.sqlite3")
    try:
        await chats.ensure(
            database, GROUP, type="group", title="M", defaults=ChatSettings(), now=NOW
        )
        with pytest.raises(DomainError) as caught:
            await make(database)
        assert caught.value.key == "decision.no_units"
    finally:
        await database.close()


async def change(db: Database, kind: str, unit_id: int, label: str, area, old=None) -> list[int]:
    async with db.write() as conn:
        return await decisions.register_changed(
            conn,
            GROUP,
            kind=kind,
            unit_id=unit_id,
            label=label,
            area=area,
            old_area=old,
            by_user=ALICE,
            now=NOW + timedelta(days=1),
        )


async def test_register_changes_reach_open_decisions_as_audited_acts(db: Database) -> None:
    await members.seen(db, GROUP, ALICE, "Alice", NOW)
    first = await make(db)
    second = await make(db, secret=True)
    closed = await make(db)
    await decisions.close(db, closed, decisions.Final(TOTALS), closed_by=None, now=NOW)
    await decisions.cast(db, first, [(1, "3-502")], "for", by_id=BOB, by_name="Bob", now=NOW)

    assert await change(db, "removed", 1, "3-502", None) == [first, second]
    assert await change(db, "added", 4, "1-04", Fraction(80)) == [first, second]
    assert await change(db, "area", 2, "3-503", Fraction(115), Fraction(111)) == [first, second]
    # a change that is no change, or to a unit a decision does not have, touches nothing
    assert await change(db, "area", 2, "3-503", Fraction(115), Fraction(115)) == []
    assert await change(db, "removed", 1, "3-502", None) == []
    assert await change(db, "area", 99, "9-99", Fraction(1), None) == []

    voters = {v.label: v for v in await decisions.electorate(db, first)}
    assert {k: (v.area, v.counts) for k, v in voters.items()} == {
        "1-04": (Fraction(80), True),
        "3-502": (Fraction(8950, 100), False),
        "3-503": (Fraction(115), True),
        "4-101": (Fraction(100), True),
    }
    made = [
        (c.kind, c.label, c.area, c.old_area, c.counted, c.by_name)
        for c in await decisions.changes(db, first)
    ]
    assert made == [
        ("removed", "3-502", None, None, True, "Alice"),
        ("added", "1-04", Fraction(80), None, False, "Alice"),
        ("area", "3-503", Fraction(115), Fraction(111), False, "Alice"),
    ]
    # the secret decision had no ballot for 3-502: nothing stopped counting
    assert [c.counted for c in await decisions.changes(db, second)] == [False, False, False]
    # changes are not ballots: /audit's list of ballots is unchanged
    assert [e.label for e in await decisions.audit(db, first)] == ["3-502"]
    # the closed decision's electorate is untouched
    assert len(await decisions.electorate(db, closed)) == 3
    assert await decisions.changes(db, closed) == []
    # the removed unit's ballot is kept but the new unit can vote; the old one cannot
    assert (
        await decisions.cast(db, first, [(1, "3-502")], "against", by_id=BOB, by_name="B", now=NOW)
        == ()
    )
    assert await decisions.cast(
        db, first, [(4, "1-04")], "for", by_id=CAROL, by_name="C", now=NOW
    ) == ("1-04",)


async def test_a_change_that_would_leave_an_area_rule_without_area_is_refused(
    db: Database,
) -> None:
    by_units, _ = await decisions.create(
        db,
        chat_id=GROUP,
        title="Bikes",
        rule="majority",
        secret=False,
        creator_id=ALICE,
        creator_name="Alice",
        closes_at=LATER,
        now=NOW,
    )
    by_area = await make(db)
    with pytest.raises(DomainError) as caught:
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO units (chat_id, label, created_at) VALUES (?, '6', ?)",
                (GROUP, "2026-11-22T12:00:00Z"),
            )
            await decisions.register_changed(
                conn,
                GROUP,
                kind="added",
                unit_id=4,
                label="6",
                area=None,
                old_area=None,
                by_user=ALICE,
                now=NOW,
            )
    assert caught.value.key == "decision.register_needs_area"
    assert caught.value.params == {"label": "6", "refs": f"D{by_area}"}
    # the whole transaction rolled back: the register and both decisions are as they were
    assert await units.get(db, GROUP, "6") is None
    assert len(await decisions.electorate(db, by_units)) == 3
    assert await decisions.changes(db, by_units) == []
    with pytest.raises(DomainError):
        await change(db, "area", 2, "3-503", None, Fraction(111))
    # a rule by units alone takes a unit without area
    await decisions.close(db, by_area, decisions.Final(TOTALS), closed_by=None, now=NOW)
    assert await change(db, "added", 5, "7", None) == [by_units]


async def test_close_refuses_a_count_it_cannot_make_and_keeps_every_ballot(db: Database) -> None:
    decision_id = await make(db, secret=True)
    await decisions.cast(db, decision_id, [(1, "3-502")], "for", by_id=BOB, by_name="Bob", now=NOW)
    async with db.write() as conn:  # a register from before this release: a unit without area
        await conn.execute(
            "UPDATE decision_units SET area_num = NULL, area_den = NULL WHERE unit_id = 2"
        )
    with pytest.raises(DomainError) as caught:
        await decisions.close(
            db, decision_id, lambda e, b: decisions.Final(None, (), 1), closed_by=None, now=NOW
        )
    assert caught.value.key == "decision.cannot_close"
    decision = await decisions.get(db, decision_id)
    assert decision is not None and decision.is_open and decision.final is None
    assert [b.choice for b in await decisions.ballots(db, decision_id)] == ["for"]
    # the scheduled close (its row running) notes it once and tries again later
    async with db.write() as conn:
        await conn.execute("UPDATE scheduled SET status = 'running'")
    first, row_id = await decisions.blocked(
        db, decision_id, retry_at=LATER + timedelta(hours=1), now=LATER
    )
    assert first and row_id is not None
    again, none = await decisions.blocked(
        db, decision_id, retry_at=LATER + timedelta(hours=1), now=LATER
    )
    assert not again and none is None  # told once; the retry row is already pending
    decision = await decisions.get(db, decision_id)
    assert decision is not None and decision.blocked_at == LATER


async def test_past_its_deadline_a_decision_takes_only_a_missing_area(db: Database) -> None:
    decision_id = await make(db)
    async with db.write() as conn:  # a count waiting for an area (a database from before)
        await conn.execute(
            "UPDATE decision_units SET area_num = NULL, area_den = NULL WHERE unit_id = 3"
        )
    after = LATER + timedelta(minutes=5)

    async def late(kind: str, unit_id: int, label: str, area) -> list[int]:
        async with db.write() as conn:
            return await decisions.register_changed(
                conn,
                GROUP,
                kind=kind,
                unit_id=unit_id,
                label=label,
                area=area,
                old_area=None,
                by_user=ALICE,
                now=after,
            )

    # the register can no longer change who counted, nor how much
    assert await late("removed", 1, "3-502", None) == []
    assert await late("added", 9, "9-01", Fraction(50)) == []
    assert await late("area", 2, "3-503", Fraction(1)) == []
    # but the missing area, which the count waits for, is taken
    assert await late("area", 3, "4-101", Fraction(100)) == [decision_id]
    voters = {v.label: (v.area, v.counts) for v in await decisions.electorate(db, decision_id)}
    assert voters == {
        "3-502": (Fraction(8950, 100), True),
        "3-503": (Fraction(111), True),
        "4-101": (Fraction(100), True),
    }


def _release_before(path: Path) -> None:
    """A database as the release before wrote it (migrations 1-8), with an open decision (a
    unit of it without area, a removed unit's ballot) and a closed one."""
    import sqlite3

    from storage.db import migrations, split_statements

    stamp = "2026-11-20T10:00:00Z"
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        for migration in migrations()[:8]:
            conn.execute("BEGIN")
            for statement in split_statements(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {migration.version}")
            conn.execute("COMMIT")
        conn.executescript(
            f"""
            INSERT INTO chats (id, type, title, language, timezone, joined_at)
                VALUES ({GROUP}, 'group', 'Maple', 'en', 'UTC', '{stamp}');
            INSERT INTO units (id, chat_id, label, area_num, area_den, created_at) VALUES
                (1, {GROUP}, '1-01', 80, 1, '{stamp}'), (2, {GROUP}, '1-02', NULL, NULL, '{stamp}');
            INSERT INTO decisions (id, chat_id, title, rule, creator_id, creator_name,
                created_at, closes_at) VALUES (1, {GROUP}, 'Lift', 'ru-oss', 1, 'Alice',
                '{stamp}', '2026-12-20T10:00:00Z');
            INSERT INTO decisions (id, chat_id, title, rule, creator_id, creator_name,
                created_at, closes_at, status, closed_at, totals) VALUES (2, {GROUP}, 'Gate',
                'majority', 1, 'Alice', '{stamp}', '{stamp}', 'closed', '{stamp}', NULL);
            INSERT INTO decision_ballots (decision_id, chat_id, unit_id, label, choice, by_id,
                by_name, cast_at) VALUES (1, {GROUP}, 3, '1-03', 'for', 9, 'Dan', '{stamp}'),
                (1, {GROUP}, 1, '1-01', 'for', 7, 'Bob', '{stamp}');
            INSERT INTO decision_audit (decision_id, chat_id, label, choice, by_id, by_name, at)
                VALUES (1, {GROUP}, '1-01', 'for', 7, 'Bob', '{stamp}');
            """
        )


async def test_open_decisions_of_the_release_before_take_the_register_as_their_electorate(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    _release_before(path)
    async with await Database.open(path) as db:
        voters = [(v.unit_id, v.label, v.area, v.counts) for v in await decisions.electorate(db, 1)]
        assert voters == [(1, "1-01", Fraction(80), True), (2, "1-02", None, True)]
        assert await decisions.electorate(db, 2) == []  # closed: its count was frozen then
        trail = await decisions.audit(db, 1)
        assert [(e.label, e.choice) for e in trail] == [("1-01", "for")]
        assert await decisions.changes(db, 1) == []
        decision = await decisions.get(db, 1)
        assert decision is not None and decision.is_open and decision.blocked_at is None
        # its unit without area blocks the count until a lead gives it
        with pytest.raises(DomainError):
            async with db.write() as conn:
                await decisions.register_changed(
                    conn,
                    GROUP,
                    kind="added",
                    unit_id=4,
                    label="1-04",
                    area=None,
                    old_area=None,
                    by_user=ALICE,
                    now=NOW,
                )
        async with db.write() as conn:
            touched = await decisions.register_changed(
                conn,
                GROUP,
                kind="area",
                unit_id=2,
                label="1-02",
                area=Fraction(60),
                old_area=None,
                by_user=ALICE,
                now=NOW,
            )
        assert touched == [1]


async def test_a_forgotten_lead_stays_a_lead_in_the_changes_they_made(db: Database) -> None:
    from storage import privacy

    await members.seen(db, GROUP, ALICE, "Alice", NOW)
    decision_id = await make(db)
    assert await change(db, "added", 4, "1-04", Fraction(80)) == [decision_id]
    await privacy.forget(db, ALICE, lambda lang: privacy.Placeholders("former resident", "a lead"))
    [made] = await decisions.changes(db, decision_id)
    assert made.by_name == "a lead" and made.by_id != ALICE
