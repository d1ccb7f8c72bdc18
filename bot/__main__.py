"""``courtyard`` / ``python -m bot``: run the bot, apply migrations, back up and restore.

courtyard run [--webhook]      long polling, or a webhook server (stops cleanly on SIGINT/SIGTERM);
                               takes a verified backup every COURTYARD_BACKUP_HOURS while it runs;
                               never creates the database, refuses a second process on it
courtyard migrate              create or upgrade the database, then exit
courtyard backup [--to DIR]    online, verified backup; keeps the newest COURTYARD_BACKUP_KEEP
courtyard restore FILE         replace the (stopped) bot's database with a verified backup
courtyard health [--full]      the database opens and passes quick_check: exit 0, else 1
courtyard playground [--demo]  a fake Telegram, the bot against it and a chat page in the browser

``run``, ``migrate`` and ``restore`` take the database's process lock (bot/lock.py): while a bot
runs, a second ``run`` and any ``migrate`` or ``restore`` are refused, naming the running one.

With ``COURTYARD_DB=postgresql://...`` (:func:`cmd_run_pg`): ``run`` (long polling) holds the
database's poller lock (a session-level advisory lock, :class:`storage.pg.PollerLock`) instead
of the lock file; ``run --webhook`` holds none, since several workers may share the database
(:func:`several_workers` is where that is decided); the file checks and file backups do not
apply: ``backup`` and ``restore`` point to ``pg_dump`` / ``pg_restore``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot import __version__
from bot.config import ConfigError, Settings, load_settings

log = logging.getLogger("courtyard")

#: PTB JobQueue name of the automatic backup.
BACKUP_JOB = "courtyard-backup"
#: PTB JobQueue name of the check that the database file is still the one opened.
WATCH_JOB = "courtyard-watch-db"
#: Seconds between two such checks (each is two ``stat`` calls).
WATCH_SECONDS = 2.0
#: bot_data key: why the bot stopped on its own (the exit status is then 1).
FATAL = "courtyard_fatal"


class RedactingFormatter(logging.Formatter):
    """The token (and the webhook secret) never reach a log line, whatever logged them:
    messages, and tracebacks too (PTB's and httpx's exceptions carry request URLs, and the URL
    holds the token)."""

    def __init__(self, fmt: str, secret: str | None, webhook_secret: str | None = None):
        super().__init__(fmt)
        self.secret = secret
        self.secrets = [
            (x, tag) for x, tag in ((secret, "<token>"), (webhook_secret, "<secret>")) if x
        ]

    def format(self, record: logging.LogRecord) -> str:
        record = _one_line_storage_errors(record)
        text = super().format(record)
        for secret, tag in self.secrets:
            text = text.replace(secret, tag)
        return text


def _one_line_storage_errors(record: logging.LogRecord) -> logging.LogRecord:
    """A storage problem the operator can act on (full disk, read-only file, database gone)
    is one sentence, not a traceback: "handling X failed: the database ... is full ..."."""
    from storage.db import DatabaseError

    exc = record.exc_info[1] if record.exc_info else None
    if not isinstance(exc, DatabaseError):
        return record
    copy = logging.makeLogRecord(record.__dict__)
    copy.msg = f"{record.getMessage()}: {exc}"
    copy.args = None
    copy.exc_info = None
    copy.exc_text = None
    return copy


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s",
            settings.token,
            settings.webhook_secret,
        )
    )
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    # httpx logs every request URL at INFO, and the URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # python-telegram-bot and aiosqlite log message texts, button data (a secret ballot's choice)
    # and SQL values at DEBUG: they never go below INFO, whatever COURTYARD_LOG_LEVEL says
    for name in ("telegram", "aiosqlite"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="courtyard",
        description="Courtyard: a Telegram bot for the residents of a building. "
        "Configuration comes from COURTYARD_* environment variables (or a .env file).",
    )
    p.add_argument("--version", action="version", version=f"courtyard {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates on a webhook server (COURTYARD_WEBHOOK_URL, "
        "COURTYARD_WEBHOOK_SECRET, COURTYARD_LISTEN, COURTYARD_PORT) instead of long polling",
    )
    migrate = sub.add_parser(
        "migrate",
        help="create or upgrade the database and exit",
        description="Apply pending migrations; create the database when there is none. A "
        "database that is missing although a bot ran on it (its lock file says so) or backups "
        "of it exist is not silently made anew: restore a backup, or pass --new.",
    )
    migrate.add_argument(
        "--new",
        action="store_true",
        help="create a new, empty database even though one existed here before",
    )
    backup = sub.add_parser(
        "backup",
        help="write a verified copy of the database (safe while the bot runs)",
        description="Copy the database with SQLite's online backup API into COURTYARD_BACKUP_DIR "
        "(or --to DIR) as <name>-<UTC time>.sqlite3, check the copy, then delete the oldest "
        "backups beyond COURTYARD_BACKUP_KEEP.",
    )
    backup.add_argument("--to", metavar="DIR", type=Path, help="folder for the backup")
    restore = sub.add_parser(
        "restore",
        help="replace the database with a backup (stop the bot first)",
        description="Verify the backup, keep the current database beside it as "
        "<db>.before-restore-<UTC time>, then put the backup in place atomically. Refused while "
        "the bot or any other program has the database open.",
    )
    restore.add_argument("backup_file", metavar="FILE", type=Path, help="the backup to restore")
    health = sub.add_parser(
        "health",
        help="check that the database opens and is intact (exit 0 healthy, 1 not)",
    )
    health.add_argument(
        "--full", action="store_true", help="PRAGMA integrity_check instead of quick_check"
    )
    copy = sub.add_parser(
        "copy",
        help="copy a SQLite database into a new PostgreSQL one, verified (stop the bot first)",
        description="Copy every table of the SQLite file into the PostgreSQL database (created "
        "with createdb and migrated by `courtyard migrate`, holding no rows), in one "
        "transaction; compare row counts and a SHA-256 per table on both sides; exit 1 on any "
        "difference. The SQLite file is only read. The keys folder of secret votes is not in "
        "the database: move it yourself.",
    )
    copy.add_argument(
        "--from", dest="source", metavar="FILE", type=Path, required=True, help="the SQLite file"
    )
    copy.add_argument(
        "--to", dest="target", metavar="URL", required=True, help="postgresql://user@host/dbname"
    )
    play = sub.add_parser(
        "playground",
        help="try Courtyard in the browser: a fake Telegram, the bot, and a local chat page",
        description="Start a fake Telegram Bot API, the bot against it (as `courtyard run` "
        "runs it) and a web page that looks like a Telegram group chat; print its address. "
        "No token, no internet. The database is a file in a temporary folder unless --db.",
    )
    play.add_argument("--port", type=int, default=8090, help="the page's port (default 8090)")
    play.add_argument(
        "--host", default="127.0.0.1", help="the page's address (default: loopback only)"
    )
    play.add_argument(
        "--lang",
        default="en",
        choices=["en", "zh", "zh-hant", "ru"],
        help="language of the building (zh: Simplified Chinese, zh-hant: Traditional)",
    )
    play.add_argument(
        "--demo", action="store_true", help="prepare a building: units, a poll, an event, ..."
    )
    play.add_argument(
        "--forum",
        action="store_true",
        help="make the group a forum with topics (General, Repairs, Events, Sell & give away)",
    )
    play.add_argument("--db", metavar="FILE", help="keep the database in FILE")
    return p


def _load(require_token: bool, require_webhook: bool = False) -> Settings:
    try:
        return load_settings(require_token=require_token, require_webhook=require_webhook)
    except ConfigError as exc:
        print("courtyard: the configuration has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def _lock(settings: Settings, command: str) -> Any:
    """The database's process lock, or None after printing why it cannot be had."""
    from bot.lock import LockError, ProcessLock

    try:
        return ProcessLock(settings.db_path, command).acquire()
    except LockError as exc:
        print(f"courtyard: {exc}", file=sys.stderr)
        return None


