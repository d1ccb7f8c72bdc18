"""Only current members count, end to end: a stranger pressing the buttons of a public group's
cards, a member who left (told by a chat_member update, a left_chat_member message, or only by
getChatMember), their unit claims suspended until a lead restores them, and the leads told once.
"""

from __future__ import annotations

from typing import Any

from playground import FakeChat, FakeUser
from storage import chats, members, units
from tests.e2e.conftest import World
from tests.e2e.test_authorization import INTERNAL, buttons_of, snapshot
from tests.e2e.test_decisions import LABELS, open_decision, register
from tests.e2e.test_decisions import claim as approved_claim

NOT_MEMBER = "Only members of this group can take part"
#: Buttons that count: votes, ballots, sign-ups, guests, slots, orders.
COUNTING = ("pl:v:", "dc:v:", "ev:g:", "ev:p:", "ev:m:", "ev:x:", "rs:t:", "gb:p:", "gb:m:")


async def public_group(world: World, *, admin: bool = False) -> FakeChat:
    oak = world.fake.group(
        "Oak Court",
        admins=[world.alice],
        members=[world.bob, world.carol],
        supergroup=True,
        username="oak_court",
    )
    await world.do(world.fake.add_bot(oak, by=world.alice, admin=admin))
    return oak


async def cards(world: World, chat: FakeChat) -> list[str]:
    for text in (
        "/poll Paint? | Green | Blue",
        "/event Cleanup | tomorrow 10:00 | Yard | 5",
        "/roster Stairs | sat 8:00-12:00 | per slot 2",
        "/groupbuy Rice | 30元 | tomorrow 20:00",
    ):
        replies = await world.do(world.alice.send(chat, text))
        assert replies.sent(chat), text
        assert INTERNAL not in replies.text(chat), text
    return sorted(set(buttons_of(world, chat)))


def card_with(chat: FakeChat, data: str) -> Any:
    return next(
        m
        for m in chat.bot_messages
        if m.reply_markup
        and any(b.callback_data == data for row in m.reply_markup.inline_keyboard for b in row)
    )


def lookups(world: World, user: FakeUser) -> int:
    return len(world.fake.calls_to("getChatMember", user_id=user.id))


async def claim(world: World, chat: FakeChat, label: str, who: FakeUser) -> None:
    """The unit is in the register and the claim approved (the register's own screens are
    tested with the households)."""
    db, now = world.services.db, world.services.clock()
    await units.add(db, chat.id, label, None, now, by=world.alice.id)
    await units.claim(db, chat.id, label, who.id, approved=True, now=now)


async def claim_status(world: World, chat: FakeChat, label: str, who: FakeUser) -> str:
    row = await world.services.db.fetchone(
        "SELECT m.status FROM unit_members m JOIN units u ON u.id = m.unit_id"
        " WHERE u.chat_id = ? AND u.label = ? AND m.user_id = ?",
        (chat.id, label, who.id),
    )
    assert row is not None
    return str(row["status"])


async def test_a_stranger_presses_every_counting_button_of_a_public_group_and_nothing_counts(
    world: World,
) -> None:
    oak = await public_group(world)
    data = [d for d in await cards(world, oak) if d.startswith(COUNTING)]
    assert {d[:5] for d in data} >= {"pl:v:", "ev:g:", "rs:t:", "gb:p:"}, data
    mallory = world.fake.user("Mallory", language_code="en")  # never in Oak Court
    db = world.services.settings.db_path
    before = snapshot(db)
    for item in data:
        replies = await world.do(mallory.press(card_with(oak, item), item))
        [answer] = replies.answers()
        assert answer.get("show_alert") and NOT_MEMBER in str(answer.get("text")), (item, answer)
        assert not replies.edits(oak), item  # no card changed
    assert snapshot(db) == before
    assert lookups(world, mallory) == 1  # asked once, then the answer is trusted for a while
    assert await members.presence(world.services.db, oak.id, mallory.id) == members.LEFT

    # Кэрол is a member whom the bot has never met: Telegram is asked once, then she counts
    vote = next(d for d in data if d.startswith("pl:v:"))
    replies = await world.do(world.carol.press(card_with(oak, vote), vote))
    assert NOT_MEMBER not in replies.answer_text() and "Участвовать" not in replies.answer_text()
    assert snapshot(db) != before
    await world.do(world.carol.press(card_with(oak, vote), vote))
    assert lookups(world, world.carol) == 1


