"""English: the words of a time and the grammar's English pieces.

Numbers and ordinals as people spell them out, months, weekdays, am/pm, "quarter to 7",
"half six", "the Friday after next", "2 Mondays from now", "every other Thursday", and the
spellings residents type for them ("tommorow", "2nite", "wensday").
"""

from __future__ import annotations

import re
from typing import Any, Final

from bot.domain.when.core import (
    _AMOUNT_WORDS,
    _B,
    _E,
    _UNIT_STEMS,
    _WEEKEND,
    _WORKDAYS,
    _add_numbers,
    _alternation,
    _component,
    _every_time,
    _filler,
    _int,
    _now,
    _number,
    _Parts,
    _post_filler,
    _put,
    _rel_amounts,
    _rel_range,
    _same_time,
    _unit,
    _weekmod,
    _with_days,
    _with_part,
    _with_range,
    _with_time,
)

_UNITS: Final[dict[str, int]] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9,
}  # fmt: skip
_TEENS: Final[dict[str, int]] = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS: Final[dict[str, int]] = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}

_ORD_UNITS: Final[dict[str, int]] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9,
}  # fmt: skip
_ORD_TEENS: Final[dict[str, int]] = {
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
}  # fmt: skip
_ORD_TENS: Final[dict[str, int]] = {"twentieth": 20, "thirtieth": 30}


def _compounds() -> dict[str, int]:
    found: dict[str, int] = {**_UNITS, **_TEENS, **_TENS}
    for tens, tv in _TENS.items():
        for unit, uv in _UNITS.items():
            for sep in (" ", "-", ""):
                found[f"{tens}{sep}{unit}"] = tv + uv
    return found


def _ordinals() -> dict[str, int]:
    found: dict[str, int] = {**_ORD_UNITS, **_ORD_TEENS, **_ORD_TENS}
    for tens, tv in (("twenty", 20), ("thirty", 30)):
        for unit, uv in _ORD_UNITS.items():
            if tv + uv > 31:
                continue
            for sep in (" ", "-", ""):
                found[f"{tens}{sep}{unit}"] = tv + uv
    return found


#: one .. fifty-nine, with "twenty five", "twenty-five" and "twentyfive".
NUMBERS: Final[dict[str, int]] = _compounds()
#: first .. thirty-first: the days of a month in words.
ORDINALS: Final[dict[str, int]] = _ordinals()
#: The minutes after an hour in "seven thirty", "three oh five", "ten fifteen".
MINUTES: Final[dict[str, int]] = {
    **{k: v for k, v in NUMBERS.items() if 10 <= v <= 59},
    **{f"oh {k}": v for k, v in _UNITS.items()},
    **{f"o {k}": v for k, v in _UNITS.items()},
    "hundred": 0,
    "o'clock": 0,
}
#: How many a loose amount is: "a few days" is three.
LOOSE_AMOUNTS: Final[dict[str, int]] = {
    "a couple of": 2,
    "couple of": 2,
    "a couple": 2,
    "couple": 2,
    "a few": 3,
    "few": 3,
    "a pair of": 2,
}
#: Spellings residents type for the words of a time, and the word meant.
SPELLINGS: Final[dict[str, str]] = {
    "tommorow": "tomorrow", "tommorrow": "tomorrow", "tomorrrow": "tomorrow", "tomoro": "tomorrow",
    "tomorro": "tomorrow", "2morrow": "tomorrow", "2moro": "tomorrow", "2morow": "tomorrow",
    "tmw": "tomorrow", "tonite": "tonight", "2nite": "tonight", "2night": "tonight",
    "tonigth": "tonight", "wensday": "wednesday", "wednsday": "wednesday",
    "wedensday": "wednesday", "thrusday": "thursday", "thurday": "thursday",
    "thursdy": "thursday", "tuseday": "tuesday", "tusday": "tuesday", "satuday": "saturday",
    "saterday": "saturday", "saturady": "saturday", "sunady": "sunday", "firday": "friday",
    "fridy": "friday", "mondy": "monday", "nxt": "next", "morn": "morning", "mornin": "morning",
    "evenin": "evening", "afternon": "afternoon", "minuts": "minutes", "mintues": "minutes",
    "hrs": "hours", "hr": "hour", "mins": "minutes", "secs": "seconds", "evry": "every",
    "evey": "every", "everey": "every",
}  # fmt: skip

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
    **NUMBERS,
    **LOOSE_AMOUNTS,
}
_NUM_EN = rf"\d{{1,4}}(?:[.,]\d{{1,2}})?|{_alternation(_EN_NUMBERS)}"
# an amount before a unit: digits may touch it ("2h"), words may not ("an d" is not "and")
_AMOUNT_EN = rf"(?:\d{{1,4}}(?:[.,]\d{{1,2}})?\s*|(?:{_alternation(_EN_NUMBERS)})\s+)"
_HOUR_WORDS_EN: Final[dict[str, int]] = {
    k: v for k, v in NUMBERS.items() if 1 <= v <= 12 and " " not in k
}
_HOUR_EN = r"\d{1,2}|" + _alternation(_HOUR_WORDS_EN)
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
_MONTH_EN = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ORD_EN = r"(?:st|nd|rd|th)"
_WD_EN = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:rs?(?:day)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)s?"
)
_EN_WD_INDEX: Final[dict[str, int]] = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}

