"""Repair reports end to end, over the real Application and the fake Bot API: a lift report
with two Me-too households, acknowledged, fixed and confirmed by its reporter (the people told
privately or, without a private chat, by mention); an overdue report flagged to its handlers
through the scheduler, across a restart; a private report handled in private chats; named
handlers per category; reasons told to the reporter; forged and misplaced presses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playground import FakeChat, FakeTelegram
from storage import reports as store
from storage import scheduled
from storage.db import to_db
from tests.e2e.conftest import World, start_app, stop_app
from tests.e2e.test_reminders import eventually


async def building(world: World) -> None:
    """Maple Court with the register 1-01 (Bob), 1-02 (Кэрол), 1-03 (王芳); claims approved at
    once. Alice (lead), Bob and Кэрол opened a private chat with the bot; 王芳 did not."""
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings unit_approval off"))
    for label, person in (("1-01", world.bob), ("1-02", world.carol), ("1-03", world.wang)):
        await world.do(world.alice.send(world.court, f"/units add {label}"))
        await world.do(person.send(world.court, f"/unit {label}"))
    for person in (world.alice, world.bob, world.carol):
        await world.do(person.send(person.private, "/start"))


def card_of(world: World, report: store.Report) -> str:
    assert report.message_id is not None
    message = world.fake.message(world.court, report.message_id)
    assert message is not None
    return message.text or ""


async def get(world: World, report_id: int = 1) -> store.Report:
    found = await store.get(world.services.db, report_id)
    assert found is not None
    return found


def buttons(world: World, chat: FakeChat, message_id: int) -> list[str]:
    message = world.fake.message(chat, message_id)
    assert message is not None and message.reply_markup is not None
    return [b.callback_data for row in message.reply_markup.inline_keyboard for b in row]


async def test_a_lift_report_from_report_to_confirmed_fix(world: World) -> None:
    await building(world)
    replies = await world.do(
        world.bob.send(world.court, "/report Lift stuck between floors 3 and 4 | entrance 2")
    )
    text = replies.text(world.court)
    assert "Report #F1" in text and "Lift stuck between floors 3 and 4" in text
    assert "entrance 2" in text and "choose a category" in text
    report = await get(world)
    card = world.fake.message(world.court, report.message_id or 0)
    assert card is not None
    assert "rp:c:1:lift" in buttons(world, world.court, card.message_id)

    # only the reporter chooses the category; the leads are told privately once it is chosen
    replies = await world.do(world.carol.press(card, "rp:c:1:lift"))
    assert "автор" in replies.answer_text()
    replies = await world.do(world.bob.press(card, "rp:c:1:lift"))
    assert "Lift" in replies.answer_text()
    told = replies.text(world.alice.private)
    assert "New report #F1" in told and "Maple Court" in told
    assert "Category: Lift" in card_of(world, await get(world))

    # Me too: one per household; the reporter's household counts already
    replies = await world.do(world.carol.press(card, "rp:m:1"))
    assert "1" in replies.answer_text()
    replies = await world.do(world.wang.press(card, "rp:m:1"))
    assert "2" in replies.answer_text()
    replies = await world.do(world.carol.press(card, "rp:m:1"))
    assert "уже учтена" in replies.answer_text()
    replies = await world.do(world.bob.press(card, "rp:m:1"))
    assert "already" in replies.answer_text()
    assert "Me too: 2 households" in card_of(world, await get(world))
    assert await store.me_too_count(world.services.db, 1) == 2

    # a resident may not set the state; the lead acknowledges: reporter and Me-too told
    replies = await world.do(world.carol.press(card, "rp:s:1:a"))
    assert "администраторы" in replies.answer_text()
    assert (await get(world)).status == "open"
    replies = await world.do(world.alice.press(card, "rp:s:1:a"))
    assert "acknowledged" in replies.answer_text()
    assert "acknowledged" in replies.text(world.bob.private)
    assert "принята" in replies.text(world.carol.private)  # her own language
    said = replies.text(world.court)  # 王芳 never opened a private chat: a mention
    assert f"tg://user?id={world.wang.id}" in said and "#F1" in said
    shown = card_of(world, await get(world))
    assert "acknowledged" in shown and "Alice" in shown
    # a second press of a state already set changes nothing
    replies = await world.do(world.alice.press(card, "rp:s:1:p"))
    replies = await world.do(world.alice.press(card, "rp:s:1:a", check=False))
    assert "already" in replies.answer_text()

    # fixed: the reporter is asked privately "Is it fixed?"
    replies = await world.do(world.alice.press(card, "rp:s:1:f"))
    asked = world.fake.last_bot_message(world.bob.private)
    assert asked is not None and "Is it fixed?" in (asked.text or "")
    assert (await get(world)).status == "fixed"
    assert "rp:y:1" in buttons(world, world.court, card.message_id)
    replies = await world.do(world.carol.press(card, "rp:y:1"))  # not hers to answer
    assert "автор" in replies.answer_text()
    replies = await world.do(world.bob.press(asked, "rp:y:1"))
    assert "Thank you" in replies.answer_text()
    final = await get(world)
    assert final.status == "confirmed"
    shown = card_of(world, final)
    assert "fixed and confirmed" in shown
    assert world.fake.message(world.court, card.message_id).reply_markup is None  # type: ignore[union-attr]
    # the overdue chain ends with the report
    row = await scheduled.pending_for(world.services.db, store.OVERDUE, 1)
    assert row is None
    history = await store.history(world.services.db, 1, limit=10)
    assert [c.status for c in history] == ["acknowledged", "in_progress", "fixed", "confirmed"]


async def make_due(world: World, report_id: int) -> None:
    due = world.services.clock() - timedelta(seconds=1)
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ? WHERE kind = ? AND ref_id = ? AND status = 'pending'",
            (to_db(due), store.OVERDUE, report_id),
        )


async def backdate(world: World, report_id: int, days: float) -> None:
    """The report was written ``days`` ago (the clocks start at ``since``)."""
    since = world.services.clock() - timedelta(days=days)
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE reports SET since = ?, created_at = ? WHERE id = ?",
            (to_db(since), to_db(since), report_id),
        )


async def fire(world: World) -> None:
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()


async def test_an_overdue_report_is_flagged_and_listed(world: World) -> None:
    await building(world)
    await world.do(world.bob.send(world.court, "/report Water leaking in the basement"))
    card = world.fake.message(world.court, (await get(world)).message_id or 0)
    assert card is not None
    await world.do(world.bob.press(card, "rp:c:1:water"))
    row = await scheduled.pending_for(world.services.db, store.OVERDUE, 1)
    assert row is not None
    assert row.run_at == (await get(world)).since + timedelta(days=2)  # the default

    # two days later nobody acknowledged it: the handlers (the leads) are told once
    await backdate(world, 1, 2.1)
    await make_due(world, 1)
    mark = world.fake.mark()
    await fire(world)
    call = await world.fake.wait_for("sendMessage", since=mark, chat_id=world.alice.id)
    assert "overdue" in call.params["text"] and "#F1" in call.params["text"]
    assert "not acknowledged within 2 days" in call.params["text"]

    async def flagged() -> bool:
        return (await get(world)).flagged_ack

    await eventually(flagged)
    listed = (await world.do(world.carol.send(world.court, "/reports"))).text(world.court)
    assert "⏰ #F1" in listed and "overdue" in listed

    # the chain goes on to the fix deadline
    async def next_row() -> bool:
        nxt = await scheduled.pending_for(world.services.db, store.OVERDUE, 1)
        return nxt is not None and nxt.run_at == (await get(world)).since + timedelta(days=14)

    await eventually(next_row)
    shown = card_of(world, await get(world))
    assert "Overdue: not acknowledged within 2 days" in shown


async def test_overdue_after_a_restart(fake: FakeTelegram, tmp_path: Path) -> None:
    """The overdue check is a row in the database: a restart between the report and its
    deadline loses nothing, and the group's own deadline is used."""
    path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, path)
    world = World(fake, app)
    try:
        await building(world)
        await world.do(world.alice.send(world.court, "/settings report_ack_days 1"))
        await world.do(world.bob.send(world.court, "/report Stairwell light out | floor 5"))
        card = world.fake.message(world.court, (await get(world)).message_id or 0)
        assert card is not None
        await world.do(world.bob.press(card, "rp:c:1:electricity"))
        row = await scheduled.pending_for(world.services.db, store.OVERDUE, 1)
        assert row is not None and row.run_at == (await get(world)).since + timedelta(days=1)
    finally:
        await stop_app(app)
    lead = world.alice
    app = await start_app(fake, path)
    world.app = app  # the same people and group, a new process
    try:
        await backdate(world, 1, 1.5)
        await make_due(world, 1)
        mark = world.fake.mark()
        await fire(world)
        call = await world.fake.wait_for("sendMessage", since=mark, chat_id=lead.id)
        assert "not acknowledged within 1 day" in call.params["text"]
    finally:
        await stop_app(app)


