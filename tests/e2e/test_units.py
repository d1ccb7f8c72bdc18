"""Households end to end: residents claim units, leads approve or reject with buttons, the
register is kept with /units, and a CSV is imported from a private chat."""

from __future__ import annotations

from fractions import Fraction

from storage import units
from tests.e2e.conftest import World


async def claim_of(world: World, label: str, user_id: int) -> units.Claim | None:
    unit = await units.get(world.services.db, world.court.id, label)
    if unit is None:
        return None
    return await units.get_claim(world.services.db, world.court.id, unit.id, user_id)


async def test_claim_then_lead_approves(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.bob.send(world.court, "/unit ３－５０２"))
    text = replies.text(world.court)
    assert "Bob Baker says they live in unit 3-502" in text and "not in the register" in text
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    claim = await claim_of(world, "3-502", world.bob.id)
    assert claim is not None and claim.status == "pending"
    data = f"un:a:{claim.unit_id}:{world.bob.id}"
    assert len(data.encode()) <= 64

    mine = await world.do(world.bob.send(world.court, "/unit"))
    assert "3-502: waiting for a lead's approval" in mine.text(world.court)
    again = await world.do(world.bob.send(world.court, "/unit 3-502"))
    assert "already waiting" in again.text(world.court)

    replies = await world.do(world.alice.press(card, data))
    assert replies.answer_text() == "Done."
    assert "your unit 3-502 is approved" in replies.text(world.court)
    assert "approved by Alice" in replies.edits(world.court)[-1].params["text"]
    claim = await claim_of(world, "3-502", world.bob.id)
    assert claim is not None and claim.status == "approved" and claim.decided_by == world.alice.id

    mine = await world.do(world.bob.send(world.court, "/unit"))
    assert "3-502: approved" in mine.text(world.court)
    # a second press on the (old) card changes nothing
    replies = await world.do(world.alice.press(card, data, check=False))
    assert "already been decided" in replies.answer_text()


async def test_lead_rejects_and_a_resident_cannot_press(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.court, "/unit 4-101"))
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    claim = await claim_of(world, "4-101", world.bob.id)
    assert claim is not None
    for data in (f"un:a:{claim.unit_id}:{world.bob.id}", f"un:r:{claim.unit_id}:{world.bob.id}"):
        replies = await world.do(world.carol.press(card, data))
        [answer] = replies.answers()
        assert answer["show_alert"] and "руководител" in answer["text"]
        assert replies.text(world.court) == ""
    claim = await claim_of(world, "4-101", world.bob.id)
    assert claim is not None and claim.status == "pending"

    replies = await world.do(world.alice.press(card, f"un:r:{claim.unit_id}:{world.bob.id}"))
    assert "was not approved" in replies.text(world.court)
    claim = await claim_of(world, "4-101", world.bob.id)
    assert claim is not None and claim.status == "rejected"
    mine = await world.do(world.bob.send(world.court, "/unit"))
    assert "4-101: not approved" in mine.text(world.court)


async def test_forged_callback_data_no_longer_works(world: World) -> None:
    await world.with_bot()
    oak = world.fake.group("Oak Court", admins=[world.alice], members=[world.bob])
    await world.with_bot(oak)
    await world.do(world.bob.send(oak, "/unit 1-1"))
    oak_unit = await units.get(world.services.db, oak.id, "1-1")
    assert oak_unit is not None
    await world.do(world.bob.send(world.court, "/unit 3-502"))
    card = world.fake.last_bot_message(world.court)
    assert card is not None
    for data in (
        "un:a:999999",
        "un:a:999999:1",
        f"un:a:{oak_unit.id}:{world.bob.id}",  # another chat's claim
        "un:x:1:2",
        "un:a:-1:2",
    ):
        replies = await world.do(world.alice.press(card, data, check=False))
        assert "no longer works" in replies.answer_text(), data
    claim = await units.get_claim(world.services.db, oak.id, oak_unit.id, world.bob.id)
    assert claim is not None and claim.status == "pending"


async def test_approval_off_approves_at_once(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.alice.send(world.court, "/settings unit_approval off"))
    assert "Approval of unit claims is now: off" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/unit 3-502"))
    assert "you are now registered in unit 3-502" in replies.text(world.court)
    claim = await claim_of(world, "3-502", world.bob.id)
    assert claim is not None and claim.status == "approved"
    # a resident may hold a second unit too
    await world.do(world.bob.send(world.court, "/unit 3-503"))
    mine = await world.do(world.bob.send(world.court, "/unit"))
    assert "3-502: approved" in mine.text(world.court)
    assert "3-503: approved" in mine.text(world.court)
    panel = await world.do(world.alice.send(world.court, "/settings"))
    assert "Unit claims need a lead's approval: off" in panel.text(world.court)
    message = world.fake.last_bot_message(world.court)
    assert message is not None
    replies = await world.do(world.alice.press(message, "st:u"))
    assert "Unit claims need a lead's approval: on" in replies.edits(world.court)[-1].params["text"]
    replies = await world.do(world.carol.send(world.court, "/unit 7-1"))
    assert "Кэрол указывает квартиру 7-1" not in replies.text(world.court)  # the group speaks en
    assert "Кэрол says they live in unit 7-1" in replies.text(world.court)
    bad = await world.do(world.alice.send(world.court, "/settings unit_approval maybe"))
    assert "is not on or off" in bad.text(world.court)


