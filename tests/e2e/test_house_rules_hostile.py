"""House rules under attack and under loose typing: who may do what, forged and stale buttons,
a draft frozen while it is voted on, a vote that fails, long rules, files, a missed outcome."""

from __future__ import annotations

import pytest

from handlers import decisions as decisions_h
from handlers import house_rules as house_rules_h
from playground import FakeUser
from storage import house_rules as store
from tests.e2e.conftest import World
from tests.e2e.test_house_rules import RULES_V1, card, draft_card, ratify_and_pass, setup_building


async def with_draft(world: World, text: str = RULES_V1) -> list[FakeUser]:
    people = await setup_building(world)
    await world.do(world.alice.send(world.court, "/rules draft " + text))
    await world.services.outbox.idle()  # the set-up's own messages, late on a loaded machine
    return people


async def test_who_may_do_what(world: World) -> None:
    await with_draft(world)
    # a resident may not draft, ratify or discard; may not replace the text by replying
    for text in ("/rules draft 1. Mine", "/rules ratify", "/rules discard"):
        replies = await world.do(world.bob.send(world.court, text))
        assert "only" in replies.text(world.court), text
    replies = await world.do(
        world.bob.send(world.court, "1. Mine only", reply_to=await draft_card(world))
    )
    assert "Only leads and organizers replace the draft" in replies.text(world.court)
    found = await store.draft_of(world.services.db, world.court.id)
    assert found is not None and len(found.articles) == 3
    await world.do(world.bob.send(world.court, "/amend 1 Quiet from 23:00."))
    [amendment] = await store.amendments(world.services.db, found.id)
    # a resident may not accept with a forged press or a command
    replies = await world.do(world.bob.send(world.court, f"/amend accept {amendment.id}"))
    assert "only" in replies.text(world.court)
    replies = await world.do(
        world.carol.press(card(world, amendment.message_id), f"hr:a:{amendment.id}")
    )
    assert replies.answers()[0].get("show_alert")
    assert (await store.amendment(world.services.db, amendment.id)).status == store.PENDING


async def test_forged_and_stale_buttons_change_nothing(world: World) -> None:
    await with_draft(world)
    other = world.fake.group("Oak Court", admins=[world.alice], members=[world.bob])
    await world.with_bot(other)
    await world.do(world.alice.send(other, "/rules draft 1. Oak rule"))
    await world.do(world.bob.send(other, "/amend 1 Oak change"))
    [theirs] = await store.amendments(
        world.services.db, (await store.draft_of(world.services.db, other.id)).id
    )
    await world.do(world.bob.send(world.court, "/amend 1 Quiet from 23:00."))
    mine = await store.draft_of(world.services.db, world.court.id)
    assert mine is not None
    [amendment] = await store.amendments(world.services.db, mine.id)
    target = card(world, amendment.message_id)
    for data in (
        f"hr:s:{theirs.id}",  # another group's amendment
        "hr:s:999999",
        "hr:s:²",
        "hr:s:" + "9" * 40,
        "hr:s",
        f"hr:q:{amendment.id}",
        f"hr:a:{theirs.id}",
        f"hr:p:{mine.id}",  # a draft is not pinned
        f"hr:v:{mine.id}:999",
        f"hr:x:{theirs.version_id}",
    ):
        replies = await world.do(world.alice.press(target, data, check=False))
        assert replies.answers(), data  # every press is answered
        assert "no longer works" in replies.answer_text() or "Draft" not in replies.answer_text()
    assert (await store.amendment(world.services.db, theirs.id)).status == store.PENDING
    assert (await store.amendment(world.services.db, amendment.id)).supports == 0
    # accepting an amendment of another group by its number
    replies = await world.do(world.alice.send(world.court, f"/amend accept {theirs.id}"))
    assert f"no amendment {theirs.id}" in replies.text(world.court)
    # accepted once; pressing again is answered as closed
    await world.do(world.alice.press(target, f"hr:a:{amendment.id}"))
    replies = await world.do(world.alice.press(target, f"hr:a:{amendment.id}", check=False))
    assert "no longer open" in replies.answer_text()
    replies = await world.do(world.carol.press(target, f"hr:s:{amendment.id}", check=False))
    assert replies.answers()
    assert (await store.amendment(world.services.db, amendment.id)).supports == 0


