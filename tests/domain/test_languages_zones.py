"""Table tests: languages and time zones as people and Telegram write them."""

from fractions import Fraction

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
        ("zh-SG", "zh_Hans"),
        ("zh-Hans-CN", "zh_Hans"),
        ("zh_Hans", "zh_Hans"),
        ("简体中文", "zh_Hans"),
        ("簡體中文", "zh_Hans"),
        ("zh-TW", "zh_Hant"),
        ("zh-hk", "zh_Hant"),
        ("zh-MO", "zh_Hant"),
        ("zh-hant", "zh_Hant"),
        ("zh_Hant", "zh_Hant"),
        ("zh-Hant-HK", "zh_Hant"),
        ("zh-Hant-TW", "zh_Hant"),
        ("繁體", "zh_Hant"),
        ("繁体中文", "zh_Hant"),
        ("繁體中文", "zh_Hant"),
        ("正體中文", "zh_Hant"),
        ("ＺＨ－ＨＫ", "zh_Hant"),
        ("中文（繁體）", "zh_Hant"),
        ("traditional chinese", "zh_Hant"),
        ("Traditional  Chinese", "zh_Hant"),
        ("英文", "en"),
        ("俄語", "ru"),
        ("繁體 中文", "zh_Hant"),
        ("繁體中文。", "zh_Hant"),
        ("English!", "en"),
        ("zh hk", "zh_Hant"),
        ("yue", "zh_Hant"),
        ("yue-HK", "zh_Hant"),
        ("zh-yue", "zh_Hant"),
        ("廣東話", "zh_Hant"),
        ("zhx", None),
        ("hant", None),
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
    assert info.value.params == {
        "value": "klingon",
        "choices": "en (English), zh (简体中文), zh-hant (繁體中文), ru (Русский)",
    }


def test_every_language_has_a_name_a_babel_locale_and_a_menu() -> None:
    from bot.domain.languages import (
        CHAT_MENU_LANGUAGES,
        MENU_LANGUAGES,
        NATIVE_NAMES,
        SUPPORTED,
        TELEGRAM_CODES,
    )
    from bot.i18n import babel_locale

    assert set(NATIVE_NAMES) == set(TELEGRAM_CODES) == set(SUPPORTED)
    # one global menu per Telegram code; every other language has its menus per chat
    assert len({TELEGRAM_CODES[lang] for lang in MENU_LANGUAGES}) == len(MENU_LANGUAGES)
    assert set(MENU_LANGUAGES) | CHAT_MENU_LANGUAGES == set(SUPPORTED)
    assert not set(MENU_LANGUAGES) & CHAT_MENU_LANGUAGES
    assert str(babel_locale("zh_Hant")) == "zh_Hant_TW"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh_Hans", "11月21日周六 15:00"),
        ("zh_Hant", "11月21日週六 15:00"),
    ],
)
def test_chinese_dates(lang: str, expected: str) -> None:
    from datetime import UTC, datetime

    from bot.i18n import format_datetime

    moment = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    assert format_datetime(moment, lang, "Asia/Taipei") == expected


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


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("赞成", "for"),
        ("贊成", "for"),
        ("反对", "against"),
        ("反對。", "against"),
        ("弃权", "abstain"),
        ("棄權！", "abstain"),
    ],
)
def test_ballot_words_in_both_scripts(typed: str, expected: str) -> None:
    from bot.domain.decisions import parse_choice

    assert parse_choice(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("过半数", ("majority", None)),
        ("過半數", ("majority", None)),
        ("規則=多數", ("majority", None)),
        ("全體一致", ("unanimous", None)),
        ("三分之二 法定人數=1/2", ("two-thirds", Fraction(1, 2))),
    ],
)
def test_rule_words_in_both_scripts(typed: str, expected: tuple[str, Fraction | None]) -> None:
    from bot.domain.decisions import parse_rule

    rule = parse_rule(typed)
    assert (rule.name, rule.quorum) == expected


@pytest.mark.parametrize(
    ("flags", "multiple", "anonymous", "closes"),
    [
        ("多选 不记名", True, True, None),
        ("多選 不記名", True, True, None),
        ("可多選，無記名", True, True, None),
        ("无记名", False, True, None),
        ("截止於週五20點", False, False, "週五20點"),
    ],
)
def test_poll_flags_in_both_scripts(
    flags: str, multiple: bool, anonymous: bool, closes: str | None
) -> None:
    from bot.domain.polls import parse_poll_command

    _, options, found = parse_poll_command(f"/poll 顏色？ | 綠色 | 藍色 | {flags}")
    assert options == ["綠色", "藍色"]
    assert (found.multiple, found.anonymous, found.closes) == (multiple, anonymous, closes)


def test_keyword_tables_find_both_scripts() -> None:
    from bot.domain.languages import Keywords, WordSet, fold_hant

    table = Keywords({"关闭": False, "开启": True, "off": False})
    assert table.get("關閉") is False and table.get("开启") is True and table["關閉"] is False
    assert "開啟" in table and "off" in table and "x" not in table and table.get("x") is None
    words = WordSet({"无记名", "不记名", "secret"})
    assert "無記名" in words and "不記名" in words and "secret" in words
    assert "匿名" not in words and 3 not in words
    assert fold_hant("第三條 審核 週五 贊成") == "第三条 审核 周五 赞成"
    assert fold_hant("Hello, Привет") == "Hello, Привет"


def test_a_union_of_word_sets_still_finds_both_scripts() -> None:
    from bot.domain.languages import WordSet

    both = WordSet({"编辑"}) | WordSet({"取消"})
    assert isinstance(both, WordSet) and "編輯" in both and "取消" in both
