"""House rules (小区公约 / 居民公约 / правила дома): articles, amendments, versions, differences.

Pure rules, no I/O. A text of rules is an optional preamble (a title, a line of purpose) and
numbered articles; the numbers are positions (article 3 is the third), so a version is stored
as its preamble and the tuple of article texts.

Reading a text (:func:`parse_text`), where the issue is silent:

* An article starts on a line with a heading: ``1.`` ``1)`` ``1、`` ``１．`` (full-width too),
  ``第一条`` / ``第1条``, ``一、``, ``Статья 1`` / ``Ст. 1``, ``Article 1`` / ``Art. 1``,
  ``§ 1`` — with optional Markdown (``## 1.``, ``**Article 1.**``), as a ``.md`` file may have them.
* The first heading fixes the style: in a text numbered ``第一条``, a line ``1.`` is part of an
  article (a list inside it), and in a text numbered ``1.``, a line ``1)`` is too.
* Articles go 1, 2, 3, ... A heading of the style with a number below the next one is part of
  the article (a list inside it restarting at 1), except for the explicit words (第…条,
  Статья, Article, §), where it is refused as a repeat; a number above the next one is refused
  (``rules.numbering``: an article is missing), so "1. 2. 4." never silently loses article 3.
* Lines after a heading belong to its article until the next heading; what comes before the
  first heading is the preamble.

Amendments (:func:`amend`) replace the text of one article or add one at the end; articles are
removed or reordered by a lead sending a new draft (so the numbers an open amendment names
never shift under it). The difference of two versions (:func:`diff`) aligns articles by their
text, so an inserted article shows as one added article, not as every later one changed.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bot.domain.errors import DomainError
from bot.domain.languages import WordSet
from bot.domain.text import one_line, utf16_len

#: Limits (UTF-16 units, as Telegram counts): an article fits in one message with its heading.
MAX_ARTICLE: Final[int] = 3000
MAX_PREAMBLE: Final[int] = 1000
MAX_ARTICLES: Final[int] = 150
MAX_TEXT: Final[int] = 60_000

CHANGED: Final[str] = "changed"
ADDED: Final[str] = "added"
REMOVED: Final[str] = "removed"

_MD: Final[str] = r"(?:#{1,6}\s*)?(?:[*_]{1,2})?"
_END_MD: Final[str] = r"(?:[*_]{1,2})?"
_CN_DIGITS: Final[str] = "〇零一二两兩三四五六七八九十百千0123456789０-９"

#: (style, pattern): group 1 the number, group 2 the rest of the line.
_STYLES: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    (
        "cn",
        re.compile(rf"^\s*{_MD}第\s*([{_CN_DIGITS}]+)\s*[条條]{_END_MD}[\s:：、.．]*(.*)$"),
    ),
    (
        "word",
        re.compile(
            rf"^\s*{_MD}(?:article|art\.|статья|ст\.|§)\s*(\d+)\s*{_END_MD}"
            rf"(?:[.:：)\-–—]|\s|$){_END_MD}\s*(.*)$",
            re.IGNORECASE,
        ),
    ),
    # 一、 二、 (a Chinese enumeration; 第一条 is the article's own word)
    (
        "cnlist",
        re.compile(
            rf"^\s*{_MD}([〇零一二两兩三四五六七八九十百]+){_END_MD}[、.．]{_END_MD}\s*(.*)$"
        ),
    ),
    ("dot", re.compile(rf"^\s*{_MD}(\d{{1,3}})\s*{_END_MD}[.．](?!\d){_END_MD}\s*(.*)$")),
    ("paren", re.compile(rf"^\s*{_MD}(\d{{1,3}})\s*{_END_MD}[)）]{_END_MD}\s*(.*)$")),
    ("comma", re.compile(rf"^\s*{_MD}(\d{{1,3}})\s*{_END_MD}[、:：](?!\d){_END_MD}\s*(.*)$")),
)
#: Styles whose heading names an article in words: a repeated number is an error, not a list.
_EXPLICIT: Final[frozenset[str]] = frozenset({"cn", "word"})

_CN_VALUES: Final[dict[str, int]] = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS: Final[dict[str, int]] = {"十": 10, "百": 100, "千": 1000}


def chinese_number(text: str) -> int | None:
    """``"十二"`` -> 12, ``"一百零三"`` -> 103, ``"二十"`` -> 20, ``"12"`` -> 12; None if not a
    number."""
    raw = unicodedata.normalize("NFKC", text).strip()
    if not raw:
        return None
    if raw.isascii() and raw.isdigit():
        return int(raw)
    total = 0
    digit: int | None = None
    for char in raw:
        if char in _CN_VALUES:
            digit = _CN_VALUES[char]
        elif char in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[char]
            digit = None
        else:
            return None
    return total + (digit or 0)


_CN_NUMERALS: Final[str] = "零一二三四五六七八九"


def chinese_numeral(number: int) -> str:
    """12 -> "十二", 103 -> "一百零三", 20 -> "二十", 110 -> "一百一十" (1 to 9999), as
    articles are numbered in Chinese (第十二条); anything else as digits."""
    if not 0 < number < 10_000:
        return str(number)
    digits = [int(d) for d in f"{number:04d}"]
    units = ("千", "百", "十", "")
    out: list[str] = []
    zero = False
    for digit, unit in zip(digits, units, strict=True):
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(_CN_NUMERALS[digit] + unit)
    text = "".join(out)
    return text[1:] if text.startswith("一十") else text


@dataclass(frozen=True, slots=True)
class Text:
    """A text of rules: the preamble ("" if none) and the articles, numbered by position."""

    preamble: str
    articles: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.articles:
            raise ValueError("a text of rules has at least one article")


#: Format characters a copied text may carry at a line's start (a BOM, zero-width spaces,
#: bidi marks): never part of a heading.
_LEADING_FORMAT_RE: Final[re.Pattern[str]] = re.compile(
    "^[\\s\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]+"
)


def _heading(line: str, style: str | None) -> tuple[str, int, str] | None:
    line = _LEADING_FORMAT_RE.sub("", line)
    for name, pattern in _STYLES:
        if style is not None and name != style:
            continue
        match = pattern.match(line)
        if match is None:
            continue
        number = chinese_number(match.group(1)) if name in ("cn", "cnlist") else int(match.group(1))
        if number is None or number < 1:
            continue
        return name, number, match.group(2).strip()
    return None


def _clean_block(lines: Sequence[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines).strip("\n").strip()
    return re.sub(r"\n{3,}", "\n\n", text)


#: Control characters (but line breaks and tabs), surrogates and private-use characters: the
#: Unicode categories Cc, Cs and Co.
_INVISIBLE_RE: Final[re.Pattern[str]] = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\U000f0000-\U0010ffff]"
)


def _visible_block(text: str) -> str:
    return _clean_block([one_line(line) for line in _INVISIBLE_RE.sub("", text).splitlines()])


def clean_article(text: str, number: int) -> str:
    """An article's text as stored: each line as a reader sees it (control and format
    characters — zero-width spaces, bidi overrides that would turn the card around — dropped,
    spaces collapsed: :func:`bot.domain.text.one_line`), the lines kept; not empty, not too
    long (``rules.empty_article``, ``rules.article_too_long``)."""
    cleaned = _visible_block(text)
    if not cleaned:
        raise DomainError("rules.empty_article", number=number)
    if utf16_len(cleaned) > MAX_ARTICLE:
        raise DomainError("rules.article_too_long", number=number, limit=MAX_ARTICLE)
    return cleaned


def parse_text(raw: str) -> Text:
    """A text of rules as a person wrote it (a message or a .txt/.md file); see the module's
    notes. Refusals: ``rules.text_too_long``, ``rules.no_articles``, ``rules.numbering``
    (expected, found), ``rules.repeated`` (number), ``rules.too_many`` (limit),
    ``rules.empty_article`` (number), ``rules.article_too_long`` (number, limit),
    ``rules.preamble_too_long`` (limit)."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if utf16_len(text) > MAX_TEXT:
        raise DomainError("rules.text_too_long", limit=MAX_TEXT)
    style: str | None = None
    preamble: list[str] = []
    blocks: list[list[str]] = []
    for line in text.split("\n"):
        found = _heading(line, style)
        if found is not None:
            name, number, rest = found
            expected = len(blocks) + 1
            if number == expected:
                style = name
                blocks.append([rest])
                continue
            if style is None or number > expected:
                raise DomainError("rules.numbering", expected=expected, found=number)
            if name in _EXPLICIT:
                raise DomainError("rules.repeated", number=number)
        if blocks:
            blocks[-1].append(line)
        else:
            preamble.append(line)
        if len(blocks) > MAX_ARTICLES:
            raise DomainError("rules.too_many", limit=MAX_ARTICLES)
    if not blocks:
        raise DomainError("rules.no_articles")
    if len(blocks) > MAX_ARTICLES:
        raise DomainError("rules.too_many", limit=MAX_ARTICLES)
    head = _visible_block("\n".join(preamble))
    if utf16_len(head) > MAX_PREAMBLE:
        raise DomainError("rules.preamble_too_long", limit=MAX_PREAMBLE)
    articles = tuple(clean_article("\n".join(b), n) for n, b in enumerate(blocks, start=1))
    return Text(head, articles)


