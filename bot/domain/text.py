"""How Telegram measures text: its limits (4096 per message, 1024 per caption) count UTF-16
code units, so an emoji or a rare CJK character counts twice."""

from __future__ import annotations


def utf16_len(text: str) -> int:
    """Length as Telegram counts it for its limits. Measured on the escaped HTML a card is
    sent as, which is never shorter than the text Telegram shows."""
    return len(text.encode("utf-16-le")) // 2