async def test_a_private_report_is_seen_only_by_its_handlers(world: World) -> None:
    await building(world)
    # in the group a private report is refused (everyone would read it) and nothing is kept
    replies = await world.do(world.bob.send(world.court, "/report private loud music at night"))
    assert "private chat" in replies.text(world.court)
    assert await store.get(world.services.db, 1) is None
    # privately: the reporter chooses the category; the leads get it privately, not the group
    mark = world.fake.mark()
    replies = await world.do(world.carol.send(world.carol.private, "/report Шум из 1-01 по ночам"))
    assert not replies.sent(world.court)
    asked = world.fake.last_bot_message(world.carol.private)
    assert asked is not None and "rp:c:1:noise" in buttons(
        world, world.carol.private, asked.message_id
    )
    replies = await world.do(world.carol.press(asked, "rp:c:1:noise"))
    assert not replies.sent(world.court)
    told = replies.text(world.alice.private)
    assert "Private report #F1" in told and "Шум из 1-01" in told
    assert not [
        c
        for c in world.fake.calls[mark:]
        if int(c.params.get("chat_id", 0)) == world.court.id and c.method == "sendMessage"
    ]
    report = await get(world)
    assert report.private and report.status == "open" and report.message_id is None
    # /reports in the group does not show it; in the lead's private chat it is listed
    listed = (await world.do(world.bob.send(world.court, "/reports"))).text(world.court)
    assert "Шум" not in listed
    listed = (await world.do(world.alice.send(world.alice.private, "/reports"))).text(
        world.alice.private
    )
    assert "#F1" in listed and "Шум" in listed
    # a resident cannot open it by its reference
    replies = await world.do(world.bob.send(world.bob.private, "/report F1"))
    assert "no report #F1" in replies.text(world.bob.private)
    # the lead closes it as not ours with a ready reason; the reporter is told it, privately
    copy = world.fake.last_bot_message(world.alice.private)
    assert copy is not None
    await world.do(world.alice.send(world.alice.private, "/report F1"))
    copy = world.fake.last_bot_message(world.alice.private)
    assert copy is not None and "rp:n:1" in buttons(world, world.alice.private, copy.message_id)
    await world.do(world.alice.press(copy, "rp:n:1"))
    prompt = world.fake.last_bot_message(world.alice.private)
    assert prompt is not None
    replies = await world.do(world.alice.press(prompt, "rp:r:1:n:2"))
    said = replies.text(world.carol.private)
    assert "не в нашем ведении" in said and "It is inside a flat" in said
    assert not replies.sent(world.court)
    assert (await get(world)).status == "not_ours"


