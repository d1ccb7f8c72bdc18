"""World events become the updates Telegram would send; the records follow the chat state."""

from __future__ import annotations

import asyncio
import datetime as dtm

import pytest
from telegram import (
    Bot,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import Conflict

from playground import FakeTelegram

from ._support import People, make_bot


async def drain(bot: Bot, **kwargs: object) -> tuple[Update, ...]:
    """Fetch pending updates and confirm them."""
    updates = await bot.get_updates(timeout=0, **kwargs)  # type: ignore[arg-type]
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return updates


async def test_add_and_remove_bot(fake: FakeTelegram, bot: Bot) -> None:
    alice, bob = fake.user("Alice"), fake.user("Bob")
    court = fake.group("Maple Court", admins=[alice], members=[bob])
    with pytest.raises(ValueError, match="not a member"):
        await fake.user("Eve").send(court, "hi")
    await bob.send(court, "/help")  # the bot is not there yet: nothing for it
    assert fake.updates_pending == 0

    await fake.add_bot(court, by=alice)
    added = await drain(bot)
    assert [u.update_id for u in added] == [1, 2]
    change = added[0].my_chat_member
    assert change is not None and change.from_user.id == alice.id
    assert isinstance(change.old_chat_member, ChatMemberLeft)
    assert isinstance(change.new_chat_member, ChatMemberMember)
    assert change.new_chat_member.user.id == fake.bot_id
    service = added[1].message
    assert service is not None and service.from_user is not None
    assert service.from_user.id == alice.id
    assert [u.id for u in service.new_chat_members] == [fake.bot_id]

    await fake.remove_bot(court, by=alice, kicked=True)
    removed = await drain(bot)
    change = removed[0].my_chat_member
    assert change is not None and isinstance(change.new_chat_member, ChatMemberBanned)
    assert removed[1].message is not None
    assert removed[1].message.left_chat_member is not None
    assert removed[1].message.left_chat_member.id == fake.bot_id

    await bob.send(court, "/help")
    assert fake.updates_pending == 0
    await fake.add_bot(court, by=alice)
    await fake.remove_bot(court, by=alice, kicked=False)
    left = await drain(bot)
    last_change = left[2].my_chat_member
    assert last_change is not None and isinstance(last_change.new_chat_member, ChatMemberLeft)


async def test_block_and_unblock_send_my_chat_member(fake: FakeTelegram, bot: Bot) -> None:
    bob = fake.user("Bob")
    await bob.send(bob.private, "/start")
    bob.block_bot()
    bob.unblock_bot()
    bob.block_bot()
    await bob.send(bob.private, "/start")  # writing again unblocks, as on Telegram
    updates = await drain(bot)
    kinds = [
        (u.my_chat_member.old_chat_member.status, u.my_chat_member.new_chat_member.status)
        if u.my_chat_member
        else u.message.text
        if u.message
        else None
        for u in updates
    ]
    assert kinds == [
        "/start",
        ("member", "kicked"),
        ("kicked", "member"),
        ("member", "kicked"),
        ("kicked", "member"),
        "/start",
    ]
    assert updates[1].my_chat_member is not None
    assert updates[1].my_chat_member.chat.type == "private"


async def test_service_messages(fake: FakeTelegram, bot: Bot, people: People) -> None:
    dave = fake.user("Dave", username="dave")
    await fake.set_title(people.court, "Maple Court 2", by=people.alice)
    await fake.join(people.court, dave)
    await fake.leave(people.court, dave)
    await fake.join(people.court, dave, by=people.bob)
    await fake.leave(people.court, dave, by=people.alice, kicked=True)
    updates = await drain(bot)
    messages = [u.message for u in updates if u.message]
    assert messages[0].new_chat_title == "Maple Court 2"
    assert messages[1].new_chat_members[0].id == dave.id
    assert messages[1].from_user is not None and messages[1].from_user.id == dave.id
    assert messages[2].left_chat_member is not None
    assert messages[3].from_user is not None and messages[3].from_user.id == people.bob.id
    assert people.court.title == "Maple Court 2"
    assert people.court.status_of(dave.id) == "kicked"
    chat = await bot.get_chat(people.court.id)
    assert chat.title == "Maple Court 2"


async def test_upgrade_emits_the_pair_of_migrate_messages(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    old = people.court
    await people.bob.send(old, "/help")
    new = await fake.upgrade_to_supergroup(old, by=people.alice)
    updates = await drain(bot)
    to_msg, from_msg = updates[1].message, updates[2].message
    assert to_msg is not None and from_msg is not None
    assert (to_msg.chat.id, to_msg.migrate_to_chat_id) == (old.id, new.id)
    assert (from_msg.chat.id, from_msg.migrate_from_chat_id) == (new.id, old.id)
    assert from_msg.chat.type == "supergroup"
    assert new.title == "Maple Court"
    assert new.status_of(people.alice.id) == "creator"
    assert [p.id for p in new.member_users] == [p.id for p in old.member_users]
    with pytest.raises(ValueError, match="upgraded"):
        await people.bob.send(old, "/help")
    await people.bob.send(new, "/help")
    assert fake.updates_pending == 1


async def test_privacy_mode() -> None:
    for privacy in (True, False):
        async with FakeTelegram(privacy_mode=privacy) as fake, make_bot(fake) as client:
            alice, bob = fake.user("Alice"), fake.user("Bob")
            court = fake.group("Maple Court", admins=[alice], members=[bob], with_bot=True)
            await bob.send(court, "just chatting")
            await bob.send(court, "/help")
            await bob.send(court, "/help@other_bot")
            menu = await client.send_message(court.id, "Reply to me")
            await bob.send(court, "an answer", reply_to=menu)
            texts = [u.message.text for u in await drain(client) if u.message]
            if privacy:
                assert texts == ["/help", "an answer"]
            else:
                assert texts == [
                    "just chatting",
                    "/help",
                    "/help@other_bot",
                    "an answer",
                ]
            me = await client.get_me()
            assert me.can_read_all_group_messages is (not privacy)


async def test_allowed_updates_and_offsets(fake: FakeTelegram, bot: Bot, people: People) -> None:
    await people.alice.send(people.court, "/one")
    await fake.add_bot(fake.group("Other", admins=[people.alice]), by=people.alice)
    only_messages = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert [u.message.text for u in only_messages if u.message] == ["/one", None]
    assert all(u.my_chat_member is None for u in only_messages)

    for n in range(4):
        await people.alice.send(people.court, f"/n{n}")
    last_two = await bot.get_updates(offset=-2, timeout=0)
    assert [u.message.text for u in last_two if u.message] == ["/n2", "/n3"]
    assert fake.updates_pending == 2
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert fake.updates_pending == 0
    assert await bot.get_updates(timeout=0) == ()


async def test_concurrent_poll_is_terminated_and_webhook_blocks_polling(
    fake: FakeTelegram, bot: Bot
) -> None:
    async with make_bot(fake) as other:
        first = asyncio.create_task(bot.get_updates(timeout=3))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(other.get_updates(timeout=dtm.timedelta(seconds=0.2)))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first
        assert await second == ()
    await bot.set_webhook("https://example.org/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


async def test_records_follow_the_chat(fake: FakeTelegram, bot: Bot, people: People) -> None:
    court = people.court
    assert fake.last_bot_message(court) is None
    one = await bot.send_message(court.id, "one")
    two = await bot.send_message(court.id, "two")
    question = await people.bob.send(court, "/ask why?", reply_to=two)
    assert question.reply_to_message is not None
    assert question.reply_to_message.text == "two"
    await bot.edit_message_text("two (edited)", chat_id=court.id, message_id=two.message_id)
    assert [m.text for m in court.bot_messages] == ["one", "two (edited)"]
    last = fake.last_bot_message(court)
    assert last is not None and last.text == "two (edited)"
    fake.delete_message(court, two.message_id)
    assert [m.message_id for m in court.bot_messages] == [one.message_id]
    user_message = fake.message(court, question.message_id)
    assert user_message is not None and user_message.text == "/ask why?"
    assert [m.message_id for m in court.history] == [one.message_id, question.message_id]
    edited = await people.bob.edit(question, "/ask why not?")
    assert edited.edit_date is not None
    (update,) = [u for u in await drain(bot) if u.edited_message]
    assert update.edited_message is not None
    assert update.edited_message.text == "/ask why not?"

    menu = await bot.send_message(
        court.id,
        "Vote",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="v:y")]]),
    )
    sent = fake.calls_to("sendMessage", text="Vote")[0]
    query = await people.carol.press(sent.result, "v:y")  # the JSON result works too
    assert query.message is not None and query.message.message_id == menu.message_id
    await fake.wait_until(lambda: fake.updates_pending == 1, timeout=1)

    assert len(fake.calls_to("sendMessage", chat_id=court.id)) == 3
    assert len(fake.calls_to("sendMessage", chat_id=str(court.id), text="one")) == 1
    assert fake.calls_to("sendMessage", text=lambda t: t.startswith("t"))[0].result["text"] == "two"
