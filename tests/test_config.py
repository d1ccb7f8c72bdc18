"""Configuration from the environment: defaults, .env, and one clear sentence per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_API_URL, ConfigError, load_settings

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abc-def"


def test_defaults(tmp_path: Path) -> None:
    s = load_settings({"COURTYARD_TOKEN": TOKEN}, dotenv=None)
    assert s.token == TOKEN
    assert s.db_path == Path("./courtyard.sqlite3")
    assert s.api_url == DEFAULT_API_URL
    assert (s.language, s.timezone, s.log_level) == ("en", "UTC", "INFO")


def test_values_are_normalised(tmp_path: Path) -> None:
    s = load_settings(
        {
            "COURTYARD_TOKEN": TOKEN,
            "COURTYARD_DB": str(tmp_path / "b.sqlite3"),
            "COURTYARD_API_URL": "http://127.0.0.1:8081/bot",
            "COURTYARD_LANGUAGE": "zh-CN",
            "COURTYARD_TIMEZONE": "asia/shanghai",
            "COURTYARD_LOG_LEVEL": "debug",
        },
        dotenv=None,
    )
    assert s.db_path == tmp_path / "b.sqlite3"
    assert s.api_url == "http://127.0.0.1:8081/bot"
    assert (s.language, s.timezone, s.log_level) == ("zh_Hans", "Asia/Shanghai", "DEBUG")


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(
            {
                "COURTYARD_TOKEN": "not-a-token",
                "COURTYARD_DB": str(tmp_path / "missing" / "x.sqlite3"),
                "COURTYARD_API_URL": "ftp://example",
                "COURTYARD_LANGUAGE": "de",
                "COURTYARD_TIMEZONE": "Mars/Olympus",
                "COURTYARD_LOG_LEVEL": "LOUD",
            },
            dotenv=None,
        )
    problems = info.value.problems
    assert len(problems) == 6
    for name in ("TOKEN", "DB", "API_URL", "LANGUAGE", "TIMEZONE", "LOG_LEVEL"):
        assert any(f"COURTYARD_{name}" in p for p in problems), name
    assert "not-a-token" not in str(info.value)  # a wrong token is not echoed either


def test_token_required_only_for_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="COURTYARD_TOKEN is not set"):
        load_settings({}, dotenv=None)
    assert load_settings({}, require_token=False, dotenv=None).token is None


def test_db_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder"):
        load_settings({"COURTYARD_TOKEN": TOKEN, "COURTYARD_DB": str(tmp_path)}, dotenv=None)


def test_dotenv_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"COURTYARD_TOKEN={TOKEN}\nCOURTYARD_LANGUAGE=ru\nCOURTYARD_TIMEZONE=Europe/Moscow\n"
    )
    s = load_settings({"COURTYARD_LANGUAGE": "en"}, dotenv=env_file)
    assert s.token == TOKEN and s.language == "en" and s.timezone == "Europe/Moscow"


def test_repr_never_shows_the_token() -> None:
    s = load_settings({"COURTYARD_TOKEN": TOKEN}, dotenv=None)
    assert TOKEN not in repr(s) and TOKEN not in str(s) and "token=<set>" in repr(s)


SECRET = "Zq3_x-9Kp2LmN8vB4cR7tY1wE6uI0oPa"  # 32 characters, many different


def test_backup_and_webhook_defaults() -> None:
    s = load_settings({"COURTYARD_TOKEN": TOKEN}, dotenv=None)
    assert (s.backup_dir, s.backup_keep, s.backup_hours) == (Path("./backups"), 14, 24)
    assert (s.webhook_url, s.webhook_secret, s.listen, s.port) == (None, None, "127.0.0.1", 8080)


def test_backup_and_webhook_values(tmp_path: Path) -> None:
    s = load_settings(
        {
            "COURTYARD_TOKEN": TOKEN,
            "COURTYARD_BACKUP_DIR": str(tmp_path / "bk"),
            "COURTYARD_BACKUP_KEEP": "30",
            "COURTYARD_BACKUP_HOURS": "0",
            "COURTYARD_WEBHOOK_URL": "https://bot.example.org:8443/courtyard/tg",
            "COURTYARD_WEBHOOK_SECRET": SECRET,
            "COURTYARD_LISTEN": "0.0.0.0",
            "COURTYARD_PORT": "9000",
        },
        require_webhook=True,
        dotenv=None,
    )
    assert (s.backup_dir, s.backup_keep, s.backup_hours) == (tmp_path / "bk", 30, 0)
    assert s.webhook_url == "https://bot.example.org:8443/courtyard/tg"
    assert s.webhook_path == "courtyard/tg"
    assert (s.webhook_secret, s.listen, s.port) == (SECRET, "0.0.0.0", 9000)
    assert SECRET not in repr(s) and "webhook_secret=<set>" in repr(s)


def test_webhook_settings_required_only_with_webhook() -> None:
    assert load_settings({"COURTYARD_TOKEN": TOKEN}, dotenv=None).webhook_url is None
    with pytest.raises(ConfigError) as info:
        load_settings({"COURTYARD_TOKEN": TOKEN}, require_webhook=True, dotenv=None)
    problems = info.value.problems
    assert len(problems) == 2
    assert "COURTYARD_WEBHOOK_URL is not set" in problems[0]
    assert "COURTYARD_WEBHOOK_SECRET is not set" in problems[1]
    assert "secrets.token_urlsafe" in problems[1]  # says how to make one


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("short-secret", "too weak"),
        ("a" * 40, "too weak"),  # long but one character
        ("ab" * 20, "too weak"),
        ("Zq3 x+9Kp2LmN8vB4cR7tY1wE6uI0oPa", "only letters"),  # Telegram's alphabet
        ("Zq3_x-9Kp2LmN8vB4cR7tY1wE6uI0oPa" * 9, "at most 256"),
    ],
)
def test_weak_or_invalid_webhook_secrets_are_refused(secret: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(
            {
                "COURTYARD_TOKEN": TOKEN,
                "COURTYARD_WEBHOOK_URL": "https://bot.example.org/tg",
                "COURTYARD_WEBHOOK_SECRET": secret,
            },
            require_webhook=True,
            dotenv=None,
        )
    assert len(info.value.problems) == 1
    assert expected in info.value.problems[0]
    assert secret not in str(info.value)  # never echoed


def test_every_new_mistake_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError) as info:
        load_settings(
            {
                "COURTYARD_TOKEN": TOKEN,
                "COURTYARD_BACKUP_DIR": str(tmp_path / "afile"),
                "COURTYARD_BACKUP_KEEP": "0",
                "COURTYARD_BACKUP_HOURS": "daily",
                "COURTYARD_LISTEN": "not an address!",
                "COURTYARD_PORT": "70000",
                "COURTYARD_WEBHOOK_URL": "http://bot.example.org/tg",
            },
            dotenv=None,
        )
    problems = info.value.problems
    for name in ("BACKUP_DIR", "BACKUP_KEEP", "BACKUP_HOURS", "LISTEN", "PORT", "WEBHOOK_URL"):
        assert sum(f"COURTYARD_{name} " in p for p in problems) == 1, (name, problems)
    assert len(problems) == 6


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://bot.example.org/tg", "must be an https URL"),
        ("https:///tg", "must be an https URL"),
        ("https://bot.example.org:8080/tg", "only to the ports 443, 80, 88, 8443; got 8080"),
        ("https://bot.example.org/tg?x=1", "must not carry a query"),
        ("https://bot.example.org:99999/tg", "must be an https URL"),
    ],
)
def test_webhook_url_rules(url: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace("?", r"\?")):
        load_settings(
            {"COURTYARD_TOKEN": TOKEN, "COURTYARD_WEBHOOK_URL": url},
            dotenv=None,
        )


def test_listen_accepts_addresses_and_host_names() -> None:
    for host in ("0.0.0.0", "::", "::1", "localhost", "courtyard.internal"):
        s = load_settings({"COURTYARD_TOKEN": TOKEN, "COURTYARD_LISTEN": host}, dotenv=None)
        assert s.listen == host