def lost_database(settings: Settings, state: str | None = None) -> str | None:
    """Why a missing database must have existed (a bot ran on it, backups of it exist), or
    None when nothing says it ever did."""
    from bot.lock import last_run
    from storage import backup

    traces = []
    holder = last_run(settings.db_path)
    if holder is not None:
        traces.append(f"Courtyard ran on it ({holder.describe()})")
    backups = backup.list_backups(settings.db_path, settings.backup_dir)
    hint = "`courtyard restore <backup file>`"
    if backups:
        newest = backups[-1][1]
        traces.append(f"{len(backups)} backup(s) of it, the newest {newest}")
        hint = f"`courtyard restore {newest}`"
    if not traces:
        return None
    state = state or f"there is no database at {settings.db_path}"
    return (
        f"{state}, but there was one: {'; '.join(traces)}. "
        "It was deleted, its volume is not mounted, or COURTYARD_DB is wrong. Put the newest "
        f"backup in place with {hint}, or begin again with an empty database: "
        "`courtyard migrate --new`."
    )


def _set_aside_strays(db_path: Path) -> None:
    """The -wal, -shm and -journal files of a database that was deleted (SQLite keeps them
    when its file vanished under it) would be replayed into a new file at the same path:
    keep them aside, renamed, for whoever wants to look at them."""
    from storage import backup

    when = backup.stamp(datetime.now(UTC))
    for ext in ("-wal", "-shm", "-journal"):
        stray = Path(f"{db_path}{ext}")
        if stray.exists():
            aside = stray.with_name(f"{stray.name}.before-new-{when}")
            stray.rename(aside)
            print(f"kept {stray} of the deleted database aside as {aside}")


