"""Parts of the building, attacked by a careless lead: `| part=` typed where it was read and
then dropped, so the whole building voted while the lead thought one entrance did."""

from __future__ import annotations

from storage import decisions
from storage import proposals as proposals_store
from tests.e2e.conftest import World
from tests.e2e.test_building_parts import build


async def test_a_proposals_vote_of_one_entrance_counts_that_entrance(world: World) -> None:
    """'/decide T1 | part=entrance 2' opened a decision of all five households."""
    await build(world)
    await world.do(world.alice.send(world.court, "/propose Lift for entrance 2 | old and slow"))
    await world.do(world.alice.send(world.court, "/agenda T1"))
    replies = await world.do(world.alice.send(world.court, "/decide T1 | part=entrance 9"))
    assert "No unit of the register is in “entrance 9”" in replies.text(world.court)
    p = await proposals_store.get(world.services.db, 1)
    assert p is not None and p.stage == "agenda" and p.decision_id is None
    replies = await world.do(
        world.alice.send(world.court, "/decide T1 | part=entrance 2 | rule=majority")
    )
    assert "only Entrance 2" in replies.text(world.court)
    decision = await decisions.get(world.services.db, 1)
    assert decision is not None and decision.part == "Entrance 2"
    voters = {v.label for v in await decisions.electorate(world.services.db, 1) if v.counts}
    assert voters == {"2-201", "2-202", "2-203"}


async def test_house_rules_are_not_ratified_by_one_entrance(world: World) -> None:
    """'/rules ratify majority | part=entrance 1' opened a vote of the whole building, saying
    nothing of the part typed; house rules bind everyone, so it is refused, saying why."""
    await build(world)
    await world.do(world.alice.send(world.court, "/rules draft 1. Quiet after 22:00."))
    replies = await world.do(
        world.alice.send(world.court, "/rules ratify majority | part=entrance 1")
    )
    assert "cannot be limited to a part" in replies.text(world.court)
    assert await world.services.db.fetchone("SELECT id FROM decisions") is None
    await world.do(world.alice.send(world.court, "/settings language ru"))
    replies = await world.do(world.alice.send(world.court, "/rules ratify majority | часть=1"))
    assert "частью дома" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/rules ratify majority"))
    assert await world.services.db.fetchone("SELECT id FROM decisions") is not None
