"""The database on PostgreSQL: the public surface of :class:`storage.db.Database`, on asyncpg.

``COURTYARD_DB=postgresql://user@host/dbname`` selects it (:func:`open_database`); a file path
keeps SQLite. The storage modules do not change: they write SQLite's dialect with ``?``
placeholders and read ``cursor.lastrowid`` and ``rowcount``; :class:`PgConnection` gives them
the same calls:

* ``?`` becomes ``$1, $2...`` (outside quotes); ``LIKE`` becomes ``ILIKE`` (SQLite's LIKE
  ignores case); ``INSERT OR IGNORE`` becomes ``INSERT ... ON CONFLICT DO NOTHING``;
* ``cursor.lastrowid``: an INSERT into a table with an identity column gets
  ``RETURNING <that column>`` (no second round trip);
* parameters are bound with the types PostgreSQL inferred (SQLite's type affinity: an int for
  a text column is sent as its digits, a digit string for a number as a number);
* ``sum``/``avg`` come back as int or float (PostgreSQL's ``numeric``), as from SQLite;
* the schema questions the storage modules ask SQLite (``sqlite_master``, ``PRAGMA
  table_info``, ``PRAGMA foreign_key_list``) are answered from ``information_schema`` with the
  same column names;
* constraint violations are raised as :class:`IntegrityError`, a ``sqlite3.IntegrityError``,
  so code that catches SQLite's error keeps working.

Writes: :meth:`PgDatabase.write` is one transaction on the writer connection that first takes
a transaction-scoped advisory lock (:data:`WRITE_LOCK`): like ``BEGIN IMMEDIATE``, one writer at
a time, across every process on the database, so each transaction reads what the previous one
committed and the checks the storage modules make before writing hold. Reads use a small set
of reader connections and see committed data only.

Schema: ``storage/migrations_pg/``: a baseline file ``NNNN_baseline.sql`` (the whole schema at
version NNNN, written by :mod:`storage.pg_schema`) and, after it, one file per later SQLite
migration in PostgreSQL's dialect. The version is kept in the table ``courtyard_schema``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storage.db import Database, DatabaseError, Steps, T, migrations

log = logging.getLogger(__name__)

#: The key of the advisory lock every write transaction holds (one writer at a time).
WRITE_LOCK = 0x636F7572  # "cour"
#: Reader connections kept open.
READERS = 4
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def is_url(value: str | os.PathLike[str]) -> bool:
    return str(value).startswith(("postgresql://", "postgres://"))


class IntegrityError(DatabaseError, sqlite3.IntegrityError):
    """A constraint of PostgreSQL refused the change (unique, foreign key, check)."""


class PgOperationalError(DatabaseError, sqlite3.OperationalError):
    """PostgreSQL refused or failed a statement for another reason."""


def _wrap(exc: BaseException, sql: str = "") -> BaseException:
    import asyncpg

    where = f" (in: {sql[:240]})" if sql else ""
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(f"{exc}{where}")
    if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError):
        return PgOperationalError(f"{type(exc).__name__}: {exc}{where}")
    return exc


# --- SQL: SQLite's dialect as the storage modules write it -> PostgreSQL's --------------------

_TOKENS = re.compile(
    r"\b[xX]'[0-9a-fA-F]*'|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|\?\d*|\bLIKE\b"
    r"|\bIS\s+NOT\s+(?!NULL\b|DISTINCT\b|TRUE\b|FALSE\b)"
    r"|\bIS\s+(?!NOT\b|NULL\b|DISTINCT\b|TRUE\b|FALSE\b)",
    re.IGNORECASE,
)
_INSERT = re.compile(r"^\s*INSERT\s+(OR\s+IGNORE\s+)?INTO\s+\"?(\w+)\"?", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_UPDATE_OR_IGNORE = re.compile(
    r"^\s*UPDATE\s+OR\s+IGNORE\s+(\"?\w+\"?)\s+SET\s+(.*?)\s+WHERE\s+(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES|PRAGMA)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Translated:
    sql: str
    table: str | None  # INSERT target
    returns_rows: bool
    ignore: bool  # INSERT OR IGNORE


@lru_cache(maxsize=4096)
def translate(sql: str) -> Translated:
    count = 0

    def token(match: re.Match[str]) -> str:
        nonlocal count
        text = match.group(0)
        if text == "?":
            count += 1
            return f"${count}"
        if text.startswith("?"):  # SQLite's numbered ?NNN: the same number
            count = max(count, int(text[1:]))
            return f"${int(text[1:])}"
        upper = text.upper()
        if upper.startswith("X'"):  # a blob literal
            return f"'\\x{text[2:-1]}'::bytea"
        if upper == "LIKE":
            return "ILIKE"
        if upper.startswith("IS") and upper.split()[:2] == ["IS", "NOT"]:
            return "IS DISTINCT FROM "  # SQLite's `a IS NOT b` for a value b
        if upper.startswith("IS") and upper.strip() == "IS":
            return "IS NOT DISTINCT FROM "
        return text

    out = _TOKENS.sub(token, sql)
    insert = _INSERT.match(out)
    ignore = False
    table = None
    if insert:
        table = insert.group(2)
        if insert.group(1):
            ignore = True
            out = out[: insert.start(1)] + out[insert.end(1) :]
            found = _RETURNING.search(out)
            if found:
                out = out[: found.start()] + "ON CONFLICT DO NOTHING " + out[found.start() :]
            else:
                out = out.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    returns = bool(_ROWS.match(out) or _RETURNING.search(out))
    return Translated(out, table, returns, ignore)


def _to_text(value: Any) -> Any:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return value


def _to_int(value: Any) -> Any:
    if isinstance(value, str):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _to_float(value: Any) -> Any:
    if isinstance(value, str):
        return float(value)
    return value


def _to_bytes(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return value


def _to_bool(value: Any) -> Any:
    if isinstance(value, int | str):
        return bool(int(value))
    return value


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _to_text,
    "varchar": _to_text,
    "bpchar": _to_text,
    "int8": _to_int,
    "int4": _to_int,
    "int2": _to_int,
    "float8": _to_float,
    "float4": _to_float,
    "numeric": _to_float,
    "bytea": _to_bytes,
    "bool": _to_bool,
}


def _numeric(text: str) -> int | float:
    if "." in text or "e" in text.lower() or text in ("NaN", "Infinity", "-Infinity"):
        value = float(text)
        return value
    return int(text)


# the schema questions asked of SQLite, answered from PostgreSQL's catalog
_SQLITE_MASTER_TABLES = re.compile(
    r"^\s*SELECT name FROM sqlite_master WHERE type = 'table'", re.IGNORECASE
)
_PRAGMA = re.compile(r"^\s*PRAGMA\s+(\w+)\s*\(\s*[\"']?(\w+)[\"']?\s*\)\s*$", re.IGNORECASE)

_TABLES_SQL = (
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema ="
    " current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'courtyard_schema'"
    " ORDER BY table_name"
)
_TABLE_INFO_SQL = (
    "SELECT (c.ordinal_position - 1)::int AS cid, c.column_name AS name, c.data_type AS type,"
    " (c.is_nullable = 'NO')::int AS notnull, c.column_default AS dflt_value,"
    " COALESCE((SELECT k.ordinal_position FROM information_schema.table_constraints t"
    " JOIN information_schema.key_column_usage k ON k.constraint_name = t.constraint_name"
    " AND k.table_schema = t.table_schema AND k.table_name = t.table_name"
    " WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = c.table_schema"
    " AND t.table_name = c.table_name AND k.column_name = c.column_name), 0)::int AS pk"
    " FROM information_schema.columns c WHERE c.table_schema = current_schema()"
    " AND c.table_name = $1 ORDER BY c.ordinal_position"
)
_FOREIGN_KEYS_SQL = (
    'SELECT (row_number() OVER () - 1)::int AS id, 0 AS seq, ref.relname AS "table",'
    ' a.attname AS "from", ra.attname AS "to",'
    " CASE con.confupdtype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN"
    " 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS on_update,"
    " CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN"
    " 'SET DEFAULT' WHEN 'r' THEN 'RESTRICT' ELSE 'NO ACTION' END AS on_delete,"
    " 'NONE' AS match FROM pg_constraint con"
    " JOIN pg_class src ON src.oid = con.conrelid JOIN pg_class ref ON ref.oid = con.confrelid"
    " JOIN pg_namespace n ON n.oid = src.relnamespace"
    " CROSS JOIN LATERAL unnest(con.conkey, con.confkey) AS k(src_col, ref_col)"
    " JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.src_col"
    " JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.ref_col"
    " WHERE con.contype = 'f' AND n.nspname = current_schema() AND src.relname = $1"
)


def _schema_question(sql: str) -> tuple[str, tuple[Any, ...]] | None:
    if _SQLITE_MASTER_TABLES.match(sql):
        return _TABLES_SQL, ()
    pragma = _PRAGMA.match(sql)
    if pragma:
        name, table = pragma.group(1).lower(), pragma.group(2)
        if name == "table_info":
            return _TABLE_INFO_SQL, (table,)
        if name == "foreign_key_list":
            return _FOREIGN_KEYS_SQL, (table,)
    return None


class PgCursor:
    """What an aiosqlite cursor gives the storage modules: rows, rowcount, lastrowid."""

    def __init__(self, rows: list[Any], rowcount: int, lastrowid: int | None):
        self._rows = rows
        self._at = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    async def fetchone(self) -> Any:
        if self._at >= len(self._rows):
            return None
        row = self._rows[self._at]
        self._at += 1
        return row

    async def fetchall(self) -> list[Any]:
        rows = self._rows[self._at :]
        self._at = len(self._rows)
        return rows

    async def close(self) -> None:
        return None

    def __aiter__(self) -> PgCursor:
        return self

    async def __anext__(self) -> Any:
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


class _Pending:
    """``conn.execute(...)`` is awaited (``await conn.execute``) or used as ``async with``."""

    def __init__(self, run: Any):
        self._run = run

    def __await__(self) -> Any:
        return self._run.__await__()

    async def __aenter__(self) -> PgCursor:
        cursor: PgCursor = await self._run
        return cursor

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgConnection:
    """One asyncpg connection behind aiosqlite's calls (see the module text)."""

    def __init__(self, raw: Any, identities: dict[str, str]):
        self.raw = raw
        self._identities = identities
        self._prepared: dict[str, tuple[Any, list[Callable[[Any], Any] | None]]] = {}
        self.in_transaction = False

    async def _statement(self, sql: str) -> tuple[Any, list[Callable[[Any], Any] | None]]:
        found = self._prepared.get(sql)
        if found is None:
            statement = await self.raw.prepare(sql)
            converters = [_CONVERTERS.get(t.name) for t in statement.get_parameters()]
            if len(self._prepared) > 2000:
                self._prepared.clear()
            found = self._prepared[sql] = (statement, converters)
        return found

    async def _run(self, sql: str, params: Sequence[Any]) -> PgCursor:
        question = _schema_question(sql)
        if question is not None:
            rows = await self.raw.fetch(*((question[0],) + question[1]))
            return PgCursor(list(rows), len(rows), None)
        update = _UPDATE_OR_IGNORE.match(sql)
        if update is not None:
            return await self._update_or_ignore(update, params)
        t = translate(sql)
        text = t.sql
        key_column = None
        if t.table is not None and not _RETURNING.search(text):
            key_column = self._identities.get(t.table)
            if key_column is not None:
                text = f'{text.rstrip().rstrip(";")} RETURNING "{key_column}"'
        try:
            statement, converters = await self._statement(text)
            args = [
                c(v) if c is not None and v is not None else v
                for c, v in zip(converters, params, strict=False)
            ]
            if t.returns_rows or key_column is not None:
                rows = await statement.fetch(*args)
                if key_column is not None:
                    last = int(rows[-1][0]) if rows else None
                    return PgCursor([], len(rows), last)
                return PgCursor(list(rows), len(rows), None)
            await statement.fetch(*args)
            status = statement.get_statusmsg() or ""
        except Exception as exc:
            wrapped = _wrap(exc, text)
            if wrapped is exc:
                raise
            raise wrapped from exc
        tail = status.rsplit(" ", 1)[-1]
        return PgCursor([], int(tail) if tail.isdigit() else -1, None)

    async def _update_or_ignore(self, match: re.Match[str], params: Sequence[Any]) -> PgCursor:
        """SQLite's ``UPDATE OR IGNORE``: each row that would break a unique key is left as
        it is. PostgreSQL has no such clause: each row is updated under its own savepoint
        (inside the write transaction), and a unique violation rolls back that row only."""
        import asyncpg

        table, assignments, condition = match.group(1), match.group(2), match.group(3)
        in_set = assignments.count("?")
        found = await self._run(f"SELECT ctid FROM {table} WHERE {condition}", params[in_set:])
        changed = 0
        for row in await found.fetchall():
            await self.raw.execute("SAVEPOINT courtyard_or_ignore")
            try:
                await self._run(
                    f"UPDATE {table} SET {assignments} WHERE ctid = ?",
                    (*params[:in_set], row[0]),
                )
            except IntegrityError as exc:
                if not isinstance(exc.__cause__, asyncpg.UniqueViolationError):
                    raise
                await self.raw.execute("ROLLBACK TO SAVEPOINT courtyard_or_ignore")
            else:
                changed += 1
            await self.raw.execute("RELEASE SAVEPOINT courtyard_or_ignore")
        return PgCursor([], changed, None)

    def execute(self, sql: str, params: Iterable[Any] = ()) -> _Pending:
        return _Pending(self._run(sql, tuple(params)))

    async def executemany(self, sql: str, seq: Iterable[Iterable[Any]]) -> PgCursor:
        total = 0
        for params in seq:
            cursor = await self._run(sql, tuple(params))
            total += max(cursor.rowcount, 0)
        return PgCursor([], total, None)

    async def execute_fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        cursor = await self._run(sql, tuple(params))
        return await cursor.fetchall()


