"""Forum topics, feature by feature: whatever a feature posts later — a reminder, a closing, a
status told in the group, an outcome, a chase — goes to the topic the thing was created in.
Each story creates the thing in a topic of a forum supergroup, deletes its card (a reply to the
card would carry the topic; the row must), makes the follow-up happen (the clock, a press, a
command typed in General) and checks the message's ``message_thread_id``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from playground import Call, FakeChat, FakeTelegram, FakeUser
from playground.world import FakeTopic
from storage import units
from storage.db import to_db
from tests.e2e.conftest import World, start_app, stop_app
from tests.e2e.test_reminders import eventually
from tests.e2e.test_topics import MOVED, sends, thread


async def newest(world: World, table: str) -> dict[str, Any]:
    """The newest row of ``table``, as a dict."""
    row = await world.services.db.fetchone(f"SELECT * FROM {table} ORDER BY id DESC LIMIT 1")
    assert row is not None, f"no row in {table}"
    return dict(row)


async def fire(world: World, kind: str, ref_id: int) -> None:
    """Let the pending ``kind`` row of ``ref_id`` fire now (a real JobQueue job) and wait until
    it has run and what it sent is out."""
    db = world.services.db
    rows = await db.fetchall(
        "SELECT id FROM scheduled WHERE kind = ? AND ref_id = ? AND status = 'pending'",
        (kind, ref_id),
    )
    ids = [int(r["id"]) for r in rows]
    assert ids, f"nothing pending for {kind} {ref_id}"
    due = to_db(world.services.clock())
    async with db.write() as conn:
        await conn.execute(
            f"UPDATE scheduled SET run_at = ? WHERE id IN ({', '.join('?' * len(ids))})",
            (due, *ids),
        )
    world.services.scheduler.disarm(list(world.services.scheduler._armed))
    await world.services.scheduler.refill()

    async def ran() -> bool:
        left = await db.fetchone(
            f"SELECT count(*) AS n FROM scheduled WHERE status IN ('pending', 'running')"
            f" AND id IN ({', '.join('?' * len(ids))})",
            tuple(ids),
        )
        return left is not None and left["n"] == 0

    await eventually(ran, timeout=10)
    await world.services.outbox.idle()
    await world.settle()


def said(world: World, chat: FakeChat, since: int, words: str) -> list[Call]:
    """The messages sent to ``chat`` since ``since`` that contain ``words``."""
    return [
        c
        for c in sends(world, chat, since)
        if words in str(c.params.get("text") or c.params.get("caption") or "")
    ]


def in_topic(calls: list[Call], topic: FakeTopic) -> bool:
    return bool(calls) and all(thread(c) == topic.id for c in calls)


def where(calls: list[Call]) -> list[tuple[Any, str]]:
    """For assertion messages: each call's topic and the start of its text."""
    return [(thread(c), str(c.params.get("text") or c.params.get("caption"))[:70]) for c in calls]


async def household(world: World, forum: FakeChat, person: FakeUser, label: str) -> None:
    """``person`` lives in ``label`` (added, claimed and approved) in ``forum``."""
    await world.do(world.alice.send(forum, f"/units add {label}"))
    await world.do(person.send(forum, f"/unit {label}"))
    unit = await units.get(world.services.db, forum.id, label)
    assert unit is not None
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE unit_members SET status = 'approved', decided_by = ?"
            " WHERE unit_id = ? AND user_id = ?",
            (world.alice.id, unit.id, person.id),
        )


def delete_card(world: World, forum: FakeChat, message_id: int | None) -> None:
    assert message_id is not None
    world.fake.delete_message(forum, message_id)


# --- roll-calls (#A) ------------------------------------------------------------------------


