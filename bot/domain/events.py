"""Events and volunteer duty rosters: the pure rules.

Events
------
* ``/event <title> | <when> | <place> | <capacity>``; place and capacity are optional, the same
  fields may be on separate lines. With three fields the third is the capacity when it is a
  plain number, else the place. ``-`` leaves a field empty. No capacity means no limit.
* Capacity counts guests: a sign-up is a *party* of the resident plus their guests.
* Going when the party does not fit puts the whole party on the waitlist. The waitlist is
  ordered by sign-up time (first come, first served); its position is shown.
* "+1 guest" by someone not signed up yet signs them up with one guest (the party of two is
  waitlisted when it does not fit). A guest added by someone who is going must fit in the free
  places, else it is refused (they keep their own place; nobody is moved). A guest added on the
  waitlist simply enlarges the waiting party. A party larger than the whole capacity is refused.
* Whenever places free up (someone leaves, drops a guest, the capacity grows), the waitlist is
  walked in order and every party that fits is promoted ("the first who fits": a big party does
  not block a smaller one behind it).
* Lowering the capacity moves the last joiners (highest sign-up order first) to the waitlist
  until the rest fits; they keep their sign-up time, so they are first in line when places free
  up again. Nobody is ever dropped.

Times: ``"sat 10:00-12:00"``, ``"sat 8-12"``, ``"周六 8:00–12:00"``, ``"сб 8:00-12:00"`` give a
start and an end (an end not after the start is read as pm when that fits, "下午2-4" is
14:00-16:00, else as the next day, "22-6" is an overnight shift). Without an end an event has
none (calendars get :data:`DEFAULT_DURATION`) and a roster slot lasts :data:`DEFAULT_DURATION`.

Rosters
-------
``/roster <title> | <slot> | <slot> ... | per slot <n>``; each slot a time expression, ``per
slot <n>`` (also ``x3``, ``每班 3``, ``по 3``) optional, 1 by default.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Final

from icalendar import Calendar
from icalendar import Event as IcsEvent

from bot.domain.errors import DomainError
from bot.domain.languages import Keywords, WordSet, fold_hant
from bot.domain.text import one_line

MAX_TITLE: Final = 200
MAX_PLACE: Final = 200
MAX_CAPACITY: Final = 10_000
MAX_GUESTS: Final = 9
MAX_SLOTS: Final = 20
MAX_PER_SLOT: Final = 50
DEFAULT_DURATION: Final = timedelta(hours=2)

# --- parsing --------------------------------------------------------------------------------

_NONE_WORDS: Final = WordSet({"-", "—", "none", "no", "无", "没有", "нет", "∞", "unlimited"})


def _clean(text: str) -> str:
    """For reading numbers and words: full-width digits and letters folded (NFKC)."""
    return one_line(unicodedata.normalize("NFKC", text))


def _shown(text: str) -> str:
    """A title or place as typed: NFC only, so "茶话会：周六，下午！" keeps its full-width
    punctuation on the card and in the calendar file (NFKC made it "茶话会:周六,下午!")."""
    return one_line(unicodedata.normalize("NFC", text))


def _segments(text: str) -> list[str]:
    """Fields split on ``|`` (or on line breaks when there is no ``|``)."""
    raw = text.split("|") if "|" in text else text.splitlines()
    parts = [_shown(p) for p in raw]
    while parts and not parts[-1]:
        parts.pop()
    return parts


def parse_capacity(text: str) -> int | None:
    """A capacity: a whole number 1..MAX_CAPACITY, or "-"/"none"/"无"/"нет" for no limit."""
    value = _clean(text).lower()
    if value in _NONE_WORDS:
        return None
    if not value.isdigit():
        raise DomainError("event.bad_capacity", value=value[:20], max=MAX_CAPACITY)
    number = int(value)
    if not 1 <= number <= MAX_CAPACITY:
        raise DomainError("event.bad_capacity", value=value[:20], max=MAX_CAPACITY)
    return number


def _is_number(text: str) -> bool:
    return _clean(text).isdigit()


def clean_title(text: str) -> str:
    title = _shown(text)
    if not title:
        raise DomainError("event.usage")
    if len(title) > MAX_TITLE:
        raise DomainError("event.too_long", max=MAX_TITLE)
    return title


def clean_place(text: str) -> str | None:
    place = _shown(text)
    if not place or _clean(place).lower() in _NONE_WORDS:
        return None
    if len(place) > MAX_PLACE:
        raise DomainError("event.too_long", max=MAX_PLACE)
    return place


@dataclass(frozen=True, slots=True)
class EventDraft:
    title: str
    when: str
    place: str | None
    capacity: int | None


def parse_event(text: str) -> EventDraft:
    """``title | when | place | capacity`` (or one field per line)."""
    parts = _segments(text)
    if len(parts) < 2 or len(parts) > 4 or not parts[1]:
        raise DomainError("event.usage")
    title = clean_title(parts[0])
    place: str | None = None
    capacity: int | None = None
    if len(parts) == 3:
        if _is_number(parts[2]):
            capacity = parse_capacity(parts[2])
        else:
            place = clean_place(parts[2])
    elif len(parts) == 4:
        place = clean_place(parts[2])
        capacity = parse_capacity(parts[3]) if parts[3] else None
    return EventDraft(title=title, when=parts[1], place=place, capacity=capacity)


#: ``/event edit E12 <field> <value>``: the field words in our three languages.
EDIT_FIELDS: Final[dict[str, str]] = Keywords(
    {
        "capacity": "capacity",
        "cap": "capacity",
        "limit": "capacity",
        "places": "capacity",
        "人数": "capacity",
        "名额": "capacity",
        "места": "capacity",
        "мест": "capacity",
        "лимит": "capacity",
        "time": "time",
        "when": "time",
        "时间": "time",
        "время": "time",
        "когда": "time",
        "place": "place",
        "where": "place",
        "地点": "place",
        "место": "place",
        "где": "place",
        "title": "title",
        "name": "title",
        "标题": "title",
        "名称": "title",
        "название": "title",
    }
)


def parse_edit(text: str) -> tuple[str, str]:
    """``capacity 10`` / ``time sat 11:00`` / ``place Yard`` -> (field, value)."""
    words = _clean(text).split(" ", 1)
    field = EDIT_FIELDS.get(words[0].lower()) if words and words[0] else None
    value = words[1].strip() if len(words) > 1 else ""
    if field is None or not value:
        raise DomainError("event.edit_usage")
    return field, value


# --- time ranges ----------------------------------------------------------------------------

_RANGE: Final = re.compile(
    r"(?<![\d\-./:])(?P<h1>\d{1,2})(?:[:.](?P<m1>\d{2}))?\s*(?:点|ч)?\s*"
    r"(?:-|–|—|~|〜|to|till|until|до|至|到)\s*"
    r"(?P<h2>\d{1,2})(?:[:.](?P<m2>\d{2}))?\s*(?:点|ч)?\s*$",
    re.IGNORECASE,
)


def split_range(text: str) -> tuple[str, tuple[int, int] | None]:
    """``"sat 8:00-12:00"`` -> (``"sat 8:00"``, (12, 0)); no range -> (text, None)."""
    cleaned = _clean(text)
    match = _RANGE.search(fold_hant(cleaned))  # 點 too; folding keeps every position
    if match is None:
        return cleaned, None
    h1, h2 = int(match["h1"]), int(match["h2"])
    m1, m2 = int(match["m1"] or 0), int(match["m2"] or 0)
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise DomainError("event.bad_range", text=cleaned[:60])
    head = cleaned[: match.start()].rstrip()
    start = f"{head} {h1}:{m1:02d}".strip()
    return start, (h2, m2)


def end_of(start: datetime, end: tuple[int, int] | None) -> datetime | None:
    """The end of a range that starts at ``start`` (aware, in the chat's zone) and ends at the
    local wall time ``end``: the same day if after the start, else pm when that fits (for
    ``"下午2-4"``), else the next day (an overnight shift)."""
    if end is None:
        return None
    hour, minute = end
    zone = start.tzinfo
    local_day = start.date()
    extra = timedelta(days=1) if hour == 24 else timedelta()
    wall = datetime.combine(local_day, time(hour % 24, minute)) + extra
    candidate = wall.replace(tzinfo=zone)
    start_wall = start.replace(tzinfo=None)
    if wall <= start_wall and hour < 12 and wall + timedelta(hours=12) > start_wall:
        candidate = (wall + timedelta(hours=12)).replace(tzinfo=zone)
    elif wall <= start_wall:
        candidate = (wall + timedelta(days=1)).replace(tzinfo=zone)
    return candidate


# --- sign-ups, capacity and the waitlist ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signup:
    user_id: int
    name: str
    guests: int
    seq: int  # sign-up order within the event (the waitlist's order too)
    going: bool

    @property
    def party(self) -> int:
        return 1 + self.guests


@dataclass(frozen=True, slots=True)
class Outcome:
    """A sign-up change: the new state (ordered by ``seq``), the notice for the presser, and who
    moved between the list and the waitlist because of it."""

    signups: tuple[Signup, ...]
    notice: str
    position: int = 0
    guests: int = 0
    promoted: tuple[Signup, ...] = ()
    demoted: tuple[Signup, ...] = ()


def _ordered(signups: Iterable[Signup]) -> tuple[Signup, ...]:
    return tuple(sorted(signups, key=lambda s: s.seq))


def taken(signups: Iterable[Signup]) -> int:
    """Places taken: the going parties, guests included."""
    return sum(s.party for s in signups if s.going)


def going(signups: Iterable[Signup]) -> list[Signup]:
    return [s for s in _ordered(signups) if s.going]


def waitlist(signups: Iterable[Signup]) -> list[Signup]:
    return [s for s in _ordered(signups) if not s.going]


def position(signups: Iterable[Signup], user_id: int) -> int:
    """1-based position on the waitlist, 0 when not waiting."""
    for number, s in enumerate(waitlist(signups), start=1):
        if s.user_id == user_id:
            return number
    return 0


def free(capacity: int | None, signups: Iterable[Signup]) -> int | None:
    return None if capacity is None else max(capacity - taken(signups), 0)


def _fits(capacity: int | None, signups: Iterable[Signup], party: int) -> bool:
    room = free(capacity, signups)
    return room is None or party <= room


def promote(
    capacity: int | None, signups: Iterable[Signup]
) -> tuple[tuple[Signup, ...], tuple[Signup, ...]]:
    """Walk the waitlist in order and move every party that fits: (new state, promoted)."""
    state = {s.user_id: s for s in signups}
    promoted: list[Signup] = []
    for waiting in waitlist(state.values()):
        if _fits(capacity, state.values(), waiting.party):
            moved = replace(waiting, going=True)
            state[waiting.user_id] = moved
            promoted.append(moved)
    return _ordered(state.values()), tuple(promoted)


def _next_seq(signups: Sequence[Signup]) -> int:
    return max((s.seq for s in signups), default=0) + 1


def _find(signups: Sequence[Signup], user_id: int) -> Signup | None:
    return next((s for s in signups if s.user_id == user_id), None)


def _check_party(capacity: int | None, party: int) -> None:
    if capacity is not None and party > capacity:
        raise DomainError("event.party_too_big", capacity=capacity)


def join(
    capacity: int | None, signups: Sequence[Signup], user_id: int, name: str, guests: int = 0
) -> Outcome:
    """Going: a place if the party fits, else the waitlist."""
    mine = _find(signups, user_id)
    if mine is not None:
        state = _ordered(replace(s, name=name) if s is mine else s for s in signups)
        if mine.going:
            return Outcome(state, "event.already_going", guests=mine.guests)
        return Outcome(state, "event.already_waiting", position=position(state, user_id))
    _check_party(capacity, 1 + guests)
    # the waitlist was walked at every change, so whoever waits does not fit the free places:
    # a newcomer who fits takes them (the same "first who fits" rule as promotion)
    fits = _fits(capacity, signups, 1 + guests)
    new = Signup(user_id, name, guests, _next_seq(signups), going=fits)
    state = _ordered([*signups, new])
    if fits:
        return Outcome(state, "event.joined" if not guests else "event.joined_guest", guests=guests)
    return Outcome(state, "event.waitlisted", position=position(state, user_id), guests=guests)


def add_guest(capacity: int | None, signups: Sequence[Signup], user_id: int, name: str) -> Outcome:
    """+1 guest (see the module notes for the choices)."""
    mine = _find(signups, user_id)
    if mine is None:
        return join(capacity, signups, user_id, name, guests=1)
    if mine.guests >= MAX_GUESTS:
        raise DomainError("event.too_many_guests", max=MAX_GUESTS)
    _check_party(capacity, mine.party + 1)
    if mine.going and not _fits(capacity, signups, 1):
        raise DomainError("event.guest_no_room")
    bigger = replace(mine, guests=mine.guests + 1, name=name)
    state = _ordered(bigger if s is mine else s for s in signups)
    if mine.going:
        return Outcome(state, "event.guest_added", guests=bigger.guests)
    return Outcome(
        state, "event.guest_added_waiting", guests=bigger.guests, position=position(state, user_id)
    )


def remove_guest(capacity: int | None, signups: Sequence[Signup], user_id: int) -> Outcome:
    """−1 guest: frees a place (and promotes whoever then fits)."""
    mine = _find(signups, user_id)
    if mine is None or mine.guests == 0:
        raise DomainError("event.no_guests")
    smaller = replace(mine, guests=mine.guests - 1)
    state, promoted = promote(capacity, [smaller if s is mine else s for s in signups])
    now_mine = _find(state, user_id)
    assert now_mine is not None
    return Outcome(
        state,
        "event.guest_removed" if now_mine.going else "event.guest_removed_waiting",
        guests=smaller.guests,
        position=position(state, user_id),
        promoted=tuple(p for p in promoted if p.user_id != user_id),
    )


def leave(capacity: int | None, signups: Sequence[Signup], user_id: int) -> Outcome:
    """Can't go: off the list (or the waitlist); the freed places go to the waitlist."""
    mine = _find(signups, user_id)
    if mine is None:
        raise DomainError("event.not_signed_up")
    state, promoted = promote(capacity, [s for s in signups if s is not mine])
    return Outcome(state, "event.left", promoted=promoted)


def change_capacity(new: int | None, signups: Sequence[Signup]) -> Outcome:
    """A new capacity: the last joiners move to the waitlist until the rest fits, then the
    waitlist is walked (a larger capacity promotes)."""
    state = {s.user_id: s for s in signups}
    demoted: list[Signup] = []
    if new is not None:
        for last in reversed(going(state.values())):
            if taken(state.values()) <= new:
                break
            state[last.user_id] = replace(last, going=False)
            demoted.append(state[last.user_id])
    after, promoted = promote(new, state.values())
    back = {p.user_id for p in promoted}
    return Outcome(
        after,
        "event.capacity_changed",
        promoted=tuple(p for p in promoted if p.user_id not in {d.user_id for d in demoted}),
        demoted=tuple(d for d in demoted if d.user_id not in back),
    )


# --- reminders ------------------------------------------------------------------------------


def next_reminder(starts_at: datetime, offsets: Iterable[int], after: datetime) -> datetime | None:
    """The first reminder moment (start minus an offset in minutes) strictly after ``after``.

    Offsets are elapsed time: the arithmetic is done in UTC (an aware datetime in a zone would
    subtract wall-clock time, so "1 h before" a start just after a DST change would fall on
    the start itself, and the moments would not match those computed from the stored UTC
    start when the next reminder is planned). The result is in UTC."""
    start = starts_at.astimezone(UTC)
    moments = sorted(start - timedelta(minutes=m) for m in offsets)
    return next((m for m in moments if m > after and m < start), None)


def following_reminder(
    starts_at: datetime, offsets: Iterable[int], due_at: datetime, after: datetime
) -> datetime | None:
    """The reminder after a fired row: the first moment by the *current* offsets strictly after
    both the row's due time and ``after`` (so a late run never repeats one; a changed setting
    applies from the next reminder on, even when the fired row matches none of its offsets)."""
    return next_reminder(starts_at, offsets, max(after, due_at))


# --- rosters --------------------------------------------------------------------------------

_PER_SLOT: Final = re.compile(
    r"^(?:(?:per\s+slot|per\s+shift|each|x|×|每班|每个班次|每段|每个时段|每时段|на\s+смену|по)"
    r"\s*(?P<a>\d{1,3})\s*(?:人|people|persons?|человека|человек|чел\.?)?"
    r"|(?P<b>\d{1,3})\s*(?:per\s+slot|per\s+shift|人/班|人每班|на\s+смену|человек\s+на\s+смену))$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class RosterDraft:
    title: str
    slots: tuple[str, ...]
    per_slot: int


def parse_roster(text: str) -> RosterDraft:
    """``title | slot | slot ... | per slot <n>`` (or one field per line)."""
    parts = _segments(text)
    if len(parts) < 2:
        raise DomainError("roster.usage")
    title = clean_title(parts[0]) if parts[0] else ""
    if not title:
        raise DomainError("roster.usage")
    per_slot = 1
    match = _PER_SLOT.match(fold_hant(parts[-1]))  # 每個時段 too
    if match is not None:
        per_slot = int(match["a"] or match["b"])
        parts = parts[:-1]
        if not 1 <= per_slot <= MAX_PER_SLOT:
            raise DomainError("roster.bad_per_slot", max=MAX_PER_SLOT)
    slots = tuple(p for p in parts[1:] if p)
    if not slots:
        raise DomainError("roster.usage")
    if len(slots) > MAX_SLOTS:
        raise DomainError("roster.too_many_slots", max=MAX_SLOTS)
    return RosterDraft(title=title, slots=slots, per_slot=per_slot)


@dataclass(frozen=True, slots=True)
class Slot:
    id: int
    roster_id: int
    position: int
    starts_at: datetime
    ends_at: datetime
    volunteers: tuple[tuple[int, str], ...]  # (user id, name) in the order they took it


def open_places(slot: Slot, per_slot: int) -> int:
    return max(per_slot - len(slot.volunteers), 0)


def take_or_leave(slot: Slot, per_slot: int, user_id: int, now: datetime) -> bool:
    """Pressing a slot's button: True to take it, False to leave it (raises when it cannot)."""
    if slot.starts_at <= now:  # taking *and* leaving: a started slot's list is final
        raise DomainError("roster.slot_started")
    if any(uid == user_id for uid, _ in slot.volunteers):
        return False
    if open_places(slot, per_slot) == 0:
        raise DomainError("roster.slot_full")
    return True


# --- iCalendar ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime | None
    place: str | None
    description: str | None = None
    sequence: int = 0
    cancelled: bool = False


def ics(entries: Iterable[CalendarEntry], *, stamp: datetime, name: str | None = None) -> bytes:
    """One iCalendar file (RFC 5545) with the entries, times in UTC."""
    cal = Calendar()
    cal.add("prodid", "-//Courtyard//Events//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
    for entry in entries:
        event = IcsEvent()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("dtstart", entry.starts_at.astimezone(UTC))
        event.add("dtend", (entry.ends_at or entry.starts_at + DEFAULT_DURATION).astimezone(UTC))
        event.add("summary", entry.title)
        if entry.place:
            event.add("location", entry.place)
        if entry.description:
            event.add("description", entry.description)
        event.add("sequence", entry.sequence)
        event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
        cal.add_component(event)
    return bytes(cal.to_ical())
