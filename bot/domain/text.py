"""Text as Telegram measures it and as a person sees it.

Telegram's limits (4096 per message, 1024 per caption) count UTF-16 code units, so an emoji or a
rare CJK character counts twice; ``one_line`` keeps only what a reader can see of a title, so a
title of zero-width characters is no title and a bidi override cannot turn a card around."""

from __future__ import annotations

import re
import unicodedata
from typing import Final


def utf16_len(text: str) -> int:
    """Length as Telegram counts it for its limits. Measured on the escaped HTML a card is
    sent as, which is never shorter than the text Telegram shows."""
    return len(text.encode("utf-16-le")) // 2


def clip16(text: str, limit: int) -> str:
    """``text`` on one line, cut to at most ``limit`` UTF-16 units (ending in "…" when cut):
    a character-count cut lets a text of emoji or rare CJK characters take twice its room."""
    flat = " ".join(text.split())
    if utf16_len(flat) <= limit:
        return flat
    kept: list[str] = []
    used = 1  # the ellipsis
    for char in flat:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            break
        kept.append(char)
    return "".join(kept) + "…"


# --- what a person can see -----------------------------------------------------------------

#: Letters and blanks that draw nothing though Unicode does not call them format characters:
#: the Hangul fillers, the Braille blank and the Khmer inherent vowels (used for "empty" names).
INVISIBLE: Final[frozenset[str]] = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5")

#: Zero-width joiners are kept between two visible characters (👨‍👩‍👧, Persian words).
_JOINERS: Final[str] = "\u200c\u200d"
_LOOSE_JOINERS: Final[re.Pattern[str]] = re.compile(
    f"(?<![^\\s{_JOINERS}])[{_JOINERS}]+|[{_JOINERS}]+(?![^\\s{_JOINERS}])"
)
#: Categories that show nothing by themselves: format, marks alone, separators, controls.
_UNSEEN: Final[frozenset[str]] = frozenset({"Cf", "Mn", "Me", "Zs", "Zl", "Zp", "Cc"})


def one_line(text: str) -> str:
    """A title as it will be shown: format characters (zero-width spaces, bidi overrides that
    would reverse the text around it, word joiners, soft hyphens) and invisible fillers dropped,
    joiners kept only inside a word or an emoji, whitespace (line breaks too) collapsed to one
    space. Empty when nothing visible is left, so "\\u200b\\u2060" is no title. Callers apply
    their own normalisation (NFC or NFKC) first."""
    kept = "".join(
        char
        for char in text
        if char not in INVISIBLE and (char in _JOINERS or unicodedata.category(char) != "Cf")
    )
    kept = " ".join(_LOOSE_JOINERS.sub("", kept).split())
    if not any(unicodedata.category(char) not in _UNSEEN for char in kept):
        return ""
    return kept
