"""Sharing end to end: an offer, a request that connects two neighbours privately, a loan with
a typed due time, the reminder and overdue notice fired by the real scheduler, the return and
the history; search in three languages; expiry and renew; forged and foreign presses."""

from __future__ import annotations

import asyncio

from storage import scheduled
from storage import sharing as store
from storage.db import to_db
from tests.e2e.conftest import World


async def fire(world: World, kind: str, ref_id: int) -> None:
    """Make the pending row of (kind, ref) due now, let the real JobQueue fire it, and wait
    until it is done and the bot has said what it says."""
    services = world.services
    due = services.clock()
    async with services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ?, due_at = ? WHERE kind = ? AND ref_id = ?"
            " AND status = 'pending'",
            (to_db(due), to_db(due), kind, ref_id),
        )
    services.scheduler.disarm(list(services.scheduler._armed))
    await services.scheduler.refill()
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        row = await services.db.fetchone(
            "SELECT status FROM scheduled WHERE kind = ? AND ref_id = ? ORDER BY id DESC",
            (kind, ref_id),
        )
        if row is not None and row["status"] in ("done", "missed", "failed"):
            break
        assert asyncio.get_running_loop().time() < deadline, f"{kind} {ref_id} did not fire"
        await asyncio.sleep(0.01)
    await services.outbox.idle()
    await world.settle()


async def last_item(world: World) -> store.Item:
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM items")
    item = await store.get_item(world.services.db, row["id"])
    assert item is not None
    return item


def private_texts(world: World, user) -> str:
    return "\n".join(
        c.params["text"]
        for c in world.fake.calls_to("sendMessage", chat_id=user.id)
        if c.ok and "text" in c.params
    )


async def test_offer_request_lend_remind_return(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.bob.private, "/start"))
    await world.do(world.carol.send(world.carol.private, "/start"))
    replies = await world.do(world.bob.send(world.court, "/offer Drill | lend | Bosch, with bits"))
    item = await last_item(world)
    card_text = replies.text(world.court)
    assert "Drill" in card_text and "to lend" in card_text and f"#I{item.id}" in card_text
    assert item.mode == "lend" and item.note == "Bosch, with bits" and item.card_id is not None
    card = world.fake.message(world.court, item.card_id)

    # Кэрол would like it: both are told privately, with mentions (never a phone number)
    replies = await world.do(world.carol.press(card, f"it:w:{item.id}"))
    assert "в личных сообщениях" in replies.answer_text()  # in Кэрол's language
    to_bob = replies.text(world.bob.private)
    assert f"tg://user?id={world.carol.id}" in to_bob and "Drill" in to_bob
    assert f"tg://user?id={world.bob.id}" in replies.text(world.carol.private)
    again = await world.do(world.carol.press(card, f"it:w:{item.id}", check=False))
    assert "уже спросили" in again.answer_text()
    mine = await world.do(world.bob.press(card, f"it:w:{item.id}", check=False))
    assert "your own" in mine.answer_text()

    # only the owner lends; he picks Кэрол, then replies with a due time
    refused = await world.do(world.alice.press(card, f"it:l:{item.id}", check=False))
    assert "Only the owner" in refused.answer_text()
    replies = await world.do(world.bob.press(card, f"it:l:{item.id}"))
    prompt = world.fake.last_bot_message(world.court)
    [request] = await store.requests_for(world.services.db, item.id)
    assert "Who borrows" in prompt.text
    replies = await world.do(world.bob.press(prompt, f"it:b:{request.id}"))
    assert "Until when" in world.fake.message(world.court, prompt.message_id).text
    loan = await store.open_loan(world.services.db, item.id)
    assert loan is not None and loan.borrower_id == world.carol.id and loan.due_at is None
    replies = await world.do(world.bob.send(world.court, "in 5 days", reply_to=prompt))
    assert "lent to Кэрол until" in replies.text(world.court)
    loan = await store.open_loan(world.services.db, loan.item_id)
    assert loan is not None and loan.due_at is not None
    assert (await store.get_item(world.services.db, item.id)).status == "lent"
    card = world.fake.message(world.court, item.card_id)
    assert "Lent to Кэрол until" in card.text
    # a neighbour's chatter in reply to the prompt is left alone
    chatter = await world.do(world.carol.send(world.court, "thanks!", reply_to=prompt))
    assert chatter.sent() == []

    # the reminder goes to the borrower, the overdue notice to the owner
    await fire(world, store.KIND_REMIND, loan.id)
    to_carol = private_texts(world, world.carol)
    assert "Напоминание: «Drill»" in to_carol and "нужно вернуть" in to_carol  # her language
    await fire(world, store.KIND_OVERDUE, loan.id)
    assert "not marked returned" in private_texts(world, world.bob)

    # Returned closes the loan; History lists it
    replies = await world.do(world.bob.press(card, f"it:r:{loan.id}"))
    assert "available again" in replies.answer_text()
    closed = await store.get_loan(world.services.db, loan.id)
    assert closed is not None and closed.status == "returned" and closed.returned_at is not None
    assert (await store.get_item(world.services.db, item.id)).status == "open"
    card = world.fake.message(world.court, item.card_id)
    replies = await world.do(world.alice.press(card, f"it:y:{item.id}"))
    history = replies.text(world.court)
    assert "Loans of" in history and "Кэрол" in history and "→" in history
    again = await world.do(world.bob.press(card, f"it:r:{loan.id}", check=False))
    assert "already closed" in again.answer_text()


