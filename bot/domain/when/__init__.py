"""When: the moments residents type for reminders, in English, Chinese and Russian.

The package: ``core`` holds the model (what a phrase said) and its placing on the calendar,
the same for every language; ``en``, ``zh`` and ``ru`` hold each language's words and grammar
pieces; ``shared`` what all write alike (clocks and dates in digits); ``zones`` the zone names.
A new language is a new module that registers its pieces. This module reads a phrase with them
(and dateparser behind them) and is what the rest of the bot calls.

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
* A series starts at its first moment ahead ("every 2 days" said after 09:00: tomorrow).
  "every 3 hours", "каждые полчаса", "每隔两小时" start now (the first one step ahead) or at
  the time said; with the day's hours ("every 2 hours from 8am to 8pm") they are a daily rule
  at those hours. 每隔 with hours or minutes is the gap (every two hours), with days or weeks
  the days skipped (每隔一天: every other day).
* A range ("4-5pm", "下午四五点", "с 6 до 7 вечера", "через 10-15 минут") is read at its start;
  :attr:`When.end` keeps its end for the confirmation. "5 to 6 pm" is five minutes to six: a
  range needs "-", "from ... to" or "between ... and" (с ... до, между ... и, 到/至).

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
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.domain.errors import DomainError
from bot.domain.when import en, ru, shared, zh
from bot.domain.when.core import (
    _COMPONENTS,
    _EMPTY,
    ERROR_KEYS,
    When,
    _after,
    _checked,
    _Context,
    _localize,
    _next_occurrence,
    _NotUnderstood,
    _Parts,
    _resolve,
)

__all__ = ["ERROR_KEYS", "When", "next_after", "parse", "split", "understood_by", "warm"]
assert shared  # imported for the pieces it registers

_TEXT_LIMIT: Final = 60  # error texts are cut to this; dateparser is not asked about longer ones
_PHRASE_LIMIT: Final = 80  # split(): a leading time phrase is never longer
_LANGS: Final[tuple[str, ...]] = ("en", "zh_Hans", "ru")
_DATEPARSER_CODES: Final[dict[str, str]] = {"en": "en", "zh_Hans": "zh", "ru": "ru"}


# --------------------------------------------------------------------------------------------
# Reading a phrase.

_SEPARATORS = re.compile(r"(?:[\s,、]|的)+")
_TRIM = " \t\n\r,.;:!?。，、；：！？…-–—|"
_CHARACTERS = str.maketrans({"ё": "е", "’": "'", "`": "'"})


def _normalize(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).lower().translate(_CHARACTERS)
    value = ru.normalize(en.normalize(zh.fold(value)))
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
# dateparser, second.

_NO_DATEPARSER = re.compile(
    r"\d\s*[/.\-]\s*\d|every|each|daily|weekly|monthly|кажд|ежедн|еженед|ежемес|по\s+будн|每|天天"
    r"|(?:next|this)\s+week|недел|[下本这上]个?(?:周|星期|礼拜)"
    r"|weekend|выходн|周末"  # a weekend is a span, not a moment (and asking was the slowest path)
)
_DATEPARSER_PERIODS: Final = frozenset({"time", "day", "part_of_day"})
#: Bare numbers ("9 noon": September 21st?) and month names ("dec noon": December 21st?) are
#: where dateparser fills in what was not said from the base date: the grammar owns them.
_NUMBER_OR_MONTH = re.compile(
    rf"(?<![0-9a-zа-я:])\d+(?:st|nd|rd|th|-?[а-я]{{1,3}})?(?![0-9a-zа-я:.])"
    rf"|(?<![a-zа-я]){en._MONTH_EN}(?![0-9a-zа-я])|(?<![a-zа-я]){ru._MONTH_RU}(?![0-9a-zа-я])|月"
)
#: "3 days", "2h", "19h" alone: a duration or a time of day? Refused, not guessed.
_BARE_DURATION = re.compile(rf"{en._REL_PART_EN}|{ru._REL_PART_RU}|(?:{zh._REL_PART_ZH})+")


@lru_cache(maxsize=1)
def _dateparser() -> Any:
    import dateparser.date  # about 1 s cold: only when first needed (or by warm())

    return dateparser.date.DateDataParser


def _dateparser_languages(lang: str) -> list[str]:
    lang = "zh_Hans" if lang == "zh_Hant" else lang  # Traditional is folded before it is read
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
