"""Quick polls end to end: created in both forms, voted on with buttons (vote, move, withdraw,
multiple choice), configured before the first vote, closed by button, /close and the clock,
anonymous without user ids, busy cards collapsed and coalesced, and every kind of bad input:
forged or cross-chat buttons, closed polls, strangers pressing lead buttons, a deleted card,
a restart in the middle."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import Message, Update

from bot.app import build_app
from bot.config import Settings
from bot.domain.text import utf16_len
from handlers import polls as poll_handlers
from playground import FakeTelegram
from storage import members, polls
from storage.db import Database, to_db
from tests.e2e.conftest import FAST, TOKEN, World, start_app, stop_app


async def new_poll(world: World, who: Any, text: str) -> tuple[polls.Poll, Message]:
    replies = await world.do(who.send(world.court, text))
    assert replies.sent(world.court), replies.calls
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM polls")
    poll = await polls.get(world.services.db, row["id"])
    assert poll is not None and poll.message_id is not None
    card = world.fake.message(world.court, poll.message_id)
    assert card is not None
    return poll, card


def card_text(world: World, poll: polls.Poll) -> str:
    assert poll.message_id is not None
    message = world.fake.message(world.court, poll.message_id)
    assert message is not None and message.text is not None
    return message.text


def buttons(message: Message) -> list[str]:
    markup = message.reply_markup
    if markup is None:
        return []
    return [str(b.callback_data) for row in markup.inline_keyboard for b in row]


async def reload(world: World, poll: polls.Poll) -> polls.Poll:
    found = await polls.get(world.services.db, poll.id)
    assert found is not None
    return found


async def eventually(check: Any, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a deadline
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def test_vote_move_and_withdraw_on_a_pipe_poll(world: World) -> None:
    await world.with_bot()
    poll, card = await new_poll(world, world.bob, "/poll Paint the gate? | Green | Blue | Red")
    text = card_text(world, poll)
    assert "Paint the gate?" in text and "Green — 0 (0%)" in text and text.endswith(f"#P{poll.id}")
    assert "one choice per person" in text and "0 voters" in text
    data = buttons(card)
    assert data == [
        f"pl:v:{poll.id}:0",
        f"pl:v:{poll.id}:1",
        f"pl:v:{poll.id}:2",
        f"pl:m:{poll.id}",
        f"pl:a:{poll.id}",
        f"pl:c:{poll.id}",
    ]
    assert all(len(d.encode()) <= 64 for d in data)

    replies = await world.do(world.carol.press(card, f"pl:v:{poll.id}:0"))
    assert replies.answer_text() == "Ваш голос: «Green»."  # in the presser's language
    text = card_text(world, poll)
    assert "Green — 1 (100%)" in text and "Кэрол" in text and "1 voter" in text
    card = world.fake.message(world.court, card.message_id)
    assert card is not None and f"pl:m:{poll.id}" not in buttons(card)  # settings gone

    replies = await world.do(world.bob.press(card, f"pl:v:{poll.id}:1"))
    assert replies.answer_text() == "Voted for “Blue”."
    replies = await world.do(world.bob.press(card, f"pl:v:{poll.id}:2"))  # moves the vote
    assert replies.answer_text() == "Voted for “Red”."
    text = card_text(world, poll)
    assert "Blue — 0 (0%)" in text and "Red — 1 (50%)" in text and "2 voters" in text
    replies = await world.do(world.bob.press(card, f"pl:v:{poll.id}:2"))  # withdraws
    assert replies.answer_text() == "Vote for “Red” withdrawn."
    text = card_text(world, poll)
    assert "Red — 0 (0%)" in text and "1 voter" in text and "Bob" not in text
    rows = await world.services.db.fetchall("SELECT user_id FROM poll_votes")
    assert [r["user_id"] for r in rows] == [world.carol.id]


async def test_line_form_with_flags_and_closing_time_in_the_group_zone(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings timezone Europe/Berlin"))
    poll, card = await new_poll(
        world,
        world.bob,
        "/poll Which days suit you?\n- Monday\n- Tuesday\n- Wednesday\nmultiple, closes in 3 days",
    )
    assert poll.options == ("Monday", "Tuesday", "Wednesday") and poll.multiple
    assert poll.closes_at is not None
    delta = poll.closes_at - world.services.clock()
    assert timedelta(days=2, hours=23) < delta <= timedelta(days=3)
    assert "(Europe/Berlin)" in card_text(world, poll)
    row = await world.services.db.fetchone(
        "SELECT status FROM scheduled WHERE kind = 'poll_close' AND ref_id = ?", (poll.id,)
    )
    assert row["status"] == "pending"
    for option in (0, 2):
        await world.do(world.bob.press(card, f"pl:v:{poll.id}:{option}"))
    await world.do(world.alice.press(card, f"pl:v:{poll.id}:2"))
    text = card_text(world, poll)
    assert "Monday — 1 (50%)" in text and "Wednesday — 2 (100%)" in text and "2 voters" in text


async def test_bad_input_is_answered_and_nothing_is_stored(world: World) -> None:
    await world.with_bot()
    cases = {
        "/poll": "Write the question first",
        "/poll Lunch? | Pizza": "at least two options",
        "/poll Q | " + " | ".join(f"o{i}" for i in range(11)): "at most 10 options",
        "/poll " + "x" * 301 + " | a | b": "too long (301 characters; at most 300)",
        "/poll Q | a | " + "b" * 101: "Option 2 is too long",
        "/poll Q | a | A": "appears twice",
        "/poll Q | a | b | closes yesterday 9:00": "in the past",
        "/poll Q | a | b | closes every friday 20:00": "A poll closes once",
        "/poll Q | a | b | closes blorp": "could not understand the time",
        "/poll Q | a | b | closes": "When should the poll close?",
    }
    for command, expected in cases.items():
        replies = await world.do(world.bob.send(world.court, command))
        assert len(replies.sent(world.court)) == 1, command
        assert expected in replies.text(world.court), (command, replies.text(world.court))
    replies = await world.do(world.bob.send(world.bob.private, "/poll Q | a | b"))
    assert "group chat" in replies.text(world.bob.private)
    assert await world.services.db.fetchone("SELECT id FROM polls") is None

    # who may create polls follows the group setting
    await world.do(world.alice.send(world.court, "/settings polls leads"))
    replies = await world.do(world.bob.send(world.court, "/poll Q | a | b"))
    assert "can do that here" in replies.text(world.court)
    assert await world.services.db.fetchone("SELECT id FROM polls") is None
    await new_poll(world, world.alice, "/poll Q | a | b")


async def test_settings_buttons_for_the_creator_and_leads_before_the_first_vote(
    world: World,
) -> None:
    await world.with_bot()
    poll, card = await new_poll(world, world.bob, "/poll Q | a | b")
    for data in (f"pl:m:{poll.id}", f"pl:a:{poll.id}", f"pl:c:{poll.id}"):
        replies = await world.do(world.carol.press(card, data))
        [answer] = replies.answers()
        assert answer["show_alert"] and "автор опроса или администратор" in answer["text"]
    assert (await reload(world, poll)).is_open
    replies = await world.do(world.bob.press(card, f"pl:m:{poll.id}"))
    assert replies.answer_text() == "Multiple choice is on."
    card = world.fake.message(world.court, card.message_id)
    assert card is not None
    replies = await world.do(world.alice.press(card, f"pl:a:{poll.id}"))  # a lead may too
    assert replies.answer_text() == "The poll is anonymous now."
    text = card_text(world, poll)
    assert "several choices allowed" in text and "anonymous" in text
    changed = await reload(world, poll)
    assert changed.multiple and changed.anonymous
    # the first vote locks the settings; a stale settings button is refused
    await world.do(world.carol.press(card, f"pl:v:{poll.id}:0"))
    replies = await world.do(world.bob.press(card, f"pl:m:{poll.id}", check=False))
    assert "can no longer change" in replies.answer_text()
    assert (await reload(world, poll)).multiple


async def test_anonymous_poll_stores_no_user_ids_and_keeps_only_counts(world: World) -> None:
    await world.with_bot()
    poll, card = await new_poll(world, world.bob, "/poll Raise the fee? | Yes | No | anonymous")
    assert poll.anonymous
    await world.do(world.bob.press(card, f"pl:v:{poll.id}:0"))
    await world.do(world.carol.press(card, f"pl:v:{poll.id}:1"))
    await world.do(world.wang.press(card, f"pl:v:{poll.id}:0"))
    replies = await world.do(world.bob.press(card, f"pl:v:{poll.id}:0"))  # withdraw works too
    assert "withdrawn" in replies.answer_text()
    await world.do(world.bob.press(card, f"pl:v:{poll.id}:1"))
    text = card_text(world, poll)
    assert "Yes — 1 (33%)" in text and "No — 2 (67%)" in text and "3 voters" in text
    for person in (world.bob, world.carol, world.wang):
        assert person.full_name not in text
    rows = await world.services.db.fetchall(
        "SELECT voter, user_id, voted_at FROM poll_votes WHERE poll_id = ?", (poll.id,)
    )
    assert len(rows) == 3
    ids = {str(p.id) for p in (world.bob, world.carol, world.wang)}
    for r in rows:
        assert r["user_id"] is None and r["voted_at"] is None
        assert len(r["voter"]) == 64 and not any(i in r["voter"] for i in ids)

    replies = await world.do(world.bob.send(world.court, f"/close P{poll.id}"))
    result = replies.text(world.court)
    assert "Poll closed" in result and "Most votes: <b>No</b>" in result
    assert await world.services.db.fetchall("SELECT 1 FROM poll_votes") == []
    row = await world.services.db.fetchone(
        "SELECT secret, final_counts, final_voters FROM polls WHERE id = ?", (poll.id,)
    )
    assert row["secret"] is None and row["final_counts"] == "[1, 2]" and row["final_voters"] == 3
    text = card_text(world, poll)
    assert "Closed" in text and "No — 2 (67%)" in text


async def test_close_by_button_then_votes_and_closes_are_refused(world: World) -> None:
    await world.with_bot()
    poll, card = await new_poll(world, world.bob, "/poll Q | a | b")
    await world.do(world.carol.press(card, f"pl:v:{poll.id}:1"))
    replies = await world.do(world.bob.press(card, f"pl:c:{poll.id}"))
    assert replies.answer_text() == "Closing the poll…"
    [result] = replies.sent(world.court)
    assert (
        "Most votes: <b>b</b>" in result.params["text"] and f"#P{poll.id}" in result.params["text"]
    )
    closed = world.fake.message(world.court, card.message_id)
    assert closed is not None and buttons(closed) == []
    assert "Closed" in (closed.text or "") and "Кэрол" in (closed.text or "")
    # presses on the old keyboard are answered, not obeyed
    replies = await world.do(world.carol.press(card, f"pl:v:{poll.id}:0", check=False))
    assert "закрыт" in replies.answer_text()
    replies = await world.do(world.bob.press(card, f"pl:c:{poll.id}", check=False))
    assert "This poll is closed" in replies.answer_text()
    replies = await world.do(world.alice.send(world.court, f"/close P{poll.id}"))
    assert f"Poll P{poll.id} is already closed" in replies.text(world.court)
    assert (await reload(world, poll)).final_counts == (0, 1)

    # /close in reply to the card, by a lead; a resident's /close is refused
    other, other_card = await new_poll(world, world.bob, "/poll Other? | x | y")
    replies = await world.do(world.carol.send(world.court, f"/close P{other.id}"))
    assert "автор опроса или администратор" not in replies.text(world.court)  # group speaks en
    assert "Only the poll's creator or a lead" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/close", reply_to=other_card))
    assert "Nobody voted." in replies.text(world.court)
    assert not (await reload(world, other)).is_open
    replies = await world.do(world.alice.send(world.court, "/close P999"))
    assert "There is no poll P999" in replies.text(world.court)


async def test_forged_stale_and_cross_chat_buttons_change_nothing(world: World) -> None:
    await world.with_bot()
    oak = world.fake.group("Oak Court", admins=[world.alice], members=[world.bob])
    await world.with_bot(oak)
    await world.do(world.bob.send(oak, "/poll Oak? | a | b"))
    oak_poll = await polls.get(world.services.db, 1)
    assert oak_poll is not None and oak_poll.chat_id == oak.id
    poll, card = await new_poll(world, world.bob, "/poll Q | a | b")
    for data in (
        f"pl:v:{oak_poll.id}:0",  # another chat's poll
        f"pl:c:{oak_poll.id}",
        f"pl:m:{oak_poll.id}",
        f"pl:v:{poll.id}:2",  # no such option
        f"pl:v:{poll.id}:-1",
        f"pl:v:{poll.id}",
        "pl:v:999999:0",
        "pl:x:1",
        "pl:v:abc:0",
        "pl:",
        "pl:v:1:0:0",
        f"pl:v:{'9' * 40}:0",
        "pl:v:²:0",  # "²".isdigit() is True, int("²") raises
        f"pl:v:{poll.id}:²",
        f"pl:c:{'١'}",  # an Arabic-Indic one: int() would read it as 1
    ):
        replies = await world.do(world.alice.press(card, data, check=False))
        assert "no longer works" in replies.answer_text(), data
    assert await world.services.db.fetchall("SELECT 1 FROM poll_votes") == []
    assert (await reload(world, oak_poll)).is_open
    assert not world.fake.unanswered_callbacks


async def test_closing_time_fires_after_a_restart_and_votes_are_kept(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    await world.with_bot()
    poll, card = await new_poll(world, world.bob, "/poll Q | a | b | closes in 2 hours")
    late, late_card = await new_poll(world, world.bob, "/poll Late? | a | b | closes in 3 hours")
    await world.do(world.bob.press(card, f"pl:v:{poll.id}:0"))
    await world.do(world.carol.press(card, f"pl:v:{poll.id}:0"))
    await world.do(world.carol.press(late_card, f"pl:v:{late.id}:1"))
    # a press is on its way when the bot stops: it waits for the bot, nothing is lost
    await world.wang.press(card, f"pl:v:{poll.id}:1")
    await stop_app(app)

    db = await Database.open(db_path)  # while the bot is down, the late poll's time passes
    due = to_db(world.services.clock() - timedelta(hours=5))
    async with db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ?, due_at = ? WHERE kind = 'poll_close' AND ref_id = ?",
            (due, due, late.id),
        )
    await db.close()

    mark = fake.mark()
    world.app = app = await start_app(fake, db_path)
    try:
        await world.settle()

        async def closed(which: polls.Poll) -> bool:
            return not (await reload(world, which)).is_open

        await eventually(lambda: closed(late))  # missed by hours: closed at start, with a note
        assert (await reload(world, poll)).is_open
        text = card_text(world, poll)
        assert "a — 2 (67%)" in text and "b — 1 (33%)" in text  # kept, and the in-flight vote

        # now its closing time comes: the real JobQueue closes it
        due = to_db(world.services.clock() - timedelta(seconds=1))
        async with world.services.db.write() as conn:
            await conn.execute(
                "UPDATE scheduled SET run_at = ?, due_at = ? WHERE kind = 'poll_close'"
                " AND ref_id = ?",
                (due, due, poll.id),
            )
        scheduler = world.services.scheduler
        scheduler.disarm(list(scheduler._armed))  # armed for its old time at the start
        await scheduler.refill()
        await eventually(lambda: closed(poll))
        await world.settle()
        said = [
            c.params["text"]
            for c in fake.calls_to("sendMessage", chat_id=world.court.id)[0:]
            if c.ok and "Poll closed" in c.params["text"] and fake.calls.index(c) >= mark
        ]
        assert len(said) == 2, said
        on_time = next(s for s in said if f"#P{poll.id}" in s)
        assert "a — 2 (67%)" in on_time and "b — 1 (33%)" in on_time
        assert "offline" not in on_time
        missed = next(s for s in said if f"#P{late.id}" in s)
        assert "while I was offline" in missed and "b — 1 (100%)" in missed
        final = world.fake.message(world.court, card.message_id)
        assert final is not None and buttons(final) == []
        rows = await world.services.db.fetchall(
            "SELECT status FROM scheduled WHERE kind = 'poll_close'"
        )
        assert sorted(r["status"] for r in rows) == ["done", "missed"]
    finally:
        await stop_app(app)


async def test_a_deleted_card_is_posted_again_and_keeps_working(world: World) -> None:
    await world.with_bot()
    poll, card = await new_poll(world, world.bob, "/poll Q | a | b")
    await world.bob.press(card, f"pl:v:{poll.id}:0")
    world.fake.delete_message(world.court, card.message_id)  # before the bot edits it
    await world.settle()
    moved = await reload(world, poll)
    assert moved.message_id is not None and moved.message_id != card.message_id
    again = world.fake.message(world.court, moved.message_id)
    assert again is not None and "a — 1 (100%)" in (again.text or "")
    replies = await world.do(world.carol.press(again, f"pl:v:{poll.id}:1"))
    assert replies.edits(world.court)[-1].params["message_id"] == moved.message_id
    assert "b — 1 (50%)" in card_text(world, moved)
    # a refresh still asked for the deleted card (a press read the old id just before the
    # card moved) skips it and refreshes the new one: no second copy is posted
    mark = world.fake.mark()
    assert await poll_handlers.render(world.services, poll.id, card.message_id) is None
    await world.settle()
    assert not [c for c in world.fake.calls[mark:] if c.method == "sendMessage"]
    assert len([m for m in world.fake.calls_to("sendMessage") if "Q" in m.params["text"]]) == 2


async def test_long_name_lists_are_collapsed_under_4096(world: World) -> None:
    await world.with_bot()
    poll, card = await new_poll(world, world.bob, "/poll Q | a | b | c")
    db, now = world.services.db, world.services.clock()
    for n in range(400):
        user_id = 10_000 + n
        await members.seen(db, world.court.id, user_id, f"Neighbour number {n} " + "Ж" * 12, now)
        await polls.vote(db, poll.id, world.court.id, user_id, n % 3, now)
    await world.do(world.bob.press(card, f"pl:v:{poll.id}:0"))
    text = card_text(world, poll)
    assert len(text) <= 4096
    assert "a — 135 (34%)" in text and "401 voters" in text
    assert "Neighbour number 0 " in text and "more" in text


async def test_emoji_names_are_counted_as_telegram_counts_them(world: World) -> None:
    """Telegram's 4096 is in UTF-16 units: a name with emoji counts more than its len()."""
    await world.with_bot()
    poll, card = await new_poll(world, world.bob, "/poll Q | a | b | c")
    db, now = world.services.db, world.services.clock()
    for n in range(400):
        user_id = 10_000 + n
        await members.seen(db, world.court.id, user_id, f"Сосед {n} " + "🌸" * 12, now)
        await polls.vote(db, poll.id, world.court.id, user_id, n % 3, now)
    await world.do(world.bob.press(card, f"pl:v:{poll.id}:0"))
    text = card_text(world, poll)  # the edit went through: the card shows the last vote
    assert "401 voters" in text and "a — 135 (34%)" in text and "more" in text
    assert utf16_len(text) <= 4096


