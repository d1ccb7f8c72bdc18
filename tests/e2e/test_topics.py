"""Forum topics: in a forum supergroup the bot answers in the topic it was asked in — replies,
cards and what the cards cause — also when the asking message was deleted meanwhile; a topic
closed or deleted meanwhile gets the message in General instead, told once; a message in a
topic that replies to nothing is not taken for a reply to the topic's first message."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.domain.chats import Chat
from playground import Call, FakeChat, FakeTelegram
from storage import chats, decisions, polls, scheduled
from storage import events as store
from storage.db import to_db
from tests.e2e.conftest import World, start_app, stop_app
from tests.e2e.test_events import fire
from tests.e2e.test_events import make_due as make_event_due
from tests.e2e.test_reminders import eventually, fire_due, last_post, make_due

MOVED = "The topic this belongs in is closed or was deleted"


def sends(world: World, chat: FakeChat, since: int = 0) -> list[Call]:
    return [
        c
        for c in world.fake.calls[since:]
        if c.method in ("sendMessage", "sendDocument", "sendPhoto")
        and c.ok
        and str(c.params.get("chat_id")) == str(chat.id)
    ]


def thread(call: Call) -> Any:
    """The topic the sent message landed in (None: General)."""
    result = call.result
    assert isinstance(result, dict)
    return result.get("message_thread_id") if result.get("is_topic_message") else None


async def latest_poll(world: World) -> tuple[polls.Poll, int]:
    """The newest poll and its card's message id."""
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM polls")
    assert row is not None
    poll = await polls.get(world.services.db, row["id"])
    assert poll is not None and poll.message_id is not None
    return poll, poll.message_id


async def test_help_in_a_topic_is_answered_in_that_topic_and_in_general_in_general(
    world: World,
) -> None:
    forum = await world.forum("Events", "Repairs")
    events, repairs = forum.topic("Events"), forum.topic("Repairs")
    mark = world.fake.mark()
    await world.do(world.bob.send(forum, "/help", topic=events))
    await world.do(world.carol.send(forum, "/help", topic=repairs))
    await world.do(world.wang.send(forum, "/help"))
    answers = sends(world, forum, mark)
    where = [thread(c) for c in answers]
    assert where == sorted(where, key=[events.id, repairs.id, None].index)
    assert set(where) == {events.id, repairs.id, None}
    assert "What you can do" in str(answers[0].params["text"])
    in_events = {m.message_id for m in forum.in_topic(events)}
    assert {c.result["message_id"] for c in answers if thread(c) == events.id} <= in_events


async def test_a_poll_made_in_a_topic_is_posted_voted_and_closed_there(world: World) -> None:
    forum = await world.forum("Events")
    events = forum.topic("Events")
    mark = world.fake.mark()
    await world.do(world.bob.send(forum, "/poll Paint the gate? | Green | Blue", topic=events))
    poll, card_id = await latest_poll(world)
    card = world.fake.message(forum, card_id)
    assert card is not None and card.message_thread_id == events.id and card.is_topic_message
    await world.do(world.carol.press(card, f"pl:v:{poll.id}:0"))
    await world.do(world.bob.send(forum, f"/close P{poll.id}", topic=events))
    posted = sends(world, forum, mark)
    assert posted and all(thread(c) == events.id for c in posted), [
        (c.params.get("text"), thread(c)) for c in posted
    ]
    assert any("Green" in str(c.params.get("text")) for c in posted[1:])  # the results
    assert not forum.in_topic(None)[1:] or all(
        m.from_user is None or m.from_user.id != world.fake.bot_id
        for m in forum.in_topic(None)
        if m.message_id > card.message_id
    )


async def test_a_poll_closed_by_the_clock_posts_its_results_in_its_topic(world: World) -> None:
    forum = await world.forum("Events")
    events = forum.topic("Events")
    await world.do(world.bob.send(forum, "/poll Paint the gate? | Green | Blue", topic=events))
    poll, card_id = await latest_poll(world)
    mark = world.fake.mark()
    # the card was deleted: the results cannot reply to it, and still go to the topic
    world.fake.delete_message(forum, card_id)
    await world.do(world.bob.send(forum, f"/close P{poll.id}", topic=events))
    posted = sends(world, forum, mark)
    assert posted and all(thread(c) == events.id for c in posted)