async def test_support_needs_a_household(world: World) -> None:
    await with_draft(world)
    await world.do(world.bob.send(world.court, "/amend 3 Rubbish by 20:00."))
    draft = await store.draft_of(world.services.db, world.court.id)
    [amendment] = await store.amendments(world.services.db, draft.id)
    newcomer = world.fake.user("Newcomer")
    await world.do(world.fake.join(world.court, newcomer))
    replies = await world.do(
        newcomer.press(card(world, amendment.message_id), f"hr:s:{amendment.id}")
    )
    assert "per household" in replies.answer_text()
    assert (await store.amendment(world.services.db, amendment.id)).supports == 0


async def test_bad_amendments_are_answered(world: World) -> None:
    await with_draft(world)
    cases = {
        "/amend": "Write it like this",
        "/amend three New": "Write it like this",
        "/amend 9 Something": "no article 9: it has 3 articles",
        "/amend 1 Quiet hours are from 22:00 to 7:00.": "already the text of article 1",
        "/amend 2": "Write it like this",  # no text and no message replied to
        "/amend decline": "only",  # a lead's word, whatever follows
        "/amend withdraw 1": "no amendment 1",
        "/amend 3 delete": "cannot strike an article out",
        "/amend 3 删除": "cannot strike an article out",
    }
    for text, expected in cases.items():
        replies = await world.do(world.bob.send(world.court, text))
        assert expected in replies.text(world.court), (text, replies.text(world.court))
    draft = await store.draft_of(world.services.db, world.court.id)
    assert not await store.amendments(world.services.db, draft.id)
    # loose typing: Chinese and Russian article words, a new article, the text by reply
    await world.do(world.wang.send(world.court, "/amend 第三条 垃圾请在20:00前投放。"))
    await world.do(world.carol.send(world.court, "/amend статья 2 Велосипеды — в колясочной."))
    await world.do(world.bob.send(world.court, "/amend new Pets are kept on a leash in the yard."))
    wording = await world.bob.send(world.court, "Quiet hours are from 23:00 to 7:00.")
    await world.do(world.bob.send(world.court, "/amend 1", reply_to=wording))
    found = [(a.article, a.text) for a in await store.amendments(world.services.db, draft.id)]
    assert found == [
        (3, "垃圾请在20:00前投放。"),
        (2, "Велосипеды — в колясочной."),
        (None, "Pets are kept on a leash in the yard."),
        (1, "Quiet hours are from 23:00 to 7:00."),
    ]
    # withdrawing: only the author
    bob_new = (await store.amendments(world.services.db, draft.id))[2]
    replies = await world.do(world.carol.send(world.court, f"/amend withdraw {bob_new.id}"))
    assert "Отозвать" in replies.text(world.court) or "author" in replies.text(world.court)
    replies = await world.do(world.bob.send(world.court, f"/amend withdraw {bob_new.id}"))
    assert f"Amendment {bob_new.id} is withdrawn" in replies.text(world.court)
    # declining needs a reason, which is posted; by reply to the card too
    first = (await store.amendments(world.services.db, draft.id))[0]
    replies = await world.do(world.alice.send(world.court, f"/amend decline {first.id}"))
    assert "give the reason" in replies.text(world.court)
    replies = await world.do(world.alice.press(card(world, first.message_id), f"hr:d:{first.id}"))
    assert "reason is needed" in replies.answer_text()
    replies = await world.do(
        world.alice.send(
            world.court,
            "/amend decline The collection is at 21:00.",
            reply_to=card(world, first.message_id),
        )
    )
    assert "declined by Alice. Reason: The collection is at 21:00." in replies.text(world.court)
    await world.services.outbox.idle()
    assert "Declined by Alice: The collection is at 21:00." in card(world, first.message_id).text


