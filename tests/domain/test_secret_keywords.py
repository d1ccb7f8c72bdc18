"""A secret ballot is asked for with the same Chinese words in polls and in decisions (issue 13).

The catalogs call it 无记名投票; residents also write 不记名, 匿名 and 秘密, alone or as a whole
phrase ("无记名投票"), in Simplified or Traditional characters. Both features accept them all.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.polls import PollFlags, parse_poll_command
from handlers.decisions import parse_request

WORDS = [
    "无记名",
    "不记名",
    "匿名",
    "秘密",
    "无记名投票",
    "不记名投票",
    "匿名投票",
    "秘密投票",
    "無記名",
    "不記名",
    "無記名投票",
    "不記名投票",
]
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("word", WORDS)
def test_poll_accepts_the_word(word: str) -> None:
    question, options, flags = parse_poll_command(f"/poll 午饭？｜披萨｜寿司｜{word}")
    assert (question, options, flags) == ("午饭？", ["披萨", "寿司"], PollFlags(anonymous=True))


@pytest.mark.parametrize("word", WORDS)
def test_poll_accepts_the_word_with_other_flags(word: str) -> None:
    _, options, flags = parse_poll_command(f"/poll 午饭？|披萨|寿司|多选，{word}，截止周五 20:00")
    assert options == ["披萨", "寿司"]
    assert flags == PollFlags(multiple=True, anonymous=True, closes="周五 20:00")


@pytest.mark.parametrize("word", [*WORDS, "无记名表决", "不记名表决", "秘密表决", "無記名表決"])
def test_decision_accepts_the_word(word: str) -> None:
    request = parse_request(
        f"加装电梯 | 截止=14天后 | {word}",
        lang="zh",
        tz="Asia/Shanghai",
        now=NOW,
        default_rule="majority",
    )
    assert request.secret is True
    assert request.title == "加装电梯"


def test_decision_without_the_word_is_open() -> None:
    request = parse_request(
        "加装电梯 | 截止=14天后", lang="zh", tz="Asia/Shanghai", now=NOW, default_rule="majority"
    )
    assert request.secret is False


@pytest.mark.parametrize("word", ["秘密", "匿名投票", "无记名"])
def test_a_poll_of_two_options_keeps_the_word_as_an_option(word: str) -> None:
    """A flag is read only when two options remain: "公开 | 秘密" is a poll between the two."""
    _, options, flags = parse_poll_command(f"/poll 您选哪种方式？| 公开 | {word}")
    assert options == ["公开", word]
    assert flags == PollFlags()
