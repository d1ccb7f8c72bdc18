"""Proposals end to end: the courtyard lights, from a resident's proposal through support, a
hearing with statements, minutes, a vote that passes, progress and the review that closes it —
then bad input, forged buttons, people without a household, and a restart in the middle."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from pathlib import Path

from playground import FakeTelegram, FakeUser
from storage import decisions, units
from storage import proposals as store
from storage.db import Database, to_db
from tests.e2e.conftest import World, start_app, stop_app

LABELS = [f"1-{n:02d}" for n in range(1, 11)]  # ten households: the default 1/5 needs two


async def register(world: World) -> None:
    for label in LABELS:
        await world.do(world.alice.send(world.court, f"/units add {label} 70"))
    assert await units.count(world.services.db, world.court.id) == len(LABELS)


async def claim(world: World, person: FakeUser, label: str) -> None:
    """The resident claims the unit; the approval itself is tested with the register."""
    await world.do(person.send(world.court, f"/unit {label}"))
    unit = await units.get(world.services.db, world.court.id, label)
    assert unit is not None
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE unit_members SET status = 'approved', decided_by = ?"
            " WHERE unit_id = ? AND user_id = ?",
            (world.alice.id, unit.id, person.id),
        )


async def households(world: World) -> list[FakeUser]:
    """Bob 1-01, Кэрол 1-02, 王芳 1-03 and two neighbours 1-04, 1-05, all approved."""
    await world.with_bot()
    await register(world)
    neighbours = [world.fake.user(f"Neighbour{i}", language_code="en") for i in (4, 5)]
    for person in neighbours:
        await world.do(world.fake.join(world.court, person))
    people = [world.bob, world.carol, world.wang, *neighbours]
    for person, label in zip(people, LABELS, strict=False):
        await claim(world, person, label)
    return people


async def latest(world: World) -> store.Proposal:
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM proposals")
    assert row is not None and row["id"] is not None
    found = await store.get(world.services.db, row["id"])
    assert found is not None
    return found


async def current(world: World, proposal_id: int) -> store.Proposal:
    found = await store.get(world.services.db, proposal_id)
    assert found is not None
    return found


def card_of(world: World, p: store.Proposal):
    assert p.message_id is not None
    message = world.fake.message(world.court, p.message_id)
    assert message is not None
    return message


def card_text(world: World, p: store.Proposal) -> str:
    text = card_of(world, p).text
    assert text is not None
    return text


async def fire(world: World, kind: str, ref_id: int) -> str:
    """Bring the feature's scheduled row due now and fire it, as the scheduler would."""
    db = world.services.db
    row = await db.fetchone(
        "SELECT id FROM scheduled WHERE kind = ? AND ref_id = ? AND status = 'pending'",
        (kind, ref_id),
    )
    assert row is not None, f"no pending {kind} row for {ref_id}"
    past = to_db(world.services.clock() - timedelta(seconds=1))
    async with db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ?1, due_at = ?1 WHERE id = ?2", (past, row["id"])
        )
    mark = world.fake.mark()
    result = await world.services.scheduler.fire(row["id"])
    await world.services.outbox.idle()
    await world.settle()
    assert world.fake.calls[mark:] is not None
    return result


