"""An outcome is never lost between the close and its post: a process that dies after the
commit that closes a decision (or a poll) and before the outcome message went out posts it at
its next start, once; an outcome Telegram would not take is posted at the next start too."""

from __future__ import annotations

from pathlib import Path

from handlers import cards
from handlers import decisions as decision_handlers
from playground import FakeTelegram
from storage import decisions, polls
from tests.e2e.conftest import World, stop_app
from tests.e2e.test_cards_after_restart import started
from tests.e2e.test_decisions import LABELS, claim, open_decision, register

OUTCOME = "Outcome"


def outcomes(world: World, since: int, marker: str) -> list[str]:
    return [
        str(c.params["text"])
        for c in world.fake.calls[since:]
        if c.method == "sendMessage"
        and int(c.params["chat_id"]) == world.court.id
        and marker in str(c.params["text"])
    ]


async def test_a_decision_closed_by_a_process_that_died_before_the_post_is_announced_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    try:
        await world.with_bot()
        await register(world, 2)
        await claim(world, world.bob, LABELS[0])
        decision, card = await open_decision(world, "/decide Paint the hall | rule=majority")
        await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
        # the closing commit, as close_decision makes it, and then the process dies
        rule = decision_handlers.parse_rule(decision.rule)
        closed, _ = await decisions.close(
            world.services.db,
            decision.id,
            lambda electorate, ballots: decision_handlers.final_of(
                decision_handlers.count_open(rule, electorate, ballots)
            ),
            closed_by="Alice",
            now=world.services.clock(),
        )
        assert closed
        head = decision_handlers.t("en", "decision.outcome_head")
    finally:
        await stop_app(world.app)
    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        report: cards.Report = world.services.state[cards.STATE]
        assert report.finished == 1, report.line()
        [posted] = outcomes(world, before, head)
        assert "Paint the hall" in posted and "PASSED" in posted, posted
        row = await world.services.db.fetchone(
            "SELECT announced_at FROM decisions WHERE id = ?", (decision.id,)
        )
        assert row["announced_at"] is not None
        # the card shows the closed decision too (the start-up card check redraws it)
        shown = fake.message(world.court, decision.message_id)
        assert shown is not None and "PASSED" in (shown.text or ""), shown
    finally:
        await stop_app(world.app)
    before = fake.mark()
    world = await started(fake, db_path, world)  # and never again
    try:
        assert outcomes(world, before, head) == []
        assert world.services.state[cards.STATE].finished == 0
    finally:
        await stop_app(world.app)


async def test_an_outcome_telegram_refused_is_posted_at_the_next_start(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    head = decision_handlers.t("en", "decision.outcome_head")
    try:
        await world.with_bot()
        await register(world, 1)
        decision, _ = await open_decision(world, "/decide Lift | rule=majority")
        fault = fake.inject("sendMessage", error_code=500, times=None, chat_id=world.court.id)
        await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
        await world.settle()
        await world.services.outbox.idle()
        fault.cancel()
        assert not (await decisions.get(world.services.db, decision.id)).is_open
        row = await world.services.db.fetchone(
            "SELECT announced_at FROM decisions WHERE id = ?", (decision.id,)
        )
        assert row["announced_at"] is None  # nothing was posted: nothing is marked
    finally:
        await stop_app(world.app)
    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        [posted] = outcomes(world, before, head)
        assert "Lift" in posted
    finally:
        await stop_app(world.app)


async def test_an_outcome_posted_at_once_is_not_posted_again(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    head = decision_handlers.t("en", "decision.outcome_head")
    try:
        await world.with_bot()
        await register(world, 1)
        decision, _ = await open_decision(world, "/decide Lift | rule=majority")
        before = fake.mark()
        await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
        await world.services.outbox.idle()
        assert len(outcomes(world, before, head)) == 1
    finally:
        await stop_app(world.app)
    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        assert outcomes(world, before, head) == []
    finally:
        await stop_app(world.app)


async def test_a_poll_closed_by_a_process_that_died_before_the_results_is_announced_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    try:
        await world.with_bot()
        await world.do(world.alice.send(world.court, "/poll Paint the door? | Green | Blue"))
        row = await world.services.db.fetchone("SELECT max(id) AS id FROM polls")
        poll_id = int(row["id"])
        # the closing commit, and then the process dies before the results are posted
        assert await polls.close(world.services.db, poll_id, world.services.clock(), None)
    finally:
        await stop_app(world.app)
    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        assert world.services.state[cards.STATE].finished == 1
        [posted] = outcomes(world, before, "Paint the door?")
        assert "Green" in posted and "Blue" in posted
    finally:
        await stop_app(world.app)
    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        assert outcomes(world, before, "Paint the door?") == []
    finally:
        await stop_app(world.app)


async def test_a_deadline_passed_while_down_is_announced_once_at_start(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """The start-up close of an overdue decision and the start-up search for unannounced
    outcomes run side by side: the outcome is posted once, even while its post is slow."""
    import sqlite3
    from datetime import timedelta

    from storage.db import to_db

    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    head = decision_handlers.t("en", "decision.outcome_head")
    try:
        await world.with_bot()
        await register(world, 1)
        decision, _ = await open_decision(world, "/decide Lift | rule=majority")
        past = to_db(world.services.clock() - timedelta(minutes=1))
    finally:
        await stop_app(world.app)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE decisions SET closes_at = ? WHERE id = ?", (past, decision.id))
        conn.execute(
            "UPDATE scheduled SET run_at = ?1, due_at = ?1 WHERE kind = 'decision_close'"
            " AND ref_id = ?2",
            (past, decision.id),
        )
    conn.close()
    before = fake.mark()
    slow = fake.inject("sendMessage", delay=0.5, times=None, chat_id=world.court.id)
    world = await started(fake, db_path, world)
    try:
        await fake.wait_until(
            lambda: len(outcomes(world, before, head)) >= 1, timeout=10, message="the outcome"
        )
        await world.settle()
        await world.services.outbox.idle()
        slow.cancel()
        assert len(outcomes(world, before, head)) == 1, outcomes(world, before, head)
    finally:
        await stop_app(world.app)
