"""Running the suites on PostgreSQL too (see README, Tests).

``COURTYARD_TEST_PG=1`` starts one throwaway cluster per test process
(:mod:`storage.pgcluster`); ``COURTYARD_TEST_PG_URL=postgresql://...`` uses a server of the
operator's (its user must be allowed to create databases). Neither set: the PostgreSQL runs are
skipped.

:func:`use_postgresql` makes every ``Database.open(<file>)`` of a test open a PostgreSQL
database instead: one new database per file path, cloned from a migrated template, so a test
that reopens its file finds its data, and the storage modules, the domain and the handlers run
unchanged on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from storage import pgcluster

TEMPLATE = "courtyard_template"

_cluster: pgcluster.Cluster | None = None
_server: str | None = None
_template_ready = False
_numbers = itertools.count(1)


def wanted() -> bool:
    return bool(os.environ.get("COURTYARD_TEST_PG_URL") or os.environ.get("COURTYARD_TEST_PG"))


def server_url() -> str:
    """The URL of the server's maintenance database (starting the cluster on first use)."""
    global _cluster, _server
    if _server is None:
        explicit = os.environ.get("COURTYARD_TEST_PG_URL")
        if explicit:
            _server = explicit
        else:
            _cluster = pgcluster.start()
            _server = _cluster.url("postgres")
    return _server


def database_url(name: str) -> str:
    parts = urlsplit(server_url())
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url())
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _ensure_template() -> None:
    global _template_ready
    if _template_ready:
        return
    from storage.pg import PgDatabase

    name = f"{TEMPLATE}_{os.getpid()}"
    await _admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    db = await PgDatabase.open(database_url(name))
    await db.close()
    _template_ready = True


async def new_database(*, migrated: bool = True) -> str:
    """A new database on the test server: its URL."""
    name = f"courtyard_t{os.getpid()}_{next(_numbers)}"
    if migrated:
        await _ensure_template()
        await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}_{os.getpid()}"')
    else:
        await _admin(f'CREATE DATABASE "{name}"')
    return database_url(name)


def stop() -> None:
    global _cluster, _server, _template_ready
    if _cluster is not None:
        _cluster.stop()
    _cluster = None
    _server = None
    _template_ready = False


class _Router:
    """Database.open(path) -> a PostgreSQL database, one per path."""

    def __init__(self) -> None:
        self.urls: dict[Path, str] = {}
        self.locks: dict[Path, asyncio.Lock] = {}

    async def open(self, path: Any, *, migrate: bool = True, **options: Any) -> Any:
        from storage.pg import PgDatabase, is_url, route

        if is_url(path):
            return await PgDatabase.open(str(path), migrate=migrate, **options)
        key = Path(os.path.abspath(path))  # noqa: ASYNC240 - no I/O: a path computed
        url = self.urls.get(key)
        if url is None:
            url = await new_database(migrated=migrate)
            self.urls[key] = url
        db = await PgDatabase.open(url, migrate=migrate, **options)
        db.path = key  # files kept beside the database (secret votes' keys) stay in tmp_path
        route(key, url)  # the start-up sweep of secret-vote keys finds the database too
        return db


@pytest.fixture
def use_postgresql(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Router]:
    """Every ``Database.open`` of the test opens PostgreSQL (see the module text)."""
    from storage import db as sqlite_db

    router = _Router()

    async def open_pg(cls: Any, /, path: Any, **options: Any) -> Any:
        return await router.open(path, **options)

    monkeypatch.setattr(sqlite_db.Database, "open", classmethod(open_pg))
    yield router
    from storage import pg

    for key in router.urls:
        pg._routes.pop(key, None)