async def test_the_courtyard_lights_from_proposal_to_review(world: World) -> None:
    bob, carol, wang, n4, n5 = await households(world)

    # a resident proposes
    replies = await world.do(
        bob.send(
            world.court,
            "/propose Fix the courtyard lights | Two lamps by the bins have been dark since"
            " October; people trip there in the evening.",
        )
    )
    p = await latest(world)
    text = card_text(world, p)
    assert "Fix the courtyard lights" in text and "collecting support" in text
    assert "Support: 0 of 2 households needed (threshold 1/5 of 10 registered)" in text
    assert text.rstrip().endswith(f"#T{p.id}")
    assert replies.sent(world.court)

    # households support it; one withdraws and supports again; nobody's name appears
    answer = (await world.do(bob.press(card_of(world, p), f"tp:s:{p.id}"))).answer_text()
    assert "1-01" in answer
    answer = (await world.do(bob.press(card_of(world, p), f"tp:s:{p.id}"))).answer_text()
    assert "withdrawn" in answer
    await world.do(bob.press(card_of(world, p), f"tp:s:{p.id}"))
    assert "Support: 1 of 2" in card_text(world, p)
    await world.do(carol.send(carol.private, "/start"))
    await world.do(carol.press(card_of(world, p), f"tp:f:{p.id}"))  # Кэрол follows it
    replies = await world.do(carol.press(card_of(world, p), f"tp:s:{p.id}"))
    assert "В повестке" not in replies.answer_text()  # the press is answered in her language…
    p = await current(world, p.id)
    assert p.stage == "agenda" and p.how == "support"
    assert "has the support it needed and is on the agenda" in replies.text(world.court)
    text = card_text(world, p)
    assert "on the agenda" in text and "Bob" not in text and "Кэрол" not in text

    # a lead schedules the hearing: a real event with sign-up
    replies = await world.do(
        world.alice.send(world.court, f"/hearing T{p.id} | in 3 days 18:00 | Courtyard")
    )
    p = await current(world, p.id)
    assert p.stage == "hearing" and p.hearing_id is not None
    said = replies.text(world.court)
    assert "Hearing: Fix the courtyard lights" in said and f"#E{p.hearing_id}" in said
    event_card = [c for c in replies.sent(world.court) if f"#E{p.hearing_id}" in c.params["text"]]
    assert event_card and event_card[0].params.get("reply_markup")
    event_message = world.fake.message(world.court, event_card[0].result["message_id"])
    await world.do(bob.press(event_message, f"ev:g:{p.hearing_id}"))
    await world.do(wang.press(event_message, f"ev:g:{p.hearing_id}"))

    # residents add statements: by /say and by replying to the card
    replies = await world.do(bob.send(world.court, f"/say T{p.id} LED lamps with motion sensors"))
    first = replies.sent(world.court)[0]
    assert "LED lamps with motion sensors" in first.params["text"]
    statement1 = world.fake.message(world.court, first.result["message_id"])
    replies = await world.do(
        n4.send(world.court, "Ask the city to pay for it", reply_to=card_of(world, p))
    )
    second = replies.sent(world.court)[0]
    statement2 = world.fake.message(world.court, second.result["message_id"])
    s1 = int(first.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1])
    s2 = int(second.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1])
    for person in (bob, carol, wang, n4):
        await world.do(person.press(statement1, f"ts:{s1}:a"))
    await world.do(n5.press(statement1, f"ts:{s1}:p"))
    for person, code in zip((bob, carol, wang, n4), "adda", strict=True):
        await world.do(person.press(statement2, f"ts:{s2}:{code}"))
    await world.services.outbox.idle()
    text = card_text(world, p)
    assert "Most households agree:" in text and "“LED lamps with motion sensors” — 4 of 5" in text
    assert "divided on:" in text and "“Ask the city to pay for it” — 2 agree, 2 disagree" in text

    # the lead records minutes: attendance from the event, the statements linked
    replies = await world.do(
        world.alice.send(
            world.court,
            f"/minutes T{p.id} | 14 residents came.\nAgreed: LED lamps with motion sensors.",
        )
    )
    minutes = replies.text(world.court)
    assert "Minutes — Hearing: Fix the courtyard lights" in minutes
    assert "Signed up: 2 people" in minutes and "LED lamps with motion sensors" in minutes

    # to a vote (the group's default rule); it passes
    replies = await world.do(world.alice.press(card_of(world, p), f"tp:v:{p.id}"))
    p = await current(world, p.id)
    assert p.stage == "vote" and p.decision_id is not None
    decision = await decisions.get(world.services.db, p.decision_id)
    assert decision is not None and decision.rule == "majority"
    assert decision.title == "Fix the courtyard lights"
    vote_card = world.fake.message(world.court, decision.message_id)
    for person in (bob, carol, wang, n4):
        await world.do(person.press(vote_card, f"dc:v:{decision.id}:f"))
    await world.do(n5.press(vote_card, f"dc:v:{decision.id}:a"))
    replies = await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    p = await current(world, p.id)
    assert p.stage == "decided" and p.review_at is not None
    said = replies.text(world.court)
    assert "is decided" in said and "PASSED" in said
    assert p.review_at - world.services.clock() > timedelta(days=88)
    private = [c for c in replies.sent(carol.id)]
    assert private and "решение принято" in private[0].params["text"]  # her language

    # progress: who carries it out, and updates (followers told privately)
    await world.do(world.alice.send(world.court, f"/progress T{p.id} assign Building office"))
    replies = await world.do(world.alice.send(world.court, f"/progress T{p.id} 40% lamps ordered"))
    assert "1 follower told privately" in replies.text(world.court)
    assert "40%" in replies.text(carol.id)
    p = await current(world, p.id)
    assert p.stage == "progress"
    text = card_text(world, p)
    assert "Carried out by: Building office" in text and "40% — lamps ordered" in text

    # the review opens at its date (a scheduled row), households answer, and it closes
    await fire(world, store.REVIEW_OPEN, p.id)
    p = await current(world, p.id)
    assert p.stage == "review"
    card = card_of(world, p)
    await world.do(bob.press(card, f"tp:r:{p.id}:w"))
    await world.do(carol.press(card, f"tp:r:{p.id}:w"))
    await world.do(wang.press(card, f"tp:r:{p.id}:p"))
    replies = await world.do(world.wang.send(world.court, f"/review T{p.id} 部分 还有一盏灯在闪"))
    assert "已为您家记录" in replies.text(world.court) or "Noted" in replies.text(world.court)
    await world.do(n4.press(card, f"tp:r:{p.id}:w"))
    await fire(world, store.REVIEW_CLOSE, p.id)
    p = await current(world, p.id)
    assert p.stage == "reviewed" and p.result is not None
    assert p.result == {"well": 3, "partly": 1, "not": 0, "households": 10}
    text = card_text(world, p)
    assert "Review: done well — 👍 3 · 🤏 1 · 👎 0 (4 of 10 households answered)" in text
    assert (
        card_of(world, p).reply_markup is None or not card_of(world, p).reply_markup.inline_keyboard
    )

    # the whole record, exported privately, names nobody
    await world.do(world.alice.send(world.alice.private, "/start"))
    replies = await world.do(world.alice.send(world.court, f"/export T{p.id}"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument"]
    assert int(doc.params["chat_id"]) == world.alice.id
    rows = list(csv.reader(io.StringIO(doc.params["document"].decode("utf-8-sig"))))
    assert rows[0] == ["What", "When", "Text", "Detail"]
    flat = " ".join(" ".join(r) for r in rows)
    assert "LED lamps with motion sensors" in flat and "agree 4, disagree 0, pass 1" in flat
    assert "14 residents came." in flat and "还有一盏灯在闪" in flat and "Building office" in flat
    assert "Bob" not in flat and "Кэрол" not in flat and "Alice" not in flat


async def test_bad_input_is_answered_and_changes_nothing(world: World) -> None:
    bob, carol, *_ = await households(world)
    stranger = world.fake.user("Stranger", language_code="en")
    alice = world.alice
    for who, text, expected in (
        (bob, "/propose", "Write it like this"),
        (bob, "/propose   |  no title", "Write it like this"),
        (bob, "/propose " + "x" * 200, "title is too long"),
        (alice, "/hearing T1 | sat 10:00", "no proposal T1"),
        (bob, "/say T99 hello", "no proposal T99"),
        (bob, "/say hello", "Write one line"),
        (alice, "/decline T1", "no proposal T1"),
        (alice, "/hearing", "Write it like this"),
        (alice, "/progress D1 10%", "Write it like this"),
    ):
        replies = await world.do(who.send(world.court, text))
        assert expected in replies.text(world.court), (text, replies.text(world.court))
    assert await world.services.db.fetchone("SELECT id FROM proposals") is None

    await world.do(bob.send(world.court, "/propose Paint the fence | It is peeling"))
    p = await latest(world)
    # residents may not run the leads' and organizers' commands
    for text in (
        f"/agenda T{p.id}",
        f"/decline T{p.id} no",
        f"/hearing T{p.id} | sat 10:00",
        f"/progress T{p.id} 10% x",
        f"/decide T{p.id}",
    ):
        replies = await world.do(carol.send(world.court, text))
        assert (await current(world, p.id)).stage == "collecting", text
        assert replies.sent(world.court), text
    # a statement before any meeting, a vote before the agenda, a past hearing
    replies = await world.do(bob.send(world.court, f"/say T{p.id} We should"))
    assert "no meeting open" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, f"/decide T{p.id}"))
    assert "Not at this stage" in replies.text(world.court)
    await world.do(world.alice.send(world.court, f"/agenda T{p.id}"))
    replies = await world.do(world.alice.send(world.court, f"/hearing T{p.id} | yesterday 10:00"))
    assert (await current(world, p.id)).stage == "agenda"
    assert await world.services.db.fetchone("SELECT id FROM events") is None
    assert replies.sent(world.court)

    # forged and stale buttons: another group's id, huge ids, a non-member, a lead-only button
    card = card_of(world, await current(world, p.id))
    for data in (
        "tp:s:999999",
        "tp:s:99999999999999999999",
        "tp:x:1",
        "tp:s:²",
        "ts:1:z",
        f"tp:r:{p.id}:w",
        "ts:999:a",
    ):
        replies = await world.do(bob.press(card, data, check=False))
        assert replies.answers(), data
    await world.do(world.fake.join(world.court, stranger))
    replies = await world.do(carol.press(card, f"tp:a:{p.id}", check=False))
    assert (
        "leads" in replies.answer_text().lower() or "администратор" in replies.answer_text().lower()
    )
    # someone without a household cannot support
    replies = await world.do(stranger.press(card, f"tp:s:{p.id}"))
    assert "registered households" in replies.answer_text()
    assert await store.support_count(world.services.db, p.id) == 0


