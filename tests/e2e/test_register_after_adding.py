"""The lead who has just added the bot sends the register in private: the bot knows the group
(found in the playground: it answered "I know no group where you are a lead", because it had
met the lead only through the bot's own joining, which did not count as meeting them)."""

from __future__ import annotations

from tests.e2e.conftest import World


async def test_the_lead_who_added_the_bot_can_send_the_register_at_once(world: World) -> None:
    await world.with_bot()  # Alice adds the bot and writes nothing in the group
    replies = await world.do(
        world.alice.send_document(
            world.alice.private, filename="units.csv", content=b"unit,area\n1-101,62.5\n"
        )
    )
    text = replies.text(world.alice.private)
    assert "Units read from units.csv: 1" in text, text
    question = world.fake.last_bot_message(world.alice.private)
    assert question is not None and question.reply_markup is not None, text
    data = question.reply_markup.inline_keyboard[0][0].callback_data
    assert isinstance(data, str) and data.startswith(f"un:i:{world.court.id}:")
