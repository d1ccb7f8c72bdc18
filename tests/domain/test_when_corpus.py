"""The corpus: phrases residents type, each with a fixed ``now`` and zone and the exact answer.

``first`` is the expected first occurrence as a naive LOCAL time ("2026-11-28 15:00"), with the
UTC offset appended where it matters ("2026-10-25 02:30+01:00": the second 02:30 of a fall-back
night), seconds where they matter ("2026-02-10 04:30:30") and ``NOW`` for "at once" (within a
second of ``now``). Refusals carry the DomainError key instead. The benchmark
(bench/when_bench.py) imports :data:`CORPUS` too.

Two parts: the phrases below (the first corpus), and the labelled files in ``when_corpus/``
(one per language, Traditional Chinese and Cantonese apart), written from the grammars residents
use: loose spacing, no punctuation, case typos, full-width digits, numbers in words, Chinese
numerals, Russian cases. :data:`GENERATED` adds phrases built from templates whose answers are
computed here, independently of the parser (every clock format for every hour, every Russian
ordinal day in three cases, Chinese numerals for every hour and part of the day, and each
Simplified phrase written in Traditional characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest

from bot.domain.errors import DomainError
from bot.domain.when import When, next_after, parse, split, warm


class Base(NamedTuple):
    tz: str
    now: str  # naive local "YYYY-MM-DD HH:MM"

    def aware(self) -> datetime:
        return datetime.fromisoformat(self.now).replace(tzinfo=ZoneInfo(self.tz))


class Case(NamedTuple):
    text: str
    lang: str
    base: Base
    first: str | None  # naive local "YYYY-MM-DD HH:MM", optionally "+HH:MM"
    rrule: str | None = None
    error: str | None = None

    @property
    def id(self) -> str:
        return f"{self.lang}:{self.base.tz.split('/')[-1]}:{self.base.now[5:]}:{self.text}"


# Saturday 2026-11-21 10:00 (today is Saturday), Sunday and Monday after it.
SH_SAT = Base("Asia/Shanghai", "2026-11-21 10:00")
SH_SUN = Base("Asia/Shanghai", "2026-11-22 10:00")
SH_MON = Base("Asia/Shanghai", "2026-11-23 10:00")
MSK_SAT = Base("Europe/Moscow", "2026-11-21 10:00")
MSK_SUN = Base("Europe/Moscow", "2026-11-22 10:00")
MSK_MON = Base("Europe/Moscow", "2026-11-23 10:00")
NY_SAT = Base("America/New_York", "2026-11-21 10:00")
# DST: Berlin springs forward 2026-03-29 02:00 -> 03:00 and falls back 2026-10-25 03:00 -> 02:00;
# New York springs forward 2026-03-08 02:00 -> 03:00 and falls back 2026-11-01 02:00 -> 01:00.
BER_SPRING_EVE = Base("Europe/Berlin", "2026-03-28 10:00")
BER_SPRING_NIGHT = Base("Europe/Berlin", "2026-03-29 01:30")
BER_FALL_EVE = Base("Europe/Berlin", "2026-10-24 10:00")
BER_FALL_NIGHT = Base("Europe/Berlin", "2026-10-25 01:30")
NY_SPRING_EVE = Base("America/New_York", "2026-03-07 10:00")
NY_SPRING_NIGHT = Base("America/New_York", "2026-03-08 01:30")
NY_FALL_EVE = Base("America/New_York", "2026-10-31 10:00")
NY_FALL_NIGHT = Base("America/New_York", "2026-11-01 00:30")

WEEKLY_WORKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"


def ok(text: str, lang: str, base: Base, first: str, rrule: str | None = None) -> Case:
    return Case(text, lang, base, first, rrule)


def no(text: str, lang: str, base: Base, error: str) -> Case:
    return Case(text, lang, base, None, None, error)


EN = "en"
ZH = "zh_Hans"
RU = "ru"

CORPUS: tuple[Case, ...] = (
    # ---------------------------------------------------------------- English
    ok("tomorrow", EN, SH_SAT, "2026-11-22 09:00"),
    ok("tomorrow 9:00", EN, SH_SAT, "2026-11-22 09:00"),
    ok("tomorrow at 9", EN, SH_SAT, "2026-11-22 09:00"),
    ok("tomorrow morning", EN, SH_SAT, "2026-11-22 09:00"),
    ok("tomorrow evening at 8", EN, SH_SAT, "2026-11-22 20:00"),
    ok("tomorrow at noon", EN, SH_SAT, "2026-11-22 12:00"),
    ok("Tomorrow at 5 in the afternoon", EN, SH_SAT, "2026-11-22 17:00"),
    ok("tonight", EN, SH_SAT, "2026-11-21 19:00"),
    ok("tonight at 9", EN, SH_SAT, "2026-11-21 21:00"),
    ok("this afternoon", EN, SH_SAT, "2026-11-21 15:00"),
    ok("day after tomorrow", EN, SH_SAT, "2026-11-23 09:00"),
    ok("the day after tomorrow 5pm", EN, SH_SAT, "2026-11-23 17:00"),
    ok("9:00", EN, SH_SAT, "2026-11-22 09:00"),
    ok("21:30", EN, SH_SAT, "2026-11-21 21:30"),
    ok("at 9", EN, SH_SAT, "2026-11-22 09:00"),
    ok("at 21:30", EN, SH_SAT, "2026-11-21 21:30"),
    ok("9am", EN, SH_SAT, "2026-11-22 09:00"),
    ok("3pm", EN, SH_SAT, "2026-11-21 15:00"),
    ok("3 p.m.", EN, SH_SAT, "2026-11-21 15:00"),
    ok("12am", EN, SH_SAT, "2026-11-22 00:00"),
    ok("12pm", EN, SH_SAT, "2026-11-21 12:00"),
    ok("9.30", EN, SH_SAT, "2026-11-22 09:30"),
    ok("noon", EN, SH_SAT, "2026-11-21 12:00"),
    ok("midnight", EN, SH_SAT, "2026-11-22 00:00"),
    ok("half past 9", EN, SH_SAT, "2026-11-22 09:30"),
    ok("quarter to 9", EN, SH_SAT, "2026-11-22 08:45"),
    ok("at 5 o'clock", EN, SH_SAT, "2026-11-22 05:00"),
    ok("saturday", EN, SH_SAT, "2026-11-28 09:00"),
    ok("Saturday 15:00", EN, SH_SAT, "2026-11-21 15:00"),
    ok("this saturday 15:00", EN, SH_SAT, "2026-11-21 15:00"),
    ok("next saturday", EN, SH_SAT, "2026-11-28 09:00"),
    ok("on monday at 8pm", EN, SH_SAT, "2026-11-23 20:00"),
    ok("sunday evening", EN, SH_SAT, "2026-11-22 19:00"),
    ok("friday the 27th", EN, SH_SAT, "2026-11-27 09:00"),
    ok("saturday", EN, SH_MON, "2026-11-28 09:00"),
    ok("this saturday", EN, SH_MON, "2026-11-28 09:00"),
    ok("next saturday", EN, SH_MON, "2026-12-05 09:00"),
    ok("monday 9:00", EN, SH_MON, "2026-11-30 09:00"),
    ok("monday 11:00", EN, SH_MON, "2026-11-23 11:00"),
    ok("monday next week", EN, SH_MON, "2026-11-30 09:00"),
    ok("monday", EN, SH_SUN, "2026-11-23 09:00"),
    ok("next monday", EN, SH_SUN, "2026-11-23 09:00"),
    ok("in 2 hours", EN, SH_SAT, "2026-11-21 12:00"),
    ok("in 30 minutes", EN, SH_SAT, "2026-11-21 10:30"),
    ok("in half an hour", EN, SH_SAT, "2026-11-21 10:30"),
    ok("in an hour and a half", EN, SH_SAT, "2026-11-21 11:30"),
    ok("in 3 days", EN, SH_SAT, "2026-11-24 10:00"),
    ok("in a week", EN, SH_SAT, "2026-11-28 10:00"),
    ok("in 2 hours 30 minutes", EN, SH_SAT, "2026-11-21 12:30"),
    ok("in 45 mins", EN, SH_SAT, "2026-11-21 10:45"),
    ok("in a month", EN, SH_SAT, "2026-12-21 10:00"),
    ok("in 3 days at 8pm", EN, SH_SAT, "2026-11-24 20:00"),
    ok("twenty minutes from now", EN, SH_SAT, "2026-11-21 10:20"),
    ok("dec 5", EN, SH_SAT, "2026-12-05 09:00"),
    ok("5 dec", EN, SH_SAT, "2026-12-05 09:00"),
    ok("December 5th", EN, SH_SAT, "2026-12-05 09:00"),
    ok("December 5th 2026 at 6:30pm", EN, SH_SAT, "2026-12-05 18:30"),
    ok("Thursday, December 3, 2026 7:00 PM", EN, SH_SAT, "2026-12-03 19:00"),
    ok("2026-12-05", EN, SH_SAT, "2026-12-05 09:00"),
    ok("2026-12-05 18:30", EN, SH_SAT, "2026-12-05 18:30"),
    ok("25/12", EN, SH_SAT, "2026-12-25 09:00"),
    ok("12/25", EN, SH_SAT, "2026-12-25 09:00"),
    ok("jan 1", EN, SH_SAT, "2027-01-01 09:00"),
    ok("nov 20", EN, SH_SAT, "2027-11-20 09:00"),
    ok("the 25th", EN, SH_SAT, "2026-11-25 09:00"),
    ok("every tuesday 20:00", EN, SH_SAT, "2026-11-24 20:00", "FREQ=WEEKLY;BYDAY=TU"),
    ok("every day at 8", EN, SH_SAT, "2026-11-22 08:00", "FREQ=DAILY"),
    ok("every morning", EN, SH_SAT, "2026-11-22 09:00", "FREQ=DAILY"),
    ok("every weekday 7:30", EN, SH_SAT, "2026-11-23 07:30", WEEKLY_WORKDAYS),
    ok("every month on the 1st", EN, SH_SAT, "2026-12-01 09:00", "FREQ=MONTHLY;BYMONTHDAY=1"),
    ok("every 1st of the month 10:00", EN, SH_SAT, "2026-12-01 10:00", "FREQ=MONTHLY;BYMONTHDAY=1"),
    ok("every week", EN, SH_SAT, "2026-11-28 09:00", "FREQ=WEEKLY;BYDAY=SA"),
    ok(
        "every monday and thursday at 7pm",
        EN,
        SH_SAT,
        "2026-11-23 19:00",
        "FREQ=WEEKLY;BYDAY=MO,TH",
    ),
    ok("mondays 9:00", EN, SH_SAT, "2026-11-23 09:00", "FREQ=WEEKLY;BYDAY=MO"),
    ok("on weekdays at 7", EN, SH_SAT, "2026-11-23 07:00", WEEKLY_WORKDAYS),
    ok("every month on the 31st", EN, SH_SAT, "2026-12-31 09:00", "FREQ=MONTHLY;BYMONTHDAY=31"),
    ok("every last day of the month", EN, SH_SAT, "2026-11-30 09:00", "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ok("every 2 days", EN, SH_SAT, "2026-11-22 09:00", "FREQ=DAILY;INTERVAL=2"),
    ok(
        "every year on dec 5", EN, SH_SAT, "2026-12-05 09:00", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=5"
    ),
    ok("daily at 10:30", EN, SH_SAT, "2026-11-21 10:30", "FREQ=DAILY"),
    ok("monday to friday 8:00", EN, SH_SAT, "2026-11-23 08:00", WEEKLY_WORKDAYS),
    ok("every sunday at 10", EN, NY_SAT, "2026-11-22 10:00", "FREQ=WEEKLY;BYDAY=SU"),
    ok("tomorrow at 7pm EST", EN, SH_SAT, "2026-11-23 08:00"),  # dateparser: a zone named
    ok("tomorrow 18:00 MSK", EN, SH_SAT, "2026-11-22 23:00"),  # dateparser: a zone named
    no("today 8:00", EN, SH_SAT, "when.past"),
    no("today", EN, SH_SAT, "when.past"),
    no("this morning", EN, SH_SAT, "when.past"),
    no("yesterday 9:00", EN, SH_SAT, "when.past"),
    no("2020-01-01", EN, SH_SAT, "when.past"),
    no("this saturday", EN, SH_SUN, "when.past"),
    no("last friday", EN, SH_SAT, "when.past"),
    no("in 10 years", EN, SH_SAT, "when.too_far"),
    no("2032-01-01", EN, SH_SAT, "when.too_far"),
    no("12/5", EN, SH_SAT, "when.unparseable"),
    no("3/4/2026", EN, SH_SAT, "when.unparseable"),
    no("feb 30", EN, SH_SAT, "when.unparseable"),
    no("25:00", EN, SH_SAT, "when.unparseable"),
    no("next week", EN, SH_SAT, "when.unparseable"),
    no("every", EN, SH_SAT, "when.unparseable"),
    no("take the bins out", EN, SH_SAT, "when.unparseable"),
    no("", EN, SH_SAT, "when.empty"),
    no("   ", EN, SH_SAT, "when.empty"),
    # ---------------------------------------------------------------- Chinese
    ok("明天", ZH, SH_SAT, "2026-11-22 09:00"),
    ok("明天早上8点", ZH, SH_SAT, "2026-11-22 08:00"),
    ok("明天早上八点半", ZH, SH_SAT, "2026-11-22 08:30"),
    ok("明天上午10点半", ZH, SH_SAT, "2026-11-22 10:30"),
    ok("明天中午", ZH, SH_SAT, "2026-11-22 12:00"),
    ok("明天下午", ZH, SH_SAT, "2026-11-22 15:00"),
    ok("明早", ZH, SH_SAT, "2026-11-22 09:00"),
    ok("明晚", ZH, SH_SAT, "2026-11-22 19:00"),
    ok("明晚8点", ZH, SH_SAT, "2026-11-22 20:00"),
    ok("今晚", ZH, SH_SAT, "2026-11-21 19:00"),
    ok("今晚8点", ZH, SH_SAT, "2026-11-21 20:00"),
    ok("今天下午4点", ZH, SH_SAT, "2026-11-21 16:00"),
    ok("后天", ZH, SH_SAT, "2026-11-23 09:00"),
    ok("大后天", ZH, SH_SAT, "2026-11-24 09:00"),
    ok("后天下午3点", ZH, SH_SAT, "2026-11-23 15:00"),
    ok("后天晚上", ZH, SH_SAT, "2026-11-23 19:00"),
    ok("下午3点", ZH, SH_SAT, "2026-11-21 15:00"),
    ok("晚上8点", ZH, SH_SAT, "2026-11-21 20:00"),
    ok("早上8点", ZH, SH_SAT, "2026-11-22 08:00"),
    ok("8点半", ZH, SH_SAT, "2026-11-22 08:30"),
    ok("3点一刻", ZH, SH_SAT, "2026-11-22 03:15"),
    ok("下午3点一刻", ZH, SH_SAT, "2026-11-21 15:15"),
    ok("八点", ZH, SH_SAT, "2026-11-22 08:00"),
    ok("十二点", ZH, SH_SAT, "2026-11-21 12:00"),
    ok("两点", ZH, SH_SAT, "2026-11-22 02:00"),
    ok("9点", ZH, SH_SAT, "2026-11-22 09:00"),
    ok("中午", ZH, SH_SAT, "2026-11-21 12:00"),
    ok("晚上12点", ZH, SH_SAT, "2026-11-22 00:00"),
    ok("夜里11点", ZH, SH_SAT, "2026-11-21 23:00"),
    ok("凌晨2点", ZH, SH_SAT, "2026-11-22 02:00"),
    ok("周六", ZH, SH_SAT, "2026-11-28 09:00"),
    ok("星期六", ZH, SH_SAT, "2026-11-28 09:00"),
    ok("礼拜六", ZH, SH_SAT, "2026-11-28 09:00"),
    ok("下周六", ZH, SH_SAT, "2026-11-28 09:00"),
    ok("这周六下午3点", ZH, SH_SAT, "2026-11-21 15:00"),
    ok("周日下午两点", ZH, SH_SAT, "2026-11-22 14:00"),
    ok("星期天晚上", ZH, SH_SAT, "2026-11-22 19:00"),
    ok("下周三上午10点", ZH, SH_SAT, "2026-11-25 10:00"),
    ok("下周六", ZH, SH_MON, "2026-12-05 09:00"),
    ok("本周六", ZH, SH_MON, "2026-11-28 09:00"),
    ok("周六", ZH, SH_MON, "2026-11-28 09:00"),
    ok("下周一", ZH, SH_SUN, "2026-11-23 09:00"),
    ok("两小时后", ZH, SH_SAT, "2026-11-21 12:00"),
    ok("两个小时后", ZH, SH_SAT, "2026-11-21 12:00"),
    ok("半小时后", ZH, SH_SAT, "2026-11-21 10:30"),
    ok("一个半小时后", ZH, SH_SAT, "2026-11-21 11:30"),
    ok("3天后", ZH, SH_SAT, "2026-11-24 10:00"),
    ok("三天以后", ZH, SH_SAT, "2026-11-24 10:00"),
    ok("十分钟后", ZH, SH_SAT, "2026-11-21 10:10"),
    ok("一周后", ZH, SH_SAT, "2026-11-28 10:00"),
    ok("12月5日", ZH, SH_SAT, "2026-12-05 09:00"),
    ok("12月5号", ZH, SH_SAT, "2026-12-05 09:00"),
    ok("2026年12月5日", ZH, SH_SAT, "2026-12-05 09:00"),
    ok("11月30日晚上7点", ZH, SH_SAT, "2026-11-30 19:00"),
    ok("5号", ZH, SH_SAT, "2026-12-05 09:00"),
    ok("下个月5号", ZH, SH_SAT, "2026-12-05 09:00"),
    ok("每周二晚上8点", ZH, SH_SAT, "2026-11-24 20:00", "FREQ=WEEKLY;BYDAY=TU"),
    ok("每天早上8点", ZH, SH_SAT, "2026-11-22 08:00", "FREQ=DAILY"),
    ok("每个工作日早上7点半", ZH, SH_SAT, "2026-11-23 07:30", WEEKLY_WORKDAYS),
    ok("每月1号", ZH, SH_SAT, "2026-12-01 09:00", "FREQ=MONTHLY;BYMONTHDAY=1"),
    ok("每月15日上午10点", ZH, SH_SAT, "2026-12-15 10:00", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ok("每周一三五早上7点", ZH, SH_SAT, "2026-11-23 07:00", "FREQ=WEEKLY;BYDAY=MO,WE,FR"),
    ok("每晚9点", ZH, SH_SAT, "2026-11-21 21:00", "FREQ=DAILY"),
    ok("每年12月5日", ZH, SH_SAT, "2026-12-05 09:00", "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=5"),
    ok("周一到周五早上8点", ZH, SH_SAT, "2026-11-23 08:00", WEEKLY_WORKDAYS),
    ok("每月最后一天", ZH, SH_SAT, "2026-11-30 09:00", "FREQ=MONTHLY;BYMONTHDAY=-1"),
    no("今天早上8点", ZH, SH_SAT, "when.past"),
    no("昨天", ZH, SH_SAT, "when.past"),
    no("本周六", ZH, SH_SAT, "when.past"),
    no("本周六", ZH, SH_SUN, "when.past"),
    no("上周六", ZH, SH_SAT, "when.past"),
    no("2020年1月1日", ZH, SH_SAT, "when.past"),
    no("十年后", ZH, SH_SAT, "when.too_far"),
    no("下周", ZH, SH_SAT, "when.unparseable"),
    no("倒垃圾", ZH, SH_SAT, "when.unparseable"),
    # ---------------------------------------------------------------- Russian
    ok("завтра", RU, MSK_SAT, "2026-11-22 09:00"),
    ok("завтра в 9", RU, MSK_SAT, "2026-11-22 09:00"),
    ok("завтра в 9 утра", RU, MSK_SAT, "2026-11-22 09:00"),
    ok("завтра в 9:00", RU, MSK_SAT, "2026-11-22 09:00"),
    ok("завтра утром", RU, MSK_SAT, "2026-11-22 09:00"),
    ok("завтра в обед", RU, MSK_SAT, "2026-11-22 13:00"),
    ok("сегодня вечером", RU, MSK_SAT, "2026-11-21 19:00"),
    ok("сегодня в 2 ночи", RU, MSK_SAT, "2026-11-22 02:00"),
    ok("в 20", RU, MSK_SAT, "2026-11-21 20:00"),
    ok("в 20:00", RU, MSK_SAT, "2026-11-21 20:00"),
    ok("в 9.00", RU, MSK_SAT, "2026-11-22 09:00"),
    ok("9ч", RU, MSK_SAT, "2026-11-22 09:00"),
    ok("в 9 часов 30 минут", RU, MSK_SAT, "2026-11-22 09:30"),
    ok("8 вечера", RU, MSK_SAT, "2026-11-21 20:00"),
    ok("в час дня", RU, MSK_SAT, "2026-11-21 13:00"),
    ok("в полдень", RU, MSK_SAT, "2026-11-21 12:00"),
    ok("завтра в полночь", RU, MSK_SAT, "2026-11-23 00:00"),
    ok("в девять утра", RU, MSK_SAT, "2026-11-22 09:00"),
    ok("в восемь вечера", RU, MSK_SAT, "2026-11-21 20:00"),
    ok("через 2 часа", RU, MSK_SAT, "2026-11-21 12:00"),
    ok("через полчаса", RU, MSK_SAT, "2026-11-21 10:30"),
    ok("через 15 минут", RU, MSK_SAT, "2026-11-21 10:15"),
    ok("через 3 дня", RU, MSK_SAT, "2026-11-24 10:00"),
    ok("через неделю", RU, MSK_SAT, "2026-11-28 10:00"),
    ok("через две недели", RU, MSK_SAT, "2026-12-05 10:00"),
    ok("через час", RU, MSK_SAT, "2026-11-21 11:00"),
    ok("через два часа", RU, MSK_SAT, "2026-11-21 12:00"),
    ok("через полтора часа", RU, MSK_SAT, "2026-11-21 11:30"),
    ok("через месяц", RU, MSK_SAT, "2026-12-21 10:00"),
    ok("послезавтра", RU, MSK_SAT, "2026-11-23 09:00"),
    ok("в субботу", RU, MSK_SAT, "2026-11-28 09:00"),
    ok("в субботу в 15:00", RU, MSK_SAT, "2026-11-21 15:00"),
    ok("в следующую субботу", RU, MSK_SAT, "2026-11-28 09:00"),
    ok("во вторник вечером", RU, MSK_SAT, "2026-11-24 19:00"),
    ok("в пятницу в 18:30", RU, MSK_SAT, "2026-11-27 18:30"),
    ok("в 10 утра в понедельник", RU, MSK_SAT, "2026-11-23 10:00"),
    ok("в следующую субботу", RU, MSK_MON, "2026-12-05 09:00"),
    ok("в эту субботу", RU, MSK_MON, "2026-11-28 09:00"),
    ok("в понедельник в 9:00", RU, MSK_MON, "2026-11-30 09:00"),
    ok("5 декабря", RU, MSK_SAT, "2026-12-05 09:00"),
    ok("5 дек", RU, MSK_SAT, "2026-12-05 09:00"),
    ok("5 декабря 2026 года", RU, MSK_SAT, "2026-12-05 09:00"),
    ok("30 ноября в 8:15", RU, MSK_SAT, "2026-11-30 08:15"),
    ok("05.12", RU, MSK_SAT, "2026-12-05 09:00"),
    ok("05.12.2026", RU, MSK_SAT, "2026-12-05 09:00"),
    ok("05.12 в 18:30", RU, MSK_SAT, "2026-12-05 18:30"),
    ok("1 января", RU, MSK_SAT, "2027-01-01 09:00"),
    ok("5 числа", RU, MSK_SAT, "2026-12-05 09:00"),
    ok("каждый вторник в 20:00", RU, MSK_SAT, "2026-11-24 20:00", "FREQ=WEEKLY;BYDAY=TU"),
    ok("каждый день в 8:00", RU, MSK_SAT, "2026-11-22 08:00", "FREQ=DAILY"),
    ok("каждое утро", RU, MSK_SAT, "2026-11-22 09:00", "FREQ=DAILY"),
    ok("по будням в 7:30", RU, MSK_SAT, "2026-11-23 07:30", WEEKLY_WORKDAYS),
    ok("каждое 1-е число месяца", RU, MSK_SAT, "2026-12-01 09:00", "FREQ=MONTHLY;BYMONTHDAY=1"),
    ok(
        "каждый месяц 1 числа в 10:00",
        RU,
        MSK_SAT,
        "2026-12-01 10:00",
        "FREQ=MONTHLY;BYMONTHDAY=1",
    ),
    ok(
        "по понедельникам и четвергам в 19:00",
        RU,
        MSK_SAT,
        "2026-11-23 19:00",
        "FREQ=WEEKLY;BYDAY=MO,TH",
    ),
    ok("каждые 2 дня", RU, MSK_SAT, "2026-11-22 09:00", "FREQ=DAILY;INTERVAL=2"),
    ok("ежедневно в 9:00", RU, MSK_SAT, "2026-11-22 09:00", "FREQ=DAILY"),
    ok("с понедельника по пятницу в 8:00", RU, MSK_SAT, "2026-11-23 08:00", WEEKLY_WORKDAYS),
    ok("каждый вечер", RU, MSK_SAT, "2026-11-21 19:00", "FREQ=DAILY"),
    ok("по выходным в 10", RU, MSK_SAT, "2026-11-22 10:00", "FREQ=WEEKLY;BYDAY=SA,SU"),
    no("сегодня в 8:00", RU, MSK_SAT, "when.past"),
    no("вчера", RU, MSK_SAT, "when.past"),
    no("в эту субботу", RU, MSK_SAT, "when.past"),
    no("в эту субботу", RU, MSK_SUN, "when.past"),
    no("через 10 лет", RU, MSK_SAT, "when.too_far"),
    no("31.02", RU, MSK_SAT, "when.unparseable"),
    no("на выходных", RU, MSK_SAT, "when.unparseable"),
    no("позвонить маме", RU, MSK_SAT, "when.unparseable"),
    # ---------------------------------------------------------------- DST edges
    ok("tomorrow 2:30", EN, BER_SPRING_EVE, "2026-03-29 03:30+02:00"),
    ok(
        "every day 2:30",
        EN,
        BER_SPRING_EVE,
        "2026-03-29 03:30+02:00",
        "FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
    ),
    ok("every day 9:00", EN, BER_SPRING_EVE, "2026-03-29 09:00+02:00", "FREQ=DAILY"),
    ok("in 24 hours", EN, BER_SPRING_EVE, "2026-03-29 11:00+02:00"),
    ok("in 1 day", EN, BER_SPRING_EVE, "2026-03-29 10:00+02:00"),
    ok("in 2 hours", EN, BER_SPRING_NIGHT, "2026-03-29 04:30+02:00"),
    ok("2:30", EN, BER_SPRING_NIGHT, "2026-03-29 03:30+02:00"),
    ok("明天早上9点", ZH, BER_SPRING_EVE, "2026-03-29 09:00+02:00"),
    ok("tomorrow 2:30", EN, BER_FALL_EVE, "2026-10-25 02:30+02:00"),
    ok("in 1 hour", EN, BER_FALL_NIGHT, "2026-10-25 02:30+02:00"),
    ok("in 2 hours", EN, BER_FALL_NIGHT, "2026-10-25 02:30+01:00"),
    ok("через 2 часа", RU, BER_FALL_NIGHT, "2026-10-25 02:30+01:00"),
    ok("через 2 дня", RU, BER_FALL_EVE, "2026-10-26 10:00+01:00"),
    ok("tomorrow 2:30", EN, NY_SPRING_EVE, "2026-03-08 03:30-04:00"),
    ok("every day 9:00", EN, NY_SPRING_EVE, "2026-03-08 09:00-04:00", "FREQ=DAILY"),
    ok("in 2 hours", EN, NY_SPRING_NIGHT, "2026-03-08 04:30-04:00"),
    ok("tomorrow 1:30", EN, NY_FALL_EVE, "2026-11-01 01:30-04:00"),
    ok("in 2 hours", EN, NY_FALL_NIGHT, "2026-11-01 01:30-05:00"),
    ok("in 2 days", EN, NY_FALL_EVE, "2026-11-02 10:00-05:00"),
    ok("两小时后", ZH, NY_SPRING_NIGHT, "2026-03-08 04:30-04:00"),
)


def local(first: datetime) -> str:
    """'YYYY-MM-DD HH:MM+HH:MM' of an aware datetime."""
    offset = first.strftime("%z")
    return f"{first:%Y-%m-%d %H:%M}{offset[:3]}:{offset[3:]}"


def matches(first: datetime, expected: str, now: datetime | None = None) -> bool:
    if expected == "NOW":
        return now is not None and timedelta(0) < first - now <= timedelta(seconds=1)
    if len(expected) == 19:  # with seconds
        return f"{first:%Y-%m-%d %H:%M:%S}" == expected
    shown = local(first)
    return shown == expected if len(expected) > 16 else shown[:16] == expected


# ------------------------------------------------------------------------- the labelled files

BASES: dict[str, Base] = {
    "T": Base("America/New_York", "2026-02-10 04:30"),  # a Tuesday before dawn
    "F": Base("America/New_York", "2026-06-12 14:00"),  # a Friday afternoon
    "K": Base("Asia/Kolkata", "2026-02-10 04:30"),
    "L": Base("Europe/London", "2026-02-10 04:30"),
    "Z": Base("Asia/Shanghai", "2026-02-10 04:30"),
    "G": Base("Asia/Shanghai", "2026-06-12 14:00"),
    "H": Base("Asia/Hong_Kong", "2026-02-10 04:30"),
    "P": Base("Asia/Taipei", "2026-06-12 14:00"),
    "M": Base("Europe/Moscow", "2026-02-10 04:30"),
    "N": Base("Europe/Moscow", "2026-06-12 14:00"),
}
FILES: dict[str, str] = {"en": EN, "zh_hans": ZH, "zh_hant": ZH, "ru": RU}
CORPUS_DIR = Path(__file__).with_name("when_corpus")


def load(name: str) -> tuple[Case, ...]:
    """The cases of ``when_corpus/<name>.tsv``: base, phrase, expected (or !error), rrule."""
    cases: list[Case] = []
    for number, line in enumerate((CORPUS_DIR / f"{name}.tsv").read_text("utf-8").splitlines()):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        assert len(fields) in (3, 4), f"{name}.tsv:{number + 1}: {line!r}"
        base, text, expected = BASES[fields[0]], fields[1], fields[2]
        rrule = fields[3] if len(fields) == 4 else None
        if expected.startswith("!"):
            cases.append(Case(text, FILES[name], base, None, None, expected[1:]))
        else:
            cases.append(Case(text, FILES[name], base, expected, rrule))
    return tuple(cases)


LABELLED: dict[str, tuple[Case, ...]] = {name: load(name) for name in FILES}

# ------------------------------------------------------------------ generated from templates
# The answers below are computed from the calendar, not by the parser.

_T = BASES["T"]
_T_NOW = datetime.fromisoformat(_T.now)
_EN_HOURS = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]
_EN_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_EN_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_EN_ORDINALS = {
    1: "first",
    2: "second",
    3: "third",
    15: "fifteenth",
    21: "twenty-first",
    28: "twenty-eighth",
}
_SUFFIX = {1: "st", 2: "nd", 3: "rd", 21: "st"}


def _next_clock(now: datetime, hour: int, minute: int) -> str:
    """The next hour:minute after ``now`` (today if still ahead), as 'YYYY-MM-DD HH:MM'."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        hours=hour, minutes=minute
    )
    if day <= now:
        day += timedelta(days=1)
    return f"{day:%Y-%m-%d %H:%M}"


