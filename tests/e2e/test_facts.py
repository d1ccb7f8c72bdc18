"""The facts board end to end: leads keep facts, anyone finds one by a word (full width,
Traditional characters), a question that names a fact gets it once in a while, and ordinary
chat gets nothing."""

from __future__ import annotations

from tests.e2e.conftest import World
from tests.e2e.test_events import TZ


async def admin_bot(world: World) -> None:
    """The bot sees ordinary group messages only as an administrator (privacy mode)."""
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    await world.do(world.alice.send(world.court, f"/settings timezone {TZ}"))


async def test_facts_board(world: World) -> None:
    await admin_bot(world)
    replies = await world.do(world.bob.send(world.court, "/info"))
    assert "No facts yet" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/info set bins: Mon 20:00"))
    assert "Sorry, only" in replies.text(world.court)
    for text, said in (
        ("/info set property office: 021-5555 0000, 9:00–17:00", "Added"),
        ("/info set bins: Mon and Thu 20:00", "Added"),
        ("/info set 物业电话：021-5555 0000", "Added"),
        ("/info set PROPERTY  Office: 021-5555 0000, 9:00–18:00", "Updated"),
        ("/info set", "Write it like this"),
        ("/info set bins", "Write it like this"),
        ("/info set " + "k" * 50 + ": x", "at most 40"),
    ):
        replies = await world.do(world.alice.send(world.court, text))
        assert said in replies.text(world.court), text
    replies = await world.do(world.wang.send(world.court, "/info"))
    board = replies.text(world.court)
    assert "9:00–18:00" in board and "9:00–17:00" not in board and board.count("•") == 3
    replies = await world.do(world.wang.send(world.court, "/info 電話"))  # Traditional
    assert "物业电话" in replies.text(world.court)
    replies = await world.do(world.carol.send(world.court, "/info ＢＩＮＳ"))  # full width
    assert "Mon and Thu 20:00" in replies.text(world.court)
    replies = await world.do(world.carol.send(world.court, "/info lift"))
    assert "Nothing on the facts board" in replies.text(world.court)

    # ordinary chat gets no answers, even when it names a fact
    for text in (
        "I put the bins out",
        "the property office was closed today",
        "bins",
        "ok thanks!",
        "物业电话打不通",
        "is it raining?",
    ):
        replies = await world.do(world.bob.send(world.court, text))
        assert replies.sent() == [], text

    # a question that names a fact gets it, once per half hour per fact
    replies = await world.do(world.bob.send(world.court, "When are the bins collected?"))
    assert "Mon and Thu 20:00" in replies.text(world.court)
    replies = await world.do(world.carol.send(world.court, "bins???"))
    assert replies.sent() == []  # just given
    replies = await world.do(world.wang.send(world.court, "请问物业電話是多少"))
    assert "021-5555 0000" in replies.text(world.court)
    answer = world.fake.last_bot_message(world.court)
    assert answer is not None
    replies = await world.do(
        world.bob.send(world.court, "what is the property office number?", reply_to=answer)
    )
    assert replies.sent() == []  # a reply to the bot is not a question to the group

    # pinned on request, kept up to date
    replies = await world.do(world.alice.send(world.court, "/info pin"))
    assert [c for c in replies.calls if c.method == "pinChatMessage" and c.ok]
    pinned = world.fake.last_bot_message(world.court)
    assert pinned is not None
    replies = await world.do(world.alice.send(world.court, "/info remove BINS"))
    assert "Removed" in replies.text(world.court)
    await world.settle()
    shown = world.fake.message(world.court, pinned.message_id)
    assert (
        shown is not None and "bins" not in (shown.text or "") and "物业电话" in (shown.text or "")
    )
    replies = await world.do(world.alice.send(world.court, "/info remove bins"))
    assert "Nothing on the facts board" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/info remove 物业电话"))
    assert "Sorry, only" in replies.text(world.court)
