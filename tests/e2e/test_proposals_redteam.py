"""Proposals attacked: a card of emoji at every limit, and what a resident alone cannot change."""

from __future__ import annotations

from bot.domain.text import utf16_len
from storage import decisions
from tests.e2e.conftest import World
from tests.e2e.test_proposals import card_of, card_text, current, households, latest


async def test_a_card_of_emoji_keeps_updating_below_telegrams_limit(world: World) -> None:
    """Title, text, dispute, statements, assignee and progress all of emoji, each within its
    limit: the card was cut at 3 800 *characters*, so it grew past Telegram's 4 096 UTF-16
    units and every later edit was refused ("message is too long") — the card stopped
    showing progress."""
    people = await households(world)
    bob = people[0]
    e = "😀"
    mark = world.fake.mark()
    await world.do(bob.send(world.court, f"/propose {e * 120} | {e * 1500}"))
    p = await latest(world)
    await world.do(world.alice.send(world.court, f"/agenda T{p.id}"))
    await world.do(
        world.alice.send(world.court, f"/coordination T{p.id} | {e * 200} | in 3 days 18:00")
    )
    for n, person in enumerate(people[:3]):
        replies = await world.do(person.send(world.court, f"/say T{p.id} {n}{e * 199}"))
        [sent] = replies.sent(world.court)
        button = sent.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        message = world.fake.message(world.court, sent.result["message_id"])
        for voter in people[3:]:
            await world.do(voter.press(message, button))  # agreed: on the card
    await world.do(world.alice.press(card_of(world, p), f"tp:v:{p.id}"))
    p = await current(world, p.id)
    assert p.decision_id is not None
    decision = await decisions.get(world.services.db, p.decision_id)
    assert decision is not None and decision.message_id is not None
    ballot = world.fake.message(world.court, decision.message_id)
    for person in people:
        await world.do(person.press(ballot, f"dc:v:{decision.id}:f"))
    await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    await world.do(world.alice.send(world.court, f"/progress T{p.id} assign {e * 80}"))
    for n in range(1, 4):
        await world.do(world.alice.send(world.court, f"/progress T{p.id} {n}0% {e * 299}"))
    await world.services.outbox.idle()
    await world.settle()
    refused = [c for c in world.fake.calls[mark:] if not c.ok and "too long" in str(c.description)]
    assert not refused
    text = card_text(world, p)
    assert utf16_len(text) <= 4096 and text.rstrip().endswith(f"#T{p.id}")
    assert (await current(world, p.id)).stage == "progress"
