"""Volunteer hours end to end: a volunteer's "I did it" after the slot, the organizer's
confirmation (privately, or in the group when they never opened a private chat), /hours
privately, and the group's totals with a thank-you list only of those who allowed it."""

from __future__ import annotations

from datetime import timedelta

from storage import events as rosters_store
from storage.db import to_db
from tests.e2e.conftest import World
from tests.e2e.test_events import day, setup_group


async def roster_with_past_slot(world: World) -> tuple[object, list[rosters_store.Slot]]:
    date = day(world)
    await world.do(
        world.bob.send(
            world.court, f"/roster Stairs cleaning | {date} 8:00-12:00 | {date} 14-16 | per slot 2"
        )
    )
    card = world.fake.last_bot_message(world.court)
    slots = await rosters_store.slots(world.services.db, 1)
    return card, slots


async def move_to_past(world: World, slot_id: int, hours: int) -> None:
    end = world.services.clock() - timedelta(hours=1)
    start = end - timedelta(hours=hours)
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE roster_slots SET starts_at = ?, ends_at = ? WHERE id = ?",
            (to_db(start), to_db(end), slot_id),
        )


def private_calls(world: World, person, since: int):  # type: ignore[no-untyped-def]
    return [
        c
        for c in world.fake.calls[since:]
        if c.method == "sendMessage" and c.ok and int(c.params["chat_id"]) == person.id
    ]