async def test_a_roll_call_reminds_and_closes_in_its_topic_after_its_card_was_deleted(
    world: World,
) -> None:
    forum = await world.forum("Emergencies")
    topic = forum.topic("Emergencies")
    for label in ("2-101", "2-102"):
        await world.do(world.alice.send(forum, f"/units add {label}"))
    await world.do(world.alice.send(forum, "/rollcall Water pipe burst", topic=topic))
    rollcall = await newest(world, "rollcalls")
    assert rollcall["thread_id"] == topic.id
    delete_card(world, forum, rollcall["message_id"])
    mark = world.fake.mark()
    await fire(world, "rollcall_reminder", rollcall["id"])
    reminded = said(world, forum, mark, "Water pipe burst")
    assert in_topic(reminded, topic), where(sends(world, forum, mark))
    mark = world.fake.mark()
    await world.do(world.alice.send(forum, f"/close A{rollcall['id']}"))  # typed in General
    summary = said(world, forum, mark, "Water pipe burst")
    assert in_topic(summary, topic), where(sends(world, forum, mark))


# --- notices (#N) ---------------------------------------------------------------------------


async def test_a_notice_chases_and_meets_its_deadline_in_its_topic(world: World) -> None:
    forum = await world.forum("Notices")
    topic = forum.topic("Notices")
    await household(world, forum, world.bob, "1-01")
    await world.do(
        world.alice.send(forum, "/notice Lift off on Wednesday | confirm by in 3 days", topic=topic)
    )
    notice = await newest(world, "notices")
    assert notice["thread_id"] == topic.id
    delete_card(world, forum, notice["message_id"])
    # Alice has no private chat with the bot: the deadline is told in the group, in the topic
    mark = world.fake.mark()
    await fire(world, "notice_deadline", notice["id"])
    told = said(world, forum, mark, f"#N{notice['id']}")
    assert in_topic(told, topic), where(sends(world, forum, mark))
    # Remind the rest, pressed on the list the author got privately: the chase goes to the topic
    replies = await world.do(world.alice.send(world.alice.private, "/start"))
    assert replies.sent(world.alice.private)
    await world.do(
        world.alice.send(forum, "/notice Water off on Friday | confirm by in 3 days", topic=topic)
    )
    second = await newest(world, "notices")
    delete_card(world, forum, second["message_id"])
    await fire(world, "notice_deadline", second["id"])
    private = world.fake.last_bot_message(world.alice.private)
    assert private is not None and f"#N{second['id']}" in (private.text or "")
    mark = world.fake.mark()
    await world.do(world.alice.press(private, f"nt:r:{second['id']}"))
    chased = said(world, forum, mark, f"tg://user?id={world.bob.id}")
    assert in_topic(chased, topic), where(sends(world, forum, mark))


# --- reports (#F) ---------------------------------------------------------------------------


async def test_a_report_tells_its_changes_and_overdue_in_its_topic(world: World) -> None:
    """Nobody here opened a private chat with the bot: what reporters and handlers are told
    goes to the group, by mention, in the report's topic."""
    forum = await world.forum("Repairs")
    topic = forum.topic("Repairs")
    await world.do(world.bob.send(forum, "/report Lift stuck on floor 3", topic=topic))
    report = await newest(world, "reports")
    assert report["thread_id"] == topic.id
    card = world.fake.message(forum, report["message_id"])
    assert card is not None
    await world.do(world.bob.press(card, f"rp:c:{report['id']}:lift"))
    delete_card(world, forum, report["message_id"])
    ref = f"F{report['id']}"
    # the overdue check, two days later: the leads are mentioned in the topic
    async with world.services.db.write() as conn:
        since = to_db(world.services.clock() - timedelta(days=2.1))
        await conn.execute("UPDATE reports SET since = ? WHERE id = ?", (since, report["id"]))
    mark = world.fake.mark()
    await fire(world, "report_overdue", report["id"])
    overdue = said(world, forum, mark, f"tg://user?id={world.alice.id}")
    assert in_topic(overdue, topic), where(sends(world, forum, mark))
    # a lead acknowledges it from General: the reporter is told in the topic
    mark = world.fake.mark()
    await world.do(world.alice.send(forum, f"/report {ref} acknowledged"))
    told = said(world, forum, mark, f"tg://user?id={world.bob.id}")
    assert in_topic(told, topic), where(sends(world, forum, mark))
    # fixed: "is it fixed?" to the reporter, in the topic
    mark = world.fake.mark()
    await world.do(world.alice.send(forum, f"/report {ref} fixed"))
    asked = said(world, forum, mark, f"tg://user?id={world.bob.id}")
    assert in_topic(asked, topic), where(sends(world, forum, mark))


