"""Backups of the database file: online copies, verification, retention, restore, health.

Plain ``sqlite3`` and blocking on purpose: the command line calls these directly and the running
bot calls :func:`backup` in a worker thread (``asyncio.to_thread``), on its own connection.

* :func:`backup` copies with SQLite's online backup API in one step: it reads one consistent
  snapshot (a WAL read transaction), so it is safe while the bot writes, and never blocks the
  bot's writer. The copy is written under a temporary name, switched to the rollback journal
  (one self-contained file), checked, flushed to disk and only then renamed to
  ``<db stem>-YYYYMMDDTHHMMSSZ.sqlite3`` (UTC). Retention then deletes the oldest of *those*
  files beyond ``keep``; nothing else in the folder is touched.
* A backup is the database only. The keys of open secret votes live in the keys folder
  (:mod:`storage.secrets`) and are never copied: a backup taken while a secret vote is open
  holds its ballots sealed, and once the vote closes (its key destroyed) nobody can open them.
  Restored while that vote is still open, the backup counts whole; restored after it closed,
  the start-up sweep tells the group that those ballots cannot be counted.
* :func:`restore` refuses while anything has the database open (SQLite's own lock, taken in
  exclusive locking mode: a running bot always holds the file open, and the lock goes away with
  the process, so there is no stale lock to override), verifies the backup first, keeps the
  current file aside as ``<db>.before-restore-<UTC time>`` and replaces the database atomically.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

#: ``PRAGMA quick_check`` at every start and on every copy: it verifies every page, record and
#: free list, and skips only the index-versus-table cross check of ``integrity_check`` (about
#: 3x slower; see the figures in the closing notes). ``courtyard health --full`` runs the full one.
QUICK = "quick_check"
FULL = "integrity_check"

_STAMP = "%Y%m%dT%H%M%SZ"
_SUFFIX = ".sqlite3"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int
    seconds: float
    check_seconds: float
    removed: list[Path] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RestoreResult:
    restored: Path
    aside: Path | None
    schema_version: int


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_STAMP)


def _pattern(db_path: Path) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(db_path.stem)}-(\d{{8}}T\d{{6}}Z)(?:-(\d+))?{_SUFFIX}$")


def list_backups(db_path: Path, backup_dir: Path) -> list[tuple[datetime, Path]]:
    """This database's backups in ``backup_dir``, oldest first, with their UTC times."""
    if not backup_dir.is_dir():
        return []
    pattern = _pattern(db_path)
    found: list[tuple[datetime, int, Path]] = []
    for entry in backup_dir.iterdir():
        match = pattern.match(entry.name)
        if match and entry.is_file():
            moment = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
            found.append((moment, int(match.group(2) or 0), entry))
    found.sort()
    return [(moment, path) for moment, _, path in found]


def newest_backup(db_path: Path, backup_dir: Path) -> tuple[datetime, Path] | None:
    backups = list_backups(db_path, backup_dir)
    return backups[-1] if backups else None


@contextlib.contextmanager
def _connect(path: Path, *, readonly: bool, timeout: float = 5.0) -> Iterator[sqlite3.Connection]:
    if readonly:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
    else:
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def check(path: Path, *, full: bool = False) -> list[str]:
    """The problems ``PRAGMA quick_check`` (or ``integrity_check``) finds; [] when healthy.

    Opens read-only and never creates the file. A file that is not a database at all is a
    problem too, not an exception.
    """
    if not path.is_file():
        return [f"{path} does not exist"]
    try:
        with _connect(path, readonly=True) as conn:
            rows = conn.execute(f"PRAGMA {FULL if full else QUICK}(20)").fetchall()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    problems = [str(row[0]) for row in rows]
    return [] if problems == ["ok"] else problems


def schema_version(path: Path) -> int:
    with _connect(path, readonly=True) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _disk_message(exc: BaseException, where: Path) -> str | None:
    if isinstance(exc, OSError) and exc.errno == 28:  # ENOSPC
        return f"the disk holding {where} is full: free some space"
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL":
        return f"the disk holding {where} is full: free some space"
    return None


def backup(
    db_path: Path,
    backup_dir: Path,
    *,
    keep: int,
    now: datetime | None = None,
    full_check: bool = False,
) -> BackupResult:
    """Copy ``db_path`` into ``backup_dir`` (created if missing), verify it, apply retention."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    if not db_path.is_file():
        raise BackupError(f"there is no database at {db_path} to back up")
    moment = now or datetime.now(UTC)
    try:
        backup_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create the backup folder {backup_dir}: {exc}") from exc
    name = f"{db_path.stem}-{stamp(moment)}"
    target = backup_dir / f"{name}{_SUFFIX}"
    n = 1
    while target.exists():  # two backups within one second
        target = backup_dir / f"{name}-{n}{_SUFFIX}"
        n += 1
    partial = backup_dir / f".{target.name}.partial"
    started = time.perf_counter()
    try:
        with (
            _connect(db_path, readonly=False) as source,
            _connect(partial, readonly=False) as copy,
        ):
            source.backup(copy)  # one step: one consistent snapshot, writers keep going
            copy.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
        copied = time.perf_counter()
        problems = check(partial, full=full_check)
        if problems:
            raise BackupError(
                f"the copy of {db_path} failed its integrity check ({'; '.join(problems[:3])}); "
                "the database itself may be damaged: run `courtyard health --full`"
            )
        _fsync_file(partial)
        os.replace(partial, target)
        _fsync_dir(backup_dir)
    except BackupError:
        _remove_quietly(partial)
        raise
    except (OSError, sqlite3.Error) as exc:
        _remove_quietly(partial, Path(f"{partial}-journal"))
        message = _disk_message(exc, backup_dir)
        if message is None and getattr(exc, "sqlite_errorname", "") in (
            "SQLITE_BUSY",
            "SQLITE_LOCKED",
        ):
            message = (
                f"{db_path} is locked by another program (a long exclusive transaction); "
                "try again later"
            )
        raise BackupError(f"backup failed: {message or exc}") from exc
    finished = time.perf_counter()
    removed = prune(db_path, backup_dir, keep=keep)
    return BackupResult(
        path=target,
        size=target.stat().st_size,
        seconds=finished - started,
        check_seconds=finished - copied,
        removed=removed,
    )


def prune(db_path: Path, backup_dir: Path, *, keep: int) -> list[Path]:
    """Delete this database's oldest backups beyond the newest ``keep``; returns them."""
    backups = list_backups(db_path, backup_dir)
    doomed = [path for _, path in backups[: max(len(backups) - keep, 0)]]
    for path in doomed:
        _remove_quietly(path)
        log.info("removed old backup %s", path.name)
    return doomed


