"""The model and the calendar: what a phrase said, and where that falls.

A phrase is read by the grammar's pieces (each language's module registers its own with
:func:`_component`) into :class:`_Parts`: what was said, nothing placed yet. :func:`_resolve`
then puts those parts on the calendar in the group's zone: the rules for the ambiguous cases
(the package's docstring and the README list them) live here, once for every language.

Nothing here knows a word of any language: the words are in ``en.py``, ``zh.py`` and ``ru.py``,
which fill the shared tables below (numbers in words, units of time, the marks after a clock).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

from bot.domain.errors import DomainError
from bot.domain.when import zones

#: Every key :func:`~bot.domain.when.parse` and :func:`~bot.domain.when.split` raise.
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
_WEEKDAY_CODES: Final[tuple[str, ...]] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class When:
    """A moment, or the first of a recurring series.

    ``first`` is aware (tzinfo = ZoneInfo(tz)) and strictly after the ``now`` it was parsed
    against. ``rrule`` is ``None`` or an RFC 5545 RRULE value without DTSTART (DTSTART is
    ``first``; the time of day is ``first``'s local wall time). ``end`` is set when a range was
    said ("4-5pm", "下午四五点", "через 10-15 минут"): the reminder goes at the start, ``first``,
    and the confirmation shows the range up to ``end`` (of the first occurrence).
    """

    first: datetime
    rrule: str | None = None
    end: datetime | None = None


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
    until: tuple[int, int, str | None] | None = None  # the end of "4-5pm": (5, 0, "pm")
    until_rel: tuple[tuple[float, str], ...] | None = None  # the far end of "in 10-15 minutes"


def _put(p: _Parts, **values: Any) -> _Parts | None:
    """``p`` with ``values`` set, or None when one of them contradicts what is already set."""
    for key, value in values.items():
        current = getattr(p, key)
        if current is not None and current != value:
            return None
    return replace(p, **values)


_Handler = Callable[[re.Match[str], _Parts], "_Parts | None"]
_COMPONENTS: list[tuple[str, re.Pattern[str], _Handler]] = []
_NAMES: set[str] = set()

#: The order the pieces are tried in at each position, whatever module registers them: an
#: "nth weekday" must not be read as a day of the month ("the 4th thursday of november" is not
#: "thursday the 4th"), an "every N days" before a bare "every", a date before a time.
_ORDER: Final[tuple[str, ...]] = (
    "now_en", "now_ru", "now_zh", "nth_en", "nth_zh", "nth_ru", "count_weekday",
    "range_en", "range_ru", "range_zh", "range_digits", "in_range_en", "in_range_ru", "in_range_zh",
    "ago_en", "ago_ru", "ago_zh",
    "every_n_en", "every_n_ru", "every_en", "every_ru", "every_zh", "every_n_zh",
    "adverb_en", "adverb_ru", "adverb_zh", "ru_po", "unit_en", "unit_ru", "unit_zh",
    "in_en", "in_ru", "in_zh", "day_en", "day_ru", "day_zh",
    "weekday_en", "weekday_ru", "weekday_zh",
    "weekday_range_en", "weekday_range_ru", "weekday_range_zh",
    "weekmod_en", "weekmod_ru", "weekmod_zh",
    "iso", "dotted", "slashed", "date_en", "date_ru", "date_zh",
    "monthday_en", "monthday_ru", "monthday_zh", "month_ru", "month_en",
    "colon", "h_time", "dot_time", "ampm", "oclock", "half_past",
    "ru_hours", "ru_mod", "ru_v", "ru_chas", "zh_hour",
    "filler_en", "filler_ru", "filler_zh", "post_filler_en", "post_filler_ru", "post_filler_zh",
    "military", "spaced", "word_time", "bare_hour", "bare_hour_ru", "half_hour", "zero_hour",
    "zh_cha", "ru_minutes_of", "ru_bez", "ru_half", "ru_words_time",
    "of_month", "end_of_month_en", "end_of_month_ru", "end_of_month_zh",
    "every_other", "ru_raz_v", "every_gap_zh",
    "same_time_en", "same_time_ru", "same_time_zh", "rel_from", "part_hour",
    "zone", "part_en", "part_ru", "part_zh",
)  # fmt: skip


def _component(name: str, pattern: str) -> Callable[[_Handler], _Handler]:
    """Register a piece of the grammar, tried at each position in the place :data:`_ORDER`
    gives its name."""
    if name not in _ORDER or name in _NAMES:
        raise ValueError(f"grammar piece {name!r}: not in _ORDER, or registered twice")

    def register(handler: _Handler) -> _Handler:
        _NAMES.add(name)
        _COMPONENTS.append((name, re.compile(pattern), handler))
        _COMPONENTS.sort(key=lambda item: _ORDER.index(item[0]))
        return handler

    return register


# --------------------------------------------------------------------------------------------
# What every language's words share.

_B = r"(?![0-9a-zа-я])"  # the end of a Latin/Cyrillic word or of a number
_E = r"(?:(?<![0-9a-zа-я])|(?![0-9a-zа-я]))"  # the same, but anything may follow CJK


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


#: Numbers in words, filled by each language ("seven", "семь"); readers for numbers that are
#: not single words in a table (二十三).
_NUMBER_WORDS: dict[str, float] = {}
_NUMBER_READERS: list[Callable[[str], int | None]] = []


def _add_numbers(words: dict[str, float] | dict[str, int]) -> None:
    """Add a language's numbers in words; a word may mean one number only."""
    for word, value in words.items():
        if _NUMBER_WORDS.get(word, value) != value:
            raise ValueError(f"{word!r} is already {_NUMBER_WORDS[word]}")
        _NUMBER_WORDS[word] = value


def _number(text: str) -> float | None:
    """A number written in digits or in words of any language."""
    token = re.sub(r"\s+", " ", text.strip())
    if re.fullmatch(r"\d+(?:[.,]\d+)?", token):
        return float(token.replace(",", "."))
    if token in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[token])
    for read in _NUMBER_READERS:
        value = read(token)
        if value is not None:
            return float(value)
    return None


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    value = _number(text)
    if value is None or value != int(value):
        return None
    return int(value)


