"""Notices, the pure rules: text, pin word and deadline; the household tally (registered
units, residents without one), who has not confirmed and whom Remind the rest mentions."""

from __future__ import annotations

import pytest

from bot.domain import notices as nt
from bot.domain.errors import DomainError


@pytest.mark.parametrize(
    ("raw", "text", "by", "pin"),
    [
        ("Water off Tue 9-12", "Water off Tue 9-12", None, False),
        ("Water off | confirm by monday 18:00", "Water off", "monday 18:00", False),
        ("pin Water off | by friday", "Water off", "friday", True),
        ("PIN Water off", "Water off", None, True),  # the word in any case
        ("置顶 周二停水 | 周一晚上8点前确认", "周二停水", "周一晚上8点", True),
        ("周二停水 | 请于周一18:00前", "周二停水", "周一18:00", False),
        (
            "закрепить Нет воды | подтвердить до понедельника 20:00",
            "Нет воды",
            "понедельника 20:00",
            True,
        ),
        ("Lift A | Lift B are off | by sunday", "Lift A | Lift B are off", "sunday", False),
        ("Pinned notes on the board", "notes on the board", None, True),
    ],
)
def test_parse_notice(raw: str, text: str, by: str | None, pin: bool) -> None:
    draft = nt.parse_notice(raw)
    assert (draft.text, draft.confirm_by, draft.pin) == (text, by, pin)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("", "notice.usage"),
        ("pin", "notice.usage"),
        ("| by monday", "notice.usage"),
        ("Water off | confirm by", "notice.usage"),
        ("x" * 2001, "notice.too_long"),
    ],
)
def test_parse_notice_refusals(raw: str, key: str) -> None:
    with pytest.raises(DomainError) as err:
        nt.parse_notice(raw)
    assert err.value.key == key


@pytest.mark.parametrize(
    ("units", "confirms", "expected"),
    [
        ([1, 2, 3], [], (0, 3, 0)),
        ([1, 2, 3], ["u1", "u1", "u3"], (2, 3, 0)),  # two of flat 1 count once
        ([1, 2, 3], ["u1", "p9", "p10"], (1, 3, 2)),
        ([1, 2], ["u7"], (0, 2, 0)),  # a unit removed since does not count
        ([], ["p1", "p2"], (0, 0, 2)),  # no register: people count as households
    ],
)
def test_tally(units: list[int], confirms: list[str], expected: tuple[int, int, int]) -> None:
    found = nt.tally(units, confirms)
    assert (found.confirmed, found.registered, found.unregistered) == expected
    assert found.households == expected[0] + expected[2]


def test_not_confirmed_and_to_remind() -> None:
    units = [(1, "1-01"), (2, "1-02"), (3, "1-03")]
    missing = nt.not_confirmed(units, ["u2", "p9"])
    assert missing == [(1, "1-01"), (3, "1-03")]
    members = {1: [(10, "Ann"), (11, "Al")], 3: [(10, "Ann"), (30, "Cy")], 2: [(20, "Bo")]}
    # Ann holds two missing flats and is mentioned once; a unit with no member adds nobody
    assert nt.to_remind(members, [1, 3, 4]) == [(10, "Ann"), (11, "Al"), (30, "Cy")]


def test_refs() -> None:
    assert nt.tag(3) == "#N3"
    assert nt.parse_ref("n3") == nt.parse_ref("#N-3") == 3
    assert nt.parse_ref("F3") is None
    assert nt.find_ref("📢 Notice\n\ntext #N2\n\n#N3") == 3
