"""Short references to the things a group creates: ``P12`` (poll 12), ``D3`` (decision 3).

Cards end with their reference (``#D3``), so a resident can type it (``/export D3``,
``/close P12``) or simply reply to the card with the command: the reference is then read from
the card's text. A reference is a kind letter and our own row id — no secret.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

#: Kind letter -> kind name. Letters are Latin capitals; input is read case-insensitively.
KINDS: Final[dict[str, str]] = {
    "P": "poll",
    "D": "decision",
    "E": "event",
    "R": "roster",
    "G": "groupbuy",
    "C": "chain",
    "I": "item",
    "T": "proposal",
    "A": "rollcall",  # an emergency roll-call (alarm)
    "F": "report",  # a repair or problem report (fix)
    "N": "notice",
    "M": "meeting",  # an owners' general meeting with several items
}
LETTERS: Final[dict[str, str]] = {name: letter for letter, name in KINDS.items()}

_REF_RE: Final[re.Pattern[str]] = re.compile(r"#?([A-Za-z])\s*-?\s*(\d{1,12})")
_CARD_RE: Final[re.Pattern[str]] = re.compile(r"#([A-Z])(\d{1,12})\b")
_NUMBER_RE: Final[re.Pattern[str]] = re.compile(r"#?(\d{1,12})")


@dataclass(frozen=True, slots=True)
class Ref:
    kind: str  # a value of KINDS
    id: int

    @property
    def text(self) -> str:
        return f"{LETTERS[self.kind]}{self.id}"

    @property
    def tag(self) -> str:
        """How a card shows it: ``#D3``."""
        return f"#{self.text}"


def ref(kind: str, row_id: int) -> Ref:
    if kind not in LETTERS:
        raise ValueError(f"unknown kind {kind!r}")
    return Ref(kind, row_id)


def parse_ref(text: str, *, default_kind: str | None = None) -> Ref | None:
    """``"D3"``, ``"#d3"``, ``"d-3"``; a bare ``"3"`` only when ``default_kind`` is given.

    ``None`` when the text is not a reference (a caller turns that into a usage hint).
    """
    raw = unicodedata.normalize("NFKC", text).strip()
    match = _REF_RE.fullmatch(raw)
    if match is not None:
        kind = KINDS.get(match.group(1).upper())
        return Ref(kind, int(match.group(2))) if kind is not None else None
    match = _NUMBER_RE.fullmatch(raw)
    if match is not None and default_kind is not None:
        return ref(default_kind, int(match.group(1)))
    return None


def find_ref(card_text: str) -> Ref | None:
    """The last ``#D3``-style tag in a card's text (the card's own reference), or ``None``."""
    found = [m for m in _CARD_RE.finditer(card_text or "") if m.group(1) in KINDS]
    if not found:
        return None
    last = found[-1]
    return Ref(KINDS[last.group(1)], int(last.group(2)))
