"""Table tests: languages and time zones as people and Telegram write them."""

import pytest

from bot.domain.errors import DomainError
from bot.domain.languages import normalize_language, parse_language
from bot.domain.timezones import COMMON_ZONES, is_valid_timezone, parse_timezone


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("EN", "en"),
        ("zh", "zh_Hans"),
        ("zh-hans", "zh_Hans"),
        ("zh-CN", "zh_Hans"),
        ("zh-TW", "zh_Hans"),
        ("zh_Hans", "zh_Hans"),
        ("中文", "zh_Hans"),
        ("Chinese", "zh_Hans"),
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("Русский", "ru"),
        ("de", None),
        ("", None),
        (None, None),
        ("english please", None),
    ],
)
def test_normalize_language(given: str | None, expected: str | None) -> None:
    assert normalize_language(given) == expected


def test_parse_language_refuses_unknown_with_choices() -> None:
    with pytest.raises(DomainError) as info:
        parse_language("klingon")
    assert info.value.key == "error.unknown_language"
    assert info.value.params == {"value": "klingon", "choices": "en, zh, ru"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Asia/Shanghai", "Asia/Shanghai"),
        ("asia/shanghai", "Asia/Shanghai"),
        ("  Europe/Moscow ", "Europe/Moscow"),
        ("Moscow", "Europe/Moscow"),
        ("new york", "America/New_York"),
        ("America/New_York", "America/New_York"),
        ("UTC", "UTC"),
        ("UTC+8", "Etc/GMT-8"),
        ("GMT-3", "Etc/GMT+3"),
        ("utc+0", "UTC"),
    ],
)
def test_parse_timezone(given: str, expected: str) -> None:
    assert parse_timezone(given) == expected


@pytest.mark.parametrize("given", ["Mars/Olympus", "", "UTC+99", "../../etc/passwd", "local", "+8"])
def test_parse_timezone_refuses(given: str) -> None:
    with pytest.raises(DomainError) as info:
        parse_timezone(given)
    assert info.value.key == "error.unknown_timezone"


def test_common_zones_are_real() -> None:
    assert all(is_valid_timezone(z) for z in COMMON_ZONES)
    assert len(set(COMMON_ZONES)) == len(COMMON_ZONES)