async def test_an_answer_to_a_deleted_message_still_goes_to_its_topic(world: World) -> None:
    forum = await world.forum("Events")
    events = forum.topic("Events")
    asked = await world.bob.send(forum, "/help", topic=events)
    world.fake.delete_message(forum, asked.message_id)  # gone before the bot answers
    mark = world.fake.mark()
    await world.settle()
    answers = sends(world, forum, mark)
    assert answers and all(thread(c) == events.id for c in answers)


async def test_a_closed_topic_gets_its_answers_in_general_told_once(world: World) -> None:
    forum = await world.forum("Events")
    events = forum.topic("Events")
    await world.do(world.alice.send(forum, "/help", topic=events))
    world.fake.close_topic(forum, events, by=world.alice)
    await world.settle()
    mark = world.fake.mark()
    # a lead may still write in a closed topic; the bot (not managing topics) may not
    await world.do(world.alice.send(forum, "/help", topic=events))
    await world.do(world.alice.send(forum, "/help", topic=events))
    answers = sends(world, forum, mark)
    assert answers and all(thread(c) is None for c in answers)
    texts = [str(c.params["text"]) for c in answers]
    assert texts[0].startswith("ℹ️ " + MOVED)
    assert sum(MOVED in text for text in texts) == 1  # told once
    assert sum("What you can do" in text for text in texts) == 2  # nothing lost
    refused = [
        c
        for c in world.fake.calls[mark:]
        if c.method == "sendMessage" and not c.ok and "TOPIC_CLOSED" in (c.description or "")
    ]
    # each message tried its topic first (it may have been reopened meanwhile)
    assert len(refused) == len(answers)
    world.fake.reopen_topic(forum, events, by=world.alice)
    mark = world.fake.mark()
    await world.do(world.alice.send(forum, "/help", topic=events))
    assert {thread(c) for c in sends(world, forum, mark)} == {events.id}


async def test_a_card_in_a_deleted_topic_is_posted_in_general_with_the_note(
    world: World,
) -> None:
    forum = await world.forum("Events")
    events = forum.topic("Events")
    await world.do(world.bob.send(forum, "/poll Paint the gate? | Green | Blue", topic=events))
    poll, card_id = await latest_poll(world)
    card = world.fake.message(forum, card_id)
    assert card is not None
    world.fake.delete_topic(forum, events, by=world.alice)
    mark = world.fake.mark()
    # the poll's owner closes it from General: the results go where the card is... gone
    await world.do(world.bob.send(forum, f"/close P{poll.id}"))
    posted = sends(world, forum, mark)
    assert posted and all(thread(c) is None for c in posted)
    assert any("Green" in str(c.params.get("text")) for c in posted)


async def test_a_message_in_a_topic_is_not_a_reply_to_the_topics_first_message(
    world: World,
) -> None:
    """Telegram sets reply_to_message to the topic's creation on every message in a topic: a
    /grant organizer there, replying to no one, must not make the topic's creator organizer
    (here Alice, a lead: it would say she already is one)."""
    forum = await world.forum("Events")
    events = forum.topic("Events")
    mark = world.fake.mark()
    await world.do(world.alice.send(forum, "/grant organizer", topic=events))
    answers = sends(world, forum, mark)
    assert len(answers) == 1 and thread(answers[0]) == events.id
    text = str(answers[0].params["text"])
    assert "Reply to" in text or "reply to" in text, text
    # a real reply still names the person replied to
    asked = await world.bob.send(forum, "I can help with the party", topic=events)
    mark = world.fake.mark()
    await world.do(world.alice.send(forum, "/grant organizer", reply_to=asked))
    answers = sends(world, forum, mark)
    assert len(answers) == 1 and thread(answers[0]) == events.id
    assert "Bob" in str(answers[0].params["text"])


async def fire_and_wait(world: World, post_id: int, *, times: int) -> None:
    """Fire the post's due occurrence; wait until it has fired ``times`` times in all."""
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()

    async def fired() -> bool:
        row = await world.services.db.fetchone(
            "SELECT count(*) AS n FROM scheduled WHERE kind = 'post' AND ref_id = ?"
            " AND status IN ('done', 'missed')",
            (post_id,),
        )
        return bool(row and row["n"] >= times)

    await eventually(fired)
    await world.services.outbox.idle()
    await world.settle()


