"""Which languages Courtyard speaks, and how to recognise them in what people and Telegram say."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Final, TypeVar

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
    "yue": "zh_Hant",  # Cantonese: written in Traditional characters
    "粵語": "zh_Hant",
    "廣東話": "zh_Hant",
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
_TRADITIONAL: Final[frozenset[str]] = frozenset({"hant", "tw", "hk", "mo", "yue"})


def normalize_language(code: str | None) -> str | None:
    """Map a Telegram ``language_code`` or a typed language name to one of :data:`SUPPORTED`.

    ``zh-hant``, ``zh-TW``, ``zh-HK``, ``zh-MO`` (and ``zh-Hant-*``) map to Traditional Chinese;
    ``zh``, ``zh-hans``, ``zh-CN``, ``zh-SG`` and any other ``zh-*`` to Simplified; ``en-GB``
    to ``en``. Typed names work too ("繁體", "繁体中文", "简体中文"), with full-width letters,
    brackets and spaces folded. Returns ``None`` for anything else.
    """
    if not code:
        return None
    value = unicodedata.normalize("NFKC", code).strip(" \t\n.,;!?。，；！？").lower()
    value = value.replace("-", "_")
    value = " ".join(value.split())
    if value in _ALIASES:
        return _ALIASES[value]
    for joined in (value.replace(" ", ""), value.replace(" ", "_")):  # "繁體 中文", "zh hk"
        if joined in _ALIASES:
            return _ALIASES[joined]
    value = value.replace(" ", "_")
    parts = value.split("_")
    if parts[0] == "zh":
        return "zh_Hant" if _TRADITIONAL.intersection(parts[1:]) else "zh_Hans"
    if parts[0] == "yue":
        return "zh_Hant"
    return _ALIASES.get(parts[0]) if parts[0] in {"en", "ru"} else None


#: What one types for each of our languages (``/settings language zh-hant``).
TYPED_CODES: Final[dict[str, str]] = {"en": "en", "zh_Hans": "zh", "zh_Hant": "zh-hant", "ru": "ru"}


def language_name_key(lang: str) -> str:
    """The catalog key of a language's name in the reader's language: ``zh_Hant`` ->
    ``lang.zh_hant`` ("Traditional Chinese", "繁体中文", "традиционный китайский")."""
    return "lang." + lang.lower()


#: Keys built at run time (tests/test_i18n.py checks they exist in every catalog).
DYNAMIC_KEYS: Final[frozenset[str]] = frozenset(language_name_key(c) for c in SUPPORTED)


class LanguageChoices(str):
    """Our languages, for a refusal: ``bot.i18n`` names each in the reader's language with
    the code one types beside it. As a plain ``str`` it is the codes with their own names."""

    __slots__ = ()


#: What a lead may type, as the error lists it: the codes, each beside its own name (bot.i18n
#: words it in the reader's language; this spelling is for logs and the command line).
CHOICES: Final[LanguageChoices] = LanguageChoices(
    "en (English), zh (简体中文), zh-hant (繁體中文), ru (Русский)"
)


def parse_language(text: str) -> str:
    """A language a lead typed, or a DomainError listing the choices."""
    lang = normalize_language(text)
    if lang is None:
        raise DomainError("error.unknown_language", value=text.strip()[:64], choices=CHOICES)
    return lang


#: Traditional -> Simplified, one character each: every character of our Chinese keywords
#: (in bot/ and handlers/) that Traditional writes differently, from OpenCC's STCharacters
#: table and its Taiwan and Hong Kong variants (Apache-2.0). Keywords are written in
#: Simplified; :func:`fold_hant` lets a resident type them in Traditional ("贊成", "無記名",
#: "關閉", "第三條"). A new keyword with a character missing here: add its pair.
_HANT_PAIRS: Final[str] = (
    "駁驳"  # added by hand after the generated table
    "來来係系倉仓個个們们備备傢家僅仅價价億亿兒儿內内兩两別别刪删則则剛刚動动務务區区參参台臺員员問问啓启啟启單单嗎吗噹当國国圍围圖图團团執执報报場场塊块夠够寀采審审寫写尋寻對对導导屆届"
    "幫帮幾几庫库廣广廳厅彆别後后從从復复態态應应戶户户戶捲卷採采據据數数於于時时晝昼曆历書书會会東东枱台條条棄弃棟栋業业樂乐樓楼標标樣样機机檯台檻槛權权歲岁歷历歸归氣气決决沒没淩凌準准"
    "滿满灣湾為爲無无熱热燈灯營营爲为現现環环當当療疗發发確确碼码祕秘禮礼稱称積积箇个節节範范築筑糰团約约納纳級级終终組组結结絕绝絡络維维網网緊紧線线編编緻致總总織织繫系纔才聯联聽听脩修"
    "臺台與与華华萬万葯药蔘参藥药處处號号衛卫衞衛裏里裡里複复覆复覈核規规訊讯記记設设訴诉話话該该誌志認认語语說说説说誰谁請请謝谢識识議议護护讚赞負负責责買买費费賙周賣卖購购贈赠贊赞趕赶"
    "車车較较輯辑辦办農农迴回這这週周進进過过遞递遲迟選选還还鄰邻醫医鈅钥鈡钟銀银鋪铺錢钱錶表鍾钟鐘钟鑰钥門门閉闭開开閑闲閒闲間间關关陰阴陽阳雙双電电頂顶頭头題题額额願愿類类颱台飲饮養养"
    "館馆馬马體体髮发鬧闹麪面麵面麼么黃黄點点齊齐龍龙"
)
_HANT: Final[dict[int, str]] = {
    ord(a): b for a, b in zip(_HANT_PAIRS[::2], _HANT_PAIRS[1::2], strict=True)
}

_V = TypeVar("_V")


def fold_hant(text: str) -> str:
    """``text`` with Traditional characters of our keywords in their Simplified form, for
    matching only: what people typed is stored and shown as they typed it."""
    return text.translate(_HANT)


class Keywords(dict[str, _V]):
    """A keyword table (word -> meaning) that finds a word in either Chinese script: keys are
    folded with :func:`fold_hant` when the table is built and when it is asked."""

    def __init__(self, table: Mapping[str, _V]) -> None:
        super().__init__((fold_hant(k), v) for k, v in table.items())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(fold_hant(key), default) if isinstance(key, str) else default

    def __getitem__(self, key: str) -> _V:
        return super().__getitem__(fold_hant(key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(fold_hant(key))


class WordSet(frozenset[str]):
    """A set of keywords that holds a word in either Chinese script (see :class:`Keywords`)."""

    def __new__(cls, words: Iterable[str]) -> WordSet:
        return super().__new__(cls, (fold_hant(w) for w in words))

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and frozenset.__contains__(self, fold_hant(word))

    def __or__(self, other: AbstractSet[object]) -> WordSet:
        return WordSet([*self, *(w for w in other if isinstance(w, str))])

    __ror__ = __or__