def cmd_migrate(new: bool = False) -> int:
    import os

    from storage.db import Database, DatabaseError
    from storage.pg import cli_migrate, is_url

    if is_url(os.environ.get("COURTYARD_DB", "")):  # PostgreSQL (issue 18)
        return cli_migrate(os.environ["COURTYARD_DB"])
    settings = _load(require_token=False)
    setup_logging(settings)
    if not new and not settings.db_path.exists():
        lost = lost_database(settings)
        if lost is not None:
            print(f"courtyard: {lost}", file=sys.stderr)
            return 1
    if not new and settings.db_path.is_file() and _schema_version(settings.db_path) == 0:
        empty = f"the database {settings.db_path} is empty (no Courtyard tables)"
        lost = lost_database(settings, state=empty)
        if lost is not None:  # emptied or replaced by an empty file, not a first start
            print(f"courtyard: {lost}", file=sys.stderr)
            return 1
    lock = _lock(settings, "migrate")
    if lock is None:
        return 1
    if new and not settings.db_path.exists():
        _set_aside_strays(settings.db_path)

    async def go() -> list[str]:
        db = await Database.open(settings.db_path, migrate=False)
        try:
            return await db.migrate()
        finally:
            await db.close()

    try:
        applied = asyncio.run(go())
    except DatabaseError as exc:
        print(f"courtyard: {exc}", file=sys.stderr)
        return 1
    finally:
        lock.release()
    print(
        f"{settings.db_path}: {len(applied)} migration(s) applied"
        + (f" ({', '.join(applied)})" if applied else ", already up to date")
    )
    return 0


