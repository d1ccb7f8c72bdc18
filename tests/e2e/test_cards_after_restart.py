"""Cards after a restart: a card whose state changed while the bot could not draw it (a crash
between a vote's commit and its card refresh, a change made under a stopped bot, an edit that
failed for good) is brought up to date at start-up; a card that already shows the truth gets
no edit; every feature's cards are covered."""

from __future__ import annotations

import copy
import sqlite3
from pathlib import Path
from typing import Any

from telegram.ext import Application

from handlers import cards
from playground import Call, FakeChat, FakeTelegram
from storage import cards as card_store
from tests.e2e.conftest import World, start_app, stop_app
from tests.e2e.test_events import day

App = Application[Any, Any, Any, Any, Any, Any]


async def started(fake: FakeTelegram, db_path: Path, before: World | None = None) -> World:
    """The bot (re)started on ``db_path`` (the same people as ``before``), once its start-up
    card check has run."""
    app = await start_app(fake, db_path)
    if before is None:
        world = World(fake, app)
    else:
        world = copy.copy(before)
        world.app = app
    report: cards.Report = world.services.state[cards.STATE]
    try:
        await fake.wait_until(report.done.is_set, timeout=10, message="start-up card check")
        await world.settle()
    except BaseException:
        await stop_app(app)
        raise
    return world


def edits(fake: FakeTelegram, since: int, chat: FakeChat | None = None) -> list[Call]:
    return [
        c
        for c in fake.calls[since:]
        if c.method == "editMessageText" and (chat is None or int(c.params["chat_id"]) == chat.id)
    ]


async def truthful(world: World) -> list[str]:
    """Cards whose Telegram message differs from a fresh render (by kind and row id)."""
    wrong = []
    for card, rendered in await cards.render_all(world.services):
        if rendered is None or not card.open:
            continue
        chat = world.fake.chats[card.chat_id]
        text, markup = rendered
        if not world.fake.shows(chat, card.message_id, text, markup):
            wrong.append(f"{card.kind} {card.row_id}")
    return wrong


#: The kinds every_kind_of_card builds (kinds added since — proposals, roll-calls, reports,
#: notices, house rules — are covered by their own features' restart tests).
BUILT = {"poll", "event", "roster", "decision", "groupbuy", "chain", "item", "unit_queue"}


async def every_kind_of_card(world: World) -> None:
    """Alice's building with one open card of each kind in BUILT."""
    court = world.court
    await world.with_bot()
    date = day(world)
    for text in (
        "/poll Paint the door? | Green | Blue",
        "/event Yard cleanup | in 3 days 10:00 | Yard | 10",
        f"/roster Gate duty | {date} 8:00-12:00 | per slot 2",
        "/units add 1-01 50",
        "/decide Paint the hall",
        "/groupbuy Apples 5 kg | ¥12.50 | tomorrow 20:00 | 3",
        "/chain Dumplings | tomorrow 18:00",
    ):
        await world.do(world.alice.send(court, text))
    await world.do(world.bob.send(court, "/offer Drill | lend"))
    await world.do(world.carol.send(court, "/unit 1-01"))  # the approval card


async def test_every_feature_registers_its_cards() -> None:
    assert cards.kinds() == sorted(card_store.KINDS)


async def test_a_card_changed_under_a_stopped_bot_is_redrawn_and_only_that_one(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    try:
        await every_kind_of_card(world)
        listed = {
            card.kind
            for card in await card_store.listed(
                world.services.db, cards.kinds(), world.services.clock()
            )
        }
        assert listed == BUILT, listed
        poll_id = (await world.services.db.fetchone("SELECT max(id) AS id FROM polls"))["id"]
        poll = (
            await world.services.db.fetchone(
                "SELECT message_id FROM polls WHERE id = ?", (poll_id,)
            )
        )["message_id"]
        assert await truthful(world) == []
    finally:
        await stop_app(world.app)

    # while the bot is down, Bob's vote for Blue lands in the database (as a vote whose card
    # refresh was lost in a crash)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "INSERT INTO poll_votes (poll_id, chat_id, voter, user_id, choices, voted_at)"
            " VALUES (?, ?, ?, ?, 2, '2026-01-01T00:00:00Z')",
            (poll_id, world.court.id, str(world.bob.id), world.bob.id),
        )
    conn.close()
    before = fake.mark()
    shown_before = fake.message(world.court, poll)
    assert shown_before is not None and "Bob" not in (shown_before.text or "")

    world = await started(fake, db_path, world)
    try:
        report: cards.Report = world.services.state[cards.STATE]
        assert (report.checked, report.stale, report.unrecorded) == (8, 1, 0), report.line()
        [edit] = edits(fake, before)
        assert int(edit.params["message_id"]) == poll
        assert await truthful(world) == []
        # the vote is on the card (Bob's name, a count of 1 for Blue)
        shown = fake.message(world.court, poll)
        assert shown is not None and "Bob" in (shown.text or "")
    finally:
        await stop_app(world.app)

    # and a restart with nothing changed touches nothing
    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        report = world.services.state[cards.STATE]
        assert (report.checked, report.unchanged, report.stale) == (8, 8, 0), report.line()
        assert edits(fake, before) == []
    finally:
        await stop_app(world.app)