async def test_named_handlers_categories_and_typed_changes(world: World) -> None:
    await building(world)
    # a lead renames and adds categories; a resident may not
    replies = await world.do(world.bob.send(world.court, "/reports categories add Parking"))
    assert "Sorry, only" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/reports categories add Parking"))
    assert "Category added: Parking" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/reports categories add parking"))
    assert "already" in replies.text(world.court)
    replies = await world.do(
        world.alice.send(world.court, "/reports categories rename lift Elevator")
    )
    assert "“Lift” is now called “Elevator”" in replies.text(world.court)
    # Bob handles water reports, named by a lead replying to his message
    said = await world.bob.send(world.court, "I can look after the water pipes")
    replies = await world.do(world.alice.send(world.court, "/reports handler water", reply_to=said))
    assert "Bob Baker now handles" in replies.text(world.court)
    listed = (await world.do(world.carol.send(world.court, "/reports handlers"))).text(world.court)
    assert "Bob Baker" in listed
    # a water report goes to Bob (not to the leads); Bob may act on it, Кэрол may not
    await world.do(world.carol.send(world.court, "/report Нет горячей воды | подъезд 1"))
    report = await get(world)
    card = world.fake.message(world.court, report.message_id or 0)
    assert card is not None
    assert "rp:c:1:c1" in buttons(world, world.court, card.message_id)
    assert card.reply_markup is not None
    labels = [b.text for row in card.reply_markup.inline_keyboard for b in row]
    assert "Elevator" in labels and "Parking" in labels and "Lift" not in labels
    replies = await world.do(world.carol.press(card, "rp:c:1:water"))
    assert "New report #F1" in replies.text(world.bob.private)
    assert not replies.text(world.alice.private)
    replies = await world.do(world.bob.send(world.court, "/report F1 progress"))
    assert "#F1: in progress" in replies.text(world.court)
    replies = await world.do(world.carol.send(world.court, "/report F1 fixed"))
    assert "Only the leads" in replies.text(world.court)
    # a typed duplicate needs its reason; with one it is closed and the reporter hears it
    replies = await world.do(world.bob.send(world.court, "/report F1 duplicate"))
    assert "reason" in replies.text(world.court)
    replies = await world.do(
        world.bob.send(world.court, "/report F1 duplicate same as the one from Monday")
    )
    assert "closed as a duplicate" in replies.text(world.court)
    assert "same as the one from Monday" in replies.text(world.carol.private)
    assert (await get(world)).reason == "same as the one from Monday"
    # nothing more happens to a closed report
    replies = await world.do(world.bob.send(world.court, "/report F1 fixed"))
    assert "does not fit" in replies.text(world.court)