async def test_the_draft_is_frozen_while_voted_on_and_a_failed_vote_keeps_it(
    world: World,
) -> None:
    people = await with_draft(world)
    await world.do(world.bob.send(world.court, "/amend 1 Quiet from 23:00."))
    draft = await store.draft_of(world.services.db, world.court.id)
    [pending] = await store.amendments(world.services.db, draft.id)
    replies = await world.do(world.alice.send(world.court, "/rules ratify"))
    assert f"accept or decline the waiting amendments: {pending.id}" in replies.text(world.court)
    await world.do(world.alice.send(world.court, f"/amend decline {pending.id} Too late at night"))
    replies = await world.do(
        world.alice.send(world.court, "/rules ratify majority | closes=in 3 days")
    )
    assert "counted by simple majority" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/rules ratify"))
    assert "being voted on" in replies.text(world.court)
    # nothing changes the text under the vote
    replies = await world.do(world.bob.send(world.court, "/amend 2 Something else"))
    assert "being voted on" in replies.text(world.court)
    replies = await world.do(
        world.alice.send(world.court, "1. Changed", reply_to=await draft_card(world))
    )
    assert "being voted on" in replies.text(world.court)
    replies = await world.do(world.alice.send(world.court, "/rules discard"))
    assert "being voted on" in replies.text(world.court)
    await world.services.outbox.idle()
    assert "Being voted on" in (await draft_card(world)).text
    assert (await draft_card(world)).reply_markup is None
    # the vote fails: the draft stays a draft and can be amended again
    found = await store.draft_of(world.services.db, world.court.id)
    row = await world.services.db.fetchone(
        "SELECT message_id FROM decisions WHERE id = ?", (found.decision_id,)
    )
    for person in people:
        await world.do(person.press(card(world, row["message_id"]), f"dc:v:{found.decision_id}:a"))
    replies = await world.do(world.alice.send(world.court, f"/close D{found.decision_id}"))
    assert "did not ratify the draft" in replies.text(world.court)
    assert await store.current(world.services.db, world.court.id) is None
    replies = await world.do(world.bob.send(world.court, "/amend 2 Bicycles go to the room."))
    assert "Amendment" in replies.text(world.court)
    await world.services.outbox.idle()
    assert "did not ratify it" in (await draft_card(world)).text


async def test_nothing_to_ratify_and_versions_that_do_not_exist(world: World) -> None:
    people = await with_draft(world)
    await ratify_and_pass(world, people)
    replies = await world.do(world.alice.send(world.court, "/rules draft"))
    replies = await world.do(world.alice.send(world.court, "/rules ratify"))
    assert "same as version 1" in replies.text(world.court)
    for text, expected in {
        "/rules 7": "no version 7",
        "/rules compare 1 9": "no version 9",
        "/rules compare x y": "/rules compare 1 2",
        "/rules bananas": "Write it like this",
        "/rules v1": "House rules, version 1",
        "/rules История": "Versions of the house rules",
        "/rules Draft": "Draft of the house rules",
        "/rules 草案": "Draft of the house rules",
    }.items():
        replies = await world.do(world.bob.send(world.court, text))
        assert expected in replies.text(world.court), (text, replies.text(world.court))


async def test_an_outcome_missed_by_a_crash_is_settled_when_the_rules_are_read(
    world: World,
) -> None:
    people = await with_draft(world)
    decisions_h.ON_CLOSED.remove(house_rules_h.on_decision_closed)  # the hook never ran
    try:
        await ratify_and_pass(world, people)
    finally:
        decisions_h.ON_CLOSED.append(house_rules_h.on_decision_closed)
    assert await store.current(world.services.db, world.court.id) is None
    replies = await world.do(world.bob.send(world.court, "/rules"))
    text = replies.text(world.court)
    assert "House rules, version 1, are ratified" in text and "House rules, version 1" in text
    replies = await world.do(world.bob.send(world.court, "/rules"))
    assert "are ratified" not in replies.text(world.court)  # settled once


def long_rules(count: int, size: int) -> str:
    return "\n".join(
        f"{n}. " + (f"Article {n} says " + "бла 漢字 ✓ " * size)[:size] for n in range(1, count + 1)
    )


@pytest.mark.parametrize(("count", "size", "as_file"), [(40, 300, False), (140, 400, True)])
async def test_long_rules_are_split_below_telegrams_limit_or_sent_as_a_file(
    world: World, count: int, size: int, as_file: bool
) -> None:
    people = await with_draft(world, long_rules(count, size))
    await ratify_and_pass(world, people, "majority")
    replies = await world.do(world.bob.send(world.court, "/rules"))
    pages = [c.params["text"] for c in replies.sent(world.court)]
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in pages)
    documents = [c for c in replies.calls if c.method == "sendDocument"]
    if as_file:
        assert len(pages) == 1 and len(documents) == 1
        content = documents[0].params["document"].decode("utf-8")
        assert f"## Article {count}\n" in content
        # a comparison too long for four messages: three, a note, and the whole of it as a file
        replies = await world.do(world.bob.send(world.court, "/rules compare 1"))
        assert len(replies.sent(world.court)) == 4
        [changes] = [c for c in replies.calls if c.method == "sendDocument"]
        assert changes.params["document"].decode("utf-8").count(" added: ") == count
    else:
        assert 1 < len(pages) <= 4 and not documents
        joined = "\n".join(pages)
        assert all(f"<b>Article {n}.</b>" in joined for n in range(1, count + 1))


