"""Proposals (议题) and the three meetings around them: pure rules, no I/O.

A resident proposes; households support it (one support per unit of the register); past the
group's threshold it is on the agenda. A hearing (听证会) or a coordination meeting (协调会)
collects short statements that households agree or disagree with; a vote (a formal decision)
decides; a lead reports progress; a review (评议) asks each household how it went.

Everything here counts units, never people: the storage and the handlers map a press to the
presser's approved units.
"""

from __future__ import annotations

import calendar
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Final

from bot.domain.errors import DomainError
from bot.domain.languages import Keywords, WordSet, fold_hant

# --- stages -----------------------------------------------------------------------------------

COLLECTING: Final = "collecting"
AGENDA: Final = "agenda"
HEARING: Final = "hearing"
COORDINATION: Final = "coordination"
VOTE: Final = "vote"
DECIDED: Final = "decided"
PROGRESS: Final = "progress"
REVIEW: Final = "review"
REVIEWED: Final = "reviewed"
DECLINED: Final = "declined"
EXPIRED: Final = "expired"

#: In the order a proposal goes through them (shown on the card and in /proposals).
STAGES: Final[tuple[str, ...]] = (
    COLLECTING,
    AGENDA,
    HEARING,
    COORDINATION,
    VOTE,
    DECIDED,
    PROGRESS,
    REVIEW,
    REVIEWED,
    DECLINED,
    EXPIRED,
)
#: Stages after which nothing changes any more.
FINAL: Final[frozenset[str]] = frozenset({REVIEWED, DECLINED, EXPIRED})
#: Stages in which the meeting collects statements.
MEETINGS: Final[frozenset[str]] = frozenset({HEARING, COORDINATION})

#: Which stage may follow which. A vote that does not pass goes back to the agenda.
TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    COLLECTING: frozenset({AGENDA, DECLINED, EXPIRED}),
    AGENDA: frozenset({HEARING, COORDINATION, VOTE, DECLINED}),
    HEARING: frozenset({HEARING, COORDINATION, VOTE, DECLINED}),
    COORDINATION: frozenset({HEARING, COORDINATION, VOTE, DECLINED}),
    VOTE: frozenset({DECIDED, AGENDA}),
    DECIDED: frozenset({PROGRESS, REVIEW}),
    PROGRESS: frozenset({PROGRESS, REVIEW}),
    REVIEW: frozenset({REVIEWED}),
    REVIEWED: frozenset(),
    DECLINED: frozenset(),
    EXPIRED: frozenset(),
}

#: Stages in which households may support (before the agenda, and on it until a meeting).
SUPPORTABLE: Final[frozenset[str]] = frozenset({COLLECTING, AGENDA})


def may_move(stage: str, to: str) -> bool:
    return to in TRANSITIONS.get(stage, frozenset())


def check_move(stage: str, to: str) -> None:
    """Raise ``proposal.wrong_stage`` (stage = where it is) when ``to`` may not follow."""
    if not may_move(stage, to):
        raise DomainError("proposal.wrong_stage", stage=stage)


# --- thresholds -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Threshold:
    """A share of the registered households (``share``) or a fixed number (``count``)."""

    share: Fraction | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if (self.share is None) == (self.count is None):
            raise ValueError("a threshold is a share or a count")
        if self.share is not None and not 0 < self.share <= 1:
            raise ValueError(f"bad share {self.share}")
        if self.count is not None and not 1 <= self.count <= MAX_COUNT:
            raise ValueError(f"bad count {self.count}")

    @property
    def text(self) -> str:
        """How it is stored and shown: ``1/5`` or ``12``."""
        if self.share is not None:
            return f"{self.share.numerator}/{self.share.denominator}"
        return str(self.count)

    def needed(self, households: int) -> int:
        """Supports needed with ``households`` units registered: the share rounded up, at least
        one (a share of an empty register still needs someone)."""
        if self.count is not None:
            return self.count
        assert self.share is not None
        return max(1, math.ceil(self.share * households))


#: The Organic Law of Urban Residents' Committees: 1/5 of households may call a meeting.
DEFAULT_THRESHOLD: Final = "1/5"
MAX_COUNT: Final = 100_000

