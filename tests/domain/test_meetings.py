"""Table tests: reading /meeting and paper ballot lines, and counting every item of a meeting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from bot.domain.decisions import ABSTAIN, AGAINST, FOR, Ballot, Rule, Unit, evaluate
from bot.domain.errors import DomainError
from bot.domain.meetings import (
    DEFAULT_DAYS,
    MAX_ITEMS,
    Item,
    Request,
    count,
    households_voting,
    parse_item,
    parse_paper,
    parse_request,
)

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def request(text: str, default: str = "majority") -> Request:
    return parse_request(text, lang="en", tz="UTC", now=NOW, default_rule=default)


@pytest.mark.parametrize(
    ("text", "titles", "rules"),
    [
        (
            "AGM | Roof ; cn-278 | Lift ; cn-278-special",
            ["Roof", "Lift"],
            ["cn-278", "cn-278-special"],
        ),
        (
            "AGM | Roof | Lift ; two-thirds quorum=1/2",
            ["Roof", "Lift"],
            ["majority", "two-thirds quorum=1/2"],
        ),
        (
            "ОСС | Ремонт крыши ; осс | Лифт ; осс-2/3",
            ["Ремонт крыши", "Лифт"],
            ["ru-oss", "ru-oss-two-thirds"],
        ),
        # a full-width semicolon, a Chinese rule name
        (
            "业主大会 | 维修屋顶；三分之二 | 安装电梯",
            ["维修屋顶", "安装电梯"],
            ["two-thirds", "majority"],
        ),
        # "Part of the roof: repair" is an item, not the part option ("part" then a space)
        ("AGM | Part of the roof repair ; majority", ["Part of the roof repair"], ["majority"]),
        # "Close the gate at night" does not read as a closing time: an item
        ("AGM | Close the gate at night", ["Close the gate at night"], ["majority"]),
    ],
)
def test_items_and_their_rules(text: str, titles: list[str], rules: list[str]) -> None:
    found = request(text)
    assert [i.title for i in found.items] == titles
    assert [i.rule.text for i in found.items] == rules
    assert [i.number for i in found.items] == list(range(1, len(titles) + 1))
    assert found.closes == NOW + timedelta(days=DEFAULT_DAYS) and found.part is None


def test_options_closing_and_part() -> None:
    found = request("AGM | Roof | closes=2026-12-20 18:00 | part=Entrance  2 | Lift ; cn-278")
    assert [i.title for i in found.items] == ["Roof", "Lift"]
    assert found.closes == datetime(2026, 12, 20, 18, 0, tzinfo=UTC)
    assert found.part == "Entrance 2"
    spaced = request("AGM | Roof | closes in 3 days")
    assert spaced.closes == NOW + timedelta(days=3) and len(spaced.items) == 1
    assert request("AGM | Roof | group default", default="cn-278").items[0].rule.text == "cn-278"


@pytest.mark.parametrize(
    ("text", "key", "params"),
    [
        ("", "meeting.usage", {}),
        ("AGM", "meeting.no_items", {}),
        ("AGM | closes=tomorrow 10:00", "meeting.no_items", {}),
        ("x" * 201 + " | Roof", "meeting.title_too_long", {"limit": 200}),
        ("AGM | Roof | secret", "meeting.no_secret", {}),
        ("AGM | Roof | тайно", "meeting.no_secret", {}),
        ("AGM | Roof | ; majority", "meeting.item_empty", {"item": 2}),
        ("AGM | Roof | Lift ; plurality", "decision.unknown_rule", {"item": 2}),
        ("AGM | Roof ; cn-278 quorum=1/2", "decision.fixed_quorum", {"item": 1}),
        ("AGM | Roof ; majority quorum=3/2", "decision.bad_quorum", {"item": 1}),
        ("AGM | Roof | closes=every Monday 10:00", "decision.bad_closing", {}),
        (
            "AGM | " + " | ".join(f"Item {n}" for n in range(MAX_ITEMS + 1)),
            "meeting.too_many_items",
            {"limit": MAX_ITEMS},
        ),
    ],
)
def test_refusals(text: str, key: str, params: dict[str, object]) -> None:
    with pytest.raises(DomainError) as info:
        request(text)
    assert info.value.key == key
    for name, value in params.items():
        assert info.value.params[name] == value


def test_an_item_too_long_names_its_number() -> None:
    with pytest.raises(DomainError) as info:
        parse_item(3, "y" * 201, "majority")
    assert info.value.key == "meeting.item_too_long" and info.value.params["item"] == 3


@pytest.mark.parametrize(
    ("words", "label", "answers"),
    [
        ("3-502 1:for 2:against 3:for", "3-502", {1: FOR, 2: AGAINST, 3: FOR}),
        ("3-502 1:за 3:воздержался", "3-502", {1: FOR, 3: ABSTAIN}),  # item 2 left out
        ("3-502 1：赞成 2：反对 3：弃权", "3-502", {1: FOR, 2: AGAINST, 3: ABSTAIN}),
        ("3-502 2=贊成", "3-502", {2: FOR}),
        ("3-502 1: for, 2: against", "3-502", {1: FOR, 2: AGAINST}),
        ("Building 3 flat 502 1:против", "Building 3 flat 502", {1: AGAINST}),
        ("3-502 1:For. 2:Against!", "3-502", {1: FOR, 2: AGAINST}),
    ],
)
def test_paper_ballots(words: str, label: str, answers: dict[int, str]) -> None:
    paper = parse_paper(words.split(), items=3)
    assert paper.label == label and dict(paper.answers) == answers


@pytest.mark.parametrize(
    ("words", "key", "params"),
    [
        ("", "meeting.ballot_usage", {}),
        ("1:for 2:against", "meeting.ballot_usage", {}),
        ("3-502", "meeting.no_answers", {}),
        ("3-502 4:for", "meeting.no_such_item", {"number": 4, "count": 3}),
        ("3-502 0:for", "meeting.no_such_item", {"number": 0, "count": 3}),
        ("3-502 1:maybe", "meeting.bad_answer", {"number": 1, "value": "maybe"}),
        ("3-502 1:for 1:against", "meeting.item_twice", {"number": 1}),
        ("3-502 1:for please", "meeting.not_understood", {"value": "please"}),
    ],
)
def test_paper_refusals(words: str, key: str, params: dict[str, object]) -> None:
    with pytest.raises(DomainError) as info:
        parse_paper(words.split(), items=3)
    assert info.value.key == key
    for name, value in params.items():
        assert info.value.params[name] == value


UNITS = [Unit(f"1-0{n}", Fraction(50 + 10 * n)) for n in range(1, 7)]  # 60..110 m², 510 in all


def test_each_item_is_counted_as_a_decision_under_its_own_rule() -> None:
    items = [
        Item(1, "Roof", Rule("majority")),
        Item(2, "Lift", Rule("cn-278-special")),
        Item(3, "Paint", Rule("ru-oss")),
    ]
    answers = {
        "1-01": {1: FOR, 2: FOR, 3: FOR},
        "1-02": {1: FOR, 2: AGAINST},
        "1-03": {1: AGAINST, 2: FOR, 3: ABSTAIN},
        "1-04": {2: FOR},
        "1-05": {},  # answered nothing: no participation anywhere
        "9-99": {1: FOR},  # not a unit of the meeting: not counted
    }
    results = count(items, UNITS, answers)
    roof, lift, paint = (r.outcome for r in results)
    assert (roof.for_units, roof.against_units, roof.participating_units) == (2, 1, 3)
    assert roof.approved and roof.ignored == ("9-99",)
    assert (lift.for_units, lift.participating_units) == (3, 4)
    # 4/6 units take part (>= 2/3) and 60+70+80+90 = 300 of 510 m² (< 2/3): no quorum
    assert not lift.quorum_met and not lift.approved
    assert paint.participating_area == Fraction(60 + 80) and not paint.approved
    for result, item in zip(results, items, strict=True):
        ballots = [
            Ballot(label, a[item.number]) for label, a in answers.items() if item.number in a
        ]
        assert result.outcome == evaluate(item.rule, UNITS, ballots)
    assert households_voting(answers) == 5


def test_settled_while_open() -> None:
    items = [Item(1, "Roof", Rule("majority")), Item(2, "Lift", Rule("unanimous"))]
    answers: dict[str, dict[int, str]] = {label: {1: FOR} for label in ("1-01", "1-02", "1-03")}
    roof, lift = count(items, UNITS, answers)
    assert roof.settled is None and lift.settled is None  # 3 of 6: either way yet
    answers["1-04"] = {1: FOR}
    answers["1-05"] = {1: FOR, 2: AGAINST}
    roof, lift = count(items, UNITS, answers)
    assert roof.settled is True  # 5 of 6 for: the last household cannot sink it
    assert lift.settled is False  # an "against" blocks unanimity whatever follows


def test_one_item_per_line() -> None:
    found = request(
        "Annual meeting\nRepair the roof ; cn-278\n\nPaint the stairwell\ncloses=in 3 days"
    )
    assert [i.title for i in found.items] == ["Repair the roof", "Paint the stairwell"]
    assert found.title == "Annual meeting" and found.closes == NOW + timedelta(days=3)
