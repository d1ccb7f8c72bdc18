"""Households end to end: residents claim units, leads work through one approval card, the
register is kept with /units (typos and look-alikes make no units), and a CSV is imported from a
private chat."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from handlers import units as units_handler
from playground import FakeUser
from storage import decisions, units
from tests.e2e.conftest import Replies, World


async def calm(world: World) -> None:
    """Settle, then wait for the notices the households handlers send in the background."""
    await world.settle()
    await units_handler.idle(world.services)
    await world.settle()


async def do(world: World, action) -> Replies:  # type: ignore[no-untyped-def]
    mark = world.fake.mark()
    await action
    await calm(world)
    return Replies([c for c in world.fake.calls[mark:] if c.method != "getUpdates"])


async def claim_of(world: World, label: str, user_id: int) -> units.Claim | None:
    unit = await units.get(world.services.db, world.court.id, label)
    if unit is None:
        return None
    return await units.get_claim(world.services.db, world.court.id, unit.id, user_id)


async def request_of(world: World, user_id: int) -> units.Claim | None:
    mine = await units.claims_of(world.services.db, world.court.id, user_id)
    return next((c for c in mine if c.is_request), None)


async def approval_card(world: World):  # type: ignore[no-untyped-def]
    """The group's approval card, as the fake shows it now."""
    card = await units.queue_card(world.services.db, world.court.id)
    assert card is not None
    message = world.fake.message(world.court, card.message_id)
    assert message is not None
    return message


async def snapshot(world: World) -> list[tuple[object, ...]]:
    rows = await world.services.db.fetchall("SELECT * FROM units ORDER BY id")
    return [tuple(r) for r in rows]


async def test_claim_then_lead_approves(world: World) -> None:
    await world.with_bot()
    await do(world, world.alice.send(world.court, "/units add 3-502 80"))
    replies = await do(world, world.bob.send(world.court, "/unit ３－５０２"))
    [card_call] = replies.sent(world.court)  # the approval card, and nothing else
    assert "One claim is waiting for a lead" in card_call.params["text"]
    assert "1. Bob Baker — 3-502" in card_call.params["text"]
    card = card_call.result
    claim = await claim_of(world, "3-502", world.bob.id)
    assert claim is not None and claim.status == "pending"
    data = f"un:a:{claim.unit_id}:{world.bob.id}"
    assert len(data.encode()) <= 64

    mine = await do(world, world.bob.send(world.court, "/unit"))
    assert "3-502: waiting for a lead's approval" in mine.text(world.court)
    # Bob never opened a private chat with the bot: the notice is one line in the group
    again = await do(world, world.bob.send(world.court, "/unit 3-502"))
    assert "already waiting for a lead" in again.text(world.court)
    assert "open a chat with me" in again.text(world.court)

    replies = await do(world, world.alice.press(card, data))
    assert replies.answer_text() == "Approved: Bob Baker, unit 3-502."
    assert "No claims are waiting" in replies.edits(world.court)[-1].params["text"]
    assert "Bob Baker</a> — 3-502: approved" in replies.text(world.court)
    claim = await claim_of(world, "3-502", world.bob.id)
    assert claim is not None and claim.status == "approved" and claim.decided_by == world.alice.id

    mine = await do(world, world.bob.send(world.court, "/unit"))
    assert "3-502: approved" in mine.text(world.court)
    # a second press on the (old) card changes nothing
    replies = await do(world, world.alice.press(card, data, check=False))
    assert "already been decided" in replies.answer_text()


