"""Repair reports, the pure rules: what a report says, the state machine (handler and
reporter), reasons, Me too per household, category names, the overdue deadlines and the next
check of the chain, and the card references."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain import notices as nt
from bot.domain import reports as rp
from bot.domain.errors import DomainError
from tests.fuzz.test_parsers import EXAMPLES, text
from tests.test_i18n import ENGLISH

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "what", "where", "private"),
    [
        ("Lift stuck on 3 | entrance 2", "Lift stuck on 3", "entrance 2", False),
        ("Lift stuck", "Lift stuck", None, False),
        ("  Lift   stuck  |  ", "Lift stuck", None, False),
        ("private Neighbour's music at 3am | 5-02", "Neighbour's music at 3am", "5-02", True),
        ("Private smell of gas", "smell of gas", None, True),
        ("私密 楼上漏水 | 3-301", "楼上漏水", "3-301", True),
        ("лично шум по ночам", "шум по ночам", None, True),
        ("电梯坏了 | 2单元 | 晚上", "电梯坏了", "2单元 晚上", False),
        ("privately", None, None, True),  # nothing after the word: usage
        ("Lift\u200b stuck\x07", "Lift stuck", None, False),  # invisible and control characters
    ],
)
def test_parse_report(text: str, what: str | None, where: str | None, private: bool) -> None:
    if what is None:
        with pytest.raises(DomainError) as err:
            rp.parse_report(text)
        assert err.value.key == "report.usage"
        return
    draft = rp.parse_report(text)
    assert (draft.what, draft.where, draft.private) == (what, where, private)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "report.usage"),
        ("| entrance 2", "report.usage"),
        ("x" * 301, "report.too_long"),
        ("a | " + "y" * 101, "report.too_long"),
    ],
)
def test_parse_report_refusals(text: str, key: str) -> None:
    with pytest.raises(DomainError) as err:
        rp.parse_report(text)
    assert err.value.key == key


def test_reason_is_one_line() -> None:
    assert rp.parse_reason("the water company\nsecond line") == "the water company"
    with pytest.raises(DomainError):
        rp.parse_reason("   ")
    with pytest.raises(DomainError):
        rp.parse_reason("x" * 201)


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("ack", rp.ACKNOWLEDGED),
        ("ACK", rp.ACKNOWLEDGED),
        ("progress", rp.IN_PROGRESS),
        ("fixed", rp.FIXED),
        ("已修好", rp.FIXED),
        ("исправлено", rp.FIXED),
        ("dup", rp.DUPLICATE),
        ("notours", rp.NOT_OURS),
        ("ＡＣＫ", rp.ACKNOWLEDGED),
        ("maybe", None),
        ("confirmed", None),
        ("open", None),
    ],
)
def test_state_words(word: str, state: str | None) -> None:
    assert rp.parse_state(word) == state


# --- states ---------------------------------------------------------------------------------

H, R = False, True  # by a handler, by the reporter


@pytest.mark.parametrize(
    ("current", "target", "by", "ok"),
    [
        (rp.OPEN, rp.ACKNOWLEDGED, H, True),
        (rp.OPEN, rp.IN_PROGRESS, H, True),
        (rp.OPEN, rp.FIXED, H, True),  # steps may be skipped forward
        (rp.ACKNOWLEDGED, rp.IN_PROGRESS, H, True),
        (rp.IN_PROGRESS, rp.FIXED, H, True),
        (rp.ACKNOWLEDGED, rp.ACKNOWLEDGED, H, False),  # a second press changes nothing
        (rp.IN_PROGRESS, rp.ACKNOWLEDGED, H, False),  # never backwards
        (rp.FIXED, rp.CONFIRMED, H, False),  # only the reporter confirms
        (rp.FIXED, rp.CONFIRMED, R, True),
        (rp.FIXED, rp.OPEN, R, True),  # "not really" reopens
        (rp.OPEN, rp.CONFIRMED, R, False),  # nothing to confirm yet
        (rp.OPEN, rp.FIXED, R, False),  # a reporter cannot close their own report
        (rp.CONFIRMED, rp.OPEN, R, False),
        (rp.DUPLICATE, rp.OPEN, H, False),
        (rp.NOT_OURS, rp.ACKNOWLEDGED, H, False),
        (rp.DRAFT, rp.ACKNOWLEDGED, H, False),
    ],
)
def test_state_machine(current: str, target: str, by: bool, ok: bool) -> None:
    if ok:
        assert rp.change(current, target, by_reporter=by) == target
    else:
        with pytest.raises(DomainError) as err:
            rp.change(current, target, by_reporter=by)
        assert err.value.key == "report.bad_change"


@pytest.mark.parametrize("target", [rp.DUPLICATE, rp.NOT_OURS])
def test_closing_needs_a_reason(target: str) -> None:
    with pytest.raises(DomainError) as err:
        rp.change(rp.OPEN, target, by_reporter=False, reason=" ")
    assert err.value.key == "report.reason_needed"
    assert rp.change(rp.IN_PROGRESS, target, by_reporter=False, reason="see F2") == target


# --- households -----------------------------------------------------------------------------


def test_household_is_the_lowest_approved_unit_or_the_person() -> None:
    assert rp.household([12, 7], 5) == "u7"
    assert rp.household([], 5) == "p5"


@pytest.mark.parametrize(
    ("taken", "key", "user", "notice"),
    [
        ({}, "u2", 20, "report.metoo_added"),
        ({}, "u1", 11, "report.metoo_own"),  # the reporter's flatmate
        ({"u2": 20}, "u2", 21, "report.metoo_already"),  # the same flat pressed already
        ({"u2": 20}, "p20", 20, "report.metoo_already"),  # the same person, claim since lost
        ({"u2": 20}, "p30", 30, "report.metoo_added"),  # no household: counts as themselves
    ],
)
def test_me_too(taken: dict[str, int], key: str, user: int, notice: str) -> None:
    assert rp.me_too("u1", taken, key, user) == notice


def test_category_names() -> None:
    names = {"lift": "Elevator", "water": "Water", "c5": "Parking"}
    assert rp.category_key("lift", names) == "lift"
    assert rp.category_key("ELEVATOR", names) == "lift"
    assert rp.category_key(" parking ", names) == "c5"
    assert rp.category_key("gas", names) is None
    assert rp.category_key("", names) is None
    with pytest.raises(DomainError):
        rp.clean_category_name("x" * 25)
    assert rp.clean_category_name("  Bike   room ") == "Bike room"


# --- overdue --------------------------------------------------------------------------------


def clock(status: str, ack: bool = False, fix: bool = False) -> rp.Clock:
    return rp.Clock(status, T0, ack, fix)


@pytest.mark.parametrize(
    ("status", "after", "late"),
    [
        (rp.OPEN, timedelta(days=1), ()),
        (rp.OPEN, timedelta(days=2), ("ack",)),
        (rp.ACKNOWLEDGED, timedelta(days=3), ()),
        (rp.OPEN, timedelta(days=14), ("ack", "fix")),
        (rp.IN_PROGRESS, timedelta(days=14), ("fix",)),
        (rp.FIXED, timedelta(days=30), ()),  # waiting for the reporter is not overdue
        (rp.DUPLICATE, timedelta(days=30), ()),
    ],
)
def test_overdue(status: str, after: timedelta, late: tuple[str, ...]) -> None:
    assert rp.overdue(clock(status), T0 + after, 2, 14) == late


def test_to_flag_skips_what_was_told() -> None:
    assert rp.to_flag(clock(rp.OPEN, ack=True), T0 + timedelta(days=15), 2, 14) == ("fix",)
    assert rp.to_flag(clock(rp.OPEN, ack=True, fix=True), T0 + timedelta(days=15), 2, 14) == ()


@pytest.mark.parametrize(
    ("report", "after", "expected"),
    [
        (clock(rp.OPEN), T0, T0 + timedelta(days=2)),
        (clock(rp.OPEN, ack=True), T0 + timedelta(days=2), T0 + timedelta(days=14)),
        (clock(rp.ACKNOWLEDGED), T0 + timedelta(days=2), T0 + timedelta(days=14)),
        (clock(rp.ACKNOWLEDGED, fix=True), T0 + timedelta(days=14), None),
        (clock(rp.FIXED), T0, None),
        (clock(rp.CONFIRMED), T0, None),
        (clock(rp.IN_PROGRESS), T0 + timedelta(days=20), None),  # past and unflagged: run flags
    ],
)
def test_next_check(report: rp.Clock, after: datetime, expected: datetime | None) -> None:
    assert rp.next_check(report, after, 2, 14) == expected


# --- references -----------------------------------------------------------------------------


def test_refs() -> None:
    assert rp.tag(12) == "#F12"
    assert rp.parse_ref("F12") == rp.parse_ref("#f12") == rp.parse_ref("f-12") == 12
    assert rp.parse_ref("Ｆ12") == 12
    assert rp.parse_ref("E12") is None and rp.parse_ref("F") is None
    assert rp.parse_ref("F" + "9" * 13) is None
    assert rp.find_ref("🛠 Report #F3 — open\n… see #F2\n\n#F3") == 3
    assert rp.find_ref("no tag") is None


# --- fuzz: every parser answers with a value or a translated refusal ------------------------

FUZZED = {
    "report": rp.parse_report,
    "reason": rp.parse_reason,
    "state": rp.parse_state,
    "ref": rp.parse_ref,
    "category name": rp.clean_category_name,
    "category key": lambda raw: rp.category_key(raw, {"lift": "Lift", "c1": "Parking"}),
    "notice": nt.parse_notice,
    "notice ref": nt.parse_ref,
}


@pytest.mark.parametrize("name", sorted(FUZZED))
def test_parsers_never_fail_untranslated(name: str) -> None:
    parser = FUZZED[name]

    @settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(raw=st.one_of(text, st.sampled_from(["private", "pin", "F", "#F0", "| by", "私密"])))
    def run(raw: str) -> None:
        try:
            parser(raw)
        except DomainError as exc:
            assert exc.key in ENGLISH, exc.key

    run()
