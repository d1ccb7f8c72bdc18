"""Forum supergroups as Telegram runs them: topics, the General topic, ``message_thread_id`` and
``is_topic_message`` on what is written in a topic, and Telegram's refusals of a closed or
deleted topic."""

from __future__ import annotations

import pytest
from telegram import Bot, ReplyParameters
from telegram.error import BadRequest

from playground import FakeChat, FakeTelegram, FakeUser
from playground.world import FakeTopic

from .test_fake_world import drain


@pytest.fixture
def cast(fake: FakeTelegram) -> tuple[FakeUser, FakeUser, FakeChat, FakeTopic]:
    alice = fake.user("Alice", username="alice")
    bob = fake.user("Bob")
    forum = fake.forum("Maple Court", admins=[alice], members=[bob], bot_admin=True)
    events = fake.create_topic(forum, "Events", by=alice)
    return alice, bob, forum, events


async def test_a_forum_and_its_topics_look_as_on_telegram(
    fake: FakeTelegram, bot: Bot, cast: tuple[FakeUser, FakeUser, FakeChat, FakeTopic]
) -> None:
    alice, bob, forum, events = cast  # noqa: RUF059
    created = fake.message(forum, events.id)
    assert created is not None and created.forum_topic_created is not None
    assert created.forum_topic_created.name == "Events"
    assert created.message_thread_id == events.id and created.is_topic_message

    in_topic = await bob.send(forum, "/help", topic=events)
    in_general = await bob.send(forum, "/help")
    updates = await drain(bot)
    messages = [u.message for u in updates if u.message and u.message.text == "/help"]
    assert [m.message_thread_id for m in messages] == [events.id, None]
    assert messages[0].is_topic_message and not messages[1].is_topic_message
    assert messages[0].chat.is_forum
    # as on Telegram: a message in a topic that is not a reply "replies" to the topic's start
    assert messages[0].reply_to_message is not None
    assert messages[0].reply_to_message.message_id == events.id
    assert [m.message_id for m in forum.in_topic("Events")] == [events.id, in_topic.message_id]
    assert in_general.message_id in [m.message_id for m in forum.in_topic(None)]


async def test_the_bot_posts_in_a_topic_by_thread_id_or_by_replying(
    fake: FakeTelegram, bot: Bot, cast: tuple[FakeUser, FakeUser, FakeChat, FakeTopic]
) -> None:
    alice, bob, forum, events = cast  # noqa: RUF059
    asked = await bob.send(forum, "/help", topic=events)
    by_id = await bot.send_message(forum.id, "here", message_thread_id=events.id)
    by_reply = await bot.send_message(
        forum.id, "also here", reply_parameters=ReplyParameters(asked.message_id)
    )
    general = await bot.send_message(forum.id, "General")
    general_by_one = await bot.send_message(forum.id, "General too", message_thread_id=1)
    assert (by_id.message_thread_id, by_id.is_topic_message) == (events.id, True)
    assert (by_reply.message_thread_id, by_reply.is_topic_message) == (events.id, True)
    assert by_reply.reply_to_message is not None
    assert by_reply.reply_to_message.message_id == asked.message_id
    assert general.message_thread_id is None and general_by_one.message_thread_id is None
    doc = await bot.send_document(
        forum.id, b"BEGIN:VCALENDAR", filename="x.ics", message_thread_id=events.id
    )
    assert doc.message_thread_id == events.id
    # edits keep the message where it is
    await bot.edit_message_text("here, edited", forum.id, by_id.message_id)
    shown = fake.message(forum, by_id.message_id)
    assert shown is not None and shown.text == "here, edited"
    assert (shown.message_thread_id, shown.is_topic_message) == (events.id, True)


async def test_a_closed_topic_refuses_the_bot_unless_it_manages_topics(
    fake: FakeTelegram, bot: Bot, cast: tuple[FakeUser, FakeUser, FakeChat, FakeTopic]
) -> None:
    alice, bob, forum, events = cast
    asked = await bob.send(forum, "/help", topic=events)
    fake.close_topic(forum, events, by=alice)
    with pytest.raises(ValueError, match="closed"):
        await bob.send(forum, "still?", topic=events)
    await alice.send(forum, "admins may", topic=events)
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_CLOSED"):
        await bot.send_message(forum.id, "answer", message_thread_id=events.id)
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_CLOSED"):  # a reply lands in that topic too
        await bot.send_message(
            forum.id, "answer", reply_parameters=ReplyParameters(asked.message_id)
        )
    assert fake.api_calls[-1].description == "Bad Request: TOPIC_CLOSED"
    forum.bot_rights["can_manage_topics"] = True
    sent = await bot.send_message(
        forum.id, "an admin who manages topics", message_thread_id=events.id
    )
    assert sent.message_thread_id == events.id
    fake.reopen_topic(forum, events, by=alice)
    await bob.send(forum, "open again", topic=events)


async def test_a_deleted_topic_is_a_thread_not_found(
    fake: FakeTelegram, bot: Bot, cast: tuple[FakeUser, FakeUser, FakeChat, FakeTopic]
) -> None:
    alice, bob, forum, events = cast
    asked = await bob.send(forum, "/help", topic=events)
    fake.delete_topic(forum, events, by=alice)
    assert fake.message(forum, asked.message_id) is None
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(forum.id, "answer", message_thread_id=events.id)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(forum.id, "nowhere", message_thread_id=99_999)
    # a reply to the deleted message, allowed without it, goes to General
    sent = await bot.send_message(
        forum.id,
        "answer",
        reply_parameters=ReplyParameters(asked.message_id, allow_sending_without_reply=True),
    )
    assert sent.message_thread_id is None


async def test_topics_only_in_forums_and_the_bot_needs_rights_to_manage_them(
    fake: FakeTelegram, bot: Bot, cast: tuple[FakeUser, FakeUser, FakeChat, FakeTopic]
) -> None:
    alice, bob, forum, events = cast  # noqa: RUF059
    plain = fake.group("Plain", admins=[alice], supergroup=True, with_bot=True)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(plain.id, "x", message_thread_id=12345)
    with pytest.raises(ValueError, match="not a forum"):
        await alice.send(plain, "x", topic=1)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to create a topic"):
        await bot.create_forum_topic(forum.id, "Repairs")
    with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
        await bot.close_forum_topic(forum.id, events.id)
    forum.bot_rights["can_manage_topics"] = True
    repairs = await bot.create_forum_topic(forum.id, "Repairs")
    assert repairs.name == "Repairs" and repairs.message_thread_id in forum.topics
    assert await bot.close_forum_topic(forum.id, repairs.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(forum.id, repairs.message_thread_id)
    assert await bot.reopen_forum_topic(forum.id, repairs.message_thread_id)
    assert await bot.delete_forum_topic(forum.id, repairs.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(forum.id, "x", message_thread_id=repairs.message_thread_id)
    kinds = [
        next(
            k
            for k in ("forum_topic_created", "forum_topic_closed", "forum_topic_reopened")
            if getattr(u.message, k, None) is not None
        )
        for u in await drain(bot)
        if u.message
        and (
            u.message.forum_topic_created
            or u.message.forum_topic_closed
            or u.message.forum_topic_reopened
        )
    ]
    assert kinds[-3:] == ["forum_topic_created", "forum_topic_closed", "forum_topic_reopened"]