async def test_a_residents_claim_never_changes_the_register(world: World) -> None:
    await world.with_bot()
    await do(world, world.alice.send(world.court, "/settings unit_approval off"))
    await do(world, world.alice.send(world.court, "/units add 1-01 50"))
    before = await snapshot(world)
    # even with approval off, a label the register lacks is only a request naming it
    await do(world, world.bob.send(world.bob.private, "/start"))
    replies = await do(world, world.bob.send(world.court, "/unit 99-01"))
    assert await snapshot(world) == before
    assert "99-01 <i>(not in the register: approving adds it)</i>" in replies.text(world.court)
    assert "not in the register yet" in replies.text(world.bob.private)  # told privately
    request = await request_of(world, world.bob.id)
    assert request is not None and request.status == "pending" and request.label == "99-01"
    assert await units.get(world.services.db, world.court.id, "99-01") is None
    mine = await do(world, world.bob.send(world.court, "/unit"))
    assert "99-01: waiting for a lead's approval" in mine.text(world.court)

    card = await approval_card(world)
    assert card.text is not None and "99-01" in card.text
    # a resident cannot press it
    replies = await do(world, world.carol.press(card, f"un:a:n{request.request_id}"))
    [answer] = replies.answers()
    assert answer["show_alert"] and "администратор" in answer["text"]
    assert await snapshot(world) == before
    # rejecting leaves the register exactly as it was
    replies = await do(world, world.alice.press(card, f"un:r:n{request.request_id}"))
    assert replies.answer_text() == "Rejected: Bob Baker, unit 99-01."
    assert "was not approved" in replies.text(world.bob.private)
    assert await snapshot(world) == before
    mine = await do(world, world.bob.send(world.court, "/unit"))
    assert "99-01: not approved" in mine.text(world.court)

    # asked again and approved: only now the unit appears, with Bob in it
    await do(world, world.bob.send(world.court, "/unit 99-01"))
    again = await request_of(world, world.bob.id)
    assert again is not None and again.status == "pending"
    card = await approval_card(world)
    replies = await do(world, world.alice.press(card, f"un:a:n{again.request_id}"))
    assert "your unit 99-01 is approved" in replies.text(world.bob.private)
    claim = await claim_of(world, "99-01", world.bob.id)
    assert claim is not None and claim.status == "approved" and claim.decided_by == world.alice.id
    assert len(await snapshot(world)) == 2
    # a forged or replayed request id does nothing
    for data in (f"un:a:n{again.request_id}", "un:a:n999999", "un:a:nx", "un:a:n", "un:a:7"):
        replies = await do(world, world.alice.press(card, data, check=False))
        answer = replies.answer_text()
        assert "already been decided" in answer or "no longer works" in answer, data
    assert len(await snapshot(world)) == 2


async def test_approval_off_approves_registered_units_at_once(world: World) -> None:
    await world.with_bot()
    await do(world, world.alice.send(world.court, "/units add 3-502 80"))
    await do(world, world.alice.send(world.court, "/units add 3-503 70"))
    replies = await do(world, world.alice.send(world.court, "/settings unit_approval off"))
    assert "Approval of unit claims is now: off" in replies.text(world.court)
    replies = await do(world, world.bob.send(world.court, "/unit 3-502"))
    assert "Bob Baker</a> — 3-502: registered" in replies.text(world.court)  # no private chat
    claim = await claim_of(world, "3-502", world.bob.id)
    assert claim is not None and claim.status == "approved"
    # a resident may hold a second unit too; told privately once they opened a chat
    await do(world, world.bob.send(world.bob.private, "/start"))
    replies = await do(world, world.bob.send(world.court, "/unit 3-503"))
    assert replies.sent(world.court) == []
    assert "you are now registered in unit 3-503" in replies.text(world.bob.private)
    mine = await do(world, world.bob.send(world.court, "/unit"))
    assert "3-502: approved" in mine.text(world.court)
    assert "3-503: approved" in mine.text(world.court)
    panel = await do(world, world.alice.send(world.court, "/settings"))
    assert "Unit claims need a lead's approval: off" in panel.text(world.court)
    message = world.fake.last_bot_message(world.court)
    assert message is not None
    replies = await do(world, world.alice.press(message, "st:u"))
    assert "Unit claims need a lead's approval: on" in replies.edits(world.court)[-1].params["text"]
    replies = await do(world, world.carol.send(world.court, "/unit 3-503"))
    text = replies.text(world.court)
    assert "Кэрол — 3-503" in text and "waiting for a lead" in text  # the group speaks en
    bad = await do(world, world.alice.send(world.court, "/settings unit_approval maybe"))
    assert "is not on or off" in bad.text(world.court)


