"""Storage on a real SQLite file: migrations, pragmas, transactions, chats and members."""

import asyncio
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.roles import Role
from bot.domain.settings import ChatSettings, Who
from storage import chats, members
from storage.db import (
    Database,
    DatabaseError,
    DatabaseGone,
    DatabaseUnusable,
    explain,
    migrations,
    split_statements,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GROUP = -1001
DEFAULTS = ChatSettings(language="zh_Hans", timezone="Asia/Shanghai")


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    yield database
    await database.close()


async def test_empty_database_is_migrated_to_latest(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    database = await Database.open(path)
    try:
        assert await database.schema_version() == len(migrations()) >= 1
        assert {"chats", "members", "chat_migrations", "delivery_failures"} <= set(
            await database.tables()
        )
    finally:
        await database.close()
    # reopening applies nothing
    database = await Database.open(path, migrate=False)
    try:
        assert await database.migrate() == []
    finally:
        await database.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_pragmas(db: Database) -> None:
    row = await db.fetchone("PRAGMA foreign_keys")
    assert row is not None and row[0] == 1
    row = await db.fetchone("PRAGMA busy_timeout")
    assert row is not None and row[0] >= 1000


async def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 999")
    with pytest.raises(DatabaseError, match="newer"):
        await Database.open(path)


async def test_missing_folder_and_memory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="does not exist"):
        await Database.open(tmp_path / "nope" / "x.sqlite3")
    with pytest.raises(DatabaseError):
        await Database.open(":memory:")


async def test_not_a_database_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match="cannot open"):
        await Database.open(path)


def test_split_statements_keeps_semicolons_in_strings() -> None:
    script = "-- c\nCREATE TABLE a (x TEXT DEFAULT ';');\n\nINSERT INTO a VALUES ('a;b');\n-- end\n"
    assert split_statements(script) == [
        "-- c\nCREATE TABLE a (x TEXT DEFAULT ';');",
        "INSERT INTO a VALUES ('a;b');",
    ]


async def test_write_rolls_back_on_error(db: Database) -> None:
    await chats.ensure(db, GROUP, type="group", title="A", defaults=DEFAULTS, now=NOW)
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute("UPDATE chats SET title = 'B' WHERE id = ?", (GROUP,))
            raise RuntimeError("boom")
    chat = await chats.get(db, GROUP)
    assert chat is not None and chat.title == "A"


async def test_concurrent_writes_are_serialized(db: Database) -> None:
    await chats.ensure(db, GROUP, type="group", title="A", defaults=DEFAULTS, now=NOW)

    async def one(i: int) -> None:
        await members.seen(db, GROUP, 1000 + i, f"user {i}", NOW)

    await asyncio.gather(*(one(i) for i in range(200)))
    assert await members.count(db, GROUP) == 200


async def test_chat_ensure_and_settings(db: Database) -> None:
    chat, created = await chats.ensure(
        db, GROUP, type="group", title="Maple", defaults=DEFAULTS, now=NOW
    )
    assert created and chat.settings == DEFAULTS and chat.active
    again, created = await chats.ensure(
        db, GROUP, type="group", title="Other", defaults=ChatSettings(), now=NOW
    )
    assert not created and again == chat
    new = ChatSettings("ru", "Europe/Moscow", Who.ORGANIZERS, Who.LEADS)
    await chats.save_settings(db, GROUP, new)
    stored = await chats.get(db, GROUP)
    assert stored is not None and stored.settings == new
    assert await chats.set_active(db, GROUP, False, NOW)
    assert not await chats.set_active(db, GROUP, False, NOW)  # already inactive
    stored = await chats.get(db, GROUP)
    assert stored is not None and not stored.active and stored.settings == new  # data kept
    await chats.set_title(db, GROUP, "Maple 2")
    stored = await chats.get(db, GROUP)
    assert stored is not None and stored.title == "Maple 2"


async def test_roles_are_stored_per_chat(db: Database) -> None:
    await chats.ensure(db, GROUP, type="group", title="A", defaults=DEFAULTS, now=NOW)
    await chats.ensure(db, -2002, type="group", title="B", defaults=DEFAULTS, now=NOW)
    assert await members.set_role(db, GROUP, 7, "Bob", Role.ORGANIZER, NOW)
    assert not await members.set_role(db, GROUP, 7, "Bob", Role.ORGANIZER, NOW)
    assert await members.stored_role(db, GROUP, 7) is Role.ORGANIZER
    assert await members.stored_role(db, -2002, 7) is Role.RESIDENT
    await members.seen(db, GROUP, 7, "Bobby", NOW)  # seeing keeps the role, updates the name
    member = await members.get(db, GROUP, 7)
    assert member is not None and member.role is Role.ORGANIZER and member.display_name == "Bobby"
    assert await members.set_role(db, GROUP, 7, "Bobby", Role.RESIDENT, NOW)
    assert await members.stored_role(db, GROUP, 7) is Role.RESIDENT
    with pytest.raises(ValueError):
        await members.set_role(db, GROUP, 7, "Bobby", Role.LEAD, NOW)


