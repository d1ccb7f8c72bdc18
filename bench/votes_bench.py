"""Vote benchmark: button presses on one poll, end to end, against the fake Bot API.

    python bench/votes_bench.py [--users 100] [--presses 1000] [--burst 1000] [--latency 0.05]

Measured in one run, over real HTTP on loopback, with a real SQLite file:

1. baseline: a bare python-telegram-bot Application whose only handler answers the callback
   query, under the same update processor as Courtyard (``TrackingUpdateProcessor``: the same
   overall bound and the same per-chat lane for presses), on the same fake API in the same
   run. Presses per second until every press is answered.
2. Courtyard: the real Application (``build_app``, Telegram's real limits), N users pressing
   the option buttons of one poll (vote, move, withdraw). Presses per second until every press
   is answered (each press: chat and member rows, one write transaction, the answer, a
   coalesced refresh request) — and the ratio to the baseline.
3. burst: 1000 presses at once on a fresh poll with the fake enforcing Telegram's limits
   (20 messages+edits per minute per group): edits sent, time until the card shows the exact
   final state, 429 answers (must be 0), and whether the stored counts are exactly what the
   presses add up to (no vote lost or doubled).

4. spent budget: in a fresh group, 20 quick ``/help`` replies spend the group's 20 messages a
   minute; then 8 residents press "I'd like it" on a listing (each owes the group a hand-over
   message, which must wait for the budget) and ``--spent`` others vote. The delay from each
   press to its answer, from the fake's own records (Telegram drops answers after ~15 s; the
   requirement is 1 s), and whether the hand-over messages still arrive.

``--latency`` delays every Bot API answer of the fake (50 ms is what Telegram takes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
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
#: The per-chat lane for button presses of the processor both apps run under.
PRESS_LANE = TrackingUpdateProcessor(CONCURRENT_UPDATES).per_chat_presses
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


async def baseline(users: int, presses: int, latency: float) -> tuple[float, int]:
    async with FakeTelegram(token=TOKEN, bot_username="bench_bot") as fake:
        if latency > 0:
            fake.inject("*", delay=latency, times=None)
        lead, people, group = await cast(fake, users)
        app = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(fake.base_url)
            .concurrent_updates(TrackingUpdateProcessor(CONCURRENT_UPDATES))
            .get_updates_read_timeout(11)
            .build()
        )

        async def just_answer(update: Update, context: Any) -> None:
            assert update.callback_query is not None
            with contextlib.suppress(BadRequest):  # expired while waiting: counted
                await update.callback_query.answer("ok")

        app.add_handler(CallbackQueryHandler(just_answer))
        await start(app)
        try:
            await fake.add_bot(group, by=lead)
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(str(i), callback_data=f"b:{i}")] for i in range(3)]
            )
            card = await app.bot.send_message(group.id, "baseline", reply_markup=markup)
            await asyncio.sleep(0.2)
            mark = fake.mark()
            began = time.perf_counter()
            await press_all(people, card, ["b:0", "b:1", "b:2"], presses)
            late = await answered(fake, mark, presses)
            return presses / (time.perf_counter() - began), late
        finally:
            await stop(app)


async def courtyard(users: int, presses: int, burst: int, latency: float) -> dict[str, float]:
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
                await fake.add_bot(group, by=lead)
                await asyncio.sleep(0.5)

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

                # warm-up: every neighbour becomes a known member (one press each)
                warm, warm_card = await new_poll("Warm-up?", group)
                mark = fake.mark()
                await press_all(people, warm_card, [f"pl:v:{warm.id}:0"], len(people))
                await answered(fake, mark, len(people))
                await services.outbox.idle()

                poll, card = await new_poll("Throughput?", group)
                data = [f"pl:v:{poll.id}:{i}" for i in range(3)]
                mark = fake.mark()
                began = time.perf_counter()
                await press_all(people, card, data, presses)
                results["late"] = await answered(fake, mark, presses)
                results["rate"] = presses / (time.perf_counter() - began)
                await services.outbox.idle()

                # the burst, with Telegram's limits enforced by the fake
                # in a group of its own: the edits above do not count against its minute
                burst_group = fake.group("Burst Court", admins=[lead], members=people)
                await fake.add_bot(burst_group, by=lead)
                await asyncio.sleep(0.5)
                poll, card = await new_poll("Burst?", burst_group)
                await asyncio.sleep(3.5)  # let the card's edit interval pass
                fake.enforce_limits = True
                hits_before = fake.limit_hits
                mark = fake.mark()
                data = [f"pl:v:{poll.id}:{i}" for i in range(3)]
                began = time.perf_counter()
                await press_all(people, card, data, burst)
                results["burst_late"] = await answered(fake, mark, burst)
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
                    final.counts == expected_counts(len(people), burst, 3)
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
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05, help="fake API delay, seconds")
    parser.add_argument("--spent", type=int, default=40, help="votes with the budget spent")
    args = parser.parse_args()
    print(
        f"votes on one poll: {args.users} users, {args.presses} presses, fake Bot API latency "
        f"{args.latency * 1000:.0f} ms, concurrency {CONCURRENT_UPDATES}"
    )
    base, base_late = asyncio.run(baseline(args.users, args.presses, args.latency))
    print(
        f"  baseline (bare PTB, answer only)    {base:7.0f} presses/s"
        f"   (same processor as Courtyard: {CONCURRENT_UPDATES} updates at once,"
        f" {PRESS_LANE} presses per chat)\n                                     "
        f"   answers too late (query expired): {base_late}"
    )
    ours = asyncio.run(courtyard(args.users, args.presses, args.burst, args.latency))
    print(
        f"  Courtyard (vote + answer + refresh) {ours['rate']:7.0f} presses/s"
        f"   ratio {ours['rate'] / base:.2f} of the baseline"
        f"   answers too late: {ours['late']:.0f}"
    )
    print(f"burst of {args.burst} presses on one poll (fake enforces 20 edits/min per group)")
    print(f"  all presses answered after          {ours['burst_answered']:7.2f} s")
    print(f"  answers too late (query expired)    {ours['burst_late']:7.0f}")
    print(f"  card edits sent                     {ours['burst_edits']:7.0f}")
    print(f"  card exact after                    {ours['burst_exact']:7.2f} s")
    print(f"  429 (rate-limit) answers            {ours['burst_429']:7.0f}")
    print(f"  voters on the final card            {ours['burst_voters']:7.0f}")
    exact = "yes" if ours["burst_counts_ok"] else "NO (votes lost or doubled)"
    print(f"  counts = what the presses add up to {exact:>7}")
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
