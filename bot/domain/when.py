"""When: the moments residents type for reminders, in English, Chinese and Russian.

A reminder that fires at the wrong hour destroys trust, so the order of business is:

1. our own small grammar (below), which knows exactly what each word means;
2. dateparser, only for what the grammar does not know, always with explicit languages, a
   NAIVE local base (``now`` in the chat's zone, tzinfo dropped) and the zone attached by us;
3. a refusal (:class:`~bot.domain.errors.DomainError`) rather than a guess.

Rules for the ambiguous cases (the README lists them):

* A day without a time means 09:00; a part of the day without an hour means morning 09:00,
  noon 12:00, afternoon 15:00, evening 19:00 (傍晚 18:00), night 22:00.
* Hours are on the 24-hour clock unless am/pm or a part of the day says otherwise:
  ``3pm``/``下午3点``/``3 дня`` = 15:00, ``8 вечера``/``晚上8点`` = 20:00, ``12am`` = 00:00,
  ``12pm`` = 12:00. ``midnight``/``полночь``/``午夜``/``晚上12点`` is the END of the day named:
  "tomorrow midnight" is 00:00 the day after tomorrow. Night hours before 06:00 with a named
  day belong to that day's night: "сегодня в 2 ночи" is 02:00 tomorrow.
* A bare time ("9:00", "at 9", "9点", "в 20") or part of the day is the next such moment:
  today if still ahead, else tomorrow. A bare weekday likewise (today only if the time is still
  ahead); "this saturday"/"本周六"/"в эту субботу" is the Saturday of the current Monday-Sunday
  week (a DomainError ``when.past`` if gone); "next saturday"/"下周六"/"в следующую субботу" is
  the Saturday of next week, even on a Monday (on a Sunday "next monday" is tomorrow).
* Something named explicitly that is over is refused, never moved: "today 8:00" at 10:00,
  "yesterday", "2020-01-01", "this saturday" on a Sunday. A date without a year that is
  before today means next year ("Dec 5" asked on Dec 10); the date of today with a time that
  has passed is refused. "the 5th"/"5号"/"5 числа" is the next 5th (this month if ahead).
* "05.12" is day.month (5 December) in every language, unless preceded by "в"/"at" or followed
  by утра/вечера/am/pm, or the second part is not a month ("9.30", "9.00" are times).
  Slash dates are read only when unambiguous: "25/12" and "12/25" are 25 December, "12/5" is
  refused (``when.unparseable``: US and European readings differ), "5/5" is 5 May.
* "in 2 hours"/"через 2 часа"/"两小时后" is elapsed time (across a DST change too);
  "in 3 days", "in a week", "in a month" keep the current wall time (seconds dropped).
* Wall times that do not exist (the spring-forward gap) move forward by the gap: 02:30 on the
  day Berlin springs forward is 03:30 CEST; ambiguous ones (fall-back) take the first (fold=0).
* Recurrences keep the local wall time across DST. "every week"/"every month" alone repeat on
  today's weekday / day of the month. "every month on the 31st" fires only in months that have
  a 31st (RFC 5545); "the last day of the month" is BYMONTHDAY=-1. When the first occurrence of
  a recurrence falls into a DST gap, the rule carries BYHOUR/BYMINUTE so the following ones keep
  the intended time.
* A duration needs its marker: "in 3 days", "через 3 дня", "3天后", "2 hours from now".
  "3 days", "2h", "19h", "2 часа" alone are refused (a duration, or a time of day?); "9ч",
  "в 2 часа", "9h30" are times.
* Nothing beyond 5 years from now (``when.too_far``).

dateparser is asked only about what the grammar does not read, and only when the phrase is
short (60 characters) and has no recurrence word, numeric date, bare number or month name
(there dateparser fills in from today what was not said: "dec noon" became December 21st,
"9 noon" September 21st). Its answer is taken only for a time or a day (not "next week"),
and only if no word of the phrase was ignored (dropping any one word, fillers aside, must
change the answer: "tomorrow week" is not tomorrow). What it adds in practice: zone names,
"tomorrow at 7pm EST" is 19:00 in New York, shown in the chat's zone.

split() takes the longest leading phrase (at most 80 characters). The weekday abbreviations
that are English words ("sat", "sun", "wed") do not make a phrase on their own there ("sat
down with the neighbours" is not a Saturday reminder); "on sat", "sat 9:00" still do.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

from bot.domain import when_en, when_ru, when_zh, when_zones
from bot.domain.errors import DomainError

__all__ = ["ERROR_KEYS", "When", "next_after", "parse", "split", "understood_by", "warm"]

#: Every key :func:`parse` and :func:`split` raise.
ERROR_KEYS: Final[frozenset[str]] = frozenset(
    {
        "when.empty",
        "when.unparseable",
        "when.past",
        "when.too_far",
        "when.no_text",
        "when.ambiguous_zone",
    }
)

_MAX_YEARS: Final = 5
_TEXT_LIMIT: Final = 60  # error texts are cut to this; dateparser is not asked about longer ones
_PHRASE_LIMIT: Final = 80  # split(): a leading time phrase is never longer
_LANGS: Final[tuple[str, ...]] = ("en", "zh_Hans", "ru")
_DATEPARSER_CODES: Final[dict[str, str]] = {"en": "en", "zh_Hans": "zh", "ru": "ru"}
_WEEKDAY_CODES: Final[tuple[str, ...]] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class When:
    """A moment, or the first of a recurring series.

    ``first`` is aware (tzinfo = ZoneInfo(tz)) and strictly after the ``now`` it was parsed
    against. ``rrule`` is ``None`` or an RFC 5545 RRULE value without DTSTART (DTSTART is
    ``first``; the time of day is ``first``'s local wall time).
    """

    first: datetime
    rrule: str | None = None


# --------------------------------------------------------------------------------------------
# What one phrase said, before it is placed on the calendar.


@dataclass(frozen=True, slots=True)
class _Parts:
    every: bool | None = None  # a recurrence marker: every / каждый / 每
    interval: int | None = None  # every 2 days
    unit: str | None = None  # recurrence unit: day, week, month, year
    days: tuple[int, ...] | None = None  # weekdays, 0 = Monday
    mode: str | None = None  # weekday qualifier: next, this, nextweek, lastweek
    weekmod: str | None = None  # "next week", "на этой неделе", "下周" beside a weekday
    offset: int | None = None  # days from today: tomorrow = 1
    ymd: tuple[int | None, int, int] | None = None  # (year or None, month, day)
    monthday: int | None = None  # the 5th (of the month); -1 = last day
    monthoff: int | None = None  # this month = 0, next month = 1 (with a monthday)
    rel: tuple[tuple[float, str], ...] | None = None  # in 2 hours 30 minutes
    hour: int | None = None
    minute: int | None = None
    ampm: str | None = None  # am, pm
    part: str | None = None  # morning, noon, afternoon, dusk, evening, night, midnight, early
    nth: int | None = None  # the first (1) .. fifth (5) or last (-1) weekday of a month
    month: tuple[int | None, int] | None = None  # (year or None, month) without a day
    count: int | None = None  # "2 mondays from now": the 2nd coming monday
    zone: str | None = None  # a zone named after the time ("utc", "ist", "gmt+3")
    now: bool | None = None  # "now", "сейчас", "现在": at once
    same: bool | None = None  # "same time tomorrow": the time of day it is now
    yearoff: int | None = None  # 明年3月1日: this year = 0, next year = 1


def _put(p: _Parts, **values: Any) -> _Parts | None:
    """``p`` with ``values`` set, or None when one of them contradicts what is already set."""
    for key, value in values.items():
        current = getattr(p, key)
        if current is not None and current != value:
            return None
    return replace(p, **values)


_Handler = Callable[[re.Match[str], _Parts], "_Parts | None"]
_COMPONENTS: list[tuple[str, re.Pattern[str], _Handler]] = []


def _component(name: str, pattern: str) -> Callable[[_Handler], _Handler]:
    """Register a piece of the grammar; earlier pieces are tried first at each position."""

    def register(handler: _Handler) -> _Handler:
        _COMPONENTS.append((name, re.compile(pattern), handler))
        return handler

    return register


# --------------------------------------------------------------------------------------------
# Vocabulary.

_B = r"(?![0-9a-zа-я])"  # the end of a Latin/Cyrillic word or of a number
_E = r"(?:(?<![0-9a-zа-я])|(?![0-9a-zа-я]))"  # the same, but anything may follow CJK

_EN_NUMBERS: Final[dict[str, int]] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "forty-five": 45,
    "forty five": 45,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "a couple of": 2,
    "couple of": 2,
    **when_en.NUMBERS,
    **when_en.LOOSE_AMOUNTS,
}
_RU_NUMBERS: Final[dict[str, float]] = {
    "один": 1,
    "одну": 1,
    "одна": 1,
    "одного": 1,
    "одной": 1,
    "два": 2,
    "две": 2,
    "пару": 2,
    "пара": 2,
    "три": 3,
    "четыре": 4,
    "пять": 5,
    "шесть": 6,
    "семь": 7,
    "восемь": 8,
    "девять": 9,
    "десять": 10,
    "одиннадцать": 11,
    "двенадцать": 12,
    "тринадцать": 13,
    "четырнадцать": 14,
    "пятнадцать": 15,
    "шестнадцать": 16,
    "семнадцать": 17,
    "восемнадцать": 18,
    "девятнадцать": 19,
    "двадцать": 20,
    "тридцать": 30,
    "сорок": 40,
    "пятьдесят": 50,
    "шестьдесят": 60,
    "полтора": 1.5,
    "полторы": 1.5,
    "несколько": 3,
    **when_ru.NUMBERS,
}
_ZH_DIGITS: Final[dict[str, int]] = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def _alternation(words: Any) -> str:
    """A regex for any of ``words``, as a trie: "four(?:teen)?" rather than "fourteen|four".

    The same words as a flat alternation (longest first) made the grammar's patterns ten times
    longer and their compilation most of the import time (430 ms)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return f"(?:{body})?" if len(branches) == 1 else body + "?"
        return body

    return build(trie)


_RU_TENS = "двадцать|тридцать|сорок|пятьдесят"
_RU_UNITS = "один|одну|одна|два|две|три|четыре|пять|шесть|семь|восемь|девять"
_NUM_EN = rf"\d{{1,4}}(?:[.,]\d{{1,2}})?|{_alternation(_EN_NUMBERS)}"
_NUM_RU = (
    rf"\d{{1,4}}(?:[.,]\d{{1,2}})?|(?:{_RU_TENS})\s+(?:{_RU_UNITS})|{_alternation(_RU_NUMBERS)}"
)
# an amount before a unit: digits may touch it ("2h"), words may not ("an d" is not "and")
_AMOUNT_EN = rf"(?:\d{{1,4}}(?:[.,]\d{{1,2}})?\s*|(?:{_alternation(_EN_NUMBERS)})\s+)"
_AMOUNT_RU = (
    rf"(?:\d{{1,4}}(?:[.,]\d{{1,2}})?\s*|(?:(?:{_RU_TENS})\s+(?:{_RU_UNITS})"
    rf"|{_alternation(_RU_NUMBERS)})\s+)"
)
_HOUR_WORDS_EN: Final[dict[str, int]] = {
    k: v for k, v in when_en.NUMBERS.items() if 1 <= v <= 12 and " " not in k
}
_ZH_NUMERALS = "零〇一二两三四五六七八九十"
_NUM_ZH = rf"\d{{1,4}}|[{_ZH_NUMERALS}]{{1,4}}"
_HOUR_EN = r"\d{1,2}|" + _alternation(_HOUR_WORDS_EN)
_HOUR_RU = rf"\d{{1,2}}|(?:{_alternation(when_ru.HOURS)})(?![а-я])"


def _zh_int(text: str) -> int | None:
    """二十三 -> 23, 十二 -> 12, 两 -> 2, 零五 -> 5, 二〇二六 -> 2026; None for nonsense."""
    if not text or any(ch not in _ZH_DIGITS and ch != "十" for ch in text):
        return None
    if "十" in text:
        tens_part, _, units_part = text.partition("十")
        if "十" in units_part or len(tens_part) > 1 or len(units_part) > 1:
            return None
        tens = _ZH_DIGITS[tens_part] if tens_part else 1
        units = _ZH_DIGITS[units_part] if units_part else 0
        return tens * 10 + units
    value = 0
    for ch in text:
        value = value * 10 + _ZH_DIGITS[ch]
    return value


def _number(text: str) -> float | None:
    """A number written in digits or in English, Russian or Chinese words."""
    token = re.sub(r"\s+", " ", text.strip())
    if re.fullmatch(r"\d+(?:[.,]\d+)?", token):
        return float(token.replace(",", "."))
    if token in _EN_NUMBERS:
        return float(_EN_NUMBERS[token])
    if token in _RU_NUMBERS:
        return float(_RU_NUMBERS[token])
    if token in when_en.MINUTES:
        return float(when_en.MINUTES[token])
    words = token.split(" ")
    if len(words) == 2 and words[0] in _RU_NUMBERS and words[1] in _RU_NUMBERS:
        return float(_RU_NUMBERS[words[0]] + _RU_NUMBERS[words[1]])
    zh = _zh_int(token)
    return None if zh is None else float(zh)


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    value = _number(text)
    if value is None or value != int(value):
        return None
    return int(value)


_EN_MONTHS: Final[tuple[str, ...]] = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
_RU_MONTHS: Final[dict[str, int]] = {
    "янв": 1,
    "фев": 2,
    "мар": 3,
    "апр": 4,
    "май": 5,
    "мая": 5,
    "мае": 5,
    "июн": 6,
    "июл": 7,
    "авг": 8,
    "сен": 9,
    "окт": 10,
    "ноя": 11,
    "дек": 12,
}
_MONTH_EN = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MONTH_RU = r"(?:янв|фев|мар|апр|ма[йяе]|июн|июл|авг|сен|окт|ноя|дек)[а-я]*\.?"
_ORD_EN = r"(?:st|nd|rd|th)"

_WD_EN = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:rs?(?:day)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)s?"
)
_WD_RU = (
    r"(?:понедельник(?:ам|ами|и|а|у|ом)?|вторник(?:ам|ами|и|а|у|ом)?|сред(?:ам|ами|а|у|ы|е|ой)"
    r"|четверг(?:ам|ами|и|а|у|ом)?|пятниц(?:ам|ами|а|у|ы|е|ей)|суббот(?:ам|ами|а|у|ы|е|ой)"
    r"|воскресень(?:ям|ями|е|я|ю|ем)|пн|вт|ср|чт|пт|сб|вс)"
)
_WD_ZH = "一二三四五六日天1234567"
#: One weekday in a Chinese list; a digit day is not the start of an hour ("周五20点", "周五2点").
_WD_ZH_ITEM = r"(?:[一二三四五六日天]|[1-7](?![\d点时:：.]))"
_EN_WD_INDEX: Final[dict[str, int]] = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_RU_WD_INDEX: Final[dict[str, int]] = {
    "по": 0,
    "пн": 0,
    "вт": 1,
    "ср": 2,
    "че": 3,
    "чт": 3,
    "пя": 4,
    "пт": 4,
    "су": 5,
    "сб": 5,
    "во": 6,
    "вс": 6,
}
_ZH_WD_INDEX: Final[dict[str, int]] = {
    "一": 0,
    "二": 1,
    "三": 2,
    "四": 3,
    "五": 4,
    "六": 5,
    "日": 6,
    "天": 6,
    "1": 0,
    "2": 1,
    "3": 2,
    "4": 3,
    "5": 4,
    "6": 5,
    "7": 6,
}
_WORKDAYS: Final = (0, 1, 2, 3, 4)
_WEEKEND: Final = (5, 6)