async def test_an_option_with_html_characters(world: World) -> None:
    await world.with_bot()
    poll, card = await new_poll(world, world.bob, "/poll Film? | Tom & Jerry | <b>Up</b>")
    text = card_text(world, poll)  # the card is HTML: shown as typed, not as markup
    assert "Tom & Jerry — 0" in text and "<b>Up</b> — 0" in text
    replies = await world.do(world.bob.press(card, f"pl:v:{poll.id}:0"))
    assert replies.answer_text() == "Voted for “Tom & Jerry”."  # the toast is plain text
    replies = await world.do(world.bob.press(card, f"pl:v:{poll.id}:1"))
    assert replies.answer_text() == "Voted for “<b>Up</b>”."
    replies = await world.do(world.bob.send(world.court, f"/close P{poll.id}"))
    assert "Most votes: <b>&lt;b&gt;Up&lt;/b&gt;</b>" in replies.text(world.court)


async def test_a_burst_of_presses_becomes_a_few_edits_and_the_card_is_exact(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    config = Settings(token=TOKEN, db_path=tmp_path / "c.sqlite3", api_url=fake.base_url)
    app = build_app(config, limits=dataclasses.replace(FAST, edit_interval=0.5), poll_timeout=1)
    await app.initialize()
    assert app.post_init is not None and app.updater is not None
    await app.post_init(app)
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
    world = World(fake, app)
    try:
        people = [fake.user(f"P{n}") for n in range(30)]
        for person in people:
            await fake.join(world.court, person)
        await world.with_bot()
        poll, card = await new_poll(world, world.alice, "/poll Q | a | b | c")
        mark = fake.mark()
        for round_ in range(10):  # 300 presses: everyone moves their vote ten times
            for n, person in enumerate(people):
                await person.press(card, f"pl:v:{poll.id}:{(n + round_) % 3}", check=False)
        await world.settle(timeout=30)
        edits = [
            c
            for c in fake.calls[mark:]
            if c.method == "editMessageText" and c.params.get("message_id") == card.message_id
        ]
        answers = [c for c in fake.calls[mark:] if c.method == "answerCallbackQuery" and c.ok]
        assert len(answers) == 300
        assert 1 <= len(edits) <= 30, len(edits)
        # final: person n voted (n + 9) % 3 -> each option has 10 voters
        text = card_text(world, poll)
        assert "a — 10 (33%)" in text and "b — 10 (33%)" in text and "c — 10 (33%)" in text
        assert "30 voters" in text
    finally:
        await stop_app(app)


async def test_the_card_speaks_the_group_language(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings language ru"))
    poll, card = await new_poll(world, world.bob, "/poll Цвет ворот? | Зелёный | Синий")
    for person in (world.bob, world.carol):
        await world.do(person.press(card, f"pl:v:{poll.id}:0"))
    text = card_text(world, poll)
    assert "👥 2 человека проголосовали" in text and "Зелёный — 2 (100%)" in text
    assert "один ответ" in text
