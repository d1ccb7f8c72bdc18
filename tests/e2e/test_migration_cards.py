"""A group becomes a supergroup: its old messages get new ids there, which the bot is never told.
So the old group's message ids are forgotten, every open card is posted anew in the supergroup
(its new id stored), and nothing is ever edited by an old id — which would overwrite whatever
message of the supergroup happens to carry that number."""

from __future__ import annotations

from storage import events, polls
from storage import sharing as store
from tests.e2e.conftest import World
from tests.e2e.test_polls import new_poll

HELP = "What you can do"


async def test_cards_are_posted_anew_in_the_supergroup_and_never_edited_by_old_ids(
    world: World,
) -> None:
    await world.with_bot()
    db = world.services.db
    poll, _ = await new_poll(world, world.alice, "/poll Move the bins? | Yes | No")
    await world.do(world.alice.send(world.court, "/event Cleanup | in 3 days 10:00 | Yard | 20"))
    event = await events.get(db, (await db.fetchone("SELECT max(id) AS id FROM events"))["id"])
    await world.do(world.bob.send(world.court, "/offer Drill | lend"))
    item = await store.get_item(db, (await db.fetchone("SELECT max(id) AS id FROM items"))["id"])
    assert event is not None and item is not None
    old_ids = {poll.message_id, event.message_id, item.card_id}
    assert None not in old_ids

    new = await world.fake.upgrade_to_supergroup(world.court, by=world.alice)
    await world.settle()

    # every open card shows in the supergroup, posted there after the move, with its new id
    poll = await polls.get(db, poll.id)
    event = await events.get(db, event.id)
    item = await store.get_item(db, item.id)
    assert poll is not None and event is not None and item is not None
    for message_id, words in (
        (poll.message_id, "Move the bins?"),
        (event.message_id, "Cleanup"),
        (item.card_id, "Drill"),
    ):
        assert message_id is not None
        shown = world.fake.message(new, message_id)
        assert shown is not None and words in (shown.text or ""), (message_id, shown)
    posted = [c for c in world.fake.calls_to("sendMessage", chat_id=new.id) if c.ok]
    assert len(posted) == 3

    # the supergroup fills with other messages, whose ids include the old cards' ids
    for _ in range(8):
        await world.do(world.carol.send(new, "/help"))
    helps = [m.message_id for m in new.bot_messages if HELP in (m.text or "")]
    assert old_ids & set(helps), (old_ids, helps)

    # votes and closing reach the cards where they are now, and nothing else is edited
    mark = world.fake.mark()
    await world.do(world.wang.press(world.fake.message(new, poll.message_id), f"pl:v:{poll.id}:0"))
    await world.do(world.alice.send(new, f"/close P{poll.id}"))
    await world.do(world.carol.press(world.fake.message(new, event.message_id), f"ev:g:{event.id}"))
    await world.services.outbox.idle()
    await world.settle()
    edited = {
        int(c.params["message_id"])
        for c in world.fake.calls[mark:]
        if c.method == "editMessageText" and c.ok
    }
    assert edited and edited <= {poll.message_id, event.message_id}, edited
    for message_id in helps:
        shown = world.fake.message(new, message_id)
        assert shown is not None and HELP in (shown.text or ""), message_id
    closed = world.fake.message(new, poll.message_id)
    assert closed is not None and "Move the bins?" in (closed.text or "")


async def test_a_refresh_asked_for_before_the_move_never_edits_the_supergroup(
    world: World,
) -> None:
    """A card edit in flight when the group moves gets Telegram's "group chat was upgraded":
    it is not retried in the supergroup with the old id; the card is posted anew instead."""
    await world.with_bot()
    db = world.services.db
    poll, card = await new_poll(world, world.alice, "/poll Paint the gate? | Green | Blue")
    new = await world.fake.upgrade_to_supergroup(world.court, by=world.alice)
    # the bot has not seen the move yet: ask for the old card's refresh, by its old ids
    outbox = world.services.outbox
    mark = world.fake.mark()
    refused = await outbox.edit(world.court.id, card.message_id, "Paint the gate? (edited)")
    assert refused is None
    await world.settle()
    edits = [c for c in world.fake.calls[mark:] if c.method == "editMessageText" and c.ok]
    assert edits == []
    moved = await polls.get(db, poll.id)
    assert moved is not None and moved.chat_id == new.id and moved.message_id is not None
    shown = world.fake.message(new, moved.message_id)
    assert shown is not None and "Paint the gate?" in (shown.text or "")
