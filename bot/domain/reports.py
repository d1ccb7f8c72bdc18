"""Repair and problem reports: what a report says, its states, who counts for Me too, when it
is overdue. Pure rules; storage and Telegram are elsewhere (storage/reports.py,
handlers/reports.py).

States::

    open -> acknowledged -> in_progress -> fixed -> confirmed   (the reporter: "yes, fixed")
      \\            \\              \\           \\-> open         (the reporter: "not really")
       \\------------\\--------------\\-> duplicate | not_ours   (with a one-line reason)

A handler may skip steps forward (open -> fixed). ``draft`` is a private report written in a
private chat whose group is not chosen yet.

Overdue: a report still ``open`` ``ack_days`` after ``since`` (its creation, or its reopening)
is overdue for acknowledgement; one not fixed ``fix_days`` after ``since`` is overdue for the
fix. Each is told once (``flagged_*``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.domain.errors import DomainError
from bot.domain.languages import Keywords, WordSet

#: The built-in categories, in the order of the card's buttons.
CATEGORIES: Final[tuple[str, ...]] = (
    "lift",
    "water",
    "electricity",
    "cleaning",
    "safety",
    "noise",
    "other",
)
#: Categories a group may add (the card's keyboard stays small enough for an old phone).
MAX_CUSTOM: Final[int] = 8
MAX_CATEGORY_NAME: Final[int] = 24

MAX_WHAT: Final[int] = 300
MAX_WHERE: Final[int] = 100
MAX_REASON: Final[int] = 200

DRAFT = "draft"
OPEN = "open"
ACKNOWLEDGED = "acknowledged"
IN_PROGRESS = "in_progress"
FIXED = "fixed"
CONFIRMED = "confirmed"
DUPLICATE = "duplicate"
NOT_OURS = "not_ours"

#: States still waiting for someone to act (shown in /reports, counted as overdue).
ACTIVE: Final[frozenset[str]] = frozenset({OPEN, ACKNOWLEDGED, IN_PROGRESS})
#: States a report never leaves.
FINAL: Final[frozenset[str]] = frozenset({CONFIRMED, DUPLICATE, NOT_OURS})
#: States that need a reason.
NEEDS_REASON: Final[frozenset[str]] = frozenset({DUPLICATE, NOT_OURS})

#: What a handler may set from each state.
_BY_HANDLER: Final[dict[str, frozenset[str]]] = {
    OPEN: frozenset({ACKNOWLEDGED, IN_PROGRESS, FIXED, DUPLICATE, NOT_OURS}),
    ACKNOWLEDGED: frozenset({IN_PROGRESS, FIXED, DUPLICATE, NOT_OURS}),
    IN_PROGRESS: frozenset({FIXED, DUPLICATE, NOT_OURS}),
    FIXED: frozenset(),
}
#: What the reporter may answer to "Is it fixed?".
_BY_REPORTER: Final[dict[str, frozenset[str]]] = {FIXED: frozenset({CONFIRMED, OPEN})}

#: Words a handler types: ``/report F3 ack``.
STATE_WORDS: Final[dict[str, str]] = Keywords(
    {
        **dict.fromkeys(
            ("ack", "acknowledge", "acknowledged", "seen", "收到", "已收到", "принято"),
            ACKNOWLEDGED,
        ),
        **dict.fromkeys(
            ("progress", "in_progress", "working", "处理中", "在修", "в работе", "работаем"),
            IN_PROGRESS,
        ),
        **dict.fromkeys(
            (
                "fixed",
                "done",
                "repaired",
                "已修好",
                "修好了",
                "已解决",
                "исправлено",
                "починили",
                "готово",
            ),
            FIXED,
        ),
        **dict.fromkeys(("duplicate", "dup", "重复", "дубль", "повтор"), DUPLICATE),
        **dict.fromkeys(
            ("notours", "not_ours", "other", "不归我们", "非我们负责", "не_наше", "не наше"),
            NOT_OURS,
        ),
    }
)

#: Words that make a report private: ``/report private ...``.
PRIVATE_WORDS: Final[frozenset[str]] = WordSet(
    {"private", "privately", "私密", "私下", "保密", "приватно", "лично", "личное"}
)


@dataclass(frozen=True, slots=True)
class Draft:
    what: str
    where: str | None
    private: bool


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf") or ch == "\n")
    return re.sub(r"[ \t]+", " ", text).strip()


def parse_report(text: str) -> Draft:
    """``"Lift stuck on 3 | entrance 2"`` -> what and where; a first word ``private`` makes it
    private. Refusals: ``report.usage``, ``report.too_long`` (max)."""
    raw = _clean(text or "")
    words = raw.split(maxsplit=1)
    private = bool(words) and words[0].casefold() in PRIVATE_WORDS
    if private:
        raw = words[1] if len(words) > 1 else ""
    what, _, where = raw.partition("|")
    what = " ".join(what.split())
    where_text = " ".join(where.replace("|", " ").split()) or None
    if not what:
        raise DomainError("report.usage")
    if len(what) > MAX_WHAT:
        raise DomainError("report.too_long", max=MAX_WHAT)
    if where_text is not None and len(where_text) > MAX_WHERE:
        raise DomainError("report.too_long", max=MAX_WHERE)
    return Draft(what=what, where=where_text, private=private)


def parse_reason(text: str) -> str:
    """One line of at most ``MAX_REASON`` characters (the first line if several).
    Refusals: ``report.reason_needed``, ``report.too_long``."""
    line = _clean(text or "").split("\n", 1)[0].strip()
    if not line:
        raise DomainError("report.reason_needed")
    if len(line) > MAX_REASON:
        raise DomainError("report.too_long", max=MAX_REASON)
    return line


def parse_state(word: str) -> str | None:
    return STATE_WORDS.get(unicodedata.normalize("NFKC", word).strip().casefold())


def handler_may_set(current: str, target: str) -> bool:
    return target in _BY_HANDLER.get(current, frozenset())


def reporter_may_set(current: str, target: str) -> bool:
    return target in _BY_REPORTER.get(current, frozenset())


def change(current: str, target: str, *, by_reporter: bool, reason: str | None = None) -> str:
    """The state after a change, or a DomainError: ``report.bad_change`` (from, to) when the
    state does not allow it (including a change already made: a second press),
    ``report.reason_needed`` for duplicate / not ours without a reason."""
    allowed = reporter_may_set if by_reporter else handler_may_set
    if not allowed(current, target):
        raise DomainError("report.bad_change", state=current, target=target)
    if target in NEEDS_REASON and not (reason or "").strip():
        raise DomainError("report.reason_needed")
    return target


# --- households -------------------------------------------------------------------------------


def household(unit_ids: Iterable[int], user_id: int) -> str:
    """Who a press counts for: the resident's (lowest) approved unit, or themselves."""
    units = sorted(unit_ids)
    return f"u{units[0]}" if units else f"p{user_id}"


