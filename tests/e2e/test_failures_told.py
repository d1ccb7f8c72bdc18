"""Failures reach a person: a promised action that fails (a pin, a scheduled announcement or
reminder that cannot be delivered, a card that can be neither edited nor posted again) is told
to its author — privately, or in the group if they never opened a private chat — and shown to
the leads on /settings, once per failure: not once per retry, not every week."""

from __future__ import annotations

from datetime import timedelta

from storage import chats, posts
from storage.db import to_db
from tests.e2e.conftest import World
from tests.e2e.test_polls import new_poll
from tests.e2e.test_reminders import eventually, fire_due, last_post, make_due

PIN_FAILED = "could not pin it"


def private_texts(world: World, user) -> list[str]:
    return [
        str(c.params["text"])
        for c in world.fake.calls_to("sendMessage", chat_id=user.id)
        if c.ok and "text" in c.params
    ]


async def failures(world: World, chat_id: int) -> list[tuple[str, str, str]]:
    return await chats.delivery_failures(world.services.db, chat_id)


async def fire_and_wait(world: World, post_id: int) -> None:
    """Fire the post's due occurrence and wait until the scheduler is done with it."""
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()

    async def fired() -> bool:
        row = await world.services.db.fetchone(
            "SELECT count(*) AS n FROM scheduled WHERE kind = 'post' AND ref_id = ?"
            " AND status IN ('done', 'missed')",
            (post_id,),
        )
        return bool(row and row["n"])

    await eventually(fired)
    await world.services.outbox.idle()
    await world.settle()


async def test_a_pin_refused_is_told_to_its_author_and_the_leads_once(world: World) -> None:
    await world.with_bot()  # a member, not an administrator: it may not pin
    await world.do(world.alice.send(world.alice.private, "/start"))
    replies = await world.do(
        world.alice.send(world.court, "/announce every monday 9:00 | Bins go out tonight | pin")
    )
    assert "try to pin it" in replies.text(world.court)  # no promise it cannot keep
    post = await last_post(world)

    await make_due(world, post.id)
    await fire_due(world, world.court.id, expect="Bins go out tonight")
    await world.services.outbox.idle()
    await world.settle()
    assert not [c for c in world.fake.calls_to("pinChatMessage") if c.ok]
    told = [t for t in private_texts(world, world.alice) if PIN_FAILED in t]
    assert len(told) == 1 and "Maple Court" in told[0] and "Bins go out tonight" in told[0]
    [(method, reason, _)] = await failures(world, world.court.id)
    assert method == "pinChatMessage" and "pin" in reason

    panel = await world.do(world.alice.send(world.court, "/settings"))
    assert "could not be delivered" in panel.text(world.court)
    assert "could not pin an announcement" in panel.text(world.court)

    # next Monday it fails again: the same failure is not told (nor recorded) a second time
    nxt = await posts.get(world.services.db, post.id)
    assert nxt is not None and nxt.status == "active"
    await make_due(world, post.id)
    await fire_due(world, world.court.id, expect="Bins go out tonight")
    await world.services.outbox.idle()
    await world.settle()
    assert len([t for t in private_texts(world, world.alice) if PIN_FAILED in t]) == 1
    assert len(await failures(world, world.court.id)) == 1