def _next_weekday(now: datetime, weekday: int, hour: int, minute: int) -> str:
    ahead = (weekday - now.weekday()) % 7
    day = now.replace(hour=hour, minute=minute, second=0, microsecond=0) + timedelta(days=ahead)
    if day <= now:
        day += timedelta(days=7)
    return f"{day:%Y-%m-%d %H:%M}"


def _next_date(now: datetime, month: int, day: int) -> str:
    found = datetime(now.year, month, day, 9, 0)
    if found.date() < now.date():
        found = found.replace(year=now.year + 1)
    return f"{found:%Y-%m-%d %H:%M}"


def _english_clocks() -> Iterator[Case]:
    for h in range(1, 13):
        for pm in (False, True):
            hour = h % 12 + (12 if pm else 0)
            ap, a = ("pm", "p") if pm else ("am", "a")
            word = _EN_HOURS[h - 1]
            for text, minute in (
                (f"{h}{ap}", 0), (f"{h} {ap}", 0), (f"{h}{a}", 0), (f"{h} {a[0]}.m.", 0),
                (f"at {h}{ap}", 0), (f"{h}:30{ap}", 30), (f"{h}:15 {ap.upper()}", 15),
                (f"{word} {ap}", 0), (f"at {word} thirty {ap}", 30), (f"{h}{a}{'m'}", 0),
            ):  # fmt: skip
                yield Case(text, EN, _T, _next_clock(_T_NOW, hour, minute))
        word = _EN_HOURS[h - 1]
        for text, hour, minute in (
            (f"quarter past {word}", h, 15), (f"half past {h}", h, 30),
            (f"quarter to {word}", h - 1, 45), (f"ten past {h}", h, 10),
            (f"twenty to {word}", h - 1, 40), (f"{word} o'clock", h, 0),
            (f"five past {word}", h, 5), (f"half {word}", h, 30),
        ):  # fmt: skip
            yield Case(text, EN, _T, _next_clock(_T_NOW, hour, minute))


