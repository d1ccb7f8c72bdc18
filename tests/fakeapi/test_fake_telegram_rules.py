"""Rules of Telegram the fake keeps, so the bot's tests see what production will:
the 48-hour delete rule, message ids after a group becomes a supergroup, and who the bot may
write to in private."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden

from playground import FakeTelegram

from ._support import People
from .test_fake_world import drain

TOO_OLD = "Message can't be deleted for everyone"


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(data, callback_data=data)]])


# ---------------------------------------------------------------------- the 48-hour delete rule


async def test_the_bots_own_message_cannot_be_deleted_after_48_hours(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    court = people.court
    young = await bot.send_message(court.id, "card, young")
    old = await bot.send_message(court.id, "card, old")
    fake.advance(hours=47, minutes=59)
    assert await bot.delete_message(court.id, young.message_id)
    fake.advance(minutes=1)
    with pytest.raises(BadRequest, match=TOO_OLD):
        await bot.delete_message(court.id, old.message_id)
    assert fake.message(court, old.message_id) is not None
    call = fake.api_calls[-1]
    assert (call.error_code, call.description) == (
        400,
        "Bad Request: message can't be deleted for everyone",
    )
    # a message sent after the clock moved is young again
    fresh = await bot.send_message(court.id, "card, fresh")
    assert await bot.delete_message(court.id, fresh.message_id)


async def test_members_messages_need_rights_and_are_refused_after_48_hours(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    court = people.court
    said = await people.bob.send(court, "/unit 1-01")
    with pytest.raises(BadRequest, match=r"Message can't be deleted$"):
        await bot.delete_message(court.id, said.message_id)  # not an admin
    await fake.promote_bot(court, by=people.alice)
    fake.advance(days=2)
    with pytest.raises(BadRequest, match=TOO_OLD):
        await bot.delete_message(court.id, said.message_id)  # admin, but a basic group
    young = await people.bob.send(court, "/unit 1-02")
    assert await bot.delete_message(court.id, young.message_id)


async def test_private_chat_messages_follow_the_48_hour_rule(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    bob = people.bob
    said = await bob.send(bob.private, "/start")
    answer = await bot.send_message(bob.id, "Welcome")
    fake.advance(hours=49)
    for message_id in (said.message_id, answer.message_id):
        with pytest.raises(BadRequest, match=TOO_OLD):
            await bot.delete_message(bob.id, message_id)


async def test_a_supergroup_admin_with_delete_rights_deletes_old_messages(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    new = await fake.upgrade_to_supergroup(people.court, by=people.alice)
    card = await bot.send_message(new.id, "card")
    said = await people.bob.send(new, "/help")
    fake.advance(hours=72)
    with pytest.raises(BadRequest, match=TOO_OLD):
        await bot.delete_message(new.id, card.message_id)  # a member only
    await fake.promote_bot(new, by=people.alice)
    assert await bot.delete_message(new.id, card.message_id)
    assert await bot.delete_message(new.id, said.message_id)
    new.bot_rights["can_delete_messages"] = False
    late = await bot.send_message(new.id, "another card")
    fake.advance(hours=48)
    with pytest.raises(BadRequest, match=TOO_OLD):
        await bot.delete_message(new.id, late.message_id)


async def test_delete_messages_skips_what_is_too_old(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    court = people.court
    old = await bot.send_message(court.id, "old")
    fake.advance(hours=48)
    young = await bot.send_message(court.id, "young")
    assert await bot.delete_messages(court.id, [old.message_id, young.message_id])
    assert fake.message(court, old.message_id) is not None
    assert fake.message(court, young.message_id) is None


async def test_message_dates_and_callback_deadlines_follow_the_worlds_time(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    before = fake.now()
    fake.advance(days=3)
    card = await bot.send_message(people.court.id, "card", reply_markup=keyboard("pv:v:1:0"))
    assert card.date.timestamp() >= before + 3 * 86400
    query = await people.bob.press(card, "pv:v:1:0")
    fake.advance(seconds=16)  # Telegram waits about 15 s for an answer
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(ValueError, match="forward"):
        fake.advance(-1)


async def test_a_given_clock_is_the_worlds_time() -> None:
    moments = [1_900_000_000.0]
    async with FakeTelegram(clock=lambda: moments[0]) as fake:
        alice = fake.user("Alice")
        court = fake.group("Maple Court", admins=[alice], with_bot=True)
        said = await alice.send(court, "/help")
        assert said.date.timestamp() == 1_900_000_000
        moments[0] += 48 * 3600
        assert fake.now() == 1_900_000_000 + 48 * 3600
        assert fake.deletion_refused(court, court.messages[said.message_id]) is not None


# ---------------------------------------------------------------------- groups that migrate


async def test_a_supergroup_numbers_its_messages_afresh(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    old = people.court
    cards = [await bot.send_message(old.id, f"old card {n}") for n in range(3)]
    new = await fake.upgrade_to_supergroup(old, by=people.alice)
    updates = await drain(bot)
    to_msg, from_msg = updates[0].message, updates[1].message
    assert to_msg is not None and from_msg is not None
    # the old group's last message, from the person who upgraded it
    assert to_msg.chat.id == old.id and to_msg.migrate_to_chat_id == new.id
    assert to_msg.from_user is not None and to_msg.from_user.id == people.alice.id
    assert to_msg.message_id == cards[-1].message_id + 1
    # the supergroup's first message, sent "by the group itself"
    assert (from_msg.chat.id, from_msg.message_id, from_msg.migrate_from_chat_id) == (
        new.id,
        1,
        old.id,
    )
    assert from_msg.from_user is not None and from_msg.from_user.username == "GroupAnonymousBot"
    assert from_msg.sender_chat is not None and from_msg.sender_chat.id == new.id
    first = await bot.send_message(new.id, "new card")
    assert first.message_id == 2
    # the old messages stay in the old group, which answers every call with ChatMigrated
    assert [m.text for m in old.bot_messages] == ["old card 0", "old card 1", "old card 2"]
    with pytest.raises(ChatMigrated):
        await bot.edit_message_text("poll", chat_id=old.id, message_id=cards[0].message_id)


async def test_editing_an_old_message_id_in_the_supergroup_hits_another_message(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    old = people.court
    for n in range(3):
        await bot.send_message(old.id, f"filler {n}")
    poll = await bot.send_message(old.id, "Poll: paint the door?", reply_markup=keyboard("pv:1"))
    new = await fake.upgrade_to_supergroup(old, by=people.alice)
    # an id the supergroup has not reached: not found
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("Poll", chat_id=new.id, message_id=poll.message_id)
    notices = [await bot.send_message(new.id, f"notice {n}") for n in range(4)]
    assert poll.message_id in [m.message_id for m in notices]
    # the same id now names an unrelated bot message of the supergroup: Telegram edits THAT one
    victim = next(m for m in notices if m.message_id == poll.message_id)
    await bot.edit_message_text(
        "Poll: paint the door? 3 for", chat_id=new.id, message_id=poll.message_id
    )
    overwritten = fake.message(new, victim.message_id)
    assert victim.text != "Poll: paint the door? 3 for"
    assert overwritten is not None and overwritten.text == "Poll: paint the door? 3 for"
    # the old card itself is untouched
    untouched = fake.message(old, poll.message_id)
    assert untouched is not None and untouched.text == "Poll: paint the door?"
    # and a user's message under that id cannot be edited by the bot
    said = await people.bob.send(new, "/help")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", chat_id=new.id, message_id=said.message_id)


# ---------------------------------------------------------------------- private chats


async def test_the_bot_cannot_start_a_private_conversation(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    bob = people.bob
    await bob.send(people.court, "/help")  # writing in the group is not writing to the bot
    card = await bot.send_message(people.court.id, "card", reply_markup=keyboard("ev:j:1"))
    await bob.press(card, "ev:j:1")  # nor is pressing a button
    initiate = "Forbidden: bot can't initiate conversation with a user"
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(bob.id, "Your reminder")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_document(bob.id, b"a,b\n", filename="mydata.csv")
    assert fake.api_calls[-1].error_code == 403
    assert fake.api_calls[-1].description == initiate
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat(bob.id)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(987654321, "nobody")  # an id Telegram does not know
    await bob.send(bob.private, "/start")
    hello = await bot.send_message(bob.id, "Hello")
    assert hello.chat.id == bob.id


async def test_a_user_who_blocked_the_bot(fake: FakeTelegram, bot: Bot, people: People) -> None:
    carol = people.carol
    await carol.send(carol.private, "/start")
    earlier = await bot.send_message(carol.id, "Welcome")
    await drain(bot)
    carol.block_bot()
    [update] = await drain(bot)
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    blocked = "Forbidden: bot was blocked by the user"
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(carol.id, "Your reminder")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.edit_message_text("Welcome!", chat_id=carol.id, message_id=earlier.message_id)
    assert fake.api_calls[-1].description == blocked
    # writing to the bot again unblocks it (as pressing Start does on Telegram)
    await carol.send(carol.private, "/start")
    assert (await bot.send_message(carol.id, "Welcome back")).chat.id == carol.id
