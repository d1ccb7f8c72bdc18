"""Notices attacked: an author who left the building, forged presses in a private chat."""

from __future__ import annotations

from tests.e2e.conftest import World
from tests.e2e.test_notices import building


async def test_an_author_who_left_the_group_cannot_remind_or_list_it(world: World) -> None:
    """Кэрол (an organizer) posted a notice, then left the group; pressing Remind the rest in
    her private chat (forged on any message there) still mentioned every household that had
    not confirmed, and Who has not listed them to her."""
    await building(world)
    said = await world.carol.send(world.court, "я помогу с объявлениями")
    await world.do(world.alice.send(world.court, "/grant organizer", reply_to=said))
    await world.do(world.carol.send(world.carol.private, "/start"))
    await world.do(world.carol.send(world.court, "/notice Отключат воду во вторник"))
    await world.do(world.fake.leave(world.court, world.carol))
    hello = world.fake.last_bot_message(world.carol.private)
    assert hello is not None
    for data in ("nt:r:1", "nt:w:1"):
        replies = await world.do(world.carol.press(hello, data, check=False))
        assert not replies.sent(world.court), data
        assert not replies.sent(world.carol.private), data
        assert replies.answers() and replies.answers()[0].get("show_alert"), data
    # a lead still may
    await world.do(world.alice.send(world.alice.private, "/start"))
    lead_hello = world.fake.last_bot_message(world.alice.private)
    assert lead_hello is not None
    replies = await world.do(world.alice.press(lead_hello, "nt:r:1", check=False))
    assert replies.sent(world.court)
