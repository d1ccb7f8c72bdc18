"""The console script as an operator uses it: --help, migrate, configuration mistakes, and
`courtyard run` as a real process answering /help in three languages, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.fakeapi import FakeTelegram
from storage.db import migrations
from tests.e2e.conftest import TOKEN


def courtyard(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURTYARD_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    env.update(extra)
    return env


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = courtyard("--help", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0
    assert "run" in result.stdout and "migrate" in result.stdout


def test_migrate_creates_the_database(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    result = courtyard("migrate", env=clean_env(COURTYARD_DB=str(db)), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "migration(s) applied" in result.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations())
    again = courtyard("migrate", env=clean_env(COURTYARD_DB=str(db)), cwd=tmp_path)
    assert again.returncode == 0 and "already up to date" in again.stdout


def test_run_without_token_explains_and_fails(tmp_path: Path) -> None:
    result = courtyard("run", env=clean_env(COURTYARD_TIMEZONE="Nowhere/Land"), cwd=tmp_path)
    assert result.returncode == 2
    assert "COURTYARD_TOKEN is not set" in result.stderr
    assert "COURTYARD_TIMEZONE" in result.stderr
    assert "Traceback" not in result.stderr


async def test_courtyard_run_answers_help_in_three_languages(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        alice = fake.user("Alice", language_code="en")
        court = fake.group("Maple Court", admins=[alice])
        env = clean_env(
            COURTYARD_TOKEN=TOKEN,
            COURTYARD_API_URL=fake.base_url,
            COURTYARD_DB=str(tmp_path / "courtyard.sqlite3"),
            COURTYARD_LOG_LEVEL="INFO",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await fake.wait_for("getUpdates", timeout=30)
            await fake.add_bot(court, by=alice)
            await fake.wait_for("sendMessage", timeout=15, chat_id=court.id)

            async def ask(text: str) -> str:
                mark = fake.mark()
                await alice.send(court, text)
                call = await fake.wait_for("sendMessage", since=mark, timeout=15, chat_id=court.id)
                return str(call.params["text"])

            assert "What you can do in this group" in await ask("/help")
            await ask("/settings language zh")
            assert "在本群可以做的事" in await ask("/help")
            await ask("/settings language ru")
            assert "в этой группе" in await ask("/help")
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
        assert TOKEN not in log
        assert "Courtyard started as @courtyard_bot" in log


def test_run_explains_an_unreachable_api(tmp_path: Path) -> None:
    result = courtyard(
        "run",
        env=clean_env(
            COURTYARD_TOKEN=TOKEN,
            COURTYARD_API_URL="http://127.0.0.1:9/bot",  # the discard port: nothing listens
            COURTYARD_DB=str(tmp_path / "c.sqlite3"),
        ),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "cannot reach the Bot API at http://127.0.0.1:9/bot" in result.stderr
    assert TOKEN not in result.stderr  # not even in the logged traceback


async def test_run_explains_a_rejected_token(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=clean_env(
                COURTYARD_TOKEN="999999:WRONG-token-0000000000000",
                COURTYARD_API_URL=fake.base_url,
                COURTYARD_DB=str(tmp_path / "c.sqlite3"),
            ),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 1
    assert "refused the token" in stderr.decode()
