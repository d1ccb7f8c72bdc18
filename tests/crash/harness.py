"""Kill -9 trials: the real ``courtyard run`` process against the fake Bot API of this process.

One trial, on a fresh database and a fresh fake Telegram:

1. before the start, ``REMINDERS`` one-off reminders are written straight into the database
   (``posts`` + ``scheduled`` rows, as ``/remind`` stores them) for a second group, due a
   moment after the bot will have started;
2. run A: the bot starts; Alice posts a poll and an event in "Maple Court"; ``RESIDENTS``
   residents each press one option of the poll and "Going" on the event, spread over about a
   second, while the reminders fall due; at a random moment (seeded) the process is killed
   with SIGKILL. Right after the kill the database is read to note which reminders were
   *in flight* (their scheduled row ``running``);
3. run B: the bot starts again on the same files, takes the updates Telegram hands out again,
   fires what is due; once it is idle it is stopped with SIGTERM.

Then what the fake recorded is checked against the database (``Outcome``): every press the bot
acknowledged is stored, every reminder was delivered, a reminder delivered twice was in flight
at the kill, every open card shows what a fresh render of the database shows (the poll's and the
event's: a kill between a press's commit and its card refresh must not leave the card behind),
both runs logged no traceback and run B exited with status 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Bot

import bot.app  # noqa: F401 - every feature registers its cards
from bot.config import Settings
from bot.outbox import Outbox
from bot.roles import Roles
from bot.scheduler import Scheduler
from bot.services import Services
from handlers import cards
from playground import FakeChat, FakeTelegram, FakeUser
from storage.db import Database, migrations, to_db

TOKEN = "123456:TEST-courtyard-crash-token-abc"
ROOT = Path(__file__).resolve().parents[2]

RESIDENTS = 24
REMINDERS = 6
OPTIONS = ("Green", "Blue", "Red")
#: Seconds from the process start until it polls (measured: about 0.9 s on 2 cores).
STARTUP_GUESS = 1.0
#: The presses of run A are spread over this many seconds.
BURST_SECONDS = 1.2


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURTYARD_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


class BotProcess:
    """``python -m bot run`` with its stderr read as it comes (the pipe never fills)."""

    def __init__(self, env: dict[str, str], cwd: Path):
        self.env = env
        self.cwd = cwd
        self.process: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=self.env,
            cwd=self.cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.lines.append(line.decode(errors="replace"))

    async def ready(self, timeout: float = 120.0) -> None:  # noqa: ASYNC109
        """Wait until the application has started (its first getUpdates is then on its way;
        a long poll is recorded by the fake only when it is answered).

        The wait is long on purpose: five bots start at once beside the other test worker, and
        on a loaded 2-core machine a start has been seen to take over 30 s (4.5 s when idle)."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        deadline = began + timeout
        while not any("Application started" in line for line in self.lines):
            assert self.process is not None
            if self.process.returncode is not None or loop.time() > deadline:
                if self.process.returncode is not None and self._reader is not None:
                    # the exit is seen before its last lines are read: read them, so the
                    # error says why it exited
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(asyncio.shield(self._reader), timeout=5)
                raise RuntimeError(
                    f"the bot did not start (exit code {self.process.returncode},"
                    f" {loop.time() - began:.1f} s): {self.log[-2000:]}"
                )
            await asyncio.sleep(0.02)

    async def logged(self, text: str, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        """Wait until a line containing ``text`` was logged (no error if it never comes: the
        checks that follow say what is missing)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not any(text in line for line in self.lines) and loop.time() < deadline:
            if self.process is not None and self.process.returncode is not None:
                return
            await asyncio.sleep(0.02)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def kill(self) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.kill()  # SIGKILL: no handler, no flush, no goodbye
        await self._finish()

    async def terminate(self, timeout: float = 20.0) -> int:  # noqa: ASYNC109
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self._finish(), timeout)
        except TimeoutError:
            self.process.kill()
            await self._finish()
            raise
        assert self.process.returncode is not None
        return self.process.returncode

    async def _finish(self) -> None:
        assert self.process is not None
        await self.process.wait()
        if self._reader is not None:
            await self._reader


def migrate(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        for migration in migrations():
            conn.executescript(migration.sql)
            conn.execute(f"PRAGMA user_version = {migration.version}")
        conn.commit()
    finally:
        conn.close()


def add_chat(conn: sqlite3.Connection, chat: FakeChat, now: datetime) -> None:
    conn.execute(
        "INSERT INTO chats (id, type, title, language, timezone, joined_at)"
        " VALUES (?, ?, ?, 'en', 'UTC', ?)",
        (chat.id, chat.type, chat.title, to_db(now)),
    )


def add_reminder(
    conn: sqlite3.Connection, chat: FakeChat, creator: FakeUser, text: str, due: datetime
) -> int:
    """A one-off group reminder exactly as ``storage.posts.create`` writes it."""
    now = datetime.now(UTC)
    cur = conn.execute(
        "INSERT INTO posts (kind, chat_id, target_chat_id, creator_id, creator_name, text,"
        " first_local, tz, rrule, pin, created_at)"
        " VALUES ('reminder', ?, ?, ?, ?, ?, ?, 'UTC', NULL, 0, ?)",
        (
            chat.id,
            chat.id,
            creator.id,
            creator.full_name,
            text,
            due.replace(tzinfo=None).isoformat(timespec="minutes"),
            to_db(now),
        ),
    )
    conn.execute(
        "INSERT INTO scheduled (chat_id, kind, ref_id, run_at, due_at, status, created_at)"
        " VALUES (?, 'post', ?, ?, ?, 'pending', ?)",
        (chat.id, cur.lastrowid, to_db(due), to_db(due), to_db(now)),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


@dataclass
class Press:
    user: FakeUser
    kind: str  # "vote" | "going"
    option: int  # the poll option (votes)
    query_id: str = ""


@dataclass
class Outcome:
    """What one trial observed. ``problems`` must stay empty."""

    seed: int
    kill_after: float = 0.0
    presses: int = 0
    acknowledged: int = 0
    lost_acknowledged: int = 0
    unanswered: int = 0
    unanswered_stored: int = 0
    reminders_due: int = 0
    delivered: int = 0
    duplicates: int = 0
    in_flight_at_kill: int = 0
    skipped_redeliveries: int = 0
    cards_checked: int = 0
    cards_mismatched: int = 0
    problems: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def _db(path: Path | str) -> Iterator[Any]:
    """A blocking connection to the trial's database: the SQLite file, or the PostgreSQL
    database of a ``postgresql://`` URL (the same SQL, rows read by name)."""
    from storage.pg import SyncConnection, is_url

    conn: Any
    if is_url(path):
        conn = SyncConnection(str(path))
    else:
        conn = sqlite3.connect(path, timeout=10)
        conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


def _ok_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "Traceback" in line]