_WORKDAYS: Final = (0, 1, 2, 3, 4)
_WEEKEND: Final = (5, 6)

#: What a word after a clock says of the part of the day ("8 вечера"), filled by the languages;
#: a pattern's group ``mark`` holds it, and a group ``ampm`` holds "a" or "p".
_CLOCK_MARKS: dict[str, str] = {}


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
        values["part"] = _CLOCK_MARKS[re.sub(r"\s+", " ", groups["rumod"])]
    return _put(p, **values)


def _with_part(p: _Parts | None, part: str) -> _Parts | None:
    """``p`` with a part of the day; "midnight" refines "tonight" ("tonight at midnight")."""
    if p is None:
        return None
    if p.part in ("evening", "night") and part == "midnight":
        return replace(p, part=part)
    if p.part == "midnight" and part in ("evening", "night"):
        return p
    return _put(p, part=part)


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


def _unit(m: re.Match[str], p: _Parts) -> _Parts | None:
    """The unit after a recurrence marker: a pattern's named group says which."""
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


def _with_range(
    p: _Parts,
    start: tuple[int | None, int | None, str | None],
    end: tuple[int | None, int | None, str | None],
    m: re.Match[str],
) -> _Parts | None:
    """ "4-5pm", "下午四五点", "в 18–19 часов": the start as the time, the end kept beside it.
    Each end is (hour, minute, "am"/"pm" or None); an end's am/pm is the start's too unless the
    start says its own ("11-1pm" is 11:00 to 13:00)."""
    (h1, m1, a1), (h2, m2, a2) = start, end
    if h1 is None or h2 is None or m1 is None or m2 is None:
        return None
    if not (0 <= h1 <= 24 and 0 <= h2 <= 24 and 0 <= m1 <= 59 and 0 <= m2 <= 59):
        return None
    if (h1, m1, a1) == (h2, m2, a2):
        return None  # "8am to 8pm" is a range, "8 to 8" is not
    if a1 is None:
        a1 = "am" if a2 == "pm" and h2 != 12 and h2 < h1 < 12 else a2
    values: dict[str, Any] = {"hour": h1, "minute": m1, "until": (h2, m2, a2)}
    if a1 is not None:
        values["ampm"] = a1
    mark = m.groupdict().get("rumod")
    if mark:
        values["part"] = _CLOCK_MARKS[re.sub(r"\s+", " ", mark)]
    return _put(p, **values)


