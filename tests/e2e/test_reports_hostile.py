"""Repair reports attacked and used loosely: a report that starts with a flat or floor label
such as "F2", a reporter replaying another category after the handlers were routed, a named
handler who left the building's group, a handler of one category reading another category's
private reports, and a household pressing Me too twice through two members."""

from __future__ import annotations

from storage import reports as store
from tests.e2e.conftest import World
from tests.e2e.test_reports import building, buttons, card_of, get


async def test_a_report_starting_with_a_floor_label_is_a_new_report(world: World) -> None:
    await building(world)
    await world.do(world.bob.send(world.court, "/report Door broken | entrance 1"))
    replies = await world.do(world.carol.send(world.court, "/report F1 corridor light is out"))
    assert "Report #F2" in replies.text(world.court)
    second = await get(world, 2)
    assert second.what == "F1 corridor light is out"
    assert (await get(world, 1)).status == "open"  # #F1 untouched


async def test_a_replayed_category_neither_changes_nor_reroutes(world: World) -> None:
    await building(world)
    await world.do(world.bob.send(world.court, "/report Lift stuck"))
    card = world.fake.message(world.court, (await get(world)).message_id or 0)
    assert card is not None
    await world.do(world.bob.press(card, "rp:c:1:lift"))
    replies = await world.do(world.bob.press(card, "rp:c:1:noise", check=False))
    assert replies.answers() and not replies.text(world.alice.private)
    assert (await get(world)).category == "lift"
    assert "Category: Lift" in card_of(world, await get(world))


async def test_a_handler_who_left_sees_and_does_nothing(world: World) -> None:
    await building(world)
    said = await world.carol.send(world.court, "я слежу за водой")
    await world.do(world.alice.send(world.court, "/reports handler water", reply_to=said))
    await world.do(world.fake.leave(world.court, world.carol))
    # a private water report goes to the leads now, not to Кэрол
    await world.do(world.bob.send(world.bob.private, "/report private water from the ceiling"))
    draft = world.fake.last_bot_message(world.bob.private)
    assert draft is not None
    replies = await world.do(world.bob.press(draft, "rp:c:1:water"))
    assert not replies.text(world.carol.private)
    assert "water from the ceiling" in replies.text(world.alice.private)
    replies = await world.do(world.carol.send(world.carol.private, "/report F1"))
    assert "нет заявки #F1" in replies.text(world.carol.private)
    replies = await world.do(world.carol.send(world.carol.private, "/report F1 fixed"))
    assert (await get(world)).status == "open"


async def test_a_handler_reads_only_the_private_reports_of_their_category(world: World) -> None:
    await building(world)
    said = await world.bob.send(world.court, "I look after the water")
    await world.do(world.alice.send(world.court, "/reports handler water", reply_to=said))
    for text, category in (("noise from 1-03 at night", "noise"), ("no hot water", "water")):
        await world.do(world.carol.send(world.carol.private, f"/report {text}"))
        draft = world.fake.last_bot_message(world.carol.private)
        assert draft is not None
        data = next(
            d for d in buttons(world, world.carol.private, draft.message_id) if d.endswith(category)
        )
        await world.do(world.carol.press(draft, data))
    listed = (await world.do(world.bob.send(world.bob.private, "/reports"))).text(world.bob.private)
    assert "no hot water" in listed and "noise from 1-03" not in listed
    replies = await world.do(world.bob.send(world.bob.private, "/report F1"))
    assert "no report #F1" in replies.text(world.bob.private)
    lead = (await world.do(world.alice.send(world.alice.private, "/reports"))).text(
        world.alice.private
    )
    assert "no hot water" in lead and "noise from 1-03" in lead


async def test_one_me_too_per_household_across_its_members(world: World) -> None:
    await building(world)
    flatmate = world.fake.user("Zoe", language_code="en")
    world.court.members[flatmate.id] = "member"
    await world.do(flatmate.send(world.court, "/unit 1-02"))  # Кэрол's flat
    await world.do(world.bob.send(world.court, "/report Entrance door does not lock"))
    card = world.fake.message(world.court, (await get(world)).message_id or 0)
    assert card is not None
    replies = await world.do(world.carol.press(card, "rp:m:1"))
    assert "Counted" not in replies.answer_text()  # her own language
    replies = await world.do(flatmate.press(card, "rp:m:1"))
    assert "already" in replies.answer_text()
    assert await store.me_too_count(world.services.db, 1) == 1


