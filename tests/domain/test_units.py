"""Unit labels, floor areas and the register CSV, as residents and leads type them."""

from __future__ import annotations

from fractions import Fraction

import pytest

from bot.domain.errors import DomainError
from bot.domain.units import (
    CSV_BAD_AREA,
    CSV_BAD_LABEL,
    CSV_COLUMNS,
    CSV_DUPLICATE,
    MAX_CSV_ROWS,
    MAX_LABEL,
    decode_csv,
    normalize_label,
    parse_area,
    parse_units_csv,
)


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        # English / plain
        ("3-502", "3-502"),
        (" 3 - 502 ", "3-502"),
        ("3  -  502", "3-502"),
        ("3--502", "3-502"),
        ("3/502", "3-502"),
        ("3 / 502", "3-502"),
        ("3\\502", "3-502"),
        ("3–502", "3-502"),  # en dash
        ("3—502", "3-502"),  # em dash
        ("3\u2212502", "3-502"),  # minus sign
        ("3\u2011502", "3-502"),  # non-breaking hyphen
        ("3\u200b-502", "3-502"),  # zero-width space
        ("Apt 4B", "APT 4B"),
        ("apt   4b", "APT 4B"),
        ("Apt.4b", "APT. 4B"),
        ("apt. 4b", "APT. 4B"),
        ("3.502", "3.502"),
        ("b1-01", "B1-01"),
        ("ph-1\t", "PH-1"),
        ("Unit\n12", "UNIT 12"),
        # full-width, as Chinese keyboards type
        ("3－５０２", "3-502"),
        ("３－５０２", "3-502"),
        ("ＡＰＴ　４Ｂ", "APT 4B"),
        ("3／502", "3-502"),
        # Chinese
        ("3栋502", "3栋502"),
        ("3 栋 502 室", "3栋502室"),
        ("3号楼 2单元 502", "3号楼2单元502"),
        ("３栋５０２", "3栋502"),
        ("3#502", "3#502"),
        ("A座 1203", "A座1203"),
        ("a座1203", "A座1203"),
        # Russian
        ("кв. 12", "КВ. 12"),
        ("кв.12", "КВ. 12"),
        ("Кв.  12", "КВ. 12"),
        ("квартира 7", "КВАРТИРА 7"),
        ("№ 12", "№12"),
        ("кв. № 12", "КВ. №12"),
        ("корпус 2 – кв. 15", "КОРПУС 2-КВ. 15"),
        ("12а", "12А"),
    ],
)
def test_normalize_label(typed: str, label: str) -> None:
    assert normalize_label(typed) == label
    assert normalize_label(label) == label  # idempotent


@pytest.mark.parametrize("typed", ["", "   ", "---", " / ", "\u200b", "。", "x" * (MAX_LABEL + 1)])
def test_bad_labels(typed: str) -> None:
    with pytest.raises(DomainError) as info:
        normalize_label(typed)
    assert info.value.key == "unit.bad_label"
    assert info.value.params["limit"] == MAX_LABEL
    assert len(info.value.params["value"]) <= 40


def test_label_limit_counts_after_normalisation() -> None:
    assert normalize_label("  " + "7" * MAX_LABEL + "  ") == "7" * MAX_LABEL
    assert normalize_label("７" * MAX_LABEL) == "7" * MAX_LABEL


@pytest.mark.parametrize(
    ("typed", "area"),
    [
        ("89.5", Fraction(179, 2)),
        ("89,5", Fraction(179, 2)),
        ("89.5m2", Fraction(179, 2)),
        ("89.5 m²", Fraction(179, 2)),
        ("89.5 M2", Fraction(179, 2)),
        ("89.5㎡", Fraction(179, 2)),
        ("89.5 sq m", Fraction(179, 2)),
        ("89.5平米", Fraction(179, 2)),
        ("89.5 平方米", Fraction(179, 2)),
        ("８９．５平", Fraction(179, 2)),
        ("89,5 м²", Fraction(179, 2)),
        ("89,5 кв.м", Fraction(179, 2)),
        ("89,5 кв. м.", Fraction(179, 2)),
        ("0.01", Fraction(1, 100)),
        ("54.33", Fraction(5433, 100)),
        ("100000", Fraction(100_000)),
        ("100000.00", Fraction(100_000)),
        ("120", Fraction(120)),
        ("", None),
        ("  ", None),
        ("-", None),
        ("нет", None),
    ],
)
def test_parse_area(typed: str, area: Fraction | None) -> None:
    parsed = parse_area(typed)
    assert parsed == area
    assert parsed is None or type(parsed) is Fraction


@pytest.mark.parametrize(
    "typed",
    ["0", "0.00", "-5", "100000.01", "200000", "89.555", "1,000", "1 000", "89.5 ft", "abc", ".5"],
)
def test_bad_areas(typed: str) -> None:
    with pytest.raises(DomainError) as info:
        parse_area(typed)
    assert info.value.key == "unit.bad_area"
    assert info.value.params == {"value": typed.strip()}


