"""Where a vote press spends its time: the bot's CPU per press, by layer, against a bare PTB bot.

    python bench/profile_votes.py [--presses 3000] [--users 100] [--latency 0] [--rate 250]
                                  [--keep DIR] [--skip-plain]

The bot runs in a child process (the fake Bot API stays in this one, so its work is not in the
profile). Scenario of ``bench/votes_bench.py``: one group, ``--users`` neighbours, a poll whose
option buttons they press (vote, move, withdraw); a warm-up press each first, so member rows
exist. Then ``--presses`` presses are sent at ``--rate`` per second (under the CPU ceiling,
so the bot keeps up and every press is measured the same way) while ``py-spy`` samples the
child (all threads, event loop thread; the SQLite workers are measured from /proc). Printed:

* CPU ms per press of the whole process and of its threads (event loop vs SQLite workers),
  against the baseline measured in the same run: a bare PTB ``Application`` whose only
  handler answers the callback query (the ceiling our press path can approach); and, first,
  the plain python-telegram-bot app of ``bench/votes_bench.py`` (its own processor and httpx:
  the baseline of issue 14's goal), whose CPU per press against ours is the ratio of
  presses/s a CPU-bound run can reach (``--skip-plain`` leaves it out);
* aiosqlite round trips (event loop -> SQLite thread -> event loop) and write transactions
  per press, Bot API calls per press;
* the event loop thread's CPU per layer: its py-spy samples, each given to the first frame
  from the leaf that belongs to a known layer, scaled to its measured CPU per press; and its
  top frames (the project's innermost frame in the sample, else the leaf).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOKEN = "123456:BENCH-profile-token-000000000"
MARK = "@@ "

#: (layer, fragments of py-spy's "function (path:line)" frames): the first frame from the leaf
#: that matches names the layer.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("db: sqlite3 module", ("(sqlite3/",)),
    ("db: aiosqlite (worker threads, futures)", ("(aiosqlite/",)),
    (
        "http client: httpx/httpcore/h11/anyio",
        ("(httpx/", "(httpcore/", "(h11/", "(anyio/", "(sniffio/", "(certifi/"),
    ),
    (
        "http client: aiohttp/yarl/multidict (bot/http.py)",
        ("(aiohttp/", "(yarl/", "(multidict/", "(propcache/", "(bot/http"),
    ),
    ("json encode/decode", ("(json/",)),
    (
        "ptb: parse updates and results (de_json)",
        (
            "(telegram/_utils",
            "(telegram/_telegramobject",
            "(telegram/_message",
            "(telegram/_update",
            "(telegram/_user",
            "(telegram/_chat",
            "(telegram/_callbackquery",
            "(telegram/_inline",
        ),
    ),
    (
        "ptb: bot methods, request building",
        ("(telegram/_bot", "(telegram/request/", "(telegram/ext/_extbot"),
    ),
    ("ptb: dispatch, handlers, updater", ("(telegram/ext/",)),
    ("ptb: other", ("(telegram/",)),
    ("our storage (storage/)", ("(storage/",)),
    ("our outbox (bot/outbox.py)", ("(bot/outbox",)),
    (
        "our rendering (i18n, babel, render_card)",
        ("(bot/i18n", "(babel/", "render_card", "_keyboard", "(bot/domain/"),
    ),
    (
        "our handlers (handlers/, bot/app.py)",
        ("(handlers/", "(bot/app", "(bot/roles", "(bot/flood"),
    ),
    ("asyncio loop, selectors, sockets", ("(asyncio/", "(selectors.py", "(socket.py", "(ssl.py")),
    ("logging", ("(logging/",)),
)


def top_frame(stack: list[str]) -> str:
    """The innermost frame of the project's own code (handlers/, bot/, storage/) when the
    sample is in it or below it, else the innermost frame: where the CPU went, by caller."""
    for frame in reversed(stack):
        if any(f"({p}/" in frame for p in ("handlers", "bot", "storage")):
            return frame.split(" (")[0] + " (" + frame.split(" (")[1].rsplit(":", 1)[0] + ")"
    leaf = stack[-1] if stack else "?"
    return leaf.split(" (")[0] + " (" + leaf.split(" (")[-1].rsplit(":", 1)[0].split("/")[-1] + ")"


def layer_of(stack: list[str]) -> str:
    for frame in reversed(stack):  # leaf last in py-spy's raw format
        for name, fragments in LAYERS:
            if any(f in frame for f in fragments):
                return name
    return "other (stdlib, interpreter)"


# --- child: the bot ------------------------------------------------------------------------------


def emit(**data: Any) -> None:
    print(MARK + json.dumps(data), flush=True)


def thread_cpu() -> dict[str, float]:
    """CPU seconds per thread kind: the event loop ('main'), aiosqlite workers, others."""
    tick = os.sysconf("SC_CLK_TCK")
    kinds = {
        t.native_id: ("main" if t is threading.main_thread() else type(t).__name__)
        for t in threading.enumerate()
    }
    out: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = kinds.get(int(tid), "other")
        if kind in ("Connection", "Thread"):  # aiosqlite's worker threads
            kind = "sqlite"
        out[kind] = out.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


async def child(mode: str, db_path: str, api: str) -> None:
    import aiosqlite
    from telegram import Update
    from telegram.error import BadRequest
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler

    from bot.app import CONCURRENT_UPDATES, TrackingUpdateProcessor, build_app
    from bot.config import Settings
    from bot.http import bot_request
    from bot.outbox import Limits

    trips = Counter[str]()
    original = aiosqlite.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips["round trips"] += 1
        sql = args[0] if args and isinstance(args[0], str) else None
        one_trip = "Database.transaction" in getattr(fn, "__qualname__", "")
        if one_trip or (sql is not None and sql.startswith("BEGIN")):
            trips["write transactions"] += 1
        what = " ".join(sql.split())[:70] if sql else getattr(fn, "__qualname__", "?")
        trips["trip: " + what] += 1
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    aiosqlite.Connection._execute = counted  # type: ignore[method-assign]

    if mode in ("bare", "plain"):
        builder = ApplicationBuilder().token(TOKEN).base_url(api)
        if mode == "plain":  # python-telegram-bot as it comes: its processor, httpx
            builder = builder.concurrent_updates(16).get_updates_read_timeout(11)
        else:  # our processor and the same HTTP client as Courtyard's (COURTYARD_HTTP)
            builder = (
                builder.concurrent_updates(TrackingUpdateProcessor(CONCURRENT_UPDATES))
                .request(bot_request())
                .get_updates_request(bot_request(read_timeout=11, connection_pool_size=1))
            )
        app: Any = builder.build()

        async def just_answer(update: Update, context: Any) -> None:
            assert update.callback_query is not None
            with contextlib.suppress(BadRequest):
                await update.callback_query.answer("ok")

        app.add_handler(CallbackQueryHandler(just_answer))
    else:
        app = build_app(
            Settings(token=TOKEN, db_path=Path(db_path), api_url=api),
            limits=Limits(),
            poll_timeout=1,
        )
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
    emit(ev="started", pid=os.getpid())
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if line in ("", "stop"):
            break
        if line == "mark":
            trips.clear()
            emit(ev="mark", cpu=thread_cpu(), t=time.monotonic())
        elif line == "report":
            emit(ev="report", cpu=thread_cpu(), t=time.monotonic(), trips=dict(trips))
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


# --- parent: the fake Bot API, the residents, the profiler --------------------------------------


class Bot:
    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc

    async def expect(self, event: str) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=120)
            if not line:
                raise RuntimeError(f"the bot ended before {event!r}")
            if line.startswith(MARK.encode()):
                data: dict[str, Any] = json.loads(line[len(MARK) :])
                assert data["ev"] == event, data
                return data

    async def say(self, word: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{word}\n".encode())
        await self.proc.stdin.drain()
        return await self.expect(word) if word != "stop" else {}


async def answered(fake: Any, mark: int, presses: int) -> None:
    deadline = time.monotonic() + 300
    while sum(1 for c in fake.calls[mark:] if c.method == "answerCallbackQuery") < presses:
        if time.monotonic() > deadline:
            raise TimeoutError("presses never answered")
        await asyncio.sleep(0.005)


async def profile(mode: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from playground import FakeTelegram

    async with FakeTelegram(token=TOKEN, bot_username="bench_bot") as fake:
        if args.latency > 0:
            fake.inject("*", delay=args.latency, times=None)
        lead = fake.user("Lead", language_code="en")
        people = [fake.user(f"Neighbour {n}", language_code="en") for n in range(args.users)]
        group = fake.group("Bench Court", admins=[lead], members=people)
        log = open(tmp / f"{mode}.log", "w")  # noqa: SIM115, ASYNC230
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--child",
            mode,
            "--db",
            str(tmp / f"{mode}.sqlite3"),
            "--api",
            fake.base_url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        bot = Bot(proc)
        try:
            started = await bot.expect("started")
            await fake.add_bot(group, by=lead)
            await asyncio.sleep(0.5)
            if mode in ("bare", "plain"):
                from telegram import InlineKeyboardButton, InlineKeyboardMarkup

                markup = InlineKeyboardMarkup(
                    [[InlineKeyboardButton(str(i), callback_data=f"b:{i}")] for i in range(3)]
                )
                stored = fake.add_message(
                    group, fake.bot_dict(), {"text": "baseline", "reply_markup": markup.to_dict()}
                )
                card: Any = stored
                data = ["b:0", "b:1", "b:2"]
            else:
                mark = fake.mark()
                await lead.send(group, "/poll Paint the hall? | Yes | No | Later")
                sent = await fake.wait_for("sendMessage", since=mark, timeout=30, chat_id=group.id)
                card = sent.result
                keyboard = card["reply_markup"]["inline_keyboard"]
                data = [row[0]["callback_data"] for row in keyboard[:3]]
            # warm-up: every neighbour presses once (member rows, caches, first edits)
            mark = fake.mark()
            for person in people:
                await person.press(card, data[0], check=False)
            await answered(fake, mark, len(people))
            await asyncio.sleep(3.5)

            before = await bot.say("mark")
            mark = fake.mark()
            out_file = tmp / f"{mode}.txt"
            spy = (
                await asyncio.create_subprocess_exec(
                    args.py_spy,
                    "record",
                    "--pid",
                    str(started["pid"]),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(out_file),
                    "--nonblocking",
                    "--threads",
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
                if args.py_spy
                else None
            )
            await asyncio.sleep(0.5)  # py-spy attaches
            began = time.monotonic()
            for n in range(args.presses):
                await asyncio.sleep(max(0.0, began + n / args.rate - time.monotonic()))
                option = (n + n // len(people)) % len(data)
                await people[n % len(people)].press(card, data[option], check=False)
            await answered(fake, mark, args.presses)
            elapsed = time.monotonic() - began
            if mode == "courtyard":  # the last coalesced edit belongs to these presses
                await asyncio.sleep(3.2)
            after = await bot.say("report")
            if spy is not None:
                spy.send_signal(2)
                await spy.wait()
            calls = Counter(c.method for c in fake.calls[mark:] if c.method != "getUpdates")
            await bot.say("stop")
            await asyncio.wait_for(proc.wait(), timeout=30)
        except BaseException:
            if proc.returncode is None:
                proc.kill()
            log.close()
            sys.stderr.write((tmp / f"{mode}.log").read_text()[-3000:])
            raise
        log.close()
    cpu = {k: after["cpu"].get(k, 0.0) - before["cpu"].get(k, 0.0) for k in after["cpu"]}
    window = after["t"] - before["t"]
    samples: Counter[str] = Counter()
    leaves: Counter[str] = Counter()  # the frame the loop thread was in, ours named apart
    if args.py_spy and out_file.exists():
        main_thread = f"thread ({started['pid']})"  # py-spy names threads by native id
        for line in out_file.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = stack.split(";")
            if stack and count.isdigit() and frames[0].startswith(main_thread):
                samples[layer_of(frames[1:])] += int(count)
                leaves[top_frame(frames[1:])] += int(count)
        if args.keep:
            shutil.copy(out_file, Path(args.keep) / f"{mode}-py-spy.txt")
    return {
        "mode": mode,
        "presses": args.presses,
        "rate": args.presses / elapsed,
        "cpu": cpu,
        "window": window,
        "trips": after["trips"],
        "calls": dict(calls),
        "samples": samples,
        "leaves": leaves,
    }


def report(bare: dict[str, Any], ours: dict[str, Any], plain: dict[str, Any] | None) -> None:
    n = ours["presses"]
    if plain is not None:
        whole = sum(plain["cpu"].values()) * 1000 / plain["presses"]
        loop = plain["cpu"].get("main", 0.0) * 1000 / plain["presses"]
        mine = sum(ours["cpu"].values()) * 1000 / n
        print(
            f"plain python-telegram-bot (concurrent_updates(16), its processor, httpx), a handler"
            f" that only answers: {whole:.2f} ms CPU per press ({loop:.2f} on the event loop),"
            f" at {plain['rate']:.0f}/s offered; Courtyard / plain = {mine / whole:.2f}"
            f" (the CPU-bound ratio of presses/s: {whole / mine:.2f})"
        )

    def per(result: dict[str, Any], value: float) -> float:
        return value * 1000 / float(result["presses"])

    print(
        f"{n} presses at {ours['rate']:.0f}/s offered (bare {bare['rate']:.0f}/s); CPU per press:"
    )
    print(f"  {'':44s}{'bare PTB':>10}{'Courtyard':>11}{'ratio':>8}")
    kinds = sorted(set(bare["cpu"]) | set(ours["cpu"]), key=lambda k: k != "main")
    total_b = sum(bare["cpu"].values())
    total_o = sum(ours["cpu"].values())
    for kind in kinds:
        b, o = per(bare, bare["cpu"].get(kind, 0.0)), per(ours, ours["cpu"].get(kind, 0.0))
        name = {"main": "event loop thread", "sqlite": "SQLite worker threads"}.get(kind, kind)
        print(f"  {name + ' (ms)':44s}{b:10.2f}{o:11.2f}{(o / b if b else float('nan')):8.1f}")
    b, o = per(bare, total_b), per(ours, total_o)
    print(f"  {'whole process (ms)':44s}{b:10.2f}{o:11.2f}{o / b:8.1f}")
    print(
        f"  {'=> CPU ceiling (presses/s, one core)':44s}{1000 / b:10.0f}{1000 / o:11.0f}"
        f"{b / o:8.2f}"
    )
    for key in ("round trips", "write transactions"):
        print(
            f"  {'aiosqlite ' + key + ' per press':44s}"
            f"{bare['trips'].get(key, 0) / n:10.2f}{ours['trips'].get(key, 0) / n:11.2f}"
        )
    seen = Counter({k: v for k, v in ours["trips"].items() if k.startswith("trip: ")})
    for what, count in seen.most_common(8):
        print(f"    {count / n:5.2f}  {what[6:]}")
    for method in sorted(set(bare["calls"]) | set(ours["calls"])):
        print(
            f"  {method + ' per press':44s}"
            f"{bare['calls'].get(method, 0) / n:10.3f}{ours['calls'].get(method, 0) / n:11.3f}"
        )
    if not ours["samples"]:
        return
    print("event loop thread by layer (py-spy samples, leaf-first), as ms of CPU per press:")
    tb, to = sum(bare["samples"].values()) or 1, sum(ours["samples"].values()) or 1
    total_b, total_o = bare["cpu"].get("main", 0.0), ours["cpu"].get("main", 0.0)
    print(f"  {'':44s}{'bare PTB':>10}{'Courtyard':>11}{'share':>8}{'extra':>8}")
    for name, count in ours["samples"].most_common():
        share_o = count / to
        ms_o = share_o * per(ours, total_o)
        ms_b = bare["samples"].get(name, 0) / tb * per(bare, total_b)
        print(f"  {name:44s}{ms_b:10.3f}{ms_o:11.3f}{share_o * 100:7.1f}%{ms_o - ms_b:8.3f}")
    print(
        "Courtyard's event loop thread, top frames (the project's innermost frame, else the"
        " leaf), ms of CPU per press:"
    )
    for name, count in ours["leaves"].most_common(15):
        print(f"  {count / to * per(ours, total_o):7.3f}  {name[:100]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presses", type=int, default=3000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rate", type=float, default=250.0, help="presses offered per second")
    parser.add_argument("--latency", type=float, default=0.0, help="fake API delay, seconds")
    parser.add_argument("--keep", help="a folder to keep py-spy's raw samples in")
    parser.add_argument("--skip-plain", action="store_true", help="no plain PTB baseline")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import logging

        logging.basicConfig(level=logging.WARNING)
        asyncio.run(child(args.child, args.db, args.api))
        return
    args.py_spy = shutil.which("py-spy") or shutil.which(
        "py-spy", path=str(Path(sys.executable).parent)
    )
    if not args.py_spy:
        print("(py-spy not found: CPU per thread and round trips only)")

    async def all_three() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
        with tempfile.TemporaryDirectory() as tmp:
            plain = None if args.skip_plain else await profile("plain", args, Path(tmp))
            bare = await profile("bare", args, Path(tmp))
            ours = await profile("courtyard", args, Path(tmp))
            return bare, ours, plain

    report(*asyncio.run(all_three()))


if __name__ == "__main__":
    main()