async def test_an_author_without_a_private_chat_is_told_in_the_group(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/announce in 1 hour | Water off at noon | pin"))
    post = await last_post(world)
    await make_due(world, post.id)
    await fire_due(world, world.court.id, expect="Water off at noon")

    def said() -> list[str]:
        return [
            str(c.params["text"])
            for c in world.fake.calls_to("sendMessage", chat_id=world.court.id)
            if c.ok and PIN_FAILED in str(c.params.get("text"))
        ]

    async def told() -> bool:  # the job goes on after the post: the pin, then the note
        return bool(said())

    await eventually(told)
    await world.services.outbox.idle()
    await world.settle()
    assert len(said()) == 1 and f"tg://user?id={world.alice.id}" in said()[0]
    assert private_texts(world, world.alice) == []


async def test_an_announcement_for_a_group_the_bot_left_is_told_once(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.alice.send(world.court, "/announce in 1 hour | Meeting at 7"))
    post = await last_post(world)
    await world.do(world.fake.remove_bot(world.court, by=world.alice))
    await make_due(world, post.id)
    await fire_and_wait(world, post.id)
    told = [t for t in private_texts(world, world.alice) if "could not post" in t]
    assert len(told) == 1, private_texts(world, world.alice)
    assert "Meeting at 7" in told[0] and "no longer in that chat" in told[0]
    [(method, reason, _)] = await failures(world, world.court.id)
    assert method == "sendMessage" and f"#{post.id}" in reason
    assert await posts.get(world.services.db, post.id) is not None


async def test_retries_are_not_failures_and_giving_up_is_told_once(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.alice.send(world.court, "/remind in 1 hour | boiler service at 3"))
    post = await last_post(world)
    # Telegram fails every try of the first attempt: the scheduler will retry later
    limits = world.services.outbox.limits
    fault = world.fake.inject(
        "sendMessage", error_code=502, times=limits.max_attempts, chat_id=world.court.id
    )
    await make_due(world, post.id)
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()

    async def retrying() -> bool:
        row = await world.services.db.fetchone(
            "SELECT status, attempts FROM scheduled WHERE kind = 'post' AND ref_id = ?",
            (post.id,),
        )
        return bool(row and row["status"] == "pending" and row["attempts"] == 1)

    await eventually(retrying)
    assert fault.hits == limits.max_attempts
    assert await failures(world, world.court.id) == []  # a retry is not a failure yet
    assert [t for t in private_texts(world, world.alice) if "could not" in t] == []

    # it keeps failing until its grace period is over: now it is a failure, told once
    due = world.services.clock() - timedelta(hours=3)
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ?, due_at = ? WHERE kind = 'post' AND ref_id = ?",
            (to_db(due), to_db(due), post.id),
        )
    await fire_and_wait(world, post.id)
    told = [t for t in private_texts(world, world.alice) if "could not deliver" in t]
    assert len(told) == 1 and "boiler service at 3" in told[0]
    assert "offline" not in told[0]
    assert len(await failures(world, world.court.id)) == 1


async def test_a_card_that_cannot_be_edited_nor_posted_again_is_told_once(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.alice.private, "/start"))
    poll, card = await new_poll(world, world.alice, "/poll Paint the gate? | Green | Blue")
    gone = world.fake.inject(
        "editMessageText",
        error_code=400,
        description="Bad Request: message to edit not found",
        times=None,
        chat_id=world.court.id,
    )
    refused = world.fake.inject("sendMessage", error_code=500, times=None, chat_id=world.court.id)
    for person, option in ((world.bob, 0), (world.carol, 1)):
        await world.do(person.press(card, f"pl:v:{poll.id}:{option}"))
        await world.services.outbox.idle()
    assert gone.hits >= 2 and refused.hits >= 2  # each refresh tried both, and failed
    told = [t for t in private_texts(world, world.alice) if "update the card" in t]
    assert len(told) == 1 and "Paint the gate?" in told[0] and "Maple Court" in told[0]
    [(method, reason, _)] = await failures(world, world.court.id)
    assert method == "editMessageText" and f"poll #{poll.id}" in reason


async def test_a_digest_that_keeps_failing_is_shown_to_the_leads_once(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings digest every sunday 18:00"))
    await world.do(world.alice.send(world.court, "/announce in 2 days | Water off 10:00-12:00"))
    row = await world.services.db.fetchone(
        "SELECT id FROM scheduled WHERE kind = 'digest' AND status = 'pending'"
    )
    assert row is not None

    async def due(ago: timedelta) -> None:
        moment = to_db(world.services.clock() - ago)
        async with world.services.db.write() as conn:
            await conn.execute(
                "UPDATE scheduled SET run_at = ?1, due_at = ?1 WHERE id = ?2", (moment, row["id"])
            )

    limits = world.services.outbox.limits
    world.fake.inject(
        "sendMessage", error_code=502, times=limits.max_attempts, chat_id=world.court.id
    )
    await due(timedelta(seconds=1))
    assert await world.services.scheduler.fire(row["id"]) == "retry"
    assert await failures(world, world.court.id) == []  # one failed try is not a failure
    world.fake.inject(
        "sendMessage", error_code=502, times=limits.max_attempts, chat_id=world.court.id
    )
    await due(timedelta(hours=1, minutes=59, seconds=30))
    assert await world.services.scheduler.fire(row["id"]) == "missed"
    [(method, reason, _)] = await failures(world, world.court.id)
    assert method == "sendMessage" and "digest" in reason
