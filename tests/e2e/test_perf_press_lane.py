"""A press leaves its chat's lane once its answer is sent, not once Telegram has confirmed it.

The answer's round trip is most of a press (54 of ~86 ms at 50 ms per Bot API call, issue 14):
held through it, the chat's press lane (``PRESS_LANE`` presses at a time) capped one poll's
presses at PRESS_LANE per round trip. Here every answer takes the fake 3 s; three lanes' worth
of residents press at once, and every vote is stored while all the answers are still on their
way — with the lane held through the round trip, the presses past the first PRESS_LANE would
wait the 3 s for a slot.
"""

from __future__ import annotations

import asyncio

from bot.app import PRESS_LANE
from storage import polls
from tests.e2e.conftest import World

#: How long the fake takes to answer each answerCallbackQuery (below the client's 5 s timeout).
ANSWER_DELAY = 3.0


async def test_presses_past_the_lane_are_stored_while_the_answers_are_on_their_way(
    world: World,
) -> None:
    fake = world.fake
    crowd = [fake.user(f"Neighbour {n}", language_code="en") for n in range(3 * PRESS_LANE)]
    for person in crowd:
        await fake.join(world.court, person)
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/poll Paint the gate? | Green | Blue"))
    poll = await polls.get(world.services.db, 1)
    assert poll and poll.message_id
    card = fake.message(world.court, poll.message_id)
    for person in crowd:  # each resident known first (membership, name): one press each
        await person.press(card, f"pl:v:{poll.id}:0")
    await world.settle(timeout=30)
    assert (await polls.results(world.services.db, poll)).counts == (len(crowd), 0)

    fake.inject("answerCallbackQuery", delay=ANSWER_DELAY, times=None)
    mark = fake.mark()
    presses = [await person.press(card, f"pl:v:{poll.id}:1") for person in crowd]

    def answers_back() -> int:
        return sum(1 for c in fake.calls[mark:] if c.method == "answerCallbackQuery")

    # until every vote has moved or the first answer is back (the fake's delay is the bound)
    while (await polls.results(world.services.db, poll)).counts != (0, len(crowd)):
        assert not answers_back(), "presses waited for earlier answers' round trips"
        await asyncio.sleep(0.01)
    assert not answers_back(), "every vote moved only after answers came back"

    await world.settle(timeout=30)
    answers = [fake.callback_answer(press.id) for press in presses]
    assert all(answer is not None for answer in answers), answers
    assert (await polls.results(world.services.db, poll)).counts == (0, len(crowd))
