"""Did you mean: '/pol' is one typo from /poll, '/опрос' and '/投票' are /poll in the
resident's own words (Telegram makes no command of them). Other bots' commands in the group
stay unanswered."""

from __future__ import annotations

from tests.e2e.conftest import World


async def test_a_typo_in_a_group_is_answered_with_the_command_meant(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.bob.send(world.court, "/pol Paint the gate? | Green | Blue"))
    text = replies.text(world.court)
    assert "/pol" in text and "/poll" in text
    assert "Paint the gate? | Green | Blue" in text  # the catalogue's example, in <code>
    # the reply goes to the message that asked
    assert replies.sent(world.court)[0].params.get("reply_parameters") or replies.sent(world.court)[
        0
    ].params.get("reply_to_message_id")


async def test_another_bots_commands_are_left_alone(world: World) -> None:
    await world.with_bot()
    for other in ("/stats", "/weather", "/ban", "/frobnicate", "/stats@weather_bot"):
        replies = await world.do(world.bob.send(world.court, other))
        assert replies.sent() == [], other


async def test_addressed_or_private_gets_a_wider_guess(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.bob.send(world.court, "/calend@courtyard_bot"))
    assert "/calendar" in replies.text(world.court)
    await world.do(world.bob.send(world.bob.private, "/start"))
    replies = await world.do(world.bob.send(world.bob.private, "/setings"))
    assert "/settings" in replies.text(world.bob.private)
    # no guess: the pointer to /help as before
    replies = await world.do(world.bob.send(world.bob.private, "/frobnicate"))
    assert "/help" in replies.text(world.bob.private)


async def test_a_command_in_the_residents_own_words(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.bob.private, "/start"))
    await world.do(world.bob.send(world.bob.private, "/settings language ru"))
    replies = await world.do(world.bob.send(world.bob.private, "/опрос Цвет ворот?"))
    text = replies.text(world.bob.private)
    assert "/опрос" in text and "/poll" in text and "Возможно" in text
    # a slash before other words is a neighbour's business
    replies = await world.do(world.bob.send(world.bob.private, "/ну ладно"))
    assert replies.sent() == []


async def test_chinese_words_in_a_group_that_shows_the_bot_everything(world: World) -> None:
    await world.with_bot()
    await world.do(world.fake.promote_bot(world.court, by=world.alice))
    await world.do(world.alice.send(world.court, "/settings language zh"))
    replies = await world.do(world.bob.send(world.court, "/投票 大门刷什么颜色？"))
    text = replies.text(world.court)
    assert "/投票" in text and "/poll" in text and "您是想用" in text
    replies = await world.do(world.bob.send(world.court, "/哈哈 好的"))
    assert replies.sent() == []