async def test_forged_callback_data_no_longer_works(world: World) -> None:
    await world.with_bot()
    oak = world.fake.group("Oak Court", admins=[world.alice], members=[world.bob])
    await world.with_bot(oak)
    await do(world, world.alice.send(oak, "/units add 1-1"))
    await do(world, world.bob.send(oak, "/unit 1-1"))
    await do(world, world.bob.send(oak, "/unit 1-2"))
    oak_unit = await units.get(world.services.db, oak.id, "1-1")
    assert oak_unit is not None
    oak_mine = await units.claims_of(world.services.db, oak.id, world.bob.id)
    [oak_request] = [c for c in oak_mine if c.is_request]
    await do(world, world.bob.send(world.court, "/unit 3-502"))
    card = await approval_card(world)
    for data in (
        "un:a:999999",
        "un:a:999999:1",
        f"un:a:{oak_unit.id}:{world.bob.id}",  # another chat's claim
        f"un:a:n{oak_request.request_id}",  # another chat's request
        "un:x:1:2",
        "un:a:-1:2",
        "un:a:1:2:3",
        "un:a:n1:2",
        "un:a:n١",
    ):
        replies = await do(world, world.alice.press(card, data, check=False))
        assert "no longer works" in replies.answer_text(), data
    claim = await units.get_claim(world.services.db, oak.id, oak_unit.id, world.bob.id)
    assert claim is not None and claim.status == "pending"
    assert await units.count(world.services.db, oak.id) == 1


async def test_suspended_claims_are_shown_and_never_count(world: World) -> None:
    await world.with_bot()
    await register_and_claim(world, {world.bob: ("3-502", 80), world.carol: ("3-503", 70)})
    await world.fake.leave(world.court, world.bob)
    await calm(world)
    claim = await claim_of(world, "3-502", world.bob.id)
    assert claim is not None and claim.status == "suspended"
    listing = (await do(world, world.alice.send(world.court, "/units"))).text(world.court)
    assert "<b>3-502</b> · 80 m² · — (suspended: Bob Baker)" in listing
    assert "<b>3-503</b> · 70 m² · Кэрол" in listing
    await do(world, world.wang.send(world.court, "/unit 3-504"))
    card = await approval_card(world)
    assert card.text is not None
    assert "Suspended (the resident left the group" in card.text
    assert "• Bob Baker — 3-502" in card.text


async def register_and_claim(world: World, labels: dict[FakeUser, tuple[str, int]]) -> None:
    for person, (label, area) in labels.items():
        await do(world, world.alice.send(world.court, f"/units add {label} {area}"))
        replies = await do(world, person.send(world.court, f"/unit {label}"))
        card = replies.sent(world.court)[-1].result
        unit = await units.get(world.services.db, world.court.id, label)
        assert unit is not None
        await do(world, world.alice.press(card, f"un:a:{unit.id}:{person.id}"))


async def test_a_made_up_unit_no_longer_voids_a_unanimous_decision(world: World) -> None:
    """The measurement: a unanimous cn-278 decision, certain to pass, closed with no result
    because residents' claims had added units without an area."""
    await world.with_bot()
    await register_and_claim(world, {world.bob: ("2-101", 60), world.carol: ("2-102", 65)})
    await do(world, world.alice.send(world.court, "/settings unit_approval off"))
    await do(world, world.alice.send(world.court, "/decide Paint the gate | rule=cn-278"))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM decisions")
    assert row is not None and row["id"] is not None
    decision = await decisions.get(world.services.db, row["id"])
    assert decision is not None and decision.message_id is not None
    card = world.fake.message(world.court, decision.message_id)
    assert card is not None
    await do(world, world.bob.press(card, f"dc:v:{decision.id}:f"))
    await do(world, world.carol.press(card, f"dc:v:{decision.id}:f"))
    # a resident who holds no unit makes some up
    await do(world, world.wang.send(world.court, "/unit 99-01"))
    await do(world, world.wang.send(world.court, "/unit 7"))
    assert await units.count(world.services.db, world.court.id) == 2
    replies = await do(world, world.alice.send(world.court, f"/close D{decision.id}"))
    closed = await decisions.get(world.services.db, decision.id)
    assert closed is not None and closed.status == "closed", replies.text(world.court)
    message = world.fake.message(world.court, decision.message_id)
    assert message is not None and message.text is not None
    assert "PASSED" in message.text and "NOT PASSED" not in message.text


