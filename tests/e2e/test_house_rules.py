"""House rules end to end: a lead drafts the rules (by replying to the draft's card), they are
ratified by cn-278; a second draft starts from them, a resident amends an article, households
support it, the lead accepts it, the ratification passes and the new version and its difference
from the old one are shown; history, compare, export, pin. Then bad input and abuse."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from handlers import house_rules as house_rules_h
from playground import FakeTelegram, FakeUser
from storage import chats, units
from storage import house_rules as store
from tests.e2e.conftest import World, start_app, stop_app

LABELS = ["1-101", "1-102", "1-201", "1-202"]

RULES_V1 = """Maple Court house rules

1. Quiet hours are from 22:00 to 7:00.
2. Bicycles are kept in the bicycle room,
not in the stairwell.
3. Rubbish goes to the yard bins by 21:00."""


async def setup_building(world: World) -> list[FakeUser]:
    await world.with_bot()
    for label, area in zip(LABELS, (60, 70, 80, 90), strict=True):
        await world.do(world.alice.send(world.court, f"/units add {label} {area}"))
    people = [world.bob, world.carol, world.wang, world.alice]
    for person, label in zip(people, LABELS, strict=True):
        await claim(world, person, label)
    return people


async def claim(world: World, person: FakeUser, label: str) -> None:
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


def card(world: World, message_id: int | None) -> Any:
    assert message_id is not None
    message = world.fake.message(world.court, message_id)
    assert message is not None
    return message


async def draft_card(world: World) -> Any:
    found = await store.draft_of(world.services.db, world.court.id)
    assert found is not None
    return card(world, found.message_id)


async def ratify_and_pass(world: World, people: list[FakeUser], options: str = "") -> str:
    """/rules ratify, every household votes for, the lead closes: what the bot said."""
    replies = await world.do(world.alice.send(world.court, f"/rules ratify {options}".strip()))
    found = await store.draft_of(world.services.db, world.court.id)
    assert found is not None and found.decision_id is not None, replies.text(world.court)
    decision_id = found.decision_id
    row = await world.services.db.fetchone(
        "SELECT message_id FROM decisions WHERE id = ?", (decision_id,)
    )
    assert row is not None
    decision_card = card(world, row["message_id"])
    for person in people:
        await world.do(person.press(decision_card, f"dc:v:{decision_id}:f"))
    closed = await world.do(world.alice.send(world.court, f"/close D{decision_id}"))
    return closed.text(world.court)


async def test_draft_amend_ratify_by_cn278_and_show_the_difference(world: World) -> None:
    people = await setup_building(world)
    replies = await world.do(world.bob.send(world.court, "/rules"))
    assert "no house rules yet" in replies.text(world.court)

    # a lead starts the draft and replies to its card with the text
    replies = await world.do(world.alice.send(world.court, "/rules draft"))
    assert "Reply to the draft's card" in replies.text(world.court)
    first = await draft_card(world)
    replies = await world.do(world.alice.send(world.court, RULES_V1, reply_to=first))
    assert "The draft now has 3 articles" in replies.text(world.court)
    text = (await draft_card(world)).text
    assert "Article 2. Bicycles are kept in the bicycle room,\nnot in the stairwell." in text

    # ratified by cn-278 (the default): version 1
    said = await ratify_and_pass(world, people)
    assert "House rules, version 1, are ratified" in said
    assert "3 articles differ" in said and "<b>Article 1</b> added" in said
    await world.services.outbox.idle()
    v1 = await store.by_number(world.services.db, world.court.id, 1)
    assert v1 is not None
    assert "ratified as version 1" in card(world, v1.message_id).text

    # a second draft starts from version 1; Bob amends article 2
    await world.do(world.alice.send(world.court, "/rules draft"))
    replies = await world.do(
        world.bob.send(world.court, "/amend 2 Bicycles and scooters are kept in the bicycle room.")
    )
    draft = await store.draft_of(world.services.db, world.court.id)
    assert draft is not None and draft.articles[1].startswith("Bicycles are kept")
    [amendment] = await store.amendments(world.services.db, draft.id)
    amendment_card = card(world, amendment.message_id)
    assert f"Amendment {amendment.id}" in amendment_card.text and "article 2" in amendment_card.text
    assert "proposed by Bob Baker" in amendment_card.text

    # households support it (one per household, withdrawable); the author cannot
    replies = await world.do(world.bob.press(amendment_card, f"hr:s:{amendment.id}"))
    assert "your own amendment" in replies.answer_text()
    replies = await world.do(world.carol.press(amendment_card, f"hr:s:{amendment.id}"))
    assert "1-102" in replies.answer_text()
    replies = await world.do(world.carol.press(amendment_card, f"hr:s:{amendment.id}"))
    assert "уже" in replies.answer_text()  # Кэрол's Telegram is in Russian
    await world.do(world.wang.press(amendment_card, f"hr:s:{amendment.id}"))
    await world.do(world.wang.press(amendment_card, f"hr:u:{amendment.id}"))
    await world.do(world.wang.press(amendment_card, f"hr:s:{amendment.id}"))
    await world.services.outbox.idle()
    assert "Supported by 2 households" in card(world, amendment.message_id).text

    # a resident cannot accept; the lead accepts
    replies = await world.do(world.bob.press(amendment_card, f"hr:a:{amendment.id}"))
    assert "leads" in replies.answer_text()
    replies = await world.do(world.alice.press(amendment_card, f"hr:a:{amendment.id}"))
    assert f"Amendment {amendment.id} to article 2 is accepted by Alice" in replies.text(
        world.court
    )
    await world.services.outbox.idle()
    assert "Accepted by Alice" in card(world, amendment.message_id).text
    draft = await store.draft_of(world.services.db, world.court.id)
    assert draft is not None
    assert draft.articles[1] == "Bicycles and scooters are kept in the bicycle room."

    # ratified: version 2, with its difference from version 1
    said = await ratify_and_pass(world, people)
    assert "House rules, version 2, are ratified" in said
    assert "1 article differs" in said
    assert "<b>Article 2</b> changed." in said
    assert "Was: <s>Bicycles are kept in the bicycle room, not in the stairwell.</s>" in said
    assert "Now: Bicycles and scooters are kept in the bicycle room." in said

    # /rules shows version 2, article by article, with a Pin button for the lead
    replies = await world.do(world.alice.send(world.court, "/rules"))
    [shown] = replies.sent(world.court)
    assert "House rules, version 2" in shown.params["text"]
    assert "<b>Article 2.</b> Bicycles and scooters" in shown.params["text"]
    markup = shown.params["reply_markup"]
    pin_data = markup["inline_keyboard"][0][0]["callback_data"]
    replies = await world.do(world.alice.press(shown.result, pin_data))
    assert replies.answer_text() in ("Pinned.",) or "could not pin" in replies.answer_text()
    replies = await world.do(world.bob.send(world.court, "/rules"))
    [shown] = replies.sent(world.court)
    assert "reply_markup" not in shown.params or not shown.params["reply_markup"]

    # history and compare
    replies = await world.do(world.bob.send(world.court, "/rules history"))
    listed = replies.text(world.court)
    assert listed.index("Version 2") < listed.index("Version 1")
    assert "China’s Civil Code art. 278 — ordinary matters" in listed
    [history] = replies.sent(world.court)
    buttons = [b for row in history.params["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["📜 Version 2", "🔍 1 → 2", "📜 Version 1"]
    shown = await world.do(world.carol.press(history.result, buttons[2]["callback_data"]))
    assert "Правила дома, версия 1" not in shown.text(world.court)  # the group's language
    assert "House rules, version 1" in shown.text(world.court)
    assert "Not in force: version 2 replaced it." in shown.text(world.court)
    compared = await world.do(world.carol.press(history.result, buttons[1]["callback_data"]))
    assert "<b>Article 2</b> changed." in compared.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/rules compare 1 2"))
    assert "version 1 → version 2" in replies.text(world.court)
    assert "Now: Bicycles and scooters" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/rules 1"))
    assert "Not in force: version 2 replaced it." in replies.text(world.court)

    # /export rules: the text as a file
    replies = await world.do(world.bob.send(world.court, "/export rules"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument"]
    content = doc.params["document"].decode("utf-8")
    assert "# House rules, version 2" in content
    assert "## Article 2\n\nBicycles and scooters are kept in the bicycle room." in content


async def test_a_ratification_open_across_a_restart_still_makes_the_version(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    world = World(fake, app)
    try:
        people = await setup_building(world)
        await world.do(world.alice.send(world.court, "/rules draft " + RULES_V1))
        await world.do(world.alice.send(world.court, "/rules ratify"))
        found = await store.draft_of(world.services.db, world.court.id)
        assert found is not None and found.decision_id is not None
        # the digest tells the group the draft is being voted on
        chat = await chats.get(world.services.db, world.court.id)
        assert chat is not None
        line = await house_rules_h.rules_news(world.services, chat, world.services.clock())
        assert line is not None and f"#D{found.decision_id}" in line
    finally:
        await stop_app(app)
    app = await start_app(fake, db_path)
    world.app = app
    try:
        await world.settle()
        row = await world.services.db.fetchone(
            "SELECT message_id FROM decisions WHERE id = ?", (found.decision_id,)
        )
        assert row is not None
        for person in people:
            await world.do(
                person.press(card(world, row["message_id"]), f"dc:v:{found.decision_id}:f")
            )
        replies = await world.do(world.alice.send(world.court, f"/close D{found.decision_id}"))
        assert "House rules, version 1, are ratified" in replies.text(world.court)
        chat = await chats.get(world.services.db, world.court.id)
        assert chat is not None
        line = await house_rules_h.rules_news(world.services, chat, world.services.clock())
        assert line is not None and "Version 1 was ratified this week" in line
    finally:
        await stop_app(app)


async def test_mydata_and_forgetme_cover_the_house_rules(world: World) -> None:
    from tests.e2e.test_privacy import last_document, yes_no

    await setup_building(world)
    await world.do(world.bob.send(world.bob.private, "/start"))
    await world.do(world.alice.send(world.court, "/rules draft " + RULES_V1))
    await world.do(world.bob.send(world.court, "/amend 2 Bicycles in the cellar."))
    await world.do(world.carol.send(world.court, "/amend 3 Rubbish by 20:00."))
    draft = await store.draft_of(world.services.db, world.court.id)
    assert draft is not None
    bobs, carols = await store.amendments(world.services.db, draft.id)
    await world.do(world.bob.press(card(world, carols.message_id), f"hr:s:{carols.id}"))
    await world.do(world.bob.send(world.bob.private, "/mydata"))
    data = last_document(world, world.bob.id)["data"]
    assert [a["text"] for a in data["house_rules_amendments"]] == ["Bicycles in the cellar."]
    assert [s["unit"] for s in data["house_rules_supports"]] == ["1-101"]

    replies = await world.do(world.bob.send(world.bob.private, "/forgetme"))
    question = replies.sent(world.bob.private)[-1].result
    await world.do(world.bob.press(question, yes_no(question)[0]))
    await world.services.outbox.idle()
    await world.settle()
    text = card(world, bobs.message_id).text
    assert "Bob" not in text and "former resident" in text
    assert (await store.amendment(world.services.db, carols.id)).supports == 1  # the household's
    row = await world.services.db.fetchone(
        "SELECT count(*) AS n FROM rules_supports WHERE user_id = ?", (world.bob.id,)
    )
    assert row is not None and row["n"] == 0


async def test_cn278_needs_every_area_and_the_answer_says_what_else_to_do(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/units add 1-101"))
    await world.do(world.alice.send(world.court, "/rules draft 1. Quiet"))
    replies = await world.do(world.alice.send(world.court, "/rules ratify"))
    said = replies.text(world.court)
    assert "no area is known for: 1-101" in said
    assert "/rules ratify majority" in said
    found = await store.draft_of(world.services.db, world.court.id)
    assert found is not None and found.decision_id is None
    replies = await world.do(world.alice.send(world.court, "/rules ratify majority"))
    assert "counted by simple majority" in replies.text(world.court)


async def test_cards_changed_under_a_stopped_bot_are_redrawn(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    from tests.e2e.test_cards_after_restart import started, truthful

    db_path = tmp_path / "courtyard.sqlite3"
    world = await started(fake, db_path)
    try:
        await setup_building(world)
        await world.do(world.alice.send(world.court, "/rules draft " + RULES_V1))
        await world.do(world.bob.send(world.court, "/amend 2 Bicycles in the cellar."))
        draft = await store.draft_of(world.services.db, world.court.id)
        assert draft is not None
        [amendment] = await store.amendments(world.services.db, draft.id)
        assert [c for c in await truthful(world) if c.startswith("rules_")] == []
    finally:
        await stop_app(world.app)
    # while the bot is down, Кэрол's support lands in the database (its refresh lost in a crash)
    conn = sqlite3.connect(db_path)
    with conn:
        unit = conn.execute("SELECT id FROM units WHERE label = '1-102'").fetchone()[0]
        conn.execute(
            "INSERT INTO rules_supports (amendment_id, chat_id, unit_id, user_id, at)"
            " VALUES (?, ?, ?, ?, '2026-01-01T00:00:00Z')",
            (amendment.id, world.court.id, unit, world.carol.id),
        )
    conn.close()
    world = await started(fake, db_path, world)
    try:
        assert [c for c in await truthful(world) if c.startswith("rules_")] == []
        assert "Supported by 1 household" in card(world, amendment.message_id).text
    finally:
        await stop_app(world.app)