# --- proposals (#T) -------------------------------------------------------------------------


async def test_a_proposal_expires_goes_to_a_hearing_and_a_vote_in_its_topic(world: World) -> None:
    forum = await world.forum("Proposals")
    topic = forum.topic("Proposals")
    await household(world, forum, world.bob, "1-01")
    await household(world, forum, world.carol, "1-02")
    await world.do(world.bob.send(forum, "/propose A rooftop garden | For everyone", topic=topic))
    garden = await newest(world, "proposals")
    assert garden["thread_id"] == topic.id
    delete_card(world, forum, garden["message_id"])
    mark = world.fake.mark()
    await fire(world, "proposal_expiry", garden["id"])
    expired = said(world, forum, mark, "A rooftop garden")
    assert in_topic(expired, topic), where(sends(world, forum, mark))

    await world.do(world.bob.send(forum, "/propose New bicycle racks | By the gate", topic=topic))
    racks = await newest(world, "proposals")
    delete_card(world, forum, racks["message_id"])
    ref = f"T{racks['id']}"
    mark = world.fake.mark()
    await world.do(world.alice.send(forum, f"/agenda {ref}"))  # typed in General
    agenda = said(world, forum, mark, "New bicycle racks")
    assert agenda and any(thread(c) == topic.id for c in agenda), where(agenda)
    # the hearing's event, opened in the topic, keeps its topic for its reminders
    await world.do(world.alice.send(forum, f"/hearing {ref} | in 3 days 18:00 | Hall", topic=topic))
    hearing = await newest(world, "events")
    assert hearing["thread_id"] == topic.id
    # the vote, opened in the topic: its outcome, and the proposal's notice of it, go there
    await world.do(world.alice.send(forum, f"/decide {ref} | closes=in 2 days", topic=topic))
    decision = await newest(world, "decisions")
    assert decision["thread_id"] == topic.id
    mark = world.fake.mark()
    await fire(world, "decision_close", decision["id"])
    await world.services.outbox.idle()
    outcome = said(world, forum, mark, "New bicycle racks")
    assert len(outcome) >= 2 and in_topic(outcome, topic), where(sends(world, forum, mark))


# --- rosters and volunteer hours ------------------------------------------------------------