async def run_trial(seed: int, workdir: Path, url: str | None = None) -> Outcome:
    """One trial on the SQLite file ``workdir/courtyard.sqlite3``, or on the (migrated,
    empty) PostgreSQL database at ``url``."""
    rng = random.Random(seed)
    out = Outcome(seed=seed)
    workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once per trial, tiny
    db_path: Any = url if url is not None else workdir / "courtyard.sqlite3"
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        alice = fake.user("Alice", language_code="en")
        residents = [fake.user(f"R{i}", language_code="en") for i in range(RESIDENTS)]
        court = fake.group("Maple Court", admins=[alice], members=residents, with_bot=True)
        birch = fake.group("Birch Court", admins=[alice], with_bot=True)
        env = clean_env(
            COURTYARD_TOKEN=TOKEN,
            COURTYARD_API_URL=fake.base_url,
            COURTYARD_DB=str(db_path),
            COURTYARD_BACKUP_HOURS="0",
            COURTYARD_BACKUP_DIR=str(workdir / "bk"),
            COURTYARD_LOG_LEVEL="INFO",
            COURTYARD_KEYS_DIR=str(workdir / "keys"),
        )
        if url is None:
            migrate(db_path)
        start = datetime.now(UTC)
        texts: dict[str, int] = {}
        dues: dict[str, datetime] = {}
        with _db(db_path) as conn:
            add_chat(conn, court, start)
            add_chat(conn, birch, start)
            for i in range(REMINDERS):
                due = start + timedelta(seconds=STARTUP_GUESS + rng.uniform(0.3, 2.6))
                text = f"crash-{seed}-reminder-{i}"
                texts[text] = add_reminder(conn, birch, alice, text, due)
                dues[text] = due.replace(microsecond=0)  # stored to the second
            conn.commit()
        out.reminders_due = len(texts)

        # --- run A: set up, burst, kill -9 at a random moment
        first = BotProcess(env, workdir)
        await first.start()
        try:
            await first.ready()
            mark = fake.mark()
            await alice.send(court, "/poll Paint the door? | " + " | ".join(OPTIONS))
            poll_card = await fake.wait_for("sendMessage", since=mark, timeout=15, chat_id=court.id)
            mark = fake.mark()
            await alice.send(court, "/event Yard cleanup | in 3 days 10:00 | Yard")
            event_card = await fake.wait_for(
                "sendMessage", since=mark, timeout=15, chat_id=court.id
            )
            with _db(db_path) as conn:
                poll_id = conn.execute("SELECT max(id) FROM polls").fetchone()[0]
                event_id = conn.execute("SELECT max(id) FROM events").fetchone()[0]
            presses = [Press(u, "vote", rng.randrange(len(OPTIONS))) for u in residents]
            presses += [Press(u, "going", -1) for u in residents]
            rng.shuffle(presses)
            out.presses = len(presses)
            # half the kills aim at the instant the reminders fall due (their sends in flight),
            # the others at any moment of the burst of presses; and one trial in three is
            # killed right after the last press is answered, while the cards' refreshes are
            # still coalescing (nothing presses them again after the restart)
            after_burst = seed % 3 == 2
            if rng.random() < 0.5:
                aim = rng.choice(sorted(set(dues.values())))
                out.kill_after = (aim - datetime.now(UTC)).total_seconds() + rng.uniform(0, 0.08)
            else:
                out.kill_after = rng.uniform(0.0, BURST_SECONDS + 0.3)
            out.kill_after = max(0.0, out.kill_after)

            began = time.monotonic()

            async def killer() -> None:
                if after_burst:
                    return
                await asyncio.sleep(out.kill_after)
                await first.kill()

            kill = asyncio.create_task(killer())
            gap = BURST_SECONDS / len(presses)
            for press in presses:
                if press.kind == "vote":
                    query = await press.user.press(
                        poll_card.result, f"pl:v:{poll_id}:{press.option}", chat=court
                    )
                else:
                    query = await press.user.press(
                        event_card.result, f"ev:g:{event_id}", chat=court
                    )
                press.query_id = str(query.id)
                await asyncio.sleep(gap * rng.uniform(0.2, 1.8))
            await kill
            if after_burst:
                with contextlib.suppress(TimeoutError):
                    await fake.wait_until(lambda: not fake.unanswered_callbacks, timeout=5)
                out.kill_after = time.monotonic() - began
                await first.kill()
        except BaseException:
            await first.kill()
            raise
        kill_mark = fake.mark()
        clock0 = time.monotonic()
        with _db(db_path) as conn:
            in_flight = {
                int(r["ref_id"])
                for r in conn.execute(
                    "SELECT ref_id FROM scheduled WHERE kind = 'post' AND status = 'running'"
                )
            }
        out.in_flight_at_kill = len(in_flight)
        if tracebacks := _ok_lines(first.log):
            out.problems.append(f"run A logged a traceback before the kill: {tracebacks[:2]}")

        # --- run B: restart, settle, SIGTERM
        second = BotProcess(env, workdir)
        await second.start()
        try:
            await second.ready()
            out.phases["restart"] = time.monotonic() - clock0

            def delivered_all() -> bool:
                return all(sends_of(fake, text) for text in texts)

            with contextlib.suppress(TimeoutError):
                await fake.wait_until(delivered_all, timeout=STARTUP_GUESS + 8)
            out.phases["delivered"] = time.monotonic() - clock0
            await fake.until_confirmed(timeout=10)
            out.phases["confirmed"] = time.monotonic() - clock0
            # the start-up check of the cards has compared them (its redraws go out at once)
            await second.logged("handlers.cards: cards checked=", timeout=15)
            out.phases["cards"] = time.monotonic() - clock0
            await quiet(fake, 0.4)
            out.phases["quiet"] = time.monotonic() - clock0
        finally:
            code = await second.terminate()
            out.phases["stopped"] = time.monotonic() - clock0
        if code != 0:
            out.problems.append(f"run B exited with {code}: {second.log[-1500:]}")
        if tracebacks := _ok_lines(second.log):
            out.problems.append(f"run B logged a traceback: {second.log[-3000:]}")
        out.skipped_redeliveries = second.log.count("was handled before a restart")

        # --- what the fake recorded vs the database
        with _db(db_path) as conn:
            if url is None:  # the file is intact (PostgreSQL keeps its own files)
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    out.problems.append(f"quick_check: {check}")
            votes = {
                int(r["user_id"]): int(r["choices"])
                for r in conn.execute(
                    "SELECT user_id, choices FROM poll_votes WHERE poll_id = ?", (poll_id,)
                )
            }
            going = {
                int(r["user_id"])
                for r in conn.execute(
                    "SELECT user_id FROM event_signups WHERE event_id = ? AND going = 1",
                    (event_id,),
                )
            }
        for press in presses:
            answer = fake.callback_answer(press.query_id)
            stored = (
                votes.get(press.user.id) == 1 << press.option
                if press.kind == "vote"
                else press.user.id in going
            )
            if answer is None:
                out.unanswered += 1
                out.unanswered_stored += stored
                continue
            text = str(answer.get("text") or "")
            if answer.get("show_alert") or "went wrong" in text:
                out.problems.append(f"press {press.kind} by {press.user} refused: {text!r}")
                continue
            out.acknowledged += 1
            expected = f"“{OPTIONS[press.option]}”" if press.kind == "vote" else "going"
            if expected not in text:
                out.problems.append(f"press {press.kind} by {press.user} answered {text!r}")
            if not stored:
                out.lost_acknowledged += 1
                out.problems.append(f"acknowledged {press.kind} by {press.user} not stored")
        for text, post_id in texts.items():
            sends = sends_of(fake, text)
            if sends:
                out.delivered += 1
            if len(sends) > 1:
                out.duplicates += len(sends) - 1
                before = [c for c in sends if c.index < kill_mark]
                if len(sends) > 2 or len(before) != 1 or post_id not in in_flight:
                    out.problems.append(
                        f"{text} sent {len(sends)} times ({len(before)} before the kill,"
                        f" in flight at the kill: {post_id in in_flight})"
                    )
        if out.delivered != out.reminders_due:
            out.problems.append(f"reminders delivered {out.delivered} of {out.reminders_due}")
        await check_cards(fake, db_path, out, second.log)
    return out