def _english_days() -> Iterator[Case]:
    for wd, name in enumerate(_EN_WEEKDAYS):
        for spoken, hour, minute in (("9am", 9, 0), ("at 6pm", 18, 0), ("18:30", 18, 30)):
            expected = _next_weekday(_T_NOW, wd, hour, minute)
            yield Case(f"{name} {spoken}", EN, _T, expected)
            yield Case(f"on {name[:3]} {spoken}", EN, _T, expected)
    for month, name in enumerate(_EN_MONTHS, start=1):
        for day in (1, 2, 3, 15, 21, 28):
            expected = _next_date(_T_NOW, month, day)
            suffix = _SUFFIX.get(day, "th")
            yield Case(f"{name} {day}", EN, _T, expected)
            yield Case(f"{day}{suffix} {name[:3]}", EN, _T, expected)
            yield Case(f"the {_EN_ORDINALS[day]} of {name}", EN, _T, expected)


_RU_MONTHS = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]
_RU_ORDINAL_STEMS = {
    1: "перв", 2: "втор", 3: "треть", 7: "седьм", 8: "восьм", 13: "тринадцат",
    18: "восемнадцат", 20: "двадцат", 21: "двадцать перв", 23: "двадцать треть", 30: "тридцат",
    31: "тридцать перв",
}  # fmt: skip


