"""Crash suite: ``courtyard run`` killed with SIGKILL at random moments (seeded) while residents
vote, sign up and reminders fall due; restarted; then nothing it acknowledged may be missing,
and every open card must show what the database says (tests/crash/harness.py tells the story
of one trial).

5 trials by default, 100 with COURTYARD_FULL_TESTS=1 (``-s`` shows the summary line; it is also
in the captured output of a failure). ``python -m bench.crash_trials`` runs any number.

On PostgreSQL too (``[postgresql]``, with COURTYARD_TEST_PG / COURTYARD_TEST_PG_URL, see
tests/pg.py): ``courtyard run`` on a ``postgresql://`` database, each trial on a new database;
3 trials by default (every trial starts two bot processes), 30 with COURTYARD_FULL_TESTS=1.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from playground import FakeTelegram
from tests import pg
from tests.crash.harness import (
    OPTIONS,
    TOKEN,
    BotProcess,
    add_chat,
    clean_env,
    migrate,
    run_trials,
)

FULL = os.environ.get("COURTYARD_FULL_TESTS") == "1"
TRIALS = 100 if FULL else 5
#: The seeds change only when someone changes them: a failure is replayed with the same seed.
FIRST_SEED = 7000


PG_TRIALS = 30 if FULL else 3


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not pg.wanted():
        pytest.skip("PostgreSQL: set COURTYARD_TEST_PG=1 or COURTYARD_TEST_PG_URL")
    return str(request.param)


def teardown_module() -> None:
    pg.stop()


async def test_kill9_loses_nothing_acknowledged(tmp_path: Path, backend: str) -> None:
    trials = PG_TRIALS if backend == "postgresql" else TRIALS
    seeds = list(range(FIRST_SEED, FIRST_SEED + trials))
    summary = await run_trials(seeds, tmp_path, parallel=4 if FULL else trials, backend=backend)
    print(summary.line(), file=sys.stderr)
    print(summary.line())
    assert summary.trials == trials
    assert summary.acknowledged > 0 and summary.reminders_due > 0
    details = [(f.seed, f.kill_after, f.problems[:3]) for f in summary.failures]
    assert not summary.failures, details
    assert summary.lost_acknowledged == 0
    assert summary.delivered == summary.reminders_due
    # a duplicate only for a reminder whose send was in flight at the kill (checked per trial)
    assert summary.duplicates <= summary.in_flight_at_kill
    # every open card (a poll and an event per trial) shows what the database says
    assert summary.cards_checked >= trials  # a card whose id was not stored yet is not one
    assert summary.cards_mismatched == 0


async def test_sigterm_after_a_burst_flushes_the_card_at_once(tmp_path: Path) -> None:
    """SIGTERM while a card refresh is still coalescing: the last edit must still be sent
    (the card exact) and the process must exit promptly — not after the outbox retried the
    edit against an HTTP client that shutdown had already closed."""
    import sqlite3
    from datetime import UTC, datetime

    db_path = tmp_path / "courtyard.sqlite3"
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        alice = fake.user("Alice", language_code="en")
        people = [fake.user(f"P{i}", language_code="en") for i in range(4)]
        court = fake.group("Maple Court", admins=[alice], members=people, with_bot=True)
        migrate(db_path)
        conn = sqlite3.connect(db_path)
        with conn:
            add_chat(conn, court, datetime.now(UTC))
        conn.close()
        env = clean_env(
            COURTYARD_TOKEN=TOKEN,
            COURTYARD_API_URL=fake.base_url,
            COURTYARD_DB=str(db_path),
            COURTYARD_BACKUP_HOURS="0",
        )
        bot = BotProcess(env, tmp_path)
        await bot.start()
        try:
            await bot.ready()
            mark = fake.mark()
            await alice.send(court, "/poll Paint the door? | " + " | ".join(OPTIONS))
            card = await fake.wait_for("sendMessage", since=mark, timeout=15, chat_id=court.id)
            data = card.result["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            poll_id = int(data.split(":")[2])
            for person in people:  # a burst: the first press edits, the others coalesce
                await person.press(card.result, f"pl:v:{poll_id}:0", chat=court)
            await fake.wait_until(lambda: not fake.unanswered_callbacks, timeout=10)
        finally:
            loop = asyncio.get_running_loop()
            began = loop.time()
            code = await bot.terminate(timeout=30)
            took = loop.time() - began
    assert code == 0, bot.log[-2000:]
    final = fake.message(court, card.result["message_id"])
    assert final is not None and final.text is not None
    assert "NetworkError" not in bot.log, bot.log[-2000:]
    assert all(person.first_name in final.text for person in people), final.text
    assert took < 5, f"SIGTERM took {took:.1f} s: {bot.log[-1500:]}"
