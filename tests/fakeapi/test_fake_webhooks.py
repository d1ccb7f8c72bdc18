"""The fake Bot API's webhook mode: after setWebhook, updates are POSTed with the secret header,
to several targets in turn (the fake's load balancer), redelivered until answered 200, one chat
at a time in order, at most ``max_connections`` in flight — what Telegram does, so the tests of
several webhook workers see what production will."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import Bot
from telegram.error import BadRequest

from playground import FakeTelegram

from ._support import People

SECRET = "s3cret-token"


class Receiver:
    """A webhook endpoint on loopback that records each POST and answers ``status(update)``
    after ``delay`` seconds."""

    def __init__(self, name: str, status: Callable[[dict[str, Any]], int] = lambda u: 200):
        self.name = name
        self.status = status
        self.delay = 0.0
        self.got: list[tuple[int, str | None]] = []  # (update_id, secret header)
        self.open = 0
        self.most_open = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers["content-length"]))
                update = json.loads(body)
                self.got.append(
                    (update["update_id"], headers.get("x-telegram-bot-api-secret-token"))
                )
                self.open += 1
                self.most_open = max(self.most_open, self.open)
                await asyncio.sleep(self.delay)
                self.open -= 1
                code = self.status(update)
                writer.write(f"HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def receivers(*items: Receiver) -> AsyncIterator[tuple[Receiver, ...]]:
    for item in items:
        await item.start()
    try:
        yield items
    finally:
        for item in items:
            await item.stop()


async def test_updates_are_posted_with_the_secret_to_each_worker_in_turn(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    async with receivers(Receiver("a"), Receiver("b"), Receiver("c")) as workers:
        fake.webhook_targets = [w.url for w in workers]
        assert await bot.set_webhook("https://courtyard.example/hook", secret_token=SECRET)
        for n in range(9):  # nine private chats: nothing holds one back for another
            user = fake.user(f"Resident {n}")
            await user.send(user.private, f"hello {n}")
        await fake.until_confirmed()
        assert sorted(len(w.got) for w in workers) == [3, 3, 3]
        assert {secret for w in workers for _, secret in w.got} == {SECRET}
        info = await bot.get_webhook_info()
        assert info.url == "https://courtyard.example/hook" and info.pending_update_count == 0
        assert info.max_connections == 40


async def test_an_update_not_answered_200_is_offered_again_until_it_is(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    answers = iter([500, 0, 200])  # a 500, then a worker that closes without answering

    def status(update: dict[str, Any]) -> int:
        code = next(answers)
        if code == 0:
            raise ConnectionError("worker died")
        return code

    async with receivers(Receiver("flaky", status), Receiver("good")) as (flaky, good):
        fake.webhook_targets = [flaky.url, flaky.url]
        await bot.set_webhook("https://courtyard.example/hook", secret_token=SECRET)
        await people.bob.send(people.court, "/help")
        await fake.until_confirmed()
        ids = [u for u, _ in flaky.got]
        assert len(ids) == 3 and len(set(ids)) == 1  # one update, three times, the same id
        assert [status for _, _, status in fake.webhook_posts] == [500, 0, 200]
        assert good.got == []


async def test_one_chats_updates_go_one_at_a_time_in_order(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    async with receivers(Receiver("a"), Receiver("b")) as workers:
        for w in workers:
            w.delay = 0.05
        fake.webhook_targets = [w.url for w in workers]
        await bot.set_webhook("https://courtyard.example/hook")
        for n in range(6):
            await people.bob.send(people.court, f"/help {n}")
        await fake.until_confirmed()
        posts = [u for u, _, _ in fake.webhook_posts]
        assert posts == sorted(posts)  # in order, each sent after the previous was answered
        assert max(w.most_open for w in workers) == 1
        assert all(len(w.got) == 3 for w in workers)  # and still spread over both


async def test_at_most_max_connections_are_in_flight(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    async with receivers(Receiver("only")) as (worker,):
        worker.delay = 0.1
        fake.webhook_targets = [worker.url]
        await bot.set_webhook("https://courtyard.example/hook", max_connections=3)
        for n in range(12):
            user = fake.user(f"Resident {n}")
            await user.send(user.private, "hi")
        await fake.until_confirmed()
        assert len(worker.got) == 12 and worker.most_open == 3


async def test_delete_webhook_stops_the_posts_and_get_updates_works_again(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    async with receivers(Receiver("a")) as (worker,):
        fake.webhook_targets = [worker.url]
        await bot.set_webhook("https://courtyard.example/hook")
        await bot.delete_webhook()
        await people.bob.send(people.court, "/help")
        await asyncio.sleep(0.2)
        assert worker.got == []
        updates = await bot.get_updates(timeout=0)
        assert [u.message.text for u in updates if u.message] == ["/help"]


async def test_bad_webhook_settings_are_refused(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
        await bot.set_webhook("http://courtyard.example/hook")
    with pytest.raises(BadRequest, match="max_connections"):
        await bot.set_webhook("https://courtyard.example/hook", max_connections=101)
