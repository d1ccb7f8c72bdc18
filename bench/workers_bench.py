"""Several webhook workers on one PostgreSQL, against one worker on SQLite, in one run.

Each configuration — SQLite with 1 worker, PostgreSQL with 1, 2 and 4 — gets a fresh database
and a fresh fake Bot API (tests/crash/workers_harness.py starts each worker as its own process:
``bot.app.build_app`` served by ``bot.webhook.run_webhook``). The fake delivers webhooks to the
workers in turn (at most 40 in flight, one chat at a time, as Telegram) and answers every Bot
API call 50 ms late; it counts a 429 for every send past 30 a second or 20 a minute in a group
(``enforce_limits``).

Load: ``--groups`` groups, each with a poll card and ``--residents`` residents; every resident
presses the poll's options ``--rounds`` times over, all groups interleaved, pushed as one burst,
and each group gets two ``/help`` commands during it (their answers wait for the group's
budget). Reported per configuration: updates/s (presses from the first press to the last
answer), the press-answer latency p50/p99 (the press made -> the fake got its
answerCallbackQuery), the messages and edits a second at most (any rolling second, all
workers together), the most in one group in any rolling minute, the fake's 429 count, and the
machine's load average before the run (2 cores shared with other work: read the ratios, not
the absolute figures).

``postgresql:N:noguard`` runs the same workers without the chat locks (``WORKER_GUARD=0``): the
difference is what the order per chat costs.

Run: ``python bench/workers_bench.py`` (about 2-3 minutes; PostgreSQL 15's binaries at
/usr/lib/postgresql/15/bin, a throwaway cluster). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "123456:BENCH-workers-token-000000000000"
SENDS = {"sendMessage", "editMessageText"}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def most_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def one(
    backend: str, workers_n: int, args: argparse.Namespace, guard: bool = True
) -> dict[str, Any]:
    from playground import FakeTelegram
    from tests import pg
    from tests.crash.workers_harness import WorkerProcess, free_port, worker_env

    load = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix=f"workers-bench-{backend}{workers_n}-"))
    db = await pg.new_database() if backend == "postgresql" else str(work / "courtyard.sqlite3")
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot", enforce_limits=True) as fake:
        alice = fake.user("Alice", language_code="en")
        groups = []
        for g in range(args.groups):
            people = [fake.user(f"R{g}-{i}", language_code="en") for i in range(args.residents)]
            court = fake.group(f"Court {g}", admins=[alice], members=people)
            groups.append((court, people))
        env = worker_env(TOKEN, fake.base_url, db, work, **({} if guard else {"WORKER_GUARD": "0"}))
        workers = [WorkerProcess(env, work, free_port()) for _ in range(workers_n)]
        fake.webhook_targets = [w.url for w in workers]
        for worker in workers:
            await worker.start()
        try:
            for worker in workers:
                await worker.ready()
            cards = []
            for court, _ in groups:
                await fake.add_bot(court, by=alice)
                await fake.until_confirmed(timeout=60)
                await alice.send(court, "/poll Paint the door? | Green | Blue | Red")

                def poll_card(chat: Any = court) -> Any:
                    for c in reversed(fake.calls_to("sendMessage", chat_id=chat.id)):
                        if c.ok and "pl:v:" in str(c.result.get("reply_markup")):
                            return c
                    return None

                await fake.wait_until(lambda: poll_card() is not None, timeout=60)
                card = poll_card()
                data = card.result["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
                cards.append((card.result, int(data.split(":")[2])))
            await fake.until_confirmed(timeout=60)
            await asyncio.sleep(1.0)
            fake.inject("*", delay=args.latency, times=None)  # every Bot API call from now on
            mark = fake.mark()
            pressed: dict[str, float] = {}
            began = time.monotonic()
            for round_ in range(args.rounds):
                for option in range(3):
                    for i in range(args.residents):
                        for (court, people), (message, poll_id) in zip(groups, cards, strict=True):
                            query = await people[i].press(
                                message, f"pl:v:{poll_id}:{option}", chat=court
                            )
                            pressed[str(query.id)] = time.monotonic()
                    if round_ == 0 and option < 2:
                        for court, people in groups:
                            await people[0].send(court, "/help")
            await fake.wait_until(
                lambda: all(fake.callback_answer(q) is not None for q in pressed), timeout=300
            )
            await fake.until_confirmed(timeout=120)
            # the card edits and /help answers that wait for their group's budget
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                last = max((c.at for c in fake.api_calls), default=0.0)
                if time.monotonic() - last > 2.0:
                    break
                await asyncio.sleep(0.2)
        finally:
            codes = [await w.terminate(timeout=60) for w in workers]
        answers = {
            str(c.params.get("callback_query_id")): c.at
            for c in fake.calls[mark:]
            if c.method == "answerCallbackQuery" and c.ok
        }
        latencies = [answers[q] - t for q, t in pressed.items() if q in answers]
        last_answer = max(answers.values(), default=began)
        sends = [c for c in fake.calls[mark:] if c.method in SENDS and c.ok]
        per_group: dict[Any, list[float]] = {}
        for c in sends:
            per_group.setdefault(str(c.params.get("chat_id")), []).append(c.at)
    return {
        "config": f"{backend} x{workers_n}" + ("" if guard else " no guard"),
        "load": load,
        "presses": len(pressed),
        "answered": len(latencies),
        "updates_s": len(pressed) / max(last_answer - began, 1e-9),
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_per_s": most_in_window([c.at for c in sends], 1.0),
        "max_group_min": max((most_in_window(t, 60.0) for t in per_group.values()), default=0),
        "hits_429": fake.limit_hits,
        "exit": codes,
    }


def child(args: argparse.Namespace) -> None:
    """One configuration in this process (the workers are processes of their own)."""
    import json

    from tests import pg

    backend, n, *rest = args.child.split(":")
    try:
        result = asyncio.run(one(backend, int(n), args, guard=rest != ["noguard"]))
    finally:
        pg.stop()
    print("RESULT " + json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=16)
    parser.add_argument("--residents", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument(
        "--configs",
        default="sqlite:1,postgresql:1,postgresql:1:noguard,postgresql:2,postgresql:2:noguard,"
        "postgresql:4",
        help="backend:workers[:noguard] (noguard: no chat locks, to measure what they cost)",
    )
    parser.add_argument("--child", default="")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    import json
    import subprocess

    os.environ["COURTYARD_TEST_PG"] = "1"
    rows = []
    for config in args.configs.split(","):
        cmd = [sys.executable, __file__, "--child", config]
        cmd += ["--groups", str(args.groups), "--residents", str(args.residents)]
        cmd += ["--rounds", str(args.rounds), "--latency", str(args.latency)]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        found = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if not found:
            print(f"{config}: failed\n{done.stderr[-3000:]}")
            continue
        rows.append(json.loads(found[-1][len("RESULT ") :]))
        row = rows[-1]
        print(
            f"{row['config']:<14} load {row['load']:.1f}  {row['answered']}/{row['presses']}"
            f" presses  {row['updates_s']:.0f} updates/s  p50 {row['p50_ms']:.0f} ms"
            f"  p99 {row['p99_ms']:.0f} ms  max {row['max_per_s']}/s  max/group/min"
            f" {row['max_group_min']}  429s {row['hits_429']}  exit {row['exit']}",
            flush=True,
        )
    base = next((r for r in rows if r["config"] == "postgresql x1"), None)
    if base is not None:
        for row in rows:
            print(
                f"{row['config']:<14} updates/s ratio to postgresql x1:"
                f" {row['updates_s'] / base['updates_s']:.2f}"
                f"  p50 ratio {row['p50_ms'] / base['p50_ms']:.2f}"
            )


if __name__ == "__main__":
    main()
