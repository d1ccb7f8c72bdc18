"""A press is answered within a second whatever the group's send budget.

The group's budget here is 20 messages in a rolling 5 seconds (Telegram's is 20 a minute; the
window is shortened so the held messages go out before the test ends, and is still five times
the bound on an answer). With the budget spent, eight "I'd like it" presses each owe the group a
hand-over message that has to wait; the poll votes that follow must still be answered at once.
Times are the fake's own records: when the press was made and when its answer arrived.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.app import build_app
from bot.config import Settings
from playground import FakeTelegram
from storage import polls
from storage import sharing as store
from tests.e2e.conftest import FAST, TOKEN, World, stop_app

WINDOW = 5.0
#: The requirement itself: Telegram drops answers that come late, and people press again.
ANSWER_BOUND = 1.0

BUDGETED = dataclasses.replace(FAST, group_burst=20, group_per_second=20 / WINDOW)


@pytest.fixture
async def budgeted(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[World]:
    config = Settings(token=TOKEN, db_path=tmp_path / "courtyard.sqlite3", api_url=fake.base_url)
    app = build_app(config, limits=BUDGETED, poll_timeout=1, flood=None)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
    try:
        yield World(fake, app)
    finally:
        await stop_app(app)


async def answered_within(world: World, query_id: str) -> float:
    """Seconds from the press to its answer, as the fake recorded them."""
    fake = world.fake
    record = fake.callbacks[query_id]
    deadline = asyncio.get_running_loop().time() + WINDOW * 3
    while fake.callback_answer(query_id) is None:
        assert asyncio.get_running_loop().time() < deadline, f"press {query_id} never answered"
        await asyncio.sleep(0.01)
    [call] = [c for c in fake.calls_to("answerCallbackQuery", callback_query_id=query_id) if c.ok]
    return call.at - record.created


def group_sends(world: World) -> list[Any]:
    return [c for c in world.fake.calls_to("sendMessage", chat_id=world.court.id) if c.ok]


async def test_presses_are_answered_at_once_while_the_group_budget_is_spent(
    budgeted: World,
) -> None:
    world = budgeted
    fake = world.fake
    people = [fake.user(f"Neighbour {n}", language_code="en") for n in range(16)]
    for person in people:
        await fake.join(world.court, person)
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/offer Ladder | give"))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM items")
    item = await store.get_item(world.services.db, row["id"])
    assert item is not None and item.card_id is not None
    listing = fake.message(world.court, item.card_id)
    await world.do(world.alice.send(world.court, "/poll Paint the gate? | Green | Blue"))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM polls")
    poll = await polls.get(world.services.db, row["id"])
    assert poll is not None and poll.message_id is not None
    card = fake.message(world.court, poll.message_id)

    # spend the group's budget: twenty quick /help replies, some of them held already
    for _ in range(20):
        await world.bob.send(world.court, "/help")
    await fake.until_confirmed()
    # spent once the group has had its 20 messages of the window (confirming the updates is
    # not enough: some replies may still be on their way to the outbox, and a hand-over asking
    # for a slot before them would take it)
    await fake.wait_until(
        lambda: sum(1 for c in group_sends(world) if c.at > time.monotonic() - WINDOW) >= 20,
        timeout=WINDOW,
        message="the group's budget spent",
    )

    # eight residents would like the ladder: nobody started the bot privately, so each press
    # owes the group a hand-over message, which has to wait for the budget
    wants = [await p.press(listing, f"it:w:{item.id}") for p in people[:8]]
    # and the others vote, one after another
    votes = []
    for n, person in enumerate(people[8:]):
        query = await person.press(card, f"pl:v:{poll.id}:{n % 2}")
        votes.append(await answered_within(world, query.id))
    delays = [await answered_within(world, q.id) for q in wants]
    last_answer = max(c.at for c in fake.calls_to("answerCallbackQuery") if c.ok)

    assert max(votes) <= ANSWER_BOUND, votes
    assert max(delays) <= ANSWER_BOUND, delays
    wanted = [fake.callback_answer(q.id) for q in wants]
    assert all("group" in str(a and a.get("text")) for a in wanted), wanted

    # nothing is lost: every hand-over message arrives once the budget allows it
    await world.settle(timeout=WINDOW * 4)
    handovers = [c for c in group_sends(world) if "get in touch" in c.params["text"]]
    assert len(handovers) == 8
    # and the budget really was spent: they went out after every press had been answered
    assert all(c.at > last_answer for c in handovers), "the budget was not spent"
    stored = await polls.results(world.services.db, poll)
    assert stored.voters == len(people) - 8


async def test_a_group_flooding_the_bot_with_presses_does_not_starve_another(
    world: World,
) -> None:
    """600 presses at once on one group's poll (Telegram answering in 50 ms): a resident of
    another group pressing a moment later is answered, and has their command replied to, while
    most of the flood still waits — the flooding group holds only its own press lane, and its
    waiting presses do not queue ahead of others anywhere (not for the database either)."""
    fake = world.fake
    crowd = [fake.user(f"Neighbour {n}", language_code="en") for n in range(100)]
    for person in crowd:
        await fake.join(world.court, person)
    other = fake.group("Oak Court", admins=[world.alice], members=[world.carol])
    await world.with_bot()
    await world.with_bot(other)
    await world.do(world.alice.send(world.court, "/poll Paint the gate? | Green | Blue"))
    flooded = await polls.get(world.services.db, 1)
    await world.do(world.alice.send(other, "/poll New bins? | Yes | No"))
    quiet = await polls.get(world.services.db, 2)
    assert flooded and flooded.message_id and quiet and quiet.message_id
    card = fake.message(world.court, flooded.message_id)
    their_card = fake.message(other, quiet.message_id)
    for person in crowd:  # every resident known first (one press each)
        await person.press(card, f"pl:v:{flooded.id}:0")
    await world.settle(timeout=30)

    fake.inject("*", delay=0.05, times=None)
    flood = [
        await crowd[n % len(crowd)].press(card, f"pl:v:{flooded.id}:{(n // len(crowd)) % 2}")
        for n in range(600)
    ]
    await asyncio.sleep(0.1)  # the flood is under way
    mark = fake.mark()
    press = await world.carol.press(their_card, f"pl:v:{quiet.id}:0")
    await world.carol.send(other, "/help")
    waited = await answered_within(world, press.id)
    reply = await fake.wait_for("sendMessage", since=mark, timeout=30, chat_id=other.id)
    answered_at = fake.callbacks[press.id].created + waited
    flood_at = [await answered_within(world, q.id) + fake.callbacks[q.id].created for q in flood]
    after_press = sum(1 for at in flood_at if at > answered_at)
    after_reply = sum(1 for at in flood_at if at > reply.at)
    # both came while most of the flood was still unanswered (queued behind it, none would)
    assert after_press >= len(flood) // 2, (after_press, waited)
    assert after_reply >= len(flood) // 3, after_reply
    assert waited <= ANSWER_BOUND * 2, waited  # a loaded machine; the fake's window is 15 s
    await world.settle(timeout=30)
    assert (await polls.results(world.services.db, quiet)).counts == (1, 0)
