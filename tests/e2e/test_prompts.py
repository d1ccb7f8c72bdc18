"""Every confirm and cancel belongs to one prompt and one person, end to end: /purge and
/forgetme questions answered by someone else, on another message, after a cancel, twice, or
with the old button data (pv:n, pv:f:<minute>, pv:p:<minute>): refused, and nothing changes."""

from __future__ import annotations

import asyncio
from typing import Any

from storage import chats, polls
from storage import privacy as store
from tests.e2e.conftest import World
from tests.e2e.test_authorization import snapshot
from tests.e2e.test_decisions import LABELS, claim, open_decision, register

STALE = "This button no longer works"
NOT_YOURS = "Only the person who asked can answer this."


def yes_no(question: dict[str, Any]) -> tuple[str, str]:
    (yes,), (no,) = question["reply_markup"]["inline_keyboard"]
    return str(yes["callback_data"]), str(no["callback_data"])


def minute(world: World) -> int:
    return int(world.services.clock().timestamp() // 60)


async def ask_purge(world: World) -> dict[str, Any]:
    replies = await world.do(world.alice.send(world.court, "/purge"))
    question = replies.sent(world.court)[-1].result
    assert "Maple Court" in question["text"]
    return dict(question)


async def test_forged_cancel_on_a_secret_decision_card_changes_nothing(world: World) -> None:
    await world.with_bot()
    await register(world, 2)
    await claim(world, world.bob, LABELS[0])
    decision, card = await open_decision(
        world, "/decide New intercom | rule=majority | closes=in 2 days | secret"
    )
    assert decision.secret
    shown = world.fake.message(world.court, decision.message_id)
    assert shown is not None
    question = await ask_purge(world)
    yes, no = yes_no(question)
    db = world.services.settings.db_path
    before = snapshot(db)
    # the old cancel, a prompt's cancel and its yes pressed on the card by the prompt's author,
    # by a resident, and an old-form purge
    for who, data in (
        (world.bob, "pv:n"),
        (world.alice, "pv:n"),
        (world.alice, no),
        (world.alice, yes),
        (world.bob, no),
        (world.alice, f"pv:p:{minute(world)}"),
        (world.alice, f"pv:f:{minute(world)}"),
    ):
        replies = await world.do(who.press(card, data, check=False))
        [answer] = replies.answers()
        assert answer.get("show_alert"), (data, answer)
        assert not replies.edits(world.court), data
    after = world.fake.message(world.court, decision.message_id)
    assert after is not None and after.text == shown.text and after.reply_markup is not None
    assert snapshot(db) == before
    # and the question itself still works for its author
    replies = await world.do(world.alice.press(question, no))
    assert "Cancelled" in replies.edits(world.court)[-1].params["text"]


async def test_a_purge_question_belongs_to_the_lead_who_asked(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.court, "/poll Paint? | Green | Blue"))
    question = await ask_purge(world)
    yes, no = yes_no(question)
    text = question["text"]

    # a resident's cancel: refused politely, the question stays
    replies = await world.do(world.bob.press(question, no))
    [answer] = replies.answers()
    assert answer["show_alert"] and answer["text"] == NOT_YOURS
    assert not replies.edits(world.court)
    assert world.fake.message(world.court, question["message_id"]).text == text
    # another lead's yes (Кэрол is made an administrator): not hers to answer
    await world.do(world.fake.promote(world.court, world.carol, by=world.alice))
    world.services.roles.invalidate(world.court.id)
    replies = await world.do(world.carol.press(question, yes))
    assert "Только тот, кто" in replies.answer_text() or "может ответить только" in (
        replies.answer_text()
    )
    assert await polls.get(world.services.db, 1) is not None

    # the lead cancels; her old yes afterwards purges nothing
    replies = await world.do(world.alice.press(question, no))
    assert "Cancelled" in replies.edits(world.court)[-1].params["text"]
    replies = await world.do(world.alice.press(question, yes, check=False))
    assert STALE in replies.answer_text()
    assert await polls.get(world.services.db, 1) is not None
    assert await chats.get(world.services.db, world.court.id) is not None

    # a new question, confirmed: done once; pressing its yes again does nothing more
    question = await ask_purge(world)
    yes, _ = yes_no(question)
    await world.do(world.alice.press(question, yes))
    assert await polls.get(world.services.db, 1) is None
    await world.do(world.bob.send(world.court, "/poll Again? | Yes | No"))
    replies = await world.do(world.alice.press(question, yes, check=False))
    assert STALE in replies.answer_text()
    row = await world.services.db.fetchone("SELECT count(*) AS n FROM polls")
    assert row is not None and row["n"] == 1  # the new poll survived the old button


async def test_forget_me_is_answered_once_and_old_data_is_stale(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.court, "/poll Paint? | Green | Blue"))
    await world.do(world.bob.send(world.bob.private, "/start"))
    replies = await world.do(world.bob.send(world.bob.private, "/forgetme"))
    question = replies.sent(world.bob.private)[-1].result
    yes, no = yes_no(question)
    for data in ("pv:n", f"pv:f:{minute(world)}", "pv:y:abc", "pv:y", "pv:y:1:2", "pv:z:1"):
        replies = await world.do(world.bob.press(question, data, check=False))
        assert STALE in replies.answer_text(), data
    assert await store.rows_about(world.services.db, world.bob.id)
    # the question's own data pressed in the group cannot answer it (a lead's neither)
    card = world.fake.last_bot_message(world.court)
    for who in (world.bob, world.alice):
        replies = await world.do(who.press(card, yes, check=False))
        [answer] = replies.answers()
        assert answer["show_alert"] and not replies.edits(world.court)
    assert await store.rows_about(world.services.db, world.bob.id)

    # two presses of Yes at once: one forgets, the other is stale
    await asyncio.gather(
        world.bob.press(question, yes), world.bob.press(question, yes, check=False)
    )
    await world.settle()
    answers = [world.fake.callback_answer(q) for q in list(world.fake.callbacks)[-2:]]
    texts = [str((a or {}).get("text") or "") for a in answers]
    assert sum(STALE in t for t in texts) == 1, texts
    # at most the private chat row again, which the second press itself brought back
    assert set(await store.rows_about(world.services.db, world.bob.id)) <= {"chats.id"}
    replies = await world.do(world.bob.press(question, no, check=False))
    assert STALE in replies.answer_text()
