"""Formal decisions: every rule at and around its thresholds, quorums, and exact arithmetic.

Expectations are computed by hand in the comments. A ballot string has one letter per
registered unit: F for, A against, X abstain, "." did not vote.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.decisions import (
    RULE_NAMES,
    STATUTORY,
    Ballot,
    Basis,
    Outcome,
    Rule,
    Stage,
    Unit,
    evaluate,
    parse_choice,
    parse_rule,
)
from bot.domain.errors import DomainError

#: Generated cases per property: 300 by default, 10 000 with COURTYARD_FULL_TESTS=1.
EXAMPLES = 10_000 if os.environ.get("COURTYARD_FULL_TESTS") == "1" else 300

NQU = "decision.no_quorum_units"
NQA = "decision.no_quorum_area"
SU = "decision.short_units"
SA = "decision.short_area"

_CHOICE = {"F": "for", "A": "against", "X": "abstain"}


def building(areas: list[str] | int) -> list[Unit]:
    """Units U1..Un; ``areas`` as decimal strings, or just a number of units without areas."""
    if isinstance(areas, int):
        return [Unit(f"U{i}") for i in range(1, areas + 1)]
    return [Unit(f"U{i}", Fraction(a)) for i, a in enumerate(areas, start=1)]


def ballots(votes: str) -> list[Ballot]:
    return [Ballot(f"U{i}", _CHOICE[v]) for i, v in enumerate(votes, start=1) if v != "."]


def run(rule: str, areas: list[str] | int, votes: str) -> Outcome:
    units = building(len(votes) if areas == 0 else areas)
    assert len(units) == len(votes)
    return evaluate(parse_rule(rule), units, ballots(votes))


def counted(for_: int, against: int = 0, abstain: int = 0, absent: int = 0) -> str:
    return "F" * for_ + "A" * against + "X" * abstain + "." * absent


def assert_exact(value: object) -> None:
    """Every number anywhere in ``value`` is an int or a Fraction: never a float."""
    if isinstance(value, bool | str | enum.Enum) or value is None:
        return
    if isinstance(value, int | Fraction):
        assert type(value) in (int, Fraction), type(value)
        return
    if isinstance(value, tuple | list):
        for item in value:
            assert_exact(item)
        return
    assert dataclasses.is_dataclass(value), f"unexpected {type(value)}: {value!r}"
    for field in dataclasses.fields(value):
        assert_exact(getattr(value, field.name))


# --- unit-count rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "votes", "approved", "reasons"),
    [
        # majority: for > 1/2 of participating units
        ("majority", counted(2, 1), True, ()),  # 2/3
        ("majority", counted(1, 1), False, (SU,)),  # tie 1/2
        ("majority", counted(2, 2), False, (SU,)),  # tie 2/4
        ("majority", counted(3, 2), True, ()),  # 3/5
        ("majority", counted(50, 50), False, (SU,)),
        ("majority", counted(51, 49), True, ()),
        ("majority", counted(1, 0, 1), False, (SU,)),  # abstention participates: 1/2
        ("majority", counted(2, 0, 1), True, ()),  # 2/3
        ("majority", counted(1, 0, 0, 5), True, ()),  # non-voters do not participate: 1/1
        ("majority", counted(0, 0, 0, 3), False, (SU,)),  # nobody voted
        ("majority", counted(0, 0, 3), False, (SU,)),  # everyone abstained
        # two-thirds: for >= 2/3
        ("two-thirds", counted(2, 1), True, ()),  # exactly 2/3
        ("two-thirds", counted(200, 100), True, ()),  # exactly 2/3
        ("two-thirds", counted(199, 101), False, (SU,)),  # one unit short
        ("two-thirds", counted(5, 3), False, (SU,)),  # 5/8
        ("two-thirds", counted(2, 0, 1), True, ()),  # abstention: 2/3
        ("two-thirds", counted(2, 1, 1), False, (SU,)),  # 2/4
        ("two-thirds", counted(0, 0, 0, 3), False, (SU,)),
        # three-quarters: for >= 3/4
        ("three-quarters", counted(3, 1), True, ()),  # exactly 3/4
        ("three-quarters", counted(75, 25), True, ()),
        ("three-quarters", counted(74, 26), False, (SU,)),
        ("three-quarters", counted(2, 1), False, (SU,)),  # 2/3
        ("three-quarters", counted(3, 0, 1, 5), True, ()),  # 3/4 of participating
        # unanimous: every participating unit for, at least one ballot
        ("unanimous", counted(1), True, ()),
        ("unanimous", counted(3, 0, 0, 5), True, ()),
        ("unanimous", counted(3, 1), False, (SU,)),
        ("unanimous", counted(3, 0, 1), False, (SU,)),  # an abstention blocks unanimity
        ("unanimous", counted(0, 0, 0, 4), False, (SU,)),
    ],
)
def test_unit_rules(rule: str, votes: str, approved: bool, reasons: tuple[str, ...]) -> None:
    outcome = run(rule, 0, votes)
    assert outcome.approved is approved
    assert outcome.reasons == reasons
    assert outcome.quorum_met  # no quorum asked for
    assert outcome.participating_units == len(votes.replace(".", ""))
    assert outcome.not_voted == votes.count(".")
    assert outcome.area is None and outcome.for_area is None  # no areas registered
    assert_exact(outcome)


def test_majority_check_shows_the_fractions() -> None:
    outcome = run("majority", 0, "FFA.X")
    (check,) = outcome.checks
    assert (check.requirement.stage, check.requirement.basis) == (Stage.APPROVAL, Basis.UNITS)
    assert (check.part, check.whole, check.achieved) == (2, 4, Fraction(1, 2))
    assert check.required == Fraction(1, 2) and check.requirement.strict and not check.met
    assert (outcome.for_units, outcome.against_units, outcome.abstain_units) == (2, 1, 1)


@pytest.mark.parametrize(
    ("rule", "votes", "quorum_met", "approved", "reasons"),
    [
        ("majority quorum=1/2", "F...", False, False, (NQU,)),  # 1/4 participate
        ("majority quorum=1/2", "FA..", True, False, (SU,)),  # exactly 1/2 participate; tie
        ("majority quorum=1/2", "FF..", True, True, ()),
        ("majority quorum=50%", "FX..", True, False, (SU,)),
        ("majority quorum=0.5", "FFX.", True, True, ()),
        ("majority quorum=0,5", "A...", False, False, (NQU, SU)),
        ("two-thirds quorum=2/3", "FF.", True, True, ()),  # exactly 2/3 participate
        ("two-thirds quorum=2/3", "FF..", False, False, (NQU,)),  # 1/2 participate
        ("three-quarters quorum=1", "FFF", True, True, ()),
        ("three-quarters quorum=1", "FFF.", False, False, (NQU,)),
        ("unanimous quorum=60%", "FFF..", True, True, ()),  # exactly 3/5
        ("unanimous quorum=60%", "FF...", False, False, (NQU,)),
        ("majority quorum=1/2", "....", False, False, (NQU, SU)),
    ],
)
def test_quorum(
    rule: str, votes: str, quorum_met: bool, approved: bool, reasons: tuple[str, ...]
) -> None:
    outcome = run(rule, 0, votes)
    assert (outcome.quorum_met, outcome.approved, outcome.reasons) == (
        quorum_met,
        approved,
        reasons,
    )
    assert outcome.checks[0].requirement.stage is Stage.QUORUM
    assert outcome.checks[0].whole == len(votes)  # of all registered units
    assert_exact(outcome)


# --- area rules --------------------------------------------------------------------------------

EQUAL6 = ["100"] * 6  # 600 m²
#: two large units dominate the area, six small ones the count: 8 units, 1100 m²
LOPSIDED = ["400", "400", "50", "50", "50", "50", "50", "50"]


@pytest.mark.parametrize(
    ("rule", "areas", "votes", "quorum_met", "approved", "reasons"),
    [
        # equal areas: participation 4/6 = 2/3 of units and 400/600 = 2/3 of area (exactly)
        ("cn-278", EQUAL6, "FFFA..", True, True, ()),  # 3/4 by both
        ("cn-278-special", EQUAL6, "FFFA..", True, True, ()),  # exactly 3/4 by both
        ("cn-278-special", EQUAL6, "FFFX..", True, True, ()),
        ("cn-278-special", EQUAL6, "FFXX..", True, False, (SA, SU)),  # 1/2
        ("cn-278", EQUAL6, "FFAA..", True, False, (SA, SU)),  # tie: not more than half
        ("cn-278", EQUAL6, "FFX...", False, False, (NQA, NQU)),  # 1/2 participate
        ("cn-278", EQUAL6, "FFFFF.", True, True, ()),
        ("cn-278", EQUAL6, "......", False, False, (NQA, NQU, SA, SU)),
        # just below 2/3 of the area while exactly 2/3 of the units take part: 390/600
        ("cn-278", ["90", "100", "100", "100", "105", "105"], "FFFF..", False, False, (NQA,)),
        # the same count with the larger units: 405/600
        ("cn-278", ["90", "100", "100", "100", "105", "105"], ".FFFF.", True, True, ()),
        # the large units for, four small against: participation 6/8 units, 1000/1100 m²;
        # for 800/1000 of the area but 2/6 of the units
        ("cn-278", LOPSIDED, "FFAAAA..", True, False, (SU,)),
        # the small units for, the large against: for 300/1100 of the area, 6/8 of the units
        ("cn-278", LOPSIDED, "AAFFFFFF", True, False, (SA,)),
        ("majority", LOPSIDED, "AAFFFFFF", True, True, ()),  # counting units only
        ("ru-oss", LOPSIDED, "AAFFFFFF", True, False, (SA,)),  # counting area only
        # all six small units vote: 6/8 units but 300/1100 m² participate
        ("cn-278", LOPSIDED, "..FFFFFF", False, False, (NQA,)),
        # the large units and three small: 950/1100 m² but 5/8 units participate
        ("cn-278", LOPSIDED, "FFFFF...", False, False, (NQU,)),
        # exactly 3/4 by area (450/600) and by units (3/4) -> approved
        ("cn-278-special", ["200", "100", "150", "150"], "FFFA", True, True, ()),
        # one hundredth of a m² short: 449.99/600
        ("cn-278-special", ["200", "99.99", "150", "150.01"], "FFFA", True, False, (SA,)),
        # "by area 71/100 of 3/4 needed", and 1/2 of the units
        ("cn-278-special", ["71", "29"], "FA", True, False, (SA, SU)),
        ("cn-278", ["71", "29"], "FA", True, False, (SU,)),  # units tie 1/2
        ("cn-278", ["50", "50"], "FA", True, False, (SA, SU)),  # both ties
        ("cn-278", ["100", "100", "100"], "FFX", True, True, ()),  # 2/3 by both
        ("cn-278-special", ["100", "100", "100"], "FFX", True, False, (SA, SU)),
        # ru-oss: quorum > 1/2 of all area; approval > 1/2 of the participating area
        ("ru-oss", ["100"] * 4, "FA..", False, False, (NQA, SA)),  # exactly 1/2 take part
        ("ru-oss", ["100"] * 4, "FFA.", True, True, ()),  # 200/300
        ("ru-oss", ["100"] * 4, "FAX.", True, False, (SA,)),  # 100/300
        ("ru-oss", ["60", "40", "50", "50"], "F.A.", True, True, ()),  # 110/200 take part; 60/110
        ("ru-oss", ["60", "40", "50", "50"], "F.X.", True, True, ()),
        ("ru-oss", ["55", "45", "55", "45"], "F.A.", True, False, (SA,)),  # tie 55/110
        # ru-oss-two-thirds: for >= 2/3 of ALL the area
        ("ru-oss-two-thirds", ["100"] * 3, "FF.", True, True, ()),  # exactly 2/3 of all
        ("ru-oss-two-thirds", ["100"] * 6, "FFFFAA", True, True, ()),  # 4/6 of all
        ("ru-oss-two-thirds", ["100"] * 6, "FFF...", False, False, (NQA, SA)),
        ("ru-oss-two-thirds", ["100"] * 6, "FFFAAA", True, False, (SA,)),
        ("ru-oss-two-thirds", ["100", "100", "99.99"], "FF.", True, True, ()),  # 200/299.99
        ("ru-oss-two-thirds", ["100", "99.99", "100.01"], "FF.", True, False, (SA,)),  # 199.99
    ],
)
def test_area_rules(
    rule: str,
    areas: list[str],
    votes: str,
    quorum_met: bool,
    approved: bool,
    reasons: tuple[str, ...],
) -> None:
    outcome = run(rule, areas, votes)
    assert (outcome.quorum_met, outcome.approved, outcome.reasons) == (
        quorum_met,
        approved,
        reasons,
    )
    assert outcome.area == sum((Fraction(a) for a in areas), Fraction(0))
    assert_exact(outcome)


def test_the_card_can_show_area_71_of_100_against_3_4() -> None:
    outcome = run("cn-278-special", ["71", "29"], "FA")
    by_area = [
        c
        for c in outcome.checks
        if c.requirement.stage is Stage.APPROVAL and c.requirement.basis is Basis.AREA
    ]
    (check,) = by_area
    assert (check.part, check.whole, check.achieved) == (71, 100, Fraction(71, 100))
    assert check.required == Fraction(3, 4) and not check.requirement.strict
    assert [(c.requirement.stage, c.requirement.basis) for c in outcome.checks] == [
        (Stage.QUORUM, Basis.AREA),
        (Stage.QUORUM, Basis.UNITS),
        (Stage.APPROVAL, Basis.AREA),
        (Stage.APPROVAL, Basis.UNITS),
    ]


def test_outcome_figures() -> None:
    # 12 units: areas 50..105 by 5 m² = 930 m²; for U1..U8, against U9, abstain U10, two absent
    areas = [str(50 + 5 * i) for i in range(12)]
    outcome = run("cn-278-special", areas, "FFFFFFFFAX..")
    assert outcome.units == 12 and outcome.area == 930
    assert outcome.participating_units == 10 and outcome.participating_area == 725
    assert (outcome.for_units, outcome.against_units, outcome.abstain_units) == (8, 1, 1)
    assert (outcome.for_area, outcome.against_area, outcome.abstain_area) == (540, 90, 95)
    assert outcome.not_voted == 2
    assert [c.achieved for c in outcome.checks] == [
        Fraction(725, 930),
        Fraction(10, 12),
        Fraction(540, 725),  # 0.7448... < 3/4
        Fraction(8, 10),
    ]
    assert outcome.reasons == (SA,)
    assert outcome.ignored == ()


def test_missing_area() -> None:
    units = [Unit("A", Fraction(50)), Unit("B"), Unit("C")]
    for name in ("cn-278", "cn-278-special", "ru-oss", "ru-oss-two-thirds"):
        with pytest.raises(DomainError) as info:
            evaluate(Rule(name), units, [Ballot("A", "for")])
        assert info.value.key == "decision.missing_area"
        assert info.value.params == {"units": 2}
    # rules by count do not need areas, and then report none
    outcome = evaluate(Rule("majority"), units, [Ballot("A", "for")])
    assert outcome.approved and outcome.area is None and outcome.participating_area is None


def test_empty_register() -> None:
    for name in RULE_NAMES:
        outcome = evaluate(Rule(name), [], [])
        assert not outcome.approved and outcome.units == 0
        assert_exact(outcome)


def test_ballots_for_unregistered_units_are_ignored() -> None:
    units = building(["50", "50"])
    outcome = evaluate(
        Rule("cn-278"), units, [Ballot("U1", "for"), Ballot("GONE", "for"), Ballot("U2", "for")]
    )
    assert outcome.participating_units == 2 and outcome.for_units == 2
    assert outcome.ignored == ("GONE",)


def test_programming_errors() -> None:
    with pytest.raises(ValueError):
        evaluate(Rule("majority"), building(2), [Ballot("U1", "for"), Ballot("U1", "against")])
    with pytest.raises(ValueError):
        evaluate(Rule("majority"), [Unit("A"), Unit("A")], [])
    with pytest.raises(ValueError):
        Ballot("U1", "maybe")
    with pytest.raises(TypeError):
        Unit("U1", 89.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Unit("U1", Fraction(0))
    with pytest.raises(ValueError):
        Rule("plurality")
    with pytest.raises(ValueError):
        Rule("majority", Fraction(3, 2))
    with pytest.raises(ValueError):
        Rule("cn-278", Fraction(1, 2))


def test_no_float_anywhere() -> None:
    """Every number of every outcome is an int or a Fraction; this fails if a float sneaks in."""
    areas = ["89.5", "54.33", "120", "0.01", "77.77", "100"]
    for name in RULE_NAMES:
        for votes in ("FAX.FA", "......", "FFFFFF", "XXXXXX", "F.....", "AAAAAF"):
            outcome = evaluate(Rule(name), building(areas), ballots(votes))
            assert_exact(outcome)
            for check in outcome.checks:
                expected = check.part / check.whole if check.whole else Fraction(0)
                assert check.achieved == expected and type(check.achieved) is Fraction
    with pytest.raises(AssertionError):
        assert_exact(dataclasses.replace(outcome, for_units=0.5))  # the guard itself works


# --- parsing rules and choices -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("majority", Rule("majority")),
        ("  Majority ", Rule("majority")),
        ("simple majority", Rule("majority")),
        ("过半数", Rule("majority")),
        ("большинство", Rule("majority")),
        ("two-thirds", Rule("two-thirds")),
        ("Two thirds", Rule("two-thirds")),
        ("two_thirds", Rule("two-thirds")),
        ("2/3", Rule("two-thirds")),
        ("三分之二", Rule("two-thirds")),
        ("две трети", Rule("two-thirds")),
        ("three-quarters", Rule("three-quarters")),
        ("3/4", Rule("three-quarters")),
        ("unanimous", Rule("unanimous")),
        ("единогласно", Rule("unanimous")),
        ("cn-278", Rule("cn-278")),
        ("CN278", Rule("cn-278")),
        ("rule=cn-278-special", Rule("cn-278-special")),
        ("ru-oss", Rule("ru-oss")),
        ("ru-oss-two-thirds", Rule("ru-oss-two-thirds")),
        ("majority quorum=1/2", Rule("majority", Fraction(1, 2))),
        ("majority, quorum=50%", Rule("majority", Fraction(1, 2))),
        ("majority quorum=0.5", Rule("majority", Fraction(1, 2))),
        ("quorum = 2/3 two-thirds", Rule("two-thirds", Fraction(2, 3))),
        ("two-thirds quorum=66.5%", Rule("two-thirds", Fraction(133, 200))),
        ("majority quorum=1", Rule("majority", Fraction(1))),
        ("majority quorum=100%", Rule("majority", Fraction(1))),
        ("большинство кворум=50%", Rule("majority", Fraction(1, 2))),
        ("majority quorum＝１/３", Rule("majority", Fraction(1, 3))),
    ],
)
def test_parse_rule(text: str, rule: Rule) -> None:
    assert parse_rule(text) == rule
    assert parse_rule(rule.text) == rule  # the canonical text reads back


@pytest.mark.parametrize(
    ("text", "key", "params"),
    [
        (
            "plurality",
            "decision.unknown_rule",
            {"value": "plurality", "choices": ", ".join(RULE_NAMES)},
        ),
        ("", "decision.unknown_rule", {"value": "", "choices": ", ".join(RULE_NAMES)}),
        ("majority quorum=0", "decision.bad_quorum", {"value": "0"}),
        ("majority quorum=3/2", "decision.bad_quorum", {"value": "3/2"}),
        ("majority quorum=150%", "decision.bad_quorum", {"value": "150%"}),
        ("majority quorum=1/0", "decision.bad_quorum", {"value": "1/0"}),
        ("majority quorum=half", "decision.bad_quorum", {"value": "half"}),
        ("majority quorum=", "decision.bad_quorum", {"value": ""}),
        ("cn-278 quorum=1/2", "decision.fixed_quorum", {"rule": "cn-278"}),
        ("ru-oss quorum=1/2", "decision.fixed_quorum", {"rule": "ru-oss"}),
    ],
)
def test_parse_rule_refusals(text: str, key: str, params: dict[str, str]) -> None:
    with pytest.raises(DomainError) as info:
        parse_rule(text)
    assert info.value.key == key
    assert info.value.params == params


def test_rule_properties() -> None:
    assert {n for n in RULE_NAMES if Rule(n).needs_area} == STATUTORY
    assert Rule("two-thirds", Fraction(1, 2)).text == "two-thirds quorum=1/2"
    assert Rule("cn-278").text == "cn-278"


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("for", "for"),
        ("FOR", "for"),
        ("yes", "for"),
        ("赞成", "for"),
        ("за", "for"),
        ("against", "against"),
        ("反对", "against"),
        ("против", "against"),
        ("abstain", "abstain"),
        ("弃权", "abstain"),
        ("воздержался", "abstain"),
        # as people end a word: a full stop, an exclamation, a comma, in any script's form
        ("Against.", "against"),
        ("за!", "for"),
        ("弃权。", "abstain"),
        ("赞成！", "for"),
        ("反对，", "against"),
        ("yes, ", "for"),
        (" Против !", "against"),
    ],
)
def test_parse_choice(text: str, choice: str) -> None:
    assert parse_choice(text) == choice


def test_parse_choice_refusal() -> None:
    with pytest.raises(DomainError) as info:
        parse_choice("maybe")
    assert info.value.key == "decision.bad_choice"
    assert info.value.params == {"value": "maybe", "choices": "for, against, abstain"}
    for text in (".", "!。", "for-ever", "f.o.r"):
        with pytest.raises(DomainError):
            parse_choice(text)


# --- monotonicity ------------------------------------------------------------------------------

RULES = st.one_of(
    st.sampled_from(RULE_NAMES).map(Rule),
    st.tuples(
        st.sampled_from(sorted(set(RULE_NAMES) - STATUTORY)),
        st.fractions(min_value=Fraction(1, 100), max_value=1, max_denominator=100),
    ).map(lambda t: Rule(t[0], t[1])),
)
#: a building: each unit has an area (0.01..500.00 m²) and a ballot, None when it did not vote;
#: "for" is drawn more often so that approvals (the interesting case) are common
BUILDINGS = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=50_000).map(lambda c: Fraction(c, 100)),
        st.sampled_from([None, None, "for", "for", "for", "for", "against", "abstain"]),
    ),
    min_size=1,
    max_size=12,
)


def _evaluate(rule: Rule, rows: list[tuple[Fraction, str | None]]) -> Outcome:
    units = [Unit(f"U{i}", area) for i, (area, _) in enumerate(rows)]
    cast = [Ballot(f"U{i}", c) for i, (_, c) in enumerate(rows) if c is not None]
    return evaluate(rule, units, cast)


@settings(max_examples=EXAMPLES, deadline=None)
@given(rule=RULES, rows=BUILDINGS, pick=st.integers(min_value=0))
def test_a_late_for_never_undoes_an_approval(
    rule: Rule, rows: list[tuple[Fraction, str | None]], pick: int
) -> None:
    """For every rule (with or without a quorum), every building and every set of ballots:
    if the decision is approved, it stays approved when one more registered unit that had not
    voted votes "for"; and when any one ballot is changed to "for"."""
    before = _evaluate(rule, rows)
    absent = [i for i, (_, c) in enumerate(rows) if c is None]
    present = [i for i, (_, c) in enumerate(rows) if c is not None]
    for candidates in (absent, present):
        if not candidates:
            continue
        i = candidates[pick % len(candidates)]
        changed = list(rows)
        changed[i] = (rows[i][0], "for")
        after = _evaluate(rule, changed)
        if before.approved:
            assert after.approved, (rule, rows, i)
        assert_exact(after)


def test_a_late_abstention_is_not_monotone() -> None:
    """Documented: abstentions can complete a quorum (rejected -> approved) ..."""
    assert not run("majority quorum=1/2", 0, "F...").approved
    assert run("majority quorum=1/2", 0, "FX..").approved is False  # 1/2 for: a tie
    assert run("majority quorum=1/2", 0, "FFX...").approved
    assert not run("majority quorum=1/2", 0, "FF....").approved
    # ... and can undo an approval by growing the participating whole
    assert run("two-thirds", 0, "FFA.").approved
    assert not run("two-thirds", 0, "FFAX").approved


# --- totals and "is the result already certain?" ---------------------------------------------

from itertools import product  # noqa: E402

from bot.domain.decisions import Totals, certain, evaluate_totals  # noqa: E402


@settings(max_examples=EXAMPLES, deadline=None)
@given(rule=RULES, rows=BUILDINGS)
def test_evaluate_totals_agrees_with_evaluate(
    rule: Rule, rows: list[tuple[Fraction, str | None]]
) -> None:
    """A secret decision is recounted from its totals alone: exactly the same outcome."""
    outcome = _evaluate(rule, rows)
    again = evaluate_totals(rule, outcome.totals)
    assert again == outcome
    assert_exact(again)


def _brute_force(rule: Rule, rows: list[tuple[Fraction, str | None]]) -> bool | None:
    """Every way the non-voters could act (for, against, abstain, stay away)."""
    absent = [i for i, (_, c) in enumerate(rows) if c is None]
    seen = set()
    for combo in product(["for", "against", "abstain", None], repeat=len(absent)):
        changed = list(rows)
        for i, choice in zip(absent, combo, strict=True):
            changed[i] = (rows[i][0], choice)
        seen.add(_evaluate(rule, changed).approved)
    return seen.pop() if len(seen) == 1 else None


SMALL_BUILDINGS = st.lists(
    st.tuples(
        st.sampled_from([Fraction(50), Fraction(60), Fraction(7525, 100), Fraction(120)]),
        st.sampled_from([None, None, "for", "for", "against", "abstain"]),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(rule=RULES, rows=SMALL_BUILDINGS)
def test_certainty_matches_brute_force(rule: Rule, rows: list[tuple[Fraction, str | None]]) -> None:
    """For every rule and small building, ``certain`` says exactly what trying all 4^k ways
    the k non-voters could act says."""
    assert certain(rule, _evaluate(rule, rows).totals) == _brute_force(rule, rows)


@pytest.mark.parametrize(
    ("rule", "areas", "votes", "expected"),
    [
        ("majority", 0, "FFF..", True),  # 3 for vs at most 2 against
        ("majority", 0, "FF...", None),  # 2 for vs up to 3 against
        ("majority", 0, "AAA..", False),
        ("majority", 0, "FFAA", False),  # everyone voted: a tie is final
        ("majority", 0, "FFFA", True),
        ("majority", 0, ".....", None),  # nobody voted yet
        ("unanimous", 0, "FX...", False),  # an abstention already blocks unanimity
        ("unanimous", 0, "FF...", None),
        ("two-thirds", 0, "FFFFFFFF..", True),  # 8 for; worst 8/10 >= 2/3
        ("two-thirds", 0, "FFFFFF....", None),  # worst 6/10 < 2/3
        # quorum 1/2 of 4 is met; two late "against" would make a tie
        ("majority quorum=1/2", 0, "FF..", None),
        ("majority quorum=1/2", 0, "FFF.", True),
        ("majority quorum=1/2", 0, "AAA.", False),
        # cn-278-special, 6 equal units: 4 for = 2/3 participation; two more against -> 4/6 < 3/4
        ("cn-278-special", EQUAL6, "FFFF..", None),
        ("cn-278-special", EQUAL6, "FFFFF.", True),  # worst 5/6 >= 3/4 (both)
        ("cn-278-special", EQUAL6, "FFAA..", False),  # best 4/6 < 3/4
        # the two large units against: the area can never reach 3/4
        ("cn-278-special", LOPSIDED, "AA......", False),
        ("ru-oss-two-thirds", ["100"] * 3, "FF.", True),  # 2/3 of all, whatever the third
        ("ru-oss-two-thirds", ["100"] * 3, "F..", None),
    ],
)
def test_certainty_table(
    rule: str, areas: list[str] | int, votes: str, expected: bool | None
) -> None:
    outcome = run(rule, areas, votes)
    assert certain(parse_rule(rule), outcome.totals) is expected


def test_totals_refuse_nonsense() -> None:
    ok = Totals(3, Fraction(300), 1, 1, 0, Fraction(100), Fraction(100), Fraction(0))
    assert ok.participating_units == 2 and ok.not_voted == 1 and ok.not_voted_area == 100
    assert ok.with_rest("abstain").abstain_area == 100 and ok.with_rest(None) is ok
    with pytest.raises(ValueError):
        ok.with_rest("maybe")
    with pytest.raises(ValueError):
        Totals(1, None, 1, 1, 0, None, None, None)  # more ballots than units
    with pytest.raises(ValueError):
        Totals(2, Fraction(1), 1, 0, 0, None, Fraction(0), Fraction(0))  # half-known areas
    with pytest.raises(ValueError):
        Totals(2, Fraction(1), -1, 0, 0, Fraction(0), Fraction(0), Fraction(0))
    with pytest.raises(ValueError):
        Totals(2, Fraction(1), 1, 0, 0, Fraction(-1), Fraction(0), Fraction(0))
    unknown = Totals(2, None, 1, 0, 0, None, None, None)
    with pytest.raises(DomainError):
        evaluate_totals(Rule("cn-278"), unknown)
    assert evaluate_totals(Rule("majority"), unknown).approved


@pytest.mark.parametrize(
    ("rule", "areas", "votes", "approved", "reasons"),
    [
        # cn-278 quorum: exactly 2/3 of the units AND 2/3 of the area take part (3 units)
        ("cn-278", ["100", "100", "100"], "FF.", True, ()),
        ("cn-278", ["100", "100", "100"], "F..", False, (NQA, NQU)),  # one unit short
        # area and count disagree on the quorum: 2/3 of the units but 299.99/450 m² < 2/3
        ("cn-278", ["150", "149.99", "150.01"], "FF.", False, (NQA,)),
        ("cn-278", ["150", "149.99", "150.01"], "F.F", True, ()),  # 300.01/450 m²
        # ru-oss quorum one hundredth of a m² above one half: 100.01/200
        ("ru-oss", ["100.01", "99.99"], "F.", True, ()),
        ("ru-oss", ["99.99", "100.01"], "F.", False, (NQA,)),
        # three-quarters with a quorum: exactly 3/4 of 4 units take part, exactly 3/4 for... of 3
        ("three-quarters quorum=3/4", 0, "FFA.", False, (SU,)),  # 2/3 < 3/4
        ("three-quarters quorum=3/4", 0, "FFF.", True, ()),
        ("three-quarters quorum=3/4", 0, "FF..", False, (NQU,)),
    ],
)
def test_thresholds_at_the_edge(
    rule: str, areas: list[str] | int, votes: str, approved: bool, reasons: tuple[str, ...]
) -> None:
    outcome = run(rule, areas, votes)
    assert (outcome.approved, outcome.reasons) == (approved, reasons)
    assert_exact(outcome)
