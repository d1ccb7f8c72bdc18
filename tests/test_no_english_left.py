"""No English words left in the Chinese and Russian texts (issue 13).

Every msgstr of zh_Hans, zh_Hant and ru is read for Latin words once what may stay Latin is
taken out: anything in ``<code>`` (what one types, set beside its translation), placeholders,
commands after ``/`` with the references and zone names one types after them, the decision
rules' codes in typed examples, Telegram's own English button name beside its translation
(«Запустить» (Start)), and a short list of names and units (Courtyard, Telegram, CSV, UTF-8 …).
What is left is an English word a reader would trip over; the test lists each with its key."""

from __future__ import annotations

import re

import pytest

from bot.domain.decisions import RULE_NAMES
from tests.test_i18n import CATALOGS, msg_key, strings

#: Names, formats and units that are written in Latin letters in every language.
ALLOWED: frozenset[str] = frozenset(
    {
        "Courtyard",  # the bot's name
        "Telegram",
        "PostgreSQL",  # the database's name (the CLI's texts)
        "CSV",
        "csv",
        "ICS",
        "ics",
        "UTF-8",
        "UTC",
        "ID",
        "id",  # ru: "ваш id в Telegram"
        "KB",
        "MB",
        "txt",
        "md",
        "LED",  # zh: LED灯, a word of the language
        "Bosch",  # a brand, in an example
        "PNG",
    }
)

#: Per key, words that are the point of the text (other languages' formats it accepts).
ALLOWED_IN: dict[str, frozenset[str]] = {
    "rules.no_articles": frozenset({"Article"}),  # "… (or 第一条 …, Статья 1 …, Article 1 …)"
}

_CODE = re.compile(r"<code>.*?</code>", re.S)
_TAG = re.compile(r"<[^>]+>")
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_URL = re.compile(r"https?://\S+|t\.me/\S+")
#: a command, with what is typed after it that has no translation: references (D3, T3, P12),
#: unit labels, zone names (Asia/Shanghai), numbers
_COMMAND = re.compile(r"/[A-Za-z_]+(?:@\w+)?")
_REFERENCE = re.compile(r"(?<![A-Za-z])[A-Z]\d+\b")
_ZONE = re.compile(r"\b[A-Z][a-z]+/[A-Za-z_]+\b")
#: Telegram's Start button, named in English beside its translation: 开始（Start）, (Start)
_START = re.compile(r"[（(]Start[）)]")
_RULE_CODES = re.compile(
    r"(?<![\w-])(?:"
    + "|".join(re.escape(c) for c in sorted(RULE_NAMES, key=len, reverse=True))
    + r")(?![\w-])"
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*")


def english_left(key: str, text: str) -> list[str]:
    """The Latin words of ``text`` (a msgstr of ``key``) that are not allowed to stay Latin."""
    rest = _CODE.sub(" ", text)
    rest = _TAG.sub(" ", rest)
    for pattern in (_PLACEHOLDER, _URL, _START, _ZONE, _COMMAND, _REFERENCE):
        rest = pattern.sub(" ", rest)
    if key.startswith("cmd.") and key.endswith(".example"):
        rest = _RULE_CODES.sub(" ", rest)  # a rule's code typed in an example
    allowed = ALLOWED | ALLOWED_IN.get(key, frozenset())
    words = (w.rstrip("-") for w in _WORD.findall(rest))  # "CSV-файл"
    # a single letter is a building's or entrance's name (B棟, 3号楼A座), not a word
    return [w for w in words if len(w) > 1 and w not in allowed]


@pytest.mark.parametrize("lang", ["zh_Hans", "zh_Hant", "ru"])
def test_no_english_words_in_the_catalog(lang: str) -> None:
    found = []
    for message in CATALOGS[lang]:
        if not message.id:
            continue
        key = msg_key(message)
        for text in strings(message):
            words = english_left(key, text)
            if words:
                found.append(f"{key}: {', '.join(words)}  ←  {text[:120]!r}")
    assert not found, f"{lang}: English words left in {len(found)} texts:\n" + "\n".join(found)


def test_the_scan_finds_what_it_should() -> None:
    """The allow-list lets through what it names and nothing more."""
    assert english_left("x.y", "请写 <code>for</code> 或 {choices}。发送 /close D3") == []
    assert english_left("x.y", "点 <b>开始</b>（Start），时区 Asia/Shanghai，导出 CSV") == []
    assert english_left("x.y", "“{value}”不是选项：for, against, abstain") == [
        "for",
        "against",
        "abstain",
    ]
    assert english_left("x.y", "按 majority 规则计票") == ["majority"]
    assert english_left("cmd.decide.example", "/decide 换门禁 | 规则=cn-278-special") == []
    assert english_left("x.y", "/rules ratify majority") == ["ratify", "majority"]
    assert english_left("x.y", "Может быть: maybe") == ["maybe"]
    assert english_left("x.y", "/report 电梯坏了 | B栋，CSV-файл") == []


#: Words the glossary of locales/STYLE.md retired, per language (the register is 名册/名冊 and
#: a unit 户/戶 or 房号/房號, never 房屋; residents are 您, never 你; zh_Hant writes 私訊).
RETIRED: dict[str, tuple[str, ...]] = {
    "zh_Hans": ("房屋", "登记册", "私信", "你"),
    "zh_Hant": ("房屋", "登記冊", "登记册", "私信", "私聊", "你"),
}


@pytest.mark.parametrize("lang", sorted(RETIRED))
def test_no_retired_chinese_word_is_left(lang: str) -> None:
    found = [
        f"{msg_key(m)}: {word}"
        for m in CATALOGS[lang]
        if m.id
        for text in strings(m)
        for word in RETIRED[lang]
        if word in text
    ]
    assert not found, f"{lang}: retired words left:\n" + "\n".join(found)
