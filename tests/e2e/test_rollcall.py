"""Emergency roll-call end to end: two households need help (told privately to the leads and
helpers at once; a helper who never opened a private chat is mentioned in the group and the
lead is told), one household never answers and is reminded, one is checked in person by a
neighbour, and the summary is exact. Then the attacks: forged buttons, a neighbour's "we're
OK" over a cry for help, a picker pressed by someone else, a second roll-call, residents without
a unit, /checkonme privacy."""

from __future__ import annotations

from playground import FakeUser
from storage import rollcall as store
from storage import scheduled
from tests.e2e.conftest import World
from tests.e2e.test_decisions import claim
from tests.e2e.test_events import fire, make_due, setup_group

LABELS = ["2-101", "2-102", "2-103", "2-104", "2-105", "2-106"]


async def building(world: World) -> dict[str, FakeUser]:
    """Six households: Bob 2-101, Кэрол 2-102, 王芳 2-103, Dan 2-104, Eve 2-105, 2-106 nobody."""
    await setup_group(world)
    dan = world.fake.user("Dan", language_code="en")
    eve = world.fake.user("Eve", language_code="en")
    for person in (dan, eve):
        await world.do(world.fake.join(world.court, person))
    for label in LABELS:
        await world.do(world.alice.send(world.court, f"/units add {label}"))
    people = {"2-101": world.bob, "2-102": world.carol, "2-103": world.wang}
    people |= {"2-104": dan, "2-105": eve}
    for label, person in people.items():
        await world.do(person.send(world.court, "hello"))  # known to the bot
        await claim(world, person, label)
    return people


def private_texts(world: World, person: FakeUser, since: int) -> list[str]:
    return [
        c.params["text"]
        for c in world.fake.calls[since:]
        if c.method == "sendMessage" and c.ok and int(c.params["chat_id"]) == person.id
    ]


async def card_text(world: World, rollcall_id: int = 1) -> str:
    found = await store.get(world.services.db, rollcall_id)
    assert found is not None and found.message_id is not None
    message = world.fake.message(world.court, found.message_id)
    assert message is not None
    return message.text or ""


