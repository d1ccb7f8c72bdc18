"""Notices residents confirm (通知 · 收到): what a notice says, and the tally of households
that confirmed. Pure rules (handlers/notices.py posts the card, storage/notices.py keeps it).

A household is an approved unit of the register; a resident with no approved unit counts as
their own household (so a building that never filled the register still gets a count), but
only registered households can be listed as *not* confirmed: we cannot know who is missing
from a register we do not have.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from bot.domain.errors import DomainError
from bot.domain.languages import WordSet, fold_hant

MAX_TEXT: Final[int] = 2000

#: Words that ask for the notice to be pinned: ``/notice pin Water off on Tuesday``.
PIN_WORDS: Final[frozenset[str]] = WordSet({"pin", "pinned", "置顶", "закрепить", "закреп"})
#: Words that start the deadline after the bar: ``| confirm by friday 18:00``.
_BY_RE: Final[re.Pattern[str]] = re.compile(
    r"^\s*(?:confirm\s+by|confirm\s+before|by|before|until|"
    r"请于|请在|截止|截至|确认截止|"
    r"подтвердить\s+до|подтвердите\s+до|до)\s*[:：]?\s*",
    re.IGNORECASE,
)
_TAIL_RE: Final[re.Pattern[str]] = re.compile(r"\s*(?:前确认|之前确认|前|之前)\s*$")


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    confirm_by: str | None  # the time as typed (parsed by the handler with bot.domain.when)
    pin: bool


def parse_notice(raw: str) -> Draft:
    """``"pin Water off Tue 9-12 | confirm by monday 18:00"`` -> text, deadline text, pin.
    Refusals: ``notice.usage``, ``notice.too_long`` (max)."""
    text = unicodedata.normalize("NFC", raw or "").strip()
    words = text.split(maxsplit=1)
    pin = bool(words) and words[0].casefold() in PIN_WORDS
    if pin:
        text = words[1] if len(words) > 1 else ""
    body, bar, tail = text.rpartition("|") if "|" in text else (text, "", "")
    body = body.strip()
    deadline: str | None = None
    if bar:
        # matched on the folded text (請於, 前確認); cut from what was typed
        folded = fold_hant(tail)
        head = _BY_RE.match(folded)
        start = head.end() if head else 0
        end = _TAIL_RE.search(folded, start)
        deadline = tail[start : end.start() if end else len(tail)].strip() or None
        if deadline is None:
            raise DomainError("notice.usage")
    if not body:
        raise DomainError("notice.usage")
    if len(body) > MAX_TEXT:
        raise DomainError("notice.too_long", max=MAX_TEXT)
    return Draft(text=body, confirm_by=deadline, pin=pin)


@dataclass(frozen=True, slots=True)
class Tally:
    """``confirmed`` registered households of ``registered``, plus ``unregistered`` residents
    without an approved unit who confirmed (each their own household)."""

    confirmed: int
    registered: int
    unregistered: int

    @property
    def households(self) -> int:
        return self.confirmed + self.unregistered


def tally(registered_units: Iterable[int], confirms: Iterable[str]) -> Tally:
    """``confirms``: the household keys of the confirmations (``u<unit>`` or ``p<user>``)."""
    units = set(registered_units)
    keys = set(confirms)
    confirmed = {k for k in keys if k.startswith("u") and int(k[1:]) in units}
    unregistered = {k for k in keys if k.startswith("p")}
    return Tally(confirmed=len(confirmed), registered=len(units), unregistered=len(unregistered))


def not_confirmed(
    units: Sequence[tuple[int, str]], confirms: Iterable[str]
) -> list[tuple[int, str]]:
    """Registered units (id, label), in the given order, with no confirmation yet."""
    keys = set(confirms)
    return [(uid, label) for uid, label in units if f"u{uid}" not in keys]


def to_remind(
    members: Mapping[int, Sequence[tuple[int, str]]], missing: Iterable[int]
) -> list[tuple[int, str]]:
    """People to mention: the approved members (user id, name) of every missing unit, each
    once even if they hold several units."""
    seen: set[int] = set()
    people: list[tuple[int, str]] = []
    for unit_id in missing:
        for user_id, name in members.get(unit_id, ()):
            if user_id not in seen:
                seen.add(user_id)
                people.append((user_id, name))
    return people


# --- references ------------------------------------------------------------------------------

#: The card's reference letter: ``#N3`` (free in bot.domain.refs.KINDS).
LETTER: Final[str] = "N"
_TAG_RE: Final[re.Pattern[str]] = re.compile(r"#N(\d{1,12})\b")
_REF_RE: Final[re.Pattern[str]] = re.compile(r"#?[Nn]\s*-?\s*(\d{1,12})")


def tag(notice_id: int) -> str:
    return f"#{LETTER}{notice_id}"


def parse_ref(text: str) -> int | None:
    match = _REF_RE.fullmatch(unicodedata.normalize("NFKC", text).strip())
    return int(match.group(1)) if match else None


def find_ref(card_text: str) -> int | None:
    found = _TAG_RE.findall(card_text or "")
    return int(found[-1]) if found else None
