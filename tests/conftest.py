"""Suite-wide guards."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _sqlite_threads() -> set[threading.Thread]:
    return {
        t for t in threading.enumerate() if "_connection_worker_thread" in t.name and t.is_alive()
    }


@pytest.fixture(autouse=True)
def no_leaked_database_connections() -> Iterator[None]:
    """Every aiosqlite connection a test opens must be closed: an open one keeps a non-daemon
    thread alive, and the test process would never exit."""
    before = _sqlite_threads()
    yield
    deadline = time.monotonic() + 2.0
    leaked = _sqlite_threads() - before
    while leaked and time.monotonic() < deadline:
        time.sleep(0.01)
        leaked = _sqlite_threads() - before
    assert not leaked, f"{len(leaked)} database connection(s) left open"


# --- new SQLite files start as a copy of one migrated file -----------------------------------
#
# Creating a database applies every migration: ~260 statements, each of which makes SQLite
# parse the whole schema again, 0.12-0.15 s a file; an end-to-end test opens one or more new
# files, and a copy of an already migrated file opens in 0.01 s. Each test process migrates one
# file once, with the real migrations, and a test's new file starts as a copy of it: the same
# schema at the same version, made the same way. The storage suite (tests/storage), where
# migrating a new file is what is tested, and tests marked ``fresh_schema`` create their files
# from nothing as production does.

_template_file: Path | None = None


def _migrated_template(folder: Path) -> Path:
    global _template_file
    if _template_file is None or not _template_file.exists():
        from storage.db import Database

        path = folder / "template.sqlite3"

        async def make() -> None:
            db = await Database.open(path, create=True)
            await db.close()  # the last connection folds the WAL into the file

        asyncio.run(make())
        _template_file = path
    return _template_file


def _copy_if_new(template: Path, target: Path, creating: bool) -> None:
    """Copy the migrated file where ``Database.open`` would create a new one."""
    if (
        creating
        and str(target) != ":memory:"
        and target.parent.is_dir()
        and not target.exists()
        and not any(Path(f"{target}{end}").exists() for end in ("-wal", "-journal", "-shm"))
    ):
        with contextlib.suppress(OSError):  # e.g. a read-only folder: open says why
            shutil.copyfile(template, target)


@pytest.fixture(scope="session")
def _template_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("template")


@pytest.fixture(autouse=True)
def new_databases_from_a_template(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _template_folder: Path
) -> None:
    if request.node.get_closest_marker("fresh_schema") is not None:
        return
    if "tests/storage/" in Path(str(request.node.path)).as_posix():
        return
    from storage.db import Database

    template = _migrated_template(_template_folder)
    opener = Database.__dict__["open"].__func__

    async def open_from_template(
        cls: Any,
        path: str | Path,
        *,
        migrate: bool = True,
        check: bool = True,
        create: bool | None = None,
    ) -> Any:
        if migrate:
            _copy_if_new(template, Path(path), cls.create_missing if create is None else create)
        return await opener(cls, path, migrate=migrate, check=check, create=create)

    monkeypatch.setattr(Database, "open", classmethod(open_from_template))
