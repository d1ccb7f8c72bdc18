"""Decision rules are named in the group's language wherever they reach people (issue 13): the
code one types (``majority``, ``cn-278``) stands beside its name in settings, refusals and on
the card, and never alone; outcomes, pictures and house rules name the rule in words."""

from __future__ import annotations

import re

from bot.domain.decisions import RULE_NAMES
from tests.e2e.conftest import World
from tests.e2e.test_decisions import claim, open_decision

#: a rule's code written where it is not inside <code>…</code> (the name beside it says it)
_CODE = re.compile(r"<code>.*?</code>", re.S)


def bare_codes(html: str) -> list[str]:
    """The rule codes ``html`` shows without their <code> mark-up, i.e. not beside a name."""
    outside = _CODE.sub(" ", html)
    return [c for c in RULE_NAMES if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", outside)]


async def test_a_chinese_group_reads_rule_names_with_the_codes_beside(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings language zh"))
    await world.do(world.alice.send(world.court, "/units add 1-101 50"))
    await claim(world, world.bob, "1-101")

    decision, _ = await open_decision(world, "/decide 更换单元门禁 | 截止=14天后")
    [card] = [
        c
        for c in world.fake.calls
        if c.method == "sendMessage" and c.ok and "更换单元门禁" in c.params["text"]
    ]
    html = card.params["text"]
    assert "规则：<b>简单多数（<code>majority</code>）</b> · 记名投票" in html
    assert bare_codes(html) == []

    closed = await world.do(world.alice.send(world.court, f"/close D{decision.id}"))
    said = "\n".join(c.params["text"] for c in closed.calls if c.ok and "text" in c.params)
    assert "→ 按简单多数<b>未通过</b>" in said or "→ 按简单多数<b>通过</b>" in said
    assert bare_codes(said) == []

    # the default rule: saved, refused, on the panel and its button
    replies = await world.do(
        world.alice.send(world.court, "/settings decision_rule 三分之二 quorum=1/2")
    )
    assert (
        "新的表决将按三分之二多数，法定人数 1/2（<code>two-thirds quorum=1/2</code>）计票"
        in replies.text(world.court)
    )
    replies = await world.do(world.alice.send(world.court, "/settings decision_rule 少数服从"))
    refusal = replies.text(world.court)
    assert (
        "可用的规则有：简单多数（<code>majority</code>）、三分之二多数（<code>two-thirds</code>）"
        in refusal
    )
    assert "或俄罗斯业主大会·全体三分之二（<code>ru-oss-two-thirds</code>）。" in refusal
    assert bare_codes(refusal) == []
    replies = await world.do(world.alice.send(world.court, "/settings"))
    panel = replies.text(world.court)
    assert (
        "正式表决的默认规则：三分之二多数，法定人数 1/2（<code>two-thirds quorum=1/2</code>）"
        in panel
    )
    [sent] = replies.sent(world.court)
    buttons = [b["text"] for row in sent.params["reply_markup"]["inline_keyboard"] for b in row]
    assert "表决规则：三分之二多数，法定人数 1/2" in buttons
    assert not any(bare_codes(b) for b in buttons)


async def test_russian_and_traditional_chinese_refusals_name_the_rule(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings language ru"))
    replies = await world.do(
        world.alice.send(world.court, "/settings decision_rule ru-oss quorum=1/2")
    )
    assert (
        "Для правила «ОСС — большинство участвующих (<code>ru-oss</code>)» кворум установлен"
        " законом" in replies.text(world.court)
    )
    replies = await world.do(world.alice.send(world.court, "/settings decision_rule cn-278"))
    assert (
        "Правило новых решений: ст. 278 ГК КНР — обычные вопросы (<code>cn-278</code>)"
        in replies.text(world.court)
    )
    await world.do(world.alice.send(world.court, "/settings language zh-hant"))
    replies = await world.do(world.alice.send(world.court, "/settings decision_rule 全體一致"))
    said = replies.text(world.court)
    assert "新的表決將按全體一致（<code>unanimous</code>）計票" in said
    assert bare_codes(said) == []
