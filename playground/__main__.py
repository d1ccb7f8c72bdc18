"""Serve a fake Bot API with a demo group until Ctrl-C: ``python -m playground --port 8081``.

Point the bot at the printed ``base_url`` (and ``base_file_url``) with the printed token.
Lines typed on standard input make the demo people act:

    alice: /help            Alice writes in the demo group
    bob> /start             Bob writes to the bot in private
    carol! st:lang:zh       Carol presses that button on the newest bot message showing it
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable

from playground.server import Call, FakeTelegram
from playground.world import FakeChat, FakeUser

HELP = """commands:
  NAME: TEXT    NAME writes TEXT in the group
  NAME> TEXT    NAME writes TEXT to the bot in private
  NAME! DATA    NAME presses the inline button with callback data DATA
  people: {people}"""


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m playground", description="Serve a fake Telegram Bot API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument("--bot-username", default="courtyard_bot")
    parser.add_argument("--bot-name", default="Courtyard")
    parser.add_argument("--group", default="Maple Court", help="title of the demo group")
    parser.add_argument(
        "--no-privacy", action="store_true", help="deliver every group message to the bot"
    )
    return parser.parse_args(argv)


def _describe(fake: FakeTelegram, call: Call) -> str | None:
    if call.method == "getUpdates":
        return None
    if not call.ok:
        return f"  ! {call.method} failed: {call.error_code} {call.description}"
    if isinstance(call.result, dict) and "message_id" in call.result:
        chat = fake.chats.get(call.result["chat"]["id"])
        where = (
            chat.title
            if chat and chat.title
            else (chat.user.first_name if chat and chat.user else "?")
        )
        text = call.result.get("text") or call.result.get("caption") or ""
        buttons = [
            button.get("callback_data") or button.get("url")
            for row in (call.result.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in row
        ]
        extra = f"  buttons: {buttons}" if buttons else ""
        verb = "edited" if call.method.startswith("edit") else "says"
        return f"[{where}] bot {verb} #{call.result['message_id']}: {text}{extra}"
    return f"  {call.method} -> {call.result!r}"[:200]


async def _echo_calls(fake: FakeTelegram) -> None:
    seen = 0

    def more(count: int) -> Callable[[], bool]:
        return lambda: len(fake.calls) > count

    while True:
        with contextlib.suppress(TimeoutError):
            await fake.wait_until(more(seen), timeout=3600)
        for call in fake.calls[seen:]:
            line = _describe(fake, call)
            if line:
                print(line, flush=True)
        seen = len(fake.calls)


def _start_stdin_reader(queue: asyncio.Queue[str | None]) -> None:
    loop = asyncio.get_running_loop()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="fakeapi-stdin", daemon=True).start()


async def _act(fake: FakeTelegram, group: FakeChat, people: dict[str, FakeUser], line: str) -> None:
    for marker in (":", ">", "!"):
        name, sep, rest = line.partition(marker)
        if sep and name.strip().lower() in people:
            person, rest = people[name.strip().lower()], rest.strip()
            break
    else:
        print(HELP.format(people=", ".join(people)), flush=True)
        return
    try:
        if marker == ":":
            await person.send(group, rest)
        elif marker == ">":
            await person.send(person.private, rest)
        else:
            for chat in (group, person.private):
                for message in reversed(chat.bot_messages):
                    markup = message.reply_markup
                    rows = markup.inline_keyboard if markup else ()
                    if any(button.callback_data == rest for row in rows for button in row):
                        await person.press(message, rest)
                        return
            print(f"no bot message shows a button {rest!r}", flush=True)
    except (ValueError, LookupError) as exc:
        print(f"cannot do that: {exc}", flush=True)


async def serve(args: argparse.Namespace) -> None:
    fake = FakeTelegram(
        args.token,
        bot_username=args.bot_username,
        bot_first_name=args.bot_name,
        host=args.host,
        port=args.port,
        privacy_mode=not args.no_privacy,
    )
    alice = fake.user("Alice", "Adams", username="alice", language_code="en")
    bob = fake.user("Bob", username="bob", language_code="en")
    carol = fake.user("Carol", username="carol", language_code="zh")
    group = fake.group(args.group, admins=[alice], members=[bob, carol])
    people = {"alice": alice, "bob": bob, "carol": carol}
    async with fake:
        await fake.add_bot(group, by=alice)
        print(f"fake Telegram Bot API on {fake.url}", flush=True)
        print(f"  token:         {fake.token}", flush=True)
        print(f"  base_url:      {fake.base_url}", flush=True)
        print(f"  base_file_url: {fake.base_file_url}", flush=True)
        print(f"  demo group:    {group.title} ({group.id}): Alice (admin), Bob, Carol", flush=True)
        print(HELP.format(people=", ".join(people)), flush=True)
        echo = asyncio.create_task(_echo_calls(fake))
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        _start_stdin_reader(queue)
        try:
            while True:
                line = await queue.get()
                if line is None:
                    await asyncio.Event().wait()  # stdin closed: just keep serving
                elif line.strip():
                    await _act(fake, group, people, line.strip())
        finally:
            echo.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await echo


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
