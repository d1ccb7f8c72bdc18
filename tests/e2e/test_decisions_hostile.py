"""Formal decisions against the hostile resident, the careless lead and the resident who types
loosely: forged and replayed buttons, claims that do not count, paper ballots typed every which
way, tricky titles, a group that becomes a supergroup mid-vote, two closes at once."""

from __future__ import annotations

import asyncio

from storage import decisions, units
from tests.e2e.conftest import World
from tests.e2e.test_decisions import LABELS, card_text, claim, open_decision, register
from tests.e2e.test_electorate import deadline


async def ballots_of(world: World, decision_id: int) -> dict[str, str | None]:
    return {b.label: b.choice for b in await decisions.ballots(world.services.db, decision_id)}


async def test_forged_buttons_of_another_group_or_a_closed_decision_change_nothing(
    world: World,
) -> None:
    await world.with_bot()
    other = world.fake.group("Oak Court", admins=[world.alice], members=[world.bob])
    await world.do(world.fake.add_bot(other, by=world.alice))
    await register(world, 2)
    await claim(world, world.bob, LABELS[0])
    await world.do(world.alice.send(other, f"/units add {LABELS[0]} 60"))
    ours, card = await open_decision(world, "/decide Paint the hall | rule=majority")
    await world.do(world.alice.send(other, "/decide Oak roof | rule=majority"))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM decisions")
    theirs = await decisions.get(world.services.db, row["id"])
    assert theirs is not None and theirs.chat_id == other.id and theirs.message_id is not None
    their_card = world.fake.message(other, theirs.message_id)

    # another group's decision id on our card, our id on theirs: every button is stale
    for data, where in (
        (f"dc:v:{theirs.id}:f", card),
        (f"dc:r:{theirs.id}", card),
        (f"dc:c:{theirs.id}", card),
        (f"dc:v:{ours.id}:f", their_card),
        (f"dc:c:{ours.id}", their_card),
        (f"dc:v:{ours.id}:f:f", card),
        (f"dc:v: {ours.id}:f", card),
        (f"dc:v:{ours.id}:F", card),
        (f"dc:v:-{ours.id}:f", card),
        (f"dc:v:{ours.id}.0:f", card),
        ("dc:v:99999999999999999999:f", card),
        ("dc:v:999999999999:f", card),
    ):
        replies = await world.do(world.alice.press(where, data, check=False))
        assert "no longer works" in replies.answer_text(), data
    for data in (f"dc:c:{theirs.id}", f"dc:c:{theirs.id}"):  # a confirm from the wrong card
        await world.do(world.alice.press(card, data, check=False))
    assert (await decisions.get(world.services.db, theirs.id)).is_open
    assert await ballots_of(world, ours.id) == {}

    # closed: a replayed vote, remind and close are refused, the count stays as it was
    await world.do(world.bob.press(card, f"dc:v:{ours.id}:f"))
    replies = await world.do(world.alice.send(world.court, f"/close D{ours.id}"))
    assert "→ <b>PASSED</b>" in replies.text(world.court)
    closed = await decisions.get(world.services.db, ours.id)
    assert closed is not None and closed.final is not None
    for data, expected in (
        (f"dc:v:{ours.id}:a", "is closed"),
        (f"dc:r:{ours.id}", "is closed"),
        (f"dc:c:{ours.id}", "already closed"),
    ):
        replies = await world.do(world.bob.press(card, data, check=False))
        replies = (
            replies
            if data[3] == "v"
            else await world.do(world.alice.press(card, data, check=False))
        )
        assert expected in replies.answer_text(), data
    assert await ballots_of(world, ours.id) == {LABELS[0]: "for"}
    after = await decisions.get(world.services.db, ours.id)
    assert after is not None and after.final == closed.final and after.closed_at == closed.closed_at


async def test_a_vote_after_the_deadline_but_before_the_close_runs_is_refused(
    world: World,
) -> None:
    await world.with_bot()
    await register(world, 2)
    await claim(world, world.bob, LABELS[0])
    decision, card = await open_decision(world, "/decide Paint | rule=majority")
    await deadline(world, decision)  # due, not fired yet
    replies = await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    assert "is closed" in replies.answer_text()
    replies = await world.do(world.alice.send(world.court, f"/ballot D{decision.id} 2-102 for"))
    assert "is closed" in replies.text(world.court)
    assert await ballots_of(world, decision.id) == {}