async def test_in_a_private_group_a_press_is_presence_and_telegram_is_not_asked(
    world: World,
) -> None:
    await world.with_bot()
    data = [d for d in await cards(world, world.court) if d.startswith("pl:v:")]
    replies = await world.do(world.bob.press(card_with(world.court, data[0]), data[0]))
    assert NOT_MEMBER not in replies.answer_text()
    assert lookups(world, world.bob) == 0
    assert await members.presence(world.services.db, world.court.id, world.bob.id) == "member"


async def test_leaving_suspends_the_claims_the_leads_are_told_once_and_only_a_lead_restores(
    world: World,
) -> None:
    # the bot is an administrator: both the chat_member update and the service message come
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    await world.do(world.bob.send(world.court, "/help"))
    await claim(world, world.court, "3-502", world.bob)
    await claim(world, world.court, "3-10", world.bob)
    await claim(world, world.court, "3-502", world.carol)

    replies = await world.do(world.fake.leave(world.court, world.bob))
    [notice] = replies.sent(world.court)  # once, though Telegram said it twice
    text = notice.params["text"]
    assert "Bob Baker is no longer in the group" in text and "2 units (3-10, 3-502)" in text
    assert notice.params.get("disable_notification") in (True, "true", "True")
    assert await claim_status(world, world.court, "3-502", world.bob) == "suspended"
    assert await claim_status(world, world.court, "3-502", world.carol) == "approved"
    card = world.fake.message(world.court, notice.result["message_id"])
    assert card is not None and card.reply_markup is not None
    [[restore]] = card.reply_markup.inline_keyboard
    data = str(restore.callback_data)
    assert data.startswith("mb:r:") and len(data.encode()) <= 64

    # a lead cannot restore while he is away: nobody there would speak for the household
    replies = await world.do(world.alice.press(card, data))
    assert "Bob Baker is not in the group now" in replies.answer_text()
    assert await claim_status(world, world.court, "3-502", world.bob) == "suspended"

    # back in the group: still suspended, nobody is told again
    replies = await world.do(world.fake.join(world.court, world.bob))
    assert not replies.sent(world.court)
    assert await claim_status(world, world.court, "3-502", world.bob) == "suspended"
    assert await members.presence(world.services.db, world.court.id, world.bob.id) == "member"

    # residents cannot restore (not even the person), a forged id elsewhere is stale
    for who in (world.bob, world.carol):
        replies = await world.do(who.press(card, data))
        [answer] = replies.answers()
        assert answer.get("show_alert") and not replies.edits(world.court)
    assert await claim_status(world, world.court, "3-502", world.bob) == "suspended"
    other = world.fake.last_bot_message(world.court)
    poll = await world.do(world.alice.send(world.court, "/poll Paint? | Green | Blue"))
    assert poll.sent(world.court)
    elsewhere = world.fake.last_bot_message(world.court)
    assert elsewhere is not None and other is not None
    replies = await world.do(world.alice.press(elsewhere, data, check=False))
    assert "no longer works" in replies.answer_text()
    assert await claim_status(world, world.court, "3-502", world.bob) == "suspended"

    replies = await world.do(world.alice.press(card, data))
    assert replies.answer_text() == "Restored."
    [edit] = replies.edits(world.court)
    assert (
        "Bob Baker's claims to 2 units (3-10, 3-502) were restored by Alice" in edit.params["text"]
    )
    assert await claim_status(world, world.court, "3-502", world.bob) == "approved"
    assert await claim_status(world, world.court, "3-10", world.bob) == "approved"
    replies = await world.do(world.alice.press(card, data, check=False))  # the old button
    assert "no longer works" in replies.answer_text()


async def test_a_member_who_left_a_public_group_cannot_vote_any_more(world: World) -> None:
    oak = await public_group(world)  # not an administrator: only the service message comes
    await world.do(world.bob.send(oak, "hello"))
    data = [d for d in await cards(world, oak) if d.startswith(("pl:v:", "rs:t:", "ev:g:"))]
    vote = next(d for d in data if d.startswith("pl:v:"))
    replies = await world.do(world.bob.press(card_with(oak, vote), vote))
    assert NOT_MEMBER not in replies.answer_text()
    await claim(world, oak, "7", world.bob)

    asked = lookups(world, world.bob)  # once, at his first vote (a public group)
    replies = await world.do(world.fake.leave(oak, world.bob))
    assert "Bob Baker is no longer in the group" in replies.text(oak)
    assert await claim_status(world, oak, "7", world.bob) == "suspended"
    db = world.services.settings.db_path
    before = snapshot(db)
    for item in data:
        replies = await world.do(world.bob.press(card_with(oak, item), item))
        assert NOT_MEMBER in replies.answer_text(), item
    assert snapshot(db) == before
    assert lookups(world, world.bob) == asked == 1  # the departure was told: no need to ask