def schedule_backups(app: Any, settings: Settings, now: datetime | None = None) -> bool:
    """Add the automatic backup to the app's JobQueue: every ``backup_hours``, the first one
    when the newest backup in the folder is that old (at once if there is none), so restarts
    neither skip nor repeat a day. Returns False when automatic backups are off."""
    from storage import backup

    if settings.backup_hours <= 0 or app.job_queue is None:
        return False
    interval = timedelta(hours=settings.backup_hours)
    newest = backup.newest_backup(settings.db_path, settings.backup_dir)
    moment = now or datetime.now(UTC)
    due = timedelta(0) if newest is None else newest[0] + interval - moment
    # seconds, at least one (PTB reads a zero ``first`` as "not given": one interval from now)
    first = max(due.total_seconds(), 1.0)
    app.job_queue.run_repeating(
        _backup_job,
        interval=interval,
        first=first,
        name=BACKUP_JOB,
        data=settings,
        job_kwargs={"misfire_grace_time": None, "coalesce": True},  # late beats never
    )
    log.info(
        "automatic backup every %d h into %s (keeping %d), next in %d min",
        settings.backup_hours,
        settings.backup_dir,
        settings.backup_keep,
        first // 60,
    )
    return True


def watch_database(app: Any, lock: Any) -> None:
    """Every WATCH_SECONDS, check that the database file (and its -wal) is still the one the
    bot opened, and that the process lock file is still ours; if not, stop loudly. Writes check
    the file at every commit too (``Database.write``); this catches a quiet bot."""
    if app.job_queue is None:  # pragma: no cover - the job-queue extra is a dependency
        return
    app.job_queue.run_repeating(
        _watch_job, interval=WATCH_SECONDS, first=WATCH_SECONDS, name=WATCH_JOB, data=lock
    )


async def _watch_job(context: Any) -> None:
    from storage.db import DatabaseGone

    services = context.application.bot_data.get("services")
    if services is None:
        return
    try:
        services.db.check_file()
    except DatabaseGone as exc:
        stop_on_fatal(context.application, str(exc))
        return
    lock = context.job.data
    if lock is not None and not lock.still_ours() and getattr(lock, "lost", None):
        stop_on_fatal(context.application, lock.lost)  # PostgreSQL's poller lock
        return
    if lock is not None and not lock.still_ours():
        stop_on_fatal(
            context.application,
            f"the lock file {lock.path} was deleted or replaced while Courtyard was running, so "
            "a second Courtyard could now start on the same database; Courtyard stops. Start it "
            "again (the lock file is never stale: the system releases it when the bot ends, so "
            "it need not be deleted)",
        )


def stop_on_fatal(app: Any, message: str) -> None:
    """Log one CRITICAL line, remember it (exit status 1) and stop the application."""
    if app.bot_data.get(FATAL):
        return
    app.bot_data[FATAL] = message
    log.critical("stopping: %s", message)
    app.stop_running()


async def _on_database_gone(update: object, context: Any) -> None:
    """Error handler beside the app's own: a write found the database file gone."""
    from storage.db import DatabaseGone

    if isinstance(context.error, DatabaseGone):
        stop_on_fatal(context.application, str(context.error))


async def _backup_job(context: Any) -> None:
    from storage import backup

    settings: Settings = context.job.data
    try:
        result = await asyncio.to_thread(
            backup.backup, settings.db_path, settings.backup_dir, keep=settings.backup_keep
        )
    except backup.BackupError as exc:
        log.error("automatic backup failed: %s", exc)
        return
    log.info(
        "backup written: %s (%.1f MB in %.2f s, verified)%s",
        result.path,
        result.size / 1e6,
        result.seconds,
        f"; removed {len(result.removed)} old backup(s)" if result.removed else "",
    )


def _say(settings: Settings, key: str, **params: Any) -> None:
    """One translated line on stderr, in COURTYARD_LANGUAGE."""
    from bot.i18n import t

    print(f"courtyard: {t(settings.language, key, **params)}", file=sys.stderr)


def several_workers(webhook: bool) -> bool:
    """Whether this process may share its PostgreSQL database with other Courtyard processes:
    webhook workers may (behind a load balancer); a long poller may not (Telegram gives
    updates to one poller), so it holds the poller lock."""
    return webhook