async def test_two_households_in_one_unit_cast_one_ballot_the_latest(world: World) -> None:
    await world.with_bot()
    await register(world, 2)
    await claim(world, world.bob, LABELS[0])
    await claim(world, world.carol, LABELS[0])
    decision, card = await open_decision(world, "/decide Paint | rule=majority")
    await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    await world.do(world.carol.press(card, f"dc:v:{decision.id}:a"))
    assert await ballots_of(world, decision.id) == {LABELS[0]: "against"}
    await world.services.outbox.idle()
    assert "For 0 · Against 1 · Abstain 0 · Not voted 1" in card_text(world, decision)


async def test_a_pending_or_suspended_claim_casts_nothing_and_says_why(world: World) -> None:
    await world.with_bot()
    await register(world, 3)
    await claim(world, world.bob, LABELS[0])
    decision, card = await open_decision(world, "/decide Paint | rule=majority")
    # a pending claim to a unit of the electorate
    await world.do(world.wang.send(world.court, f"/unit {LABELS[1]}"))
    replies = await world.do(world.wang.press(card, f"dc:v:{decision.id}:f"))
    assert "审核" in replies.answer_text()
    # Bob leaves and comes back: his claim is suspended until a lead restores it
    await world.do(world.fake.leave(world.court, world.bob))
    await world.do(world.fake.join(world.court, world.bob))
    replies = await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    answer = replies.answer_text()
    assert "suspended" in answer and LABELS[0] in answer, answer
    assert "/unit 3-502" not in answer  # not told to claim what he holds
    assert await ballots_of(world, decision.id) == {}


async def test_a_ballot_cast_before_leaving_still_counts_and_none_after(world: World) -> None:
    await world.with_bot()
    await register(world, 2)
    await claim(world, world.bob, LABELS[0])
    decision, card = await open_decision(world, "/decide Paint | rule=majority")
    await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    await world.do(world.fake.leave(world.court, world.bob))
    await world.do(world.fake.join(world.court, world.bob))
    replies = await world.do(world.bob.press(card, f"dc:v:{decision.id}:a"))
    assert replies.answers()[0].get("show_alert")
    assert await ballots_of(world, decision.id) == {LABELS[0]: "for"}
    replies = await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    assert "→ <b>PASSED</b>" in replies.text(world.court)


async def test_paper_ballots_typed_loosely_are_understood(world: World) -> None:
    await world.with_bot()
    await register(world, 6)
    decision, _ = await open_decision(world, "/decide Paint | rule=majority")
    d = decision.id
    for text, label, choice in (
        (f"/ballot   D{d}   2-101    ЗА", "2-101", "for"),
        (f"/ballot Ｄ{d} ２－１０２ yes", "2-102", "for"),
        (f"/ballot d{d} 2 - 103 Против", "2-103", "against"),
        (f"/ballot #D{d} 2-104 Against.", "2-104", "against"),
        (f"/ballot {d} 2-105 弃权。", "2-105", "abstain"),
        (f"/ballot D{d} 2‐106 за!", "2-106", "for"),
    ):
        replies = await world.do(world.alice.send(world.court, text))
        assert f"Paper ballot for {label}" in replies.text(world.court), (text, replies.text())
        assert (await ballots_of(world, d)).get(label) == choice, text
    # no decision named: told how, never taken for decision 2 or unit "101"
    replies = await world.do(world.alice.send(world.court, "/ballot 2-101 yes"))
    assert "Write the decision, the unit" in replies.text(world.court)
    for text in (f"/ballot D{d} for", f"/ballot D{d} 2-101 maybe so"):
        replies = await world.do(world.alice.send(world.court, text))
        said = replies.text(world.court)
        assert "Write the decision" in said or "is not a choice" in said, (text, said)


async def test_huge_ids_in_commands_are_answered(world: World) -> None:
    await world.with_bot()
    await register(world, 1)
    for text in (
        "/ballot D999999999999 2-101 for",
        "/audit D999999999999",
        "/close D999999999999",
        "/export D999999999999",
    ):
        replies = await world.do(world.alice.send(world.court, text))
        assert "no decision D999999999999" in replies.text(world.court), text
    for text in ("/ballot D99999999999999999999 2-101 for", "/audit D99999999999999999999"):
        replies = await world.do(world.alice.send(world.court, text))
        assert replies.text(world.court), text  # answered, not a crash


