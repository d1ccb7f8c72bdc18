"""Formal decisions end to end: an elevator decision in a 12-unit building (units registered,
claimed and approved, votes by button, paper ballots, a restart before the deadline, the outcome
checked figure by figure, the CSV export), and every kind of bad input and abuse."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest

from handlers.common import MENTION_NAME
from playground import FakeTelegram, FakeUser
from storage import decisions, units
from storage.db import Database, to_db
from tests.e2e.conftest import World, start_app, stop_app

#: 12 units: 2-101 .. 2-112 with 60, 65, ..., 115 m² (1 050 m² in all)
LABELS = [f"2-1{n:02d}" for n in range(1, 13)]
AREAS = [60 + 5 * i for i in range(12)]


async def register(world: World, count: int = 12) -> None:
    for label, area in zip(LABELS[:count], AREAS[:count], strict=True):
        replies = await world.do(world.alice.send(world.court, f"/units add {label} {area}"))
        assert label in replies.text(world.court)


async def claim(world: World, person: FakeUser, label: str) -> None:
    """The resident claims the unit and a lead approves the claim (the approval's own screens
    are tested with the households register)."""
    await world.do(person.send(world.court, f"/unit {label}"))
    unit = await units.get(world.services.db, world.court.id, label)
    assert unit is not None
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE unit_members SET status = 'approved', decided_by = ?"
            " WHERE unit_id = ? AND user_id = ?",
            (world.alice.id, unit.id, person.id),
        )
    found = await units.get_claim(world.services.db, world.court.id, unit.id, person.id)
    assert found is not None and found.status == units.APPROVED


async def open_decision(world: World, text: str) -> tuple[decisions.Decision, dict]:
    replies = await world.do(world.alice.send(world.court, text))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM decisions")
    assert row is not None and row["id"] is not None, replies.text(world.court)
    decision = await decisions.get(world.services.db, row["id"])
    assert decision is not None and decision.message_id is not None
    card = world.fake.message(world.court, decision.message_id)
    assert card is not None
    return decision, card


def card_text(world: World, decision: decisions.Decision) -> str:
    message = world.fake.message(world.court, decision.message_id)
    assert message is not None and message.text is not None
    return message.text


async def test_elevator_decision_in_a_12_unit_building_survives_a_restart(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    try:
        await world.with_bot()
        neighbours = [fake.user(f"Neighbour{i}", language_code="en") for i in range(5, 9)]
        for person in neighbours:
            await world.do(fake.join(world.court, person))
        await register(world)
        # Bob holds two units; the others one each; 2-109 .. 2-112 have no resident in the bot
        await claim(world, world.bob, LABELS[0])
        await claim(world, world.bob, LABELS[1])
        await claim(world, world.carol, LABELS[2])
        await claim(world, world.wang, LABELS[3])
        for person, label in zip(neighbours, LABELS[4:8], strict=True):
            await claim(world, person, label)

        decision, card = await open_decision(
            world,
            "/decide Install an elevator in entrance 2 | rule=cn-278-special | closes=in 14 days",
        )
        text = card_text(world, decision)
        assert "Install an elevator in entrance 2" in text
        assert "China’s Civil Code art. 278 — special matters (cn-278-special)" in text
        assert text.rstrip().endswith(f"#D{decision.id}")
        assert "0/12 units" in text and "0/1,050 m²" in text and "13 days" in text
        assert decision.closes_at - world.services.clock() > timedelta(days=13, hours=23)

        # Bob's press counts for both his units, and the answer says so
        replies = await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
        assert "2-101, 2-102" in replies.answer_text()
        await world.do(world.carol.press(card, f"dc:v:{decision.id}:f"))
        replies = await world.do(world.wang.press(card, f"dc:v:{decision.id}:a"))
        assert "反对" in replies.answer_text()
        await world.do(world.wang.press(card, f"dc:v:{decision.id}:f"))  # the latest counts
        for person, code in zip(neighbours, "ffxf", strict=True):
            await world.do(person.press(card, f"dc:v:{decision.id}:{code}"))
        # two paper ballots, recorded by the lead
        replies = await world.do(
            world.alice.send(world.court, f"/ballot D{decision.id} 2-109 for signed form")
        )
        assert "Paper ballot for 2-109" in replies.text(world.court)
        replies = await world.do(
            world.alice.send(world.court, f"/ballot {decision.id} 2-110 против")
        )
        assert "against" in replies.text(world.court)
        await world.services.outbox.idle()
        text = card_text(world, decision)
        assert "10/12 units" in text and "825/1,050 m²" in text
        assert "For 8 · Against 1 · Abstain 1 · Not voted 2" in text
        assert "2 paper ballots" in text
        assert "Already certain" not in text  # two late "against" would sink it

        audit = (await world.do(world.alice.send(world.court, f"/audit D{decision.id}"))).text(
            world.court
        )
        assert "2-104: against — 王芳" in audit and "2-104: for — 王芳" in audit
        assert "2-109: for — paper ballot by Alice — signed form" in audit

        await stop_app(app)  # the bot goes down mid-vote...
        db = await Database.open(db_path)  # ...and comes back after the deadline
        past = world.services.clock() - timedelta(seconds=30)
        async with db.write() as conn:
            await conn.execute(
                "UPDATE decisions SET closes_at = ? WHERE id = ?", (to_db(past), decision.id)
            )
            await conn.execute(
                "UPDATE scheduled SET run_at = ?1, due_at = ?1 WHERE kind = 'decision_close'",
                (to_db(past),),
            )
        await db.close()
        mark = fake.mark()
        app = await start_app(fake, db_path)
        world.app = app
        posted = await fake.wait_for("sendMessage", since=mark, timeout=10, chat_id=world.court.id)
        await world.settle()
        result = posted.params["text"]
        assert (
            "Participation 10/12 units (83.3 %), 825/1,050 m² (78.5 %);"
            " For 8/10 units (80 %), 630/825 m² (76.3 %) → <b>PASSED</b> under"
            " China’s Civil Code art. 278 — special matters"
        ) in result
        assert "✅ Quorum, area: 825/1,050 m² (78.5 %) — needs at least 2/3" in result
        assert "✅ For, units: 8/10 units (80 %) — needs at least 3/4" in result
        assert "advisory" in result and result.rstrip().endswith(f"#D{decision.id}")
        closed = await decisions.get(world.services.db, decision.id)
        assert closed is not None and not closed.is_open and closed.closed_by is None
        await world.services.outbox.idle()
        assert "PASSED" in card_text(world, decision)
        assert world.fake.message(world.court, decision.message_id).reply_markup is None

        # a press on the old card after closing is refused
        replies = await world.do(world.carol.press(card, f"dc:v:{decision.id}:a", check=False))
        assert "закрыт" in replies.answer_text()

        # export: only to a lead, privately, as CSV
        replies = await world.do(world.bob.send(world.court, f"/export D{decision.id}"))
        assert "leads" in replies.text(world.court)
        await world.do(world.alice.send(world.alice.private, "/start"))
        mark = fake.mark()
        replies = await world.do(world.alice.send(world.court, f"/export D{decision.id}"))
        assert "private chat" in replies.text(world.court)
        [doc] = [
            c for c in fake.calls_to("sendDocument", chat_id=world.alice.id) if c.index >= mark
        ]
        content = doc.params["document"].decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(content)))
        assert rows[0] == ["Unit", "Area m²", "Choice", "Recorded by", "Time (UTC)"]
        by_unit = {r[0]: r for r in rows[1:]}
        assert len(by_unit) == 12
        assert by_unit["2-101"][1:4] == ["60", "for", "Bob Baker"]
        assert by_unit["2-104"][2] == "for"
        assert by_unit["2-107"][2] == "abstain"
        assert by_unit["2-110"][1:4] == ["105", "against", "paper ballot by Alice"]
        assert by_unit["2-112"][1:] == ["115", "", "", ""]
        assert len(by_unit["2-101"][4]) == len("2026-11-21 12:00")
    finally:
        await stop_app(app)


async def test_bad_input_and_abuse_are_answered(world: World) -> None:
    await world.with_bot()
    other = world.fake.group("Oak Court", admins=[world.alice], members=[world.bob])
    await world.do(world.fake.add_bot(other, by=world.alice))
    await register(world, 4)
    await claim(world, world.bob, LABELS[0])

    # syntax, unknown options and rules, a past or recurring deadline, a non-lead
    for text, expected in (
        ("/decide", "Write the question"),
        ("/decide Paint | colour=blue", "don't understand"),
        ("/decide Paint | rule=plurality", "I don't know the rule"),
        ("/decide Paint | closes=yesterday 9:00", "in the past"),
        ("/decide Paint | closes=every monday 9:00", "closes once"),
        ("/decide Paint | majority quorum=0", "is not a quorum"),
    ):
        replies = await world.do(world.alice.send(world.court, text))
        assert expected in replies.text(world.court), text
    replies = await world.do(world.bob.send(world.court, "/decide Paint the hall"))
    assert "organizers" in replies.text(world.court)
    await world.do(world.alice.send(world.court, "/units add 2-199"))  # no area
    replies = await world.do(world.alice.send(world.court, "/decide Lift | rule=ru-oss"))
    assert "no area is known for: 2-199" in replies.text(world.court)
    assert await world.services.db.fetchone("SELECT id FROM decisions") is None
    await world.do(world.alice.send(world.court, "/units remove 2-199"))

    decision, card = await open_decision(world, "/decide Paint the hall | two-thirds")
    assert decision.rule == "two-thirds"
    # forged and stale button data, a press from another chat
    elsewhere = (await world.do(world.alice.send(other, "/help"))).sent(other)[-1].result
    for data, where in (
        (f"dc:v:{decision.id}:z", card),
        ("dc:v:999999:f", card),
        (f"dc:v:{decision.id}", card),
        ("dc:v:abc:f", card),
        (f"dc:x:{decision.id}", card),
        (f"dc:v:{decision.id}:f", elsewhere),
    ):
        replies = await world.do(world.bob.press(where, data, check=False))
        assert "no longer works" in replies.answer_text(), data
    assert await decisions.ballots(world.services.db, decision.id) == []
    # a resident without a unit, and one whose claim waits for approval
    replies = await world.do(world.carol.press(card, f"dc:v:{decision.id}:f"))
    assert "/unit 3-502" in replies.answer_text()
    await world.do(world.wang.send(world.court, "/unit 2-103"))
    replies = await world.do(world.wang.press(card, f"dc:v:{decision.id}:f"))
    assert "审核" in replies.answer_text()
    # a non-lead presses the lead buttons
    for data in (f"dc:r:{decision.id}", f"dc:c:{decision.id}"):
        replies = await world.do(world.bob.press(card, data))
        assert replies.answers()[0]["show_alert"] and "leads" in replies.answer_text()
    replies = await world.do(world.bob.send(world.court, f"/ballot D{decision.id} 2-101 for"))
    assert "leads" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, f"/close D{decision.id}"))
    assert "leads" in replies.text(world.court)
    # /ballot mistakes
    for text, expected in (
        (f"/ballot D{decision.id} 2-101", "Write the decision, the unit"),
        (f"/ballot D{decision.id} 2-101 maybe", "is not a choice"),
        (f"/ballot D{decision.id} 9-999 for", "no unit 9-999"),
        ("/ballot D999 2-101 for", "no decision D999"),
        ("/ballot P1 2-101 for", "Write the decision, the unit"),
    ):
        replies = await world.do(world.alice.send(world.court, text))
        assert expected in replies.text(world.court), text

    # Bob votes; the remind button mentions only residents of units that have not voted
    await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    replies = await world.do(world.alice.press(card, f"dc:r:{decision.id}"))
    assert "has voted" in replies.answer_text()  # nobody to remind yet
    await claim(world, world.carol, LABELS[2])
    replies = await world.do(world.alice.press(card, f"dc:r:{decision.id}"))
    assert "Residents reminded: 1" in replies.answer_text()
    reminder = replies.text(world.court)
    assert f"tg://user?id={world.carol.id}" in reminder and f"id={world.bob.id}" not in reminder
    replies = await world.do(world.alice.press(card, f"dc:r:{decision.id}"))
    assert "wait" in replies.answer_text()  # no spamming

    # a unit removed mid-vote: its ballot no longer counts, and the card says so
    await world.do(world.alice.send(world.court, "/units remove 2-101"))
    await world.services.outbox.idle()  # the card follows the register at once, no press needed
    removed = "➖ 2-101 removed by a lead on "
    text = card_text(world, decision)
    assert removed in text and ": its ballot no longer counts" in text
    assert "🏠 3 households, 210 m²" in text
    await world.do(world.carol.press(card, f"dc:v:{decision.id}:a"))
    await world.services.outbox.idle()
    text = card_text(world, decision)
    assert removed in text and ": its ballot no longer counts" in text
    assert "For 0 · Against 1 · Abstain 0 · Not voted 2" in text

    # early close needs a second press; then the decision is closed for good
    replies = await world.do(world.alice.press(card, f"dc:c:{decision.id}"))
    assert "again" in replies.answer_text()
    assert (await decisions.get(world.services.db, decision.id)).is_open
    replies = await world.do(world.alice.press(card, f"dc:c:{decision.id}"))
    result = replies.text(world.court)
    assert "NOT PASSED" in result and "Closed early by Alice" in result
    assert "Not enough units voted for." in result
    row = await world.services.db.fetchone(
        "SELECT status FROM scheduled WHERE kind = 'decision_close' AND ref_id = ?",
        (decision.id,),
    )
    assert row["status"] == "cancelled"
    replies = await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    assert "already closed" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, f"/ballot D{decision.id} 2-102 for"))
    assert "is closed" in replies.text(world.court)
    replies = await world.do(world.alice.press(card, f"dc:r:{decision.id}", check=False))
    assert "is closed" in replies.answer_text()


async def test_secret_decision_never_shows_who_chose_what(world: World) -> None:
    await world.with_bot()
    await register(world, 3)
    await claim(world, world.bob, LABELS[0])
    await claim(world, world.carol, LABELS[1])
    decision, card = await open_decision(
        world, "/decide New intercom | rule=majority | closes=in 2 days | secret"
    )
    assert decision.secret
    await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    await world.do(world.carol.press(card, f"dc:v:{decision.id}:a"))
    await world.do(world.alice.send(world.court, f"/ballot D{decision.id} 2-103 for"))
    await world.services.outbox.idle()
    text = card_text(world, decision)
    assert "3/3 units" in text and "counted only at closing" in text
    assert "Against" not in text and "Already certain" not in text
    # the reply to the lead's /ballot never names the choice; the bot is no admin here, so it
    # could not delete the /ballot message and says so
    [said] = [
        c.params["text"]
        for c in world.fake.calls_to("sendMessage", chat_id=world.court.id)
        if "Paper ballot" in c.params.get("text", "")
    ]
    assert "choice is not shown" in said and "could not delete" in said
    audit = (await world.do(world.alice.send(world.court, f"/audit D{decision.id}"))).text(
        world.court
    )
    assert "2-101 — Bob Baker" in audit and "2-102 — Кэрол" in audit
    assert ": for" not in audit and ": against" not in audit
    rows = await world.services.db.fetchall(
        "SELECT choice FROM decision_audit WHERE decision_id = ?", (decision.id,)
    )
    assert [r["choice"] for r in rows] == [None, None, None]

    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.alice.send(world.court, f"/export D{decision.id}"))
    [doc] = world.fake.calls_to("sendDocument", chat_id=world.alice.id)
    header = doc.params["document"].decode("utf-8-sig").splitlines()[0]
    assert header == "Unit,Area m²,Recorded by,Time (UTC)"

    await world.do(world.alice.send(world.court, f"/close D{decision.id}"))  # asks nothing
    closed = await decisions.get(world.services.db, decision.id)
    assert closed is not None and not closed.is_open
    choices = await world.services.db.fetchall(
        "SELECT choice FROM decision_ballots WHERE decision_id = ?", (decision.id,)
    )
    assert [r["choice"] for r in choices] == [None, None, None]  # discarded at closing
    assert closed.final is not None and closed.final.totals is not None
    assert (closed.final.totals.for_units, closed.final.totals.against_units) == (2, 1)
    await world.services.outbox.idle()
    text = card_text(world, decision)
    assert "For 2/3 units (66.6 %)" in text and "PASSED" in text


async def test_certain_result_is_announced_on_the_card(world: World) -> None:
    await world.with_bot()
    await register(world, 3)
    await claim(world, world.bob, LABELS[0])
    await claim(world, world.carol, LABELS[1])
    decision, card = await open_decision(world, "/decide Bike shed | rule=majority")
    await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    await world.services.outbox.idle()
    assert "Already certain" not in card_text(world, decision)
    await world.do(world.carol.press(card, f"dc:v:{decision.id}:f"))
    await world.services.outbox.idle()
    text = card_text(world, decision)
    assert "Already certain: it passes" in text and "stays open" in text
    # adding units mid-vote could still turn it (2 for of 5), so the claim says what it assumes
    assert "no lead changes this decision's households" in text
    assert (await decisions.get(world.services.db, decision.id)).is_open
    await asyncio.sleep(0)


async def test_a_ballot_cast_while_closing_is_in_the_final_count(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lead closes a secret decision just as Carol presses: her ballot commits after the
    closing handler read the ballots but before its write. It must be in the totals, not
    counted out and then discarded with the other choices."""
    await world.with_bot()
    await register(world, 2)
    await claim(world, world.bob, LABELS[0])
    await claim(world, world.carol, LABELS[1])
    decision, card = await open_decision(world, "/decide Intercom | rule=majority | secret")
    await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    carol_unit = await units.get(world.services.db, world.court.id, LABELS[1])
    assert carol_unit is not None
    real_close = decisions.close

    async def close_after_a_late_press(db: Database, decision_id: int, *args, **kwargs):
        assert await decisions.cast(
            db,
            decision_id,
            [(carol_unit.id, carol_unit.label)],
            "against",
            by_id=world.carol.id,
            by_name="Carol",
            now=world.services.clock(),
        )
        return await real_close(db, decision_id, *args, **kwargs)

    monkeypatch.setattr(decisions, "close", close_after_a_late_press)
    replies = await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    assert "For 1/2 units (50 %)" in replies.text(world.court)
    closed = await decisions.get(world.services.db, decision.id)
    assert closed is not None and closed.final is not None and closed.final.totals is not None
    totals = closed.final.totals
    assert (totals.for_units, totals.against_units, totals.abstain_units) == (1, 1, 0)
    assert [b.choice for b in await decisions.ballots(world.services.db, decision.id)] == [
        None,
        None,
    ]