#: am/pm, spaced or not ("7 pm", "7 p.m.", "7pm"), or just its letter against the number ("7p",
#: "10:45a"; "7 a" is not 7 am).
_AMPM = r"(?:\s*(?=[ap]\.?\s?m(?![a-zа-я]))|(?=[ap]\.?(?![a-zа-я])))(?P<ampm>[ap])(?:\.?\s?m)?\.?"
_RU_MOD = r"(?P<rumod>утра|дня|вечера|ночи|пополудни|после\s+полудня|до\s+полудня)"
_RU_MOD_PART: Final[dict[str, str]] = {
    "утра": "morning",
    "дня": "afternoon",
    "вечера": "evening",
    "ночи": "night",
    "пополудни": "afternoon",
    "после полудня": "afternoon",
    "до полудня": "morning",
}
_TIME_SUFFIX = rf"(?:{_AMPM}|\s+{_RU_MOD})?{_B}"


# --------------------------------------------------------------------------------------------
# The grammar: each component reads one piece anywhere in the phrase (order is free).


def _with_time(p: _Parts, hour: int | None, minute: int | None, m: re.Match[str]) -> _Parts | None:
    if hour is None or minute is None or not 0 <= minute <= 59 or not 0 <= hour <= 24:
        return None
    if hour == 24 and minute:
        return None
    groups = m.groupdict()
    values: dict[str, Any] = {"hour": hour, "minute": minute}
    if groups.get("ampm"):
        values["ampm"] = groups["ampm"] + "m"
    if groups.get("rumod"):
        values["part"] = _RU_MOD_PART[re.sub(r"\s+", " ", groups["rumod"])]
    return _put(p, **values)


# ---- recurrence markers and units


