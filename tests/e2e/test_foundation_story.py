"""The foundation, as residents and leads live it."""

from __future__ import annotations

from storage import chats
from tests.e2e.conftest import World


async def test_added_bot_greets_and_points_leads_to_settings(world: World) -> None:
    replies = await world.with_bot()
    text = replies.text(world.court)
    assert "Hello, Maple Court" in text and "/settings" in text and "/help" in text
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.active and chat.title == "Maple Court"
    assert chat.language == "en" and chat.timezone == "UTC"


async def test_greeting_uses_the_adders_language(world: World) -> None:
    replies = await world.do(world.fake.add_bot(world.court, by=world.wang))
    assert "管理员" in replies.text(world.court)
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.language == "zh_Hans"


async def test_help_differs_for_resident_and_lead(world: World) -> None:
    await world.with_bot()
    resident = (await world.do(world.bob.send(world.court, "/help"))).text(world.court)
    lead = (await world.do(world.alice.send(world.court, "/help"))).text(world.court)
    assert "/help" in resident and "/settings" not in resident and "/grant" not in resident
    assert "/settings" in lead and "/grant organizer" in lead and "/revoke" in lead


async def test_language_and_timezone_change_later_replies(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.alice.send(world.court, "/settings language zh"))
    assert "简体中文" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/settings timezone Asia/Shanghai"))
    assert "Asia/Shanghai" in replies.text(world.court) and "时区" in replies.text(world.court)
    helped = (await world.do(world.bob.send(world.court, "/help"))).text(world.court)
    assert "在本群可以做的事" in helped
    replies = await world.do(world.alice.send(world.court, "/settings language ru"))
    assert "русский" in replies.text(world.court)
    panel = (await world.do(world.alice.send(world.court, "/settings"))).text(world.court)
    assert "Asia/Shanghai" in panel and "Часовой пояс" in panel


async def test_resident_settings_is_refused_politely(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.bob.send(world.court, "/settings language ru"))
    assert "only the group's leads" in replies.text(world.court)
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.language == "en"  # nothing changed


async def test_garbage_arguments_get_a_clear_translated_error(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.alice.send(world.court, "/settings timezone Mars/Olympus"))
    assert "“Mars/Olympus” is not a time zone" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/settings colour <b>blue</b>"))
    assert "There is no setting “colour”" in replies.text(world.court)
    await world.do(world.alice.send(world.court, "/settings language ru"))
    replies = await world.do(world.alice.send(world.court, "/settings language klingon"))
    assert "klingon" in replies.text(world.court) and "язык" in replies.text(world.court).lower()


async def test_title_change_is_tracked(world: World) -> None:
    await world.with_bot()
    await world.do(world.fake.set_title(world.court, "Maple Court · Block 2", by=world.alice))
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.title == "Maple Court · Block 2"


async def test_removed_bot_keeps_data_and_welcomes_back(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings language ru"))
    await world.do(world.fake.remove_bot(world.court, by=world.alice, kicked=True))
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and not chat.active and chat.language == "ru"
    replies = await world.with_bot()
    assert "Я снова в группе «Maple Court»" in replies.text(world.court)
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.active and chat.language == "ru"


async def test_start_in_private_uses_the_users_language(world: World) -> None:
    replies = await world.do(world.carol.send(world.carol.private, "/start"))
    assert "Courtyard" in replies.text(world.carol.private)
    assert "Здравствуйте" in replies.text(world.carol.private)
    replies = await world.do(world.wang.send(world.wang.private, "/help"))
    assert "/settings" in replies.text(world.wang.private)
    assert "/grant" not in replies.text(world.wang.private)


async def test_private_settings_change_the_private_language(world: World) -> None:
    await world.do(world.bob.send(world.bob.private, "/start"))
    replies = await world.do(world.bob.send(world.bob.private, "/settings language ru"))
    assert "русский" in replies.text(world.bob.private)
    replies = await world.do(world.bob.send(world.bob.private, "/settings polls leads"))
    assert "Настройка «polls» относится к группе" in replies.text(world.bob.private)


async def test_group_intro_on_start(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.bob.send(world.court, "/start"))
    assert "Courtyard" in replies.text(world.court)


async def test_unknown_commands(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.bob.send(world.bob.private, "/frobnicate"))
    assert "/frobnicate" in replies.text(world.bob.private)
    # in a group, only when addressed to us by name
    replies = await world.do(world.bob.send(world.court, "/frobnicate@courtyard_bot now"))
    assert "/frobnicate" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/frobnicate@other_bot"))
    assert replies.sent() == []
