"""The console script as an operator uses it: --help, migrate, configuration mistakes,
`courtyard run` as a real process answering /help in three languages (and taking its automatic
backup), stopped by SIGTERM; backup, restore and health; a damaged database refused at start."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from playground import FakeTelegram
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


def migrated(path: Path) -> Path:
    """A new database made as an operator makes one (`courtyard run` never creates it)."""
    result = courtyard("migrate", env=clean_env(COURTYARD_DB=str(path)), cwd=path.parent)
    assert result.returncode == 0, result.stderr
    return path


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = courtyard("--help", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "migrate", "backup", "restore", "health"):
        assert command in result.stdout
    run_help = courtyard("run", "--help", env=clean_env(), cwd=tmp_path)
    assert "--webhook" in run_help.stdout


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
            COURTYARD_DB=str(migrated(tmp_path / "courtyard.sqlite3")),
            COURTYARD_LOG_LEVEL="INFO",
            COURTYARD_BACKUP_DIR=str(tmp_path / "bk"),
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
                """Every message of the answer (a lead's /help comes in several)."""
                mark = fake.mark()
                await alice.send(court, text)
                await fake.wait_for("sendMessage", since=mark, timeout=15, chat_id=court.id)

                def sent() -> list[str]:
                    return [
                        str(c.params["text"])
                        for c in fake.calls[mark:]
                        if c.method == "sendMessage" and c.params.get("chat_id") == court.id
                    ]

                for _ in range(30):  # quiet for 0.5 s: the answer is whole
                    count = len(sent())
                    await asyncio.sleep(0.5)
                    if len(sent()) == count:
                        break
                return "\n".join(sent())

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
        # no backup existed: the automatic one ran at start, verified, and was logged
        assert "backup written" in log
        backups = list((tmp_path / "bk").glob("courtyard-*Z.sqlite3"))
        assert len(backups) == 1
        with sqlite3.connect(backups[0]) as conn:
            assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        conn.close()


def test_run_explains_an_unreachable_api(tmp_path: Path) -> None:
    result = courtyard(
        "run",
        env=clean_env(
            COURTYARD_TOKEN=TOKEN,
            COURTYARD_API_URL="http://127.0.0.1:9/bot",  # the discard port: nothing listens
            COURTYARD_DB=str(migrated(tmp_path / "c.sqlite3")),
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
                COURTYARD_DB=str(migrated(tmp_path / "c.sqlite3")),
            ),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 1
    assert "refused the token" in stderr.decode()


def corrupt(path: Path) -> None:
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    with path.open("r+b") as fh:
        fh.seek(page_size * (pages * 2 // 3))
        fh.write(b"\xff" * 64)


def fill(path: Path, title: str, rows: int = 0) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO chats (id, type, title, language, timezone, joined_at)"
            " VALUES (-100, 'supergroup', ?, 'en', 'UTC', '2026-01-01T00:00:00Z')",
            (title,),
        )
        conn.executemany(
            "INSERT INTO delivery_failures (chat_id, method, reason, failed_at)"
            " VALUES (-100, 'sendMessage', ?, '2026-01-01T00:00:00Z')",
            [("r" * 300,)] * rows,
        )
    conn.close()


def title(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("SELECT title FROM chats").fetchone()[0])
    finally:
        conn.close()


def test_backup_restore_and_health(tmp_path: Path) -> None:
    db = tmp_path / "courtyard.sqlite3"
    env = clean_env(
        COURTYARD_DB=str(db), COURTYARD_BACKUP_DIR=str(tmp_path / "bk"), COURTYARD_BACKUP_KEEP="2"
    )
    missing = courtyard("health", env=env, cwd=tmp_path)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    assert not db.exists()  # health never creates the file
    assert courtyard("migrate", env=env, cwd=tmp_path).returncode == 0
    fill(db, "Maple Court")

    made = [courtyard("backup", env=env, cwd=tmp_path) for _ in range(3)]
    assert all(r.returncode == 0 for r in made), made[-1].stderr
    assert "backup written: " in made[0].stdout and "verified" in made[0].stdout
    assert "removed old backup" in made[2].stdout  # keep 2: the third removed the first
    kept = sorted((tmp_path / "bk").glob("courtyard-*.sqlite3"))
    assert len(kept) == 2
    elsewhere = courtyard("backup", "--to", str(tmp_path / "usb"), env=env, cwd=tmp_path)
    assert elsewhere.returncode == 0 and len(list((tmp_path / "usb").iterdir())) == 1

    healthy = courtyard("health", env=env, cwd=tmp_path)
    assert healthy.returncode == 0 and healthy.stdout.startswith("ok: ")
    assert courtyard("health", "--full", env=env, cwd=tmp_path).returncode == 0

    fill(db, "Changed later")
    restored = courtyard("restore", str(kept[-1]), env=env, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert title(db) == "Maple Court"
    aside = list(tmp_path.glob("courtyard.sqlite3.before-restore-*"))
    assert len(aside) == 1 and title(aside[0]) == "Changed later"
    assert str(aside[0]) in restored.stdout
    assert courtyard("health", env=env, cwd=tmp_path).returncode == 0

    holder = sqlite3.connect(db)  # a program (the bot) has the database open
    try:
        holder.execute("PRAGMA journal_mode = WAL")
        holder.execute("SELECT count(*) FROM chats").fetchone()
        busy = courtyard("restore", str(kept[0]), env=env, cwd=tmp_path)
    finally:
        holder.close()
    assert busy.returncode == 1
    assert "in use" in busy.stderr and "stop the bot" in busy.stderr
    assert "Traceback" not in busy.stderr


async def test_run_refuses_a_damaged_database(tmp_path: Path) -> None:
    db = tmp_path / "courtyard.sqlite3"
    env = clean_env(COURTYARD_DB=str(db))
    assert courtyard("migrate", env=env, cwd=tmp_path).returncode == 0
    fill(db, "Maple Court", rows=3000)
    corrupt(db)
    sick = courtyard("health", env=env, cwd=tmp_path)
    assert sick.returncode == 1 and sick.stderr.startswith("unhealthy: ")
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=clean_env(COURTYARD_TOKEN=TOKEN, COURTYARD_API_URL=fake.base_url, **env),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        assert fake.calls_to("getUpdates") == []  # it never started taking updates
    text = stderr.decode()
    assert process.returncode == 1
    assert f"courtyard: the database {db}" in text or f"cannot open the database {db}" in text
    assert "courtyard restore" in text
