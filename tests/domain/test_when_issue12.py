"""Issue 12, item by item: the issue's own example phrases, each with the answer a resident
means, read by the parser as it stands; ranges with their ends; hourly rules and how often a
post may repeat; every rule the corpus yields said in words in all three languages.

Bases (from the labelled corpus): T/F New York, K Kolkata, L London, Z/G Shanghai, H Hong Kong,
M/N Moscow; T, K, L, Z, H, M are a Tuesday, 2026-02-10 04:30, before dawn.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import DomainError
from bot.domain.languages import SUPPORTED
from bot.domain.posts import check_frequency, describe, gap_minutes
from bot.domain.when import next_after, parse, split
from bot.i18n import describe_rrule, t
from tests.domain.test_when_corpus import BASES, CORPUS, Base, local, matches

EN, ZH, RU = "en", "zh_Hans", "ru"
#: Saturday 2025-12-20 10:00 in New York: "Fri, Jan 9" is 2026's.
BASES_HERE: dict[str, Base] = {**BASES, "Y": Base("America/New_York", "2025-12-20 10:00")}

# base, language, phrase, the first moment (local) or !error, the rule
ISSUE: tuple[tuple[str, str, str, str, str | None], ...] = (
    # English: quarters, halves and minutes around an hour
    ("T", EN, "quarter to 7", "2026-02-10 06:45", None),
    ("T", EN, "half past nine tonight", "2026-02-10 21:30", None),
    ("T", EN, "ten past 8", "2026-02-10 08:10", None),
    ("T", EN, "25 minutes to noon tomorrow", "2026-02-11 11:35", None),
    ("T", EN, "half six", "2026-02-10 06:30", None),
    # compact and casual clocks
    ("T", EN, "7p", "2026-02-10 19:00", None),
    ("T", EN, "10:45a", "2026-02-10 10:45", None),
    ("T", EN, "at 0930", "2026-02-10 09:30", None),
    ("T", EN, "1145 pm", "2026-02-10 23:45", None),
    ("T", EN, "7 oclock", "2026-02-10 07:00", None),
    ("T", EN, "around 6ish pm", "2026-02-10 18:00", None),
    ("T", EN, "at 8 30", "2026-02-10 08:30", None),
    # an hour before a day or part of day
    ("T", EN, "7 tomorrow", "2026-02-11 07:00", None),
    ("T", EN, "9 tonight", "2026-02-10 21:00", None),
    ("T", EN, "6 in the evening", "2026-02-10 18:00", None),
    ("T", EN, "on Sunday for 10am", "2026-02-15 10:00", None),
    # the nth / last weekday or day of a month
    ("T", EN, "second Saturday of next month", "2026-03-14 09:00", None),
    ("T", EN, "last Friday of December", "2026-12-25 09:00", None),
    ("T", EN, "last day of the month", "2026-02-28 09:00", None),
    # ordinal days in words
    ("T", EN, "the third of May", "2026-05-03 09:00", None),
    ("T", EN, "June second", "2026-06-02 09:00", None),
    ("T", EN, "on the 21st", "2026-02-21 09:00", None),
    # relative counts
    ("T", EN, "2 Mondays from now", "2026-02-23 09:00", None),
    ("T", EN, "the Friday after next", "2026-02-27 09:00", None),
    ("T", EN, "Tuesday of next week", "2026-02-17 09:00", None),
    ("T", EN, "in a couple of hours", "2026-02-10 06:30", None),
    ("T", EN, "in a few days", "2026-02-13 04:30", None),
    ("T", EN, "10 days hence", "2026-02-20 04:30", None),
    ("T", EN, "within the next 3 days", "NOW", None),
    # a weekday next to a date; numeric dates
    ("T", EN, "Sat 14th", "2026-02-14 09:00", None),
    ("Y", EN, "Fri, Jan 9", "2026-01-09 09:00", None),
    ("T", EN, "the 20th of next month", "2026-03-20 09:00", None),
    ("T", EN, "on 3/14", "2026-03-14 09:00", None),
    ("T", EN, "3-14", "2026-03-14 09:00", None),
    # zones after short times (09:00 UTC is 04:00 in New York: gone today)
    ("T", EN, "9h UTC", "2026-02-11 04:00", None),
    ("T", EN, "at 8 am CET", "2026-02-11 02:00", None),
    ("K", EN, "8pm IST", "2026-02-10 20:00", None),
    ("T", EN, "8pm IST", "!when.ambiguous_zone", None),
    # wrong or misleading before
    ("T", EN, "eight tonight", "2026-02-10 20:00", None),
    ("T", EN, "at seven", "2026-02-10 07:00", None),
    ("T", EN, "this morning at 12", "2026-02-10 12:00", None),
    ("T", EN, "this afternoon at 12", "2026-02-10 12:00", None),
    ("T", EN, "at 7 in 3 years", "2029-02-10 07:00", None),
    ("T", EN, "now", "NOW", None),
    ("T", EN, "right away", "NOW", None),
    ("T", EN, "in 1 minute", "2026-02-10 04:31", None),
    # recurrence
    ("T", EN, "every other Thursday", "2026-02-12 09:00", "FREQ=WEEKLY;BYDAY=TH;INTERVAL=2"),
    ("T", EN, "every 2 weeks on Monday", "2026-02-16 09:00", "FREQ=WEEKLY;BYDAY=MO;INTERVAL=2"),
    ("T", EN, "first Monday of every month", "2026-03-02 09:00", "FREQ=MONTHLY;BYDAY=1MO"),
    ("T", EN, "the last Friday of each month", "2026-02-27 09:00", "FREQ=MONTHLY;BYDAY=-1FR"),
    ("T", EN, "every 3 hours", "2026-02-10 07:30", "FREQ=HOURLY;INTERVAL=3"),
    ("T", EN, "every 30 minutes", "2026-02-10 05:00", "FREQ=MINUTELY;INTERVAL=30"),
    # Chinese
    ("Z", ZH, "十月第一个星期一", "2026-10-05 09:00", None),
    ("Z", ZH, "下个月最后一个周五", "2026-03-27 09:00", None),
    ("Z", ZH, "今星期二", "2026-02-10 09:00", None),
    ("Z", ZH, "今礼拜三", "2026-02-11 09:00", None),
    ("Z", ZH, "明天3:15p", "2026-02-11 15:15", None),
    ("Z", ZH, "七点半", "2026-02-10 07:30", None),
    ("Z", ZH, "现在", "NOW", None),
    ("Z", ZH, "每月最后一个周五", "2026-02-27 09:00", "FREQ=MONTHLY;BYDAY=-1FR"),
    ("Z", ZH, "每隔一周的周三", "2026-02-11 09:00", "FREQ=WEEKLY;BYDAY=WE;INTERVAL=2"),
    ("Z", ZH, "每隔两小时", "2026-02-10 06:30", "FREQ=HOURLY;INTERVAL=2"),
    # Traditional Chinese and Cantonese
    ("H", ZH, "這週三", "2026-02-11 09:00", None),
    ("H", ZH, "下禮拜二", "2026-02-17 09:00", None),
    ("H", ZH, "今個星期五", "2026-02-13 09:00", None),
    ("H", ZH, "聽日", "2026-02-11 09:00", None),
    ("H", ZH, "後日", "2026-02-12 09:00", None),
    ("H", ZH, "大後日", "2026-02-13 09:00", None),
    ("H", ZH, "晏晝三點", "2026-02-10 15:00", None),
    ("H", ZH, "今晚八點半", "2026-02-10 20:30", None),
    # Russian
    ("M", RU, "восемнадцатое февраля", "2026-02-18 09:00", None),
    ("M", RU, "первого марта", "2026-03-01 09:00", None),
    ("M", RU, "к третьему апреля", "2026-04-03 09:00", None),
    ("M", RU, "24-ого мая", "2026-05-24 09:00", None),
    ("M", RU, "следующая среда", "2026-02-18 09:00", None),
    ("M", RU, "в след. пятницу", "2026-02-20 09:00", None),
    ("M", RU, "в 3 пополудни", "2026-02-10 15:00", None),
    ("M", RU, "в 3 после полудня", "2026-02-10 15:00", None),
    ("M", RU, "в пятнадцать часов", "2026-02-10 15:00", None),
    ("M", RU, "в семь вечера", "2026-02-10 19:00", None),
    ("M", RU, "сейчас", "NOW", None),
    ("M", RU, "каждый первый понедельник месяца", "2026-03-02 09:00", "FREQ=MONTHLY;BYDAY=1MO"),
    ("M", RU, "раз в две недели по средам", "2026-02-11 09:00", "FREQ=WEEKLY;BYDAY=WE;INTERVAL=2"),
    ("M", RU, "каждые 2 часа", "2026-02-10 06:30", "FREQ=HOURLY;INTERVAL=2"),
)


@pytest.mark.parametrize("case", ISSUE, ids=[f"{c[1]}:{c[2]}" for c in ISSUE])
def test_the_issues_examples(case: tuple[str, str, str, str, str | None]) -> None:
    base_key, lang, text, expected, rule = case
    base = BASES_HERE[base_key]
    now = base.aware()
    if expected.startswith("!"):
        with pytest.raises(DomainError) as info:
            parse(text, lang=lang, tz=base.tz, now=now)
        assert info.value.key == expected[1:]
        return
    when = parse(text, lang=lang, tz=base.tz, now=now)
    assert matches(when.first, expected, now), (local(when.first), expected)
    assert when.rrule == rule


def test_ist_is_asked_about_outside_its_zones() -> None:
    with pytest.raises(DomainError) as info:
        parse("8pm IST", lang=EN, tz="America/New_York", now=BASES["T"].aware())
    assert "Asia/Kolkata" in info.value.params["zones"]
    assert "Asia/Jerusalem" in info.value.params["zones"]


# ------------------------------------------------------------------------------------ ranges

# base, language, phrase, start, end (local)
RANGES: tuple[tuple[str, str, str, str, str], ...] = (
    ("Z", ZH, "下午四五点", "2026-02-10 16:00", "2026-02-10 17:00"),
    ("Z", ZH, "晚上七八点", "2026-02-10 19:00", "2026-02-10 20:00"),
    ("Z", ZH, "明天上午十一二点", "2026-02-11 11:00", "2026-02-11 12:00"),
    ("Z", ZH, "下午4点到5点半", "2026-02-10 16:00", "2026-02-10 17:30"),
    ("Z", ZH, "十到十五分钟后", "2026-02-10 04:40", "2026-02-10 04:45"),
    ("T", EN, "4-5pm", "2026-02-10 16:00", "2026-02-10 17:00"),
    ("T", EN, "11-1pm", "2026-02-10 11:00", "2026-02-10 13:00"),
    ("T", EN, "between 6 and 7 tonight", "2026-02-10 18:00", "2026-02-10 19:00"),
    ("T", EN, "from 6 to 7pm", "2026-02-10 18:00", "2026-02-10 19:00"),
    ("T", EN, "tomorrow 9:30-10:15", "2026-02-11 09:30", "2026-02-11 10:15"),
    ("T", EN, "friday 10pm-1am", "2026-02-13 22:00", "2026-02-14 01:00"),
    ("T", EN, "in 10-15 minutes", "2026-02-10 04:40", "2026-02-10 04:45"),
    ("M", RU, "через 10-15 минут", "2026-02-10 04:40", "2026-02-10 04:45"),
    ("M", RU, "в 18–19 часов", "2026-02-10 18:00", "2026-02-10 19:00"),
    ("M", RU, "с 6 до 7 вечера", "2026-02-10 18:00", "2026-02-10 19:00"),
    ("M", RU, "завтра с 10:00 до 11:30", "2026-02-11 10:00", "2026-02-11 11:30"),
    ("M", RU, "через 2-3 дня", "2026-02-12 04:30", "2026-02-13 04:30"),
    ("M", RU, "между 6 и 7 вечера", "2026-02-10 18:00", "2026-02-10 19:00"),
    ("T", EN, "8am-9pm", "2026-02-10 08:00", "2026-02-10 21:00"),  # a working day, 13 hours
    ("Z", ZH, "上午九十点", "2026-02-10 09:00", "2026-02-10 10:00"),
)


@pytest.mark.parametrize("case", RANGES, ids=[f"{c[1]}:{c[2]}" for c in RANGES])
def test_a_range_is_taken_at_its_start_and_keeps_its_end(
    case: tuple[str, str, str, str, str],
) -> None:
    base_key, lang, text, start, end = case
    base = BASES[base_key]
    when = parse(text, lang=lang, tz=base.tz, now=base.aware())
    assert local(when.first)[:16] == start
    assert when.end is not None and local(when.end)[:16] == end


@pytest.mark.parametrize(
    "text",
    [
        "5 to 6 pm",  # five minutes to six, not a range
        "quarter to 7",
        "9-5",  # a date, a score, office hours? not a moment
        "4-5",
        "6 and 7",
        "7pm",
        "6am-6am",  # no span
        "1am-11pm",  # longer than 18 hours: two moments, not one range
    ],
)
def test_what_is_not_a_range(text: str) -> None:
    base = BASES["T"]
    try:
        when = parse(text, lang=EN, tz=base.tz, now=base.aware())
    except DomainError as error:
        assert error.key == "when.unparseable"
        return
    assert when.end is None


def test_a_range_in_a_recurrence_and_in_split() -> None:
    base = BASES["T"]
    when = parse("every monday 6-7pm", lang=EN, tz=base.tz, now=base.aware())
    assert when.rrule == "FREQ=WEEKLY;BYDAY=MO"
    assert local(when.first)[:16] == "2026-02-16 18:00"
    assert when.end is not None and local(when.end)[:16] == "2026-02-16 19:00"
    when, rest = split("4-5pm call the plumber", lang=EN, tz=base.tz, now=base.aware())
    assert rest == "call the plumber" and when.end is not None


def test_a_range_that_is_over_is_refused_like_its_start() -> None:
    base = BASES["F"]  # Friday 14:00
    with pytest.raises(DomainError) as info:
        parse("today 10-11am", lang=EN, tz=base.tz, now=base.aware())
    assert info.value.key == "when.past"


# ---------------------------------------------------------------------- hourly and minutely


def test_every_few_hours_starts_now_or_at_the_time_said() -> None:
    now = datetime(2026, 12, 2, 10, 17, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    tz = "Europe/Berlin"
    when = parse("every 3 hours", lang=EN, tz=tz, now=now)
    assert (local(when.first), when.rrule) == ("2026-12-02 13:17+01:00", "FREQ=HOURLY;INTERVAL=3")
    following = next_after(when, when.first)
    assert following is not None and local(following) == "2026-12-02 16:17+01:00"
    when = parse("every 2 hours from 9:00", lang=EN, tz=tz, now=now)
    assert local(when.first) == "2026-12-02 11:00+01:00"
    when = parse("каждые полтора часа", lang=RU, tz=tz, now=now)
    assert when.rrule == "FREQ=MINUTELY;INTERVAL=90"
    when = parse("每半小时", lang=ZH, tz=tz, now=now)
    assert when.rrule == "FREQ=MINUTELY;INTERVAL=30"
    for text in ("hourly", "every hour", "каждый час", "ежечасно", "раз в час", "每小时"):
        assert parse(text, lang=EN, tz=tz, now=now).rrule == "FREQ=HOURLY", text


@pytest.mark.parametrize(
    ("text", "lang", "rule", "first"),
    [
        (
            "every 2 hours from 8am to 8pm",
            EN,
            "FREQ=DAILY;BYHOUR=8,10,12,14,16,18,20;BYMINUTE=0",
            "2026-12-02 12:00+01:00",
        ),
        (
            "every hour from 9 to 17",
            EN,
            "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16,17;BYMINUTE=0",
            "2026-12-02 11:00+01:00",
        ),
        (
            "every 3 hours between 9am and 9pm",
            EN,
            "FREQ=DAILY;BYHOUR=9,12,15,18,21;BYMINUTE=0",
            "2026-12-02 12:00+01:00",
        ),
        (
            "каждые 2 часа с 8 до 20",
            RU,
            "FREQ=DAILY;BYHOUR=8,10,12,14,16,18,20;BYMINUTE=0",
            "2026-12-02 12:00+01:00",
        ),
        (
            "每两小时 8点到20点",
            ZH,
            "FREQ=DAILY;BYHOUR=8,10,12,14,16,18,20;BYMINUTE=0",
            "2026-12-02 12:00+01:00",
        ),
    ],
)
def test_every_few_hours_within_a_window_keeps_the_night_quiet(
    text: str, lang: str, rule: str, first: str
) -> None:
    now = datetime(2026, 12, 2, 10, 17, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    when = parse(text, lang=lang, tz="Europe/Berlin", now=now)
    assert (when.rrule, local(when.first)) == (rule, first)
    # the last of the day is followed by the first of the next day, not by a night one
    evening = datetime(2026, 12, 2, 21, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    following = next_after(when, evening)
    assert following is not None and following.hour in (8, 9) and following.day == 3


@pytest.mark.parametrize(
    "text",
    [
        "every 2 hours from 10pm to 2am",  # across midnight: say it as two
        "every 15 minutes from 9 to 17",  # not a window of hours: refused, never run all night
        "every 30 minutes from 9am to 5pm",
    ],
)
def test_a_window_we_cannot_keep_is_refused(text: str) -> None:
    now = datetime(2026, 12, 2, 10, 17, tzinfo=ZoneInfo("Europe/Berlin"))
    with pytest.raises(DomainError):
        parse(text, lang=EN, tz="Europe/Berlin", now=now)


def test_an_old_hourly_series_finds_its_next_step_at_once() -> None:
    """A rule a year old is counted, not walked step by step from its start."""
    start = datetime(2025, 1, 1, 8, 0, tzinfo=ZoneInfo("UTC"))
    from bot.domain.when import When

    series = When(first=start, rrule="FREQ=MINUTELY;INTERVAL=15")
    after = datetime(2026, 6, 1, 12, 7, tzinfo=ZoneInfo("UTC"))
    assert next_after(series, after) == datetime(2026, 6, 1, 12, 15, tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("rule", "private", "refused"),
    [
        ("FREQ=MINUTELY;INTERVAL=1", True, True),
        ("FREQ=MINUTELY;INTERVAL=10", True, True),
        ("FREQ=MINUTELY;INTERVAL=15", True, False),
        ("FREQ=MINUTELY;INTERVAL=30", False, True),
        ("FREQ=MINUTELY;INTERVAL=90", False, False),
        ("FREQ=HOURLY", False, False),
        ("FREQ=HOURLY;INTERVAL=2", False, False),
        ("FREQ=DAILY", False, False),
        (None, False, False),
    ],
)
def test_how_often_a_post_may_repeat(rule: str | None, private: bool, refused: bool) -> None:
    if refused:
        with pytest.raises(DomainError) as info:
            check_frequency(rule, private=private)
        assert info.value.key == ("post.too_often_private" if private else "post.too_often_group")
        assert info.value.params["minutes"] == (15 if private else 60)
    else:
        check_frequency(rule, private=private)


def test_gap_minutes() -> None:
    assert gap_minutes("FREQ=DAILY;BYHOUR=8,10,12;BYMINUTE=0") == 120
    assert gap_minutes("FREQ=HOURLY;INTERVAL=3") == 180
    assert gap_minutes("FREQ=MINUTELY;INTERVAL=45") == 45
    assert gap_minutes("FREQ=DAILY") is None


# ------------------------------------------------------------------------- rules in words

WORDS: tuple[tuple[str, str, str, str], ...] = (
    (
        "FREQ=WEEKLY;BYDAY=TU;INTERVAL=2",
        "every 2 weeks on Tuesday",
        "每隔一周的周二",
        "раз в две недели по вторникам",
    ),
    (
        "FREQ=WEEKLY;BYDAY=MO,TH;INTERVAL=3",
        "every 3 weeks on Monday and Thursday",
        "每3周的周一和周四",
        "каждые 3 недели по понедельникам и по четвергам",
    ),
    (
        "FREQ=MONTHLY;BYDAY=-1FR",
        "every month on the last Friday",
        "每月最后一个周五",
        "каждую последнюю пятницу месяца",
    ),
    (
        "FREQ=MONTHLY;BYDAY=1MO",
        "every month on the first Monday",
        "每月第一个周一",
        "каждый первый понедельник месяца",
    ),
    (
        "FREQ=MONTHLY;BYDAY=2SU",
        "every month on the second Sunday",
        "每月第二个周日",
        "каждое второе воскресенье месяца",
    ),
    (
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "every month on the last day",
        "每月最后一天",
        "в последний день каждого месяца",
    ),
    (
        "FREQ=YEARLY;BYMONTH=12;BYDAY=-1FR",
        "every year on the last Friday of December",
        "每年十二月的最后一个周五",
        "каждую последнюю пятницу декабря",
    ),
    (
        "FREQ=YEARLY;BYMONTH=11;BYMONTHDAY=21",
        "every year on 21 November",
        "每年11月21日",
        "каждый год 21 ноября",
    ),
    ("FREQ=HOURLY;INTERVAL=3", "every 3 hours", "每3小时", "каждые 3 часа"),
    ("FREQ=HOURLY", "every hour", "每小时", "каждый час"),
    ("FREQ=MINUTELY;INTERVAL=30", "every 30 minutes", "每30分钟", "каждые 30 минут"),
    ("FREQ=DAILY;INTERVAL=2", "every 2 days", "每2天", "каждые 2 дня"),
    ("FREQ=DAILY;BYHOUR=2;BYMINUTE=30", "every day", "每天", "каждый день"),
    (
        "FREQ=DAILY;BYHOUR=8,10,12,14,16,18,20;BYMINUTE=0",
        "every 2 hours from 08:00 to 20:00",
        "每天08:00到20:00每2小时",
        "каждые 2 часа с 08:00 до 20:00",
    ),
    (
        "FREQ=DAILY;BYHOUR=9,10,11;BYMINUTE=0",
        "every hour from 09:00 to 11:00",
        "每天09:00到11:00每小时",
        "каждый час с 09:00 до 11:00",
    ),
    (
        "FREQ=DAILY;BYHOUR=8,12,19;BYMINUTE=30",
        "every day at 08:30, 12:30 and 19:30",
        "每天08:30、12:30和19:30",
        "каждый день в 08:30, 12:30 и 19:30",
    ),
)


@pytest.mark.parametrize("case", WORDS, ids=[c[0] for c in WORDS])
def test_a_rule_reads_in_words(case: tuple[str, str, str, str]) -> None:
    rule, en, zh, ru = case
    assert (describe_rrule(EN, rule), describe_rrule(ZH, rule), describe_rrule(RU, rule)) == (
        en,
        zh,
        ru,
    )


CORPUS_RULES = sorted({c.rrule for c in CORPUS if c.rrule} | {c[4] for c in ISSUE if c[4]})


@pytest.mark.parametrize("rule", CORPUS_RULES)
def test_every_rule_the_grammar_writes_reads_in_words(rule: str) -> None:
    """No rule the corpus yields falls back to "repeating", in any language."""
    assert describe(rule).kind != "other", rule
    for lang in SUPPORTED:  # zh_Hant too
        assert describe_rrule(lang, rule) != t(lang, "rec.other"), (lang, rule)


def test_a_rule_we_do_not_write_still_reads() -> None:
    for rule in ("FREQ=SECONDLY", "FREQ=WEEKLY;BYSETPOS=1", "FREQ=MONTHLY;BYDAY=1MO,2TU"):
        assert describe(rule).kind == "other"
        assert describe_rrule(EN, rule) == "repeating"
    # understood, but not a rule the grammar writes: still said, as "repeating"
    assert describe_rrule(RU, "FREQ=MONTHLY;BYMONTHDAY=1;INTERVAL=2") == "регулярно"


@pytest.mark.parametrize(
    ("text", "lang", "hour"),
    [("二十一点", ZH, 21), ("十二点", ZH, 12), ("с 6 и 7", RU, None), ("в 2-3 часа", RU, 2)],
)
def test_numbers_that_only_look_like_ranges(text: str, lang: str, hour: int | None) -> None:
    """二十一点 is 21:00 (not 20 or 21), 十二点 is noon; "с 6 и 7" is neither range nor time."""
    base = BASES["T"]
    if hour is None:
        with pytest.raises(DomainError):
            parse(text, lang=lang, tz=base.tz, now=base.aware())
        return
    when = parse(text, lang=lang, tz=base.tz, now=base.aware())
    assert when.first.hour == hour


def test_a_traditional_chinese_group_reads_the_same() -> None:
    """A group whose language is zh_Hant: the grammar folds Traditional characters itself."""
    base = BASES["H"]
    for text, expected in (
        ("下禮拜二晚上八點", "2026-02-17 20:00"),
        ("每隔兩小時", "2026-02-10 06:30"),
    ):
        when = parse(text, lang="zh_Hant", tz=base.tz, now=base.aware())
        assert local(when.first)[:16] == expected
    said = describe_rrule("zh_Hant", "FREQ=WEEKLY;BYDAY=TU;INTERVAL=2")
    assert "週二" in said and said != t("zh_Hant", "rec.other")