async def test_a_lead_approving_a_new_label_reaches_open_decisions(world: World) -> None:
    await world.with_bot()
    await register_and_claim(world, {world.bob: ("2-101", 60)})
    await do(world, world.alice.send(world.court, "/decide Fix the roof"))
    row = await world.services.db.fetchone("SELECT max(id) AS id FROM decisions")
    assert row is not None
    decision_id = int(row["id"])
    await do(world, world.carol.send(world.court, "/unit 2-102"))
    request = await request_of(world, world.carol.id)
    card = await approval_card(world)
    assert request is not None
    await do(world, world.alice.press(card, f"un:a:n{request.request_id}"))
    [change] = await decisions.changes(world.services.db, decision_id)
    assert change.kind == "added" and change.label == "2-102" and change.by_id == world.alice.id
    replies = await do(world, world.alice.send(world.court, "/units add 2-103 70"))
    assert f"were told: D{decision_id}" in replies.text(world.court)
    replies = await do(world, world.alice.send(world.court, "/units remove 2-103"))
    assert f"were told: D{decision_id}" in replies.text(world.court)
    kinds = [c.kind for c in await decisions.changes(world.services.db, decision_id)]
    assert kinds == ["added", "added", "removed"]


async def test_typos_do_not_make_units(world: World) -> None:
    await world.with_bot()
    for typed in ("/units add 3-502 abc", "/units add 6 сорок", "/units add 3-502 80.555"):
        replies = await do(world, world.alice.send(world.court, typed))
        text = replies.text(world.court)
        assert "is not a floor area, so nothing was added" in text, typed
        assert "<code>80 m²</code>" in text
    assert await units.count(world.services.db, world.court.id) == 0
    forms = {
        "80": Fraction(80),
        "80.5": Fraction("80.5"),
        "80,5": Fraction("80.5"),
        "80m2": Fraction(80),
        "80 м²": Fraction(80),
        "80㎡": Fraction(80),
        "80平米": Fraction(80),
        "80 кв.м": Fraction(80),
        "80 кв. м": Fraction(80),
    }
    for number, (typed, area) in enumerate(forms.items(), start=1):
        replies = await do(world, world.alice.send(world.court, f"/units add 5-{number} {typed}"))
        assert f"Unit 5-{number} added" in replies.text(world.court), typed
        unit = await units.get(world.services.db, world.court.id, f"5-{number}")
        assert unit is not None and unit.area == area, typed
    # a word that belongs to the label: say so with "-" (no area)
    replies = await do(world, world.alice.send(world.court, "/units add 3-502 abc -"))
    assert "Unit 3-502 ABC added" in replies.text(world.court)
    # and what people type for a label still works
    replies = await do(world, world.alice.send(world.court, "/units add 3 栋 502"))
    assert "Unit 3栋502 added" in replies.text(world.court)
    replies = await do(world, world.alice.send(world.court, "/units add кв. 12"))
    assert "Unit КВ. 12 added" in replies.text(world.court)
    # the chat's language answers in Russian too
    await do(world, world.alice.send(world.court, "/settings language ru"))
    replies = await do(world, world.alice.send(world.court, "/units add 6 сорок"))
    assert "«сорок» — это не площадь" in replies.text(world.court)


async def test_look_alikes_are_the_unit_they_look_like(world: World) -> None:
    await world.with_bot()
    await do(world, world.alice.send(world.court, "/units add 1-01 50"))
    # Cyrillic О, Greek Ο, a combining accent, full-width, zero width, an en dash
    for typed in ("1-\u041e1", "1-\u039f1", "1-0\u03011", "１－０１", "1\u200b-01", "1\u201301"):
        replies = await do(world, world.alice.send(world.court, f"/units add {typed} 60"))
        text = replies.text(world.court)
        assert "Unit 1-01: the floor area is now 60" in text or "already in" in text, typed
    assert await units.count(world.services.db, world.court.id) == 1
    # Arabic-Indic digits claim the same unit (shown as first registered)
    replies = await do(world, world.bob.send(world.court, "/unit \u0661-\u0660\u0661"))
    assert "Bob Baker — 1-01" in replies.text(world.court)
    claim = await claim_of(world, "1-01", world.bob.id)
    assert claim is not None and claim.status == "pending"
    assert await request_of(world, world.bob.id) is None
    assert await units.count(world.services.db, world.court.id) == 1
    # labels wholly in Cyrillic or Chinese stay legal
    for typed in ("кв 12", "3栋502"):
        replies = await do(world, world.alice.send(world.court, f"/units add {typed} 70"))
        assert "added to the register" in replies.text(world.court), typed
    assert await units.count(world.services.db, world.court.id) == 3


