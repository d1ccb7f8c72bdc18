"""/forgetme and the households approval card: a waiting claim or request that named the person
is gone from the card at once, not at its next refresh."""

from __future__ import annotations

from storage import privacy as store
from tests.e2e.conftest import World
from tests.e2e.test_privacy import yes_no
from tests.e2e.test_units import approval_card, do


async def test_forgetme_takes_the_name_off_the_approval_card(world: World) -> None:
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    await do(world, world.alice.send(world.court, "/units add 3-502 80"))
    await do(world, world.bob.send(world.court, "/unit 3-502"))  # a claim to a registered unit
    await do(world, world.bob.send(world.court, "/unit 9-901"))  # a request for a new label
    await do(world, world.carol.send(world.court, "/unit 3-502"))
    card = await approval_card(world)
    assert "Bob Baker" in (card.text or "") and "9-901" in (card.text or "")
    await do(world, world.bob.send(world.bob.private, "/start"))
    replies = await do(world, world.bob.send(world.bob.private, "/forgetme"))
    question = replies.sent(world.bob.private)[-1].result
    await do(world, world.bob.press(question, yes_no(question)[0]))
    await world.services.outbox.idle()
    await world.settle()
    assert await store.rows_about(world.services.db, world.bob.id) == {}
    card = await approval_card(world)
    assert "Bob Baker" not in (card.text or ""), card.text
    assert "9-901" not in (card.text or "")
    assert "Carol" in (card.text or "") or "Кэрол" in (card.text or "")  # the others stay
