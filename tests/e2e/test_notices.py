"""Notices end to end: a notice confirmed by most households, the author seeing privately who
has not, Remind the rest mentioning exactly those, the deadline told to the author by the
scheduler; pinning, closing, who may, bad input and forged presses."""

from __future__ import annotations

from datetime import timedelta

from playground import FakeChat
from storage import notices as store
from storage.db import to_db
from tests.e2e.conftest import World
from tests.e2e.test_reminders import eventually


async def building(world: World) -> FakeChat:
    """Maple Court with four households: 1-01 Bob, 1-02 Кэрол, 1-03 王芳, 1-04 Dan (and Eve,
    Dan's flatmate); Frank has no registered home. Alice (lead) opened a private chat."""
    dan = world.fake.user("Dan", language_code="en")
    eve = world.fake.user("Eve", language_code="en")
    frank = world.fake.user("Frank", language_code="en")
    world.court.members.update({p.id: "member" for p in (dan, eve, frank)})
    world.dan, world.eve, world.frank = dan, eve, frank  # type: ignore[attr-defined]
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings unit_approval off"))
    for label, person in (
        ("1-01", world.bob),
        ("1-02", world.carol),
        ("1-03", world.wang),
        ("1-04", dan),
        ("1-04", eve),
    ):
        if person is not eve:
            await world.do(world.alice.send(world.court, f"/units add {label}"))
        await world.do(person.send(world.court, f"/unit {label}"))
    await world.do(world.alice.send(world.alice.private, "/start"))
    return world.court


async def test_a_notice_confirmed_by_most_households_and_the_rest_reminded(world: World) -> None:
    await building(world)
    dan, eve, frank = world.dan, world.eve, world.frank  # type: ignore[attr-defined]
    # residents may not post notices
    replies = await world.do(world.bob.send(world.court, "/notice Water off on Tuesday"))
    assert "Sorry, only" in replies.text(world.court)
    replies = await world.do(
        world.alice.send(
            world.court, "/notice Water off on Tuesday 9:00–12:00 | confirm by in 3 days"
        )
    )
    text = replies.text(world.court)
    assert "Notice" in text and "Water off on Tuesday" in text and "#N1" in text
    assert "Confirmed: 0 of 4 households" in text and "Please confirm by" in text
    notice = await store.get(world.services.db, 1)
    assert notice is not None and notice.confirm_by is not None
    card = world.fake.message(world.court, notice.message_id or 0)
    assert card is not None

    replies = await world.do(world.bob.press(card, "nt:g:1"))
    assert "noted" in replies.answer_text()
    replies = await world.do(world.bob.press(card, "nt:g:1"))
    assert "already" in replies.answer_text()
    await world.do(world.carol.press(card, "nt:g:1"))
    await world.do(world.wang.press(card, "nt:g:1"))
    replies = await world.do(frank.press(card, "nt:g:1"))  # no registered home: himself
    shown = world.fake.message(world.court, card.message_id)
    assert shown is not None
    assert "Confirmed: 3 of 4 households" in (shown.text or "")
    assert "1 resident without a registered home" in (shown.text or "")

    # only the author (or a lead) sees who has not, privately
    replies = await world.do(world.bob.press(card, "nt:w:1"))
    assert "author" in replies.answer_text()
    replies = await world.do(world.alice.press(card, "nt:w:1"))
    assert "privately" in replies.answer_text()
    listed = replies.text(world.alice.private)
    assert "Not confirmed yet (1 household): 1-04" in listed
    assert "1-01" not in listed.split("Not confirmed yet")[1]
    assert not replies.sent(world.court)

    # Remind the rest: one group message mentioning Dan and Eve (household 1-04), nobody else
    replies = await world.do(world.alice.press(card, "nt:r:1"))
    assert "Reminded 2 people" in replies.answer_text()
    [reminder] = replies.sent(world.court)
    said = reminder.params["text"]
    assert f"tg://user?id={dan.id}" in said and f"tg://user?id={eve.id}" in said
    for person in (world.bob, world.carol, world.wang, frank, world.alice):
        assert f"tg://user?id={person.id}" not in said
    replies = await world.do(world.alice.press(card, "nt:r:1"))  # not twice in a row
    assert "minutes" in replies.answer_text()
    assert not replies.sent(world.court)

    # Eve confirms for household 1-04: every household has now
    await world.do(eve.press(card, "nt:g:1"))
    shown = world.fake.message(world.court, card.message_id)
    assert shown is not None and "Confirmed: 4 of 4 households" in (shown.text or "")

    # the deadline: the author is told privately (by the scheduler, from its row)
    due = world.services.clock() - timedelta(seconds=1)
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ? WHERE kind = ? AND ref_id = 1 AND status = 'pending'",
            (to_db(due), store.DEADLINE),
        )
    mark = world.fake.mark()
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()
    call = await world.fake.wait_for("sendMessage", since=mark, chat_id=world.alice.id)
    assert "The time to confirm" in call.params["text"]
    assert "Every registered household has confirmed" in call.params["text"]

    # closing: the card loses its buttons and Got it is refused
    replies = await world.do(world.bob.send(world.court, "/notice close N1"))
    assert "Sorry, only" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/notice close N1"))
    assert "#N1 is closed" in replies.text(world.court)
    shown = world.fake.message(world.court, card.message_id)
    assert shown is not None and shown.reply_markup is None
    replies = await world.do(world.bob.press(card, "nt:g:1", check=False))
    assert "closed" in replies.answer_text()


