"""when.py beyond the corpus: split(), next_after() across DST and month ends, the rules for
ambiguous input, and a property test: whatever a resident types, parse() answers with a When in
the future or a documented refusal — never another exception."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.errors import DomainError
from bot.domain.when import ERROR_KEYS, When, next_after, parse, split, understood_by, warm

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MOSCOW = ZoneInfo("Europe/Moscow")
SAT = datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI)  # a Saturday
SAT_MSK = datetime(2026, 11, 21, 10, 0, tzinfo=MOSCOW)
WORKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"

FULL = os.environ.get("COURTYARD_FULL_TESTS") == "1"
EXAMPLES = 10_000 if FULL else 300


@pytest.fixture(scope="module", autouse=True)
def warmed() -> Iterator[None]:
    warm()  # dateparser is ~1 s cold: pay once per module
    yield


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def shown(moment: datetime | None) -> str:
    assert moment is not None
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M}{offset[:3]}:{offset[3:]}"


# ------------------------------------------------------------------------------------ split


@pytest.mark.parametrize(
    ("text", "lang", "now", "first", "rrule", "rest"),
    [
        (
            "tomorrow 9:00 take the bins out",
            "en",
            SAT,
            "2026-11-22 09:00",
            None,
            "take the bins out",
        ),
        (
            "tomorrow at 9 take the bins out",
            "en",
            SAT,
            "2026-11-22 09:00",
            None,
            "take the bins out",
        ),
        ("tomorrow, take the bins out", "en", SAT, "2026-11-22 09:00", None, "take the bins out"),
        ("in 2 hours: call the plumber", "en", SAT, "2026-11-21 12:00", None, "call the plumber"),
        ("at 9 meeting in the lobby", "en", SAT, "2026-11-22 09:00", None, "meeting in the lobby"),
        (
            "next friday 6pm party on the roof",
            "en",
            SAT,
            "2026-11-27 18:00",
            None,
            "party on the roof",
        ),
        (
            "every monday 9:00 | Bins go out tonight",
            "en",
            SAT,
            "2026-11-23 09:00",
            "FREQ=WEEKLY;BYDAY=MO",
            "Bins go out tonight",
        ),
        ("every monday 9:00|Bins", "en", SAT, "2026-11-23 09:00", "FREQ=WEEKLY;BYDAY=MO", "Bins"),
        ("tomorrow | a | b", "en", SAT, "2026-11-22 09:00", None, "a | b"),
        ("tomorrow at 7pm EST call Bob", "en", SAT, "2026-11-23 08:00", None, "call Bob"),
        ("明天早上8点倒垃圾", "zh_Hans", SAT, "2026-11-22 08:00", None, "倒垃圾"),
        ("明天早上八点半倒垃圾", "zh_Hans", SAT, "2026-11-22 08:30", None, "倒垃圾"),
        ("周六上午十点一起打扫", "zh_Hans", SAT, "2026-11-28 10:00", None, "一起打扫"),
        ("明天一起吃饭", "zh_Hans", SAT, "2026-11-22 09:00", None, "一起吃饭"),
        ("每天早上8点：倒垃圾", "zh_Hans", SAT, "2026-11-22 08:00", "FREQ=DAILY", "倒垃圾"),
        (
            "每周二晚上8点 | 倒垃圾",
            "zh_Hans",
            SAT,
            "2026-11-24 20:00",
            "FREQ=WEEKLY;BYDAY=TU",
            "倒垃圾",
        ),
        ("两小时后，开会", "zh_Hans", SAT, "2026-11-21 12:00", None, "开会"),
        ("через 2 часа позвонить маме", "ru", SAT_MSK, "2026-11-21 12:00", None, "позвонить маме"),
        ("завтра в 9 утра вынести мусор", "ru", SAT_MSK, "2026-11-22 09:00", None, "вынести мусор"),
        ("в пятницу в 18:00 собрание", "ru", SAT_MSK, "2026-11-27 18:00", None, "собрание"),
        ("по будням в 7:30 — зарядка", "ru", SAT_MSK, "2026-11-23 07:30", WORKDAYS, "зарядка"),
        (
            "каждый вторник в 20:00 | Вынести мусор",
            "ru",
            SAT_MSK,
            "2026-11-24 20:00",
            "FREQ=WEEKLY;BYDAY=TU",
            "Вынести мусор",
        ),
    ],
)
def test_split(
    text: str, lang: str, now: datetime, first: str, rrule: str | None, rest: str
) -> None:
    when, found = split(text, lang=lang, tz=str(now.tzinfo), now=now)
    assert shown(when.first)[:16] == first
    assert when.rrule == rrule
    assert found == rest


@pytest.mark.parametrize(
    ("text", "lang", "key", "params"),
    [
        ("tomorrow 9:00", "en", "when.no_text", {}),
        ("tomorrow 9:00,  ", "en", "when.no_text", {}),
        ("every monday 9:00 |   ", "en", "when.no_text", {}),
        ("明天早上8点", "zh_Hans", "when.no_text", {}),
        ("завтра в 9 —", "ru", "when.no_text", {}),
        ("take the bins out", "en", "when.unparseable", {"text": "take the bins out"}),
        (
            "sat down with the neighbours",
            "en",
            "when.unparseable",
            {"text": "sat down with the neighbours"},
        ),
        ("倒垃圾", "zh_Hans", "when.unparseable", {"text": "倒垃圾"}),
        ("позвонить маме", "ru", "when.unparseable", {"text": "позвонить маме"}),
        ("hello | world", "en", "when.unparseable", {"text": "hello"}),
        ("yesterday 9:00 take the bins", "en", "when.past", {"text": "yesterday 9:00"}),
        ("今天早上8点倒垃圾", "zh_Hans", "when.past", {"text": "今天早上8点"}),
        ("через 10 лет проверить", "ru", "when.too_far", {"text": "через 10 лет"}),
        ("   ", "en", "when.empty", {}),
        ("", "en", "when.empty", {}),
        (" | remind me", "en", "when.empty", {}),
    ],
)
def test_split_refusals(text: str, lang: str, key: str, params: dict[str, str]) -> None:
    now = SAT_MSK if lang == "ru" else SAT
    with pytest.raises(DomainError) as info:
        split(text, lang=lang, tz=str(now.tzinfo), now=now)
    assert info.value.key == key
    assert info.value.params == params


def test_split_takes_the_longest_phrase() -> None:
    when, rest = split("tomorrow evening at 8 bins", lang="en", tz="Asia/Shanghai", now=SAT)
    assert (shown(when.first)[:16], rest) == ("2026-11-22 20:00", "bins")
    when, rest = split("明天下午3点一刻开会", lang="zh_Hans", tz="Asia/Shanghai", now=SAT)
    assert (shown(when.first)[:16], rest) == ("2026-11-22 15:15", "开会")


# ------------------------------------------------------------------------------- next_after


def test_next_after_keeps_the_wall_time_across_spring_forward() -> None:
    when = parse("every day 9:00", lang="en", tz="Europe/Berlin", now=at(BERLIN, 2026, 3, 27, 10))
    seen = [when.first]
    for _ in range(3):
        following = next_after(when, seen[-1])
        assert following is not None
        seen.append(following)
    assert [shown(m) for m in seen] == [
        "2026-03-28 09:00+01:00",
        "2026-03-29 09:00+02:00",
        "2026-03-30 09:00+02:00",
        "2026-03-31 09:00+02:00",
    ]
    # the night of the change is an hour short: 23 real hours between those two
    assert seen[1].astimezone(UTC) - seen[0].astimezone(UTC) == timedelta(hours=23)
    assert seen[2].astimezone(UTC) - seen[1].astimezone(UTC) == timedelta(hours=24)


def test_next_after_keeps_the_wall_time_across_fall_back() -> None:
    when = parse(
        "every day 9:00", lang="en", tz="America/New_York", now=at(NEW_YORK, 2026, 10, 30, 10)
    )
    following = next_after(when, at(NEW_YORK, 2026, 10, 31, 9, 30))
    assert shown(following) == "2026-11-01 09:00-05:00"
    assert shown(next_after(when, following)) == "2026-11-02 09:00-05:00"  # type: ignore[arg-type]


def test_next_after_in_the_gap_moves_forward_then_returns_to_the_time_said() -> None:
    when = parse("every day 2:30", lang="en", tz="Europe/Berlin", now=at(BERLIN, 2026, 3, 27, 10))
    assert when.rrule == "FREQ=DAILY"
    assert shown(next_after(when, at(BERLIN, 2026, 3, 28, 12))) == "2026-03-29 03:30+02:00"
    assert shown(next_after(when, at(BERLIN, 2026, 3, 29, 12))) == "2026-03-30 02:30+02:00"


def test_next_after_in_the_fall_back_fold_takes_the_first() -> None:
    when = parse("every day 2:30", lang="en", tz="Europe/Berlin", now=at(BERLIN, 2026, 10, 20, 10))
    first_half = next_after(when, at(BERLIN, 2026, 10, 24, 12))
    assert shown(first_half) == "2026-10-25 02:30+02:00"
    assert shown(next_after(when, first_half)) == "2026-10-26 02:30+01:00"  # type: ignore[arg-type]


def test_next_after_when_the_first_fell_into_the_gap() -> None:
    when = parse("every day 2:30", lang="en", tz="Europe/Berlin", now=at(BERLIN, 2026, 3, 28, 10))
    assert shown(when.first) == "2026-03-29 03:30+02:00"
    assert when.rrule == "FREQ=DAILY;BYHOUR=2;BYMINUTE=30"
    assert shown(next_after(when, when.first)) == "2026-03-30 02:30+02:00"


def test_every_month_on_the_31st_skips_months_without_one() -> None:
    """RFC 5545: BYMONTHDAY=31 fires only in months that have a 31st (no clamping)."""
    when = parse(
        "every month on the 31st", lang="en", tz="Europe/Berlin", now=at(BERLIN, 2026, 1, 1)
    )
    seen = [when.first]
    for _ in range(7):
        following = next_after(when, seen[-1])
        assert following is not None
        seen.append(following)
    assert [f"{m:%m-%d}" for m in seen] == [
        "01-31", "03-31", "05-31", "07-31", "08-31", "10-31", "12-31", "01-31",
    ]  # fmt: skip


def test_last_day_of_the_month_follows_month_ends() -> None:
    when = parse(
        "每月最后一天晚上8点", lang="zh_Hans", tz="Asia/Shanghai", now=at(SHANGHAI, 2027, 1, 5)
    )
    assert when.rrule == "FREQ=MONTHLY;BYMONTHDAY=-1"
    seen = [when.first]
    for _ in range(3):
        following = next_after(when, seen[-1])
        assert following is not None
        seen.append(following)
    assert [f"{m:%Y-%m-%d %H:%M}" for m in seen] == [
        "2027-01-31 20:00", "2027-02-28 20:00", "2027-03-31 20:00", "2027-04-30 20:00",
    ]  # fmt: skip


def test_every_month_on_the_29th_in_a_leap_year() -> None:
    when = parse(
        "каждый месяц 29 числа", lang="ru", tz="Europe/Moscow", now=at(MOSCOW, 2028, 1, 30)
    )
    assert f"{when.first:%Y-%m-%d}" == "2028-02-29"
    assert f"{next_after(when, when.first):%Y-%m-%d}" == "2028-03-29"


def test_next_after_one_off() -> None:
    when = parse("tomorrow 9:00", lang="en", tz="Asia/Shanghai", now=SAT)
    assert next_after(when, SAT) == when.first
    assert next_after(when, when.first) is None
    assert next_after(when, when.first + timedelta(days=1)) is None


def test_next_after_before_the_first_is_the_first() -> None:
    when = parse("every tuesday 20:00", lang="en", tz="Asia/Shanghai", now=SAT)
    assert next_after(when, SAT - timedelta(days=30)) == when.first


def test_next_after_accepts_any_zone_for_after() -> None:
    when = parse("every day 9:00", lang="en", tz="Asia/Shanghai", now=SAT)
    after = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert shown(next_after(when, after)) == "2026-11-24 09:00+08:00"
    assert next_after(when, after).tzinfo is when.first.tzinfo  # type: ignore[union-attr]


def test_next_after_weekly_after_many_weeks() -> None:
    when = parse("каждый вторник в 20:00", lang="ru", tz="Europe/Moscow", now=SAT_MSK)
    later = next_after(when, at(MOSCOW, 2027, 6, 1, 21))
    assert shown(later) == "2027-06-08 20:00+03:00"


def test_next_after_interval_keeps_its_phase() -> None:
    # a series starts at its first moment ahead: 09:00 has passed today, so tomorrow
    when = parse("every 2 days", lang="en", tz="Asia/Shanghai", now=SAT)
    assert f"{when.first:%m-%d}" == "11-22"
    assert f"{next_after(when, when.first):%m-%d}" == "11-24"


# ------------------------------------------------------------------------------------ rules


def test_error_text_is_stripped_and_cut_to_60_characters() -> None:
    text = "  " + "blah " * 30
    with pytest.raises(DomainError) as info:
        parse(text, lang="en", tz="UTC", now=SAT)
    assert info.value.key == "when.unparseable"
    assert info.value.params == {"text": text.strip()[:60]}


def test_now_may_be_in_any_zone() -> None:
    now_utc = SAT.astimezone(UTC)
    assert parse("tomorrow", lang="en", tz="Asia/Shanghai", now=now_utc) == parse(
        "tomorrow", lang="en", tz="Asia/Shanghai", now=SAT
    )


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse("tomorrow", lang="en", tz="UTC", now=datetime(2026, 11, 21, 10))


def test_a_chinese_group_may_type_english_and_russian() -> None:
    for text in ("tomorrow 9:00", "завтра в 9:00", "明天9点"):
        when = parse(text, lang="zh_Hans", tz="Asia/Shanghai", now=SAT)
        assert shown(when.first) == "2026-11-22 09:00+08:00"


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("12/5", None),  # May 12th in London, December 5th in New York: refused
        ("5/12/2026", None),
        ("13/5", "2027-05-13 09:00"),
        ("5/13", "2027-05-13 09:00"),
        ("5/5", "2027-05-05 09:00"),
        ("2026/12/05", "2026-12-05 09:00"),
    ],
)
def test_slash_dates_only_when_unambiguous(text: str, first: str | None) -> None:
    if first is None:
        with pytest.raises(DomainError) as info:
            parse(text, lang="en", tz="Asia/Shanghai", now=SAT)
        assert info.value.key == "when.unparseable"
    else:
        assert shown(parse(text, lang="en", tz="Asia/Shanghai", now=SAT).first)[:16] == first


def test_a_date_of_today_whose_time_has_passed_is_refused_not_moved_a_year() -> None:
    with pytest.raises(DomainError) as info:
        parse("21 ноября в 8:00", lang="ru", tz="Europe/Moscow", now=SAT_MSK)
    assert info.value.key == "when.past"
    when = parse("21 ноября в 18:00", lang="ru", tz="Europe/Moscow", now=SAT_MSK)
    assert shown(when.first) == "2026-11-21 18:00+03:00"


def test_five_years_is_the_limit() -> None:
    assert parse("2031-11-21 09:00", lang="en", tz="Asia/Shanghai", now=SAT).first.year == 2031
    for text in ("2031-11-22", "in 6 years", "9999-12-31", "через 9999 дней"):
        with pytest.raises(DomainError) as info:
            parse(text, lang="en", tz="Asia/Shanghai", now=SAT)
        assert info.value.key == "when.too_far", text


def test_february_29_without_a_year_is_the_next_one() -> None:
    when = parse("feb 29", lang="en", tz="UTC", now=datetime(2026, 11, 21, tzinfo=UTC))
    assert f"{when.first:%Y-%m-%d}" == "2028-02-29"


def test_relative_seconds_are_kept_for_elapsed_time() -> None:
    now = datetime(2026, 11, 21, 10, 0, 17, 500, tzinfo=SHANGHAI)
    when = parse("in 30 minutes", lang="en", tz="Asia/Shanghai", now=now)
    assert when.first == datetime(2026, 11, 21, 10, 30, 17, tzinfo=SHANGHAI)
    when = parse("in 3 days", lang="en", tz="Asia/Shanghai", now=now)
    assert when.first == datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "text",
    [
        "tomorrow week",  # British: a week after tomorrow; dateparser says tomorrow
        "dec noon",  # dateparser: December 21st (today's day of the month)
        "9 noon",  # dateparser: September 21st
        "monday 30",
        "noon 2",
        "3 days",  # a duration, or a moment?
        "2h",
        "19h",  # dateparser: 19 hours from now
        "2 часа",  # two o'clock, or two hours?
        "明天小时",  # dateparser: tomorrow
        "next week",
        "下周",
        "2 hours ago",
    ],
)
def test_dateparser_is_not_allowed_to_guess(text: str) -> None:
    with pytest.raises(DomainError) as info:
        parse(text, lang="en", tz="Asia/Shanghai", now=SAT)
    assert info.value.key in {"when.unparseable", "when.past"}


@pytest.mark.parametrize(
    ("text", "reader"),
    [
        ("tomorrow at 9", "grammar"),
        ("明天早上8点", "grammar"),
        ("yesterday", "grammar"),  # understood, then refused as past
        ("tomorrow at 7pm EST", "grammar"),  # zones are the grammar's since 0.2.0
        ("dec noon", None),
        ("", None),
    ],
)
def test_understood_by(text: str, reader: str | None) -> None:
    assert understood_by(text, lang="en", tz="Asia/Shanghai", now=SAT) == reader


def test_warm_is_idempotent_and_quick_once_warm() -> None:
    warm()
    warm()


# --------------------------------------------------------------------------------- property

VOCABULARY = [
    "tomorrow", "today", "tonight", "every", "each", "next", "this", "last", "in", "at", "on",
    "the", "monday", "sat", "sunday", "weekday", "day", "week", "month", "year", "morning",
    "evening", "noon", "midnight", "am", "pm", "3pm", "12am", "9:00", "21:30", "2", "30", "1st",
    "31st", "dec", "5", "hours", "minutes", "half", "an", "hour", "and", "a", "2026-12-05",
    "05.12", "12/5", "25/12", "9.30", "завтра", "сегодня", "в", "во", "через", "каждый",
    "каждое", "утро", "утра", "вечера", "ночи", "полчаса", "часа", "дня", "неделю", "субботу",
    "следующую", "эту", "по", "будням", "декабря", "1-е", "число", "месяца", "числа", "明天",
    "今晚", "每", "周六", "下周", "本周", "下午", "晚上", "3点", "八点半", "一刻", "小时", "后",
    "12月5日", "号", "每月", "工作日", "两", "半", "EST", "UTC", "|", ",", "ago", "yesterday",
    "вчера", "昨天", "0", "99999", "-1", "24:00", "00:00", "feb", "29", "31",
]  # fmt: skip


def _check_parse(text: str, lang: str, tz: str, now: datetime) -> When | None:
    try:
        when = parse(text, lang=lang, tz=tz, now=now)
    except DomainError as error:
        assert error.key in ERROR_KEYS - {"when.no_text"}, error
        return None
    assert when.first.astimezone(UTC) > now.astimezone(UTC)
    assert getattr(when.first.tzinfo, "key", None) == tz
    assert when.first.astimezone(UTC) <= now.astimezone(UTC) + timedelta(days=366 * 5 + 2)
    if when.rrule is not None:
        following = next_after(when, when.first)
        assert following is not None and following.astimezone(UTC) > when.first.astimezone(UTC)
    return when


ZONES = st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC"])
LANGS = st.sampled_from(["en", "zh_Hans", "ru"])
NOWS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2032, 12, 31), timezones=st.just(UTC)
)
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(text=st.text(max_size=80), lang=LANGS, tz=ZONES, now=NOWS)
def test_parse_never_fails_otherwise_on_random_text(
    text: str, lang: str, tz: str, now: datetime
) -> None:
    _check_parse(text, lang, tz, now)


@PROPERTY
@given(
    words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=6),
    joiner=st.sampled_from([" ", ""]),
    lang=LANGS,
    tz=ZONES,
    now=NOWS,
)
def test_parse_never_fails_otherwise_on_our_own_words(
    words: list[str], joiner: str, lang: str, tz: str, now: datetime
) -> None:
    _check_parse(joiner.join(words), lang, tz, now)


@PROPERTY
@given(
    words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=5),
    tail=st.text(max_size=20),
    lang=LANGS,
    tz=ZONES,
    now=NOWS,
)
def test_split_never_fails_otherwise(
    words: list[str], tail: str, lang: str, tz: str, now: datetime
) -> None:
    try:
        when, rest = split(" ".join(words) + " " + tail, lang=lang, tz=tz, now=now)
    except DomainError as error:
        assert error.key in ERROR_KEYS, error
        return
    assert rest and rest == rest.strip()
    assert when.first.astimezone(UTC) > now.astimezone(UTC)
    assert getattr(when.first.tzinfo, "key", None) == tz


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("周五20点", "2026-11-27 20:00"),
        ("下周五20点", "2026-11-27 20:00"),
        ("星期五20点", "2026-11-27 20:00"),
        ("周五2点", "2026-11-27 02:00"),
        ("周6下午3点", "2026-11-21 15:00"),
    ],
)
def test_a_chinese_weekday_followed_by_a_digit_hour(text: str, expected: str) -> None:
    """A digit weekday (周1…周7) must not swallow the first digit of an hour that follows."""
    now = datetime(2026, 11, 21, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Saturday
    found = parse(text, lang="zh_Hans", tz="Asia/Shanghai", now=now)
    assert found.first.strftime("%Y-%m-%d %H:%M") == expected and found.rrule is None


# ------------------------------------------------------------------ zones, now, fortnights

TUESDAY = datetime(2026, 2, 10, 4, 30, tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("tz", "expected"),
    [
        ("Asia/Kolkata", "2026-02-10 20:00+05:30"),  # the group is in India: Indian time
        ("Asia/Jerusalem", "2026-02-10 20:00+02:00"),  # in Israel: Israeli time
        ("Europe/Dublin", "2026-02-10 20:00+00:00"),  # in Ireland: Irish time
    ],
)
def test_ist_is_read_in_the_group_s_own_zone(tz: str, expected: str) -> None:
    now = TUESDAY.astimezone(ZoneInfo(tz))
    assert shown(parse("8pm IST", lang="en", tz=tz, now=now).first) == expected


def test_ist_elsewhere_is_asked_about_not_guessed() -> None:
    """A group in Berlin writing IST may mean India or Ireland: the answer names the readings."""
    now = TUESDAY.astimezone(BERLIN)
    with pytest.raises(DomainError) as info:
        parse("8pm IST", lang="en", tz="Europe/Berlin", now=now)
    assert info.value.key == "when.ambiguous_zone"
    assert info.value.params["text"] == "8pm IST"
    assert info.value.params["abbr"] == "IST"
    zones = info.value.params["zones"]
    assert "Asia/Kolkata (UTC+05:30)" in zones and "Asia/Jerusalem (UTC+02:00)" in zones
    with pytest.raises(DomainError) as info:
        split("8pm IST call the plumber", lang="en", tz="Europe/Berlin", now=now)
    assert info.value.key == "when.ambiguous_zone" and info.value.params["text"] == "8pm IST"


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("9am PST", "America/New_York", "2026-02-10 12:00-05:00"),  # an American group: Pacific
        ("9am CST", "Asia/Taipei", "2026-02-11 09:00+08:00"),  # a Taiwanese group: its own CST
        ("9am CST", "America/New_York", "2026-02-10 10:00-05:00"),  # an American one: Central
        ("9am UTC+3", "Asia/Shanghai", "2026-02-10 14:00+08:00"),
        ("9:30 gmt-2", "UTC", "2026-02-10 11:30+00:00"),
        ("9h UTC", "Europe/Berlin", "2026-02-10 10:00+01:00"),
    ],
)
def test_zones_named_after_a_time(text: str, tz: str, expected: str) -> None:
    now = TUESDAY.astimezone(ZoneInfo(tz))
    assert shown(parse(text, lang="en", tz=tz, now=now).first) == expected


@pytest.mark.parametrize("text", ["every monday 9am UTC", "in 2 hours UTC", "UTC", "9am UTC+25"])
def test_a_zone_belongs_to_a_time_said_once(text: str) -> None:
    with pytest.raises(DomainError) as info:
        parse(text, lang="en", tz="Europe/Berlin", now=TUESDAY)
    assert info.value.key == "when.unparseable"


@pytest.mark.parametrize("text", ["now", "right away", "сейчас", "现在", "而家"])
def test_now_is_at_once_even_with_microseconds(text: str) -> None:
    """An announcement "now" went out as '“now” is in the past'; it is the next second."""
    now = datetime(2026, 2, 10, 4, 30, 12, 999_999, tzinfo=ZoneInfo("UTC"))
    first = parse(text, lang="en", tz="UTC", now=now).first
    assert now < first <= now + timedelta(seconds=1)


def test_in_one_minute_with_microseconds() -> None:
    now = datetime(2026, 2, 10, 4, 30, 12, 500_000, tzinfo=ZoneInfo("UTC"))
    first = parse("in 1 minute", lang="en", tz="UTC", now=now).first
    assert first == datetime(2026, 2, 10, 4, 31, 12, tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("text", "lang", "first", "second"),
    [
        ("every 2 weeks on monday", "en", "2026-02-16", "2026-03-02"),
        ("every other thursday", "en", "2026-02-12", "2026-02-26"),
        ("每隔一周的周三", "zh_Hans", "2026-02-11", "2026-02-25"),
        ("раз в две недели по средам", "ru", "2026-02-11", "2026-02-25"),
    ],
)
def test_a_fortnightly_rule_starts_at_the_first_day_ahead(
    text: str, lang: str, first: str, second: str
) -> None:
    """Asked on a Tuesday, "every 2 weeks on monday" started a week late (the 23rd)."""
    when = parse(text, lang=lang, tz="UTC", now=TUESDAY)
    following = next_after(when, when.first)
    assert (f"{when.first:%Y-%m-%d}", f"{following:%Y-%m-%d}") == (first, second)


@pytest.mark.parametrize(
    ("text", "rrule", "dates"),
    [
        ("first monday of every month", "FREQ=MONTHLY;BYDAY=1MO", ["03-02", "04-06", "05-04"]),
        ("每月最后一个周五", "FREQ=MONTHLY;BYDAY=-1FR", ["02-27", "03-27", "04-24"]),
        ("каждый первый понедельник месяца", "FREQ=MONTHLY;BYDAY=1MO", ["03-02", "04-06", "05-04"]),
    ],
)
def test_the_nth_weekday_of_every_month(text: str, rrule: str, dates: list[str]) -> None:
    when = parse(text, lang="en", tz="UTC", now=TUESDAY)
    assert when.rrule == rrule
    seen, moment = [], when.first
    for _ in dates:
        assert moment is not None
        seen.append(f"{moment:%m-%d}")
        moment = next_after(when, moment)
    assert seen == dates


@pytest.mark.parametrize(
    ("text", "lang", "tz", "first", "rest"),
    [
        (
            "8pm IST call with the plumber",
            "en",
            "Asia/Kolkata",
            "02-10 20:00",
            "call with the plumber",
        ),
        ("at 8 30 meeting in the lobby", "en", "UTC", "02-10 08:30", "meeting in the lobby"),
        ("tonight 2 volunteers needed", "en", "UTC", "02-10 19:00", "2 volunteers needed"),
        ("now: the water is off", "en", "UTC", "02-10 04:30", "the water is off"),
        ("eight tonight bins", "en", "UTC", "02-10 20:00", "bins"),
        ("聽日晏晝三點開會", "zh_Hans", "Asia/Hong_Kong", "02-11 15:00", "開會"),
        ("下个月最后一个周五交物业费", "zh_Hans", "Asia/Shanghai", "03-27 09:00", "交物业费"),
        ("первого марта в 10 утра собрание", "ru", "Europe/Moscow", "03-01 10:00", "собрание"),
    ],
)
def test_split_new_phrases(text: str, lang: str, tz: str, first: str, rest: str) -> None:
    now = TUESDAY.astimezone(ZoneInfo(tz)).replace(hour=4, minute=30)
    when, found = split(text, lang=lang, tz=tz, now=now)
    assert (f"{when.first:%m-%d %H:%M}", found) == (first, rest)


@pytest.mark.parametrize(
    "text",
    [
        "by the way the lift is broken",
        "at the gate tomorrow",
        "around the block",
        "half the residents",
        "7 people tomorrow",
        "first come first served",
        "for 2 hours tomorrow",
    ],
)
def test_split_does_not_take_everyday_words_for_a_time(text: str) -> None:
    with pytest.raises(DomainError) as info:
        split(text, lang="en", tz="UTC", now=TUESDAY)
    assert info.value.key == "when.unparseable"


def test_traditional_and_cantonese_fold_to_the_grammar_s_words() -> None:
    from bot.domain.when.zh import fold

    assert fold("聽日晏晝三點") == "明天下午三点"
    assert fold("今個星期五") == "这个星期五"
    assert fold("下禮拜二") == "下礼拜二"
    assert fold("三點兩個字") == "三点10分"
    assert fold("tomorrow") == "tomorrow"
    assert fold("呢") == "呢"  # a particle, not "this"


def test_russian_ordinals_in_every_case() -> None:
    from bot.domain.when.ru import ordinal

    words = {
        "первое": 1, "первого": 1, "первому": 1, "третье": 3, "третьего": 3, "третьему": 3,
        "восемнадцатое": 18, "двадцать первого": 21, "тридцать первое": 31, "двадцатым": 20,
    }  # fmt: skip
    assert {word: ordinal(word) for word in words} == words
    assert ordinal("тридцать второго") is None
    assert ordinal("стол") is None
