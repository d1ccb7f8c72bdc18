"""Reminders and scheduled announcements ("posts"): what may be said, and how a recurrence reads.

Pure: the text rules, the pin option, and a structured description of an RRULE that the
catalogs turn into words ("every Tuesday", "每周二", "каждый вторник").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.domain.errors import DomainError

#: Room for our own prefix and the late note inside Telegram's 4096 characters.
MAX_TEXT: Final[int] = 3500

PIN_WORDS: Final[frozenset[str]] = frozenset({"pin", "pinned", "置顶", "закрепить", "закреп"})

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


@dataclass(frozen=True, slots=True)
class Recurrence:
    """How a rule reads: ``kind`` is daily, weekdays, weekly, monthly or other."""

    kind: str
    weekdays: tuple[int, ...] = ()  # 0 = Monday
    monthday: int | None = None
    interval: int = 1


def describe(rrule: str) -> Recurrence:
    parts = dict(p.split("=", 1) for p in rrule.upper().split(";") if "=" in p)
    freq = parts.get("FREQ")
    interval = int(parts.get("INTERVAL", "1") or 1)
    days = tuple(
        WEEKDAYS.index(d[-2:]) for d in parts.get("BYDAY", "").split(",") if d[-2:] in WEEKDAYS
    )
    if freq == "DAILY" and interval == 1 and not days:
        return Recurrence("daily")
    if freq == "WEEKLY" and interval == 1 and days == (0, 1, 2, 3, 4):
        return Recurrence("weekdays")
    if freq == "WEEKLY" and len(days) >= 1:
        return Recurrence("weekly", weekdays=days, interval=interval)
    if freq == "MONTHLY" and parts.get("BYMONTHDAY", "").isdigit():
        return Recurrence("monthly", monthday=int(parts["BYMONTHDAY"]), interval=interval)
    return Recurrence("other", interval=interval)