async def test_member_requires_chat(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await members.seen(db, -999, 1, "x", NOW)


async def test_supergroup_migration_moves_everything(db: Database) -> None:
    new_id = -1009999
    await chats.ensure(db, GROUP, type="group", title="Maple", defaults=DEFAULTS, now=NOW)
    custom = ChatSettings("ru", "Europe/Moscow", Who.LEADS, Who.ORGANIZERS)
    await chats.save_settings(db, GROUP, custom)
    await members.set_role(db, GROUP, 7, "Bob", Role.ORGANIZER, NOW)
    await members.seen(db, GROUP, 8, "Carol", NOW)

    assert await chats.migrate(db, GROUP, new_id, NOW)
    assert await chats.get(db, GROUP) is None
    moved = await chats.get(db, new_id)
    assert moved is not None and moved.settings == custom and moved.type == "supergroup"
    assert await members.stored_role(db, new_id, 7) is Role.ORGANIZER
    assert await members.count(db, new_id) == 2
    assert await members.count(db, GROUP) == 0
    assert await chats.resolve(db, GROUP) == new_id
    # announced twice (once in each chat): the second is a no-op
    assert not await chats.migrate(db, GROUP, new_id, NOW)
    assert await members.count(db, new_id) == 2


async def test_migration_merges_when_the_supergroup_arrived_first(db: Database) -> None:
    new_id = -1008888
    await chats.ensure(db, GROUP, type="group", title="Maple", defaults=DEFAULTS, now=NOW)
    await chats.save_settings(db, GROUP, ChatSettings("ru", "Europe/Moscow"))
    await members.set_role(db, GROUP, 7, "Bob", Role.ORGANIZER, NOW)
    # an update from the new supergroup created a bare row first
    await chats.ensure(
        db, new_id, type="supergroup", title="Maple", defaults=ChatSettings(), now=NOW
    )
    await members.seen(db, new_id, 7, "Bob B.", NOW)
    await members.seen(db, new_id, 9, "Dave", NOW)

    assert await chats.migrate(db, GROUP, new_id, NOW)
    moved = await chats.get(db, new_id)
    assert moved is not None and moved.settings.language == "ru"  # the configured group wins
    assert await members.stored_role(db, new_id, 7) is Role.ORGANIZER
    merged = {m: await members.get(db, new_id, m) for m in (7, 9)}
    assert await members.count(db, new_id) == 2 and all(merged.values())


async def test_delivery_failures_are_recorded(db: Database) -> None:
    await chats.record_delivery_failure(db, -777, "sendMessage", "unknown chat", NOW)  # no error
    await chats.ensure(db, GROUP, type="group", title="A", defaults=DEFAULTS, now=NOW)
    await chats.record_delivery_failure(db, GROUP, "sendMessage", "TimedOut" * 100, NOW)
    [(method, reason, at)] = await chats.delivery_failures(db, GROUP)
    assert method == "sendMessage" and len(reason) == 200 and at == "2026-11-21T12:00:00Z"


async def test_every_foreign_key_to_chats_cascades(db: Database) -> None:
    """A supergroup migration moves rows by ON UPDATE CASCADE: every table that belongs to a
    chat must say so, or its rows would block (or miss) the move."""
    found = 0
    for table in await db.tables():
        for fk in await db.fetchall(f'PRAGMA foreign_key_list("{table}")'):
            if fk["table"] == "chats":
                found += 1
                assert fk["on_update"] == "CASCADE", f"{table}.{fk['from']}"
                assert fk["on_delete"] == "CASCADE", f"{table}.{fk['from']}"
    assert found >= 5


async def test_upgrade_from_the_first_schema_keeps_data(tmp_path: Path) -> None:
    """A database made by the first release (schema 1) upgrades without losing rows."""
    from storage.db import split_statements

    path = tmp_path / "old.sqlite3"
    first = migrations()[0]
    with sqlite3.connect(path) as raw:
        for statement in split_statements(first.sql):
            raw.execute(statement)
        raw.execute("PRAGMA user_version = 1")
        raw.execute(
            "INSERT INTO chats (id, type, title, language, timezone, settings, joined_at)"
            " VALUES (-5, 'group', 'Old', 'ru', 'Europe/Moscow', '{}', '2026-01-01T00:00:00Z')"
        )
        raw.execute(
            "INSERT INTO members VALUES (-5, 7, 'Bob', 'organizer', '2026-01-01T00:00:00Z',"
            " '2026-01-02T00:00:00Z')"
        )
        raw.execute(
            "INSERT INTO delivery_failures (chat_id, method, reason, failed_at)"
            " VALUES (-5, 'sendMessage', 'x', '2026-01-01T00:00:00Z')"
        )
    database = await Database.open(path)
    try:
        assert await database.schema_version() == len(migrations())
        chat = await chats.get(database, -5)
        assert chat is not None and chat.language == "ru" and chat.title == "Old"
        assert await members.stored_role(database, -5, 7) is Role.ORGANIZER
        assert len(await chats.delivery_failures(database, -5)) == 1
        columns = {r["name"] for r in await database.fetchall("PRAGMA table_info(members)")}
        assert columns == {"chat_id", "user_id", "display_name", "role", "status"}  # no more
    finally:
        await database.close()


async def test_a_read_sees_a_write_committed_just_before_under_concurrency(tmp_path) -> None:
    """Many updates at once: each writes on the writer connection and reads back on the shared
    reader. No read may see an older snapshot than a write that committed before it started."""
    import asyncio
    from datetime import UTC, datetime

    from bot.domain.settings import ChatSettings
    from storage import chats

    now = datetime(2026, 11, 21, tzinfo=UTC)
    async with await Database.open(tmp_path / "c.sqlite3") as db:
        for i in range(20):  # enough rows that scans take a while
            await chats.ensure(
                db, -10_000 - i, type="group", title="x", defaults=ChatSettings(), now=now
            )

        async def scan() -> None:
            for _ in range(20):
                await db.fetchall("SELECT * FROM chats")

        async def create(chat_id: int) -> None:
            chat, created = await chats.ensure(
                db, chat_id, type="group", title="g", defaults=ChatSettings(), now=now
            )
            assert created and chat.id == chat_id
            assert await db.fetchone("SELECT id FROM chats WHERE id = ?", (chat_id,)) is not None

        await asyncio.gather(*(scan() for _ in range(8)), *(create(-i) for i in range(1, 201)))


async def test_open_without_create_refuses_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.sqlite3"
    with pytest.raises(DatabaseError, match="courtyard migrate"):
        await Database.open(path, create=False)
    assert not path.exists()


async def test_a_write_to_a_deleted_file_is_not_reported_done(tmp_path: Path) -> None:
    """The commit lands in the deleted file (its inode lives on while open): the write must
    raise, so the handler never answers "Voted"."""
    path = tmp_path / "c.sqlite3"
    async with await Database.open(path) as database:
        await chats.ensure(database, GROUP, type="group", title="A", defaults=DEFAULTS, now=NOW)
        database.check_file()  # all well
        os.unlink(path)
        with pytest.raises(DatabaseGone, match="was deleted while Courtyard was running"):
            await members.seen(database, GROUP, 7, "Bob", NOW)
        with pytest.raises(DatabaseGone):
            await database.write_one("UPDATE chats SET title = 'B'")
        with pytest.raises(DatabaseGone):
            database.check_file()


async def test_a_replaced_file_or_wal_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    other = tmp_path / "other.sqlite3"
    async with await Database.open(other):
        pass
    async with await Database.open(path) as database:
        os.replace(other, path)
        with pytest.raises(DatabaseGone, match="replaced by another file"):
            database.check_file()
    async with await Database.open(path) as database:
        os.unlink(f"{path}-wal")
        with pytest.raises(DatabaseGone, match="-wal was deleted or replaced"):
            database.check_file()


async def test_storage_errors_become_sentences(tmp_path: Path) -> None:
    """explain() turns the SQLite errors an operator can act on into DatabaseErrors; the
    permission sentences depend on the file system, so only their shape is checked here
    (tests/e2e/test_db_file.py runs them for real)."""
    path = tmp_path / "c.sqlite3"
    readonly = sqlite3.OperationalError("attempt to write a readonly database")
    readonly.sqlite_errorname = "SQLITE_READONLY"
    io = sqlite3.OperationalError("disk I/O error")
    io.sqlite_errorname = "SQLITE_IOERR_WRITE"
    assert isinstance(explain(readonly, path), DatabaseUnusable)
    assert isinstance(explain(io, path), DatabaseUnusable)
    assert "courtyard health --full" in str(explain(io, path))
    assert explain(sqlite3.OperationalError("no such table: x"), path) is None


async def test_no_new_database_over_the_wal_of_a_deleted_one(tmp_path: Path) -> None:
    """A database deleted under a killed bot leaves its -wal: a new file at the same path
    would have that log replayed into it."""
    path = tmp_path / "c.sqlite3"
    Path(f"{path}-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\0" * 28)  # noqa: ASYNC240
    with pytest.raises(DatabaseError, match="-wal is still there"):
        await Database.open(path)
    assert not path.exists()


async def test_a_process_that_never_creates_databases(tmp_path: Path) -> None:
    Database.create_missing = False  # as `courtyard run` sets it
    try:
        with pytest.raises(DatabaseError, match="there is no database"):
            await Database.open(tmp_path / "c.sqlite3")
    finally:
        Database.create_missing = True
    assert not (tmp_path / "c.sqlite3").exists()