_FRACTION_RE = re.compile(r"(\d{1,6})\s*/\s*(\d{1,6})")
_PERCENT_RE = re.compile(r"(\d{1,3}(?:\.\d{1,2})?)\s*%")
_DECIMAL_RE = re.compile(r"0?\.(\d{1,4})")
_COUNT_RE = re.compile(r"(\d{1,6})\s*(?:households?|units?|户|家|квартир[аы]?|домохозяйств[оа]?)?")
#: 五分之一, 三分之一 ...
_ZH_DIGITS: Final[dict[str, int]] = dict(zip("一二三四五六七八九十", range(1, 11), strict=True))
_ZH_FRACTION_RE = re.compile(r"([一二三四五六七八九十])分之([一二三四五六七八九十])")


def parse_threshold(text: str) -> Threshold:
    """``1/5``, ``20%``, ``0.2``, ``五分之一`` (a share) or ``12`` (households).

    Refusal: ``proposal.bad_threshold`` (value)."""
    raw = unicodedata.normalize("NFKC", text).strip().casefold().replace(",", ".")
    try:
        if m := _FRACTION_RE.fullmatch(raw):
            return Threshold(share=Fraction(int(m.group(1)), int(m.group(2))))
        if m := _PERCENT_RE.fullmatch(raw):
            return Threshold(share=Fraction(m.group(1)) / 100)
        if m := _DECIMAL_RE.fullmatch(raw):
            return Threshold(share=Fraction("0." + m.group(1)))
        if m := _ZH_FRACTION_RE.fullmatch(raw):
            whole, part = _ZH_DIGITS[m.group(1)], _ZH_DIGITS[m.group(2)]
            return Threshold(share=Fraction(part, whole))
        if m := _COUNT_RE.fullmatch(raw):
            return Threshold(count=int(m.group(1)))
    except (ValueError, ZeroDivisionError):
        pass
    raise DomainError("proposal.bad_threshold", value=text.strip()[:64])


def threshold_or_default(text: str | None) -> Threshold:
    try:
        return parse_threshold(text or DEFAULT_THRESHOLD)
    except DomainError:
        return parse_threshold(DEFAULT_THRESHOLD)


def reached(supports: int, threshold: Threshold, households: int) -> bool:
    return supports >= threshold.needed(households)


# --- expiry and review dates ------------------------------------------------------------------

DEFAULT_EXPIRY_DAYS: Final = 30
MIN_EXPIRY_DAYS: Final = 1
MAX_EXPIRY_DAYS: Final = 365
#: The review opens this many months after the decision (Loomio's "review date").
REVIEW_MONTHS: Final = 3
#: A review stays open this long, then its result is posted.
REVIEW_DAYS: Final = 7


def parse_expiry_days(text: str) -> int:
    """Days a proposal collects support: ``30``, ``30d``, ``30天``, ``30 дней``."""
    match = re.fullmatch(r"(\d{1,4})\s*(d|days?|天|д|дн|дней|дня|день)?", text.strip().casefold())
    value = int(match.group(1)) if match else 0
    if not MIN_EXPIRY_DAYS <= value <= MAX_EXPIRY_DAYS:
        raise DomainError(
            "proposal.bad_expiry", value=text.strip()[:64], min=MIN_EXPIRY_DAYS, max=MAX_EXPIRY_DAYS
        )
    return value


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the last day of a shorter month: 30 Nov + 3 = 28 Feb)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def review_date(decided_at: datetime) -> datetime:
    return add_months(decided_at, REVIEW_MONTHS)


def review_end(opened_at: datetime) -> datetime:
    return opened_at + timedelta(days=REVIEW_DAYS)


# --- what residents type ----------------------------------------------------------------------

MAX_TITLE: Final = 120
MAX_BODY: Final = 1500
MAX_STATEMENT: Final = 200
#: Minutes are kept whole up to this (a file's text); the posted card shows MINUTES_SHOWN.
MAX_MINUTES: Final = 20_000
MINUTES_SHOWN: Final = 2_500
MAX_PROGRESS: Final = 300
MAX_REASON: Final = 300
MAX_REMARK: Final = 140
MAX_DISPUTE: Final = 200
MAX_ASSIGNEE: Final = 80
#: Statements one resident may add to one proposal's meetings.
MAX_STATEMENTS_EACH: Final = 5
#: Statements one proposal may hold (the card shows the top few).
MAX_STATEMENTS: Final = 200
#: Proposals one resident may have collecting support in a group at once.
MAX_OPEN_EACH: Final = 3


