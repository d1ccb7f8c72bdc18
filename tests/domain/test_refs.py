"""Card references (#P12, D3): typed by residents, read back from the card a reply points at."""

from __future__ import annotations

import pytest

from bot.domain.refs import KINDS, LETTERS, Ref, find_ref, parse_ref, ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("D3", Ref("decision", 3)),
        ("d3", Ref("decision", 3)),
        ("#P12", Ref("poll", 12)),
        (" e-7 ", Ref("event", 7)),
        ("Ｇ５", Ref("groupbuy", 5)),  # full-width, as Chinese keyboards type
        ("C 9", Ref("chain", 9)),
    ],
)
def test_parse_ref(text: str, expected: Ref) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize("text", ["", "3", "X3", "D", "D3a", "DD3", "D-", "poll 3", "D" + "9" * 13])
def test_not_a_ref(text: str) -> None:
    assert parse_ref(text) is None


def test_bare_number_needs_a_default_kind() -> None:
    assert parse_ref("3") is None
    assert parse_ref("3", default_kind="decision") == Ref("decision", 3)
    assert parse_ref("#3", default_kind="decision") == Ref("decision", 3)
    # a letter always wins over the default
    assert parse_ref("P3", default_kind="decision") == Ref("poll", 3)


def test_tags_round_trip_for_every_kind() -> None:
    for letter, kind in KINDS.items():
        r = ref(kind, 42)
        assert r.text == f"{letter}42" and r.tag == f"#{letter}42"
        assert parse_ref(r.text) == r and parse_ref(r.tag) == r
        assert find_ref(f"A card\nwith text\n{r.tag} · closes Fri") == r
    assert {v: k for k, v in KINDS.items()} == LETTERS
    with pytest.raises(ValueError):
        ref("nonsense", 1)


def test_find_ref_takes_the_cards_own_tag() -> None:
    # a resident's words quoted on the card may contain tags; the card's own comes last
    assert find_ref("Lunch? #P1 mentioned\n#P2") == Ref("poll", 2)
    assert find_ref("no tag here") is None
    assert find_ref("#p3 lower case is not ours") is None
    assert find_ref("") is None


def test_csv_cells_never_start_a_formula() -> None:
    """CSV injection: a name or label starting with = + - @ (or a tab / CR) stays text."""
    from handlers.refs import Export, safe_cell, to_csv

    assert safe_cell("=1+2") == "'=1+2" and safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("+7") == "'+7" and safe_cell("-1") == "'-1" and safe_cell("\tx") == "'\tx"
    assert safe_cell("2-101") == "2-101" and safe_cell("") == "" and safe_cell("Bob") == "Bob"
    data = to_csv(Export("x.csv", ["unit", "by"], [["=cmd|' /C calc'!A0", "Bob"]]))
    assert data.decode("utf-8-sig").splitlines() == ["unit,by", "'=cmd|' /C calc'!A0,Bob"]