async def test_csv_export_cells_cannot_run_as_formulas(world: World) -> None:
    """A resident named "=HYPERLINK(...)" and a unit labelled "+1-A" reach the export as text."""
    await world.with_bot()
    mallory = world.fake.user('=HYPERLINK("http://evil.example","x")', language_code="en")
    await world.do(world.fake.join(world.court, mallory))
    replies = await world.do(world.alice.send(world.court, "/units add +1-A 50"))
    label = (await units.register(world.services.db, world.court.id))[0].unit.label
    assert label.startswith("+"), replies.text(world.court)
    await claim(world, mallory, label)
    decision, card = await open_decision(world, "/decide Paint | rule=majority")
    await world.do(mallory.press(card, f"dc:v:{decision.id}:f"))
    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.alice.send(world.court, f"/export D{decision.id}"))
    [doc] = world.fake.calls_to("sendDocument", chat_id=world.alice.id)
    rows = list(csv.reader(io.StringIO(doc.params["document"].decode("utf-8-sig"))))
    assert rows[1][0] == "'" + label
    assert rows[1][3] == '\'=HYPERLINK("http://evil.example","x")'
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


async def test_secret_paper_ballot_message_is_deleted_even_when_refused(world: World) -> None:
    """A lead mistypes the unit of a secret paper ballot: the refusal must not leave
    "/ballot D1 9-999 for" readable in the group."""
    await world.with_bot()
    await world.fake.promote_bot(world.court, by=world.alice)
    await register(world, 2)
    decision, _ = await open_decision(world, "/decide Intercom | rule=majority | secret")
    for text, expected in (
        (f"/ballot D{decision.id} 9-999 for", "no unit 9-999"),
        (f"/ballot D{decision.id} 2-101 maybe", "is not a choice"),
        (f"/ballot D{decision.id} 2-101 for", "choice is not shown"),
    ):
        mark = world.fake.mark()
        said = await world.alice.send(world.court, text)
        await world.settle()
        answer = " ".join(
            c.params.get("text", "") for c in world.fake.calls[mark:] if c.method == "sendMessage"
        )
        assert expected in answer, text
        assert world.fake.message(world.court, said.message_id) is None, text