async def test_titles_that_hide_or_forge_are_refused_or_shown_as_text(world: World) -> None:
    await world.with_bot()
    await register(world, 2)
    for text in ("/decide \u200b\u200b\u2060", "/decide \u202e\u200b | rule=majority"):
        replies = await world.do(world.alice.send(world.court, text))
        assert "Write the question" in replies.text(world.court), repr(text)
    assert await world.services.db.fetchone("SELECT id FROM decisions") is None
    replies = await world.do(world.alice.send(world.court, "/decide " + "Я" * 201))
    assert "200" in replies.text(world.court)
    first, _ = await open_decision(world, "/decide <b>Lift</b> & <i>co</i> | rule=majority")
    assert (
        "<b>Lift</b> &amp; <i>co</i>"
        in (world.fake.calls_to("sendMessage", chat_id=world.court.id)[-1].params["text"])
        or "&lt;b&gt;Lift"
        in (world.fake.calls_to("sendMessage", chat_id=world.court.id)[-1].params["text"])
    )
    # a title that names another decision's tag: a reply to its card still means this one
    second, card = await open_decision(world, f"/decide Redo of #D{first.id} | rule=majority")
    replies = await world.do(world.alice.send(world.court, "/audit", reply_to=card))
    said = replies.text(world.court)
    assert f"D{second.id}" in said and "Redo of" in said, said
    replies = await world.do(world.alice.send(world.court, "/close", reply_to=card))
    assert (await decisions.get(world.services.db, first.id)).is_open
    assert not (await decisions.get(world.services.db, second.id)).is_open


async def test_a_decision_survives_its_group_becoming_a_supergroup(world: World) -> None:
    await world.with_bot()
    await register(world, 3)
    await claim(world, world.bob, LABELS[0])
    await claim(world, world.carol, LABELS[1])
    decision, card = await open_decision(world, "/decide Lift | rule=majority | secret")
    await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    new = await world.fake.upgrade_to_supergroup(world.court, by=world.alice)
    await world.settle()
    await world.services.outbox.idle()
    moved = await decisions.get(world.services.db, decision.id)
    assert moved is not None and moved.chat_id == new.id and moved.message_id is not None
    shown = world.fake.message(new, moved.message_id)
    assert shown is not None and "Lift" in (shown.text or "") and "1/3 units" in shown.text
    replies = await world.do(world.carol.press(shown, f"dc:v:{decision.id}:a"))
    assert LABELS[1] in replies.answer_text()
    replies = await world.do(world.alice.send(new, f"/ballot D{decision.id} 2-103 for"))
    assert "choice is not shown" in replies.text(new)
    replies = await world.do(world.alice.send(new, f"/close D{decision.id}"))
    result = replies.text(new)
    assert "Participation 3/3 units" in result and "For 2/3 units" in result, result
    assert len(await decisions.electorate(world.services.db, decision.id)) == 3


async def test_a_lead_closing_as_the_deadline_fires_gets_one_outcome(world: World) -> None:
    await world.with_bot()
    await register(world, 2)
    await claim(world, world.bob, LABELS[0])
    decision, card = await open_decision(world, "/decide Paint | rule=majority | secret")
    await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    row_id = await deadline(world, decision)
    mark = world.fake.mark()
    await asyncio.gather(
        world.services.scheduler.fire(row_id),
        world.alice.send(world.court, f"/close D{decision.id}"),
        world.alice.send(world.court, f"/close D{decision.id}"),
    )
    await world.settle()
    await world.services.outbox.idle()
    outcomes = [
        c
        for c in world.fake.calls[mark:]
        if c.method == "sendMessage" and "Participation" in c.params.get("text", "")
    ]
    assert len(outcomes) == 1, [c.params["text"] for c in outcomes]
    closed = await decisions.get(world.services.db, decision.id)
    assert closed is not None and closed.final is not None and closed.final.totals is not None
    assert closed.final.totals.for_units == 1


async def test_a_csv_import_during_an_area_vote_cannot_add_a_unit_without_area(
    world: World,
) -> None:
    await world.with_bot()
    await register(world, 2)
    decision, _ = await open_decision(world, "/decide Lift | rule=ru-oss")
    db = world.services.db
    try:
        await units.import_rows(
            db, world.court.id, [("2-150", None), ("2-101", None)], world.services.clock()
        )
    except Exception as exc:
        assert getattr(exc, "key", "") == "decision.register_needs_area", exc
    else:
        raise AssertionError("a unit without area joined an area vote")
    assert await units.get(db, world.court.id, "2-150") is None
    assert len(await decisions.electorate(db, decision.id)) == 2
