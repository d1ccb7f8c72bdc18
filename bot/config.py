"""Settings read from the environment (a ``.env`` file in the working directory is allowed).

Every mistake is collected and reported at once, each with a clear sentence, before the bot
starts. Variables (all optional except the token for ``courtyard run``):

=====================  =====================================  ====================================
variable               default                                meaning
=====================  =====================================  ====================================
COURTYARD_TOKEN        (required for ``run``)                 the bot token from @BotFather
COURTYARD_DB           ./courtyard.sqlite3                    the SQLite database file, or a
                                                              ``postgresql://`` URL
COURTYARD_API_URL      https://api.telegram.org/bot           Bot API URL; the token is appended
COURTYARD_LANGUAGE     en                                     new groups: en, zh, zh-hant, ru
COURTYARD_TIMEZONE     UTC                                    time zone for new groups (IANA name)
COURTYARD_LOG_LEVEL    INFO                                   DEBUG, INFO, WARNING, ERROR
COURTYARD_BACKUP_DIR   ./backups                              where ``courtyard backup`` writes
COURTYARD_BACKUP_KEEP  14                                     backups kept (the newest N)
COURTYARD_BACKUP_HOURS 24                                     automatic backup interval in
                                                              ``courtyard run``; 0 turns it off
COURTYARD_KEYS_DIR     <database file>.keys                   keys of open secret votes (never
                                                              in the database or its backups)
COURTYARD_WEBHOOK_URL  (required for ``run --webhook``)       public https URL Telegram posts to
COURTYARD_WEBHOOK_SECRET (required for ``run --webhook``)     32-256 chars of A-Z a-z 0-9 _ -
COURTYARD_LISTEN       127.0.0.1                              address the webhook server binds
COURTYARD_PORT         8080                                   port the webhook server binds
=====================  =====================================  ====================================

Webhook settings are checked whenever they are set, and required only for ``run --webhook``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.domain.errors import DomainError
from bot.domain.languages import normalize_language
from bot.domain.timezones import is_valid_timezone, parse_timezone

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_DB = "./courtyard.sqlite3"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
DEFAULT_BACKUP_DIR = "./backups"
DEFAULT_BACKUP_KEEP = 14
DEFAULT_BACKUP_HOURS = 24
DEFAULT_LISTEN = "127.0.0.1"
DEFAULT_PORT = 8080
#: Telegram accepts 1-256 characters of these as a webhook secret token; we also want it long.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MIN_SECRET_LENGTH = 32
#: Telegram delivers webhooks only to these ports.
WEBHOOK_PORTS = (443, 80, 88, 8443)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)


def _redact(url: str) -> str:
    from storage.pg import redact

    return redact(url)


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
    backup_dir: Path = Path(DEFAULT_BACKUP_DIR)
    backup_keep: int = DEFAULT_BACKUP_KEEP
    backup_hours: int = DEFAULT_BACKUP_HOURS
    #: where the keys of open secret votes live; None: ``<database file>.keys`` beside it
    keys_dir: Path | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    listen: str = DEFAULT_LISTEN
    port: int = DEFAULT_PORT
    #: COURTYARD_DB when it is a ``postgresql://`` URL (``db_path`` is then the local name the
    #: files kept beside a database derive from: ``<db_path>.keys``); None on SQLite
    db_url: str | None = None

    @property
    def webhook_path(self) -> str:
        """The path the webhook server answers on: the path of COURTYARD_WEBHOOK_URL."""
        return urlsplit(self.webhook_url or "").path.strip("/")

    def __repr__(self) -> str:  # never print the token or the webhook secret
        shown = "set" if self.token else "unset"
        secret = "set" if self.webhook_secret else "unset"
        return (
            f"Settings(token=<{shown}>, db_path={str(self.db_path)!r}, api_url={self.api_url!r},"
            f" language={self.language!r}, timezone={self.timezone!r},"
            f" log_level={self.log_level!r}, backup_dir={str(self.backup_dir)!r},"
            f" backup_keep={self.backup_keep}, backup_hours={self.backup_hours},"
            f" webhook_url={self.webhook_url!r}, webhook_secret=<{secret}>,"
            f" listen={self.listen!r}, port={self.port}"
            + (f", db_url={_redact(self.db_url)!r})" if self.db_url else ")")
        )

    __str__ = __repr__


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    require_token: bool = True,
    require_webhook: bool = False,
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

    db_value = get("COURTYARD_DB", DEFAULT_DB)
    db_url: str | None = None
    if db_value.startswith(("postgresql://", "postgres://")):
        from storage.pg import local_path, url_problem

        db_url = db_value
        db_path = local_path(db_url)
        if (problem := url_problem(db_url)) is not None:
            problems.append(f"COURTYARD_DB: {problem}")
    else:
        db_path = Path(db_value).expanduser()
    if db_url is not None:
        pass
    elif db_path.is_dir():
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
        problems.append(f"COURTYARD_LANGUAGE must be en, zh, zh-hant or ru; got {raw_lang!r}.")
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

    backup_dir = Path(get("COURTYARD_BACKUP_DIR", DEFAULT_BACKUP_DIR)).expanduser()
    if backup_dir.exists() and not backup_dir.is_dir():
        problems.append(f"COURTYARD_BACKUP_DIR must be a folder; {backup_dir} is a file.")

    raw_keys = values.get("COURTYARD_KEYS_DIR", "").strip()
    keys_dir = Path(raw_keys).expanduser() if raw_keys else None
    if keys_dir is not None:
        if keys_dir.exists() and not keys_dir.is_dir():
            problems.append(f"COURTYARD_KEYS_DIR must be a folder; {keys_dir} is a file.")
        elif keys_dir.resolve() == backup_dir.resolve():
            problems.append(
                "COURTYARD_KEYS_DIR must not be the backup folder: the keys of open secret "
                "votes must never be copied with the backups."
            )

    def integer(name: str, default: int, low: int, high: int, meaning: str) -> int:
        raw = get(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            problems.append(f"{name} must be a whole number from {low} to {high} ({meaning}).")
            return default
        return value

    backup_keep = integer(
        "COURTYARD_BACKUP_KEEP", DEFAULT_BACKUP_KEEP, 1, 10_000, "how many backups to keep"
    )
    backup_hours = integer(
        "COURTYARD_BACKUP_HOURS",
        DEFAULT_BACKUP_HOURS,
        0,
        24 * 366,
        "hours between automatic backups, 0 for none",
    )
    listen = get("COURTYARD_LISTEN", DEFAULT_LISTEN)
    if not _valid_host(listen):
        problems.append(
            f"COURTYARD_LISTEN must be an IP address (such as 127.0.0.1 or 0.0.0.0) or a host "
            f"name; got {listen!r}."
        )
    port = integer("COURTYARD_PORT", DEFAULT_PORT, 1, 65535, "the port the webhook server binds")

    webhook_url = values.get("COURTYARD_WEBHOOK_URL", "").strip() or None
    webhook_secret = values.get("COURTYARD_WEBHOOK_SECRET", "").strip() or None
    if webhook_url is None:
        if require_webhook:
            problems.append(
                "COURTYARD_WEBHOOK_URL is not set: --webhook needs the public https URL that "
                "Telegram will post updates to, such as https://bot.example.org/courtyard."
            )
    else:
        problem = _webhook_url_problem(webhook_url)
        if problem:
            problems.append(problem)
    if webhook_secret is None:
        if require_webhook:
            problems.append(
                "COURTYARD_WEBHOOK_SECRET is not set: --webhook needs a secret that Telegram "
                "sends with every update; make one with: python3 -c "
                '"import secrets; print(secrets.token_urlsafe(32))"'
            )
    elif not _SECRET.match(webhook_secret):
        problems.append(
            "COURTYARD_WEBHOOK_SECRET may hold only letters A-Z a-z, digits, '_' and '-', and "
            "at most 256 of them (Telegram's rule)."
        )
    elif len(webhook_secret) < MIN_SECRET_LENGTH or len(set(webhook_secret)) < 10:
        problems.append(
            f"COURTYARD_WEBHOOK_SECRET is too weak: use at least {MIN_SECRET_LENGTH} random "
            'characters, e.g. python3 -c "import secrets; print(secrets.token_urlsafe(32))".'
        )

    if problems:
        raise ConfigError(problems)
    return Settings(
        token=token,
        db_path=db_path,
        db_url=db_url,
        api_url=api_url,
        language=language,
        timezone=timezone,
        log_level=log_level,
        backup_dir=backup_dir,
        backup_keep=backup_keep,
        backup_hours=backup_hours,
        keys_dir=keys_dir,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        listen=listen,
        port=port,
    )


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOSTNAME.match(host))
    return True


def _webhook_url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        parts, port = None, 0
    if parts is None or parts.scheme != "https" or not parts.hostname:
        return (
            "COURTYARD_WEBHOOK_URL must be an https URL (Telegram posts only over https), "
            f"such as https://bot.example.org/courtyard; got {url!r}."
        )
    if port not in WEBHOOK_PORTS:
        return (
            f"COURTYARD_WEBHOOK_URL: Telegram delivers webhooks only to the ports "
            f"{', '.join(map(str, WEBHOOK_PORTS))}; got {port}. Put a reverse proxy on one of "
            "them in front of COURTYARD_PORT."
        )
    if parts.fragment or parts.query:
        return "COURTYARD_WEBHOOK_URL must not carry a query (?...) or a fragment (#...)."
    return None
