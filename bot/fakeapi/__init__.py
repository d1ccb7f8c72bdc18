"""A fake Telegram Bot API for driving the real bot end to end, without Telegram.

``FakeTelegram`` is an HTTP server on 127.0.0.1 that speaks the Bot API's JSON (requests
arrive as ``POST /bot<token>/<method>``; files download from ``/file/bot<token>/<path>``), so
an unmodified python-telegram-bot ``Application`` can be pointed at it with ``base_url``.
Around it lives a small simulated world: people (``FakeUser``), their private chats and
groups (``FakeChat``). People act, the bot receives real updates through ``getUpdates``, and
everything the bot calls is recorded (``Call``) and checked the way Telegram checks it
(empty or too long texts, broken HTML/MarkdownV2, oversized callback data, unchanged edits,
chats the bot was removed from, users who never started or blocked the bot, migrated groups).
Failures and slowness can be injected at run time (``Fault``).

A short story::

    from telegram.ext import ApplicationBuilder
    from bot.fakeapi import FakeTelegram

    async with FakeTelegram(token="123456:TEST", bot_username="courtyard_bot") as fake:
        app = (
            ApplicationBuilder()
            .token(fake.token)
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        ...  # add the bot's handlers
        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1,
                                        allowed_updates=["message", "callback_query",
                                                         "my_chat_member", "chat_member"])

        alice = fake.user("Alice", username="alice")          # a resident
        bob = fake.user("Bob", language_code="zh")
        court = fake.group("Maple Court", admins=[alice], members=[bob])

        await fake.add_bot(court, by=alice)                   # my_chat_member + service message
        mark = fake.mark()
        await alice.send(court, "/help")                      # bot_command entity and all
        reply = await fake.wait_for("sendMessage", since=mark, chat_id=court.id)
        assert "help" in reply.params["text"].lower()

        menu = fake.last_bot_message(court)                   # current state, edits applied
        query = await bob.press(menu, "st:lang:zh")           # a callback_query update
        await fake.until_confirmed()                          # the bot has taken every update
        assert fake.callback_answer(query.id) is not None

        fake.inject("sendMessage", error_code=429, retry_after=1)   # next send is rate limited
        court = await fake.upgrade_to_supergroup(court, by=alice)   # old id -> ChatMigrated

        await app.updater.stop()
        await app.stop()
        await app.shutdown()

Things worth knowing:

* The bot is only in a group after ``add_bot`` (or ``group(..., with_bot=True)``). Groups
  default to Telegram's privacy mode: unless the bot is an administrator, it receives only
  commands, replies to its own messages and service messages (``FakeTelegram(privacy_mode=False)``
  to receive everything).
* The bot may message a person privately only after that person wrote to it
  (``await alice.send(alice.private, "/start")``).
* ``chat_member`` updates reach the bot only if it is an administrator of the chat
  (``add_bot(..., admin=True)`` or ``promote_bot``) and asks for them in ``allowed_updates``.
  Updates of types the bot did not ask for are dropped when it polls.
* ``fake.calls`` includes getUpdates polling; ``fake.api_calls`` leaves it out.
  ``fake.calls_to(method, **params)`` filters (ids compare as numbers, callables as predicates);
  ``fake.wait_until(condition)`` waits for any condition over calls and chat state.
* PTB 22.8 warns when ``RetryAfter.retry_after`` is an int; with warnings as errors set the
  environment variable ``PTB_TIMEDELTA=true`` in tests that see 429 answers.
* Run ``python -m bot.fakeapi --port 8081`` for a playground server with a demo group.
"""

from bot.fakeapi.server import Call, FakeTelegram, Fault
from bot.fakeapi.world import ApiError, FakeChat, FakeUser

__all__ = ["ApiError", "Call", "FakeChat", "FakeTelegram", "FakeUser", "Fault"]
