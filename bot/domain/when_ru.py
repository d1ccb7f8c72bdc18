"""Russian words for when.py: ordinal days and hours in every case, and numbers up to 59."""

from __future__ import annotations

import re
from typing import Final

#: The stem of each ordinal, 1..31 (compound tens are built below).
_STEMS: Final[dict[str, int]] = {
    "перв": 1, "втор": 2, "трет": 3, "четв[её]рт": 4, "пят": 5, "шест": 6, "седьм": 7,
    "восьм": 8, "девят": 9, "десят": 10, "одиннадцат": 11, "двенадцат": 12, "тринадцат": 13,
    "четырнадцат": 14, "пятнадцат": 15, "шестнадцат": 16, "семнадцат": 17, "восемнадцат": 18,
    "девятнадцат": 19, "двадцат": 20, "тридцат": 30,
}  # fmt: skip
#: Endings of an ordinal in every case and gender ("третье", "третьего", "первому", "пятым").
_ENDINGS: Final = r"(?:ь?(?:ого|его|ому|ему|ое|ее|ье|ым|им|ом|ем|ой|ей|ый|ий|ая|яя|ую|юю|ья|ью|е))"
_STEM_ALT: Final = "|".join(sorted(_STEMS, key=len, reverse=True))
#: One ordinal word, 1..31: "восемнадцатое", "двадцать первого", "тридцать первое".
ORDINAL: Final = rf"(?:(?:двадцать|тридцать)\s+)?(?:{_STEM_ALT}){_ENDINGS}(?![а-я])"


def ordinal(text: str) -> int | None:
    """The number of an ordinal word ("двадцать третьего" -> 23), None for anything else."""
    words = text.split()
    tens = 0
    if len(words) == 2:
        tens = {"двадцать": 20, "тридцать": 30}.get(words[0], -100)
    best = 0
    for stem, value in sorted(_STEMS.items(), key=lambda kv: len(kv[0]), reverse=True):
        if re.match(stem + _ENDINGS + "$", words[-1]):
            best = value
            break
    if not best or (tens and best >= 10):
        return None
    total = tens + best
    return total if 1 <= total <= 31 else None


#: Numbers in words, 0..59, for hours and minutes ("в пятнадцать часов", "в семь тридцать").
_RU_UNITS: Final[dict[str, int]] = {
    "один": 1, "одна": 1, "одну": 1, "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5,
    "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
}  # fmt: skip
_RU_TEENS: Final[dict[str, int]] = {
    "ноль": 0, "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13,
    "четырнадцать": 14, "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17,
    "восемнадцать": 18, "девятнадцать": 19,
}  # fmt: skip
_RU_TENS: Final[dict[str, int]] = {"двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50}


def _numbers() -> dict[str, int]:
    found = {**_RU_UNITS, **_RU_TEENS, **_RU_TENS}
    for tens, tv in _RU_TENS.items():
        for unit, uv in _RU_UNITS.items():
            found[f"{tens} {unit}"] = tv + uv
    return found


NUMBERS: Final[dict[str, int]] = _numbers()
#: Hours in words, 0..23 ("в двадцать три часа").
HOURS: Final[dict[str, int]] = {k: v for k, v in NUMBERS.items() if v <= 23}

#: "без четверти восемь": minutes before an hour, in the genitive.
MINUTES_BEFORE: Final[dict[str, int]] = {
    "четверти": 15, "пяти": 5, "десяти": 10, "пятнадцати": 15, "двадцати": 20,
    "двадцати пяти": 25, "тридцати": 30, "одной": 1, "двух": 2, "трёх": 3, "трех": 3,
    "четырёх": 4, "четырех": 4,
}  # fmt: skip
#: "в половине девятого", "полдевятого": the hour-to-come as an ordinal in the genitive.
HOUR_GENITIVE: Final[dict[str, int]] = {
    "первого": 1, "второго": 2, "третьего": 3, "четвёртого": 4, "четвертого": 4, "пятого": 5,
    "шестого": 6, "седьмого": 7, "восьмого": 8, "девятого": 9, "десятого": 10,
    "одиннадцатого": 11, "двенадцатого": 12,
}  # fmt: skip
#: The first, second ... last weekday of a month, any case: "каждый первый понедельник".
NTH: Final[dict[str, int]] = {
    "перв": 1,
    "втор": 2,
    "трет": 3,
    "четв": 4,
    "пят": 5,
    "последн": -1,
}
NTH_PATTERN: Final = (
    r"(?:перв|втор|трет|четв[её]рт|пят|последн)"
    r"(?:ый|ой|ий|ая|яя|ую|юю|ое|ее|ого|его|ья|ью|ье|ьего|ий)(?![а-я])"
)

#: Spellings residents type for the words of a time, and the word meant.
SPELLINGS: Final[dict[str, str]] = {
    "щас": "сейчас", "ща": "сейчас", "седня": "сегодня", "завтро": "завтра",
    "послезавтро": "послезавтра", "понидельник": "понедельник", "панедельник": "понедельник",
    "вторнек": "вторник", "читверг": "четверг", "вечерком": "вечером", "утречком": "утром",
    "минуточку": "минутку",
}  # fmt: skip
