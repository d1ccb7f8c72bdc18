"""A real PTB Application polling the fake: handlers fire, polls are prompt, updates confirm."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from playground import FakeTelegram

from ._support import People, make_bot, running_app

Context = ContextTypes.DEFAULT_TYPE


async def test_command_reaches_command_handler(fake: FakeTelegram, people: People) -> None:
    seen: list[tuple[str, list[str]]] = []

    async def on_help(update: Update, context: Context) -> None:
        assert update.effective_message is not None and update.effective_user is not None
        seen.append((update.effective_message.text or "", list(context.args or [])))
        await update.effective_message.reply_text(f"Help for {update.effective_user.first_name}")

    async with running_app(fake, CommandHandler("help", on_help)):
        mark = fake.mark()
        await people.carol.send(people.court, "/help@courtyard_bot ключ 🏠")
        reply = await fake.wait_for("sendMessage", since=mark, chat_id=people.court.id)
        await people.alice.send(people.court, "/help")
        await fake.wait_for("sendMessage", since=reply.index + 1, chat_id=people.court.id)
        # Meant for another bot: privacy mode keeps it from us, and it is not our command.
        await people.bob.send(people.court, "/help@other_bot")
        await fake.until_confirmed(timeout=3)

    assert seen == [("/help@courtyard_bot ключ 🏠", ["ключ", "🏠"]), ("/help", [])]
    assert reply.params["text"] == "Help for Кэрол"
    assert reply.result["text"] == "Help for Кэрол"


async def test_entities_use_utf16_offsets(fake: FakeTelegram, people: People) -> None:
    received: list[Any] = []

    async def on_any(update: Update, context: Context) -> None:
        received.append(update.effective_message)

    async with running_app(fake, MessageHandler(filters.ALL, on_any)):
        await people.alice.send(
            people.alice.private, "🏠 Привет /grant@courtyard_bot organizer @bob_the_builder /x"
        )
        await fake.until_confirmed(timeout=3)

    (message,) = received
    parsed = message.parse_entities()
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bot_command", 10, 20),
        ("mention", 41, 16),
        ("bot_command", 58, 2),
    ]
    assert sorted(parsed.values()) == ["/grant@courtyard_bot", "/x", "@bob_the_builder"]


async def test_callback_press_reaches_handler(fake: FakeTelegram, people: People) -> None:
    async def on_settings(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("中文", callback_data="st:lang:zh")]])
        await update.effective_message.reply_text("Language?", reply_markup=markup)

    async def on_language(update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        await query.answer(text="好")
        await query.edit_message_text(f"Language: {query.data.rsplit(':', 1)[1]}")

    async with running_app(
        fake,
        CommandHandler("settings", on_settings),
        CallbackQueryHandler(on_language, pattern=r"^st:lang:"),
    ):
        mark = fake.mark()
        await people.alice.send(people.court, "/settings")
        await fake.wait_for("sendMessage", since=mark, chat_id=people.court.id)
        menu = fake.last_bot_message(people.court)
        assert menu is not None
        query = await people.bob.press(menu, "st:lang:zh")
        edit = await fake.wait_for("editMessageText", since=mark, chat_id=people.court.id)

    answer = fake.callback_answer(query.id)
    assert answer == {"text": "好"}
    assert fake.calls_to("answerCallbackQuery", callback_query_id=query.id)[0].ok
    assert edit.params["message_id"] == menu.message_id
    current = fake.last_bot_message(people.court)
    assert current is not None and current.text == "Language: zh"
    assert current.reply_markup is None  # editing without reply_markup drops the keyboard


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    fake: FakeTelegram, people: People
) -> None:
    async with make_bot(fake, read_timeout=2) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=0) == ()
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        assert not poll.done()
        sent_at = time.monotonic()
        await people.alice.send(people.court, "/help")
        updates = await asyncio.wait_for(poll, 2)
        assert time.monotonic() - sent_at < 0.5
        assert [u.message.text for u in updates if u.message] == ["/help"]
        # With nothing pending the poll waits for its whole timeout and answers [].
        waited = time.monotonic()
        offset = updates[-1].update_id + 1
        assert await bot.get_updates(offset=offset, timeout=dtm.timedelta(seconds=0.3)) == ()
        assert 0.25 < time.monotonic() - waited < 1.5
        assert time.monotonic() - started < 3


async def test_until_confirmed_tracks_offsets(fake: FakeTelegram, people: People) -> None:
    for n in range(3):
        await people.alice.send(people.court, f"/note {n}")
    assert fake.updates_pending == 3
    try:
        await fake.until_confirmed(timeout=0.05)
    except TimeoutError as exc:
        assert "3 update(s) not confirmed" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("until_confirmed should time out")

    async with make_bot(fake) as bot:
        first = await bot.get_updates(timeout=0)
        assert [u.update_id for u in first] == [1, 2, 3]
        assert fake.updates_pending == 3  # fetched is not confirmed
        waiter = asyncio.create_task(fake.until_confirmed(timeout=2))
        await asyncio.sleep(0.05)
        assert not waiter.done()
        assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=0) == ()
        await waiter
        assert fake.updates_pending == 0


async def test_application_confirms_everything(fake: FakeTelegram, people: People) -> None:
    handled: list[str] = []

    async def on_note(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        handled.append(update.effective_message.text or "")

    async with running_app(fake, CommandHandler("note", on_note)):
        for n in range(5):
            await people.bob.send(people.court, f"/note {n}")
        await fake.until_confirmed(timeout=3)
        assert fake.updates_pending == 0
        for _ in range(100):
            if len(handled) == 5:
                break
            await asyncio.sleep(0.01)
    assert handled == [f"/note {n}" for n in range(5)]


async def test_chat_member_updates_need_admin_and_allowed_updates(
    fake: FakeTelegram, people: People
) -> None:
    changes: list[tuple[str, str, str]] = []

    async def on_member(update: Update, context: Context) -> None:
        change = update.chat_member or update.my_chat_member
        assert change is not None
        kind = "chat_member" if update.chat_member else "my_chat_member"
        changes.append((kind, change.old_chat_member.status, change.new_chat_member.status))

    handler = ChatMemberHandler(on_member, ChatMemberHandler.ANY_CHAT_MEMBER)
    async with running_app(fake, handler):
        await fake.promote(people.court, people.bob, by=people.alice)  # bot is no admin
        await fake.promote_bot(people.court, by=people.alice)
        await fake.demote(people.court, people.bob, by=people.alice)  # not asked for
        await fake.until_confirmed(timeout=3)
    async with running_app(fake, handler, allowed_updates=Update.ALL_TYPES):
        await fake.promote(people.court, people.carol, by=people.alice)
        await fake.until_confirmed(timeout=3)
        for _ in range(100):
            if len(changes) == 2:
                break
            await asyncio.sleep(0.01)
    assert changes == [
        ("my_chat_member", "member", "administrator"),
        ("chat_member", "member", "administrator"),
    ]


async def test_migration_messages_reach_the_application(fake: FakeTelegram, people: People) -> None:
    seen: list[tuple[int, int | None, int | None]] = []

    async def on_migrate(update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        seen.append((message.chat.id, message.migrate_to_chat_id, message.migrate_from_chat_id))

    async with running_app(fake, MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate)):
        new = await fake.upgrade_to_supergroup(people.court, by=people.alice)
        await fake.until_confirmed(timeout=3)
        for _ in range(100):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.01)
    assert seen == [(people.court.id, new.id, None), (new.id, None, people.court.id)]
    assert new.title == people.court.title and new.admins == people.court.admins