async def test_the_draft_from_a_file(world: World) -> None:
    await setup_building(world)
    await world.do(world.alice.send(world.court, "/rules draft"))
    chinese = "小区公约\n第一条 保持安静。\n第二条 爱护绿化。".encode("gb18030")
    replies = await world.do(
        world.alice.send_document(
            world.court, filename="公约.txt", content=chinese, reply_to=await draft_card(world)
        )
    )
    assert "The draft now has 2 articles" in replies.text(world.court)
    found = await store.draft_of(world.services.db, world.court.id)
    assert found.articles == ("保持安静。", "爱护绿化。") and found.preamble == "小区公约"
    replies = await world.do(
        world.alice.send_document(
            world.court,
            filename="rules.md",
            content=b"# Rules\n\n## 1. Quiet\n\n## 2. Clean\n\n## 3. Kind",
            caption="/rules draft",
        )
    )
    [question] = replies.sent(world.court)
    [[replace, _keep]] = question.params["reply_markup"]["inline_keyboard"]
    replies = await world.do(world.alice.press(question.result, replace["callback_data"]))
    assert "The draft now has 3 articles" in replies.text(world.court)
    replies = await world.do(
        world.alice.send_document(
            world.court, filename="rules.pdf", content=b"%PDF-1.4", reply_to=await draft_card(world)
        )
    )
    assert ".txt or .md" in replies.text(world.court)
    replies = await world.do(
        world.bob.send_document(
            world.court, filename="mine.txt", content=b"1. Mine", reply_to=await draft_card(world)
        )
    )
    assert "Only leads and organizers" in replies.text(world.court)
    found = await store.draft_of(world.services.db, world.court.id)
    assert found.articles == ("Quiet", "Clean", "Kind")


async def test_a_russian_windows_1251_file(world: World) -> None:
    await setup_building(world)
    await world.do(world.alice.send(world.court, "/rules draft"))
    text = "Правила дома\n1. Тишина с 22:00 до 7:00.\n2. Велосипеды храним в колясочной."
    replies = await world.do(
        world.alice.send_document(
            world.court,
            filename="правила.txt",
            content=text.encode("cp1251"),
            reply_to=await draft_card(world),
        )
    )
    assert "The draft now has 2 articles" in replies.text(world.court)
    found = await store.draft_of(world.services.db, world.court.id)
    assert found is not None and found.articles[1] == "Велосипеды храним в колясочной."


async def test_an_amendment_written_against_an_older_text_is_not_accepted(world: World) -> None:
    await with_draft(world)
    await world.do(world.bob.send(world.court, "/amend 2 Bicycles in the yard."))
    await world.do(world.carol.send(world.court, "/amend 2 Bicycles in the cellar."))
    draft = await store.draft_of(world.services.db, world.court.id)
    first, second = await store.amendments(world.services.db, draft.id)
    await world.do(world.alice.send(world.court, f"/amend accept {first.id}"))
    replies = await world.do(world.alice.send(world.court, f"/amend accept {second.id}"))
    assert f"Article 2 has changed since amendment {second.id}" in replies.text(world.court)
    draft = await store.draft_of(world.services.db, world.court.id)
    assert draft.articles[1] == "Bicycles in the yard."
    # a new text renumbers the articles: an old amendment cannot land on another article
    await world.do(world.bob.send(world.court, "/amend 3 Rubbish by 20:00."))
    draft = await store.draft_of(world.services.db, world.court.id)
    *_, third = await store.amendments(world.services.db, draft.id)
    await world.do(
        world.alice.send(world.court, "/rules draft 1. Pets on a leash.\n2. Quiet\n3. Bicycles")
    )
    replies = await world.do(world.alice.press(card(world, third.message_id), f"hr:a:{third.id}"))
    assert "Article 3 has changed" in replies.text(world.court)
    draft = await store.draft_of(world.services.db, world.court.id)
    assert draft.articles == ("Pets on a leash.", "Quiet", "Bicycles")


