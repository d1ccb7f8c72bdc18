"""Deep links and private buttons, attacked: a link or a private button outliving its owner's
place in the group opens nothing of the group's."""

from __future__ import annotations

from telegram import Message

from tests.e2e.conftest import World
from tests.e2e.test_deeplinks import link_button
from tests.e2e.test_events import setup_group
from tests.e2e.test_hours import move_to_past, private_calls, roster_with_past_slot


async def test_a_link_opened_after_leaving_the_group_sends_nothing(world: World) -> None:
    """王芳 asked for a chain's export (names and orders of neighbours) without a private chat,
    then left the building's group: the link once still sent her the file."""
    await world.with_bot()
    replies = await world.do(world.bob.send(world.court, "/chain Dumplings"))
    card = world.fake.message(world.court, replies.sent(world.court)[-1].result["message_id"])
    await world.do(world.carol.send(world.court, "2 pork, 1 cabbage", reply_to=card))
    replies = await world.do(world.wang.send(world.court, "/export C1"))
    token = link_button(replies, world.court.id)
    await world.do(world.fake.leave(world.court, world.wang))
    replies = await world.do(world.wang.send(world.wang.private, f"/start {token}"))
    assert not [c for c in replies.calls if c.method == "sendDocument"]
    assert "不在" in replies.text(world.wang.private)  # told why, in her language
    # back in the group, the same link sends it
    await world.do(world.fake.join(world.court, world.wang))
    replies = await world.do(world.wang.send(world.wang.private, f"/start {token}"))
    assert [c for c in replies.calls if c.method == "sendDocument" and c.ok]


async def test_an_organizer_who_left_no_longer_confirms_hours(world: World) -> None:
    """Bob organised the roster and moved away; the approval buttons in his private chat still
    confirmed a neighbour's hours."""
    await setup_group(world)
    for person in (world.bob, world.carol):
        await world.do(person.send(person.private, "/start"))
    card, (first, _) = await roster_with_past_slot(world)
    assert isinstance(card, Message)
    await world.do(world.carol.press(card, f"rs:t:{first.id}"))
    await move_to_past(world, first.id, hours=3)
    mark = world.fake.mark()
    await world.do(world.carol.press(card, "rs:d:1"))
    [ask] = private_calls(world, world.bob, mark)
    ask_message = world.fake.message(world.bob.private, ask.result["message_id"])
    assert ask_message is not None and ask_message.reply_markup is not None
    approve = str(ask_message.reply_markup.inline_keyboard[0][0].callback_data)
    await world.do(world.fake.leave(world.court, world.bob))
    replies = await world.do(world.bob.press(ask_message, approve, check=False))
    assert "Confirmed" not in replies.answer_text()
    row = await world.services.db.fetchone("SELECT status FROM volunteer_hours")
    assert row is not None and row["status"] == "claimed"