async def check_cards(fake: FakeTelegram, db_path: Path | str, out: Outcome, log: str) -> None:
    """Every open card on the fake Telegram must show what a fresh render of the database
    shows (the renderers are the bot's own, run here on the stopped bot's database)."""
    from storage.pg import PgDatabase, is_url, local_path

    db: Any
    if is_url(db_path):
        db = await PgDatabase.open(str(db_path), migrate=False, readers=1)
        local = local_path(str(db_path))
    else:
        db = await Database.open(db_path, migrate=False, create=False)
        local = Path(db_path)
    try:
        client = Bot(TOKEN, base_url=fake.base_url)
        services = Services(
            settings=Settings(token=TOKEN, db_path=local, api_url=fake.base_url),
            db=db,
            outbox=Outbox(client),
            roles=Roles(client, db),
            scheduler=Scheduler(db, None, lambda: datetime.now(UTC)),
            clock=lambda: datetime.now(UTC),
        )
        for card, rendered in await cards.render_all(services):
            if rendered is None or not card.open:
                continue
            out.cards_checked += 1
            text, markup = rendered
            if not fake.shows(fake.chats[card.chat_id], card.message_id, text, markup):
                out.cards_mismatched += 1
                shown = fake.message(fake.chats[card.chat_id], card.message_id)
                edits = [
                    f"#{c.index} {c.ok} {c.description or ''}"
                    for c in fake.calls_to("editMessageText", message_id=card.message_id)
                ]
                notes = [line for line in log.splitlines() if "card" in line.lower()]
                out.problems.append(
                    f"{card.kind} card {card.row_id} shows {shown and shown.text!r},"
                    f" the database says {text!r}; edits {edits[-4:]}; log {notes[-4:]}"
                )
    finally:
        await db.close()


