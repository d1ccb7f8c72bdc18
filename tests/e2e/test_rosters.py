"""A volunteer duty roster end to end: slots taken and left with buttons, a full slot refused,
the "still needed" call (organizers only), slot reminders to the volunteers, closing and the
CSV export."""

from __future__ import annotations

import csv
import io

from storage import events as store
from storage import scheduled
from tests.e2e.conftest import World
from tests.e2e.test_events import day, fire, make_due, setup_group


async def test_a_gate_duty_roster(world: World) -> None:
    await setup_group(world)
    date = day(world)
    replies = await world.do(
        world.bob.send(
            world.court,
            f"/roster Gate duty | {date} 12-16 | {date} 8:00-12:00 | per slot 2",
        )
    )
    text = replies.text(world.court)
    assert "Gate duty" in text and "Still needed — places: 4, in slots: 2" in text
    assert text.index("08:00–12:00") < text.index("12:00–16:00")  # in time order
    first, second = await store.slots(world.services.db, 1)
    card = world.fake.last_bot_message(world.court)

    # take, fill, refuse a full slot, leave by pressing again
    replies = await world.do(world.carol.press(card, f"rs:t:{first.id}"))
    assert "Спасибо" in replies.answer_text()
    await world.do(world.wang.press(card, f"rs:t:{first.id}"))
    replies = await world.do(world.alice.press(card, f"rs:t:{first.id}", check=False))
    assert "full" in replies.answer_text()
    await world.do(world.alice.press(card, f"rs:t:{second.id}"))
    replies = await world.do(world.wang.press(card, f"rs:t:{first.id}", check=False))
    assert "退出" in replies.answer_text()  # left, in Chinese
    shown = world.fake.message(world.court, card.message_id).text or ""
    assert "⚠️ 1." in shown and "1/2 · Кэрол" in shown and "1/2 · Alice" in shown

    # "still needed": refused for a plain resident, posted for the creator
    replies = await world.do(world.carol.press(card, "rs:n:1"))
    assert "автор графика" in replies.answer_text() and replies.answers()[0]["show_alert"]
    replies = await world.do(world.bob.press(card, "rs:n:1"))
    call = replies.text(world.court)
    assert "still needs volunteers" in call and "free places: 1" in call and "#R1" in call

    # slot reminders go to that slot's volunteers only
    mark = world.fake.mark()
    await make_due(world, store.ROSTER_REMINDER, second.id)
    await fire(world)
    said = await world.fake.wait_for("sendMessage", since=mark, chat_id=world.court.id)
    assert f"tg://user?id={world.alice.id}" in said.params["text"]
    assert f"tg://user?id={world.carol.id}" not in said.params["text"]

    # export (privately) and close
    await world.do(world.bob.send(world.bob.private, "/start"))
    replies = await world.do(world.bob.send(world.court, "/export R1"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument"]
    rows = list(csv.reader(io.StringIO(doc.params["document"].decode("utf-8-sig"))))
    assert rows[0][0] == "Slot" and [r[3] for r in rows[1:]] == ["Кэрол", "Alice"]
    replies = await world.do(world.carol.send(world.court, "/close R1"))
    assert "creator or a lead" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/close R1"))
    assert "is closed" in replies.text(world.court)
    shown = world.fake.message(world.court, card.message_id)
    assert "Closed" in (shown.text or "") and shown.reply_markup is not None
    # a closed roster keeps only "I did it" (volunteer hours)
    assert [b.callback_data for row in shown.reply_markup.inline_keyboard for b in row] == [
        "rs:d:1"
    ]
    for slot in (first, second):
        assert (
            await scheduled.pending_for(world.services.db, store.ROSTER_REMINDER, slot.id) is None
        )
    replies = await world.do(world.carol.press(card, f"rs:t:{first.id}", check=False))
    assert replies.answers()[0]["show_alert"]


async def test_roster_bad_input_and_forged_buttons(world: World) -> None:
    await setup_group(world)
    for text, expect in (
        ("/roster", "/roster Title"),
        ("/roster Gate | per slot 2", "/roster Title"),
        ("/roster Gate | yesterday 8-12", "in the past"),
        ("/roster Gate | tomorrow 8-12 | per slot 99", "from 1 to 50"),
    ):
        replies = await world.do(world.bob.send(world.court, text))
        assert expect in replies.text(world.court), (text, replies.text(world.court))
    assert await world.services.db.fetchone("SELECT id FROM rosters") is None
    await world.do(world.bob.send(world.court, f"/roster Gate | {day(world)} 8-12"))
    card = world.fake.last_bot_message(world.court)
    for data in ("rs:t:999", "rs:n:999", "rs:q:1", "rs:t:x", "rs:t"):
        replies = await world.do(world.bob.press(card, data, check=False))
        assert "no longer works" in replies.answer_text(), data
