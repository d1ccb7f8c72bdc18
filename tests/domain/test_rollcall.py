"""Roll-call rules as tables: who may change a household's answer, the tally, titles, lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import DomainError
from bot.domain.rollcall import (
    Answer,
    Recorded,
    Refusal,
    check_on_me_expires,
    is_current,
    next_answer,
    parse_note,
    parse_title,
    remind_at,
    tally,
)
from bot.i18n import t

OK, HELP, SEEN = Answer.OK, Answer.HELP, Answer.SEEN
A, B, N = 1, 2, 3  # two members of the household, a neighbour


def rec(answer: Answer, by: int, note: str | None = None) -> Recorded:
    return Recorded(answer, by, f"user{by}", note)


@pytest.mark.parametrize(
    ("current", "answer", "by", "own", "expected"),
    [
        # nothing recorded: the household answers, a neighbour marks checked in person
        (None, OK, A, True, OK),
        (None, HELP, A, True, HELP),
        (None, SEEN, N, False, SEEN),
        (None, SEEN, A, True, OK),  # "checked" for one's own household means "we're OK"
        (None, OK, N, False, Refusal.ALREADY_ANSWERED),  # a neighbour cannot say OK for others
        (None, HELP, N, False, Refusal.ALREADY_ANSWERED),
        # the same person changes their mind (or presses again)
        (rec(OK, A), HELP, A, True, HELP),
        (rec(HELP, A), OK, A, True, OK),
        (rec(OK, A), OK, A, True, Refusal.SAME),
        (rec(HELP, A), HELP, A, True, Refusal.SAME),
        # another member: asking for help always goes through; OK never hides a cry for help
        (rec(OK, A), HELP, B, True, HELP),
        (rec(HELP, A), HELP, B, True, HELP),
        (rec(HELP, A), OK, B, True, Refusal.HELP_STAYS),
        (rec(OK, A), OK, B, True, OK),
        # the household's own word replaces a neighbour's
        (rec(SEEN, N), OK, A, True, OK),
        (rec(SEEN, N), HELP, A, True, HELP),
        # a neighbour never overwrites what the household said, nor marks twice
        (rec(OK, A), SEEN, N, False, Refusal.ALREADY_ANSWERED),
        (rec(HELP, A), SEEN, N, False, Refusal.ALREADY_ANSWERED),
        (rec(SEEN, N), SEEN, B + 10, False, Refusal.SAME),
    ],
)
def test_next_answer(
    current: Recorded | None, answer: Answer, by: int, own: bool, expected: object
) -> None:
    assert next_answer(current, answer, by, own_household=own) == expected


def test_tally_keeps_the_register_order_and_ignores_unknown_labels() -> None:
    labels = ["1-01", "1-02", "1-03", "1-10", "2-01"]
    answers = {"1-10": HELP, "1-01": OK, "2-01": SEEN, "9-99": OK}
    found = tally(labels, answers, [("Ann", OK)])
    assert found.help == ("1-10",)
    assert found.silent == ("1-02", "1-03")
    assert found.seen == ("2-01",)
    assert found.ok == ("1-01",)
    assert found.loose == (("Ann", OK),)
    assert (found.households, found.heard) == (5, 3)


def test_tally_of_an_empty_register() -> None:
    found = tally([], {}, [("Ann", HELP)])
    assert found.households == 0 and found.silent == () and found.loose == (("Ann", HELP),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Water pipe burst", "Water pipe burst"),
        ("  Fire\nalarm  ", "Fire alarm"),
        ("２号楼停电", "2号楼停电"),  # full width folded (NFKC)
        ("Gas\u200b leak", "Gas leak"),
    ],
)
def test_titles(text: str, expected: str) -> None:
    assert parse_title(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [("", "rollcall.usage"), ("\u200b\u2060", "rollcall.usage"), ("x" * 201, "rollcall.too_long")],
)
def test_bad_titles(text: str, key: str) -> None:
    with pytest.raises(DomainError) as err:
        parse_title(text)
    assert err.value.key == key


@pytest.mark.parametrize(
    ("text", "key"),
    [("   ", "rollcall.note_empty"), ("y" * 201, "rollcall.note_too_long")],
)
def test_bad_notes(text: str, key: str) -> None:
    with pytest.raises(DomainError) as err:
        parse_note(text)
    assert err.value.key == key


def test_note_is_one_line() -> None:
    assert parse_note("no water,\nelderly mother upstairs") == "no water, elderly mother upstairs"


def test_times() -> None:
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    assert remind_at(now, 20) == now + timedelta(minutes=20)
    with pytest.raises(ValueError):
        remind_at(now, 1)
    expires = check_on_me_expires(now)
    assert expires == now + timedelta(days=365)
    assert is_current(expires, now + timedelta(days=364))
    assert not is_current(expires, expires)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_title_or_line_is_handled(text: str) -> None:
    for parse in (parse_title, parse_note):
        try:
            value = parse(text)
        except DomainError as exc:
            assert t("en", exc.key, **exc.params) != exc.key
        else:
            assert value and "\n" not in value and len(value) <= 200