def sends_of(fake: FakeTelegram, text: str) -> list[Any]:
    """The messages the bot sent that contain ``text``."""
    return [
        c
        for c in fake.calls
        if c.method == "sendMessage" and c.ok and text in str(c.params.get("text", ""))
    ]


async def quiet(fake: FakeTelegram, seconds: float, limit: float = 15.0) -> None:
    """Wait (at most ``limit`` seconds) until the bot made no call but getUpdates for
    ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        calls = fake.api_calls
        last = calls[-1].at if calls else 0.0
        if time.monotonic() - last >= seconds:
            return
        await asyncio.sleep(0.05)


@dataclass
class Summary:
    trials: int = 0
    presses: int = 0
    acknowledged: int = 0
    lost_acknowledged: int = 0
    unanswered: int = 0
    unanswered_stored: int = 0
    reminders_due: int = 0
    delivered: int = 0
    duplicates: int = 0
    in_flight_at_kill: int = 0
    skipped_redeliveries: int = 0
    cards_checked: int = 0
    cards_mismatched: int = 0
    failures: list[Outcome] = field(default_factory=list)

    def add(self, out: Outcome) -> None:
        self.trials += 1
        for name in (
            "presses",
            "acknowledged",
            "lost_acknowledged",
            "unanswered",
            "unanswered_stored",
            "reminders_due",
            "delivered",
            "duplicates",
            "in_flight_at_kill",
            "skipped_redeliveries",
            "cards_checked",
            "cards_mismatched",
        ):
            setattr(self, name, getattr(self, name) + getattr(out, name))
        if out.problems:
            self.failures.append(out)

    def line(self) -> str:
        return (
            f"crash trials={self.trials} presses={self.presses} acknowledged={self.acknowledged}"
            f" lost_acknowledged={self.lost_acknowledged} reminders_due={self.reminders_due}"
            f" delivered={self.delivered} duplicates={self.duplicates}"
            f" in_flight_at_kill={self.in_flight_at_kill}"
            f" unanswered_presses={self.unanswered} (of which stored: {self.unanswered_stored},"
            f" redeliveries skipped: {self.skipped_redeliveries})"
            f" cards_checked={self.cards_checked} cards_mismatched={self.cards_mismatched}"
            f" failed_trials={len(self.failures)}"
        )


async def run_trials(
    seeds: list[int], workdir: Path, parallel: int = 3, backend: str = "sqlite"
) -> Summary:
    """Trials side by side (each has its own fake, files and process; most of a trial is
    waiting), ``parallel`` at a time; ``backend="postgresql"``: each on a new database of the
    test server (tests/pg.py)."""
    summary = Summary()
    gate = asyncio.Semaphore(parallel)
    urls: dict[int, str] = {}
    if backend == "postgresql":
        from tests import pg

        for seed in seeds:  # one after the other: the first makes the template
            urls[seed] = await pg.new_database()

    async def one(seed: int) -> None:
        async with gate:
            summary.add(await run_trial(seed, workdir / f"trial-{seed}", urls.get(seed)))

    await asyncio.gather(*(one(seed) for seed in seeds))
    return summary
