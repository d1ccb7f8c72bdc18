"""Quick polls: what a poll may say, how ``/poll`` reads, and how presses become votes.

``/poll Lunch? | Pizza | Sushi | multiple | closes friday 20:00`` or, one item per line::

    /poll Lunch?
    Pizza
    Sushi
    anonymous, closes friday 20:00

Rules (where the issue is silent):

* The command word (``/poll`` or ``/poll@SomeBot``) may be included or not. If the text holds a
  ``|`` (or the full-width ``｜`` of Chinese keyboards) it is the pipe form, otherwise the line
  form (the first non-blank line is the question). White space inside a segment or line is
  collapsed to single spaces; blank options (a trailing ``|``, an empty line) are dropped.
  In the pipe form, flags may also stand on lines of their own after the last option.
* In the line form, options written as a list lose their bullet ("- ", "* ", "• ", "· "), and
  their numbers ("1. ", "2) ", "3、") when every option is numbered 1, 2, 3... in order.
* Flags are trailing segments (or lines) made only of flag words: :data:`MULTIPLE_WORDS`,
  :data:`ANONYMOUS_WORDS`, and a closing word of :data:`CLOSES_WORDS` followed by a time phrase
  that runs to the end of the segment ("closes friday 20:00", "closes=in 2 days", "截止周五20点",
  "до пятницы 20:00"). Several may share a segment ("multiple anonymous closes friday"); Chinese
  flags need no spaces ("多选匿名"). The phrase is returned raw: times are parsed elsewhere.
  A trailing segment that is a single flag word is an option when taking it would leave fewer
  than two options ("Parking spots? | One | Multiple"); a closing phrase is always a flag. When
  several closing phrases are given, the last one counts. "closes" with no phrase raises
  ``poll.no_closing_time``.
* Options are compared case-insensitively, after NFKC and collapsing white space.
* Votes: single choice — press to vote, press the same option to retract, press another to
  move the vote; multiple choice — each press toggles that option.
* Bars and percentages are of voters (people), so with multiple choice they may add up to more
  than 100 %.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, TypeVar

from bot.domain.errors import DomainError
from bot.domain.text import one_line, utf16_len

MAX_QUESTION: Final[int] = 300
MAX_OPTION: Final[int] = 100
MIN_OPTIONS: Final[int] = 2
MAX_OPTIONS: Final[int] = 10

MULTIPLE_WORDS: Final[tuple[str, ...]] = (
    "multiple choice",
    "multiple-choice",
    "multi-choice",
    "multiple",
    "multi",
    "可多选",
    "多选",
    "可多選",
    "多選",
    "множественный выбор",
    "множественный",
    "несколько",
)
ANONYMOUS_WORDS: Final[tuple[str, ...]] = (
    "anonymous",
    "anon",
    "secret",
    "不记名",
    "无记名",
    "不記名",
    "無記名",
    "匿名",
    "秘密",
    # the whole phrase, as residents write it ("无记名投票"): the bare word would leave "投票"
    "不记名投票",
    "无记名投票",
    "不記名投票",
    "無記名投票",
    "匿名投票",
    "秘密投票",
    "анонимно",
    "анонимный",
    "тайно",
)
CLOSES_WORDS: Final[tuple[str, ...]] = (
    "closes",
    "closing",
    "截止",
    "截至",
    "закрытие",
    "до",
)
#: Joining words a Chinese closing word may carry: "截止到周五", "截止于周五", "截止於週五".
_ZH_LINKS: Final[str] = "到至于於"
_FLAG_SEPARATORS: Final[str] = " ,，、;；"
_COMMAND_RE: Final[re.Pattern[str]] = re.compile(r"^\s*/[A-Za-z0-9_]+(?:@\w+)?(?=\s|$)")
_PIPES_RE: Final[re.Pattern[str]] = re.compile("[|｜]")
_BULLET_RE: Final[re.Pattern[str]] = re.compile(r"^[-*•·]\s+")
_NUMBER_RE: Final[re.Pattern[str]] = re.compile(r"^(\d{1,2})\s*[.)、]\s*")


@dataclass(frozen=True, slots=True)
class PollFlags:
    """Trailing words of ``/poll``. ``closes`` is the raw time phrase, not parsed here."""

    multiple: bool = False
    anonymous: bool = False
    closes: str | None = None


def validate_poll(question: str, options: list[str]) -> tuple[str, list[str]]:
    """The trimmed question and options, or a DomainError. Blank options are dropped."""
    question = one_line(question)
    if not question:
        raise DomainError("poll.no_question")
    if len(question) > MAX_QUESTION:
        raise DomainError("poll.question_too_long", limit=MAX_QUESTION, length=len(question))
    cleaned = [one_line(o) for o in options]
    cleaned = [o for o in cleaned if o]
    if len(cleaned) < MIN_OPTIONS:
        raise DomainError("poll.too_few_options")
    if len(cleaned) > MAX_OPTIONS:
        raise DomainError("poll.too_many_options", limit=MAX_OPTIONS)
    seen: set[str] = set()
    for number, option in enumerate(cleaned, start=1):
        if len(option) > MAX_OPTION:
            raise DomainError("poll.option_too_long", number=number, limit=MAX_OPTION)
        key = unicodedata.normalize("NFKC", option).casefold()
        if key in seen:
            raise DomainError("poll.duplicate_option", text=option)
        seen.add(key)
    return question, cleaned


def parse_poll_command(text: str) -> tuple[str, list[str], PollFlags]:
    """Read ``/poll`` in the pipe or the line form (see the module docstring) and validate it."""
    body = _COMMAND_RE.sub("", text, count=1)
    line_form = _PIPES_RE.search(body) is None
    if line_form:
        parts = [" ".join(line.split()) for line in body.splitlines()]
        parts = [p for p in parts if p]
    else:
        segments = _PIPES_RE.split(body)
        # flags may follow the last option on lines of their own: "Q | A | B\nmultiple"
        lines = [line.strip() for line in segments[-1].splitlines() if line.strip()]
        flag_lines: list[str] = []
        while len(lines) > 1 and _parse_flags(lines[-1]) is not None:
            flag_lines.insert(0, lines.pop())
        segments[-1] = " ".join(lines)
        parts = [" ".join(segment.split()) for segment in segments] + flag_lines
    question, rest = (parts[0], parts[1:]) if parts else ("", [])
    rest = [p for p in rest if p]
    multiple = anonymous = False
    closes: str | None = None
    while rest:
        flags = _parse_flags(rest[-1])
        if flags is None or (flags.closes is None and len(rest) - 1 < MIN_OPTIONS):
            break
        rest.pop()
        multiple = multiple or flags.multiple
        anonymous = anonymous or flags.anonymous
        closes = closes if closes is not None else flags.closes
    if line_form:
        rest = _strip_list_marks(rest)
    question, options = validate_poll(question, rest)
    return question, options, PollFlags(multiple=multiple, anonymous=anonymous, closes=closes)


def _parse_flags(segment: str) -> PollFlags | None:
    """The flags a segment holds, or None when it holds anything else."""
    multiple = anonymous = False
    rest = segment
    while True:
        rest = rest.lstrip(_FLAG_SEPARATORS)
        if not rest:
            break
        word = _starts_with(rest, CLOSES_WORDS)
        if word is not None:
            phrase = rest[len(word) :].lstrip(" =:：")
            if _is_cjk(word[0]):
                phrase = phrase.lstrip(_ZH_LINKS).lstrip()
            if not phrase:
                raise DomainError("poll.no_closing_time")
            return PollFlags(multiple=multiple, anonymous=anonymous, closes=phrase)
        word = _starts_with(rest, MULTIPLE_WORDS)
        if word is not None:
            multiple = True
        else:
            word = _starts_with(rest, ANONYMOUS_WORDS)
            if word is None:
                return None
            anonymous = True
        rest = rest[len(word) :]
    if not (multiple or anonymous):
        return None
    return PollFlags(multiple=multiple, anonymous=anonymous)


def _starts_with(text: str, words: tuple[str, ...]) -> str | None:
    """The longest of ``words`` that ``text`` starts with as a whole word, case-insensitively."""
    for word in sorted(words, key=len, reverse=True):
        head = text[: len(word)]
        if head.casefold() != word:
            continue
        after = text[len(word) : len(word) + 1]
        if _is_cjk(word[-1]) or not after or not (after.isalnum() or after in "_-"):
            return head
    return None


def _is_cjk(char: str) -> bool:
    return unicodedata.name(char, "").startswith("CJK ")


def _strip_list_marks(options: list[str]) -> list[str]:
    options = [_BULLET_RE.sub("", o) for o in options]
    numbers = [_NUMBER_RE.match(o) for o in options]
    if options and all(
        m is not None and int(m.group(1)) == i for i, m in enumerate(numbers, start=1)
    ):
        return [o[m.end() :] for o, m in zip(options, numbers, strict=True) if m is not None]
    return options


# --- ballots -----------------------------------------------------------------------------------


def apply_vote(
    current: frozenset[int], option: int, *, multiple: bool, n_options: int
) -> frozenset[int]:
    """A voter's choices after pressing ``option`` (0-based). Out of range: ``error.stale_button``.

    Single choice: pressing the option you hold retracts it, any other press moves the vote
    there. Multiple choice: a press toggles that option and keeps the others.
    """
    if not 0 <= option < n_options:
        raise DomainError("error.stale_button")
    if multiple:
        return current - {option} if option in current else current | {option}
    if current == frozenset({option}):
        return frozenset()
    return frozenset({option})


@dataclass(frozen=True, slots=True)
class Tally:
    """``counts[i]`` people chose option i; ``voters`` people chose at least one option."""

    counts: tuple[int, ...]
    voters: int


Voter = TypeVar("Voter")


def tally(votes: Mapping[Voter, frozenset[int]], n_options: int) -> Tally:
    """Count the votes; empty choices (retracted) are not voters, stale indexes are ignored."""
    counts = [0] * n_options
    voters = 0
    for chosen in votes.values():
        valid = [i for i in chosen if 0 <= i < n_options]
        if valid:
            voters += 1
        for i in valid:
            counts[i] += 1
    return Tally(counts=tuple(counts), voters=voters)


FULL: Final[str] = "▓"
EMPTY: Final[str] = "░"


def bar(count: int, total: int, width: int = 10) -> str:
    """A text bar of ``width`` cells, ``count/total`` of them full, rounded half up.

    Any vote shows at least one full cell, and an option not chosen by everyone at least one
    empty cell, so 1 of 1000 and 999 of 1000 stay distinguishable from 0 and all. ``total`` 0
    gives an empty bar.
    """
    if width < 1 or count < 0 or total < 0 or count > total:
        raise ValueError(f"bad bar {count}/{total} x{width}")
    if total == 0 or count == 0:
        return EMPTY * width
    filled = _round_half_up(Fraction(count * width, total))
    if count < total:
        filled = min(max(filled, 1), width - 1) if width > 1 else filled
    return FULL * filled + EMPTY * (width - filled)


def percent(count: int, total: int) -> int:
    """``count/total`` in whole per cent, rounded half up; 0 when ``total`` is 0."""
    if total <= 0:
        return 0
    return _round_half_up(Fraction(100 * count, total))


def _round_half_up(value: Fraction) -> int:
    """Round a non-negative fraction to the nearest integer, halves up."""
    return int(value + Fraction(1, 2))


# --- long name lists ---------------------------------------------------------------------------


def fit_names(
    lists: Sequence[Sequence[str]],
    budget: int,
    more: Callable[[int], str],
    separator: str = ", ",
    size: Callable[[str], int] = utf16_len,
) -> list[str]:
    """Join each list of (already escaped) names, collapsing the tails so that all of them
    together take at most ``budget`` units of ``size`` (line breaks between lists included).
    ``size`` defaults to UTF-16 code units, as Telegram counts a message's length.

    Every non-empty list gets an equal share of what is left; what a short list does not use
    goes to the lists after it. A collapsed list ends with ``more(hidden)`` ("+43 more"); a
    list with no room for even one name becomes ``more(len(names))`` alone.
    """
    budget = max(budget, 0)
    waiting = sum(1 for names in lists if names)
    out: list[str] = []
    for names in lists:
        if not names:
            out.append("")
            continue
        share = budget // waiting
        waiting -= 1
        text = _collapse(names, share, more, separator, size)
        budget -= size(text) + 1
        out.append(text)
    return out


def _collapse(
    names: Sequence[str],
    limit: int,
    more: Callable[[int], str],
    separator: str,
    size: Callable[[str], int],
) -> str:
    full = separator.join(names)
    if size(full) <= limit:
        return full
    shown: list[str] = []
    used = 0
    for number, name in enumerate(names):
        hidden = len(names) - number - 1
        tail = size(separator) + size(more(hidden)) if hidden else 0
        piece = size(name) + (size(separator) if shown else 0)
        if used + piece + tail > limit:
            break
        shown.append(name)
        used += piece
    hidden = len(names) - len(shown)
    if not shown:
        return more(hidden)
    return separator.join(shown) + separator + more(hidden)