# --- amendments ------------------------------------------------------------------------------

#: Words for "a new article at the end" in /amend.
NEW_WORDS: Final[frozenset[str]] = WordSet(
    {"new", "add", "+", "新", "新增", "增加", "новая", "новую", "новый", "добавить"}
)
_NUMBER_WORD_RE: Final[re.Pattern[str]] = re.compile(
    r"^(?:#|№|n°|no\.?|art\.?|article|статья|ст\.?|п\.?)?\s*(\d{1,4})[.)、:：]?$", re.IGNORECASE
)
_CN_WORD_RE: Final[re.Pattern[str]] = re.compile(rf"^第?\s*([{_CN_DIGITS}]+)\s*[条條]?[.、:：]?$")
_LEAD_WORDS: Final[frozenset[str]] = frozenset({"article", "статья", "ст.", "art."})


@dataclass(frozen=True, slots=True)
class AmendRequest:
    """``/amend 3 new text``: the article (None: a new one at the end) and the text ("" when
    the text is to come from the message replied to)."""

    article: int | None
    text: str


def parse_amend(raw: str) -> AmendRequest:
    """``3 text``, ``#3 text``, ``第3条 text``, ``第三条 text``, ``статья 3 text``,
    ``article 3: text``, ``new text`` / ``新 text`` / ``новая text``.
    Refusal: ``rules.amend_usage``."""
    text = raw.strip()
    if not text:
        raise DomainError("rules.amend_usage")
    words = text.split(maxsplit=1)
    first = unicodedata.normalize("NFKC", words[0]).casefold()
    rest = words[1] if len(words) > 1 else ""
    if first in _LEAD_WORDS and rest:  # "article 3 text", "статья 3 text"
        more = rest.split(maxsplit=1)
        first = first + more[0].casefold()
        rest = more[1] if len(more) > 1 else ""
    if first in NEW_WORDS:
        return AmendRequest(None, rest.strip())
    match = _NUMBER_WORD_RE.match(first)
    if match is not None:
        return AmendRequest(int(match.group(1)), rest.strip())
    match = _CN_WORD_RE.match(first)
    if match is not None:
        number = chinese_number(match.group(1))
        if number is not None:
            return AmendRequest(number, rest.strip())
    # 第3条新的文字 without a space
    found = re.match(rf"^第\s*([{_CN_DIGITS}]+)\s*[条條][\s:：、.．]*(.*)$", text, re.DOTALL)
    if found is not None:
        number = chinese_number(found.group(1))
        if number is not None:
            return AmendRequest(number, found.group(2).strip())
    raise DomainError("rules.amend_usage")


