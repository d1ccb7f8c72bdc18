"""Suite-wide guards."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

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