async def test_not_really_reopens_and_the_clocks_start_again(world: World) -> None:
    from datetime import timedelta

    from storage import scheduled

    await building(world)
    await world.do(world.bob.send(world.court, "/report Heating cold on floor 2"))
    card = world.fake.message(world.court, (await get(world)).message_id or 0)
    assert card is not None
    await world.do(world.bob.press(card, "rp:c:1:other"))
    first = await scheduled.pending_for(world.services.db, store.OVERDUE, 1)
    await world.do(world.alice.send(world.court, "/report F1 fixed"))
    asked = world.fake.last_bot_message(world.bob.private)
    assert asked is not None
    world.fake.advance(60)
    replies = await world.do(world.bob.press(asked, "rp:x:1"))
    assert "Reopened" in replies.answer_text()
    assert "reopened by its reporter" in replies.text(world.alice.private)  # the lead hears it
    report = await get(world)
    assert report.status == "open" and not report.flagged_ack
    row = await scheduled.pending_for(world.services.db, store.OVERDUE, 1)
    assert first is not None and row is not None and row.id != first.id
    assert row.run_at == report.since + timedelta(days=2)
    replies = await world.do(world.bob.press(asked, "rp:x:1", check=False))  # replayed
    assert "already" in replies.answer_text()


async def test_a_check_missed_while_the_bot_was_down_is_flagged_late(world: World) -> None:
    from datetime import timedelta

    from storage.db import to_db
    from tests.e2e.test_reports import backdate, fire

    await building(world)
    await world.do(world.bob.send(world.court, "/report Gate does not close"))
    card = world.fake.message(world.court, (await get(world)).message_id or 0)
    assert card is not None
    await world.do(world.bob.press(card, "rp:c:1:safety"))
    await backdate(world, 1, 3)
    long_ago = world.services.clock() - timedelta(hours=5)  # beyond the scheduler's grace
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ?, due_at = ? WHERE kind = ? AND ref_id = 1",
            (to_db(long_ago), to_db(long_ago), store.OVERDUE),
        )
    mark = world.fake.mark()
    await fire(world)
    call = await world.fake.wait_for("sendMessage", since=mark, chat_id=world.alice.id)
    assert "not acknowledged within 2 days" in call.params["text"]


async def test_the_digest_counts_open_and_overdue_public_reports(world: World) -> None:
    from datetime import timedelta

    from storage.db import to_db
    from tests.e2e.test_reports import backdate

    await building(world)
    await world.do(world.alice.send(world.court, "/settings digest every sunday 18:00"))
    await world.do(world.bob.send(world.court, "/report Lift stuck"))
    await world.do(world.carol.send(world.court, "/report Мусор у подъезда"))
    await world.do(world.carol.send(world.carol.private, "/report private secret matter"))
    await world.do(world.wang.send(world.court, "/report 门禁坏了"))
    await world.do(world.alice.send(world.court, "/report F4 fixed"))  # waits for its reporter
    await backdate(world, 1, 5)
    due = world.services.clock() - timedelta(seconds=1)
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ? WHERE kind = 'digest' AND status = 'pending'",
            (to_db(due),),
        )
    mark = world.fake.mark()
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()
    call = await world.fake.wait_for("sendMessage", since=mark, chat_id=world.court.id)
    text = call.params["text"]
    assert "Repair reports</b>: 2 open, 1 overdue" in text
    assert "#F1 Lift stuck" in text and "secret" not in text


