"""Group buys and chains end to end: +1/−1 past the minimum, closing by the organizer with the
summary sent privately, Paid / Picked-up ticks only the organizer sets, CSV exports; a chain
whose lines are replaced and removed by replies, closed by its time through the scheduler."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from storage import sharing as store
from tests.e2e.conftest import World
from tests.e2e.test_sharing import fire


async def test_groupbuy_past_minimum_with_paid_ticks_and_export(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.alice.send(world.court, "/unit 3-502"))  # a lead's claim: approved
    replies = await world.do(
        world.alice.send(world.court, "/groupbuy Apples 5 kg | ¥12.50 | tomorrow 20:00 | 3")
    )
    text = replies.text(world.court)
    assert "Apples 5 kg" in text and "¥12.50 per unit" in text and "not yet" in text
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM groupbuys")
    gb = await store.get_groupbuy(world.services.db, row["id"])
    assert gb is not None and gb.price_cents == 1250 and gb.minimum == store.Minimum("units", 3)
    card = world.fake.message(world.court, gb.card_id)

    for who in (world.bob, world.bob, world.alice, world.carol, world.carol):
        await world.do(who.press(card, f"gb:p:{gb.id}"))
    replies = await world.do(world.carol.press(card, f"gb:m:{gb.id}"))
    assert "1" in replies.answer_text()
    nothing = await world.do(world.wang.press(card, f"gb:m:{gb.id}"))
    assert nothing.answers()[0]["show_alert"]
    card = world.fake.message(world.court, gb.card_id)
    assert "reached ✅" in card.text and "Alice (3-502)" in card.text
    assert "¥50.00" in card.text  # 4 × ¥12.50, exact
    assert "Bob Baker — 2 → ¥25.00" in card.text

    refused = await world.do(world.bob.press(card, f"gb:c:{gb.id}"))
    assert "Only the organizer" in refused.answer_text()
    replies = await world.do(world.alice.press(card, f"gb:c:{gb.id}"))
    assert replies.answer_text() == "Closed."
    summary = replies.text(world.alice.private)
    assert "has closed" in summary and "¥50.00" in summary
    card = world.fake.message(world.court, gb.card_id)
    assert "closed" in card.text
    late = await world.do(world.bob.press(card, f"gb:p:{gb.id}", check=False))
    assert "closed" in late.answer_text()

    orders = await store.orders(world.services.db, gb.id)
    bob = next(o for o in orders if o.user_id == world.bob.id)
    refused = await world.do(world.bob.press(card, f"gb:y:{bob.id}"))
    assert "Only the organizer" in refused.answer_text()
    await world.do(world.alice.press(card, f"gb:y:{bob.id}"))
    await world.do(world.alice.press(card, f"gb:k:{bob.id}"))
    ticked = await store.get_order(world.services.db, bob.id)
    assert ticked is not None and ticked.paid and ticked.picked
    card = world.fake.message(world.court, gb.card_id)
    assert "💰" in card.text and "📦" in card.text

    replies = await world.do(world.alice.send(world.court, f"/export G{gb.id}"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument" and c.ok]
    content = next(iter(doc.files.values())) if doc.files else None
    assert content is not None
    rows = list(csv.reader(io.StringIO(content.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["#", "Name", "Unit", "Quantity"]
    assert ["2", "Bob Baker", "", "2", "25.00", "1", "1"] in rows or any(
        r[1] == "Bob Baker" and r[3] == "2" and r[5] == "1" for r in rows[1:]
    )
    refused = await world.do(world.bob.send(world.court, f"/export G{gb.id}"))
    assert "Only the organizer" in refused.text(world.court)


async def test_groupbuy_bad_input(world: World) -> None:
    await world.with_bot()
    for text, expected in (
        ("/groupbuy", "Write it like this"),
        ("/groupbuy Apples | abc | tomorrow 20:00", "not a price"),
        ("/groupbuy Apples | 12 | yesterday 9:00", "past"),
        ("/groupbuy Apples | 12 | tomorrow 20:00 | lots", "not a minimum"),
        ("/groupbuy Apples | 12 | every monday 9:00", "one moment"),
    ):
        replies = await world.do(world.bob.send(world.court, text))
        assert expected in replies.text(world.court), text
    assert await world.services.db.fetchone("SELECT id FROM groupbuys") is None


async def test_chain_lines_are_replaced_and_it_closes_on_time(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.alice.send(world.court, "/chain Dumplings | tomorrow 18:00"))
    assert "Dumplings" in replies.text(world.court)
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM chains")
    chain = await store.get_chain(world.services.db, row["id"])
    assert chain is not None and chain.closes_at is not None
    card = world.fake.message(world.court, chain.card_id)

    await world.do(world.wang.send(world.court, "3-502 Wang, 2 boxes", reply_to=card))
    await world.do(world.bob.send(world.court, "5-101 Bob, 1 box", reply_to=card))
    await world.do(world.carol.send(world.court, "кв. 12, 1 коробка", reply_to=card))
    await world.do(world.wang.send(world.court, "3-502 Wang, 3 boxes", reply_to=card))
    await world.do(world.carol.send(world.court, "-", reply_to=card))
    text = world.fake.message(world.court, chain.card_id).text
    assert "1. 3-502 Wang, 3 boxes — 王芳" in text and "2 boxes" not in text
    assert "2. 5-101 Bob, 1 box" in text and "коробка" not in text
    lines = await store.lines(world.services.db, chain.id)
    assert [line.user_id for line in lines] == [world.wang.id, world.bob.id]

    # a stranger cannot close it; the time does
    refused = await world.do(world.bob.press(card, f"ch:c:{chain.id}"))
    assert "Only the one who started it" in refused.answer_text()
    await fire(world, store.KIND_CHAIN_CLOSE, chain.id)
    assert (await store.get_chain(world.services.db, chain.id)).status == "closed"
    assert "closed" in world.fake.message(world.court, chain.card_id).text
    replies = await world.do(world.bob.send(world.court, "me too", reply_to=card))
    assert "chain is closed" in replies.text(world.court)

    await world.do(world.bob.send(world.bob.private, "/start"))
    await world.do(world.alice.send(world.court, "/settings timezone Asia/Shanghai"))
    replies = await world.do(world.bob.send(world.court, f"/export C{chain.id}"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument" and c.ok]
    content = next(iter(doc.files.values()))
    rows = list(csv.reader(io.StringIO(content.content.decode("utf-8-sig"))))
    assert rows[1][:3] == ["1", "王芳", "3-502 Wang, 3 boxes"] and len(rows) == 3
    # times in the group's zone, named in the header (the export wrote UTC)
    assert rows[0][3] == "Updated (Asia/Shanghai)"
    shanghai = lines[0].updated_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert rows[1][3] == shanghai.strftime("%Y-%m-%d %H:%M")


async def test_close_by_reply_and_forged_buttons(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.court, "/chain Tea"))
    card = world.fake.last_bot_message(world.court)
    replies = await world.do(world.bob.send(world.court, "/close", reply_to=card))
    assert "is closed" in replies.text(world.court)
    again = await world.do(world.bob.send(world.court, "/close", reply_to=card))
    assert "already closed" in again.text(world.court)
    for data in ("gb:p:999", "gb:y:999", "gb:x:1", "ch:c:999", "ch:c:a"):
        replies = await world.do(world.alice.press(card, data, check=False))
        assert "no longer works" in replies.answer_text(), data


async def test_chain_edited_line_and_replies_that_are_not_to_the_card(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/chain Dumplings"))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM chains")
    chain = await store.get_chain(world.services.db, row["id"])
    assert chain is not None
    card = world.fake.message(world.court, chain.card_id)
    mine = await world.bob.send(world.court, "5-101 Bob, 1 box", reply_to=card)
    await world.settle()
    # editing the reply replaces the line (the card is what people read)
    await world.do(world.bob.edit(mine, "5-101 Bob, 4 boxes"))
    lines = await store.lines(world.services.db, chain.id)
    assert [line.text for line in lines] == ["5-101 Bob, 4 boxes"]
    assert "4 boxes" in world.fake.message(world.court, chain.card_id).text
    # a bot message that merely shows the chain's tag is not the chain
    replies = await world.do(
        world.carol.send(world.court, f"/groupbuy Tea | #C{chain.id} | tomorrow 20:00")
    )
    echo = world.fake.last_bot_message(world.court)
    assert f"#C{chain.id}" in echo.text
    chatter = await world.do(world.carol.send(world.court, "oops", reply_to=echo))
    assert chatter.sent() == []
    assert len(await store.lines(world.services.db, chain.id)) == 1
    assert replies.sent()


async def test_big_groupbuy_card_and_summary_stay_within_telegram_limits(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.alice.send(world.court, "/groupbuy Rice | 30元 | tomorrow 20:00"))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM groupbuys")
    gb = await store.get_groupbuy(world.services.db, row["id"])
    assert gb is not None
    now = world.services.clock()
    for n in range(70):  # long names with characters HTML must escape
        name = f"R&D <{n}> " + "Долгое Имя & Фамилия " * 5
        await store.change_order(world.services.db, gb.id, 10_000 + n, name, 1, now)
    card = world.fake.message(world.court, gb.card_id)
    await world.do(world.carol.press(card, f"gb:p:{gb.id}"))
    card = world.fake.message(world.court, gb.card_id)
    assert len(card.text) <= 4096 and "Total:" in card.text and "¥2,130.00" in card.text
    assert "more" in card.text and f"#G{gb.id}" in card.text
    replies = await world.do(world.alice.press(card, f"gb:c:{gb.id}"))
    summary = replies.text(world.alice.private)
    assert "has closed" in summary and "¥2,130.00" in summary and len(summary) <= 4096
    card = world.fake.message(world.court, gb.card_id)
    assert "closed" in card.text and len(card.text) <= 4096
    buttons = [b for r in card.reply_markup.inline_keyboard for b in r]
    assert len(buttons) <= 100
