"""Privacy end to end: /mydata as a file in a private chat only, /forgetme with a confirm
button (waitlist moves up, cards updated, ballots stay counted), /purge by a lead naming the
group, the retention setting and its daily purge, and a secret ballot's choice in no output."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest

from handlers import privacy as privacy_h
from storage import chats, decisions, polls
from storage import privacy as store
from storage.db import to_db
from tests.e2e.conftest import World
from tests.e2e.test_decisions import claim, open_decision
from tests.e2e.test_events import day
from tests.e2e.test_logs import courtyard_records, production_logging, raw_text


def minute(world: World, ago: timedelta = timedelta(0)) -> int:
    return int((world.services.clock() - ago).timestamp() // 60)


def yes_no(question: dict[str, Any]) -> tuple[str, str]:
    """The callback data of a question's confirm and cancel buttons."""
    (yes,), (no,) = question["reply_markup"]["inline_keyboard"]
    return str(yes["callback_data"]), str(no["callback_data"])


def documents(world: World, chat_id: int) -> list[Any]:
    return [c for c in world.fake.calls_to("sendDocument", chat_id=chat_id) if c.ok]


def last_document(world: World, chat_id: int) -> dict[str, Any]:
    doc = documents(world, chat_id)[-1]
    data: dict[str, Any] = json.loads(doc.params["document"].decode("utf-8"))
    return data


async def test_mydata_then_forgetme(world: World) -> None:
    await world.with_bot()
    fake = world.fake
    for who in (world.bob, world.carol):
        await world.do(who.send(who.private, "/start"))
    # Bob votes, signs up (Кэрол waits behind him), offers a drill and joins a chain
    await world.do(world.carol.send(world.court, "/poll Gate colour? | Green | Blue"))
    poll = await polls.get(world.services.db, 1)
    assert poll is not None and poll.message_id is not None
    card = fake.message(world.court, poll.message_id)
    await world.do(world.bob.press(card, f"pl:v:{poll.id}:0"))
    await world.do(world.carol.press(card, f"pl:v:{poll.id}:1"))
    await world.do(world.alice.send(world.court, f"/event Cleanup | {day(world)} 10:00 | Yard | 1"))
    event_card = fake.last_bot_message(world.court)
    await world.do(world.bob.press(event_card, "ev:g:1"))
    await world.do(world.carol.press(event_card, "ev:g:1"))
    await world.do(world.bob.send(world.court, "/offer Drill | lend"))
    item = await world.services.db.fetchone("SELECT id, card_id FROM items")
    assert item is not None
    await world.do(world.alice.send(world.court, "/chain Dumplings | tomorrow 18:00"))
    chain_card = fake.last_bot_message(world.court)
    await world.do(world.bob.send(world.court, "20 pork please", reply_to=chain_card))

    # in the group: never the data, a pointer to the private chat
    replies = await world.do(world.bob.send(world.court, "/mydata"))
    assert "private chat" in replies.text(world.court) and not documents(world, world.court.id)
    replies = await world.do(world.bob.send(world.court, "/forgetme"))
    assert "@courtyard_bot" in replies.text(world.court)

    await world.do(world.bob.send(world.bob.private, "/mydata"))
    mine = last_document(world, world.bob.id)
    data = mine["data"]
    assert mine["courtyard_data_for_user_id"] == world.bob.id
    assert [v["chosen"] for v in data["poll_votes"]] == [["Green"]]
    assert [s["title"] for s in data["event_signups"]] == ["Cleanup"]
    assert [i["title"] for i in data["items"]] == ["Drill"]
    assert [line["text"] for line in data["chain_lines"]] == ["20 pork please"]
    assert any("Anonymous polls" in n for n in mine["notes"])
    caption = documents(world, world.bob.id)[-1].params["caption"]
    assert "Keep this file private" in caption

    # /forgetme asks first; Cancel changes nothing
    replies = await world.do(world.bob.send(world.bob.private, "/forgetme"))
    question = replies.sent(world.bob.private)[-1].result
    assert "Forget me?" in question["text"]
    await world.do(world.bob.press(question, yes_no(question)[1]))
    assert "Cancelled" in fake.message(world.bob.private, question["message_id"]).text
    assert await store.rows_about(world.services.db, world.bob.id)
    replies = await world.do(world.bob.send(world.bob.private, "/forgetme"))
    question = replies.sent(world.bob.private)[-1].result
    # forged and stale confirmations are refused
    for data_ in ("pv:f:abc", "pv:f", "pv:x:1", f"pv:f:{minute(world, timedelta(hours=1))}"):
        replies = await world.do(world.bob.press(question, data_, check=False))
        assert replies.answers()[0]["show_alert"], data_
    assert await store.rows_about(world.services.db, world.bob.id)

    replies = await world.do(world.bob.press(question, yes_no(question)[0]))
    await world.services.outbox.idle()
    await world.settle()
    assert "Done." in fake.message(world.bob.private, question["message_id"]).text
    assert await store.rows_about(world.services.db, world.bob.id) == {}
    # Кэрол moved up from the waitlist and was told; the cards no longer name Bob
    signup = await world.services.db.fetchone("SELECT going FROM event_signups")
    assert signup is not None and signup["going"] == 1
    carol_said = [c.params["text"] for c in fake.calls_to("sendMessage", chat_id=world.carol.id)]
    assert any("Cleanup" in text for text in carol_said)
    for message_id in (poll.message_id, event_card.message_id, chain_card.message_id):
        text = fake.message(world.court, message_id).text
        assert "Bob" not in text, text
    assert "1" in fake.message(world.court, poll.message_id).text  # Кэрол's vote stays
    # his drill's card was deleted with the listing
    assert fake.message(world.court, item["card_id"]) is None
    # a new /mydata knows only what happened since
    await world.do(world.bob.send(world.bob.private, "/mydata"))
    after = last_document(world, world.bob.id)["data"]
    assert sum(len(v) for v in after.values()) <= 1  # at most the private chat row again