async def test_a_roll_call_after_a_burst_pipe(world: World) -> None:
    people = await building(world)
    dan = people["2-104"]
    eve = people["2-105"]
    # the lead and one helper opened a private chat; Dan signs up as a helper but never did
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.wang.send(world.wang.private, "/start"))
    replies = await world.do(world.wang.send(world.court, "/helper on"))
    assert "Thank you for helping" in replies.text(world.court)
    replies = await world.do(dan.send(world.court, "/helper on"))
    assert "?start=helper" in replies.text(world.court)  # asked to open a private chat

    # a plain resident may not start one; a lead may
    replies = await world.do(world.bob.send(world.court, "/rollcall Water pipe burst"))
    assert "Sorry, only" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/rollcall Water pipe burst in block 2"))
    text = replies.text(world.court)
    assert "Roll-call: Water pipe burst in block 2" in text and "#A1" in text
    assert "Households: 6 · OK 0 · need help 0 · checked 0 · not heard from 6" in text
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    row = await scheduled.pending_for(world.services.db, store.REMINDER, 1)
    assert row is not None  # the reminder is a row in the database: it survives a restart
    minutes = (row.run_at - (await store.get(world.services.db, 1)).opened_at).total_seconds() / 60  # type: ignore[union-attr]
    assert minutes == 20

    # Bob: OK
    replies = await world.do(world.bob.press(card, "rc:o:1"))
    assert "noted as OK: 2-101" in replies.answer_text()

    # Кэрол: Need help -> the lead and the helper are told at once, privately
    mark = world.fake.mark()
    replies = await world.do(world.carol.press(card, "rc:h:1"))
    assert replies.answers()[0]["show_alert"]
    [to_alice] = private_texts(world, world.alice, mark)[:1]
    assert "Кэрол (2-102) needs help" in to_alice and "Water pipe burst" in to_alice
    [to_wang] = private_texts(world, world.wang, mark)
    assert "Кэрол（2-102）需要帮助" in to_wang
    # Dan cannot be written to privately: mentioned once in the group, and the lead is told
    group = replies.text(world.court)
    assert f"tg://user?id={dan.id}" in group and "?start=helper" in group
    assert any(
        "Could not be told privately" in t and "Dan" in t
        for t in private_texts(world, world.alice, mark)
    )
    assert world.fake.calls  # nothing was sent to Dan's private chat
    assert not [c for c in replies.calls if int(c.params.get("chat_id", 0)) == dan.id and c.ok]

    # her one line, by replying to the card, goes to them too
    mark = world.fake.mark()
    replies = await world.do(
        world.carol.send(world.court, "нет воды, пожилая мама наверху", reply_to=card)
    )
    assert "Added. Leads and helpers" in replies.text(world.court)
    assert any(
        "нет воды, пожилая мама наверху" in t for t in private_texts(world, world.alice, mark)
    )
    assert any("нет воды" in t for t in private_texts(world, world.wang, mark))
    assert "нет воды" not in await card_text(world)  # the line is never on the public card

    # Eve: Need help too; Dan is not mentioned a second time in this roll-call
    mark = world.fake.mark()
    replies = await world.do(eve.press(card, "rc:h:1"))
    assert any("Eve (2-105) needs help" in t for t in private_texts(world, world.alice, mark))
    assert f"tg://user?id={dan.id}" not in replies.text(world.court)

    # 王芳: OK
    await world.do(world.wang.press(card, "rc:o:1"))

    # the reminder: Dan (2-104) and 2-106 have not answered
    mark = world.fake.mark()
    await make_due(world, store.REMINDER, 1)
    await fire(world)
    said = await world.fake.wait_for("sendMessage", since=mark, chat_id=world.court.id)
    await world.settle()
    assert "still not heard from 2-104, 2-106" in said.params["text"]
    assert f"tg://user?id={dan.id}" in said.params["text"]
    assert f"tg://user?id={world.bob.id}" not in said.params["text"]
    to_lead = "\n".join(private_texts(world, world.alice, mark))
    assert "not heard from yet (2)" in to_lead and "2-104: Dan" in to_lead and "2-106: —" in to_lead

    # Bob checked on 2-106 in person (a picker of the households not heard from)
    replies = await world.do(world.bob.press(card, "rc:c:1"))
    picker = world.fake.last_bot_message(world.court)
    assert picker is not None and "which household" in (picker.text or "")
    buttons = [b.callback_data for row in picker.reply_markup.inline_keyboard for b in row]  # type: ignore[union-attr]
    assert len(buttons) == 2  # 2-104 and 2-106, never his own household
    households = {h.label: h.id for h in await store.households(world.services.db, 1)}
    pick = next(b for b in buttons if str(b).endswith(f":{households['2-106']}"))
    replies = await world.do(world.carol.press(picker, str(pick)))  # not hers
    assert (
        "for the neighbour who asked" in replies.answer_text() or "соседа" in replies.answer_text()
    )
    replies = await world.do(world.bob.press(picker, str(pick)))
    assert "2-106 marked as checked in person" in replies.answer_text()
    replies = await world.do(world.bob.press(picker, str(pick), check=False))  # used up
    assert replies.answers()[0]["show_alert"]

    shown = await card_text(world)
    assert "Households: 6 · OK 2 · need help 2 · checked 1 · not heard from 1" in shown
    assert "Need help (2): 2-102, 2-105" in shown and "Not heard from (1): 2-104" in shown

    # a resident may not close it; the lead closes with the button: the summary is exact
    replies = await world.do(world.bob.press(card, "rc:x:1"))
    assert "Only organizers and leads" in replies.answer_text()
    mark = world.fake.mark()
    replies = await world.do(world.alice.press(card, "rc:x:1"))
    summary = replies.text(world.court)
    assert "Roll-call summary: Water pipe burst in block 2" in summary
    assert "Households: 6 · OK 2 · need help 2 · checked 1 · not heard from 1" in summary
    assert "OK (2):</b> 2-101, 2-103" in summary
    assert "Need help (2):</b> 2-102, 2-105" in summary
    assert "Checked in person (1):</b> 2-106" in summary
    assert "Not heard from (1):</b> 2-104" in summary
    assert "нет воды" not in summary  # the group sees no one's line
    private = "\n".join(private_texts(world, world.alice, mark))
    assert (
        "2-102 — Кэрол: нет воды, пожилая мама наверху" in private and "2-105 — Eve: —" in private
    )
    closed = world.fake.message(world.court, card.message_id)
    assert closed is not None and "closed" in (closed.text or "") and closed.reply_markup is None
    assert await scheduled.pending_for(world.services.db, store.REMINDER, 1) is None
    replies = await world.do(world.bob.press(card, "rc:o:1", check=False))
    assert "closed" in replies.answer_text()