def verify_backup(backup_file: Path, *, known_version: int) -> int:
    """Raise BackupError unless ``backup_file`` is a healthy Courtyard database this version
    can open; returns its schema version."""
    if not backup_file.is_file():
        raise BackupError(f"there is no backup file {backup_file}")
    problems = check(backup_file, full=True)
    if problems:
        raise BackupError(
            f"{backup_file} is not a healthy database ({'; '.join(problems[:3])}); "
            "pick another backup"
        )
    version = schema_version(backup_file)
    if version < 1:
        raise BackupError(f"{backup_file} is a SQLite file but not a Courtyard database")
    if version > known_version:
        raise BackupError(
            f"{backup_file} has schema version {version}, newer than this Courtyard knows "
            f"({known_version}): restore it with a newer Courtyard"
        )
    return version


def _take_aside(db_path: Path, moment: datetime) -> Path | None:
    """Make sure nothing has ``db_path`` open, fold its WAL into the main file, and keep a
    copy beside it. Returns the copy's path (None when there was no database)."""
    if not db_path.exists():
        return None
    aside = db_path.with_name(f"{db_path.name}.before-restore-{stamp(moment)}")
    folded = False
    try:
        with _connect(db_path, readonly=False, timeout=0.2) as conn:
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")  # fails while any other connection has it open
            conn.execute("COMMIT")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode = DELETE")
            folded = True
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED"):
            raise BackupError(
                f"{db_path} is in use (the bot or another program has it open): stop the bot "
                "first, then run the restore again"
            ) from exc
        raise BackupError(f"cannot prepare {db_path} for the restore: {exc}") from exc
    except sqlite3.DatabaseError:
        # Too damaged to open: nothing can be using it as a database. Keep it as it is.
        pass
    try:
        shutil.copy2(db_path, aside)
        _fsync_file(aside)
        if not folded:  # keep the damaged file's journal files with it, under the new name
            for ext in ("-wal", "-shm", "-journal"):
                extra = Path(f"{db_path}{ext}")
                if extra.exists():
                    os.replace(extra, Path(f"{aside}{ext}"))
    except OSError as exc:
        _remove_quietly(aside)
        raise BackupError(
            f"cannot keep the current database aside: {_disk_message(exc, db_path) or exc}"
        ) from exc
    return aside


def _carry_sequences(current: Path, staged: Path) -> None:
    """Ids are forever, also across a restore: an older backup's id sequences are behind the
    ids the bot showed since (cards, buttons, calendar UIDs), so the restored copy continues
    each sequence from the higher of the two. A current file that cannot be read (gone,
    damaged) has nothing to carry."""
    if not current.is_file():
        return
    try:
        with _connect(current, readonly=True) as source:
            seen = source.execute("SELECT name, seq FROM sqlite_sequence").fetchall()
    except sqlite3.Error:
        return
    with _connect(staged, readonly=False) as copy:
        has_sequences = copy.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
        ).fetchone()
        if not has_sequences:  # a backup from before ids were forever: 0009 seeds it
            return
        for name, seq in seen:
            updated = copy.execute(
                "UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?", (seq, name)
            ).rowcount
            if not updated:
                exists = copy.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
                ).fetchone()
                if exists:
                    copy.execute(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, seq)
                    )
        copy.commit()


def restore(
    backup_file: Path, db_path: Path, *, known_version: int, now: datetime | None = None
) -> RestoreResult:
    """Replace ``db_path`` with a verified copy of ``backup_file`` (see the module text)."""
    version = verify_backup(backup_file, known_version=known_version)
    if not db_path.parent.is_dir():
        raise BackupError(f"the folder for the database does not exist: {db_path.parent}")
    moment = now or datetime.now(UTC)
    staged = db_path.with_name(f".{db_path.name}.restoring")
    _remove_quietly(staged)
    try:
        with (
            _connect(backup_file, readonly=True) as source,
            _connect(staged, readonly=False) as copy,
        ):
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")
        problems = check(staged)
        if problems:
            raise BackupError(f"the restored copy failed its check: {'; '.join(problems[:3])}")
        _carry_sequences(db_path, staged)
        _fsync_file(staged)
        aside = _take_aside(db_path, moment)
        for ext in ("-wal", "-shm", "-journal"):  # nothing stale may be replayed on top
            _remove_quietly(Path(f"{db_path}{ext}"))
        os.replace(staged, db_path)
        _fsync_dir(db_path.parent)
    except BackupError:
        _remove_quietly(staged)
        raise
    except (OSError, sqlite3.Error) as exc:
        _remove_quietly(staged, Path(f"{staged}-journal"))
        raise BackupError(f"restore failed: {_disk_message(exc, db_path) or exc}") from exc
    return RestoreResult(restored=db_path, aside=aside, schema_version=version)