async def test_purge_needs_a_lead_and_a_confirmation_naming_the_group(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.court, "/offer Ladder"))
    replies = await world.do(world.bob.send(world.court, "/purge"))
    assert "only" in replies.text(world.court).lower()
    replies = await world.do(world.alice.send(world.court, "/purge"))
    question = replies.sent(world.court)[-1].result
    assert "Maple Court" in question["text"]
    assert "Maple Court" in str(question["reply_markup"])
    # a resident pressing the lead's button: refused, nothing deleted
    replies = await world.do(world.bob.press(question, yes_no(question)[0]))
    assert replies.answers()[0]["show_alert"]
    assert await chats.get(world.services.db, world.court.id) is not None
    # pressed after it expired: refused
    await world.services.db.write_one("UPDATE prompts SET expires_at = '2000-01-01T00:00:00Z'")
    replies = await world.do(world.alice.press(question, yes_no(question)[0]))
    assert "too old" in replies.answer_text()
    assert await chats.get(world.services.db, world.court.id) is not None
    replies = await world.do(world.alice.send(world.court, "/purge"))
    question = replies.sent(world.court)[-1].result
    await world.do(world.alice.press(question, yes_no(question)[0]))
    assert "has been deleted" in world.fake.message(world.court, question["message_id"]).text
    for table in ("items", "members", "scheduled"):
        row = await world.services.db.fetchone(
            f"SELECT count(*) FROM {table} WHERE chat_id = ?", (world.court.id,)
        )
        assert row is not None and row[0] == 0, table
    # the bot can be used again at once, with default settings
    replies = await world.do(world.alice.send(world.court, "/settings retention_days 400"))
    assert "400 days" in replies.text(world.court)


async def test_retention_setting_and_the_daily_purge(world: World) -> None:
    await world.with_bot()
    services = world.services
    replies = await world.do(world.alice.send(world.court, "/settings retention_days 10"))
    assert "from 30 to 3650" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/settings retention_days 60"))
    assert "only" in replies.text(world.court).lower()
    await world.do(world.alice.send(world.court, "/settings retention_days 60"))
    chat = await chats.get(services.db, world.court.id)
    assert chat is not None and chat.settings.retention_days == 60
    panel = (await world.do(world.alice.send(world.court, "/settings"))).text(world.court)
    assert "Finished things are kept for 60 days" in panel

    # a poll closed 61 days ago and one closed 59 days ago
    await world.do(world.bob.send(world.court, "/poll Old? | Yes | No"))
    await world.do(world.bob.send(world.court, "/poll Newer? | Yes | No"))
    now = services.clock()
    async with services.db.write() as conn:
        for poll_id, age in ((1, 61), (2, 59)):
            await conn.execute(
                "UPDATE polls SET status = 'closed', closed_at = ? WHERE id = ?",
                (to_db(now - timedelta(days=age)), poll_id),
            )
    assert await privacy_h.ensure_retention(services) == 1
    assert await privacy_h.ensure_retention(services) == 0  # one row per group
    row = await services.db.fetchone(
        "SELECT id, run_at FROM scheduled WHERE kind = ? AND status = 'pending'",
        (store.RETENTION_KIND,),
    )
    assert row is not None
    async with services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ?, due_at = ? WHERE id = ?",
            (to_db(now - timedelta(seconds=1)), to_db(now - timedelta(seconds=1)), row["id"]),
        )
    assert await services.scheduler.fire(row["id"]) == "done"
    left = await services.db.fetchall("SELECT id FROM polls ORDER BY id")
    assert [r["id"] for r in left] == [2]
    # the next purge is planned a day later (restart-safe: it is a row in the database)
    following = await services.db.fetchone(
        "SELECT run_at FROM scheduled WHERE kind = ? AND status = 'pending'",
        (store.RETENTION_KIND,),
    )
    assert following is not None and following["run_at"] > to_db(now + timedelta(hours=23))


