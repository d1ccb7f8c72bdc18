"""House rules attacked at Telegram's limits: articles and amendments as long as allowed, in
characters Telegram counts twice."""

from __future__ import annotations

from bot.domain.text import utf16_len
from tests.e2e.conftest import World
from tests.e2e.test_house_rules_hostile import with_draft


async def test_a_long_amendment_to_a_long_article_still_gets_its_card(world: World) -> None:
    """Article 1 of 1 490 emoji (2 980 UTF-16 units, within the 3 000 allowed) and an
    amendment of 2 900 Cyrillic letters: the card (the article as it is, shortened to 1 200
    characters, and the amendment) was 4 400 units; Telegram refused it, the resident read
    "something went wrong … may not have been done" — and the amendment was stored all the
    same, without a card to support it on."""
    bob, *_ = await with_draft(world, "1. " + "😀" * 1490 + "\n2. Bicycles in the bicycle room.")
    replies = await world.do(bob.send(world.court, "/amend 1 " + "ж" * 2900))
    assert not [c for c in replies.calls if not c.ok]
    [card] = replies.sent(world.court)
    assert "Amendment 1" in card.params["text"]
    assert card.params["reply_markup"]  # Support / Accept buttons to act on
    shown = world.fake.message(world.court, card.result["message_id"])
    assert shown is not None and shown.text is not None and utf16_len(shown.text) <= 4096
    assert "😀😀😀" in shown.text  # the article as it is, shortened, still shown
