"""A title made only of invisible characters (zero-width spaces, word joiners, a bidi override,
a Hangul filler) is no title: every feature that takes one answers with its usage and stores
nothing; an override inside a title is dropped, so a card cannot be turned around."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import World

HIDDEN = ("\u200b\u200b\u2060", "\u202e\u200b", "\u3164 \ufeff")


@pytest.mark.parametrize("hidden", HIDDEN)
async def test_no_feature_takes_an_invisible_title(world: World, hidden: str) -> None:
    await world.with_bot()
    db = world.services.db
    for text, answer, table in (
        (f"/poll {hidden} | Yes | No", "Write the question first", "polls"),
        (f"/event {hidden} | tomorrow 10:00 | Yard", "/event Title | when", "events"),
        (f"/need {hidden}", "Write what you need", "items"),
        (f"/offer {hidden} | lend", "Write what you offer", "items"),
        (f"/chain {hidden}", "Write the title", "chains"),
        (f"/decide {hidden} | rule=majority", "Write the question", "decisions"),
    ):
        replies = await world.do(world.alice.send(world.court, text))
        assert answer in replies.text(world.court), (text, replies.text(world.court))
        assert await db.fetchone(f"SELECT id FROM {table}") is None, text


async def test_an_override_inside_a_title_is_not_shown(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/poll Paint\u202e the gate? | Yes | No\u200b"))
    row = await world.services.db.fetchone("SELECT question FROM polls")
    assert row["question"] == "Paint the gate?"
    card = world.fake.calls_to("sendMessage", chat_id=world.court.id)[-1].params
    assert "\u202e" not in card["text"] and "\u200b" not in str(card.get("reply_markup"))
