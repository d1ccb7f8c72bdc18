"""English words for when.py: numbers and ordinals as people spell them out."""

from __future__ import annotations

from typing import Final

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
    "hrs": "hours", "hr": "hour", "mins": "minutes", "secs": "seconds",
}  # fmt: skip