def _one_line(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _visible(text: str) -> bool:
    return any(not unicodedata.category(c).startswith(("Z", "C", "M")) for c in text)


@dataclass(frozen=True, slots=True)
class Draft:
    title: str
    body: str


def parse_proposal(text: str) -> Draft:
    """``<title> | <what and why>`` (or the title on the first line, the rest below)."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if "|" in raw:
        head, _, rest = raw.partition("|")
    else:
        head, _, rest = raw.partition("\n")
    title = _one_line(head)
    body = "\n".join(line.strip() for line in rest.strip().splitlines()).strip()
    if not title or not _visible(title):
        raise DomainError("proposal.usage")
    if len(title) > MAX_TITLE:
        raise DomainError("proposal.title_too_long", limit=MAX_TITLE)
    if len(body) > MAX_BODY:
        raise DomainError("proposal.body_too_long", limit=MAX_BODY)
    return Draft(title, body)


def clean_statement(text: str) -> str:
    """One line, visible, at most MAX_STATEMENT characters."""
    line = _one_line(text or "")
    if not line or not _visible(line):
        raise DomainError("proposal.say_usage")
    if len(line) > MAX_STATEMENT:
        raise DomainError("proposal.statement_too_long", limit=MAX_STATEMENT)
    return line


def clean_text(text: str, limit: int, usage: str) -> str:
    """Text with its lines (minutes, a reason, progress), trimmed; refused when empty or long."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    body = "\n".join(line.rstrip() for line in raw.splitlines()).strip()
    if not body or not _visible(body):
        raise DomainError(usage)
    if len(body) > limit:
        raise DomainError("proposal.text_too_long", limit=limit)
    return body


_PERCENT_AT_START = re.compile(r"^(\d{1,3})\s*%\s*(.*)$", re.S)
_PERCENT_AT_END = re.compile(r"^(.*?)\s*(\d{1,3})\s*%$", re.S)
#: ``/progress T3 assign <who>``: the words that name who carries it out.
ASSIGN_WORDS: Final[frozenset[str]] = WordSet(
    {"assign", "assignee", "by", "who", "执行人", "负责人", "负责", "исполнитель", "поручить"}
)


@dataclass(frozen=True, slots=True)
class Progress:
    text: str
    percent: int | None


def parse_progress(text: str) -> Progress:
    """``40% lamps ordered`` / ``lamps ordered 40%`` / ``lamps ordered`` (percent 0–100)."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    percent: int | None = None
    if m := _PERCENT_AT_START.match(raw):
        percent, raw = int(m.group(1)), m.group(2)
    elif m := _PERCENT_AT_END.match(raw):
        raw, percent = m.group(1), int(m.group(2))
    if percent is not None and percent > 100:
        raise DomainError("proposal.bad_percent", value=percent)
    body = _one_line(raw)
    if not body and percent is not None:
        return Progress("", percent)
    return Progress(clean_text(body, MAX_PROGRESS, "proposal.progress_usage"), percent)


def clean_assignee(text: str) -> str:
    line = _one_line(text or "")
    if not line or not _visible(line):
        raise DomainError("proposal.progress_usage")
    if len(line) > MAX_ASSIGNEE:
        raise DomainError("proposal.text_too_long", limit=MAX_ASSIGNEE)
    return line


# --- statements: agreement per household ------------------------------------------------------

AGREE: Final = "agree"
DISAGREE: Final = "disagree"
PASS: Final = "pass"
CHOICES: Final[tuple[str, ...]] = (AGREE, DISAGREE, PASS)
#: Households that must have answered before a statement counts as agreed or divisive.
MIN_ANSWERS: Final = 2
#: Agreed: at least this share of the answering households agree (and few disagree).
AGREED_SHARE: Final = Fraction(2, 3)
#: Divisive: both sides hold at least this share of those who took a side.
DIVISIVE_SHARE: Final = Fraction(1, 3)


@dataclass(frozen=True, slots=True)
class Tally:
    """Households' answers to one statement."""

    statement_id: int
    agree: int = 0
    disagree: int = 0
    passed: int = 0

    @property
    def answers(self) -> int:
        return self.agree + self.disagree + self.passed

    @property
    def sided(self) -> int:
        return self.agree + self.disagree


def tally(statement_id: int, choices: Iterable[str]) -> Tally:
    """Count the households' choices (one choice per household, as stored)."""
    counts = {c: 0 for c in CHOICES}
    for choice in choices:
        if choice not in counts:
            raise ValueError(f"unknown choice {choice!r}")
        counts[choice] += 1
    return Tally(statement_id, counts[AGREE], counts[DISAGREE], counts[PASS])


def is_agreed(t: Tally) -> bool:
    return t.answers >= MIN_ANSWERS and Fraction(t.agree, t.answers) >= AGREED_SHARE


def is_divisive(t: Tally) -> bool:
    """Both sides hold a third of those who took one (and it is not agreed: 2 for, 1 against
    is agreement)."""
    if t.answers < MIN_ANSWERS or t.sided < MIN_ANSWERS or is_agreed(t):
        return False
    return Fraction(min(t.agree, t.disagree), t.sided) >= DIVISIVE_SHARE


def most_agreed(tallies: Sequence[Tally], limit: int = 3) -> list[Tally]:
    """Agreed statements, the broadest agreement first (share of agreeing households, then how
    many answered, then the oldest)."""
    found = [t for t in tallies if is_agreed(t)]
    found.sort(key=lambda t: (-Fraction(t.agree, t.answers), -t.answers, t.statement_id))
    return found[:limit]


def divisive(tallies: Sequence[Tally], limit: int = 3) -> list[Tally]:
    """Statements that divide, the closest split first (then the most households)."""
    found = [t for t in tallies if is_divisive(t)]
    found.sort(
        key=lambda t: (abs(Fraction(t.agree - t.disagree, t.sided)), -t.sided, t.statement_id)
    )
    return found[:limit]


# --- review -----------------------------------------------------------------------------------

WELL: Final = "well"
PARTLY: Final = "partly"
NOT_DONE: Final = "not"
ANSWERS: Final[tuple[str, ...]] = (WELL, PARTLY, NOT_DONE)


@dataclass(frozen=True, slots=True)
class ReviewResult:
    well: int
    partly: int
    not_done: int
    households: int  # registered when the review closed

    @property
    def answers(self) -> int:
        return self.well + self.partly + self.not_done

    @property
    def verdict(self) -> str | None:
        """``well`` or ``not`` when more than half of the answers say so, else ``partly``;
        ``None`` when nobody answered."""
        if not self.answers:
            return None
        if 2 * self.well > self.answers:
            return WELL
        if 2 * self.not_done > self.answers:
            return NOT_DONE
        return PARTLY


def review_result(answers: Iterable[str], households: int) -> ReviewResult:
    counts = {a: 0 for a in ANSWERS}
    for answer in answers:
        if answer not in counts:
            raise ValueError(f"unknown answer {answer!r}")
        counts[answer] += 1
    return ReviewResult(counts[WELL], counts[PARTLY], counts[NOT_DONE], households)


_ANSWER_WORDS: Final[dict[str, str]] = Keywords(
    {
        **dict.fromkeys(
            ("well", "well done", "good", "done", "yes", "好", "做得好", "满意", "хорошо", "да"),
            WELL,
        ),
        **dict.fromkeys(("partly", "part", "some", "部分", "一般", "部分完成", "частично"), PARTLY),
        **dict.fromkeys(
            ("not", "no", "bad", "not done", "没做", "未完成", "不满意", "нет", "не сделано"),
            NOT_DONE,
        ),
    }
)


def parse_answer(word: str) -> str | None:
    return _ANSWER_WORDS.get(_one_line(word).casefold())


def split_answer(text: str) -> tuple[str | None, str | None]:
    """``partly one lamp flickers`` -> (partly, "one lamp flickers"); ``не сделано совсем`` ->
    (not, "совсем"); a text without an answer word is a remark alone (None, text)."""
    line = _one_line(text or "")
    folded = fold_hant(line.casefold())
    if len(folded) == len(line):
        # the longest answer word the line starts with, followed by a space, a punctuation
        # mark or nothing ("Хорошо!", "well, mostly"); a Chinese word of two characters or
        # more needs nothing after it, as Chinese writes no spaces ("部分完成，一盏灯还在闪")
        for key in _ANSWER_KEYS:
            if not folded.startswith(key):
                continue
            after = folded[len(key) : len(key) + 1]
            if after and after not in _AFTER_ANSWER and not _is_cjk_word(key):
                continue
            rest = line[len(key) :].lstrip(_AFTER_ANSWER)
            return _ANSWER_WORDS[key], rest or None
    return None, line or None


#: The answer words, longest first ("not done" before "not", "部分完成" before "部分").
_ANSWER_KEYS: Final[tuple[str, ...]] = tuple(sorted(_ANSWER_WORDS, key=len, reverse=True))
#: What may follow an answer word before the remark.
_AFTER_ANSWER: Final[str] = " ,.!?:;—–，。！？：；、…"


def _is_cjk_word(word: str) -> bool:
    return len(word) >= 2 and all("\u4e00" <= char <= "\u9fff" for char in word)