async def test_leads_manage_the_register(world: World) -> None:
    await world.with_bot()
    empty = await world.do(world.alice.send(world.court, "/units"))
    assert "The register is empty" in empty.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/units add 3-502 89.5"))
    assert "Unit 3-502 added to the register, 89.5 m²" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/units add 3-502 90,25"))
    assert "floor area is now 90.25 m²" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/units add 3 栋 502 -"))
    assert "Unit 3栋502 added" in replies.text(world.court)
    await world.do(world.bob.send(world.court, "/unit 3-502"))
    card = world.fake.last_bot_message(world.court)
    claim = await claim_of(world, "3-502", world.bob.id)
    assert card is not None and claim is not None
    await world.do(world.alice.press(card, f"un:a:{claim.unit_id}:{world.bob.id}"))

    listing = (await world.do(world.alice.send(world.court, "/units"))).text(world.court)
    assert "Units in the register: 2" in listing
    assert "<b>3-502</b> · 90.25 m² · Bob Baker" in listing
    assert "<b>3栋502</b> · — · —" in listing
    unit = await units.get(world.services.db, world.court.id, "3-502")
    assert unit is not None and unit.area == Fraction("90.25")

    replies = await world.do(world.alice.send(world.court, "/units remove 3栋502"))
    assert "removed from the register" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/units remove 9-999"))
    assert "There is no unit 9-999" in replies.text(world.court)
    usage = await world.do(world.alice.send(world.court, "/units what"))
    assert "/units add 3-502 89.5" in usage.text(world.court)


async def test_long_register_is_paged(world: World) -> None:
    await world.with_bot()
    await units.import_rows(
        world.services.db,
        world.court.id,
        [(f"1-{n}", None) for n in range(1, 46)],
        world.services.clock(),
    )
    replies = await world.do(world.alice.send(world.court, "/units"))
    text = replies.text(world.court)
    assert "Page 1 of 3" in text and "<b>1-20</b>" in text and "<b>1-21</b>" not in text
    listing = world.fake.last_bot_message(world.court)
    assert listing is not None
    replies = await world.do(world.bob.press(listing, "un:p:1"))
    assert replies.answers()[0]["show_alert"]
    replies = await world.do(world.alice.press(listing, "un:p:1"))
    edited = replies.edits(world.court)[-1].params["text"]
    assert "Page 2 of 3" in edited and "<b>1-21</b>" in edited and "<b>1-41</b>" not in edited


async def test_residents_cannot_manage_the_register(world: World) -> None:
    await world.with_bot()
    replies = await world.do(world.bob.send(world.court, "/units"))
    assert "can do that here" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, "/units add 3-502 80"))
    assert "can do that here" in replies.text(world.court)
    assert await units.count(world.services.db, world.court.id) == 0
    helped = (await world.do(world.bob.send(world.court, "/help"))).text(world.court)
    assert "/unit 3-502" in helped and "/units add" not in helped
    helped = (await world.do(world.alice.send(world.court, "/help"))).text(world.court)
    assert "/units add 3-502 89.5" in helped


async def test_csv_import_in_a_private_chat(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/units add 3-502 80"))  # alice is known here
    content = "房号,面积\n3-502,89.5\n3-503,abc\n３－５０４,70平米\n3-505,\n".encode()
    replies = await world.do(
        world.alice.send_document(world.alice.private, filename="units.csv", content=content)
    )
    text = replies.text(world.alice.private)
    assert "Units read from units.csv: 3" in text
    assert "Line 3: the floor area is not a number" in text
    question = world.fake.last_bot_message(world.alice.private)
    assert question is not None
    replies = await world.do(world.alice.press(question, f"un:i:{world.court.id}"))
    done = "\n".join(
        [replies.text(world.alice.private)]
        + [c.params["text"] for c in replies.edits(world.alice.private)]
    )
    assert "Imported into Maple Court: 2 added, 1 updated, 0 unchanged" in done
    assert "Line 3" in done
    register = {
        e.unit.label: e.unit.area for e in await units.register(world.services.db, world.court.id)
    }
    assert register == {"3-502": Fraction("89.5"), "3-504": Fraction(70), "3-505": None}
    # the pending file was used up: a second press finds nothing, nothing is imported twice
    replies = await world.do(world.alice.press(question, f"un:i:{world.court.id}", check=False))
    assert "send it again" in replies.answer_text()
    # re-import updates, never duplicates
    await world.do(
        world.alice.send_document(
            world.alice.private, filename="u.csv", content=b"3-502;91\n3-504;70\n"
        )
    )
    question = world.fake.last_bot_message(world.alice.private)
    assert question is not None
    replies = await world.do(world.alice.press(question, f"un:i:{world.court.id}"))
    done = "\n".join(c.params["text"] for c in replies.edits(world.alice.private))
    assert "0 added, 1 updated, 1 unchanged" in done
    assert await units.count(world.services.db, world.court.id) == 3


async def test_csv_from_a_non_lead_finds_no_group(world: World) -> None:
    await world.with_bot()
    await world.do(world.bob.send(world.court, "/unit 3-502"))  # bob is known, but a resident
    replies = await world.do(
        world.bob.send_document(world.bob.private, filename="u.csv", content=b"3-502,80\n")
    )
    assert "I know no group where you are a lead" in replies.text(world.bob.private)
    # forging the group button does not help either
    question = world.fake.last_bot_message(world.bob.private)
    assert question is not None
    replies = await world.do(world.bob.press(question, f"un:i:{world.court.id}", check=False))
    assert "Only a lead of that group" in replies.answer_text()
    unit = await units.get(world.services.db, world.court.id, "3-502")
    assert unit is not None and unit.area is None
    bad = await world.do(
        world.bob.send_document(world.bob.private, filename="u.csv", content=b"\xff\xfe\x00bad")
    )
    assert "save it as CSV in UTF-8" in bad.text(world.bob.private)