async def test_a_departure_nobody_told_the_bot_about_is_found_out_by_asking(
    world: World,
) -> None:
    oak = await public_group(world)
    data = [d for d in await cards(world, oak) if d.startswith("pl:v:")]
    await claim(world, oak, "12", world.bob)
    oak.members[world.bob.id] = "left"  # left while the bot was away: no update, no message
    replies = await world.do(world.bob.press(card_with(oak, data[0]), data[0]))
    assert NOT_MEMBER in replies.answer_text()
    assert lookups(world, world.bob) == 1
    assert await claim_status(world, oak, "12", world.bob) == "suspended"
    assert "Bob Baker is no longer in the group" in replies.text(oak)  # the leads are told


async def test_when_telegram_cannot_say_the_press_is_refused_politely(world: World) -> None:
    oak = await public_group(world)
    data = [d for d in await cards(world, oak) if d.startswith("pl:v:")]
    world.fake.inject("getChatMember", error_code=400, description="Bad Request: chat not found")
    before = snapshot(world.services.settings.db_path)
    replies = await world.do(world.bob.press(card_with(oak, data[0]), data[0]))
    [answer] = replies.answers()
    assert answer.get("show_alert") and "could not check with Telegram" in str(answer["text"])
    assert snapshot(world.services.settings.db_path) == before
    replies = await world.do(world.bob.press(card_with(oak, data[0]), data[0]))  # and later
    assert "could not check" not in replies.answer_text()
    assert snapshot(world.services.settings.db_path) != before


async def test_a_long_429_on_the_lookup_refuses_the_press_instead_of_holding_it(
    world: World,
) -> None:
    """Telegram drops the answer to a press left waiting: a lookup told to wait 30 s gives up
    and the press is told to try again (the admin lookups, which answer no press, still wait)."""
    oak = await public_group(world)
    data = [d for d in await cards(world, oak) if d.startswith("pl:v:")]
    world.fake.inject("getChatMember", error_code=429, retry_after=30)
    before = snapshot(world.services.settings.db_path)
    replies = await world.do(world.bob.press(card_with(oak, data[0]), data[0]))
    assert "could not check with Telegram" in replies.answer_text()
    assert snapshot(world.services.settings.db_path) == before


async def test_an_organizer_who_left_loses_the_role(world: World) -> None:
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    said = await world.carol.send(world.court, "hi")
    await world.do(world.alice.send(world.court, "/grant organizer", reply_to=said))
    role = await world.services.roles.role_of(await _chat(world, world.court), world.carol.id)
    assert role.name == "ORGANIZER"
    await world.do(world.fake.leave(world.court, world.carol))
    role = await world.services.roles.role_of(await _chat(world, world.court), world.carol.id)
    assert role.name == "RESIDENT"


async def _chat(world: World, chat: FakeChat) -> Any:
    found = await chats.get(world.services.db, chat.id)
    assert found is not None
    return found


async def test_a_returning_member_casts_no_ballot_until_a_lead_restores_the_claim(
    world: World,
) -> None:
    await world.with_bot()
    await register(world, 2)
    await approved_claim(world, world.bob, LABELS[0])
    decision, card = await open_decision(world, "/decide Paint the hall | closes=in 2 days")
    replies = await world.do(world.fake.leave(world.court, world.bob))
    [notice] = replies.sent(world.court)
    await world.do(world.fake.join(world.court, world.bob))
    ballots = "SELECT count(*) AS n FROM decision_ballots WHERE decision_id = ?"

    replies = await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    [answer] = replies.answers()
    assert answer.get("show_alert"), answer  # back in the group, but his claim is suspended
    row = await world.services.db.fetchone(ballots, (decision.id,))
    assert row is not None and row["n"] == 0

    restore = world.fake.message(world.court, notice.result["message_id"])
    assert restore is not None and restore.reply_markup is not None
    [[button]] = restore.reply_markup.inline_keyboard
    await world.do(world.alice.press(restore, str(button.callback_data)))
    replies = await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    assert not replies.answers()[0].get("show_alert"), replies.answers()
    row = await world.services.db.fetchone(ballots, (decision.id,))
    assert row is not None and row["n"] == 1


async def test_someone_who_only_joins_and_leaves_is_not_written_down(world: World) -> None:
    await world.do(world.fake.add_bot(world.court, by=world.alice, admin=True))
    dave = world.fake.user("Dave", language_code="en")
    await world.do(world.fake.join(world.court, dave))
    await world.do(world.fake.leave(world.court, dave))
    await world.do(world.fake.join(world.court, dave, by=world.bob))
    assert await members.get(world.services.db, world.court.id, dave.id) is None