async def test_forged_digits_and_a_rejected_claim_are_answered(world: World) -> None:
    await world.with_bot()
    await register(world, 2)
    decision, card = await open_decision(world, "/decide Paint | rule=majority")
    # "²" passes str.isdigit() but int() refuses it: answered, not a crash
    replies = await world.do(world.bob.press(card, "dc:v:²:f", check=False))
    assert "no longer works" in replies.answer_text()
    # a rejected claim is not "waiting for approval"
    replies = await world.do(world.bob.send(world.court, f"/unit {LABELS[0]}"))
    claim_card = replies.sent(world.court)[-1].result
    unit = await units.get(world.services.db, world.court.id, LABELS[0])
    assert unit is not None
    await world.do(world.alice.press(claim_card, f"un:r:{unit.id}:{world.bob.id}"))
    found = await units.get_claim(world.services.db, world.court.id, unit.id, world.bob.id)
    assert found is not None and found.status == units.REJECTED
    replies = await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    assert "/unit 3-502" in replies.answer_text()


async def test_reminder_mentions_shorten_long_names(world: World) -> None:
    """Telegram names run to 129 characters; 50 such mentions would pass 4,096 characters."""
    await world.with_bot()
    await register(world, 1)
    long_one = world.fake.user("W" * 64, "X" * 64, language_code="en")
    await world.do(world.fake.join(world.court, long_one))
    await claim(world, long_one, LABELS[0])
    decision, card = await open_decision(world, "/decide Paint | rule=majority")
    replies = await world.do(world.alice.press(card, f"dc:r:{decision.id}"))
    reminder = replies.text(world.court)
    assert f"tg://user?id={long_one.id}" in reminder
    assert "W" * (MENTION_NAME - 1) + "…" in reminder and "X" not in reminder
