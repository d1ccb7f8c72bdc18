"""The pure rules of proposals: stages, thresholds, dates, statements' agreement, reviews."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest

from bot.domain import proposals as rules
from bot.domain.errors import DomainError

# --- stages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "to", "allowed"),
    [
        ("collecting", "agenda", True),
        ("collecting", "declined", True),
        ("collecting", "expired", True),
        ("collecting", "hearing", False),  # support first, or a lead's agenda
        ("collecting", "vote", False),
        ("agenda", "hearing", True),
        ("agenda", "coordination", True),
        ("agenda", "vote", True),
        ("agenda", "expired", False),  # on the agenda it no longer expires
        ("hearing", "coordination", True),
        ("hearing", "hearing", True),  # a second hearing
        ("hearing", "vote", True),
        ("coordination", "vote", True),
        ("vote", "decided", True),
        ("vote", "agenda", True),  # did not pass: back, with the figures
        ("vote", "hearing", False),  # not while the decision is open
        ("vote", "declined", False),
        ("decided", "progress", True),
        ("decided", "review", True),
        ("progress", "review", True),
        ("decided", "agenda", False),
        ("review", "reviewed", True),
        ("review", "progress", False),
        ("reviewed", "review", False),
        ("declined", "agenda", False),
        ("expired", "agenda", False),
        ("nonsense", "agenda", False),
    ],
)
def test_transitions(stage: str, to: str, allowed: bool) -> None:
    assert rules.may_move(stage, to) is allowed
    if allowed:
        rules.check_move(stage, to)
    else:
        with pytest.raises(DomainError) as exc:
            rules.check_move(stage, to)
        assert exc.value.key == "proposal.wrong_stage" and exc.value.params["stage"] == stage


def test_every_stage_has_its_moves_and_finals_have_none() -> None:
    assert set(rules.TRANSITIONS) == set(rules.STAGES)
    assert all(to in rules.STAGES for moves in rules.TRANSITIONS.values() for to in moves)
    assert all(not rules.TRANSITIONS[s] for s in rules.FINAL)


# --- thresholds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "share", "count", "shown"),
    [
        ("1/5", Fraction(1, 5), None, "1/5"),
        (" 1 / 5 ", Fraction(1, 5), None, "1/5"),
        ("2/10", Fraction(1, 5), None, "1/5"),
        ("20%", Fraction(1, 5), None, "1/5"),
        ("33.3%", Fraction(333, 1000), None, "333/1000"),
        ("0.2", Fraction(1, 5), None, "1/5"),
        (".25", Fraction(1, 4), None, "1/4"),
        ("0,5", Fraction(1, 2), None, "1/2"),
        ("五分之一", Fraction(1, 5), None, "1/5"),
        ("三分之一", Fraction(1, 3), None, "1/3"),
        ("１/５", Fraction(1, 5), None, "1/5"),  # full-width digits
        ("12", None, 12, "12"),
        ("12 households", None, 12, "12"),
        ("12户", None, 12, "12"),
        ("12 квартир", None, 12, "12"),
        ("100%", Fraction(1), None, "1/1"),
    ],
)
def test_thresholds_read(text: str, share: Fraction | None, count: int | None, shown: str) -> None:
    found = rules.parse_threshold(text)
    assert (found.share, found.count, found.text) == (share, count, shown)


@pytest.mark.parametrize(
    "text", ["", "0", "0/5", "6/5", "1/0", "150%", "0%", "-3", "many", "1/5/7", "1e9", "1000000"]
)
def test_bad_thresholds_are_refused(text: str) -> None:
    with pytest.raises(DomainError) as exc:
        rules.parse_threshold(text)
    assert exc.value.key == "proposal.bad_threshold"


@pytest.mark.parametrize(
    ("threshold", "households", "needed"),
    [
        ("1/5", 10, 2),
        ("1/5", 11, 3),  # rounded up: 2.2 households is three
        ("1/5", 1, 1),
        ("1/5", 0, 1),  # an empty register still needs someone
        ("1/5", 240, 48),
        ("1/3", 10, 4),
        ("1/1", 7, 7),
        ("12", 5, 12),  # a number is a number, whatever the register
        ("1", 500, 1),
    ],
)
def test_supports_needed(threshold: str, households: int, needed: int) -> None:
    found = rules.parse_threshold(threshold)
    assert found.needed(households) == needed
    assert rules.reached(needed, found, households)
    assert not rules.reached(needed - 1, found, households)


def test_a_broken_stored_threshold_falls_back_to_the_default() -> None:
    assert rules.threshold_or_default("nonsense").text == rules.DEFAULT_THRESHOLD
    assert rules.threshold_or_default(None).text == "1/5"
    with pytest.raises(ValueError):
        rules.Threshold()
    with pytest.raises(ValueError):
        rules.Threshold(share=Fraction(1, 2), count=3)


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 1, 15, 9, tzinfo=UTC), 3, datetime(2026, 4, 15, 9, tzinfo=UTC)),
        (datetime(2026, 11, 30, tzinfo=UTC), 3, datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2027, 11, 30, tzinfo=UTC), 3, datetime(2028, 2, 29, tzinfo=UTC)),  # leap
        (datetime(2026, 10, 31, tzinfo=UTC), 1, datetime(2026, 11, 30, tzinfo=UTC)),
        (datetime(2026, 12, 1, tzinfo=UTC), 12, datetime(2027, 12, 1, tzinfo=UTC)),
    ],
)
def test_review_months(start: datetime, months: int, expected: datetime) -> None:
    assert rules.add_months(start, months) == expected


def test_review_date_is_three_months_and_lasts_a_week() -> None:
    decided = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert rules.review_date(decided) == datetime(2027, 3, 2, 14, 0, tzinfo=UTC)
    assert (rules.review_end(decided) - decided).days == rules.REVIEW_DAYS


@pytest.mark.parametrize(("text", "days"), [("30", 30), ("30d", 30), ("7 天", 7), ("14 дней", 14)])
def test_expiry_days(text: str, days: int) -> None:
    assert rules.parse_expiry_days(text) == days


@pytest.mark.parametrize("text", ["0", "366", "a week", "-1", ""])
def test_bad_expiry_days(text: str) -> None:
    with pytest.raises(DomainError) as exc:
        rules.parse_expiry_days(text)
    assert exc.value.key == "proposal.bad_expiry"


# --- what people type ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title", "body"),
    [
        ("Fix the lights | dark since October", "Fix the lights", "dark since October"),
        ("Fix the lights", "Fix the lights", ""),
        ("  Fix   the\tlights  |  ", "Fix the lights", ""),
        ("Fix the lights\nTwo lamps.\nBy the bins.", "Fix the lights", "Two lamps.\nBy the bins."),
        ("修好路灯｜两盏灯不亮", "修好路灯", "两盏灯不亮"),  # a full-width bar
        ("A | b | c", "A", "b | c"),
    ],
)
def test_proposals_read(text: str, title: str, body: str) -> None:
    assert rules.parse_proposal(text) == rules.Draft(title, body)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "proposal.usage"),
        ("   |  body", "proposal.usage"),
        ("\u200b\u200b | invisible title", "proposal.usage"),
        ("x" * 121, "proposal.title_too_long"),
        ("ok | " + "y" * 1501, "proposal.body_too_long"),
    ],
)
def test_bad_proposals(text: str, key: str) -> None:
    with pytest.raises(DomainError) as exc:
        rules.parse_proposal(text)
    assert exc.value.key == key


def test_statements_are_one_visible_line() -> None:
    assert rules.clean_statement("  LED lamps\nwith sensors ") == "LED lamps with sensors"
    for bad, key in (
        ("", "proposal.say_usage"),
        ("\u2063", "proposal.say_usage"),
        ("z" * 201, "proposal.statement_too_long"),
    ):
        with pytest.raises(DomainError) as exc:
            rules.clean_statement(bad)
        assert exc.value.key == key


@pytest.mark.parametrize(
    ("text", "body", "percent"),
    [
        ("40% lamps ordered", "lamps ordered", 40),
        ("lamps ordered 40%", "lamps ordered", 40),
        ("lamps ordered", "lamps ordered", None),
        ("100%", "", 100),
        ("0 % started", "started", 0),
        ("灯已下单 40%", "灯已下单", 40),
    ],
)
def test_progress_reads(text: str, body: str, percent: int | None) -> None:
    assert rules.parse_progress(text) == rules.Progress(body, percent)


@pytest.mark.parametrize(
    ("text", "key"), [("140% done", "proposal.bad_percent"), ("", "proposal.progress_usage")]
)
def test_bad_progress(text: str, key: str) -> None:
    with pytest.raises(DomainError) as exc:
        rules.parse_progress(text)
    assert exc.value.key == key


# --- statements: agreement per household --------------------------------------------------------


def tl(sid: int, agree: int, disagree: int, passed: int = 0) -> rules.Tally:
    return rules.Tally(sid, agree, disagree, passed)


@pytest.mark.parametrize(
    ("tally", "agreed", "divisive"),
    [
        (tl(1, 4, 0, 1), True, False),  # 4 of 5
        (tl(2, 2, 1), True, False),  # exactly 2/3
        (tl(3, 1, 0), False, False),  # one household is not a consensus
        (tl(4, 2, 2), False, True),
        (tl(5, 3, 6), False, True),  # a third holds out
        (tl(6, 1, 9), False, False),  # broad disagreement is not division
        (tl(7, 0, 0, 5), False, False),  # everyone passed
        (tl(8, 5, 2, 3), False, False),  # half agree: neither
        (tl(9, 1, 1), False, True),
    ],
)
def test_agreed_and_divisive(tally: rules.Tally, agreed: bool, divisive: bool) -> None:
    assert rules.is_agreed(tally) is agreed
    assert rules.is_divisive(tally) is divisive


def test_most_agreed_and_divisive_are_ordered_and_capped() -> None:
    tallies = [tl(1, 4, 0, 1), tl(2, 6, 0), tl(3, 2, 2), tl(4, 5, 1), tl(5, 3, 4), tl(6, 9, 0)]
    assert [t.statement_id for t in rules.most_agreed(tallies)] == [6, 2, 4]
    assert [t.statement_id for t in rules.most_agreed(tallies, limit=10)] == [6, 2, 4, 1]
    # the closest split first
    assert [t.statement_id for t in rules.divisive(tallies)] == [3, 5]


def test_tally_counts_choices_and_refuses_unknown_ones() -> None:
    assert rules.tally(7, ["agree", "agree", "pass", "disagree"]) == tl(7, 2, 1, 1)
    with pytest.raises(ValueError):
        rules.tally(7, ["maybe"])


# --- review -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "verdict"),
    [
        (["well", "well", "partly"], "well"),
        (["well", "not", "partly"], "partly"),
        (["not", "not", "well"], "not"),
        (["well", "not"], "partly"),  # a tie is "partly"
        ([], None),
    ],
)
def test_review_verdict(answers: list[str], verdict: str | None) -> None:
    result = rules.review_result(answers, households=10)
    assert result.verdict == verdict
    assert result.answers == len(answers) and result.households == 10


@pytest.mark.parametrize(
    ("word", "answer"),
    [
        ("well", "well"),
        ("Partly", "partly"),
        ("部分", "partly"),
        ("частично", "partly"),
        ("не сделано", "not"),
        ("未完成", "not"),
        ("hmm", None),
    ],
)
def test_review_words(word: str, answer: str | None) -> None:
    assert rules.parse_answer(word) == answer


@pytest.mark.parametrize(
    ("text", "answer", "remark"),
    [
        ("partly one lamp flickers", "partly", "one lamp flickers"),
        ("well", "well", None),
        ("не сделано совсем", "not", "совсем"),
        ("未完成 灯还是不亮", "not", "灯还是不亮"),
        ("the lamps flicker", None, "the lamps flicker"),
        ("  ", None, None),
    ],
)
def test_review_answer_and_remark(text: str, answer: str | None, remark: str | None) -> None:
    assert rules.split_answer(text) == (answer, remark)
