"""What every language writes alike: clocks and dates in digits ("9:30", "0930", "9h30",
"2026-03-14", "05.12", "25/12"), an hour after a part of the day ("tonight 10", "утром 8"),
and zone names after a time ("9h UTC", "20:00 МСК").

The words around a clock in digits are each language's own (``PREP`` before it, am/pm or
утра/вечера after it); they are put together here.
"""

from __future__ import annotations

import re
from typing import Final

from bot.domain.when import en, ru, zh, zones
from bot.domain.when.core import (
    _B,
    _coarse,
    _component,
    _int,
    _Parts,
    _put,
    _with_range,
    _with_time,
)

_TIME_PREP = rf"(?:(?P<prep>{en.PREP}|{ru.PREP}|{zh.PREP})\s*)?"
_TIME_SUFFIX = rf"(?:{en._AMPM}|\s+{ru._RU_MOD})?{_B}"

# ---- a range of clocks: "10:00-11:30", "9:30–10:15 pm", "с 10:00 до 11:30" is Russian's


@_component(
    "range_digits",
    rf"{_TIME_PREP}(?P<h1>\d{{1,2}}):(?P<m1>[0-5]\d)\s*(?:-|–|—|~|到|至|to|till|until)\s*"
    rf"(?P<h2>\d{{1,2}}):(?P<m2>[0-5]\d){_TIME_SUFFIX}",
)
def _range_digits(m: re.Match[str], p: _Parts) -> _Parts | None:
    end_ampm = m.group("ampm") + "m" if m.group("ampm") else None
    start = (int(m.group("h1")), int(m.group("m1")), None)
    return _with_range(p, start, (int(m.group("h2")), int(m.group("m2")), end_ampm), m)


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


# ---- clocks


@_component(
    "colon",
    rf"{_TIME_PREP}(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?::\d{{2}})?(?:\s?h(?:rs)?(?![a-z]))?{_TIME_SUFFIX}",
)
def _colon(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, int(m.group("h")), int(m.group("m")), m)


@_component(
    "h_time",
    rf"{_TIME_PREP}(?P<h>\d{{1,2}})h(?:(?P<m>\d{{2}}){_B}|(?=\s*(?:{zones.PATTERN})))",
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


@_component("ampm", rf"{_TIME_PREP}(?P<h>{en._HOUR_EN}){en._AMPM}{_B}")
def _ampm(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, _int(m.group("h")), 0, m)


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


#: The hours that make sense after a part of the day said first ("tonight 10", "утром 8").
_PART_HOURS: Final[dict[str, range]] = {
    "morning": range(4, 13),
    "afternoon": range(1, 7),
    "evening": range(5, 13),
    "night": range(8, 13),
}


@_component("part_hour", rf"(?P<h>{en._HOUR_EN}|{ru._HOUR_RU}){_B}(?![:.]\d)")
def _part_hour(m: re.Match[str], p: _Parts) -> _Parts | None:
    hour = _int(m.group("h"))
    coarse = _coarse(p.part)
    if hour is None or p.hour is not None or coarse not in _PART_HOURS:
        return None
    if hour not in _PART_HOURS[coarse]:
        return None  # "tonight 2 volunteers" is not 14:00
    return _put(p, hour=hour, minute=0)


# ---- a zone after (or before) the time


@_component("zone", rf"(?:in\s+)?(?P<z>{zones.PATTERN})")
def _zone(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, zone=re.sub(r"\s+", " ", m.group("z")))
