"""Settings read from the environment (a ``.env`` file in the working directory is allowed).

Every mistake is collected and reported at once, each with a clear sentence, before the bot
starts. Variables (all optional except the token for ``courtyard run``):

=====================  =====================================  ====================================
variable               default                                meaning
=====================  =====================================  ====================================
COURTYARD_TOKEN        (required for ``run``)                 the bot token from @BotFather
COURTYARD_DB           ./courtyard.sqlite3                    the SQLite database file
COURTYARD_API_URL      https://api.telegram.org/bot           Bot API URL; the token is appended
COURTYARD_LANGUAGE     en                                     language for new groups: en, zh, ru
COURTYARD_TIMEZONE     UTC                                    time zone for new groups (IANA name)
COURTYARD_LOG_LEVEL    INFO                                   DEBUG, INFO, WARNING, ERROR
=====================  =====================================  ====================================
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from bot.domain.errors import DomainError
from bot.domain.languages import normalize_language
from bot.domain.timezones import is_valid_timezone, parse_timezone

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_DB = "./courtyard.sqlite3"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


class ConfigError(Exception):
    """One or more settings are wrong; ``problems`` holds one sentence per mistake."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Settings:
    token: str | None = None
    db_path: Path = Path(DEFAULT_DB)
    api_url: str = DEFAULT_API_URL
    language: str = "en"
    timezone: str = "UTC"
    log_level: str = "INFO"

    def __repr__(self) -> str:  # never print the token
        shown = "set" if self.token else "unset"
        return (
            f"Settings(token=<{shown}>, db_path={str(self.db_path)!r}, api_url={self.api_url!r},"
            f" language={self.language!r}, timezone={self.timezone!r},"
            f" log_level={self.log_level!r})"
        )

    __str__ = __repr__


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    require_token: bool = True,
    dotenv: Path | None = Path(".env"),
) -> Settings:
    """Read and validate the settings. Real environment variables win over ``.env``."""
    values: dict[str, str] = {}
    if dotenv is not None and dotenv.is_file():
        values.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    problems: list[str] = []

    def get(name: str, default: str) -> str:
        return values.get(name, default).strip() or default

    token = values.get("COURTYARD_TOKEN", "").strip() or None
    if token is None:
        if require_token:
            problems.append(
                "COURTYARD_TOKEN is not set: create a bot with @BotFather and put its token in "
                "COURTYARD_TOKEN (in the environment or in a .env file)."
            )
    elif not _TOKEN.match(token):
        problems.append(
            "COURTYARD_TOKEN does not look like a bot token (expected digits, a colon, then at "
            "least 20 letters, digits, '-' or '_', as @BotFather gives it)."
        )

    db_path = Path(get("COURTYARD_DB", DEFAULT_DB)).expanduser()
    if db_path.is_dir():
        problems.append(f"COURTYARD_DB is a folder ({db_path}); give a file path inside it.")
    elif not db_path.parent.exists():
        problems.append(f"COURTYARD_DB: the folder {db_path.parent} does not exist.")

    api_url = get("COURTYARD_API_URL", DEFAULT_API_URL)
    if not re.match(r"^https?://[^\s/]+", api_url):
        problems.append(
            f"COURTYARD_API_URL must be an http(s) URL such as {DEFAULT_API_URL} "
            f"(the token is appended to it); got {api_url!r}."
        )

    raw_lang = get("COURTYARD_LANGUAGE", "en")
    language = normalize_language(raw_lang)
    if language is None:
        problems.append(f"COURTYARD_LANGUAGE must be en, zh or ru; got {raw_lang!r}.")
        language = "en"

    raw_tz = get("COURTYARD_TIMEZONE", "UTC")
    timezone = raw_tz
    if not is_valid_timezone(raw_tz):
        try:
            timezone = parse_timezone(raw_tz)
        except DomainError:
            problems.append(
                f"COURTYARD_TIMEZONE must be an IANA time zone such as Asia/Shanghai or "
                f"Europe/Moscow; got {raw_tz!r}."
            )
            timezone = "UTC"

    log_level = get("COURTYARD_LOG_LEVEL", "INFO").upper()
    if log_level not in LOG_LEVELS:
        problems.append(f"COURTYARD_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}.")
        log_level = "INFO"

    if problems:
        raise ConfigError(problems)
    return Settings(
        token=token,
        db_path=db_path,
        api_url=api_url,
        language=language,
        timezone=timezone,
        log_level=log_level,
    )
