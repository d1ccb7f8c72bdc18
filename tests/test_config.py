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
