"""繁體中文 (zh_Hant) end to end: a group set to it speaks Traditional Chinese (texts, dates,
menus), a resident whose Telegram is in Traditional Chinese is answered in it in private, and
Traditional words are understood wherever Simplified ones are (ballots, polls, /decide)."""

from __future__ import annotations

from playground import FakeChat, FakeUser
from playground.page import command_menu
from storage import chats, decisions, polls
from tests.e2e.conftest import World
from tests.e2e.test_decisions import claim, open_decision, register


def descriptions(world: World, user: FakeUser, chat: FakeChat | None = None) -> dict[str, str]:
    menu = command_menu(world.fake, chat or world.court, user)
    return {c["command"]: c["description"] for c in menu}


async def test_a_group_set_to_zh_hant_speaks_traditional_chinese(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.alice.send(world.court, "/settings language zh-hant"))
    assert "語言已設定為：繁體中文。" in replies.text(world.court)
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.language == "zh_Hant"

    text = (await world.do(world.bob.send(world.court, "/help"))).text(world.court)
    assert "在本群組可以做的事" in text
    assert "本群" not in text.replace("本群組", "")  # no Simplified/mainland word left

    # a reminder's confirmation: Traditional weekday (週, not 周), the group's zone
    await world.do(world.alice.send(world.court, "/settings timezone Asia/Taipei"))
    said = (await world.do(world.alice.send(world.court, "/remind 週六下午3點 | 中庭大掃除"))).text(
        world.court
    )
    assert "週六 15:00" in said and "「中庭大掃除」" in said, said

    # the menus: Telegram's zh is Simplified, so the group has menus of its own, in Traditional,
    # for residents and for admins, whatever language their apps are in
    assert descriptions(world, world.wang)["poll"] == "帶按鈕的快速投票：選項、多選、匿名、截止時間"
    assert descriptions(world, world.bob)["help"] == "檢視在這裡能做什麼"
    admin_menu = descriptions(world, world.alice)
    assert "settings" in admin_menu and admin_menu["settings"].startswith("語言、時區")

    # back to English with the panel's button: the group's own menus are removed again
    await world.do(world.alice.send(world.court, "/settings"))
    panel = world.fake.last_bot_message(world.court)
    assert panel is not None and panel.reply_markup is not None
    buttons = [b.text for row in panel.reply_markup.inline_keyboard for b in row]
    assert "✓ 繁體中文" in buttons and "简体中文" in buttons and "English" in buttons
    await world.do(world.alice.press(panel, "st:l:en"))
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.language == "en"
    assert descriptions(world, world.wang)["help"] == "查看在这里能做什么"  # global zh menus
    assert "what you can do here" in descriptions(world, world.bob)["help"]


