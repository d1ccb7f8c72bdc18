"""A decision's electorate is data: the units and areas it counts are fixed when it opens, only a
lead's change to the register reaches it (named on the card and in the outcome), and a decision
never closes without its result. The measured cases: a made-up unit typed by a resident during a
vote, a removed unit's ballot counted for the flat added after it, and a secret area vote whose
register gained a unit without area."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from bot.domain.decisions import parse_rule
from handlers.decisions import count_open, final_of
from playground import FakeUser
from storage import decisions, units
from storage.db import to_db
from tests.e2e.conftest import World


async def register(world: World, rows: list[tuple[str, int]]) -> None:
    for label, area in rows:
        replies = await world.do(world.alice.send(world.court, f"/units add {label} {area}"))
        assert label in replies.text(world.court)


async def holds(world: World, person: FakeUser, label: str) -> None:
    """``person`` holds ``label`` (an approved claim, as a lead's approval leaves it)."""
    unit = await units.get(world.services.db, world.court.id, label)
    assert unit is not None
    async with world.services.db.write() as conn:
        await conn.execute(
            "INSERT INTO unit_members (unit_id, chat_id, user_id, status, requested_at,"
            " decided_by) VALUES (?, ?, ?, 'approved', ?, ?)",
            (unit.id, world.court.id, person.id, to_db(world.services.clock()), world.alice.id),
        )


async def open_decision(world: World, text: str) -> decisions.Decision:
    replies = await world.do(world.alice.send(world.court, text))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM decisions")
    assert row is not None and row["id"] is not None, replies.text(world.court)
    decision = await decisions.get(world.services.db, row["id"])
    assert decision is not None and decision.message_id is not None
    return decision


def card(world: World, decision: decisions.Decision) -> dict:
    message = world.fake.message(world.court, decision.message_id)
    assert message is not None
    return message


def card_text(world: World, decision: decisions.Decision) -> str:
    text = card(world, decision).text
    assert text is not None
    return text


async def vote(world: World, person: FakeUser, decision: decisions.Decision, code: str) -> str:
    replies = await world.do(person.press(card(world, decision), f"dc:v:{decision.id}:{code}"))
    return replies.answer_text()


async def deadline(world: World, decision: decisions.Decision) -> int:
    """The decision's deadline passes now: the id of its closing row, due."""
    past = world.services.clock() - timedelta(seconds=1)
    async with world.services.db.write() as conn:
        await conn.execute(
            "UPDATE decisions SET closes_at = ? WHERE id = ?", (to_db(past), decision.id)
        )
        await conn.execute(
            "UPDATE scheduled SET run_at = ?1, due_at = ?1"
            " WHERE kind = 'decision_close' AND ref_id = ?2 AND status = 'pending'",
            (to_db(past), decision.id),
        )
    row = await world.services.db.fetchone(
        "SELECT id FROM scheduled WHERE kind = 'decision_close' AND ref_id = ?"
        " AND status = 'pending'",
        (decision.id,),
    )
    assert row is not None
    return int(row["id"])


async def close_at_deadline(world: World, decision: decisions.Decision) -> str:
    """Fire the deadline's close; what the bot posted in the group."""
    row_id = await deadline(world, decision)
    mark = world.fake.mark()
    await world.services.scheduler.fire(row_id)
    await world.settle()
    await world.services.outbox.idle()
    posted = [
        c.params["text"]
        for c in world.fake.calls[mark:]
        if c.method == "sendMessage" and c.params.get("chat_id") == world.court.id
    ]
    return "\n".join(posted)


async def stray_unit(world: World, label: str) -> None:
    """A unit that reached the register without a lead (the old `/unit 99-01` path)."""
    async with world.services.db.write() as conn:
        await conn.execute(
            "INSERT INTO units (chat_id, label, created_at) VALUES (?, ?, ?)",
            (world.court.id, label, to_db(world.services.clock())),
        )


async def test_a_made_up_unit_cannot_void_a_certain_cn_278_decision(world: World) -> None:
    await world.with_bot()
    await register(world, [("1-01", 60), ("1-02", 70), ("1-03", 80)])
    people = ((world.bob, "1-01"), (world.carol, "1-02"), (world.wang, "1-03"))
    for person, label in people:
        await holds(world, person, label)
    decision = await open_decision(world, "/decide Paint the stairs | rule=cn-278")
    assert "🏠 3 households, 210 m² · fixed on " in card_text(world, decision)
    for person, label in people:
        assert label in await vote(world, person, decision, "f")
    await world.services.outbox.idle()
    assert "Already certain: it passes" in card_text(world, decision)

    # a resident who holds no unit types a made-up one; and, whatever path the register
    # takes, a unit without area appears in it (the "2 units have no area")
    mallory = world.fake.user("Mallory", language_code="en")
    await world.do(world.fake.join(world.court, mallory))
    await world.do(mallory.send(world.court, "/unit 99-01"))
    await stray_unit(world, "99-02")
    assert "99-02" in [
        e.unit.label for e in await units.register(world.services.db, world.court.id)
    ]
    await world.services.outbox.idle()
    text = card_text(world, decision)
    assert "🏠 3 households, 210 m²" in text and "no area" not in text
    assert "Already certain: it passes" in text

    posted = await close_at_deadline(world, decision)
    assert "PASSED" in posted and "NOT PASSED" not in posted, posted
    assert "Participation 3/3 units (100 %), 210/210 m² (100 %)" in posted
    closed = await decisions.get(world.services.db, decision.id)
    assert closed is not None and not closed.is_open
    assert closed.final is not None and closed.final.totals is not None
    assert closed.final.totals.units == 3


async def test_a_majority_with_its_quorum_closes_as_the_rule_says(world: World) -> None:
    await world.with_bot()
    await register(world, [("1-01", 60), ("1-02", 70), ("1-03", 80)])
    await holds(world, world.bob, "1-01")
    await holds(world, world.carol, "1-02")
    decision = await open_decision(world, "/decide Bike shed | rule=majority quorum=2/3")
    await vote(world, world.bob, decision, "f")
    await vote(world, world.carol, decision, "f")
    mallory = world.fake.user("Mallory", language_code="en")
    await world.do(world.fake.join(world.court, mallory))
    await world.do(mallory.send(world.court, "/unit 99-01"))
    await stray_unit(world, "99-02")
    replies = await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    result = replies.text(world.court)
    # 2 of the 3 units of its electorate took part (2/3: the quorum); both for
    assert "→ <b>PASSED</b> under simple majority, quorum 2/3" in result, result
    assert "Participation 2/3 units (66.6 %)" in result
    assert "✅ Quorum, units: 2/3 units (66.6 %)" in result


async def test_a_removed_units_ballot_is_never_counted_for_the_flat_added_after_it(
    world: World,
) -> None:
    await world.with_bot()
    await register(world, [("1-01", 60), ("1-02", 70), ("1-03", 75)])
    await holds(world, world.bob, "1-03")
    decision = await open_decision(world, "/decide New door | rule=majority")
    assert "Ballot of unit 1-03: for" in await vote(world, world.bob, decision, "f")

    replies = await world.do(world.alice.send(world.court, "/units remove 1-03"))
    assert "1-03" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/units add 1-04 80"))
    assert "1-04" in replies.text(world.court)
    await world.services.outbox.idle()
    text = card_text(world, decision)
    assert "➖ 1-03 removed by a lead on " in text and ": its ballot no longer counts" in text
    assert "➕ 1-04 (80 m²) added by a lead on " in text
    assert "🏠 3 households, 210 m²" in text
    assert "For 0 · Against 0 · Abstain 0 · Not voted 3" in text
    # Bob held 1-03 only: he has no ballot here any more
    answer = await vote(world, world.bob, decision, "a")
    assert "Ballot of unit" not in answer and "registered households" in answer, answer

    replies = await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    result = replies.text(world.court)
    assert "For 1/1" not in result and "Participation 0/3 units" in result, result
    assert "NOT PASSED" in result
    assert "➖ 1-03 removed by a lead on " in result and "➕ 1-04 (80 m²) added" in result

    await world.do(world.alice.send(world.alice.private, "/start"))
    await world.do(world.alice.send(world.court, f"/export D{decision.id}"))
    [doc] = world.fake.calls_to("sendDocument", chat_id=world.alice.id)
    rows = list(csv.reader(io.StringIO(doc.params["document"].decode("utf-8-sig"))))
    by_label = {r[0]: r for r in rows[1:]}
    assert by_label["1-04"][1:] == ["80", "", "", ""]
    assert by_label["1-03"][2] == "for" and "removed" in by_label["1-03"][1]
    assert set(by_label) == {"1-01", "1-02", "1-03", "1-04"}

    audit = (await world.do(world.alice.send(world.court, f"/audit D{decision.id}"))).text(
        world.court
    )
    assert "1-03 removed by a lead" in audit and "— Alice" in audit


async def test_an_id_that_comes_back_does_not_inherit_a_ballot(world: World) -> None:
    """Even if a unit id were handed out again, a ballot counts only for the id AND label it was
    cast for (ids are never reused since 0009; this layer does not rely on it)."""
    await world.with_bot()
    await register(world, [("1-01", 60), ("1-02", 70), ("1-03", 75)])
    db = world.services.db
    decision = await open_decision(world, "/decide New door | rule=majority")
    gone = await units.get(db, world.court.id, "1-03")
    assert gone is not None
    stored = await decisions.cast(
        db, decision.id, [(gone.id, "1-03")], "for", by_id=1, by_name="B", now=datetime.now(UTC)
    )
    assert stored == ("1-03",)
    now = world.services.clock()
    async with db.write() as conn:
        for kind, label, area in (("removed", "1-03", None), ("added", "1-04", Fraction(80))):
            await decisions.register_changed(
                conn,
                world.court.id,
                kind=kind,
                unit_id=gone.id,  # the same id for another flat
                label=label,
                area=area,
                old_area=None,
                by_user=world.alice.id,
                now=now,
            )
    voters = await decisions.electorate(db, decision.id)
    counted = [units.Unit(v.unit_id, world.court.id, v.label, v.area) for v in voters if v.counts]
    assert sorted(u.label for u in counted) == ["1-01", "1-02", "1-04"]
    result = count_open(parse_rule("majority"), counted, await decisions.ballots(db, decision.id))
    assert result.outcome is not None
    assert result.outcome.for_units == 0 and result.outcome.participating_units == 0
    assert result.ignored == ("1-03",)
    assert final_of(result).totals is not None


async def test_a_secret_area_vote_never_ends_without_figures(world: World) -> None:
    await world.with_bot()
    await register(world, [("2-01", 60), ("2-02", 70), ("2-03", 80)])
    await holds(world, world.bob, "2-01")
    await holds(world, world.carol, "2-02")
    db = world.services.db
    decision = await open_decision(
        world, "/decide Lift | rule=ru-oss-two-thirds | closes=in 3 days | secret"
    )
    await vote(world, world.bob, decision, "f")
    await vote(world, world.carol, decision, "f")

    # a lead adds a unit without area while the vote counts area: refused, register unchanged
    replies = await world.do(world.alice.send(world.court, "/units add 6"))
    assert "needs its area" in replies.text(world.court), replies.text(world.court)
    assert await units.get(db, world.court.id, "6") is None
    assert len(await decisions.electorate(db, decision.id)) == 3

    # a database from before the electorate was data: a unit of it without area (the old
    # "/units add 6 сорок" or "/unit 7" path)
    async with db.write() as conn:
        await conn.execute("UPDATE units SET area_num = NULL, area_den = NULL WHERE label = '2-03'")
        await conn.execute(
            "UPDATE decision_units SET area_num = NULL, area_den = NULL WHERE label = '2-03'"
        )
    # a lead's /close is refused with what to fix; nothing is lost
    replies = await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    refusal = replies.text(world.court)
    assert "cannot be counted yet" in refusal and "2-03" in refusal, refusal
    assert "/units add 2-03" in refusal and "no ballot was lost" in refusal
    pressed = card(world, decision)
    await world.do(world.alice.press(pressed, f"dc:c:{decision.id}"))
    replies = await world.do(world.alice.press(pressed, f"dc:c:{decision.id}"))
    assert "cannot be counted yet" in replies.text(world.court)  # the same, from the button
    still = await decisions.get(db, decision.id)
    assert still is not None and still.is_open
    assert [b.choice for b in await decisions.ballots(db, decision.id)] == ["for", "for"]

    # the deadline: the leads are told once, the close is tried again later
    posted = await close_at_deadline(world, decision)
    assert "has reached its deadline but cannot be counted yet" in posted, posted
    assert "2-03" in posted and "try again every hour" in posted
    assert "Participation" not in posted
    still = await decisions.get(db, decision.id)
    assert still is not None and still.is_open and still.blocked_at is not None
    assert [b.choice for b in await decisions.ballots(db, decision.id)] == ["for", "for"]
    text = card_text(world, decision)
    assert "no area is known for 2-03" in text and "The deadline" in text
    posted = await close_at_deadline(world, decision)  # the retry, still blocked: silent
    assert posted == ""
    pending = await db.fetchall(
        "SELECT id FROM scheduled WHERE kind = 'decision_close' AND ref_id = ?"
        " AND status = 'pending'",
        (decision.id,),
    )
    assert len(pending) == 1  # one retry waiting, never a pile

    # the lead gives the area; the next try closes with every figure
    replies = await world.do(world.alice.send(world.court, "/units add 2-03 80"))
    await world.services.outbox.idle()
    voters = {v.label: v.area for v in await decisions.electorate(db, decision.id)}
    assert voters["2-03"] == Fraction(80), replies.text(world.court)
    assert "📐 area of 2-03 set to 80 m² by a lead on " in card_text(world, decision)
    posted = await close_at_deadline(world, decision)
    assert "Participation 2/3 units (66.6 %), 130/210 m² (61.9 %)" in posted, posted
    assert "NOT PASSED" in posted  # 130 of 210 m² for: short of 2/3 of all the area
    assert "📐 area of 2-03 set to 80 m²" in posted
    closed = await decisions.get(db, decision.id)
    assert closed is not None and not closed.is_open
    assert closed.final is not None and closed.final.totals is not None
    assert closed.final.totals.for_area == Fraction(130)
    assert [b.choice for b in await decisions.ballots(db, decision.id)] == [None, None]


async def test_a_lead_who_removes_every_unit_gets_a_count_that_passes_nothing(
    world: World,
) -> None:
    await world.with_bot()
    await register(world, [("1-01", 60)])
    await holds(world, world.bob, "1-01")
    decision = await open_decision(world, "/decide Sell the roof | rule=ru-oss")
    await vote(world, world.bob, decision, "f")
    await world.do(world.alice.send(world.court, "/units remove 1-01"))
    await world.services.outbox.idle()
    text = card_text(world, decision)
    assert "🏠 0 households, 0 m² · fixed on " in text
    assert "➖ 1-01 removed by a lead on " in text and "its ballot no longer counts" in text
    replies = await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    result = replies.text(world.court)
    assert "NOT PASSED" in result and "Participation 0/0 units" in result, result
