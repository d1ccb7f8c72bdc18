"""Proposals attacked: a card of emoji at every limit, and what a resident alone cannot change."""

from __future__ import annotations

from bot.domain.text import utf16_len
from storage import decisions
from storage import proposals as store
from tests.e2e.conftest import World
from tests.e2e.test_proposals import card_of, card_text, current, households, latest


async def test_a_card_of_emoji_keeps_updating_below_telegrams_limit(world: World) -> None:
    """Title, text, dispute, statements, assignee and progress all of emoji, each within its
    limit: the card was cut at 3 800 *characters*, so it grew past Telegram's 4 096 UTF-16
    units and every later edit was refused ("message is too long") — the card stopped
    showing progress."""
    people = await households(world)
    bob = people[0]
    e = "😀"
    mark = world.fake.mark()
    await world.do(bob.send(world.court, f"/propose {e * 120} | {e * 1500}"))
    p = await latest(world)
    await world.do(world.alice.send(world.court, f"/agenda T{p.id}"))
    await world.do(
        world.alice.send(world.court, f"/coordination T{p.id} | {e * 200} | in 3 days 18:00")
    )
    for n, person in enumerate(people[:3]):
        replies = await world.do(person.send(world.court, f"/say T{p.id} {n}{e * 199}"))
        [sent] = replies.sent(world.court)
        button = sent.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        message = world.fake.message(world.court, sent.result["message_id"])
        assert message is not None
        for voter in people[3:]:
            await world.do(voter.press(message, button))  # agreed: on the card
    await world.do(world.alice.press(card_of(world, p), f"tp:v:{p.id}"))
    p = await current(world, p.id)
    assert p.decision_id is not None
    decision = await decisions.get(world.services.db, p.decision_id)
    assert decision is not None and decision.message_id is not None
    ballot = world.fake.message(world.court, decision.message_id)
    assert ballot is not None
    for person in people:
        await world.do(person.press(ballot, f"dc:v:{decision.id}:f"))
    await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    await world.do(world.alice.send(world.court, f"/progress T{p.id} assign {e * 80}"))
    for n in range(1, 4):
        await world.do(world.alice.send(world.court, f"/progress T{p.id} {n}0% {e * 299}"))
    await world.services.outbox.idle()
    await world.settle()
    refused = [c for c in world.fake.calls[mark:] if not c.ok and "too long" in str(c.description)]
    assert not refused
    text = card_text(world, p)
    assert utf16_len(text) <= 4096 and text.rstrip().endswith(f"#T{p.id}")
    assert (await current(world, p.id)).stage == "progress"


async def under_review(world: World) -> tuple[list, store.Proposal]:  # type: ignore[type-arg]
    """A proposal decided by a vote every household passed, its review started by a lead."""
    people = await households(world)
    await world.do(people[0].send(world.court, "/propose Fix the lights | dark by the bins"))
    p = await latest(world)
    await world.do(world.alice.send(world.court, f"/agenda T{p.id}"))
    await world.do(world.alice.send(world.court, f"/decide T{p.id} | closes=in 3 days"))
    p = await current(world, p.id)
    assert p.decision_id is not None
    decision = await decisions.get(world.services.db, p.decision_id)
    assert decision is not None and decision.message_id is not None
    ballot = world.fake.message(world.court, decision.message_id)
    assert ballot is not None
    for person in people:
        await world.do(person.press(ballot, f"dc:v:{decision.id}:f"))
    await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    await world.do(world.alice.send(world.court, f"/review T{p.id}"))
    p = await current(world, p.id)
    assert p.stage == "review"
    return people, p


async def test_review_answers_typed_as_people_write_them(world: World) -> None:
    """Chinese writes no space after 部分完成, and people end a word with "!": the answer was
    looked for only as a whole first word, so "部分完成，一盏灯还在闪" and "Хорошо!" were
    remarks without an answer, refused until the household pressed a button."""
    (bob, carol, wang, n4, n5), p = await under_review(world)
    for person, typed in (
        (wang, f"/review T{p.id} 部分完成，一盏灯还在闪"),
        (carol, f"/review T{p.id} Хорошо!"),
        (n4, f"/review T{p.id} 不滿意，燈還是不亮"),  # Traditional, no space either
        (n5, f"/review T{p.id} Well done!"),
        (bob, f"/review T{p.id} well-lit at last"),  # a remark: "well-lit" is no answer
    ):
        await world.do(person.send(world.court, typed))
    answers = await store.review_answers(world.services.db, p.id)
    assert ("partly", "一盏灯还在闪") in answers
    assert ("well", None) in answers
    assert ("not", "燈還是不亮") in answers
    assert len([a for a, _ in answers if a == "well"]) == 2
    assert len(answers) == 4  # Bob's remark alone answers nothing


async def test_a_suspended_claim_is_told_as_suspended_not_as_no_unit(world: World) -> None:
    """Bob left and came back: his claim to 1-01 is suspended until a lead restores it. His
    Support press was told "register yours first, e.g. /unit 3-502" — claiming 1-01 again
    brings nothing back — and the amendment's Support the same. Now both say it is suspended
    and that a lead can restore it."""
    people = await households(world)
    bob, carol = people[0], people[1]
    await world.do(world.alice.send(world.court, "/propose Lamps | dark by the bins"))
    p = await latest(world)
    await world.do(world.alice.send(world.court, "/rules draft 1. Quiet after 22:00."))
    replies = await world.do(world.alice.send(world.court, "/amend 1 Quiet after 23:00."))
    amendment = world.fake.message(world.court, replies.sent(world.court)[-1].result["message_id"])
    assert amendment is not None
    for person in (bob, carol):
        await world.do(world.fake.leave(world.court, person))
        await world.do(world.fake.join(world.court, person))
    replies = await world.do(bob.press(card_of(world, p), f"tp:s:{p.id}"))
    assert "1-01" in replies.answer_text() and "suspended" in replies.answer_text()
    replies = await world.do(carol.press(card_of(world, p), f"tp:s:{p.id}"))
    assert "1-02" in replies.answer_text() and "приостановлена" in replies.answer_text()
    replies = await world.do(bob.press(amendment, "hr:s:1"))
    assert "1-01" in replies.answer_text() and "suspended" in replies.answer_text()
    assert await store.support_count(world.services.db, p.id) == 0