def _ru_forms(stem: str) -> tuple[str, str, str]:
    """Nominative neuter, genitive and dative: третье, третьего, третьему."""
    if stem.endswith("ь"):  # третий
        return stem + "е", stem + "его", stem + "ему"
    return stem + "ое", stem + "ого", stem + "ому"


def _russian_days() -> Iterator[Case]:
    base = BASES["M"]
    now = datetime.fromisoformat(base.now)
    for month, name in enumerate(_RU_MONTHS, start=1):
        for day, stem in _RU_ORDINAL_STEMS.items():
            try:
                expected = _next_date(now, month, day)
            except ValueError:
                continue  # 30 февраля
            nominative, genitive, dative = _ru_forms(stem)
            yield Case(f"{nominative} {name}", RU, base, expected)
            yield Case(f"{genitive} {name}", RU, base, expected)
            yield Case(f"к {dative} {name}", RU, base, expected)


_ZH_HOURS = ["一", "两", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]


def _chinese_clocks() -> Iterator[Case]:
    base = BASES["Z"]
    now = datetime.fromisoformat(base.now)
    for h in range(1, 13):
        for part in ("早上", "上午", "下午", "晚上"):
            if part in ("下午", "晚上"):
                hour = h + 12 if h < 12 else (12 if part == "下午" else 24)
            else:
                hour = h
            for written in (_ZH_HOURS[h - 1], str(h)):
                for tail, minute in (("点", 0), ("点半", 30), ("点一刻", 15), ("点十分", 10)):
                    yield Case(f"{part}{written}{tail}", ZH, base, _next_clock(now, hour, minute))


