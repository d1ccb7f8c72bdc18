"""The fake served to a plain PTB ``Bot``: results parse, Telegram's checks raise PTB's errors."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    Document,
    File,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    User,
    WebhookInfo,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden

from playground import FakeTelegram

from ._support import People


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d)] for d in data])


async def test_get_me_is_the_bot(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert isinstance(me, User)
    assert (me.id, me.is_bot, me.username, me.first_name) == (
        123456,
        True,
        "courtyard_bot",
        "Courtyard",
    )
    assert fake.bot_user == me
    assert fake.base_url.endswith("/bot") and fake.base_file_url.endswith("/file/bot")


async def test_every_result_parses(fake: FakeTelegram, bot: Bot, people: People) -> None:
    court = people.court
    await fake.promote_bot(court, by=people.alice)
    user_message = await people.bob.send(court, "/report leak on 3rd floor")

    sent = await bot.send_message(
        court.id,
        "<b>Report</b> received, <i>Bob</i> &amp; team",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard("rp:ok", "rp:no"),
        reply_parameters=ReplyParameters(user_message.message_id),
    )
    assert isinstance(sent, Message)
    assert sent.text == "Report received, Bob & team"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 6),
        ("italic", 17, 3),
    ]
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.message_id == user_message.message_id
    assert sent.from_user is not None and sent.from_user.id == fake.bot_id
    assert sent.message_id == user_message.message_id + 1

    md = await bot.send_message(court.id, r"*Bold* and \. escaped", parse_mode="MarkdownV2")
    assert md.text == "Bold and . escaped"

    edited = await bot.edit_message_text(
        "Report closed", chat_id=court.id, message_id=sent.message_id
    )
    assert isinstance(edited, Message) and edited.text == "Report closed"
    assert edited.edit_date is not None and edited.reply_markup is None
    with_markup = await bot.edit_message_reply_markup(
        court.id, sent.message_id, reply_markup=keyboard("rp:reopen")
    )
    assert isinstance(with_markup, Message)
    current = fake.message(court, sent.message_id)
    assert current is not None and current.reply_markup == keyboard("rp:reopen")

    assert await bot.pin_chat_message(court.id, sent.message_id) is True
    chat = await bot.get_chat(court.id)
    assert isinstance(chat, ChatFullInfo)
    assert (chat.id, chat.type, chat.title) == (court.id, "group", "Maple Court")
    assert chat.pinned_message is not None and chat.pinned_message.message_id == sent.message_id
    assert await bot.unpin_chat_message(court.id) is True
    assert await bot.unpin_all_chat_messages(court.id) is True

    owner = await bot.get_chat_member(court.id, people.alice.id)
    member = await bot.get_chat_member(court.id, people.bob.id)
    me = await bot.get_chat_member(court.id, fake.bot_id)
    assert isinstance(owner, ChatMemberOwner)
    assert isinstance(member, ChatMemberMember)
    assert isinstance(me, ChatMemberAdministrator)
    admins = await bot.get_chat_administrators(court.id)
    assert [a.user.id for a in admins] == [people.alice.id, fake.bot_id]
    assert await bot.get_chat_member_count(court.id) == 4

    assert await bot.send_chat_action(court.id, "typing") is True
    assert await bot.set_my_description("Helps the residents") is True
    assert await bot.set_my_short_description("Courtyard helper") is True
    assert (await bot.get_my_description()).description == "Helps the residents"

    assert await bot.delete_message(court.id, md.message_id) is True
    assert await bot.delete_messages(court.id, [sent.message_id, 999]) is True
    assert court.bot_messages == []

    assert await bot.set_webhook("https://example.org/hook") is True
    info = await bot.get_webhook_info()
    assert isinstance(info, WebhookInfo) and info.url == "https://example.org/hook"
    assert await bot.delete_webhook() is True
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.log_out() is True
    assert await bot.close() is True
    assert await bot.leave_chat(court.id) is True
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(court.id, "still here?")
    assert all(call.ok for call in fake.api_calls[:-1])


async def test_document_upload_and_download(fake: FakeTelegram, bot: Bot, people: People) -> None:
    await people.alice.send(people.alice.private, "/start")
    content = "unit,resident\n1A,Алиса 🏠\n".encode()
    message = await bot.send_document(
        people.alice.id, content, filename="units.csv", caption="<b>Units</b>", parse_mode="HTML"
    )
    assert isinstance(message.document, Document)
    assert message.document.file_name == "units.csv"
    assert message.document.mime_type == "text/csv"
    assert message.document.file_size == len(content)
    assert message.caption == "Units"
    call = fake.calls_to("sendDocument", chat_id=people.alice.id)[0]
    assert call.params["document"] == content
    assert call.files["document"].filename == "units.csv"

    file = await bot.get_file(message.document.file_id)
    assert isinstance(file, File) and file.file_path is not None
    assert file.file_path.startswith(fake.base_file_url + fake.token + "/")
    assert bytes(await file.download_as_bytearray()) == content

    resent = await bot.send_document(people.alice.id, message.document.file_id)
    assert resent.document is not None
    assert resent.document.file_id == message.document.file_id

    photo = await bot.send_photo(people.alice.id, b"\x89PNG\r\n\x1a\nfake", caption="plan")
    assert photo.photo and photo.photo[-1].width == 800
    photo_file = await bot.get_file(photo.photo[-1].file_id)
    assert bytes(await photo_file.download_as_bytearray()) == b"\x89PNG\r\n\x1a\nfake"

    with pytest.raises(BadRequest, match=r"(?i)file must be non-empty"):
        await bot.send_document(people.alice.id, b"", filename="empty.txt")
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")


async def test_user_document_is_downloadable(fake: FakeTelegram, bot: Bot) -> None:
    dave = fake.user("Dave")
    sent = await dave.send_document(
        dave.private, filename="units.csv", content=b"a,b\n", caption="please import"
    )
    assert sent.document is not None and sent.caption == "please import"
    file = await bot.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"a,b\n"


async def test_commands_are_stored_per_scope_and_language(fake: FakeTelegram, bot: Bot) -> None:
    court = fake.group("Maple Court", admins=[fake.user("Alice")], with_bot=True)
    default = [BotCommand("help", "How to use the bot"), BotCommand("start", "Begin")]
    chinese = [BotCommand("help", "帮助")]
    admins = [BotCommand("grant", "Give a role")]
    assert await bot.set_my_commands(default) is True
    assert await bot.set_my_commands(chinese, language_code="zh") is True
    assert await bot.set_my_commands(admins, scope=BotCommandScopeChatAdministrators(court.id))

    assert list(await bot.get_my_commands()) == default
    assert list(await bot.get_my_commands(language_code="zh")) == chinese
    assert list(await bot.get_my_commands(language_code="de")) == []
    assert list(await bot.get_my_commands(scope=BotCommandScopeAllGroupChats())) == []
    assert list(await bot.get_my_commands(scope=BotCommandScopeChat(court.id))) == []
    got = await bot.get_my_commands(scope=BotCommandScopeChatAdministrators(court.id))
    assert list(got) == admins

    assert await bot.delete_my_commands(language_code="zh") is True
    assert list(await bot.get_my_commands(language_code="zh")) == []
    assert list(await bot.get_my_commands()) == default
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Help", "capital letters are not allowed")])


# ----------------------------------------------------------------------- validation


TOO_LONG = "a" * 4097


@pytest.mark.parametrize(
    ("text", "parse_mode", "reason"),
    [
        ("", None, "message text is empty"),
        ("   \n ", None, "message text is empty"),
        ("<b></b>", "HTML", "message text is empty"),
        (TOO_LONG, None, "message is too long"),
        ("🏠" * 2049, None, "message is too long"),
        ("<b>" + "a" * 4097 + "</b>", "HTML", "message is too long"),
        ("<marquee>hi</marquee>", "HTML", 'unsupported start tag "marquee"'),
        ("<b>unclosed", "HTML", 'can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", "HTML", "unmatched end tag"),
        ("1 < 2", "HTML", 'unsupported start tag ""'),
        ("Tom & Jerry", "HTML", 'character "&" must be escaped'),
        ("</b>", "HTML", "unexpected end tag"),
        ('<span class="x">a</span>', "HTML", 'tag "span" must have class "tg-spoiler"'),
        ("Done.", "MarkdownV2", "character '.' is reserved"),
        ("*bold", "MarkdownV2", "can't find end of bold entity"),
        ("[link](http://x", "MarkdownV2", "can't find end of a url"),
        ("*bold", "Markdown", "can't find end of the entity"),
    ],
)
async def test_send_message_validation(
    fake: FakeTelegram, bot: Bot, people: People, text: str, parse_mode: str | None, reason: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(people.court.id, text, parse_mode=parse_mode)
    assert reason.lower() in caught.value.message.lower()
    call = fake.api_calls[-1]
    assert (call.method, call.ok, call.error_code) == ("sendMessage", False, 400)
    assert call.description is not None and call.description.startswith("Bad Request: ")
    assert people.court.bot_messages == []


@pytest.mark.parametrize(
    "text",
    [
        "a" * 4096,
        "🏠" * 2048,
        "<b>" + "a" * 4096 + "</b>",
        "1 &lt; 2 &amp;&amp; 3 &gt; 2 &#128512; &#x1F600; &quot;",
        '<a href="https://example.org/?a=1&amp;b=2">link</a> <tg-spoiler>s</tg-spoiler>',
        '<pre><code class="language-python">print(1)</code></pre>',
        "<blockquote expandable>quote</blockquote>",
    ],
)
async def test_send_message_accepts_valid_text(bot: Bot, people: People, text: str) -> None:
    message = await bot.send_message(people.court.id, text, parse_mode="HTML")
    assert message.text


async def test_html_entities_and_language(bot: Bot, people: People) -> None:
    message = await bot.send_message(
        people.court.id,
        '<pre><code class="language-python">x = 1</code></pre>\n<a href="tg://user?id=7">Al</a>',
        parse_mode="HTML",
    )
    pre, mention = message.entities
    assert (pre.type, pre.language, pre.offset, pre.length) == ("pre", "python", 0, 5)
    assert mention.type == "text_mention" and mention.user is not None
    assert message.text == "x = 1\nAl"


async def test_callback_data_limit(bot: Bot, people: People) -> None:
    await bot.send_message(people.court.id, "ok", reply_markup=keyboard("x" * 64))
    for data in ("x" * 65, "é" * 33):
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await bot.send_message(people.court.id, "menu", reply_markup=keyboard(data))
    text_only = InlineKeyboardMarkup([[InlineKeyboardButton("no action")]])
    with pytest.raises(BadRequest, match=r"(?i)text buttons are unallowed"):
        await bot.send_message(people.court.id, "menu", reply_markup=text_only)


async def test_edit_and_delete_errors(fake: FakeTelegram, bot: Bot, people: People) -> None:
    court = people.court
    menu = await bot.send_message(court.id, "Pick one", reply_markup=keyboard("a", "b"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "Pick one",
            chat_id=court.id,
            message_id=menu.message_id,
            reply_markup=keyboard("a", "b"),
        )
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(
            court.id, menu.message_id, reply_markup=keyboard("a", "b")
        )
    # Same text without the keyboard is a change: Telegram drops the keyboard.
    edited = await bot.edit_message_text("Pick one", chat_id=court.id, message_id=menu.message_id)
    assert isinstance(edited, Message) and edited.reply_markup is None

    user_message = await people.bob.send(court, "/hello")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("hijack", chat_id=court.id, message_id=user_message.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message can't be deleted"):
        await bot.delete_message(court.id, user_message.message_id)

    fake.delete_message(court, menu.message_id)
    assert fake.message(court, menu.message_id) is None
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("late", chat_id=court.id, message_id=menu.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(court.id, menu.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(court.id, "re", reply_parameters=ReplyParameters(menu.message_id))
    ok = await bot.send_message(
        court.id,
        "re",
        reply_parameters=ReplyParameters(menu.message_id, allow_sending_without_reply=True),
    )
    assert ok.reply_to_message is None


async def test_chat_access_errors(fake: FakeTelegram, bot: Bot, people: People) -> None:
    stranger = fake.user("Stranger")
    lonely = fake.group("No Bot Here", admins=[people.alice])
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(-999, "hello")
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(lonely.id, "hello")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(stranger.id, "hello")

    await stranger.send(stranger.private, "/start")
    assert (await bot.send_message(stranger.id, "welcome")).chat.type == "private"
    stranger.block_bot()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(stranger.id, "still there?")
    stranger.unblock_bot()
    await bot.send_message(stranger.id, "welcome back")

    await fake.remove_bot(people.court, by=people.alice, kicked=True)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(people.court.id, "hello?")
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.get_chat(people.court.id)


async def test_migrated_group_raises_chat_migrated(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    old = people.court
    new = await fake.upgrade_to_supergroup(old, by=people.alice)
    assert new.type == "supergroup" and str(new.id).startswith("-100") and len(str(new.id)) == 14
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(old.id, "hello")
    assert caught.value.new_chat_id == new.id
    with pytest.raises(ChatMigrated):
        await bot.get_chat(old.id)
    with pytest.raises(ChatMigrated):
        await bot.get_chat_member(old.id, people.bob.id)
    call = fake.api_calls[-1]
    assert call.parameters == {"migrate_to_chat_id": new.id}
    assert call.description == "Bad Request: group chat was upgraded to a supergroup chat"
    message = await bot.send_message(new.id, "hello supergroup")
    assert message.chat.type == "supergroup"


async def test_answer_callback_query_rules(fake: FakeTelegram, bot: Bot, people: People) -> None:
    menu = await bot.send_message(people.court.id, "Language?", reply_markup=keyboard("st:lang:zh"))
    query = await people.bob.press(menu, "st:lang:zh")
    assert query.data == "st:lang:zh" and query.from_user.id == people.bob.id
    assert query.message is not None and query.message.message_id == menu.message_id
    assert fake.callback_answer(query.id) is None
    assert fake.unanswered_callbacks == [query.id]
    await bot.answer_callback_query(query.id, text="Saved", show_alert=True)
    assert fake.callback_answer(query.id) == {"text": "Saved", "show_alert": True}
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(LookupError, match="no button"):
        await people.bob.press(menu, "st:lang:xx")
