"""Polls storage on a real SQLite file: votes, moves and withdrawals, chat checks, the mode
locked after the first vote, anonymous rows without user ids deleted at closing, the scheduled
closing, and supergroup migration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import DomainError
from bot.domain.settings import ChatSettings
from storage import chats, members, polls
from storage import secrets as sealing
from storage.db import Database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GROUP = -1001
OTHER = -1002
BOB, CAROL, WANG = 7, 8, 9


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    for chat_id in (GROUP, OTHER):
        await chats.ensure(
            database, chat_id, type="group", title="g", defaults=ChatSettings(), now=NOW
        )
    yield database
    await database.close()


async def make(db: Database, *, anonymous: bool = False, multiple: bool = False, closes=None):
    poll, row_id = await polls.create(
        db,
        chat_id=GROUP,
        creator_id=BOB,
        question="Lunch?",
        options=["Pizza", "Sushi", "Soup"],
        multiple=multiple,
        anonymous=anonymous,
        closes_at=closes,
        now=NOW,
    )
    return poll, row_id


async def test_vote_move_withdraw_and_names_in_order(db: Database) -> None:
    poll, row_id = await make(db)
    assert row_id is None and poll.options == ("Pizza", "Sushi", "Soup") and poll.is_open
    await members.seen(db, GROUP, BOB, "Bob", NOW)
    await members.seen(db, GROUP, CAROL, "Carol", NOW)
    v = await polls.vote(db, poll.id, GROUP, CAROL, 1, NOW)
    assert v.before == frozenset() and v.after == {1}
    await polls.vote(db, poll.id, GROUP, BOB, 1, NOW + timedelta(seconds=5))
    res = await polls.results(db, poll)
    assert res.counts == (0, 2, 0) and res.voters == 2 and res.names[1] == ("Carol", "Bob")
    v = await polls.vote(db, poll.id, GROUP, BOB, 2, NOW)  # moves
    assert v.before == {1} and v.after == {2}
    v = await polls.vote(db, poll.id, GROUP, BOB, 2, NOW)  # withdraws
    assert v.after == frozenset()
    res = await polls.results(db, poll)
    assert res.counts == (0, 1, 0) and res.voters == 1
    assert await polls.count_voters(db, poll.id) == 1


async def test_multiple_choice_toggles(db: Database) -> None:
    poll, _ = await make(db, multiple=True)
    await polls.vote(db, poll.id, GROUP, BOB, 0, NOW)
    await polls.vote(db, poll.id, GROUP, BOB, 2, NOW)
    assert (await polls.results(db, poll)).counts == (1, 0, 1)
    v = await polls.vote(db, poll.id, GROUP, BOB, 0, NOW)
    assert v.after == {2}


async def test_other_chats_bad_options_and_closed_polls_are_refused(db: Database) -> None:
    poll, _ = await make(db)
    for chat_id, option, key in (
        (OTHER, 0, "error.stale_button"),
        (GROUP, 3, "error.stale_button"),
        (GROUP, -1, "error.stale_button"),
    ):
        with pytest.raises(DomainError) as caught:
            await polls.vote(db, poll.id, chat_id, BOB, option, NOW)
        assert caught.value.key == key
    with pytest.raises(DomainError):
        await polls.vote(db, 999, GROUP, BOB, 0, NOW)
    assert await polls.close(db, poll.id, NOW, BOB) is not None
    assert await polls.close(db, poll.id, NOW, BOB) is None  # once only
    with pytest.raises(DomainError) as caught:
        await polls.vote(db, poll.id, GROUP, BOB, 0, NOW)
    assert caught.value.key == "poll.is_closed"
    with pytest.raises(DomainError):
        await polls.configure(db, poll.id, GROUP, multiple=True)


async def test_mode_changes_only_before_the_first_vote(db: Database) -> None:
    poll, _ = await make(db)
    changed = await polls.configure(db, poll.id, GROUP, multiple=True, anonymous=True)
    assert changed.multiple and changed.anonymous
    with pytest.raises(DomainError):
        await polls.configure(db, poll.id, OTHER, multiple=False)
    await polls.vote(db, poll.id, GROUP, BOB, 0, NOW)
    with pytest.raises(DomainError) as caught:
        await polls.configure(db, poll.id, GROUP, multiple=False)
    assert caught.value.key == "poll.settings_locked"


async def test_anonymous_rows_hold_no_user_id_and_vanish_at_closing(db: Database) -> None:
    poll, _ = await make(db, anonymous=True)
    for user_id, option in ((BOB, 0), (CAROL, 1), (WANG, 1)):
        await polls.vote(db, poll.id, GROUP, user_id, option, NOW)
    with pytest.raises(DomainError):  # asked from another chat
        await polls.vote(db, poll.id, OTHER, BOB, 0, NOW)
    rows = await db.fetchall("SELECT * FROM poll_votes")
    assert all(r["user_id"] is None and r["voted_at"] is None for r in rows)
    assert all(len(r["voter"]) == 64 for r in rows)  # an HMAC, not an id
    stored = (await db.fetchone("SELECT secret FROM polls WHERE id = ?", (poll.id,)))["secret"]
    assert stored is None  # the key is not in the database (nor in its backups)
    store = sealing.keys_for(db.path)
    secret = store.get(sealing.POLL, poll.id)
    assert secret is not None and len(secret) == 32
    assert store.path(sealing.POLL, poll.id).read_bytes() == secret
    assert {r["voter"] for r in rows} == {polls.voter_key(u, secret) for u in (BOB, CAROL, WANG)}
    other, _ = await make(db, anonymous=True)
    await polls.vote(db, other.id, GROUP, BOB, 0, NOW)
    keys = await db.fetchall("SELECT poll_id, voter FROM poll_votes ORDER BY poll_id")
    assert len({r["voter"] for r in keys}) == 4  # Bob is not recognisable across polls
    res = await polls.results(db, poll)
    assert res.counts == (1, 2, 0) and res.voters == 3 and res.names == ((), (), ())

    closed, _ = await polls.close(db, poll.id, NOW, None) or (None, None)
    assert closed is not None and closed.final_counts == (1, 2, 0) and closed.final_voters == 3
    assert await db.fetchall("SELECT 1 FROM poll_votes WHERE poll_id = ?", (poll.id,)) == []
    row = await db.fetchone("SELECT secret FROM polls WHERE id = ?", (poll.id,))
    assert row["secret"] is None
    assert not store.path(sealing.POLL, poll.id).exists()  # destroyed after the counts were stored
    assert store.get(sealing.POLL, poll.id) is None
    assert store.path(sealing.POLL, other.id).exists()  # the other poll is still open
    res = await polls.results(db, closed)
    assert res.counts == (1, 2, 0) and res.voters == 3


async def test_closing_time_is_scheduled_and_cancelled_by_an_early_close(db: Database) -> None:
    poll, row_id = await make(db, closes=NOW + timedelta(days=2))
    assert row_id is not None
    row = await db.fetchone(
        "SELECT kind, ref_id, status, chat_id FROM scheduled WHERE id = ?", (row_id,)
    )
    assert (row["kind"], row["ref_id"], row["status"], row["chat_id"]) == (
        polls.CLOSE_KIND,
        poll.id,
        "pending",
        GROUP,
    )
    found = await polls.closing_between(db, GROUP, NOW, NOW + timedelta(days=7))
    assert [p.id for p in found] == [poll.id]
    assert await polls.closing_between(db, GROUP, NOW, NOW + timedelta(days=1)) == []
    result = await polls.close(db, poll.id, NOW, BOB)
    assert result is not None and result[1] == [row_id] and result[0].closed_by == BOB
    row = await db.fetchone("SELECT status FROM scheduled WHERE id = ?", (row_id,))
    assert row["status"] == "cancelled"
    assert await polls.closing_between(db, GROUP, NOW, NOW + timedelta(days=7)) == []


async def test_discard_removes_the_poll_and_its_closing(db: Database) -> None:
    poll, row_id = await make(db, closes=NOW + timedelta(days=2))
    assert await polls.discard(db, poll.id) == [row_id]
    assert await polls.get(db, poll.id) is None


async def test_polls_and_votes_move_on_supergroup_migration(db: Database) -> None:
    poll, row_id = await make(db, closes=NOW + timedelta(days=1))
    anon, _ = await make(db, anonymous=True)
    await polls.vote(db, poll.id, GROUP, BOB, 0, NOW)
    await polls.vote(db, anon.id, GROUP, BOB, 0, NOW)
    assert await chats.migrate(db, GROUP, -100777, NOW)
    moved = await polls.get(db, poll.id)
    assert moved is not None and moved.chat_id == -100777
    assert (await polls.results(db, moved)).counts == (1, 0, 0)
    rows = await db.fetchall("SELECT DISTINCT chat_id FROM poll_votes")
    assert [r["chat_id"] for r in rows] == [-100777]
    row = await db.fetchone("SELECT chat_id FROM scheduled WHERE id = ?", (row_id,))
    assert row["chat_id"] == -100777
    # the votes still count, and are still refused from the old id
    await polls.vote(db, poll.id, -100777, CAROL, 1, NOW)
    with pytest.raises(DomainError):
        await polls.vote(db, poll.id, GROUP, CAROL, 1, NOW)
    await polls.vote(db, anon.id, -100777, BOB, 0, NOW)  # same voter key: withdrawn
    assert (await polls.results(db, (await polls.get(db, anon.id)))).voters == 0


async def test_toggle_reads_the_stored_mode(db: Database) -> None:
    """A settings press switches from what is stored, inside the transaction: two quick
    presses computed from the same stale card switch twice, not set the same value twice."""
    poll, _ = await make(db)
    first = await polls.configure(db, poll.id, GROUP, toggle="multiple")
    second = await polls.configure(db, poll.id, GROUP, toggle="multiple")
    assert first.multiple and not second.multiple
    on = await polls.configure(db, poll.id, GROUP, toggle="anonymous")
    assert on.anonymous
    store = sealing.keys_for(db.path)
    key = store.path(sealing.POLL, poll.id)
    assert key.stat().st_size == 32 and key.stat().st_mode & 0o077 == 0  # only the bot reads it
    off = await polls.configure(db, poll.id, GROUP, toggle="anonymous")
    assert not off.anonymous
    assert not key.exists()
    row = await db.fetchone("SELECT secret FROM polls WHERE id = ?", (poll.id,))
    assert row["secret"] is None
    await polls.vote(db, poll.id, GROUP, BOB, 0, NOW)
    with pytest.raises(DomainError) as caught:  # after a vote, public stays public
        await polls.configure(db, poll.id, GROUP, toggle="anonymous")
    assert caught.value.key == "poll.settings_locked"
    assert not (await polls.get(db, poll.id)).anonymous  # type: ignore[union-attr]


async def test_a_closed_public_poll_keeps_its_final_counts(db: Database) -> None:
    """Closing stores the counts; a voter removed afterwards (/forgetme) loses their name on
    the card, the result stays what was announced."""
    poll, _ = await make(db)
    for user_id, name in ((BOB, "Bob"), (CAROL, "Carol"), (WANG, "Wang")):
        await members.seen(db, GROUP, user_id, name, NOW)
        await polls.vote(db, poll.id, GROUP, user_id, 1, NOW)
    closed, _ = await polls.close(db, poll.id, NOW, BOB) or (None, None)
    assert closed is not None
    async with db.write() as conn:
        await conn.execute("DELETE FROM poll_votes WHERE user_id = ?", (CAROL,))
    res = await polls.results(db, closed)
    assert res.counts == (0, 3, 0) and res.voters == 3
    assert res.names[1] == ("Bob", "Wang")