def test_area_is_exact() -> None:
    # 0.1 + 0.2 is not 0.3 in floats; these areas must add up exactly
    total = sum((parse_area(a) or Fraction(0) for a in ("0.1", "0.2")), Fraction(0))
    assert total == Fraction(3, 10)


# --- CSV ---------------------------------------------------------------------------------------

A = Fraction(179, 2)  # 89.5


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        # English header, comma, BOM, CRLF
        ("\ufefflabel,area\r\n3-502,89.5\r\n3-503,\r\n", [("3-502", A), ("3-503", None)]),
        ("Unit, Area (m²)\n3-502, 89.5\n", [("3-502", A)]),
        # Chinese header, tab separated, full-width digits
        (
            "单元\t面积(㎡)\n3栋502\t８９．５\n3栋503\t120\n",
            [("3栋502", A), ("3栋503", Fraction(120))],
        ),
        ("房号,建筑面积\n3-502,89.5平米\n", [("3-502", A)]),
        # Russian header, semicolon with decimal commas (Excel in a Russian locale)
        (
            "\ufeffКвартира;Площадь, м²\nкв. 12;89,5\nкв. 13;54,3\n",
            [("КВ. 12", A), ("КВ. 13", Fraction(543, 10))],
        ),
        ("№;площадь\n12;89,5\n", [("12", A)]),
        # a header recognised by its area column only
        ("Flat no.,area\n12,89.5\n", [("12", A)]),
        # no header; labels only
        ("3-502\n3-503\n\n3-504\n", [("3-502", None), ("3-503", None), ("3-504", None)]),
        ("3-502,89.5\n", [("3-502", A)]),
        # quoted decimal comma in a comma-separated file; trailing empty cells
        ('"3-502","89,5"\n3-503,89.5,,\n', [("3-502", A), ("3-503", A)]),
        # empty file
        ("", []),
        ("\ufeff\n\n", []),
    ],
)
def test_parse_csv(text: str, rows: list[tuple[str, Fraction | None]]) -> None:
    parsed, problems = parse_units_csv(text)
    assert parsed == rows
    assert problems == []


def test_csv_bad_lines_are_reported_with_line_numbers() -> None:
    text = (
        "label,area\n"  # 1
        "3-502,89.5\n"  # 2
        ",12\n"  # 3: no label
        "3-504,abc\n"  # 4: bad area
        "3-505,89,5\n"  # 5: three cells in a comma file
        "3 – 502,90\n"  # 6: the same unit again: the later line wins
        "\n"  # 7: blank, skipped
        "3-506,70\n"  # 8
        "---,70\n"  # 9: no letter or digit
        "3-507,0\n"  # 10: zero area
    )
    rows, problems = parse_units_csv(text)
    assert rows == [("3-502", Fraction(90)), ("3-506", Fraction(70))]
    assert problems == [
        (3, CSV_BAD_LABEL),
        (4, CSV_BAD_AREA),
        (5, CSV_COLUMNS),
        (6, CSV_DUPLICATE),
        (9, CSV_BAD_LABEL),
        (10, CSV_BAD_AREA),
    ]


def test_csv_duplicates_keep_the_first_position_and_the_last_values() -> None:
    rows, problems = parse_units_csv("a,1\nb,2\nA,3\nc\n a ,4\n")
    assert rows == [("A", Fraction(4)), ("B", Fraction(2)), ("C", None)]
    assert problems == [(3, CSV_DUPLICATE), (5, CSV_DUPLICATE)]


def test_csv_header_only_in_the_first_row() -> None:
    rows, problems = parse_units_csv("3-501,50\nlabel,area\n")
    assert rows == [("3-501", Fraction(50))]
    assert problems == [(2, CSV_BAD_AREA)]


def test_csv_too_large() -> None:
    ok = "".join(f"{i},50\n" for i in range(MAX_CSV_ROWS))
    assert len(parse_units_csv("label,area\n" + ok)[0]) == MAX_CSV_ROWS
    with pytest.raises(DomainError) as info:
        parse_units_csv(ok + "x,50\n")
    assert info.value.key == "unit.csv_too_large"
    assert info.value.params == {"limit": MAX_CSV_ROWS}


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"label,area\n3-502,89.5\n", "label,area\n3-502,89.5\n"),
        ("\ufeff单元,面积\n".encode(), "单元,面积\n"),
        ("квартира;площадь\n".encode(), "квартира;площадь\n"),
    ],
)
def test_decode_csv(data: bytes, text: str) -> None:
    assert decode_csv(data) == text


@pytest.mark.parametrize("data", ["квартира;площадь".encode("cp1251"), "单元".encode("gbk")])
def test_decode_csv_refuses_other_encodings(data: bytes) -> None:
    with pytest.raises(DomainError) as info:
        decode_csv(data)
    assert info.value.key == "unit.csv_encoding"
