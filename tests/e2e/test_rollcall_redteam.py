"""Roll-calls when Telegram fails mid-way: an emergency must not be left without a card."""

from __future__ import annotations

from storage import rollcall as store
from tests.e2e.conftest import World
from tests.e2e.test_rollcall import building


async def test_a_card_telegram_refused_is_posted_when_asked_again(world: World) -> None:
    """Telegram failed (500, past every retry) as the card was posted: the roll-call was open
    with no card — nobody could press We're OK or Need help — and /rollcall again was refused
    ("a roll-call is already open here: #A1. Close it first")."""
    people = await building(world)
    world.fake.inject("sendMessage", error_code=500, times=50, chat_id=world.court.id)
    await world.do(world.alice.send(world.court, "/rollcall Fire alarm in block 2"))
    world.fake.clear_faults()
    found = await store.get(world.services.db, 1)
    assert found is not None and found.status == "open" and found.message_id is None
    replies = await world.do(world.alice.send(world.court, "/rollcall Fire alarm in block 2"))
    [card] = replies.sent(world.court)
    assert "#A1" in card.params["text"] and card.params.get("reply_markup")
    assert "already open" not in card.params["text"]
    assert len(await world.services.db.fetchall("SELECT id FROM rollcalls")) == 1
    message = world.fake.message(world.court, card.result["message_id"])
    assert message is not None
    replies = await world.do(people["2-101"].press(message, "rc:o:1"))
    assert "2-101" in replies.answer_text()
    # with its card in the group, asking again is refused as before
    replies = await world.do(world.alice.send(world.court, "/rollcall Another"))
    assert "already open" in replies.text(world.court)