async def test_a_reminder_set_in_a_topic_fires_there(world: World) -> None:
    forum = await world.forum("Repairs", "Events")
    repairs = forum.topic("Repairs")
    replies = await world.do(
        world.alice.send(forum, "/remind tomorrow 9:00 | water off 10-12", topic=repairs)
    )
    assert all(thread(c) == repairs.id for c in replies.sent(forum))
    post = await last_post(world)
    assert post.thread_id == repairs.id
    mark = world.fake.mark()
    await make_due(world, post.id)
    await fire_due(world, forum.id, expect="water off 10-12")
    fired = sends(world, forum, mark)
    assert len(fired) == 1 and thread(fired[0]) == repairs.id
    assert "water off" in str(fired[0].params["text"])


async def test_a_weekly_announcement_whose_topic_was_closed_goes_to_general_told_once(
    world: World,
) -> None:
    forum = await world.forum("Notices")
    notices = forum.topic("Notices")
    await world.do(
        world.alice.send(forum, "/announce every monday 9:00 | Bins go out tonight", topic=notices)
    )
    post = await last_post(world)
    world.fake.close_topic(forum, notices, by=world.alice)
    await world.settle()
    texts = []
    for week in (1, 2):
        mark = world.fake.mark()
        await make_due(world, post.id)
        await fire_and_wait(world, post.id, times=week)
        fired = sends(world, forum, mark)
        assert len(fired) == 1 and thread(fired[0]) is None  # in General, not lost
        texts.append(str(fired[0].params["text"]))
    assert "Bins go out tonight" in texts[0] and "Bins go out tonight" in texts[1]
    assert MOVED in texts[0] and MOVED not in texts[1]  # told once, not every week


async def test_a_poll_closed_by_the_clock_after_its_card_was_deleted_posts_in_its_topic(
    world: World,
) -> None:
    forum = await world.forum("Events")
    events = forum.topic("Events")
    await world.do(
        world.bob.send(
            forum, "/poll Paint the gate? | Green | Blue | closes in 2 hours", topic=events
        )
    )
    poll, card_id = await latest_poll(world)
    assert poll.thread_id == events.id
    world.fake.delete_message(forum, card_id)  # the results can reply to nothing
    due = to_db(world.services.clock())
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ?, due_at = ? WHERE kind = 'poll_close' AND ref_id = ?",
            (due, due, poll.id),
        )
    mark = world.fake.mark()
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()

    async def closed() -> bool:
        row = await polls.get(world.services.db, poll.id)
        return row is not None and not row.is_open and bool(sends(world, forum, mark))

    await eventually(closed)
    await world.services.outbox.idle()
    posted = sends(world, forum, mark)
    assert posted and all(thread(c) == events.id for c in posted), [
        (c.method, thread(c), str(c.params.get("text"))[:80]) for c in posted
    ]
    assert any("Green" in str(c.params.get("text")) for c in posted)


async def test_a_decision_opened_in_a_topic_announces_its_outcome_there(world: World) -> None:
    """Closed from General by a lead, the outcome still goes to the decision's topic."""
    forum = await world.forum("Votes")
    votes = forum.topic("Votes")
    for label in ("2-101", "2-102"):
        await world.do(world.alice.send(forum, f"/units add {label} 60"))
    await world.do(
        world.alice.send(forum, "/decide Bike shed | rule=majority | closes=in 7 days", topic=votes)
    )
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM decisions")
    assert row is not None and row["id"] is not None
    decision = await decisions.get(world.services.db, row["id"])
    assert decision is not None and decision.thread_id == votes.id
    assert decision.message_id is not None
    card = world.fake.message(forum, decision.message_id)
    assert card is not None and card.message_thread_id == votes.id
    mark = world.fake.mark()
    await world.do(world.alice.send(forum, f"/close D{decision.id}"))  # from General
    await world.services.outbox.idle()
    posted = [c for c in sends(world, forum, mark) if c.method == "sendMessage"]
    outcome = [c for c in posted if "Bike shed" in str(c.params["text"])]
    assert outcome and all(thread(c) == votes.id for c in outcome), [
        (thread(c), str(c.params["text"])[:60]) for c in posted
    ]