#: am/pm, spaced or not ("7 pm", "7 p.m.", "7pm"), or just its letter against the number ("7p",
#: "10:45a"; "7 a" is not 7 am).
#: am/pm, spaced or not ("7 pm", "7 p.m.", "7pm"), or just its letter against the number ("7p",
#: "10:45a"; "7 a" is not 7 am).
_AMPM = r"(?:\s*(?=[ap]\.?\s?m(?![a-zа-я]))|(?=[ap]\.?(?![a-zа-я])))(?P<ampm>[ap])(?:\.?\s?m)?\.?"
#: The words before a clock ("at 9:30", "around 7pm").
PREP: Final = (
    r"(?:at|for|by|from|starting(?:\s+(?:at|from))?|beginning\s+at)"
    r"(?:\s+(?:about|around|approximately|roughly))?|@|around|about"
    r"|approximately|roughly"
)
_PREP_EN = rf"(?:(?P<prep>{PREP})\s*)?"

_add_numbers(_EN_NUMBERS)
_add_numbers(MINUTES)
for _name, _stems in (
    ("second", ("sec", "s")),
    ("minute", ("min", "m")),
    ("hour", ("hour", "hr", "h")),
    ("day", ("day", "d")),
    ("week", ("week", "wk", "w")),
    ("fortnight", ("fortnight",)),
    ("month", ("month",)),
    ("year", ("year", "yr", "y")),
):
    _UNIT_STEMS[_name].extend(_stems)
_AMOUNT_WORDS.extend(
    (
        (re.compile(r"\s+more(?=\s)"), 0.0),
        (re.compile(r"\s*and an? half$"), 0.5),
        (re.compile(r" and an? half "), 0.5),
    )
)

# ---- recurrence markers and units