def me_too(reporter_household: str, taken: Mapping[str, int], key: str, user_id: int) -> str:
    """The answer to a Me too press: ``report.metoo_added`` when it counts, else why not
    (``report.metoo_own``: the reporter's household; ``report.metoo_already``: this person or
    their household pressed already). ``taken`` maps households to the user who pressed."""
    if key == reporter_household:
        return "report.metoo_own"
    if key in taken or user_id in taken.values():
        return "report.metoo_already"
    return "report.metoo_added"


# --- categories -------------------------------------------------------------------------------


def category_key(text: str, names: Mapping[str, str]) -> str | None:
    """A category as a lead or resident types it: its key (``lift``) or its shown name in any
    case (``Elevator``). ``names`` maps keys to the group's shown names."""
    wanted = unicodedata.normalize("NFKC", text).strip().casefold()
    if not wanted:
        return None
    if wanted in names:
        return wanted
    for key, name in names.items():
        if name.casefold() == wanted:
            return key
    return None


def clean_category_name(text: str) -> str:
    """A category's new name: one line, 1 to ``MAX_CATEGORY_NAME`` characters."""
    name = " ".join(_clean(text or "").split())
    if not name:
        raise DomainError("report.category_usage")
    if len(name) > MAX_CATEGORY_NAME:
        raise DomainError("report.too_long", max=MAX_CATEGORY_NAME)
    return name


# --- overdue ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clock:
    """What the overdue rules need of a report."""

    status: str
    since: datetime
    flagged_ack: bool
    flagged_fix: bool


def overdue(report: Clock, now: datetime, ack_days: int, fix_days: int) -> tuple[str, ...]:
    """Which deadlines have passed unmet: ``"ack"`` (still open), ``"fix"`` (not fixed)."""
    found = []
    if report.status == OPEN and now >= report.since + timedelta(days=ack_days):
        found.append("ack")
    if report.status in ACTIVE and now >= report.since + timedelta(days=fix_days):
        found.append("fix")
    return tuple(found)


def to_flag(report: Clock, now: datetime, ack_days: int, fix_days: int) -> tuple[str, ...]:
    """The overdue deadlines not told yet."""
    flagged = {"ack": report.flagged_ack, "fix": report.flagged_fix}
    return tuple(k for k in overdue(report, now, ack_days, fix_days) if not flagged[k])


def next_check(report: Clock, after: datetime, ack_days: int, fix_days: int) -> datetime | None:
    """When the overdue check should next run: the earliest deadline after ``after`` that can
    still be missed and was not told yet (``None``: nothing left to watch)."""
    if report.status not in ACTIVE:
        return None
    moments = []
    if report.status == OPEN and not report.flagged_ack:
        moments.append(report.since + timedelta(days=ack_days))
    if not report.flagged_fix:
        moments.append(report.since + timedelta(days=fix_days))
    later = [m for m in moments if m > after]
    return min(later) if later else None


def sort_for_list(
    items: Sequence[tuple[int, str, datetime, bool]],
) -> list[tuple[int, str, datetime, bool]]:
    """``(id, status, since, overdue)`` for /reports: overdue first, then oldest first."""
    return sorted(items, key=lambda i: (not i[3], i[2], i[0]))


# --- references ------------------------------------------------------------------------------

#: The card's reference letter: ``#F12`` (F for fix; free in bot.domain.refs.KINDS).
LETTER: Final[str] = "F"
_TAG_RE: Final[re.Pattern[str]] = re.compile(r"#F(\d{1,12})\b")
_REF_RE: Final[re.Pattern[str]] = re.compile(r"#?[Ff]\s*-?\s*(\d{1,12})")


def tag(report_id: int) -> str:
    return f"#{LETTER}{report_id}"


def parse_ref(text: str) -> int | None:
    """``F12``, ``#f12``, ``f-12`` -> 12; anything else -> None."""
    match = _REF_RE.fullmatch(unicodedata.normalize("NFKC", text).strip())
    return int(match.group(1)) if match else None


def find_ref(card_text: str) -> int | None:
    """The last ``#F12`` of a card's text (the card's own reference)."""
    found = _TAG_RE.findall(card_text or "")
    return int(found[-1]) if found else None
