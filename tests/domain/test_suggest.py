"""Did you mean: typos and commands written in a resident's own language, matched to ours."""

from __future__ import annotations

import pytest

from bot.domain.commands import COMMANDS
from bot.domain.suggest import LOCAL_NAMES, distance, suggest

NAMES = tuple(spec.name for spec in COMMANDS)


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [
        ("pol", "poll", 1),
        ("plol", "poll", 1),
        ("poll", "poll", 0),
        ("", "abc", 3),
        ("setings", "settings", 1),
        ("stats", "start", 2),
        ("unti", "unit", 1),
    ],
)
def test_distance(a: str, b: str, d: int) -> None:
    assert distance(a, b) == d


@pytest.mark.parametrize(
    ("typed", "strict", "meant"),
    [
        ("/pol", True, "poll"),
        ("/pol", False, "poll"),
        ("/Poll", False, None),  # ours already (Telegram is case-sensitive, PTB is not)
        ("/POL", True, "poll"),
        ("/setings", True, "settings"),
        ("/hlep", True, "help"),
        ("/remindr", True, "remind"),
        ("/evnt", True, "event"),
        ("/calender", True, "calendar"),
        ("/unti", True, "unit"),
        ("/rolcall", True, "rollcall"),
        ("/rollcal@courtyard_bot", False, "rollcall"),
        ("/annouce", False, "announce"),
        # a neighbour's other bot in the group: not one typo away from ours, never answered
        ("/stats", True, None),
        ("/weather", True, None),
        ("/ban", True, None),
        ("/id", True, None),
        ("/me", True, None),
        # addressed to us or in private: two typos on longer words, or an unambiguous prefix
        ("/stats", False, "start"),
        ("/calend", False, "calendar"),
        ("/remi", False, None),  # remind, remindme, reminders
        ("/frobnicate", False, None),
        # the resident's own language (Telegram makes no command of it)
        ("/опрос", True, "poll"),
        ("/Опрос", True, "poll"),
        ("/напоминание", False, "remind"),
        ("/投票", True, "poll"),
        ("/報修", True, "report"),
        ("/设置", True, "settings"),
        ("/ну", True, None),
        ("/", True, None),
        ("/@courtyard_bot", False, None),
    ],
)
def test_suggest(typed: str, strict: bool, meant: str | None) -> None:
    assert suggest(typed, NAMES, strict=strict) == meant


def test_every_local_name_is_a_command_we_have() -> None:
    assert set(LOCAL_NAMES.values()) <= set(NAMES)


def test_a_command_we_do_not_have_is_not_suggested() -> None:
    assert suggest("/опрос", ("help",)) is None
