"""Scale benchmark: memory and time at 10 000 groups with 100 000 pending scheduled rows.

    python bench/scale_bench.py [--quick] [--groups 10000] [--rows 100000]
                                [--steady 60] [--rate 20] [--latency 0.05]

The bot runs in a child process (so its RSS, CPU and event-loop lag are its own), polling the
fake Bot API served by this process over loopback, exactly as in production. Three runs, one
after the other, against the same fake world (``--groups`` groups with the bot in them):

1. bare PTB: an ``Application`` with no handlers (what python-telegram-bot costs by itself);
2. Courtyard, empty DB: the real ``build_app`` on a migrated, empty SQLite file;
3. Courtyard, full DB: the same app on a database built with bulk SQL matching the schema:
   ``--groups`` group chats with settings (mixed languages and zones), 30 members each, units
   in a third of the groups, and ``--rows`` pending ``scheduled`` rows over 90 days (60 %
   reminders/announcements, 25 % event reminders, 15 % poll closes, each with its feature
   row, sign-ups and votes). Of the rows: 0.1 % fell due in the last 30 minutes (the bot was
   down: they fire at start, late), 1.5 % are due within the arming horizon (2 h), and 0.5 %
   are due at the same second inside the steady period (everyone's "09:00" reminder).

Each run measures: start-up time until the first getUpdates reaches the fake; RSS after the
imports and after the start; jobs armed; lag of a 10 ms ticker (max, p99) during the start-up,
a 5 s catch-up (overdue rows firing) and a steady period (``--steady`` s of ``--rate``
commands/s spread over the groups, due rows firing); CPU and RSS after the steady period; the
latency of the command replies. The fake answers every call after ``--latency`` s, as
Telegram does; the bot uses Telegram's real limits (``Limits()``: 30 messages/s overall).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOKEN = "123456:BENCH-scale-token-00000000000"
MARK = "@@ "
CATCH_UP = 5.0
TICK = 0.010
COMMANDS = ("/help", "/events", "/reminders", "/units")
LANGS = ("en", "en", "en", "zh_Hans", "ru")
ZONES = ("UTC", "Europe/Berlin", "Asia/Shanghai", "Europe/Moscow", "America/New_York")


# --- measuring (child side) ---------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Ticker:
    """A 10 ms ticker: how late each wake-up is, i.e. how long the loop was blocked."""

    def __init__(self) -> None:
        self.late: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        due = time.monotonic() + TICK
        while True:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            now = time.monotonic()
            self.late.append(max(0.0, now - due))
            due = now + TICK

    def take(self) -> dict[str, float]:
        """Stats of the samples since the last take (ms), then start afresh."""
        late, self.late = self.late, []
        if len(late) < 2:
            return {"max": float("nan"), "p99": float("nan"), "p50": float("nan"), "n": 0}
        q = statistics.quantiles(late, n=100, method="inclusive")
        return {
            "max": max(late) * 1000,
            "p99": q[98] * 1000,
            "p50": q[49] * 1000,
            "over100": sum(1 for x in late if x > 0.1),
            "n": len(late),
        }


def emit(**data: Any) -> None:
    print(MARK + json.dumps(data), flush=True)


class ThreadTrace:
    """``--trace``: the time each SQL statement takes on its connection's thread (and waits in
    its queue), by connection, and what each thread is running at a given moment."""

    def __init__(self) -> None:
        import aiosqlite

        self.busy: dict[tuple[int, str], list[float]] = {}  # (conn, sql) -> [n, run, queued]
        self.running: dict[int, tuple[str, float]] = {}
        self.names: dict[int, str] = {}
        original = aiosqlite.Connection._execute
        trace = self

        async def _execute(conn: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            sql = args[0] if args and isinstance(args[0], str) else getattr(fn, "__name__", "?")
            sql = " ".join(str(sql).split())[:160]
            queued = time.perf_counter()

            def timed() -> Any:
                began = time.perf_counter()
                trace.running[id(conn)] = (sql, began)
                try:
                    return fn(*args, **kwargs)
                finally:
                    trace.running.pop(id(conn), None)
                    row = trace.busy.setdefault((id(conn), sql), [0, 0.0, 0.0])
                    row[0] += 1
                    row[1] += time.perf_counter() - began
                    row[2] += began - queued

            return await original(conn, timed)  # type: ignore[no-untyped-call]

        aiosqlite.Connection._execute = _execute  # type: ignore[method-assign, assignment]

    def name(self, conn: Any, label: str) -> None:
        self.names[id(conn)] = label

    def now_running(self) -> dict[str, Any]:
        moment = time.perf_counter()
        return {
            self.names.get(c, str(c)): [sql, round((moment - t) * 1000)]
            for c, (sql, t) in list(self.running.items())
        }

    def of(self, sql: str) -> dict[str, float]:
        """Thread time (ms) of one statement or call, by connection."""
        return {
            self.names.get(c, str(c)): round(run * 1000, 1)
            for (c, name), (_, run, _) in self.busy.items()
            if name == sql
        }

    def top(self, n: int = 12) -> list[Any]:
        rows = sorted(self.busy.items(), key=lambda kv: -kv[1][1])[:n]
        return [
            [self.names.get(c, str(c)), sql, int(k), round(run * 1000), round(q * 1000)]
            for (c, sql), (k, run, q) in rows
        ]


async def child(mode: str, db_path: str, api: str, trace: bool = False) -> None:
    tracer = ThreadTrace() if trace else None
    ticker = Ticker()
    ticker.start()
    from telegram import Update
    from telegram.ext import ApplicationBuilder

    if mode == "bare":
        app: Any = None
    else:
        from bot.app import build_app
        from bot.config import Settings
        from bot.outbox import Limits
    # imports done: this is the process as it is before the bot starts
    rss_before = rss_mb()
    ticker.take()
    cpu0 = cpu_s()
    began = time.monotonic()
    emit(ev="begin", t=began)
    if mode == "bare":
        app = ApplicationBuilder().token(TOKEN).base_url(api).get_updates_read_timeout(20).build()
    else:
        config = Settings(token=TOKEN, db_path=Path(db_path), api_url=api)
        app = build_app(config, limits=Limits(), poll_timeout=10)
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=10, allowed_updates=Update.ALL_TYPES)
    started = time.monotonic()
    services = app.bot_data.get("services")
    if tracer is not None and services is not None:
        tracer.name(services.db._writer, "writer")
        tracer.name(services.db._reader, "reader")

    def state() -> dict[str, Any]:
        sched = services.scheduler if services is not None else None
        return {
            "rss": rss_mb(),
            "peak": peak_mb(),
            "armed": sched.armed if sched is not None else 0,
            "jobs": len(app.job_queue.jobs()) if app.job_queue is not None else 0,
            "stats": dict(sched.stats) if sched is not None else {},
        }

    emit(
        ev="started",
        t=started,
        seconds=started - began,
        rss_before=rss_before,
        cpu=cpu_s() - cpu0,
        lag=ticker.take(),
        **state(),
    )
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    mark_cpu, mark_t = cpu_s(), time.monotonic()
    while True:
        line = (await reader.readline()).decode().strip()
        now_cpu, now_t = cpu_s(), time.monotonic()
        phase = {"lag": ticker.take(), "cpu": (now_cpu - mark_cpu) / (now_t - mark_t)}
        mark_cpu, mark_t = now_cpu, now_t
        if line in ("", "stop"):
            break
        emit(ev=line, **phase, **state())
    # the order of Application.run_polling's stop; each step timed
    t0 = time.monotonic()
    steps: dict[str, float] = {}
    stacks = os.environ.get("SCALE_STACKS")
    sampling = None
    if stacks:  # every thread's stack each 2 s while the stop lasts: where it waits
        import threading
        import traceback

        sampling = threading.Event()

        def sample() -> None:  # sys._current_frames under the GIL (faulthandler crashed here)
            with open(stacks, "w") as out:
                while not sampling.wait(2.0):
                    out.write(f"--- {time.monotonic() - t0:.1f} s into the stop\n")
                    for ident, frame in sys._current_frames().items():
                        out.write(f"thread {ident}:\n{''.join(traceback.format_stack(frame))}\n")
                    out.flush()

        threading.Thread(target=sample, daemon=True).start()

    watcher = None
    tasks_file = os.environ.get("SCALE_STOP_TASKS")
    if tasks_file:  # what the stop's tasks wait on, each 0.5 s, into that file

        async def watch() -> None:
            from collections import Counter

            out = open(tasks_file, "w")  # noqa: SIM115, ASYNC230 - a diagnostic
            while True:
                await asyncio.sleep(0.5)
                seen: Counter[str] = Counter()
                for task in asyncio.all_tasks():
                    stack = task.get_stack()
                    where = " < ".join(
                        f"{f.f_code.co_name}:{f.f_lineno}" for f in reversed(stack[-4:])
                    )
                    seen[where] += 1
                print(f"--- {time.monotonic() - t0:.1f} s into the stop", file=out)
                for where, n in seen.most_common(12):
                    print(f"  {n:5d}  {where}", file=out, flush=True)

        watcher = asyncio.create_task(watch())

    async def step(name: str, work: Any) -> None:
        began = time.monotonic()
        await work
        steps[name] = time.monotonic() - began
        print(f"stop step {name}: {steps[name] * 1000:.0f} ms", file=sys.stderr, flush=True)

    await step("updater", app.updater.stop())
    running = len(app.job_queue._executor._pending_futures) if app.job_queue else 0
    await step("app.stop (updates, jobs)", app.stop())
    if app.post_stop is not None:
        await step("post_stop (outbox)", app.post_stop(app))
    await step("app.shutdown", app.shutdown())
    extra: dict[str, Any] = {}
    if services is not None:  # post_shutdown's two steps, timed apart
        extra["refreshes_left"] = services.outbox.pending_refreshes
        extra["tasks_left"] = len(services.outbox._tasks)
        wal = str(services.db.path) + "-wal"
        size = os.stat(wal).st_size if os.path.exists(wal) else 0  # noqa: ASYNC240 - stopped
        extra["wal_mb"] = size / 1e6
        extra["queued"] = [c._tx.qsize() for c in (services.db._writer, services.db._reader)]
        if tracer is not None:
            extra["running_at_close"] = tracer.now_running()
        extra["stopped_rows"] = services.scheduler.stats.get("stopped", 0)
        await step("outbox.close", services.outbox.close())
        # as in production (bot/app.py's _shutdown): Database.close cuts the reader's reads
        # short (nothing a read does is acknowledged) and lets every queued write finish; the
        # writer's close folds the WAL into the file
        await step("db.close", services.db.close())
    if app.post_shutdown is not None:
        await step("post_shutdown (the rest)", app.post_shutdown(app))
    if sampling is not None:
        sampling.set()
    if watcher is not None:
        watcher.cancel()
    if tracer is not None:
        extra["trace"] = tracer.top()
        extra["close_on_thread_ms"] = tracer.of("close")
    emit(ev="stopped", seconds=time.monotonic() - t0, steps=steps, running_jobs=running, **extra)


# --- the database (parent side) -----------------------------------------------------------------


def ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def group_id(i: int) -> int:
    return -(4_200_000_000 + i)


def member_id(i: int, j: int) -> int:
    return 7_100_000_000 + i * 30 + j


def seed(
    path: Path,
    groups: int,
    rows: int,
    now: datetime,
    cluster_at: datetime,
    housekeeping: bool = True,
) -> dict[str, Any]:
    """Fill a migrated database; returns the polls whose cards the fake must hold, by group."""
    from bot.domain.settings import ChatSettings

    rnd = random.Random(11)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA foreign_keys = ON")
    created = ts(now - timedelta(days=30))
    with conn:
        conn.executemany(
            "INSERT INTO chats (id, type, title, language, timezone, settings, joined_at)"
            " VALUES (?, 'group', ?, ?, ?, ?, ?)",
            [
                (
                    group_id(i),
                    f"Court {i}",
                    LANGS[i % len(LANGS)],
                    ZONES[i % len(ZONES)],
                    ChatSettings(language=LANGS[i % len(LANGS)]).extra_json(),
                    created,
                )
                for i in range(groups)
            ],
        )
        conn.executemany(
            "INSERT INTO members (chat_id, user_id, display_name, role) VALUES (?, ?, ?, ?)",
            (
                (
                    group_id(i),
                    member_id(i, j),
                    f"Neighbour {i}-{j}",
                    "organizer" if j == 1 else "resident",
                )
                for i in range(groups)
                for j in range(30)
            ),
        )
        unit_groups = range(0, groups, 3)
        conn.executemany(
            "INSERT INTO units (id, chat_id, label, area_num, area_den, created_at)"
            " VALUES (?, ?, ?, 60, 1, ?)",
            (
                (i * 12 + k + 1, group_id(i), f"{k // 4 + 1}{k % 4 + 1:02d}", created)
                for i in unit_groups
                for k in range(12)
            ),
        )
        conn.executemany(
            "INSERT INTO unit_members (unit_id, chat_id, user_id, status, requested_at)"
            " VALUES (?, ?, ?, 'approved', ?)",
            (
                (i * 12 + k + 1, group_id(i), member_id(i, k + 2), created)
                for i in unit_groups
                for k in range(12)
            ),
        )

    # when each row is due
    horizon = timedelta(hours=2)
    overdue = rows // 1000
    cluster = rows // 200
    near = rows * 15 // 1000
    times: list[datetime] = []
    times += [now - timedelta(seconds=rnd.uniform(60, 1800)) for _ in range(overdue)]
    times += [cluster_at] * cluster
    times += [
        now + timedelta(seconds=rnd.uniform(10, horizon.total_seconds())) for _ in range(near)
    ]
    far = (timedelta(days=90) - horizon).total_seconds()
    times += [
        now + horizon + timedelta(seconds=rnd.uniform(0, far)) for _ in range(rows - len(times))
    ]
    rnd.shuffle(times)
    cards: dict[int, list[int]] = {}
    scheduled: list[tuple[Any, ...]] = []
    posts: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    signups: list[tuple[Any, ...]] = []
    polls: list[tuple[Any, ...]] = []
    votes: list[tuple[Any, ...]] = []
    soon = now + horizon
    for n, due in enumerate(times):
        i = n % groups
        gid = group_id(i)
        ref = n + 1
        roll = n % 20
        if roll < 12:  # reminders and announcements, a third of them weekly
            kind = "post"
            rrule = "FREQ=WEEKLY" if n % 3 == 0 else None
            local = due.astimezone(ZoneInfo(ZONES[i % len(ZONES)]))
            posts.append(
                (
                    ref,
                    "announcement" if n % 4 == 0 else "reminder",
                    gid,
                    gid,
                    member_id(i, 1),
                    f"Neighbour {i}-1",
                    f"Bins out tonight, and the bikes out of the hall ({n})",
                    local.replace(tzinfo=None).isoformat(timespec="minutes"),
                    ZONES[i % len(ZONES)],
                    rrule,
                    created,
                )
            )
        elif roll < 17:  # event reminders, an hour before the event
            kind = "event_reminder"
            starts = due + timedelta(hours=1)
            events.append(
                (
                    ref,
                    gid,
                    member_id(i, 1),
                    f"Neighbour {i}-1",
                    f"Yard cleanup {n}",
                    "Yard",
                    ts(starts),
                    20,
                    created,
                )
            )
            signups += [
                (ref, gid, member_id(i, j), f"Neighbour {i}-{j}", j, 1) for j in range(2, 8)
            ]
        else:  # poll closes
            kind = "poll_close"
            message_id = None
            if due <= soon:
                cards.setdefault(gid, []).append(ref)
            else:
                message_id = 10_000 + ref
            polls.append(
                (
                    ref,
                    gid,
                    member_id(i, 1),
                    f"Paint the hall green? ({n})",
                    json.dumps(["Yes", "No", "Later"]),
                    ts(due),
                    message_id,
                    created,
                )
            )
            votes += [
                (ref, gid, str(member_id(i, j)), member_id(i, j), 1 << (j % 3), created)
                for j in range(2, 12)
            ]
        scheduled.append((gid, kind, ref, ts(due), created))
    with conn:
        conn.executemany(
            "INSERT INTO posts (id, kind, chat_id, target_chat_id, creator_id, creator_name,"
            " text, first_local, tz, rrule, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            posts,
        )
        conn.executemany(
            "INSERT INTO events (id, chat_id, creator_id, creator_name, title, place, starts_at,"
            " capacity, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        conn.executemany(
            "INSERT INTO event_signups (event_id, chat_id, user_id, name, seq, going)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            signups,
        )
        conn.executemany(
            "INSERT INTO polls (id, chat_id, creator_id, question, options, closes_at,"
            " message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            polls,
        )
        conn.executemany(
            "INSERT INTO poll_votes (poll_id, chat_id, voter, user_id, choices, voted_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            votes,
        )
        conn.executemany(
            "INSERT INTO scheduled (chat_id, kind, ref_id, run_at, due_at, created_at)"
            " VALUES (?, ?, ?, ?, ?4, ?)",
            scheduled,
        )
        if housekeeping:
            # every group's daily retention row, as in a database in use for a day: without
            # them the bot plans 10 000 of them 30 s after its start, in one write transaction
            # (a one-off after an upgrade; --no-housekeeping measures it)
            from handlers.privacy import first_purge
            from storage.privacy import RETENTION_KIND

            conn.executemany(
                "INSERT INTO scheduled (chat_id, kind, ref_id, run_at, due_at, created_at)"
                " VALUES (?, ?, NULL, ?, ?3, ?)",
                (
                    (
                        group_id(i),
                        RETENTION_KIND,
                        ts(first_purge(now, ZONES[i % len(ZONES)])),
                        created,
                    )
                    for i in range(groups)
                ),
            )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    counts = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in (
            "chats",
            "members",
            "units",
            "scheduled",
            "posts",
            "events",
            "polls",
            "poll_votes",
            "event_signups",
        )
    }
    conn.close()
    # built with synchronous=OFF: its pages may still wait in the page cache, and the bot's first
    # checkpoint (at its close) would pay for flushing all 93 MB of them, which a database in
    # use for a while never does: the shutdown measured 7-28 s in db.close before this
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())
    return {"cards": cards, "counts": counts, "overdue": overdue, "cluster": cluster, "near": near}


# --- driving (parent side) ----------------------------------------------------------------------


class Child:
    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc

    async def expect(self, event: str, timeout: float = 300) -> dict[str, Any]:  # noqa: ASYNC109
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            line = await asyncio.wait_for(
                self.proc.stdout.readline(), timeout=max(0.1, deadline - time.monotonic())
            )
            if not line:
                raise RuntimeError(f"the bot process ended before {event!r}")
            text = line.decode()
            if text.startswith(MARK):
                data: dict[str, Any] = json.loads(text[len(MARK) :])
                if data["ev"] != event:
                    raise RuntimeError(f"expected {event!r}, got {data!r}")
                return data

    async def say(self, word: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{word}\n".encode())
        await self.proc.stdin.drain()
        return await self.expect("stopped" if word == "stop" else word)


def reply_target(params: dict[str, Any]) -> int | None:
    raw = params.get("reply_parameters")
    if raw is None:
        return None
    data = json.loads(raw) if isinstance(raw, str) else raw
    return int(data["message_id"])


async def run(
    label: str, mode: str, db_path: Path, fake: Any, actors: list[tuple[Any, Any]], args: Any
) -> dict[str, Any]:
    log = open(db_path.with_suffix(".log"), "w")  # noqa: SIM115, ASYNC230 - closed below
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--child",
        mode,
        "--db",
        str(db_path),
        "--api",
        fake.base_url,
        *(["--trace"] if args.trace else []),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
        limit=2**20,
    )
    bot = Child(proc)
    out: dict[str, Any] = {"label": label}
    try:
        begin = await bot.expect("begin")
        started = await bot.expect("started", timeout=600)
        for _ in range(500):  # the polling task sends its first request just after
            polls = [t for t in fake.poll_arrivals if t >= begin["t"]]
            if polls:
                break
            await asyncio.sleep(0.01)
        out["first_poll"] = (polls[0] - begin["t"]) if polls else float("nan")
        out["started"] = started
        await asyncio.sleep(CATCH_UP)
        out["catchup"] = await bot.say("catchup")
        # steady: commands across the groups at --rate per second
        mark = len(fake.calls)
        t_steady = time.monotonic()
        out["t_steady"] = t_steady
        sent: dict[tuple[int, int], float] = {}
        rnd = random.Random(3)
        order = list(range(len(actors)))
        rnd.shuffle(order)
        total = int(args.steady * args.rate)
        for n in range(total):
            target = t_steady + n / args.rate
            await asyncio.sleep(max(0.0, target - time.monotonic()))
            user, group = actors[order[n % len(order)]]
            message = await user.send(group, COMMANDS[n % len(COMMANDS)])
            sent[(group.id, message.message_id)] = time.monotonic()
        await asyncio.sleep(max(0.0, t_steady + args.steady - time.monotonic()))
        out["steady"] = await bot.say("steady")
        # wait for the last replies (until none came for 5 s), then read their latency
        latency: list[float] = []
        deadline = time.monotonic() + 5
        seen = -1
        while time.monotonic() < deadline:
            latency = []
            for call in fake.calls[mark:]:
                if call.method == "sendMessage" and call.ok:
                    key = (int(call.params["chat_id"]), reply_target(call.params) or -1)
                    if key in sent:
                        latency.append(call.at - sent[key])
            if len(latency) >= len(sent) or mode == "bare":
                break
            if len(latency) > seen:
                seen, deadline = len(latency), time.monotonic() + 5
            await asyncio.sleep(0.2)
        out["replies"] = len(latency)
        out["commands"] = len(sent)
        q = (
            statistics.quantiles(latency, n=100, method="inclusive")
            if len(latency) > 1
            else [float("nan")] * 99
        )
        out["reply_p50"], out["reply_p99"] = q[49], q[98]
        out["reply_max"] = max(latency) if latency else float("nan")
        window = [c for c in fake.calls[mark:] if c.method != "getUpdates"]
        out["sends"] = sum(1 for c in window if c.method == "sendMessage" and c.ok)
        out["edits"] = sum(1 for c in window if c.method == "editMessageText" and c.ok)
        out["failed"] = sum(1 for c in window if not c.ok)
        failures: dict[str, int] = {}
        for c in window:
            if not c.ok:
                what = f"{c.method} {c.error_code}: {(c.description or '')[:90]}"
                failures[what] = failures.get(what, 0) + 1
        out["failures"] = sorted(failures.items(), key=lambda kv: -kv[1])[:5]
        out["stop"] = await bot.say("stop")
        await asyncio.wait_for(proc.wait(), timeout=60)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
        log.close()
        sys.stderr.write(db_path.with_suffix(".log").read_text()[-4000:])
        raise
    log.close()
    stacks = os.environ.get("SCALE_STACKS")
    if stacks:  # keep the bot's log beside its stacks
        Path(f"{stacks}.{mode}.log").write_text(db_path.with_suffix(".log").read_text())  # noqa: ASYNC240
    return out


def track_polls(fake: Any) -> None:
    """Note when each getUpdates request *arrives* (the fake records calls when answered, and a
    long poll is answered only when an update comes or its timeout ends)."""
    fake.poll_arrivals = []
    answer = fake._api_request

    async def tracked(token: str, method: str, request: Any) -> Any:
        if method.lower() == "getupdates":
            fake.poll_arrivals.append(time.monotonic())
        return await answer(token, method, request)

    fake._api_request = tracked


async def parent(args: argparse.Namespace) -> None:
    from playground import FakeTelegram
    from storage.db import Database

    groups, rows = args.groups, args.rows
    print(
        f"scale: {groups:,} groups (30 members each), {rows:,} pending scheduled rows over 90 days;"
        f" steady {args.steady:.0f} s at {args.rate:g} commands/s; fake Bot API latency"
        f" {args.latency * 1000:.0f} ms; bot in a child process, Telegram's real limits"
    )
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeTelegram(token=TOKEN, bot_username="scale_bot") as fake:
            if args.latency > 0:
                fake.inject("*", delay=args.latency, times=None)
            track_polls(fake)
            t0 = time.perf_counter()
            n_actors = min(groups, 2000)
            fake_groups = []
            actors = []
            for i in range(groups):
                members = []
                if i < n_actors:
                    user = fake.user(
                        f"Neighbour {i}-0", user_id=member_id(i, 0), language_code="en"
                    )
                    members.append(user)
                group = fake.group(
                    f"Court {i}", members=members, with_bot=True, chat_id=group_id(i)
                )
                fake_groups.append(group)
                if members:
                    actors.append((members[0], group))
            world_s = time.perf_counter() - t0

            results = []
            if not args.only_full:
                results.append(
                    await run("bare PTB", "bare", Path(tmp) / "bare.sqlite3", fake, actors, args)
                )
                empty = Path(tmp) / "empty.sqlite3"
                await (await Database.open(empty)).close()
                results.append(
                    await run("Courtyard, empty DB", "courtyard", empty, fake, actors, args)
                )

            full = Path(tmp) / "full.sqlite3"
            await (await Database.open(full)).close()
            t0 = time.perf_counter()
            now = datetime.now(UTC).replace(microsecond=0)
            # the cluster falls inside the steady period (start-up + catch-up take ~7-10 s)
            cluster_at = now + timedelta(seconds=10 + args.steady / 3)
            seeded = seed(full, groups, rows, now, cluster_at, not args.no_housekeeping)
            # the cards of the polls closing soon (closing() closes; sqlite3's own context
            # manager only commits, and an idle connection of this process stayed open on the
            # bot's database for the whole run)
            with contextlib.closing(sqlite3.connect(full)) as conn, conn:
                for gid, refs in seeded["cards"].items():
                    for ref in refs:
                        data = fake.add_message(
                            fake.chats[gid], fake.bot_dict(), {"text": f"poll card {ref}"}
                        )
                        conn.execute(
                            "UPDATE polls SET message_id = ? WHERE id = ?",
                            (data["message_id"], ref),
                        )
            seed_s = time.perf_counter() - t0
            size = full.stat().st_size / 2**20
            c = seeded["counts"]
            print(
                f"  fake world {world_s:.1f} s; database built in {seed_s:.1f} s, {size:.0f} MB:"
                f" {c['chats']:,} chats, {c['members']:,} members, {c['units']:,} units,"
                f" {c['scheduled']:,} scheduled ({seeded['overdue']} overdue,"
                f" {seeded['near']:,} within 2 h, {seeded['cluster']} at one second"
                f"{'' if args.no_housekeeping else f', {groups:,} daily retention rows'}),"
                f" {c['posts']:,} posts, {c['events']:,} events, {c['polls']:,} polls,"
                f" {c['poll_votes'] + c['event_signups']:,} votes and sign-ups"
            )
            label = f"Courtyard, {groups // 1000}k groups"
            results.append(await run(label, "courtyard", full, fake, actors, args))
            # where the "09:00" cluster fell, counted from the start of the steady period
            at = time.monotonic() + (cluster_at.timestamp() - time.time())
            offset = at - results[-1]["t_steady"]
    report(results, args)
    report_trace(results)
    print(
        f"  the {seeded['cluster']} rows due at one second fell {offset:.0f} s into the steady"
        f" period; the {seeded['overdue']} overdue rows fired at start (late, within the grace)"
    )


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    def row(name: str, get: Any, fmt: str = ".1f", ratio: bool = True) -> None:
        values = [get(r) for r in results]
        cells = "".join(f"{v if isinstance(v, str) else format(v, fmt):>14}" for v in values)
        tail = ""
        if ratio and len(values) == 3:

            def rt(a: float, b: float) -> str:
                return f"x{a / b:.2f}" if b and a == a and b == b else "-"

            tail = f"{rt(values[2], values[1]):>11}{rt(values[2], values[0]):>10}"
        print(f"  {name:38s}{cells}{tail}")

    def pair(a: Any, b: Any) -> str:
        return f"{a:,} / {b:,}"

    print(
        f"  {'':38s}"
        + "".join(f"{r['label'].replace('Courtyard, ', ''):>14.14s}" for r in results)
        + f"{'full/empty':>11}{'full/bare':>10}"
    )
    row("start-up to first getUpdates (ms)", lambda r: r["first_poll"] * 1000, ".0f")
    row("RSS after imports (MB)", lambda r: r["started"]["rss_before"], ".1f")
    row("RSS after start (MB)", lambda r: r["started"]["rss"], ".1f")
    row(
        "  growth during start (MB)",
        lambda r: r["started"]["rss"] - r["started"]["rss_before"],
        ".1f",
    )
    row("CPU during start (s)", lambda r: r["started"]["cpu"], ".2f")
    row("jobs armed at start", lambda r: r["started"]["armed"], ",d", ratio=False)
    row("loop lag, start-up: max (ms)", lambda r: r["started"]["lag"]["max"], ".1f")
    row("loop lag, start-up: p99 (ms)", lambda r: r["started"]["lag"]["p99"], ".1f")
    row(
        f"loop lag, catch-up {CATCH_UP:.0f} s: max (ms)",
        lambda r: r["catchup"]["lag"]["max"],
        ".1f",
    )
    row("loop lag, catch-up: p99 (ms)", lambda r: r["catchup"]["lag"]["p99"], ".1f")
    row(
        "rows fired by end of catch-up",
        lambda r: r["catchup"]["stats"].get("fired", 0),
        ",d",
        ratio=False,
    )
    row(
        f"loop lag, steady {args.steady:.0f} s: max (ms)",
        lambda r: r["steady"]["lag"]["max"],
        ".1f",
    )
    row("loop lag, steady: p99 (ms)", lambda r: r["steady"]["lag"]["p99"], ".1f")
    row(
        "loop stalls > 100 ms in steady",
        lambda r: r["steady"]["lag"].get("over100", 0),
        ",d",
        ratio=False,
    )
    row("CPU in steady (% of one core)", lambda r: r["steady"]["cpu"] * 100, ".0f")
    row("RSS after steady (MB)", lambda r: r["steady"]["rss"], ".1f")
    row("RSS peak (MB)", lambda r: r["steady"]["peak"], ".1f")
    row("rows armed after steady", lambda r: r["steady"]["armed"], ",d", ratio=False)
    row("jobs in the JobQueue after steady", lambda r: r["steady"]["jobs"], ",d", ratio=False)
    row(
        "rows fired (all, by end of steady)",
        lambda r: r["steady"]["stats"].get("fired", 0),
        ",d",
        ratio=False,
    )
    row(
        "rows missed / retried",
        lambda r: pair(
            r["steady"]["stats"].get("missed", 0), r["steady"]["stats"].get("retried", 0)
        ),
        ratio=False,
    )
    row("commands sent / answered", lambda r: pair(r["commands"], r["replies"]), ratio=False)
    row("reply latency p50 (ms)", lambda r: r["reply_p50"] * 1000, ".0f")
    row("reply latency p99 (ms)", lambda r: r["reply_p99"] * 1000, ".0f")
    row("messages sent / edits in steady", lambda r: pair(r["sends"], r["edits"]), ratio=False)
    row("failed Bot API calls in steady", lambda r: r["failed"], ",d", ratio=False)
    row("shutdown (ms)", lambda r: r["stop"]["seconds"] * 1000, ".0f")
    row("  jobs running at the stop", lambda r: r["stop"].get("running_jobs", 0), ",.0f", False)
    row(
        "  scheduled sends stopped unsent",
        lambda r: r["stop"].get("stopped_rows", 0),
        ",.0f",
        False,
    )
    row("  WAL at the close (MB)", lambda r: r["stop"].get("wal_mb", 0), ".1f", False)
    print(f"  queued at the close (writer, reader): {results[-1]['stop'].get('queued')}")
    if "close_on_thread_ms" in results[-1]["stop"]:
        print(
            f"  of it on the connections' threads (ms): {results[-1]['stop']['close_on_thread_ms']}"
        )
    if "running_at_close" in results[-1]["stop"]:
        print(f"  running at the close (sql, ms so far): {results[-1]['stop']['running_at_close']}")
    for name in results[-1]["stop"].get("steps", {}):
        row(f"  {name} (ms)", lambda r, n=name: r["stop"].get("steps", {}).get(n, 0) * 1000, ".0f")


def report_trace(results: list[dict[str, Any]]) -> None:
    """What the SQLite threads spent their time on (``--trace``), and the failed calls."""
    for r in results:
        if r.get("failures"):
            print(f"  failed calls, {r['label']}: {r['failures']}")
        if "trace" not in r["stop"]:
            continue
        print(f"  SQLite threads, {r['label']}: connection, statement, n, run ms, queued ms")
        for conn, sql, n, run_ms, queued_ms in r["stop"]["trace"]:
            print(f"    {conn:6s} {n:7,d} {run_ms:8,d} {queued_ms:9,d}  {sql[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1 000 groups, 10 000 rows")
    parser.add_argument("--groups", type=int)
    parser.add_argument("--rows", type=int)
    parser.add_argument("--steady", type=float, default=60.0, help="seconds of steady traffic")
    parser.add_argument("--rate", type=float, default=20.0, help="commands per second")
    parser.add_argument("--latency", type=float, default=0.05, help="fake API delay, seconds")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="time every SQL statement on its connection's thread; print the costliest",
    )
    parser.add_argument(
        "--no-housekeeping",
        action="store_true",
        help="seed no daily retention rows (the bot then plans one per group, as after an upgrade)",
    )
    parser.add_argument(
        "--only-full", action="store_true", help="skip the bare PTB and empty-database runs"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import logging

        logging.basicConfig(level=logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        asyncio.run(child(args.child, args.db, args.api, args.trace))
        return
    args.groups = args.groups or (1_000 if args.quick else 10_000)
    args.rows = args.rows or (10_000 if args.quick else 100_000)
    asyncio.run(parent(args))


if __name__ == "__main__":
    main()
