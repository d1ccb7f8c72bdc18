"""``courtyard copy --from <sqlite file> --to <postgresql url>``: move a building's data from
SQLite to PostgreSQL, verified.

* The source is only read: opened read-only (``mode=ro``), every table read in one read
  transaction (one snapshot). Its process lock (bot/lock.py) is taken for the copy, so a bot
  running on it is named and refused, and none starts meanwhile. It must be at this
  Courtyard's schema version (else: ``courtyard migrate`` it first) and pass ``quick_check``.
* The target must exist, be migrated to the same version (``COURTYARD_DB=<url> courtyard
  migrate``) and hold no row in any table.
* Every table is copied in the order of its foreign keys (a parent before its children), in
  batches of :data:`BATCH` rows with ``COPY`` (``copy_records_to_table``), all in one
  transaction that holds the storage's write lock (:data:`storage.pg.WRITE_LOCK`). Each
  identity column's sequence is then set past the highest id copied and past the highest id
  SQLite remembers handing out (``sqlite_sequence``): an id is never given twice, even one
  whose row was deleted before the move.
* Verification, before the commit: per table the row count and a SHA-256 over the rows in
  primary-key order, each value normalised the same way on both sides (:func:`digest_row`).
  Any difference rolls the whole copy back. :func:`verify` runs the same comparison between a
  SQLite file and a PostgreSQL database at any later time.

Not in the database, so not copied: the keys of open secret votes (the keys folder, see
storage/secrets.py): the operator moves that folder (:func:`keys_note`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from storage.db import DatabaseError, migrations

#: Rows sent per ``COPY``.
BATCH = 5000
#: Tables that are not carried over, and why.
NOT_COPIED = {
    "rate_limits": "Telegram's rate budgets of the last minute (kept in memory on SQLite)",
}


class CopyError(DatabaseError):
    """The copy is refused or failed; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # PostgreSQL's type name (int8, text, float8, bytea, ...)
    identity: bool


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    order: tuple[str, ...]  # the primary key, else every column

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(slots=True)
class TableCheck:
    """One table's figures on both sides."""

    name: str
    source_rows: int = 0
    target_rows: int = 0
    source_sum: str = ""
    target_sum: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.note != "" or (
            self.source_rows == self.target_rows and self.source_sum == self.target_sum
        )


@dataclass(slots=True)
class CopyResult:
    checks: list[TableCheck]
    sequences: dict[str, int] = field(default_factory=dict)  # table -> next id at least
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def rows(self) -> int:
        return sum(c.source_rows for c in self.checks)


# --- the checksum ------------------------------------------------------------------------------


def digest_row(h: Any, row: Iterable[Any]) -> None:
    """Feed one row into ``h``: each value tagged with its kind, so that 1, 1.0, '1' and
    b'1' differ, and texts and blobs with their length, so that no two rows run together.
    Integers (booleans as 0/1) in decimal, floats as Python's shortest round-trip text,
    texts as UTF-8, NULL as a tag of its own; timestamps are compared as the text stored."""
    parts: list[bytes] = []
    for value in row:
        kind = type(value)
        if kind is int:
            parts.append(b"I%d;" % value)
        elif kind is str:
            data = value.encode("utf-8", "surrogatepass")
            parts.append(b"T%d:" % len(data))
            parts.append(data)
        elif value is None:
            parts.append(b"N")
        else:
            parts.append(_other(value))
    parts.append(b"\n")
    h.update(b"".join(parts))


