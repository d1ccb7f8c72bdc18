"""One process per database: an exclusive ``flock`` on ``<database>.lock``, held for the life
of the process.

The kernel drops the lock when the process ends in any way (exit, crash, kill -9, power loss),
so a stale lock cannot exist and there is nothing to "force". The file itself stays beside the
database and is never deleted (deleting it would let two processes lock two different files);
it holds who has (or last had) the lock: pid, host, since when, which command. A refused start
names the holder from it, and ``courtyard migrate`` reads it to tell a database that was lost
(a bot ran on it) from one that never existed.

``courtyard run`` holds the lock while it runs; ``courtyard migrate`` and ``courtyard restore``
take it for their few seconds and refuse while a bot holds it; ``backup`` and ``health`` do not
need it (they are safe beside a running bot).

On PostgreSQL (``COURTYARD_DB=postgresql://...``) there is no file: a long-polling ``courtyard
run`` holds a session-level advisory lock instead (:class:`storage.pg.PollerLock`), and
``courtyard run --webhook`` none (several workers may share the database).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


class LockError(Exception):
    """The lock cannot be taken; the message says why and what to do."""


class AlreadyRunning(LockError):
    """Another process holds the database's lock."""


@dataclass(frozen=True, slots=True)
class Holder:
    pid: int | None
    host: str | None
    since: str | None
    command: str | None

    def describe(self) -> str:
        parts = []
        if self.pid is not None:
            parts.append(f"pid {self.pid}")
        if self.host:
            parts.append(f"on {self.host}")
        if self.since:
            parts.append(f"since {self.since}")
        who = " ".join(parts) or "a process that did not say who it is"
        return f"`courtyard {self.command}` ({who})" if self.command else f"a process ({who})"


def lock_path(db_path: Path) -> Path:
    """``<database>.lock`` beside the real file: a symlinked COURTYARD_DB and its target share
    one lock (SQLite, too, keeps its -wal beside the target)."""
    real = db_path.resolve()
    return real.with_name(f"{real.name}.lock")


def _record(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _holder(data: object) -> Holder:
    if not isinstance(data, dict):
        data = {}
    pid = data.get("pid")
    return Holder(
        pid=pid if isinstance(pid, int) else None,
        host=str(data["host"]) if data.get("host") else None,
        since=str(data["since"]) if data.get("since") else None,
        command=str(data["command"]) if data.get("command") else None,
    )


def read_holder(path: Path) -> Holder:
    """Who holds (or last held) the lock."""
    return _holder(_record(path))


def last_run(db_path: Path) -> Holder | None:
    """The last bot that got as far as starting on this database, if any ever did (kept in
    the lock file across later holders: a refused start does not erase it)."""
    bot = _record(lock_path(db_path)).get("bot")
    return _holder(bot) if isinstance(bot, dict) else None


class ProcessLock:
    """``with ProcessLock(db_path, "run"):`` or :meth:`acquire` / :meth:`release`."""

    def __init__(self, db_path: Path, command: str):
        self.db_path = db_path
        self.path = lock_path(db_path)
        self.command = command
        self._fd: int | None = None
        self._since = ""
        self._bot: object = None
        self.identity: tuple[int, int] | None = None

    def acquire(self) -> ProcessLock:
        for _ in range(10):  # the file may be replaced between our open and our flock
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise LockError(self._cannot_create(exc)) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    holder = read_holder(self.path)
                    raise AlreadyRunning(
                        f"the database {self.db_path} is in use by {holder.describe()}. Only "
                        f"one Courtyard may use a database at a time: stop that one first "
                        f"(its lock is {self.path}, released by the system when it ends)."
                    ) from exc
                raise LockError(f"cannot lock {self.path}: {exc.strerror or exc}") from exc
            held = os.fstat(fd)
            try:
                now = os.stat(self.path)
            except FileNotFoundError:
                os.close(fd)
                continue
            if (held.st_dev, held.st_ino) != (now.st_dev, now.st_ino):
                os.close(fd)
                continue
            self._fd = fd
            self.identity = (held.st_dev, held.st_ino)
            self._since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            self._bot = _record(self.path).get("bot")  # the last bot that ran stays noted
            self._write_holder()
            return self
        raise LockError(f"cannot lock {self.path}: it keeps being replaced")

    def note_started(self) -> None:
        """The bot has started on this database: from now on a missing or empty database
        file means a lost one (``courtyard migrate`` will not make it anew without ``--new``)."""
        self._bot = self._me()
        self._write_holder()

    def _me(self) -> dict[str, object]:
        return {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": self._since,
            "command": self.command,
        }

    def _write_holder(self) -> None:
        assert self._fd is not None
        record = self._me()
        if self._bot is not None:
            record["bot"] = self._bot
        data = (json.dumps(record) + "\n").encode()
        with contextlib.suppress(OSError):  # the lock is what counts; the note is a courtesy
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, data, 0)

    def _cannot_create(self, exc: OSError) -> str:
        reason = exc.strerror or str(exc)
        if exc.errno in (errno.EACCES, errno.EPERM) and self.path.exists():
            try:
                owner: int | str = self.path.stat().st_uid
            except OSError:
                owner = "?"
            return (
                f"cannot open the lock file {self.path} ({reason}): it belongs to uid {owner} "
                f"and Courtyard runs as uid {os.geteuid()} (was Courtyard run once as another "
                "user, such as root?). Give it, and the database files beside it, to the user "
                "running Courtyard (chown)."
            )
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return (
                f"cannot create the lock file {self.path} ({reason}): the folder "
                f"{self.path.parent} must be writable by the user running Courtyard "
                f"(uid {os.geteuid()}); SQLite needs it for the database's -wal and -shm "
                "files too."
            )
        return f"cannot create the lock file {self.path} ({reason})"

    def still_ours(self) -> bool:
        """False when the lock file was deleted or replaced: another process could then take
        a lock of its own on the same database."""
        if self.identity is None:
            return False
        try:
            now = os.stat(self.path)
        except OSError:
            return False
        return (now.st_dev, now.st_ino) == self.identity

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the note of who held it stays
            self._fd = None

    def __enter__(self) -> ProcessLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