async def test_a_rosters_reminder_goes_to_its_topic_after_a_restart(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """The new process knows nothing of the old one's messages: the topic comes from the row.
    Кэрол, the volunteer, never opened a private chat: she is reminded by mention."""
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    try:
        forum = await world.forum("Cleaning")
        topic = forum.topic("Cleaning")
        await world.do(
            world.alice.send(
                forum, "/roster Stairs cleaning | in 3 days 8:00-12:00 | per slot 2", topic=topic
            )
        )
        roster = await newest(world, "rosters")
        assert roster["thread_id"] == topic.id
        card = world.fake.message(forum, roster["message_id"])
        assert card is not None
        slot = await world.services.db.fetchone(
            "SELECT id FROM roster_slots WHERE roster_id = ?", (roster["id"],)
        )
        assert slot is not None
        await world.do(world.carol.press(card, f"rs:t:{slot['id']}"))
        delete_card(world, forum, roster["message_id"])
        await stop_app(app)
        world.app = app = await start_app(fake, db_path)
        await world.settle()
        mark = world.fake.mark()
        await fire(world, "roster_reminder", slot["id"])
        reminded = said(world, forum, mark, f"tg://user?id={world.carol.id}")
        assert in_topic(reminded, topic), where(sends(world, forum, mark))
    finally:
        await stop_app(app)


# --- sharing: listings, group buys, 接龙 chains ----------------------------------------------


async def test_a_listing_expires_in_its_topic(world: World) -> None:
    """Bob, the owner, has no private chat: the expiry is told in the group, in the topic."""
    forum = await world.forum("Sell & give away")
    topic = forum.topic("Sell & give away")
    await world.do(world.bob.send(forum, "/offer Drill | lend | Bosch, with bits", topic=topic))
    item = await newest(world, "items")
    assert item["thread_id"] == topic.id
    delete_card(world, forum, item["card_id"])
    mark = world.fake.mark()
    await fire(world, "item_expiry", item["id"])
    told = said(world, forum, mark, f"tg://user?id={world.bob.id}")
    assert in_topic(told, topic), where(sends(world, forum, mark))
    # the card, posted again as it changed, went back to the topic too
    again = [c for c in sends(world, forum, mark) if "Drill" in str(c.params.get("text"))]
    assert in_topic(again, topic), where(again)


async def test_a_loans_reminder_and_overdue_note_go_to_the_listings_topic(world: World) -> None:
    """Neither Bob (the owner) nor Кэрол (the borrower) opened a private chat: both notes are
    told in the group, by mention, in the listing's topic — after its card was deleted."""
    forum = await world.forum("Sell & give away")
    topic = forum.topic("Sell & give away")
    await world.do(world.bob.send(forum, "/offer Ladder | lend", topic=topic))
    item = await newest(world, "items")
    card = world.fake.message(forum, item["card_id"])
    assert card is not None
    await world.do(world.carol.press(card, f"it:w:{item['id']}"))
    await world.do(world.bob.press(card, f"it:l:{item['id']}"))
    prompt = world.fake.last_bot_message(forum)
    assert prompt is not None
    request = await world.services.db.fetchone(
        "SELECT id FROM item_requests WHERE item_id = ?", (item["id"],)
    )
    assert request is not None
    await world.do(world.bob.press(prompt, f"it:b:{request['id']}"))
    await world.do(world.bob.send(forum, "in 5 days", reply_to=prompt))
    loan = await newest(world, "loans")
    assert loan["due_at"] is not None
    delete_card(world, forum, item["card_id"])
    mark = world.fake.mark()
    await fire(world, "loan_remind", loan["id"])
    reminded = said(world, forum, mark, f"tg://user?id={world.carol.id}")
    assert in_topic(reminded, topic), where(sends(world, forum, mark))
    mark = world.fake.mark()
    await fire(world, "loan_overdue", loan["id"])
    overdue = said(world, forum, mark, f"tg://user?id={world.bob.id}")
    assert in_topic(overdue, topic), where(sends(world, forum, mark))


async def test_a_group_buy_and_a_chain_close_in_their_topic_after_a_restart(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    try:
        forum = await world.forum("Buying together")
        topic = forum.topic("Buying together")
        await world.do(
            world.alice.send(forum, "/groupbuy Apples 5 kg | ¥12.50 | tomorrow 20:00", topic=topic)
        )
        gb = await newest(world, "groupbuys")
        await world.do(world.alice.send(forum, "/chain Who joins the cleanup?", topic=topic))
        chain = await newest(world, "chains")
        assert gb["thread_id"] == topic.id and chain["thread_id"] == topic.id
        await stop_app(app)
        world.app = app = await start_app(fake, db_path)
        await world.settle()
        delete_card(world, forum, gb["card_id"])
        delete_card(world, forum, chain["card_id"])
        mark = world.fake.mark()
        await fire(world, "groupbuy_close", gb["id"])
        await world.do(world.alice.send(forum, f"/close C{chain['id']}"))  # typed in General
        await world.services.outbox.idle()
        summary = said(world, forum, mark, f"tg://user?id={world.alice.id}")  # no private chat
        assert in_topic(summary, topic), where(sends(world, forum, mark))
        # the chain's card, closed, is posted again: in its topic, not in General
        assert in_topic(said(world, forum, mark, "Who joins the cleanup?"), topic), where(
            sends(world, forum, mark)
        )
    finally:
        await stop_app(app)


# --- house rules ----------------------------------------------------------------------------


async def test_house_rules_ratified_in_a_topic_announce_the_new_version_there(
    world: World,
) -> None:
    forum = await world.forum("Rules")
    topic = forum.topic("Rules")
    people = [world.bob, world.carol]
    for person, label in zip(people, ("1-01", "1-02"), strict=True):
        await world.do(world.alice.send(forum, f"/units add {label} 60"))
        await household(world, forum, person, label)
    await world.do(
        world.alice.send(forum, "/rules draft 1. Quiet hours are from 22:00 to 7:00.", topic=topic)
    )
    draft = await newest(world, "rules_versions")
    assert draft["thread_id"] == topic.id
    await world.do(world.alice.send(forum, "/rules ratify", topic=topic))
    decision = await newest(world, "decisions")
    assert decision["thread_id"] == topic.id
    card = world.fake.message(forum, decision["message_id"])
    assert card is not None
    for person in people:
        await world.do(person.press(card, f"dc:v:{decision['id']}:f"))
    delete_card(world, forum, draft["message_id"])
    delete_card(world, forum, decision["message_id"])
    mark = world.fake.mark()
    await world.do(world.alice.send(forum, f"/close D{decision['id']}"))  # typed in General
    await world.services.outbox.idle()
    version = said(world, forum, mark, "Quiet hours")
    assert in_topic(version, topic), where(sends(world, forum, mark))


# --- units: the approval card ---------------------------------------------------------------


async def test_the_approval_card_is_posted_again_in_its_topic_after_a_restart(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    try:
        forum = await world.forum("Homes")
        topic = forum.topic("Homes")
        for label in ("1-01", "1-02"):
            await world.do(world.alice.send(forum, f"/units add {label}"))
        await world.do(world.bob.send(forum, "/unit 1-01", topic=topic))
        card = await world.services.db.fetchone("SELECT * FROM unit_queue_cards")
        assert card is not None and card["thread_id"] == topic.id
        await stop_app(app)
        world.app = app = await start_app(fake, db_path)
        await world.settle()
        delete_card(world, forum, card["message_id"])
        mark = world.fake.mark()
        await world.do(world.carol.send(forum, "/unit 1-02"))  # in General: the card changes
        await world.services.outbox.idle()
        again = said(world, forum, mark, "1-02")
        again = [c for c in again if c.params.get("reply_markup")]
        assert in_topic(again, topic), where(sends(world, forum, mark))
    finally:
        await stop_app(app)


# --- a topic closed or deleted meanwhile -------------------------------------------------------


async def test_a_follow_up_whose_topic_was_deleted_goes_to_general_with_the_note(
    world: World,
) -> None:
    forum = await world.forum("Emergencies")
    topic = forum.topic("Emergencies")
    await world.do(world.alice.send(forum, "/units add 2-101"))
    await world.do(world.alice.send(forum, "/rollcall Gas smell in block 2", topic=topic))
    rollcall = await newest(world, "rollcalls")
    world.fake.delete_topic(forum, topic, by=world.alice)
    await world.settle()
    mark = world.fake.mark()
    await fire(world, "rollcall_reminder", rollcall["id"])
    reminded = said(world, forum, mark, "Gas smell in block 2")
    assert reminded and all(thread(c) is None for c in reminded), where(reminded)  # not lost
    assert MOVED in str(reminded[0].params["text"])
    mark = world.fake.mark()
    await world.do(world.alice.send(forum, f"/close A{rollcall['id']}"))
    summary = said(world, forum, mark, "Gas smell in block 2")
    assert summary and all(thread(c) is None for c in summary), where(summary)
    assert not any(MOVED in str(c.params["text"]) for c in summary)  # told once