async def test_nobody_alone_changes_what_counts(world: World) -> None:
    people = await building(world)
    await world.do(world.alice.send(world.court, "/rollcall Storm"))
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    # a second household member: Frank shares 2-102 with Кэрол
    frank = world.fake.user("Frank", language_code="en")
    await world.do(world.fake.join(world.court, frank))
    await world.do(frank.send(world.court, "hi"))
    await claim(world, frank, "2-102")
    await world.do(world.carol.press(card, "rc:h:1"))
    replies = await world.do(frank.press(card, "rc:o:1"))
    assert "asked for help" in replies.answer_text() and replies.answers()[0]["show_alert"]
    assert "Need help (1): 2-102" in await card_text(world)
    # she herself may take it back
    await world.do(world.carol.press(card, "rc:o:1"))
    assert "OK (1): 2-102" in await card_text(world)

    # forged and foreign button data
    other = world.fake.group("Oak Yard", admins=[world.alice], members=[world.bob])
    await world.do(world.fake.add_bot(other, by=world.alice))
    for data in (
        "rc:o:999",
        "rc:o:abc",
        "rc:z:1",
        "rc:o",
        "rc:s:1:99999",
        "rc:s:x:1",
        "rc:o:" + "9" * 40,
    ):
        replies = await world.do(world.bob.press(card, data, check=False))
        assert replies.answers(), data  # answered, never silent
        assert "noted as OK" not in replies.answer_text(), data
    await world.do(world.alice.send(other, "/rollcall Oak test"))
    oak_card = world.fake.last_bot_message(other)
    assert oak_card is not None
    replies = await world.do(world.bob.press(oak_card, "rc:o:1", check=False))  # Maple's id
    assert "no longer works" in replies.answer_text()

    # a second roll-call in the same group is refused, naming the open one
    replies = await world.do(world.alice.send(world.court, "/rollcall Another"))
    assert "already open here: #A1" in replies.text(world.court)
    # bad input
    replies = await world.do(world.alice.send(world.court, "/rollcall"))
    assert "Write what happened" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/rollcall \u200b\u2060"))
    assert "Write what happened" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/rollcall " + "x" * 300))
    assert "at most 200" in replies.text(world.court)

    del people


async def test_residents_without_a_unit_and_ordinary_replies(world: World) -> None:
    await setup_group(world)
    await world.do(world.alice.send(world.court, "/units add 1-01"))
    await world.do(world.alice.send(world.court, "/rollcall Power cut"))
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    replies = await world.do(world.bob.press(card, "rc:o:1"))
    assert "noted as OK: Bob Baker" in replies.answer_text()
    shown = await card_text(world)
    assert "Residents without a unit (1): Bob Baker ✅" in shown
    assert "not heard from 1" in shown  # only the registered household counts as silent
    # an ordinary reply to the card (no "Need help") is left alone
    replies = await world.do(world.wang.send(world.court, "大家小心", reply_to=card))
    assert replies.text(world.court) == ""
    # the reminder setting
    replies = await world.do(world.alice.send(world.court, "/settings rollcall 45"))
    assert "after 45 min" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/settings rollcall 2"))
    assert "from 5 to 1440" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/settings rollcall 30"))
    assert "Sorry, only" in replies.text(world.court)
    # the roll-call card is redrawn after a restart like every card (kind registered), and a
    # roll-call is never in the public weekly digest
    from handlers import cards, digest

    assert "rollcall" in cards.kinds()
    assert digest.SECTIONS and all(s.__module__ != "handlers.rollcall" for s in digest.SECTIONS)