async def test_fallback_in_the_group_when_not_started(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.court, "/need ladder"))
    item = await last_item(world)
    card = world.fake.message(world.court, item.card_id)
    replies = await world.do(world.wang.press(card, f"it:h:{item.id}"))
    assert "in the group" in replies.answer_text() or "群" in replies.answer_text()
    text = replies.text(world.court)
    assert f"tg://user?id={world.bob.id}" in text and f"tg://user?id={world.wang.id}" in text
    assert "t.me/courtyard_bot?start=" in text


async def test_search_in_three_languages(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.court, "/offer Power drill"))
    await world.do(world.carol.send(world.court, "/offer Детский велосипед | отдам"))
    await world.do(world.wang.send(world.court, "/offer 旧电脑 | 送 | 可以修"))
    await world.do(world.wang.send(world.court, "/skill 修电脑"))
    await world.do(world.carol.send(world.court, "/skill репетитор по математике"))

    text = (await world.do(world.alice.send(world.court, "/items DRIL"))).text(world.court)
    assert "Power drill" in text and "велосипед" not in text
    text = (await world.do(world.alice.send(world.court, "/items велосип"))).text(world.court)
    assert "Детский велосипед" in text and "(free)" in text
    text = (await world.do(world.alice.send(world.court, "/items 电脑"))).text(world.court)
    assert "旧电脑" in text and "Power drill" not in text
    text = (await world.do(world.alice.send(world.court, "/skills 电脑"))).text(world.court)
    assert "修电脑" in text and "математ" not in text
    text = (await world.do(world.alice.send(world.court, "/skills математ"))).text(world.court)
    assert "репетитор" in text
    text = (await world.do(world.alice.send(world.court, "/items 100%_"))).text(world.court)
    assert "Nothing found" in text
    everything = (await world.do(world.alice.send(world.court, "/items"))).text(world.court)
    assert all(w in everything for w in ("Power drill", "велосипед", "旧电脑"))


async def test_skill_ask_connects(world: World) -> None:
    await world.with_bot()
    await world.do(world.wang.send(world.wang.private, "/start"))
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.wang.send(world.court, "/skill 修电脑"))
    await world.do(world.alice.send(world.court, "/skills"))
    listing = world.fake.last_bot_message(world.court)
    item = await last_item(world)
    replies = await world.do(world.alice.press(listing, f"sk:a:{item.id}"))
    assert "privately" in replies.answer_text()
    assert f"tg://user?id={world.alice.id}" in replies.text(world.wang.private)
    assert "修电脑" in replies.text(world.alice.private)