def cmd_run_pg(settings: Settings, webhook: bool) -> int:
    """``courtyard run`` on PostgreSQL: the schema checked (and pending migrations applied, as
    on SQLite), the poller lock for long polling, then the bot."""
    from storage import pg
    from storage.db import DatabaseError, migrations

    assert settings.db_url is not None
    url, shown = settings.db_url, pg.redact(settings.db_url)
    lock: Any = _NoLock()
    if not several_workers(webhook):
        try:
            lock = pg.PollerLock(url, "run").acquire()
        except DatabaseError as exc:
            print(f"courtyard: {exc}", file=sys.stderr)
            return 1
    else:
        log.info(
            "webhook worker on %s: other `courtyard run --webhook` processes may share this "
            "database (no poller lock)",
            shown,
        )
    try:

        async def check() -> int:
            db = await pg.PgDatabase.open(url, migrate=False, readers=0)
            try:
                version = await db.schema_version()
                if version > 0:
                    await db.migrate()  # pending ones, as on SQLite; refuses a newer schema
                return version
            finally:
                await db.close()

        try:
            version = asyncio.run(check())
        except DatabaseError as exc:
            print(f"courtyard: {exc}", file=sys.stderr)
            return 1
        if version == 0:
            _say(settings, "cli.pg_not_migrated", db=shown, command="courtyard migrate")
            return 1
        log.info("database %s: schema %d, up to date", shown, len(migrations()))
        pg.route(settings.db_path, url)
        return _run(settings, webhook, lock, None)
    finally:
        lock.release()


class _NoLock:
    """A webhook worker on PostgreSQL holds no process lock."""

    lost = None

    def still_ours(self) -> bool:
        return True

    def note_started(self) -> None:
        pass

    def release(self) -> None:
        pass


def cmd_run(webhook: bool = False) -> int:
    from storage.db import Database, DatabaseError, missing_message

    settings = _load(require_token=True, require_webhook=webhook)
    setup_logging(settings)
    Database.create_missing = False  # no connection of this process ever creates a database
    if settings.db_url is not None:
        return cmd_run_pg(settings, webhook)

    def missing() -> int:
        lost = lost_database(settings)
        print(f"courtyard: {lost or missing_message(settings.db_path)}", file=sys.stderr)
        return 1

    if not settings.db_path.exists():  # before the lock: a refused start leaves nothing behind
        return missing()
    lock = _lock(settings, "run --webhook" if webhook else "run")
    if lock is None:
        return 1
    try:
        if not settings.db_path.exists():  # again under the lock: no one creates it meanwhile
            return missing()
        if not settings.db_path.is_file():
            print(f"courtyard: {settings.db_path} is not a database file", file=sys.stderr)
            return 1
        if _schema_version(settings.db_path) == 0:  # an empty file is no database either
            empty = f"the database {settings.db_path} is empty (no Courtyard tables)"
            lost = lost_database(settings, state=empty)
            print(
                f"courtyard: {lost or empty + ': create one with `courtyard migrate`.'}",
                file=sys.stderr,
            )
            return 1
        try:
            identity = asyncio.run(preflight(settings.db_path))
        except DatabaseError as exc:
            print(f"courtyard: {exc}", file=sys.stderr)
            return 1
        return _run(settings, webhook, lock, identity)
    finally:
        lock.release()


def _schema_version(path: Path) -> int | None:
    """The file's ``user_version`` read-only (never creating anything), None when it cannot
    be read (the start-up check then says why)."""
    import sqlite3

    from storage import backup

    try:
        return backup.schema_version(path)
    except sqlite3.Error:
        return None


async def preflight(path: Path) -> tuple[int, int] | None:
    """Open the database before anything talks to Telegram: never create it, check it
    (quick_check), make sure it can be written, apply pending migrations. Returns the file's
    identity, which the bot's own connection must find again."""
    from storage.db import Database

    db = await Database.open(path, create=False)
    try:
        return db.file_identity
    finally:
        await db.close()