async def test_a_reply_to_an_older_draft_card_still_gives_the_text(world: World) -> None:
    await with_draft(world)
    old = await draft_card(world)
    await world.do(world.bob.send(world.court, "/rules draft"))  # a resident posts it again
    assert (await draft_card(world)).message_id != old.message_id
    replies = await world.do(world.alice.send(world.court, "1. Only one article", reply_to=old))
    # the draft has a text: its sender confirms the replacement (a comment by reply is no text)
    [question] = replies.sent(world.court)
    assert "The draft has 3 articles. Replace its whole text" in question.params["text"]
    draft = await store.draft_of(world.services.db, world.court.id)
    assert draft.articles[0] != "Only one article"
    [[replace, _keep]] = question.params["reply_markup"]["inline_keyboard"]
    replies = await world.do(world.bob.press(question.result, replace["callback_data"]))
    assert replies.answers()[0].get("show_alert")  # a resident may not
    replies = await world.do(world.alice.press(question.result, replace["callback_data"]))
    assert "The draft now has 1 article (" in replies.text(world.court)
    draft = await store.draft_of(world.services.db, world.court.id)
    assert draft.articles == ("Only one article",)


async def test_long_texts_are_posted_once_a_minute_and_a_long_draft_as_a_file(
    world: World,
) -> None:
    people = await with_draft(world, long_rules(40, 300))
    await ratify_and_pass(world, people, "majority")
    first = await world.do(world.bob.send(world.court, "/rules"))
    assert len(first.sent(world.court)) > 1
    again = await world.do(world.carol.send(world.court, "/rules"))
    assert len(again.sent(world.court)) == 1  # "posted a moment ago"
    await world.do(world.alice.send(world.court, "/rules draft " + long_rules(140, 400)))
    replies = await world.do(
        world.bob.press(await draft_card(world), f"hr:x:{(await draft_card_row(world)).id}")
    )
    documents = [c for c in replies.calls if c.method == "sendDocument"]
    assert (
        len(documents) == 1 and documents[0].params["document"].decode().count("## Article") == 140
    )


async def draft_card_row(world: World) -> store.Version:
    found = await store.draft_of(world.services.db, world.court.id)
    assert found is not None
    return found


async def test_a_comment_replying_to_the_draft_card_replaces_nothing_unless_confirmed(
    world: World,
) -> None:
    await with_draft(world)
    replies = await world.do(
        world.alice.send(world.court, "1. I like article 2 best", reply_to=await draft_card(world))
    )
    # the question has buttons (a set-up message held back by the send budget has none)
    [question] = [c for c in replies.sent(world.court) if c.params.get("reply_markup")]
    draft = await store.draft_of(world.services.db, world.court.id)
    [[replace, keep]] = question.params["reply_markup"]["inline_keyboard"]
    # a second text asked after it: the first question's Replace never applies the second text
    second = await world.do(
        world.alice.send(world.court, "1. Another comment", reply_to=await draft_card(world))
    )
    [question2] = second.sent(world.court)
    replies = await world.do(world.alice.press(question.result, replace["callback_data"]))
    assert "no longer open" in replies.answer_text()
    [[_replace2, keep2]] = question2.params["reply_markup"]["inline_keyboard"]
    replies = await world.do(world.alice.press(question2.result, keep2["callback_data"]))
    assert "kept as it was" in replies.answer_text()
    await world.services.outbox.idle()
    assert "kept as it was" in world.fake.message(world.court, question2.result["message_id"]).text
    replies = await world.do(
        world.alice.press(question2.result, keep["callback_data"], check=False)
    )
    assert "no longer open" in replies.answer_text()
    assert (await store.draft_of(world.services.db, world.court.id)).articles == draft.articles


async def test_talk_replying_to_the_cards_is_left_alone(world: World) -> None:
    people = await with_draft(world)
    replies = await world.do(
        world.bob.send(world.court, "Thanks!", reply_to=await draft_card(world))
    )
    # a resident's comment is conversation: nothing answers it (a set-up message held back by
    # the group's send budget may still go out meanwhile; it names neither Bob nor his words)
    answered = [c for c in replies.sent(world.court) if c.params.get("reply_parameters")]
    assert not answered and "Bob" not in replies.text(world.court)
    old = await draft_card(world)
    await ratify_and_pass(world, people)
    replies = await world.do(world.carol.send(world.court, "Ура!", reply_to=old))
    assert not replies.sent(world.court)
    replies = await world.do(world.alice.send(world.court, "1. New", reply_to=old))
    assert "settled already" in replies.text(world.court)
    assert await store.draft_of(world.services.db, world.court.id) is None
