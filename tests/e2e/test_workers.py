"""Several webhook workers on one PostgreSQL (run with COURTYARD_TEST_PG=1): two real
Courtyard Applications in this process, each behind its own webhook server (bot/webhook.py,
the one ``courtyard run --webhook`` runs), on one database, the fake Bot API delivering to them
in turn. Presses and messages of one chat land on both workers; each person's presses stay in
order, the counts are exact, the card shows the last state, the group's budget is held by both
together, and a scheduled row fires once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.app import TrackingUpdateProcessor, build_app
from bot.config import Settings
from bot.outbox import Limits
from bot.services import Services
from bot.webhook import WebhookServer, deliverer
from bot.workers import ChatGuard, SharedBudget
from handlers import cards
from playground import FakeTelegram
from storage import polls, scheduled
from tests import pg
from tests.e2e.conftest import FAST, TOKEN
from tests.pg import use_postgresql  # noqa: F401  (the fixture)

SECRET = "workers-secret-token"

pytestmark = pytest.mark.skipif(
    not pg.wanted(), reason="PostgreSQL: set COURTYARD_TEST_PG=1 or COURTYARD_TEST_PG_URL"
)


class Worker:
    def __init__(self, app: Any, server: WebhookServer) -> None:
        self.app = app
        self.server = server

    @property
    def services(self) -> Services:
        services: Services = self.app.bot_data["services"]
        return services

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/hook"

    def idle(self) -> bool:
        processor = self.app.update_processor
        assert isinstance(processor, TrackingUpdateProcessor)
        busy = processor.active or not self.app.update_queue.empty()
        return not busy and self.services.outbox.pending_refreshes == 0


async def start_worker(fake: FakeTelegram, db_path: Path, limits: Limits) -> Worker:
    config = Settings(token=TOKEN, db_path=db_path, api_url=fake.base_url)
    app = build_app(config, limits=limits, poll_timeout=1, flood=None)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    server = WebhookServer(
        listen="127.0.0.1", port=0, path="hook", secret=SECRET, deliver=deliverer(app)
    )
    await server.start()
    return Worker(app, server)


async def stop_worker(worker: Worker) -> None:
    app = worker.app
    await worker.server.stop()
    if app.running:
        await app.stop()
        assert app.post_stop is not None
        await app.post_stop(app)
    await app.shutdown()
    assert app.post_shutdown is not None
    await app.post_shutdown(app)


async def settle(fake: FakeTelegram, workers: list[Worker], timeout: float = 20.0) -> None:  # noqa: ASYNC109
    await fake.until_confirmed(timeout=timeout)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while quiet < 5:
        if loop.time() > deadline:
            raise TimeoutError("the workers did not become idle")
        quiet = quiet + 1 if all(w.idle() for w in workers) else 0
        await asyncio.sleep(0.01)


@pytest.fixture(scope="module", autouse=True)
def throwaway_cluster() -> Any:
    yield
    pg.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as server:
        yield server


@pytest.fixture
async def two(
    fake: FakeTelegram,
    tmp_path: Path,
    use_postgresql: Any,  # noqa: F811
) -> AsyncIterator[list[Worker]]:
    workers = [await start_worker(fake, tmp_path / "courtyard.sqlite3", FAST) for _ in range(2)]
    fake.webhook_targets = [w.url for w in workers]
    await workers[0].app.bot.set_webhook(
        "https://courtyard.example/hook", secret_token=SECRET, allowed_updates=Update.ALL_TYPES
    )
    try:
        yield workers
    finally:
        for worker in workers:
            await stop_worker(worker)


async def test_both_workers_share_one_database_and_the_guard(two: list[Worker]) -> None:
    for worker in two:
        assert isinstance(worker.app.update_processor.guard, ChatGuard)  # type: ignore[attr-defined]
        assert isinstance(worker.services.outbox.shared, SharedBudget)
        assert worker.services.scheduler.worker is not None
    assert two[0].services.scheduler.worker != two[1].services.scheduler.worker


async def test_presses_on_two_workers_count_exactly_and_stay_in_order(
    fake: FakeTelegram, two: list[Worker]
) -> None:
    alice = fake.user("Alice", username="alice", language_code="en")
    people = [fake.user(f"Resident {i}", language_code="en") for i in range(12)]
    court = fake.group("Maple Court", admins=[alice], members=people)
    await fake.add_bot(court, by=alice)
    await settle(fake, two)
    mark = fake.mark()
    await alice.send(court, "/poll Paint the door? | Green | Blue | Red")
    card = await fake.wait_for("sendMessage", since=mark, timeout=15, chat_id=court.id)
    await settle(fake, two)
    data = card.result["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    poll_id = int(data.split(":")[2])
    # everyone presses Green, Blue, then Red, as fast as the fake takes them: the last press
    # of each must win (a vote press replaces the choice of a single-choice poll)
    for option in range(3):
        for person in people:
            await person.press(card.result, f"pl:v:{poll_id}:{option}", chat=court)
    await settle(fake, two)
    assert not fake.unanswered_callbacks
    targets = {target for _, target, status in fake.webhook_posts if status == 200}
    assert targets == {w.url for w in two}  # both workers took part
    db = two[0].services.db
    poll = await polls.get(db, poll_id)
    assert poll is not None
    results = await polls.results(db, poll)
    assert results.counts == (0, 0, 12) and results.voters == 12
    # the card shows what the database says, whichever worker edited it last
    rendered = await cards._KINDS["poll"].render(two[1].services, poll_id)
    assert rendered is not None
    text, markup = rendered
    assert fake.shows(court, card.result["message_id"], text, markup)


async def test_the_groups_budget_is_held_by_both_workers_together(
    fake: FakeTelegram,
    tmp_path: Path,
    use_postgresql: Any,  # noqa: F811
) -> None:
    """Five a rolling second per group for the test (Telegram's is 20 a minute): 16 answers
    to 16 commands spread over two workers take three windows, as one worker would."""
    tight = Limits(
        global_per_second=1_000,
        background_per_second=1_000,
        group_burst=5,
        group_per_second=5.0,
        private_burst=1_000,
        private_per_second=1_000,
        edit_interval=0.05,
        private_edit_interval=0.05,
        backoff_base=0.01,
        backoff_cap=0.05,
    )
    workers = [await start_worker(fake, tmp_path / "courtyard.sqlite3", tight) for _ in range(2)]
    try:
        fake.webhook_targets = [w.url for w in workers]
        await workers[0].app.bot.set_webhook("https://courtyard.example/hook", secret_token=SECRET)
        alice = fake.user("Alice", username="alice", language_code="en")
        people = [fake.user(f"Resident {i}", language_code="en") for i in range(16)]
        court = fake.group("Maple Court", admins=[alice], members=people)
        await fake.add_bot(court, by=alice)
        await settle(fake, workers)
        mark = fake.mark()
        for person in people:
            await person.send(court, "/help")
        await settle(fake, workers, timeout=30)
        sends = [c for c in fake.calls[mark:] if c.method == "sendMessage" and c.ok]
        sends = [c for c in sends if c.params.get("chat_id") in (court.id, str(court.id))]
        assert len(sends) >= 16
        times = sorted(c.at for c in sends)
        # never six inside one second: the budget counts the moment each send was reserved,
        # the fake the moment it arrived, and on a busy machine a send can travel tens of
        # milliseconds longer than the one five before it; without the shared budget the two
        # workers would send ten a second (six within about 0.1 s)
        for i in range(len(times) - 5):
            assert times[i + 5] - times[i] >= 0.85, [round(t - times[0], 2) for t in times]
    finally:
        for worker in workers:
            await stop_worker(worker)


async def test_a_due_reminder_is_fired_by_one_worker_once(
    fake: FakeTelegram, two: list[Worker]
) -> None:
    alice = fake.user("Alice", username="alice", language_code="en")
    court = fake.group("Maple Court", admins=[alice], members=[])
    await fake.add_bot(court, by=alice)
    await settle(fake, two)
    db = two[0].services.db
    now = datetime.now(UTC)
    ran: list[str] = []
    for worker in two:
        sched = worker.services.scheduler

        async def run(
            row: scheduled.Scheduled, late_by: timedelta, name: str = sched.worker or ""
        ) -> None:
            ran.append(name)

        sched.register("test-worker", run=run)
    async with db.write() as conn:
        row_id = await scheduled.insert(
            conn, chat_id=court.id, kind="test-worker", ref_id=None, run_at=now, now=now
        )
    results = await asyncio.gather(
        *(w.services.scheduler.fire(row_id) for w in two for _ in range(3))
    )
    assert results.count("done") == 1 and results.count("skipped") == 5
    assert len(ran) == 1
    row = await scheduled.get(db, row_id)
    assert row is not None and row.status == "done" and row.attempts == 1