def _run(settings: Settings, webhook: bool, lock: Any, identity: tuple[int, int] | None) -> int:
    from telegram import Update
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.app import build_app
    from bot.webhook import run_webhook
    from storage.db import DatabaseError, DatabaseGone

    try:
        app = build_app(settings)
    except ValueError as exc:  # COURTYARD_HTTP names no client we have (bot/http.py)
        print(f"courtyard: {exc}", file=sys.stderr)
        return 1
    started = app.post_init

    async def post_init(application: Any) -> None:  # build_app's start-up, then our jobs
        if started is not None:
            await started(application)
        services = application.bot_data.get("services")
        if services is not None and services.db.file_identity != identity:
            raise DatabaseGone(
                f"the database file {settings.db_path} was deleted or replaced during the "
                "start; start again once it is in place"
            )
        if settings.db_url is None:  # PostgreSQL: pg_dump's, and the server keeps the files
            schedule_backups(application, settings)
        watch_database(application, lock)
        lock.note_started()

    app.post_init = post_init
    app.add_error_handler(_on_database_gone)
    try:
        if webhook:
            assert settings.webhook_url is not None and settings.webhook_secret is not None
            log.info(
                "webhook server on %s:%d/%s for %s",
                settings.listen,
                settings.port,
                settings.webhook_path,
                settings.webhook_url,
            )
            run_webhook(
                app,
                listen=settings.listen,
                port=settings.port,
                url_path=settings.webhook_path,
                webhook_url=settings.webhook_url,
                secret=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    except DatabaseError as exc:
        print(f"courtyard: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the webhook server could not bind
        if not webhook:
            raise
        reason = exc.strerror or exc
        print(
            f"courtyard: cannot listen on {settings.listen}:{settings.port} ({reason}). Is "
            "another program using that port? Set COURTYARD_LISTEN / COURTYARD_PORT.",
            file=sys.stderr,
        )
        return 1
    except InvalidToken:
        print(
            f"courtyard: the Bot API at {settings.api_url} refused the token "
            "(check COURTYARD_TOKEN, or COURTYARD_API_URL if you use your own Bot API server).",
            file=sys.stderr,
        )
        return 1
    except NetworkError as exc:
        print(
            f"courtyard: cannot reach the Bot API at {settings.api_url} ({exc}). "
            "Check the network or COURTYARD_API_URL.",
            file=sys.stderr,
        )
        return 1
    except TelegramError as exc:  # e.g. setWebhook refused the URL
        print(f"courtyard: the Bot API refused: {exc}", file=sys.stderr)
        return 1
    if app.bot_data.get(FATAL):
        print(f"courtyard: {app.bot_data[FATAL]}", file=sys.stderr)
        return 1
    return 0


#: Where the README tells how to back up and restore PostgreSQL (named in the CLI's texts).
PG_README = "README, “Running it for a city”, Backups"


def cmd_backup(to: Path | None) -> int:
    from storage import backup

    settings = _load(require_token=False)
    setup_logging(settings)
    if settings.db_url is not None:
        from storage.pg import redact

        _say(
            settings,
            "cli.pg_backup",
            db=redact(settings.db_url),
            example="pg_dump -Fc -d $COURTYARD_DB -f courtyard.dump",
            readme=PG_README,
            keys="COURTYARD_KEYS_DIR",
        )
        return 2
    folder = (to or settings.backup_dir).expanduser()
    try:
        result = backup.backup(settings.db_path, folder, keep=settings.backup_keep)
    except backup.BackupError as exc:
        print(f"courtyard: {exc}", file=sys.stderr)
        return 1
    print(
        f"backup written: {result.path} ({result.size / 1e6:.1f} MB in {result.seconds:.2f} s,"
        f" verified by quick_check)"
    )
    for old in result.removed:
        print(f"removed old backup: {old}")
    return 0


def cmd_restore(backup_file: Path) -> int:
    from storage import backup
    from storage.db import migrations

    settings = _load(require_token=False)
    setup_logging(settings)
    if settings.db_url is not None:
        from storage.pg import redact

        _say(
            settings,
            "cli.pg_restore",
            db=redact(settings.db_url),
            example="pg_restore --clean --if-exists -d $COURTYARD_DB courtyard.dump",
            readme=PG_README,
        )
        return 2
    lock = _lock(settings, "restore")
    if lock is None:
        return 1
    try:
        result = backup.restore(
            backup_file.expanduser(), settings.db_path, known_version=len(migrations())
        )
    except backup.BackupError as exc:
        print(f"courtyard: {exc}", file=sys.stderr)
        return 1
    finally:
        lock.release()
    print(f"restored {backup_file} into {result.restored} (schema {result.schema_version})")
    if result.aside is not None:
        print(f"the previous database is kept as {result.aside}")
    print("start the bot again: courtyard run (pending migrations are applied at start)")
    return 0


def cmd_health(full: bool) -> int:
    from storage import backup
    from storage.db import migrations

    settings = _load(require_token=False)
    if settings.db_url is not None:
        return health_pg(settings.db_url)
    path = settings.db_path
    problems = backup.check(path, full=full)
    if problems:
        print(f"unhealthy: {path}: {'; '.join(problems[:5])}", file=sys.stderr)
        return 1
    version, known = backup.schema_version(path), len(migrations())
    if version > known:
        print(
            f"unhealthy: {path} has schema {version}, newer than this Courtyard ({known})",
            file=sys.stderr,
        )
        return 1
    check = "integrity_check" if full else "quick_check"
    pending = f", {known - version} migration(s) pending" if version < known else ""
    print(f"ok: {path} passes {check}, schema {version}{pending}")
    return 0


def health_pg(url: str) -> int:
    """``courtyard health`` on PostgreSQL: it connects, its schema is known, how many
    scheduled rows are pending (and how many of them are overdue)."""
    from storage import pg
    from storage.db import DatabaseError, migrations, to_db

    shown = pg.redact(url)

    async def go() -> tuple[int, int, int]:
        db = await pg.PgDatabase.open(url, migrate=False, readers=1)
        try:
            version = await db.schema_version()
            if version == 0:
                return 0, 0, 0
            row = await db.fetchone(
                "SELECT count(*) AS n, count(*) FILTER (WHERE run_at < ?) AS late"
                " FROM scheduled WHERE status = 'pending'",
                (to_db(datetime.now(UTC) - timedelta(minutes=5)),),
            )
            return version, int(row["n"]), int(row["late"])
        finally:
            await db.close()

    try:
        version, pending, late = asyncio.run(go())
    except DatabaseError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    known = len(migrations())
    if version == 0:
        print(
            f"unhealthy: {shown} has no Courtyard tables (run `courtyard migrate`)", file=sys.stderr
        )
        return 1
    if version > known:
        print(
            f"unhealthy: {shown} has schema {version}, newer than this Courtyard ({known})",
            file=sys.stderr,
        )
        return 1
    migrations_pending = f", {known - version} migration(s) pending" if version < known else ""
    overdue = f" ({late} overdue by more than 5 min)" if late else ""
    print(
        f"ok: {shown} answers, schema {version}{migrations_pending}; "
        f"{pending} scheduled action(s) pending{overdue}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "run":
        return cmd_run(webhook=args.webhook)
    if args.command == "migrate":
        return cmd_migrate(new=args.new)
    if args.command == "backup":
        return cmd_backup(args.to)
    if args.command == "restore":
        return cmd_restore(args.backup_file)
    if args.command == "health":
        return cmd_health(args.full)
    if args.command == "copy":  # SQLite -> PostgreSQL (storage/copy.py)
        from storage.copy import cli_copy

        return cli_copy(args.source, args.target)
    if args.command == "playground":  # the only place the product loads the playground
        from playground.launch import run as run_playground

        return run_playground(
            port=args.port,
            language=args.lang,
            demo=args.demo,
            db=args.db,
            host=args.host,
            forum=args.forum,
        )
    parser().print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
