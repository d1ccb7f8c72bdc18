"""Ids are forever, end to end: after a group's data is purged, an old card that is still on
screen (older cards cannot always be deleted) acts on nothing new, and a new event gets a
calendar UID of its own."""

from __future__ import annotations

from storage import polls
from storage import privacy as store
from tests.e2e.conftest import World
from tests.e2e.test_events import day, ics_of


async def test_an_old_cards_buttons_do_not_act_on_a_poll_made_after_a_purge(world: World) -> None:
    await world.with_bot()
    await world.do(world.carol.send(world.court, "/poll Gate colour? | Green | Blue"))
    old = await polls.get(world.services.db, 1)
    assert old is not None and old.message_id is not None
    old_card = world.fake.message(world.court, old.message_id)
    assert old_card is not None
    assert await store.purge_group(world.services.db, world.court.id) is not None

    await world.do(world.carol.send(world.court, "/poll Bins on Monday? | Yes | No"))
    rows = await world.services.db.fetchall("SELECT id FROM polls")
    [new_id] = [r[0] for r in rows]
    assert new_id != old.id
    # Bob presses "Green" on the card that is still in the chat
    replies = await world.do(world.bob.press(old_card, f"pl:v:{old.id}:0", check=False))
    assert replies.answers()[0].get("show_alert")
    votes = await world.services.db.fetchall("SELECT * FROM poll_votes")
    assert votes == []


async def test_a_new_event_after_a_purge_has_a_calendar_uid_of_its_own(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, f"/event Cleanup | {day(world)} 10:00 | Yard"))
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    replies = await world.do(world.bob.press(card, "ev:c:1"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument"]
    old_uid = str(ics_of(doc).walk("VEVENT")[0]["UID"])
    assert await store.purge_group(world.services.db, world.court.id) is not None

    await world.do(world.alice.send(world.court, f"/event Concert | {day(world)} 19:00 | Hall"))
    [row] = await world.services.db.fetchall("SELECT id FROM events")
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    replies = await world.do(world.bob.press(card, f"ev:c:{row[0]}"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument"]
    [vevent] = ics_of(doc).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Concert"
    assert str(vevent["UID"]) != old_uid  # a calendar app would overwrite Cleanup with it
