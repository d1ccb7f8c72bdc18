"""The database: one writer connection, one reader connection, numbered migrations.

* WAL journal, ``foreign_keys=ON``, ``busy_timeout``, ``synchronous=NORMAL``.
* Every write goes through :meth:`Database.write`: an asyncio lock, ``BEGIN IMMEDIATE``, the
  body, ``COMMIT`` (``ROLLBACK`` on any error). Keep the body short and never await Telegram in it.
* Reads use a second connection, so they only ever see committed data and never wait for the
  writer's lock.
* The schema is changed only by new files ``storage/migrations/NNNN_name.sql``; the number of the
  last applied file is kept in ``PRAGMA user_version``.
* :meth:`Database.open` runs ``PRAGMA quick_check`` first and refuses a damaged file with a
  message that names ``courtyard restore``. A full disk and a file locked by another program
  become :class:`DatabaseFull` / :class:`DatabaseLocked` with a sentence for the operator; both
  are still ``sqlite3.OperationalError``, so code catching SQLite errors keeps working. A file or
  folder the bot may not write, a WAL file of another user, a read-only file system and a
  failing disk become :class:`DatabaseUnusable`, also with one sentence.
* The file the bot opened is the file it keeps writing: every commit (and
  :meth:`Database.check_file`, which ``courtyard run`` calls every few seconds) compares the
  path's device and inode with the opened ones. A database (or its ``-wal``) deleted or replaced
  while the bot runs raises :class:`DatabaseGone` *after* the commit, so a change that only
  reached a deleted file is never reported as done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Generator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

log = logging.getLogger(__name__)
T = TypeVar("T")
#: A write transaction as a generator: yields (sql, params), is sent each statement's rows,
#: returns the result (:meth:`Database.transaction`).
Steps = Generator[tuple[str, tuple[Any, ...]], list[Any], T]

BUSY_TIMEOUT_MS = 5000
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
#: First line of a migration that rebuilds tables (see :meth:`Database.migrate`).
FOREIGN_KEYS_OFF = "-- pragma: foreign_keys=off"


class DatabaseError(Exception):
    """A storage problem worth a clear message to the operator (newer schema, unusable file)."""


class DatabaseCorrupt(DatabaseError):
    """The file failed its integrity check: the bot must not start on it."""


class DatabaseFull(DatabaseError, sqlite3.OperationalError):
    """SQLITE_FULL: the disk (or the database's size limit) is full."""


class DatabaseLocked(DatabaseError, sqlite3.OperationalError):
    """SQLITE_BUSY / SQLITE_LOCKED after the busy timeout: another program holds the lock."""


class DatabaseUnusable(DatabaseError, sqlite3.OperationalError):
    """The file cannot be written or opened: permissions, a read-only file system, the disk."""


class DatabaseClosed(DatabaseError):
    """A read asked for while the database closes (the bot is stopping)."""


class DatabaseGone(DatabaseError):
    """The database file (or its -wal) was deleted or replaced while the bot ran: what is
    written now would be lost, so the bot must stop."""


def missing_message(path: Path) -> str:
    return (
        f"there is no database at {path}. Courtyard never creates one on start (a missing "
        f"file usually means a wrong COURTYARD_DB or a lost volume): create a new one with "
        f"`courtyard migrate`, or put a backup in place with `courtyard restore <backup file>`."
    )


def _can(path: Path, mode: int) -> bool:
    if os.access in os.supports_effective_ids:
        return os.access(path, mode, effective_ids=True)
    return os.access(path, mode)  # pragma: no cover - every POSIX system has faccessat


def access_problem(path: Path) -> str | None:
    """One sentence for the file-system reason SQLite cannot open or write ``path``, if any:
    a read-only file system, the file or its folder not writable by this user, a -wal or
    -shm file of another user."""
    uid = os.geteuid()
    folder = path.parent
    with contextlib.suppress(OSError):
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return (
                f"the file system holding {path} is mounted read-only: Courtyard must be able "
                "to write its database there"
            )
    if path.exists() and not _can(path, os.R_OK | os.W_OK):
        owner = _owner(path)
        return (
            f"the database {path} is read-only for the user running Courtyard (uid {uid}; the "
            f"file belongs to uid {owner}): give that user read and write permission on it"
        )
    if not _can(folder, os.W_OK | os.X_OK):
        return (
            f"the folder {folder} is not writable by the user running Courtyard (uid {uid}): "
            f"SQLite keeps the database's -wal and -shm files beside it, so that user must be "
            "able to create files there"
        )
    for ext in ("-wal", "-shm"):
        extra = Path(f"{path}{ext}")
        if extra.exists() and not _can(extra, os.R_OK | os.W_OK):
            return (
                f"permission denied on {extra} (it belongs to uid {_owner(extra)}, Courtyard "
                f"runs as uid {uid}; was Courtyard once started as another user?): give it to "
                "the user running Courtyard (chown); do not delete it, it may hold the latest "
                "changes"
            )
    return None


#: Below this much free space an I/O error of SQLite is taken for a full disk.
LOW_SPACE = 4 * 1024 * 1024


def _free_bytes(folder: Path) -> int:
    try:
        stats = os.statvfs(folder)
    except OSError:
        return LOW_SPACE
    return stats.f_bavail * stats.f_frsize


def _owner(path: Path) -> int | str:
    try:
        return path.stat().st_uid
    except OSError:
        return "?"


def explain(exc: BaseException, path: Path) -> DatabaseError | None:
    """A clear DatabaseError for the SQLite errors an operator can act on, else None."""
    if isinstance(exc, DatabaseError):
        return exc
    if isinstance(exc, OSError) and exc.errno == 28:  # ENOSPC from our own file operations
        return DatabaseFull(f"the disk holding the database {path} is full: free some space")
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        problem = access_problem(path)
        if problem is not None:
            return DatabaseUnusable(f"{problem} ({exc})")
        if name.startswith("SQLITE_READONLY"):
            return DatabaseUnusable(
                f"the database {path} cannot be written ({exc}): check that the file, its "
                "folder and its -wal and -shm files are writable by the user running Courtyard"
            )
        return DatabaseUnusable(
            f"cannot open the database {path} ({exc}): check that the file and its folder "
            "exist and are readable and writable by the user running Courtyard"
        )
    if name.startswith("SQLITE_IOERR"):
        problem = access_problem(path)
        if problem is not None:
            return DatabaseUnusable(f"{problem} ({exc})")
        if _free_bytes(path.parent) < LOW_SPACE:  # ENOSPC on the -shm or -wal file
            return DatabaseFull(
                f"the database {path} cannot be written: the disk holding it is full. Free "
                f"some space; nothing was lost, the change was rolled back. ({exc})"
            )
        return DatabaseUnusable(
            f"the disk failed while reading or writing the database {path} ({exc}); the change "
            "was rolled back. Check the disk (dmesg, free space, quotas) and run "
            "`courtyard health --full`"
        )
    if name.startswith("SQLITE_FULL"):
        return DatabaseFull(
            f"the database {path} cannot grow: the disk holding it is full (or a size limit "
            f"was reached). Free some space; nothing was lost, the change was rolled back. ({exc})"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return DatabaseLocked(
            f"the database {path} is locked by another program (waited "
            f"{BUSY_TIMEOUT_MS / 1000:g} s). Is a second Courtyard, a backup tool or an sqlite3 "
            f"shell holding it? Close it and try again. ({exc})"
        )
    return None


def restore_hint(path: Path) -> str:
    return (
        f"Stop here and restore the newest good backup: `courtyard restore "
        f"<backup file>` (backups are named {path.stem}-<UTC time>.sqlite3, in "
        f"COURTYARD_BACKUP_DIR, ./backups by default)"
    )


def to_db(moment: datetime) -> str:
    """Aware datetime -> stored UTC text."""
    if moment.tzinfo is None:
        raise ValueError("refusing to store a naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_db(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The shipped migration files in order; the numbers must run 1, 2, 3... without gaps."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise DatabaseError(f"migration files are not numbered 1..n: {migration.name}")
    return found


def split_statements(script: str) -> list[str]:
    """Split a SQL script into complete statements (executescript would COMMIT on its own)."""
    statements: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            text = buf.strip()
            if text and not all(
                part.strip().startswith("--") or not part.strip() for part in text.splitlines()
            ):
                statements.append(text)
            buf = ""
    if buf.strip() and not all(
        p.strip().startswith("--") or not p.strip() for p in buf.strip().splitlines()
    ):
        raise DatabaseError(f"incomplete SQL statement at the end of a migration: {buf[:80]!r}")
    return statements


async def _quick_check(conn: aiosqlite.Connection, path: Path) -> None:
    """``PRAGMA quick_check``: every page, record and free list (not the index cross-check of
    integrity_check, about 4x slower). ~0.1 s on a 55 MB database."""
    rows = await (await conn.execute("PRAGMA quick_check(10)")).fetchall()
    problems = [str(row[0]) for row in rows]
    if problems != ["ok"]:
        raise DatabaseCorrupt(
            f"the database {path} failed its integrity check (PRAGMA quick_check: "
            f"{'; '.join(problems[:3])}). Courtyard will not start on a damaged file. "
            + restore_hint(path)
        )


async def _probe_write(conn: aiosqlite.Connection) -> None:
    """SQLite opens a file it may not write read-only without a word, and says so only at the
    first write: make that write now (a table created and rolled back, nothing reaches the
    file), so a read-only file, folder or WAL is refused at start, not on a resident's press."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        await conn.execute("CREATE TABLE courtyard_write_probe (x)")
    finally:
        await conn.execute("ROLLBACK")


def _identity(path: Path) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """(device, inode) of the database file and of its -wal (None when there is none)."""
    main = os.stat(path)
    try:
        wal = os.stat(f"{path}-wal")
    except FileNotFoundError:
        wal_id = None
    else:
        wal_id = (wal.st_dev, wal.st_ino)
    return (main.st_dev, main.st_ino), wal_id


def _rw_uri(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=rw"


async def _connect(path: Path, *, create: bool = True) -> aiosqlite.Connection:
    if create:
        conn = await aiosqlite.connect(path, isolation_level=None)
    else:  # mode=rw: SQLite refuses a missing file instead of creating an empty one
        conn = await aiosqlite.connect(_rw_uri(path), uri=True, isolation_level=None)
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA synchronous = NORMAL")
        # deleted rows are overwritten, not left in free pages: a secret ballot's discarded
        # choices and an anonymous poll's voter keys must not be recoverable from the file
        await conn.execute("PRAGMA secure_delete = ON")
    except BaseException:
        await conn.close()  # an open connection keeps a thread (and the process) alive
        raise
    return conn


class Database:
    """Open with :meth:`open`; close with :meth:`close` (or ``async with``)."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        self._closing = False  # set by close(): reads still queued end at once
        self._lock = asyncio.Lock()
        self._identity: tuple[tuple[int, int], tuple[int, int] | None] | None = None

    #: Which SQL dialect runs (``storage.pg.PgDatabase`` says "postgresql"), for the few
    #: statements that must differ.
    dialect = "sqlite"

    #: What :meth:`open` does with a missing file when not told: ``courtyard run`` sets it to
    #: False for its whole process, so no connection it opens ever creates a database.
    create_missing: bool = True

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        migrate: bool = True,
        check: bool = True,
        create: bool | None = None,
    ) -> Database:
        """Open (creating the file if missing, unless ``create`` is False or
        :attr:`create_missing` is off), check integrity, make sure the file can be written,
        apply pending migrations. A path that stands for a PostgreSQL database
        (``COURTYARD_DB=postgresql://...``: :func:`storage.pg.route`) opens that one."""
        from storage import pg

        if (url := pg.routed(path)) is not None:
            return await pg.PgDatabase.open(url, migrate=migrate, check=check, create=create)
        path = Path(path)
        if create is None:
            create = cls.create_missing
        if str(path) == ":memory:":
            raise DatabaseError("Courtyard needs a database file, not :memory:")
        if path.parent and not path.parent.exists():
            raise DatabaseError(f"the folder for the database does not exist: {path.parent}")
        if not path.exists():
            if not create:
                raise DatabaseError(missing_message(path))
            strays = [p for p in (Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists()]
            if strays:  # SQLite would replay them into the new, empty file
                raise DatabaseError(
                    f"there is no database at {path}, but {strays[0]} is still there, left by "
                    "a database that was deleted: move it (and any -shm file) away before "
                    "creating a new database, or restore a backup with `courtyard restore`"
                )
        opened: list[aiosqlite.Connection] = []
        try:
            writer = await _connect(path, create=create)
            opened.append(writer)
            mode = await (await writer.execute("PRAGMA journal_mode = WAL")).fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                log.warning("SQLite refused WAL mode for %s (got %s)", path, mode and mode[0])
            reader = await _connect(path, create=False)
            opened.append(reader)
            if check:
                await _quick_check(writer, path)
            await _probe_write(writer)
            identity = _identity(path)
        except (sqlite3.Error, OSError, DatabaseError) as exc:
            for conn in opened:
                with contextlib.suppress(sqlite3.Error, ValueError):
                    await conn.close()
            if isinstance(exc, DatabaseError):
                raise
            clear = explain(exc, path)
            if clear is not None:
                raise clear from exc
            if getattr(exc, "sqlite_errorname", "") in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
                raise DatabaseCorrupt(
                    f"cannot open the database {path}: {exc}. {restore_hint(path)}"
                ) from exc
            raise DatabaseError(f"cannot open the database {path}: {exc}") from exc
        db = cls(path, writer, reader)
        db._identity = identity
        if migrate:
            try:
                await db.migrate()
            except BaseException:
                await db.close()
                raise
        return db

    async def close(self) -> None:
        """Close the reader, then the writer (the last connection to close folds the WAL into
        the file). Reads are not waited for: a read still running on the reader's thread (a
        long scan begun before the stop) is interrupted, and reads queued behind it end at
        once with :class:`DatabaseClosed`, instead of each running before the close can.
        Nothing a read does is acknowledged to anyone. Writes are never cut short: a write
        queued or running on the writer finishes (and commits) before its connection
        closes."""
        self._closing = True
        reader = self._reader
        raw = getattr(reader, "_connection", None)
        if raw is not None:
            with contextlib.suppress(sqlite3.Error):
                raw.interrupt()  # thread-safe: sqlite3_interrupt; ends the running statement
        for conn in (reader, self._writer):
            with contextlib.suppress(ValueError, sqlite3.Error):  # already closed
                await conn.close()

    @property
    def file_identity(self) -> tuple[int, int] | None:
        """(device, inode) of the database file as opened."""
        return self._identity[0] if self._identity else None

    def check_file(self) -> None:
        """Raise :class:`DatabaseGone` when the path no longer leads to the file this
        connection writes (deleted, or replaced by another file), or its -wal is gone. Two
        ``stat`` calls (a few microseconds): run after every commit and every few seconds."""
        if self._identity is None:
            return
        main, wal = self._identity
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            raise DatabaseGone(
                f"the database file {self.path} was deleted while Courtyard was running; what "
                "is written from now on would be lost, so Courtyard stops. Put the file back "
                "(`courtyard restore <backup file>`) or create a new one (`courtyard migrate`), "
                "then start again"
            ) from None
        except OSError:  # the folder became unreadable: nothing to conclude
            return
        if (now.st_dev, now.st_ino) != main:
            raise DatabaseGone(
                f"the database file {self.path} was replaced by another file while Courtyard "
                "was running (a copy or restore while the bot ran?); Courtyard stops rather "
                "than keep writing to the old one. Start it again to use the file now in place"
            )
        if wal is not None:
            try:
                now_wal = os.stat(f"{self.path}-wal")
            except FileNotFoundError:
                now_wal = None
            except OSError:
                return
            if now_wal is None or (now_wal.st_dev, now_wal.st_ino) != wal:
                raise DatabaseGone(
                    f"the write-ahead log {self.path}-wal was deleted or replaced while "
                    "Courtyard was running; the latest changes live there, so Courtyard stops. "
                    "Do not delete -wal files of a database in use"
                )

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- schema ---------------------------------------------------------------------------

    async def schema_version(self) -> int:
        row = await (await self._reader.execute("PRAGMA user_version")).fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> list[str]:
        """Apply every migration newer than the file's ``user_version``; returns their names."""
        known = migrations()
        async with self._lock:
            row = await (await self._writer.execute("PRAGMA user_version")).fetchone()
            current = int(row[0]) if row else 0
            if current > len(known):
                raise DatabaseError(
                    f"the database {self.path} has schema version {current}, newer than this "
                    f"Courtyard knows ({len(known)}): upgrade Courtyard or restore a backup"
                )
            applied = []
            for migration in known[current:]:
                # a migration that rebuilds tables says so on its first line: with foreign keys
                # on, dropping the old table would cascade into its children. SQLite ignores the
                # pragma inside a transaction, so it is set around one, and the keys are checked
                # before the commit instead.
                rebuilds = migration.sql.startswith(FOREIGN_KEYS_OFF)
                try:
                    if rebuilds:
                        await self._writer.execute("PRAGMA foreign_keys = OFF")
                    await self._writer.execute("BEGIN IMMEDIATE")
                    for statement in split_statements(migration.sql):
                        await self._writer.execute(statement)
                    if rebuilds:
                        broken = await self._writer.execute_fetchall("PRAGMA foreign_key_check")
                        if broken:
                            raise DatabaseError(
                                f"migration {migration.name} would break "
                                f"{len(list(broken))} foreign keys; nothing was changed"
                            )
                    await self._writer.execute(f"PRAGMA user_version = {migration.version}")
                    await self._writer.execute("COMMIT")
                except BaseException as exc:
                    await self._rollback()
                    clear = explain(exc, self.path)
                    if clear is not None and clear is not exc:
                        raise clear from exc
                    raise
                finally:
                    if rebuilds:
                        await self._writer.execute("PRAGMA foreign_keys = ON")
                applied.append(migration.name)
                log.info("applied migration %s", migration.name)
            return applied

    # --- access ---------------------------------------------------------------------------

    async def scrub(self) -> None:
        """Fold the write-ahead log into the database and truncate it, so old versions of
        rows deleted for privacy (with ``secure_delete`` on) leave no copy in the -wal file.
        Best effort: a reader holding an old snapshot keeps some frames until the next one."""
        async with self._lock:
            try:
                await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:  # pragma: no cover - only when the disk fails
                log.warning("could not checkpoint %s: %s", self.path, exc)

    async def write_one(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One statement as its own transaction, in one round trip (the connection is in
        autocommit mode: a single statement is atomic and committed when it returns). Returns
        the number of rows changed. Holds the write lock, so it never lands inside another
        coroutine's open transaction. The statement, its count and the cursor's close run
        together on the writer's thread (aiosqlite's cursor would take a trip for each)."""
        writer = self._writer
        args = tuple(params)

        def run() -> int:
            cursor = writer._conn.execute(sql, args)  # aiosqlite's connection, on its thread
            try:
                return int(cursor.rowcount)
            finally:
                cursor.close()

        async with self._lock:
            try:
                changed: int = await writer._execute(run)  # type: ignore[no-untyped-call]
            except sqlite3.Error as exc:
                raise (explain(exc, self.path) or exc) from exc
            self.check_file()  # committed, but to the file at the path?
            return changed

    async def write_rows(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """One statement with ``RETURNING`` as its own transaction, in one round trip (as
        :meth:`write_one`); returns its rows."""
        writer = self._writer
        args = tuple(params)

        def run() -> list[Any]:
            cursor = writer._conn.execute(sql, args)  # aiosqlite's connection, on its thread
            try:
                return cursor.fetchall()
            finally:
                cursor.close()

        async with self._lock:
            try:
                rows: list[Any] = await writer._execute(run)  # type: ignore[no-untyped-call]
            except sqlite3.Error as exc:
                raise (explain(exc, self.path) or exc) from exc
            self.check_file()  # committed, but to the file at the path?
            return rows

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One short write transaction: ``async with db.write() as conn: ...``."""
        async with self._lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise (explain(exc, self.path) or exc) from exc
            try:
                yield self._writer
                await self._writer.execute("COMMIT")
                # committed, but to the file that is at the path? If not, the change is lost
                # and must not be reported as done
                self.check_file()
            except BaseException as exc:
                await self._rollback()
                clear = explain(exc, self.path)
                if clear is not None and clear is not exc:
                    raise clear from exc
                raise

    async def transaction(self, steps: Steps[T]) -> T:
        """One short write transaction in **one** round trip to the writer's thread.

        ``steps`` is a generator that yields ``(sql, params)`` and is sent each statement's
        rows (a list; empty for a write); what it returns is returned here. It runs whole on
        the writer's thread, between ``BEGIN IMMEDIATE`` and ``COMMIT`` (``ROLLBACK`` on any
        error, raised here), so its Python between the statements must be quick and may not
        await. :meth:`write` costs a loop-to-thread round trip per statement plus two, and a
        vote press is four statements: each trip (a wake-up of the loop and of the thread)
        costs more than the statements themselves. Storage modules call the module function
        :func:`transaction`, which runs the same steps statement by statement on a backend
        without this method."""
        writer = self._writer

        def run() -> T:
            conn = writer._conn  # aiosqlite's own connection, used on its own thread
            conn.execute("BEGIN IMMEDIATE")
            try:
                try:
                    sql, params = next(steps)
                    while True:
                        sql, params = steps.send(conn.execute(sql, params).fetchall())
                except StopIteration as done:
                    result: T = done.value
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            return result

        async with self._lock:
            try:
                result: T = await writer._execute(run)  # type: ignore[no-untyped-call]
            except sqlite3.Error as exc:
                raise (explain(exc, self.path) or exc) from exc
            self.check_file()  # committed, but to the file at the path?
            return result

    async def _rollback(self) -> None:
        """ROLLBACK if a transaction is still open: SQLite may already have rolled back on its
        own (SQLITE_FULL, SQLITE_BUSY), and a failing ROLLBACK must not hide the real error."""
        if self._writer.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                await self._writer.execute("ROLLBACK")

    # Reads run whole in one call on the reader's thread (execute and fetch together). A cursor
    # left open across an await would keep the reader's transaction, and so its snapshot, open:
    # with several updates handled at once, a read right after another coroutine's committed
    # write could then miss it. One call is also one thread round trip instead of three.

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        """The first row (queries here select one row by key or carry their own LIMIT)."""
        rows = await self._read(sql, tuple(params))
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        return await self._read(sql, tuple(params))

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[aiosqlite.Row]:
        """One read, whole on the reader's thread; refused once :meth:`close` began, also
        when it was queued before (the check runs on the thread, when its turn comes)."""
        if self._closing:
            raise DatabaseClosed(f"the database {self.path} is closing")
        reader = self._reader

        def run() -> list[aiosqlite.Row]:
            if self._closing:
                raise DatabaseClosed(f"the database {self.path} is closing")
            rows: list[aiosqlite.Row] = reader._conn.execute(sql, params).fetchall()
            return rows

        return await reader._execute(run)  # type: ignore[no-untyped-call, no-any-return]

    async def tables(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return [r["name"] for r in rows]


async def transaction(db: Any, steps: Steps[T]) -> T:
    """Run a write transaction given as :data:`Steps`: in one round trip on SQLite
    (:meth:`Database.transaction`), else statement by statement in ``db.write()`` (the same
    steps, so a backend without the one-trip path needs no second copy of the logic)."""
    if isinstance(db, Database):
        return await db.transaction(steps)
    async with db.write() as conn:
        try:
            sql, params = next(steps)
            while True:
                sql, params = steps.send(list(await conn.execute_fetchall(sql, params)))
        except StopIteration as done:
            result: T = done.value
            return result