async def test_expiry_declining_and_a_vote_that_fails(world: World) -> None:
    bob, carol, wang, n4, _ = await households(world)
    await world.do(bob.send(world.court, "/propose A rooftop garden | For everyone"))
    garden = await latest(world)
    await world.do(bob.press(card_of(world, garden), f"tp:s:{garden.id}"))
    await fire(world, store.EXPIRY, garden.id)
    garden = await current(world, garden.id)
    assert garden.stage == "expired"
    assert "Support" not in card_text(world, garden) or "expired" in card_text(world, garden)

    await world.do(carol.send(world.court, "/propose Ban barbecues | Smoke"))
    bbq = await latest(world)
    replies = await world.do(
        world.alice.send(world.court, f"/decline T{bbq.id} The house rules cover this already")
    )
    assert "The house rules cover this already" in replies.text(world.court)
    assert (await current(world, bbq.id)).stage == "declined"
    # a declined proposal takes no support
    replies = await world.do(bob.press(card_of(world, bbq), f"tp:s:{bbq.id}", check=False))
    assert "no longer collects support" in replies.answer_text()

    await world.do(wang.send(world.court, "/propose New bicycle racks | By the gate"))
    racks = await latest(world)
    await world.do(world.alice.send(world.court, f"/agenda T{racks.id}"))
    replies = await world.do(
        world.alice.send(world.court, f"/decide T{racks.id} | closes=in 2 days")
    )
    racks = await current(world, racks.id)
    assert racks.stage == "vote" and racks.decision_id is not None
    decision = await decisions.get(world.services.db, racks.decision_id)
    assert decision is not None
    vote_card = world.fake.message(world.court, decision.message_id)
    for person in (bob, carol, wang):
        await world.do(person.press(vote_card, f"dc:v:{decision.id}:a"))
    await world.do(n4.press(vote_card, f"dc:v:{decision.id}:f"))
    # closed by the decision's own schedule: the proposal hears of it at once, and its own
    # check at the deadline (kept for a hook lost in a crash) is cancelled
    await fire(world, decisions.KIND, decision.id)
    check = await world.services.db.fetchone(
        "SELECT status FROM scheduled WHERE kind = ? AND ref_id = ?", (store.VOTE_CHECK, racks.id)
    )
    assert check is not None and check["status"] == "cancelled"
    racks = await current(world, racks.id)
    assert racks.stage == "agenda" and racks.last_vote and "NOT PASSED" in racks.last_vote
    assert "did not pass" in card_text(world, racks)