#: Simplified -> Traditional for the characters of the Chinese file (written here, not taken
#: from the parser's own table).
_TRADITIONAL = str.maketrans(
    "点号周礼后钟时个两这现过间从里几会开们么请马当刻头",
    "點號週禮後鐘時個兩這現過間從裡幾會開們麼請馬當刻頭",
)


def _traditional() -> Iterator[Case]:
    for case in LABELLED["zh_hans"]:
        written = case.text.translate(_TRADITIONAL)
        if written != case.text:
            yield case._replace(text=written)


_WRITTEN = {(case.text, case.base) for case in CORPUS} | {
    (case.text, case.base) for cases in LABELLED.values() for case in cases
}
GENERATED: tuple[Case, ...] = tuple(
    {
        (case.text, case.base): case
        for case in (
            *_english_clocks(),
            *_english_days(),
            *_russian_days(),
            *_chinese_clocks(),
            *_traditional(),
        )
        if (case.text, case.base) not in _WRITTEN
    }.values()
)

FIRST_CORPUS = CORPUS
CORPUS = FIRST_CORPUS + tuple(case for cases in LABELLED.values() for case in cases) + GENERATED
SUCCESSES = tuple(case for case in CORPUS if case.error is None)
#: The split() round trip runs over the written phrases; the generated ones repeat templates.
_GENERATED = set(GENERATED)
WRITTEN_SUCCESSES = tuple(case for case in SUCCESSES if case not in _GENERATED)

