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
    from playground import FakeTelegram

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
* ``courtyard playground [--demo]`` runs the fake, the bot against it and a Telegram-like web
  page (:mod:`playground.page`, :mod:`playground.launch`, :mod:`playground.demo`);
  ``python -m playground --port 8081`` runs the fake alone, driven from a terminal.

What the fake models of Telegram's behaviour (each has a test in ``tests/fakeapi``):

* **Time.** The world has its own time: ``fake.now()`` (Unix seconds; ``clock=`` to share a
  clock with the bot) and ``fake.advance(hours=49)`` to move it on. Message ``date`` and
  ``edit_date`` use it; so do the ~15 s deadline for answering a callback query and the
  rate-limit windows.
* **The 48-hour delete rule.** ``deleteMessage`` of any message sent 48 hours ago or more
  (the bot's own, a member's, in a group or a private chat) answers 400 "Bad Request: message
  can't be deleted for everyone"; the one exception is a supergroup where the bot is an
  administrator with ``can_delete_messages``. Younger messages: the bot deletes its own and,
  in private chats, the other person's; in groups others' messages need those rights ("Bad
  Request: message can't be deleted"). ``deleteMessages`` skips what it may not delete.
* **A group becoming a supergroup** (``upgrade_to_supergroup``). The old group gets a last
  message ``migrate_to_chat_id`` from the person who upgraded it; the supergroup (an id of the
  ``-100…`` form) starts its own message numbering at 1 with ``migrate_from_chat_id``, sent
  "by the group itself" (``from`` GroupAnonymousBot, ``sender_chat`` the supergroup). Old
  messages stay in the old group; every call with the old chat id answers "group chat was
  upgraded to a supergroup chat" with ``migrate_to_chat_id`` (PTB's ``ChatMigrated``). An old
  message id sent with the new chat id names whatever message has that id in the supergroup —
  "message to edit not found" if none, and an edit of an unrelated bot message if there is
  one, as in production. (Simplification: Telegram numbers a basic group's messages in the
  bot's own sequence shared with private chats; here each chat counts from 1, which makes
  such collisions more likely, not less.)
* **Private chats.** The bot may write to a person only after they wrote to it in private:
  before that a send answers 403 "Forbidden: bot can't initiate conversation with a user"
  (writing in a group or pressing a button does not count), and ``getChat`` answers "chat not
  found". After ``block_bot()`` sends and edits answer 403 "Forbidden: bot was blocked by the
  user" and the bot gets a ``my_chat_member`` update ("kicked"); writing to the bot again
  unblocks it.
* **Groups.** A bot that was removed gets "bot was kicked from the group chat" or "bot is not a
  member of the group chat"; rate limits (``enforce_limits``) answer 429 with ``retry_after``.
"""

from playground.server import Call, FakeTelegram, Fault
from playground.world import ApiError, FakeChat, FakeUser

__all__ = ["ApiError", "Call", "FakeChat", "FakeTelegram", "FakeUser", "Fault"]
