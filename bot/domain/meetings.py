"""General meetings of owners (业主大会, общее собрание собственников): several numbered items
decided at once, each under its own rule, one ballot per household that answers every item.

Pure rules: reading ``/meeting``, reading a paper ballot line, and counting every item with
:func:`bot.domain.decisions.evaluate` (the same counting as a formal decision: units and floor
area, quorum, cn-278 and ru-oss rules).

Choices where the issue is silent (the README repeats them):

* ``/meeting <title> | <item> ; <rule> | <item> ; <rule> | … [| closes=<when>] [| part=<part>]``:
  segments after the title are items, except those that name an option: ``closes=…`` (also
  ``closes …`` with a space when what follows reads as a time), ``part=…`` (only with ``=`` or
  ``:``, so an item "Part of the roof: repair" stays an item — unless it starts with the word
  itself followed by ``=``/``:``). An item without ``; <rule>`` is counted under the group's
  default rule. At most :data:`MAX_ITEMS` items.
* A meeting's ballots are open (named). An owners' meeting decides by signed ballots — the
  Housing Code of the RF art. 47.1/48 part 5.1 asks for the owner's name on each decision, and
  the Chinese guidance (业主大会和业主委员会指导规则 art. 26) has owners sign their 表决票 — so
  ``secret`` is refused (``meeting.no_secret``); a secret vote is a ``/decide … | secret``.
* A household's ballot answers items one by one in the chat (each press sets one item; the
  others stay as they were), and a paper ballot entered by a lead *is* the household's whole
  ballot: it replaces what the household had, and the items it leaves out have no answer.
* A household that answered no item of a meeting does not participate in any item; one that
  answered some items participates only in those (per item, as a decision counts).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.domain import when as when_
from bot.domain.decisions import (
    CHOICES,
    Ballot,
    Outcome,
    Rule,
    Unit,
    certain,
    evaluate,
    parse_choice,
    parse_rule,
)
from bot.domain.errors import DomainError
from bot.domain.text import one_line
from bot.domain.units import normalize_part

#: Items of one meeting: each gets a row of three buttons on the card (Telegram allows 100).
MAX_ITEMS: Final[int] = 12
MAX_TITLE: Final[int] = 200
MAX_ITEM: Final[int] = 200
#: Days a meeting stays open when ``closes=`` is not given.
DEFAULT_DAYS: Final[int] = 14

_CLOSE_KEYS: Final[frozenset[str]] = frozenset(
    {"closes", "close", "until", "deadline", "ends", "截止", "结束", "結束"}
    | {"до", "срок", "закрытие"}
)
_PART_KEYS: Final[frozenset[str]] = frozenset(
    {"part", "scope", "部分", "范围", "範圍", "仅限", "僅限", "часть", "только"}
)
_SECRET_WORDS: Final[frozenset[str]] = frozenset(
    {"secret", "anonymous", "秘密", "匿名", "无记名", "無記名", "不记名", "不記名"}
    | {"无记名投票", "無記名投票", "不记名投票", "不記名投票", "匿名投票", "秘密投票"}
    | {"тайно", "тайное", "анонимно"}
)
_STRICT_OPTION_RE: Final[re.Pattern[str]] = re.compile(r"^([\w-]+)\s*[=:]\s*(.+)$", re.DOTALL)
_SPACE_OPTION_RE: Final[re.Pattern[str]] = re.compile(r"^([\w-]+)\s+(.+)$", re.DOTALL)
#: ``2:for``, ``2=против``, ``2: 赞成`` (after NFKC the full-width colon is ASCII)
_ANSWER_RE: Final[re.Pattern[str]] = re.compile(r"(\d{1,4})\s*[:=]\s*([^\s\d:=,;]+)")
_ANSWER_START_RE: Final[re.Pattern[str]] = re.compile(r"^\d{1,4}\s*[:=]")
_LEFTOVER: Final[str] = " ,;、，。.\t\n"


@dataclass(frozen=True, slots=True)
class Item:
    """One numbered item of a meeting (numbers start at 1)."""

    number: int
    title: str
    rule: Rule


@dataclass(frozen=True, slots=True)
class Request:
    title: str
    items: tuple[Item, ...]
    closes: datetime
    part: str | None = None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def parse_item(number: int, text: str, default_rule: str) -> Item:
    """``Repair the roof ; cn-278`` (or without a rule: the group's default). Refusals carry
    ``item=<number>``: ``meeting.item_empty``, ``meeting.item_too_long`` and a rule's own
    refusals (``decision.unknown_rule``, ``decision.bad_quorum``, ``decision.fixed_quorum``)."""
    raw = unicodedata.normalize("NFKC", text)
    title_part, sep, rule_part = raw.rpartition(";")
    if not sep:
        title_part, rule_part = raw, ""
    title = one_line(title_part)
    if not title:
        raise DomainError("meeting.item_empty", item=number)
    if len(title) > MAX_ITEM:
        raise DomainError("meeting.item_too_long", item=number, limit=MAX_ITEM)
    try:
        rule = parse_rule(rule_part if rule_part.strip() else default_rule)
    except DomainError as exc:
        raise DomainError(exc.key, item=number, **exc.params) from None
    return Item(number, title, rule)


def parse_request(text: str, *, lang: str, tz: str, now: datetime, default_rule: str) -> Request:
    """``Annual meeting | Repair the roof ; cn-278 | Elevator ; cn-278-special | closes=in 14
    days | part=entrance 2``; a line break separates like ``|`` (one item per line, as a lead
    types a list on a phone)."""
    segments = [s.strip() for s in re.split(r"[|\n]", text)]
    title = one_line(segments[0]) if segments else ""
    if not title:
        raise DomainError("meeting.usage")
    if len(title) > MAX_TITLE:
        raise DomainError("meeting.title_too_long", limit=MAX_TITLE)
    closes: datetime | None = None
    part: str | None = None
    texts: list[str] = []
    for segment in segments[1:]:
        if not segment:
            continue
        folded = _fold(segment)
        if folded in _SECRET_WORDS:
            raise DomainError("meeting.no_secret")
        strict = _STRICT_OPTION_RE.match(folded)
        key = strict.group(1) if strict else ""
        if strict and key in _CLOSE_KEYS:
            closes = _closing(_value(segment), lang=lang, tz=tz, now=now)
            continue
        if strict and key in _PART_KEYS:
            part = normalize_part(_value(segment))
            continue
        spaced = _SPACE_OPTION_RE.match(folded)
        if spaced and spaced.group(1) in _CLOSE_KEYS:
            try:
                closes = _closing(_value(segment), lang=lang, tz=tz, now=now)
                continue
            except DomainError:
                pass  # "Close the gate at night": an item
        texts.append(segment)
    if not texts:
        raise DomainError("meeting.no_items")
    if len(texts) > MAX_ITEMS:
        raise DomainError("meeting.too_many_items", limit=MAX_ITEMS, count=len(texts))
    items = tuple(parse_item(n, s, default_rule) for n, s in enumerate(texts, start=1))
    return Request(title, items, closes or now + timedelta(days=DEFAULT_DAYS), part)


def _closing(value: str, *, lang: str, tz: str, now: datetime) -> datetime:
    moment = when_.parse(value, lang=lang, tz=tz, now=now)
    if moment.rrule is not None:
        raise DomainError("decision.bad_closing")
    return moment.first


def _value(segment: str) -> str:
    match = re.match(r"^\s*[\w-]+\s*(?:[=:：]\s*|\s+)(.+)$", segment, re.DOTALL)
    return match.group(1).strip() if match else ""


# --- paper ballots ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Paper:
    """A paper ballot as a lead typed it: the unit, and the answer to each item it names."""

    label: str
    answers: Mapping[int, str]


def parse_paper(words: Sequence[str], items: int) -> Paper:
    """``3-502 1:for 2:against 3:за`` (the words after ``/ballot M2``) for a meeting of
    ``items`` items. The unit is everything before the first ``<number>:`` answer; items left
    out have no answer. Refusals: ``meeting.ballot_usage`` (no unit), ``meeting.no_answers``,
    ``meeting.no_such_item`` (number, count), ``meeting.bad_answer`` (number, value, choices),
    ``meeting.item_twice`` (number), ``meeting.not_understood`` (value)."""
    normal = [unicodedata.normalize("NFKC", w) for w in words]
    start = next((i for i, w in enumerate(normal) if _ANSWER_START_RE.match(w)), len(normal))
    label = " ".join(normal[:start]).strip()
    if not label:
        raise DomainError("meeting.ballot_usage")
    rest = " ".join(normal[start:])
    answers: dict[int, str] = {}
    leftover: list[str] = []
    last = 0
    for match in _ANSWER_RE.finditer(rest):
        leftover.append(rest[last : match.start()])
        last = match.end()
        number = int(match.group(1))
        if not 1 <= number <= items:
            raise DomainError("meeting.no_such_item", number=number, count=items)
        if number in answers:
            raise DomainError("meeting.item_twice", number=number)
        try:
            answers[number] = parse_choice(match.group(2))
        except DomainError:
            raise DomainError(
                "meeting.bad_answer",
                number=number,
                value=match.group(2)[:32],
                choices=", ".join(CHOICES),
            ) from None
    leftover.append(rest[last:])
    junk = " ".join(part.strip(_LEFTOVER) for part in leftover).strip(_LEFTOVER)
    if junk:
        raise DomainError("meeting.not_understood", value=junk[:32])
    if not answers:
        raise DomainError("meeting.no_answers")
    return Paper(label, answers)


# --- counting -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item counted: the outcome under its rule and, while open, whether it is settled
    whatever the households that have not answered it do (see decisions.certain)."""

    item: Item
    outcome: Outcome
    settled: bool | None


def count(
    items: Sequence[Item],
    units: Iterable[Unit],
    answers: Mapping[str, Mapping[int, str]],
) -> tuple[ItemResult, ...]:
    """Count every item: ``answers`` maps a unit's label to its answer per item number. A unit
    that did not answer an item does not participate in it. Raises what
    :func:`bot.domain.decisions.evaluate` raises (an area rule with a unit without an area)."""
    registered = list(units)
    results = []
    for item in items:
        ballots = [
            Ballot(label, chosen[item.number])
            for label, chosen in answers.items()
            if item.number in chosen
        ]
        outcome = evaluate(item.rule, registered, ballots)
        results.append(ItemResult(item, outcome, certain(item.rule, outcome.totals)))
    return tuple(results)


def households_voting(answers: Mapping[str, Mapping[int, str]]) -> int:
    """How many households answered at least one item."""
    return sum(1 for chosen in answers.values() if chosen)