async def test_check_on_me_is_private_expiring_and_forgotten(world: World) -> None:
    people = await building(world)
    dan = people["2-104"]
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(dan.send(dan.private, "/start"))
    replies = await world.do(dan.send(world.court, "/checkonme wheelchair"))
    assert "send this to me privately" in replies.text(world.court)
    assert [c for c in replies.calls if c.method == "deleteMessage"]  # taken down if it may
    assert await store.check_on_me_of(world.services.db, dan.id, world.services.clock()) == []
    replies = await world.do(dan.send(dan.private, "/checkonme wheelchair, 5th floor"))
    assert "Maple Court" in replies.text(dan.private)
    lines = await store.check_on_me_of(world.services.db, dan.id, world.services.clock())
    assert [(n, e.year - world.services.clock().year) for _, n, e in lines] == [
        ("wheelchair, 5th floor", 1)
    ]
    # not shown anywhere until a roll-call; then only to leads (and helpers), privately
    mark = world.fake.mark()
    replies = await world.do(world.alice.send(world.court, "/rollcall Fire alarm"))
    assert "wheelchair" not in replies.text(world.court)
    assert any(
        "2-104 — Dan: wheelchair, 5th floor" in t for t in private_texts(world, world.alice, mark)
    )
    # /mydata shows it; /forgetme removes it
    replies = await world.do(dan.send(dan.private, "/mydata"))
    exported = [c for c in replies.calls if c.method == "sendDocument"]
    assert exported and "wheelchair, 5th floor" in exported[0].params["document"].decode("utf-8")
    replies = await world.do(dan.send(dan.private, "/checkonme off"))
    assert "Removed" in replies.text(dan.private)
    assert await store.check_on_me_of(world.services.db, dan.id, world.services.clock()) == []


async def test_presses_cannot_flood_the_group_or_the_helpers(world: World) -> None:
    await building(world)
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.alice.send(world.court, "/rollcall Smoke in the stairwell"))
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    # the picker: one open at a time per neighbour
    replies = await world.do(world.bob.press(card, "rc:c:1"))
    assert len(replies.sent(world.court)) == 1
    for _ in range(5):
        replies = await world.do(world.bob.press(card, "rc:c:1"))
        assert replies.sent(world.court) == [] and "already above" in replies.answer_text()
    # Need help, OK, Need help... tells the lead once, not at every press
    mark = world.fake.mark()
    for data in ("rc:h:1", "rc:o:1", "rc:h:1", "rc:o:1", "rc:h:1"):
        await world.do(world.carol.press(card, data))
    told = [t for t in private_texts(world, world.alice, mark) if "needs help" in t]
    assert len(told) == 1
    # a burst of replies with a line: told and answered once, the last line kept
    mark = world.fake.mark()
    for n in range(6):
        await world.do(world.carol.send(world.court, f"line {n}", reply_to=card))
    assert len([t for t in private_texts(world, world.alice, mark) if "line" in t]) == 1
    assert (
        len(
            [
                c
                for c in world.fake.calls[mark:]
                if c.method == "sendMessage" and int(c.params["chat_id"]) == world.court.id
            ]
        )
        == 1
    )
    rows = await store.answers(world.services.db, 1)
    assert [r.recorded.note for r in rows if r.label == "2-102"] == ["line 5"]
    assert "Need help (1): 2-102" in await card_text(world)  # the last press counts


async def test_a_restart_in_the_middle_loses_nothing(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.e2e.conftest import stop_app
    from tests.e2e.test_cards_after_restart import started

    people = await building(world)
    await world.do(world.alice.send(world.court, "/rollcall Earthquake drill"))
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    await world.do(world.bob.press(card, "rc:o:1"))
    await stop_app(world.app)
    again = await started(world.fake, world.services.settings.db_path, before=world)
    try:
        replies = await again.do(world.carol.press(card, "rc:h:1"))  # the old card still works
        assert "2-102" in replies.answer_text()
        mark = again.fake.mark()
        await make_due(again, store.REMINDER, 1)  # the reminder row was re-armed at start-up
        await fire(again)
        said = await again.fake.wait_for("sendMessage", since=mark, chat_id=world.court.id)
        assert "still not heard from 2-103, 2-104, 2-105, 2-106" in said.params["text"]
        await again.settle()
        shown = await card_text(again)
        assert "OK 1 · need help 1" in shown
    finally:
        await stop_app(again.app)
        world.app = again.app  # the fixture stops it once more: harmless
    del people, tmp_path


def test_a_card_of_a_thousand_households_fits_in_one_message() -> None:
    from datetime import UTC, datetime

    from bot.domain.rollcall import Answer, tally
    from bot.domain.text import utf16_len
    from handlers.rollcall import render_card

    labels = [f"Block {n // 100}-{n:04d}-東" for n in range(1000)]
    answers = {
        label: (Answer.OK, Answer.HELP, Answer.SEEN)[n % 4]
        for n, label in enumerate(labels)
        if n % 4 != 3
    }
    found = store.RollCall(
        1, -1, 1, "A" * 200, "Ф" * 200, "open", 5, datetime(2026, 12, 2, tzinfo=UTC), None
    )
    for lang in ("en", "ru", "zh_Hans"):
        text, markup = render_card(lang, "Asia/Shanghai", found, tally(labels, answers))
        assert utf16_len(text) <= 4096, (lang, utf16_len(text))
        assert "#A1" in text and markup is not None
        assert "1000" in text  # the counts are whole even when the lists are cut


async def test_the_bot_as_an_administrator_is_nobody_to_tell(world: World) -> None:
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.alice.send(world.court, "/rollcall Gas smell"))
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    mark = world.fake.mark()
    replies = await world.do(world.bob.press(card, "rc:h:1"))
    assert "Bob Baker (no unit) needs help" in "\n".join(private_texts(world, world.alice, mark))
    assert replies.text(world.court) == ""  # nobody unreachable: the bot is not a lead to tell
    assert not any("Could not be told" in t for t in private_texts(world, world.alice, mark))


