"""Membership and prompts on a real SQLite file: presence, leaving suspends unit claims until a
lead restores them, and a prompt is answered once, by its author, on its message."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.roles import Role
from bot.domain.settings import ChatSettings
from storage import chats, members, privacy, prompts, units
from storage.db import Database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GROUP = -1001
OTHER = -1002
BOB, CAROL, ALICE = 7, 8, 1


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    for chat_id, title in ((GROUP, "Maple"), (OTHER, "Oak")):
        await chats.ensure(
            database, chat_id, type="group", title=title, defaults=ChatSettings(), now=NOW
        )
    yield database
    await database.close()


async def claim_status(db: Database, chat_id: int, label: str, user_id: int) -> str:
    row = await db.fetchone(
        "SELECT m.status FROM unit_members m JOIN units u ON u.id = m.unit_id"
        " WHERE u.chat_id = ? AND u.label = ? AND m.user_id = ?",
        (chat_id, label, user_id),
    )
    assert row is not None
    return str(row["status"])


async def test_weak_evidence_never_overrides_telegrams_word(db: Database) -> None:
    await members.seen(db, GROUP, BOB, "Bob", NOW)
    assert await members.presence(db, GROUP, BOB) is None  # a press in a public group
    await members.seen(db, GROUP, BOB, "Bob", NOW, present=True)
    assert await members.presence(db, GROUP, BOB) == members.PRESENT
    await members.departed(db, GROUP, BOB, "Bob", NOW)
    await members.seen(db, GROUP, BOB, "Bob B.", NOW, present=True)
    assert await members.presence(db, GROUP, BOB) == members.LEFT
    assert (await members.get(db, GROUP, BOB)).display_name == "Bob B."  # type: ignore[union-attr]
    assert await members.joined(db, GROUP, BOB, None, NOW)
    assert await members.presence(db, GROUP, BOB) == members.PRESENT
    assert not await members.joined(db, GROUP, BOB, None, NOW)  # already known
    assert await members.presence(db, OTHER, BOB) is None  # per chat


async def test_leaving_suspends_approved_claims_once_and_only_a_lead_restores(db: Database) -> None:
    await members.seen(db, GROUP, BOB, "Bob", NOW, present=True)
    for chat_id, label in ((GROUP, "3-502"), (GROUP, "3-10"), (GROUP, "4-1"), (OTHER, "3-502")):
        await units.add(db, chat_id, label, None, NOW, by=ALICE)
    await units.claim(db, GROUP, "3-502", BOB, approved=True, now=NOW)
    await units.claim(db, GROUP, "3-10", BOB, approved=True, now=NOW)
    await units.claim(db, GROUP, "4-1", BOB, approved=False, now=NOW)
    await units.claim(db, OTHER, "3-502", BOB, approved=True, now=NOW)
    await units.claim(db, GROUP, "3-502", CAROL, approved=True, now=NOW)

    gone = await members.departed(db, GROUP, BOB, "Bob", NOW)
    assert gone.changed and gone.suspended == ("3-10", "3-502")
    assert await claim_status(db, GROUP, "3-502", BOB) == "suspended"
    assert await claim_status(db, GROUP, "4-1", BOB) == "pending"  # not approved: untouched
    assert await claim_status(db, OTHER, "3-502", BOB) == "approved"  # another group
    assert await claim_status(db, GROUP, "3-502", CAROL) == "approved"  # a co-resident
    assert await members.presence(db, GROUP, BOB) == members.LEFT

    again = await members.departed(db, GROUP, BOB, "Bob", NOW)  # the second report
    assert not again.changed and again.suspended == ()

    await members.joined(db, GROUP, BOB, "Bob", NOW + timedelta(days=1))
    assert await claim_status(db, GROUP, "3-502", BOB) == "suspended"  # not silently restored
    assert await members.suspended_claims(db, GROUP, BOB) == ["3-10", "3-502"]

    assert await members.restore_claims(db, GROUP, BOB, by=ALICE) == ["3-10", "3-502"]
    assert await claim_status(db, GROUP, "3-502", BOB) == "approved"
    decided = await db.fetchone(
        "SELECT decided_by FROM unit_members WHERE chat_id = ? AND user_id = ? LIMIT 1",
        (GROUP, BOB),
    )
    assert decided is not None and decided["decided_by"] == ALICE
    assert await members.restore_claims(db, GROUP, BOB, by=ALICE) == []  # a second lead: nothing


async def test_comings_and_goings_of_someone_never_met_store_nothing(db: Database) -> None:
    gone = await members.departed(db, GROUP, 99, "Zed", NOW)
    assert gone.suspended == () and await members.get(db, GROUP, 99) is None
    assert await members.joined(db, GROUP, 99, None, NOW)
    assert await members.get(db, GROUP, 99) is None
    assert await members.joined(db, GROUP, 99, "Zed", NOW)  # using the bot: now we have met
    assert await members.presence(db, GROUP, 99) == members.PRESENT
    # claims without a member row (met through the register only): leaving writes them down
    await units.add(db, GROUP, "5", None, NOW, by=ALICE)
    await units.claim(db, GROUP, "5", 98, approved=True, now=NOW)
    gone = await members.departed(db, GROUP, 98, "Yan", NOW)
    assert gone.suspended == ("5",) and await members.presence(db, GROUP, 98) == members.LEFT


async def test_an_organizer_who_left_is_no_longer_one(db: Database) -> None:
    await members.set_role(db, GROUP, CAROL, "Кэрол", Role.ORGANIZER, NOW)
    assert await members.stored_role(db, GROUP, CAROL) is Role.ORGANIZER
    assert await members.count(db, GROUP) == 1
    await members.departed(db, GROUP, CAROL, "Кэрол", NOW)
    assert await members.stored_role(db, GROUP, CAROL) is Role.RESIDENT
    assert await members.count(db, GROUP) == 0
    await members.joined(db, GROUP, CAROL, "Кэрол", NOW)
    assert await members.stored_role(db, GROUP, CAROL) is Role.ORGANIZER


async def test_the_schema_refuses_unknown_statuses(db: Database, tmp_path: Path) -> None:
    await db.close()
    conn = sqlite3.connect(tmp_path / "courtyard.sqlite3")
    try:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO members (chat_id, user_id, display_name, status)"
                " VALUES (?, 5, 'x', 'gone')",
                (GROUP,),
            )
        conn.execute(
            "INSERT INTO units (chat_id, label, created_at)"
            " VALUES (?, '1', '2026-01-01T00:00:00Z')",
            (GROUP,),
        )
        conn.execute(
            "INSERT INTO unit_members (unit_id, chat_id, user_id, status, requested_at)"
            " SELECT id, chat_id, 5, 'suspended', created_at FROM units"
        )
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE unit_members SET status = 'paused'")
    finally:
        conn.close()


# --- prompts -----------------------------------------------------------------------------------

FOR = timedelta(minutes=15)


async def ask(
    db: Database, author: int | None = BOB, kind: str = "forget", message: int = 50
) -> int:
    prompt_id = await prompts.create(db, GROUP, kind, NOW, author_id=author, lasts=FOR)
    await prompts.attach(db, prompt_id, message)
    return prompt_id


async def test_a_prompt_is_taken_once_by_its_author_on_its_message(db: Database) -> None:
    pid = await ask(db)
    kinds = ("forget",)
    assert (await prompts.take(db, pid, GROUP, CAROL, 50, NOW, kinds=kinds))[
        0
    ] is prompts.Outcome.NOT_YOURS
    assert (await prompts.take(db, pid, GROUP, BOB, 51, NOW, kinds=kinds))[
        0
    ] is prompts.Outcome.STALE
    assert (await prompts.take(db, pid, OTHER, BOB, 50, NOW, kinds=kinds))[
        0
    ] is prompts.Outcome.STALE
    assert (await prompts.take(db, pid, GROUP, BOB, 50, NOW, kinds=("purge",)))[
        0
    ] is prompts.Outcome.STALE
    outcome, prompt = await prompts.take(db, pid, GROUP, BOB, 50, NOW, kinds=kinds)
    assert outcome is prompts.Outcome.TAKEN and prompt is not None and prompt.kind == "forget"
    assert (await prompts.take(db, pid, GROUP, BOB, 50, NOW, kinds=kinds))[
        0
    ] is prompts.Outcome.STALE
    assert (await prompts.cancel(db, pid, GROUP, BOB, 50, NOW, kinds=kinds))[
        0
    ] is prompts.Outcome.STALE


async def test_cancel_kills_the_confirm_and_expiry_refuses(db: Database) -> None:
    pid = await ask(db)
    assert (await prompts.cancel(db, pid, GROUP, CAROL, 50, NOW, kinds=("forget",)))[0] is (
        prompts.Outcome.NOT_YOURS
    )
    assert (await prompts.cancel(db, pid, GROUP, BOB, 50, NOW, kinds=("forget",)))[0] is (
        prompts.Outcome.TAKEN
    )
    assert (await prompts.take(db, pid, GROUP, BOB, 50, NOW, kinds=("forget",)))[0] is (
        prompts.Outcome.STALE
    )
    late = await ask(db)
    later = NOW + FOR + timedelta(seconds=1)
    assert (await prompts.take(db, late, GROUP, BOB, 50, later, kinds=("forget",)))[0] is (
        prompts.Outcome.EXPIRED
    )
    unsent = await prompts.create(db, GROUP, "forget", NOW, author_id=BOB, lasts=FOR)
    assert (await prompts.take(db, unsent, GROUP, BOB, 50, NOW, kinds=("forget",)))[0] is (
        prompts.Outcome.STALE  # no message attached yet: no press can be its own
    )


async def test_a_prompt_without_author_is_anyones_and_taken_once_under_a_race(db: Database) -> None:
    pid = await ask(db, author=None, kind="restore")
    results = await asyncio.gather(
        *(prompts.take(db, pid, GROUP, uid, 50, NOW, kinds=("restore",)) for uid in range(1, 21))
    )
    assert [r[0] for r in results].count(prompts.Outcome.TAKEN) == 1


async def test_prompt_ids_are_never_reused_and_old_rows_are_swept(db: Database) -> None:
    first = await ask(db)
    await prompts.take(db, first, GROUP, BOB, 50, NOW, kinds=("forget",))
    await db.write_one("DELETE FROM prompts")
    second = await prompts.create(db, GROUP, "forget", NOW, author_id=BOB, lasts=FOR)
    assert second > first
    # a day later the answered one is swept when the next is asked; the open one stays
    keep = await prompts.create(db, GROUP, "restore", NOW, author_id=None, lasts=None)
    await prompts.take(db, second, GROUP, BOB, 0, NOW, kinds=("forget",))  # wrong message: open
    await db.write_one("UPDATE prompts SET state = 'taken' WHERE id = ?", (second,))
    await prompts.create(db, GROUP, "forget", NOW + timedelta(days=2), author_id=BOB, lasts=FOR)
    assert await prompts.get(db, second) is None
    assert await prompts.get(db, keep) is not None


async def test_mydata_says_whether_you_are_in_the_group(db: Database) -> None:
    await members.seen(db, GROUP, BOB, "Bob", NOW, present=True)
    await members.seen(db, OTHER, BOB, "Bob", NOW, present=True)
    await members.departed(db, OTHER, BOB, "Bob", NOW)
    data = await privacy.collect(db, BOB)
    assert {m["grp"]: m["status"] for m in data["memberships"]} == {
        "Maple": "member",
        "Oak": "left",
    }


async def test_presence_survives_a_migration_into_a_supergroup_that_arrived_first(
    db: Database,
) -> None:
    """Bob left the old group (his claim suspended), Carol is in it; updates from the new
    supergroup came first and wrote Carol (unknown presence), Dave (present) and Eve (who
    left the supergroup) there."""
    new_id, dave, eve = -1008888, 9, 10
    await members.seen(db, GROUP, eve, "Eve", NOW, present=True)  # then left the supergroup
    await members.seen(db, GROUP, BOB, "Bob", NOW, present=True)
    await members.seen(db, GROUP, CAROL, "Carol", NOW, present=True)
    await units.add(db, GROUP, "3-502", None, NOW, by=ALICE)
    await units.claim(db, GROUP, "3-502", BOB, approved=True, now=NOW)
    await members.departed(db, GROUP, BOB, "Bob", NOW)
    await chats.ensure(
        db, new_id, type="supergroup", title="Maple", defaults=ChatSettings(), now=NOW
    )
    await members.seen(db, new_id, CAROL, "Carol C.", NOW)
    await members.seen(db, new_id, dave, "Dave", NOW, present=True)
    await members.seen(db, new_id, eve, "Eve", NOW, present=True)
    await members.departed(db, new_id, eve, "Eve", NOW)
    assert await chats.migrate(db, GROUP, new_id, NOW)
    assert await members.presence(db, new_id, eve) == members.LEFT  # the newer word
    assert await members.presence(db, new_id, BOB) == members.LEFT  # gone stays gone
    assert await members.presence(db, new_id, CAROL) == members.PRESENT
    assert await members.presence(db, new_id, dave) == members.PRESENT
    assert await claim_status(db, new_id, "3-502", BOB) == "suspended"