async def test_leads_manage_the_register(world: World) -> None:
    await world.with_bot()
    empty = await do(world, world.alice.send(world.court, "/units"))
    assert "The register is empty" in empty.text(world.court)
    replies = await do(world, world.alice.send(world.court, "/units add 3-502 89.5"))
    assert "Unit 3-502 added to the register, 89.5 m²" in replies.text(world.court)
    replies = await do(world, world.alice.send(world.court, "/units add 3-502 90,25"))
    assert "floor area is now 90.25 m²" in replies.text(world.court)
    replies = await do(world, world.alice.send(world.court, "/units add 3 栋 502 -"))
    assert "Unit 3栋502 added" in replies.text(world.court)
    replies = await do(world, world.bob.send(world.court, "/unit 3-502"))
    card = replies.sent(world.court)[-1].result
    claim = await claim_of(world, "3-502", world.bob.id)
    assert claim is not None
    await do(world, world.alice.press(card, f"un:a:{claim.unit_id}:{world.bob.id}"))

    listing = (await do(world, world.alice.send(world.court, "/units"))).text(world.court)
    assert "Units in the register: 2" in listing
    assert "<b>3-502</b> · 90.25 m² · Bob Baker" in listing
    assert "<b>3栋502</b> · — · —" in listing
    unit = await units.get(world.services.db, world.court.id, "3-502")
    assert unit is not None and unit.area == Fraction("90.25")

    replies = await do(world, world.alice.send(world.court, "/units remove 3栋502"))
    assert "removed from the register" in replies.text(world.court)
    replies = await do(world, world.alice.send(world.court, "/units remove 9-999"))
    assert "There is no unit 9-999" in replies.text(world.court)
    usage = await do(world, world.alice.send(world.court, "/units what"))
    assert "/units add 3-502 89.5" in usage.text(world.court)
    # a lead's own claim to a new label is a lead's act: the unit is added, the claim approved
    replies = await do(world, world.alice.send(world.court, "/unit 4-1"))
    assert "Unit 4-1 added to the register, and you are registered in it" in replies.text(
        world.court
    )
    own = await claim_of(world, "4-1", world.alice.id)
    assert own is not None and own.status == "approved"


async def test_long_register_is_paged(world: World) -> None:
    await world.with_bot()
    await units.import_rows(
        world.services.db,
        world.court.id,
        [(f"1-{n}", None) for n in range(1, 46)],
        world.services.clock(),
    )
    replies = await do(world, world.alice.send(world.court, "/units"))
    text = replies.text(world.court)
    assert "Page 1 of 3" in text and "<b>1-20</b>" in text and "<b>1-21</b>" not in text
    listing = world.fake.last_bot_message(world.court)
    assert listing is not None
    replies = await do(world, world.bob.press(listing, "un:p:1"))
    assert replies.answers()[0]["show_alert"]
    replies = await do(world, world.alice.press(listing, "un:p:1"))
    edited = replies.edits(world.court)[-1].params["text"]
    assert "Page 2 of 3" in edited and "<b>1-21</b>" in edited and "<b>1-41</b>" not in edited