async def test_pin_languages_bad_input_and_forged_presses(world: World) -> None:
    await building(world)
    await world.do(world.alice.send(world.court, "/settings language zh"))
    # the bot is no admin here: pinning is refused politely, the notice still posted
    replies = await world.do(
        world.alice.send(world.court, "/notice 置顶 周六上午清洗水箱 | 周五晚上8点前确认")
    )
    text = replies.text(world.court)
    assert (
        "周六上午清洗水箱" in text
        and "没能置顶" in text
        and "✅ 收到" in str(replies.sent(world.court)[0].params["reply_markup"])
    )
    notice = await store.get(world.services.db, 1)
    assert notice is not None and not notice.pinned and notice.confirm_by is not None
    # as an admin the bot pins it, from the Pin button
    await world.do(world.fake.promote_bot(world.court, by=world.alice))
    card = world.fake.message(world.court, notice.message_id or 0)
    assert card is not None
    replies = await world.do(world.alice.press(card, "nt:p:1"))
    assert "Pinned" in replies.answer_text()  # the presser's own language
    assert any(c.method == "pinChatMessage" and c.ok for c in replies.calls)
    notice = await store.get(world.services.db, 1)
    assert notice is not None and notice.pinned

    # bad input
    for raw, expected in (
        ("/notice", "请这样写"),
        ("/notice 停水 | 截止", "请这样写"),
        ("/notice 停水 | 昨天", "过"),  # in the past
        ("/notice 停水 | 每周一", "一个确认期限"),
        ("/notice " + "字" * 2100, "太长"),
        ("/notice close N99", "没有通知"),
    ):
        replies = await world.do(world.alice.send(world.court, raw))
        assert expected in replies.text(world.court), raw

    # forged presses change nothing and are answered
    for data in ("nt:g:99", "nt:g:abc", "nt:x:1", "nt:g", "nt:g:1:2", "nt:r:" + "9" * 30):
        replies = await world.do(world.bob.press(card, data, check=False))
        assert replies.answers(), data
    assert await store.confirmations(world.services.db, 1) == []
    # who has not: only for the author or a lead
    replies = await world.do(world.bob.press(card, "nt:w:1", check=False))
    assert "author" in replies.answer_text()

    async def none_pending() -> bool:
        return world.services.outbox.pending_refreshes == 0

    await eventually(none_pending)


async def test_one_press_confirms_every_flat_of_its_holder(world: World) -> None:
    await building(world)
    await world.do(world.alice.send(world.court, "/units add 1-05"))
    await world.do(world.bob.send(world.court, "/unit 1-05"))  # Bob holds 1-01 and 1-05
    replies = await world.do(world.alice.send(world.court, "/notice Lift inspection on Friday"))
    assert "#N1" in replies.text(world.court), replies.text(world.court)
    notice = await store.get(world.services.db, 1)
    assert notice is not None
    card = world.fake.message(world.court, notice.message_id or 0)
    assert card is not None
    await world.do(world.bob.press(card, "nt:g:1"))
    shown = world.fake.message(world.court, card.message_id)
    assert shown is not None and "Confirmed: 2 of 5 households" in (shown.text or "")
    replies = await world.do(world.alice.press(card, "nt:w:1"))
    listed = replies.text(world.alice.private)
    assert "(3 households): 1-02, 1-03, 1-04" in listed


async def test_the_deadline_of_an_author_without_a_private_chat_goes_to_the_group(
    world: World,
) -> None:
    await building(world)
    said = await world.carol.send(world.court, "я помогу с объявлениями")
    await world.do(world.alice.send(world.court, "/grant organizer", reply_to=said))
    replies = await world.do(
        world.carol.send(world.court, "/notice Отключат лифт в среду | подтвердить до завтра 20:00")
    )
    assert "#N1" in replies.text(world.court)
    due = world.services.clock() - timedelta(seconds=1)
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ? WHERE kind = ? AND ref_id = 1 AND status = 'pending'",
            (to_db(due), store.DEADLINE),
        )
    mark = world.fake.mark()
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()
    call = await world.fake.wait_for("sendMessage", since=mark, chat_id=world.court.id)
    assert "#N1" in call.params["text"] and "Confirmed: 0 of 4 households" in call.params["text"]
    to_her = [
        c
        for c in world.fake.calls[mark:]
        if c.method == "sendMessage" and int(c.params.get("chat_id", 0)) == world.carol.id
    ]
    assert not to_her  # she never opened a private chat: nothing tried there
