"""Russian: the words of a time and the grammar's Russian pieces.

Ordinal days and hours in every case ("восемнадцатое февраля", "к третьему апреля",
"в половине девятого"), numbers in words, "без четверти восемь", "по будням", "раз в две
недели", "в след. пятницу", and the spellings residents type ("щас", "седня").
"""

from __future__ import annotations

import re
from typing import Any, Final

from bot.domain.when.core import (
    _AMOUNT_WORDS,
    _B,
    _CLOCK_MARKS,
    _E,
    _NUMBER_READERS,
    _UNIT_STEMS,
    _WEEKEND,
    _WHOLE_AMOUNTS,
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
    **NUMBERS,
}
_TENS_RE = "двадцать|тридцать|сорок|пятьдесят"
_UNITS_RE = "один|одну|одна|два|две|три|четыре|пять|шесть|семь|восемь|девять"
_NUM_RU = (
    rf"\d{{1,4}}(?:[.,]\d{{1,2}})?|(?:{_TENS_RE})\s+(?:{_UNITS_RE})|{_alternation(_RU_NUMBERS)}"
)
_AMOUNT_RU = (
    rf"(?:\d{{1,4}}(?:[.,]\d{{1,2}})?\s*|(?:(?:{_TENS_RE})\s+(?:{_UNITS_RE})"
    rf"|{_alternation(_RU_NUMBERS)})\s+)"
)
_HOUR_RU = rf"\d{{1,2}}|(?:{_alternation(HOURS)})(?![а-я])"
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
_MONTH_RU = r"(?:янв|фев|мар|апр|ма[йяе]|июн|июл|авг|сен|окт|ноя|дек)[а-я]*\.?"
_WD_RU = (
    r"(?:понедельник(?:ам|ами|и|а|у|ом)?|вторник(?:ам|ами|и|а|у|ом)?|сред(?:ам|ами|а|у|ы|е|ой)"
    r"|четверг(?:ам|ами|и|а|у|ом)?|пятниц(?:ам|ами|а|у|ы|е|ей)|суббот(?:ам|ами|а|у|ы|е|ой)"
    r"|воскресень(?:ям|ями|е|я|ю|ем)|пн|вт|ср|чт|пт|сб|вс)"
)
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
#: The words before a clock ("в 9:30", "около 7").
PREP: Final = r"в|во|к|около|примерно\s+в|начиная\s+с|с"


def _two_words(token: str) -> int | None:
    """ "двадцать одну": tens and units as two words."""
    words = token.split(" ")
    if len(words) == 2 and words[0] in _RU_NUMBERS and words[1] in _RU_NUMBERS:
        return int(_RU_NUMBERS[words[0]] + _RU_NUMBERS[words[1]])
    return None


_add_numbers(_RU_NUMBERS)
_NUMBER_READERS.append(_two_words)
_CLOCK_MARKS.update(_RU_MOD_PART)
for _name, _stems in (
    ("second", ("секунд", "сек")),
    ("minute", ("минут", "мин", "м")),
    ("hour", ("час", "ч")),
    ("day", ("сут", "дн", "день")),
    ("week", ("недел", "нед")),
    ("month", ("месяц", "мес")),
    ("year", ("год", "лет")),
):
    _UNIT_STEMS[_name].extend(_stems)
_WHOLE_AMOUNTS.update(
    {
        "полчаса": (0.5, "hour"),
        "пол часа": (0.5, "hour"),
        "полдня": (12.0, "hour"),
        "полгода": (6.0, "month"),
        "четверть часа": (15.0, "minute"),
        "четверти часа": (15.0, "minute"),
        "три четверть часа": (45.0, "minute"),
        "три четверти часа": (45.0, "minute"),
    }
)
_AMOUNT_WORDS.append((re.compile(r" с половиной "), 0.5))

# ---- recurrence markers and units