def _rel_range(p: _Parts, low: str, high: str, unit_word: str) -> _Parts | None:
    """ "in 10-15 minutes", "через 2-3 дня", "十到十五分钟后": from the nearer end, to the far."""
    a, b, unit = _number(low), _number(high), _unit_name(unit_word)
    if a is None or b is None or unit is None or not 0 < a < b:
        return None
    return _put(p, rel=((a, unit),), until_rel=((b, unit),))


def _every_time(p: _Parts, amount: float, unit: str) -> _Parts | None:
    """ "every 3 hours", "every 1.5 hours", "every 30 minutes": an hourly or minutely rule."""
    minutes = amount * (60 if unit == "hour" else 1)
    if minutes != int(minutes) or minutes < 1:
        return None
    if unit == "hour" and amount == int(amount):
        return _put(p, every=True, interval=int(amount) if amount > 1 else None, unit="hour")
    return _put(p, every=True, interval=int(minutes) if minutes > 1 else None, unit="minute")


def _weekmod(m: re.Match[str], p: _Parts) -> _Parts | None:
    """ "next week", "на этой неделе", "下周" beside a weekday: group after, next or this."""
    groups = m.groupdict()
    if groups.get("after"):
        return _put(p, weekmod="weekafter")
    return _put(p, weekmod="nextweek" if groups.get("next") else "this")


def _filler(m: re.Match[str], p: _Parts) -> _Parts | None:
    return p  # never the last piece (see _readings)


def _post_filler(m: re.Match[str], p: _Parts) -> _Parts | None:
    return p if p.hour is not None or p.rel is not None else None


def _same_time(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, same=True)


def _now(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, now=True)


# --------------------------------------------------------------------------------------------
# Amounts of time ("2 hours 30 minutes", "полтора часа", "两个半小时"), the languages' units.

#: The stems of each unit's names, filled by the languages (a stem of two letters or more
#: also matches longer words: "minutes", "минуты").
_UNIT_STEMS: Final[dict[str, list[str]]] = {
    unit: [] for unit in ("second", "minute", "hour", "day", "week", "fortnight", "month", "year")
}
#: Whole phrases that are an amount of their own ("полчаса", "a quarter of an hour").
_WHOLE_AMOUNTS: dict[str, tuple[float, str]] = {}
#: Words inside an amount: (pattern, what it adds) — "and a half" adds 0.5, "more" nothing.
_AMOUNT_WORDS: list[tuple[re.Pattern[str], float]] = []
#: How an amount splits into (number, half, unit); the default is a word after a number.
_AMOUNT_SPLITS: list[re.Pattern[str]] = []
_AMOUNT_SPLIT: Final = re.compile(r"(.*?)\s*()([a-zа-я.]+)$")


def _unit_name(word: str) -> str | None:
    w = word.rstrip(".")
    for name, stems in _UNIT_STEMS.items():
        for stem in stems:
            if w == stem or (len(stem) > 1 and w.startswith(stem)):
                return name
    return None


