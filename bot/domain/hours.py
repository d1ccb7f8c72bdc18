"""Volunteer hours (志愿者): the pure rules.

* A roster slot's volunteer presses **I did it** once the slot has ended (and within
  :data:`CLAIM_WITHIN` of its end); the slot's length is claimed, nothing else. One claim per
  volunteer and slot.
* The roster's organizer (or a lead) approves it or says it was not done; a decision is final
  (a second press changes nothing). Only approved hours count.
* ``/hours`` gives a volunteer their approved hours this month and this year (by the group's
  local calendar: the month a slot started in is where it counts), privately.
* The group sees only totals (hours and how many volunteers) and a thank-you list of first
  names of those who allowed it (off unless they say so).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.domain.errors import DomainError

CLAIM_WITHIN: Final = timedelta(days=30)
MAX_SLOT_MINUTES: Final = 24 * 60

CLAIMED: Final = "claimed"
APPROVED: Final = "approved"
REJECTED: Final = "rejected"


def slot_minutes(starts_at: datetime, ends_at: datetime) -> int:
    """Whole minutes of a slot, at most a day (a longer slot is a mistake, not a day's work)."""
    minutes = int((ends_at - starts_at).total_seconds() // 60)
    return max(min(minutes, MAX_SLOT_MINUTES), 0)


def check_claim(
    *, ends_at: datetime, now: datetime, volunteered: bool, already: str | None
) -> None:
    """Raise why a volunteer may not claim the slot now (or return)."""
    if not volunteered:
        raise DomainError("hours.not_volunteer")
    if already is not None:
        raise DomainError(
            "hours.already_claimed" if already == CLAIMED else "hours.already_decided"
        )
    if now < ends_at:
        raise DomainError("hours.not_ended")
    if now - ends_at > CLAIM_WITHIN:
        raise DomainError("hours.too_late", days=CLAIM_WITHIN.days)


def decide(status: str, approve: bool) -> str:
    """The claim's new status; a decided claim stays decided (``hours.already_decided``)."""
    if status != CLAIMED:
        raise DomainError("hours.already_decided")
    return APPROVED if approve else REJECTED


@dataclass(frozen=True, slots=True)
class Totals:
    month: int  # minutes
    year: int


def totals(worked: Iterable[tuple[datetime, int]], now: datetime, tz: str) -> Totals:
    """Minutes this month and this year of the group's calendar, from (slot start, minutes)."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone)
    month = year = 0
    for at, minutes in worked:
        local = at.astimezone(zone)
        if local.year == today.year:
            year += minutes
            if local.month == today.month:
                month += minutes
    return Totals(month, year)


def first_name(display_name: str) -> str:
    """What the thank-you list shows: the first word of the name people see."""
    words = display_name.split()
    return words[0] if words else ""


def split_minutes(minutes: int) -> tuple[int, int]:
    """(hours, minutes) for showing."""
    return divmod(max(minutes, 0), 60)
