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


class RedactingFormatter(logging.Formatter):
    """The token never reaches a log line, whatever logged it: messages, and tracebacks too
    (PTB's and httpx's exceptions carry request URLs, and the URL holds the token)."""

    def __init__(self, fmt: str, secret: str | None):
        super().__init__(fmt)
        self.secret = secret

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text.replace(self.secret, "<token>") if self.secret else text


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", settings.token)
    )
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
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
    from telegram.error import InvalidToken, NetworkError

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