async def test_mine_withdraw_expiry_and_renew(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.bob.private, "/start"))
    await world.do(world.bob.send(world.court, "/offer Tent | lend"))
    tent = await last_item(world)
    await world.do(world.bob.send(world.court, "/offer Chair | give"))
    chair = await last_item(world)
    assert tent.expires_at is not None

    # the listing expires: the owner is asked privately, with a Renew button
    await fire(world, store.KIND_EXPIRY, tent.id)
    assert (await store.get_item(world.services.db, tent.id)).status == "expired"
    prompt = world.fake.last_bot_message(world.bob.private)
    assert "expired" in prompt.text
    text = (await world.do(world.alice.send(world.court, "/items tent"))).text(world.court)
    assert "Nothing found" in text
    replies = await world.do(world.bob.press(prompt, f"it:n:{tent.id}"))
    assert replies.answer_text() == "Renewed."
    renewed = await store.get_item(world.services.db, tent.id)
    assert renewed.status == "open" and renewed.expires_at >= tent.expires_at
    pending = await scheduled.pending_for(world.services.db, store.KIND_EXPIRY, tent.id)
    assert pending is not None

    # /mine: withdraw the chair; someone else cannot
    await world.do(world.bob.send(world.court, "/mine"))
    listing = world.fake.last_bot_message(world.court)
    assert "Tent" in listing.text and "Chair" in listing.text
    refused = await world.do(world.alice.press(listing, f"it:x:{chair.id}", check=False))
    assert "Only the owner" in refused.answer_text()
    replies = await world.do(world.bob.press(listing, f"it:x:{chair.id}"))
    assert replies.answer_text() == "Withdrawn."
    assert (await store.get_item(world.services.db, chair.id)).status == "withdrawn"
    assert "Withdrawn" in world.fake.message(world.court, chair.card_id).text
    expiry = await world.services.db.fetchone(
        "SELECT status FROM scheduled WHERE kind = ? AND ref_id = ?", (store.KIND_EXPIRY, chair.id)
    )
    assert expiry["status"] == "cancelled"


async def test_bad_input_and_forged_buttons(world: World) -> None:
    await world.with_bot()
    text = (await world.do(world.bob.send(world.court, "/offer"))).text(world.court)
    assert "Write what you offer" in text
    text = (await world.do(world.bob.send(world.court, "/offer " + "x" * 300))).text(world.court)
    assert "at most 100" in text
    text = (await world.do(world.bob.send(world.bob.private, "/offer Drill"))).text(
        world.bob.private
    )
    assert "group" in text.lower()
    assert await world.services.db.fetchone("SELECT id FROM items") is None
    await world.do(world.bob.send(world.court, "/offer Drill"))
    card = world.fake.last_bot_message(world.court)
    for data in ("it:w:999999", "it:q:1", "it:w:abc", "it:w", "it:d:1:5", "it:b:77", "sk:a:x"):
        replies = await world.do(world.alice.press(card, data, check=False))
        assert "no longer works" in replies.answer_text(), data


async def test_offer_with_a_photo(world: World) -> None:
    await world.with_bot()
    await world.fake.promote_bot(world.court, by=world.alice)
    replies = await world.do(
        world.bob.send_photo(world.court, caption="/offer Stroller | give | barely used")
    )
    item = await last_item(world)
    assert item.photo is not None and item.mode == "give"
    photos = [c for c in replies.calls if c.method == "sendPhoto" and c.ok]
    assert photos and photos[0].params["photo"] == item.photo
    assert f"#I{item.id}" in replies.text(world.court)


async def test_digest_lists_the_weeks_new_listings(world: World) -> None:
    from handlers.sharing import new_in_sharing
    from storage import chats

    await world.with_bot()
    await world.do(world.bob.send(world.court, "/offer Drill"))
    await world.do(world.bob.send(world.court, "/chain Dumplings"))
    group = await chats.get(world.services.db, world.court.id)
    assert group is not None
    section = await new_in_sharing(world.services, group, world.services.clock())
    assert section is not None and "Drill" in section and "1 chain open" in section


