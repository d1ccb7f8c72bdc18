"""Parts of the building (issue 15): units belong to entrances or buildings — set by `/units add
… | entrance 2` or a CSV column — and a decision scoped to a part counts only that part's
households, by area and number; units of other parts cannot vote on it, and the register's
later changes reach it only for units of that part."""

from __future__ import annotations

from storage import decisions, units
from tests.e2e.conftest import World
from tests.e2e.test_decisions import card_text, claim, open_decision
from tests.e2e.test_units import do

BUILDING = (
    ("1-101", 50, "Entrance 1"),
    ("1-102", 60, "Entrance 1"),
    ("2-201", 70, "Entrance 2"),
    ("2-202", 80, "entrance  2"),  # the same part, spelled loosely
    ("2-203", 90, "ENTRANCE 2"),
)


async def build(world: World) -> None:
    await world.with_bot()
    for label, area, part in BUILDING:
        replies = await do(
            world, world.alice.send(world.court, f"/units add {label} {area} | {part}")
        )
        assert "Part of the building" in replies.text(world.court), replies.text(world.court)


async def test_a_decision_of_one_entrance_counts_its_households_only(world: World) -> None:
    await build(world)
    await claim(world, world.bob, "1-101")
    await claim(world, world.carol, "2-201")
    decision, card = await open_decision(
        world, "/decide Elevator for entrance 2 | rule=cn-278 | part=entrance 2"
    )
    assert decision.part == "Entrance 2"  # as the register first spelled it
    text = card_text(world, decision)
    assert "3 households, 240 m²" in text and "only Entrance 2" in text, text
    # a household of entrance 1 has no ballot here
    replies = await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    assert "Not one of the households" in replies.answer_text()
    replies = await world.do(world.carol.press(card, f"dc:v:{decision.id}:f"))
    assert "2-201" in replies.answer_text()
    # a paper ballot for a unit of another part is refused, for this part recorded
    replies = await world.do(world.alice.send(world.court, f"/ballot D{decision.id} 1-102 for"))
    assert "is not one of the households" in replies.text(world.court)
    for label in ("2-202", "2-203"):
        await world.do(world.alice.send(world.court, f"/ballot D{decision.id} {label} for"))
    # a unit added to entrance 2 joins it; one added to entrance 1 (or to none) does not
    await do(world, world.alice.send(world.court, "/units add 2-204 100 | Entrance 2"))
    await do(world, world.alice.send(world.court, "/units add 1-103 100 | Entrance 1"))
    await do(world, world.alice.send(world.court, "/units add 9-901 100"))
    voters = {
        v.label for v in await decisions.electorate(world.services.db, decision.id) if v.counts
    }
    assert voters == {"2-201", "2-202", "2-203", "2-204"}
    replies = await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    said = replies.text(world.court)
    assert "3/4" in said and "PASSED" in said, said


async def test_a_part_without_units_is_refused_naming_the_parts(world: World) -> None:
    await build(world)
    replies = await world.do(world.alice.send(world.court, "/decide Paint | part=entrance 9"))
    said = replies.text(world.court)
    assert "No unit of the register is in “entrance 9”" in said, said
    assert "Entrance 1, Entrance 2" in said
    assert await world.services.db.fetchone("SELECT id FROM decisions") is None


async def test_a_whole_building_decision_counts_every_part(world: World) -> None:
    await build(world)
    decision, _ = await open_decision(world, "/decide Paint the roof | rule=majority")
    assert decision.part is None
    assert "5 households" in card_text(world, decision)
    assert "only" not in card_text(world, decision)


async def test_parts_are_set_changed_and_cleared_by_a_lead(world: World) -> None:
    await build(world)
    replies = await do(world, world.alice.send(world.court, "/units add 1-101 | -"))
    assert "In no part of the building now" in replies.text(world.court)
    replies = await do(world, world.alice.send(world.court, "/units add 1-102 | Корпус Б"))
    assert "Part of the building: Корпус Б" in replies.text(world.court)
    parts = {
        u.unit.label: (u.unit.part, u.unit.area)
        for u in await units.register(world.services.db, world.court.id)
    }
    assert parts["1-101"] == (None, 50) and parts["1-102"][0] == "Корпус Б"
    assert parts["1-102"][1] == 60  # the area stays
    for bad in ("/units add 1-101 |", "/units add 1-101 | " + "x" * 41, "/units add | entrance 1"):
        replies = await do(world, world.alice.send(world.court, bad))
        said = replies.text(world.court)
        assert "cannot be a part" in said or "The register of units" in said, (bad, said)
    replies = await do(world, world.bob.send(world.court, "/units add 1-101 | entrance 3"))
    assert "can do that here" in replies.text(world.court)
    assert (await units.get(world.services.db, world.court.id, "1-101")).part is None
    listing = (await do(world, world.alice.send(world.court, "/units"))).text(world.court)
    assert "[Корпус Б]" in listing and "[Entrance 2]" in listing


async def test_a_csv_with_a_part_column_sets_the_parts(world: World) -> None:
    await world.with_bot()
    await do(world, world.alice.send(world.court, "/units add 3-501 40"))  # alice is known here
    content = "房号,面积,单元\n3-501,,1单元\n3-502,89.5,1单元\n3-503,70,2单元\n3-504,71\n".encode()
    await do(
        world, world.alice.send_document(world.alice.private, filename="u.csv", content=content)
    )
    question = world.fake.last_bot_message(world.alice.private)
    data = question.reply_markup.inline_keyboard[0][0].callback_data
    await do(world, world.alice.press(question, data))
    parts = {
        u.unit.label: (u.unit.part, u.unit.area)
        for u in await units.register(world.services.db, world.court.id)
    }
    assert parts == {
        "3-501": ("1单元", 40),
        "3-502": ("1单元", 89.5),
        "3-503": ("2单元", 70),
        "3-504": (None, 71),
    }, parts


async def test_a_part_is_text_and_typed_loosely(world: World) -> None:
    await world.with_bot()
    replies = await do(
        world, world.alice.send(world.court, "/units add 1-01 50 | <b>East</b> & co")
    )
    sent = replies.sent(world.court)[-1].params["text"]
    assert "&lt;b&gt;East&lt;/b&gt; &amp; co" in sent, sent
    await do(world, world.alice.send(world.court, "/units add 2-01 60 | 2单元"))
    decision, _ = await open_decision(world, "/decide Lift | rule=majority | 范围：２单元")
    assert decision.part == "2单元"
    decision, _ = await open_decision(world, "/decide Door | Part = <B>EAST</B> & CO")
    assert decision.part == "<b>East</b> & co"
    text = world.fake.calls_to("sendMessage", chat_id=world.court.id)[-1].params["text"]
    assert "only &lt;b&gt;East&lt;/b&gt; &amp; co" in text, text