async def test_a_private_report_from_someone_in_two_buildings(world: World) -> None:
    await building(world)
    oak = world.fake.group("Oak Yard", admins=[world.alice], members=[world.bob])
    await world.with_bot(oak)
    await world.do(world.bob.send(oak, "/reports"))
    await world.do(world.bob.send(world.bob.private, "/report private dog barking all night"))
    question = world.fake.last_bot_message(world.bob.private)
    assert question is not None and "Which building" in (question.text or "")
    choices = buttons(world, world.bob.private, question.message_id)
    assert f"rp:g:1:{oak.id}" in choices and f"rp:g:1:{world.court.id}" in choices
    # a forged group he is not in is refused
    lime = world.fake.group("Lime", admins=[world.alice], members=[world.carol])
    await world.with_bot(lime)
    replies = await world.do(world.bob.press(question, f"rp:g:1:{lime.id}", check=False))
    assert replies.answers() and (await get(world)).chat_id == world.bob.id
    replies = await world.do(world.bob.press(question, f"rp:g:1:{oak.id}"))
    draft = world.fake.last_bot_message(world.bob.private)
    assert draft is not None and "rp:c:1:noise" in buttons(
        world, world.bob.private, draft.message_id
    )
    replies = await world.do(world.bob.press(draft, "rp:c:1:noise"))
    report = await get(world)
    assert report.chat_id == oak.id and report.status == "open"
    assert "Oak Yard" in replies.text(world.alice.private)
    replies = await world.do(world.bob.press(question, f"rp:g:1:{world.court.id}", check=False))
    assert (await get(world)).chat_id == oak.id  # sent already: the old question is dead


async def test_a_lead_chooses_the_category_a_reporter_left_unchosen(world: World) -> None:
    await building(world)
    said = await world.carol.send(world.court, "сантехник — я")
    await world.do(world.alice.send(world.court, "/reports handler water", reply_to=said))
    await world.do(world.wang.send(world.court, "/report 楼道漏水"))
    card = world.fake.message(world.court, (await get(world)).message_id or 0)
    assert card is not None
    replies = await world.do(world.bob.press(card, "rp:c:1:water"))  # a resident may not
    assert "Only the person who reported" in replies.answer_text()
    replies = await world.do(world.alice.press(card, "rp:c:1:water"))
    assert "Water" in replies.answer_text()
    assert "楼道漏水" in replies.text(world.carol.private)  # routed to the water handler
    assert (await get(world)).category == "water"
    replies = await world.do(world.wang.press(card, "rp:c:1:noise", check=False))
    assert (await get(world)).category == "water"  # chosen once


async def test_a_me_too_neighbour_who_blocked_the_bot_is_told_in_the_group(world: World) -> None:
    await building(world)
    await world.do(world.bob.send(world.court, "/report Broken mailbox lock"))
    card = world.fake.message(world.court, (await get(world)).message_id or 0)
    assert card is not None
    await world.do(world.bob.press(card, "rp:c:1:other"))
    await world.do(world.carol.press(card, "rp:m:1"))
    world.carol.block_bot()  # Telegram now answers 403 to anything sent to her
    await world.settle()
    replies = await world.do(world.alice.press(card, "rp:s:1:p"))
    assert not replies.text(world.carol.private)
    said = replies.text(world.court)
    assert f"tg://user?id={world.carol.id}" in said and "#F1" in said
    assert "in progress" in replies.text(world.bob.private)


async def test_a_stranger_cannot_read_reports_by_trying_numbers(world: World) -> None:
    await building(world)
    await world.do(world.bob.send(world.court, "/report Smell of gas in entrance 3"))
    stranger = world.fake.user("Mallory", language_code="en")
    for text in ("/report F1", "/report F1 ack", "/report F2"):
        replies = await world.do(stranger.send(stranger.private, text))
        said = replies.text(stranger.private)
        assert "no report" in said and "gas" not in said, text
    replies = await world.do(world.bob.send(world.bob.private, "/report F1"))  # its reporter
    assert "Smell of gas" in replies.text(world.bob.private)


async def test_the_panel_walks_the_overdue_days_and_typing_refuses_nonsense(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.alice.send(world.court, "/settings"))
    panel = replies.sent(world.court)[-1].result
    assert "Repair reports overdue after: 2 days" in panel["text"]
    replies = await world.do(world.alice.press(panel, "st:o"))
    chat = await world.services.db.fetchone(
        "SELECT settings FROM chats WHERE id = ?", (world.court.id,)
    )
    assert chat is not None and '"report_ack_days": 3' in chat["settings"]
    replies = await world.do(world.bob.press(panel, "st:o"))  # a resident
    assert "Only" in replies.answer_text()
    for raw, expected in (
        ("/settings report_ack_days 0", "not a number of days"),
        ("/settings report_ack_days lots", "not a number of days"),
        ("/settings report_fix_days 1", "cannot come before"),  # before the 3-day ack
        ("/settings report_fix_days 30 дней", "overdue when not fixed within 30 days"),
    ):
        replies = await world.do(world.alice.send(world.court, raw))
        assert expected in replies.text(world.court), raw