async def test_a_volunteers_hours_confirmed_and_shown(world: World) -> None:
    await setup_group(world)
    for person in (world.bob, world.carol, world.wang):
        await world.do(person.send(person.private, "/start"))
    card, (first, _) = await roster_with_past_slot(world)
    await world.do(world.carol.press(card, f"rs:t:{first.id}"))
    await world.do(world.wang.press(card, f"rs:t:{first.id}"))

    replies = await world.do(world.alice.press(card, "rs:d:1"))
    assert "take a slot first" in replies.answer_text()
    replies = await world.do(world.carol.press(card, "rs:d:1"))
    assert "не закончилась" in replies.answer_text()  # not ended yet, in her language

    await move_to_past(world, first.id, hours=4)
    mark = world.fake.mark()
    replies = await world.do(world.carol.press(card, "rs:d:1"))
    assert "4 ч" in replies.answer_text()
    [ask] = private_calls(world, world.bob, mark)
    assert "Кэрол did «Stairs cleaning»" in ask.params["text"] and "4 h" in ask.params["text"]
    replies = await world.do(world.carol.press(card, "rs:d:1"))
    assert "ждём подтверждения" in replies.answer_text()  # once only
    mark = world.fake.mark()
    await world.do(world.wang.press(card, "rs:d:1"))
    [ask_wang] = private_calls(world, world.bob, mark)

    # the organizer confirms Кэрол's and says Wang's was not done; a second press is refused
    ask_message = world.fake.message(world.bob.private, ask.result["message_id"])
    assert ask_message is not None
    buttons = [b.callback_data for row in ask_message.reply_markup.inline_keyboard for b in row]  # type: ignore[union-attr]
    mark = world.fake.mark()
    replies = await world.do(world.bob.press(ask_message, str(buttons[0])))
    assert "Confirmed" in replies.answer_text()
    told = private_calls(world, world.carol, mark)
    assert told and "подтверждены" in told[0].params["text"]
    replies = await world.do(world.bob.press(ask_message, str(buttons[0]), check=False))
    assert replies.answers()[0]["show_alert"]
    wang_message = world.fake.message(world.bob.private, ask_wang.result["message_id"])
    assert wang_message is not None
    no = [b.callback_data for row in wang_message.reply_markup.inline_keyboard for b in row][1]  # type: ignore[union-attr]
    await world.do(world.bob.press(wang_message, str(no)))

    # forged approval data
    for data in ("vh:a:999", "vh:a:x", "vh:z:1", "vh:a"):
        replies = await world.do(world.bob.press(ask_message, data, check=False))
        assert replies.answers() and "Confirmed" not in replies.answer_text(), data

    # /hours privately: only confirmed hours count
    replies = await world.do(world.carol.send(world.carol.private, "/hours"))
    text = replies.text(world.carol.private)
    assert "в этом месяце 4 ч, в этом году 4 ч" in text
    replies = await world.do(world.wang.send(world.wang.private, "/hours"))
    assert "本月 0 小时，今年 0 小时" in replies.text(world.wang.private)

    # the group: totals, and a thank-you list only of those who allowed it
    replies = await world.do(world.carol.send(world.court, "/hours"))
    group = replies.text(world.court)
    assert "4 h this month, 4 h this year. Volunteers this month: 1." in group
    assert "Thank you" not in group
    assert "в этом месяце 4 ч" in replies.text(world.carol.private)
    replies = await world.do(world.carol.send(world.court, "/hours public on"))
    assert "may appear" in replies.text(world.court)
    await world.do(world.wang.send(world.court, "/hours public on"))
    replies = await world.do(world.alice.send(world.court, "/hours"))
    assert "Thank you, Кэрол!" in replies.text(world.court)  # Wang's was not confirmed
    assert "王芳" not in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/hours public maybe"))
    assert "on, off" in replies.text(world.court)

    # or with a button under the private /hours: off again, then on
    await world.do(world.carol.send(world.carol.private, "/hours"))
    mine = world.fake.last_bot_message(world.carol.private)
    assert mine is not None and mine.reply_markup is not None
    [[toggle]] = mine.reply_markup.inline_keyboard
    assert toggle.callback_data == f"vh:p:{world.court.id}:0" and "Maple Court" in toggle.text
    replies = await world.do(world.carol.press(mine, str(toggle.callback_data)))
    assert "не будет" in replies.answer_text()  # off, in her language
    replies = await world.do(world.alice.send(world.court, "/hours"))
    assert "Thank you" not in replies.text(world.court)
    shown = world.fake.message(world.carol.private, mine.message_id)
    assert shown is not None and shown.reply_markup is not None
    [[again]] = shown.reply_markup.inline_keyboard
    assert again.callback_data == f"vh:p:{world.court.id}:1"
    await world.do(world.carol.press(shown, str(again.callback_data)))
    replies = await world.do(world.alice.send(world.court, "/hours"))
    assert "Thank you, Кэрол!" in replies.text(world.court)
    # forged: a group she has no hours in, not a number, in the group
    for data in ("vh:p:-999:1", "vh:p:abc:1", "vh:p:-1:2", f"vh:p:{world.court.id}"):
        replies = await world.do(world.carol.press(shown, data, check=False))
        assert replies.answers() and "Готово" not in replies.answer_text(), data

    # in /mydata
    replies = await world.do(world.carol.send(world.carol.private, "/mydata"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument"]
    assert '"volunteer_hours"' in doc.params["document"].decode("utf-8")
    assert '"minutes": 240' in doc.params["document"].decode("utf-8")


async def test_an_organizer_without_a_private_chat_is_asked_in_the_group(world: World) -> None:
    await setup_group(world)
    card, (first, _) = await roster_with_past_slot(world)  # Bob never opened a private chat
    await world.do(world.carol.press(card, f"rs:t:{first.id}"))
    await move_to_past(world, first.id, hours=2)
    await world.do(world.bob.send(world.court, "/close R1"))  # closed: "I did it" still works
    replies = await world.do(world.carol.press(card, "rs:d:1"))
    asked = replies.text(world.court)
    assert f"tg://user?id={world.bob.id}" in asked and "2 h" in asked
    message = world.fake.last_bot_message(world.court)
    assert message is not None
    # the volunteer herself may not confirm her hours; a lead may
    replies = await world.do(world.carol.press(message, "vh:a:1"))
    assert "организатор" in replies.answer_text()
    replies = await world.do(world.alice.press(message, "vh:a:1"))
    assert "Confirmed" in replies.answer_text()
    shown = world.fake.message(world.court, message.message_id)
    assert shown is not None and "confirmed 2 h for Кэрол" in (shown.text or "")


async def test_nobody_confirms_their_own_hours(world: World) -> None:
    await setup_group(world)
    await world.do(world.bob.send(world.bob.private, "/start"))
    card, (first, _) = await roster_with_past_slot(world)
    await world.do(world.bob.press(card, f"rs:t:{first.id}"))  # the organizer volunteers too
    await move_to_past(world, first.id, hours=3)
    mark = world.fake.mark()
    replies = await world.do(world.bob.press(card, "rs:d:1"))
    assert private_calls(world, world.bob, mark) == []  # not asked to confirm his own
    assert "Leads, the organizer's own hours" in replies.text(world.court)
    ask = world.fake.last_bot_message(world.court)
    assert ask is not None
    replies = await world.do(world.bob.press(ask, "vh:a:1"))
    assert "someone else" in replies.answer_text()
    replies = await world.do(world.alice.press(ask, "vh:a:1"))
    assert "Confirmed" in replies.answer_text()
