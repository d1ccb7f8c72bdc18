"""Volunteer hours as tables: what may be claimed, decisions, totals by the local calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import DomainError
from bot.domain.hours import (
    APPROVED,
    CLAIMED,
    REJECTED,
    check_claim,
    decide,
    first_name,
    slot_minutes,
    split_minutes,
    totals,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        (NOW, NOW + timedelta(hours=4), 240),
        (NOW, NOW + timedelta(minutes=90, seconds=59), 90),
        (NOW, NOW + timedelta(days=3), 1440),  # a slot longer than a day counts as a day
        (NOW, NOW - timedelta(hours=1), 0),
    ],
)
def test_slot_minutes(start: datetime, end: datetime, minutes: int) -> None:
    assert slot_minutes(start, end) == minutes


@pytest.mark.parametrize(
    ("ends_ago", "volunteered", "already", "key"),
    [
        (timedelta(hours=1), True, None, None),
        (timedelta(days=30), True, None, None),
        (timedelta(days=31), True, None, "hours.too_late"),
        (-timedelta(minutes=1), True, None, "hours.not_ended"),
        (timedelta(hours=1), False, None, "hours.not_volunteer"),
        (timedelta(hours=1), True, CLAIMED, "hours.already_claimed"),
        (timedelta(hours=1), True, APPROVED, "hours.already_decided"),
        (timedelta(hours=1), True, REJECTED, "hours.already_decided"),
    ],
)
def test_check_claim(
    ends_ago: timedelta, volunteered: bool, already: str | None, key: str | None
) -> None:
    if key is None:
        check_claim(ends_at=NOW - ends_ago, now=NOW, volunteered=volunteered, already=already)
        return
    with pytest.raises(DomainError) as err:
        check_claim(ends_at=NOW - ends_ago, now=NOW, volunteered=volunteered, already=already)
    assert err.value.key == key


@pytest.mark.parametrize(
    ("status", "approve", "expected"),
    [
        (CLAIMED, True, APPROVED),
        (CLAIMED, False, REJECTED),
        (APPROVED, False, None),
        (REJECTED, True, None),
    ],
)
def test_decide_once(status: str, approve: bool, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(DomainError):
            decide(status, approve)
    else:
        assert decide(status, approve) == expected


def test_totals_follow_the_groups_calendar() -> None:
    now = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)  # already 1 January in Shanghai
    worked = [
        (datetime(2026, 12, 31, 17, 0, tzinfo=UTC), 60),  # 1 Jan 01:00 in Shanghai
        (datetime(2026, 12, 5, 8, 0, tzinfo=UTC), 120),
        (datetime(2025, 12, 5, 8, 0, tzinfo=UTC), 30),
    ]
    berlin = totals(worked, now, "Europe/Berlin")
    assert (berlin.month, berlin.year) == (180, 180)
    shanghai = totals(worked, now, "Asia/Shanghai")
    assert (shanghai.month, shanghai.year) == (60, 60)


@pytest.mark.parametrize(
    ("name", "first"),
    [("Bob Baker", "Bob"), ("王芳", "王芳"), ("  ", ""), ("Anna-Maria K.", "Anna-Maria")],
)
def test_first_names(name: str, first: str) -> None:
    assert first_name(name) == first


def test_split_minutes() -> None:
    assert split_minutes(270) == (4, 30) and split_minutes(-5) == (0, 0)