#: What people type to strike an article out; an amendment replaces or adds (see the notes).
DELETE_WORDS: Final[frozenset[str]] = WordSet(
    {
        "delete",
        "remove",
        "strike",
        "-",
        "—",
        "–",
        "x",
        "删除",
        "删去",
        "删掉",
        "去掉",
        "取消",
        "удалить",
        "убрать",
        "исключить",
        "удалить статью",
    }
)


def amendment_text(text: str, article: int | None, count: int) -> str:
    """The proposed text as stored: a heading of the same article typed in front of it
    ("3. …", "第三条 …") is dropped; the same checks as an article. A word for striking the
    article out ("delete", "删除", "удалить") is refused (``rules.no_delete``): it would
    become the article's text."""
    number = article if article is not None else count + 1
    if fold(text).rstrip(".!。！") in DELETE_WORDS:
        raise DomainError("rules.no_delete", number=number)
    found = _heading(text.split("\n", 1)[0], None)
    if found is not None and found[1] == number:
        rest = text.split("\n", 1)
        text = found[2] + ("\n" + rest[1] if len(rest) > 1 else "")
    return clean_article(text, number)


def check_article(article: int | None, count: int) -> None:
    """An amendment may name an article of the draft, or none (a new one at the end)."""
    if article is not None and not 1 <= article <= count:
        raise DomainError("rules.no_article", number=article, count=count)
    if article is None and count >= MAX_ARTICLES:
        raise DomainError("rules.too_many", limit=MAX_ARTICLES)


