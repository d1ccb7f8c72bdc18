"""Roles (leads from Telegram, organizers granted by leads), the settings panel's buttons,
supergroup migration, Telegram errors in the middle of a conversation."""

from __future__ import annotations

from bot.domain.roles import Role
from storage import chats, members
from tests.e2e.conftest import World


async def test_lead_grants_and_revokes_organizer_by_reply(world: World) -> None:
    await world.with_bot()
    bob_says = await world.bob.send(world.court, "I can organise the cleanup")
    replies = await world.do(world.alice.send(world.court, "/grant organizer", reply_to=bob_says))
    assert "Bob Baker is now an organizer" in replies.text(world.court)
    assert (
        await members.stored_role(world.services.db, world.court.id, world.bob.id) is Role.ORGANIZER
    )
    replies = await world.do(world.alice.send(world.court, "/grant organizer", reply_to=bob_says))
    assert "already an organizer" in replies.text(world.court)
    # the settings panel lists organizers
    panel = (await world.do(world.alice.send(world.court, "/settings"))).text(world.court)
    assert "Organizers: Bob Baker" in panel
    replies = await world.do(world.alice.send(world.court, "/revoke organizer", reply_to=bob_says))
    assert "no longer an organizer" in replies.text(world.court)
    assert (
        await members.stored_role(world.services.db, world.court.id, world.bob.id) is Role.RESIDENT
    )


async def test_grant_mistakes_are_explained(world: World) -> None:
    await world.with_bot()
    bob_says = await world.bob.send(world.court, "hello")
    text = (await world.do(world.alice.send(world.court, "/grant organizer"))).text(world.court)
    assert "Reply to a message of the member" in text
    text = (await world.do(world.alice.send(world.court, "/grant", reply_to=bob_says))).text(
        world.court
    )
    assert "Which role?" in text
    text = (await world.do(world.alice.send(world.court, "/grant mayor", reply_to=bob_says))).text(
        world.court
    )
    assert "I don't know the role “mayor”" in text
    alice_says = await world.alice.send(world.court, "hi")
    text = (
        await world.do(world.alice.send(world.court, "/grant organizer", reply_to=alice_says))
    ).text(world.court)
    assert "already a lead" in text
    # a resident may not grant
    text = (
        await world.do(world.carol.send(world.court, "/grant organizer", reply_to=bob_says))
    ).text(world.court)
    assert "only the group's leads" in text
    assert (
        await members.stored_role(world.services.db, world.court.id, world.bob.id) is Role.RESIDENT
    )


async def test_refusals_in_a_group_use_the_group_language(world: World) -> None:
    await world.with_bot()
    bob_says = await world.bob.send(world.court, "hello")
    text = (
        await world.do(world.carol.send(world.court, "/grant organizer", reply_to=bob_says))
    ).text(world.court)
    assert "Sorry, only the group's leads (admins) can do that here." in text
    await world.do(world.alice.send(world.court, "/settings language ru"))
    text = (
        await world.do(world.bob.send(world.court, "/grant organizer", reply_to=bob_says))
    ).text(world.court)
    assert "Извините" in text


async def test_grant_in_private_is_explained(world: World) -> None:
    text = (await world.do(world.bob.send(world.bob.private, "/grant organizer"))).text(
        world.bob.private
    )
    assert "group chat" in text


