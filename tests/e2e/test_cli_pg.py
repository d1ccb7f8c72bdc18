"""The console script on PostgreSQL (``COURTYARD_DB=postgresql://...``), as an operator uses
it: ``courtyard migrate``; ``courtyard run`` as a real process answering /help, a second
poller on the same database refused (the poller lock), stopped by SIGTERM with no file backup
taken; an unmigrated database and one newer than the code refused at start; ``backup`` and
``restore`` pointing to pg_dump / pg_restore in the operator's language; ``health``."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from playground import FakeTelegram
from storage.db import migrations
from tests import pg
from tests.e2e.conftest import TOKEN
from tests.e2e.test_cli import clean_env, courtyard

pytestmark = pytest.mark.skipif(
    not pg.wanted(), reason="PostgreSQL: set COURTYARD_TEST_PG=1 or COURTYARD_TEST_PG_URL"
)


@pytest.fixture
async def empty_url() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (as `createdb` makes one)."""
    yield await pg.new_database(migrated=False)


def env_for(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        COURTYARD_DB=url,
        COURTYARD_KEYS_DIR=str(tmp_path / "keys"),
        COURTYARD_BACKUP_DIR=str(tmp_path / "bk"),
        **extra,
    )


async def run_bot(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_run_on_postgresql_answers_and_keeps_one_poller(
    empty_url: str, tmp_path: Path
) -> None:
    unmigrated = courtyard("health", env=env_for(empty_url, tmp_path), cwd=tmp_path)
    assert unmigrated.returncode == 1 and "courtyard migrate" in unmigrated.stderr
    made = courtyard("migrate", env=env_for(empty_url, tmp_path), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "0024_baseline.sql" in made.stdout
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        alice = fake.user("Alice", language_code="en")
        court = fake.group("Maple Court", admins=[alice])
        env = env_for(empty_url, tmp_path, COURTYARD_TOKEN=TOKEN, COURTYARD_API_URL=fake.base_url)
        process = await run_bot(env, tmp_path)
        try:
            await fake.wait_for("getUpdates", timeout=60)
            await fake.add_bot(court, by=alice)
            await fake.wait_for("sendMessage", timeout=15, chat_id=court.id)
            mark = fake.mark()
            await alice.send(court, "/help")
            await fake.wait_for("sendMessage", since=mark, timeout=15, chat_id=court.id)
            texts = [
                str(c.params["text"])
                for c in fake.calls[mark:]
                if c.method == "sendMessage" and c.params.get("chat_id") == court.id
            ]
            assert any("What you can do in this group" in text for text in texts)

            second = await run_bot(env, tmp_path)
            _, refused = await asyncio.wait_for(second.communicate(), timeout=60)
            assert second.returncode == 1
            said = refused.decode()
            assert "in use by another `courtyard run`" in said and "--webhook" in said, said

            healthy = courtyard("health", env=env, cwd=tmp_path)
            assert healthy.returncode == 0, healthy.stderr
            assert f"schema {len(migrations())}" in healthy.stdout
            assert "scheduled action(s) pending" in healthy.stdout
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
        assert "backup" not in log  # file backups do not apply: pg_dump's
        assert not (tmp_path / "bk").exists()
        # the lock ended with the process: a new poller starts
        again = await run_bot(env, tmp_path)
        try:
            await fake.wait_for("getUpdates", since=fake.mark(), timeout=60)
        finally:
            again.send_signal(signal.SIGTERM)
            await asyncio.wait_for(again.communicate(), timeout=30)
        assert again.returncode == 0


async def test_run_refuses_a_database_not_migrated_or_newer(empty_url: str, tmp_path: Path) -> None:
    env = env_for(
        empty_url, tmp_path, COURTYARD_TOKEN=TOKEN, COURTYARD_API_URL="http://127.0.0.1:9"
    )
    bare = courtyard("run", env=env, cwd=tmp_path)
    assert bare.returncode == 1
    assert "no Courtyard tables" in bare.stderr and "courtyard migrate" in bare.stderr
    ru = courtyard("run", env={**env, "COURTYARD_LANGUAGE": "ru"}, cwd=tmp_path)
    assert ru.returncode == 1 and "ещё нет таблиц Courtyard" in ru.stderr

    assert courtyard("migrate", env=env, cwd=tmp_path).returncode == 0
    conn = await asyncpg.connect(empty_url)
    try:
        await conn.execute(
            "INSERT INTO courtyard_schema (version, name) VALUES ($1, 'from_the_future.sql')",
            len(migrations()) + 5,
        )
    finally:
        await conn.close()
    newer = courtyard("run", env=env, cwd=tmp_path)
    assert newer.returncode == 1
    assert "newer than this Courtyard knows" in newer.stderr and "upgrade" in newer.stderr
    sick = courtyard("health", env=env, cwd=tmp_path)
    assert sick.returncode == 1 and "newer than this Courtyard" in sick.stderr


async def test_backup_and_restore_point_to_pg_dump(empty_url: str, tmp_path: Path) -> None:
    env = env_for(empty_url, tmp_path)
    backup = courtyard("backup", env=env, cwd=tmp_path)
    assert backup.returncode == 2
    assert "pg_dump -Fc -d $COURTYARD_DB" in backup.stderr and "COURTYARD_KEYS_DIR" in backup.stderr
    restore = courtyard("restore", str(tmp_path / "x.dump"), env=env, cwd=tmp_path)
    assert restore.returncode == 2 and "pg_restore --clean" in restore.stderr
    zh = courtyard("backup", env={**env, "COURTYARD_LANGUAGE": "zh"}, cwd=tmp_path)
    assert zh.returncode == 2 and "PostgreSQL 数据库" in zh.stderr
    assert not (tmp_path / "bk").exists()


def test_a_url_naming_no_database_is_a_configuration_problem(tmp_path: Path) -> None:
    result = courtyard(
        "health", env=clean_env(COURTYARD_DB="postgresql://me@localhost"), cwd=tmp_path
    )
    assert result.returncode == 2
    assert "names no database" in result.stderr


async def test_webhook_workers_share_the_database_without_the_poller_lock(
    empty_url: str, tmp_path: Path
) -> None:
    """Two `courtyard run --webhook` on one PostgreSQL database both start (no poller lock,
    said in the log) and each answers what is posted to it."""
    import httpx

    from tests.e2e.test_webhook import SECRET, deliver, free_port, wait_listening

    assert courtyard("migrate", env=env_for(empty_url, tmp_path), cwd=tmp_path).returncode == 0
    ports = [free_port(), free_port()]
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        alice = fake.user("Alice", language_code="en")
        court = fake.group("Maple Court", admins=[alice])
        workers = []
        for n, port in enumerate(ports):
            env = env_for(
                empty_url,
                tmp_path,
                COURTYARD_TOKEN=TOKEN,
                COURTYARD_API_URL=fake.base_url,
                COURTYARD_WEBHOOK_URL="https://courtyard.example.org/tg",
                COURTYARD_WEBHOOK_SECRET=SECRET,
                COURTYARD_PORT=str(port),
                COURTYARD_LOG_LEVEL="INFO",
            )
            (tmp_path / f"w{n}").mkdir()
            workers.append(await run_bot(env, tmp_path / f"w{n}", "--webhook"))
        logs = []
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                hooks = [f"http://127.0.0.1:{port}/tg" for port in ports]
                for hook in hooks:
                    await wait_listening(client, hook)
                await fake.add_bot(court, by=alice)
                assert set(await deliver(fake, client, hooks[0], SECRET)) == {200}
                await fake.wait_for("sendMessage", timeout=30, chat_id=court.id)
                for hook in hooks:
                    mark = fake.mark()
                    await alice.send(court, "/help")
                    assert await deliver(fake, client, hook, SECRET) == [200]

                    def answered(since: int = mark) -> bool:
                        return any(
                            "What you can do in this group" in str(c.params.get("text"))
                            for c in fake.calls[since:]
                            if c.method == "sendMessage" and c.params.get("chat_id") == court.id
                        )

                    await fake.wait_until(answered, timeout=30, message="/help answered")
        finally:
            for worker in workers:
                if worker.returncode is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    _, stderr = await asyncio.wait_for(worker.communicate(), timeout=30)
                except TimeoutError:
                    worker.kill()
                    _, stderr = await worker.communicate()
                logs.append(stderr.decode())
    for worker, log in zip(workers, logs, strict=True):
        assert worker.returncode == 0, log[-2000:]
        assert "may share this database (no poller lock)" in log
        assert "Courtyard started as @courtyard_bot" in log
