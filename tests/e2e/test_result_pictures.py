"""Results as pictures end to end (issue 17): closing a poll or a decision posts the text result
and then a photo (sendPhoto to the same chat, replying to the result); a picture that cannot be
drawn (a bug, no font for the script) or sent (Telegram refuses it) leaves the text result and
its announced mark as they were, and says why in the log."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot import charts
from handlers import decisions as decision_handlers
from playground import FakeTelegram
from playground.server import Call
from storage import decisions
from tests.e2e.conftest import World, stop_app
from tests.e2e.test_cards_after_restart import started
from tests.e2e.test_decisions import LABELS, claim, open_decision, register
from tests.e2e.test_polls import new_poll

#: The pictures these tests expect need DejaVu Sans (fonts-dejavu-core): without it the bot
#: rightly sends none (a machine without fonts: NoFont, tested in tests/test_charts.py).
needs_fonts = pytest.mark.skipif(
    not any(Path(regular).exists() for regular, _ in charts.LATIN_FONTS),
    reason="no Latin font installed (fonts-dejavu-core)",
)


def photos(world: World) -> list[Call]:
    return [c for c in world.fake.calls_to("sendPhoto", chat_id=world.court.id) if c.ok]


def results(world: World, marker: str) -> list[Call]:
    """The posts naming ``marker`` (``#P1``) other than the card (the first one)."""
    return [
        c
        for c in world.fake.calls_to("sendMessage", chat_id=world.court.id)
        if c.ok and marker in c.params["text"]
    ][1:]


def picture(call: Call) -> Image.Image:
    data = call.params["photo"]
    assert isinstance(data, bytes) and data.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def replies_to(call: Call) -> int:
    reply: dict[str, Any] = call.result.get("reply_to_message") or {}
    return int(reply.get("message_id", 0))


async def announced(world: World, table: str, row_id: int) -> bool:
    row = await world.services.db.fetchone(
        f"SELECT announced_at FROM {table} WHERE id = ?", (row_id,)
    )
    return row is not None and row["announced_at"] is not None


async def closed_poll(world: World, text: str = "/poll Paint the gate? | Green | Blue") -> int:
    await world.with_bot()
    poll, card = await new_poll(world, world.bob, text)
    await world.do(world.carol.press(card, f"pl:v:{poll.id}:0"))
    await world.do(world.alice.press(card, f"pl:v:{poll.id}:0"))
    await world.do(world.bob.press(card, f"pl:c:{poll.id}"))
    await world.services.outbox.idle()
    return poll.id


@needs_fonts
async def test_a_closed_poll_is_followed_by_its_picture(world: World) -> None:
    poll_id = await closed_poll(world)
    [text] = results(world, f"#P{poll_id}")
    [photo] = photos(world)
    assert world.fake.calls.index(photo) > world.fake.calls.index(text)  # the text goes first
    assert replies_to(photo) == text.result["message_id"]
    image = picture(photo)
    assert image.size[0] == charts.WIDTH and image.size[1] > 300
    assert await announced(world, "polls", poll_id)


@needs_fonts
async def test_a_russian_anonymous_poll_gets_its_picture_too(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings language ru"))
    poll, card = await new_poll(world, world.bob, "/poll Красим ворота? | Да | Нет | anonymous")
    assert poll.anonymous
    await world.do(world.carol.press(card, f"pl:v:{poll.id}:1"))
    await world.do(world.bob.press(card, f"pl:c:{poll.id}"))
    await world.services.outbox.idle()
    [text] = results(world, f"#P{poll.id}")
    [photo] = photos(world)
    assert replies_to(photo) == text.result["message_id"]
    assert picture(photo).size[0] == charts.WIDTH


async def secret_decision_closed(world: World) -> int:
    await world.with_bot()
    await register(world, 3)
    await claim(world, world.bob, LABELS[0])
    await claim(world, world.carol, LABELS[1])
    decision, card = await open_decision(
        world, "/decide New intercom | rule=majority | closes=in 2 days | secret"
    )
    await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    await world.do(world.carol.press(card, f"dc:v:{decision.id}:a"))
    await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    await world.services.outbox.idle()
    return decision.id


@needs_fonts
async def test_a_closed_decision_is_followed_by_its_picture(world: World) -> None:
    decision_id = await secret_decision_closed(world)
    [text] = results(world, f"#D{decision_id}")
    assert "PASSED" in text.params["text"]
    [photo] = photos(world)
    assert world.fake.calls.index(photo) > world.fake.calls.index(text)
    assert replies_to(photo) == text.result["message_id"]
    assert picture(photo).size[0] == charts.WIDTH
    assert await announced(world, "decisions", decision_id)
    closed = await decisions.get(world.services.db, decision_id)
    assert closed is not None and not closed.is_open


async def test_a_drawing_failure_keeps_the_poll_result_and_its_mark(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("the drawing broke")

    monkeypatch.setattr(charts, "poll_picture", broken)
    with caplog.at_level(logging.ERROR, logger="handlers.pictures"):
        poll_id = await closed_poll(world)
    [text] = results(world, f"#P{poll_id}")
    assert "Most votes" in text.params["text"]
    assert photos(world) == []
    assert await announced(world, "polls", poll_id)
    assert f"drawing the picture for poll {poll_id} failed" in caplog.text


async def test_a_drawing_failure_keeps_the_decision_outcome_and_its_mark(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("the drawing broke")

    monkeypatch.setattr(charts, "decision_picture", broken)
    with caplog.at_level(logging.ERROR, logger="handlers.pictures"):
        decision_id = await secret_decision_closed(world)
    [text] = results(world, f"#D{decision_id}")
    assert "PASSED" in text.params["text"]
    assert photos(world) == []
    assert await announced(world, "decisions", decision_id)
    assert f"drawing the picture for decision {decision_id} failed" in caplog.text


@needs_fonts
async def test_a_refused_photo_keeps_the_result(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.fake.inject("sendPhoto", error_code=400, description="Bad Request: IMAGE_PROCESS_FAILED")
    with caplog.at_level(logging.INFO):
        poll_id = await closed_poll(world)
    assert len(results(world, f"#P{poll_id}")) == 1
    assert photos(world) == []
    assert [c.ok for c in world.fake.calls_to("sendPhoto")] == [False]  # tried once, no retry
    assert await announced(world, "polls", poll_id)
    assert f"the picture for poll {poll_id} was not delivered" in caplog.text


async def test_a_script_no_font_has_gets_no_picture_rather_than_boxes(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="handlers.pictures"):
        poll_id = await closed_poll(world, "/poll ทาสีประตู? | สีเขียว | สีฟ้า")
    [text] = results(world, f"#P{poll_id}")
    assert "ทาสีประตู" in text.params["text"]
    assert photos(world) == []
    assert await announced(world, "polls", poll_id)
    assert f"no picture for poll {poll_id}" in caplog.text


async def test_a_thumbs_poll_gets_no_picture_of_unlabelled_bars_without_an_emoji_font(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charts, "EMOJI_FONTS", ())  # a system without fonts-noto-color-emoji
    with caplog.at_level(logging.WARNING, logger="handlers.pictures"):
        poll_id = await closed_poll(world, "/poll New bins? | 👍 | 👎")
    [text] = results(world, f"#P{poll_id}")
    assert "👍" in text.params["text"]
    assert photos(world) == []
    assert f"no picture for poll {poll_id}" in caplog.text


@needs_fonts
@pytest.mark.skipif(
    not any(Path(p).exists() for p in charts.EMOJI_FONTS), reason="needs fonts-noto-color-emoji"
)
async def test_a_thumbs_poll_has_its_emoji_drawn_in_the_picture(world: World) -> None:
    poll_id = await closed_poll(world, "/poll 🌳 Tree planting? | 👍 | 👎")
    [text] = results(world, f"#P{poll_id}")
    assert "👍" in text.params["text"]
    [photo] = photos(world)
    assert replies_to(photo) == text.result["message_id"]
    assert picture(photo).width == charts.WIDTH


@needs_fonts
async def test_a_poll_closed_in_a_forum_topic_has_its_picture_in_that_topic(world: World) -> None:
    forum = await world.forum("Events")
    events = forum.topic("Events")
    await world.do(world.bob.send(forum, "/poll Paint the gate? | Green | Blue", topic=events))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM polls")
    poll_id = row["id"]
    await world.do(world.bob.send(forum, f"/close P{poll_id}", topic=events))
    await world.services.outbox.idle()
    [photo] = [c for c in world.fake.calls_to("sendPhoto", chat_id=forum.id) if c.ok]
    message = world.fake.message(forum, photo.result["message_id"])
    assert message is not None and message.message_thread_id == events.id
    result = world.fake.message(forum, replies_to(photo))
    assert result is not None and "Poll closed" in (result.text or "")


@needs_fonts
async def test_a_closed_roll_call_is_followed_by_its_picture(world: World) -> None:
    from tests.e2e.test_rollcall import building

    await building(world)
    await world.do(world.alice.send(world.court, "/rollcall Water pipe burst"))
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    await world.do(world.bob.press(card, "rc:o:1"))
    await world.do(world.carol.press(card, "rc:h:1"))
    mark = world.fake.mark()
    await world.do(world.alice.press(card, "rc:x:1"))
    await world.services.outbox.idle()
    [summary] = [
        c
        for c in world.fake.calls[mark:]
        if c.method == "sendMessage" and c.ok and "Roll-call summary" in c.params["text"]
    ]
    [photo] = photos(world)
    assert replies_to(photo) == summary.result["message_id"]
    assert picture(photo).size[0] == charts.WIDTH


@needs_fonts
async def test_an_outcome_posted_after_a_crash_brings_its_picture_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """The process died after the closing commit, before the post: the next start posts the
    outcome and then its picture, and a third start posts neither again."""
    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    try:
        await world.with_bot()
        await register(world, 2)
        await claim(world, world.bob, LABELS[0])
        decision, card = await open_decision(world, "/decide Paint the hall | rule=majority")
        await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
        rule = decision_handlers.parse_rule(decision.rule)
        closed, _ = await decisions.close(
            world.services.db,
            decision.id,
            lambda electorate, ballots: decision_handlers.final_of(
                decision_handlers.count_open(rule, electorate, ballots)
            ),
            closed_by="Alice",
            now=world.services.clock(),
        )
        assert closed
    finally:
        await stop_app(world.app)
    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        await world.services.outbox.idle()
        [text] = [c for c in results(world, f"#D{decision.id}") if c.index >= before]
        [photo] = [c for c in photos(world) if c.index >= before]
        assert replies_to(photo) == text.result["message_id"]
        assert await announced(world, "decisions", decision.id)
    finally:
        await stop_app(world.app)
    before = fake.mark()
    world = await started(fake, db_path, world)
    try:
        await world.services.outbox.idle()
        assert [c for c in photos(world) if c.index >= before] == []
    finally:
        await stop_app(world.app)


@needs_fonts
async def test_a_closed_group_buy_brings_its_organizer_a_picture_of_the_totals(
    world: World,
) -> None:
    from storage import sharing as store

    await world.with_bot()
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.alice.send(world.court, "/groupbuy Apples | ¥12.50 | tomorrow 20:00 | 3"))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM groupbuys")
    gb = await store.get_groupbuy(world.services.db, row["id"])
    assert gb is not None
    card = world.fake.message(world.court, gb.card_id)
    for who in (world.bob, world.bob, world.carol):
        await world.do(who.press(card, f"gb:p:{gb.id}"))
    await world.do(world.alice.press(card, f"gb:c:{gb.id}"))
    await world.services.outbox.idle()
    [photo] = [c for c in world.fake.calls_to("sendPhoto", chat_id=world.alice.id) if c.ok]
    assert picture(photo).size[0] == charts.WIDTH
    assert photos(world) == []  # the group has the card; the totals go to the organizer


async def test_a_group_buy_whose_organizer_never_started_the_bot_sends_no_picture(
    world: World,
) -> None:
    from storage import sharing as store

    await world.with_bot()
    await world.do(world.alice.send(world.court, "/groupbuy Apples | ¥12.50 | tomorrow 20:00"))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM groupbuys")
    gb = await store.get_groupbuy(world.services.db, row["id"])
    assert gb is not None
    card = world.fake.message(world.court, gb.card_id)
    await world.do(world.bob.press(card, f"gb:p:{gb.id}"))
    await world.do(world.alice.press(card, f"gb:c:{gb.id}"))
    await world.services.outbox.idle()
    assert world.fake.calls_to("sendPhoto") == []
    assert "has closed" in "\n".join(
        str(c.params.get("text"))
        for c in world.fake.calls_to("sendMessage", chat_id=world.court.id)
    )


async def test_a_picture_that_cannot_be_queued_never_stops_the_leads_help_notes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The roll-call's picture is queued before the leads get the private list of who needs
    help: a failure there must not cost that list (nor a group buy its close)."""
    from handlers import pictures
    from tests.e2e.test_rollcall import building, private_texts

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the queue broke")

    monkeypatch.setattr(pictures, "follow", broken)
    await building(world)
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.alice.send(world.court, "/rollcall Water pipe burst"))
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    await world.do(world.carol.press(card, "rc:h:1"))
    mark = world.fake.mark()
    await world.do(world.alice.press(card, "rc:x:1"))
    assert "Roll-call summary" in "\n".join(
        str(c.params.get("text"))
        for c in world.fake.calls_to("sendMessage", chat_id=world.court.id)
    )
    assert any("2-102" in text for text in private_texts(world, world.alice, mark))
    closed = world.fake.message(world.court, card.message_id)
    assert closed is not None and closed.reply_markup is None
