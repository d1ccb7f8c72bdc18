"""The attacker with the disk: after a secret decision and an anonymous poll have closed, every
byte of every file Courtyard wrote — the database, its -wal and -shm, backups taken while the
votes were open and after, the keys folder — plus the log and every file the bot sent (the
export) is searched, and no secret choice can be recovered: no stored choice, no sealed ballot
that opens with any key found on disk, no HMAC key on disk that reproduces a voter's row.

The same attack run while the votes are open (their keys on disk) recovers every choice, so
the search is able to find what it looks for."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from handlers import privacy as privacy_h
from playground import FakeTelegram
from storage import backup, decisions, polls
from storage import secrets as sealing
from tests.e2e.conftest import World, start_app, stop_app
from tests.e2e.test_decisions import claim, open_decision
from tests.e2e.test_logs import courtyard_records, production_logging, raw_text

MAGIC = b"SQLite format 3\x00"


@dataclass
class Loot:
    """What the attacker recovered: (where, unit or user id, choice)."""

    ballots: set[tuple[str, str]] = field(default_factory=set)  # (unit label, choice)
    votes: set[tuple[int, int]] = field(default_factory=set)  # (user id, option mask)
    looked_at: list[str] = field(default_factory=list)
    sealed_seen: int = 0
    voter_rows_seen: int = 0


def _databases(folder: Path, scratch: Path) -> list[Path]:
    """Every SQLite file under ``folder`` copied to ``scratch`` with its -wal (so that SQLite
    replays the log as an attacker's copy would)."""
    copies = []
    for n, path in enumerate(sorted(p for p in folder.rglob("*") if p.is_file())):
        with path.open("rb") as f:
            if f.read(16) != MAGIC:
                continue
        target = scratch / f"copy{n}.sqlite3"
        shutil.copyfile(path, target)
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, target.with_name(target.name + "-wal"))
        copies.append(target)
    return copies


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def plain_choices(folder: Path) -> list[str]:
    """Every raw occurrence of a choice word in any file under ``folder`` (free pages, the WAL,
    the journal included) that is not the schema's CHECK list (``'against'``) or a key of the
    stored totals (``against_units``): where it is found, with its neighbourhood."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for word in (b"against", b"abstain"):
            at = data.find(word)
            while at != -1:
                before, after = data[at - 1 : at], data[at + len(word) : at + len(word) + 1]
                if not (before == after == b"'" or after == b"_"):
                    found.append(f"{path.name}@{at}: {data[max(at - 20, 0) : at + 20]!r}")
                at = data.find(word, at + 1)
    return found


def attack(folder: Path, scratch: Path, user_ids: list[int], extra: list[bytes]) -> Loot:
    loot = Loot()
    scratch.mkdir(exist_ok=True)
    copies = _databases(folder, scratch)
    # candidate keys: every 32-byte file (the keys folder), every 32-byte value stored in any
    # table of any copy (an older Courtyard kept the poll's HMAC secret in ``polls``), and every
    # 32-byte window of the files the bot sent
    keys: set[bytes] = set()
    for path in folder.rglob("*"):
        if path.is_file() and path.stat().st_size == sealing.KEY_BYTES:
            keys.add(path.read_bytes())
    for blob in extra:
        keys.update(blob[i : i + 32] for i in range(max(len(blob) - 31, 0)))
    for copy in copies:
        conn = sqlite3.connect(copy)
        try:
            tables = _tables(conn)
            for table in tables:
                if table.startswith(("sqlite_", "items_fts")):
                    continue
                for row in conn.execute(f'SELECT * FROM "{table}"'):
                    keys.update(v for v in row if isinstance(v, bytes) and len(v) == 32)
        finally:
            conn.close()
    for copy in copies:
        loot.looked_at.append(copy.name)
        conn = sqlite3.connect(copy)
        try:
            tables = _tables(conn)
            if "decision_ballots" in tables:
                cols = {r[1] for r in conn.execute("PRAGMA table_info(decision_ballots)")}
                sealed_col = "sealed" if "sealed" in cols else "NULL"
                for decision_id, unit_id, label, choice, sealed in conn.execute(
                    f"SELECT b.decision_id, b.unit_id, b.label, b.choice, {sealed_col}"
                    " FROM decision_ballots b JOIN decisions d ON d.id = b.decision_id"
                    " WHERE d.secret = 1"
                ):
                    if choice is not None:
                        loot.ballots.add((label, choice))
                    if sealed is not None:
                        loot.sealed_seen += 1
                        context = sealing.ballot_context(decision_id, unit_id)
                        for key in keys:
                            try:
                                loot.ballots.add((label, sealing.unseal(key, context, sealed)))
                            except sealing.SealError:
                                continue
            if "poll_votes" in tables:
                rows = conn.execute(
                    "SELECT v.voter, v.choices FROM poll_votes v JOIN polls p ON p.id = v.poll_id"
                    " WHERE p.anonymous = 1"
                ).fetchall()
                loot.voter_rows_seen += len(rows)
                by_voter = {str(voter): int(mask) for voter, mask in rows}
                for key in keys:
                    for user_id in user_ids:
                        found = by_voter.get(polls.voter_key(user_id, key))
                        if found is not None:
                            loot.votes.add((user_id, found))
        finally:
            conn.close()
    return loot


async def _story(fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db_path = data / "courtyard.sqlite3"
    backups = data / "backups"
    app = await start_app(fake, db_path, backup_dir=backups, backup_hours=0)
    world = World(fake, app)
    people = [world.alice, world.bob, world.carol, world.wang]
    ids = [p.id for p in people]
    try:
        await world.with_bot()
        for label in ("2-101", "2-102", "2-103"):
            await world.do(world.alice.send(world.court, f"/units add {label} 60"))
        await claim(world, world.bob, "2-101")
        await claim(world, world.carol, "2-102")
        await claim(world, world.wang, "2-103")
        for who in people:
            await world.do(who.send(who.private, "/start"))
        decision, card = await open_decision(
            world, "/decide New intercom | rule=majority | closes=in 14 days | secret"
        )
        for who, code in ((world.bob, "a"), (world.carol, "f"), (world.wang, "f")):
            await world.do(who.press(card, f"dc:v:{decision.id}:{code}"))
        await world.do(
            world.carol.send(
                world.court, "/poll Cleanup day? | Friday | Saturday | Sunday | anonymous"
            )
        )
        row = await world.services.db.fetchone("SELECT max(id) AS id FROM polls")
        assert row is not None
        poll = await polls.get(world.services.db, row["id"])
        assert poll is not None and poll.anonymous and poll.message_id is not None
        poll_card = fake.message(world.court, poll.message_id)
        for who, option in ((world.alice, 0), (world.bob, 1), (world.carol, 1), (world.wang, 2)):
            await world.do(who.press(poll_card, f"pl:v:{poll.id}:{option}"))
        expected_ballots = {("2-101", "against"), ("2-102", "for"), ("2-103", "for")}
        expected_votes = {(world.alice.id, 1), (world.bob.id, 2), (world.carol.id, 2)}
        expected_votes.add((world.wang.id, 4))

        # the daily backup runs while both votes are open
        await asyncio.to_thread(backup.backup, db_path, backups, keep=14)
        await world.do(world.alice.send(world.court, f"/export D{decision.id}"))
        # while open, the keys are on disk: the attack works and finds every choice
        loot = attack(data, tmp_path / "scratch-open", ids, [])
        assert loot.ballots == expected_ballots and loot.votes == expected_votes
        shutil.rmtree(tmp_path / "scratch-open")

        await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
        await world.do(world.carol.press(poll_card, f"pl:c:{poll.id}"))
        await world.services.outbox.idle()
        closed = await decisions.get(world.services.db, decision.id)
        assert closed is not None and not closed.is_open and closed.final is not None
        assert closed.final.totals is not None and closed.final.totals.for_units == 2
        done = await polls.get(world.services.db, poll.id)
        assert done is not None and done.final_counts == (1, 2, 1)
        await asyncio.to_thread(backup.backup, db_path, backups, keep=14)

        sent: list[bytes] = []
        for call in fake.calls:
            for value in call.params.values():
                if isinstance(value, bytes):
                    sent.append(value)
                elif isinstance(value, str):
                    sent.append(value.encode())
        logged = raw_text(courtyard_records(caplog)).encode()
        loot = attack(data, tmp_path / "scratch-running", ids, [*sent, logged])
        assert loot.ballots == set() and loot.votes == set(), loot
        assert plain_choices(data) == []  # not even in free pages or the WAL
        assert loot.sealed_seen == 3 and loot.voter_rows_seen == 4  # the old backup has them
        assert b"against" not in logged.lower()
        exports = [
            c.params["document"]
            for c in fake.calls
            if c.method == "sendDocument" and isinstance(c.params.get("document"), bytes)
        ]
        assert exports  # the lead's /export of the decision
        for document in exports:  # the files the bot wrote out: no unit's choice
            lowered = document.decode("utf-8-sig").lower()
            assert "against" not in lowered and ",for," not in lowered, lowered
    finally:
        await stop_app(app)
    loot = attack(data, tmp_path / "scratch-stopped", ids, [])
    assert loot.ballots == set() and loot.votes == set(), loot
    assert plain_choices(data) == []
    keys_folder = sealing.default_folder(db_path)
    assert keys_folder.is_dir() and list(keys_folder.iterdir()) == []
    assert not any(p.name.endswith(".keys") for p in backups.iterdir())  # never backed up


async def test_no_file_courtyard_writes_reveals_a_closed_secret_vote(
    fake: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with production_logging(caplog, "INFO"):
        for name in ("bot", "handlers", "storage", "courtyard"):
            caplog.set_level(logging.DEBUG, logger=name)
        await _story(fake, tmp_path, caplog)


def test_the_attack_reads_what_older_courtyards_stored(tmp_path: Path) -> None:
    """The attack itself: a secret decision's plain choice and an anonymous poll's secret
    stored in the database (as before the key store) are recovered from a copy."""
    data = tmp_path / "data"
    data.mkdir()
    path = data / "old.sqlite3"
    secret = b"S" * 32
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE decisions (id INTEGER PRIMARY KEY, secret INTEGER);"
        "CREATE TABLE decision_ballots (decision_id INTEGER, unit_id INTEGER, label TEXT,"
        " choice TEXT);"
        "CREATE TABLE polls (id INTEGER PRIMARY KEY, anonymous INTEGER, secret BLOB);"
        "CREATE TABLE poll_votes (poll_id INTEGER, voter TEXT, choices INTEGER);"
        "INSERT INTO decisions VALUES (1, 1);"
        "INSERT INTO decision_ballots VALUES (1, 1, '2-101', 'against');"
    )
    conn.execute("INSERT INTO polls VALUES (1, 1, ?)", (secret,))
    conn.execute("INSERT INTO poll_votes VALUES (1, ?, 2)", (polls.voter_key(42, secret),))
    conn.commit()
    conn.close()
    loot = attack(data, tmp_path / "scratch", [41, 42], [json.dumps({}).encode()])
    assert loot.ballots == {("2-101", "against")} and loot.votes == {(42, 2)}


async def test_a_backup_restored_after_closing_tells_the_group_its_ballots_are_lost(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """Restoring a backup taken while the votes were open, after they closed: the keys are
    gone, so the ballots in the backup cannot be read. At start-up the group is told that the
    vote cannot be counted from that backup and must be run again; households that vote again
    are counted (with a new key)."""
    db_path = tmp_path / "courtyard.sqlite3"
    backups = tmp_path / "backups"
    app = await start_app(fake, db_path, backup_dir=backups, backup_hours=0)
    world = World(fake, app)
    try:
        await world.with_bot()
        for label in ("2-101", "2-102"):
            await world.do(world.alice.send(world.court, f"/units add {label} 60"))
        await claim(world, world.bob, "2-101")
        await claim(world, world.carol, "2-102")
        decision, card = await open_decision(
            world, "/decide New intercom | rule=majority | closes=in 14 days | secret"
        )
        for who in (world.bob, world.carol):
            await world.do(who.press(card, f"dc:v:{decision.id}:f"))
        await world.do(world.carol.send(world.court, "/poll Cleanup day? | Fri | Sat | anonymous"))
        poll = await polls.get(world.services.db, 1)
        assert poll is not None and poll.message_id is not None
        poll_card = fake.message(world.court, poll.message_id)
        for who in (world.bob, world.carol, world.wang):
            await world.do(who.press(poll_card, f"pl:v:{poll.id}:0"))
        taken = await asyncio.to_thread(backup.backup, db_path, backups, keep=14)
        await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
        await world.do(world.carol.press(poll_card, f"pl:c:{poll.id}"))
        await world.services.outbox.idle()
    finally:
        await stop_app(app)
    assert sealing.KeyStore(sealing.default_folder(db_path)).held() == []
    from storage.db import migrations

    backup.restore(taken.path, db_path, known_version=len(migrations()))

    mark = fake.mark()
    app = await start_app(fake, db_path, backup_dir=backups, backup_hours=0)
    world.app = app  # the same people and group, the bot started again
    try:
        await asyncio.wait_for(asyncio.gather(*privacy_h.NOTICES), timeout=10)
        await world.settle()
        await world.services.outbox.idle()
        said = [
            c.params["text"]
            for c in fake.calls[mark:]
            if c.method == "sendMessage" and c.ok and int(c.params["chat_id"]) == world.court.id
        ]
        lost_decision = [s for s in said if f"D{decision.id}" in s and "key" in s]
        assert len(lost_decision) == 1, said
        assert "2 ballots cast before cannot be read" in lost_decision[0]
        assert "cannot be counted from that backup" in lost_decision[0]
        lost_poll = [s for s in said if f"P{poll.id}" in s and "key" in s]
        assert len(lost_poll) == 1 and "3 votes cast before" in lost_poll[0], said
        db = world.services.db
        reopened = await decisions.get(db, decision.id)
        assert reopened is not None and reopened.is_open  # as it was in the backup
        assert [b.choice for b in await decisions.ballots(db, decision.id)] == [None, None]
        assert await polls.count_voters(db, poll.id) == 0
        # voting again works, with the vote's new key
        await world.do(world.bob.press(card, f"dc:v:{decision.id}:a"))
        choices = [b.choice for b in await decisions.ballots(db, decision.id)]
        assert sorted(str(c) for c in choices) == ["None", "against"]
        await world.do(world.bob.press(poll_card, f"pl:v:{poll.id}:1"))
        assert await polls.count_voters(db, poll.id) == 1
    finally:
        await stop_app(app)
    # a second start says nothing more
    mark = fake.mark()
    app = await start_app(fake, db_path, backup_dir=backups, backup_hours=0)
    world.app = app
    try:
        await world.settle()
        again = [
            c for c in fake.calls[mark:] if c.method == "sendMessage" and "key" in c.params["text"]
        ]
        assert again == []
    finally:
        await stop_app(app)


async def test_the_keys_live_where_courtyard_keys_dir_says(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    elsewhere = tmp_path / "vault" / "keys"
    app = await start_app(fake, db_path, keys_dir=elsewhere)
    world = World(fake, app)
    try:
        await world.with_bot()
        await world.do(world.bob.send(world.court, "/poll Paint? | Yes | No | anonymous"))
        assert sealing.KeyStore(elsewhere).held() == [(sealing.POLL, 1)]
        assert not sealing.default_folder(db_path).exists()
    finally:
        await stop_app(app)


async def test_purging_a_group_destroys_the_keys_of_its_open_votes(world: World) -> None:
    await world.with_bot()
    db_path = Path(world.services.db.path)
    await world.do(world.bob.send(world.court, "/poll Paint? | Yes | No | anonymous"))
    store = sealing.keys_for(db_path)
    assert store.held() == [(sealing.POLL, 1)]
    replies = await world.do(world.alice.send(world.court, "/purge"))
    question = replies.sent(world.court)[-1].result
    yes = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await world.do(world.alice.press(question, yes))
    assert await polls.get(world.services.db, 1) is None
    assert store.held() == [] and list(store.folder.iterdir()) == []