#: What the resident adds after the time phrase, per language, for the split() round trip.
TASKS = {EN: "water the plants", ZH: "浇花", RU: "полить цветы"}


@pytest.fixture(scope="module", autouse=True)
def warmed() -> Iterator[None]:
    warm()  # dateparser is ~1 s cold: pay once per module
    yield


def test_corpus_is_big_enough() -> None:
    by_lang = {lang: sum(1 for c in CORPUS if c.lang == lang) for lang in (EN, ZH, RU)}
    assert len(CORPUS) >= 2900
    assert min(by_lang.values()) >= 700, by_lang
    written = {name: len(cases) for name, cases in LABELLED.items()}
    assert min(written.values()) >= 130, written  # the written files, Traditional included
    assert len({(c.text, c.base) for c in CORPUS}) == len(CORPUS), "duplicates"


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_corpus(case: Case) -> None:
    now = case.base.aware()
    if case.error is not None:
        with pytest.raises(DomainError) as info:
            parse(case.text, lang=case.lang, tz=case.base.tz, now=now)
        assert info.value.key == case.error
        if case.error != "when.empty":
            assert info.value.params["text"] == case.text.strip()[:60]
        return
    when = parse(case.text, lang=case.lang, tz=case.base.tz, now=now)
    assert case.first is not None
    assert matches(when.first, case.first, now), (local(when.first), case.first)
    assert when.rrule == case.rrule
    assert when.first > now
    assert getattr(when.first.tzinfo, "key", None) == case.base.tz


