"""bot.domain.text.one_line: what a reader can see of a title (decisions, polls, events and
listings all clean their titles with it)."""

from __future__ import annotations

import pytest

from bot.domain import events, polls, sharing
from bot.domain.errors import DomainError
from bot.domain.text import one_line


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("  Paint   the\nhall ", "Paint the hall"),
        ("\u200b\u200b\u2060", ""),  # zero-width space, word joiner: nothing to see
        ("\u202e\u200b", ""),  # a right-to-left override and a zero-width space
        ("\ufeff \u00ad \u2061", ""),  # BOM, soft hyphen, function application
        ("\u3164", ""),  # Hangul filler, a "blank" letter
        ("\u2800\u115f", ""),  # Braille blank, Hangul choseong filler
        ("\ufe0f\u0301", ""),  # a variation selector and an accent with nothing to sit on
        ("\u200d \u200c", ""),  # joiners alone
        ("Lift\u202e kcab", "Lift kcab"),  # the override that would turn the card around
        ("Li\u200bft", "Lift"),
        ("a\u00adb", "ab"),
        ("👨\u200d👩\u200d👧 day", "👨\u200d👩\u200d👧 day"),  # joiners inside an emoji stay
        ("می\u200cخواهم", "می\u200cخواهم"),  # a Persian non-joiner inside a word stays
        (" \u200dx\u200c ", "x"),  # joiners at the edge of a word go
        ("电梯", "电梯"),
        ("Лифт", "Лифт"),
    ],
)
def test_one_line(text: str, shown: str) -> None:
    assert one_line(text) == shown


HIDDEN = ("\u200b\u200b\u2060", "\u202e\u200b", "\u3164", "\u2800 \ufeff")


@pytest.mark.parametrize("hidden", HIDDEN)
def test_an_invisible_title_is_no_title_anywhere(hidden: str) -> None:
    with pytest.raises(DomainError) as info:
        events.clean_title(hidden)
    assert info.value.key == "event.usage"
    with pytest.raises(DomainError) as info:
        polls.validate_poll(hidden, ["Yes", "No"])
    assert info.value.key == "poll.no_question"
    with pytest.raises(DomainError) as info:  # an invisible option is no option
        polls.validate_poll("Paint?", ["Yes", hidden])
    assert info.value.key == "poll.too_few_options"
    with pytest.raises(DomainError) as info:
        sharing.parse_need(hidden)
    assert info.value.key == "sharing.need_usage"
    with pytest.raises(DomainError) as info:
        sharing.parse_offer(f"{hidden} | lend")
    assert info.value.key == "sharing.offer_usage"


def test_an_override_inside_a_title_is_dropped_everywhere() -> None:
    assert events.clean_title("Cleanup\u202e yard") == "Cleanup yard"
    assert polls.validate_poll("Paint\u2066?", ["Yes\u200b", "No"]) == ("Paint?", ["Yes", "No"])
    assert sharing.parse_need("Drill\u202e") == "Drill"
