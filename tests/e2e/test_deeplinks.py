"""Deep links lead where they promised (issue 13): a link handed out because the bot could not
write to someone first is a URL button bound to that person; opening it does what was promised
(the export is sent, the reminders are listed), a neighbour who taps it gets nothing of it, an
expired or forged one opens nothing, and links of older versions still get an answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.i18n import t
from storage.db import to_db
from tests.e2e.conftest import Replies, World
from tests.e2e.test_decisions import open_decision, register


def link_button(replies: Replies, chat_id: int) -> str:
    """The URL button of the bot's answer in ``chat_id``; its start token."""
    [call] = [c for c in replies.sent(chat_id) if c.params.get("reply_markup")]
    markup: Any = call.params["reply_markup"]
    [[button]] = markup["inline_keyboard"]
    url = urlsplit(button["url"])
    assert url.netloc == "t.me" and url.path == "/courtyard_bot"
    [token] = parse_qs(url.query)["start"]
    assert len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()
    return token


async def test_an_export_link_sends_the_file_to_its_owner_only(world: World) -> None:
    await world.with_bot()
    await register(world, 3)
    decision, _ = await open_decision(world, "/decide Bike shed | rule=majority")
    replies = await world.do(world.alice.send(world.court, f"/export D{decision.id}"))
    assert "Start" in replies.text(world.court)
    assert [c for c in world.fake.calls_to("sendDocument") if c.ok] == []
    token = link_button(replies, world.court.id)

    # a neighbour who taps the same link: nothing of the export, a clear word
    replies = await world.do(world.carol.send(world.carol.private, f"/start {token}"))
    assert "для другого жителя" in replies.text(world.carol.private)  # in her language
    assert [c for c in world.fake.calls_to("sendDocument") if c.ok] == []

    # its owner: the file, without asking again
    replies = await world.do(world.alice.send(world.alice.private, f"/start {token}"))
    [doc] = [c for c in world.fake.calls_to("sendDocument", chat_id=world.alice.id) if c.ok]
    assert doc.params["document"].decode("utf-8-sig").startswith("Unit,")
    assert "Hello" not in replies.text(world.alice.private)  # not the greeting instead

    # a resident who may not export gets the refusal, and no link that could open it
    replies = await world.do(world.bob.send(world.court, f"/export D{decision.id}"))
    assert not any(c.params.get("reply_markup") for c in replies.sent(world.court.id))
    assert "leads" in world.fake.calls_to("sendMessage", chat_id=world.court.id)[-1].params["text"]


async def test_an_expired_or_forged_link_opens_nothing(world: World) -> None:
    await world.with_bot()
    await register(world, 2)
    decision, _ = await open_decision(world, "/decide Bike shed | rule=majority")
    replies = await world.do(world.alice.send(world.court, f"/export D{decision.id}"))
    token = link_button(replies, world.court.id)
    await world.services.db.write_one(
        "UPDATE start_links SET expires_at = ? WHERE token = ?",
        (to_db(world.services.clock()), token),
    )
    replies = await world.do(world.alice.send(world.alice.private, f"/start {token}"))
    assert "expired" in replies.text(world.alice.private)
    assert [c for c in world.fake.calls_to("sendDocument") if c.ok] == []
    # a made-up token is no link: the usual greeting
    replies = await world.do(world.alice.send(world.alice.private, "/start " + "A" * 16))
    assert "expired" not in replies.text(world.alice.private)
    assert replies.text(world.alice.private)
    # the words of older versions' links get the way on
    replies = await world.do(world.bob.send(world.bob.private, "/start export"))
    assert "older version" in replies.text(world.bob.private)


async def test_a_reminders_link_lists_the_reminders(world: World) -> None:
    await world.with_bot()
    replies = await world.do(
        world.bob.send(world.court, "/remindme in 30 minutes pick up the parcel")
    )
    token = link_button(replies, world.court.id)
    assert f"?start={token}" in replies.text(world.court)  # the name in the text links too
    replies = await world.do(world.bob.send(world.bob.private, f"/start {token}"))
    assert "pick up the parcel" in replies.text(world.bob.private)


async def test_forgetme_removes_the_links(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.court, "/remindme in 30 minutes pick up the parcel"))
    from storage import privacy

    assert (await privacy.rows_about(world.services.db, world.bob.id)).get("start_links.user_id")


async def test_links_that_name_a_place_open_it(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.court, "/remindme in 30 minutes pick up the parcel"))
    replies = await world.do(world.bob.send(world.bob.private, "/start reminders"))
    assert "pick up the parcel" in replies.text(world.bob.private)
    # a private report asked for in the group: its link explains how to write it here
    replies = await world.do(world.bob.send(world.court, "/report private noisy neighbour"))
    replies = await world.do(world.bob.send(world.bob.private, "/start report"))
    assert "/report" in replies.text(world.bob.private)
    # the reports the opener handles (the payload word is not read as /reports' argument)
    replies = await world.do(world.carol.send(world.carol.private, "/start reports"))
    assert replies.text(world.carol.private) == t("ru", "report.private_list_none")
    replies = await world.do(world.bob.send(world.bob.private, "/start hours"))
    assert t("en", "hours.none") in replies.text(world.bob.private)  # his own figures: none yet
    # a link that promised only a private chat opens it with the greeting, not "older version"
    replies = await world.do(world.bob.send(world.bob.private, "/start sharing"))
    assert "older version" not in replies.text(world.bob.private)
    assert replies.text(world.bob.private)