def _rel_amounts(body: str, part: str) -> tuple[tuple[float, str], ...] | None:
    found: list[tuple[float, str]] = []
    for piece in re.finditer(part, body):
        text = re.sub(r"\s+", " ", piece.group(0).strip())
        if text in _WHOLE_AMOUNTS:
            found.append(_WHOLE_AMOUNTS[text])
            continue
        half = 0.0
        for pattern, adds in _AMOUNT_WORDS:
            if pattern.search(text):
                text = pattern.sub(" ", text).strip()
                half += adds
        split_at = next(
            (m for m in (s.match(text) for s in _AMOUNT_SPLITS) if m), None
        ) or _AMOUNT_SPLIT.match(text)
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
    found = re.fullmatch(zones.PATTERN, p.zone)
    if found is None:  # pragma: no cover - the grammar matched it
        raise _NotUnderstood
    zone = zones.resolve(found, c.zone.key)
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


#: The longest range of clocks read as one ("9-11pm"); a longer span is two moments.
_RANGE_LIMIT: Final = timedelta(hours=18)


def _resolve(p: _Parts, c: _Context) -> When:
    """A reading placed on the calendar; a range ("4-5pm") at its start, its end kept."""
    if p.until is None and p.until_rel is None:
        return _resolve_start(p, c)
    if p.every and p.unit == "hour" and p.until is not None:
        return _resolve_window(p, c)
    if p.every and p.unit == "minute" and p.until is not None:
        raise _NotUnderstood  # "every 15 minutes from 9 to 5": refused, not run all night
    found = _resolve_start(replace(p, until=None, until_rel=None), c)
    return replace(found, end=_range_end(p, found.first, c))


def _resolve_window(p: _Parts, c: _Context) -> When:
    """ "every 2 hours from 8am to 8pm", "каждые 2 часа с 8 до 20": each day at those hours
    (a daily rule with several BYHOUR), so the night stays quiet and DST keeps the wall times."""
    if p.hour is None or p.until is None or p.zone is not None:
        raise _NotUnderstood
    if any(x is not None for x in (p.days, p.monthday, p.ymd, p.nth, p.month, p.offset, p.rel)):
        raise _NotUnderstood
    first_hour = _hour_of(p.hour, p.ampm or _coarse(p.part))
    said, end_minute, period = p.until
    last_hour = _hour_of(said, period or p.ampm or _coarse(p.part))
    minute = p.minute or 0
    if first_hour is None or last_hour is None or end_minute != minute:
        raise _NotUnderstood
    if last_hour <= first_hour and period is None and p.ampm is None and last_hour < 12:
        last_hour += 12  # "from 8 to 6": until 18:00
    if not 0 <= first_hour < last_hour <= 23:
        raise _NotUnderstood  # a window across midnight: say two
    hours = list(range(first_hour, last_hour + 1, p.interval or 1))
    if len(hours) < 2:
        raise _NotUnderstood
    rule = f"FREQ=DAILY;BYHOUR={','.join(map(str, hours))};BYMINUTE={minute}"
    start = datetime.combine(c.today, time(first_hour, minute))
    first = _next_occurrence(rule, start, c.now, c.zone)
    if first is None:
        raise _NotUnderstood
    return _checked(first, rule, c)


def _range_end(p: _Parts, first: datetime, c: _Context) -> datetime:
    """Where a range that starts at ``first`` ends: the same day's hour said last, read with
    the start's am/pm or part of the day unless it has its own ("11-1pm" is 11:00-13:00)."""
    if p.until_rel is not None:
        end = _resolve_start(replace(p, rel=p.until_rel, until=None, until_rel=None), c).first
    else:
        assert p.until is not None
        said, minute, period = p.until
        hour = _hour_of(said, period or p.ampm or _coarse(p.part))
        if hour is None:
            raise _NotUnderstood
        local = first.astimezone(c.wall).replace(tzinfo=None)
        end = _at(local.date(), hour, minute, c.wall)
        if not _after(end, first) and period is None and p.ampm is None and hour < 12:
            end = _at(local.date(), hour + 12, minute, c.wall)  # "between 11 and 1"
        if not _after(end, first):
            end = _at(local.date() + timedelta(days=1), hour, minute, c.wall)  # "10pm-1am"
    if not _after(end, first):
        raise _NotUnderstood
    if p.until is not None and end.astimezone(UTC) - first.astimezone(UTC) > _RANGE_LIMIT:
        raise _NotUnderstood
    return end.astimezone(c.zone)