SECRET_CHOICE = "against"


async def test_a_secret_ballots_choice_appears_in_no_output(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with production_logging(caplog, "INFO"):
        await secret_ballot_story(world, caplog)


async def secret_ballot_story(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Bob votes against in a secret decision; Кэрол and 王芳 vote for. Nothing the bot says,
    exports or logs ties Bob or his unit to "against". Logs: configured as in production at
    INFO, with Courtyard's own loggers (bot, handlers, storage) at DEBUG."""
    for name in ("bot", "handlers", "storage", "courtyard"):
        caplog.set_level(logging.DEBUG, logger=name)
    await world.with_bot()
    fake = world.fake
    for label in ("2-101", "2-102", "2-103"):
        await world.do(world.alice.send(world.court, f"/units add {label} 60"))
    await claim(world, world.bob, "2-101")
    await claim(world, world.carol, "2-102")
    await claim(world, world.wang, "2-103")
    for who in (world.alice, world.bob, world.carol):
        await world.do(who.send(who.private, "/start"))
    decision, card = await open_decision(
        world, "/decide New intercom | rule=majority | closes=in 2 days | secret"
    )
    mark = fake.mark()
    await world.do(world.bob.press(card, f"dc:v:{decision.id}:a"))
    await world.do(world.carol.press(card, f"dc:v:{decision.id}:f"))
    await world.do(world.wang.press(card, f"dc:v:{decision.id}:f"))
    await world.services.outbox.idle()
    outputs: list[str] = []
    outputs.append(fake.message(world.court, decision.message_id).text)  # the card while open
    outputs.append(
        (await world.do(world.alice.send(world.court, f"/audit D{decision.id}"))).text(world.court)
    )
    await world.do(world.alice.send(world.court, f"/export D{decision.id}"))
    await world.do(world.bob.send(world.bob.private, "/mydata"))
    await world.do(world.carol.send(world.carol.private, "/mydata"))
    await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    await world.services.outbox.idle()
    closed = await decisions.get(world.services.db, decision.id)
    assert closed is not None and not closed.is_open
    for call in fake.calls[mark:]:
        # a button's answer is shown to the presser alone: Bob may see his own choice there
        if not call.ok or call.method == "answerCallbackQuery":
            continue
        for key in ("text", "caption", "document"):
            value = call.params.get(key)
            if isinstance(value, bytes):
                outputs.append(value.decode("utf-8-sig"))
            elif isinstance(value, str):
                outputs.append(value)
    everything = "\n".join(outputs)
    assert "Bob" in everything and "2-101" in everything  # who voted is no secret
    for text in outputs:
        for line in text.splitlines():
            if "Bob" in line or "2-101" in line:
                lowered = line.lower()
                assert SECRET_CHOICE not in lowered and "for" not in lowered.split(), line
    mydata = [json.loads(d.params["document"]) for d in documents(world, world.bob.id)]
    mydata += [json.loads(d.params["document"]) for d in documents(world, world.carol.id)]
    for document in mydata:
        for ballot in document["data"]["decision_ballots"]:
            assert ballot["choice"] is None
        assert f'"{SECRET_CHOICE}"' not in json.dumps(document)
    # the logs, Courtyard's own at DEBUG and everything at INFO
    logged = raw_text(courtyard_records(caplog))
    assert f"dc:v:{decision.id}:a" not in logged
    assert SECRET_CHOICE not in logged.lower()
    assert str(world.bob.id) not in logged or "against" not in logged
    # and the database keeps only the totals
    rows = await world.services.db.fetchall("SELECT choice FROM decision_ballots")
    assert [r["choice"] for r in rows] == [None, None, None]