async def test_skill_ask_twice_is_refused(world: World) -> None:
    await world.with_bot()
    await world.do(world.wang.send(world.wang.private, "/start"))
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.wang.send(world.court, "/skill 修电脑"))
    item = await last_item(world)
    card = world.fake.message(world.court, item.card_id)
    await world.do(world.alice.press(card, f"sk:a:{item.id}"))
    again = await world.do(world.alice.press(card, f"sk:a:{item.id}", check=False))
    assert "already" in again.answer_text()
    assert again.sent() == []  # nobody is messaged a second time


async def lent_with_prompt(world: World, title: str = "Drill"):
    """Bob lends ``title`` to Carol; returns (item, loan, the "Until when?" prompt)."""
    await world.do(world.bob.send(world.court, f"/offer {title}"))
    item = await last_item(world)
    card = world.fake.message(world.court, item.card_id)
    await world.do(world.carol.press(card, f"it:w:{item.id}"))
    await world.do(world.bob.press(card, f"it:l:{item.id}"))
    pick = world.fake.last_bot_message(world.court)
    [request] = await store.requests_for(world.services.db, item.id)
    await world.do(world.bob.press(pick, f"it:b:{request.id}"))
    prompt = world.fake.message(world.court, pick.message_id)
    loan = await store.open_loan(world.services.db, item.id)
    assert loan is not None
    return item, loan, prompt


async def test_only_the_lend_prompt_takes_a_due_time(world: World) -> None:
    from bot.flood import FloodGuard, FloodLimits

    await world.with_bot()
    item, loan, prompt = await lent_with_prompt(world)
    await world.do(world.bob.send(world.court, "in 5 days", reply_to=prompt))
    due = (await store.get_loan(world.services.db, loan.id)).due_at
    assert due is not None
    # the owner chatting in reply to the card or the history (both carry the item's tag) is
    # not a new due time, and gets no answer
    card = world.fake.message(world.court, item.card_id)
    await world.do(world.alice.press(card, f"it:y:{item.id}"))
    history = world.fake.last_bot_message(world.court)
    for message in (card, history):
        chatter = await world.do(world.bob.send(world.court, "tomorrow", reply_to=message))
        assert chatter.sent() == []
        assert (await store.get_loan(world.services.db, loan.id)).due_at == due
    # and replies to the bot's other messages do not use up a resident's command allowance
    world.services.flood = FloodGuard(FloodLimits(burst=2, per_minute=0.001))
    for _ in range(4):
        chatter = await world.do(world.carol.send(world.court, "nice!", reply_to=history))
        assert chatter.sent() == []
    replies = await world.do(world.carol.send(world.court, "/items"))
    assert "Drill" in replies.text(world.court)


async def test_no_date_after_a_typed_date_forgets_it(world: World) -> None:
    await world.with_bot()
    item, loan, prompt = await lent_with_prompt(world)
    await world.do(world.bob.send(world.court, "in 5 days", reply_to=prompt))
    assert await scheduled.pending_for(world.services.db, store.KIND_OVERDUE, loan.id)
    await world.do(world.bob.press(prompt, f"it:d:{loan.id}:0"))
    assert (await store.get_loan(world.services.db, loan.id)).due_at is None
    for kind in (store.KIND_REMIND, store.KIND_OVERDUE):
        assert await scheduled.pending_for(world.services.db, kind, loan.id) is None
    card = world.fake.message(world.court, item.card_id)
    assert "until" not in card.text and "Lent to Кэрол" in card.text


async def test_search_folds_yo_and_full_width(world: World) -> None:
    await world.with_bot()
    await world.do(world.carol.send(world.court, "/offer Шуруповёрт"))
    await world.do(world.bob.send(world.court, "/offer Power drill"))
    text = (await world.do(world.alice.send(world.court, "/items шуруповерт"))).text(world.court)
    assert "Шуруповёрт" in text
    text = (await world.do(world.alice.send(world.court, "/items ＤＲＩＬＬ"))).text(world.court)
    assert "Power drill" in text