async def test_a_lead_answering_before_the_review_is_told_it_is_not_open(world: World) -> None:
    """A lead typing a review answer while the proposal is only decided was told "I could not
    understand the time" (the words were read as a new review date)."""
    people = await households(world)
    await world.do(people[0].send(world.court, "/propose Fix the lights | dark by the bins"))
    p = await latest(world)
    await world.do(world.alice.send(world.court, f"/agenda T{p.id}"))
    await world.do(world.alice.send(world.court, f"/decide T{p.id} | closes=in 3 days"))
    p = await current(world, p.id)
    assert p.decision_id is not None
    decision = await decisions.get(world.services.db, p.decision_id)
    assert decision is not None and decision.message_id is not None
    ballot = world.fake.message(world.court, decision.message_id)
    assert ballot is not None
    for person in people:
        await world.do(person.press(ballot, f"dc:v:{decision.id}:f"))
    await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    before = (await current(world, p.id)).review_at
    replies = await world.do(world.alice.send(world.court, f"/review T{p.id} partly, 3 lamps"))
    assert "is not open" in replies.text(world.court)
    assert "time" not in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, f"/review T{p.id} 1 march 10:00"))
    after = (await current(world, p.id)).review_at
    assert after is not None and after != before and after.month == 3


async def test_a_hearings_event_is_titled_in_the_groups_punctuation(world: World) -> None:
    """In a Chinese group the hearing's event read "听证会: 修路灯" — an English colon glued
    in code; the catalog gives each language its own ("听证会：", "Слушания: ")."""
    people = await households(world)
    for lang, title, expected in (
        ("zh", "修路灯 & 加长椅", "听证会：修路灯 & 加长椅"),
        ("zh-hant", "修路燈", "聽證會：修路燈"),
        ("ru", "Фонари", "Слушания: Фонари"),
    ):
        await world.do(world.alice.send(world.court, f"/settings language {lang}"))
        await world.do(people[0].send(world.court, f"/propose {title} | x"))
        p = await latest(world)
        await world.do(world.alice.send(world.court, f"/agenda T{p.id}"))
        await world.do(world.alice.send(world.court, f"/hearing T{p.id} | in 3 days 18:00"))
        p = await current(world, p.id)
        row = await world.services.db.fetchone(
            "SELECT title FROM events WHERE id = ?", (p.hearing_id,)
        )
        assert row is not None and row["title"] == expected


async def test_proposals_whose_cards_telegram_refused_do_not_block_their_author(
    world: World,
) -> None:
    """Telegram failing (500, past every retry) through three tries of /propose left three
    cardless proposals collecting support — nobody can support them — and the fourth try,
    once Telegram was back, was refused: three proposals collecting at once is the limit."""
    people = await households(world)
    bob = people[0]
    world.fake.inject("sendMessage", error_code=500, times=200, chat_id=world.court.id)
    for _ in range(3):
        await world.do(bob.send(world.court, "/propose Lamps | dark by the bins"))
    world.fake.clear_faults()
    replies = await world.do(bob.send(world.court, "/propose Lamps | dark by the bins"))
    assert "Support" in replies.text(world.court)
    # the three never shown are gone with their expiry rows; the id shown is a new one
    rows = await world.services.db.fetchall("SELECT id FROM proposals")
    assert [r["id"] for r in rows] == [4]
    assert "#T4" in replies.text(world.court)
    expiries = await world.services.db.fetchall(
        "SELECT ref_id, status FROM scheduled WHERE kind = ? ORDER BY ref_id", (store.EXPIRY,)
    )
    assert [(r["ref_id"], r["status"]) for r in expiries] == [
        (1, "cancelled"),
        (2, "cancelled"),
        (3, "cancelled"),
        (4, "pending"),
    ]
    listing = await world.do(bob.send(world.court, "/proposals"))
    assert "#T4" in listing.text(world.court) and "#T1" not in listing.text(world.court)


async def test_a_list_of_emoji_titles_fits_in_one_message(world: World) -> None:
    """Thirty proposals titled in emoji (each within the 120 allowed): /proposals made a message
    of over 4 096 UTF-16 units, which Telegram refused — the resident got an error instead of
    the list."""
    people = await households(world)
    extra = [world.fake.user(f"Resident{i}", language_code="en") for i in range(6)]
    for person in extra:
        await world.do(world.fake.join(world.court, person))
    for person in [world.alice, *people, *extra]:
        for n in range(3):
            await world.do(person.send(world.court, f"/propose {n}{'😀' * 119} | x"))
    replies = await world.do(world.bob.send(world.court, "/proposals"))
    assert not [c for c in replies.calls if not c.ok]
    [listing] = replies.sent(world.court)
    text = listing.params["text"]
    assert "Proposals" in text and "older ones" in text and utf16_len(text) <= 4096
