"""Proposals attacked: a hostile resident, a careless lead, an elderly user typing loosely. Each
case is a break found while building (or a door that must stay shut)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from playground import FakeUser
from storage import decisions
from storage import proposals as store
from tests.e2e.conftest import World
from tests.e2e.test_proposals import card_of, card_text, claim, current, fire, households, latest


async def on_hearing(world: World, bob: FakeUser) -> store.Proposal:
    await world.do(bob.send(world.court, "/propose Fix the courtyard lights | Dark by the bins"))
    p = await latest(world)
    await world.do(world.alice.send(world.court, f"/agenda T{p.id}"))
    await world.do(world.alice.send(world.court, f"/hearing T{p.id} | in 3 days 18:00 | Yard"))
    p = await current(world, p.id)
    assert p.stage == "hearing"
    return p


async def test_a_reply_starting_with_a_number_is_a_statement_on_that_card(world: World) -> None:
    bob, *_ = await households(world)
    await world.do(bob.send(world.court, "/propose Something else | first"))  # T1
    p = await on_hearing(world, bob)  # T2
    # "/say 1 lamp…" replying to T2's card once went to T1 ("1" read as a reference)
    replies = await world.do(
        bob.send(world.court, "/say 1 lamp is enough by the bins", reply_to=card_of(world, p))
    )
    assert "1 lamp is enough by the bins" in replies.text(world.court)
    [(statement, _)] = await store.statements(world.services.db, p.id)
    assert statement.text == "1 lamp is enough by the bins"
    # a plain reply to the card while no meeting is open is left alone (no noise)
    other = await current(world, 1)
    replies = await world.do(bob.send(world.court, "nice idea", reply_to=card_of(world, other)))
    assert not replies.sent(world.court)


async def test_two_leads_pressing_put_to_a_vote_open_one_decision(world: World) -> None:
    bob, carol, *_ = await households(world)
    said = await carol.send(world.court, "hi")
    await world.do(world.alice.send(world.court, "/grant organizer", reply_to=said))
    p = await on_hearing(world, bob)
    card = card_of(world, p)
    mark = world.fake.mark()
    await asyncio.gather(world.alice.press(card, f"tp:v:{p.id}"), carol.press(card, f"tp:v:{p.id}"))
    await world.settle()
    rows = await world.services.db.fetchall("SELECT id FROM decisions")
    assert len(rows) == 1
    p = await current(world, p.id)
    assert p.stage == "vote" and p.decision_id == rows[0]["id"]
    texts = " ".join(
        c.params.get("text", "") for c in world.fake.calls[mark:] if c.method == "sendMessage"
    )
    assert "Not at this stage" in texts  # the second press is told, in the group


async def test_the_groups_threshold_and_its_bad_values(world: World) -> None:
    bob, carol, wang, *_ = await households(world)
    for text, expected in (
        ("/settings proposal_support lots", "is not a threshold"),
        ("/settings proposal_support 0", "is not a threshold"),
        ("/settings proposal_days 0", "is not a number of days"),
        ("/settings proposal_support 30%", "3/10"),
        ("/settings proposal_days 14", "14 days"),
    ):
        replies = await world.do(world.alice.send(world.court, text))
        assert expected in replies.text(world.court), (text, replies.text(world.court))
    replies = await world.do(bob.send(world.court, "/settings proposal_support 1"))
    assert "Sorry, only" in replies.text(world.court)
    await world.do(bob.send(world.court, "/propose Benches | in the yard"))
    p = await latest(world)
    assert "Support: 0 of 3 households needed (threshold 3/10 of 10 registered)" in card_text(
        world, p
    )
    assert (p.expires_at - p.created_at).days == 14
    for person in (bob, carol):
        await world.do(person.press(card_of(world, p), f"tp:s:{p.id}"))
    assert (await current(world, p.id)).stage == "collecting"
    await world.do(wang.press(card_of(world, p), f"tp:s:{p.id}"))
    assert (await current(world, p.id)).stage == "agenda"
    # the panel shows it, and its button walks the usual thresholds
    replies = await world.do(world.alice.send(world.court, "/settings"))
    panel = replies.sent(world.court)[-1]
    assert "Proposals: on the agenda with 3/10" in panel.params["text"]
    message = world.fake.message(world.court, panel.result["message_id"])
    await world.do(world.alice.press(message, "st:t"))
    chat = await world.services.db.fetchone(
        "SELECT settings FROM chats WHERE id = ?", (world.court.id,)
    )
    assert chat is not None and '"proposal_support": "1/5"' in chat["settings"]


async def test_one_household_one_support_and_a_shared_unit(world: World) -> None:
    bob, carol, *_ = await households(world)
    await claim(world, bob, "1-06")  # Bob holds two units
    partner = world.fake.user("Partner", language_code="en")
    await world.do(world.fake.join(world.court, partner))
    await claim(world, partner, "1-02")  # shares Кэрол's unit
    await world.do(carol.send(world.court, "/propose Bike shed | by the gate"))
    p = await latest(world)
    replies = await world.do(bob.press(card_of(world, p), f"tp:s:{p.id}"))
    assert "1-01, 1-06" in replies.answer_text()
    assert p.stage == "collecting" and await store.support_count(world.services.db, p.id) == 2
    assert (await current(world, p.id)).stage == "agenda"  # two households of ten: 1/5
    await world.do(world.alice.send(world.court, "/propose Paint the gate | green"))
    q = await latest(world)
    await world.do(carol.press(card_of(world, q), f"tp:s:{q.id}"))
    # the same household pressing again withdraws, whoever of them presses (said plainly)
    replies = await world.do(partner.press(card_of(world, q), f"tp:s:{q.id}"))
    assert "withdrawn" in replies.answer_text()
    assert await store.support_count(world.services.db, q.id) == 0


async def test_statement_limits_and_repeats(world: World) -> None:
    bob, carol, *_ = await households(world)
    p = await on_hearing(world, bob)
    for n in range(5):
        replies = await world.do(bob.send(world.court, f"/say T{p.id} Point number {n}"))
        assert f"Point number {n}" in replies.text(world.court)
    replies = await world.do(bob.send(world.court, f"/say T{p.id} Point number 6"))
    assert "let others speak too" in replies.text(world.court)
    replies = await world.do(carol.send(world.court, f"/say T{p.id} point NUMBER 1"))
    assert "already" in replies.text(world.court) or "уже" in replies.text(world.court)
    replies = await world.do(carol.send(world.court, f"/say T{p.id} " + "long " * 60))
    assert "200" in replies.text(world.court)
    # markup in a statement is shown as typed, never as formatting
    replies = await world.do(carol.send(world.court, f"/say T{p.id} <b>bold</b> & <i>x"))
    [sent] = replies.sent(world.court)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;x" in sent.params["text"]


async def test_minutes_as_a_file_and_files_that_are_not(world: World) -> None:
    bob, *_ = await households(world)
    p = await on_hearing(world, bob)
    replies = await world.do(
        world.alice.send_document(
            world.court,
            filename="minutes.txt",
            content="\ufeff12 came.\nAgreed: LED lamps.\n".encode(),
            caption=f"/minutes T{p.id}",
        )
    )
    assert "Agreed: LED lamps." in replies.text(world.court)
    replies = await world.do(
        world.alice.send_document(
            world.court, filename="minutes.pdf", content=b"%PDF-1.4", caption=f"/minutes T{p.id}"
        )
    )
    assert ".txt or .md" in replies.text(world.court)
    replies = await world.do(
        bob.send_document(
            world.court, filename="m.txt", content=b"mine", caption=f"/minutes T{p.id}"
        )
    )
    assert "Sorry, only" in replies.text(world.court)
    assert len(await store.minutes(world.services.db, p.id)) == 1


async def test_a_crash_between_the_vote_and_its_decision_goes_back(world: World) -> None:
    bob, *_ = await households(world)
    p = await on_hearing(world, bob)
    now = world.services.clock()
    # as a crash would leave it: the stage moved, the check row written, no decision
    done = await store.advance(
        world.services.db,
        p.id,
        chat_id=world.court.id,
        to="vote",
        now=now,
        schedule=((store.VOTE_CHECK, now),),
    )
    assert done.proposal.decision_id is None
    await fire(world, store.VOTE_CHECK, p.id)
    assert (await current(world, p.id)).stage == "agenda"


async def test_a_vote_that_cannot_open_leaves_the_proposal_where_it_was(world: World) -> None:
    bob, *_ = await households(world)
    p = await on_hearing(world, bob)
    replies = await world.do(
        world.alice.send(world.court, f"/decide T{p.id} | rule=cn-278 | closes=in 3 days")
    )
    # every unit has an area here, so cn-278 opens; a rule nobody knows does not
    assert (await current(world, p.id)).stage == "vote", replies.text(world.court)
    await world.do(bob.send(world.court, "/propose Second | thing"))
    q = await latest(world)
    await world.do(world.alice.send(world.court, f"/agenda T{q.id}"))
    replies = await world.do(world.alice.send(world.court, f"/decide T{q.id} | rule=whatever"))
    assert replies.sent(world.court)
    q = await current(world, q.id)
    assert q.stage == "agenda" and q.decision_id is None
    assert len(await world.services.db.fetchall("SELECT id FROM decisions")) == 1
    # a plain /decide still reaches the decisions feature
    await world.do(world.alice.send(world.court, "/decide Paint the hall"))
    assert len(await world.services.db.fetchall("SELECT id FROM decisions")) == 2
    d = await decisions.get(world.services.db, 2)
    assert d is not None and d.title == "Paint the hall"


async def test_review_remarks_need_an_answer_and_only_households_answer(world: World) -> None:
    bob, carol, *_ = await households(world)
    p = await on_hearing(world, bob)
    now = world.services.clock()
    for stage in ("vote", "decided"):
        await store.advance(world.services.db, p.id, chat_id=world.court.id, to=stage, now=now)
    replies = await world.do(bob.send(world.court, f"/review T{p.id} lamps flicker"))
    assert "is not open" in replies.text(world.court)
    replies = await world.do(carol.send(world.court, f"/review T{p.id}"))
    assert "Sorry, only" in replies.text(world.court)
    await world.do(world.alice.send(world.court, f"/review T{p.id}"))
    assert (await current(world, p.id)).stage == "review"
    replies = await world.do(bob.send(world.court, f"/review T{p.id} lamps flicker"))
    assert "Choose an answer first" in replies.text(world.court)
    stranger = world.fake.user("Visitor", language_code="en")
    await world.do(world.fake.join(world.court, stranger))
    replies = await world.do(stranger.send(world.court, f"/review T{p.id} well"))
    assert "registered households" in replies.text(world.court)
    replies = await world.do(bob.send(world.court, f"/review T{p.id} хорошо"))
    assert await store.review_answers(world.services.db, p.id) == [("well", None)]
    await world.do(world.alice.send(world.court, f"/close T{p.id}"))
    p = await current(world, p.id)
    assert p.stage == "reviewed" and p.result is not None and p.result["well"] == 1


async def test_forgetting_the_author_keeps_the_groups_record(world: World) -> None:
    bob, *_ = await households(world)
    p = await on_hearing(world, bob)
    await world.do(bob.send(world.court, f"/say T{p.id} LED lamps"))
    await world.do(bob.send(bob.private, "/start"))
    await world.do(bob.press(card_of(world, p), f"tp:f:{p.id}"))
    replies = await world.do(bob.send(bob.private, "/mydata"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument"]
    data = json.loads(doc.params["document"].decode("utf-8-sig"))
    flat = json.dumps(data, ensure_ascii=False)
    assert "Fix the courtyard lights" in flat and "LED lamps" in flat
    assert '"proposals_followed"' in flat
    replies = await world.do(bob.send(bob.private, "/forgetme"))
    confirm = replies.sent(bob.id)[-1]
    buttons = confirm.params["reply_markup"]["inline_keyboard"]
    yes = next(b["callback_data"] for row in buttons for b in row if b["callback_data"])
    await world.do(bob.press(world.fake.message(bob.private, confirm.result["message_id"]), yes))
    db = world.services.db
    for sql in (
        "SELECT count(*) AS n FROM proposals WHERE author_id = ?",
        "SELECT count(*) AS n FROM proposal_statements WHERE author_id = ?",
        "SELECT count(*) AS n FROM proposal_followers WHERE user_id = ?",
    ):
        row = await db.fetchone(sql, (bob.id,))
        assert row is not None and row["n"] == 0, sql
    [(statement, _)] = await store.statements(db, p.id)
    assert statement.text == "LED lamps" and statement.author_id == 0
    assert (await current(world, p.id)).title == "Fix the courtyard lights"


async def test_a_lost_close_hook_is_made_up_by_the_deadline_check(world: World) -> None:
    from handlers import decisions as decisions_handlers
    from handlers import proposals as proposals_handlers

    bob, carol, *_ = await households(world)
    p = await on_hearing(world, bob)
    await world.do(world.alice.send(world.court, f"/decide T{p.id}"))
    p = await current(world, p.id)
    assert p.decision_id is not None
    decision = await decisions.get(world.services.db, p.decision_id)
    assert decision is not None
    vote_card = world.fake.message(world.court, decision.message_id)
    await world.do(bob.press(vote_card, f"dc:v:{decision.id}:f"))
    await world.do(carol.press(vote_card, f"dc:v:{decision.id}:f"))
    hooks = decisions_handlers.ON_CLOSED
    hooks.remove(proposals_handlers.on_decision_closed)  # as if the process died right there
    try:
        await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    finally:
        hooks.append(proposals_handlers.on_decision_closed)
    assert (await current(world, p.id)).stage == "vote"
    await fire(world, store.VOTE_CHECK, p.id)
    p = await current(world, p.id)
    assert p.stage == "decided" and p.review_at is not None
    assert "Review on" in card_text(world, p)


async def test_a_proposal_survives_its_group_becoming_a_supergroup(world: World) -> None:
    bob, carol, *_ = await households(world)
    p = await on_hearing(world, bob)
    await world.do(bob.send(world.court, f"/say T{p.id} LED lamps"))
    new = await world.fake.upgrade_to_supergroup(world.court, by=world.alice)
    await world.settle()
    await world.services.outbox.idle()
    moved = await current(world, p.id)
    assert moved.chat_id == new.id and moved.message_id is not None
    shown = world.fake.message(new, moved.message_id)
    assert shown is not None and "Fix the courtyard lights" in (shown.text or "")
    [(statement, _)] = await store.statements(world.services.db, p.id)
    replies = await world.do(carol.send(new, f"/say T{p.id} Sensors too"))
    assert "Sensors too" in replies.text(new)
    replies = await world.do(carol.send(new, "And timers", reply_to=shown))
    assert "And timers" in replies.text(new)
    assert len(await store.statements(world.services.db, p.id)) == 3
    assert statement.text == "LED lamps"


async def test_the_digest_lists_proposals_under_way(world: World) -> None:
    from handlers import digest
    from handlers import proposals as proposals_handlers

    bob, *_ = await households(world)
    assert proposals_handlers.proposals_digest in digest.SECTIONS
    await world.do(bob.send(world.court, "/propose Benches | in the yard"))
    await on_hearing(world, bob)
    await world.do(bob.send(world.court, "/propose Old idea | x"))
    old = await latest(world)
    await world.do(world.alice.send(world.court, f"/decline T{old.id} not ours"))
    chat = await world.services.db.fetchone("SELECT id FROM chats WHERE id = ?", (world.court.id,))
    assert chat is not None
    from storage import chats

    found = await chats.get(world.services.db, world.court.id)
    assert found is not None
    text = await proposals_handlers.proposals_digest(world.services, found, world.services.clock())
    assert text is not None and "Proposals under way" in text
    assert (
        "Benches — collecting support, 👍 0" in text
        and "Fix the courtyard lights — hearing" in text
    )
    assert "Old idea" not in text
    replies = await world.do(bob.send(world.court, "/proposals"))
    listing = replies.text(world.court)
    assert (
        listing.index("collecting support") < listing.index("hearing") < listing.index("declined")
    )


async def test_a_lead_moves_the_review_date_and_residents_cannot(world: World) -> None:
    bob, *_ = await households(world)
    p = await on_hearing(world, bob)
    now = world.services.clock()
    review_at = now + timedelta(days=90)
    done = await store.advance(world.services.db, p.id, chat_id=world.court.id, to="vote", now=now)
    done = await store.advance(
        world.services.db,
        p.id,
        chat_id=world.court.id,
        to="decided",
        now=now,
        fields={"decided_at": now, "review_at": review_at},
        schedule=((store.REVIEW_OPEN, review_at),),
    )
    replies = await world.do(bob.send(world.court, f"/review T{p.id} in 2 weeks"))
    assert "is not open" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, f"/review T{p.id} in 2 weeks 10:00"))
    assert "will open on" in replies.text(world.court)
    p = await current(world, p.id)
    assert p.review_at is not None and timedelta(days=13) < p.review_at - now < timedelta(days=15)
    rows = await world.services.db.fetchall(
        "SELECT status, run_at FROM scheduled WHERE kind = ? AND ref_id = ? ORDER BY id",
        (store.REVIEW_OPEN, p.id),
    )
    assert [r["status"] for r in rows] == ["cancelled", "pending"]
    replies = await world.do(world.alice.send(world.court, f"/review T{p.id} yesterday"))
    assert replies.sent(world.court) and (await current(world, p.id)).review_at == p.review_at
    assert done.proposal.stage == "decided"


async def test_references_as_people_type_them(world: World) -> None:
    bob, carol, *_ = await households(world)
    p = await on_hearing(world, bob)
    for text in (
        f"/say Т{p.id} Cyrillic T typed",  # a Russian keyboard's Т
        f"/say т{p.id}: lower case and a colon",
        f"/say #T{p.id} with the card's hash",
        f"/say t{p.id}，full-width comma",
    ):
        replies = await world.do(carol.send(world.court, text))
        assert "Statement" in replies.text(world.court) or "Тезис" in replies.text(world.court), (
            text,
            replies.text(world.court),
        )
    texts = [s.text for s, _ in await store.statements(world.services.db, p.id)]
    assert texts == [
        "Cyrillic T typed",
        "lower case and a colon",
        "with the card's hash",
        "full-width comma",
    ]


async def test_a_burst_of_supports_is_a_few_edits_of_the_card(world: World) -> None:
    people = await households(world)
    for n in range(6, 11):
        person = world.fake.user(f"Resident{n}", language_code="en")
        await world.do(world.fake.join(world.court, person))
        await claim(world, person, f"1-{n:02d}")
        people.append(person)
    await world.do(world.alice.send(world.court, "/settings proposal_support 100%"))
    await world.do(people[0].send(world.court, "/propose Repaint the stairwell | grey"))
    p = await latest(world)
    card = card_of(world, p)
    mark = world.fake.mark()
    await asyncio.gather(*(person.press(card, f"tp:s:{p.id}") for person in people[:9]))
    await world.settle()
    await world.services.outbox.idle()
    edits = [
        c
        for c in world.fake.calls[mark:]
        if c.method == "editMessageText" and c.params.get("message_id") == p.message_id
    ]
    answers = [c for c in world.fake.calls[mark:] if c.method == "answerCallbackQuery"]
    assert len(answers) == 9  # every press answered
    print(f"9 support presses at once -> {len(edits)} edit(s) of the card")
    assert 1 <= len(edits) < 9, len(edits)  # coalesced: latest state wins
    assert "Support: 9 of 10" in card_text(world, await current(world, p.id))
    # a cancelled hearing is not shown as if it still took place
    await world.do(world.alice.send(world.court, f"/agenda T{p.id}"))
    await world.do(world.alice.send(world.court, f"/hearing T{p.id} | in 3 days 18:00"))
    p = await current(world, p.id)
    await world.do(world.alice.send(world.court, f"/event cancel E{p.hearing_id}"))
    # the card is redrawn at its next change (the events feature does not tell proposals)
    await world.do(people[1].send(world.court, f"/say T{p.id} Before winter, please"))
    await world.services.outbox.idle()
    assert f"#E{p.hearing_id}" not in card_text(world, await current(world, p.id))


async def test_long_minutes_are_kept_whole_and_posted_in_part(world: World) -> None:
    bob, *_ = await households(world)
    p = await on_hearing(world, bob)
    for n in range(6):  # six statements, agreed or divisive, listed under the minutes too
        await world.do(bob.send(world.court, f"/say T{p.id} {'Statement ' * 9}{n}"))
    text = "\n".join(f"{n}. " + "Привет, соседи! " * 12 for n in range(40))  # ~7 800 chars
    replies = await world.do(
        world.alice.send_document(
            world.court,
            filename="minutes.txt",
            content=text.encode(),
            caption=f"/minutes T{p.id}",
        )
    )
    [sent] = replies.sent(world.court)
    assert len(sent.params["text"]) < 4096 and f"/export T{p.id}" in sent.params["text"]
    [kept] = await store.minutes(world.services.db, p.id)
    assert kept.text == "\n".join(line.rstrip() for line in text.splitlines())


async def test_a_card_full_of_markup_still_posts(world: World) -> None:
    bob, carol, *_ = await households(world)
    await world.do(bob.send(world.court, "/propose <b>&amp; | " + "<&>" * 500))
    p = await latest(world)
    assert p.message_id is not None  # Telegram took it: the HTML is whole
    await world.do(world.alice.send(world.court, f"/agenda T{p.id}"))
    await world.do(world.alice.send(world.court, f"/hearing T{p.id} | in 3 days 18:00"))
    for n, person in enumerate((bob, carol) * 3):
        await world.do(person.send(world.court, f"/say T{p.id} {n}" + "<&>" * 60))
    for statement, _ in await store.statements(world.services.db, p.id):
        message = world.fake.message(world.court, statement.message_id)
        for person in (bob, carol):
            await world.do(person.press(message, f"ts:{statement.id}:a"))
    await world.services.outbox.idle()
    text = card_text(world, await current(world, p.id))
    assert "<b>&amp;" in text and text.rstrip().endswith(f"#T{p.id}")
    refused = [
        c
        for c in world.fake.calls
        if c.method in ("sendMessage", "editMessageText")
        and not c.ok
        and int(c.params.get("chat_id", 0)) == world.court.id
        and "not modified" not in (c.description or "")  # a coalesced edit found it drawn
    ]
    assert refused == []  # Telegram refused no card: every cut was between whole lines


async def test_a_lowered_threshold_counts_at_the_expiry(world: World) -> None:
    bob, carol, *_ = await households(world)
    await world.do(world.alice.send(world.court, "/settings proposal_support 1/2"))
    await world.do(bob.send(world.court, "/propose Benches | in the yard"))
    p = await latest(world)
    for person in (bob, carol):
        await world.do(person.press(card_of(world, p), f"tp:s:{p.id}"))
    assert (await current(world, p.id)).stage == "collecting"  # 2 of 5
    await world.do(world.alice.send(world.court, "/settings proposal_support 1/5"))
    await fire(world, store.EXPIRY, p.id)
    p = await current(world, p.id)
    assert p.stage == "agenda" and p.how == "support"
