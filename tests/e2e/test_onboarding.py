"""Quiet onboarding: a building registers its households without spending the group's budget of
20 messages a minute, and every lead's Approve press is answered whatever that budget says.

Measured on the release before: 20 households claiming their units cost ~59 group messages and
edits (a card per claim, its edit, a notice per approval), and Approve presses were answered after
up to 52 s once the group's budget was spent."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.app import TrackingUpdateProcessor, build_app
from bot.config import Settings
from bot.outbox import Limits
from handlers import units as units_handler
from playground import FakeTelegram, FakeUser
from storage import units
from tests.e2e.conftest import FAST, TOKEN, World, stop_app

#: The group limits at which a card is refreshed as in production (at most one edit per
#: ``edit_interval``), everything else as fast as the other stories.
COALESCING = dataclasses.replace(FAST, edit_interval=1.0)
#: The group's budget: one message in any two seconds, so one reply spends it.
TIGHT = dataclasses.replace(FAST, group_burst=1, group_per_second=0.5, edit_interval=0.05)
#: The bound the README states: group messages and edits for 20 claims and their approvals.
ONBOARDING_BOUND = 12


async def start(
    fake: FakeTelegram, db_path: Path, limits: Limits
) -> Application[Any, Any, Any, Any, Any, Any]:
    config = Settings(token=TOKEN, db_path=db_path, api_url=fake.base_url)
    app = build_app(config, limits=limits, poll_timeout=1)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
    return app


@pytest.fixture
async def coalescing(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[World]:
    app = await start(fake, tmp_path / "courtyard.sqlite3", COALESCING)
    try:
        yield World(fake, app)
    finally:
        await stop_app(app)


@pytest.fixture
async def tight(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[World]:
    app = await start(fake, tmp_path / "courtyard.sqlite3", TIGHT)
    try:
        yield World(fake, app)
    finally:
        await stop_app(app)


async def calm(world: World, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - a deadline
    await world.settle(timeout)
    await units_handler.idle(world.services)
    await world.settle(timeout)


async def residents(world: World, count: int) -> list[FakeUser]:
    people = [world.fake.user(f"Resident{n:02d}", language_code="en") for n in range(count)]
    for person in people:
        await world.fake.join(world.court, person)
    await calm(world)
    return people


def group_traffic(world: World, since: int) -> list[str]:
    """The group messages and edits Telegram accepted since ``since``."""
    return [
        c.method
        for c in world.fake.calls[since:]
        if c.ok
        and c.method in ("sendMessage", "editMessageText")
        and int(c.params.get("chat_id", 0)) == world.court.id
    ]


async def test_twenty_households_register_in_a_few_group_messages(coalescing: World) -> None:
    world = coalescing
    await world.with_bot()
    people = await residents(world, 20)
    # half of them opened a private chat with the bot, the other half never did (403)
    for person in people[:10]:
        await person.send(person.private, "/start")
    await calm(world)
    await units.import_rows(
        world.services.db,
        world.court.id,
        [(f"1-{n:02d}", None) for n in range(10)],  # the other ten labels are new
        world.services.clock(),
    )
    mark = world.fake.mark()
    # an evening's rush: everyone claims at about the same time
    for n, person in enumerate(people):
        await person.send(world.court, f"/unit 1-{n:02d}")
    await calm(world)
    waiting = await units.waiting(world.services.db, world.court.id)
    assert len(waiting) == 20
    assert await units.count(world.services.db, world.court.id) == 10  # claims added nothing
    card_row = await units.queue_card(world.services.db, world.court.id)
    assert card_row is not None
    card = world.fake.message(world.court, card_row.message_id)
    assert card is not None and card.text is not None and "20 claims are waiting" in card.text

    # the lead works through the card, page by page, pressing as fast as they can
    presses = 0
    while True:
        card = world.fake.message(world.court, card_row.message_id)
        assert card is not None
        if card.reply_markup is None:
            break
        approve = [
            b.callback_data
            for row in card.reply_markup.inline_keyboard
            for b in row
            if isinstance(b.callback_data, str) and b.callback_data.startswith("un:a:")
        ]
        if not approve:
            break
        before = world.fake.mark()
        for data in approve:
            await world.alice.press(card, data)
            presses += 1
        await calm(world)
        answers = [
            c for c in world.fake.calls[before:] if c.method == "answerCallbackQuery" and c.ok
        ]
        assert len(answers) == len(approve)  # every press answered
        assert all(str(a.params.get("text", "")).startswith("Approved:") for a in answers)
    assert presses == 20
    approved = [
        c
        for person in people
        for c in await units.claims_of(world.services.db, world.court.id, person.id)
        if c.status == units.APPROVED
    ]
    assert len(approved) == 20
    assert await units.count(world.services.db, world.court.id) == 20

    traffic = group_traffic(world, mark)
    print(f"group messages and edits for 20 claims and 20 approvals: {len(traffic)} {traffic}")
    assert len(traffic) <= ONBOARDING_BOUND
    # those with a private chat were told there, twice each (waiting, approved) ...
    for person in people[:10]:
        told = [c for c in world.fake.calls[mark:] if c.ok and c.method == "sendMessage"]
        mine = [c for c in told if int(c.params["chat_id"]) == person.id]
        assert len(mine) == 2, person.first_name
    # ... the others in the group's batched lines, by a mention that notifies them
    lines = "\n".join(
        c.params["text"]
        for c in world.fake.calls[mark:]
        if c.ok and c.method == "sendMessage" and int(c.params["chat_id"]) == world.court.id
    )
    for person in people[10:]:
        assert f"tg://user?id={person.id}" in lines, person.first_name


async def test_approve_presses_are_answered_while_the_groups_budget_is_spent(
    tight: World,
) -> None:
    world = tight
    await world.with_bot()
    people = await residents(world, 12)
    db = world.services.db
    await units.import_rows(
        db, world.court.id, [(f"2-{n:02d}", None) for n in range(12)], world.services.clock()
    )
    for n, person in enumerate(people[1:], start=1):
        await units.claim(
            db, world.court.id, f"2-{n:02d}", person.id, approved=False, now=world.services.clock()
        )
    await people[0].send(world.court, "/unit 2-00")  # posts the card with all twelve
    await calm(world)
    card_row = await units.queue_card(db, world.court.id)
    assert card_row is not None
    card = world.fake.message(world.court, card_row.message_id)
    assert card is not None and card.text is not None and "12 claims" in card.text
    # the group's budget is spent: one message in any two seconds, and a reply just took it
    spent = world.fake.mark()
    await world.alice.send(world.court, "/units")
    await world.fake.wait_until(
        lambda: len(group_traffic(world, spent)) >= 1, timeout=10, message="budget spent"
    )
    mark = world.fake.mark()
    # more presses than a chat's lane holds (8), each followed by a card refresh and a notice
    for item in await units.waiting(db, world.court.id):
        claim = item.claim
        await world.alice.press(card, f"un:a:{claim.unit_id}:{claim.user_id}", check=False)
    await world.fake.wait_until(
        lambda: (
            len([c for c in world.fake.calls[mark:] if c.method == "answerCallbackQuery"]) >= 12
        ),
        timeout=20,
        message="every press answered",
    )
    calls = world.fake.calls[mark:]
    answers = [i for i, c in enumerate(calls) if c.method == "answerCallbackQuery"]
    assert all(calls[i].ok and calls[i].params["text"].startswith("Approved") for i in answers)
    first_group = next(
        (
            i
            for i, c in enumerate(calls)
            if c.method in ("sendMessage", "editMessageText")
            and int(c.params.get("chat_id", 0)) == world.court.id
        ),
        len(calls),
    )
    # every answer went out before the group could take its next message or edit
    assert max(answers) < first_group
    await calm(world, timeout=60)
    assert await units.waiting(db, world.court.id) == []
    card = world.fake.message(world.court, card_row.message_id)
    assert card is not None and card.text is not None and "No claims are waiting" in card.text


async def test_claims_do_not_hold_the_groups_lanes_while_the_card_waits(tight: World) -> None:
    """Only the claim that posts the card waits for the group's budget: the claims that come
    meanwhile finish at once (they would hold the chat's command lanes, and a resident's /help
    would wait behind them), and the card shows them once it is there."""
    world = tight
    await world.with_bot()
    db = world.services.db
    await units.import_rows(
        db, world.court.id, [("3-1", None), ("3-2", None), ("3-3", None)], world.services.clock()
    )
    spent = world.fake.mark()
    await world.alice.send(world.court, "/units")
    await world.fake.wait_until(
        lambda: len(group_traffic(world, spent)) >= 1, timeout=10, message="budget spent"
    )
    mark = world.fake.mark()
    processor = world.app.update_processor
    assert isinstance(processor, TrackingUpdateProcessor)
    await world.bob.send(world.court, "/unit 3-1")  # posts the card: waits for the budget
    await world.carol.send(world.court, "/unit 3-2")
    await world.wang.send(world.court, "/unit 3-3")
    # while the card still waits for the budget, only its own claim is still being handled
    await world.fake.until_confirmed()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10

    def settled() -> bool:
        return processor.active == 1 and world.app.update_queue.empty()

    while not settled() and not group_traffic(world, mark) and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    assert group_traffic(world, mark) == []
    assert processor.active == 1
    await calm(world, timeout=60)
    said = [
        c.params["text"]
        for c in world.fake.calls[mark:]
        if c.ok
        and c.method in ("sendMessage", "editMessageText")
        and int(c.params.get("chat_id", 0)) == world.court.id
    ]
    assert "claim" in said[0] and "waiting for a lead" in said[0]
    card = await units.queue_card(db, world.court.id)
    assert card is not None
    message = world.fake.message(world.court, card.message_id)
    assert message is not None and message.text is not None
    assert "3 claims are waiting" in message.text