async def test_a_private_report_when_no_handler_has_a_private_chat(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.court, "/reports"))  # Bob is known in the group
    await world.do(world.bob.send(world.bob.private, "/report private my neighbour shouts at me"))
    draft = world.fake.last_bot_message(world.bob.private)
    assert draft is not None
    replies = await world.do(world.bob.press(draft, "rp:c:1:noise"))
    told = replies.text(world.bob.private)
    assert "None of the people who handle reports" in told
    said = replies.text(world.court)
    assert f"tg://user?id={world.alice.id}" in said and "#F1" in said
    assert "shouts" not in said and "neighbour" not in said


async def test_a_caption_for_another_bot_is_left_alone(world: World) -> None:
    await building(world)
    replies = await world.do(world.bob.send_photo(world.court, caption="/report@other_bot lift"))
    assert not replies.sent(world.court)
    assert await store.get(world.services.db, 1) is None
    replies = await world.do(
        world.bob.send_photo(world.court, caption="/report@courtyard_bot Lift door scratched")
    )
    assert "Lift door scratched" in replies.text(world.court)


async def test_a_private_report_is_not_acted_on_in_the_group(world: World) -> None:
    await building(world)
    await world.do(world.bob.send(world.bob.private, "/report private threats from 1-03"))
    draft = world.fake.last_bot_message(world.bob.private)
    assert draft is not None
    await world.do(world.bob.press(draft, "rp:c:1:safety"))
    replies = await world.do(world.alice.send(world.court, "/report F1 ack"))
    assert "no report #F1" in replies.text(world.court)
    assert (await get(world)).status == "open"
    replies = await world.do(world.alice.send(world.alice.private, "/report F1 ack"))
    assert "#F1: acknowledged" in replies.text(world.alice.private)
    assert "acknowledged" in replies.text(world.bob.private)


async def test_a_handlers_private_copy_follows_the_report(world: World) -> None:
    await building(world)
    await world.do(world.bob.send(world.court, "/report Bins overflowing"))
    card = world.fake.message(world.court, (await get(world)).message_id or 0)
    assert card is not None
    await world.do(world.bob.press(card, "rp:c:1:cleaning"))
    copy = world.fake.last_bot_message(world.alice.private)
    assert copy is not None and "rp:s:1:a" in buttons(world, world.alice.private, copy.message_id)
    await world.do(world.alice.press(copy, "rp:s:1:a"))  # from her private chat
    shown = world.fake.message(world.alice.private, copy.message_id)
    assert shown is not None and "acknowledged" in (shown.text or "")
    assert "rp:s:1:a" not in buttons(world, world.alice.private, copy.message_id)
    assert "acknowledged" in card_of(world, await get(world))  # and the group's card


async def test_cards_follow_the_group_into_a_supergroup(world: World) -> None:
    from storage import notices as notices_store

    await building(world)
    await world.do(world.bob.send(world.court, "/report Lift stuck"))
    await world.do(world.alice.send(world.court, "/notice Water off on Tuesday"))
    old = (await get(world)).message_id
    upgraded = await world.fake.upgrade_to_supergroup(world.court, by=world.alice)
    await world.settle()
    report = await get(world)
    notice = await notices_store.get(world.services.db, 1)
    assert report.chat_id == upgraded.id and report.message_id not in (None, old)
    assert notice is not None and notice.chat_id == upgraded.id and notice.message_id
    card = world.fake.message(upgraded, report.message_id or 0)
    assert card is not None and "#F1" in (card.text or "")
    replies = await world.do(world.carol.press(card, "rp:m:1"))
    assert "1" in replies.answer_text()
    assert await store.me_too_count(world.services.db, 1) == 1
