"""/forgetme leaves nothing of the person in the database files: not in a table, not in the
search index's shadow tables, not in the write-ahead log; cards that showed the name (a closed
poll's too) are redrawn without it, a card too old for Telegram to delete is edited instead,
and the person is told truthfully which of the two happened. A lead's name stored when they
closed a decision is found by id, even after a rename."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from telegram import Message

from storage import decisions, polls
from storage import privacy as store
from tests.e2e.conftest import World
from tests.e2e.test_decisions import claim, open_decision


def database_bytes(world: World) -> bytes:
    path = Path(world.services.db.path)
    found = b""
    for ext in ("", "-wal", "-shm"):
        extra = Path(f"{path}{ext}")
        if extra.exists():
            found += extra.read_bytes()
    return found


def trigrams(word: str) -> list[bytes]:
    low = word.lower()
    return [low[i : i + 3].encode() for i in range(len(low) - 2)]


async def confirm(world: World, who: Any, question: Message | dict[str, Any]) -> str:
    """Press the Yes button of the /forgetme question; the question's text afterwards."""
    message_id = question["message_id"] if isinstance(question, dict) else question.message_id
    shown = world.fake.message(who.private, message_id)
    assert shown is not None and shown.reply_markup is not None
    yes = shown.reply_markup.inline_keyboard[0][0].callback_data
    await world.do(who.press(shown, str(yes)))
    await world.services.outbox.idle()
    await world.settle()
    after = world.fake.message(who.private, message_id)
    assert after is not None and after.text is not None
    return after.text


async def test_forgetme_leaves_no_byte_of_the_person_in_the_database_files(world: World) -> None:
    await world.with_bot()
    fake, db = world.fake, world.services.db
    bob = world.bob  # "Bob Baker"
    await world.do(bob.send(bob.private, "/start"))
    # his listing (indexed for search), his vote in a poll that then closes
    await world.do(bob.send(world.court, "/offer Zqvxjekwood stepladder | lend"))
    item = await db.fetchone("SELECT id, card_id FROM items")
    assert item is not None and item["card_id"] is not None
    await world.do(world.carol.send(world.court, "/poll Gate colour? | Green | Blue"))
    poll = await polls.get(db, 1)
    assert poll is not None and poll.message_id is not None
    card = fake.message(world.court, poll.message_id)
    await world.do(bob.press(card, f"pl:v:{poll.id}:0"))
    await world.do(world.carol.press(card, f"pl:v:{poll.id}:1"))
    await world.do(world.carol.press(card, f"pl:c:{poll.id}"))
    await world.services.outbox.idle()
    closed_card = fake.message(world.court, poll.message_id)
    assert closed_card is not None and "Bob Baker" in str(closed_card.text)
    await db.scrub()  # as an automatic checkpoint would: everything is in the main file now
    before = database_bytes(world)
    assert b"Baker" in before and b"Zqvxjek" in before
    assert all(t in before for t in trigrams("zqvxjek"))  # the search index has them

    # two days later his listing's card is too old for a bot to delete
    fake.advance(hours=49)
    replies = await world.do(bob.send(bob.private, "/forgetme"))
    question = replies.sent(bob.private)[-1].result
    told = await confirm(world, bob, question)

    assert await store.rows_about(db, bob.id) == {}
    after = database_bytes(world)
    for needle in (b"Baker", b"Zqvxjek", b"stepladder", str(bob.id).encode()):
        assert needle not in after, needle
    left = [t for t in trigrams("zqvxjek") if t in after]
    assert left == [], f"trigrams of the deleted listing still in the file: {left}"
    # (the write-ahead log was truncated after forgetting: what it holds now came later)
    # the closed poll's card no longer names him; its result stays
    redrawn = fake.message(world.court, poll.message_id)
    assert redrawn is not None and "Bob" not in str(redrawn.text)
    assert "Кэрол" in str(redrawn.text)
    # the listing's card could not be deleted: it was edited, and he is told so
    kept = fake.message(world.court, item["card_id"])
    assert kept is not None and "removed at its owner's request" in str(kept.text)
    assert "Bob" not in str(kept.text) and "Zqvxjek" not in str(kept.text)
    assert not (kept.reply_markup and kept.reply_markup.inline_keyboard)
    assert "Done." in told and "could not be deleted" in told and "edited it" in told


