"""Facts board rules as tables: folding, parsing /info set, lookups, and when a message is a
question that a fact answers (and, above all, when it is not)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import DomainError
from bot.domain.facts import Fact, answer_for, find, fold, is_question, may_answer, parse_set
from bot.i18n import t


def fact(n: int, key: str, text: str = "…") -> Fact:
    return Fact(n, key, fold(key), text)


FACTS = [
    fact(1, "property office", "021-5555 0000, 9–17"),
    fact(2, "bins", "Mon/Thu 20:00"),
    fact(3, "物业电话", "021-5555 0000"),
    fact(4, "wi-fi", "room 3, password on the door"),
    fact(5, "office"),
    fact(6, "мусор", "пн и чт"),
    fact(7, "lift", "call 021-6666"),
]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Property Office", "property office"),
        ("ＰＲＯＰＥＲＴＹ　office", "property office"),
        ("property-office!", "property office"),
        ("電話號碼", "电话号码"),
        ("Ёлка", "елка"),
        ("  Wi‑Fi  ", "wi fi"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("text", "key", "body"),
    [
        ("bins: Mon and Thu 20:00", "bins", "Mon and Thu 20:00"),
        ("property office | 021-5555", "property office", "021-5555"),
        ("物业电话：021-5555", "物业电话", "021-5555"),
        ("bins Mon 20:00", "bins", "Mon 20:00"),
    ],
)
def test_parse_set(text: str, key: str, body: str) -> None:
    assert parse_set(text) == (key, body)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "facts.set_usage"),
        ("bins", "facts.set_usage"),
        ("bins:   ", "facts.set_usage"),
        (": text", "facts.set_usage"),
        ("k" * 41 + ": x", "facts.key_too_long"),
        ("bins: " + "x" * 501, "facts.text_too_long"),
    ],
)
def test_parse_set_refuses(text: str, error: str) -> None:
    with pytest.raises(DomainError) as err:
        parse_set(text)
    assert err.value.key == error


def test_find_exact_then_key_then_text() -> None:
    assert [f.id for f in find(FACTS, "office")] == [5, 1]
    assert [f.id for f in find(FACTS, "電話")] == [3]
    assert [f.id for f in find(FACTS, "021-5555")] == [1, 3]
    assert find(FACTS, "!!!") == []


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("When are the bins collected?", True),
        ("bins？", True),
        ("where is the property office", True),
        ("请问物业电话是多少", True),
        ("物业电话是多少呢", True),
        ("где мусор", True),
        ("I put the bins out", False),
        ("bins", False),
        ("物业电话打不通", False),
        ("thanks!", False),
        ("", False),
    ],
)
def test_is_question(text: str, question: bool) -> None:
    assert is_question(text) is question


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("When are the bins collected?", 2),
        ("what is the property office number?", 1),  # the longer key wins over "office"
        ("who has the wi-fi password?", 4),
        ("請問物業電話？", 3),
        ("Когда вывозят мусор?", 6),
        # not answered
        ("is it raining?", None),
        ("I put the bins out", None),  # not a question
        ("what about the cabinets?", None),  # "bins" only inside a word
        ("binsky?", None),
        ("is the lift or the bins thing fixed?", None),  # two unrelated facts: say nothing
        ("what is the wifi?", None),  # "wifi" is not the key "wi-fi"
    ],
)
def test_answer_for(text: str, answer: int | None) -> None:
    found = answer_for(FACTS, text)
    assert (found.id if found else None) == answer


def test_short_latin_keys_never_answer() -> None:
    facts = [fact(1, "tv", "channel 3")]
    assert answer_for(facts, "what is on tv?") is None


def test_may_answer_again_after_half_an_hour() -> None:
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert may_answer(None, now)
    assert not may_answer(now - timedelta(minutes=29), now)
    assert may_answer(now - timedelta(minutes=30), now)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_any_text_is_handled(text: str) -> None:
    """Random Unicode never breaks the rules: a parse refuses with a catalog key, a question
    gets at most one fact, folding is idempotent."""
    assert fold(fold(text)) == fold(text)
    found = answer_for(FACTS, text)
    assert found is None or found in FACTS
    find(FACTS, text)
    try:
        key, body = parse_set(text)
    except DomainError as exc:
        assert t("en", exc.key, **exc.params) != exc.key
    else:
        assert key and body and len(key) <= 40
