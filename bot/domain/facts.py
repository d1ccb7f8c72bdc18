"""The facts board (常用信息): short facts leads keep, found by a word, and — with restraint —
given in answer to a resident's question.

* ``/info set <key>: <text>`` (also ``<key> | <text>``, ``<key>：<text>``; without a separator
  the first word is the key). A key is at most :data:`MAX_KEY` characters, a text at most
  :data:`MAX_TEXT`; setting an existing key replaces its text.
* Keys are compared *folded* (:func:`fold`): Unicode compatibility forms (full-width letters and
  digits become ASCII), case, ``ё``/``е``, common Traditional characters as Simplified,
  punctuation and spacing ignored. "Property Office", "ＰＲＯＰＥＲＴＹ office" and
  "property-office" are one key; "電話" finds "电话".
* A question gets an answer only when all of this holds (:func:`answer_for`): it is a question
  (ends in ``?``/``？`` or starts with a question word of our languages), exactly one fact's key
  appears in it *as a whole word* (CJK keys: as a run of characters of at least two), and the
  key is not a mere word of one or two Latin/Cyrillic letters. When two keys match and one
  contains the other, the longer wins; otherwise nothing is said.
* The same fact is given at most once per :data:`ANSWER_EVERY` in a group.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.domain.errors import DomainError
from bot.domain.text import one_line

MAX_KEY: Final = 40
MAX_TEXT: Final = 500
MAX_FACTS: Final = 60
ANSWER_EVERY: Final = timedelta(minutes=30)

#: Traditional -> Simplified for characters likely in building facts (cheap, not complete).
_T2S: Final = str.maketrans(
    "電話號碼業辦處門時間網絡車樓梯會議費維報區衛療醫務開關點廳發遞場熱氣燈鑰館書"
    "圖買賣單據營養護廣場標識飲機垃級環鄰裡鐘錶幾週態設備庫倉灣應訊聯繫線條現"
    "藥舖銀齊嗎麼們這裏於為來過還進條樣總數價錢員寫",
    "电话号码业办处门时间网络车楼梯会议费维报区卫疗医务开关点厅发递场热气灯钥馆书"
    "图买卖单据营养护广场标识饮机垃级环邻里钟表几周态设备库仓湾应讯联系线条现"
    "药铺银齐吗么们这里于为来过还进条样总数价钱员写",
)

#: A colon after a digit is part of a time ("bins Mon 20:00"), not the key's end.
_SEPARATORS: Final = re.compile(r"(?<!\d)\s*[:：]\s*|\s*[|｜]\s*")
_PUNCT: Final = re.compile(r"[\W_]+", re.UNICODE)

#: Words a question starts with (folded), by language; and Chinese question endings.
_QUESTION_WORDS: Final = frozenset(
    {
        # en
        "what", "whats", "where", "wheres", "when", "who", "whos", "how", "which", "is",
        "are", "does", "do", "can", "could", "anyone", "any", "whom", "why",
        # ru
        "что", "где", "когда", "кто", "как", "какой", "какая", "какое", "какие", "сколько",
        "почему", "можно", "есть", "подскажите", "скажите", "куда", "откуда", "чей", "чья",
    }
)  # fmt: skip
_ZH_STARTS: Final = tuple(
    [
        "请问",
        "请教",
        "问一下",
        "问下",
        "谁知道",
        "有谁",
        "有没有",
        "哪里",
        "哪儿",
        "哪个",
        "什么",
        "怎么",
        "几点",
        "多少",
        "是否",
    ]
)
_ZH_ENDS: Final = ("吗", "呢", "么", "没有")


@dataclass(frozen=True, slots=True)
class Fact:
    id: int
    key: str  # as the lead wrote it
    folded: str
    text: str


def _clean(text: str) -> str:
    return one_line(unicodedata.normalize("NFKC", text))


def fold(text: str) -> str:
    """A key or a question as compared: NFKC (full width -> ASCII), case folded, ``ё`` as
    ``е``, Traditional characters as Simplified, punctuation as single spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е").translate(_T2S)
    return " ".join(_PUNCT.sub(" ", folded).split())


def parse_set(text: str) -> tuple[str, str]:
    """``"property office: 021-5555, 9–17"`` -> (key, text). Refusals: ``facts.set_usage``,
    ``facts.key_too_long`` (max), ``facts.text_too_long`` (max)."""
    raw = unicodedata.normalize("NFKC", text).strip()
    parts = _SEPARATORS.split(raw, maxsplit=1)
    if len(parts) == 2:
        key, body = parts
    else:
        pieces = raw.split(maxsplit=1)
        key, body = (pieces[0], pieces[1]) if len(pieces) == 2 else (raw, "")
    key, body = _clean(key), body.strip()
    if not key or not fold(key) or not _clean(body):
        raise DomainError("facts.set_usage")
    if len(key) > MAX_KEY:
        raise DomainError("facts.key_too_long", max=MAX_KEY)
    if len(body) > MAX_TEXT:
        raise DomainError("facts.text_too_long", max=MAX_TEXT)
    return key, body


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def find(facts: Sequence[Fact], word: str) -> list[Fact]:
    """Facts whose key is the word, or contains it, or whose text contains it (in that order)."""
    query = fold(word)
    if not query:
        return []
    exact = [f for f in facts if f.folded == query]
    in_key = [f for f in facts if query in f.folded and f not in exact]
    in_text = [f for f in facts if query in fold(f.text) and f not in exact and f not in in_key]
    return exact + in_key + in_text


def is_question(text: str) -> bool:
    """Ends in a question mark, or starts with a question word of English, Russian or
    Chinese (Chinese: also ends in 吗 / 呢)."""
    raw = unicodedata.normalize("NFKC", text).strip()
    if not raw:
        return False
    if raw.endswith("?"):
        return True
    folded = fold(raw)
    if not folded:
        return False
    first = folded.split()[0]
    if first in _QUESTION_WORDS:
        return True
    return folded.startswith(_ZH_STARTS) or folded.endswith(_ZH_ENDS)


def _appears(key: str, question: str) -> bool:
    """The folded key appears in the folded question as whole words (CJK: as characters)."""
    if any(_is_cjk(c) for c in key):
        return len(key.replace(" ", "")) >= 2 and key.replace(" ", "") in question.replace(" ", "")
    if len(key) < 3:
        return False
    return re.search(rf"(?<!\w){re.escape(key)}(?!\w)", question) is not None


def answer_for(facts: Sequence[Fact], message: str) -> Fact | None:
    """The one fact a question asks about, or ``None`` (see the module's notes)."""
    if not is_question(message):
        return None
    question = fold(message)
    hits = [f for f in facts if _appears(f.folded, question)]
    if not hits:
        return None
    longest = max(hits, key=lambda f: len(f.folded))
    if all(f is longest or f.folded in longest.folded for f in hits):
        return longest
    return None


def may_answer(last: datetime | None, now: datetime) -> bool:
    """Whether the fact may be given again in this group now."""
    return last is None or now - last >= ANSWER_EVERY