async def _connect(url: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(url, statement_cache_size=0)
    await conn.set_type_codec(
        "numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text"
    )
    return conn


def pg_migrations() -> tuple[int, list[tuple[int, str, str]]]:
    """(baseline version, [(version, name, sql)...]) of ``storage/migrations_pg``."""
    found: list[tuple[int, str, str, str]] = []
    for entry in resources.files("storage.migrations_pg").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(
                (int(match.group(1)), match.group(2), entry.name, entry.read_text("utf-8"))
            )
    found.sort()
    baselines = [f for f in found if f[1] == "baseline"]
    if not baselines:
        raise DatabaseError("storage/migrations_pg has no baseline file")
    base = baselines[-1]
    later = [(v, name, sql) for v, kind, name, sql in found if v > base[0]]
    for expected, (version, name, _) in enumerate(later, start=base[0] + 1):
        if version != expected:
            raise DatabaseError(f"PostgreSQL migrations are not numbered in order: {name}")
    return base[0], [(base[0], base[2], base[3]), *later]


def pg_statements(script: str) -> list[str]:
    """Statements of a PostgreSQL migration: split at a ``;`` that ends a line, except
    inside a ``$$ ... $$`` body."""
    statements: list[str] = []
    buf: list[str] = []
    in_body = False
    for line in script.splitlines():
        if line.count("$$") % 2 == 1:
            in_body = not in_body
        buf.append(line)
        if not in_body and line.rstrip().endswith(";"):
            text = "\n".join(buf).strip()
            if any(p.strip() and not p.strip().startswith("--") for p in text.splitlines()):
                statements.append(text)
            buf = []
    if any(p.strip() and not p.strip().startswith("--") for p in buf):
        raise DatabaseError(f"incomplete SQL statement at the end of a migration: {buf[:2]!r}")
    return statements


def _local_path(url: str) -> Path:
    """Where the files that live beside a SQLite database live for this PostgreSQL database
    (the keys of secret votes: ``<path>.keys``): ``COURTYARD_PG_LOCAL``, else
    ``./courtyard-<database name>``."""
    explicit = os.environ.get("COURTYARD_PG_LOCAL")
    if explicit:
        return Path(explicit).expanduser()
    name = urlsplit(url).path.lstrip("/") or "postgres"
    return Path.cwd() / f"courtyard-{name}"


local_path = _local_path

#: The identity column of each table (``cursor.lastrowid`` reads it back).
_IDENTITIES_SQL = (
    "SELECT table_name, column_name FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    " AND column_name <> 'rowid'"
)


def url_problem(url: str) -> str | None:
    """What is wrong with a ``postgresql://`` URL at a glance (no connection), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        return f"the URL {redact(url)} cannot be read ({exc})"
    if not parts.path.strip("/"):
        return (
            f"the URL {redact(url)} names no database: postgresql://user@host/<database> "
            "(create it with `createdb`)"
        )
    return None


#: Local paths (``PgDatabase.path``, ``Settings.db_path``) standing for a PostgreSQL
#: database: ``Database.open(<such a path>)`` opens the database of its URL (:func:`route`).
_routes: dict[Path, str] = {}


def route(path: Path, url: str) -> None:
    """From now on ``Database.open(path)`` (``bot/app.py`` opens ``Settings.db_path``) and
    the start-up sweep of secret-vote keys (``storage/secrets.py``) use the PostgreSQL
    database at ``url``."""
    _routes[Path(os.path.abspath(path))] = url


def routed(path: str | os.PathLike[str]) -> str | None:
    """The URL a local path stands for (:func:`route`), or None: a SQLite file."""
    if not _routes:
        return None
    return _routes.get(Path(os.path.abspath(path)))


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


class PgDatabase(Database):
    """Open with :meth:`open`; the same calls as :class:`storage.db.Database` (a subclass, so
    code that asks ``isinstance(x, Database)`` treats both alike; nothing of SQLite's is
    inherited that runs: every public method is its own)."""

    dialect = "postgresql"
    create_missing: bool = True

    def __init__(  # not Database's: no SQLite connections here
        self, url: str, writer: Any, readers: list[Any], identities: dict[str, str]
    ) -> None:
        self.url = url
        self.path = _local_path(url)
        self._identities = identities
        self._pg_writer = PgConnection(writer, identities)
        self._pg_readers = [PgConnection(r, identities) for r in readers]
        self._free: asyncio.Queue[PgConnection] = asyncio.Queue()
        for reader in self._pg_readers:
            self._free.put_nowait(reader)
        self._lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(  # type: ignore[override]  # a URL, not a path
        cls,
        url: str,
        *,
        migrate: bool = True,
        check: bool = True,
        create: bool | None = None,
        readers: int = READERS,
    ) -> PgDatabase:
        """Connect (the database itself must exist: ``createdb``), apply pending migrations."""
        opened: list[Any] = []
        try:
            writer = await _connect(url)
            opened.append(writer)
            for _ in range(readers):
                opened.append(await _connect(url))
        except Exception as exc:
            for conn in opened:
                with contextlib.suppress(Exception):
                    await conn.close()
            raise DatabaseError(f"cannot connect to the database {redact(url)}: {exc}") from exc
        db = cls(url, opened[0], opened[1:], {})
        try:
            if migrate:
                await db.migrate()
            await db._load_identities()
        except BaseException:
            await db.close()
            raise
        return db

    async def _load_identities(self) -> None:
        rows = await self._pg_writer.raw.fetch(_IDENTITIES_SQL)
        self._identities.clear()
        self._identities.update({r["table_name"]: r["column_name"] for r in rows})

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for conn in (self._pg_writer, *self._pg_readers):
            with contextlib.suppress(Exception):
                await conn.raw.close()

    @property
    def file_identity(self) -> None:
        return None

    def check_file(self) -> None:
        """Nothing to check: the server keeps its files."""

    async def __aenter__(self) -> PgDatabase:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- schema ---------------------------------------------------------------------------

    async def schema_version(self) -> int:
        exists = await self._pg_writer.raw.fetchval("SELECT to_regclass('courtyard_schema')")
        if exists is None:
            return 0
        value = await self._pg_writer.raw.fetchval("SELECT max(version) FROM courtyard_schema")
        return int(value or 0)

    async def migrate(self) -> list[str]:
        """Apply the baseline to an empty database, then each later file; returns their names.
        The whole run holds the write lock, so two workers starting at once migrate once."""
        _base, files = pg_migrations()
        known = len(migrations())
        if files[-1][0] != known:
            raise DatabaseError(
                f"storage/migrations_pg reaches version {files[-1][0]} but the SQLite "
                f"migrations reach {known}: write the PostgreSQL version of each new migration"
            )
        applied: list[str] = []
        async with self._lock:
            raw = self._pg_writer.raw
            try:
                async with raw.transaction():
                    await raw.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
                    await raw.execute(
                        "CREATE TABLE IF NOT EXISTS courtyard_schema (version INTEGER PRIMARY"
                        " KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT"
                        " now())"
                    )
                    current = int(
                        await raw.fetchval("SELECT COALESCE(max(version), 0) FROM courtyard_schema")
                    )
                    if current > known:
                        raise DatabaseError(
                            f"the database {redact(self.url)} has schema version {current}, "
                            f"newer than this Courtyard knows ({known}): upgrade Courtyard"
                        )
                    for version, name, sql in files:
                        if version <= current or (current and name.endswith("_baseline.sql")):
                            continue
                        for statement in pg_statements(sql):
                            await raw.execute(statement)
                        await raw.execute(
                            "INSERT INTO courtyard_schema (version, name) VALUES ($1, $2)",
                            version,
                            name,
                        )
                        applied.append(name)
                        log.info("applied PostgreSQL migration %s", name)
            except Exception as exc:
                wrapped = _wrap(exc)
                if wrapped is exc:
                    raise
                raise wrapped from exc
        self._pg_writer._prepared.clear()
        for reader in self._pg_readers:
            reader._prepared.clear()
        await self._load_identities()
        return applied

    # --- access ---------------------------------------------------------------------------

    async def scrub(self) -> None:
        """After rows were deleted or overwritten for privacy (a closed secret vote's sealed
        ballots, an anonymous poll's voter keys, /forgetme): ``VACUUM`` the tables that hold
        such rows, so their dead versions are removed from the table files instead of waiting
        for autovacuum. What this cannot promise (WAL segments, replicas, the bytes of a
        freed slot until it is reused) is in README, "Secret votes on PostgreSQL"."""
        await vacuum(self.url)

    async def write_one(self, sql: str, params: Iterable[Any] = ()) -> int:
        async with self.write() as conn:
            cursor = await conn.execute(sql, tuple(params))
            return int(cursor.rowcount)

    async def write_rows(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """:meth:`Database.write_rows`: one statement with ``RETURNING``, its rows."""
        async with self.write() as conn:
            return list(await conn.execute_fetchall(sql, tuple(params)))

    @asynccontextmanager
    async def write(self) -> AsyncIterator[PgConnection]:  # type: ignore[override]
        """One short write transaction, one writer at a time across all processes."""
        async with self._lock:
            raw = self._pg_writer.raw
            transaction = raw.transaction()
            try:
                await transaction.start()
                await raw.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
            except Exception as exc:
                with contextlib.suppress(Exception):
                    await transaction.rollback()
                raise _wrap(exc) from exc
            self._pg_writer.in_transaction = True
            try:
                yield self._pg_writer
                await transaction.commit()
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    await transaction.rollback()
                wrapped = _wrap(exc)
                if wrapped is not exc:
                    raise wrapped from exc
                raise
            finally:
                self._pg_writer.in_transaction = False

    async def transaction(self, steps: Steps[T]) -> T:
        """:meth:`Database.transaction`'s steps, statement by statement in :meth:`write`
        (asyncpg has no thread to save round trips to)."""
        async with self.write() as conn:
            try:
                sql, params = next(steps)
                while True:
                    sql, params = steps.send(list(await conn.execute_fetchall(sql, params)))
            except StopIteration as done:
                result: T = done.value
                return result

    @asynccontextmanager
    async def _pg_reader(self) -> AsyncIterator[PgConnection]:
        reader = await self._free.get()
        try:
            yield reader
        finally:
            self._free.put_nowait(reader)

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any:
        async with self._pg_reader() as reader:
            rows = await reader.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        async with self._pg_reader() as reader:
            return await reader.execute_fetchall(sql, params)

    async def tables(self) -> list[str]:
        rows = await self.fetchall(_TABLES_SQL)
        return [r["name"] for r in rows]


#: The tables whose deleted rows :meth:`PgDatabase.scrub` vacuums: the secret votes' and
#: every table /forgetme deletes from (storage/privacy.py's PERSONAL).
SCRUB_TABLES: tuple[str, ...] = ("decision_ballots", "decisions", "poll_votes", "polls")


def _scrub_tables() -> list[str]:
    from storage.privacy import PERSONAL

    return sorted({*SCRUB_TABLES, *PERSONAL})


async def vacuum(url: str, tables: Iterable[str] | None = None) -> None:
    """Plain ``VACUUM`` of ``tables`` (default: :meth:`PgDatabase.scrub`'s) on a connection of
    its own: it cannot run in a transaction, takes no lock that stops reads or writes, and
    the writer is not held up meanwhile. A failure is logged, never raised (the rows are
    deleted already; autovacuum removes them later)."""
    names = list(tables) if tables is not None else _scrub_tables()
    try:
        conn = await _connect(url)
    except Exception as exc:
        log.warning("could not vacuum %s: %s", redact(url), exc)
        return
    try:
        existing = {
            r["relname"]
            for r in await conn.fetch(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            )
        }
        chosen = [name for name in names if name in existing]
        if chosen:
            await conn.execute("VACUUM " + ", ".join(f'"{name}"' for name in chosen))
    except Exception as exc:
        log.warning("could not vacuum %s: %s", redact(url), exc)
    finally:
        with contextlib.suppress(Exception):
            await conn.close()


def run_blocking(coro: Any) -> Any:
    """Run ``coro`` to its end from synchronous code, even inside a running event loop (the
    start-up sweep of secret-vote keys is synchronous): on a thread with a loop of its own."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="courtyard-pg") as pool:
        return pool.submit(asyncio.run, coro).result()


class _SyncCursor:
    def __init__(self, rows: list[Any], lastrowid: int | None = None, rowcount: int = -1) -> None:
        self._rows = rows
        self.lastrowid = lastrowid
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Any:
        return iter(self._rows)


class SyncConnection:
    """A blocking connection for the code that talks to SQLite's ``sqlite3`` directly (the
    start-up sweep of secret-vote keys, :func:`storage.secrets.sweep`): ``execute(sql,
    params)`` in SQLite's dialect, its rows by ``fetchone``/``fetchall``. ``BEGIN IMMEDIATE``
    is a transaction that holds the write lock (:data:`WRITE_LOCK`); SQLite's pragmas do
    nothing here. The connection lives on a thread with its own event loop, so it may be used
    while the caller's loop is blocked in it."""

    def __init__(self, url: str) -> None:
        import threading

        self.url = url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="courtyard-pg-sync", daemon=True
        )
        self._thread.start()
        try:
            raw = self._call(_connect(url))
            rows = self._call(raw.fetch(_IDENTITIES_SQL))
            self._conn = PgConnection(raw, {r["table_name"]: r["column_name"] for r in rows})
        except BaseException as exc:
            self._end()
            raise DatabaseError(f"cannot connect to the database {redact(url)}: {exc}") from exc

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def execute(self, sql: str, params: Iterable[Any] = ()) -> _SyncCursor:
        word = sql.strip().upper()
        if word.startswith("PRAGMA"):
            return _SyncCursor([])
        if word.startswith("BEGIN"):
            self._call(self._conn.raw.execute("BEGIN"))
            self._call(self._conn.raw.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK))
            self._conn.in_transaction = True
            return _SyncCursor([])
        if word in ("COMMIT", "ROLLBACK"):
            self._conn.in_transaction = False
            self._call(self._conn.raw.execute(word))
            return _SyncCursor([])

        async def run() -> _SyncCursor:
            cursor = await self._conn.execute(sql, tuple(params))
            rows = list(await cursor.fetchall())
            return _SyncCursor(rows, cursor.lastrowid, cursor.rowcount)

        try:
            done: _SyncCursor = self._call(run())
            return done
        except Exception as exc:
            wrapped = _wrap(exc, sql)
            if wrapped is exc:
                raise
            raise wrapped from exc

    def commit(self) -> None:
        """Statements outside ``BEGIN`` are committed as they run (as ``sqlite3``'s
        ``commit`` after them would)."""

    def vacuum(self, tables: Iterable[str] | None = None) -> None:
        self._call(vacuum(self.url, tables))

    def _end(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._conn.raw.close())
        self._end()


#: The session-level advisory lock of the one long-polling process on a database (two-int
#: form: its own key space, apart from :data:`WRITE_LOCK` and the workers' chat locks).
POLL_LOCK = (WRITE_LOCK, 1)


class PollerRunning(DatabaseError):
    """Another ``courtyard run`` (long polling) holds the database's poller lock."""


class PollerLock:
    """Long polling takes one session-level advisory lock for the life of the process (the
    counterpart of SQLite's ``<database>.lock``): a second poller on the same database is
    refused. The lock lives on a connection of its own, on a thread with its own event loop
    (``courtyard run`` starts PTB's loop after it); the server drops it when the process or
    its connection ends in any way, so it is never stale. ``courtyard run --webhook`` takes
    none: several webhook workers may share a database."""

    def __init__(self, url: str, command: str = "run") -> None:
        self.url = url
        self.command = command
        self.path = redact(url)  # what messages name
        #: why the bot stops when :meth:`still_ours` turns False
        self.lost = (
            f"the connection holding the poller lock of {self.path} was lost (the server "
            "restarted, or the network dropped it), so a second Courtyard could now poll the "
            "same database; Courtyard stops. Start it again"
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: Any = None
        self._thread: Any = None
        self._stop: asyncio.Event | None = None

    def acquire(self) -> PollerLock:
        import threading

        done = threading.Event()
        outcome: list[BaseException | None] = [None]

        async def hold() -> None:
            assert self._loop is not None
            stop = asyncio.Event()
            self._stop = stop
            try:
                conn = await _connect(self.url)
            except Exception as exc:
                outcome[0] = DatabaseError(
                    f"cannot connect to the database {redact(self.url)}: {exc}"
                )
                done.set()
                return
            try:
                got = await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", *POLL_LOCK)
                if not got:
                    holder = await conn.fetchrow(
                        "SELECT a.pid, a.client_addr::text AS addr, a.backend_start"
                        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                        " WHERE l.locktype = 'advisory' AND l.granted"
                        " AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2"
                        " AND l.database = (SELECT oid FROM pg_database"
                        " WHERE datname = current_database())",
                        *POLL_LOCK,
                    )
                    who = ""
                    if holder is not None:
                        where = holder["addr"] or "a local socket"
                        since = holder["backend_start"].strftime("%Y-%m-%d %H:%M:%S %Z")
                        who = f" (server process {holder['pid']}, from {where}, since {since})"
                    outcome[0] = PollerRunning(
                        f"the database {redact(self.url)} is in use by another `courtyard "
                        f"run` receiving updates by long polling{who}. Telegram gives updates "
                        "to one poller only: stop that one first, or run the workers with "
                        "`courtyard run --webhook`."
                    )
                    await conn.close()
                    done.set()
                    return
            except Exception as exc:
                outcome[0] = _wrap(exc)
                with contextlib.suppress(Exception):
                    await conn.close()
                done.set()
                return
            self._conn = conn
            done.set()
            await stop.wait()
            with contextlib.suppress(Exception):
                await conn.close()  # closing the session releases the lock

        def thread() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(hold())
            finally:
                loop.close()

        self._thread = threading.Thread(target=thread, name="courtyard-poller-lock", daemon=True)
        self._thread.start()
        done.wait()
        if outcome[0] is not None:
            self._thread.join()
            raise outcome[0]
        return self

    def still_ours(self) -> bool:
        """False once the lock's connection is gone (the server restarted, the network
        dropped it): a second poller could then start."""
        return self._conn is not None and not self._conn.is_closed()

    def note_started(self) -> None:
        """Nothing to note: the server names the holder (``pg_stat_activity``)."""

    def release(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):
                if self._stop is not None:
                    self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=10)
        self._conn = None


def cli_migrate(url: str) -> int:
    """``courtyard migrate`` with ``COURTYARD_DB=postgresql://...``: the database must exist
    (``createdb``); applies the baseline to an empty one, then what is pending."""
    import sys

    async def go() -> list[str]:
        db = await PgDatabase.open(url, migrate=False, readers=1)
        try:
            return await db.migrate()
        finally:
            await db.close()

    try:
        applied = asyncio.run(go())
    except DatabaseError as exc:
        print(f"courtyard: {exc}", file=sys.stderr)
        return 1
    print(
        f"{redact(url)}: {len(applied)} migration(s) applied"
        + (f" ({', '.join(applied)})" if applied else ", already up to date")
    )
    return 0


async def open_database(
    target: str | os.PathLike[str], **options: Any
) -> Any:  # storage.db.Database | PgDatabase
    """The database ``COURTYARD_DB`` names: a ``postgresql://`` URL or a SQLite file."""
    if is_url(target):
        return await PgDatabase.open(str(target), **options)
    return await Database.open(Path(target), **options)
