"""Which languages Courtyard speaks, and how to recognise them in what people and Telegram say."""

from __future__ import annotations

import unicodedata
from typing import Final

from bot.domain.errors import DomainError

#: Our language codes, in menu order. They name the folders under ``locales/``.
SUPPORTED: Final[tuple[str, ...]] = ("en", "zh_Hans", "zh_Hant", "ru")

#: The name of each language in itself, for buttons.
NATIVE_NAMES: Final[dict[str, str]] = {
    "en": "English",
    "zh_Hans": "简体中文",
    "zh_Hant": "繁體中文",
    "ru": "Русский",
}

#: Telegram's two-letter ``language_code`` for each of ours (used with set_my_commands).
#: ``setMyCommands`` takes ISO 639-1 codes only, so Simplified and Traditional Chinese share
#: ``zh``; the global ``zh`` menus are Simplified, and a chat set to zh_Hant gets its own menus
#: through chat scopes instead (:data:`CHAT_MENU_LANGUAGES`).
TELEGRAM_CODES: Final[dict[str, str]] = {"en": "en", "zh_Hans": "zh", "zh_Hant": "zh", "ru": "ru"}

#: Our languages that have global menus of their own: one per Telegram language code.
MENU_LANGUAGES: Final[tuple[str, ...]] = ("en", "zh_Hans", "ru")

#: Languages Telegram cannot tell apart by ``language_code``: a chat set to one of them gets
#: its menus per chat (``BotCommandScopeChat`` and ``BotCommandScopeChatAdministrators``).
CHAT_MENU_LANGUAGES: Final[frozenset[str]] = frozenset({"zh_Hant"})

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
    "zh_cn": "zh_Hans",
    "zh_sg": "zh_Hans",
    "zh_my": "zh_Hans",
    "zh_hans_cn": "zh_Hans",
    "简体": "zh_Hans",
    "簡體": "zh_Hans",
    "简体字": "zh_Hans",
    "簡體中文": "zh_Hans",
    "simplified": "zh_Hans",
    "simplified chinese": "zh_Hans",
    "упрощённый китайский": "zh_Hans",
    "zh_hant": "zh_Hant",
    "zh_tw": "zh_Hant",
    "zh_hk": "zh_Hant",
    "zh_mo": "zh_Hant",
    "zh_hant_tw": "zh_Hant",
    "zh_hant_hk": "zh_Hant",
    "zh_hant_mo": "zh_Hant",
    "tw": "zh_Hant",
    "hk": "zh_Hant",
    "繁體": "zh_Hant",
    "繁体": "zh_Hant",
    "繁體中文": "zh_Hant",
    "繁体中文": "zh_Hant",
    "正體中文": "zh_Hant",
    "正体中文": "zh_Hant",
    "繁體字": "zh_Hant",
    "繁中": "zh_Hant",
    "中文(繁體)": "zh_Hant",
    "中文(香港)": "zh_Hant",
    "中文(台灣)": "zh_Hant",
    "traditional": "zh_Hant",
    "traditional chinese": "zh_Hant",
    "традиционный китайский": "zh_Hant",
    "英語": "en",
    "英文": "en",
    "俄語": "ru",
    "俄文": "ru",
    "漢語": "zh_Hans",
    "ru": "ru",
    "russian": "ru",
    "русский": "ru",
    "俄语": "ru",
}


#: Subtags of a ``zh-*`` tag that mean Traditional script (a script, or a region that uses it).
_TRADITIONAL: Final[frozenset[str]] = frozenset({"hant", "tw", "hk", "mo"})


def normalize_language(code: str | None) -> str | None:
    """Map a Telegram ``language_code`` or a typed language name to one of :data:`SUPPORTED`.

    ``zh-hant``, ``zh-TW``, ``zh-HK``, ``zh-MO`` (and ``zh-Hant-*``) map to Traditional Chinese;
    ``zh``, ``zh-hans``, ``zh-CN``, ``zh-SG`` and any other ``zh-*`` to Simplified; ``en-GB``
    to ``en``. Typed names work too ("繁體", "繁体中文", "简体中文"), with full-width letters,
    brackets and spaces folded. Returns ``None`` for anything else.
    """
    if not code:
        return None
    value = unicodedata.normalize("NFKC", code).strip().lower().replace("-", "_")
    value = " ".join(value.split())
    if value in _ALIASES:
        return _ALIASES[value]
    value = value.replace(" ", "_")
    if value in _ALIASES:
        return _ALIASES[value]
    parts = value.split("_")
    if parts[0] == "zh":
        return "zh_Hant" if _TRADITIONAL.intersection(parts[1:]) else "zh_Hans"
    return _ALIASES.get(parts[0]) if parts[0] in {"en", "ru"} else None


#: What a lead may type, as the error lists it: the codes, each beside its own name.
CHOICES: Final[str] = "en (English), zh (简体中文), zh-hant (繁體中文), ru (Русский)"


def parse_language(text: str) -> str:
    """A language a lead typed, or a DomainError listing the choices."""
    lang = normalize_language(text)
    if lang is None:
        raise DomainError("error.unknown_language", value=text.strip()[:64], choices=CHOICES)
    return lang