async def test_the_panel_button_sets_zh_hant_and_forged_codes_are_refused(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings"))
    panel = world.fake.last_bot_message(world.court)
    assert panel is not None
    replies = await world.do(world.alice.press(panel, "st:l:zh_Hant"))
    [edit] = replies.edits(world.court)
    assert "語言：繁體中文" in edit.params["text"] and "本群組設定" in edit.params["text"]
    assert descriptions(world, world.bob)["help"] == "檢視在這裡能做什麼"
    # codes that are not ours, in any spelling: nothing changes
    for forged in ("st:l:zh_hant", "st:l:zh-TW", "st:l:zh_Hant_TW", "st:l:"):
        panel = world.fake.message(world.court, panel.message_id)
        replies = await world.do(world.alice.press(panel, forged, check=False))
        assert replies.answers(), forged
        chat = await chats.get(world.services.db, world.court.id)
        assert chat is not None and chat.language == "zh_Hant", forged


async def test_typed_language_names_and_a_wrong_one(world: World) -> None:
    await world.with_bot()
    for typed, expected in (
        ("繁體", "zh_Hant"),
        ("zh-hk", "zh_Hant"),
        ("ＺＨ－ＴＷ", "zh_Hant"),  # full-width, as a Chinese keyboard may type it
        ("繁体中文", "zh_Hant"),
        ("简体中文", "zh_Hans"),
        ("繁體 中文", "zh_Hant"),  # a space typed in the middle
        ("zh-cn", "zh_Hans"),
        ("廣東話", "zh_Hant"),
        ("zh-cn", "zh_Hans"),
        ("English", "en"),
    ):
        await world.do(world.alice.send(world.court, f"/settings language {typed}"))
        chat = await chats.get(world.services.db, world.court.id)
        assert chat is not None and chat.language == expected, typed
    await world.do(world.alice.send(world.court, "/settings language zh-hant"))
    text = (await world.do(world.alice.send(world.court, "/settings language klingon"))).text(
        world.court
    )
    assert "我不認識「klingon」這種語言" in text
    # each language named in the group's language, the code one types beside it
    assert "英文（<code>en</code>）、簡體中文（<code>zh</code>）、" in text
    assert "、繁體中文（<code>zh-hant</code>）" in text
    assert "或俄文（<code>ru</code>）" in text and "English" not in text
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.language == "zh_Hant"  # nothing lost


async def test_private_chat_follows_the_telegram_language(world: World) -> None:
    for code, expected in (
        ("zh-hk", "您在這裡可以做的事"),
        ("zh-tw", "您在這裡可以做的事"),
        ("zh-hant", "您在這裡可以做的事"),
        ("zh-hans", "您在这里可以做的事"),
        ("zh", "您在这里可以做的事"),
    ):
        person = world.fake.user("陳大文", language_code=code)
        text = (await world.do(person.send(person.private, "/help"))).text(person.private)
        assert expected in text, (code, text)


async def test_a_private_chat_set_to_zh_hant_gets_its_own_menu(world: World) -> None:
    person = world.fake.user("陳大文", language_code="zh-hk")
    await world.do(person.send(person.private, "/settings language 繁體中文"))
    menu = {
        c["command"]: c["description"] for c in command_menu(world.fake, person.private, person)
    }
    assert menu["help"] == "檢視在這裡能做什麼"
    await world.do(person.send(person.private, "/settings language zh"))
    menu = {
        c["command"]: c["description"] for c in command_menu(world.fake, person.private, person)
    }
    assert menu["help"] == "查看在这里能做什么"


async def test_traditional_ballot_and_poll_words(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings language zh-hant"))
    await register(world, 3)
    await claim(world, world.bob, "2-101")
    decision, _card = await open_decision(
        world, "/decide 加裝電梯 | rule=過半數 | closes=14天後 | 無記名"
    )
    assert decision.secret and decision.rule == "majority"
    for label, word in (("2-101", "贊成"), ("2-102", "反對。"), ("2-103", "棄權")):
        said = (
            await world.do(world.alice.send(world.court, f"/ballot D{decision.id} {label} {word}"))
        ).text(world.court)
        assert "已為" in said and "登記紙質票" in said, said
    ballots = await decisions.ballots(world.services.db, decision.id)
    assert len(ballots) == 3
    said = (
        await world.do(world.alice.send(world.court, f"/ballot D{decision.id} 2-101 也許"))
    ).text(world.court)
    assert "「也許」不是可選的選項" in said and "<code>贊成</code>" in said  # the words one types

    await world.do(
        world.bob.send(world.court, "/poll 大門要漆什麼顏色？ | 綠色 | 藍色 | 多選 不記名")
    )
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM polls")
    poll = await polls.get(world.services.db, row["id"])
    assert poll is not None and poll.multiple and poll.anonymous
    assert poll.options == ("綠色", "藍色")


async def test_traditional_words_in_settings_events_and_house_rules(world: World) -> None:
    """Keywords are written in Simplified in the code; a Traditional reader types them in
    Traditional, and each is understood (the text people typed is kept as typed)."""
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings language 繁體"))
    said = (
        await world.do(world.alice.send(world.court, "/settings 活動提醒 24小時, 30分鐘"))
    ).text(world.court)
    assert "1天、30分鐘" in said or "30分鐘" in said, said
    said = (await world.do(world.alice.send(world.court, "/settings 審核 關閉"))).text(world.court)
    assert "關閉" in said, said
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.settings.event_reminders == (1440, 30)
    assert chat.settings.unit_approval is False

    await world.do(
        world.alice.send(world.court, "/event 中庭大掃除 | 週六 10:00-12:00 | 中庭 | 20")
    )
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM events")
    assert row is not None and row["id"] is not None
    said = (
        await world.do(world.alice.send(world.court, f"/event 編輯 E{row['id']} 人數 10"))
    ).text(world.court)
    assert "10 個名額" in said, said
    stored = await world.services.db.fetchone(
        "SELECT title, place, capacity FROM events WHERE id = ?", (row["id"],)
    )
    assert stored is not None
    assert (stored["title"], stored["place"], stored["capacity"]) == ("中庭大掃除", "中庭", 10)


async def test_a_group_added_by_a_hong_kong_lead_starts_in_traditional(world: World) -> None:
    chan = world.fake.user("陳大文", language_code="zh-hk")
    tai = world.fake.user("李小美", language_code="zh-tw")
    estate = world.fake.group("太古城", admins=[chan], members=[tai, world.bob])
    replies = await world.with_bot(estate, by=chan)
    assert "各位鄰居，大家好" in replies.text(estate) and "<b>管理員</b>" in replies.text(estate)
    chat = await chats.get(world.services.db, estate.id)
    assert chat is not None and chat.language == "zh_Hant"
    # its menus are Traditional from the start, for an English app too
    assert descriptions(world, world.bob, estate)["help"] == "檢視在這裡能做什麼"
    assert descriptions(world, chan, estate)["settings"].startswith("語言、時區")
    # a group that starts in English gets no menus of its own (no calls for nothing)
    calls = len(world.fake.calls_to("setMyCommands"))
    plain = world.fake.group("Oak House", admins=[world.alice])
    await world.with_bot(plain)
    assert len(world.fake.calls_to("setMyCommands")) == calls


async def test_start_in_private_gives_a_traditional_user_the_traditional_menu(
    world: World,
) -> None:
    person = world.fake.user("陳大文", language_code="zh-tw")
    text = (await world.do(person.send(person.private, "/start"))).text(person.private)
    assert "您好" in text and "群組" in text
    assert descriptions(world, person, person.private)["help"] == "檢視在這裡能做什麼"
    # a Simplified user's /start costs no call: the global zh menu is theirs
    calls = len(world.fake.calls_to("setMyCommands"))
    other = world.fake.user("王芳", language_code="zh-cn")
    await world.do(other.send(other.private, "/start"))
    assert len(world.fake.calls_to("setMyCommands")) == calls
    assert descriptions(world, other, other.private)["help"] == "查看在这里能做什么"


async def test_a_traditional_user_who_unblocks_the_bot_gets_the_traditional_menu(
    world: World,
) -> None:
    """Telegram sends my_chat_member when a user blocks or unblocks the bot (not on the first
    /start): the private chat's menu follows the language then."""
    person = world.fake.user("陳大文", language_code="zh-hk")
    await world.do(person.send(person.private, "/start"))
    world.fake.commands.clear()  # menus lost (e.g. another deployment reset them)
    person.block_bot()
    await world.settle()
    person.unblock_bot()
    await world.settle()
    assert descriptions(world, person, person.private)["help"] == "檢視在這裡能做什麼"


async def test_refusals_name_the_words_of_the_groups_language(world: World) -> None:
    """A wrong choice is answered with the words one types in Chinese, English codes after."""
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings language zh"))
    said = (await world.do(world.alice.send(world.court, "/settings polls 谁都行"))).text(
        world.court
    )
    assert "<code>所有人</code>" in said and "<code>管理员</code>" in said, said
    said = (await world.do(world.alice.send(world.court, "/settings unit_approval 也许"))).text(
        world.court
    )
    assert "<code>开</code>" in said and "<code>关</code>" in said, said


async def test_the_panel_names_the_language_in_the_groups_words(world: World) -> None:
    """The panel's line and the confirmation name the language as the group writes it
    ("русский", in lower case as Russian writes it); the buttons keep each language's own name,
    so that whoever cannot read the current one still finds theirs."""
    await world.with_bot()
    replies = await world.do(world.alice.send(world.court, "/settings language ru"))
    assert "Установлен язык: русский." in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/settings"))
    assert "Язык: русский" in replies.text(world.court)
    [panel] = replies.sent(world.court)
    buttons = [b["text"] for row in panel.params["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons[:4] == ["English", "简体中文", "繁體中文", "✓ Русский"]
    replies = await world.do(world.alice.send(world.court, "/settings language en"))
    assert "Language set to English." in replies.text(world.court)