@_component(
    "every_n",
    rf"(?:every|кажд(?:ые|ый|ую))\s+(?P<n>other|second|\d{{1,2}}(?:st|nd|rd|th)|{_NUM_EN}|{_NUM_RU})\s+"
    r"(?P<u>days?|weeks?|дн(?:я|ей)|день|недел[иь]|неделю)" + _B,
)
def _every_n(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = re.sub(r"(?<=\d)(?:st|nd|rd|th)$", "", m.group("n"))
    n = 2 if word in ("other", "second") else _int(word)
    if n is None or not 1 <= n <= 365:
        return None
    unit = "week" if m.group("u").startswith(("week", "нед")) else "day"
    return _put(p, every=True, interval=n if n > 1 else None, unit=unit)


@_component(
    "every",
    r"(?:every(?:\s+single)?|each|кажд(?:ый|ую|ое|ые|ого|ой|ом))" + _B + r"|每(?:逢|一个|一|个)?",
)
def _every(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, every=True)


@_component("every_n_zh", r"每(?P<n>[两二三四五六七八九十]|\d{1,2})个?(?P<u>天|周|星期|礼拜)")
def _every_n_zh(m: re.Match[str], p: _Parts) -> _Parts | None:
    n = _int(m.group("n"))
    if n is None or not 1 <= n <= 365:
        return None
    unit = "day" if m.group("u") == "天" else "week"
    return _put(p, every=True, interval=n if n > 1 else None, unit=unit)


@_component(
    "adverb",
    r"(?:daily|weekly|monthly|yearly|annually|ежедневно|еженедельно|ежемесячно|ежегодно"
    r"|everyday|天天|日日|weekdays|weekends|on\s+weekdays|on\s+weekends)" + _B,
)
def _adverb(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = m.group(0).split()[-1]
    if word in ("weekdays",):
        return _put(p, every=True, days=_WORKDAYS)
    if word in ("weekends",):
        return _put(p, every=True, days=_WEEKEND)
    unit = {
        "daily": "day",
        "everyday": "day",
        "ежедневно": "day",
        "天天": "day",
        "日日": "day",
        "weekly": "week",
        "еженедельно": "week",
        "monthly": "month",
        "ежемесячно": "month",
    }.get(word, "year")
    return _put(p, every=True, unit=unit)


@_component(
    "ru_po",
    r"по\s+(?:(?P<work>будням|будним\s+дням|рабочим\s+дням)|(?P<weekend>выходным(?:\s+дням)?)"
    r"|(?P<part>утрам|вечерам|ночам))|в\s+(?P<work2>будни|будние\s+дни|рабочие\s+дни)" + _B,
)
def _ru_po(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("work") or m.group("work2"):
        return _put(p, every=True, days=_WORKDAYS)
    if m.group("weekend"):
        return _put(p, every=True, days=_WEEKEND)
    part = {"утрам": "morning", "вечерам": "evening", "ночам": "night"}[m.group("part")]
    return _put(p, every=True, unit="day", part=part)


@_component(
    "unit",
    r"(?:(?P<work>week\s?day|work\s?day|business\s+day|будний\s+день|будни|рабочий\s+день"
    r"|工作日)|(?P<weekend>weekend|выходные|周末)|(?P<day>day|день|天|日)"
    r"|(?P<week>week|неделю|周|星期|礼拜)|(?P<month>month|месяц|月)|(?P<year>year|год|年)"
    r"|(?P<morning>утро|早上|早晨|早)|(?P<evening>вечер|晚上|晚)|(?P<night>ночь))" + _E,
)
def _unit(m: re.Match[str], p: _Parts) -> _Parts | None:
    if not p.every:
        return None
    kind = m.lastgroup
    if kind == "work":
        return _put(p, days=_WORKDAYS)
    if kind == "weekend":
        return _put(p, days=_WEEKEND)
    if kind in ("morning", "evening", "night"):
        return _put(p, unit="day", part=kind)
    return _put(p, unit=kind)


# ---- relative offsets

_REL_UNIT_EN = (
    r"(?:seconds?|secs?|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w|fortnights?"
    r"|months?|years?|yrs?|y)"
)
_REL_PART_EN = (
    rf"(?<![0-9a-zа-я]){_AMOUNT_EN}(?:and\s+a\s+half\s+|more\s+)?{_REL_UNIT_EN}"
    rf"(?:\s+and\s+an?\s+half)?{_B}"
)
_REL_UNIT_RU = (
    r"(?:секунд[уы]?|сек\.?|минутк[уи]|минут[уы]?|мин\.?|м|часик(?:а|ов)?|час(?:а|ов)?|ч"
    r"|сут(?:ки|ок)|дн(?:я|ей)|день"
    r"|недел[юиь]|нед\.?"
    r"|месяц(?:а|ев)?|мес\.?|год(?:а)?|лет)"
)
_REL_PART_RU = (
    rf"(?<![0-9a-zа-я])(?:{_AMOUNT_RU}?(?:с\s+половиной\s+)?{_REL_UNIT_RU}{_B}"
    rf"|(?:полчаса|пол\s+часа|полгода|полдня){_B}"
    rf"|(?:три\s+)?четверт[ьи]\s+часа{_B})"
)
_REL_UNIT_ZH = r"(?:秒钟|秒|分钟|分|小时|钟头|个钟|钟|天|日|周|星期|礼拜|月|年)"
_REL_PART_ZH = rf"(?:{_NUM_ZH}|半)个?半?{_REL_UNIT_ZH}"


def _unit_name(word: str) -> str | None:
    w = word.rstrip(".")
    table = (
        ("second", ("sec", "s", "секунд", "сек", "秒")),
        ("minute", ("min", "m", "минут", "мин", "м", "分钟", "分")),
        ("hour", ("hour", "hr", "h", "час", "ч", "小时", "钟头", "个钟", "钟")),
        ("day", ("day", "d", "сут", "дн", "день", "天", "日")),
        ("week", ("week", "wk", "w", "недел", "нед", "周", "星期", "礼拜")),
        ("fortnight", ("fortnight",)),
        ("month", ("month", "месяц", "мес", "月")),
        ("year", ("year", "yr", "y", "год", "лет", "年")),
    )
    for name, stems in table:
        for stem in stems:
            if w == stem or (len(stem) > 1 and w.startswith(stem)):
                return name
    return None


def _rel_amounts(body: str, part: str) -> tuple[tuple[float, str], ...] | None:
    found: list[tuple[float, str]] = []
    for piece in re.finditer(part, body):
        text = piece.group(0).strip()
        if text.startswith(("полчаса", "пол часа", "полдня")):
            found.append((12.0 if text.startswith("полдня") else 0.5, "hour"))
            continue
        if text.startswith("полгода"):
            found.append((6.0, "month"))
            continue
        if text.endswith(("четверть часа", "четверти часа")):
            found.append((45.0 if text.startswith("три") else 15.0, "minute"))
            continue
        half = 0.0
        if " с половиной " in text:
            text = text.replace(" с половиной ", " ")
            half = 0.5
        text = re.sub(r"\s+more(?=\s)", "", text)
        if re.search(r"and an? half$", text):
            text = re.sub(r"\s*and an? half$", "", text)
            half = 0.5
        elif " and a half " in text:
            text = text.replace(" and a half ", " ")
            half = 0.5
        split_at = re.match(r"(.+?)(个?半?)(" + _REL_UNIT_ZH + r")$", text) or re.match(
            r"(.*?)\s*()([a-zа-я.]+)$", text
        )
        if split_at is None:
            return None
        amount_text, zh_half, unit_text = split_at.groups()
        if "半" in zh_half:
            half = 0.5
        if amount_text == "半":
            amount = 0.5
        elif amount_text == "":
            amount = 1.0
        else:
            value = _number(amount_text)
            if value is None:
                return None
            amount = value
        unit = _unit_name(unit_text)
        if unit is None:
            return None
        if unit == "fortnight":
            amount, unit = amount * 2, "week"
        amount += half
        if unit == "year" and amount * 12 == int(amount * 12) and amount != int(amount):
            amount, unit = amount * 12, "month"  # 半年后, in a year and a half
        found.append((amount, unit))
    return tuple(found) or None


_REL_SPECIAL_AMOUNTS: Final[dict[str, tuple[float, str]]] = {
    "half an hour": (0.5, "hour"),
    "half a hour": (0.5, "hour"),
    "a half hour": (0.5, "hour"),
    "half hour": (0.5, "hour"),
    "a quarter of an hour": (15, "minute"),
    "a quarter hour": (15, "minute"),
    "quarter of an hour": (15, "minute"),
    "quarter hour": (15, "minute"),
    "three quarters of an hour": (45, "minute"),
    "a sec": (1, "second"),
    "a second": (1, "second"),
    "a moment": (1, "second"),
    "a jiffy": (1, "second"),
    "a bit": (1, "second"),
    "half a day": (12, "hour"),
    "half a week": (84, "hour"),
}
_REL_SPECIAL_EN = "|".join(
    re.escape(k).replace(r"\ ", r"[\s-]+")
    for k in sorted(_REL_SPECIAL_AMOUNTS, key=len, reverse=True)
)


@_component(
    "in_en",
    rf"(?:in|after)\s+(?:(?:about|around|approximately|roughly|another|just)\s+)?"
    rf"(?P<body>{_REL_SPECIAL_EN}|{_REL_PART_EN}(?:(?:\s*,\s*|\s+and\s+|\s+)"
    rf"{_REL_PART_EN})*)"
    r"|(?P<body2>(?:"
    + _REL_SPECIAL_EN
    + "|"
    + _REL_PART_EN
    + r")(?:\s+"
    + _REL_PART_EN
    + r")*)\s+(?:from\s+(?:now|today|here)|later|hence|on)"
    + _B,
)
def _in_en(m: re.Match[str], p: _Parts) -> _Parts | None:
    body = m.group("body") or m.group("body2")
    special = re.sub(r"[\s-]+", " ", body)
    if special in _REL_SPECIAL_AMOUNTS:
        return _put(p, rel=(_REL_SPECIAL_AMOUNTS[special],))
    amounts = _rel_amounts(body, _REL_PART_EN)
    return None if amounts is None else _put(p, rel=amounts)


@_component(
    "in_ru",
    rf"(?:через|спустя)\s+(?P<body>(?:{_REL_PART_RU})(?:\s*(?:,|и)?\s*(?:{_REL_PART_RU}))*)",
)
def _in_ru(m: re.Match[str], p: _Parts) -> _Parts | None:
    amounts = _rel_amounts(m.group("body"), _REL_PART_RU)
    return None if amounts is None else _put(p, rel=amounts)


@_component(
    "in_zh",
    rf"(?:再?过)?(?P<body>(?:{_REL_PART_ZH})+|一刻钟|三刻钟)(?:以后|之后|后)"
    rf"|再?过(?P<body2>(?:{_REL_PART_ZH})+|一刻钟|三刻钟)",
)
def _in_zh(m: re.Match[str], p: _Parts) -> _Parts | None:
    body = m.group("body") or m.group("body2")
    if body in ("一刻钟", "三刻钟"):
        return _put(p, rel=((15 if body == "一刻钟" else 45, "minute"),))
    amounts = _rel_amounts(body, _REL_PART_ZH)
    return None if amounts is None else _put(p, rel=amounts)


# ---- days

_DAY_WORDS: Final[dict[str, tuple[int, str | None]]] = {
    "today": (0, None),
    "tonight": (0, "evening"),
    "tomorrow": (1, None),
    "tomorow": (1, None),
    "tmrw": (1, None),
    "tmr": (1, None),
    "yesterday": (-1, None),
    "this morning": (0, "morning"),
    "this afternoon": (0, "afternoon"),
    "this evening": (0, "evening"),
    "last night": (-1, "night"),
    "day after tomorrow": (2, None),
    "the day after tomorrow": (2, None),
    "day before yesterday": (-2, None),
    "the day before yesterday": (-2, None),
    "сегодня": (0, None),
    "завтра": (1, None),
    "послезавтра": (2, None),
    "вчера": (-1, None),
    "позавчера": (-2, None),
    "на завтра": (1, None),
    "на послезавтра": (2, None),
    "на сегодня": (0, None),
    "этим утром": (0, "morning"),
    "этим вечером": (0, "evening"),
}
_ZH_DAY_WORDS: Final[dict[str, tuple[int, str | None]]] = {
    "大后天": (3, None),
    "后天": (2, None),
    "大前天": (-3, None),
    "前天": (-2, None),
    "明天": (1, None),
    "明日": (1, None),
    "明儿": (1, None),
    "今天": (0, None),
    "今日": (0, None),
    "今儿": (0, None),
    "昨天": (-1, None),
    "昨日": (-1, None),
    "今晚": (0, "evening"),
    "今夜": (0, "night"),
    "今早": (0, "morning"),
    "明早": (1, "morning"),
    "明晚": (1, "evening"),
    "昨晚": (-1, "evening"),
}


def _with_part(p: _Parts | None, part: str) -> _Parts | None:
    """``p`` with a part of the day; "midnight" refines "tonight" ("tonight at midnight")."""
    if p is None:
        return None
    if p.part in ("evening", "night") and part == "midnight":
        return replace(p, part=part)
    if p.part == "midnight" and part in ("evening", "night"):
        return p
    return _put(p, part=part)


@_component("day", rf"(?:{_alternation(_DAY_WORDS)}){_B}|(?:{_alternation(_ZH_DAY_WORDS)})")
def _day(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = re.sub(r"\s+", " ", m.group(0))
    offset, part = _DAY_WORDS.get(word) or _ZH_DAY_WORDS[word]
    if part is None:
        return _put(p, offset=offset)
    return _with_part(_put(p, offset=offset), part)


# ---- weekdays

_EN_MODES: Final[dict[str, str]] = {
    "this coming": "next",
    "coming": "next",
    "upcoming": "next",
    "following": "nextweek",
    "the following": "nextweek",
    "this": "this",
    "next": "nextweek",
    "last": "lastweek",
    "past": "lastweek",
}


def _ru_mode(word: str) -> str:
    if word.startswith("эт"):
        return "this"
    if word.startswith("ближайш"):
        return "next"
    if word.startswith("след"):
        return "nextweek"
    if word.startswith("прошл"):
        return "lastweek"
    return "nextweek"  # следующ-, будущ-


def _with_days(p: _Parts, days: list[int], mode: str | None, plural: bool) -> _Parts | None:
    unique = tuple(sorted(set(days)))
    if len(unique) != len(days):
        return None
    values: dict[str, Any] = {"days": unique}
    if mode is not None:
        values["mode"] = mode
    if plural:
        values["every"] = True
    return _put(p, **values)


@_component(
    "weekday_en",
    rf"(?:on\s+)?(?:the\s+)?(?:(?P<q>this\s+coming|this|next|coming|upcoming|following|last|past)"
    rf"\s+)?"
    rf"(?P<list>{_WD_EN}\.?{_B}(?:(?:\s*[,&+/]\s*|\s+and\s+|\s+){_WD_EN}\.?{_B})*)"
    rf"(?P<after>\s+after\s+next{_B})?(?P<next>\s+next(?!\s+(?:week|month|year)){_B})?",
)
def _weekday_en(m: re.Match[str], p: _Parts) -> _Parts | None:
    words = re.findall(r"[a-z]+", m.group("list"))
    words = [w for w in words if w != "and"]
    days = [_EN_WD_INDEX[w[:3]] for w in words]
    plural = any(w.endswith("days") for w in words)
    q = m.group("q")
    mode = _EN_MODES[re.sub(r"\s+", " ", q)] if q else None
    if m.group("after") or m.group("next"):
        if mode is not None:
            return None
        # "the friday after next": a week after next week's; British "monday next": next week's
        mode = "weekafter" if m.group("after") else "nextweek"
    return _with_days(p, days, mode, plural and mode is None)


@_component(
    "weekday_ru",
    rf"(?:(?P<po>по)\s+|(?:в|во|на|к|до)\s+)?(?:(?P<q>эт(?:у|от|о|и|а|ой|ом)"
    rf"|следующ(?:ую|ий|ее|ие|ая|ей|ем|его|ему)|след\.?|ближайш(?:ую|ий|ее|ая|ей|ем|его)"
    rf"|прошл(?:ую|ый|ое|ая|ой)|будущ(?:ую|ий|ее|ая|ей))\s*)?"
    rf"(?P<list>{_WD_RU}{_B}(?:(?:\s*,\s*|\s+и\s+){_WD_RU}{_B})*)",
)
def _weekday_ru(m: re.Match[str], p: _Parts) -> _Parts | None:
    words = [w for w in re.findall(r"[а-я]+", m.group("list")) if w != "и"]
    days = [_RU_WD_INDEX[w[:2]] for w in words]
    plural = any(w.endswith(("ам", "ям")) for w in words)
    if m.group("po") and not plural:
        return None
    q = m.group("q")
    return _with_days(p, days, _ru_mode(q) if q else None, plural)


@_component(
    "weekday_zh",
    rf"(?P<q>这一?个?|本|今个?|下下个?|下一?个?|上一?个?)?(?:周|星期|礼拜)"
    rf"(?P<list>{_WD_ZH_ITEM}(?:[、,和及与]?{_WD_ZH_ITEM})*)",
)
def _weekday_zh(m: re.Match[str], p: _Parts) -> _Parts | None:
    days = [_ZH_WD_INDEX[ch] for ch in m.group("list") if ch in _ZH_WD_INDEX]
    q = (m.group("q") or "")[:2]
    if q == "下下":
        return _with_days(p, days, "weekafter", False)
    mode = {"这": "this", "本": "this", "今": "this", "下": "nextweek", "上": "lastweek"}.get(q[:1])
    return _with_days(p, days, mode, False)


@_component(
    "weekday_range",
    rf"(?:from\s+)?(?P<a>{_WD_EN}){_B}\s*(?:-|to|through|thru)\s*(?P<b>{_WD_EN}){_B}"
    rf"|с\s+(?P<c>{_WD_RU}){_B}\s+по\s+(?P<d>{_WD_RU}){_B}"
    rf"|(?:周|星期|礼拜)(?P<e>[{_WD_ZH}])(?:到|至|-|~)(?:周|星期|礼拜)?(?P<f>[{_WD_ZH}])",
)
def _weekday_range(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("a"):
        first, last = _EN_WD_INDEX[m.group("a")[:3]], _EN_WD_INDEX[m.group("b")[:3]]
    elif m.group("c"):
        first, last = _RU_WD_INDEX[m.group("c")[:2]], _RU_WD_INDEX[m.group("d")[:2]]
    else:
        first, last = _ZH_WD_INDEX[m.group("e")], _ZH_WD_INDEX[m.group("f")]
    if last <= first:
        return None
    return _put(p, every=True, days=tuple(range(first, last + 1)))


@_component(
    "weekmod",
    r"(?:of\s+)?(?:(?P<after>the\s+week\s+after\s+next|下下个?(?:周|星期|礼拜))"
    r"|(?P<next>(?:the\s+)?next\s+week|the\s+following\s+week|на\s+следующей\s+неделе"
    r"|на\s+будущей\s+неделе|следующей\s+недели|下一?个?(?:周|星期|礼拜))"
    r"|(?P<this>this\s+week|the\s+current\s+week|на\s+этой\s+неделе|этой\s+недели|本周"
    r"|这一?个?(?:周|星期|礼拜)))(?![0-9a-zа-я一二三四五六日天末])",
)
def _weekmod(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("after"):
        return _put(p, weekmod="weekafter")
    return _put(p, weekmod="nextweek" if m.group("next") else "this")


# ---- dates


@_component(
    "iso",
    r"(?:(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?:t(?P<hh>\d{1,2}):(?P<mm>\d{2})(?::\d{2})?)?"
    r"|(?P<y2>20\d\d)(?P<m2>[01]\d)(?P<d2>[0-3]\d))" + _B,
)
def _iso(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("y2"):  # 20260314
        return _put(p, ymd=(int(m.group("y2")), int(m.group("m2")), int(m.group("d2"))))
    q = _put(p, ymd=(int(m.group("y")), int(m.group("m")), int(m.group("d"))))
    if q is not None and m.group("hh"):
        q = _with_time(q, int(m.group("hh")), int(m.group("mm")), m)
    return q


@_component("dotted", r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})(?:\.(?P<y>\d{4}|\d{2}))?\.?" + _B)
def _dotted(m: re.Match[str], p: _Parts) -> _Parts | None:
    if not 1 <= int(m.group("m")) <= 12:
        return None
    year = m.group("y")
    full_year = None if year is None else (int(year) + 2000 if len(year) == 2 else int(year))
    return _put(p, ymd=(full_year, int(m.group("m")), int(m.group("d"))))


@_component(
    "slashed",
    r"(?:on\s+)?(?P<a>\d{1,2})\s?(?P<sep>[/-])\s?(?P<b>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?"
    + _B,
)
def _slashed(m: re.Match[str], p: _Parts) -> _Parts | None:
    a, b = int(m.group("a")), int(m.group("b"))
    if a == b or (a > 12 and b <= 12):
        day, month = a, b
    elif b > 12 and a <= 12:
        day, month = b, a
    else:
        return None  # 12/5: May 12th in London, December 5th in New York
    year = m.group("y")
    full_year = None if year is None else (int(year) + 2000 if len(year) == 2 else int(year))
    return _put(p, ymd=(full_year, month, day))


_ORD_WORDS_EN = _alternation(when_en.ORDINALS)


@_component(
    "date_en",
    rf"(?:on\s+)?(?:the\s+)?(?P<d1>\d{{1,2}}{_ORD_EN}?|{_ORD_WORDS_EN})(?:\s+of|\s*-)?\s*"
    rf"(?P<m1>{_MONTH_EN})(?:(?:,\s*|\s+|\s*-\s*)(?P<y1>\d{{4}}|'?\d{{2}})(?![:.h]\d))?{_B}"
    rf"|(?:on\s+)?(?P<m2>{_MONTH_EN})\s*(?:the\s+)?(?P<d2>\d{{1,2}}{_ORD_EN}?(?=[^0-9]|$)"
    rf"|{_ORD_WORDS_EN})(?:(?:,\s*|\s+)(?P<y2>\d{{4}}|'\d{{2}}))?{_B}",
)
def _date_en(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = m.group("d1") or m.group("d2")
    digits = re.match(r"\d+", word)
    day = int(digits.group(0)) if digits else when_en.ORDINALS[re.sub(r"\s+", " ", word)]
    month = _EN_MONTHS.index((m.group("m1") or m.group("m2"))[:3]) + 1
    year_text = (m.group("y1") or m.group("y2") or "").lstrip("'")
    year = None if not year_text else int(year_text) + (2000 if len(year_text) == 2 else 0)
    return _put(p, ymd=(year, month, day))


@_component(
    "date_ru",
    rf"(?:(?:на|к|до|в|с)\s+)?(?:(?P<d>\d{{1,2}})(?:-?(?:го|е|ое|ого|ому|му|м|ом))?"
    rf"|(?P<w>{when_ru.ORDINAL}))\s*(?P<m>{_MONTH_RU})"
    rf"(?:\s+(?P<y>\d{{4}})(?:\s*(?:г\.?|года?))?)?{_B}",
)
def _date_ru(m: re.Match[str], p: _Parts) -> _Parts | None:
    stem = m.group("m")[:3]
    month = _RU_MONTHS.get(stem)
    day = int(m.group("d")) if m.group("d") else when_ru.ordinal(m.group("w"))
    if month is None or day is None:
        return None
    year = m.group("y")
    return _put(p, ymd=(int(year) if year else None, month, day))


@_component(
    "date_zh",
    rf"(?:(?P<y>\d{{4}}|[{_ZH_NUMERALS}]{{4}})年|(?P<rel>今年|明年|后年))?的?"
    rf"(?P<m>\d{{1,2}}|[{_ZH_NUMERALS}]{{1,3}})月(?P<d>\d{{1,2}}|[{_ZH_NUMERALS}]{{1,3}})(?:日|号)?",
)
def _date_zh(m: re.Match[str], p: _Parts) -> _Parts | None:
    month, day, year = _int(m.group("m")), _int(m.group("d")), _int(m.group("y"))
    if month is None or day is None or (m.group("y") and year is None):
        return None
    if m.group("rel"):  # 明年3月1日: the year is placed on the calendar later
        offset = ("今年", "明年", "后年").index(m.group("rel"))
        return _put(p, ymd=(None, month, day), yearoff=offset)
    return _put(p, ymd=(year, month, day))


_EN_ORDINALS: Final[dict[str, int]] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "fifteenth": 15,
    "twentieth": 20,
    "last": -1,
}


@_component(
    "monthday_en",
    rf"(?:on\s+)?(?P<the>the\s+)?(?:(?P<n>\d{{1,2}}){_ORD_EN}|(?P<w>{_alternation(_EN_ORDINALS)}"
    rf"|{_ORD_WORDS_EN}))"
    r"(?:\s+day)?(?:\s+of\s+(?:the|each|every|this|next)\s+month)?" + _B,
)
def _monthday_en(m: re.Match[str], p: _Parts) -> _Parts | None:
    text = m.group(0)
    word = re.sub(r"\s+", " ", m.group("w") or "")
    day = int(m.group("n")) if m.group("n") else _EN_ORDINALS.get(word) or when_en.ORDINALS[word]
    bare = word and "month" not in text and "day" not in text and not p.every
    if bare and (not m.group("the") or word in ("last", "first", "second")):
        return None  # "first" alone is not a date; "the twenty first" is
    values: dict[str, Any] = {"monthday": day}
    if "next month" in text:
        values["monthoff"] = 1
    elif "this month" in text:
        values["monthoff"] = 0
    return _put(p, **values)


@_component(
    "monthday_ru",
    rf"(?:(?P<n>\d{{1,2}})(?:-?(?:е|го|ое|ого|ье|му|ому))?\s+числ[оау]|(?P<n2>\d{{1,2}})-?(?:го|е)"
    rf"|(?P<w>{when_ru.ORDINAL})\s+числ[оау]"
    r"|(?:в\s+)?(?P<last>последн(?:ий|ее|его)\s+(?:день|число)))"
    r"(?:\s+(?:(?P<next>следующего)\s+|(?P<this>этого)\s+|каждого\s+)?месяца)?" + _B,
)
def _monthday_ru(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = when_ru.ordinal(m.group("w")) if m.group("w") else None
    day = -1 if m.group("last") else word or int(m.group("n") or m.group("n2"))
    values: dict[str, Any] = {"monthday": day}
    if m.group("next"):
        values["monthoff"] = 1
    elif m.group("this"):
        values["monthoff"] = 0
    return _put(p, **values)


@_component(
    "monthday_zh",
    rf"(?:(?P<off>下个?月|本月|这个?月)的?)?(?:(?P<n>\d{{1,2}}|[{_ZH_NUMERALS}]{{1,3}})(?:号|日)"
    r"|(?P<last>最后一天|月底))|(?P<off2>下个?|本|这个?)(?P<last2>月底)",
)
def _monthday_zh(m: re.Match[str], p: _Parts) -> _Parts | None:
    day = -1 if m.group("last") or m.group("last2") else _int(m.group("n"))
    if day is None:
        return None
    values: dict[str, Any] = {"monthday": day}
    off = m.group("off") or m.group("off2")
    if off:
        values["monthoff"] = 1 if off.startswith("下") else 0
    return _put(p, **values)


@_component(
    "month_ru",
    r"(?:(?:в\s+)?(?:(?P<next>следующем)|(?P<this>этом))\s+месяце"
    r"|(?:in\s+)?(?P<next2>next)\s+month|(?:in\s+)?(?:this|the\s+current)\s+month)" + _B,
)
def _month_ru(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, monthoff=1 if m.group("next") or m.group("next2") else 0)


# ---- times of day

_MINUTE_WORDS_EN = _alternation(when_en.MINUTES)

_TIME_PREP = (
    r"(?:(?P<prep>(?:at|for|by|from|starting)(?:\s+(?:about|around|approximately|roughly))?"
    r"|@|в|во|к|около|примерно\s+в|around|about|approximately|roughly|在|于)\s*)?"
)


@_component(
    "colon",
    rf"{_TIME_PREP}(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?::\d{{2}})?(?:\s?h(?:rs)?(?![a-z]))?{_TIME_SUFFIX}",
)
def _colon(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, int(m.group("h")), int(m.group("m")), m)


@_component(
    "h_time",
    rf"{_TIME_PREP}(?P<h>\d{{1,2}})h(?:(?P<m>\d{{2}}){_B}|(?=\s*(?:{when_zones.PATTERN})))",
)
def _h_time(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, int(m.group("h")), int(m.group("m") or 0), m)  # "9h30", "9h UTC"


@_component("dot_time", rf"{_TIME_PREP}(?P<h>\d{{1,2}})\.(?P<m>\d{{2}}){_TIME_SUFFIX}")
def _dot_time(m: re.Match[str], p: _Parts) -> _Parts | None:
    hour, minute = int(m.group("h")), int(m.group("m"))
    marked = m.group("prep") or m.group("ampm") or m.group("rumod")
    if not marked and 1 <= minute <= 12 and 1 <= hour <= 31:
        return None  # 05.12 is a date
    return _with_time(p, hour, minute, m)


@_component("ampm", rf"{_TIME_PREP}(?P<h>{_HOUR_EN}){_AMPM}{_B}")
def _ampm(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, _int(m.group("h")), 0, m)


@_component(
    "oclock",
    rf"(?:(?:at|@|around|about|at\s+around|at\s+about)\s*(?P<h>{_HOUR_EN}|\d{{1,2}})"
    rf"(?:\s*o'?clock)?|(?P<h2>{_HOUR_EN})\s*o'?clock)" + _B,
)
def _oclock(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, _int(m.group("h") or m.group("h2")), 0, m)


@_component(
    "half_past",
    rf"{_TIME_PREP}(?P<q>half|(?:a\s+)?quarter|three\s+quarters|(?P<mins>\d{{1,2}}|{_MINUTE_WORDS_EN}"
    rf"|{_alternation(_HOUR_WORDS_EN)}))(?:\s+(?:minutes?|mins?))?\s+"
    rf"(?P<dir>past|after|to|before|till|til|of)\s+(?P<h>{_HOUR_EN}|noon|midday|midnight)"
    rf"(?:{_AMPM}|\s+{_RU_MOD})?{_B}",
)
def _half_past(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = m.group("h")
    hour = 12 if word in ("noon", "midday") else 0 if word == "midnight" else _int(word)
    if hour is None:
        return None
    q = re.sub(r"\s+", " ", m.group("q")).removeprefix("a ")
    minutes = {"half": 30, "quarter": 15, "three quarters": 45}.get(q)
    if minutes is None:
        minutes = _int(q)
    if minutes is None or not 1 <= minutes <= 59:
        return None
    if q == "half" and m.group("dir") not in ("past", "after"):
        return None
    if word in ("noon", "midday", "midnight") and (m.group("ampm") or m.group("rumod")):
        return None
    if m.group("dir") in ("to", "before", "till", "til", "of"):
        hour, minutes = (hour - 1) % 24, 60 - minutes
    q_parts = _with_time(p, hour, minutes, m)
    if q_parts is not None and word in ("noon", "midday"):
        q_parts = _put(q_parts, ampm="am" if hour == 11 else "pm")
    return q_parts


@_component(
    "ru_hours",
    rf"(?:(?P<prep>в|во|к|около)\s+)?(?P<h>{_HOUR_RU})\s*(?P<unit>час(?:а|ов)?|ч)(?![a-zа-я])"
    rf"(?:\s*(?P<m>\d{{1,2}})\s*(?:минут[аы]?|мин|м){_B}|(?P<m2>\d{{2}}){_B})?"
    rf"(?:\s+{_RU_MOD})?{_B}",
)
def _ru_hours(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("unit") != "ч" and not (m.group("prep") or m.group("rumod")):
        return None  # "2 часа" alone: two o'clock or two hours? ("в 2 часа", "9ч" are times)
    minute = m.group("m") or m.group("m2")
    return _with_time(p, _int(m.group("h")), int(minute) if minute else 0, m)


@_component("ru_mod", rf"(?:(?:в|во|к|около)\s+)?(?P<h>{_HOUR_RU})\s+{_RU_MOD}{_B}")
def _ru_mod(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, _int(m.group("h")), 0, m)


@_component("ru_v", rf"(?:в|во|к|около)\s+(?P<h>{_HOUR_RU}){_B}")
def _ru_v(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, _int(m.group("h")), 0, m)


@_component("ru_chas", rf"в\s+час(?:\s+{_RU_MOD})?{_B}")
def _ru_chas(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, 1, 0, m)


@_component(
    "zh_hour",
    rf"(?:在|于)?(?P<h>\d{{1,2}}|[{_ZH_NUMERALS}]{{1,3}})(?:点|时)钟?"
    rf"(?:(?P<half>半)|过?(?P<q1>一刻)|(?P<q3>三刻)|整"
    rf"|过?(?P<m>\d{{1,2}}|[{_ZH_NUMERALS}]{{1,3}})分|(?P<m2>\d{{2}}|[{_ZH_NUMERALS}]{{2,3}}))?",
)
def _zh_hour(m: re.Match[str], p: _Parts) -> _Parts | None:
    hour = _int(m.group("h"))
    if m.group("half"):
        minute: int | None = 30
    elif m.group("q1"):
        minute = 15
    elif m.group("q3"):
        minute = 45
    elif m.group("m") or m.group("m2"):
        minute = _int(m.group("m") or m.group("m2"))
    else:
        minute = 0
    return _with_time(p, hour, minute, m)


# ---- at once

_NOW_WORDS = (
    r"(?:right\s+now|right\s+away|straight\s+away|at\s+once|now|immediately|asap|a\.s\.a\.p\.?"
    r"|at\s+this\s+(?:time|moment)|at\s+the\s+moment|this\s+(?:very\s+)?(?:minute|moment)"
    r"|сейчас|прямо\s+сейчас|немедленно|сразу|срочно)"
    + _B
    + r"|现在就|现在|马上|立刻|立即|即刻|此刻|此时|当前|当下|眼下"
)


@_component(
    "now",
    rf"(?:{_NOW_WORDS})"
    rf"|within\s+(?:the\s+)?(?:next\s+)?(?:{_REL_PART_EN})(?:\s+{_REL_PART_EN})*"
    rf"|в\s+течение\s+(?:(?:{_REL_PART_RU})(?:\s+{_REL_PART_RU})*|часа|дня|недели|месяца){_B}"
    rf"|(?:{_REL_PART_ZH})+(?:之内|以内|内)",
)
def _now(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, now=True)


# ---- words that only fill ("at about 3pm", "3pm sharp", "三点左右")


@_component(
    "filler",
    r"(?:around|about|approximately|approx\.?|roughly|exactly|precisely|for|please|at|on|by|until"
    r"|till|no\s+later\s+than|часов|часиков"
    r"|примерно|приблизительно|ровно|где-то|где\s+то|около|на|к|до|大约|大概|约|准时|在|于)" + _E,
)
def _filler(m: re.Match[str], p: _Parts) -> _Parts | None:
    return p  # never the last piece (see _readings)


@_component(
    "post_filler",
    r"(?:sharp|on\s+the\s+dot|or\s+so|approximately|approx\.?|roughly|or\s+thereabouts|ровно"
    r"|примерно|左右|前后|整|正(?!午)|准时|钟|多|以前|之前|前)" + _E,
)
def _post_filler(m: re.Match[str], p: _Parts) -> _Parts | None:
    return p if p.hour is not None or p.rel is not None else None


# ---- clocks people write loosely: 0930, 1145 pm, at 8 30, seven thirty, half six, 9 tonight

#: After a bare hour, what makes it a time: "7 tomorrow", "9 tonight", "6 in the evening".
_THEN_DAY = (
    r"(?=\s*(?:(?:tonight|tomorrow|tmrw?|today|tonite|this\s+(?:morning|afternoon|evening)"
    r"|in\s+the\s+(?:morning|afternoon|evening|am|pm)|at\s+night|o'clock|noon|midnight"
    r"|сегодня|завтра|послезавтра|утром|вечером|днём|днем)(?![a-zа-я])|(?:on|this|next)\s|in\s+\d))"
)


@_component(
    "military",
    rf"{_TIME_PREP}(?P<h>[01]\d|2[0-3]|\d)(?P<m>[0-5]\d)(?P<hrs>\s*(?:h|hrs|hours))?{_TIME_SUFFIX}",
)
def _military(m: re.Match[str], p: _Parts) -> _Parts | None:
    marked = m.group("prep") or m.group("ampm") or m.group("rumod") or m.group("hrs")
    if not marked and not m.group("h").startswith("0"):
        return None  # "1145" alone could be a year or a flat number; "0930" cannot
    if m.group("ampm") and not 1 <= int(m.group("h")) <= 12:
        return None
    return _with_time(p, int(m.group("h")), int(m.group("m")), m)


@_component("spaced", rf"{_TIME_PREP}(?P<h>\d{{1,2}})\s+(?P<m>[0-5]\d){_TIME_SUFFIX}")
def _spaced(m: re.Match[str], p: _Parts) -> _Parts | None:
    if not (m.group("prep") or m.group("ampm") or m.group("rumod")):
        return None  # "8 30" alone is two numbers
    return _with_time(p, int(m.group("h")), int(m.group("m")), m)


@_component(
    "word_time",
    rf"{_TIME_PREP}(?P<h>{_HOUR_EN})\s+(?P<m>{_MINUTE_WORDS_EN})(?![a-z]){_TIME_SUFFIX}",
)
def _word_time(m: re.Match[str], p: _Parts) -> _Parts | None:
    if not (m.group("prep") or m.group("ampm")) and not re.match(_THEN_DAY, m.string[m.end() :]):
        return None
    return _with_time(p, _int(m.group("h")), when_en.MINUTES[m.group("m")], m)


@_component("bare_hour", rf"(?:at\s+)?(?P<h>{_HOUR_EN}){_B}{_THEN_DAY}")
def _bare_hour(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, _int(m.group("h")), 0, m)


@_component(
    "half_hour",
    rf"(?:at\s+)?half\s+(?P<h>{_HOUR_EN}){_B}(?!\s*(?:hours?|hrs?|h|minutes?|days?|past|to)(?![a-z]))"
    rf"(?:{_AMPM})?{_B}",
)
def _half_hour(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, _int(m.group("h")), 30, m)  # British "half six" is 6:30


@_component(
    "zero_hour",
    r"(?P<h>12)\s+(?P<w>noon|midnight)" + _B,
)
def _zero_hour(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, part="noon" if m.group("w") == "noon" else "midnight")


# ---- Chinese minutes before an hour: 差一刻三点, 三点差五分

_ZH_NUMBER = rf"\d{{1,2}}|[{_ZH_NUMERALS}]{{1,3}}"


@_component(
    "zh_cha",
    rf"差(?P<m>一刻|{_ZH_NUMBER})分?钟?(?P<h>{_ZH_NUMBER})点|(?P<h2>{_ZH_NUMBER})点差(?P<m2>一刻|{_ZH_NUMBER})分?",
)
def _zh_cha(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = m.group("m") or m.group("m2")
    minutes = 15 if word == "一刻" else _int(word)
    hour = _int(m.group("h") or m.group("h2"))
    if minutes is None or hour is None or not 1 <= minutes <= 59 or not 0 <= hour <= 24:
        return None
    return _with_time(p, (hour - 1) % 24, 60 - minutes, m)


# ---- Russian clocks: без четверти восемь, в половине девятого, полдевятого

_RU_MINUTE_WORDS = _alternation({k: v for k, v in when_ru.NUMBERS.items() if 1 <= v <= 59})


@_component(
    "ru_minutes_of",
    rf"(?:(?:в|к|около)\s+)?(?P<m>\d{{1,2}}|{_RU_MINUTE_WORDS})\s+минут[аы]?\s+"
    rf"(?P<h>{_alternation(when_ru.HOUR_GENITIVE)})(?:\s+{_RU_MOD})?{_B}",
)
def _ru_minutes_of(m: re.Match[str], p: _Parts) -> _Parts | None:
    minutes = _int(m.group("m"))
    if minutes is None or not 1 <= minutes <= 59:
        return None
    return _with_time(p, when_ru.HOUR_GENITIVE[m.group("h")] - 1, minutes, m)  # 10 минут девятого


_RU_GEN_HOURS = _alternation(when_ru.HOUR_GENITIVE)


@_component(
    "ru_bez",
    rf"(?:(?:в|к|около)\s+)?без\s+(?P<m>{_alternation(when_ru.MINUTES_BEFORE)}|\d{{1,2}})"
    rf"(?:\s+минут[ы]?)?\s+(?P<h>{_HOUR_RU}){_B}(?:\s+{_RU_MOD})?{_B}",
)
def _ru_bez(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = m.group("m")
    minutes = int(word) if word.isdigit() else when_ru.MINUTES_BEFORE[word]
    hour = _int(m.group("h"))
    if hour is None or not 1 <= minutes <= 59:
        return None
    return _with_time(p, (hour - 1) % 24 if hour else 23, 60 - minutes, m)


@_component(
    "ru_half",
    rf"(?:(?:в|к|около)\s+)?(?:(?P<half>половин[еау]\s+|пол\s*|пол-)|(?P<quarter>четверть)\s+)"
    rf"(?P<h>{_RU_GEN_HOURS})(?:\s+{_RU_MOD})?{_B}",
)
def _ru_half(m: re.Match[str], p: _Parts) -> _Parts | None:
    hour = when_ru.HOUR_GENITIVE[m.group("h")] - 1
    return _with_time(p, hour, 30 if m.group("half") else 15, m)


@_component(
    "ru_words_time",
    rf"(?:в|во|к|около)\s+(?P<h>{_alternation(when_ru.HOURS)})\s+"
    rf"(?P<m>{_alternation({k: v for k, v in when_ru.NUMBERS.items() if v >= 10})}|ноль\s+\w+)"
    rf"(?:\s+{_RU_MOD})?{_B}",
)
def _ru_words_time(m: re.Match[str], p: _Parts) -> _Parts | None:
    minute = _int(m.group("m").replace("ноль ", ""))
    return _with_time(p, _int(m.group("h")), minute, m)


# ---- the nth weekday of a month

_EN_NTH: Final[dict[str, int]] = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "last": -1, "final": -1,
}  # fmt: skip


def _month_number(word: str) -> int:
    return _EN_MONTHS.index(word[:3]) + 1


@_component(
    "nth_en",
    rf"(?:on\s+)?(?:the\s+)?(?P<n>{_alternation(_EN_NTH)})\s+(?P<wd>{_WD_EN}){_B}"
    rf"(?:\s+(?:of|in)\s+(?:(?P<every>every|each)\s+month|(?:the|this|the\s+current)\s+month"
    rf"|(?P<next>next|the\s+next|the\s+following)\s+month"
    rf"|(?P<m>{_MONTH_EN})(?:,?\s+(?P<y>\d{{4}}))?)|\s+(?P<monthly>monthly|every\s+month))?{_B}",
)
def _nth_en(m: re.Match[str], p: _Parts) -> _Parts | None:
    nth = _EN_NTH[m.group("n")]
    day = _EN_WD_INDEX[m.group("wd")[:3]]
    values: dict[str, Any] = {"nth": nth, "days": (day,)}
    tail = m.group(0)
    if m.group("every") or m.group("monthly") or (p.every and "month" in tail):
        values.update(every=True, unit="month")
    elif m.group("next"):
        values["monthoff"] = 1
    elif m.group("m"):
        year = int(m.group("y")) if m.group("y") else None
        values["month"] = (year, _month_number(m.group("m")))
    elif "this month" in tail or "current month" in tail:
        values["monthoff"] = 0
    elif "month" not in tail and not p.every:
        return None  # "the first monday" alone: of which month?
    return _put(p, **values)


@_component(
    "nth_zh",
    rf"(?:(?P<off>下个?月|本月|这个?月|每个?月)|(?P<m>\d{{1,2}}|[{_ZH_NUMERALS}]{{1,2}})月份?)?的?"
    rf"(?:第(?P<n>[一二三四五1-5])个?|(?P<last>最后一个|最后1个|最后|倒数第一个))"
    rf"(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])",
)
def _nth_zh(m: re.Match[str], p: _Parts) -> _Parts | None:
    nth = -1 if m.group("last") else _int(m.group("n"))
    values: dict[str, Any] = {"nth": nth, "days": (_ZH_WD_INDEX[m.group("wd")],)}
    off = m.group("off")
    if off and off.startswith("每"):
        values.update(every=True, unit="month")
    elif off:
        values["monthoff"] = 1 if off.startswith("下") else 0
    elif m.group("m"):
        month = _int(m.group("m"))
        if month is None or not 1 <= month <= 12:
            return None
        values["month"] = (None, month)
    elif not p.every:
        values["monthoff"] = 0
    else:
        values["unit"] = "month"
    return _put(p, **values)


@_component(
    "nth_ru",
    rf"(?:(?:в|во)\s+)?(?P<n>{when_ru.NTH_PATTERN})\s+(?P<wd>{_WD_RU}){_B}"
    rf"(?:\s+(?:(?P<next>следующего)\s+|(?:этого|текущего)\s+|(?P<every>каждого)\s+)?месяца"
    rf"|\s+(?P<m>{_MONTH_RU}))?{_B}",
)
def _nth_ru(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = m.group("n")
    nth = next(v for k, v in when_ru.NTH.items() if word.startswith(k))
    values: dict[str, Any] = {"nth": nth, "days": (_RU_WD_INDEX[m.group("wd")[:2]],)}
    text = m.group(0)
    if m.group("every") or (p.every and "месяца" in text):
        values.update(every=True, unit="month")
    elif m.group("next"):
        values["monthoff"] = 1
    elif m.group("m"):
        month = _RU_MONTHS.get(m.group("m")[:3])
        if month is None:
            return None
        values["month"] = (None, month)
    elif "месяца" in text:
        values["monthoff"] = 0
    elif not p.every:
        return None
    return _put(p, **values)


# ---- a month named without a day: "last friday of december", "last day of february"


@_component(
    "of_month",
    rf"(?:of|in)\s+(?P<m>{_MONTH_EN})(?:,?\s+(?P<y>\d{{4}}))?{_B}",
)
def _of_month(m: re.Match[str], p: _Parts) -> _Parts | None:
    year = int(m.group("y")) if m.group("y") else None
    return _put(p, month=(year, _month_number(m.group("m"))))


@_component(
    "end_of_month",
    r"(?:at\s+|by\s+)?(?:the\s+)?end\s+of\s+(?:(?P<this>the|this)\s+|(?P<next>next)\s+)?month"
    r"|(?:в\s+)?конц[еау]\s+(?:(?P<next2>следующего)\s+|этого\s+)?месяца"
    r"|(?:at\s+|by\s+)?(?:the\s+)?(?P<start>beginning|start|middle)\s+of\s+"
    r"(?:(?:the|this)\s+|(?P<next3>next)\s+)?month|(?P<mid>mid-?month)"
    r"|(?:в\s+)?(?P<start2>начал[еоа]|середин[еау])\s+(?:(?P<next4>следующего)\s+|этого\s+)?месяца"
    + _B
    + r"|(?P<off>下个?|本|这个?)?月(?P<start3>初|中)",
)
def _end_of_month(m: re.Match[str], p: _Parts) -> _Parts | None:
    """The end, beginning or middle of a month: its last day, the 1st, the 15th."""
    word = m.group("start") or m.group("start2") or m.group("start3") or m.group("mid") or ""
    day = 15 if word.startswith(("middle", "mid", "серед", "中")) else 1 if word else -1
    values: dict[str, Any] = {"monthday": day}
    said_next = any(m.group(g) for g in ("next", "next2", "next3", "next4"))
    if said_next or (m.group("off") or "").startswith("下"):
        values["monthoff"] = 1
    return _put(p, **values)


# ---- counted weekdays and fortnightly rules

_COUNT_EN = rf"\d{{1,2}}|{_alternation({k: v for k, v in when_en.NUMBERS.items() if v <= 10})}"


@_component(
    "count_weekday",
    rf"(?P<n>{_COUNT_EN})\s+(?P<wd>{_WD_EN}){_B}\s+(?:from\s+(?:now|today)|later|hence|on)" + _B,
)
def _count_weekday(m: re.Match[str], p: _Parts) -> _Parts | None:
    n = _int(m.group("n"))
    if n is None or not 1 <= n <= 260:
        return None
    return _put(p, count=n, days=(_EN_WD_INDEX[m.group("wd")[:3]],))


@_component(
    "every_other",
    r"(?:every|each)\s+(?:other|second|2nd|alternate)(?=\s)"
    r"|(?:fortnightly|biweekly|bi-weekly|every\s+fortnight)" + _B,
)
def _every_other(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, every=True, interval=2, unit="week")


@_component(
    "ru_raz_v",
    rf"раз\s+в\s+(?:(?P<n>{_NUM_RU})\s+)?(?P<u>недел[юи]|дн(?:я|ей)|день|сутки|месяц(?:а|ев)?)"
    + _B,
)
def _ru_raz_v(m: re.Match[str], p: _Parts) -> _Parts | None:
    n = _int(m.group("n")) if m.group("n") else 1
    if n is None or not 1 <= n <= 365:
        return None
    word = m.group("u")
    unit = "week" if word.startswith("нед") else "month" if word.startswith("мес") else "day"
    return _put(p, every=True, interval=n if n > 1 else None, unit=unit)


@_component(
    "every_gap_zh", r"每隔(?P<n>[一两二三四五六七八九十]|\d{1,2})个?(?P<u>天|周|星期|礼拜|月)"
)
def _every_gap_zh(m: re.Match[str], p: _Parts) -> _Parts | None:
    n = _int(m.group("n"))
    if n is None or not 1 <= n <= 364:
        return None
    unit = {"天": "day", "月": "month"}.get(m.group("u"), "week")
    return _put(p, every=True, interval=n + 1, unit=unit)


# ---- "same time tomorrow", "a week from tomorrow", "tonight 10"


@_component(
    "same_time",
    r"(?:at\s+)?(?:the\s+)?(?:same|this)\s+time(?![a-z])|в\s+(?:это|то\s+же)\s+(?:же\s+)?время"
    r"|这个时候|这个时间|同一时间|同一个时间",
)
def _same_time(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, same=True)


@_component(
    "rel_from",
    rf"(?P<body>{_REL_PART_EN})\s+from\s+(?:(?P<tomorrow>tomorrow)|(?P<today>today)"
    rf"|(?:next\s+)?(?P<wd>{_WD_EN}){_B})",
)
def _rel_from(m: re.Match[str], p: _Parts) -> _Parts | None:
    amounts = _rel_amounts(m.group("body"), _REL_PART_EN)
    if amounts is None or len(amounts) != 1:
        return None
    amount, unit = amounts[0]
    if amount != int(amount) or unit not in ("day", "week"):
        return None
    days = int(amount) * (7 if unit == "week" else 1)
    if m.group("wd"):
        if unit != "week" or m.group(0).count("next"):
            return None  # "3 days from monday": say the day
        return _put(p, days=(_EN_WD_INDEX[m.group("wd")[:3]],), count=days // 7 + 1)
    return _put(p, offset=days + (1 if m.group("tomorrow") else 0))


#: The hours that make sense after a part of the day said first ("tonight 10", "утром 8").
_PART_HOURS: Final[dict[str, range]] = {
    "morning": range(4, 13),
    "afternoon": range(1, 7),
    "evening": range(5, 13),
    "night": range(8, 13),
}


@_component("part_hour", rf"(?P<h>{_HOUR_EN}|{_HOUR_RU}){_B}(?![:.]\d)")
def _part_hour(m: re.Match[str], p: _Parts) -> _Parts | None:
    hour = _int(m.group("h"))
    coarse = _coarse(p.part)
    if hour is None or p.hour is not None or coarse not in _PART_HOURS:
        return None
    if hour not in _PART_HOURS[coarse]:
        return None  # "tonight 2 volunteers" is not 14:00
    return _put(p, hour=hour, minute=0)


# ---- the past, said as such: "7 days ago", "два дня назад", "三天前"


@_component(
    "ago",
    rf"(?P<just>just\s+now|a\s+moment\s+ago|刚才|刚刚|только\s+что)"
    rf"|(?P<en>{_REL_PART_EN}(?:\s+{_REL_PART_EN})*)\s+(?:ago|back|before\s+now)"
    rf"|(?P<ru>(?:{_REL_PART_RU})(?:\s+{_REL_PART_RU})*)\s+назад"
    rf"|(?P<zh>(?:{_REL_PART_ZH})+)(?:以前|之前|前)",
)
def _ago(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("just"):
        return _put(p, rel=((-1.0, "second"),))
    body, part = next(
        (m.group(g), pat)
        for g, pat in (("en", _REL_PART_EN), ("ru", _REL_PART_RU), ("zh", _REL_PART_ZH))
        if m.group(g)
    )
    amounts = _rel_amounts(body, part)
    if amounts is None:
        return None
    return _put(p, rel=tuple((-amount, unit) for amount, unit in amounts))


# ---- a zone after (or before) the time


@_component("zone", rf"(?:in\s+)?(?P<z>{when_zones.PATTERN})")
def _zone(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, zone=re.sub(r"\s+", " ", m.group("z")))


# ---- parts of the day

_PARTS: Final[dict[str, str]] = {
    "morning": "morning",
    "in the morning": "morning",
    "afternoon": "afternoon",
    "in the afternoon": "afternoon",
    "evening": "evening",
    "in the evening": "evening",
    "night": "night",
    "at night": "night",
    "noon": "noon",
    "at noon": "noon",
    "midday": "noon",
    "at midday": "noon",
    "midnight": "midnight",
    "at midnight": "midnight",
    "lunch": "lunch",
    "at lunch": "lunch",
    "in the am": "morning",
    "in the pm": "afternoon",
    "mid-day": "noon",
    "mid day": "noon",
    "early morning": "early_morning",
    "early in the morning": "early_morning",
    "mid-morning": "midmorning",
    "midmorning": "midmorning",
    "early afternoon": "early_afternoon",
    "late afternoon": "late_afternoon",
    "early evening": "early_evening",
    "late evening": "late_evening",
    "late tonight": "late_night",
    "late at night": "late_night",
    "late night": "late_night",
    "end of day": "eod",
    "end of the day": "eod",
    "by the end of the day": "eod",
    "by end of day": "eod",
    "eod": "eod",
    "cob": "eod",
    "close of business": "eod",
    "рано утром": "early_morning",
    "поздно вечером": "late_evening",
    "поздно ночью": "late_night",
    "в конце дня": "eod",
    "к вечеру": "evening",
    "ближе к вечеру": "evening",
    "под вечер": "evening",
    "к утру": "morning",
    "до обеда": "morning",
    "в первой половине дня": "morning",
    "во второй половине дня": "afternoon",
    "first thing": "first_thing",
    "first thing in the morning": "first_thing",
    "до конца дня": "eod",
    "lunchtime": "lunch",
    "lunch time": "lunch",
    "at lunchtime": "lunch",
    "утром": "morning",
    "с утра": "morning",
    "днём": "afternoon",
    "днем": "afternoon",
    "после обеда": "afternoon",
    "вечером": "evening",
    "ночью": "night",
    "в полдень": "noon",
    "в обед": "lunch",
    "полдень": "noon",
    "в полночь": "midnight",
    "полночь": "midnight",
}
_ZH_PARTS: Final[dict[str, str]] = {
    "早上": "morning",
    "早晨": "morning",
    "清晨": "morning",
    "一早": "morning",
    "上午": "morning",
    "中午": "noon",
    "正午": "noon",
    "午间": "noon",
    "下午": "afternoon",
    "午后": "afternoon",
    "傍晚": "dusk",
    "晚上": "evening",
    "晚间": "evening",
    "夜晚": "evening",
    "夜里": "night",
    "夜间": "night",
    "深夜": "night",
    "半夜": "night",
    "午夜": "midnight",
    "凌晨": "early",
}


@_component(
    "part",
    rf"(?:{_alternation(_PARTS)}){_B}|(?:{_alternation(_ZH_PARTS)})"
    rf"|(?P<short>[早晚])(?=\d|[{_ZH_NUMERALS}])",
)
def _part(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("short"):
        return _put(p, part="morning" if m.group("short") == "早" else "evening")
    word = re.sub(r"\s+", " ", m.group(0))
    return _with_part(p, _PARTS.get(word) or _ZH_PARTS[word])


#: Pieces tried before the others at each position: an "nth weekday" must not be read as a
#: day of the month ("the 4th thursday of november" is not "thursday the 4th").
_FIRST: Final = ("now", "nth_en", "nth_zh", "nth_ru", "count_weekday", "ago")
_COMPONENTS.sort(key=lambda item: _FIRST.index(item[0]) if item[0] in _FIRST else len(_FIRST))


# --------------------------------------------------------------------------------------------
# Reading a phrase.

_SEPARATORS = re.compile(r"(?:[\s,、]|的)+")
_TRIM = " \t\n\r,.;:!?。，、；：！？…-–—|"
_TRADITIONAL = str.maketrans(
    {
        "點": "点",
        "號": "号",
        "週": "周",
        "禮": "礼",
        "後": "后",
        "鐘": "钟",
        "時": "时",
        "個": "个",
        "兩": "两",
        "ё": "е",
        "’": "'",
        "`": "'",
    }
)


_ISH = re.compile(
    rf"(?<![a-z])(\d{{1,2}}|{_alternation(_HOUR_WORDS_EN)}|noon|midnight)\s*-?ish(?![a-z])"
)
_SPELLINGS: Final[dict[str, str]] = {**when_en.SPELLINGS, **when_ru.SPELLINGS}
_SPELLING = re.compile(rf"(?<![0-9a-zа-я])(?:{_alternation(_SPELLINGS)})(?![a-zа-я])")
_OCLOCK = re.compile(r"(?<![a-z])o\s?'?\s?clock(?![a-z])")
_UNIT_TIME = re.compile(r"(?<![a-z])((?:minute|hour|day|week|month|year)s?)'?s?\s+time(?![a-z])")


def _normalize(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).lower().translate(_TRADITIONAL)
    value = when_zh.fold(value)
    if _SPELLING.search(value):
        value = _SPELLING.sub(lambda m: _SPELLINGS[m.group(0)], value)
    if "ish" in value:
        value = _ISH.sub(  # "6ish" is 6 o'clock, give or take; "noonish" is noon
            lambda m: m.group(1) if m.group(1) in ("noon", "midnight") else m.group(1) + " o'clock",
            value,
        )
    if "clock" in value:
        value = _OCLOCK.sub("o'clock", value)
    if "time" in value:
        value = _UNIT_TIME.sub(r"\1", value)  # "in 2 days' time" is in 2 days
    value = re.sub(r"\s+", " ", value)
    return value.strip(_TRIM)


def _readings(text: str) -> Iterator[_Parts]:
    """Every way the grammar reads the whole of ``text`` (normalized), best first."""
    limit = len(text)

    def walk(pos: int, parts: _Parts, depth: int) -> Iterator[_Parts]:
        gap = _SEPARATORS.match(text, pos)
        if gap:
            pos = gap.end()
        if pos >= limit:
            yield parts
            return
        if depth >= 12:
            return
        for name, pattern, handler in _COMPONENTS:
            found = pattern.match(text, pos)
            if found is None or found.end() <= pos:
                continue
            if name == "filler":
                after = _SEPARATORS.match(text, found.end())
                if (after.end() if after else found.end()) >= limit:
                    continue  # "tomorrow at" is not a phrase: a filler never ends one
            following = handler(found, parts)
            if following is not None:
                yield from walk(found.end(), following, depth + 1)

    if text:
        yield from walk(0, _Parts(), 0)


# --------------------------------------------------------------------------------------------
# Placing a reading on the calendar.


@dataclass(frozen=True, slots=True)
class _Context:
    zone: ZoneInfo
    now: datetime  # aware, in zone
    text: str  # for error messages
    named: tzinfo | None = None  # a zone named in the phrase: wall times are read there

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def wall(self) -> tzinfo:
        """The zone of the wall times said: the one named ("9h UTC"), else the group's."""
        return self.named or self.zone

    def fail(self, key: str) -> DomainError:
        return DomainError(key, text=self.text)


class _NotUnderstood(Exception):
    """This reading does not hold together (two dates, 'every' alone...): try another."""


def _localize(naive: datetime, zone: tzinfo) -> datetime:
    """Attach ``zone``: a wall time in a gap moves forward by the gap, an ambiguous one is the
    first (fold=0)."""
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


def _after(a: datetime, b: datetime) -> bool:
    """a > b in absolute time (same-zone comparisons in Python ignore fold and offsets)."""
    return a.astimezone(UTC) > b.astimezone(UTC)


def _hour_of(hour: int, period: str | None) -> int | None:
    """The 0-24 hour of ``hour`` said with ``period`` (am/pm or a part of the day)."""
    if period is None:
        return hour
    if period == "am":
        return 0 if hour == 12 else hour if 1 <= hour <= 11 else None
    if period == "pm":
        return 12 if hour == 12 else hour + 12 if 1 <= hour <= 11 else None
    if period in ("morning", "early"):
        return hour if 0 <= hour <= 12 else None
    if period in ("noon", "lunch"):
        return hour if hour in (11, 12) else hour + 12 if 1 <= hour <= 5 else None
    if period == "afternoon":
        return hour + 12 if 1 <= hour <= 11 else hour if 12 <= hour <= 23 else None
    if period in ("evening", "dusk"):
        if 1 <= hour <= 11:
            return hour + 12
        return 24 if hour in (12, 24) else hour if 13 <= hour <= 23 else None
    if period == "night":
        if 0 <= hour <= 5:
            return hour
        if 6 <= hour <= 11:
            return hour + 12
        return 24 if hour in (12, 24) else hour if 13 <= hour <= 23 else None
    if period == "midnight":
        return 24 if hour in (0, 12, 24) else None
    return None


#: Finer parts of the day: (the part whose hours they use, their hour when none is said).
_FINE_PARTS: Final[dict[str, tuple[str, int]]] = {
    "early_morning": ("morning", 7),
    "midmorning": ("morning", 10),
    "early_afternoon": ("afternoon", 13),
    "late_afternoon": ("afternoon", 17),
    "early_evening": ("evening", 18),
    "late_evening": ("evening", 21),
    "late_night": ("night", 23),
    "eod": ("afternoon", 17),
    "first_thing": ("morning", 8),
}


def _coarse(part: str | None) -> str | None:
    return _FINE_PARTS[part][0] if part in _FINE_PARTS else part


_PART_DEFAULTS: Final[dict[str, int]] = {
    **{name: hour for name, (_part, hour) in _FINE_PARTS.items()},
    "morning": 9,
    "noon": 12,
    "lunch": 13,
    "afternoon": 15,
    "dusk": 18,
    "evening": 19,
    "night": 22,
    "midnight": 24,
}


def _clock(p: _Parts) -> tuple[int, int, bool]:
    """(hour 0-24, minute, said) — 09:00 when nothing was said."""
    if p.hour is not None:
        hour = _hour_of(p.hour, p.ampm or _coarse(p.part))
        if hour is None:
            raise _NotUnderstood
        return hour, p.minute or 0, True
    if p.part is not None:
        if p.part not in _PART_DEFAULTS:
            raise _NotUnderstood
        return _PART_DEFAULTS[p.part], 0, True
    return 9, 0, False


def _at(day: date, hour: int, minute: int, zone: tzinfo) -> datetime:
    if hour == 24:
        day, hour = day + timedelta(days=1), 0
    return _localize(datetime.combine(day, time(hour, minute)), zone)


def _night_shift(p: _Parts, hour: int) -> int:
    """Days to add when a named day's night/evening hour is after midnight (сегодня в 2 ночи)."""
    return 1 if _coarse(p.part) in ("evening", "night") and hour < 6 else 0


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_day(year: int, month: int, day: int) -> date | None:
    """The ``day`` of a month (-1 = its last day), None when that month has no such day."""
    if day == -1:
        return date(year, month, 1) + relativedelta(day=31)  # type: ignore[no-any-return]
    return _valid(year, month, day)


_EMPTY: Final = _Parts()


def _limit(c: _Context) -> datetime:
    naive = c.now.replace(tzinfo=None) + relativedelta(years=_MAX_YEARS)
    return _localize(naive, c.zone)


def _named_zone(p: _Parts, c: _Context) -> _Context:
    """``c`` with the zone the phrase names ("at 8 am CET"); a DomainError ``when.ambiguous_zone``
    when the abbreviation names several zones and the group's own zone is none of them."""
    if p.zone is None:
        return c
    found = re.fullmatch(when_zones.PATTERN, p.zone)
    if found is None:  # pragma: no cover - the grammar matched it
        raise _NotUnderstood
    zone = when_zones.resolve(found, c.zone.key)
    if isinstance(zone, tuple):
        if not zone:
            raise _NotUnderstood  # "UTC+25"
        choices = ", ".join(
            f"{name} (UTC{c.now.astimezone(ZoneInfo(name)).strftime('%z')[:3]}"
            f":{c.now.astimezone(ZoneInfo(name)).strftime('%z')[3:]})"
            for name in zone
        )
        raise DomainError("when.ambiguous_zone", text=c.text, abbr=p.zone.upper(), zones=choices)
    return replace(c, named=zone)


def _resolve(p: _Parts, c: _Context) -> When:
    if p == _EMPTY or p == _Parts(zone=p.zone):
        raise _NotUnderstood
    if p.now:
        if p != _Parts(now=True):
            raise _NotUnderstood
        return When(first=c.now.replace(microsecond=0) + timedelta(seconds=1))
    if p.same:
        if p.hour is not None or p.part is not None or p.rel is not None:
            raise _NotUnderstood
        if p.offset is None and p.days is None and p.ymd is None and p.monthday is None:
            raise _NotUnderstood  # "same time" alone: of which day?
        p = replace(p, hour=c.now.hour, minute=c.now.minute, same=None)
    if p.yearoff is not None:
        if p.ymd is None or p.every:
            raise _NotUnderstood
        p = replace(p, ymd=(c.today.year + p.yearoff, p.ymd[1], p.ymd[2]), yearoff=None)
    if p.zone is not None:
        if p.every or p.rel is not None or (p.hour is None and p.part is None):
            raise _NotUnderstood  # a zone belongs to a time of day said once
        c = _named_zone(p, c)
    if p.every:
        return _resolve_recurring(p, c)
    if p.unit is not None or p.interval is not None:
        raise _NotUnderstood
    if p.rel is not None:
        return _resolve_relative(p, c)
    hour, minute, _said = _clock(p)
    if p.days is not None and len(p.days) != 1:
        raise _NotUnderstood
    if p.count is not None or p.nth is not None:
        return _checked(_resolve_counted(p, c, hour, minute), None, c)
    if p.month is not None:
        if p.monthday is None or p.ymd is not None or p.monthoff is not None:
            raise _NotUnderstood
        p = replace(p, ymd=(p.month[0], p.month[1], p.monthday), monthday=None, month=None)
    if p.weekmod is not None and p.days is None:
        raise _NotUnderstood
    if p.monthoff is not None and p.monthday is None:
        raise _NotUnderstood
    named = [x is not None for x in (p.offset, p.ymd, p.monthday)]
    if sum(named) > 1:
        raise _NotUnderstood
    if p.days is not None:
        first = _resolve_weekday(p, c, hour, minute)
    elif p.offset is not None:
        day = c.today + timedelta(days=p.offset + _night_shift(p, hour))
        first = _at(day, hour, minute, c.wall)
    elif p.ymd is not None:
        first = _resolve_date(p, c, p.ymd, hour, minute)
    elif p.monthday is not None:
        first = _resolve_monthday(p, c, p.monthday, hour, minute)
    else:
        first = _at(c.today, hour, minute, c.wall)
        if not _after(first, c.now):
            first = _at(c.today + timedelta(days=1), hour, minute, c.wall)
    return _checked(first, None, c)


def _checked(first: datetime, rule: str | None, c: _Context) -> When:
    first = first.astimezone(c.zone)
    if not _after(first, c.now):
        raise c.fail("when.past")
    if _after(first, _limit(c)):
        raise c.fail("when.too_far")
    return When(first=first, rrule=rule)


def _resolve_weekday(p: _Parts, c: _Context, hour: int, minute: int) -> datetime:
    assert p.days is not None
    weekday = p.days[0]
    mode = p.mode
    if p.weekmod is not None:
        if mode not in (None, p.weekmod):
            raise _NotUnderstood
        mode = p.weekmod
    shift = _night_shift(p, hour)
    monday = c.today - timedelta(days=c.today.weekday())
    if (p.ymd is not None and p.ymd[0] is None) or (p.monthday is not None and p.monthoff is None):
        # "Sat 14th", "Fri, Jan 9": the next such date that falls on that weekday
        if mode is not None:
            raise _NotUnderstood
        return _weekday_date(p, c, weekday, hour, minute)
    if p.offset is not None or p.ymd is not None or p.monthday is not None:
        # "tomorrow, saturday", "saturday 28 november 2026", "friday the 27th of next month"
        if mode is not None:
            raise _NotUnderstood
        if p.offset is not None:
            day = c.today + timedelta(days=p.offset)
            first = _at(day + timedelta(days=shift), hour, minute, c.wall)
        else:
            if p.ymd is not None:
                first = _resolve_date(p, c, p.ymd, hour, minute)
            else:
                assert p.monthday is not None
                first = _resolve_monthday(p, c, p.monthday, hour, minute)
            day = first.date() - timedelta(days=shift + (1 if hour == 24 else 0))
        if day.weekday() != weekday:
            raise _NotUnderstood
        return first
    if mode in (None, "next"):
        day = c.today + timedelta(days=(weekday - c.today.weekday()) % 7)
        first = _at(day + timedelta(days=shift), hour, minute, c.wall)
        if not _after(first, c.now):
            first = _at(day + timedelta(days=7 + shift), hour, minute, c.wall)
        return first
    weeks = {"this": 0, "nextweek": 1, "weekafter": 2, "lastweek": -1}[mode]
    day = monday + timedelta(days=7 * weeks + weekday + shift)
    return _at(day, hour, minute, c.wall)


def _weekday_date(p: _Parts, c: _Context, weekday: int, hour: int, minute: int) -> datetime:
    """The first date ahead that is both the day said and the weekday said."""
    shift = timedelta(days=_night_shift(p, hour))
    start = c.today.replace(day=1)
    for ahead in range(12 * _MAX_YEARS + 1):
        month = start + relativedelta(months=ahead)
        if p.ymd is not None and month.month != p.ymd[1]:
            continue
        monthday = p.ymd[2] if p.ymd is not None else p.monthday
        assert monthday is not None
        found = _month_day(month.year, month.month, monthday)
        if found is None or found.weekday() != weekday:
            continue
        first = _at(found + shift, hour, minute, c.wall)
        if _after(first, c.now):
            return first
    raise _NotUnderstood


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The ``nth`` (1..5, or -1 for the last) ``weekday`` of a month, None if it has none."""
    if nth == -1:
        last = date(year, month, 1) + relativedelta(day=31)
        return last - timedelta(days=(last.weekday() - weekday) % 7)  # type: ignore[no-any-return]
    first = date(year, month, 1)
    found = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    return found if found.month == month else None


def _resolve_counted(p: _Parts, c: _Context, hour: int, minute: int) -> datetime:
    """ "2 mondays from now" (the 2nd monday ahead) and "the last friday of december"."""
    if p.days is None or any(x is not None for x in (p.offset, p.ymd, p.monthday, p.mode)):
        raise _NotUnderstood
    weekday = p.days[0]
    shift = timedelta(days=_night_shift(p, hour))
    if p.count is not None:
        if p.nth is not None or p.month is not None or p.monthoff is not None or p.weekmod:
            raise _NotUnderstood
        ahead = (weekday - c.today.weekday()) % 7 or 7
        day = c.today + timedelta(days=ahead + 7 * (p.count - 1))
        return _at(day + shift, hour, minute, c.wall)
    assert p.nth is not None
    if p.weekmod is not None:
        raise _NotUnderstood
    start = c.today.replace(day=1)
    if p.monthoff is not None and p.month is None:
        month = start + relativedelta(months=p.monthoff)
        found = _nth_weekday(month.year, month.month, weekday, p.nth)
        if found is None:
            raise _NotUnderstood
        return _at(found + shift, hour, minute, c.wall)
    if p.month is not None and p.month[0] is not None:
        found = _nth_weekday(p.month[0], p.month[1], weekday, p.nth)
        if found is None:
            raise _NotUnderstood
        return _at(found + shift, hour, minute, c.wall)
    for ahead in range(12 * _MAX_YEARS + 1):
        month = start + relativedelta(months=ahead)
        if p.month is not None and month.month != p.month[1]:
            continue
        found = _nth_weekday(month.year, month.month, weekday, p.nth)
        if found is None:
            continue
        first = _at(found + shift, hour, minute, c.wall)
        if _after(first, c.now):
            return first
    raise _NotUnderstood


def _resolve_date(
    p: _Parts, c: _Context, ymd: tuple[int | None, int, int], hour: int, minute: int
) -> datetime:
    year, month, day = ymd
    shift = timedelta(days=_night_shift(p, hour))
    if year is not None:
        found = _month_day(year, month, day) if 1 <= month <= 12 else None
        if found is None:
            raise _NotUnderstood
        if found.year > c.today.year + _MAX_YEARS + 1:
            raise c.fail("when.too_far")
        if found < c.today - timedelta(days=2):
            raise c.fail("when.past")
        return _at(found + shift, hour, minute, c.wall)
    if not 1 <= month <= 12 or _month_day(2024, month, day) is None:  # 2024: Feb 29 exists
        raise _NotUnderstood
    for candidate_year in range(c.today.year, c.today.year + 9):
        found = _month_day(candidate_year, month, day)
        if found is not None and found >= c.today:
            return _at(found + shift, hour, minute, c.wall)
    raise _NotUnderstood  # pragma: no cover - a leap year comes within 8 years


def _resolve_monthday(p: _Parts, c: _Context, monthday: int, hour: int, minute: int) -> datetime:
    if not (monthday == -1 or 1 <= monthday <= 31):
        raise _NotUnderstood
    shift = timedelta(days=_night_shift(p, hour))
    start = c.today.replace(day=1)
    if p.monthoff is not None:
        month = start + relativedelta(months=p.monthoff)
        found = _month_day(month.year, month.month, monthday)
        if found is None:
            raise _NotUnderstood
        return _at(found + shift, hour, minute, c.wall)
    for ahead in range(13):
        month = start + relativedelta(months=ahead)
        found = _month_day(month.year, month.month, monthday)
        if found is None:
            continue
        first = _at(found + shift, hour, minute, c.wall)
        if _after(first, c.now):
            return first
    raise _NotUnderstood  # pragma: no cover


def _resolve_relative(p: _Parts, c: _Context) -> When:
    if any(x is not None for x in (p.offset, p.ymd, p.monthday, p.days, p.monthoff, p.weekmod)):
        raise _NotUnderstood
    assert p.rel is not None
    if all(amount < 0 for amount, _unit in p.rel):
        if p.hour is not None or p.part is not None:
            raise _NotUnderstood
        raise c.fail("when.past")  # "7 days ago": understood, and over
    calendar = relativedelta()
    elapsed = timedelta()
    try:
        for amount, unit in p.rel:
            if amount <= 0:
                raise _NotUnderstood
            if unit in ("second", "minute", "hour") or (unit == "day" and amount != int(amount)):
                elapsed += timedelta(**{unit + "s": amount})
            elif amount != int(amount):
                raise _NotUnderstood
            else:
                calendar += relativedelta(**{unit + "s": int(amount)})
        local = c.now.replace(tzinfo=None)
        if p.hour is not None or p.part is not None:
            # "in 3 days at 9:00": a day from the offset, the time as said
            if elapsed or not calendar:
                raise _NotUnderstood
            hour, minute, _said = _clock(p)
            day = (local + calendar).date() + timedelta(days=_night_shift(p, hour))
            first = _at(day, hour, minute, c.zone)
        else:
            if calendar:  # days, weeks, months keep the wall time (to the minute)
                base = _localize((local + calendar).replace(second=0, microsecond=0), c.zone)
            else:
                base = c.now.replace(microsecond=0)
            first = (base.astimezone(UTC) + elapsed).astimezone(c.zone)  # hours: elapsed time
    except (OverflowError, ValueError) as error:
        raise c.fail("when.too_far") from error
    if not _after(first, c.now):
        raise _NotUnderstood
    return _checked(first, None, c)


def _resolve_recurring(p: _Parts, c: _Context) -> When:
    if any(x is not None for x in (p.rel, p.offset, p.monthoff, p.weekmod, p.count, p.zone)):
        raise _NotUnderstood
    if p.mode not in (None, "next"):
        raise _NotUnderstood
    hour, minute, said = _clock(p)
    hour %= 24
    today = c.today
    if p.nth is not None:
        if p.days is None or len(p.days) != 1 or p.monthday is not None or p.ymd is not None:
            raise _NotUnderstood
        byday = f"BYDAY={p.nth}{_WEEKDAY_CODES[p.days[0]]}"
        if p.month is not None:
            if p.month[0] is not None or p.unit not in (None, "year") or p.interval is not None:
                raise _NotUnderstood
            rule = f"FREQ=YEARLY;BYMONTH={p.month[1]};{byday}"
        elif p.unit in (None, "month"):
            rule = f"FREQ=MONTHLY;{byday}"
        else:
            raise _NotUnderstood
    elif p.month is not None:
        if p.monthday is None or p.month[0] is not None or p.interval is not None:
            raise _NotUnderstood
        rule = f"FREQ=YEARLY;BYMONTH={p.month[1]};BYMONTHDAY={p.monthday}"
    elif p.days is not None:
        if p.unit not in (None, "week") or p.monthday is not None or p.ymd is not None:
            raise _NotUnderstood
        rule = "FREQ=WEEKLY;BYDAY=" + ",".join(_WEEKDAY_CODES[d] for d in p.days)
    elif p.monthday is not None:
        if p.unit not in (None, "month") or p.ymd is not None or p.interval is not None:
            raise _NotUnderstood
        if not (p.monthday == -1 or 1 <= p.monthday <= 31):
            raise _NotUnderstood
        rule = f"FREQ=MONTHLY;BYMONTHDAY={p.monthday}"
    elif p.ymd is not None:
        year, month, day = p.ymd
        if p.unit not in (None, "year") or year is not None or p.interval is not None:
            raise _NotUnderstood
        if _valid(2024, month, day) is None:
            raise _NotUnderstood
        rule = f"FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={day}"
    elif p.unit == "day" or (p.unit is None and said):
        rule = "FREQ=DAILY"
    elif p.unit == "week":
        rule = f"FREQ=WEEKLY;BYDAY={_WEEKDAY_CODES[today.weekday()]}"
    elif p.unit == "month" and p.interval is None:
        rule = f"FREQ=MONTHLY;BYMONTHDAY={today.day}"
    elif p.unit == "year" and p.interval is None:
        rule = f"FREQ=YEARLY;BYMONTH={today.month};BYMONTHDAY={today.day}"
    else:
        raise _NotUnderstood
    start = datetime.combine(today, time(hour, minute))
    if p.interval is not None:
        if rule.startswith("FREQ=WEEKLY") or rule.startswith("FREQ=MONTHLY;BYDAY"):
            # "every 2 weeks on monday": the series starts at the first monday ahead, not at
            # today's week (which would put the first a fortnight away)
            ahead = _next_occurrence(rule, start, c.now, c.zone)
            if ahead is None:
                raise _NotUnderstood
            start = ahead.replace(tzinfo=None)
            start = datetime.combine(start.date(), time(hour, minute))
        rule += f";INTERVAL={p.interval}"
    first = _next_occurrence(rule, start, c.now, c.zone)
    if first is None:
        raise _NotUnderstood
    if first.replace(tzinfo=None).time() != time(hour, minute):
        rule += f";BYHOUR={hour};BYMINUTE={minute}"  # a DST gap moved the first one
    return _checked(first, rule, c)


def _next_occurrence(
    rule: str, dtstart: datetime, after: datetime, zone: tzinfo
) -> datetime | None:
    """The first occurrence of ``rule`` (naive local ``dtstart``) strictly after ``after``."""
    recurrence = rrulestr(rule, dtstart=dtstart)
    local_after = after.astimezone(zone).replace(tzinfo=None)
    begin = max(dtstart, local_after - timedelta(days=1))
    for count, naive in enumerate(recurrence.xafter(begin, inc=True)):
        candidate = _localize(naive, zone)
        if _after(candidate, after):
            return candidate
        if count > 1000:
            break
    return None


# --------------------------------------------------------------------------------------------
# dateparser, second.

_NO_DATEPARSER = re.compile(
    r"\d\s*[/.\-]\s*\d|every|each|daily|weekly|monthly|кажд|ежедн|еженед|ежемес|по\s+будн|每|天天"
    r"|(?:next|this)\s+week|недел|[下本这上]个?(?:周|星期|礼拜)"
)
_DATEPARSER_PERIODS: Final = frozenset({"time", "day", "part_of_day"})
#: Bare numbers ("9 noon": September 21st?) and month names ("dec noon": December 21st?) are
#: where dateparser fills in what was not said from the base date: the grammar owns them.
_NUMBER_OR_MONTH = re.compile(
    rf"(?<![0-9a-zа-я:])\d+(?:st|nd|rd|th|-?[а-я]{{1,3}})?(?![0-9a-zа-я:.])"
    rf"|(?<![a-zа-я]){_MONTH_EN}{_B}|(?<![a-zа-я]){_MONTH_RU}{_B}|月"
)
#: "3 days", "2h", "19h" alone: a duration or a time of day? Refused, not guessed.
_BARE_DURATION = re.compile(rf"{_REL_PART_EN}|{_REL_PART_RU}|(?:{_REL_PART_ZH})+")


@lru_cache(maxsize=1)
def _dateparser() -> Any:
    import dateparser.date  # about 1 s cold: only when first needed (or by warm())

    return dateparser.date.DateDataParser


def _dateparser_languages(lang: str) -> list[str]:
    order = [lang] + [x for x in _LANGS if x != lang] if lang in _LANGS else list(_LANGS)
    return [_DATEPARSER_CODES[x] for x in order]


def _dateparser_read(text: str, lang: str, base: datetime) -> tuple[datetime, str] | None:
    """dateparser's raw (datetime, period) for ``text`` against a naive local base, or None."""
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": base,
        "RETURN_TIME_AS_PERIOD": True,
    }
    try:
        parser = _dateparser()(languages=_dateparser_languages(lang), settings=settings)
        data = parser.get_date_data(text)
    except Exception:  # dateparser has its own bugs on odd input: treat as not understood
        return None
    found, period = data.date_obj, data.period
    if not isinstance(found, datetime) or period not in _DATEPARSER_PERIODS:
        return None
    return found, str(period)


#: Words whose removal may leave dateparser's answer unchanged without making it suspect.
_FILLERS: Final = frozenset(
    {"at", "on", "the", "of", "in", "by", "around", "about", "and", ",", "@",
     "в", "во", "на", "к", "около", "и", "в.", "在", "于", "的"}
)  # fmt: skip


#: A word for that test: a run of non-space characters, or one CJK character.
_WORDS = re.compile(r"[\u3000-\u9fff\uf900-\ufaff]|[^\s\u3000-\u9fff\uf900-\ufaff]+")


def _word_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the words of ``text``; Chinese has no spaces, so one and two characters."""
    spans: list[tuple[int, int]] = []
    words = list(_WORDS.finditer(text))
    for i, word in enumerate(words):
        if word.group(0) in _FILLERS:
            continue
        spans.append(word.span())
        if _is_cjk(word.group(0)) and i + 1 < len(words):
            following = words[i + 1]
            if following.start() == word.end() and _is_cjk(following.group(0)):
                spans.append((word.start(), following.end()))
    return spans


def _ignores_a_word(text: str, lang: str, base: datetime, found: tuple[datetime, str]) -> bool:
    """True when dropping one word (not a filler) leaves dateparser's answer unchanged: it
    skipped that word ("tomorrow week" read as tomorrow), so it did not understand the phrase."""
    if len(_WORDS.findall(text)) < 2:
        return False
    for start, end in _word_spans(text):
        shorter = " ".join((text[:start] + text[end:]).split())
        if not shorter:
            continue
        again = _dateparser_read(shorter, lang, base)
        if again is not None and again[0] == found[0]:
            return True
    return False


def _starts_like_time(text: str) -> bool:
    """Whether the grammar reads at least the first piece of ``text`` (normalized).

    dateparser is asked only then: "take the bins out" or 倒垃圾 start with nothing the grammar
    knows, and asking dateparser about them (once per word, see :func:`_ignores_a_word`) was the
    slowest thing the parser did (5-9 ms) for an answer that was always "no"."""
    gap = _SEPARATORS.match(text)
    pos = gap.end() if gap else 0
    for _name, pattern, handler in _COMPONENTS:
        found = pattern.match(text, pos)
        if found is not None and found.end() > pos and handler(found, _EMPTY) is not None:
            return True
    return False


def _by_dateparser(text: str, lang: str, c: _Context) -> When | None:
    """dateparser's reading of a (normalized) phrase the grammar does not know, or None.

    Refused without asking: long text, no letters, a start the grammar does not know at all
    ("take the bins out"), recurrence words (dateparser would drop the
    recurrence), numeric dates (the grammar owns them: "12/5" stays refused), bare numbers and
    month names (dateparser fills the rest in from today: "dec noon" is December 21st) and
    bare durations ("3 days": a duration or a moment?). Refused after asking: periods other
    than a time or a day ("next week"), and answers that ignore one of the words.
    """
    if len(text) > _TEXT_LIMIT or not any(ch.isalpha() for ch in text):
        return None
    if not _starts_like_time(text):
        return None
    if _NO_DATEPARSER.search(text) or _BARE_DURATION.fullmatch(text):
        return None
    if _NUMBER_OR_MONTH.search(text):
        return None
    base = c.now.replace(tzinfo=None)
    read = _dateparser_read(text, lang, base)
    if read is None or _ignores_a_word(text, lang, base, read):
        return None
    found, period = read
    try:
        if found.tzinfo is not None:
            first = found.astimezone(c.zone).replace(microsecond=0)
        else:
            if period == "day":
                found = found.replace(hour=9, minute=0, second=0)
            first = _localize(found.replace(microsecond=0), c.zone)
        return _checked(first, None, c)
    except (OverflowError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# The public functions.


def _context(tz: str, now: datetime, text: str) -> _Context:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    zone = ZoneInfo(tz)
    return _Context(zone=zone, now=now.astimezone(zone), text=text.strip()[:_TEXT_LIMIT])


def _by_grammar(text: str, c: _Context) -> When | DomainError | None:
    """The grammar's reading: a When, a refusal (past, too far), or None (not understood)."""
    for tried, reading in enumerate(_readings(_normalize(text))):
        if tried >= 24:
            break
        try:
            return _resolve(reading, c)
        except _NotUnderstood:
            continue
        except DomainError as error:  # the first reading that holds together decides
            return error
    return None


def _understand(text: str, lang: str, c: _Context, *, fallback: bool) -> When | DomainError | None:
    found = _by_grammar(text, c)
    if found is not None or not fallback:
        return found
    try:
        return _by_dateparser(_normalize(text), lang, c)
    except DomainError as error:
        return error


def parse(text: str, *, lang: str, tz: str, now: datetime) -> When:
    """Read a whole phrase as a moment or a recurrence, strictly after ``now``.

    ``lang`` is the chat's language ("en", "zh_Hans", "ru"): dateparser tries it first, then
    the other two (the grammar knows all three at once). ``tz`` is an IANA zone; ``now`` any
    aware datetime. Raises DomainError ``when.empty``, ``when.unparseable``, ``when.past`` or
    ``when.too_far`` (the last three with ``text``: the input, stripped, cut to 60 characters).
    """
    if not text.strip():
        raise DomainError("when.empty")
    c = _context(tz, now, text)
    found = _understand(text, lang, c, fallback=True)
    if found is None:
        raise c.fail("when.unparseable")
    if isinstance(found, DomainError):
        raise found
    return found


def _is_cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef"


def _cut_points(text: str) -> list[int]:
    """Where a leading time phrase may end: word ends, punctuation, any CJK character edge."""
    cuts: list[int] = []
    for i in range(1, len(text) + 1):
        if i == len(text):
            cuts.append(i)
            continue
        before, after = text[i - 1], text[i]
        if before.isspace():
            continue
        if after.isspace() or after in _TRIM or _is_cjk(before) or _is_cjk(after):
            cuts.append(i)
    return cuts


#: Weekday abbreviations that are also English words: alone, they do not start a reminder
#: ("sat down with...", "sun is out"). "on sat", "sat 9:00" still do.
_LONE_WORDS: Final = frozenset({"sat", "sun", "wed"})
_STOP_WORDS: Final = frozenset(
    {"the", "at", "on", "in", "of", "and", "to", "a", "an", "в", "на", "и", "к", "с", "по"}
)


def _rest(text: str) -> str:
    return text.lstrip(_TRIM + " \u3000").strip()


def _short_enough(head: str) -> bool:
    """Whether dateparser may be asked about a leading span (it ignores some filler words)."""
    words = head.split()
    if not words or len(words) > 6 or sum(1 for ch in head if _is_cjk(ch)) > 12:
        return False
    return words[-1].lower().strip(_TRIM) not in _STOP_WORDS


def split(text: str, *, lang: str, tz: str, now: datetime) -> tuple[When, str]:
    """Split a leading time phrase from the rest of a message.

    With a bar ("every monday 9:00 | Bins go out"), the part before the first bar is the
    phrase and must parse entirely. Otherwise the phrase is the LONGEST leading span that
    parses (cut at words; for Chinese, at characters): the grammar's longest, unless dateparser
    reads a longer one (at most 6 words / 12 characters, not ending in a filler word such as
    "the") as a DIFFERENT moment ("tomorrow at 7pm EST": the zone matters; "tomorrow 9:00 the"
    read as tomorrow 9:00: "the" does not). Weekday abbreviations that are English words
    ("sat", "sun", "wed") do not make a phrase alone. The rest, stripped of leading
    punctuation, must not be empty (``when.no_text``). No leading phrase: ``when.unparseable``
    with the whole input; a phrase that is over: ``when.past``/``when.too_far`` with the phrase.
    """
    if "|" in text:
        head, _, tail = text.partition("|")
        when = parse(head, lang=lang, tz=tz, now=now)
        rest = _rest(tail)
        if not rest:
            raise DomainError("when.no_text")
        return when, rest
    stripped = text.strip()
    if not stripped:
        raise DomainError("when.empty")
    cuts = [
        cut
        for cut in _cut_points(stripped)
        if cut <= _PHRASE_LIMIT and _normalize(stripped[:cut]) not in _LONE_WORDS
    ]
    best: tuple[int, When | DomainError] | None = None
    for cut in reversed(cuts):
        head = stripped[:cut]
        found = _by_grammar(head, _context(tz, now, head))
        if found is not None:
            best = (cut, found)
            break
    if best is None or isinstance(best[1], When):
        for cut in reversed(cuts):
            if best is not None and cut <= best[0]:
                break
            head = stripped[:cut]
            if not _short_enough(head):
                continue
            by_dateparser: When | DomainError | None
            try:
                by_dateparser = _by_dateparser(_normalize(head), lang, _context(tz, now, head))
            except DomainError as error:
                by_dateparser = error
            if by_dateparser is None:
                continue
            if (
                best is not None
                and isinstance(best[1], When)
                and isinstance(by_dateparser, When)
                and by_dateparser.first.astimezone(UTC) == best[1].first.astimezone(UTC)
            ):
                break  # the longer span only added words dateparser skips
            best = (cut, by_dateparser)
            break
    if best is None:
        raise _context(tz, now, stripped).fail("when.unparseable")
    cut, found = best
    if isinstance(found, DomainError):
        raise found
    rest = _rest(stripped[cut:])
    if not rest:
        raise DomainError("when.no_text")
    return found, rest


def next_after(when: When, after: datetime) -> datetime | None:
    """The first occurrence of ``when`` strictly after ``after`` (aware), in ``when.first``'s
    zone, keeping the local wall time across DST; None for a one-off that is not after ``after``.

    Occurrences are computed by dateutil.rrule on naive local times with DTSTART = ``first``,
    then placed in the zone: a wall time in a spring-forward gap moves forward by the gap
    (02:30 -> 03:30 CEST), an ambiguous one (fall-back) is the first (fold=0).
    """
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("after must be an aware datetime")
    if _after(when.first, after):
        return when.first
    if when.rrule is None:
        return None
    zone = when.first.tzinfo
    assert zone is not None
    start = when.first.replace(tzinfo=None)
    return _next_occurrence(when.rrule, start, after, zone)


def understood_by(text: str, *, lang: str, tz: str, now: datetime) -> str | None:
    """Who reads ``text`` as a whole: "grammar", "dateparser" or None (for benchmarks, logs)."""
    if not text.strip():
        return None
    c = _context(tz, now, text)
    if _by_grammar(text, c) is not None:
        return "grammar"
    try:
        found = _by_dateparser(_normalize(text), lang, c)
    except DomainError:
        return "dateparser"
    return None if found is None else "dateparser"


def warm() -> None:
    """Import dateparser and parse once per language, so the first resident does not wait."""
    now = datetime.now(UTC)
    for lang, phrase in (
        ("en", "tomorrow at noon"),
        ("zh_Hans", "明天中午"),
        ("ru", "завтра вечером"),
    ):
        c = _context("UTC", now, phrase)
        _by_grammar(phrase, c)
        with suppress(DomainError):
            _by_dateparser(phrase, lang, c)