async def test_a_fresh_card_is_deleted_and_the_answer_says_nothing_of_edits(
    world: World,
) -> None:
    await world.with_bot()
    bob = world.bob
    await world.do(bob.send(bob.private, "/start"))
    await world.do(bob.send(world.court, "/offer Quincewood ladder | lend"))
    item = await world.services.db.fetchone("SELECT card_id FROM items")
    assert item is not None
    replies = await world.do(bob.send(bob.private, "/forgetme"))
    told = await confirm(world, bob, replies.sent(bob.private)[-1].result)
    assert world.fake.message(world.court, item["card_id"]) is None
    assert "Done." in told and "could not be deleted" not in told


async def test_a_leads_name_in_a_closed_decision_goes_even_after_a_rename(world: World) -> None:
    await world.with_bot()
    db = world.services.db
    alice = world.alice
    await world.do(alice.send(alice.private, "/start"))
    for label in ("5-01", "5-02"):
        await world.do(alice.send(world.court, f"/units add {label} 50"))
    await claim(world, world.bob, "5-01")
    decision, _ = await open_decision(world, "/decide Repaint the hall | rule=majority")
    await world.do(alice.send(world.court, f"/close D{decision.id}"))
    closed = await decisions.get(db, decision.id)
    assert closed is not None and closed.closed_by == "Alice"
    # she renames herself; the bot meets the new name
    alice.first_name = "Alicja"
    await world.do(alice.send(world.court, "/help"))
    member = await db.fetchone(
        "SELECT display_name FROM members WHERE user_id = ? AND chat_id = ?",
        (alice.id, world.court.id),
    )
    assert member is not None and member["display_name"] == "Alicja"

    replies = await world.do(alice.send(alice.private, "/forgetme"))
    await confirm(world, alice, replies.sent(alice.private)[-1].result)
    forgotten = await decisions.get(db, decision.id)
    assert forgotten is not None and forgotten.closed_by == "a lead"
    assert await store.rows_about(db, alice.id) == {}
    card = world.fake.message(world.court, decision.message_id)
    assert card is not None and "Alice" not in str(card.text) and "a lead" in str(card.text)


async def test_a_card_telegram_will_neither_delete_nor_edit_is_reported(world: World) -> None:
    await world.with_bot()
    bob = world.bob
    await world.do(bob.send(bob.private, "/start"))
    await world.do(bob.send(world.court, "/offer Quincewood ladder | lend"))
    item = await world.services.db.fetchone("SELECT card_id FROM items")
    assert item is not None
    world.fake.advance(hours=49)
    world.fake.inject(
        "editMessageText",
        error_code=400,
        description="Bad Request: message can't be edited",
        times=None,
        chat_id=world.court.id,
    )
    replies = await world.do(bob.send(bob.private, "/forgetme"))
    told = await confirm(world, bob, replies.sent(bob.private)[-1].result)
    assert "Done." in told and "still shows your name" in told and "An admin" in told
    assert await store.rows_about(world.services.db, bob.id) == {}
    assert b"Baker" not in database_bytes(world)  # the files are clean all the same


async def test_closed_cards_that_listed_the_person_are_redrawn(world: World) -> None:
    """A closed chain (接龙) and a closed event that listed the person stop showing them."""
    await world.with_bot()
    fake, bob = world.fake, world.bob
    await world.do(bob.send(bob.private, "/start"))
    await world.do(world.alice.send(world.court, "/chain Dumplings | tomorrow 18:00"))
    chain_card = fake.last_bot_message(world.court)
    assert chain_card is not None
    await world.do(bob.send(world.court, "20 pork please", reply_to=chain_card))
    chain = await world.services.db.fetchone("SELECT id, card_id FROM chains")
    assert chain is not None
    await world.do(world.alice.send(world.court, f"/close C{chain['id']}"))
    await world.services.outbox.idle()
    closed = fake.message(world.court, chain["card_id"])
    assert closed is not None and "Bob" in str(closed.text)

    replies = await world.do(bob.send(bob.private, "/forgetme"))
    await confirm(world, bob, replies.sent(bob.private)[-1].result)
    redrawn = fake.message(world.court, chain["card_id"])
    assert redrawn is not None and "Bob" not in str(redrawn.text), redrawn.text
    assert "20 pork" not in str(redrawn.text)