async def test_an_event_made_in_a_topic_reminds_and_promotes_there(world: World) -> None:
    """Its card, the waitlist's promotion (a press in the topic) and the reminder (the clock)."""
    forum = await world.forum("Events")
    events = forum.topic("Events")
    await world.do(
        world.alice.send(forum, "/event Yard cleanup | in 3 days 10:00 | Yard | 1", topic=events)
    )
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM events")
    assert row is not None and row["id"] is not None
    event = await store.get(world.services.db, row["id"])
    assert event is not None and event.thread_id == events.id and event.message_id is not None
    card = world.fake.message(forum, event.message_id)
    assert card is not None and card.message_thread_id == events.id
    await world.do(world.bob.press(card, f"ev:g:{event.id}"))
    await world.do(world.carol.press(card, f"ev:g:{event.id}"))  # waitlisted
    mark = world.fake.mark()
    await world.do(world.bob.press(card, f"ev:x:{event.id}"))  # Кэрол is promoted, by mention
    promoted = [
        c
        for c in sends(world, forum, mark)
        if f"tg://user?id={world.carol.id}" in str(c.params.get("text"))
    ]
    assert promoted and all(thread(c) == events.id for c in promoted)

    pending = await scheduled.pending_for(world.services.db, store.EVENT_REMINDER, event.id)
    assert pending is not None
    mark = world.fake.mark()
    await make_event_due(world, store.EVENT_REMINDER, event.id)
    await fire(world)
    call = await world.fake.wait_for("sendMessage", since=mark, chat_id=forum.id)
    assert f"tg://user?id={world.carol.id}" in str(call.params["text"])
    assert thread(call) == events.id


async def test_the_calendar_file_asked_in_a_topic_comes_in_that_topic(world: World) -> None:
    forum = await world.forum("Events")
    events = forum.topic("Events")
    await world.do(
        world.alice.send(forum, "/event Yard cleanup | in 3 days 10:00 | Yard", topic=events)
    )
    mark = world.fake.mark()
    await world.do(world.bob.send(forum, "/calendar", topic=events))
    files = [c for c in sends(world, forum, mark) if c.method == "sendDocument"]
    assert len(files) == 1 and thread(files[0]) == events.id


async def test_leads_choose_the_topics_of_announcements_and_the_digest(world: World) -> None:
    forum = await world.forum("Notices", "Chat")
    notices, chat = forum.topic("Notices"), forum.topic("Chat")
    # a resident may not; a plain group has no topics; nonsense is explained
    replies = await world.do(world.bob.send(forum, "/settings topic digest here", topic=notices))
    assert replies.sent(forum) and "will be posted" not in replies.text(forum)
    assert all(thread(c) == notices.id for c in replies.sent(forum))  # refused in the topic too
    assert (await chats_get(world, forum.id)).settings.digest_topic is None
    await world.with_bot()
    replies = await world.do(world.alice.send(world.court, "/settings topic digest here"))
    assert "no topics" in replies.text(world.court)
    replies = await world.do(world.alice.send(forum, "/settings topic polls here", topic=notices))
    assert "/settings topic announcements here" in replies.text(forum)

    replies = await world.do(
        world.alice.send(forum, "/settings topic announcements here", topic=notices)
    )
    assert "announcements will be posted in this topic" in replies.text(forum)
    assert all(thread(c) == notices.id for c in replies.sent(forum))
    await world.do(world.alice.send(forum, "/settings topic digest here", topic=notices))
    settings = (await chats_get(world, forum.id)).settings
    assert (settings.announcements_topic, settings.digest_topic) == (notices.id, notices.id)

    # an announcement written in another topic goes to the announcements' topic
    await world.do(
        world.alice.send(forum, "/announce every monday 9:00 | Bins go out tonight", topic=chat)
    )
    post = await last_post(world)
    mark = world.fake.mark()
    await make_due(world, post.id)
    await fire_and_wait(world, post.id, times=1)
    fired = sends(world, forum, mark)
    assert len(fired) == 1 and thread(fired[0]) == notices.id

    # the digest, with that announcement in it, too
    await world.do(world.alice.send(forum, "/settings digest every sunday 18:00"))
    due = to_db(world.services.clock())
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ? WHERE kind = 'digest' AND status = 'pending'",
            (due,),
        )
    mark = world.fake.mark()
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()
    call = await world.fake.wait_for("sendMessage", since=mark, chat_id=forum.id)
    assert "Bins go out tonight" in str(call.params["text"]) and thread(call) == notices.id

    # back to General
    replies = await world.do(world.alice.send(forum, "/settings topic digest general", topic=chat))
    assert "posted in General" in replies.text(forum)
    assert (await chats_get(world, forum.id)).settings.digest_topic is None


async def chats_get(world: World, chat_id: int) -> Chat:
    found = await chats.get(world.services.db, chat_id)
    assert found is not None
    return found


