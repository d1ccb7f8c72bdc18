"""The outbox end to end: the running bot's ``Outbox`` over real HTTP against the fake Bot API,
with its hooks writing to the real SQLite file.

Faults are injected into the fake (429, 5xx, slow answers); chats change under the bot (kicked,
blocked, upgraded to a supergroup, cards deleted by people). Where a test must show that the
*outbox* noticed a change (not the bot's update handlers), the bot first goes offline: it stops
polling, as if the update had not reached it yet — which is what happens on Telegram when the
error answer comes before the service message.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from telegram import Bot
from telegram.error import BadRequest
from telegram.request import HTTPXRequest

from bot.outbox import Outbox
from playground import FakeChat
from storage import chats
from tests.e2e.conftest import FAST, World


def sends(world: World, text: str, *, ok: bool) -> int:
    return sum(1 for c in world.fake.calls_to("sendMessage", text=text) if c.ok is ok)


async def offline(world: World) -> None:
    """Stop taking updates: the bot learns of what happens next only from its API answers."""
    assert world.app.updater is not None
    await world.app.updater.stop()


def texts(chat: FakeChat) -> list[str | None]:
    return [m.text for m in chat.bot_messages]


# --- flood waits, server errors, timeouts --------------------------------------------------


async def test_429_is_waited_out_and_the_message_delivered_once(world: World) -> None:
    # (bot/__init__.py sets PTB_TIMEDELTA, so PTB 22.8 does not warn about an int retry_after)
    await world.with_bot()
    outbox = world.services.outbox
    world.fake.inject("sendMessage", error_code=429, retry_after=1, times=1)
    message = await outbox.send(world.court.id, "Water off on Tuesday")
    assert message is not None and message.chat.id == world.court.id
    assert sends(world, "Water off on Tuesday", ok=True) == 1
    assert sends(world, "Water off on Tuesday", ok=False) == 1
    assert outbox.stats["retry_after"] == 1
    assert texts(world.court).count("Water off on Tuesday") == 1


@pytest.mark.parametrize("codes", [(500, 500), (502, 502), (500, 502)])
async def test_server_errors_are_retried_and_delivered_once(
    world: World, codes: tuple[int, int]
) -> None:
    await world.with_bot()
    outbox = world.services.outbox
    for code in codes:
        world.fake.inject("sendMessage", error_code=code, times=1)
    retries = outbox.stats["retries"]
    message = await outbox.send(world.court.id, "Lift repaired")
    assert message is not None
    calls = world.fake.calls_to("sendMessage", text="Lift repaired")
    assert [(c.ok, c.error_code) for c in calls] == [
        (False, codes[0]),
        (False, codes[1]),
        (True, None),
    ]
    assert outbox.stats["retries"] == retries + 2
    assert texts(world.court).count("Lift repaired") == 1


async def test_timeout_is_retried_and_may_deliver_twice(world: World) -> None:
    """A request the client gave up on may still be carried out (by Telegram, and by the fake):
    the retry then posts the message a second time. This is the documented price of retrying
    timeouts; the test pins it down so that a change of behaviour is noticed."""
    await world.with_bot()
    impatient = Bot(
        world.fake.token,
        base_url=world.fake.base_url,
        base_file_url=world.fake.base_file_url,
        request=HTTPXRequest(read_timeout=0.3),
    )
    async with impatient:
        outbox = Outbox(impatient, hooks=world.services.outbox.hooks, limits=FAST)
        world.fake.inject("sendMessage", delay=0.6, times=1, chat_id=world.court.id)
        message = await outbox.send(world.court.id, "Boiler check at 9")
        assert message is not None
        assert outbox.stats["retries"] == 1 and outbox.stats["failed"] == 0
        # the slow first attempt completes on the server after the client gave up on it
        await world.fake.wait_until(lambda: sends(world, "Boiler check at 9", ok=True) == 2)
    assert texts(world.court).count("Boiler check at 9") == 2
    assert message.message_id in {m.message_id for m in world.court.bot_messages}
    assert await chats.delivery_failures(world.services.db, world.court.id) == []


async def test_giving_up_after_max_attempts_records_a_delivery_failure(world: World) -> None:
    await world.with_bot()
    outbox = world.services.outbox
    failed = outbox.stats["failed"]
    fault = world.fake.inject("sendMessage", error_code=500, times=None, chat_id=world.court.id)
    assert await outbox.send(world.court.id, "Meeting moved") is None
    assert sends(world, "Meeting moved", ok=False) == outbox.limits.max_attempts
    assert sends(world, "Meeting moved", ok=True) == 0
    assert outbox.stats["failed"] == failed + 1
    [(method, reason, _)] = await chats.delivery_failures(world.services.db, world.court.id)
    assert method == "sendMessage" and "Internal Server Error" in reason
    fault.cancel()
    assert await outbox.send(world.court.id, "Meeting moved") is not None  # not stuck after

    # and the group's leads see it on the settings panel (residents cannot open the panel)
    replies = await world.do(world.alice.send(world.court, "/settings"))
    panel = replies.text(world.court)
    assert "1 message to this group could not be delivered in the last 7 days" in panel
    assert "Internal Server Error" in panel


# --- edits and deletions ---------------------------------------------------------------------


async def test_editing_with_the_same_text_returns_the_same_message(world: World) -> None:
    await world.with_bot()
    outbox = world.services.outbox
    card = await outbox.send(world.court.id, "<b>Poll</b>: 3 votes")
    assert card is not None
    assert await outbox.edit(world.court.id, card.message_id, "<b>Poll</b>: 3 votes") == (
        card.message_id
    )
    [refused] = world.fake.calls_to("editMessageText", message_id=card.message_id)
    assert not refused.ok and "message is not modified" in (refused.description or "")
    assert sends(world, "<b>Poll</b>: 3 votes", ok=True) == 1  # nothing posted again
    assert await outbox.edit(world.court.id, card.message_id, "<b>Poll</b>: 4 votes") == (
        card.message_id
    )
    shown = world.fake.message(world.court, card.message_id)
    assert shown is not None and shown.text == "Poll: 4 votes"


async def test_editing_a_deleted_message_posts_it_again(world: World) -> None:
    await world.with_bot()
    outbox = world.services.outbox
    card = await outbox.send(world.court.id, "Chores: Bob")
    assert card is not None
    world.fake.delete_message(world.court, card.message_id)
    new_id = await outbox.edit(world.court.id, card.message_id, "Chores: Кэрол")
    assert new_id is not None and new_id != card.message_id
    reposted = world.fake.message(world.court, new_id)
    assert reposted is not None and reposted.text == "Chores: Кэрол"
    assert world.fake.message(world.court, card.message_id) is None


async def test_editing_a_deleted_message_without_repost_returns_none(world: World) -> None:
    await world.with_bot()
    outbox = world.services.outbox
    card = await outbox.send(world.court.id, "Chores: Bob")
    assert card is not None
    world.fake.delete_message(world.court, card.message_id)
    mark = world.fake.mark()
    assert await outbox.edit(world.court.id, card.message_id, "Chores: Кэрол", repost=False) is None
    assert [c.method for c in world.fake.api_calls if c.index >= mark] == ["editMessageText"]
    assert "Chores: Кэрол" not in texts(world.court)


async def test_deleting_a_message_that_is_gone_counts_as_deleted(world: World) -> None:
    await world.with_bot()
    outbox = world.services.outbox
    card = await outbox.send(world.court.id, "Temporary notice")
    assert card is not None
    assert await outbox.delete(world.court.id, card.message_id) is True
    assert world.fake.message(world.court, card.message_id) is None
    assert await outbox.delete(world.court.id, card.message_id) is True
    gone = world.fake.calls_to("deleteMessage", message_id=card.message_id)
    assert [c.ok for c in gone] == [True, False]
    assert "message to delete not found" in (gone[1].description or "")
    # a resident's message, and the bot is no admin: Telegram refuses, that is "not deleted"
    said = await world.bob.send(world.court, "/help")
    assert await outbox.delete(world.court.id, said.message_id) is False
    assert world.fake.message(world.court, said.message_id) is not None


# --- chats the bot can no longer reach ------------------------------------------------------


async def test_kicked_bot_send_returns_none_and_the_chat_is_marked_inactive(
    world: World,
) -> None:
    await world.with_bot()
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.active
    await offline(world)
    await world.fake.remove_bot(world.court, by=world.alice, kicked=True)
    assert await world.services.outbox.send(world.court.id, "Anyone there?") is None
    [refused] = world.fake.calls_to("sendMessage", text="Anyone there?")
    assert refused.error_code == 403 and "kicked" in (refused.description or "")
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and not chat.active
    assert await chats.delivery_failures(world.services.db, world.court.id) == []


async def test_user_who_blocked_the_bot_has_the_private_chat_marked_inactive(
    world: World,
) -> None:
    alice = world.alice
    replies = await world.do(alice.send(alice.private, "/start"))
    assert replies.sent(alice.private)
    chat = await chats.get(world.services.db, alice.id)
    assert chat is not None and chat.active and chat.type == "private"
    await offline(world)
    alice.block_bot()
    assert await world.services.outbox.send(alice.id, "Your turn to take out the bins") is None
    [refused] = [c for c in world.fake.calls_to("sendMessage", chat_id=alice.id) if not c.ok]
    assert refused.error_code == 403 and "blocked" in (refused.description or "")
    chat = await chats.get(world.services.db, alice.id)
    assert chat is not None and not chat.active


# --- a group that became a supergroup --------------------------------------------------------


async def test_send_to_an_upgraded_group_follows_it_to_the_supergroup(world: World) -> None:
    await world.with_bot()
    old = world.court
    db = world.services.db
    await offline(world)  # the bot learns of the upgrade from Telegram's answer alone
    new = await world.fake.upgrade_to_supergroup(old, by=world.alice)
    outbox = world.services.outbox
    message = await outbox.send(old.id, "Assembly on Friday")
    assert message is not None and message.chat.id == new.id
    assert texts(new) == ["Assembly on Friday"]
    moved = await chats.get(db, new.id)
    assert moved is not None and moved.type == "supergroup" and moved.title == "Maple Court"
    assert await chats.get(db, old.id) is None
    assert await chats.resolve(db, old.id) == new.id
    again = await outbox.send(old.id, "Bring chairs")  # straight to the new id
    assert again is not None and again.chat.id == new.id
    [migrated] = [c for c in world.fake.calls_to("sendMessage", chat_id=old.id) if not c.ok]
    assert migrated.params["text"] == "Assembly on Friday"
    assert migrated.parameters == {"migrate_to_chat_id": new.id}
    assert texts(new) == ["Assembly on Friday", "Bring chairs"]


# --- coalesced card refreshes ------------------------------------------------------------------


@pytest.fixture
async def slow_edits(world: World) -> AsyncIterator[Outbox]:
    """An outbox of the running bot that edits a card at most every 0.2 s."""
    outbox = Outbox(
        world.app.bot, hooks=world.services.outbox.hooks, limits=replace(FAST, edit_interval=0.2)
    )
    yield outbox
    await outbox.close()


async def test_a_burst_of_refreshes_becomes_a_few_edits_showing_the_last_state(
    world: World, slow_edits: Outbox
) -> None:
    await world.with_bot()
    card = await slow_edits.send(world.court.id, "Votes: 0")
    assert card is not None
    mark = world.fake.mark()
    votes = 0

    async def render() -> tuple[str, None]:
        return f"Votes: {votes}", None

    for _ in range(300):
        votes += 1
        slow_edits.refresh(world.court.id, card.message_id, render)
        await asyncio.sleep(0)  # the presses arrive one by one, the edits go out meanwhile
    await asyncio.wait_for(slow_edits.idle(), 5)
    edits = [c for c in world.fake.calls[mark:] if c.method == "editMessageText"]
    assert all(c.ok for c in edits)
    assert 2 <= len(edits) <= 5  # the first press is shown at once, the rest coalesce
    shown = [int(c.params["text"].removeprefix("Votes: ")) for c in edits]
    assert shown == sorted(set(shown)) and shown[-1] == 300
    message = world.fake.message(world.court, card.message_id)
    assert message is not None and message.text == "Votes: 300"
    assert slow_edits.pending_refreshes == 0


async def test_refresh_of_a_deleted_card_posts_it_again_and_reports_the_new_id(
    world: World, slow_edits: Outbox
) -> None:
    await world.with_bot()
    card = await slow_edits.send(world.court.id, "Rota: Bob")
    assert card is not None
    world.fake.delete_message(world.court, card.message_id)
    moved: list[int] = []

    async def render() -> tuple[str, None]:
        return "Rota: Кэрол", None

    async def on_moved(new_id: int) -> None:
        moved.append(new_id)

    slow_edits.refresh(world.court.id, card.message_id, render, on_moved=on_moved)
    await asyncio.wait_for(slow_edits.idle(), 5)
    [new_id] = moved
    assert new_id != card.message_id
    reposted = world.fake.message(world.court, new_id)
    assert reposted is not None and reposted.text == "Rota: Кэрол"
    assert texts(world.court).count("Rota: Кэрол") == 1


async def test_a_refresh_requested_while_an_edit_fails_is_still_carried_out(
    world: World, slow_edits: Outbox
) -> None:
    await world.with_bot()
    card = await slow_edits.send(world.court.id, "Votes: 0")
    assert card is not None
    state = {"votes": 1, "renders": 0}
    rendering = asyncio.Event()

    async def render() -> tuple[str, None]:
        state["renders"] += 1
        if state["renders"] == 1:  # a transient failure, e.g. SQLite busy while reading votes
            rendering.set()
            await asyncio.sleep(0.05)
            raise RuntimeError("database is locked")
        return f"Votes: {state['votes']}", None

    slow_edits.refresh(world.court.id, card.message_id, render)
    await rendering.wait()
    state["votes"] = 2  # another press arrives while the first render is failing
    slow_edits.refresh(world.court.id, card.message_id, render)
    await asyncio.wait_for(slow_edits.idle(), 5)
    message = world.fake.message(world.court, card.message_id)
    assert message is not None and message.text == "Votes: 2"


# --- our own mistakes surface -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "complaint"),
    [("<b>unclosed", "can't parse entities"), ("x" * 5000, "message is too long")],
    ids=["broken-html", "too-long"],
)
async def test_a_bad_request_of_ours_is_raised(world: World, text: str, complaint: str) -> None:
    await world.with_bot()
    outbox = world.services.outbox
    with pytest.raises(BadRequest) as caught:
        await outbox.send(world.court.id, text)
    assert complaint in caught.value.message.lower()
    assert len(world.fake.calls_to("sendMessage", text=text)) == 1  # not retried
    assert await chats.delivery_failures(world.services.db, world.court.id) == []
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.active


async def test_a_bad_edit_of_ours_is_raised(world: World) -> None:
    await world.with_bot()
    outbox = world.services.outbox
    card = await outbox.send(world.court.id, "Fine")
    assert card is not None
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await outbox.edit(world.court.id, card.message_id, "<i>broken")
    shown = world.fake.message(world.court, card.message_id)
    assert shown is not None and shown.text == "Fine"
