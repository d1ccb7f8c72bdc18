"""A burst of Me-too presses on one report card: every press is answered, the count is exact,
and the card is edited a few times, not once per press (Telegram allows ~20 messages and edits
a minute per group). Printed with ``-s``: presses, edits, answer delays."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

from bot.app import build_app
from bot.config import Settings
from playground import FakeTelegram
from storage import reports as store
from tests.e2e.conftest import FAST, TOKEN, World, stop_app

PRESSES = 40


async def test_a_burst_of_me_too_presses_is_coalesced(fake: FakeTelegram, tmp_path: Path) -> None:
    from telegram import Update

    limits = dataclasses.replace(FAST, edit_interval=1.0)  # a card edit at most once a second
    config = Settings(token=TOKEN, db_path=tmp_path / "c.sqlite3", api_url=fake.base_url)
    app = build_app(config, limits=limits, poll_timeout=1, flood=None)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
    world = World(fake, app)
    try:
        people = [fake.user(f"Neighbour {n}", language_code="en") for n in range(PRESSES)]
        world.court.members.update({p.id: "member" for p in people})
        await world.with_bot()
        for person in people:  # each is known to be in the group (a press needs no lookup)
            await world.do(person.send(world.court, "/reports"))
        await world.do(world.bob.send(world.court, "/report Lift stuck | entrance 2"))
        found = await store.get(world.services.db, 1)
        assert found is not None and found.message_id is not None
        card = fake.message(world.court, found.message_id)
        assert card is not None
        mark = fake.mark()
        started = time.monotonic()
        queries = await asyncio.gather(*(p.press(card, "rp:m:1") for p in people))
        await world.settle(timeout=30)
        elapsed = time.monotonic() - started
        calls = fake.calls[mark:]
        answers = [c for c in calls if c.method == "answerCallbackQuery" and c.ok]
        edits = [
            c
            for c in calls
            if c.method == "editMessageText"
            and c.ok
            and int(c.params["message_id"]) == card.message_id
        ]
        assert len(answers) == PRESSES
        assert {str(q.id) for q in queries} == {str(c.params["callback_query_id"]) for c in answers}
        assert await store.me_too_count(world.services.db, 1) == PRESSES
        shown = fake.message(world.court, card.message_id)
        assert shown is not None and f"Me too: {PRESSES} households" in (shown.text or "")
        assert len(edits) <= elapsed / limits.edit_interval + 2, (len(edits), elapsed)
        print(
            f"\n{PRESSES} Me-too presses in {elapsed:.2f} s: {len(answers)} answered, "
            f"{len(edits)} card edits"
        )
    finally:
        await stop_app(app)