@_component(
    "every_n_en",
    rf"(?:every)\s+(?P<n>other|second|\d{{1,2}}(?:st|nd|rd|th)|{_NUM_EN})\s+"
    r"(?P<u>days?|weeks?)"
    + _B
    + rf"|every\s+(?P<tn>other\s+|\d{{1,4}}(?:[.,]\d{{1,2}})?\s*|(?:{_NUM_EN})\s+)"
    r"(?P<tu>hours?|hrs?|h|minutes?|mins?|m)"
    + _B
    + r"|every\s+(?P<half>half(?:\s+an?|-)?\s*hour|(?:a\s+)?quarter(?:\s+of\s+an)?\s+hour)"
    + _B,
)
def _every_n(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("half"):
        return _every_time(p, 30 if m.group("half").startswith("half") else 15, "minute")
    if m.group("tu"):  # "every 3 hours", "every 30 minutes", "every 2h"
        word = m.group("tn").strip()
        amount = 2 if word == "other" else _number(word)
        if amount is None:
            return None
        return _every_time(p, amount, "hour" if m.group("tu").startswith("h") else "minute")
    word = re.sub(r"(?<=\d)(?:st|nd|rd|th)$", "", m.group("n"))
    n = 2 if word in ("other", "second") else _int(word)
    if n is None or not 1 <= n <= 365:
        return None
    unit = "week" if m.group("u").startswith("week") else "day"
    return _put(p, every=True, interval=n if n > 1 else None, unit=unit)


@_component("every_en", r"(?:every(?:\s+single)?|each)" + _B)
def _every(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, every=True)


_ADVERBS: Final[dict[str, str]] = {
    "daily": "day", "everyday": "day", "weekly": "week", "monthly": "month", "yearly": "year",
    "annually": "year", "hourly": "hour",
}  # fmt: skip


@_component(
    "adverb_en",
    r"(?:daily|weekly|monthly|yearly|annually|hourly|everyday|weekdays|weekends|on\s+weekdays"
    r"|on\s+weekends)" + _B,
)
def _adverb(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = m.group(0).split()[-1]
    if word == "weekdays":
        return _put(p, every=True, days=_WORKDAYS)
    if word == "weekends":
        return _put(p, every=True, days=_WEEKEND)
    return _put(p, every=True, unit=_ADVERBS[word])


_component(
    "unit_en",
    r"(?:(?P<work>week\s?day|work\s?day|business\s+day)|(?P<weekend>weekend)|(?P<day>day)"
    r"|(?P<week>week)|(?P<month>month)|(?P<year>year)|(?P<hour>hour)|(?P<minute>minute))" + _B,
)(_unit)


# ---- ranges, taken at their start: "4-5pm", "between 6 and 7 tonight", "in 10-15 minutes"


@_component(
    "range_en",
    rf"(?:(?P<between>between)\s+|from\s+)?(?P<h1>{_HOUR_EN})(?::(?P<m1>[0-5]\d))?"
    r"(?:\s*(?P<a1>[ap])(?:\.?m)?\.?)?\s*(?P<sep>-|–|—|to|till|until|and)\s*"
    rf"(?P<h2>{_HOUR_EN})(?::(?P<m2>[0-5]\d))?(?:{_AMPM})?{_B}",
)
def _range(m: re.Match[str], p: _Parts) -> _Parts | None:
    sep = m.group("sep")
    if (sep == "and") != bool(m.group("between")):
        return None  # "between 6 and 7"; "6 and 7" alone is two numbers
    h1, h2 = _int(m.group("h1")), _int(m.group("h2"))
    marked = m.group("between") or m.group("a1") or m.group("ampm") or m.group("m1")
    if not marked and not m.group(0).startswith("from"):
        return None  # "4-5" alone: a date, a score, a count?
    if sep in ("to", "till", "until") and not m.group(0).startswith("from"):
        return None  # "5 to 6 pm" is five minutes to six; "from 5 to 6 pm" is a range
    a1 = m.group("a1") + "m" if m.group("a1") else None
    a2 = m.group("ampm") + "m" if m.group("ampm") else None
    return _with_range(p, (h1, int(m.group("m1") or 0), a1), (h2, int(m.group("m2") or 0), a2), m)


@_component(
    "in_range_en",
    r"(?:in|within)\s+(?P<a>\d{1,3})\s*(?:-|–|—|to|or)\s*(?P<b>\d{1,3})\s*"
    r"(?P<u>minutes?|mins?|hours?|hrs?|days?|weeks?)" + _B,
)
def _in_range(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _rel_range(p, m.group("a"), m.group("b"), m.group("u"))


# ---- relative offsets

_REL_UNIT_EN = (
    r"(?:seconds?|secs?|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w|fortnights?"
    r"|months?|years?|yrs?|y)"
)
_REL_PART_EN = (
    rf"(?<![0-9a-zа-я]){_AMOUNT_EN}(?:and\s+an?\s+half\s+|more\s+)?{_REL_UNIT_EN}"
    rf"(?:\s+and\s+an?\s+half)?{_B}"
)
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
}


@_component("day_en", rf"(?:{_alternation(_DAY_WORDS)}){_B}")
def _day(m: re.Match[str], p: _Parts) -> _Parts | None:
    offset, part = _DAY_WORDS[re.sub(r"\s+", " ", m.group(0))]
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
    "weekday_range_en",
    rf"(?:from\s+)?(?P<a>{_WD_EN}){_B}\s*(?:-|to|through|thru)\s*(?P<b>{_WD_EN}){_B}",
)
def _weekday_range(m: re.Match[str], p: _Parts) -> _Parts | None:
    first, last = _EN_WD_INDEX[m.group("a")[:3]], _EN_WD_INDEX[m.group("b")[:3]]
    if last <= first:
        return None
    return _put(p, every=True, days=tuple(range(first, last + 1)))


_component(
    "weekmod_en",
    r"(?:of\s+)?(?:(?P<after>the\s+week\s+after\s+next)"
    r"|(?P<next>(?:the\s+)?next\s+week|the\s+following\s+week)"
    r"|(?P<this>this\s+week|the\s+current\s+week))(?![0-9a-zа-я])",
)(_weekmod)


# ---- dates

_ORD_WORDS_EN = _alternation(ORDINALS)


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
    day = int(digits.group(0)) if digits else ORDINALS[re.sub(r"\s+", " ", word)]
    month = _EN_MONTHS.index((m.group("m1") or m.group("m2"))[:3]) + 1
    year_text = (m.group("y1") or m.group("y2") or "").lstrip("'")
    year = None if not year_text else int(year_text) + (2000 if len(year_text) == 2 else 0)
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


#: "of the month", "of next month", "of the current month", "of each month".
_OF_MONTH = r"(?:the\s+)?(?:(?:each|every|this|next|current|following)\s+)?month"


@_component(
    "monthday_en",
    rf"(?:on\s+)?(?P<the>the\s+)?(?:(?P<n>\d{{1,2}}){_ORD_EN}|(?P<n2>\d{{1,2}})(?=\s+of\s+{_OF_MONTH})"
    rf"|(?P<w>{_alternation(_EN_ORDINALS)}|{_ORD_WORDS_EN}))"
    rf"(?:\s+day)?(?:\s+of\s+{_OF_MONTH})?" + _B,
)
def _monthday_en(m: re.Match[str], p: _Parts) -> _Parts | None:
    text = re.sub(r"\s+", " ", m.group(0)).replace("following month", "next month")
    text = text.replace("current month", "this month")
    word = re.sub(r"\s+", " ", m.group("w") or "")
    number = m.group("n") or m.group("n2")  # "the 20th", "20 of next month"
    day = int(number) if number else _EN_ORDINALS.get(word) or ORDINALS[word]
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
    "month_en",
    r"(?:(?:in\s+)?(?P<next>next)\s+month|(?:in\s+)?(?:this|the\s+current)\s+month)" + _B,
)
def _month_en(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, monthoff=1 if m.group("next") else 0)