@_component(
    "every_n_ru",
    rf"кажд(?:ые|ый|ую)\s+(?P<n>{_NUM_RU})\s+(?P<u>дн(?:я|ей)|день|недел[иь]|неделю)"
    + _B
    + rf"|кажд(?:ые|ый|ую)\s+(?P<tn>\d{{1,4}}(?:[.,]\d{{1,2}})?\s*|(?:{_NUM_RU})\s+)"
    r"(?P<tu>час(?:а|ов)?|ч|минут[уы]?|мин)"
    + _B
    + r"|кажд(?:ые|ую)\s+(?P<half>полчаса|пол\s+часа|четверть\s+часа)"
    + _B,
)
def _every_n(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("half"):  # "каждые полчаса", "каждую четверть часа"
        return _every_time(p, 15 if m.group("half").startswith("четв") else 30, "minute")
    if m.group("tu"):  # "каждые 2 часа", "каждые 30 минут", "каждые полтора часа"
        amount = _number(m.group("tn"))
        if amount is None:
            return None
        return _every_time(p, amount, "hour" if m.group("tu").startswith("ч") else "minute")
    n = _int(m.group("n"))
    if n is None or not 1 <= n <= 365:
        return None
    unit = "week" if m.group("u").startswith("нед") else "day"
    return _put(p, every=True, interval=n if n > 1 else None, unit=unit)


@_component("every_ru", r"кажд(?:ый|ую|ое|ые|ого|ой|ом)" + _B)
def _every(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, every=True)


_ADVERBS: Final[dict[str, str]] = {
    "ежедневно": "day", "еженедельно": "week", "ежемесячно": "month", "ежегодно": "year",
    "ежечасно": "hour",
}  # fmt: skip


@_component("adverb_ru", r"(?:ежедневно|еженедельно|ежемесячно|ежегодно|ежечасно)" + _B)
def _adverb(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, every=True, unit=_ADVERBS[m.group(0)])


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


_component(
    "unit_ru",
    r"(?:(?P<work>будний\s+день|будни|рабочий\s+день)|(?P<weekend>выходные)|(?P<day>день)"
    r"|(?P<week>неделю)|(?P<month>месяц)|(?P<year>год)|(?P<morning>утро)|(?P<evening>вечер)"
    r"|(?P<night>ночь)|(?P<hour>час)|(?P<minute>минуту))" + _B,
)(_unit)


# ---- ranges, taken at their start: "в 18–19 часов", "с 6 до 7 вечера", "через 10-15 минут"


@_component(
    "range_ru",
    rf"(?:(?:(?P<prep>в|во|к|около|примерно\s+в)\s+)?(?P<h1>{_HOUR_RU})(?:[:.](?P<m1>[0-5]\d))?"
    rf"\s*[-–—]\s*(?P<h2>{_HOUR_RU})(?:[:.](?P<m2>[0-5]\d))?"
    rf"|(?P<from>с|между)\s+(?P<h3>{_HOUR_RU})(?:[:.](?P<m3>[0-5]\d))?(?:\s*час(?:а|ов)?)?"
    rf"\s+(?P<to>до|и)\s+(?P<h4>{_HOUR_RU})(?:[:.](?P<m4>[0-5]\d))?)(?:\s*(?P<unit>час(?:а|ов)?|ч)(?![а-я]))?(?:\s+{_RU_MOD})?{_B}",
)
def _range(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("h3"):
        if (m.group("from") == "между") != (m.group("to") == "и"):
            return None  # "с 6 до 7", "между 6 и 7"
        start = (_int(m.group("h3")), int(m.group("m3") or 0), None)
        end = (_int(m.group("h4")), int(m.group("m4") or 0), None)
    else:
        marked = m.group("prep") or m.group("unit") or m.group("rumod") or m.group("m1")
        if not marked:
            return None  # "18-19" alone
        start = (_int(m.group("h1")), int(m.group("m1") or 0), None)
        end = (_int(m.group("h2")), int(m.group("m2") or 0), None)
    return _with_range(p, start, end, m)


@_component(
    "in_range_ru",
    r"через\s+(?P<a>\d{1,3})\s*[-–—]\s*(?P<b>\d{1,3})\s*"
    r"(?P<u>минут[уы]?|мин|час(?:а|ов)?|дн(?:я|ей)|недел[иь]|месяц(?:а|ев)?)" + _B,
)
def _in_range(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _rel_range(p, m.group("a"), m.group("b"), m.group("u"))


# ---- relative offsets

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


@_component(
    "in_ru",
    rf"(?:через|спустя)\s+(?P<body>(?:{_REL_PART_RU})(?:\s*(?:,|и)?\s*(?:{_REL_PART_RU}))*)",
)
def _in_ru(m: re.Match[str], p: _Parts) -> _Parts | None:
    amounts = _rel_amounts(m.group("body"), _REL_PART_RU)
    return None if amounts is None else _put(p, rel=amounts)


# ---- days

_DAY_WORDS: Final[dict[str, tuple[int, str | None]]] = {
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


@_component("day_ru", rf"(?:{_alternation(_DAY_WORDS)}){_B}")
def _day(m: re.Match[str], p: _Parts) -> _Parts | None:
    offset, part = _DAY_WORDS[re.sub(r"\s+", " ", m.group(0))]
    if part is None:
        return _put(p, offset=offset)
    return _with_part(_put(p, offset=offset), part)


# ---- weekdays


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


@_component("weekday_range_ru", rf"с\s+(?P<c>{_WD_RU}){_B}\s+по\s+(?P<d>{_WD_RU}){_B}")
def _weekday_range(m: re.Match[str], p: _Parts) -> _Parts | None:
    first, last = _RU_WD_INDEX[m.group("c")[:2]], _RU_WD_INDEX[m.group("d")[:2]]
    if last <= first:
        return None
    return _put(p, every=True, days=tuple(range(first, last + 1)))


_component(
    "weekmod_ru",
    r"(?:(?P<next>на\s+следующей\s+неделе|на\s+будущей\s+неделе|следующей\s+недели)"
    r"|(?P<this>на\s+этой\s+неделе|этой\s+недели))(?![0-9a-zа-я])",
)(_weekmod)


# ---- dates


@_component(
    "date_ru",
    rf"(?:(?:на|к|до|в|с)\s+)?(?:(?P<d>\d{{1,2}})(?:-?(?:го|е|ое|ого|ому|му|м|ом))?"
    rf"|(?P<w>{ORDINAL}))\s*(?P<m>{_MONTH_RU})"
    rf"(?:\s+(?P<y>\d{{4}})(?:\s*(?:г\.?|года?))?)?{_B}",
)
def _date_ru(m: re.Match[str], p: _Parts) -> _Parts | None:
    stem = m.group("m")[:3]
    month = _RU_MONTHS.get(stem)
    day = int(m.group("d")) if m.group("d") else ordinal(m.group("w"))
    if month is None or day is None:
        return None
    year = m.group("y")
    return _put(p, ymd=(int(year) if year else None, month, day))


@_component(
    "monthday_ru",
    rf"(?:(?P<n>\d{{1,2}})(?:-?(?:е|го|ое|ого|ье|му|ому))?\s+числ[оау]|(?P<n2>\d{{1,2}})-?(?:го|е)"
    rf"|(?P<w>{ORDINAL})\s+числ[оау]"
    r"|(?:в\s+)?(?P<last>последн(?:ий|ее|его)\s+(?:день|число)))"
    r"(?:\s+(?:(?P<next>следующего)\s+|(?P<this>этого)\s+|каждого\s+)?месяца)?" + _B,
)
def _monthday_ru(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = ordinal(m.group("w")) if m.group("w") else None
    day = -1 if m.group("last") else word or int(m.group("n") or m.group("n2"))
    values: dict[str, Any] = {"monthday": day}
    if m.group("next"):
        values["monthoff"] = 1
    elif m.group("this"):
        values["monthoff"] = 0
    return _put(p, **values)


@_component("month_ru", r"(?:в\s+)?(?:(?P<next>следующем)|(?P<this>этом))\s+месяце" + _B)
def _month_ru(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, monthoff=1 if m.group("next") else 0)


# ---- times of day


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


@_component("ru_mod", rf"(?:(?:в|во|к|около|с|начиная\s+с)\s+)?(?P<h>{_HOUR_RU})\s+{_RU_MOD}{_B}")
def _ru_mod(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, _int(m.group("h")), 0, m)


@_component("ru_v", rf"(?:в|во|к|около|с|начиная\s+с)\s+(?P<h>{_HOUR_RU}){_B}")
def _ru_v(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, _int(m.group("h")), 0, m)


@_component("ru_chas", rf"в\s+час(?:\s+{_RU_MOD})?{_B}")
def _ru_chas(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, 1, 0, m)


# ---- at once

_component(
    "now_ru",
    r"(?:сейчас|прямо\s+сейчас|немедленно|сразу|срочно)"
    + _B
    + rf"|в\s+течение\s+(?:(?:{_REL_PART_RU})(?:\s+{_REL_PART_RU})*|часа|дня|недели|месяца){_B}",
)(_now)


# ---- words that only fill ("примерно в 3", "ровно в 9")

_component(
    "filler_ru",
    r"(?:часов|часиков|примерно|приблизительно|ровно|где-то|где\s+то|около|на|к|до)" + _E,
)(_filler)
_component("post_filler_ru", r"(?:ровно|примерно)" + _E)(_post_filler)


# ---- an hour before a day: "7 завтра"


@_component(
    "bare_hour_ru",
    r"(?P<h>\d{1,2})" + _B + r"(?=\s*(?:сегодня|завтра|послезавтра|утром|вечером|днём|днем)"
    r"(?![a-zа-я]))",
)
def _bare_hour(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_time(p, _int(m.group("h")), 0, m)


# ---- Russian clocks: без четверти восемь, в половине девятого, полдевятого

_RU_MINUTE_WORDS = _alternation({k: v for k, v in NUMBERS.items() if 1 <= v <= 59})


@_component(
    "ru_minutes_of",
    rf"(?:(?:в|к|около)\s+)?(?P<m>\d{{1,2}}|{_RU_MINUTE_WORDS})\s+минут[аы]?\s+"
    rf"(?P<h>{_alternation(HOUR_GENITIVE)})(?:\s+{_RU_MOD})?{_B}",
)
def _ru_minutes_of(m: re.Match[str], p: _Parts) -> _Parts | None:
    minutes = _int(m.group("m"))
    if minutes is None or not 1 <= minutes <= 59:
        return None
    return _with_time(p, HOUR_GENITIVE[m.group("h")] - 1, minutes, m)  # 10 минут девятого


_RU_GEN_HOURS = _alternation(HOUR_GENITIVE)


@_component(
    "ru_bez",
    rf"(?:(?:в|к|около)\s+)?без\s+(?P<m>{_alternation(MINUTES_BEFORE)}|\d{{1,2}})"
    rf"(?:\s+минут[ы]?)?\s+(?P<h>{_HOUR_RU}){_B}(?:\s+{_RU_MOD})?{_B}",
)
def _ru_bez(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = m.group("m")
    minutes = int(word) if word.isdigit() else MINUTES_BEFORE[word]
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
    hour = HOUR_GENITIVE[m.group("h")] - 1
    return _with_time(p, hour, 30 if m.group("half") else 15, m)


@_component(
    "ru_words_time",
    rf"(?:в|во|к|около)\s+(?P<h>{_alternation(HOURS)})\s+"
    rf"(?P<m>{_alternation({k: v for k, v in NUMBERS.items() if v >= 10})}|ноль\s+\w+)"
    rf"(?:\s+{_RU_MOD})?{_B}",
)
def _ru_words_time(m: re.Match[str], p: _Parts) -> _Parts | None:
    minute = _int(m.group("m").replace("ноль ", ""))
    return _with_time(p, _int(m.group("h")), minute, m)


# ---- the nth weekday of a month


@_component(
    "nth_ru",
    rf"(?:(?:в|во)\s+)?(?P<n>{NTH_PATTERN})\s+(?P<wd>{_WD_RU}){_B}"
    rf"(?:\s+(?:(?P<next>следующего)\s+|(?:этого|текущего)\s+|(?P<every>каждого)\s+)?месяца"
    rf"|\s+(?P<m>{_MONTH_RU}))?{_B}",
)
def _nth_ru(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = m.group("n")
    nth = next(v for k, v in NTH.items() if word.startswith(k))
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


# ---- the end, beginning or middle of a month


@_component(
    "end_of_month_ru",
    r"(?:в\s+)?конц[еау]\s+(?:(?P<next>следующего)\s+|этого\s+)?месяца"
    r"|(?:в\s+)?(?P<start>начал[еоа]|середин[еау])\s+(?:(?P<next2>следующего)\s+|этого\s+)?месяца"
    + _B,
)
def _end_of_month(m: re.Match[str], p: _Parts) -> _Parts | None:
    """The end, beginning or middle of a month: its last day, the 1st, the 15th."""
    word = m.group("start") or ""
    day = 15 if word.startswith("серед") else 1 if word else -1
    values: dict[str, Any] = {"monthday": day}
    if m.group("next") or m.group("next2"):
        values["monthoff"] = 1
    return _put(p, **values)


# ---- fortnightly rules: "раз в две недели"


@_component(
    "ru_raz_v",
    rf"раз\s+в\s+(?:(?P<n>{_NUM_RU})\s+)?(?P<u>недел[юи]|дн(?:я|ей)|день|сутки|месяц(?:а|ев)?"
    r"|час(?:а|ов)?|минут[уы]?|полчаса)" + _B,
)
def _ru_raz_v(m: re.Match[str], p: _Parts) -> _Parts | None:
    word = m.group("u")
    if word == "полчаса":
        return None if m.group("n") else _every_time(p, 30, "minute")
    if word.startswith(("час", "минут")):  # "раз в 2 часа", "раз в 15 минут"
        amount = _number(m.group("n")) if m.group("n") else 1.0
        if amount is None:
            return None
        return _every_time(p, amount, "hour" if word.startswith("час") else "minute")
    n = _int(m.group("n")) if m.group("n") else 1
    if n is None or not 1 <= n <= 365:
        return None
    unit = "week" if word.startswith("нед") else "month" if word.startswith("мес") else "day"
    return _put(p, every=True, interval=n if n > 1 else None, unit=unit)


_component("same_time_ru", r"в\s+(?:это|то\s+же)\s+(?:же\s+)?время")(_same_time)


# ---- the past, said as such: "два дня назад"


@_component(
    "ago_ru",
    rf"(?P<just>только\s+что)|(?P<ru>(?:{_REL_PART_RU})(?:\s+{_REL_PART_RU})*)\s+назад",
)
def _ago(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("just"):
        return _put(p, rel=((-1.0, "second"),))
    amounts = _rel_amounts(m.group("ru"), _REL_PART_RU)
    if amounts is None:
        return None
    return _put(p, rel=tuple((-amount, unit) for amount, unit in amounts))


# ---- parts of the day

_PARTS: Final[dict[str, str]] = {
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
    "до конца дня": "eod",
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


@_component("part_ru", rf"(?:{_alternation(_PARTS)}){_B}")
def _part(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _with_part(p, _PARTS[re.sub(r"\s+", " ", m.group(0))])


_SPELLING = re.compile(rf"(?<![0-9a-zа-я])(?:{_alternation(SPELLINGS)})(?![a-zа-я])")


def normalize(value: str) -> str:
    """``value`` (lower-cased) with the spellings residents type fixed ("щас", "седня")."""
    if _SPELLING.search(value):
        value = _SPELLING.sub(lambda m: SPELLINGS[m.group(0)], value)
    return value