async def test_a_bot_that_manages_topics_still_answers_in_a_closed_one(world: World) -> None:
    """As on Telegram: an administrator with "Manage topics" may write in a closed topic."""
    forum = await world.forum("Events", admin=True)
    forum.bot_rights["can_manage_topics"] = True
    events = forum.topic("Events")
    world.fake.close_topic(forum, events, by=world.alice)
    await world.settle()
    mark = world.fake.mark()
    await world.do(world.alice.send(forum, "/help", topic=events))
    answers = sends(world, forum, mark)
    assert answers and all(thread(c) == events.id for c in answers)
    assert not any(MOVED in str(c.params.get("text")) for c in answers)


async def test_the_panel_in_a_topic_sends_announcements_and_the_digest_there(
    world: World,
) -> None:
    forum = await world.forum("Notices")
    notices = forum.topic("Notices")
    replies = await world.do(world.alice.send(forum, "/settings", topic=notices))
    [panel_call] = replies.sent(forum)
    assert thread(panel_call) == notices.id
    assert "Topics: announcements — where written; digest — General" in str(
        panel_call.params["text"]
    )
    panel = world.fake.message(forum, panel_call.result["message_id"])
    assert panel is not None
    replies = await world.do(world.bob.press(panel, "st:n"))  # a resident: refused
    assert (await chats_get(world, forum.id)).settings.announcements_topic is None
    await world.do(world.alice.press(panel, "st:n"))
    await world.do(world.alice.press(panel, "st:g"))
    settings = (await chats_get(world, forum.id)).settings
    assert (settings.announcements_topic, settings.digest_topic) == (notices.id, notices.id)
    await world.services.outbox.idle()
    shown = world.fake.message(forum, panel.message_id)
    assert shown is not None and shown.text is not None
    assert "announcements — this topic; digest — this topic" in shown.text
    await world.do(world.alice.press(panel, "st:g"))  # pressed again: back to General
    assert (await chats_get(world, forum.id)).settings.digest_topic is None
    # the panel in General, or of a group without topics, has no such buttons
    replies = await world.do(world.alice.send(forum, "/settings"))
    [general] = replies.sent(forum)
    assert "st:n" not in str(general.params.get("reply_markup"))
    await world.with_bot()
    replies = await world.do(world.alice.send(world.court, "/settings"))
    assert "Topics:" not in replies.text(world.court)
    court_panel = world.fake.last_bot_message(world.court)
    assert court_panel is not None
    await world.do(world.alice.press(court_panel, "st:n", check=False))  # forged
    court = await chats_get(world, world.court.id)
    assert court.settings.announcements_topic is None


async def test_a_topic_is_followed_only_by_the_task_that_handles_its_update(
    world: World,
) -> None:
    """A context is copied into whatever a handler schedules (APScheduler's timer: the jobs
    fired later run in it), so the topic is bound to the handling task, not to the context."""
    from bot.outbox import TOPIC, Topic

    outbox = world.services.outbox
    TOPIC.set(Topic(world.court.id, 42, None, asyncio.current_task()))
    try:
        assert outbox._where(world.court.id, None, None).thread == 42  # the handler's own send
        assert outbox._where(-1, None, None).thread is None  # another chat
        later = asyncio.get_running_loop().create_task(_where_thread(world, world.court.id))
        assert await later is None  # a callback scheduled from the handler's context
    finally:
        TOPIC.set(None)


async def _where_thread(world: World, chat_id: int) -> int | None:
    return world.services.outbox._where(chat_id, None, None).thread


async def test_a_deleted_card_is_posted_again_in_its_topic_after_a_restart(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """The new process knows nothing of what the old one sent: the topic comes from the row."""
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    forum = await world.forum("Events")
    events = forum.topic("Events")
    await world.do(world.bob.send(forum, "/poll Paint the gate? | Green | Blue", topic=events))
    poll, card_id = await latest_poll(world)
    await stop_app(app)
    world.app = app = await start_app(fake, db_path)
    try:
        await world.settle()
        fake.delete_message(forum, card_id)
        await world.do(world.bob.send(forum, f"/close P{poll.id}"))  # from General
        await world.services.outbox.idle()
        await world.settle()
        _, new_id = await latest_poll(world)
        assert new_id != card_id
        again = fake.message(forum, new_id)
        assert again is not None and again.message_thread_id == events.id, again
    finally:
        await stop_app(app)