async def test_settings_panel_buttons_for_leads_only(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings"))
    panel = world.fake.last_bot_message(world.court)
    assert panel is not None and panel.reply_markup is not None

    # a resident presses: polite refusal in *their* language, nothing changes
    replies = await world.do(world.carol.press(panel, "st:l:zh_Hans"))
    answer = replies.answers()[0]
    assert answer["show_alert"] and "только администраторы" in answer["text"]
    assert replies.edits() == []
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.language == "en"

    # the lead switches the language to Chinese with a button: the panel re-renders in Chinese
    replies = await world.do(world.alice.press(panel, "st:l:zh_Hans"))
    assert replies.answer_text() == "Saved."
    [edit] = replies.edits(world.court)
    assert "语言：简体中文" in edit.params["text"] and "本群设置" in edit.params["text"]
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.language == "zh_Hans"

    # time zone: open the list, pick one
    panel = world.fake.message(world.court, panel.message_id)
    replies = await world.do(world.alice.press(panel, "st:z"))
    panel = world.fake.message(world.court, panel.message_id)
    assert any(
        b.callback_data == "st:z:0" for row in panel.reply_markup.inline_keyboard for b in row
    )
    await world.do(world.alice.press(panel, "st:z:4"))  # Europe/Moscow
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.timezone == "Europe/Moscow"

    # who may create polls cycles everyone -> organizers -> leads
    panel = world.fake.message(world.court, panel.message_id)
    await world.do(world.alice.press(panel, "st:p"))
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.settings.poll_creators.value == "organizers"
    panel = world.fake.message(world.court, panel.message_id)
    await world.do(world.alice.press(panel, "st:e"))
    panel = world.fake.message(world.court, panel.message_id)
    await world.do(world.alice.press(panel, "st:e"))
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.settings.event_creators.value == "leads"

    # who may set group reminders cycles too (default organizers -> leads)
    panel = world.fake.message(world.court, panel.message_id)
    await world.do(world.alice.press(panel, "st:r"))
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.settings.reminder_creators.value == "leads"

    # the weekly digest: one press on (Sunday 18:00, in the group's zone), one press off
    panel = world.fake.message(world.court, panel.message_id)
    await world.do(world.alice.press(panel, "st:d"))
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.settings.digest_rrule == "FREQ=WEEKLY;BYDAY=SU"
    row = await world.services.db.fetchone(
        "SELECT run_at FROM scheduled WHERE kind = 'digest' AND status = 'pending'"
    )
    assert row is not None and row["run_at"].endswith("T15:00:00Z")  # 18:00 in Moscow
    panel = world.fake.message(world.court, panel.message_id)
    await world.do(world.alice.press(panel, "st:d"))
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.settings.digest_rrule is None
    assert (
        await world.services.db.fetchone(
            "SELECT 1 FROM scheduled WHERE kind = 'digest' AND status = 'pending'"
        )
        is None
    )

    # done: the keyboard goes away
    panel = world.fake.message(world.court, panel.message_id)
    await world.do(world.alice.press(panel, "st:x"))
    panel = world.fake.message(world.court, panel.message_id)
    assert panel.reply_markup is None or not panel.reply_markup.inline_keyboard


async def test_forged_button_data_is_answered_and_changes_nothing(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings"))
    panel = world.fake.last_bot_message(world.court)
    for data in ("st:l:de", "st:z:999", "st:z:-1", "st:q", "st:l", "zz:1:2", "st:p:1", ""):
        replies = await world.do(world.alice.press(panel, data, check=False))
        answers = replies.answers()
        assert len(answers) == 1, data
        assert "no longer works" in answers[0]["text"], data
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.settings.language == "en" and chat.timezone == "UTC"


async def test_promotion_reported_by_telegram_refreshes_leads(world: World) -> None:
    # the bot is an administrator, so Telegram sends it chat_member updates
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    text = (await world.do(world.bob.send(world.court, "/settings"))).text(world.court)
    assert "only the group's leads" in text
    await world.do(world.fake.promote(world.court, world.bob, by=world.alice))
    text = (await world.do(world.bob.send(world.court, "/settings"))).text(world.court)
    assert "Settings of Maple Court" in text
    await world.do(world.fake.demote(world.court, world.bob, by=world.alice))
    text = (await world.do(world.bob.send(world.court, "/settings"))).text(world.court)
    assert "only the group's leads" in text


async def test_admin_list_is_cached(world: World) -> None:
    await world.with_bot()
    before = len(world.fake.calls_to("getChatAdministrators"))
    for _ in range(5):
        await world.do(world.bob.send(world.court, "/help"))
    assert len(world.fake.calls_to("getChatAdministrators")) - before <= 1


async def test_supergroup_migration_keeps_settings_and_roles(world: World) -> None:
    await world.with_bot()
    bob_says = await world.bob.send(world.court, "hi")
    await world.do(world.alice.send(world.court, "/grant organizer", reply_to=bob_says))
    await world.do(world.alice.send(world.court, "/settings language ru"))
    await world.do(world.alice.send(world.court, "/settings timezone Europe/Moscow"))
    old_id = world.court.id

    court = world.fake.upgrade_to_supergroup(world.court, by=world.alice)
    new = await court
    await world.settle()
    assert new.id != old_id and str(new.id).startswith("-100")
    assert await chats.get(world.services.db, old_id) is None
    chat = await chats.get(world.services.db, new.id)
    assert chat is not None and chat.language == "ru" and chat.timezone == "Europe/Moscow"
    assert await members.stored_role(world.services.db, new.id, world.bob.id) is Role.ORGANIZER

    panel = (await world.do(world.alice.send(new, "/settings"))).text(new)
    assert "Europe/Moscow" in panel and "Bob Baker" in panel


async def test_a_429_delays_but_does_not_lose_the_reply(world: World) -> None:
    await world.with_bot()
    fault = world.fake.inject("sendMessage", error_code=429, retry_after=1, times=1)
    replies = await world.do(world.bob.send(world.court, "/help"))
    assert fault.hits == 1
    assert len(replies.sent(world.court)) == 1
    assert "What you can do" in replies.text(world.court)
    failed = [c for c in replies.calls if c.method == "sendMessage" and not c.ok]
    assert len(failed) == 1 and failed[0].error_code == 429
    # Telegram's "retry after 1" was honoured before sending again
    assert replies.sent(world.court)[0].at - failed[0].at >= 0.9


async def test_telegram_failure_inside_a_command_gets_an_apology(world: World) -> None:
    await world.with_bot()
    world.fake.inject(
        "getChatAdministrators", error_code=400, description="Bad Request: boom", times=None
    )
    replies = await world.do(world.bob.send(world.court, "/help"))
    assert "Sorry, something went wrong" in replies.text(world.court)
    world.fake.clear_faults()
    replies = await world.do(world.bob.send(world.court, "/help"))
    assert "What you can do" in replies.text(world.court)


async def test_failed_button_press_is_still_answered(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings"))
    panel = world.fake.last_bot_message(world.court)
    world.services.roles.invalidate(world.court.id)
    world.fake.inject(
        "getChatAdministrators", error_code=400, description="Bad Request: boom", times=None
    )
    replies = await world.do(world.alice.press(panel, "st:p"))
    [answer] = replies.answers()
    assert answer["show_alert"] and "something went wrong" in answer["text"]


async def test_command_menus_per_scope_and_language(world: World) -> None:
    calls = world.fake.calls_to("setMyCommands")
    assert len(calls) == 9
    by_key = {}
    for call in calls:
        scope = (
            call.params["scope"]["type"]
            if isinstance(call.params["scope"], dict)
            else call.params["scope"]
        )
        by_key[(scope, call.params.get("language_code"))] = call.params["commands"]

    def names(commands):
        return [c["command"] for c in commands]

    # the menus are what /help shows each role (the lists are pinned in test_settings_roles)
    from tests.domain.test_settings_roles import LEAD_EXTRA, ORGANIZER_EXTRA, RESIDENT

    assert names(by_key[("all_group_chats", None)]) == RESIDENT
    admins = names(by_key[("all_chat_administrators", None)])
    assert set(admins) == set(RESIDENT) | ORGANIZER_EXTRA | LEAD_EXTRA
    assert admins.index("settings") < admins.index("poll") < admins.index("purge")
    assert names(by_key[("all_private_chats", "ru")]) == [
        "start",
        "help",
        "settings",
        "remind",
        "reminders",
        "checkonme",
        "hours",
        "report",
        "reports",
        "mydata",
        "forgetme",
    ]
    zh = {c["command"]: c["description"] for c in by_key[("all_chat_administrators", "zh")]}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh["settings"])


async def test_a_flooded_group_does_not_starve_other_chats(fake, tmp_path) -> None:
    """One group floods the bot while its replies wait for the group's rate limit; a resident
    in a private chat is still answered before that backlog is through."""
    from dataclasses import replace

    from tests.e2e.conftest import FAST, World, start_app, stop_app

    app = await start_app(fake, tmp_path / "c.sqlite3")
    world = World(fake, app)
    try:
        await world.with_bot()
        world.services.outbox.limits = replace(FAST, group_burst=1, group_per_second=4.0)
        world.services.outbox._chats.clear()
        mark = fake.mark()
        for _ in range(24):
            await world.bob.send(world.court, "/start")
        await world.carol.send(world.carol.private, "/start")
        private = await fake.wait_for(
            "sendMessage", since=mark, timeout=15, chat_id=world.carol.private.id
        )
        group_before = [
            c
            for c in fake.calls_to("sendMessage", chat_id=world.court.id)
            if mark <= c.index < private.index and c.ok
        ]
        assert len(group_before) < 12, len(group_before)  # answered long before the backlog ends
        await world.settle(timeout=30)
        group_all = [
            c
            for c in fake.calls_to("sendMessage", chat_id=world.court.id)
            if c.index >= mark and c.ok
        ]
        assert len(group_all) == 24  # and the group loses nothing
    finally:
        await stop_app(app)


async def test_two_settings_changed_at_once_both_stay(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings"))
    panel = world.fake.last_bot_message(world.court)
    # sent together: both updates are handled concurrently
    await world.alice.send(world.court, "/settings timezone Asia/Shanghai")
    await world.alice.press(panel, "st:p")
    await world.alice.send(world.court, "/settings events leads")
    await world.settle()
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None
    assert chat.timezone == "Asia/Shanghai"
    assert chat.settings.poll_creators.value == "organizers"
    assert chat.settings.event_creators.value == "leads"


async def test_edited_commands_do_not_run_again(world: World) -> None:
    await world.with_bot()
    message = await world.alice.send(world.court, "/settings language ru")
    await world.settle()
    await world.do(world.alice.send(world.court, "/settings language en"))
    replies = await world.do(world.alice.edit(message, "/settings language zh"))
    assert replies.sent() == []
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.language == "en"
