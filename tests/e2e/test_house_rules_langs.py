"""House rules in Chinese and Russian groups: the same story, read in the group's language."""

from __future__ import annotations

import pytest

from storage import house_rules as store
from tests.e2e.conftest import World
from tests.e2e.test_house_rules import card, draft_card, ratify_and_pass, setup_building

TEXTS = {
    "zh": (
        "小区公约\n第一条 晚上十点后保持安静。\n第二条 自行车停放在车棚。",
        "/amend 第二条 自行车和电动车停放在车棚，不得进楼道。",
        ("小区公约 第2版", "<b>第二条</b>有修改", "原文：", "现为：", "有 1 条不同"),
    ),
    "ru": (
        "Правила дома\nСтатья 1. Тишина после 22:00.\nСтатья 2. Велосипеды — в колясочной.",
        "/amend статья 2 Велосипеды и самокаты — в колясочной.",
        (
            "Правила дома, версия 2",
            "<b>Статья 2</b> изменена",
            "Было:",
            "Стало:",
            "Отличается 1 статья",
        ),
    ),
}


@pytest.mark.parametrize("lang", sorted(TEXTS))
async def test_the_story_in_the_groups_language(world: World, lang: str) -> None:
    text, amendment, expected = TEXTS[lang]
    people = await setup_building(world)
    await world.do(world.alice.send(world.court, f"/settings language {lang}"))
    await world.do(world.alice.send(world.court, "/rules draft " + text))
    said = await ratify_and_pass(world, people)
    assert "1" in said
    await world.do(world.alice.send(world.court, "/rules draft"))
    shown = (await draft_card(world)).text
    assert ("目前没有" if lang == "zh" else "Поправок, ждущих") in shown
    await world.do(world.bob.send(world.court, amendment))
    draft = await store.draft_of(world.services.db, world.court.id)
    assert draft is not None
    [proposed] = await store.amendments(world.services.db, draft.id)
    assert ("针对第二条" if lang == "zh" else "к статье 2") in card(world, proposed.message_id).text
    await world.do(world.carol.press(card(world, proposed.message_id), f"hr:s:{proposed.id}"))
    accepted = await world.do(
        world.alice.press(card(world, proposed.message_id), f"hr:a:{proposed.id}")
    )
    assert (
        "已被采纳（Alice），已写入草案。" if lang == "zh" else "Решение — Alice."
    ) in accepted.text(world.court)
    said = await ratify_and_pass(world, people)
    for phrase in expected:
        assert phrase in said or phrase in (
            await world.do(world.bob.send(world.court, "/rules"))
        ).text(world.court), phrase