def _other(value: Any) -> bytes:
    if isinstance(value, bool | int):
        return b"I%d;" % int(value)
    if isinstance(value, float):
        return b"F" + repr(value).encode() + b";"
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        return b"T%d:" % len(data) + data
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        return b"B%d:" % len(data) + data
    if isinstance(value, datetime | date):
        data = value.isoformat().encode()
        return b"T%d:" % len(data) + data
    raise CopyError(f"a value of an unexpected kind: {type(value).__name__}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- the source: a SQLite file, read only -----------------------------------------------------


def open_source(path: Path) -> sqlite3.Connection:
    """The SQLite file read-only, after the checks (exists, a database, intact, this version)."""
    if not path.exists():
        raise CopyError(f"there is no SQLite database at {path}")
    if not path.is_file():
        raise CopyError(f"{path} is not a database file")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise CopyError(f"cannot open {path} read-only: {exc}") from exc
    conn.isolation_level = None  # transactions are ours: one read transaction for the copy
    try:
        check = conn.execute("PRAGMA quick_check").fetchall()
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        conn.close()
        raise CopyError(f"{path} cannot be read as a SQLite database: {exc}") from exc
    problems = [str(r[0]) for r in check if r[0] != "ok"]
    known = len(migrations())
    why = None
    if problems:
        why = (
            f"{path} fails SQLite's quick_check ({'; '.join(problems[:3])}): copy a healthy "
            "backup instead (`courtyard restore <backup file>` first)"
        )
    elif version == 0:
        why = f"{path} is not a Courtyard database (no Courtyard tables)"
    elif version < known:
        why = (
            f"{path} has schema version {version}, this Courtyard's is {known}: bring it up to "
            f"date first with `COURTYARD_DB={path} courtyard migrate`, then copy it"
        )
    elif version > known:
        why = (
            f"{path} has schema version {version}, newer than this Courtyard knows ({known}): "
            "upgrade Courtyard first"
        )
    if why is not None:
        conn.close()
        raise CopyError(why)
    return conn


def _source_tables(conn: sqlite3.Connection) -> dict[str, bool]:
    """SQLite's tables of ours -> whether the table has a rowid (not WITHOUT ROWID); SQLite's
    own (sqlite_*) and virtual tables with their shadow tables (the FTS5 index) left out."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [n for n, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    found = {}
    for name, sql in rows:
        if name.startswith("sqlite_") or any(
            name == v or name.startswith(f"{v}_") for v in virtual
        ):
            continue
        found[name] = "WITHOUT ROWID" not in " ".join((sql or "").upper().split())
    return found


def _sqlite_sequence(conn: sqlite3.Connection) -> dict[str, int]:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ).fetchone()
    if exists is None:
        return {}
    return {str(n): int(s) for n, s in conn.execute("SELECT name, seq FROM sqlite_sequence")}


def _source_select(table: Table, has_rowid: bool) -> str:
    columns = ", ".join(
        "rowid" if c.name == "rowid" and has_rowid else _quote(c.name) for c in table.columns
    )
    order = ", ".join(
        f"{'rowid' if c == 'rowid' and has_rowid else _quote(c)} COLLATE BINARY"
        for c in table.order
    )
    return f"SELECT {columns} FROM {_quote(table.name)} ORDER BY {order}"


# --- the target: PostgreSQL --------------------------------------------------------------------


async def _target_tables(conn: Any) -> dict[str, Table]:
    rows = await conn.fetch(
        "SELECT c.relname AS table, a.attname AS column, t.typname AS type,"
        " a.attidentity <> '' AS identity, a.attnum FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        " AND a.attgenerated = ''"
        " JOIN pg_type t ON t.oid = a.atttypid"
        " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        " AND c.relname <> 'courtyard_schema' ORDER BY c.relname, a.attnum"
    )
    keys = await conn.fetch(
        "SELECT c.relname AS table, array_agg(a.attname ORDER BY k.n) AS columns"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
        " WHERE i.indisprimary AND n.nspname = current_schema() GROUP BY c.relname"
    )
    primary = {r["table"]: tuple(r["columns"]) for r in keys}
    columns: dict[str, list[Column]] = {}
    for r in rows:
        columns.setdefault(r["table"], []).append(Column(r["column"], r["type"], r["identity"]))
    return {
        name: Table(name, tuple(cols), primary.get(name) or tuple(c.name for c in cols))
        for name, cols in columns.items()
    }


async def _foreign_key_order(conn: Any, names: Iterable[str]) -> list[str]:
    """The tables, each after every table its foreign keys point at."""
    wanted = set(names)
    rows = await conn.fetch(
        "SELECT src.relname AS child, ref.relname AS parent FROM pg_constraint con"
        " JOIN pg_class src ON src.oid = con.conrelid JOIN pg_class ref ON ref.oid = con.confrelid"
        " JOIN pg_namespace n ON n.oid = src.relnamespace"
        " WHERE con.contype = 'f' AND n.nspname = current_schema()"
    )
    parents: dict[str, set[str]] = {name: set() for name in wanted}
    for r in rows:
        if r["child"] in wanted and r["parent"] in wanted and r["child"] != r["parent"]:
            parents[r["child"]].add(r["parent"])
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(wanted):
        ready = sorted(n for n in wanted - done if parents[n] <= done)
        if not ready:
            raise CopyError(
                "the foreign keys of these tables form a cycle: " + ", ".join(sorted(wanted - done))
            )
        order.extend(ready)
        done.update(ready)
    return order


def _target_select(table: Table) -> str:
    types = {c.name: c.type for c in table.columns}
    order = ", ".join(
        _quote(c)
        + (' COLLATE "C"' if types[c] in ("text", "varchar", "bpchar") else "")
        + " NULLS FIRST"
        for c in table.order
    )
    columns = ", ".join(_quote(c) for c in table.names)
    return f"SELECT {columns} FROM {_quote(table.name)} ORDER BY {order}"


async def _target_digest(conn: Any, table: Table) -> tuple[int, str]:
    """Rows and checksum of one table on PostgreSQL (inside a transaction: a cursor)."""
    h = hashlib.sha256()
    count = 0
    async for record in conn.cursor(_target_select(table), prefetch=BATCH):
        digest_row(h, tuple(record))
        count += 1
    return count, h.hexdigest()


async def _target_version(conn: Any) -> int:
    if await conn.fetchval("SELECT to_regclass('courtyard_schema')") is None:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(max(version), 0) FROM courtyard_schema"))


async def _check_target(conn: Any, url: str) -> None:
    from storage.pg import redact

    known = len(migrations())
    version = await _target_version(conn)
    if version != known:
        if version == 0:
            state = "is not migrated (no Courtyard schema)"
        else:
            state = f"has schema version {version}, this Courtyard's is {known}"
        if version > known:
            hint = "upgrade Courtyard, or copy into a new database"
        else:
            hint = (
                "copy into a new database migrated by this Courtyard: `createdb <name>`, then "
                "`COURTYARD_DB=<url> courtyard migrate`"
            )
        raise CopyError(f"the database {redact(url)} {state}: {hint}")


async def _filled_tables(conn: Any, names: Iterable[str]) -> list[str]:
    filled = []
    for name in names:
        if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_quote(name)})"):
            filled.append(name)
    return filled


def _match(source: dict[str, bool], target: dict[str, Table]) -> None:
    """The two schemas have the same tables (ours) with the same columns."""
    missing = sorted(set(source) - set(target))
    extra = sorted(set(target) - set(source) - set(NOT_COPIED))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"only in SQLite: {', '.join(missing)}")
        if extra:
            parts.append(f"only in PostgreSQL: {', '.join(extra)}")
        raise CopyError(f"the two schemas differ ({'; '.join(parts)})")


def _match_columns(conn: sqlite3.Connection, table: Table, has_rowid: bool) -> None:
    here = [str(r[1]) for r in conn.execute(f"PRAGMA table_info({_quote(table.name)})")]
    there = [n for n in table.names if not (n == "rowid" and has_rowid and n not in here)]
    if sorted(here) != sorted(there):
        raise CopyError(
            f"the table {table.name} has other columns in SQLite ({', '.join(here)}) than in "
            f"PostgreSQL ({', '.join(there)})"
        )


def _values(table: Table) -> Any:
    """Per column, what turns SQLite's value into the one PostgreSQL's COPY takes."""
    fix: list[Any] = []
    for column in table.columns:
        if column.type == "bytea":
            fix.append(lambda v: bytes(v) if isinstance(v, memoryview | bytearray) else v)
        elif column.type in ("float8", "float4"):
            fix.append(lambda v: float(v) if isinstance(v, int) else v)
        else:
            fix.append(None)
    if all(f is None for f in fix):
        return None
    return fix


def _source_batches(
    conn: sqlite3.Connection, table: Table, has_rowid: bool
) -> Iterator[list[tuple[Any, ...]]]:
    """The table's rows in key order, :data:`BATCH` at a time, as PostgreSQL's COPY takes them."""
    fix = _values(table)
    cursor = conn.execute(_source_select(table, has_rowid))
    while True:
        batch = cursor.fetchmany(BATCH)
        if not batch:
            return
        if fix is not None:
            batch = [
                tuple(v if f is None or v is None else f(v) for f, v in zip(fix, row, strict=True))
                for row in batch
            ]
        yield batch


# --- the copy ----------------------------------------------------------------------------------


async def copy(source: Path, url: str) -> CopyResult:
    """Copy every table of the SQLite file ``source`` into the empty PostgreSQL database at
    ``url`` (see the module text); raises :class:`CopyError` when refused, and returns the
    checks (the transaction is rolled back when any differs)."""
    from storage.pg import WRITE_LOCK, _connect, redact

    started = time.perf_counter()
    lite = open_source(source)
    try:
        try:
            pg = await _connect(url)
        except Exception as exc:
            raise CopyError(f"cannot connect to the database {redact(url)}: {exc}") from exc
        try:
            await _check_target(pg, url)
            result = await _copy(lite, pg, url, WRITE_LOCK)
        finally:
            with contextlib.suppress(Exception):
                await pg.close()
    finally:
        lite.close()
    result.seconds = time.perf_counter() - started
    return result


async def _copy(lite: sqlite3.Connection, pg: Any, url: str, write_lock: int) -> CopyResult:
    from storage.pg import redact

    lite.execute("BEGIN")  # one snapshot of the whole file
    try:
        source = _source_tables(lite)
        remembered = _sqlite_sequence(lite)
        target = await _target_tables(pg)
        _match(source, target)
        order = await _foreign_key_order(pg, target)
        transaction = pg.transaction()
        await transaction.start()
        try:
            await pg.execute("SELECT pg_advisory_xact_lock($1)", write_lock)
            filled = await _filled_tables(pg, order)
            if filled:
                raise CopyError(
                    f"the database {redact(url)} already holds rows (in {', '.join(filled)}): "
                    "copy only into a new database, migrated and never used (`createdb "
                    "<name>`, then `COURTYARD_DB=<url> courtyard migrate`)"
                )
            foreign_keys = await _set_foreign_keys_aside(pg)
            checks: list[TableCheck] = []
            sequences: dict[str, int] = {}
            for name in order:
                table = target[name]
                if name in NOT_COPIED:
                    checks.append(TableCheck(name, note=NOT_COPIED[name]))
                    continue
                _match_columns(lite, table, source[name])
                check = TableCheck(name)
                check.source_rows, check.source_sum, highest = await _copy_table(
                    lite, pg, table, source[name]
                )
                check.target_rows, check.target_sum = await _target_digest(pg, table)
                checks.append(check)
                for column in table.columns:
                    if not column.identity:
                        continue
                    # the identity is SQLite's rowid (or its INTEGER PRIMARY KEY alias)
                    top = max(highest.get(column.name) or 0, remembered.get(name, 0))
                    if top >= 1:
                        await pg.execute(
                            "SELECT setval(pg_get_serial_sequence($1, $2), $3, true)",
                            _quote(name),
                            column.name,
                            top,
                        )
                        sequences[f"{name}.{column.name}"] = top + 1
            await _restore_foreign_keys(pg, foreign_keys)
            result = CopyResult(checks, sequences)
            if result.ok:
                await transaction.commit()
            else:
                await transaction.rollback()
        except BaseException:
            with contextlib.suppress(Exception):
                await transaction.rollback()
            raise
    finally:
        lite.execute("ROLLBACK")
    return result


async def _set_foreign_keys_aside(conn: Any) -> list[tuple[str, str, str]]:
    """Drop the foreign keys for the copy (inside its transaction): checking each row as it
    arrives costs a lookup per key per row, adding them back afterwards checks every row at
    once. Kept in place when this user may not alter the tables (not their owner)."""
    import asyncpg

    rows = await conn.fetch(
        "SELECT con.conname AS name, src.relname AS table,"
        " pg_get_constraintdef(con.oid) AS definition FROM pg_constraint con"
        " JOIN pg_class src ON src.oid = con.conrelid"
        " JOIN pg_namespace n ON n.oid = src.relnamespace"
        " WHERE con.contype = 'f' AND n.nspname = current_schema()"
        " ORDER BY src.relname, con.conname"
    )
    found = [(r["name"], r["table"], r["definition"]) for r in rows]
    try:
        async with conn.transaction():  # a savepoint
            for name, table, _ in found:
                await conn.execute(f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {_quote(name)}")
    except asyncpg.InsufficientPrivilegeError:
        return []
    return found


async def _restore_foreign_keys(conn: Any, found: list[tuple[str, str, str]]) -> None:
    import asyncpg

    for name, table, definition in found:
        try:
            await conn.execute(
                f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}"
            )
        except asyncpg.ForeignKeyViolationError as exc:
            raise CopyError(
                f"rows of the table {table} point at rows that are not in the SQLite file "
                f"({exc}); nothing was copied. `PRAGMA foreign_key_check` in the sqlite3 shell "
                "lists them"
            ) from exc


async def _copy_table(
    lite: sqlite3.Connection, pg: Any, table: Table, has_rowid: bool
) -> tuple[int, str, dict[str, int | None]]:
    """Stream one table into PostgreSQL; returns its rows, its checksum and the highest value
    of each integer identity column."""
    from storage.pg import _wrap

    identities = [(i, c.name) for i, c in enumerate(table.columns) if c.identity]
    highest: dict[str, int | None] = {name: None for _, name in identities}
    h = hashlib.sha256()
    count = 0
    for batch in _source_batches(lite, table, has_rowid):
        for row in batch:
            digest_row(h, row)
        for i, name in identities:
            values = [row[i] for row in batch if isinstance(row[i], int)]
            top = highest[name]
            if values and (top is None or max(values) > top):
                highest[name] = max(values)
        count += len(batch)
        try:
            await pg.copy_records_to_table(table.name, records=batch, columns=table.names)
        except Exception as exc:
            wrapped = _wrap(exc)
            raise CopyError(f"copying the table {table.name} failed: {wrapped}") from exc
    return count, h.hexdigest(), highest


# --- verification at any time ------------------------------------------------------------------


async def verify(source: Path, url: str) -> list[TableCheck]:
    """Compare every table of the SQLite file with the PostgreSQL database: rows and checksum,
    computed as the copy computes them. Reads only."""
    from storage.pg import _connect, redact

    lite = open_source(source)
    try:
        try:
            pg = await _connect(url)
        except Exception as exc:
            raise CopyError(f"cannot connect to the database {redact(url)}: {exc}") from exc
        try:
            lite.execute("BEGIN")
            try:
                tables = _source_tables(lite)
                target = await _target_tables(pg)
                _match(tables, target)
                checks = []
                async with pg.transaction(isolation="repeatable_read", readonly=True):
                    for name in await _foreign_key_order(pg, target):
                        table = target[name]
                        if name in NOT_COPIED:
                            checks.append(TableCheck(name, note=NOT_COPIED[name]))
                            continue
                        _match_columns(lite, table, tables[name])
                        h = hashlib.sha256()
                        count = 0
                        for batch in _source_batches(lite, table, tables[name]):
                            for row in batch:
                                digest_row(h, row)
                            count += len(batch)
                        check = TableCheck(name, count, 0, h.hexdigest())
                        check.target_rows, check.target_sum = await _target_digest(pg, table)
                        checks.append(check)
            finally:
                lite.execute("ROLLBACK")
        finally:
            with contextlib.suppress(Exception):
                await pg.close()
    finally:
        lite.close()
    return checks


# --- output ------------------------------------------------------------------------------------


def report(checks: Sequence[TableCheck]) -> str:
    """The checks as a table: rows on each side, the first 16 hex digits of each checksum."""
    width = max([len("table")] + [len(c.name) for c in checks])
    lines = [
        f"{'table':<{width}}  {'SQLite rows':>11}  {'PostgreSQL rows':>15}  "
        f"{'SQLite sha256':<16}  {'PostgreSQL sha256':<17}  result"
    ]
    for c in checks:
        if c.note:
            lines.append(
                f"{c.name:<{width}}  {'':>11}  {'':>15}  {'':<16}  {'':<17}  not copied: {c.note}"
            )
            continue
        result = "ok" if c.ok else "DIFFERENT"
        lines.append(
            f"{c.name:<{width}}  {c.source_rows:>11}  {c.target_rows:>15}  "
            f"{c.source_sum[:16]:<16}  {c.target_sum[:16]:<17}  {result}"
        )
    return "\n".join(lines)


def keys_note(source: Path, url: str) -> str:
    """Where the keys of open secret votes are, and where the bot on PostgreSQL looks."""
    from storage import secrets
    from storage.pg import _local_path

    explicit = os.environ.get("COURTYARD_KEYS_DIR", "").strip()
    if explicit:
        here = f"{Path(explicit).expanduser()} (COURTYARD_KEYS_DIR)"
    else:
        here = str(secrets.default_folder(source))
    there = secrets.default_folder(_local_path(url))
    return (
        "the keys of open secret votes are not in the database: they are files in the keys "
        f"folder {here}. Move that folder yourself, with the bot stopped, to where Courtyard on "
        f"PostgreSQL looks for it: {there} (COURTYARD_PG_LOCAL and COURTYARD_KEYS_DIR change "
        "that); without it, the open secret votes cannot be counted."
    )


def cli_copy(source: Path, url: str) -> int:
    """``courtyard copy --from FILE --to URL``: 0 when copied and verified, else 1."""
    from bot.lock import AlreadyRunning, LockError, ProcessLock
    from storage.pg import is_url, redact

    if not is_url(url):
        print(
            f"courtyard: --to must be a postgresql:// URL (got {url!r}); the source file is "
            "given with --from",
            file=sys.stderr,
        )
        return 2
    source = source.expanduser()
    lock = None
    if source.is_file():
        try:
            lock = ProcessLock(source, "copy").acquire()
        except AlreadyRunning as exc:
            print(f"courtyard: {exc} Stop the bot, then copy.", file=sys.stderr)
            return 1
        except LockError as exc:  # a folder we may not write: no bot of ours runs there
            print(f"note: copying without the database's lock ({exc})")
    try:
        result = asyncio.run(copy(source, url))
    except CopyError as exc:
        print(f"courtyard: {exc}", file=sys.stderr)
        return 1
    finally:
        if lock is not None:
            lock.release()
    print(report(result.checks))
    if not result.ok:
        different = [c.name for c in result.checks if not c.ok]
        print(
            f"courtyard: the copy in {redact(url)} differs from {source} in "
            f"{', '.join(different)}; nothing was kept (the transaction was rolled back)",
            file=sys.stderr,
        )
        return 1
    copied = [c for c in result.checks if not c.note]
    print(
        f"copied {result.rows} rows of {len(copied)} tables from {source} to {redact(url)} in "
        f"{result.seconds:.2f} s: row counts and checksums equal; ids continue above every id "
        "SQLite handed out"
    )
    print(keys_note(source, url))
    print(
        f"then start the bot on PostgreSQL: COURTYARD_DB={redact(url)} courtyard run; keep "
        f"{source} as it is (it was not changed) until the bot runs well there"
    )
    return 0