# ---- times of day

_MINUTE_WORDS_EN = _alternation(MINUTES)


@_component(
    "oclock",
    rf"(?:(?:at|@|around|about|at\s+around|at\s+about)\s*(?P<h>{_HOUR_EN}|\d{{1,2}})"
    rf"(?:\s*o'?clock)?|(?P<h2>{_HOUR_EN})\s*o'?clock)" + _B,
)
def _oclock(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, _int(m.group("h") or m.group("h2")), 0, m)


@_component(
    "half_past",
    rf"{_PREP_EN}(?P<q>half|(?:a\s+)?quarter|three\s+quarters|(?P<mins>\d{{1,2}}|{_MINUTE_WORDS_EN}"
    rf"|{_alternation(_HOUR_WORDS_EN)}))(?:\s+(?:minutes?|mins?))?\s+"
    rf"(?P<dir>past|after|to|before|till|til|of)\s+(?P<h>{_HOUR_EN}|noon|midday|midnight)"
    rf"(?:{_AMPM})?{_B}",
)
def _half_past(m: re.Match[str], p: _Parts) -> _Parts | None:
    if (m.group("prep") or "").startswith("from"):
        return None  # "from 9 to 17" is a range, not nine minutes to five
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
    if word in ("noon", "midday", "midnight") and m.group("ampm"):
        return None
    if m.group("dir") in ("to", "before", "till", "til", "of"):
        hour, minutes = (hour - 1) % 24, 60 - minutes
    q_parts = _with_time(p, hour, minutes, m)
    if q_parts is not None and word in ("noon", "midday"):
        q_parts = _put(q_parts, ampm="am" if hour == 11 else "pm")
    return q_parts


# ---- at once


_component(
    "now_en",
    r"(?:right\s+now|right\s+away|straight\s+away|at\s+once|now|immediately|asap|a\.s\.a\.p\.?"
    r"|at\s+this\s+(?:time|moment)|at\s+the\s+moment|this\s+(?:very\s+)?(?:minute|moment))"
    + _B
    + rf"|within\s+(?:the\s+)?(?:next\s+)?(?:{_REL_PART_EN})(?:\s+{_REL_PART_EN})*",
)(_now)


# ---- words that only fill ("at about 3pm", "3pm sharp")

_component(
    "filler_en",
    r"(?:around|about|approximately|approx\.?|roughly|exactly|precisely|for|please|at|on|by|until"
    r"|till|no\s+later\s+than)" + _E,
)(_filler)
_component(
    "post_filler_en",
    r"(?:sharp|on\s+the\s+dot|or\s+so|approximately|approx\.?|roughly|or\s+thereabouts)" + _E,
)(_post_filler)


# ---- clocks people write loosely: seven thirty, half six, 9 tonight

#: After a bare hour, what makes it a time: "7 tomorrow", "9 tonight", "6 in the evening".
_THEN_DAY = (
    r"(?=\s*(?:(?:tonight|tomorrow|tmrw?|today|tonite|this\s+(?:morning|afternoon|evening)"
    r"|in\s+the\s+(?:morning|afternoon|evening|am|pm)|at\s+night|o'clock|noon|midnight"
    r")(?![a-zа-я])|(?:on|this|next)\s|in\s+\d))"
)


