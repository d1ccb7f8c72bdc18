"""A stop is quick however much is waiting to be sent, and loses nothing: scheduled actions
still waiting for their turn in the outbox when the bot stops run at the next start, once."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.app import build_app
from bot.config import Settings
from bot.scheduler import STOP_GRACE, StoppingJobQueue
from playground import FakeTelegram
from storage.db import to_db
from tests.e2e.conftest import FAST, TOKEN, World, start_app, stop_app

REMINDERS = 12


async def start_slow(
    fake: FakeTelegram, db_path: Path
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot with scheduled sends paced at 2 a second (Telegram's pace is 20)."""
    config = Settings(token=TOKEN, db_path=db_path, api_url=fake.base_url)
    app = build_app(config, limits=replace(FAST, background_per_second=2.0), poll_timeout=1)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
    return app


def reminders(fake: FakeTelegram, chat_id: int, since: int) -> list[str]:
    """The reminders said in the chat since ``since`` (not their confirmations)."""
    return [
        str(c.params["text"])
        for c in fake.calls_to("sendMessage", chat_id=chat_id)
        if c.ok and c.index >= since and "sweep stairs" in str(c.params["text"])
    ]


async def test_a_stop_with_reminders_waiting_to_be_sent_is_quick_and_loses_none(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_slow(fake, db_path)
    assert isinstance(app.job_queue, StoppingJobQueue)
    world = World(fake, app)
    await world.with_bot()
    for n in range(REMINDERS):
        await world.do(world.alice.send(world.court, f"/remind in 3 hours sweep stairs {n}"))
    # all fall due at once: 12 background sends at 2 a second take 6 s
    due = world.services.clock()
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ?, due_at = ? WHERE kind = 'post'",
            (to_db(due), to_db(due)),
        )
    mark = fake.mark()
    court = world.court.id
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()
    await fake.wait_for(
        "sendMessage", since=mark, timeout=10, text=lambda t: "sweep stairs" in str(t)
    )
    began = time.monotonic()
    await stop_app(app)
    took = time.monotonic() - began
    assert took < STOP_GRACE + 1.0, took  # PTB's own stop waited for all 12 (6 s)
    sent = reminders(fake, court, mark)
    assert 1 <= len(sent) < REMINDERS

    app = await start_app(fake, db_path)  # the rest run at the next start
    try:
        world.app = app
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            sent = reminders(fake, court, mark)
            if len(sent) >= REMINDERS:
                break
            await asyncio.sleep(0.05)
        await world.settle()
        await asyncio.sleep(0.2)
        sent = reminders(fake, court, mark)
        times = [sum(bool(re.search(rf"sweep stairs {n}\b", t)) for t in sent) for n in range(12)]
        assert times == [1] * REMINDERS, sent  # every reminder once: none lost, none twice
        rows = await world.services.db.fetchall("SELECT status FROM scheduled WHERE kind = 'post'")
        assert [r["status"] for r in rows] == ["done"] * REMINDERS
    finally:
        await stop_app(app)
