"""The approval card and people who leave: a pending claim of someone who left is marked on the
card and takes a second press to approve; a claim suspended by a departure is restored from the
card (or with /units restore when the leads' notice never arrived); the card follows departures,
returns and restores, and is brought up to date after a crash like every other card."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from playground import FakeTelegram
from storage import units
from tests.e2e.conftest import World, stop_app
from tests.e2e.test_cards_after_restart import edits, started
from tests.e2e.test_membership import claim, claim_status
from tests.e2e.test_units import approval_card, calm, claim_of, do

LEFT = "has left the group"


def data_of(message) -> list[str]:  # type: ignore[no-untyped-def]
    markup = message.reply_markup
    return [str(b.callback_data) for row in (markup.inline_keyboard if markup else ()) for b in row]


async def test_a_pending_claim_of_someone_who_left_takes_a_second_press(world: World) -> None:
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    await do(world, world.alice.send(world.court, "/units add 3-502 80"))
    await do(world, world.bob.send(world.court, "/unit 3-502"))
    pending = await claim_of(world, "3-502", world.bob.id)
    assert pending is not None and pending.status == "pending"
    data = f"un:a:{pending.unit_id}:{world.bob.id}"
    await do(world, world.fake.leave(world.court, world.bob))
    card = await approval_card(world)
    assert LEFT in (card.text or ""), card.text  # the card was refreshed on the departure
    replies = await do(world, world.alice.press(card, data))
    assert "Bob Baker has left the group" in replies.answer_text()
    assert replies.answers()[0].get("show_alert")
    assert (await claim_of(world, "3-502", world.bob.id)).status == "pending"
    replies = await do(world, world.alice.press(card, data))
    assert "Approved: Bob Baker, unit 3-502" in replies.answer_text()
    assert (await claim_of(world, "3-502", world.bob.id)).status == "approved"


async def test_a_request_naming_a_new_label_of_a_leaver_takes_a_second_press(
    world: World,
) -> None:
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    await do(world, world.bob.send(world.court, "/unit 9-901"))
    mine = await units.claims_of(world.services.db, world.court.id, world.bob.id)
    [request] = [c for c in mine if c.is_request]
    data = f"un:a:n{request.request_id}"
    await do(world, world.fake.leave(world.court, world.bob))
    card = await approval_card(world)
    assert LEFT in (card.text or "")
    replies = await do(world, world.alice.press(card, data))
    assert "has left the group" in replies.answer_text()
    assert await units.get(world.services.db, world.court.id, "9-901") is None  # no unit yet
    # rejecting needs no confirmation
    replies = await do(world, world.alice.press(card, f"un:r:n{request.request_id}"))
    assert "Rejected" in replies.answer_text()
    assert await units.get(world.services.db, world.court.id, "9-901") is None


async def test_a_suspended_claim_is_restored_from_the_approval_card(world: World) -> None:
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    await do(world, world.bob.send(world.court, "/help"))
    await claim(world, world.court, "3-502", world.bob)
    await do(world, world.carol.send(world.court, "/unit 3-10"))  # a card exists
    await do(world, world.fake.leave(world.court, world.bob))
    card = await approval_card(world)
    unit = await units.get(world.services.db, world.court.id, "3-502")
    assert unit is not None
    data = f"un:a:s{unit.id}:{world.bob.id}"
    assert data in data_of(card) and "Bob Baker — 3-502" in (card.text or "")
    # not while he is away; never by a resident; a forged pair is stale
    replies = await do(world, world.alice.press(card, data))
    assert "not in the group now" in replies.answer_text()
    await do(world, world.fake.join(world.court, world.bob))
    for who in (world.bob, world.carol):
        replies = await do(world, who.press(card, data))
        assert replies.answers()[0].get("show_alert")
    for forged in (f"un:a:s{unit.id}:{world.carol.id}", "un:a:s999999:1", "un:a:sx:1"):
        replies = await do(world, world.alice.press(card, forged, check=False))
        assert "Restored" not in replies.answer_text(), forged
    assert await claim_status(world, world.court, "3-502", world.bob) == "suspended"
    replies = await do(world, world.alice.press(card, data))
    assert "Restored: Bob Baker, unit 3-502" in replies.answer_text()
    assert await claim_status(world, world.court, "3-502", world.bob) == "approved"
    card = await approval_card(world)
    assert data not in data_of(card) and "Suspended" not in (card.text or "")
    replies = await do(world, world.alice.press(card, data, check=False))  # pressed twice
    assert "Restored" not in replies.answer_text()


async def test_the_leads_notice_restore_refreshes_the_approval_card(world: World) -> None:
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    await do(world, world.bob.send(world.court, "/help"))
    await claim(world, world.court, "3-502", world.bob)
    await do(world, world.carol.send(world.court, "/unit 3-10"))
    replies = await do(world, world.fake.leave(world.court, world.bob))
    notice = next(
        c for c in replies.sent(world.court) if "no longer in the group" in c.params["text"]
    )
    await do(world, world.fake.join(world.court, world.bob))
    assert "Suspended" in ((await approval_card(world)).text or "")
    notice_message = world.fake.message(world.court, notice.result["message_id"])
    [[button]] = notice_message.reply_markup.inline_keyboard
    await do(world, world.alice.press(notice_message, str(button.callback_data)))
    await world.services.outbox.idle()
    assert "Suspended" not in ((await approval_card(world)).text or "")


async def test_units_restore_is_the_path_when_the_notice_never_arrived(world: World) -> None:
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    await do(world, world.bob.send(world.court, "/help"))
    await claim(world, world.court, "3-502", world.bob)
    fault = world.fake.inject(
        "sendMessage",
        error_code=400,
        description="Bad Request: chat not found",
        times=None,
        chat_id=world.court.id,
    )
    await do(world, world.fake.leave(world.court, world.bob))
    fault.cancel()
    await do(world, world.fake.join(world.court, world.bob))
    replies = await do(world, world.bob.send(world.court, "/units restore 3-502"))
    assert await claim_status(world, world.court, "3-502", world.bob) == "suspended"
    for text, said in (
        ("/units restore 7-777", "7-777"),
        ("/units restore 3-10", None),
    ):
        if text.endswith("3-10"):
            await do(world, world.alice.send(world.court, "/units add 3-10"))
            said = "no suspended claims"
        replies = await do(world, world.alice.send(world.court, text))
        assert said in replies.text(world.court), (text, replies.text(world.court))
    replies = await do(world, world.alice.send(world.court, "/units restore ３－５０２"))
    assert "3-502 counts again for: Bob Baker" in replies.text(world.court)
    assert await claim_status(world, world.court, "3-502", world.bob) == "approved"


async def test_units_restore_leaves_someone_still_away_suspended(world: World) -> None:
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    await do(world, world.bob.send(world.court, "/help"))
    await do(world, world.carol.send(world.court, "/help"))
    await claim(world, world.court, "3-502", world.bob)
    await claim(world, world.court, "3-502", world.carol)
    await do(world, world.fake.leave(world.court, world.bob))
    await do(world, world.fake.leave(world.court, world.carol))
    await do(world, world.fake.join(world.court, world.carol))
    replies = await do(world, world.alice.send(world.court, "/units restore 3-502"))
    said = replies.text(world.court)
    assert "3-502 counts again for: Кэрол" in said, said
    assert "not back in the group yet, so still suspended: Bob Baker" in said, said
    assert await claim_status(world, world.court, "3-502", world.bob) == "suspended"
    assert await claim_status(world, world.court, "3-502", world.carol) == "approved"


async def test_the_approval_card_is_brought_up_to_date_after_a_crash(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    try:
        await do(world, world.fake.add_bot(world.court, by=world.alice, admin=True))
        await do(world, world.alice.send(world.court, "/units add 3-502 80"))
        await do(world, world.bob.send(world.court, "/unit 3-502"))
        await calm(world)
        card = await approval_card(world)
        assert "Bob Baker — 3-502" in (card.text or "")
    finally:
        await stop_app(world.app)
    # a lead's approval committed, and the process died before the card was edited
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "UPDATE unit_members SET status = 'approved' WHERE user_id = ?", (world.bob.id,)
        )
    conn.close()
    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        [edit] = edits(fake, before, world.court)
        assert int(edit.params["message_id"]) == card.message_id
        assert "No claims are waiting" in str(edit.params["text"])
    finally:
        await stop_app(world.app)
    before = fake.mark()
    world = await started(fake, db_path, world)  # and untouched when nothing changed
    try:
        assert edits(fake, before, world.court) == []
    finally:
        await stop_app(world.app)


async def test_the_approval_card_is_posted_anew_in_a_supergroup_and_never_edited_by_old_id(
    world: World,
) -> None:
    await world.with_bot()
    await do(world, world.alice.send(world.court, "/units add 3-502 80"))
    await do(world, world.bob.send(world.court, "/unit 3-502"))
    old = await units.queue_card(world.services.db, world.court.id)
    assert old is not None
    new = await world.fake.upgrade_to_supergroup(world.court, by=world.alice)
    await calm(world)
    card = await units.queue_card(world.services.db, new.id)
    assert card is not None and card.message_id != old.message_id
    shown = world.fake.message(new, card.message_id)
    assert shown is not None and "Bob Baker — 3-502" in (shown.text or "")
    # the supergroup fills with messages whose ids include the old card's; claims and presses
    # reach the new card only
    for _ in range(6):
        await do(world, world.carol.send(new, "/help"))
    mark = world.fake.mark()
    await do(world, world.carol.send(new, "/unit 3-502"))
    pending = await units.get_claim(
        world.services.db,
        new.id,
        (await units.get(world.services.db, new.id, "3-502")).id,
        world.bob.id,
    )
    assert pending is not None
    await do(world, world.alice.press(shown, f"un:a:{pending.unit_id}:{world.bob.id}"))
    await world.services.outbox.idle()
    edited = {
        int(c.params["message_id"])
        for c in world.fake.calls[mark:]
        if c.method == "editMessageText" and int(c.params["chat_id"]) == new.id
    }
    assert edited <= {card.message_id}, (edited, card.message_id)
