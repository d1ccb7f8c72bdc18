"""The features' group defaults through /settings (typed and the panel), and the shared
/close and /export commands when they cannot tell which card is meant."""

from __future__ import annotations

from storage import chats
from tests.e2e.conftest import World


async def test_feature_defaults_typed_by_a_lead(world: World) -> None:
    await world.with_bot()
    replies = await world.do(
        world.alice.send(world.court, "/settings decision_rule cn-278-special")
    )
    said = replies.text(world.court)
    assert "counted by China’s Civil Code art. 278 — special matters" in said
    assert "(<code>cn-278-special</code>)" in said
    replies = await world.do(world.alice.send(world.court, "/settings event_reminders 2h, 1 day"))
    assert "before each event: 1 day, 2 hours." in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/settings listing_days 14"))
    assert "14 days" in replies.text(world.court)
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None
    s = chat.settings
    assert (s.decision_rule, s.event_reminders, s.listing_days) == (
        "cn-278-special",
        (1440, 120),
        14,
    )

    # the panel shows them, in the group's language
    replies = await world.do(world.alice.send(world.court, "/settings"))
    panel = replies.text(world.court)
    assert (
        "Default rule of formal decisions: China’s Civil Code art. 278 — special matters"
        " (<code>cn-278-special</code>)"
    ) in panel
    assert "Event reminders before the start: 1 day, 2 hours" in panel
    assert "Shared items stay listed for 14 days" in panel
    await world.do(world.alice.send(world.court, "/settings language ru"))
    replies = await world.do(world.alice.send(world.court, "/settings event_reminders выкл"))
    assert "выкл" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/settings"))
    assert "Вещи остаются в списке 14 дней" in replies.text(world.court)


async def test_feature_defaults_refused_clearly(world: World) -> None:
    await world.with_bot()
    cases = {
        "/settings decision_rule most votes": "most votes",
        "/settings decision_rule ru-oss quorum=1/2": "(<code>ru-oss</code>)” is set by law",
        "/settings event_reminders 1h 2h 3h 4h": "up to three",
        "/settings event_reminders 30d": "at most 14 days",
        "/settings listing_days 0": "from 1 to 365",
    }
    for command, expected in cases.items():
        replies = await world.do(world.alice.send(world.court, command))
        assert expected in replies.text(world.court), command
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None
    assert (chat.settings.decision_rule, chat.settings.listing_days) == ("majority", 30)
    # residents may not change them
    replies = await world.do(world.bob.send(world.court, "/settings listing_days 5"))
    assert "only" in replies.text(world.court).lower()
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.settings.listing_days == 30


async def test_panel_button_walks_the_decision_rules(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings"))
    panel = world.fake.last_bot_message(world.court)
    assert panel is not None
    seen = []
    for _ in range(3):
        await world.do(world.alice.press(panel, "st:k"))
        chat = await chats.get(world.services.db, world.court.id)
        assert chat is not None
        seen.append(chat.settings.decision_rule)
        panel = world.fake.message(world.court, panel.message_id)
    assert seen == ["two-thirds", "three-quarters", "unanimous"]
    assert "Decision rule: unanimity" in str(panel.reply_markup)
    # a resident's press changes nothing
    replies = await world.do(world.bob.press(panel, "st:k"))
    assert replies.answers()[0]["show_alert"]
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.settings.decision_rule == "unanimous"


async def test_close_and_export_need_to_know_which_card(world: World) -> None:
    await world.with_bot()
    for command in ("/close", "/close banana", "/export", "/export 3"):
        replies = await world.do(world.bob.send(world.court, command))
        text = replies.text(world.court)
        assert "Reply to the card" in text and "from the card" in text, command
    # a reply to a message that is not a card is no better
    note = await world.bob.send(world.court, "just chatting #nothing")
    replies = await world.do(world.bob.send(world.court, "/export", reply_to=note))
    assert "Reply to the card" in replies.text(world.court)
    # in a private chat they are group commands
    replies = await world.do(world.bob.send(world.bob.private, "/close P1"))
    assert "group" in replies.text(world.bob.private).lower()
