"""``courtyard`` / ``python -m bot``: run the bot, apply migrations.

courtyard run        long polling (stops cleanly on SIGINT / SIGTERM)
courtyard migrate    create or upgrade the database, then exit
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot import __version__
from bot.config import ConfigError, Settings, load_settings


class _Redact(logging.Filter):
    """Belt and braces: the token never reaches a log line, whatever logged it."""

    def __init__(self, secret: str | None):
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secret:
            message = record.getMessage()
            if self.secret in message:
                record.msg = message.replace(self.secret, "<token>")
                record.args = None
        return True


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_Redact(settings.token))
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[handler],
        force=True,
    )
    # httpx logs every request URL at INFO, and the URL holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="courtyard",
        description="Courtyard: a Telegram bot for the residents of a building. "
        "Configuration comes from COURTYARD_* environment variables (or a .env file).",
    )
    p.add_argument("--version", action="version", version=f"courtyard {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the bot (long polling)")
    sub.add_parser("migrate", help="create or upgrade the database and exit")
    return p


def _load(require_token: bool) -> Settings:
    try:
        return load_settings(require_token=require_token)
    except ConfigError as exc:
        print("courtyard: the configuration has problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_migrate() -> int:
    from storage.db import Database, DatabaseError

    settings = _load(require_token=False)
    setup_logging(settings)

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
    print(
        f"{settings.db_path}: {len(applied)} migration(s) applied"
        + (f" ({', '.join(applied)})" if applied else ", already up to date")
    )
    return 0


def cmd_run() -> int:
    from telegram import Update

    from bot.app import build_app
    from storage.db import DatabaseError

    settings = _load(require_token=True)
    setup_logging(settings)
    app = build_app(settings)
    try:
        app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    except DatabaseError as exc:
        print(f"courtyard: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "run":
        return cmd_run()
    if args.command == "migrate":
        return cmd_migrate()
    parser().print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
