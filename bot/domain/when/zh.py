"""Chinese: the words of a time and the grammar's Chinese pieces, Simplified and Traditional.

Residents in Hong Kong, Taiwan, Macau and the diaspora write Traditional characters, and in
Hong Kong often Cantonese words: 聽日 (tomorrow), 後日 (the day after), 晏晝 (afternoon),
今個星期五 (this Friday). :func:`fold` turns them into 明天, 后天, 下午, 这个星期五 before the
grammar reads the phrase. The character table is the part of OpenCC's Traditional-to-Simplified
table that time phrases and the words around them use; the word table is Cantonese and
Taiwanese usage. Numbers are read in Chinese numerals too (二十三, 两, 零五).
"""

from __future__ import annotations

import re
from typing import Any, Final

from bot.domain.when.core import (
    _AMOUNT_SPLITS,
    _E,
    _NUMBER_READERS,
    _UNIT_STEMS,
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

#: Traditional -> Simplified, one character each (the subset time phrases use).
_CHARS: Final[str] = (
    "週周禮礼點点號号後后鐘钟時时個个兩两這这聽听現现當当來来過过間间與与從从裡里裏里晝昼淩凌"
    "歲岁幾几會会開开們们麼么嗎吗請请記记訴诉說说發发議议樓楼區区門门車车電电場场費费齊齐"
    "屆届啟启曆历節节農农陰阴陽阳頭头國国東东華华樂乐雙双單单對对為为爲为於于終终夠够億亿"
    "萬万鐘钟準准還还臺台應应該该緊紧馬马據据趕赶遲迟尋寻黃黄鬧闹"
)
CHARS: Final[dict[int, str]] = {ord(a): b for a, b in zip(_CHARS[::2], _CHARS[1::2], strict=True)}

#: Cantonese (and Taiwanese) words -> the Mandarin words of the grammar, after CHARS.
_WORDS: Final[dict[str, str]] = {
    "听日朝早": "明天早上",
    "听朝早": "明天早上",
    "听日": "明天",
    "听朝": "明早",
    "听晚黑": "明晚",
    "听晚": "明晚",
    "大后日": "大后天",
    "后日": "后天",
    "寻日": "昨天",
    "琴日": "昨天",
    "前日": "前天",
    "今朝早": "今天早上",
    "今朝": "今早",
    "今晚黑": "今晚",
    "夜晚黑": "晚上",
    "晚黑": "晚上",
    "朝早": "早上",
    "晏昼": "下午",
    "下昼": "下午",
    "上昼": "上午",
    "今个": "这个",
    "呢个": "这个",
    "而家": "现在",
    "宜家": "现在",
    "即刻": "立刻",
    "嘅": "的",  # Cantonese: 下個禮拜嘅禮拜三
}
_WORD_PATTERN: Final = re.compile("|".join(sorted(map(re.escape, _WORDS), key=len, reverse=True)))
#: "三点一个字" is 3:05 in Cantonese: a 字 is five minutes on the clock face.
_ZI: Final = re.compile(r"(点|时)(?:钟)?([一二两三四五六七八九十]|1[01]|[1-9])个字")
_ZI_DIGITS: Final[dict[str, int]] = {
    "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    "十": 10,
}  # fmt: skip


def _zi(m: re.Match[str]) -> str:
    count = m.group(2)
    fives = int(count) if count.isdigit() else _ZI_DIGITS[count]
    return f"{m.group(1)}{fives * 5:02d}分"


def fold(text: str) -> str:
    """``text`` (lower-cased, NFKC) with Traditional characters and Cantonese words folded."""
    if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return text
    value = text.translate(CHARS)
    value = _WORD_PATTERN.sub(lambda m: _WORDS[m.group(0)], value)
    return _ZI.sub(_zi, value)


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
_ZH_NUMERALS = "零〇一二两三四五六七八九十"
_NUM_ZH = rf"\d{{1,4}}|[{_ZH_NUMERALS}]{{1,4}}"


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


_WD_ZH = "一二三四五六日天1234567"
#: One weekday in a Chinese list; a digit day is not the start of an hour ("周五20点", "周五2点").
#: One weekday in a Chinese list; a digit day is not the start of an hour ("周五20点", "周五2点").
_WD_ZH_ITEM = r"(?:[一二三四五六日天]|[1-7](?![\d点时:：.]))"
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
#: The words before a clock ("在9:30").
PREP: Final = r"在|于"

_REL_UNIT_ZH = r"(?:秒钟|秒|分钟|分|小时|钟头|个钟|钟|天|日|周|星期|礼拜|月|年)"
_REL_PART_ZH = rf"(?:{_NUM_ZH}|半)个?半?{_REL_UNIT_ZH}"

_NUMBER_READERS.append(_zh_int)
for _name, _stems in (
    ("second", ("秒",)),
    ("minute", ("分钟", "分")),
    ("hour", ("小时", "钟头", "个钟", "钟")),
    ("day", ("天", "日")),
    ("week", ("周", "星期", "礼拜")),
    ("month", ("月",)),
    ("year", ("年",)),
):
    _UNIT_STEMS[_name].extend(_stems)
_AMOUNT_SPLITS.append(re.compile(r"(.+?)(个?半?)(" + _REL_UNIT_ZH + r")$"))  # 两个半小时


# ---- recurrence markers and units


@_component("every_zh", r"每(?:逢|一个|一|个)?")
def _every(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, every=True)


@_component(
    "every_n_zh",
    r"每(?P<n>[两二三四五六七八九十]|\d{1,2})个?(?P<u>天|周|星期|礼拜)"
    r"|每(?:隔)?(?P<tn>[一两二三四五六七八九十]{1,3}|\d{1,3}(?:\.\d)?|半)(?P<half>个半|半)?个?"
    r"(?P<tu>小时|钟头|钟|分钟|分)",
)
def _every_n_zh(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("tu"):  # 每两小时, 每隔两小时 (the gap between them: every two hours), 每半小时
        word = m.group("tn")
        amount = 0.5 if word == "半" else _number(word)
        if amount is None or (word == "半" and m.group("half")):
            return None
        amount += 0.5 if m.group("half") else 0
        return _every_time(p, amount, "minute" if m.group("tu").startswith("分") else "hour")
    n = _int(m.group("n"))
    if n is None or not 1 <= n <= 365:
        return None
    unit = "day" if m.group("u") == "天" else "week"
    return _put(p, every=True, interval=n if n > 1 else None, unit=unit)


@_component("adverb_zh", r"天天|日日")
def _adverb(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _put(p, every=True, unit="day")


_component(
    "unit_zh",
    r"(?:(?P<work>工作日)|(?P<weekend>周末)|(?P<day>天|日)|(?P<week>周|星期|礼拜)|(?P<month>月)"
    r"|(?P<year>年)|(?P<morning>早上|早晨|早)|(?P<evening>晚上|晚)|(?P<hour>小时|钟头)"
    r"|(?P<minute>分钟))" + _E,
)(_unit)


# ---- ranges, taken at their start: 下午四五点, 4点到5点, 三点到四点半, 十到十五分钟后

_ZH_HOUR = rf"\d{{1,2}}|[{_ZH_NUMERALS}]{{1,3}}"
_ZH_MIN = r"半|一刻|三刻|\d{1,2}分?|[零一二三四五六七八九十]{1,3}分"


def _zh_minute(word: str | None) -> int | None:
    if not word:
        return 0
    return {"半": 30, "一刻": 15, "三刻": 45}.get(word) or _int(word.rstrip("分"))


@_component(
    "range_zh",
    rf"(?P<h1>{_ZH_HOUR})(?:点|时)?钟?(?P<m1>{_ZH_MIN})?(?:到|至|-|–|—|~)(?P<h2>{_ZH_HOUR})(?:点|时)"
    rf"钟?(?P<m2>{_ZH_MIN})?|(?P<a>十一|[一二三四五六七八九])(?P<b>[二三四五六七八九十])(?:点|时)钟?",
)
def _range(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("a"):  # 四五点: four or five, so from four to five
        a, b = _int(m.group("a")), _int(m.group("b"))
        if a == 11 and b == 2:
            b = 12  # 十一二点
        if a is None or b is None or b != a + 1:
            return None
        return _with_range(p, (a, 0, None), (b, 0, None), m)
    start = (_int(m.group("h1")), _zh_minute(m.group("m1")), None)
    return _with_range(p, start, (_int(m.group("h2")), _zh_minute(m.group("m2")), None), m)


@_component(
    "in_range_zh",
    rf"(?:再?过)?(?P<a>{_NUM_ZH})(?:到|至|-|–|~)(?P<b>{_NUM_ZH})个?(?P<u>分钟|小时|钟头|天|周|星期|个月)"
    r"(?:以后|之后|后)",
)
def _in_range(m: re.Match[str], p: _Parts) -> _Parts | None:
    return _rel_range(p, m.group("a"), m.group("b"), m.group("u").removeprefix("个"))


# ---- relative offsets


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


@_component("day_zh", rf"(?:{_alternation(_ZH_DAY_WORDS)})")
def _day(m: re.Match[str], p: _Parts) -> _Parts | None:
    offset, part = _ZH_DAY_WORDS[m.group(0)]
    if part is None:
        return _put(p, offset=offset)
    return _with_part(_put(p, offset=offset), part)


# ---- weekdays


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
    "weekday_range_zh",
    rf"(?:周|星期|礼拜)(?P<e>[{_WD_ZH}])(?:到|至|-|~)(?:周|星期|礼拜)?(?P<f>[{_WD_ZH}])",
)
def _weekday_range(m: re.Match[str], p: _Parts) -> _Parts | None:
    first, last = _ZH_WD_INDEX[m.group("e")], _ZH_WD_INDEX[m.group("f")]
    if last <= first:
        return None
    return _put(p, every=True, days=tuple(range(first, last + 1)))


_component(
    "weekmod_zh",
    r"(?:(?P<after>下下个?(?:周|星期|礼拜))|(?P<next>下一?个?(?:周|星期|礼拜))"
    r"|(?P<this>本周|这一?个?(?:周|星期|礼拜)))(?![0-9a-zа-я一二三四五六日天末])",
)(_weekmod)


# ---- dates


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


# ---- times of day


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

_component(
    "now_zh",
    r"现在就|现在|马上|立刻|立即|即刻|此刻|此时|当前|当下|眼下"
    rf"|(?:{_REL_PART_ZH})+(?:之内|以内|内)",
)(_now)


# ---- words that only fill ("三点左右", "准时")

_component("filler_zh", r"(?:大约|大概|约|准时|在|于|从)" + _E)(_filler)
_component("post_filler_zh", r"(?:左右|前后|整|正(?!午)|准时|钟|多|以前|之前|前|开始|起)" + _E)(
    _post_filler
)


# ---- minutes before an hour: 差一刻三点, 三点差五分

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


# ---- the nth weekday of a month


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


# ---- the beginning, middle or end of a month: 月初, 月中, 下个月底


@_component("end_of_month_zh", r"(?P<off>下个?|本|这个?)?月(?P<start>初|中)")
def _end_of_month(m: re.Match[str], p: _Parts) -> _Parts | None:
    values: dict[str, Any] = {"monthday": 15 if m.group("start") == "中" else 1}
    if (m.group("off") or "").startswith("下"):
        values["monthoff"] = 1
    return _put(p, **values)


# ---- every other: 每隔一周


@_component(
    "every_gap_zh", r"每隔(?P<n>[一两二三四五六七八九十]|\d{1,2})个?(?P<u>天|周|星期|礼拜|月)"
)
def _every_gap_zh(m: re.Match[str], p: _Parts) -> _Parts | None:
    n = _int(m.group("n"))
    if n is None or not 1 <= n <= 364:
        return None
    unit = {"天": "day", "月": "month"}.get(m.group("u"), "week")
    return _put(p, every=True, interval=n + 1, unit=unit)


_component("same_time_zh", r"这个时候|这个时间|同一时间|同一个时间")(_same_time)


# ---- the past, said as such: "三天前"


@_component("ago_zh", rf"(?P<just>刚才|刚刚)|(?P<zh>(?:{_REL_PART_ZH})+)(?:以前|之前|前)")
def _ago(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("just"):
        return _put(p, rel=((-1.0, "second"),))
    amounts = _rel_amounts(m.group("zh"), _REL_PART_ZH)
    if amounts is None:
        return None
    return _put(p, rel=tuple((-amount, unit) for amount, unit in amounts))


# ---- parts of the day

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


@_component("part_zh", rf"(?:{_alternation(_ZH_PARTS)})|(?P<short>[早晚])(?=\d|[{_ZH_NUMERALS}])")
def _part(m: re.Match[str], p: _Parts) -> _Parts | None:
    if m.group("short"):
        return _put(p, part="morning" if m.group("short") == "早" else "evening")
    return _with_part(p, _ZH_PARTS[m.group(0)])
