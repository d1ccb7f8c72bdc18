"""Backups, restore and the database's clear errors, on real SQLite files.

Backups taken while another connection writes are consistent, retention removes only the
oldest of this database's backups, restore round-trips and keeps the old file aside, and a
damaged file, a locked file and a full disk each become one clear sentence for the operator.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage.db
from storage import backup
from storage.db import (
    Database,
    DatabaseCorrupt,
    DatabaseError,
    DatabaseFull,
    DatabaseLocked,
    migrations,
)

KNOWN = len(migrations())
T0 = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)


async def make_db(path: Path, failures: int = 0) -> None:
    """A migrated Courtyard database with one chat and ``failures`` delivery_failures rows."""
    db = await Database.open(path)
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO chats (id, type, title, language, timezone, joined_at)"
            " VALUES (-100, 'supergroup', 'Maple Court', 'en', 'UTC', '2026-01-01T00:00:00Z')"
        )
        await conn.executemany(
            "INSERT INTO delivery_failures (chat_id, method, reason, failed_at)"
            " VALUES (-100, 'sendMessage', ?, '2026-01-01T00:00:00Z')",
            [(f"reason {i} " + "x" * 200,) for i in range(failures)],
        )
    await db.close()


def titles(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT title FROM chats ORDER BY id")]
    finally:
        conn.close()


def exists(path: Path | str) -> bool:
    return Path(path).exists()


def found(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern))


def corrupt(path: Path) -> None:
    """Overwrite the start of a table page in the middle of the file with garbage."""
    with sqlite3.connect(path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    with path.open("r+b") as fh:
        fh.seek(page_size * (pages * 2 // 3))
        fh.write(b"\xff" * 64)


# --- backup -------------------------------------------------------------------------------


async def test_backup_while_another_connection_writes_is_consistent(tmp_path: Path) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    await make_db(db_path, failures=5000)  # ~1.5 MB: the copy takes a while
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE ledger_a (n INTEGER)")
        conn.execute("CREATE TABLE ledger_b (n INTEGER)")
    conn.close()
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        # Each transaction adds one row to both tables: any consistent snapshot has equal counts.
        conn = sqlite3.connect(db_path, timeout=5, isolation_level=None)
        try:
            while not stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO ledger_a VALUES (?)", (written[0],))
                conn.execute(
                    "INSERT INTO delivery_failures (chat_id, method, reason, failed_at)"
                    " VALUES (-100, 'x', ?, '2026-01-01T00:00:00Z')",
                    ("y" * 500,),
                )
                conn.execute("INSERT INTO ledger_b VALUES (?)", (written[0],))
                conn.execute("COMMIT")
                written[0] += 1
        finally:
            conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    copies = []
    during = 0
    try:
        while not written[0]:  # the writer is going
            threading.Event().wait(0.001)
        for i in range(4):
            before = written[0]
            result = backup.backup(db_path, tmp_path / "b", keep=10, now=T0 + timedelta(minutes=i))
            during += written[0] - before
            copies.append(result.path)
    finally:
        stop.set()
        thread.join()
    assert during > 0  # transactions committed while the copies were being taken
    counts = []
    for copy in copies:
        assert backup.check(copy, full=True) == []
        with sqlite3.connect(copy) as conn:
            a = conn.execute("SELECT count(*) FROM ledger_a").fetchone()[0]
            b = conn.execute("SELECT count(*) FROM ledger_b").fetchone()[0]
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        conn.close()
        assert a == b
        assert mode == "delete"  # a single self-contained file
        counts.append(a)
    assert counts == sorted(counts) and counts[-1] > 0  # snapshots moved forward with the writer
    assert not list((tmp_path / "b").glob("*.partial"))
    assert not list((tmp_path / "b").glob("*-wal"))


async def test_backup_name_carries_the_utc_time(tmp_path: Path) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    await make_db(db_path)
    moscow = datetime(2026, 3, 1, 6, 30, 5, tzinfo=UTC).astimezone()
    first = backup.backup(db_path, tmp_path / "b", keep=5, now=moscow)
    again = backup.backup(db_path, tmp_path / "b", keep=5, now=moscow)  # same second
    assert first.path.name == "courtyard-20260301T063005Z.sqlite3"
    assert again.path.name == "courtyard-20260301T063005Z-1.sqlite3"
    assert [p for _, p in backup.list_backups(db_path, tmp_path / "b")] == [
        first.path,
        again.path,
    ]


async def test_retention_deletes_only_the_oldest_of_this_database(tmp_path: Path) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    await make_db(db_path)
    folder = tmp_path / "b"
    folder.mkdir()
    others = [
        folder / "notes.txt",
        folder / "other-20200101T000000Z.sqlite3",  # another database's backup
        folder / "courtyard-old.sqlite3",  # not our name pattern
    ]
    for other in others:
        other.write_text("keep me")
    made = [
        backup.backup(db_path, folder, keep=3, now=T0 + timedelta(days=day)).path
        for day in (0, 2, 1, 3)  # out of order: age comes from the name, not the call order
    ]
    kept = sorted(p.name for _, p in backup.list_backups(db_path, folder))
    assert kept == [
        "courtyard-20260302T030000Z.sqlite3",
        "courtyard-20260303T030000Z.sqlite3",
        "courtyard-20260304T030000Z.sqlite3",
    ]
    assert not made[0].exists()
    assert all(other.exists() for other in others)
    result = backup.backup(db_path, folder, keep=3, now=T0 + timedelta(days=4))
    assert [p.name for p in result.removed] == ["courtyard-20260302T030000Z.sqlite3"]


def test_backup_of_a_missing_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(backup.BackupError, match="no database"):
        backup.backup(tmp_path / "none.sqlite3", tmp_path / "b", keep=3)
    assert not (tmp_path / "b").exists()


async def test_a_damaged_database_gives_no_backup(tmp_path: Path) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    await make_db(db_path, failures=3000)
    corrupt(db_path)
    with pytest.raises(backup.BackupError, match=r"integrity check|malformed"):
        backup.backup(db_path, tmp_path / "b", keep=3)
    assert list((tmp_path / "b").iterdir()) == []


# --- restore ------------------------------------------------------------------------------


async def test_restore_round_trip_keeps_the_current_file_aside(tmp_path: Path) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    await make_db(db_path)
    saved = backup.backup(db_path, tmp_path / "b", keep=3, now=T0).path
    db = await Database.open(db_path)
    async with db.write() as conn:
        await conn.execute("UPDATE chats SET title = 'Changed after the backup'")
    await db.close()

    result = backup.restore(saved, db_path, known_version=KNOWN, now=T0 + timedelta(hours=1))

    assert titles(db_path) == ["Maple Court"]
    assert result.aside == tmp_path / "courtyard.sqlite3.before-restore-20260301T040000Z"
    assert titles(result.aside) == ["Changed after the backup"]
    assert not exists(f"{db_path}-wal")
    assert backup.check(saved) == []  # the backup itself is untouched
    db = await Database.open(db_path)  # the bot starts on it as usual
    assert await db.schema_version() == KNOWN
    await db.close()


async def test_restore_is_refused_while_the_database_is_open(tmp_path: Path) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    await make_db(db_path)
    saved = backup.backup(db_path, tmp_path / "b", keep=3, now=T0).path
    running = await Database.open(db_path)  # what a running bot holds
    try:
        async with running.write() as conn:
            await conn.execute("UPDATE chats SET title = 'Live'")
        with pytest.raises(backup.BackupError, match=r"in use.*stop the bot"):
            backup.restore(saved, db_path, known_version=KNOWN)
        assert (await running.fetchone("SELECT title FROM chats"))["title"] == "Live"
    finally:
        await running.close()
    assert not found(tmp_path, "*.before-restore-*")
    assert not found(tmp_path, ".*restoring*")


async def test_restore_checks_the_backup_first(tmp_path: Path) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    await make_db(db_path, failures=3000)
    bad = backup.backup(db_path, tmp_path / "b", keep=3, now=T0).path
    corrupt(bad)
    with pytest.raises(backup.BackupError, match="not a healthy database"):
        backup.restore(bad, db_path, known_version=KNOWN)
    future = tmp_path / "future.sqlite3"
    with sqlite3.connect(future) as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(backup.BackupError, match="newer than this Courtyard"):
        backup.restore(future, db_path, known_version=KNOWN)
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    with pytest.raises(backup.BackupError, match="not a Courtyard database"):
        backup.restore(empty, db_path, known_version=KNOWN)
    with pytest.raises(backup.BackupError, match="no backup file"):
        backup.restore(tmp_path / "nope.sqlite3", db_path, known_version=KNOWN)
    assert titles(db_path) == ["Maple Court"]  # nothing happened to the live file
    assert not found(tmp_path, "*.before-restore-*")


async def test_restore_over_a_damaged_database(tmp_path: Path) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    await make_db(db_path, failures=3000)
    saved = backup.backup(db_path, tmp_path / "b", keep=3, now=T0).path
    corrupt(db_path)
    with pytest.raises(DatabaseCorrupt):
        await Database.open(db_path)
    result = backup.restore(saved, db_path, known_version=KNOWN, now=T0)
    assert result.aside is not None and result.aside.exists()
    db = await Database.open(db_path)
    assert (await db.fetchone("SELECT count(*) AS n FROM delivery_failures"))["n"] == 3000
    await db.close()


# --- the database's clear errors ----------------------------------------------------------


async def test_a_corrupted_database_is_refused_at_open_naming_restore(tmp_path: Path) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    await make_db(db_path, failures=3000)
    corrupt(db_path)
    with pytest.raises(DatabaseCorrupt) as info:
        await Database.open(db_path)
    message = str(info.value)
    assert str(db_path) in message and "courtyard restore" in message
    assert backup.check(db_path) != []


async def test_a_locked_database_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 100)
    db_path = tmp_path / "courtyard.sqlite3"
    await make_db(db_path)
    db = await Database.open(db_path)
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        with pytest.raises(DatabaseLocked, match="locked by another program") as info:
            async with db.write() as conn:
                await conn.execute("UPDATE chats SET title = 'x'")
        assert isinstance(info.value, sqlite3.OperationalError)  # old handlers still catch it
        other.execute("ROLLBACK")
        async with db.write() as conn:  # the lock gone, the same Database works again
            await conn.execute("UPDATE chats SET title = 'After'")
        assert titles(db_path) == ["After"]

        # At start: a program holding the file in exclusive locking mode.
        await db.close()
        other.execute("PRAGMA locking_mode = EXCLUSIVE")
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(DatabaseLocked, match="locked by another program"):
            await Database.open(db_path)
    finally:
        other.close()
        await db.close()


async def test_a_full_disk_is_explained_and_loses_nothing(tmp_path: Path) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    await make_db(db_path)
    db = await Database.open(db_path)
    try:
        pages = (await db.fetchone("PRAGMA page_count"))[0]
        async with db.write() as conn:  # the writer connection's size limit: "the disk"
            await conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        with pytest.raises(DatabaseFull, match="disk holding it is full") as info:
            async with db.write() as conn:
                await conn.execute("UPDATE chats SET title = 'half'")
                await conn.executemany(
                    "INSERT INTO delivery_failures (chat_id, method, reason, failed_at)"
                    " VALUES (-100, 'm', ?, '2026-01-01T00:00:00Z')",
                    [("z" * 1000,) for _ in range(200)],
                )
        assert isinstance(info.value, DatabaseError)
        assert titles(db_path) == ["Maple Court"]  # the whole transaction rolled back
        async with db.write() as conn:  # space again: the same Database goes on
            await conn.execute("PRAGMA max_page_count = 1000000")
            await conn.execute("UPDATE chats SET title = 'Space again'")
        assert titles(db_path) == ["Space again"]
    finally:
        await db.close()


def test_health_check_helpers(tmp_path: Path) -> None:
    assert backup.check(tmp_path / "missing.sqlite3") == [
        f"{tmp_path / 'missing.sqlite3'} does not exist"
    ]
    assert not (tmp_path / "missing.sqlite3").exists()  # never created by a check
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not sqlite at all" * 300)
    assert backup.check(garbage) == ["file is not a database"]


# --- the automatic backup in `courtyard run` ----------------------------------------------


async def test_automatic_backup_follows_the_newest_backup(tmp_path: Path) -> None:
    from telegram.ext import ApplicationBuilder

    from bot.__main__ import BACKUP_JOB, schedule_backups
    from bot.config import load_settings

    db_path = tmp_path / "courtyard.sqlite3"
    await make_db(db_path)
    env = {
        "COURTYARD_TOKEN": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abc-def",
        "COURTYARD_DB": str(db_path),
        "COURTYARD_BACKUP_DIR": str(tmp_path / "b"),
    }
    settings = load_settings(env, dotenv=None)
    now = datetime.now(UTC)
    app = ApplicationBuilder().token(settings.token or "").build()
    assert app.job_queue is not None
    await app.job_queue.start()
    try:

        def next_in() -> float:
            (job,) = app.job_queue.get_jobs_by_name(BACKUP_JOB)  # type: ignore[union-attr]
            assert job.next_t is not None
            return (job.next_t - now).total_seconds()

        assert schedule_backups(app, settings, now=now)  # none yet: at once
        assert next_in() < 5
        app.job_queue.scheduler.remove_all_jobs()

        backup.backup(db_path, tmp_path / "b", keep=3, now=now - timedelta(hours=23))
        assert schedule_backups(app, settings, now=now)  # a restart 23 h after the last one
        assert 3590 < next_in() < 3610  # the next one an hour later, not 24 h later
        app.job_queue.scheduler.remove_all_jobs()

        off = load_settings({**env, "COURTYARD_BACKUP_HOURS": "0"}, dotenv=None)
        assert not schedule_backups(app, off, now=now)
        assert app.job_queue.get_jobs_by_name(BACKUP_JOB) == ()
    finally:
        await app.job_queue.stop()


async def test_a_backup_holds_no_key_and_restores_an_open_secret_vote_whole(
    tmp_path: Path,
) -> None:
    """The keys folder is never copied; a backup restored while its secret vote is still open
    counts every ballot in it (the key is still there), and the sweep reports nothing lost."""
    from bot.domain.settings import ChatSettings
    from storage import chats, decisions, units
    from storage import secrets as sealing

    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    path = tmp_path / "courtyard.sqlite3"
    db = await Database.open(path)
    try:
        await chats.ensure(db, -1, type="group", title="g", defaults=ChatSettings(), now=now)
        unit, _, _ = await units.add(db, -1, "1-01", None, now)
        other, _, _ = await units.add(db, -1, "1-02", None, now)
        decision_id, _ = await decisions.create(
            db,
            chat_id=-1,
            title="Gate",
            rule="majority",
            secret=True,
            creator_id=1,
            creator_name="A",
            closes_at=now + timedelta(days=14),
            now=now,
        )
        await decisions.cast(
            db, decision_id, [(unit.id, "1-01")], "against", by_id=2, by_name="B", now=now
        )
        taken = backup.backup(path, tmp_path / "backups", keep=3, now=now)
        await decisions.cast(
            db, decision_id, [(other.id, "1-02")], "for", by_id=3, by_name="C", now=now
        )
    finally:
        await db.close()
    copied = {p.name for p in (tmp_path / "backups").iterdir()}
    assert copied == {taken.path.name}  # the database only, no keys
    assert sealing.KEY_BYTES not in {p.stat().st_size for p in (tmp_path / "backups").iterdir()}
    backup.restore(taken.path, path, known_version=len(storage.db.migrations()))
    assert sealing.sweep(path).lost == []
    db = await Database.open(path)
    try:
        assert [b.choice for b in await decisions.ballots(db, decision_id)] == ["against"]
    finally:
        await db.close()
