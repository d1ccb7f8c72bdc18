"""Events and rosters, the pure rules: parsing, capacity with guests, waitlist order,
promotion, lowering the capacity, time ranges, reminders and the iCalendar file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.domain import events as ev
from bot.domain.errors import DomainError

A, B, C, D, E = 1, 2, 3, 4, 5
BERLIN = ZoneInfo("Europe/Berlin")


def state(*rows: tuple[int, int, bool]) -> tuple[ev.Signup, ...]:
    """(user, guests, going) in sign-up order."""
    return tuple(
        ev.Signup(uid, f"u{uid}", g, n, going) for n, (uid, g, going) in enumerate(rows, 1)
    )


def summary(signups: tuple[ev.Signup, ...]) -> tuple[list[tuple[int, int]], list[int]]:
    return [(s.user_id, s.guests) for s in ev.going(signups)], [
        s.user_id for s in ev.waitlist(signups)
    ]


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title", "when", "place", "capacity"),
    [
        ("Cleanup | sat 10:00 | Yard | 20", "Cleanup", "sat 10:00", "Yard", 20),
        ("Cleanup | sat 10:00", "Cleanup", "sat 10:00", None, None),
        ("Cleanup | sat 10:00 | 12", "Cleanup", "sat 10:00", None, 12),
        ("Cleanup | sat 10:00 | Room 12", "Cleanup", "sat 10:00", "Room 12", None),
        ("Cleanup | sat 10:00 | - | 5", "Cleanup", "sat 10:00", None, 5),
        ("Cleanup\nsat 10:00\nYard\n20", "Cleanup", "sat 10:00", "Yard", 20),
        ("大扫除 | 周六 10:00 | 院子 | ２０", "大扫除", "周六 10:00", "院子", 20),
        ("Субботник | сб 10:00 | Двор | нет", "Субботник", "сб 10:00", "Двор", None),
    ],
)
def test_parse_event(
    text: str, title: str, when: str, place: str | None, capacity: int | None
) -> None:
    assert ev.parse_event(text) == ev.EventDraft(title, when, place, capacity)


def test_titles_and_places_keep_what_people_typed() -> None:
    """Full-width punctuation stays: NFKC turned "茶话会：周六，下午！" into "茶话会:周六,下午!"
    on cards and in calendar files. Digits typed full width are still read."""
    draft = ev.parse_event("茶话会：迎新，欢迎！ | 周六 15:00 | １号楼（会议室） | ２０")
    assert draft.title == "茶话会：迎新，欢迎！"
    assert draft.place == "１号楼（会议室）"
    assert draft.capacity == 20
    assert ev.parse_event("Встреча | сб 10:00 | －").place is None  # a full-width dash: no place
    start = datetime(2030, 1, 1, tzinfo=UTC)
    entry = ev.CalendarEntry("courtyard-event-9@bot", draft.title, start, None, draft.place)
    data = ev.ics([entry], stamp=datetime(2029, 12, 1, tzinfo=UTC))
    assert str(Calendar.from_ical(data).walk("VEVENT")[0]["SUMMARY"]) == "茶话会：迎新，欢迎！"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Cleanup", "event.usage"),
        ("| sat 10:00", "event.usage"),
        ("a | b | c | d | e", "event.usage"),
        ("Cleanup | sat | Yard | 0", "event.bad_capacity"),
        ("Cleanup | sat | Yard | many", "event.bad_capacity"),
        ("Cleanup | sat | Yard | 100001", "event.bad_capacity"),
        ("x" * 201 + " | sat", "event.too_long"),
    ],
)
def test_parse_event_refusals(text: str, key: str) -> None:
    with pytest.raises(DomainError) as err:
        ev.parse_event(text)
    assert err.value.key == key


def test_parse_edit() -> None:
    assert ev.parse_edit("capacity 10") == ("capacity", "10")
    assert ev.parse_edit("time sat 11:00") == ("time", "sat 11:00")
    assert ev.parse_edit("地点 院子") == ("place", "院子")
    assert ev.parse_edit("места 5") == ("capacity", "5")
    for bad in ("", "colour red", "capacity"):
        with pytest.raises(DomainError):
            ev.parse_edit(bad)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("sat 8:00-12:00", "sat 8:00", (12, 0)),
        ("sat 8-12", "sat 8:00", (12, 0)),
        ("sat 8:30 – 12:15", "sat 8:30", (12, 15)),
        ("周六8:00-12:00", "周六 8:00", (12, 0)),
        ("сб 8:00 до 12:00", "сб 8:00", (12, 0)),
        ("sat 22-6", "sat 22:00", (6, 0)),
        ("sat 10:00", "sat 10:00", None),
        ("2026-11-21 10:00", "2026-11-21 10:00", None),
        ("2026-11-21", "2026-11-21", None),
    ],
)
def test_split_range(text: str, start: str, end: tuple[int, int] | None) -> None:
    assert ev.split_range(text) == (start, end)


def test_split_range_refuses_impossible_hours() -> None:
    with pytest.raises(DomainError) as err:
        ev.split_range("sat 8-25")
    assert err.value.key == "event.bad_range"


def test_end_of_same_day_pm_and_overnight() -> None:
    start = datetime(2026, 11, 21, 8, 0, tzinfo=BERLIN)
    assert ev.end_of(start, (12, 0)) == datetime(2026, 11, 21, 12, 0, tzinfo=BERLIN)
    afternoon = datetime(2026, 11, 21, 14, 0, tzinfo=BERLIN)
    assert ev.end_of(afternoon, (4, 0)) == datetime(2026, 11, 21, 16, 0, tzinfo=BERLIN)
    night = datetime(2026, 11, 21, 22, 0, tzinfo=BERLIN)
    assert ev.end_of(night, (6, 0)) == datetime(2026, 11, 22, 6, 0, tzinfo=BERLIN)
    assert ev.end_of(night, (24, 0)) == datetime(2026, 11, 22, 0, 0, tzinfo=BERLIN)
    assert ev.end_of(start, None) is None


# --- capacity with guests -------------------------------------------------------------------


def test_capacity_counts_guests_and_full_goes_to_the_waitlist() -> None:
    s = ev.join(4, (), A, "A").signups
    out = ev.add_guest(4, s, A, "A")  # A + 1
    assert out.notice == "event.guest_added" and ev.taken(out.signups) == 2
    out = ev.add_guest(4, out.signups, B, "B")  # B joins with a guest: 4/4
    assert out.notice == "event.joined_guest" and ev.taken(out.signups) == 4
    out = ev.join(4, out.signups, C, "C")
    assert out.notice == "event.waitlisted" and out.position == 1
    out = ev.join(4, out.signups, D, "D")
    assert out.position == 2
    assert summary(out.signups) == ([(A, 1), (B, 1)], [C, D])


def test_a_guest_that_does_not_fit_is_refused_and_nobody_moves() -> None:
    s = state((A, 0, True), (B, 0, True))
    with pytest.raises(DomainError) as err:
        ev.add_guest(2, s, A, "A")
    assert err.value.key == "event.guest_no_room"


def test_guests_on_the_waitlist_enlarge_the_waiting_party() -> None:
    s = state((A, 1, True), (B, 0, False))
    out = ev.add_guest(2, s, B, "B")
    assert out.notice == "event.guest_added_waiting" and out.position == 1
    # ...but never beyond the whole capacity
    with pytest.raises(DomainError) as err:
        ev.add_guest(2, out.signups, B, "B")
    assert err.value.key == "event.party_too_big"
    with pytest.raises(DomainError):
        ev.add_guest(1, (), E, "E")


def test_guest_limits() -> None:
    s = state((A, ev.MAX_GUESTS, True))
    with pytest.raises(DomainError) as err:
        ev.add_guest(None, s, A, "A")
    assert err.value.key == "event.too_many_guests"
    with pytest.raises(DomainError) as err:
        ev.remove_guest(None, state((B, 0, True)), B)
    assert err.value.key == "event.no_guests"


def test_joining_twice_changes_nothing() -> None:
    s = state((A, 0, True), (B, 0, False))
    assert ev.join(1, s, A, "A").notice == "event.already_going"
    again = ev.join(1, s, B, "B")
    assert again.notice == "event.already_waiting" and again.position == 1
    assert summary(again.signups) == summary(s)


def test_unlimited_events_never_wait() -> None:
    s: tuple[ev.Signup, ...] = ()
    for uid in range(1, 50):
        s = ev.join(None, s, uid, "x").signups
    assert len(ev.going(s)) == 49 and not ev.waitlist(s)


# --- promotion ------------------------------------------------------------------------------


def test_leaving_promotes_the_first_on_the_waitlist() -> None:
    s = state((A, 0, True), (B, 0, True), (C, 0, False), (D, 0, False))
    out = ev.leave(2, s, A)
    assert [p.user_id for p in out.promoted] == [C]
    assert summary(out.signups) == ([(B, 0), (C, 0)], [D])
    assert ev.position(out.signups, D) == 1


def test_promotion_takes_the_first_who_fits_in_order() -> None:
    # C waits with two guests, D and E alone; one place frees up: D (first who fits) goes
    s = state((A, 0, True), (B, 0, True), (C, 2, False), (D, 0, False), (E, 0, False))
    out = ev.leave(2, s, A)
    assert [p.user_id for p in out.promoted] == [D]
    assert summary(out.signups) == ([(B, 0), (D, 0)], [C, E])
    # B leaves: C (3) still does not fit in one place; E does
    out = ev.leave(2, out.signups, B)
    assert [p.user_id for p in out.promoted] == [E]
    # with room for three more, C is next
    out = ev.change_capacity(5, out.signups)
    assert [p.user_id for p in out.promoted] == [C]


def test_dropping_a_guest_promotes_and_can_promote_oneself() -> None:
    s = state((A, 1, True), (B, 0, False))
    out = ev.remove_guest(2, s, A)
    assert [p.user_id for p in out.promoted] == [B]
    waiting_big = state((A, 0, True), (B, 1, False))
    out = ev.remove_guest(2, waiting_big, B)
    assert out.notice == "event.guest_removed" and out.promoted == ()  # B promoted: told by answer
    assert summary(out.signups) == ([(A, 0), (B, 0)], [])


def test_leaving_the_waitlist_moves_the_others_up() -> None:
    s = state((A, 0, True), (B, 0, False), (C, 0, False))
    out = ev.leave(1, s, B)
    assert out.promoted == () and ev.position(out.signups, C) == 1
    with pytest.raises(DomainError) as err:
        ev.leave(1, out.signups, B)
    assert err.value.key == "event.not_signed_up"


# --- lowering and raising the capacity ------------------------------------------------------


def test_lowering_capacity_moves_the_last_joiners_to_the_waitlist() -> None:
    s = state((A, 0, True), (B, 1, True), (C, 0, True), (D, 0, False))
    out = ev.change_capacity(2, s)
    # C (last) then B (+1) leave the list; C fits again in the freed room? 1 + 1 = 2: yes
    assert summary(out.signups) == ([(A, 0), (C, 0)], [B, D])
    assert [d.user_id for d in out.demoted] == [B]
    assert out.promoted == ()
    assert len(out.signups) == len(s)  # nobody dropped


def test_demoted_people_keep_their_turn_before_later_waiters() -> None:
    s = state((A, 0, True), (B, 0, True), (C, 0, False))
    out = ev.change_capacity(1, s)
    assert [d.user_id for d in out.demoted] == [B]
    assert [w.user_id for w in ev.waitlist(out.signups)] == [B, C]
    back = ev.leave(1, out.signups, A)
    assert [p.user_id for p in back.promoted] == [B]


def test_raising_or_removing_the_capacity_promotes() -> None:
    s = state((A, 0, True), (B, 0, False), (C, 2, False))
    out = ev.change_capacity(2, s)
    assert [p.user_id for p in out.promoted] == [B]
    out = ev.change_capacity(None, out.signups)
    assert [p.user_id for p in out.promoted] == [C] and not ev.waitlist(out.signups)


# --- reminders ------------------------------------------------------------------------------


def test_next_reminder_walks_the_offsets() -> None:
    start = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    offsets = (1440, 60)
    now = start - timedelta(days=3)
    first = ev.next_reminder(start, offsets, now)
    assert first == start - timedelta(days=1)
    assert ev.next_reminder(start, offsets, first) == start - timedelta(hours=1)
    assert ev.next_reminder(start, offsets, start - timedelta(minutes=30)) is None
    assert ev.next_reminder(start, (), now) is None
    # after a row fired (on time, late, or moved earlier), the next offset follows
    day_before = start - timedelta(days=1)
    for due in (day_before, day_before - timedelta(hours=5)):
        for ran in (day_before, day_before + timedelta(minutes=30)):
            assert ev.following_reminder(start, offsets, due, ran) == start - timedelta(hours=1)
    assert ev.following_reminder(start, offsets, start - timedelta(hours=1), start) is None


def test_reminders_across_a_dst_change_count_elapsed_time() -> None:
    # Berlin springs forward on 2025-03-30 (02:00 -> 03:00). The first reminder is planned
    # from the zoned start the parser gives, the next one from the stored UTC start: both must
    # agree, or the row due at "24 h before" looks like a later one and the 1 h reminder is lost
    start = datetime(2025, 3, 30, 10, 0, tzinfo=BERLIN)  # 08:00 UTC
    offsets = (1440, 60)
    first = ev.next_reminder(start, offsets, datetime(2025, 3, 25, tzinfo=UTC))
    assert first == datetime(2025, 3, 29, 8, 0, tzinfo=UTC)  # 24 elapsed hours
    stored = start.astimezone(UTC)
    assert first is not None
    following = ev.following_reminder(stored, offsets, first, first)
    assert following == datetime(2025, 3, 30, 7, 0, tzinfo=UTC)
    # "1 h before" 03:30 CEST (01:30 UTC) is 00:30 UTC, not the start itself
    early = datetime(2025, 3, 30, 3, 30, tzinfo=BERLIN)
    assert ev.next_reminder(early, (60,), datetime(2025, 3, 29, tzinfo=UTC)) == datetime(
        2025, 3, 30, 0, 30, tzinfo=UTC
    )


def test_a_changed_setting_applies_from_the_next_reminder_on() -> None:
    start = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    day_before = start - timedelta(days=1)
    # the row planned by (1 day, 1 h) fired; the group now wants only 30 min before
    assert ev.following_reminder(start, (30,), day_before, day_before) == start - timedelta(
        minutes=30
    )
    # and a fired row never repeats itself, even when run late
    late = day_before + timedelta(minutes=40)
    assert ev.following_reminder(start, (1440, 60), day_before, late) == start - timedelta(hours=1)


# --- rosters --------------------------------------------------------------------------------


def test_parse_roster() -> None:
    draft = ev.parse_roster("Gate duty | sat 8:00-12:00 | sat 12-16 | per slot 2")
    assert draft == ev.RosterDraft("Gate duty", ("sat 8:00-12:00", "sat 12-16"), 2)
    assert ev.parse_roster("门岗\n周六 8-12\n每班 3").per_slot == 3
    assert ev.parse_roster("Дежурство | сб 8-12 | по 2").per_slot == 2
    assert ev.parse_roster("Gate | sat 8-12").per_slot == 1
    for bad, key in (
        ("Gate", "roster.usage"),
        ("Gate | per slot 2", "roster.usage"),
        ("Gate | sat 8-12 | per slot 0", "roster.bad_per_slot"),
        ("Gate | " + " | ".join(["sat 8-9"] * 21), "roster.too_many_slots"),
    ):
        with pytest.raises(DomainError) as err:
            ev.parse_roster(bad)
        assert err.value.key == key, bad


def test_take_or_leave_a_slot() -> None:
    start = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    slot = ev.Slot(1, 1, 1, start, start + timedelta(hours=4), ((A, "A"),))
    before = start - timedelta(days=1)
    assert ev.take_or_leave(slot, 2, B, before) is True
    assert ev.take_or_leave(slot, 2, A, before) is False  # pressing again leaves
    with pytest.raises(DomainError) as err:
        ev.take_or_leave(slot, 1, B, before)
    assert err.value.key == "roster.slot_full"
    with pytest.raises(DomainError) as err:
        ev.take_or_leave(slot, 2, B, start)
    assert err.value.key == "roster.slot_started"
    with pytest.raises(DomainError) as err:  # nor can a volunteer leave a started slot
        ev.take_or_leave(slot, 2, A, start + timedelta(minutes=5))
    assert err.value.key == "roster.slot_started"


# --- iCalendar ------------------------------------------------------------------------------


def test_ics_parses_back_with_utc_times_and_stable_uids() -> None:
    start = datetime(2026, 11, 21, 10, 0, tzinfo=BERLIN)
    entries = [
        ev.CalendarEntry(
            "courtyard-event-1@bot",
            'Cleanup, with "quotes"; & more',
            start,
            start + timedelta(hours=2),
            "Yard",
            sequence=3,
        ),
        ev.CalendarEntry(
            "courtyard-event-2@bot",
            "Ёлка 🎄 圣诞",
            start + timedelta(days=30),
            None,
            None,
            cancelled=True,
        ),
    ]
    data = ev.ics(entries, stamp=datetime(2026, 11, 1, tzinfo=UTC), name="Maple")
    assert b"DTSTART:20261121T090000Z" in data  # 10:00 Berlin is 09:00 UTC
    cal = Calendar.from_ical(data)
    found = cal.walk("VEVENT")
    assert [str(e["UID"]) for e in found] == ["courtyard-event-1@bot", "courtyard-event-2@bot"]
    first, second = found
    assert first.decoded("DTSTART") == start and str(first["SUMMARY"]).startswith("Cleanup, with")
    assert first.decoded("DTEND") - first.decoded("DTSTART") == timedelta(hours=2)
    assert str(first["LOCATION"]) == "Yard" and int(first["SEQUENCE"]) == 3
    assert second.decoded("DTEND") - second.decoded("DTSTART") == ev.DEFAULT_DURATION
    assert str(second["STATUS"]) == "CANCELLED" and str(second["SUMMARY"]) == "Ёлка 🎄 圣诞"