async def test_a_restart_mid_hearing_keeps_everything(fake: FakeTelegram, tmp_path: Path) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    try:
        bob, carol, *_ = await households(world)
        await world.do(bob.send(world.court, "/propose Fix the lift | It stops between floors"))
        p = await latest(world)
        await world.do(world.alice.send(world.court, f"/agenda T{p.id}"))
        await world.do(world.alice.send(world.court, f"/hearing T{p.id} | in 2 days 19:00"))
        replies = await world.do(bob.send(world.court, f"/say T{p.id} Call the lift company"))
        statement = replies.sent(world.court)[0]
        sid = int(
            statement.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1]
        )
        await stop_app(app)
        app = await start_app(fake, db_path)
        world.app = app
        await world.settle()
        message = fake.message(world.court, statement.result["message_id"])
        await world.do(carol.press(message, f"ts:{sid}:a"))
        await world.do(bob.press(message, f"ts:{sid}:a"))
        await world.services.outbox.idle()
        p = await current(world, p.id)
        assert p.stage == "hearing"
        assert "“Call the lift company” — 2 of 2 agree" in card_text(world, p)
    finally:
        await stop_app(app)
    db = await Database.open(db_path)
    try:
        row = await db.fetchone("SELECT count(*) AS n FROM proposal_statement_votes")
        assert row is not None and row["n"] == 2
        # the household's answer is stored with its unit only: no person
        cols = [c["name"] for c in await db.fetchall("PRAGMA table_info(proposal_statement_votes)")]
        assert "user_id" not in cols
    finally:
        await db.close()


async def test_a_card_left_behind_by_a_crash_is_redrawn_at_start(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    try:
        bob, *_ = await households(world)
        await world.do(bob.send(world.court, "/propose Fix the lift | It stops between floors"))
        p = await latest(world)
        assert "Support: 0 of 2" in card_text(world, p)
    finally:
        await stop_app(app)
    # a support stored, and the process killed before the card's edit
    db = await Database.open(db_path)
    try:
        unit = await units.get(db, world.court.id, "1-01")
        assert unit is not None
        await store.toggle_support(db, p.id, [(unit.id, unit.label)], world.services.clock())
    finally:
        await db.close()
    app = await start_app(fake, db_path)
    world.app = app
    try:
        report = world.services.state["cards"]
        await asyncio.wait_for(report.done.wait(), timeout=10)
        await world.services.outbox.idle()
        assert "Support: 1 of 2" in card_text(world, p)
    finally:
        await stop_app(app)
