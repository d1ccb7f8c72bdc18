"""Reminders and scheduled announcements ("posts"): what may be said, and how a recurrence reads.

Pure: the text rules, the pin option, how often a post may repeat, and a structured
description of an RRULE that the catalogs turn into words ("every 2 weeks on Tuesday",
"每隔一周的周三", "каждый первый понедельник месяца").
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from bot.domain.errors import DomainError
from bot.domain.languages import WordSet

#: Room for our own prefix and the late note inside Telegram's 4096 characters.
MAX_TEXT: Final[int] = 3500

PIN_WORDS: Final[frozenset[str]] = WordSet({"pin", "pinned", "置顶", "закрепить", "закреп"})

WEEKDAYS: Final[tuple[str, ...]] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def clean_text(text: str) -> str:
    """The message of a reminder or announcement, or a DomainError."""
    text = text.strip()
    if not text:
        raise DomainError("when.no_text")
    if len(text) > MAX_TEXT:
        raise DomainError("error.text_too_long", limit=MAX_TEXT, length=len(text))
    return text


def split_pin(segments: list[str]) -> tuple[list[str], bool]:
    """Drop a trailing ``pin`` segment of ``/announce <when> | <text> | pin``."""
    if len(segments) >= 3 and segments[-1].strip().lower() in PIN_WORDS:
        return segments[:-1], True
    return segments, False


#: The shortest gap between two posts of one recurring reminder or announcement, in minutes:
#: a group is not flooded (Telegram allows ~20 messages a minute per group, shared by all), a
#: private reminder may nag a little more.
MIN_GAP_GROUP: Final[int] = 60
MIN_GAP_PRIVATE: Final[int] = 15


@dataclass(frozen=True, slots=True)
class Recurrence:
    """How a rule reads. ``kind``: minutely, hourly, daily, weekdays, weekly, monthly (a day of
    the month, ``monthday`` -1 = the last), monthly_nth (``nth`` ``weekdays[0]``: the first
    Monday, -1 = the last), yearly (``month`` and ``monthday``), yearly_nth, or other (a rule
    we do not write; shown as "repeating")."""

    kind: str
    weekdays: tuple[int, ...] = ()  # 0 = Monday
    monthday: int | None = None
    interval: int = 1
    nth: int | None = None
    month: int | None = None
    hours: tuple[int, ...] = ()  # daily at several hours: "every 2 hours from 8am to 8pm"
    minute: int = 0


def _int(text: str | None) -> int | None:
    return int(text) if text is not None and text.lstrip("-").isdigit() else None


def describe(rrule: str) -> Recurrence:
    """The structure of an RRULE as our grammar writes them (a single BYHOUR/BYMINUTE, which
    only keeps a DST-moved time, is ignored; several BYHOUR are a day's hours); anything else
    is ``other``."""
    parts = dict(p.split("=", 1) for p in rrule.upper().split(";") if "=" in p)
    freq = parts.pop("FREQ", None)
    interval = _int(parts.pop("INTERVAL", "1")) or 1
    hours = tuple(h for h in map(_int, parts.pop("BYHOUR", "").split(",")) if h is not None)
    minute = _int(parts.pop("BYMINUTE", "0")) or 0
    if len(hours) > 1:  # several hours a day (one alone only keeps a DST-moved time)
        if freq != "DAILY" or parts or interval != 1 or any(not 0 <= h <= 23 for h in hours):
            return Recurrence("other", interval=interval)
        return Recurrence("daily", hours=tuple(sorted(set(hours))), minute=minute)
    byday = [d for d in parts.pop("BYDAY", "").split(",") if d]
    days = tuple(WEEKDAYS.index(d[-2:]) for d in byday if d[-2:] in WEEKDAYS)
    nths = {_int(d[:-2]) for d in byday if d[:-2]}
    monthday = _int(parts.pop("BYMONTHDAY", None))
    month = _int(parts.pop("BYMONTH", None))
    other = Recurrence("other", interval=interval)
    if parts or len(days) != len(byday) or interval < 1:
        return other
    if nths:
        nth = nths.pop()
        if nths or len(days) != 1 or monthday is not None or nth not in (1, 2, 3, 4, 5, -1):
            return other
        if freq == "MONTHLY" and month is None:
            return Recurrence("monthly_nth", weekdays=days, nth=nth, interval=interval)
        if freq == "YEARLY" and month is not None and 1 <= month <= 12 and interval == 1:
            return Recurrence("yearly_nth", weekdays=days, nth=nth, month=month)
        return other
    valid_day = monthday is not None and (monthday == -1 or 1 <= monthday <= 31)
    if freq in ("MINUTELY", "HOURLY", "DAILY") and not days and monthday is None and not month:
        return Recurrence(freq.lower(), interval=interval)
    if freq == "WEEKLY" and days and monthday is None and month is None:
        if interval == 1 and days == (0, 1, 2, 3, 4):
            return Recurrence("weekdays")
        return Recurrence("weekly", weekdays=days, interval=interval)
    if freq == "MONTHLY" and valid_day and not days and month is None:
        return Recurrence("monthly", monthday=monthday, interval=interval)
    if freq == "YEARLY" and valid_day and not days and month and 1 <= month <= 12 and interval == 1:
        return Recurrence("yearly", monthday=monthday, month=month)
    return other


def gap_minutes(rrule: str) -> int | None:
    """The gap between two occurrences of an hourly or minutely rule, None for longer rules."""
    rec = describe(rrule)
    if rec.kind == "minutely":
        return rec.interval
    if rec.kind == "hourly":
        return rec.interval * 60
    if len(rec.hours) > 1:
        return min(b - a for a, b in pairwise(rec.hours)) * 60
    return None


def check_frequency(rrule: str | None, *, private: bool) -> None:
    """Refuse a rule that repeats more often than a post may: every hour at most in a group,
    every 15 minutes in a private chat (DomainError ``post.too_often_group``/``_private``)."""
    if rrule is None:
        return
    gap = gap_minutes(rrule)
    floor = MIN_GAP_PRIVATE if private else MIN_GAP_GROUP
    if gap is not None and gap < floor:
        key = "post.too_often_private" if private else "post.too_often_group"
        raise DomainError(key, minutes=floor)
