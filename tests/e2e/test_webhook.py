"""`courtyard run --webhook` as a real process: it registers its webhook (URL and secret) with
the fake Bot API, serves on 127.0.0.1, answers updates posted with the right secret header and
refuses (403) updates with a wrong or missing one. Stopped by SIGTERM; neither the token nor
the secret reaches the log."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import httpx

from bot.fakeapi import FakeTelegram
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

                statuses, mark = await ask(SECRET)
                assert statuses == [200]
                call = await fake.wait_for("sendMessage", since=mark, timeout=15, chat_id=court.id)
                assert "What you can do in this group" in str(call.params["text"])

                refusals = fake.mark()
                for wrong in ("wrong-secret-" + "x" * 30, None):
                    statuses, _ = await ask(wrong)
                    assert statuses == [403]
                # the refused updates were never processed: the next right one is answered,
                # and its answer is the only message since the refusals
                statuses, mark = await ask(SECRET)
                assert statuses == [200]
                await fake.wait_for("sendMessage", since=mark, timeout=15, chat_id=court.id)
                sent = [c for c in fake.calls[refusals:] if c.method == "sendMessage"]
                assert len(sent) == 1
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
