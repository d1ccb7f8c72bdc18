"""A notice whose card Telegram did not accept: not left open with a deadline that would tell
its author that no household confirmed a notice nobody saw (and offer to remind them all)."""

from __future__ import annotations

from storage import notices as store
from tests.e2e.conftest import World
from tests.e2e.test_notices import building

#: The outbox's attempts for a 5xx (``Limits.max_attempts``).
ATTEMPTS = 5


async def test_a_notice_whose_card_was_refused_is_not_kept_and_its_author_is_told(
    world: World,
) -> None:
    await building(world)
    # the set-up's last group messages (a registration's confirmation) must not take the
    # faults meant for the notice's card
    await world.services.outbox.idle()
    await world.settle()
    world.fake.inject("sendMessage", error_code=500, times=ATTEMPTS, chat_id=world.court.id)
    replies = await world.do(
        world.alice.send(world.court, "/notice Water off on Tuesday | confirm by in 3 days")
    )
    assert not replies.sent(world.court)
    [told] = replies.sent(world.alice.private)
    assert "Telegram did not accept" in told.params["text"]
    assert "Water off on Tuesday" in told.params["text"]
    assert await store.get(world.services.db, 1) is None
    deadline = await world.services.db.fetchone(
        "SELECT status FROM scheduled WHERE kind = ? AND ref_id = 1", (store.DEADLINE,)
    )
    assert deadline is not None and deadline["status"] == "cancelled"
    replies = await world.do(world.alice.send(world.court, "/notice Water off on Tuesday"))
    assert "#N2" in replies.text(world.court)
