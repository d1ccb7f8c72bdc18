"""The database file as an operator can get it wrong, against the real `courtyard run`: missing
(never created on start), deleted or replaced while the bot runs (noticed, the bot stops with
status 1 and one line, a press whose vote reached only the deleted file is not answered as
done), read-only file or folder, a -wal file of another user, not a database, locked by another
program, a failing disk. Each is one sentence, never a traceback.

Permission cases run the bot without the right to override file modes: as an ordinary user
that is the case anyway; as root the child drops CAP_DAC_OVERRIDE (and its kin) from its
capability bounding set before it starts, so root-owned files with mode 0444 are read-only
to it as they would be to the `courtyard` user of the container or the systemd unit."""

from __future__ import annotations

import asyncio
import ctypes
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from playground import FakeTelegram
from storage.db import migrations, split_statements
from tests.crash.harness import BotProcess
from tests.e2e.conftest import TOKEN
from tests.e2e.test_cli import clean_env, courtyard, fill, migrated

ROOT = Path(__file__).resolve().parents[2]
PR_CAPBSET_DROP = 24
#: CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
FILE_CAPS = (1, 2, 3)


def _drop_file_caps() -> None:  # runs in the child between fork and exec
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in FILE_CAPS:
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            os._exit(99)


def run_without_file_privileges(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_drop_file_caps,
    )
    if result.returncode == 99:
        pytest.skip("cannot drop CAP_DAC_OVERRIDE here (no CAP_SETPCAP)")
    return result


def one_sentence(stderr: str, *words: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "sqlite3.OperationalError" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("courtyard: ")]
    assert len(lines) == 1, stderr
    for word in words:
        assert word in lines[0], lines[0]


async def start_bot(env: dict[str, str], cwd: Path) -> BotProcess:
    bot = BotProcess(env, cwd)
    await bot.start()
    await bot.ready()
    return bot


async def exits(bot: BotProcess, timeout: float = 30.0) -> int:  # noqa: ASYNC109
    assert bot.process is not None
    try:
        await asyncio.wait_for(bot.process.wait(), timeout)
    finally:
        await asyncio.sleep(0.1)
    return await bot.terminate()


def test_run_never_creates_a_database(tmp_path: Path) -> None:
    db = tmp_path / "courtyard.sqlite3"
    env = clean_env(COURTYARD_TOKEN=TOKEN, COURTYARD_API_URL="http://127.0.0.1:9/bot")
    result = courtyard("run", env={**env, "COURTYARD_DB": str(db)}, cwd=tmp_path)
    assert result.returncode == 1
    one_sentence(result.stderr, f"there is no database at {db}", "courtyard migrate")
    assert "courtyard restore" in result.stderr
    assert "cannot reach the Bot API" not in result.stderr  # refused before anything else
    assert list(tmp_path.iterdir()) == []  # nothing created, not even the lock file
    assert courtyard("migrate", env={**env, "COURTYARD_DB": str(db)}, cwd=tmp_path).returncode == 0


