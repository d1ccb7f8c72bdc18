"""Several webhook workers on one PostgreSQL, as real processes, for tests/crash/test_workers.py
and bench/workers_bench.py.

A worker is ``python -m tests.crash.workers_harness``: the Courtyard application
(``bot.app.build_app``) served by ``bot.webhook.run_webhook`` — what ``courtyard run
--webhook`` runs — on the PostgreSQL database of ``COURTYARD_DB``, opened directly so a
worker can be started with bench-only settings (the lease, the guard switched off); the default
crash trial runs real ``courtyard run --webhook`` processes instead. The start-up sweep of
secret-vote keys is left out (these trials hold no secret vote). Its settings come from the
environment:

``COURTYARD_TOKEN``, ``COURTYARD_API_URL``, ``COURTYARD_DB`` (the URL; a file path runs one
worker on SQLite, as ``courtyard run --webhook`` does), ``WORKER_PORT``,
``WORKER_SECRET``, ``WORKER_LEASE`` (seconds, the scheduled rows' lease), ``WORKER_KEYS``
(the keys folder), ``WORKER_FAST=1`` (card edits 0.5 s apart instead of 3 s, for the bench),
``WORKER_GUARD=0`` (the bench's measure of the chat locks' cost: the worker shares the budgets
and the scheduled rows but takes no chat lock, so one chat's updates may run at two workers at
once — never for a real deployment).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.crash.harness import ROOT, BotProcess, clean_env

SECRET = "workers-trial-secret-token-0123456789"
WEBHOOK_URL = "https://courtyard.example/hook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WorkerProcess(BotProcess):
    """One worker process (``python -m tests.crash.workers_harness``) on ``port``."""

    def __init__(self, env: dict[str, str], cwd: Path, port: int):
        super().__init__({**env, "WORKER_PORT": str(port)}, cwd)
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    #: run ``courtyard run --webhook`` itself (the scheduled rows' lease is then its 30 s)
    cli = False

    async def start(self) -> None:
        if self.cli:
            env = {
                **self.env,
                "COURTYARD_WEBHOOK_URL": WEBHOOK_URL,
                "COURTYARD_WEBHOOK_SECRET": self.env["WORKER_SECRET"],
                "COURTYARD_LISTEN": "127.0.0.1",
                "COURTYARD_PORT": str(self.port),
                "COURTYARD_BACKUP_HOURS": "0",
                "COURTYARD_KEYS_DIR": self.env["WORKER_KEYS"],
            }
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "--webhook",
                env=env,
                cwd=self.cwd,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            self._reader = asyncio.create_task(self._read())
            return
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.crash.workers_harness",
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())

    @property
    def name(self) -> str | None:
        """The worker's name in the scheduled rows (logged at start)."""
        for line in self.lines:
            if ": order per chat" in line and "worker " in line:
                return line.split("worker ", 1)[1].split(": order per chat", 1)[0]
        return None


def worker_env(
    token: str, api_url: str, db_url: str, workdir: Path, **extra: str
) -> dict[str, str]:
    return clean_env(
        COURTYARD_TOKEN=token,
        COURTYARD_API_URL=api_url,
        COURTYARD_DB=db_url,
        COURTYARD_LOG_LEVEL="INFO",
        WORKER_SECRET=SECRET,
        WORKER_KEYS=str(workdir / "keys"),
        **extra,
    )


def main() -> None:
    from telegram import Update

    import bot.app
    from bot.config import Settings
    from bot.webhook import run_webhook
    from storage import db as sqlite_db
    from storage import secrets
    from storage.pg import PgDatabase, is_url

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    url = os.environ["COURTYARD_DB"]

    async def open_pg(cls: Any, /, path: Any, **options: Any) -> Any:
        return await PgDatabase.open(url, **options)

    keys = Path(os.environ["WORKER_KEYS"])
    if is_url(url):
        sqlite_db.Database.open = classmethod(open_pg)  # type: ignore[method-assign,assignment]
        secrets.sweep = lambda db_path, store=None: secrets.Sweep()  # type: ignore[assignment]
        db_path = keys.parent / "pg-placeholder.sqlite3"
    else:  # one worker on SQLite (the bench's baseline): the file, as courtyard run opens it
        db_path = Path(url)
    settings = Settings(
        token=os.environ["COURTYARD_TOKEN"],
        db_path=db_path,
        api_url=os.environ["COURTYARD_API_URL"],
        keys_dir=keys,
        backup_hours=0,
    )
    lease = float(os.environ.get("WORKER_LEASE", "30"))
    options: dict[str, Any] = {"lease": timedelta(seconds=lease)}
    limits = None
    if os.environ.get("WORKER_FAST") == "1":
        from bot.outbox import Limits

        limits = Limits(edit_interval=0.5, private_edit_interval=0.5)
    if os.environ.get("WORKER_GUARD") == "0":
        import bot.workers

        attach = bot.workers.attach

        async def attach_without_guard(app: Any, services: Any) -> bool:
            attached = await attach(app, services)
            app.update_processor.guard = None  # the pool still closes at detach
            return attached

        bot.workers.attach = attach_without_guard  # type: ignore[assignment]
    app = bot.app.build_app(settings, limits=limits, scheduler_options=options)
    run_webhook(
        app,
        listen="127.0.0.1",
        port=int(os.environ["WORKER_PORT"]),
        url_path="hook",
        webhook_url=WEBHOOK_URL,
        secret=os.environ["WORKER_SECRET"],
        allowed_updates=Update.ALL_TYPES,
    )


if __name__ == "__main__":
    os.chdir(ROOT)
    asyncio.set_event_loop(None)
    main()