async def test_a_group_without_a_register_answers_person_by_person(world: World) -> None:
    await setup_group(world)
    replies = await world.do(world.alice.send(world.court, "/rollcall Flood warning"))
    assert "No units are registered here" in replies.text(world.court)
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    await world.do(world.bob.press(card, "rc:o:1"))
    await world.do(world.carol.press(card, "rc:h:1"))
    shown = await card_text(world)
    assert "Households: 0" in shown and "Bob Baker ✅" in shown and "Кэрол 🆘" in shown
    replies = await world.do(world.bob.press(card, "rc:c:1"))
    assert "Every household has answered" in replies.answer_text()
    replies = await world.do(world.alice.send(world.court, "/close", reply_to=card))
    assert "Residents without a unit (2)" in replies.text(world.court)


async def test_a_line_written_privately_after_need_help(world: World) -> None:
    people = await building(world)
    eve = people["2-105"]
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(eve.send(eve.private, "/start"))
    await world.do(world.alice.send(world.court, "/rollcall Power cut"))
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    mark = world.fake.mark()
    await world.do(eve.press(card, "rc:h:1"))
    asked = private_texts(world, eve, mark)
    assert len(asked) == 1 and "write here in one line" in asked[0]
    # just typing in the private chat is the line (no reply needed)
    mark = world.fake.mark()
    replies = await world.do(eve.send(eve.private, "stuck in the lift, 3rd floor"))
    assert "Added" in replies.text(eve.private)
    assert any(
        "Eve (2-105) needs help — «stuck in the lift, 3rd floor»" in t
        for t in private_texts(world, world.alice, mark)
    )
    # the question was answered once: the next private message is nobody's line
    replies = await world.do(eve.send(eve.private, "thank you"))
    assert replies.sent() == []
    rows = await store.answers(world.services.db, 1)
    assert [r.recorded.note for r in rows if r.label == "2-105"] == ["stuck in the lift, 3rd floor"]
    # someone who was never asked writes privately: nothing happens
    replies = await world.do(world.alice.send(world.alice.private, "hello"))
    assert replies.sent() == []


def test_every_press_answer_fits_telegrams_200_characters() -> None:
    """An answer longer than 200 characters is refused by Telegram: the press would spin."""
    from bot.i18n import t
    from handlers.common import plain

    long_units = {"units": "X" * 40, "unit": "X" * 40, "days": 30, "amount": "24 h 59 min"}
    keys = [
        *(f"rollcall.{k}" for k in ("answered_ok", "answered_help", "help_stays", "closing")),
        *(f"rollcall.{k}" for k in ("already_answered", "same_answer", "closed_already")),
        *(f"rollcall.{k}" for k in ("close_not_allowed", "nobody_silent", "pick_open")),
        *(f"rollcall.{k}" for k in ("pick_not_yours", "seen_done")),
        *(f"hours.{k}" for k in ("not_volunteer", "already_claimed", "already_decided")),
        *(f"hours.{k}" for k in ("not_ended", "too_late", "claimed", "not_organizer")),
        *(f"hours.{k}" for k in ("not_own", "approved_short", "rejected_short")),
    ]
    for lang in ("en", "ru", "zh_Hans"):
        for key in keys:
            assert len(plain(t(lang, key, **long_units))) <= 200, (lang, key)
