"""The keys of open secret votes (storage/secrets.py): sealing, the keys folder, destruction at
closing, and the start-up sweep (a crash after closing, a backup restored after closing, a
database from before the key store)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.settings import ChatSettings
from storage import chats, decisions, polls, units
from storage import secrets as sealing
from storage.db import Database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GROUP = -1001


def test_a_sealed_choice_opens_only_with_its_key_and_context() -> None:
    key, other = b"k" * 32, b"o" * 32
    sealed = sealing.seal(key, "decision:1:2", "against")
    assert sealing.unseal(key, "decision:1:2", sealed) == "against"
    assert b"against" not in sealed
    for wrong_key, context in ((other, "decision:1:2"), (key, "decision:1:3")):
        with pytest.raises(sealing.SealError):
            sealing.unseal(wrong_key, context, sealed)
    tampered = bytearray(sealed)
    tampered[20] ^= 1
    with pytest.raises(sealing.SealError):
        sealing.unseal(key, "decision:1:2", bytes(tampered))
    # the same choice twice looks different (a random nonce), and every choice has one length
    assert sealing.seal(key, "c", "for") != sealing.seal(key, "c", "for")
    lengths = {len(sealing.seal(key, "c", c)) for c in ("for", "against", "abstain")}
    assert lengths == {sealing.NONCE_BYTES + sealing.PAD + sealing.TAG_BYTES}


def test_the_keys_folder_is_private_and_a_destroyed_key_is_gone(tmp_path: Path) -> None:
    store = sealing.KeyStore(tmp_path / "db.sqlite3.keys")
    key = store.create(sealing.POLL, 7)
    path = store.path(sealing.POLL, 7)
    assert path.read_bytes() == key and len(key) == sealing.KEY_BYTES
    assert store.folder.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600
    assert store.held() == [(sealing.POLL, 7)]
    assert store.destroy(sealing.POLL, 7)
    assert not path.exists() and store.get(sealing.POLL, 7) is None
    assert not store.destroy(sealing.POLL, 7)  # idempotent
    assert list(store.folder.iterdir()) == []


async def _decision(db: Database, *, secret: bool = True) -> int:
    await chats.ensure(db, GROUP, type="group", title="g", defaults=ChatSettings(), now=NOW)
    for label in ("1-01", "1-02", "1-03"):
        await units.add(db, GROUP, label, None, NOW)
    decision_id, _ = await decisions.create(
        db,
        chat_id=GROUP,
        title="Paint the gate",
        rule="majority",
        secret=secret,
        creator_id=1,
        creator_name="Alice",
        closes_at=NOW + timedelta(days=3),
        now=NOW,
    )
    return decision_id


async def _cast_all(db: Database, decision_id: int) -> None:
    register = {u.label: u.id for u in [e.unit for e in await units.register(db, GROUP)]}
    for label, choice in (("1-01", "against"), ("1-02", "for"), ("1-03", "for")):
        await decisions.cast(
            db,
            decision_id,
            [(register[label], label)],
            choice,
            by_id=100 + register[label],
            by_name=f"Resident {label}",
            now=NOW,
        )


def _recount(register: object, ballots: list[decisions.StoredBallot]) -> decisions.Final:
    from bot.domain.decisions import Totals

    got = [b.choice for b in ballots]
    return decisions.Final(
        Totals(
            units=3,
            area=None,
            for_units=got.count("for"),
            against_units=got.count("against"),
            abstain_units=got.count("abstain"),
            for_area=None,
            against_area=None,
            abstain_area=None,
        )
    )


async def test_a_secret_ballot_is_stored_sealed_and_its_key_dies_at_closing(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "courtyard.sqlite3")
    try:
        decision_id = await _decision(db)
        await _cast_all(db, decision_id)
        rows = await db.fetchall("SELECT choice, sealed FROM decision_ballots")
        assert [r["choice"] for r in rows] == [None, None, None]
        assert all(r["sealed"] is not None for r in rows)
        # while open the count can read them (exact area counting needs each unit's choice)
        assert sorted(str(b.choice) for b in await decisions.ballots(db, decision_id)) == [
            "against",
            "for",
            "for",
        ]
        store = sealing.keys_for(db.path)
        assert store.path(sealing.DECISION, decision_id).exists()
        assert store.folder == tmp_path / "courtyard.sqlite3.keys"

        closed, _ = await decisions.close(db, decision_id, _recount, closed_by=None, now=NOW)
        assert closed
        final = (await decisions.get(db, decision_id)).final  # type: ignore[union-attr]
        assert final is not None and final.totals is not None
        assert (final.totals.for_units, final.totals.against_units) == (2, 1)
        assert not store.path(sealing.DECISION, decision_id).exists()
        rows = await db.fetchall("SELECT choice, sealed FROM decision_ballots")
        assert all(r["choice"] is None and r["sealed"] is None for r in rows)
    finally:
        await db.close()


async def test_an_open_ballot_is_stored_in_the_clear_and_needs_no_key(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "courtyard.sqlite3")
    try:
        decision_id = await _decision(db, secret=False)
        await _cast_all(db, decision_id)
        rows = await db.fetchall("SELECT choice, sealed FROM decision_ballots ORDER BY unit_id")
        assert [r["choice"] for r in rows] == ["against", "for", "for"]
        assert sealing.keys_for(db.path).held() == []
    finally:
        await db.close()


async def test_the_sweep_destroys_the_keys_of_closed_votes(tmp_path: Path) -> None:
    """A crash after the close was committed but before the key was destroyed."""
    path = tmp_path / "courtyard.sqlite3"
    db = await Database.open(path)
    try:
        decision_id = await _decision(db)
        await _cast_all(db, decision_id)
        poll, _ = await polls.create(
            db,
            chat_id=GROUP,
            creator_id=1,
            question="Q?",
            options=["A", "B"],
            multiple=False,
            anonymous=True,
            closes_at=None,
            now=NOW,
        )
        store = sealing.keys_for(path)
        assert store.held() == [(sealing.DECISION, decision_id), (sealing.POLL, poll.id)]
        # the close committed; the process died before destroying the key
        async with db.write() as conn:
            await conn.execute(
                "UPDATE decisions SET status = 'closed', closed_at = '2026-11-21T12:00:00Z'"
            )
    finally:
        await db.close()
    done = sealing.sweep(path)
    assert done.destroyed == [(sealing.DECISION, decision_id)] and done.lost == []
    assert sealing.KeyStore(store.folder).held() == [(sealing.POLL, poll.id)]


async def test_a_restore_after_closing_finds_sealed_ballots_it_cannot_read(
    tmp_path: Path,
) -> None:
    """A backup taken while the vote was open, restored after it closed: the ballots cannot be
    read (they count as not cast), the vote gets a new key, the sweep says what was lost."""
    path = tmp_path / "courtyard.sqlite3"
    db = await Database.open(path)
    try:
        decision_id = await _decision(db)
        await _cast_all(db, decision_id)
        store = sealing.keys_for(path)
        store.destroy(sealing.DECISION, decision_id)  # as at the close after the backup
    finally:
        await db.close()
    done = sealing.sweep(path)
    assert [(lost.kind, lost.ref_id, lost.ballots) for lost in done.lost] == [
        (sealing.DECISION, decision_id, 3)
    ]
    assert done.lost[0].title == "Paint the gate" and done.lost[0].chat_id == GROUP
    db = await Database.open(path)
    try:
        assert [b.choice for b in await decisions.ballots(db, decision_id)] == [None] * 3
        # a household that votes again is counted with the new key
        await _cast_all(db, decision_id)
        assert sorted(str(b.choice) for b in await decisions.ballots(db, decision_id)) == [
            "against",
            "for",
            "for",
        ]
    finally:
        await db.close()
    assert sealing.sweep(path).lost == []  # said once


async def test_an_anonymous_poll_restored_after_closing_starts_its_count_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "courtyard.sqlite3"
    db = await Database.open(path)
    try:
        await chats.ensure(db, GROUP, type="group", title="g", defaults=ChatSettings(), now=NOW)
        poll, _ = await polls.create(
            db,
            chat_id=GROUP,
            creator_id=1,
            question="Q?",
            options=["A", "B"],
            multiple=False,
            anonymous=True,
            closes_at=None,
            now=NOW,
        )
        for user in (11, 12):
            await polls.vote(db, poll.id, GROUP, user, 0, NOW)
        sealing.keys_for(path).destroy(sealing.POLL, poll.id)
    finally:
        await db.close()
    done = sealing.sweep(path)
    assert [(lost.kind, lost.ballots) for lost in done.lost] == [(sealing.POLL, 2)]
    db = await Database.open(path)
    try:
        assert await polls.count_voters(db, poll.id) == 0  # unreadable rows would count twice
        await polls.vote(db, poll.id, GROUP, 11, 1, NOW)
        assert await polls.count_voters(db, poll.id) == 1
    finally:
        await db.close()


async def test_a_database_from_before_the_key_store_is_moved_out_at_start(
    tmp_path: Path,
) -> None:
    """An anonymous poll's secret and a secret decision's plain choices, as an older Courtyard
    stored them, are moved into the keys folder and sealed by the sweep."""
    path = tmp_path / "courtyard.sqlite3"
    db = await Database.open(path)
    try:
        decision_id = await _decision(db)
        register = [e.unit for e in await units.register(db, GROUP)]
        poll, _ = await polls.create(
            db,
            chat_id=GROUP,
            creator_id=1,
            question="Q?",
            options=["A", "B"],
            multiple=False,
            anonymous=True,
            closes_at=None,
            now=NOW,
        )
    finally:
        await db.close()
    legacy = b"L" * 32
    sealing.keys_for(path).destroy(sealing.POLL, poll.id)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE polls SET secret = ? WHERE id = ?", (legacy, poll.id))
        conn.execute(
            "INSERT INTO poll_votes (poll_id, chat_id, voter, choices) VALUES (?, ?, ?, 1)",
            (poll.id, GROUP, polls.voter_key(11, legacy)),
        )
        conn.execute(
            "INSERT INTO decision_ballots (decision_id, chat_id, unit_id, label, choice, by_id,"
            " by_name, cast_at) VALUES (?, ?, ?, ?, 'against', 5, 'Bob', '2026-11-21T12:00:00Z')",
            (decision_id, GROUP, register[0].id, register[0].label),
        )
    conn.close()
    done = sealing.sweep(path)
    assert sorted(done.adopted) == [(sealing.DECISION, decision_id), (sealing.POLL, poll.id)]
    assert done.lost == []
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT secret FROM polls").fetchone()[0] is None
        assert raw.execute("SELECT choice FROM decision_ballots").fetchone()[0] is None
    finally:
        raw.close()
    db = await Database.open(path)
    try:
        assert [b.choice for b in await decisions.ballots(db, decision_id)] == ["against"]
        vote = await polls.vote(db, poll.id, GROUP, 11, 0, NOW)  # the same voter: withdrawn
        assert vote.after == frozenset()
    finally:
        await db.close()


def test_the_keys_folder_setting(tmp_path: Path) -> None:
    from bot.config import ConfigError, load_settings

    base = {"COURTYARD_DB": str(tmp_path / "c.sqlite3")}
    assert load_settings(base, require_token=False, dotenv=None).keys_dir is None
    chosen = load_settings(
        {**base, "COURTYARD_KEYS_DIR": str(tmp_path / "k")}, require_token=False, dotenv=None
    )
    assert chosen.keys_dir == tmp_path / "k"
    with pytest.raises(ConfigError) as caught:  # the keys must never travel with the backups
        load_settings(
            {
                **base,
                "COURTYARD_KEYS_DIR": str(tmp_path / "b"),
                "COURTYARD_BACKUP_DIR": str(tmp_path / "b"),
            },
            require_token=False,
            dotenv=None,
        )
    assert "must not be the backup folder" in str(caught.value)
    assert sealing.default_folder(tmp_path / "c.sqlite3") == tmp_path / "c.sqlite3.keys"


async def test_a_vote_without_its_poll_key_is_refused_not_counted_twice(tmp_path: Path) -> None:
    """The keys folder lost while the bot runs: a new key would make every voter new."""
    from bot.domain.errors import DomainError

    db = await Database.open(tmp_path / "courtyard.sqlite3")
    try:
        await chats.ensure(db, GROUP, type="group", title="g", defaults=ChatSettings(), now=NOW)
        poll, _ = await polls.create(
            db,
            chat_id=GROUP,
            creator_id=1,
            question="Q?",
            options=["A", "B"],
            multiple=False,
            anonymous=True,
            closes_at=None,
            now=NOW,
        )
        await polls.vote(db, poll.id, GROUP, 11, 0, NOW)
        sealing.keys_for(db.path).destroy(sealing.POLL, poll.id)
        with pytest.raises(DomainError) as caught:
            await polls.vote(db, poll.id, GROUP, 11, 0, NOW)
        assert caught.value.key == "privacy.key_missing"
        assert await polls.count_voters(db, poll.id) == 1
    finally:
        await db.close()


async def test_a_keys_folder_the_bot_cannot_use_is_one_sentence_at_start(tmp_path: Path) -> None:
    from storage.db import DatabaseError

    path = tmp_path / "courtyard.sqlite3"
    db = await Database.open(path)
    await db.close()
    blocked = tmp_path / "keys"
    blocked.write_text("a file, not a folder")
    with pytest.raises(DatabaseError) as caught:
        sealing.sweep(path, sealing.KeyStore(blocked))
    assert "cannot use the keys folder" in str(caught.value)
    assert "COURTYARD_KEYS_DIR" in str(caught.value)


async def test_the_sweep_never_makes_a_database_where_one_vanished(tmp_path: Path) -> None:
    """A plain sqlite3.connect creates an empty file at a missing path: the next start would
    take it for a new database. The sweep opens the file read-write only if it exists."""
    from storage.db import DatabaseGone

    path = tmp_path / "courtyard.sqlite3"
    db = await Database.open(path)
    await db.close()
    path.unlink()
    for leftover in (tmp_path / "courtyard.sqlite3-wal", tmp_path / "courtyard.sqlite3-shm"):
        leftover.unlink(missing_ok=True)
    with pytest.raises(DatabaseGone) as caught:
        sealing.sweep(path)
    assert "is gone" in str(caught.value)
    assert not path.exists()
    # a path with characters a URI must escape still opens
    odd = tmp_path / "a dir #1?x" / "court yard%.sqlite3"
    odd.parent.mkdir()
    db = await Database.open(odd, create=True)
    await db.close()
    assert sealing.sweep(odd).lost == []