@_component(
    "word_time",
    rf"{_PREP_EN}(?P<h>{_HOUR_EN})\s+(?P<m>{_MINUTE_WORDS_EN})(?![a-z])(?:{_AMPM})?{_B}",
)
def _word_time(m: re.Match[str], p: _Parts) -> _Parts | None:
    if not (m.group("prep") or m.group("ampm")) and not re.match(_THEN_DAY, m.string[m.end() :]):
        return None
    return _with_time(p, _int(m.group("h")), MINUTES[m.group("m")], m)


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


# ---- a month named without a day: "last friday of december", "last day of february"


@_component(
    "of_month",
    rf"(?:of|in)\s+(?P<m>{_MONTH_EN})(?:,?\s+(?P<y>\d{{4}}))?{_B}",
)
def _of_month(m: re.Match[str], p: _Parts) -> _Parts | None:
    year = int(m.group("y")) if m.group("y") else None
    return _put(p, month=(year, _month_number(m.group("m"))))


@_component(
    "end_of_month_en",
    r"(?:at\s+|by\s+)?(?:the\s+)?end\s+of\s+(?:(?P<this>the|this)\s+|(?P<next>next)\s+)?month"
    r"|(?:at\s+|by\s+)?(?:the\s+)?(?P<start>beginning|start|middle)\s+of\s+"
    r"(?:(?:the|this)\s+|(?P<next3>next)\s+)?month|(?P<mid>mid-?month)" + _B,
)
def _end_of_month(m: re.Match[str], p: _Parts) -> _Parts | None:
    """The end, beginning or middle of a month: its last day, the 1st, the 15th."""
    word = m.group("start") or m.group("mid") or ""
    day = 15 if word.startswith(("middle", "mid")) else 1 if word else -1
    values: dict[str, Any] = {"monthday": day}
    if m.group("next") or m.group("next3"):
        values["monthoff"] = 1
    return _put(p, **values)


# ---- counted weekdays and fortnightly rules

_COUNT_EN = rf"\d{{1,2}}|{_alternation({k: v for k, v in NUMBERS.items() if v <= 10})}"


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


# ---- "same time tomorrow", "a week from tomorrow"

_component("same_time_en", r"(?:at\s+)?(?:the\s+)?(?:same|this)\s+time(?![a-z])")(_same_time)


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


# ---- the past, said as such: "7 days ago"


@_component(
    "ago_en",
    rf"(?P<just>just\s+now|a\s+moment\s+ago)"
    rf"|(?P<en>{_REL_PART_EN}(?:\s+{_REL_PART_EN})*)\s+(?:ago|back|before\s+now)",
)
def _ago(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("just"):
        return _put(p, rel=((-1.0, "second"),))
    amounts = _rel_amounts(m.group("en"), _REL_PART_EN)
    if amounts is None:
        return None
    return _put(p, rel=tuple((-amount, unit) for amount, unit in amounts))


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
    "first thing": "first_thing",
    "first thing in the morning": "first_thing",
    "lunchtime": "lunch",
    "lunch time": "lunch",
    "at lunchtime": "lunch",
}


@_component("part_en", rf"(?:{_alternation(_PARTS)}){_B}")
def _part(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_part(p, _PARTS[re.sub(r"\s+", " ", m.group(0))])


# ---- what residents type loosely, made plain before the grammar reads it

_ISH = re.compile(
    rf"(?<![a-z])(\d{{1,2}}|{_alternation(_HOUR_WORDS_EN)}|noon|midnight)\s*-?ish(?![a-z])"
)
_SPELLING = re.compile(rf"(?<![0-9a-zа-я])(?:{_alternation(SPELLINGS)})(?![a-zа-я])")
_OCLOCK = re.compile(r"(?<![a-z])o\s?'?\s?clock(?![a-z])")
_UNIT_TIME = re.compile(r"(?<![a-z])((?:minute|hour|day|week|month|year)s?)'?s?\s+time(?![a-z])")


def normalize(value: str) -> str:
    """``value`` (lower-cased) with English spellings fixed and loose words made plain."""
    if _SPELLING.search(value):
        value = _SPELLING.sub(lambda m: SPELLINGS[m.group(0)], value)
    if "ish" in value:
        value = _ISH.sub(  # "6ish" is 6 o'clock, give or take; "noonish" is noon
            lambda m: m.group(1) if m.group(1) in ("noon", "midnight") else m.group(1) + " o'clock",
            value,
        )
    if "clock" in value:
        value = _OCLOCK.sub("o'clock", value)
    if "time" in value:
        value = _UNIT_TIME.sub(r"\1", value)  # "in 2 days' time" is in 2 days
    return value