def test_the_container_entry_creates_the_database_on_the_first_start(tmp_path: Path) -> None:
    """deploy/docker-entrypoint.sh: `run` is preceded by `courtyard migrate`; other commands
    are passed on as they are."""
    db = tmp_path / "data" / "courtyard.sqlite3"
    db.parent.mkdir()
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "courtyard").write_text(f'#!/bin/sh\nexec {sys.executable} -m bot "$@"\n')
    (shim / "courtyard").chmod(0o755)
    env = clean_env(COURTYARD_DB=str(db), PATH=f"{shim}:{os.environ['PATH']}")
    entry = str(ROOT / "deploy" / "docker-entrypoint.sh")
    health = subprocess.run(
        ["sh", entry, "health"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert health.returncode == 1 and not db.exists()  # not `run`: no migrate first
    first = subprocess.run(
        ["sh", entry, "run", "--help"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    assert "migration(s) applied" in first.stdout and "--webhook" in first.stdout
    assert db.is_file()


def test_every_file_the_image_copies_is_in_its_build_context() -> None:
    """.dockerignore rules (last match wins, ``!`` re-includes, a folder covers its files)
    against the COPY lines of the Dockerfile."""
    from fnmatch import fnmatch

    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        verdict = False
        for rule in rules:
            negate = rule.startswith("!")
            pattern = rule.lstrip("!")
            if any(fnmatch(prefix, pattern) for prefix in prefixes):
                verdict = not negate
        return verdict

    sources = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            sources += line.split()[1:-1]
    assert "deploy/docker-entrypoint.sh" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored(source), f"{source} is left out of the build context"


async def test_a_database_deleted_while_running_stops_the_bot(tmp_path: Path) -> None:
    db = migrated(tmp_path / "courtyard.sqlite3")
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        alice = fake.user("Alice", language_code="en")
        bob = fake.user("Bob", language_code="en")
        carol = fake.user("Carol", language_code="en")
        court = fake.group("Maple Court", admins=[alice], members=[bob, carol])
        env = clean_env(
            COURTYARD_TOKEN=TOKEN,
            COURTYARD_API_URL=fake.base_url,
            COURTYARD_DB=str(db),
            COURTYARD_BACKUP_HOURS="0",
        )
        bot = await start_bot(env, tmp_path)
        try:
            await fake.add_bot(court, by=alice)
            await fake.wait_for("sendMessage", timeout=15, chat_id=court.id)
            mark = fake.mark()
            await alice.send(court, "/poll Paint the door? | Green | Blue")
            card = await fake.wait_for("sendMessage", since=mark, timeout=15, chat_id=court.id)
            with sqlite3.connect(db) as conn:
                poll_id = conn.execute("SELECT max(id) FROM polls").fetchone()[0]
            conn.close()
            mark = fake.mark()
            done = await bob.press(card.result, f"pl:v:{poll_id}:0", chat=court)
            answered = await fake.wait_for(
                "answerCallbackQuery", since=mark, timeout=15, callback_query_id=str(done.id)
            )
            said_done = str(answered.params.get("text", ""))
            assert said_done

            db.unlink()  # an operator's mistake, a cleaning script, a lost volume
            mark = fake.mark()
            lost = await carol.press(card.result, f"pl:v:{poll_id}:1", chat=court)
            status = await exits(bot)
        finally:
            if bot.process is not None and bot.process.returncode is None:
                await bot.kill()
        answers = fake.calls_to("answerCallbackQuery", callback_query_id=str(lost.id))
        assert all(str(a.params.get("text", "")) != said_done for a in answers)
    log = bot.log
    assert status == 1, log[-3000:]
    assert f"the database file {db} was deleted while Courtyard was running" in log
    critical = [line for line in log.splitlines() if " CRITICAL " in line]
    assert len(critical) == 1 and "stopping:" in critical[0]
    assert "Traceback" not in log
    # and the next start does not quietly begin again on an empty database, nor does the
    # `courtyard migrate` that systemd and the container run before every start
    again = courtyard("run", env=env, cwd=tmp_path)
    assert again.returncode == 1 and "there is no database" in again.stderr
    assert "but there was one: Courtyard ran on it (`courtyard run`" in again.stderr
    migrate = courtyard("migrate", env=env, cwd=tmp_path)
    assert migrate.returncode == 1 and "courtyard migrate --new" in migrate.stderr
    assert not db.exists()
    anew = courtyard("migrate", "--new", env=env, cwd=tmp_path)  # the operator's choice
    assert anew.returncode == 0, anew.stderr
    with sqlite3.connect(db) as conn:  # the deleted file's -wal was not replayed into it
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM polls").fetchone()[0] == 0
    conn.close()


def test_an_empty_file_is_no_database(tmp_path: Path) -> None:
    """A program that opened the path after the database vanished (any sqlite3.connect) leaves
    an empty file there: `courtyard run` must not fill it with a new schema."""
    db = tmp_path / "courtyard.sqlite3"
    db.touch()
    env = clean_env(
        COURTYARD_TOKEN=TOKEN, COURTYARD_API_URL="http://127.0.0.1:9/bot", COURTYARD_DB=str(db)
    )
    fresh = courtyard("run", env=env, cwd=tmp_path)
    assert fresh.returncode == 1
    one_sentence(fresh.stderr, f"the database {db} is empty", "courtyard migrate")
    assert db.stat().st_size == 0
    assert courtyard("migrate", env=env, cwd=tmp_path).returncode == 0  # a first start: fine

    (tmp_path / "courtyard.sqlite3.lock").write_text(  # a bot ran on it...
        '{"pid": 77, "command": "migrate", "bot": {"pid": 4242, "host": "house-pi",'
        ' "since": "2026-12-01 10:00:00 UTC", "command": "run"}}'
    )
    db.unlink()
    db.touch()  # ...and now the file is empty
    again = courtyard("run", env=env, cwd=tmp_path)
    assert again.returncode == 1
    one_sentence(again.stderr, "is empty (no Courtyard tables), but there was one", "pid 4242")
    migrate = courtyard("migrate", env=env, cwd=tmp_path)
    assert migrate.returncode == 1 and "courtyard migrate --new" in migrate.stderr
    assert db.stat().st_size == 0
    assert courtyard("migrate", "--new", env=env, cwd=tmp_path).returncode == 0


def test_migrate_does_not_make_anew_a_database_that_has_backups(tmp_path: Path) -> None:
    db = migrated(tmp_path / "courtyard.sqlite3")
    env = clean_env(COURTYARD_DB=str(db), COURTYARD_BACKUP_DIR=str(tmp_path / "bk"))
    made = courtyard("backup", env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    newest = next((tmp_path / "bk").iterdir())
    db.unlink()  # a volume not mounted, a wrong COURTYARD_DB, a mistake
    refused = courtyard("migrate", env=env, cwd=tmp_path)
    assert refused.returncode == 1 and not db.exists()
    one_sentence(refused.stderr, "but there was one", f"courtyard restore {newest}")
    restored = courtyard("restore", str(newest), env=env, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert courtyard("migrate", env=env, cwd=tmp_path).returncode == 0


async def test_a_database_replaced_while_running_stops_a_quiet_bot(tmp_path: Path) -> None:
    db = migrated(tmp_path / "courtyard.sqlite3")
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        env = clean_env(
            COURTYARD_TOKEN=TOKEN,
            COURTYARD_API_URL=fake.base_url,
            COURTYARD_DB=str(db),
            COURTYARD_BACKUP_HOURS="0",
        )
        bot = await start_bot(env, tmp_path)
        try:
            other = migrated(tmp_path / "other.sqlite3")
            os.replace(other, db)  # e.g. a file copied into place while the bot runs
            status = await exits(bot)  # no update arrives: the periodic check notices
        finally:
            if bot.process is not None and bot.process.returncode is None:
                await bot.kill()
    assert status == 1
    assert f"the database file {db} was replaced by another file" in bot.log
    assert "Traceback" not in bot.log


def older(path: Path, version: int = 7) -> Path:
    """A database of an older release: the first ``version`` migrations only."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for migration in migrations()[:version]:
            for statement in split_statements(migration.sql):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    return path


def prepared(tmp_path: Path, *, version: int | None = None) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "data"
    folder.mkdir()
    name = folder / "courtyard.sqlite3"
    db = migrated(name) if version is None else older(name, version)
    env = clean_env(
        COURTYARD_TOKEN=TOKEN,
        COURTYARD_API_URL="http://127.0.0.1:9/bot",  # never reached: the file is refused first
        COURTYARD_DB=str(db),
    )
    return db, env


def test_a_read_only_database_file(tmp_path: Path) -> None:
    db, env = prepared(tmp_path)
    db.chmod(0o444)
    try:
        result = run_without_file_privileges(env, tmp_path)
    finally:
        db.chmod(0o644)
    assert result.returncode == 1
    one_sentence(result.stderr, f"the database {db} is read-only for the user running Courtyard")


def test_a_read_only_folder(tmp_path: Path) -> None:
    db, env = prepared(tmp_path)
    db.parent.chmod(0o555)
    try:
        result = run_without_file_privileges(env, tmp_path)
    finally:
        db.parent.chmod(0o755)
    assert result.returncode == 1
    one_sentence(result.stderr, f"the folder {db.parent} is not writable")


def test_permission_denied_on_the_wal(tmp_path: Path) -> None:
    db, env = prepared(tmp_path)
    holder = sqlite3.connect(db)  # another user's program (root here) has it open
    try:
        holder.execute("SELECT count(*) FROM chats").fetchone()
        wal = Path(f"{db}-wal")
        assert wal.exists()
        if os.geteuid() != 0:  # as an ordinary user the file would have to be another's
            pytest.skip("needs root to give the -wal file to another user")
        for extra in (wal, Path(f"{db}-shm")):
            os.chown(extra, 12345, 12345)  # left by a start as another user
            extra.chmod(0o600)
        result = run_without_file_privileges(env, tmp_path)
    finally:
        holder.close()
    assert result.returncode == 1
    one_sentence(result.stderr, f"permission denied on {db}-wal")


def test_a_lock_file_of_another_user(tmp_path: Path) -> None:
    db, env = prepared(tmp_path)  # `sudo courtyard migrate` once: files of root
    lock = Path(f"{db}.lock")
    assert lock.exists()
    if os.geteuid() != 0:
        pytest.skip("needs root to give the lock file to another user")
    os.chown(lock, 12345, 12345)
    lock.chmod(0o600)
    result = run_without_file_privileges(env, tmp_path)
    assert result.returncode == 1
    one_sentence(result.stderr, f"cannot open the lock file {lock}", "belongs to uid 12345")


def test_not_a_database(tmp_path: Path) -> None:
    db, env = prepared(tmp_path)
    db.write_bytes(b"PK\x03\x04 this is a zip file, not a database" * 200)
    result = courtyard("run", env=env, cwd=tmp_path)
    assert result.returncode == 1
    one_sentence(result.stderr, f"cannot open the database {db}", "courtyard restore")


def test_a_database_locked_by_another_program(tmp_path: Path) -> None:
    db, env = prepared(tmp_path)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")  # an sqlite3 shell in the middle of a transaction
        result = courtyard("run", env=env, cwd=tmp_path)
    finally:
        holder.close()
    assert result.returncode == 1
    one_sentence(result.stderr, f"the database {db} is locked by another program")


def _limit_file_size(size: int) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


def test_a_disk_that_refuses_writes_at_start(tmp_path: Path) -> None:
    """Pending migrations on a disk that cannot take them (here: a file size limit, which
    the kernel enforces like a full disk): one sentence, nothing half-applied."""
    db, env = prepared(tmp_path, version=7)  # migrations to apply...
    fill(db, "Maple Court", rows=400)  # ...to a database of some size
    size = db.stat().st_size
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_file_size(max(size // 4, 8192)),
    )
    assert result.returncode == 1
    one_sentence(result.stderr, f"the database {db}", "rolled back")
    with sqlite3.connect(db) as conn:  # whole migrations only, every row still there
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert 7 <= conn.execute("PRAGMA user_version").fetchone()[0] < len(migrations())
        assert conn.execute("SELECT count(*) FROM delivery_failures").fetchone()[0] == 400
    conn.close()


def test_full_disk(tmp_path: Path) -> None:
    """A real full disk: a 2 MB tmpfs, mounted in a private mount namespace of the child (so
    nothing stays mounted), filled up to the last bytes before the start."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) to mount a small tmpfs")
    db, env = prepared(tmp_path, version=7)  # migrations to apply at start
    small = tmp_path / "small"
    small.mkdir()
    script = (
        f"mount -t tmpfs -o size=2m tmpfs {small} || exit 98; "
        f"cp {db} {small}/courtyard.sqlite3; "
        f"dd if=/dev/zero of={small}/filler bs=4k 2>/dev/null; "
        f"exec {sys.executable} -m bot run"
    )
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        env={**env, "COURTYARD_DB": str(small / "courtyard.sqlite3")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode == 98 or "unshare failed" in result.stderr:
        pytest.skip("cannot mount a tmpfs here")
    assert result.returncode == 1, result.stderr
    one_sentence(result.stderr, "the disk holding it is full", "Free some space")
