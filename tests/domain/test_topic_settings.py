"""``/settings topic <what> here|general``: the pure rule (bot.domain.settings.set_topic)."""

from __future__ import annotations

import pytest

from bot.domain.errors import DomainError
from bot.domain.settings import ChatSettings, set_topic, split_setting_args

BASE = ChatSettings()


#: from announcements in topic 3 and the digest in topic 5
@pytest.mark.parametrize(
    ("value", "thread", "announcements", "digest"),
    [
        ("announcements here", 7, 7, 5),
        ("Announcements HERE", 7, 7, 5),
        ("digest here", 9, 3, 9),
        ("summary here", 9, 3, 9),
        ("公告 这里", 7, 7, 5),
        ("公告 這裡", 7, 7, 5),
        ("週報 這裡", 9, 3, 9),
        ("周报 这里", 9, 3, 9),
        ("объявления здесь", 7, 7, 5),
        ("сводка тут", 9, 3, 9),
        ("announcements here", None, None, 5),  # "here" typed in General is General
        ("announcements general", 7, None, 5),
        ("digest off", 7, 3, None),
        ("公告 综合", 7, None, 5),
        ("объявления общий", 7, None, 5),
        # typed loosely: a full stop, the other order, Chinese punctuation
        ("announcements here.", 7, 7, 5),
        ("here announcements", 7, 7, 5),
        ("这里 周报。", 9, 3, 9),
    ],
)
def test_the_topic_chosen(
    value: str, thread: int | None, announcements: int | None, digest: int | None
) -> None:
    start = ChatSettings(announcements_topic=3, digest_topic=5)
    changed = set_topic(start, value, thread)
    assert (changed.announcements_topic, changed.digest_topic) == (announcements, digest)


@pytest.mark.parametrize(
    "value", ["", "announcements", "here", "announcements there", "polls here", "a b c"]
)
def test_bad_input_is_refused(value: str) -> None:
    with pytest.raises(DomainError) as caught:
        set_topic(BASE, value, 7)
    assert caught.value.key == "topic.usage"


def test_the_topics_are_stored_and_broken_values_fall_back() -> None:
    chosen = set_topic(set_topic(BASE, "announcements here", 12), "digest here", 34)
    again = ChatSettings.from_row("en", "UTC", chosen.extra_json())
    assert (again.announcements_topic, again.digest_topic) == (12, 34)
    broken = ChatSettings.from_row(
        "en", "UTC", '{"announcements_topic": "x", "digest_topic": true}'
    )
    assert (broken.announcements_topic, broken.digest_topic) == (None, None)


def test_the_key_is_read_in_every_language() -> None:
    for word in ("topic", "话题", "話題", "тема"):
        key, rest = split_setting_args([word, "digest", "here"])
        assert key.value == "topic" and rest == "digest here"
