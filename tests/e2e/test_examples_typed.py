"""The Chinese and Russian examples the bot shows work when typed as shown (issue 13): the
keywords of the group's language (时区, 组织者, 添加, 开, 历史, 規則=, 截止=, 無記名, часовой пояс,
правило=, срок=) in place of the English ones the examples used to carry."""

from __future__ import annotations

import re

import pytest

from bot.i18n import t
from storage import chats, decisions, units
from tests.e2e.conftest import World
from tests.e2e.test_decisions import claim


def example(lang: str, command: str) -> str:
    return t(lang, f"cmd.{command}.example")


async def test_the_simplified_chinese_examples_work(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/settings language zh"))
    replies = await world.do(world.alice.send(world.court, example("zh_Hans", "settings")))
    assert "Asia/Shanghai" in replies.text(world.court)
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.timezone == "Asia/Shanghai"

    await world.do(world.alice.send(world.court, example("zh_Hans", "units")))
    assert await units.get(world.services.db, world.court.id, "3-502") is not None

    hello = await world.bob.send(world.court, "我来组织大扫除")
    replies = await world.do(
        world.alice.send(world.court, example("zh_Hans", "grant"), reply_to=hello)
    )
    assert "现在是组织者了" in replies.text(world.court)

    replies = await world.do(world.bob.send(world.court, example("zh_Hans", "helper")))
    assert "我看不懂" not in replies.text(world.court) and replies.text(world.court)
    for shown, typed in (("rules.no_version", "/rules 历史"), ("rules.decline_how", "/amend 驳回")):
        assert typed in t("zh_Hans", shown, number=9)
    replies = await world.do(world.bob.send(world.court, "/rules 历史"))
    assert "我看不懂" not in replies.text(world.court) and replies.text(world.court)


async def test_the_traditional_and_russian_decide_examples_work(world: World) -> None:
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/units add 1-101 50"))
    await claim(world, world.bob, "1-101")
    for lang, typed, rule in (
        (
            "zh_Hant",
            "/decide B棟加裝電梯 | 規則=cn-278-special | 截止=14天後 | 無記名",
            "cn-278-special",
        ),
        ("ru", example("ru", "decide"), "ru-oss-two-thirds"),
    ):
        await world.do(
            world.alice.send(world.court, f"/settings language {lang.replace('_', '-')}")
        )
        replies = await world.do(world.alice.send(world.court, typed))
        row = await world.services.db.fetchone("SELECT max(id) AS id FROM decisions")
        assert row is not None and row["id"] is not None, replies.text(world.court)
        decision = await decisions.get(world.services.db, row["id"])
        assert decision is not None and decision.rule == rule, replies.text(world.court)
        assert decision.secret is (lang == "zh_Hant")
        assert (decision.closes_at - world.services.clock()).days in (13, 14)
    replies = await world.do(world.alice.send(world.court, example("ru", "settings")))
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.timezone == "Europe/Moscow", replies.text(world.court)


@pytest.mark.parametrize("lang", ["zh_Hans", "zh_Hant", "ru"])
async def test_the_commands_the_usage_texts_show_are_understood(world: World, lang: str) -> None:
    """Every command in <code> of the register's usage and of the settings' hints, typed as
    shown, does what it says (not the usage again, not "no such setting")."""
    await world.with_bot()
    await world.do(world.alice.send(world.court, f"/settings language {lang}"))
    usage = t(lang, "unit.units_usage")
    commands = [
        c
        for key in ("unit.units_usage", "error.setting_needs_value", "settings.hint")
        for c in re.findall(r"<code>(/[^<]+)</code>", t(lang, key))
        if not c.startswith(("/grant", "/units restore"))  # a reply to someone; a leaver
    ]
    assert len(commands) >= 5, commands
    for command in commands:
        said = (await world.do(world.alice.send(world.court, command))).text(world.court)
        assert said and said != usage, (command, said)
    chat = await chats.get(world.services.db, world.court.id)
    assert chat is not None and chat.timezone != "UTC" and chat.language == lang
    assert await units.get(world.services.db, world.court.id, "3-502") is None  # added, removed
