"""Proposals whose card Telegram did not accept: never left behind as a row nobody can see or
support, never counted towards the author's three, their ids never used again; the author is
told, privately or in the group; a process stopped before the card was stored posts it at the
next start."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from playground import FakeTelegram
from storage import proposals as store
from storage.db import Database
from tests.e2e.conftest import World, start_app, stop_app
from tests.e2e.test_proposals import card_of, card_text, households, latest

#: The outbox's attempts for a 5xx (``Limits.max_attempts``): this many failures refuse one send.
ATTEMPTS = 5


async def test_one_of_three_cards_refused_is_gone_and_its_author_told_privately(
    world: World,
) -> None:
    people = await households(world)
    carol = people[1]
    await world.do(carol.send(carol.private, "/start"))
    await world.do(carol.send(world.court, "/propose Лавочки | у второго подъезда"))
    world.fake.inject("sendMessage", error_code=500, times=ATTEMPTS, chat_id=world.court.id)
    replies = await world.do(carol.send(world.court, "/propose Фонари | темно у мусорки"))
    assert not replies.sent(world.court)  # the card, and nothing else, went nowhere
    [told] = replies.sent(carol.private)
    assert "«Фонари»" in told.params["text"] and "Telegram не принял" in told.params["text"]
    assert "/propose" in told.params["text"]
    await world.do(carol.send(world.court, "/propose Велосипеды | навес во дворе"))
    await world.do(carol.send(world.court, "/propose Двор | цветы"))
    rows = await world.services.db.fetchall("SELECT id, title FROM proposals ORDER BY id")
    assert [(r["id"], r["title"]) for r in rows] == [
        (1, "Лавочки"),
        (3, "Велосипеды"),
        (4, "Двор"),
    ]
    # three shown and collecting: the limit holds (the group speaks English)
    replies = await world.do(carol.send(world.court, "/propose Ещё | одно"))
    assert "You already have 3 proposals collecting support" in replies.text(world.court)
    assert await latest(world) == await store.get(world.services.db, 4)


async def test_a_refused_card_is_told_in_the_group_when_the_group_takes_messages(
    world: World,
) -> None:
    """Telegram refused the card's every try, then took the next message: the author, who
    never started the bot, is told in the group, by a mention."""
    people = await households(world)
    bob = people[0]
    world.fake.inject("sendMessage", error_code=500, times=ATTEMPTS, chat_id=world.court.id)
    replies = await world.do(bob.send(world.court, "/propose Lamps | dark by the bins"))
    [told] = replies.sent(world.court)
    text = told.params["text"]
    assert f"tg://user?id={bob.id}" in text
    assert "“Lamps”" in text and "Telegram did not accept its card" in text
    assert "reply_markup" not in told.params or not told.params["reply_markup"]
    assert await world.services.db.fetchone("SELECT id FROM proposals") is None


async def test_the_id_of_a_refused_card_is_never_used_again(world: World) -> None:
    """A button forged with the refused proposal's id finds nothing; the next proposal has
    its own id, and its card works."""
    people = await households(world)
    bob, carol = people[0], people[1]
    world.fake.inject("sendMessage", error_code=500, times=ATTEMPTS, chat_id=world.court.id)
    await world.do(bob.send(world.court, "/propose Lamps | dark by the bins"))
    await world.do(bob.send(world.court, "/propose Lamps | dark by the bins"))
    p = await latest(world)
    assert p.id == 2 and p.message_id is not None
    replies = await world.do(carol.press(card_of(world, p), "tp:s:1", check=False))
    assert "Эта кнопка больше не работает" in replies.answer_text()  # Carol reads Russian
    assert "Support: 0 of 2" in card_text(world, p)
    await world.do(carol.press(card_of(world, p), f"tp:s:{p.id}"))
    await world.services.outbox.idle()
    assert "Support: 1 of 2" in card_text(world, p)
    replies = await world.do(world.alice.send(world.court, "/agenda T1"))
    assert "There is no proposal T1 in this group." in replies.text(world.court)


async def _stopped_before_the_card(
    db_path: Path, chat_id: int, author_id: int, now: datetime
) -> int:
    """A proposal stored by a process killed before its card was stored."""
    db = await Database.open(db_path)
    try:
        proposal_id, _ = await store.create(
            db,
            chat_id=chat_id,
            author_id=author_id,
            title="Lamps",
            body="dark by the bins",
            expires_at=now + timedelta(days=14),
            now=now,
        )
        return proposal_id
    finally:
        await db.close()


async def test_a_proposal_stored_before_a_stop_is_posted_at_the_next_start(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    try:
        bob, carol, *_ = await households(world)
        before = world.services.clock() - timedelta(minutes=1)
    finally:
        await stop_app(app)
    proposal_id = await _stopped_before_the_card(db_path, world.court.id, bob.id, before)
    app = await start_app(fake, db_path)
    world.app = app
    try:
        report = world.services.state["cards"]
        await asyncio.wait_for(report.done.wait(), timeout=10)
        await world.settle()
        p = await store.get(world.services.db, proposal_id)
        assert p is not None and p.message_id is not None
        assert "Lamps" in card_text(world, p) and "Support: 0 of 2" in card_text(world, p)
        await world.do(carol.press(card_of(world, p), f"tp:s:{p.id}"))
        await world.services.outbox.idle()
        assert "Support: 1 of 2" in card_text(world, p)
        assert report.finished >= 1
    finally:
        await stop_app(app)


async def test_a_proposal_stored_before_a_stop_and_refused_at_the_start_is_removed(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    try:
        bob, *_ = await households(world)
        await world.do(bob.send(bob.private, "/start"))
        before = world.services.clock() - timedelta(minutes=1)
    finally:
        await stop_app(app)
    proposal_id = await _stopped_before_the_card(db_path, world.court.id, bob.id, before)
    fake.inject("sendMessage", error_code=500, times=ATTEMPTS, chat_id=world.court.id)
    mark = fake.mark()
    app = await start_app(fake, db_path)
    world.app = app
    try:
        report = world.services.state["cards"]
        await asyncio.wait_for(report.done.wait(), timeout=10)
        await world.settle()
        assert await store.get(world.services.db, proposal_id) is None
        told = [
            c
            for c in fake.calls[mark:]
            if c.method == "sendMessage" and c.ok and c.params["chat_id"] == bob.id
        ]
        assert len(told) == 1 and "Telegram did not accept" in told[0].params["text"]
        expiry = await world.services.db.fetchone(
            "SELECT status FROM scheduled WHERE kind = ? AND ref_id = ?",
            (store.EXPIRY, proposal_id),
        )
        assert expiry is not None and expiry["status"] == "cancelled"
        # the author may propose again: nothing of the removed one counts
        replies = await world.do(bob.send(world.court, "/propose Lamps | dark by the bins"))
        assert f"#T{proposal_id + 1}" in replies.text(world.court)
    finally:
        await stop_app(app)
