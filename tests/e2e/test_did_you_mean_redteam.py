"""Did you mean, for the newest commands: an elderly resident types the meeting's name in
their own language after a slash (Telegram makes no command of it) and got silence."""

from __future__ import annotations

from tests.e2e.conftest import World


async def test_the_three_meetings_named_in_chinese_and_russian(world: World) -> None:
    await world.with_bot()
    await world.do(world.fake.promote_bot(world.court, by=world.alice))  # sees every message
    await world.do(world.alice.send(world.court, "/settings language zh"))
    for typed, command in (
        ("/听证会 T3 周六上午10点", "/hearing"),
        ("/聽證會 T3", "/hearing"),
        ("/评议 T3 部分完成", "/review"),
        ("/进度 T3 40% 已订灯", "/progress"),
        ("/纪要 T3 14人到场", "/minutes"),
        ("/发言 T3 装感应灯", "/say"),
    ):
        replies = await world.do(world.wang.send(world.court, typed))
        text = replies.text(world.court)
        assert command in text and "您是想用" in text, typed
    await world.do(world.carol.send(world.carol.private, "/start"))
    await world.do(world.carol.send(world.carol.private, "/settings language ru"))
    for typed, command in (("/слушания T3", "/hearing"), ("/протокол T3", "/minutes")):
        replies = await world.do(world.carol.send(world.carol.private, typed))
        text = replies.text(world.carol.private)
        assert command in text and "Возможно" in text, typed