async def test_a_refresh_that_failed_for_good_is_redrawn_at_the_next_start(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    try:
        await world.with_bot()
        replies = await world.do(
            world.alice.send(world.court, "/event Yard cleanup | in 3 days 10:00 | Yard | 10")
        )
        card = replies.sent(world.court)[-1].result
        event_id = (await world.services.db.fetchone("SELECT max(id) AS id FROM events"))["id"]
        # Telegram fails every edit: the outbox gives up after its retries
        fault = fake.inject("editMessageText", error_code=502, times=None)
        for person in (world.bob, world.carol, world.wang):
            await world.do(person.press(card, f"ev:g:{event_id}"))
        assert fault.hits >= 1
        assert await truthful(world) == [f"event {event_id}"]
    finally:
        await stop_app(world.app)
    fake.clear_faults()

    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        assert await truthful(world) == []
        [edit] = [c for c in edits(fake, before) if c.ok]
        assert int(edit.params["message_id"]) == card["message_id"]
        shown = fake.message(world.court, card["message_id"])
        assert shown is not None and "3/10" in (shown.text or ""), shown
    finally:
        await stop_app(world.app)


async def test_a_card_drawn_before_the_digests_existed_is_redrawn_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    try:
        await world.with_bot()
        await world.do(world.alice.send(world.court, "/poll Paint the door? | Green | Blue"))
    finally:
        await stop_app(world.app)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("DELETE FROM card_digests")  # as a database of the previous release
    conn.close()

    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        report: cards.Report = world.services.state[cards.STATE]
        assert (report.checked, report.unrecorded) == (1, 1), report.line()
        [edit] = edits(fake, before)  # Telegram: "message is not modified"; now it is known
        assert not edit.ok and "not modified" in (edit.description or "")
        assert len(await card_store.digests(world.services.db)) == 1
    finally:
        await stop_app(world.app)
    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        assert edits(fake, before) == []
    finally:
        await stop_app(world.app)


async def test_a_closed_card_whose_last_drawing_was_open_is_redrawn(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    try:
        await world.with_bot()
        await world.do(world.alice.send(world.court, "/poll Paint the door? | Green | Blue"))
        row = await world.services.db.fetchone("SELECT id, message_id FROM polls")
        assert row is not None
    finally:
        await stop_app(world.app)
    conn = sqlite3.connect(db_path)
    with conn:  # closed while the bot was down (its closing edit lost)
        conn.execute("UPDATE polls SET status = 'closed' WHERE id = ?", (row["id"],))
    conn.close()

    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        [edit] = edits(fake, before)
        assert edit.ok and int(edit.params["message_id"]) == row["message_id"]
        shown = fake.message(world.court, row["message_id"])
        assert (shown is not None and shown.reply_markup is None) or "pl:v" not in str(
            shown.reply_markup
        )
    finally:
        await stop_app(world.app)
    # settled: its digest is dropped, and it is never looked at again
    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        report: cards.Report = world.services.state[cards.STATE]
        assert report.checked == 1 and report.unchanged == 1 and report.pruned == 1
        assert await card_store.digests(world.services.db) == {}
        assert edits(fake, before) == []
    finally:
        await stop_app(world.app)


async def test_the_check_runs_after_a_slow_start(fake: FakeTelegram, tmp_path: Path) -> None:
    """The start goes on after the check is planned (the command menus: 9 calls); Telegram
    answering slowly made the check late, and APScheduler drops a job more than 1 s late."""
    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    try:
        await world.with_bot()
        await world.do(world.alice.send(world.court, "/poll Paint the door? | Green | Blue"))
        row = await world.services.db.fetchone("SELECT id, message_id FROM polls")
        assert row is not None
    finally:
        await stop_app(world.app)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "INSERT INTO poll_votes (poll_id, chat_id, voter, user_id, choices, voted_at)"
            " VALUES (?, ?, ?, ?, 1, '2026-01-01T00:00:00Z')",
            (row["id"], world.court.id, str(world.bob.id), world.bob.id),
        )
    conn.close()
    fake.inject("setMyCommands", delay=0.2, times=None)
    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        [edit] = edits(fake, before)
        assert edit.ok and int(edit.params["message_id"]) == row["message_id"]
        assert await truthful(world) == []
    finally:
        await stop_app(world.app)
