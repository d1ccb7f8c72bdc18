"""Telegram hands an update out again when the bot died before confirming it. Each update is
handled at most once: a re-delivered command creates nothing twice and is not answered twice."""

from __future__ import annotations

from datetime import timedelta

from storage import updates
from tests.e2e.conftest import World


async def test_a_redelivered_update_is_skipped(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.alice.send(world.court, "/remind tomorrow 9:00 | bins out"))
    [_confirmation] = replies.sent(world.court)
    update_id = world.fake.last_update_id
    before = await world.services.db.fetchone("SELECT COUNT(*) AS n FROM posts")
    assert before is not None and before["n"] == 1

    world.fake.redeliver(update_id)
    replies = await world.do(world.fake.until_confirmed())
    assert replies.sent() == []
    after = await world.services.db.fetchone("SELECT COUNT(*) AS n FROM posts")
    assert after is not None and after["n"] == 1
    processor = world.app.update_processor
    assert getattr(processor, "skipped", 0) == 1

    # the next new update is handled as usual
    replies = await world.do(world.bob.send(world.court, "/help"))
    assert "What you can do" in replies.text(world.court)


async def test_update_ids_are_pruned(world: World) -> None:
    db = world.services.db
    now = world.services.clock()
    for update_id in range(1, 2001):
        assert await updates.first_time(db, update_id, now)
    assert not await updates.first_time(db, 5, now)
    # pruning keeps the newest KEEP ids; simulate a long run by jumping ahead
    far = updates.KEEP + 2000
    assert await updates.first_time(db, far, now)
    row = await db.fetchone("SELECT MIN(update_id) AS low, COUNT(*) AS n FROM updates_seen")
    assert row is not None and (row["low"], row["n"]) == (far, 1)


async def test_an_id_noted_long_ago_is_not_taken_for_a_redelivery(world: World) -> None:
    """After a week without updates Telegram picks the next update id at random; it may be an
    id noted long ago. That update is new: it must be handled, not skipped."""
    db = world.services.db
    then = world.services.clock()
    for update_id in (70_001, 70_002, 70_003):
        assert await updates.first_time(db, update_id, then)
    assert not await updates.first_time(db, 70_002, then + timedelta(hours=23))  # re-delivery
    week_later = then + timedelta(days=8)
    assert await updates.first_time(db, 70_002, week_later)  # a new update, same id
    assert not await updates.first_time(db, 70_002, week_later)  # ...and its re-delivery
    # a prune also forgets old ids whatever their number
    assert await updates.first_time(db, 71_000, week_later)
    row = await db.fetchone("SELECT group_concat(update_id) AS ids FROM updates_seen")
    assert row is not None and row["ids"] is not None
    assert sorted(int(i) for i in row["ids"].split(",")) == [70_002, 71_000]
