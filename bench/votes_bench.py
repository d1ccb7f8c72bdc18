"""Vote benchmark: button presses on one poll, end to end, against the fake Bot API.

    python bench/votes_bench.py [--users 100] [--presses 1000] [--rounds 3]
                                [--latencies 0,0.05] [--burst 1000] [--skip-burst] [--skip-spent]

1. throughput: presses per second until every press is answered, three bots measured in the
   same run, interleaved (plain, bare, Courtyard; for each latency; ``--rounds`` times), each
   bot in a process of its own and the fake Bot API in this one, over real HTTP on loopback:

   * plain: the baseline, a plain python-telegram-bot Application — ``concurrent_updates(16)``,
     PTB's own ``SimpleUpdateProcessor``, one handler that only answers the press;
   * bare: the same handler under Courtyard's update processor (``TrackingUpdateProcessor``:
     the per-chat press lane, per-person order, the update-id note left out: no database), so
     the processor's own cost shows;
   * Courtyard: the real Application (``build_app``, Telegram's real limits, a real SQLite
     file), N users pressing the option buttons of one poll (vote, move, withdraw); each press:
     chat and member rows, one write transaction, the answer, a coalesced card refresh. Checked
     too: every answer within Telegram's window, the stored counts exactly what the presses add
     up to, and the card's edits per minute (the group's limit is 20 messages+edits).

   The ratio of each to the plain app of the same round is what counts: other work on the
   machine disturbs absolute figures.
2. burst: 1000 presses at once on a fresh poll with the fake enforcing Telegram's limits
   (20 messages+edits per minute per group): edits sent, time until the card shows the exact
   final state, 429 answers (must be 0), and whether the stored counts are exactly what the
   presses add up to (no vote lost or doubled).
3. spent budget: in a fresh group, 20 quick ``/help`` replies spend the group's 20 messages a
   minute; then 8 residents press "I'd like it" on a listing (each owes the group a hand-over
   message, which must wait for the budget) and ``--spent`` others vote. The delay from each
   press to its answer, from the fake's own records (Telegram drops answers after ~15 s; the
   requirement is 1 s), and whether the hand-over messages still arrive.

Latency delays every Bot API answer of the fake (50 ms is what Telegram takes). The HTTP client
of the bots is chosen as in production (``COURTYARD_HTTP``, see README); ``--http`` sets it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler

from bot.app import CONCURRENT_UPDATES, TrackingUpdateProcessor, build_app
from bot.config import Settings
from bot.domain.polls import apply_vote
from bot.outbox import Limits
from handlers import polls as poll_handlers
from playground import FakeChat, FakeTelegram, FakeUser
from storage import polls

TOKEN = "123456:BENCH-votes-token-0000000000"
#: The plain app's bound: PTB's SimpleUpdateProcessor with this many updates at once.
PLAIN_CONCURRENCY = 16
MARK = "@@ "
MODES = ("plain", "plain-ours", "bare", "courtyard")
logging.basicConfig(level=logging.ERROR)


async def start(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)


async def stop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        if app.post_stop is not None:  # as run_polling: the outbox flushes before the client closes
            await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


async def answered(fake: FakeTelegram, mark: int, presses: int, timeout: float = 300.0) -> int:  # noqa: ASYNC109
    """Wait until every press got its answerCallbackQuery; returns how many came too late
    (the fake, like Telegram, refuses answers to queries older than its expiry)."""
    deadline = time.monotonic() + timeout
    while True:
        calls = [c for c in fake.calls[mark:] if c.method == "answerCallbackQuery"]
        if len(calls) >= presses:
            return sum(1 for c in calls if not c.ok)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{presses - len(calls)} presses never answered")
        await asyncio.sleep(0.005)


async def cast(fake: FakeTelegram, users: int) -> tuple[FakeUser, list[FakeUser], FakeChat]:
    lead = fake.user("Lead", language_code="en")
    people = [fake.user(f"Neighbour {n}", language_code="en") for n in range(users)]
    group = fake.group("Bench Court", admins=[lead], members=people)
    return lead, people, group


# --- throughput: the child process, one bot ------------------------------------------------------


def emit(**data: Any) -> None:
    print(MARK + json.dumps(data), flush=True)


def just_answer_app(api: str, mode: str) -> Application[Any, Any, Any, Any, Any, Any]:
    """The plain app (PTB's own processor) or the bare one (ours), answering presses only."""
    builder = ApplicationBuilder().token(TOKEN).base_url(api).get_updates_read_timeout(11)
    if mode == "plain":  # PTB as it comes: its own processor and HTTP client
        builder = builder.concurrent_updates(PLAIN_CONCURRENCY)
    elif mode == "plain-ours":  # PTB's processor, our HTTP client
        builder = builder.concurrent_updates(PLAIN_CONCURRENCY).request(production_request())
    else:
        builder = builder.concurrent_updates(TrackingUpdateProcessor(concurrency()))
        request = production_request()
        if request is not None:
            builder = builder.request(request)
    app = builder.build()

    async def just_answer(update: Update, context: Any) -> None:
        assert update.callback_query is not None
        with contextlib.suppress(BadRequest):  # expired while waiting: counted
            await update.callback_query.answer("ok")

    app.add_handler(CallbackQueryHandler(just_answer))
    return app


def concurrency() -> int:
    """Our processor's updates at once: CONCURRENT_UPDATES, or the experiment's --concurrency."""
    return int(os.environ.get("BENCH_CONCURRENCY") or CONCURRENT_UPDATES)


def production_request() -> Any:
    """The request object Courtyard would use for Bot API calls (None: PTB's default)."""
    try:
        from bot.http import bot_request
    except ImportError:
        return None
    return bot_request()


async def child(mode: str, db_path: str, api: str) -> None:
    lane = os.environ.get("BENCH_PRESS_LANE")
    if lane:  # an experiment: another press lane for our processor
        import bot.app

        bot.app.PRESS_LANE = int(lane)
    if mode == "courtyard":
        app = build_app(
            Settings(token=TOKEN, db_path=Path(db_path), api_url=api),
            limits=Limits(),
            poll_timeout=1,
            concurrency=concurrency(),
        )
    else:
        app = just_answer_app(api, mode)
    await start(app)
    emit(ev="started", pid=os.getpid())
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().split()
        if not line or line[0] == "stop":
            break
        if line[0] == "counts":  # the stored counts of a poll, once the card work is done
            services = app.bot_data["services"]
            await services.outbox.idle()
            poll = await polls.get(services.db, int(line[1]))
            assert poll is not None
            final = await polls.results(services.db, poll)
            emit(ev="counts", counts=list(final.counts), voters=final.voters)
    began = time.monotonic()
    await stop(app)
    emit(ev="stopped", seconds=time.monotonic() - began)


# --- throughput: this process, the fake Bot API and the residents --------------------------------


class Child:
    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc

    async def expect(self, event: str, timeout: float = 120) -> dict[str, Any]:  # noqa: ASYNC109
        assert self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=timeout)
            if not line:
                raise RuntimeError(f"the bot ended before {event!r}")
            if line.startswith(MARK.encode()):
                data: dict[str, Any] = json.loads(line[len(MARK) :])
                assert data["ev"] == event, data
                return data

    async def say(self, words: str, event: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{words}\n".encode())
        await self.proc.stdin.drain()
        return await self.expect(event)


def edits_per_minute(fake: FakeTelegram, mark: int, chat_id: int) -> int:
    """The most card edits (and sends) the group got within any 60 s."""
    times = sorted(
        c.at
        for c in fake.calls[mark:]
        if c.method in ("editMessageText", "sendMessage")
        and c.ok
        and int(c.params.get("chat_id", 0)) == chat_id
    )
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 60:
            first += 1
        most = max(most, last - first + 1)
    return most


async def throughput(
    mode: str, latency: float, users: int, presses: int, tmp: Path
) -> dict[str, Any]:
    """One bot in a child process, ``presses`` presses on one card; presses per second."""
    out: dict[str, Any] = {"mode": mode, "latency": latency, "load": os.getloadavg()[0]}
    async with FakeTelegram(token=TOKEN, bot_username="bench_bot") as fake:
        if latency > 0:
            fake.inject("*", delay=latency, times=None)
        lead, people, group = await cast(fake, users)
        db = tmp / f"{mode}-{time.monotonic_ns()}.sqlite3"
        log = open(tmp / f"{mode}.log", "w")  # noqa: SIM115, ASYNC230
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--child",
            mode,
            "--db",
            str(db),
            "--api",
            fake.base_url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        bot = Child(proc)
        try:
            await bot.expect("started")
            await fake.add_bot(group, by=lead)
            await asyncio.sleep(0.5)

            async def new_card(question: str) -> tuple[Any, list[str]]:
                if mode != "courtyard":
                    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

                    markup = InlineKeyboardMarkup(
                        [[InlineKeyboardButton(str(i), callback_data=f"b:{i}")] for i in range(3)]
                    )
                    card = fake.add_message(
                        group, fake.bot_dict(), {"text": question, "reply_markup": markup.to_dict()}
                    )
                    return card, ["b:0", "b:1", "b:2"]
                mark = fake.mark()
                await lead.send(group, f"/poll {question} | Yes | No | Later")
                sent = await fake.wait_for("sendMessage", since=mark, timeout=30, chat_id=group.id)
                keyboard = sent.result["reply_markup"]["inline_keyboard"]
                return sent.result, [row[0]["callback_data"] for row in keyboard[:3]]

            # warm-up: every neighbour presses once (member rows, caches, connections)
            warm, data = await new_card("Warm-up?")
            mark = fake.mark()
            await press_all(people, warm, data[:1], len(people))
            await answered(fake, mark, len(people))
            await asyncio.sleep(3.5 if mode == "courtyard" else 0.2)  # the card's edit interval

            card, data = await new_card("Throughput?")
            mark = fake.mark()
            began = time.perf_counter()
            await press_all(people, card, data, presses)
            out["late"] = await answered(fake, mark, presses)
            out["rate"] = presses / (time.perf_counter() - began)
            out["load_after"] = os.getloadavg()[0]
            delays = [
                c.at - fake.callbacks[str(c.params["callback_query_id"])].created
                for c in fake.calls[mark:]
                if c.method == "answerCallbackQuery"
            ]
            out["answer_max"] = max(delays)
            if mode == "courtyard":
                poll_id = int(data[0].split(":")[2])
                stored = await bot.say(f"counts {poll_id}", "counts")
                out["counts_ok"] = tuple(stored["counts"]) == expected_counts(users, presses, 3)
                out["per_minute"] = edits_per_minute(fake, mark, group.id)
            out["stop"] = (await bot.say("stop", "stopped"))["seconds"]
            await asyncio.wait_for(proc.wait(), timeout=30)
        except BaseException:
            if proc.returncode is None:
                proc.kill()
            log.close()
            sys.stderr.write((tmp / f"{mode}.log").read_text()[-3000:])
            raise
        log.close()
    return out


#: Column titles of the throughput table.
TITLES = {"plain-ours": "plain+our HTTP", "bare": "bare (ours)", "courtyard": "Courtyard"}


def report_throughput(runs: list[dict[str, Any]], presses: int) -> None:
    latencies = sorted({r["latency"] for r in runs})
    for latency in latencies:
        print(
            f"throughput at {latency * 1000:.0f} ms per Bot API call, {presses} presses, one poll"
            " (presses/s; ratio to the plain app of the same round)"
        )
        by_round: dict[int, dict[str, dict[str, Any]]] = {}
        for r in runs:
            if r["latency"] == latency:
                by_round.setdefault(r["round"], {})[r["mode"]] = r
        others = [m for m in MODES[1:] if any(m in modes for modes in by_round.values())]
        head = f"  {'round':>5} {'plain PTB':>10}"
        for mode in others:
            head += f" {TITLES[mode]:>15} {'ratio':>5}"
        if "courtyard" in others:
            head += "  answer max  late  counts  edits/min  shutdown"
        head += "  load avg"
        print(head)
        for n, modes in sorted(by_round.items()):
            plain = modes["plain"]["rate"]
            line = f"  {n:5d} {plain:10.0f}"
            for mode in others:
                line += f" {modes[mode]['rate']:15.0f} {modes[mode]['rate'] / plain:5.2f}"
            if "courtyard" in modes:
                ours = modes["courtyard"]
                line += (
                    f"  {ours['answer_max']:8.2f} s {ours['late']:5d}"
                    f"  {'exact' if ours['counts_ok'] else 'WRONG':>6}"
                    f"  {ours['per_minute']:9d}  {ours['stop'] * 1000:5.0f} ms"
                )
            loads = [r[k] for r in modes.values() for k in ("load", "load_after") if k in r]
            line += f"  {min(loads):.1f}-{max(loads):.1f}"
            print(line)


#: The goals of issue 14: ratio to the plain app at every latency, and presses/s at 50 ms.
GOAL_RATIO = 0.8
GOAL_RATE_50MS = 200.0
#: The group's limit on messages and edits a minute (Telegram's).
GROUP_PER_MINUTE = 20


def report_summary(runs: list[dict[str, Any]], seconds: dict[int, float]) -> bool:
    """One line per run (a run: every bot once at every latency), the goals checked in each;
    True if every run met them all."""
    latencies = sorted({r["latency"] for r in runs})
    by_run: dict[int, dict[tuple[str, float], dict[str, Any]]] = {}
    for r in runs:
        by_run.setdefault(r["round"], {})[(r["mode"], r["latency"])] = r
    print(
        f"summary: goals {GOAL_RATIO:g} x the plain app at every latency, >= {GOAL_RATE_50MS:.0f}"
        " presses/s at 50 ms, every press answered in time, counts exact, card edits within"
        f" {GROUP_PER_MINUTE}/min"
    )
    head = f"  {'run':>3}"
    for latency in latencies:
        ms = f"{latency * 1000:.0f} ms"
        head += f" {'plain ' + ms:>12} {'ours ' + ms:>11} {'ratio':>5}"
    head += "  late  counts  edits/min  load avg  seconds  goals"
    print(head)
    met_all = True
    for n, cells in sorted(by_run.items()):
        line = f"  {n:3d}"
        met = True
        loads: list[float] = []
        late = 0
        exact = True
        per_minute = 0
        for latency in latencies:
            plain = cells.get(("plain", latency))
            ours = cells.get(("courtyard", latency))
            if plain is None or ours is None:
                line += f" {'-':>12} {'-':>11} {'-':>5}"
                met = False
                continue
            ratio = ours["rate"] / plain["rate"]
            line += f" {plain['rate']:12.0f} {ours['rate']:11.0f} {ratio:5.2f}"
            met = met and ratio >= GOAL_RATIO
            if latency == 0.05:
                met = met and ours["rate"] >= GOAL_RATE_50MS
            late += ours["late"]
            exact = exact and ours["counts_ok"]
            per_minute = max(per_minute, ours["per_minute"])
        for r in cells.values():
            loads += [r[k] for k in ("load", "load_after") if k in r]
        met = met and late == 0 and exact and per_minute <= GROUP_PER_MINUTE
        met_all = met_all and met
        line += (
            f"  {late:4d}  {'exact' if exact else 'WRONG':>6}  {per_minute:9d}"
            f"  {min(loads, default=0):4.1f}-{max(loads, default=0):<4.1f}"
            f"  {seconds.get(n, 0):7.0f}  {'met' if met else 'NOT met'}"
        )
        print(line)
    took = list(seconds.values()) or [0.0]
    print(
        f"  {'all' if met_all else 'not all'} {len(by_run)} consecutive runs met the goals"
        f" (one run took {min(took):.0f}-{max(took):.0f} s)"
    )
    return met_all


def expected_counts(users: int, presses: int, n_options: int) -> tuple[int, ...]:
    """What :func:`press_all` adds up to on a single-choice poll, pressed in order."""
    held: dict[int, frozenset[int]] = {}
    for n in range(presses):
        who, option = n % users, (n + n // users) % n_options
        held[who] = apply_vote(held.get(who, frozenset()), option, multiple=False, n_options=3)
    return tuple(sum(1 for c in held.values() if i in c) for i in range(n_options))


async def press_all(people: list[FakeUser], card: Any, data: list[str], presses: int) -> None:
    """``presses`` presses, round-robin over the people; each round moves everyone's vote."""
    for n in range(presses):
        option = (n + n // len(people)) % len(data)
        await people[n % len(people)].press(card, data[option], check=False)


async def burst(users: int, presses: int, latency: float) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeTelegram(token=TOKEN, bot_username="bench_bot") as fake:
            if latency > 0:
                fake.inject("*", delay=latency, times=None)
            lead, people, group = await cast(fake, users)
            config = Settings(
                token=TOKEN, db_path=Path(tmp) / "bench.sqlite3", api_url=fake.base_url
            )
            app = build_app(config, limits=Limits(), poll_timeout=1)
            await start(app)
            services = app.bot_data["services"]
            try:

                async def new_poll(question: str, where: FakeChat) -> tuple[polls.Poll, Any]:
                    mark = fake.mark()
                    await lead.send(where, f"/poll {question} | Yes | No | Later")
                    await fake.wait_for("sendMessage", since=mark, timeout=30, chat_id=where.id)
                    row = await services.db.fetchone("SELECT max(id) AS id FROM polls")
                    poll = await polls.get(services.db, row["id"])
                    for _ in range(1000):
                        if poll is not None and poll.message_id is not None:
                            break
                        await asyncio.sleep(0.01)
                        poll = await polls.get(services.db, row["id"])
                    assert poll is not None and poll.message_id is not None
                    return poll, fake.message(where, poll.message_id)

                # the burst, with Telegram's limits enforced by the fake
                burst_group = group
                await fake.add_bot(burst_group, by=lead)
                await asyncio.sleep(0.5)
                poll, card = await new_poll("Burst?", burst_group)
                await asyncio.sleep(3.5)  # let the card's edit interval pass
                fake.enforce_limits = True
                hits_before = fake.limit_hits
                mark = fake.mark()
                data = [f"pl:v:{poll.id}:{i}" for i in range(3)]
                began = time.perf_counter()
                await press_all(people, card, data, presses)
                results["burst_late"] = await answered(fake, mark, presses)
                results["burst_answered"] = time.perf_counter() - began
                exact_at = None
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    rendered = await poll_handlers.render(services, poll.id)
                    assert rendered is not None
                    edits = [
                        c
                        for c in fake.calls[mark:]
                        if c.method == "editMessageText"
                        and c.ok
                        and int(c.params.get("message_id", 0)) == poll.message_id
                    ]
                    if edits and edits[-1].params["text"] == rendered[0]:
                        exact_at = time.perf_counter() - began
                        if services.outbox.pending_refreshes == 0:
                            break
                    await asyncio.sleep(0.01)
                await services.outbox.idle()
                edits = [
                    c
                    for c in fake.calls[mark:]
                    if c.method == "editMessageText"
                    and int(c.params.get("message_id", 0)) == poll.message_id
                ]
                results["burst_edits"] = len([c for c in edits if c.ok])
                results["burst_exact"] = exact_at if exact_at is not None else float("nan")
                results["burst_429"] = fake.limit_hits - hits_before
                final = await polls.results(services.db, poll)
                results["burst_voters"] = final.voters
                results["burst_counts_ok"] = float(
                    final.counts == expected_counts(len(people), presses, 3)
                )
            finally:
                await stop(app)
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def spent_budget(users: int, latency: float, *, spend: bool = True) -> dict[str, float]:
    """Presses with the group's budget spent (section 4 of the module docstring); with
    ``spend=False`` the same presses in a group whose budget is untouched, for comparison.
    Presses come one every 50 ms (20 a second), below the bot's throughput, so the delay
    measured is the answer's own, not a queue of presses."""
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeTelegram(token=TOKEN, bot_username="bench_bot") as fake:
            if latency > 0:
                fake.inject("*", delay=latency, times=None)
            lead, people, group = await cast(fake, users + 8)
            config = Settings(
                token=TOKEN, db_path=Path(tmp) / "bench.sqlite3", api_url=fake.base_url
            )
            app = build_app(config, limits=Limits(), poll_timeout=1)
            await start(app)
            services = app.bot_data["services"]
            try:
                await fake.add_bot(group, by=lead)
                mark = fake.mark()
                await lead.send(group, "/offer Ladder | give")
                await lead.send(group, "/poll Paint the gate? | Green | Blue")
                await fake.wait_for(
                    "sendMessage", since=mark, timeout=30, text=lambda t: "Paint" in t
                )
                while True:  # the cards' ids are stored just after their sends
                    item = await services.db.fetchone("SELECT id, card_id FROM items")
                    poll_row = await services.db.fetchone("SELECT id, message_id FROM polls")
                    if item and item["card_id"] and poll_row and poll_row["message_id"]:
                        break
                    await asyncio.sleep(0.01)
                item_id, item_card = item["id"], item["card_id"]
                listing = fake.message(group, item_card)
                card = fake.message(group, poll_row["message_id"])
                assert listing is not None and card is not None
                if spend:
                    helps = fake.mark()
                    for _ in range(20):  # a lead: the per-resident command limit does not apply
                        await lead.send(group, "/help")
                    for _ in range(17):  # 17 replies go at once; the others wait a minute
                        reply = await fake.wait_for(
                            "sendMessage", since=helps, timeout=30, chat_id=group.id
                        )
                        helps = reply.index + 1
                queries = []
                for p in people[:8]:
                    queries.append(await p.press(listing, f"it:w:{item_id}"))
                    await asyncio.sleep(0.05)
                for n, person in enumerate(people[8:]):
                    queries.append(await person.press(card, f"pl:v:{poll_row['id']}:{n % 2}"))
                    await asyncio.sleep(0.05)
                await answered(fake, mark, len(queries))
                at = {
                    str(c.params["callback_query_id"]): c.at
                    for c in fake.calls[mark:]
                    if c.method == "answerCallbackQuery" and c.ok
                }
                delays = [at[q.id] - fake.callbacks[q.id].created for q in queries if q.id in at]
                results["presses"] = len(queries)
                results["answered"] = len(delays)
                results["p50"] = percentile(delays, 0.5)
                results["p99"] = percentile(delays, 0.99)
                results["max"] = max(delays, default=float("nan"))
                results["too_old"] = sum(
                    1 for c in fake.calls[mark:] if c.method == "answerCallbackQuery" and not c.ok
                )
                last_answer = max(at.values(), default=time.monotonic())
                began = time.monotonic()
                while True:  # the hand-over messages wait for the group's minute
                    handovers = [
                        c
                        for c in fake.calls_to("sendMessage", chat_id=group.id)
                        if c.ok and "get in touch" in str(c.params.get("text"))
                    ]
                    if len(handovers) >= 8 or time.monotonic() - began > 180:
                        break
                    await asyncio.sleep(0.1)
                results["handovers"] = len(handovers)
                results["handovers_after"] = sum(1 for c in handovers if c.at > last_answer)
                results["handover_last"] = max((c.at for c in handovers), default=last_answer) - (
                    last_answer
                )
            finally:
                await stop(app)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--presses", type=int, default=1000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs, each bot once per latency in each"
    )
    parser.add_argument(
        "--runs",
        type=int,
        help="the same as --rounds; a summary table checks issue 14's goals in every run",
    )
    parser.add_argument(
        "--latencies", default="0,0.05", help="fake API delays to measure, seconds, comma-separated"
    )
    parser.add_argument("--modes", default=",".join(MODES), help=argparse.SUPPRESS)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05, help="for the burst and spent runs")
    parser.add_argument("--spent", type=int, default=40, help="votes with the budget spent")
    parser.add_argument("--skip-burst", action="store_true")
    parser.add_argument("--skip-spent", action="store_true")
    parser.add_argument("--http", help="COURTYARD_HTTP for the bots (httpx or aiohttp)")
    parser.add_argument("--press-lane", type=int, help="our processor's press lane (experiment)")
    parser.add_argument(
        "--concurrency", type=int, help="our processor's updates at once (experiment)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.http:
        os.environ["COURTYARD_HTTP"] = args.http
    if args.press_lane:
        os.environ["BENCH_PRESS_LANE"] = str(args.press_lane)
    if args.concurrency:
        os.environ["BENCH_CONCURRENCY"] = str(args.concurrency)
    if args.child:
        asyncio.run(child(args.child, args.db, args.api))
        return
    latencies = [float(x) for x in args.latencies.split(",") if x]
    modes = [m for m in args.modes.split(",") if m]
    print(
        f"votes on one poll: {args.users} users, {args.presses} presses; plain PTB ="
        f" concurrent_updates({PLAIN_CONCURRENCY}) with PTB's own HTTP client; bare and Courtyard"
        f" = our processor ({concurrency()} at once,"
        f" {args.press_lane or TrackingUpdateProcessor(concurrency()).per_chat_presses}"
        " presses per chat), HTTP"
        f" client {os.environ.get('COURTYARD_HTTP') or 'default'}"
    )
    if args.runs is not None:
        args.rounds = args.runs
    if args.rounds > 0:
        runs: list[dict[str, Any]] = []
        seconds: dict[int, float] = {}

        async def interleaved() -> None:
            with tempfile.TemporaryDirectory() as tmp:
                for n in range(1, args.rounds + 1):
                    began = time.monotonic()
                    for latency in latencies:
                        for mode in modes:
                            run = await throughput(
                                mode, latency, args.users, args.presses, Path(tmp)
                            )
                            run["round"] = n
                            runs.append(run)
                    seconds[n] = time.monotonic() - began
                    print(
                        f"  run {n} done in {seconds[n]:.0f} s, load average"
                        f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
                        flush=True,
                    )

        asyncio.run(interleaved())
        report_throughput(runs, args.presses)
        if "plain" in modes and "courtyard" in modes:
            report_summary(runs, seconds)
    if not args.skip_burst:
        ours = asyncio.run(burst(args.users, args.burst, args.latency))
        print(
            f"burst of {args.burst} presses on one poll at {args.latency * 1000:.0f} ms"
            " (fake enforces 20 edits/min per group)"
        )
        print(f"  all presses answered after          {ours['burst_answered']:7.2f} s")
        print(f"  answers too late (query expired)    {ours['burst_late']:7.0f}")
        print(f"  card edits sent                     {ours['burst_edits']:7.0f}")
        print(f"  card exact after                    {ours['burst_exact']:7.2f} s")
        print(f"  429 (rate-limit) answers            {ours['burst_429']:7.0f}")
        print(f"  voters on the final card            {ours['burst_voters']:7.0f}")
        exact = "yes" if ours["burst_counts_ok"] else "NO (votes lost or doubled)"
        print(f"  counts = what the presses add up to {exact:>7}")
    if args.skip_spent:
        return
    spent = asyncio.run(spent_budget(args.spent, args.latency))
    fresh = asyncio.run(spent_budget(args.spent, args.latency, spend=False))
    print(
        f"group budget spent (20 /help), then 8 'I'd like it' and {args.spent} votes"
        " (Telegram's limits)"
    )
    print(
        f"  presses answered                    {spent['answered']:7.0f} of {spent['presses']:.0f}"
        f" ({spent['too_old']:.0f} answers refused as too old)"
    )
    print(
        f"  press -> answer p50 / p99 / max     {spent['p50']:.3f} / {spent['p99']:.3f}"
        f" / {spent['max']:.3f} s   (required: 1 s)"
    )
    print(
        f"  the same, budget untouched          {fresh['p50']:.3f} / {fresh['p99']:.3f}"
        f" / {fresh['max']:.3f} s"
    )
    print(
        f"  hand-over messages delivered        {spent['handovers']:7.0f} of 8,"
        f" {spent['handovers_after']:.0f} after the last answer (last"
        f" {spent['handover_last']:.0f} s after it: the group's minute)"
    )


if __name__ == "__main__":
    main()
