"""Emergency roll-call (应急): the pure rules.

* ``/rollcall <what happened>`` opens a roll-call over the households of the register as it is
  at that moment (the units it counts are fixed when it opens, like a decision's electorate).
* Each household answers **We're OK** or **Need help** (with an optional line); a neighbour may
  mark a household not heard from as **checked in person**.
* Who may change a household's answer (:func:`next_answer`):

  - anyone of the household may answer when nothing is recorded, and the person who answered
    may change their own answer;
  - **Need help** always goes through (a second member asking for help is never refused) and,
    once recorded by one member, is never turned into "OK" by another member or a neighbour:
    only the person who asked can take it back (a lead closing the roll-call ends it);
  - the household's own answer replaces a neighbour's "checked in person";
  - "checked in person" is only for households not heard from (a neighbour never overwrites
    what a household said itself).

* Residents without a household in the register may answer for themselves; they are listed by
  name apart from the households and never counted as "not heard from" (nobody can know who
  is missing among people the register does not know).
* The tally (:func:`tally`) sorts households into need help / not heard from / checked in
  person / OK, each in the register's order; the summary at closing is the same tally.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.domain.errors import DomainError
from bot.domain.text import one_line

MAX_TITLE: Final = 200
MAX_NOTE: Final = 200
#: /checkonme lines last this long unless renewed.
CHECK_ON_ME_LASTS: Final = timedelta(days=365)
DEFAULT_REMIND_MINUTES: Final = 20
MIN_REMIND_MINUTES: Final = 5
MAX_REMIND_MINUTES: Final = 24 * 60


class Answer(enum.Enum):
    OK = "ok"
    HELP = "help"
    SEEN = "seen"  # checked in person by a neighbour


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a household (or a resident without one) answered, and who said it."""

    answer: Answer
    by: int  # Telegram user id
    name: str
    note: str | None = None


class Refusal(enum.Enum):
    HELP_STAYS = "rollcall.help_stays"  # another member asked for help: it stays
    ALREADY_ANSWERED = "rollcall.already_answered"  # a neighbour cannot overwrite the household
    SAME = "rollcall.same_answer"  # nothing changes


def _clean(text: str) -> str:
    return one_line(unicodedata.normalize("NFKC", text))


def parse_title(text: str) -> str:
    """What happened, one line; ``rollcall.usage`` when empty, ``rollcall.too_long`` when long."""
    title = _clean(text)
    if not title:
        raise DomainError("rollcall.usage")
    if len(title) > MAX_TITLE:
        raise DomainError("rollcall.too_long", max=MAX_TITLE)
    return title


def parse_note(text: str) -> str:
    """The one line that goes with "Need help" or /checkonme: visible text, at most
    :data:`MAX_NOTE` characters (``rollcall.note_empty`` / ``rollcall.note_too_long``)."""
    note = _clean(text)
    if not note:
        raise DomainError("rollcall.note_empty")
    if len(note) > MAX_NOTE:
        raise DomainError("rollcall.note_too_long", max=MAX_NOTE)
    return note


def next_answer(
    current: Recorded | None, answer: Answer, by: int, *, own_household: bool
) -> Answer | Refusal:
    """The answer to record when ``by`` answers ``answer`` for a household whose answer so far
    is ``current``, or why not. ``own_household``: ``by`` belongs to it (False: a neighbour,
    who may only mark it checked in person)."""
    if not own_household:
        if answer is not Answer.SEEN:
            return Refusal.ALREADY_ANSWERED  # a neighbour cannot say "we are OK" for others
        if current is None:
            return Answer.SEEN
        return Refusal.SAME if current.answer is Answer.SEEN else Refusal.ALREADY_ANSWERED
    if answer is Answer.SEEN:
        answer = Answer.OK  # pressing "checked" for one's own household means "we're OK"
    if current is None:
        return answer
    if current.answer is answer and current.by == by:
        return Refusal.SAME
    if answer is Answer.HELP:
        return Answer.HELP
    if current.answer is Answer.HELP and current.by != by:
        return Refusal.HELP_STAYS
    return answer


@dataclass(frozen=True, slots=True)
class Tally:
    help: tuple[str, ...]
    silent: tuple[str, ...]
    seen: tuple[str, ...]
    ok: tuple[str, ...]
    #: residents without a household: (name, answer) in the order they answered
    loose: tuple[tuple[str, Answer], ...] = ()

    @property
    def households(self) -> int:
        return len(self.help) + len(self.silent) + len(self.seen) + len(self.ok)

    @property
    def heard(self) -> int:
        return len(self.help) + len(self.seen) + len(self.ok)


def tally(
    labels: Sequence[str],
    answers: Mapping[str, Answer],
    loose: Iterable[tuple[str, Answer]] = (),
) -> Tally:
    """Households by state, each list in the order of ``labels`` (the register's order).
    Answers for labels the roll-call does not count are ignored."""
    by_state: dict[Answer | None, list[str]] = {None: [], Answer.HELP: [], Answer.SEEN: []}
    by_state[Answer.OK] = []
    for label in labels:
        by_state[answers.get(label)].append(label)
    return Tally(
        help=tuple(by_state[Answer.HELP]),
        silent=tuple(by_state[None]),
        seen=tuple(by_state[Answer.SEEN]),
        ok=tuple(by_state[Answer.OK]),
        loose=tuple(loose),
    )


def remind_at(opened_at: datetime, minutes: int) -> datetime:
    """When households not heard from are reminded."""
    if not MIN_REMIND_MINUTES <= minutes <= MAX_REMIND_MINUTES:
        raise ValueError(f"bad reminder minutes {minutes!r}")
    return opened_at + timedelta(minutes=minutes)


def check_on_me_expires(now: datetime) -> datetime:
    return now + CHECK_ON_ME_LASTS


def is_current(expires_at: datetime, now: datetime) -> bool:
    """A /checkonme line counts until it expires."""
    return expires_at > now
