"""One process per database: a second `courtyard run` on the same file is refused, naming the
running one; `backup` and `health` work beside it, `migrate` and `restore` refuse; after kill -9
of the first, a new start succeeds at once (the kernel dropped the lock)."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from bot.lock import AlreadyRunning, ProcessLock, lock_path
from playground import FakeTelegram
from tests.crash.harness import BotProcess
from tests.e2e.conftest import TOKEN
from tests.e2e.test_cli import clean_env, courtyard, migrated


async def ends_by_itself(bot: BotProcess, timeout: float = 30.0) -> int:  # noqa: ASYNC109
    assert bot.process is not None
    await asyncio.wait_for(bot.process.wait(), timeout)
    await asyncio.sleep(0.1)  # the stderr reader catches up
    return await bot.terminate()


async def test_a_second_process_is_refused_and_a_killed_one_leaves_no_lock(
    tmp_path: Path,
) -> None:
    db = migrated(tmp_path / "courtyard.sqlite3")
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        env = clean_env(
            COURTYARD_TOKEN=TOKEN,
            COURTYARD_API_URL=fake.base_url,
            COURTYARD_DB=str(db),
            COURTYARD_BACKUP_DIR=str(tmp_path / "bk"),
            COURTYARD_BACKUP_HOURS="0",
        )
        first = BotProcess(env, tmp_path)
        await first.start()
        try:
            await first.ready()
            assert first.process is not None
            pid = first.process.pid
            getme = len(fake.calls_to("getMe"))

            second = BotProcess(env, tmp_path)
            await second.start()
            status = await ends_by_itself(second)
            assert status == 1, second.log
            assert f"pid {pid}" in second.log
            assert socket.gethostname() in second.log
            assert "`courtyard run`" in second.log and "since 20" in second.log
            assert "Traceback" not in second.log
            assert len(fake.calls_to("getMe")) == getme  # it never spoke to Telegram

            # beside the running bot: backup and health work, migrate and restore refuse
            made = courtyard("backup", env=env, cwd=tmp_path)
            assert made.returncode == 0, made.stderr
            assert courtyard("health", env=env, cwd=tmp_path).returncode == 0
            migrate = courtyard("migrate", env=env, cwd=tmp_path)
            assert migrate.returncode == 1 and f"pid {pid}" in migrate.stderr
            backup_file = next((tmp_path / "bk").glob("courtyard-*.sqlite3"))
            restore = courtyard("restore", str(backup_file), env=env, cwd=tmp_path)
            assert restore.returncode == 1 and f"pid {pid}" in restore.stderr
            assert "Traceback" not in migrate.stderr + restore.stderr
        finally:
            await first.kill()  # SIGKILL: no clean-up of any kind

        third = BotProcess(env, tmp_path)
        await third.start()
        try:
            await third.ready()
        finally:
            status = await third.terminate()
        assert status == 0, third.log[-2000:]
    assert lock_path(db).exists()  # never deleted; harmless once its holder is gone
    again = courtyard("migrate", env=clean_env(COURTYARD_DB=str(db)), cwd=tmp_path)
    assert again.returncode == 0 and "already up to date" in again.stdout


def test_the_lock_names_its_holder_and_is_released(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    with ProcessLock(db, "run"):
        with pytest.raises(AlreadyRunning) as refused:
            ProcessLock(db, "migrate").acquire()  # another open file: refused, same process
        message = str(refused.value)
        assert f"pid {os.getpid()}" in message and "`courtyard run`" in message
        assert str(db) in message
    with ProcessLock(db, "migrate") as lock:  # released by the first
        assert lock.still_ours()
        lock_path(db).unlink()  # someone removes the lock file: we notice
        assert not lock.still_ours()
        with ProcessLock(db, "run"):  # ...because now a second one can lock a new file
            pass


def test_a_lock_file_that_cannot_be_created_is_one_sentence(tmp_path: Path) -> None:
    missing_folder = tmp_path / "nowhere" / "c.sqlite3"
    result = courtyard("migrate", env=clean_env(COURTYARD_DB=str(missing_folder)), cwd=tmp_path)
    assert result.returncode == 2 and "does not exist" in result.stderr  # config says so
    lock_path(tmp_path / "c.sqlite3").mkdir()  # a folder where the lock file should be
    result = courtyard(
        "migrate", env=clean_env(COURTYARD_DB=str(tmp_path / "c.sqlite3")), cwd=tmp_path
    )
    assert result.returncode == 1
    assert "cannot create the lock file" in result.stderr and "Traceback" not in result.stderr


def test_a_symlinked_database_shares_the_lock_of_its_target(tmp_path: Path) -> None:
    real = tmp_path / "data" / "courtyard.sqlite3"
    real.parent.mkdir()
    link = tmp_path / "courtyard.sqlite3"
    link.symlink_to(real)
    with ProcessLock(real, "run"), pytest.raises(AlreadyRunning):
        ProcessLock(link, "run").acquire()