async def test_forged_and_misplaced_presses(world: World) -> None:
    await building(world)
    await world.do(world.bob.send(world.court, "/report Broken entrance door"))
    card = world.fake.message(world.court, (await get(world)).message_id or 0)
    assert card is not None
    for data in (
        "rp:s:1:z",
        "rp:s:1",
        "rp:s:999:a",
        "rp:c:1:gas",
        "rp:m:1:extra",
        "rp:q:1",
        "rp:m:" + "9" * 40,
        "rp:r:1:n:9",
        "rp:r:1:x:0",
        "rp:g:1:-100",
    ):
        replies = await world.do(world.alice.press(card, data, check=False))
        assert replies.answers(), data
        assert "no longer works" in replies.answer_text() or "Only" in replies.answer_text(), data
    assert (await get(world)).status == "open" and (await get(world)).category is None
    # a report of this group pressed from another group's message does nothing
    oak = world.fake.group("Oak Yard", admins=[world.alice], members=[world.bob])
    await world.with_bot(oak)
    await world.do(world.alice.send(oak, "/reports"))
    other = world.fake.last_bot_message(oak)
    assert other is not None
    replies = await world.do(world.alice.press(other, "rp:s:1:a", check=False))
    assert "no longer works" in replies.answer_text()
    assert (await get(world)).status == "open"
    # Bob, from the other group, cannot Me-too this group's report there either
    replies = await world.do(world.bob.press(other, "rp:m:1", check=False))
    assert "no longer works" in replies.answer_text()
    assert await store.me_too_count(world.services.db, 1) == 0
    # bad input is answered
    replies = await world.do(world.bob.send(world.court, "/report"))
    assert "Write it like this" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/report " + "x" * 400))
    assert "too long" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/report F77 ack"))
    assert "no report #F77" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/reports nonsense"))
    assert "/reports categories" in replies.text(world.court)


async def test_a_photo_report(world: World) -> None:
    await building(world)
    replies = await world.do(
        world.bob.send_photo(world.court, caption="/report Graffiti on the lift door | lobby")
    )
    assert "Graffiti on the lift door" in replies.text(world.court)
    report = await get(world)
    assert report.photo_id is not None
    # a reply to a neighbour's photo keeps that photo and shows it with the card
    photo = await world.carol.send_photo(world.court)
    await world.settle()
    replies = await world.do(
        world.wang.send(world.court, "/report 垃圾没人清理 | 北门", reply_to=photo)
    )
    second = await get(world, 2)
    assert second.photo_id is not None and second.photo_id != report.photo_id
    assert any(c.method == "sendPhoto" and c.ok for c in replies.calls)


async def test_mydata_and_forgetme_cover_reports_and_notices(world: World) -> None:
    from storage import privacy
    from tests.e2e.test_privacy import last_document, yes_no

    await building(world)
    await world.do(world.bob.send(world.court, "/report Lift stuck | entrance 2"))
    card = world.fake.message(world.court, (await get(world)).message_id or 0)
    assert card is not None
    await world.do(world.bob.press(card, "rp:c:1:lift"))
    await world.do(world.carol.press(card, "rp:m:1"))
    await world.do(world.bob.send(world.bob.private, "/report private the neighbour's dog"))
    draft = world.fake.last_bot_message(world.bob.private)
    assert draft is not None
    await world.do(world.bob.press(draft, "rp:c:2:noise"))
    await world.do(world.alice.send(world.court, "/notice Bins move to Monday"))
    notice_card = world.fake.last_bot_message(world.court)
    assert notice_card is not None
    await world.do(world.bob.press(notice_card, "nt:g:1"))

    await world.do(world.bob.send(world.bob.private, "/mydata"))
    data = last_document(world, world.bob.id)["data"]
    assert sorted(r["what"] for r in data["reports"]) == ["Lift stuck", "the neighbour's dog"]
    assert [n["notice"] for n in data["notices_confirmed"]] == [1]

    replies = await world.do(world.bob.send(world.bob.private, "/forgetme"))
    question = replies.sent(world.bob.private)[-1].result
    await world.do(world.bob.press(question, yes_no(question)[0]))
    await world.services.outbox.idle()
    await world.settle()
    assert await privacy.rows_about(world.services.db, world.bob.id) == {}
    # his private report is gone; the group's report stays, without him, Кэрол still counted
    assert await store.get(world.services.db, 2) is None
    kept = await get(world)
    assert kept.reporter_id == 0 and kept.reporter_name != "Bob Baker"
    assert await store.me_too_count(world.services.db, 1) == 1
    assert "Bob" not in card_of(world, kept)
    shown = world.fake.message(world.court, notice_card.message_id)
    assert shown is not None and "Confirmed: 0 of 3 households" in (shown.text or "")
