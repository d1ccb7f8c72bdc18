"""Pure sharing rules: parsing, exact money, totals, chain lines, loan timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import sharing as s
from bot.domain.errors import DomainError

NOW = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)  # Saturday


@pytest.mark.parametrize(
    ("text", "title", "mode", "note"),
    [
        ("Drill", "Drill", "lend", ""),
        ("Drill | lend | Bosch, with bits", "Drill", "lend", "Bosch, with bits"),
        ("Chair | give", "Chair", "give", ""),
        ("Chair | barely used | FREE", "Chair", "give", "barely used"),
        ("旧电脑 | 送 | 可以修", "旧电脑", "give", "可以修"),
        ("Дрель | одолжу", "Дрель", "lend", ""),
        ("Коляска | отдам | почти новая", "Коляска", "give", "почти новая"),
        ("  Tent \n big |  | ", "Tent big", "lend", ""),
    ],
)
def test_parse_offer(text: str, title: str, mode: str, note: str) -> None:
    assert s.parse_offer(text) == s.Offer(title, mode, note)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "sharing.offer_usage"),
        (" | lend", "sharing.offer_usage"),
        ("x" * 101, "sharing.title_too_long"),
    ],
)
def test_parse_offer_refuses(text: str, key: str) -> None:
    with pytest.raises(DomainError) as err:
        s.parse_offer(text)
    assert err.value.key == key


@pytest.mark.parametrize(
    ("text", "cents", "sign"),
    [
        ("12.50", 1250, ""),
        ("¥12.5", 1250, "¥"),
        ("￥12.5", 1250, "¥"),
        ("12,50 ₽", 1250, "₽"),
        ("30元", 3000, "¥"),
        ("30 руб.", 3000, "₽"),
        ("$3", 300, "$"),
        ("0.07", 7, ""),
        ("RMB 45", 4500, "¥"),
    ],
)
def test_parse_money(text: str, cents: int, sign: str) -> None:
    assert s.parse_money(text) == s.Money(cents, sign)


@pytest.mark.parametrize("text", ["", "abc", "12.505", "1,200", "-5", "12..5", "1e3", "¥"])
def test_parse_money_refuses(text: str) -> None:
    with pytest.raises(DomainError) as err:
        s.parse_money(text)
    assert err.value.key == "sharing.bad_price"


@pytest.mark.parametrize(
    ("cents", "currency", "locale", "shown"),
    [
        (123456789, "¥", "zh_Hans", "¥1,234,567.89"),
        (123456789, "¥", "en", "¥1,234,567.89"),
        (123456789, "₽", "ru", "1\u00a0234\u00a0567,89\u00a0₽"),
        (123456789, "", "ru", "1\u00a0234\u00a0567,89"),
        (99, "$", "en", "$0.99"),
        (100000, "€", "ru", "€1\u00a0000,00"),
        (-1250, "¥", "en", "¥-12.50"),
        (3000, "¥", "zh_Hant", "¥30.00"),
    ],
)
def test_format_money_groups_as_the_language_writes(
    cents: int, currency: str, locale: str, shown: str
) -> None:
    assert s.format_money(cents, currency, locale=locale) == shown


def test_format_money_is_exact() -> None:
    assert s.format_money(1250, "¥") == "¥12.50"
    assert s.format_money(1250, "₽", decimal=",") == "12,50 ₽"
    assert s.format_money(5, "") == "0.05"
    # 3 × 0.10 is exactly 0.30 (a float sum would not be)
    assert s.totals([1, 1, 1], 10, None).cents == 30


@pytest.mark.parametrize(
    ("text", "minimum"),
    [
        ("10", s.Minimum("units", 10)),
        ("10 boxes", s.Minimum("units", 10)),
        ("10箱", s.Minimum("units", 10)),
        ("10 шт.", s.Minimum("units", 10)),
        ("¥300", s.Minimum("money", 30000)),
        ("300元", s.Minimum("money", 30000)),
        ("300.00", s.Minimum("money", 30000)),
        ("3000 ₽", s.Minimum("money", 300000)),
    ],
)
def test_parse_minimum(text: str, minimum: s.Minimum) -> None:
    assert s.parse_minimum(text) == minimum


@pytest.mark.parametrize("text", ["lots", "0", "¥0", "-3"])
def test_parse_minimum_refuses(text: str) -> None:
    with pytest.raises(DomainError):
        s.parse_minimum(text)


def test_totals_and_minimum() -> None:
    units = s.Minimum("units", 3)
    assert s.totals([2, 0, 1], 1250, units) == s.Totals(units=3, cents=3750, people=2, reached=True)
    assert s.totals([2], 1250, units).reached is False
    money = s.Minimum("money", 5000)
    assert s.totals([2, 2], 1250, money).reached is True
    assert s.totals([3], 1250, money).reached is False
    assert s.totals([], 1250, None) == s.Totals(0, 0, 0, None)


def test_change_quantity_limits() -> None:
    assert s.change_quantity(0, 1) == 1
    assert s.change_quantity(2, -1) == 1
    with pytest.raises(DomainError):
        s.change_quantity(0, -1)
    with pytest.raises(DomainError):
        s.change_quantity(s.MAX_QUANTITY, 1)


def test_parse_groupbuy() -> None:
    spec = s.parse_groupbuy(
        "Apples | ¥45 | tomorrow 20:00 | 10", lang="en", tz="Asia/Shanghai", now=NOW
    )
    assert spec.title == "Apples" and spec.price == s.Money(4500, "¥")
    assert spec.closes_at.astimezone(UTC) == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert spec.minimum == s.Minimum("units", 10)
    spec = s.parse_groupbuy(
        "苹果 | 45元 | 明天晚上8点", lang="zh_Hans", tz="Asia/Shanghai", now=NOW
    )
    assert spec.minimum is None and spec.price.cents == 4500
    for bad in ("Apples | 45", "Apples | 0 | tomorrow", "A | 1 | every day 9:00", "| 1 | tomorrow"):
        with pytest.raises(DomainError):
            s.parse_groupbuy(bad, lang="en", tz="UTC", now=NOW)


def test_chain_lines_are_replaced_in_place() -> None:
    lines = s.replace_line([], 1, "3-502 Wang, 2 boxes")
    lines = s.replace_line(lines, 2, "5-101 Bob, 1 box")
    lines = s.replace_line(lines, 1, "3-502 Wang, 3 boxes")
    assert lines == [(1, "3-502 Wang, 3 boxes"), (2, "5-101 Bob, 1 box")]
    assert s.replace_line(lines, 1, None) == [(2, "5-101 Bob, 1 box")]
    assert s.replace_line(lines, 9, None) == lines
    assert s.chain_line("  3-502\nWang ") == "3-502 Wang"
    assert s.chain_line("-") is None and s.chain_line("—") is None
    with pytest.raises(DomainError):
        s.chain_line("x" * 201)
    with pytest.raises(DomainError):
        s.chain_line("   ")


def test_parse_chain() -> None:
    assert s.parse_chain("Dumplings", lang="en", tz="UTC", now=NOW) == s.ChainSpec(
        "Dumplings", None
    )
    spec = s.parse_chain("饺子 | 明天下午6点", lang="zh_Hans", tz="Asia/Shanghai", now=NOW)
    assert spec.closes_at is not None and spec.closes_at.hour == 18
    with pytest.raises(DomainError):
        s.parse_chain(" | tomorrow", lang="en", tz="UTC", now=NOW)


def test_loan_timing() -> None:
    due = s.due_in_days(NOW, 7, "Europe/Moscow")
    assert due.hour == 20 and due.date().isoformat() == "2026-11-28"
    assert s.reminder_time(NOW, NOW + timedelta(days=5)) == NOW + timedelta(days=4)
    assert s.reminder_time(NOW, NOW + timedelta(hours=10)) == NOW + timedelta(hours=5)
    assert s.reminder_time(NOW, NOW + timedelta(minutes=40)) is None
    with pytest.raises(DomainError):
        s.due_in_days(NOW, 5, "UTC")
    assert s.parse_due("через 3 дня", lang="ru", tz="Europe/Moscow", now=NOW) > NOW
    with pytest.raises(DomainError):
        s.parse_due("every day", lang="en", tz="UTC", now=NOW)


@pytest.mark.parametrize(
    ("query", "terms", "like"),
    [
        ("Drill", ["drill"], [False]),
        ("电脑", ["电脑"], [True]),
        ("书", ["书"], [True]),
        ("ВелоСИП, детский", ["велосип", "детский"], [False, False]),
        ("a b c d e f g", ["a", "b", "c", "d", "e"], [True] * 5),
    ],
)
def test_search_terms(query: str, terms: list[str], like: list[bool]) -> None:
    assert s.search_terms(query) == terms
    assert [s.needs_like(t) for t in terms] == like


def test_search_escaping() -> None:
    assert s.like_pattern("100%_\\") == "%100\\%\\_\\\\%"
    assert s.fts_phrase('a"b') == '"a""b"'


@pytest.mark.parametrize(
    ("stored", "query"),
    [
        ("Шуруповёрт", "шуруповерт"),
        ("Шуруповерт", "ШУРУПОВЁРТ"),
        ("Power drill", "ＤＲＩＬＬ"),  # full-width Latin, as Chinese keyboards type it
        ("ｉＰａｄ 充电器", "ipad"),
    ],
)
def test_search_folds_both_sides_alike(stored: str, query: str) -> None:
    [term] = s.search_terms(query)
    assert term in s.search_text(stored)
