"""`courtyard run --webhook` as a real process: it registers its webhook (URL and secret) with
the fake Bot API, serves on 127.0.0.1, answers updates posted with the right secret header and
refuses (403) updates with a wrong or missing one. Stopped by SIGTERM; neither the token nor
the secret reaches the log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.webhook import Limits, WebhookServer
from playground import FakeTelegram
from tests.e2e.conftest import TOKEN
from tests.e2e.test_cli import clean_env, migrated

SECRET = "Wh5_sEcReT-0123456789abcdefGHIJKLmnop"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def deliver(fake: FakeTelegram, client: httpx.AsyncClient, url: str, secret: str | None):
    """Post every update the fake holds for the bot to the webhook, as Telegram would."""
    statuses = []
    for update in fake.deliverable(100):
        headers = {HEADER: secret} if secret is not None else {}
        response = await client.post(url, json=update, headers=headers)
        statuses.append(response.status_code)
        fake.confirm(int(update["update_id"]) + 1)
    return statuses


async def test_webhook_mode_checks_the_secret(tmp_path: Path) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/courtyard/tg"
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        alice = fake.user("Alice", language_code="en")
        court = fake.group("Maple Court", admins=[alice])
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--webhook",
            env=clean_env(
                COURTYARD_TOKEN=TOKEN,
                COURTYARD_API_URL=fake.base_url,
                COURTYARD_DB=str(migrated(tmp_path / "courtyard.sqlite3")),
                COURTYARD_WEBHOOK_URL="https://courtyard.example.org/courtyard/tg",
                COURTYARD_WEBHOOK_SECRET=SECRET,
                COURTYARD_LISTEN="127.0.0.1",
                COURTYARD_PORT=str(port),
                COURTYARD_BACKUP_HOURS="0",
                COURTYARD_LOG_LEVEL="DEBUG",
            ),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            registered = await fake.wait_for("setWebhook", timeout=30)
            assert registered.params["url"] == "https://courtyard.example.org/courtyard/tg"
            assert registered.params["secret_token"] == SECRET
            assert fake.webhook is not None
            async with httpx.AsyncClient(timeout=10) as client:
                await wait_listening(client, hook)
                await fake.add_bot(court, by=alice)
                assert set(await deliver(fake, client, hook, SECRET)) == {200}
                await fake.wait_for("sendMessage", timeout=15, chat_id=court.id)

                async def ask(secret: str | None) -> tuple[list[int], Any]:
                    mark = fake.mark()
                    await alice.send(court, "/help")
                    statuses = await deliver(fake, client, hook, secret)
                    return statuses, mark

                def answers(since: int) -> int:
                    return sum(1 for c in fake.calls[since:] if c.method == "sendMessage")

                async def whole(since: int) -> int:
                    """Messages of the answer once it is complete (a lead's /help is several)."""
                    for _ in range(30):
                        count = answers(since)
                        await asyncio.sleep(0.5)
                        if answers(since) == count:
                            break
                    return answers(since)

                statuses, mark = await ask(SECRET)
                assert statuses == [200]
                call = await fake.wait_for("sendMessage", since=mark, timeout=15, chat_id=court.id)
                assert "What you can do in this group" in str(call.params["text"])
                parts = await whole(mark)

                refusals = fake.mark()
                for wrong in ("wrong-secret-" + "x" * 30, None):
                    statuses, _ = await ask(wrong)
                    assert statuses == [403]
                # the refused updates were never processed: the next right one is answered,
                # and its answer is the only message since the refusals
                statuses, mark = await ask(SECRET)
                assert statuses == [200]
                await fake.wait_for("sendMessage", since=mark, timeout=15, chat_id=court.id)
                assert await whole(refusals) == parts  # one /help's messages, nothing more
                assert fake.calls_to("getUpdates") == []  # no polling in webhook mode
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            try:
                _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
            except TimeoutError:
                process.kill()
                _, stderr = await process.communicate()
    log = stderr.decode()
    assert process.returncode == 0, log[-2000:]
    assert TOKEN not in log and SECRET not in log
    assert "webhook server on 127.0.0.1" in log


async def wait_listening(client: httpx.AsyncClient, url: str) -> None:
    """The server binds after setWebhook; poll (bounded) until it answers at all."""
    for _ in range(200):
        try:
            await client.get(url)
            return
        except httpx.TransportError:
            await asyncio.sleep(0.05)
    raise TimeoutError(f"nothing listens on {url}")


async def test_webhook_needs_its_settings(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--webhook",
        env=clean_env(
            COURTYARD_TOKEN=TOKEN,
            COURTYARD_DB=str(tmp_path / "c.sqlite3"),
            COURTYARD_WEBHOOK_SECRET="tooshort",
        ),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    text = stderr.decode()
    assert process.returncode == 2
    assert "COURTYARD_WEBHOOK_URL is not set" in text
    assert "COURTYARD_WEBHOOK_SECRET is too weak" in text
    assert "tooshort" not in text and "Traceback" not in text


# --- the webhook server itself, over real HTTP on 127.0.0.1 -------------------------------


class Served:
    def __init__(self, server: WebhookServer, got: list[dict[str, Any]]):
        self.server = server
        self.got = got
        self.clients: list[asyncio.StreamWriter] = []

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        self.clients.append(writer)
        return reader, writer

    async def close_clients(self) -> None:
        for writer in self.clients:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def send(self, raw: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await self.connect()
        writer.write(raw)
        await writer.drain()
        return reader, writer


@contextlib.asynccontextmanager
async def served(**limits: Any) -> AsyncIterator[Served]:
    got: list[dict[str, Any]] = []

    async def deliver(data: dict[str, Any]) -> None:
        if "broken" in data:
            raise TypeError(f"cannot read {data['broken']}")  # a message holding content
        got.append(data)

    settings = {"head_timeout": 0.5, "body_timeout": 0.5, "idle_timeout": 1.0, **limits}
    server = WebhookServer(
        listen="127.0.0.1",
        port=0,
        path="courtyard/tg",
        secret=SECRET,
        deliver=deliver,
        limits=Limits(**settings),
    )
    await server.start()
    web = Served(server, got)
    try:
        yield web
    finally:
        await web.close_clients()
        await server.stop()


def head(
    *,
    length: int | None = None,
    secret: str | None = SECRET,
    path: str = "/courtyard/tg",
    method: str = "POST",
    extra: str = "",
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if secret is not None:
        lines.append(f"{HEADER}: {secret}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


async def status_of(reader: asyncio.StreamReader) -> int:
    line = await asyncio.wait_for(reader.readline(), 20)
    assert line.startswith(b"HTTP/1.1 "), line
    return int(line.split()[1])


async def closed(reader: asyncio.StreamReader) -> bool:
    """The server closed the connection (after whatever it answered)."""
    try:
        await asyncio.wait_for(reader.read(), 20)
    except ConnectionError:
        return True
    return reader.at_eof()


def post(body: bytes, secret: str | None = SECRET, keep: bool = False) -> bytes:
    extra = "" if keep else "Connection: close\r\n"
    return head(length=len(body), secret=secret, extra=extra) + body


async def test_a_wrong_or_missing_secret_is_refused_before_any_body_is_read() -> None:
    async with served() as web:
        for secret in ("wrong-secret-" + "x" * 30, None, SECRET[:-1], SECRET + "x"):
            # the head announces 90 MB and not a byte of it is sent: the answer still comes
            reader, writer = await web.send(head(length=90_000_000, secret=secret))
            assert await status_of(reader) == 403
            assert await closed(reader)
            writer.close()
        assert web.got == [] and web.server.refused == {403: 4}


async def test_size_limit_on_content_length_and_while_streaming() -> None:
    async with served(max_body=1000) as web:
        reader, _ = await web.send(head(length=1001))
        assert await status_of(reader) == 413  # refused on the head alone
        chunked = head(extra="Transfer-Encoding: chunked\r\n")
        reader, writer = await web.send(chunked)
        for _ in range(3):  # 3 x 400 bytes: the third passes the limit
            writer.write(b"190\r\n" + b" " * 400 + b"\r\n")
        await writer.drain()
        assert await status_of(reader) == 413
        assert await closed(reader)
        ok, _ = await web.send(post(b'{"update_id": 1}'))
        assert await status_of(ok) == 200
        assert web.got == [{"update_id": 1}]
    async with served() as web:  # the real limit: an update of 900 kB goes through whole
        big = b'{"update_id": 8, "pad": "' + b"x" * 900_000 + b'"}'
        reader, _ = await web.send(post(big))
        assert await status_of(reader) == 200
        assert web.got == [{"update_id": 8, "pad": "x" * 900_000}]
        reader, writer = await web.send(head(extra="Transfer-Encoding: chunked\r\n"))
        writer.write(b"1" * 20_000 + b"\r\n")  # a chunk-size line that never ends
        assert await status_of(reader) == 400


async def test_slow_heads_and_slow_bodies_are_dropped() -> None:
    async with served() as web:
        # a body that never arrives whole
        slow_body, _ = await web.send(head(length=100) + b'{"update_id":')
        assert await status_of(slow_body) == 408
        assert await closed(slow_body)
        # a head that never ends
        slow_head, _ = await web.send(b"POST /courtyard/tg HTTP/1.1\r\nHost: x\r\n")
        assert await status_of(slow_head) == 408
        assert await closed(slow_head)
        # a connection that says nothing at all
        silent, _ = await web.connect()
        assert await closed(silent)
        assert web.server.open_connections == 0
        assert web.got == []


async def test_connections_are_bounded() -> None:
    async with served(max_connections=4, head_timeout=30.0) as web:
        idle = [await web.connect() for _ in range(4)]
        for _ in range(200):  # the server has taken all four
            if web.server.open_connections == 4:
                break
            await asyncio.sleep(0.01)
        reader, _ = await web.send(post(b'{"update_id": 2}'))
        assert await status_of(reader) == 503
        for _, writer in idle:
            writer.close()
        for _ in range(200):
            if web.server.open_connections == 0:
                break
            await asyncio.sleep(0.01)
        reader, _ = await web.send(post(b'{"update_id": 3}'))
        assert await status_of(reader) == 200
        assert web.got == [{"update_id": 3}]


async def test_kept_connections_and_refusals_of_the_request_itself() -> None:
    async with served() as web:
        reader, writer = await web.send(post(b'{"update_id": 4}', keep=True))
        assert await status_of(reader) == 200
        await reader.readuntil(b"\r\n\r\n{}")
        writer.write(post(b'{"update_id": 5}', keep=True))  # same connection
        assert await status_of(reader) == 200
        writer.close()
        # curl's Expect: 100-continue is answered once the head is accepted
        reader, writer = await web.send(head(length=16, extra="Expect: 100-continue\r\n"))
        assert await status_of(reader) == 100
        assert await reader.readline() == b"\r\n"
        writer.write(b'{"update_id": 6}')
        assert await status_of(reader) == 200
        assert web.got == [{"update_id": 4}, {"update_id": 5}, {"update_id": 6}]
        cases = [
            (head(length=2, path="/elsewhere") + b"{}", 404),
            (head(length=0, method="GET"), 405),
            (head(secret=SECRET), 411),
            (head(length=1, extra="Transfer-Encoding: chunked\r\n") + b"{", 400),
            (head(length=3, extra=f"{HEADER}: {SECRET}\r\n") + b"{}}", 400),  # two secrets
            (b"garbage\r\n\r\n", 400),
            (head(length=2, extra="X-Padding: " + "p" * 20_000 + "\r\n") + b"{}", 431),
        ]
        for raw, expected in cases:
            reader, _ = await web.send(raw)
            assert await status_of(reader) == expected, raw[:60]


async def test_no_update_content_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.webhook")
    async with served() as web:
        reader, _ = await web.send(post(b'{"update_id": 77, "broken": "Zanzibarsecret"}'))
        assert await status_of(reader) == 200  # dropped: Telegram must not offer it again
        reader, _ = await web.send(post(b"Zanzibar not json"))
        assert await status_of(reader) == 400
        reader, _ = await web.send(post(b"[1, 2, 3]"))
        assert await status_of(reader) == 400
        reader, _ = await web.send(head(length=9, secret="Zanzibar" + "s" * 30) + b"Zanzibar!")
        assert await status_of(reader) == 403
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "update_id 77: TypeError" in logged
    assert "Zanzibar" not in logged
    assert web.got == []


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def push_body(port: int, secret: str | None, size: int) -> tuple[int, int | None]:
    """Post ``size`` bytes as fast as the server takes them; returns (bytes the server let
    us send, the status it answered, or None when it reset the connection first)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head(length=size, secret=secret))
    sent = 0
    chunk = b" " * 65536
    status: int | None = None

    async def answer() -> None:
        nonlocal status
        with contextlib.suppress(ConnectionError, ValueError, IndexError):
            status = await status_of(reader)

    listening = asyncio.create_task(answer())
    try:
        while sent < size and not listening.done():
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
    except ConnectionError:
        pass
    await asyncio.wait_for(listening, 20)
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return sent, status


async def test_courtyard_webhook_under_hostile_requests(tmp_path: Path) -> None:
    """The real process: six 90 MB bodies without the secret are refused before they are
    read (the server takes a few MB of socket buffer at most, and its memory stays put), an
    oversized update is refused on its head, a slow body is dropped, and an update
    python-telegram-bot cannot read is logged by its id only."""
    port = free_port()
    hook = f"http://127.0.0.1:{port}/courtyard/tg"
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--webhook",
            env=clean_env(
                COURTYARD_TOKEN=TOKEN,
                COURTYARD_API_URL=fake.base_url,
                COURTYARD_DB=str(migrated(tmp_path / "courtyard.sqlite3")),
                COURTYARD_WEBHOOK_URL="https://courtyard.example.org/courtyard/tg",
                COURTYARD_WEBHOOK_SECRET=SECRET,
                COURTYARD_PORT=str(port),
                COURTYARD_BACKUP_HOURS="0",
                COURTYARD_LOG_LEVEL="DEBUG",
            ),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await fake.wait_for("setWebhook", timeout=30)
            assert fake.calls_to("setWebhook")[0].params["max_connections"] == 40
            async with httpx.AsyncClient(timeout=10) as client:
                await wait_listening(client, hook)
            before = rss_mb(process.pid)
            size = 90_000_000
            results = await asyncio.gather(
                *(push_body(port, None if i % 2 else "x" * 40, size) for i in range(6))
            )
            after = rss_mb(process.pid)
            for sent, status in results:
                assert status in (403, None)
                assert sent < 20_000_000, sent  # the socket buffers, never the body
            assert after - before < 50, (before, after)

            sent, status = await push_body(port, SECRET, 5_000_000)
            assert status in (413, None) and sent < 20_000_000
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head(length=500) + b'{"update_id": 12')  # and nothing more
            assert await status_of(reader) == 408
            assert await closed(reader)
            writer.close()

            broken = b'{"update_id": 991, "message": {"message_id": 1, "chat": 5,'
            broken += b' "date": 0, "text": "Zanzibarsecret"}}'
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(post(broken))
            assert await status_of(reader) == 200
            writer.close()
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            try:
                _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
            except TimeoutError:
                process.kill()
                _, stderr = await process.communicate()
    log = stderr.decode()
    assert process.returncode == 0, log[-2000:]
    assert "update could not be read and was dropped (update_id 991:" in log
    assert "Zanzibarsecret" not in log and SECRET not in log


async def test_webhook_mode_stops_loudly_when_the_database_vanishes(tmp_path: Path) -> None:
    port = free_port()
    db = migrated(tmp_path / "courtyard.sqlite3")
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--webhook",
            env=clean_env(
                COURTYARD_TOKEN=TOKEN,
                COURTYARD_API_URL=fake.base_url,
                COURTYARD_DB=str(db),
                COURTYARD_WEBHOOK_URL="https://courtyard.example.org/courtyard/tg",
                COURTYARD_WEBHOOK_SECRET=SECRET,
                COURTYARD_PORT=str(port),
                COURTYARD_BACKUP_HOURS="0",
            ),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await fake.wait_for("setWebhook", timeout=30)
            async with httpx.AsyncClient(timeout=10) as client:
                await wait_listening(client, f"http://127.0.0.1:{port}/courtyard/tg")
            db.unlink()
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.communicate()
    log = stderr.decode()
    assert process.returncode == 1, log[-2000:]
    assert f"stopping: the database file {db} was deleted" in log
    assert "Traceback" not in log
