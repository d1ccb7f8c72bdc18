"""Quick polls: validation, the two forms of /poll with trailing flags, votes, tallies, bars."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.errors import DomainError
from bot.domain.polls import (
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    PollFlags,
    Tally,
    apply_vote,
    bar,
    fit_names,
    parse_poll_command,
    percent,
    tally,
    validate_poll,
)

NO_FLAGS = PollFlags()


@pytest.mark.parametrize(
    ("question", "options", "expected"),
    [
        ("Lunch?", ["Pizza", "Sushi"], ("Lunch?", ["Pizza", "Sushi"])),
        ("  Lunch?  ", ["  Pizza ", "Sushi  "], ("Lunch?", ["Pizza", "Sushi"])),
        ("Q", ["A", "", "  ", "B"], ("Q", ["A", "B"])),
        ("Q", ["big   pizza", "Sushi"], ("Q", ["big pizza", "Sushi"])),
        (
            "q" * MAX_QUESTION,
            ["o" * MAX_OPTION, "B"],
            ("q" * MAX_QUESTION, ["o" * MAX_OPTION, "B"]),
        ),
        ("Q", [str(i) for i in range(MAX_OPTIONS)], ("Q", [str(i) for i in range(MAX_OPTIONS)])),
        ("Обед?", ["Пицца", "Суши"], ("Обед?", ["Пицца", "Суши"])),
        ("午饭吃什么？", ["披萨", "寿司"], ("午饭吃什么？", ["披萨", "寿司"])),
    ],
)
def test_validate_poll(question: str, options: list[str], expected: tuple[str, list[str]]) -> None:
    assert validate_poll(question, options) == expected


@pytest.mark.parametrize(
    ("question", "options", "key", "params"),
    [
        ("", ["A", "B"], "poll.no_question", {}),
        ("   ", ["A", "B"], "poll.no_question", {}),
        ("q" * 301, ["A", "B"], "poll.question_too_long", {"limit": 300, "length": 301}),
        ("Q", [], "poll.too_few_options", {}),
        ("Q", ["A"], "poll.too_few_options", {}),
        ("Q", ["A", " "], "poll.too_few_options", {}),
        ("Q", [str(i) for i in range(11)], "poll.too_many_options", {"limit": 10}),
        ("Q", ["A", "o" * 101], "poll.option_too_long", {"number": 2, "limit": 100}),
        ("Q", ["Pizza", "Sushi", "pizza "], "poll.duplicate_option", {"text": "pizza"}),
        ("Q", ["ПИЦЦА", "пицца"], "poll.duplicate_option", {"text": "пицца"}),
        ("Q", ["Ａ", "a"], "poll.duplicate_option", {"text": "a"}),
        ("Q", ["big  pizza", "Big Pizza"], "poll.duplicate_option", {"text": "Big Pizza"}),
    ],
)
def test_validate_poll_refusals(
    question: str, options: list[str], key: str, params: dict[str, Any]
) -> None:
    with pytest.raises(DomainError) as info:
        validate_poll(question, options)
    assert info.value.key == key
    assert info.value.params == params


@pytest.mark.parametrize(
    ("text", "question", "options", "flags"),
    [
        ("/poll Lunch? | Pizza | Sushi", "Lunch?", ["Pizza", "Sushi"], NO_FLAGS),
        ("/poll@CourtyardBot Lunch?|Pizza|Sushi|", "Lunch?", ["Pizza", "Sushi"], NO_FLAGS),
        ("Lunch? | Pizza | Sushi", "Lunch?", ["Pizza", "Sushi"], NO_FLAGS),
        ("/poll 午饭？｜披萨｜寿司", "午饭？", ["披萨", "寿司"], NO_FLAGS),
        ("/poll Lunch?\nPizza\nSushi", "Lunch?", ["Pizza", "Sushi"], NO_FLAGS),
        ("/poll\nLunch?\n\n  Pizza  \nSushi\n", "Lunch?", ["Pizza", "Sushi"], NO_FLAGS),
        ("/poll Lunch?\n- Pizza\n- Sushi", "Lunch?", ["Pizza", "Sushi"], NO_FLAGS),
        ("/poll Lunch?\n• Pizza\n• Sushi", "Lunch?", ["Pizza", "Sushi"], NO_FLAGS),
        ("/poll Q\n1. A\n2) B\n3、C", "Q", ["A", "B", "C"], NO_FLAGS),
        # numbers kept when not a 1, 2, 3... list
        ("/poll Floor?\n2. floor\n5. floor", "Floor?", ["2. floor", "5. floor"], NO_FLAGS),
        ("/poll Q | Pizza | Sushi | multiple", "Q", ["Pizza", "Sushi"], PollFlags(multiple=True)),
        ("/poll Q | A | B | anonymous", "Q", ["A", "B"], PollFlags(anonymous=True)),
        (
            "/poll Q | A | B | Multiple | Anonymous",
            "Q",
            ["A", "B"],
            PollFlags(multiple=True, anonymous=True),
        ),
        (
            "/poll Q | A | B | multiple, anonymous, closes friday 20:00",
            "Q",
            ["A", "B"],
            PollFlags(multiple=True, anonymous=True, closes="friday 20:00"),
        ),
        (
            "/poll Q | A | B | closes friday 20:00",
            "Q",
            ["A", "B"],
            PollFlags(closes="friday 20:00"),
        ),
        ("/poll Q | A | B | closes=in 2 days", "Q", ["A", "B"], PollFlags(closes="in 2 days")),
        (
            "/poll Q | A | B | Closes: tomorrow 9:00",
            "Q",
            ["A", "B"],
            PollFlags(closes="tomorrow 9:00"),
        ),
        (
            "/poll Lunch?\nPizza\nSushi\nmultiple\ncloses friday 20:00",
            "Lunch?",
            ["Pizza", "Sushi"],
            PollFlags(multiple=True, closes="friday 20:00"),
        ),
        (
            "/poll Lunch?\n- Pizza\n- Sushi\nanonymous closes friday 20:00",
            "Lunch?",
            ["Pizza", "Sushi"],
            PollFlags(anonymous=True, closes="friday 20:00"),
        ),
        # Chinese
        ("/poll 午饭？| 披萨 | 寿司 | 多选", "午饭？", ["披萨", "寿司"], PollFlags(multiple=True)),
        (
            "/poll 午饭？| 披萨 | 寿司 | 多选匿名 截止到周五 20:00",
            "午饭？",
            ["披萨", "寿司"],
            PollFlags(multiple=True, anonymous=True, closes="周五 20:00"),
        ),
        (
            "/poll 午饭？\n披萨\n寿司\n匿名\n截止周五晚上8点",
            "午饭？",
            ["披萨", "寿司"],
            PollFlags(anonymous=True, closes="周五晚上8点"),
        ),
        # Russian
        (
            "/poll Обед? | Пицца | Суши | несколько",
            "Обед?",
            ["Пицца", "Суши"],
            PollFlags(multiple=True),
        ),
        (
            "/poll Обед?\nПицца\nСуши\nАнонимно\nдо пятницы 20:00",
            "Обед?",
            ["Пицца", "Суши"],
            PollFlags(anonymous=True, closes="пятницы 20:00"),
        ),
        # a lone flag word that would leave one option is an option
        ("/poll Spots? | One | Multiple", "Spots?", ["One", "Multiple"], NO_FLAGS),
        ("/poll Сколько? | Одна | Несколько", "Сколько?", ["Одна", "Несколько"], NO_FLAGS),
        # words that merely start like a flag are options
        ("/poll Q | A | B | Anonymously", "Q", ["A", "B", "Anonymously"], NO_FLAGS),
        ("/poll Q | A | B | Multiplex", "Q", ["A", "B", "Multiplex"], NO_FLAGS),
        ("/poll Где? | Дома | Дом культуры", "Где?", ["Дома", "Дом культуры"], NO_FLAGS),
        ("/poll Q | A | B | 多选题", "Q", ["A", "B", "多选题"], NO_FLAGS),
        # the pipe form with flags on their own lines after the last option
        (
            "/poll Q | A | B\nmultiple\ncloses friday 20:00",
            "Q",
            ["A", "B"],
            PollFlags(multiple=True, closes="friday 20:00"),
        ),
        ("/poll Q | A | B\ncontinued", "Q", ["A", "B continued"], NO_FLAGS),
        ("/poll Q | A | Multiple\nanonymous", "Q", ["A", "Multiple"], PollFlags(anonymous=True)),
        # only trailing segments are flags
        ("/poll Q | multiple | A | B", "Q", ["multiple", "A", "B"], NO_FLAGS),
        # the last closing phrase counts
        (
            "/poll Q | A | B | closes monday | closes friday",
            "Q",
            ["A", "B"],
            PollFlags(closes="friday"),
        ),
    ],
)
def test_parse_poll_command(text: str, question: str, options: list[str], flags: PollFlags) -> None:
    assert parse_poll_command(text) == (question, options, flags)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("/poll", "poll.no_question"),
        ("/poll   ", "poll.no_question"),
        ("/poll | A | B", "poll.no_question"),
        ("/poll Lunch?", "poll.too_few_options"),
        ("/poll Lunch? | Pizza", "poll.too_few_options"),
        ("/poll Lunch? | Pizza | closes friday", "poll.too_few_options"),
        ("/poll Q | A | B | closes", "poll.no_closing_time"),
        ("/poll Q\nA\nB\n截止", "poll.no_closing_time"),
        ("/poll Q | " + " | ".join(str(i) for i in range(11)), "poll.too_many_options"),
        ("/poll Q | A | a", "poll.duplicate_option"),
        ("/poll " + "q" * 301 + " | A | B", "poll.question_too_long"),
    ],
)
def test_parse_poll_command_refusals(text: str, key: str) -> None:
    with pytest.raises(DomainError) as info:
        parse_poll_command(text)
    assert info.value.key == key


# --- votes -------------------------------------------------------------------------------------


def press(presses: list[int], *, multiple: bool, n: int = 3) -> list[set[int]]:
    current: frozenset[int] = frozenset()
    seen = []
    for option in presses:
        current = apply_vote(current, option, multiple=multiple, n_options=n)
        seen.append(set(current))
    return seen


@pytest.mark.parametrize(
    ("presses", "multiple", "states"),
    [
        ([0], False, [{0}]),
        ([0, 0], False, [{0}, set()]),  # press again: retract
        ([0, 1], False, [{0}, {1}]),  # press another: change
        ([0, 1, 1, 2], False, [{0}, {1}, set(), {2}]),
        ([0], True, [{0}]),
        ([0, 1], True, [{0}, {0, 1}]),
        ([0, 1, 0], True, [{0}, {0, 1}, {1}]),
        ([2, 2, 2], True, [{2}, set(), {2}]),
    ],
)
def test_apply_vote(presses: list[int], multiple: bool, states: list[set[int]]) -> None:
    assert press(presses, multiple=multiple) == states


def test_single_choice_repairs_a_stray_multiple_vote() -> None:
    assert apply_vote(frozenset({0, 1}), 0, multiple=False, n_options=3) == frozenset({0})


@pytest.mark.parametrize("option", [-1, 3, 99])
def test_apply_vote_stale_button(option: int) -> None:
    with pytest.raises(DomainError) as info:
        apply_vote(frozenset(), option, multiple=False, n_options=3)
    assert info.value.key == "error.stale_button"
    assert info.value.params == {}


def test_tally() -> None:
    votes = {
        101: frozenset({0}),
        102: frozenset({0, 2}),
        103: frozenset(),  # retracted: not a voter
        104: frozenset({2}),
        105: frozenset({7}),  # stale index only: ignored
    }
    assert tally(votes, 3) == Tally(counts=(2, 0, 2), voters=3)
    assert tally({}, 2) == Tally(counts=(0, 0), voters=0)
    assert tally({"hash-a": frozenset({1})}, 2) == Tally(counts=(0, 1), voters=1)


@pytest.mark.parametrize(
    ("count", "total", "width", "expected"),
    [
        (0, 0, 10, "░░░░░░░░░░"),
        (0, 5, 10, "░░░░░░░░░░"),
        (5, 5, 10, "▓▓▓▓▓▓▓▓▓▓"),
        (1, 2, 10, "▓▓▓▓▓░░░░░"),
        (1, 3, 10, "▓▓▓░░░░░░░"),  # 3.33 cells
        (2, 3, 10, "▓▓▓▓▓▓▓░░░"),  # 6.67 cells
        (1, 8, 10, "▓░░░░░░░░░"),  # 1.25
        (3, 8, 10, "▓▓▓▓░░░░░░"),  # 3.75
        (1, 4, 10, "▓▓▓░░░░░░░"),  # 2.5 rounds half up
        (1, 1000, 10, "▓░░░░░░░░░"),  # any vote shows
        (999, 1000, 10, "▓▓▓▓▓▓▓▓▓░"),  # not everyone
        (1, 2, 4, "▓▓░░"),
        (1, 2, 1, "▓"),
        (0, 2, 1, "░"),
    ],
)
def test_bar(count: int, total: int, width: int, expected: str) -> None:
    assert bar(count, total, width) == expected
    assert len(bar(count, total, width)) == width


@pytest.mark.parametrize(("count", "total", "width"), [(3, 2, 10), (-1, 2, 10), (1, 2, 0)])
def test_bar_refuses_nonsense(count: int, total: int, width: int) -> None:
    with pytest.raises(ValueError):
        bar(count, total, width)


@pytest.mark.parametrize(
    ("count", "total", "expected"),
    [(0, 0, 0), (1, 3, 33), (2, 3, 67), (1, 8, 13), (1, 200, 1), (1, 201, 0), (7, 7, 100)],
)
def test_percent(count: int, total: int, expected: int) -> None:
    assert percent(count, total) == expected


def _more(n: int) -> str:
    return f"+{n}"


def test_fit_names_keeps_short_lists_whole() -> None:
    assert fit_names([["Ann", "Bo"], [], ["Cy"]], 100, _more) == ["Ann, Bo", "", "Cy"]


def test_fit_names_collapses_to_the_budget() -> None:
    names = [f"name{i:03d}" for i in range(300)]
    [a, b] = fit_names([names, names[:2]], 200, _more)
    assert b == "name000, name001"  # the short list takes little; the long one the rest
    assert len(a) + len(b) + 2 <= 200 and a.endswith(f"+{300 - a.count(',')}")
    shown = a.split(", ")[:-1]
    assert shown == names[: len(shown)] and a.endswith(f"+{300 - len(shown)}")


@pytest.mark.parametrize("budget", [0, 3, 10, 50, 400, 4000])
def test_fit_names_never_overflows_much(budget: int) -> None:
    lists = [[f"Neighbour {i}" for i in range(n)] for n in (0, 1, 40, 300, 7)]
    out = fit_names(lists, budget, _more)
    assert len(out) == len(lists) and out[0] == ""
    for names, text in zip(lists, out, strict=True):
        if names and "+" not in text:
            assert text == ", ".join(names)
    # at worst each non-empty list is only its "+N"
    assert sum(len(x) + 1 for x in out) <= max(budget, 0) + sum(6 for x in lists if x)


def test_fit_names_counts_utf16_like_telegram() -> None:
    """An emoji is one Python character but two UTF-16 units: Telegram's 4096 counts those."""
    from bot.domain.text import utf16_len

    names = [f"Аня 🌸{i}" for i in range(200)]
    assert utf16_len("🌸") == 2 and utf16_len("Ж") == 1 and utf16_len("张") == 1
    [text] = fit_names([names], 300, _more)
    assert utf16_len(text) <= 300 and text.endswith(f"+{200 - text.count(',')}")
    # measured by code points it would have overflowed the budget
    [loose] = fit_names([names], 300, _more, size=len)
    assert utf16_len(loose) > 300