def _resolve_start(p: _Parts, c: _Context) -> When:
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
    if p.unit in ("hour", "minute"):
        return _resolve_hourly(p, c)
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
        # A series starts at its first moment ahead: "every 2 weeks on monday" at the first
        # monday ahead, not in today's week (which put the first a fortnight away); "every
        # other day" said at 10:00 tomorrow at 09:00, not the day after
        ahead = _next_occurrence(rule, start, c.now, c.zone)
        if ahead is None:
            raise _NotUnderstood
        start = datetime.combine(ahead.replace(tzinfo=None).date(), time(hour, minute))
        rule += f";INTERVAL={p.interval}"
    first = _next_occurrence(rule, start, c.now, c.zone)
    if first is None:
        raise _NotUnderstood
    if first.replace(tzinfo=None).time() != time(hour, minute):
        rule += f";BYHOUR={hour};BYMINUTE={minute}"  # a DST gap moved the first one
    return _checked(first, rule, c)


#: The longest gap of an hourly or minutely rule: beyond a week, say the days.
_HOURLY_LIMIT: Final = 7 * 24 * 60


def _resolve_hourly(p: _Parts, c: _Context) -> When:
    """ "every 3 hours", "every 30 minutes from 9:00", "每隔两小时", "каждые полчаса".

    Without a time, the series starts now (to the minute) and the first is one step ahead; with
    one ("every 2 hours from 9:00"), the series runs from that time today: the first is the
    next of its steps still ahead. Whether a chat allows such a rule is the feature's rule
    (:func:`bot.domain.posts.check_frequency`), not the parser's."""
    if any(x is not None for x in (p.days, p.monthday, p.ymd, p.nth, p.month)):
        raise _NotUnderstood
    if p.part is not None and p.hour is None:
        raise _NotUnderstood  # "every hour in the morning": which hours?
    minutes = (p.interval or 1) * (60 if p.unit == "hour" else 1)
    if not 1 <= minutes <= _HOURLY_LIMIT:
        raise _NotUnderstood
    if minutes % 60 == 0:
        rule = "FREQ=HOURLY" + (f";INTERVAL={minutes // 60}" if minutes != 60 else "")
    else:
        rule = f"FREQ=MINUTELY;INTERVAL={minutes}"
    if p.hour is not None:
        hour, minute, _said = _clock(p)
        start = _at(c.today, hour, minute, c.wall).astimezone(c.zone).replace(tzinfo=None)
    else:
        start = c.now.replace(second=0, microsecond=0, tzinfo=None)
    first = _next_occurrence(rule, start, c.now, c.zone)
    if first is None:
        raise _NotUnderstood
    return _checked(first, rule, c)


def _steps(rule: str) -> timedelta | None:
    """The step of a plain hourly or minutely rule ("FREQ=HOURLY;INTERVAL=3"), else None."""
    parts = dict(item.split("=", 1) for item in rule.upper().split(";") if "=" in item)
    if set(parts) - {"FREQ", "INTERVAL"} or parts.get("FREQ") not in ("HOURLY", "MINUTELY"):
        return None
    interval = int(parts.get("INTERVAL", "1") or 1)
    return timedelta(minutes=interval * (60 if parts["FREQ"] == "HOURLY" else 1))


def _next_occurrence(
    rule: str, dtstart: datetime, after: datetime, zone: tzinfo
) -> datetime | None:
    """The first occurrence of ``rule`` (naive local ``dtstart``) strictly after ``after``."""
    step = _steps(rule)
    if step is not None:  # counted, not iterated from DTSTART (a 15-minute rule a year old)
        local_after = after.astimezone(zone).replace(tzinfo=None)
        naive = dtstart + step * max(0, (local_after - dtstart) // step - 2)
        for _count in range(1000):
            candidate = _localize(naive, zone)
            if _after(candidate, after):
                return candidate
            naive += step
        return None  # pragma: no cover - a step is at most a week
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
