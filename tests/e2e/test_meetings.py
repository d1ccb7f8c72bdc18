"""General meetings of owners end to end: a lead opens a 3-item meeting with three different
rules in a 6-unit building, households answer item by item in the chat, the bot restarts in
the middle, a lead enters two paper ballots, the deadline passes while the bot is down and the
results per item are posted at the next start (checked against the domain's count), one CSV
export; and the hostile cases."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

from telegram import Message

from bot.domain.decisions import ABSTAIN, AGAINST, FOR, Ballot, Outcome, Rule, Unit, evaluate
from playground import FakeChat, FakeTelegram, FakeUser
from storage import chats, meetings, privacy, units
from storage.db import Database, to_db
from tests.e2e.conftest import World, start_app, stop_app
from tests.e2e.test_privacy import yes_no

#: 6 units: 1-01 .. 1-06 with 60, 70, ..., 110 m² (510 m² in all)
LABELS = [f"1-0{n}" for n in range(1, 7)]
AREAS = [60 + 10 * i for i in range(6)]
OPEN = (
    "/meeting Annual meeting 2026 | Repair the roof ; majority"
    " | Install an elevator ; cn-278-special | Paint the stairwell ; ru-oss | closes=in 14 days"
)


async def register(world: World) -> None:
    for label, area in zip(LABELS, AREAS, strict=True):
        replies = await world.do(world.alice.send(world.court, f"/units add {label} {area}"))
        assert label in replies.text(world.court)


async def claim(world: World, person: FakeUser, label: str, chat: FakeChat | None = None) -> None:
    """The resident claims the unit and a lead approves it (the approval's screens are tested
    with the households register)."""
    where = chat or world.court
    await world.do(person.send(where, f"/unit {label}"))
    unit = await units.get(world.services.db, where.id, label)
    assert unit is not None
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE unit_members SET status = 'approved', decided_by = ?"
            " WHERE unit_id = ? AND user_id = ?",
            (world.alice.id, unit.id, person.id),
        )


async def open_meeting(world: World, text: str = OPEN) -> tuple[meetings.Meeting, Message]:
    replies = await world.do(world.alice.send(world.court, text))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM meetings")
    assert row is not None and row["id"] is not None, replies.text(world.court)
    found = await meetings.get(world.services.db, row["id"])
    assert found is not None and found.message_id is not None
    card = world.fake.message(world.court, found.message_id)
    assert card is not None
    return found, card


def card_text(world: World, found: meetings.Meeting) -> str:
    assert found.message_id is not None
    message = world.fake.message(world.court, found.message_id)
    assert message is not None and message.text is not None
    return message.text


def expected_outcomes() -> list[Outcome]:
    """What the domain says the three items come to, from the answers the story gives."""
    area = dict(zip(LABELS, AREAS, strict=True))
    regs = [Unit(label, Fraction(area[label])) for label in LABELS]
    answers = {
        "1-01": {1: FOR, 2: FOR, 3: FOR},
        "1-02": {1: FOR, 2: AGAINST, 3: ABSTAIN},
        "1-03": {1: FOR, 2: FOR},
        "1-04": {2: FOR},
        "1-05": {1: FOR, 2: FOR, 3: AGAINST},
        "1-06": {2: FOR},
    }
    rules = {1: Rule("majority"), 2: Rule("cn-278-special"), 3: Rule("ru-oss")}
    return [
        evaluate(rules[n], regs, [Ballot(lb, a[n]) for lb, a in answers.items() if n in a])
        for n in (1, 2, 3)
    ]


async def test_annual_meeting_with_three_items_survives_a_restart(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    try:
        await world.with_bot()
        dora = fake.user("Dora", language_code="en")
        await world.do(fake.join(world.court, dora))
        await register(world)
        for person, label in zip(
            (world.bob, world.carol, world.wang, dora), LABELS[:4], strict=True
        ):
            await claim(world, person, label)

        found, card = await open_meeting(world)
        mid = found.id
        assert [i.rule for i in found.items] == ["majority", "cn-278-special", "ru-oss"]
        text = card_text(world, found)
        assert "Annual meeting 2026" in text and text.rstrip().endswith(f"#M{mid}")
        assert "1. Repair the roof" in text and "3. Paint the stairwell" in text
        assert "6 households, 510 m²" in text and "answered: 0 of 6" in text
        assert card.reply_markup is not None
        keyboard = card.reply_markup.inline_keyboard
        assert len(keyboard) == 4 and all(len(row) == 3 for row in keyboard[:3])
        data = [str(b.callback_data) for row in keyboard for b in row]
        assert all(len(d.encode()) <= 64 for d in data)
        assert f"mt:v:{mid}:2:a" in data and f"mt:c:{mid}" in data

        # households answer item by item; the answer shows the whole ballot
        replies = await world.do(world.bob.press(card, f"mt:v:{mid}:1:f"))
        assert replies.answer_text() == "1-01, item 1: for. Your ballot: 1 for · 2 — · 3 —"
        await world.do(world.bob.press(card, f"mt:v:{mid}:2:f"))
        await world.do(world.bob.press(card, f"mt:v:{mid}:3:f"))
        for code in ("1:f", "2:a", "3:x"):
            await world.do(world.carol.press(card, f"mt:v:{mid}:{code}"))
        replies = await world.do(world.wang.press(card, f"mt:v:{mid}:1:a"))
        assert "反对" in replies.answer_text()
        await world.do(world.wang.press(card, f"mt:v:{mid}:2:f"))
        replies = await world.do(world.wang.press(card, f"mt:v:{mid}:1:f"))  # the latest counts
        assert "1 赞成 · 2 赞成 · 3 —" in replies.answer_text()
        await world.services.outbox.idle()
        text = card_text(world, found)
        assert "answered: 3 of 6" in text
        assert "For 3 · Against 0 · Abstain 0 · Not voted 3" in text  # item 1
        assert "For 2 · Against 1 · Abstain 0 · Not voted 3" in text  # item 2

        # the bot restarts in the middle of the vote: the card still works
        await stop_app(app)
        app = await start_app(fake, db_path)
        world.app = app
        await world.settle()
        await world.do(dora.press(card, f"mt:v:{mid}:2:f"))
        # two paper ballots entered by a lead: localized words, items left out
        replies = await world.do(
            world.alice.send(world.court, f"/ballot M{mid} 1-05 1:for 2:за 3:против")
        )
        assert f"Paper ballot of 1-05 in M{mid}: 1 for · 2 for · 3 against" in replies.text(
            world.court
        )
        replies = await world.do(world.alice.send(world.court, f"/ballot m{mid} 1-06 2：赞成"))
        assert "1 — · 2 for · 3 —" in replies.text(world.court)
        await world.services.outbox.idle()
        text = card_text(world, found)
        assert "answered: 6 of 6" in text

        # the deadline passes while the bot is down; the next start closes and posts
        await stop_app(app)
        db = await Database.open(db_path)
        past = world.services.clock() - timedelta(seconds=30)
        async with db.write() as conn:
            await conn.execute("UPDATE meetings SET closes_at = ? WHERE id = ?", (to_db(past), mid))
            await conn.execute(
                "UPDATE scheduled SET run_at = ?1, due_at = ?1 WHERE kind = 'meeting_close'",
                (to_db(past),),
            )
        await db.close()
        mark = fake.mark()
        app = await start_app(fake, db_path)
        world.app = app
        posted = await fake.wait_for("sendMessage", since=mark, timeout=10, chat_id=world.court.id)
        await world.settle()
        result = posted.params["text"]
        roof, lift, paint = expected_outcomes()
        assert roof.approved and lift.approved and not paint.approved
        assert "Results of the general meeting" in result
        assert (
            "Participation 4/6 units (66.6 %), 310/510 m² (60.7 %);"
            " For 4/4 units (100 %), 310/310 m² (100 %) → <b>PASSED</b>"
        ) in result
        assert (
            "Participation 6/6 units (100 %), 510/510 m² (100 %);"
            " For 5/6 units (83.3 %), 440/510 m² (86.2 %) → <b>PASSED</b>"
        ) in result
        assert (
            "Participation 3/6 units (50 %), 230/510 m² (45 %);"
            " For 1/3 units (33.3 %), 60/230 m² (26 %) → <b>NOT PASSED</b>"
        ) in result
        assert "For 1 · Against 1 · Abstain 1 · Not voted 3" in result
        assert "Passed: 2 of 3 items." in result and "Closed at the deadline" in result
        closed = await meetings.get(world.services.db, mid)
        assert closed is not None and not closed.is_open and closed.announced_at is not None
        for item, expected in zip(closed.items, (roof, lift, paint), strict=True):
            assert item.totals == expected.totals
        await world.services.outbox.idle()
        assert "NOT PASSED" in card_text(world, found)
        message = fake.message(world.court, closed.message_id or 0)
        assert message is not None and message.reply_markup is None
        photos = [c for c in fake.calls_to("sendPhoto") if c.index >= mark]
        assert len(photos) == 1  # one compact chart for the three items

        # one export, privately, to a lead
        await world.do(world.alice.send(world.alice.private, "/start"))
        mark = fake.mark()
        replies = await world.do(world.alice.send(world.court, f"/export M{mid}"))
        assert "private chat" in replies.text(world.court)
        [doc] = [
            c for c in fake.calls_to("sendDocument", chat_id=world.alice.id) if c.index >= mark
        ]
        assert doc.params["document"] is not None
        content = doc.params["document"].decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(content)))
        assert rows[0] == [
            "Unit",
            "Area m²",
            "1. Repair the roof",
            "2. Install an elevator",
            "3. Paint the stairwell",
            "Recorded by",
            "Time (UTC)",
        ]
        by_unit = {r[0]: r for r in rows[1:7]}
        assert by_unit["1-01"][1:6] == ["60", "for", "for", "for", "Bob Baker"]
        assert by_unit["1-02"][2:5] == ["for", "against", "abstain"]
        assert by_unit["1-03"][2:6] == ["for", "for", "", "王芳"]
        assert by_unit["1-06"][1:6] == ["110", "", "for", "", "paper ballot by Alice"]
        totals = {r[0]: r[2:5] for r in rows[8:]}
        assert totals["Rule"][1] == "China’s Civil Code art. 278 — special matters"
        assert totals["👍 For"] == ["4 (310 m²)", "5 (440 m²)", "1 (60 m²)"]
        assert totals["Not voted"] == ["2", "0", "3"]
        assert totals["Result"] == ["PASSED", "PASSED", "NOT PASSED"]
    finally:
        await stop_app(app)


async def test_hostile_presses_and_ballots_are_refused(world: World) -> None:
    await world.with_bot()
    other = world.fake.group("Oak Court", admins=[world.alice], members=[world.bob])
    await world.do(world.fake.add_bot(other, by=world.alice))
    await register(world)

    # bad /meeting input, a non-lead, a secret meeting
    for text, expected in (
        ("/meeting", "Write the meeting's title"),
        ("/meeting AGM", "at least one item"),
        ("/meeting AGM | Roof | secret", "signed"),
        ("/meeting AGM | Roof | Lift ; plurality", "Item 2: I don't know the rule"),
        ("/meeting AGM | Roof | closes=yesterday 9:00", "in the past"),
    ):
        replies = await world.do(world.alice.send(world.court, text))
        assert expected in replies.text(world.court), text
    replies = await world.do(world.bob.send(world.court, "/meeting AGM | Roof"))
    assert "leads" in replies.text(world.court)
    assert await world.services.db.fetchone("SELECT id FROM meetings") is None

    await claim(world, world.bob, LABELS[0])
    housemate = world.fake.user("Erin", language_code="en")
    await world.do(world.fake.join(world.court, housemate))
    await claim(world, housemate, LABELS[0])  # the same household as Bob
    found, card = await open_meeting(world, "/meeting AGM | Roof | Lift ; two-thirds")
    mid = found.id

    # forged and stale button data, a press from another chat
    elsewhere = (await world.do(world.alice.send(other, "/help"))).sent(other)[-1].result
    for data, where in (
        (f"mt:v:{mid}:9:f", card),
        (f"mt:v:{mid}:1:z", card),
        (f"mt:v:{mid}:x:f", card),
        (f"mt:v:{mid}:1", card),
        ("mt:v:999999:1:f", card),
        ("mt:v:abc:1:f", card),
        (f"mt:v:{mid}:¹:f", card),
        (f"mt:v:{mid}:1:f", elsewhere),
    ):
        replies = await world.do(world.bob.press(where, data, check=False))
        assert "no longer works" in replies.answer_text(), data
    assert await meetings.answers(world.services.db, mid) == []

    # a person who is not in the group presses (anyone can press a public group's card)
    oak = world.fake.group(
        "Oak Court", admins=[world.alice], members=[world.bob], supergroup=True, username="oak"
    )
    await world.do(world.fake.add_bot(oak, by=world.alice))
    await world.do(world.alice.send(oak, "/units add 1-01 50"))
    await world.do(world.alice.send(oak, "/meeting AGM | Roof"))
    public = oak.bot_messages[-1]
    oak_id = int((public.text or "").rsplit("#M", 1)[1])
    stranger = world.fake.user("Mallory", language_code="en")
    replies = await world.do(stranger.press(public, f"mt:v:{oak_id}:1:f"))
    assert "Only members" in replies.answer_text()
    assert await meetings.answers(world.services.db, oak_id) == []
    # a member without a unit
    replies = await world.do(world.carol.press(card, f"mt:v:{mid}:1:f"))
    assert "/unit 3-502" in replies.answer_text()

    # two people of one household: one ballot, the latest answer counts
    await world.do(world.bob.press(card, f"mt:v:{mid}:1:f"))
    replies = await world.do(housemate.press(card, f"mt:v:{mid}:1:a"))
    assert "1-01, item 1: against" in replies.answer_text()
    stored = await meetings.answers(world.services.db, mid)
    assert [(a.label, a.item, a.choice) for a in stored] == [("1-01", 1, AGAINST)]
    await world.services.outbox.idle()
    assert "answered: 1 of 6" in card_text(world, found)

    # a non-lead's /ballot, and the leads' mistakes, each named
    replies = await world.do(world.bob.send(world.court, f"/ballot M{mid} 1-02 1:for"))
    assert "leads" in replies.text(world.court)
    for text, expected in (
        (f"/ballot M{mid}", "Write the meeting, the unit"),
        (f"/ballot M{mid} 1-02", "No answer was given"),
        (f"/ballot M{mid} 1-02 3:for", "There is no item 3: this meeting has items 1 to 2"),
        (f"/ballot M{mid} 1-02 1:maybe", "Item 1: “maybe” is not an answer"),
        (f"/ballot M{mid} 1-02 1:for 1:against", "Item 1 is answered twice"),
        (f"/ballot M{mid} 1-02 1:for please", "I don't understand “please”"),
        (f"/ballot M{mid} 9-99 1:for", "no unit 9-99"),
        ("/ballot M999 1-02 1:for", "There is no meeting M999"),
        ("/ballot D999 1-02 for", "no decision D999"),  # a decision's ballot stays a decision's
    ):
        replies = await world.do(world.alice.send(world.court, text))
        assert expected in replies.text(world.court), text
    ru = await world.do(world.alice.send(world.court, f"/ballot М{mid} 1-02 1:за"))  # Cyrillic М
    assert f"Paper ballot of 1-02 in M{mid}: 1 for · 2 —" in ru.text(world.court)

    # a second paper ballot for a household replaces the first, and says what it replaced
    replies = await world.do(world.alice.send(world.court, f"/ballot M{mid} 1-01 2:for"))
    said = replies.text(world.court)
    assert "1 — · 2 for" in said and "replaces the household's earlier ballot (1 against" in said
    assert "Erin" in said
    stored = await meetings.answers(world.services.db, mid)
    assert sorted((a.label, a.item, a.choice) for a in stored) == [
        ("1-01", 2, FOR),
        ("1-02", 1, FOR),
    ]

    # lead buttons: a resident is refused; the lead's close asks once, then closes
    for data in (f"mt:r:{mid}", f"mt:c:{mid}"):
        replies = await world.do(world.bob.press(card, data))
        assert replies.answers()[0]["show_alert"] and "leads" in replies.answer_text()
    replies = await world.do(world.bob.send(world.court, f"/close M{mid}"))
    assert "leads" in replies.text(world.court)
    replies = await world.do(world.alice.press(card, f"mt:c:{mid}"))
    assert "again within a minute" in replies.answer_text()
    replies = await world.do(world.alice.press(card, f"mt:c:{mid}"))
    result = replies.text(world.court)
    assert "Results of the general meeting" in result and "Closed early by Alice" in result
    closed = await meetings.get(world.services.db, mid)
    assert closed is not None and not closed.is_open and closed.closed_by == "Alice"

    # a closed meeting takes nothing more
    replies = await world.do(world.bob.press(card, f"mt:v:{mid}:1:f", check=False))
    assert f"Meeting M{mid} is closed" in replies.answer_text()
    replies = await world.do(world.alice.send(world.court, f"/ballot M{mid} 1-03 1:for"))
    assert f"Meeting M{mid} is closed" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, f"/close M{mid}"))
    assert "closed already" in replies.text(world.court)
    assert len(await meetings.answers(world.services.db, mid)) == 2

    # ids are never reused: after the newest meeting is gone (a purge), the next is M<n+1>
    async with world.services.db.write() as conn:
        await conn.execute("DELETE FROM meetings WHERE id IN (?, ?)", (mid, oak_id))
    again, _ = await open_meeting(world, "/meeting AGM 2 | Roof")
    assert again.id == max(mid, oak_id) + 1


async def test_a_meeting_of_one_part_in_a_forum_topic_the_digest_and_privacy(world: World) -> None:
    forum = await world.forum("Owners")
    owners = forum.topic("Owners")
    for line in ("1-01 60 | entrance 1", "2-01 70 | entrance 2", "2-02 80 | entrance 2"):
        await world.do(world.alice.send(forum, f"/units add {line}"))
    await claim(world, world.bob, "2-01", forum)
    await claim(world, world.carol, "1-01", forum)
    await world.do(
        world.alice.send(
            forum,
            "/meeting Entrance 2 | Elevator ; cn-278-special | Intercom | part=Entrance 2",
            topic=owners,
        )
    )
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM meetings")
    assert row is not None
    found = await meetings.get(world.services.db, row["id"])
    assert found is not None and found.thread_id == owners.id and found.part == "entrance 2"
    card = world.fake.message(forum, found.message_id or 0)
    assert card is not None and card.message_thread_id == owners.id
    assert "2 households, 150 m²" in (card.text or "") and "only entrance 2" in (card.text or "")
    assert [v.label for v in await meetings.electorate(world.services.db, found.id)] == [
        "2-01",
        "2-02",
    ]
    # a household of another part has no ballot here
    replies = await world.do(world.carol.press(card, f"mt:v:{found.id}:1:f"))
    assert "1-01" in replies.answer_text() and "Не входит в список квартир" in replies.answer_text()
    await world.do(world.bob.press(card, f"mt:v:{found.id}:1:f"))
    await world.do(world.bob.press(card, f"mt:v:{found.id}:2:a"))

    # the weekly digest lists the open meeting
    from handlers import digest
    from handlers import meetings as meetings_handlers

    assert meetings_handlers.meetings_digest in digest.SECTIONS
    chat = await chats.get(world.services.db, forum.id)
    assert chat is not None
    section = await meetings_handlers.meetings_digest(world.services, chat, world.services.clock())
    assert section is not None and "General meetings" in section
    assert f"M{found.id} Entrance 2: 1 of 2 households have answered" in section

    # closed from General, the results go to the meeting's topic
    mark = world.fake.mark()
    await world.do(world.alice.send(forum, f"/close M{found.id}"))
    posted = [
        c
        for c in world.fake.calls[mark:]
        if c.method == "sendMessage" and c.ok and "Results" in str(c.params.get("text"))
    ]
    assert len(posted) == 1 and posted[0].params.get("message_thread_id") == owners.id

    # /mydata lists Bob's answers; /forgetme keeps them counted without him
    data = await privacy.collect(world.services.db, world.bob.id)
    assert {(a["unit"], a["item"], a["choice"]) for a in data["meeting_answers"]} == {
        ("2-01", 1, "for"),
        ("2-01", 2, "against"),
    }
    assert data["meeting_answers"][0]["item_title"] in ("Elevator", "Intercom")
    await world.do(world.bob.send(world.bob.private, "/start"))
    replies = await world.do(world.bob.send(world.bob.private, "/forgetme"))
    question = replies.sent(world.bob.private)[-1].result
    await world.do(world.bob.press(question, yes_no(question)[0]))
    assert await privacy.rows_about(world.services.db, world.bob.id) == {}
    kept = await meetings.answers(world.services.db, found.id)
    assert [(a.label, a.by_id, a.by_name) for a in kept] == [
        ("2-01", 0, "former resident"),
        ("2-01", 0, "former resident"),
    ]


async def test_results_never_posted_are_posted_at_the_next_start(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    try:
        await world.with_bot()
        await register(world)
        await claim(world, world.bob, "1-01")
        found, card = await open_meeting(world, "/meeting AGM | Roof | Lift ; two-thirds")
        await world.do(world.bob.press(card, f"mt:v:{found.id}:1:f"))
        await stop_app(app)
        # the close committed, then the process died before the results were posted
        from handlers.meetings import recount

        db = await Database.open(db_path)
        closed, _ = await meetings.close(
            db,
            found.id,
            lambda voters, answers: recount(found, voters, answers),
            closed_by="Alice",
            closed_by_id=world.alice.id,
            now=world.services.clock(),
        )
        await db.close()
        assert closed
        mark = fake.mark()
        app = await start_app(fake, db_path)
        world.app = app
        posted = await fake.wait_for("sendMessage", since=mark, timeout=10, chat_id=world.court.id)
        await world.settle()
        await asyncio.wait_for(world.services.state["cards"].done.wait(), timeout=10)
        text = posted.params["text"]
        assert "Results of the general meeting" in text and "Closed early by Alice" in text
        assert "For 1 · Against 0 · Abstain 0 · Not voted 5" in text
        again = await meetings.get(world.services.db, found.id)
        assert again is not None and again.announced_at is not None
        # a second start posts nothing more
        await stop_app(app)
        mark = fake.mark()
        app = await start_app(fake, db_path)
        world.app = app
        await asyncio.wait_for(world.services.state["cards"].done.wait(), timeout=10)
        await world.settle()
        await world.services.outbox.idle()
        assert not [
            c
            for c in fake.calls[mark:]
            if c.method == "sendMessage" and "Results" in str(c.params.get("text"))
        ]
    finally:
        await stop_app(app)


async def test_a_meeting_of_twelve_long_items_fits_its_card_and_posts_every_result(
    world: World,
) -> None:
    await world.with_bot()
    await register(world)
    await claim(world, world.bob, "1-01")
    items = " | ".join(f"Item {n:02d} <b>" + "x" * 185 + " ; cn-278" for n in range(1, 13))
    found, card = await open_meeting(world, f"/meeting Long & <meeting> | {items}")
    assert len(found.items) == 12
    text = card.text or ""
    assert "Long & <meeting>" in text and text.rstrip().endswith(f"#M{found.id}")
    assert card.reply_markup is not None and len(card.reply_markup.inline_keyboard) == 13
    await world.do(world.bob.press(card, f"mt:v:{found.id}:12:f"))
    mark = world.fake.mark()
    await world.do(world.alice.send(world.court, f"/close M{found.id}"))
    posted = [
        str(c.params["text"])
        for c in world.fake.calls[mark:]
        if c.method == "sendMessage" and c.ok and c.params.get("chat_id") == world.court.id
    ]
    results = [p for p in posted if f"#M{found.id}" in p]
    assert len(results) >= 2 and all(len(p) <= 4096 for p in results)
    joined = "\n".join(results)
    assert all(f"<b>{n}. Item {n:02d} &lt;b&gt;" in joined for n in range(1, 13))
    assert "Passed: 0 of 12 items." in joined and "Closed early by Alice" in joined