async def test_the_approval_card_is_paged(world: World) -> None:
    await world.with_bot()
    people = [world.fake.user(f"Resident{n:02d}") for n in range(1, 14)]
    for person in people:
        await world.fake.join(world.court, person)
    await calm(world)
    for number, person in enumerate(people, start=1):
        await do(world, person.send(world.court, f"/unit 8-{number}"))
    card = await approval_card(world)
    assert card.text is not None
    assert "13 claims are waiting" in card.text and "Page 1 of 2" in card.text
    assert "10. Resident10 — 8-10" in card.text and "8-11" not in card.text
    replies = await do(world, world.alice.press(card, "un:p:w1"))
    edited = replies.edits(world.court)[-1].params["text"]
    assert "Page 2 of 2" in edited and "11. Resident11 — 8-11" in edited
    replies = await do(world, world.bob.press(card, "un:p:w0"))
    assert replies.answers()[0]["show_alert"]  # residents do not turn it


async def test_residents_cannot_manage_the_register(world: World) -> None:
    await world.with_bot()
    replies = await do(world, world.bob.send(world.court, "/units"))
    assert "can do that here" in replies.text(world.court)
    replies = await do(world, world.bob.send(world.court, "/units add 3-502 80"))
    assert "can do that here" in replies.text(world.court)
    assert await units.count(world.services.db, world.court.id) == 0
    helped = (await do(world, world.bob.send(world.court, "/help"))).text(world.court)
    assert "/unit 3-502" in helped and "/units add" not in helped
    helped = (await do(world, world.alice.send(world.court, "/help"))).text(world.court)
    assert "/units add 3-502 89.5" in helped


async def test_csv_import_in_a_private_chat(world: World) -> None:
    await world.with_bot()
    await do(world, world.alice.send(world.court, "/units add 3-502 80"))  # alice is known here
    content = "房号,面积\n3-502,89.5\n3-503,abc\n３－５０４,70平米\n3-505,\n3-5О4,71\n".encode()
    replies = await do(
        world, world.alice.send_document(world.alice.private, filename="units.csv", content=content)
    )
    text = replies.text(world.alice.private)
    assert "Units read from units.csv: 3" in text
    assert "Line 3: the floor area is not a number" in text
    assert "Line 6: this unit appears earlier" in text  # 3-5О4 with a Cyrillic О is 3-504
    question = world.fake.last_bot_message(world.alice.private)
    assert question is not None and question.reply_markup is not None
    data = question.reply_markup.inline_keyboard[0][0].callback_data
    assert isinstance(data, str) and data.startswith(f"un:i:{world.court.id}:")
    replies = await do(world, world.alice.press(question, data))
    done = "\n".join(
        [replies.text(world.alice.private)]
        + [c.params["text"] for c in replies.edits(world.alice.private)]
    )
    assert "Imported into Maple Court: 2 added, 1 updated, 0 unchanged" in done
    assert "Line 3" in done
    register = {
        e.unit.label: e.unit.area for e in await units.register(world.services.db, world.court.id)
    }
    assert register == {"3-502": Fraction("89.5"), "3-504": Fraction(71), "3-505": None}
    # the pending file was used up: a second press finds nothing, nothing is imported twice
    replies = await do(world, world.alice.press(question, data, check=False))
    assert "send it again" in replies.answer_text()
    # re-import updates, never duplicates
    await do(
        world,
        world.alice.send_document(
            world.alice.private, filename="u.csv", content=b"3-502;91\n3-504;71\n"
        ),
    )
    second = world.fake.last_bot_message(world.alice.private)
    assert second is not None and second.reply_markup is not None
    fresh = second.reply_markup.inline_keyboard[0][0].callback_data
    assert isinstance(fresh, str) and fresh != data
    # the first question's button is bound to the first file: it does not import the second
    replies = await do(world, world.alice.press(question, data, check=False))
    assert "send it again" in replies.answer_text()
    replies = await do(world, world.alice.press(second, f"un:i:{world.court.id}", check=False))
    assert "no longer works" in replies.answer_text()  # the old format, without a file number
    replies = await do(world, world.alice.press(second, fresh))
    done = "\n".join(c.params["text"] for c in replies.edits(world.alice.private))
    assert "0 added, 1 updated, 1 unchanged" in done
    assert await units.count(world.services.db, world.court.id) == 3