@pytest.mark.parametrize("case", WRITTEN_SUCCESSES, ids=[c.id for c in WRITTEN_SUCCESSES])
def test_corpus_split_round_trip(case: Case) -> None:
    """Every phrase, followed by a task, splits into the same When and the task."""
    now = case.base.aware()
    task = TASKS[case.lang]
    joiner = "" if case.lang == ZH else " "
    when, rest = split(case.text + joiner + task, lang=case.lang, tz=case.base.tz, now=now)
    assert rest == task
    assert when == parse(case.text, lang=case.lang, tz=case.base.tz, now=now)


@pytest.mark.parametrize(
    "case", [c for c in SUCCESSES if c.rrule], ids=[c.id for c in SUCCESSES if c.rrule]
)
def test_corpus_recurrences_keep_their_wall_time(case: Case) -> None:
    """The next ten occurrences of each recurrence keep the wall time it was said with."""
    when = parse(case.text, lang=case.lang, tz=case.base.tz, now=case.base.aware())
    rule = when.rrule or ""
    if "HOURLY" in rule or "MINUTELY" in rule or re.search(r"BYHOUR=\d+,", rule):
        return  # every few hours: the wall time moves by design (test_when_issue12.py)
    wall = case.first[11:16] if case.first else ""
    if "BYHOUR" in (when.rrule or ""):
        wall = "02:30"  # the first fell into the gap; the rule carries the time said
    occurrence: datetime | None = when.first
    for _ in range(10):
        assert occurrence is not None
        following = next_after(when, occurrence)
        assert following is not None and following > occurrence
        assert following.tzinfo is when.first.tzinfo
        assert f"{following:%H:%M}" == wall
        occurrence = following


def test_when_is_frozen() -> None:
    when = parse("tomorrow", lang=EN, tz="UTC", now=SH_SAT.aware())
    assert isinstance(when, When)
    with pytest.raises(AttributeError):
        when.rrule = "FREQ=DAILY"  # type: ignore[misc]
