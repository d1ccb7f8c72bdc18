"""Unit labels, floor areas and the register CSV, as residents and leads type them."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.errors import DomainError
from bot.domain.units import (
    CSV_BAD_AREA,
    CSV_BAD_LABEL,
    CSV_BAD_PART,
    CSV_COLUMNS,
    CSV_DUPLICATE,
    MAX_CSV_ROWS,
    MAX_LABEL,
    decode_csv,
    normalize_label,
    parse_area,
    parse_units_csv,
    parse_units_csv_parts,
    part_key,
    skeleton,
    split_label_area,
    split_part,
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
        ("3 / / 502", "3-502"),
        ("0 - -", "0-"),
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
        # as people type them
        ("80 м²", Fraction(80)),
        ("80㎡", Fraction(80)),
        ("80 кв.м", Fraction(80)),
        ("80 кв. м", Fraction(80)),
        ("80 м", Fraction(80)),
        ("80м", Fraction(80)),
        ("80 метров", Fraction(80)),
        ("80 кв. метров", Fraction(80)),
        ("80 m", Fraction(80)),
        ("80 metres", Fraction(80)),
        ("80.", Fraction(80)),
        ("80,", Fraction(80)),
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


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("\u0661-\u0660\u0661", "1-01"),  # Arabic-Indic digits become ASCII
        ("\u0967-\u0966\u0967", "1-01"),  # Devanagari
        ("1\u201001", "1-01"),  # hyphen
        ("1\u2e3a01", "1-01"),  # two-em dash
        ("1\u30a001", "1-01"),  # katakana double hyphen
        ("1-01\u3164", "1-01"),  # a Hangul filler, invisible but a "letter"
        ("\u2800", None),  # the blank Braille pattern alone is nothing
    ],
)
def test_digits_dashes_and_invisible_letters(typed: str, label: str | None) -> None:
    if label is None:
        with pytest.raises(DomainError):
            normalize_label(typed)
    else:
        assert normalize_label(typed) == label


@pytest.mark.parametrize(
    "typed",
    [
        "1-\u041e1",  # Cyrillic О
        "1-\u039f1",  # Greek Ο
        "1-O1",  # Latin O
        "I-01",  # Latin I
        "\u0406-01",  # Cyrillic І
        "1-0\u03011",  # a combining accent
        "1-0\u03001\u0323",  # two
        "\u0661-\u0660\u0661",
        "\uff11\uff0d\uff10\uff11",
        "1\u200b-\u200c0\u200d1\ufeff",
        "1\u201301",
        "1\u221201",
    ],
)
def test_look_alikes_share_a_skeleton(typed: str) -> None:
    assert skeleton(normalize_label(typed)) == skeleton("1-01")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("\u0410\u0412 12", "AB 12"),  # Cyrillic АВ and Latin AB
        ("\u0395\u03a1-1", "EP-1"),  # Greek
        ("\u041a\u0412. 12", "KB. 12"),
        ("3\u0417", "33"),  # Cyrillic З and the digit
    ],
)
def test_cyrillic_and_greek_look_alikes_of_latin(first: str, second: str) -> None:
    assert skeleton(normalize_label(first)) == skeleton(normalize_label(second))


@pytest.mark.parametrize(
    ("first", "second"),
    [("3-502", "3-503"), ("3栋502", "3-502"), ("КВ. 12", "КВ. 13"), ("APT 4B", "APT 4C")],
)
def test_different_labels_stay_different(first: str, second: str) -> None:
    assert skeleton(first) != skeleton(second)


@pytest.mark.parametrize(
    ("words", "label", "area"),
    [
        ("3-502 80", "3-502", Fraction(80)),
        ("3-502 80,5", "3-502", Fraction("80.5")),
        ("3-502 80.5", "3-502", Fraction("80.5")),
        ("3-502 80m2", "3-502", Fraction(80)),
        ("3-502 80 m2", "3-502", Fraction(80)),
        ("3-502 80 м²", "3-502", Fraction(80)),
        ("3-502 80㎡", "3-502", Fraction(80)),
        ("3-502 80平米", "3-502", Fraction(80)),
        ("3-502 80 кв.м", "3-502", Fraction(80)),
        ("3-502 80 кв. м", "3-502", Fraction(80)),
        ("кв 12 80", "КВ 12", Fraction(80)),
        ("кв. 12 80 кв. м", "КВ. 12", Fraction(80)),
        ("3 栋 502 89.5平米", "3栋502", Fraction("89.5")),
        ("3-502", "3-502", None),
        ("Apt 4B", "APT 4B", None),
        ("Shop A", "SHOP A", None),
        ("Apt 12 B", "APT 12 B", None),
        ("Block AB", "BLOCK AB", None),
        ("3 栋 502", "3栋502", None),  # the number ends a label that wants one
        ("кв. 12", "КВ. 12", None),
        ("№ 7", "№7", None),
        ("кв. 12 -", "КВ. 12", None),
        ("3-502 abc -", "3-502 ABC", None),  # "-": the word belongs to the label
        ("Apt 12", "APT", Fraction(12)),  # as before: write "Apt 12 -" for none
    ],
)
def test_split_label_area(words: str, label: str, area: Fraction | None) -> None:
    assert split_label_area(words.split()) == (label, area)


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("3-502 abc", "abc"),
        ("6 сорок", "сорок"),
        ("3-502 восемьдесят", "восемьдесят"),
        ("3-502 eighty", "eighty"),
        ("3-502 80.555", "80.555"),
        ("3-502 1,000", "1,000"),
        ("3-502 0", "0"),
        ("3-502 80мм", "80мм"),
        ("3-502 80 ft", "ft"),
    ],
)
def test_a_word_where_an_area_was_expected_is_refused(words: str, value: str) -> None:
    with pytest.raises(DomainError) as info:
        split_label_area(words.split())
    assert info.value.key == "unit.area_expected"
    assert info.value.params["value"] == value


def test_csv_look_alikes_are_duplicates_and_keep_the_first_spelling() -> None:
    rows, problems = parse_units_csv("1-01;50\n1-\u041e1;60\n\u0661-\u0660\u0662;70\n")
    assert rows == [("1-01", Fraction(60)), ("1-02", Fraction(70))]
    assert problems == [(2, CSV_DUPLICATE)]


def test_csv_refuses_words_for_areas_line_by_line() -> None:
    rows, problems = parse_units_csv("3-502;abc\n6;сорок\n7;80 кв. м\n")
    assert rows == [("7", Fraction(80))]
    assert problems == [(1, CSV_BAD_AREA), (2, CSV_BAD_AREA)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=6))
def test_units_add_words_return_or_refuse_in_words_we_can_translate(words: list[str]) -> None:
    try:
        label, area = split_label_area(words)
    except DomainError as exc:
        assert exc.key in ("unit.bad_label", "unit.area_expected")
    else:
        assert normalize_label(label) == label
        assert area is None or area > 0
        assert skeleton(label) == skeleton(normalize_label(label))


# --- parts of the building -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "head", "part"),
    [
        ("3-502 80 | entrance 2", "3-502 80 ", "entrance 2"),
        ("3-502 80|2单元", "3-502 80", "2单元"),
        ("кв. 12 | подъезд  2", "кв. 12 ", "подъезд 2"),
        ("3-502 | Ｂ栋", "3-502 ", "B栋"),  # full-width folded
        ("3-502 | -", "3-502 ", ""),  # out of its part
        ("3-502 | нет", "3-502 ", ""),
        ("3-502 80", "3-502 80", None),  # no bar: the stored part is kept
        ("3-502 | entrance\u200b 2", "3-502 ", "entrance 2"),
    ],
)
def test_split_part(text: str, head: str, part: str | None) -> None:
    assert split_part(text) == (head, part)


@pytest.mark.parametrize(
    "text",
    ["3-502 |", "3-502 |   ", "3-502 | \u200b", "3-502 | " + "x" * 41, "3-502 | entrance 2 | 5"],
)
def test_a_part_must_be_a_visible_name(text: str) -> None:
    with pytest.raises(DomainError) as info:
        split_part(text)
    assert info.value.key == "unit.bad_part"


def test_part_key_makes_spellings_one() -> None:
    assert part_key("Entrance 2") == part_key("entrance  2") == part_key("ENTRANCE 2")
    assert part_key("Ｂ栋") == part_key("b栋")
    assert part_key("Entrance 2") != part_key("Entrance 3")


def test_csv_part_column_only_when_the_header_names_it() -> None:
    rows, problems = parse_units_csv_parts(
        "unit;area;entrance\n3-501;;1\n3-502;89,5;1\n3-503;70;-\n3-504\n3-505;1;" + "x" * 41 + "\n"
    )
    assert rows == [
        ("3-501", None, "1"),
        ("3-502", Fraction("89.5"), "1"),
        ("3-503", Fraction(70), ""),
        ("3-504", None, None),
    ]
    assert problems == [(6, CSV_BAD_PART)]
    # without a part header a third cell is still refused (it may be the decimals of 89,5)
    rows, problems = parse_units_csv_parts("3-502,89,5\n")
    assert rows == [] and problems == [(1, CSV_COLUMNS)]
    assert parse_units_csv("подъезд,площадь,корпус\n1,50,А\n") == ([("1", Fraction(50))], [])
    rows, _ = parse_units_csv_parts("房号,面积,楼栋\n3-502,80,3号楼\n")
    assert rows == [("3-502", Fraction(80), "3号楼")]