async def test_csv_from_a_non_lead_finds_no_group(world: World) -> None:
    await world.with_bot()
    await do(world, world.bob.send(world.court, "/unit 3-502"))  # bob is known, but a resident
    replies = await do(
        world, world.bob.send_document(world.bob.private, filename="u.csv", content=b"3-502,80\n")
    )
    assert "I know no group where you are a lead" in replies.text(world.bob.private)
    # forging the group button does not help either
    question = world.fake.last_bot_message(world.bob.private)
    assert question is not None
    replies = await do(world, world.bob.press(question, f"un:i:{world.court.id}:1", check=False))
    assert "Only a lead of that group" in replies.answer_text()
    assert await units.get(world.services.db, world.court.id, "3-502") is None
    bad = await do(
        world,
        world.bob.send_document(world.bob.private, filename="u.csv", content=b"\xff\xfe\x00bad"),
    )
    assert "save it as CSV in UTF-8" in bad.text(world.bob.private)


async def test_a_resident_cannot_fill_the_card_with_made_up_units(world: World) -> None:
    await world.with_bot()
    for n in range(1, 4):
        await do(world, world.bob.send(world.court, f"/unit 9{n}-01"))
    replies = await do(world, world.bob.send(world.court, "/unit 94-01"))
    assert "3 of your claims to units that are not in the register" in replies.text(world.court)
    assert len(await units.waiting(world.services.db, world.court.id)) == 3
    # asking again for one already waiting is not a new request, and a registered unit is fine
    replies = await do(world, world.bob.send(world.court, "/unit 91-01"))
    assert "already waiting for a lead" in replies.text(world.court)
    await do(world, world.alice.send(world.court, "/units add 94-01"))
    await do(world, world.bob.send(world.court, "/unit 94-01"))
    assert len(await units.waiting(world.services.db, world.court.id)) == 4
    assert await units.count(world.services.db, world.court.id) == 1


async def test_an_approval_a_decision_cannot_take_is_refused_with_what_to_do(
    world: World,
) -> None:
    await world.with_bot()
    await register_and_claim(world, {world.bob: ("2-101", 60)})
    await do(world, world.alice.send(world.court, "/decide New lift | rule=cn-278"))
    await do(world, world.carol.send(world.court, "/unit 2-102"))
    request = await request_of(world, world.carol.id)
    assert request is not None
    card = await approval_card(world)
    before = await snapshot(world)
    replies = await do(world, world.alice.press(card, f"un:a:n{request.request_id}"))
    [answer] = replies.answers()
    assert answer["show_alert"] and "/units add 2-102" in answer["text"]
    assert await snapshot(world) == before
    still = await request_of(world, world.carol.id)
    assert still is not None and still.status == "pending"
    # the lead adds it with its area; approving then joins that unit
    await do(world, world.alice.send(world.court, "/units add 2-102 65"))
    replies = await do(world, world.alice.press(card, f"un:a:n{request.request_id}", check=False))
    assert replies.answer_text() == "Approved: Кэрол, unit 2-102."
    claim = await claim_of(world, "2-102", world.carol.id)
    assert claim is not None and claim.status == "approved"


async def test_a_day_old_card_gives_way_to_a_new_one(world: World) -> None:
    await world.with_bot()
    await do(world, world.bob.send(world.court, "/unit 5-01"))
    old = await approval_card(world)
    # the card was posted yesterday: it is far up the chat by now
    yesterday = world.services.clock() - units_handler.QUEUE_CARD_AGE - timedelta(minutes=1)
    await units.set_queue_card(world.services.db, world.court.id, old.message_id, now=yesterday)
    replies = await do(world, world.carol.send(world.court, "/unit 5-02"))
    [posted] = replies.sent(world.court)
    assert "2 claims are waiting" in posted.params["text"]
    new = await approval_card(world)
    assert new.message_id != old.message_id
    moved = world.fake.message(world.court, old.message_id)
    assert moved is not None and moved.text is not None and "newer card below" in moved.text
    assert moved.reply_markup is None
    # while the queue is not empty, the next claim edits the new card
    replies = await do(world, world.wang.send(world.court, "/unit 5-03"))
    assert all("claims are waiting" not in c.params["text"] for c in replies.sent(world.court))
    shown = await approval_card(world)
    assert shown.message_id == new.message_id and shown.text is not None
    assert "3 claims are waiting" in shown.text