def amend(articles: Sequence[str], article: int | None, text: str) -> tuple[str, ...]:
    """The articles with the amendment applied: article ``article`` replaced by ``text``, or
    ``text`` added as a new last article (``article`` None)."""
    check_article(article, len(articles))
    if article is None:
        return (*articles, text)
    return (*articles[: article - 1], text, *articles[article:])


# --- versions --------------------------------------------------------------------------------


def next_version(numbers: Sequence[int]) -> int:
    """Versions are numbered 1, 2, 3, ... in a group; a number is never given twice."""
    return max(numbers, default=0) + 1


@dataclass(frozen=True, slots=True)
class Change:
    """One article that differs between two versions. Numbers are positions in each."""

    kind: str  # CHANGED | ADDED | REMOVED
    old_number: int | None
    new_number: int | None
    old: str | None
    new: str | None


def diff(old: Sequence[str], new: Sequence[str]) -> tuple[Change, ...]:
    """The articles changed, added and removed from ``old`` to ``new``, in order. Articles are
    aligned by their text: an article inserted in the middle is one addition (the following
    ones are renumbered, not changed); an article rewritten in place is one change."""
    matcher = difflib.SequenceMatcher(a=list(old), b=list(new), autojunk=False)
    changes: list[Change] = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            continue
        paired = min(a1 - a0, b1 - b0) if op == "replace" else 0
        for k in range(paired):
            i, j = a0 + k, b0 + k
            changes.append(Change(CHANGED, i + 1, j + 1, old[i], new[j]))
        for i in range(a0 + paired, a1):
            changes.append(Change(REMOVED, i + 1, None, old[i], None))
        for j in range(b0 + paired, b1):
            changes.append(Change(ADDED, None, j + 1, None, new[j]))
    return tuple(changes)


# --- /rules words ----------------------------------------------------------------------------

DRAFT_WORDS: Final[frozenset[str]] = WordSet(
    {"draft", "new", "草案", "起草", "草稿", "проект", "черновик"}
)
RATIFY_WORDS: Final[frozenset[str]] = WordSet(
    {"ratify", "vote", "批准", "表决", "通过", "утвердить", "утверждение", "голосование"}
)
HISTORY_WORDS: Final[frozenset[str]] = WordSet(
    {"history", "versions", "历史", "版本", "история", "версии"}
)
COMPARE_WORDS: Final[frozenset[str]] = WordSet(
    {"compare", "diff", "比较", "对比", "сравнить", "сравнение", "разница"}
)
SHOW_WORDS: Final[frozenset[str]] = WordSet({"show", "version", "查看", "版本号", "версия"})
DRAFT_TOKENS: Final[frozenset[str]] = WordSet({"draft", "草案", "草稿", "проект", "черновик"})
DISCARD_WORDS: Final[frozenset[str]] = WordSet(
    {"discard", "drop", "delete", "放弃", "删除", "удалить", "отменить"}
)
CURRENT_TOKENS: Final[frozenset[str]] = WordSet({"current", "现行", "当前", "текущая", "текущие"})


def fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip().casefold()


def parse_version(word: str) -> int | str | None:
    """``"3"``, ``"v3"``, ``"#3"``, ``"版本3"``, ``"в3"`` -> 3; a draft word -> "draft"; a
    word for the version in force -> "current"; else None."""
    raw = fold(word)
    if raw in DRAFT_TOKENS:
        return "draft"
    if raw in CURRENT_TOKENS:
        return "current"
    match = re.fullmatch(r"(?:v|в|#|版本|第)?\s*(\d{1,6})\s*(?:版)?", raw)
    return int(match.group(1)) if match else None
