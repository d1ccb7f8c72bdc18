"""Which languages Courtyard speaks, and how to recognise them in what people and Telegram say."""

from __future__ import annotations

from typing import Final

from bot.domain.errors import DomainError

#: Our language codes, in menu order. They name the folders under ``locales/``.
SUPPORTED: Final[tuple[str, ...]] = ("en", "zh_Hans", "ru")

#: The name of each language in itself, for buttons.
NATIVE_NAMES: Final[dict[str, str]] = {"en": "English", "zh_Hans": "简体中文", "ru": "Русский"}

#: Telegram's two-letter ``language_code`` for each of ours (used with set_my_commands).
TELEGRAM_CODES: Final[dict[str, str]] = {"en": "en", "zh_Hans": "zh", "ru": "ru"}

_ALIASES: Final[dict[str, str]] = {
    "en": "en",
    "english": "en",
    "英语": "en",
    "английский": "en",
    "zh": "zh_Hans",
    "zh_hans": "zh_Hans",
    "cn": "zh_Hans",
    "chinese": "zh_Hans",
    "中文": "zh_Hans",
    "汉语": "zh_Hans",
    "简体中文": "zh_Hans",
    "китайский": "zh_Hans",
    "ru": "ru",
    "russian": "ru",
    "русский": "ru",
    "俄语": "ru",
}


def normalize_language(code: str | None) -> str | None:
    """Map a Telegram ``language_code`` or a typed language name to one of :data:`SUPPORTED`.

    ``zh-hans``, ``zh-CN`` and even ``zh-TW`` map to Simplified Chinese (the only Chinese we
    have, and far easier to read for a Traditional reader than English); ``en-GB`` to ``en``.
    Returns ``None`` for anything else.
    """
    if not code:
        return None
    value = code.strip().lower().replace("-", "_")
    if value in _ALIASES:
        return _ALIASES[value]
    primary = value.split("_", 1)[0]
    return _ALIASES.get(primary) if primary in {"en", "zh", "ru"} else None


def parse_language(text: str) -> str:
    """A language a lead typed, or a DomainError listing the choices."""
    lang = normalize_language(text)
    if lang is None:
        raise DomainError("error.unknown_language", value=text.strip()[:64], choices="en, zh, ru")
    return lang
