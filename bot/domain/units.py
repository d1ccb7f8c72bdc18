"""Households: the labels residents type for their unit, floor areas, and the register CSV.

A unit label is free text ("3-502", "3栋502", "кв. 12", "Apt 4B"). Two residents who mean the
same unit must end up with the same label, so :func:`normalize_label` applies these rules, in
this order:

1. ``№`` is kept as it is (NFKC alone would turn it into "No").
2. Unicode NFKC: full-width digits, letters, dashes, slashes and spaces become ASCII
   ("３－５０２" -> "3-502", "Ａｐｔ" -> "Apt", the ideographic space -> " ").
3. Invisible format characters (zero-width spaces, BOM, direction marks) are dropped; every other
   control character counts as a space.
4. Every dash variant (hyphen, non-breaking hyphen, figure dash, en and em dash, horizontal bar,
   minus sign, small and full-width hyphen-minus) and the slash and backslash become ``-``:
   "3/502" and "3-502" are the same unit. Runs of dashes become one dash.
5. Runs of white space become one space; no space stays at either end, next to a dash, after
   ``№``, or next to a CJK character ("3 栋 502" -> "3栋502").
6. A period that ends a word ("кв.12", "Apt.4B") is followed by exactly one space ("кв. 12"),
   a period between digits ("3.502") is left alone.
7. Upper case for every cased letter, Latin and Cyrillic alike ("apt 4b" -> "APT 4B",
   "кв. 12" -> "КВ. 12"); CJK words stay as they are ("3栋502").
8. The result must hold at least one letter or digit and at most :data:`MAX_LABEL` characters,
   otherwise ``DomainError("unit.bad_label", value=..., limit=MAX_LABEL)``.

Words are never translated or dropped: "3栋502", "3-502" and "кв. 3-502" stay three labels.

Areas are square metres, exact (:class:`~fractions.Fraction` built from the decimal text, never
a float), see :func:`parse_area`. The register CSV is read by :func:`parse_units_csv`.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from fractions import Fraction
from typing import Final

from bot.domain.errors import DomainError

#: Longest label, in characters, after normalisation.
MAX_LABEL: Final[int] = 32
#: Largest floor area of one unit, m².
MAX_AREA: Final[Fraction] = Fraction(100_000)
#: Most data rows a register CSV may hold.
MAX_CSV_ROWS: Final[int] = 5000

_NUMERO: Final[str] = "№"
_NUMERO_GUARD: Final[str] = "\ue000"  # a private-use character NFKC leaves alone

_DASHES: Final[str] = (
    "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d/\\"  # plus the ASCII "-"
)
_DASH_RE: Final[re.Pattern[str]] = re.compile(f"[{re.escape(_DASHES)}-]+")
_SPACE_RE: Final[re.Pattern[str]] = re.compile(r"\s+")
_AROUND_DASH_RE: Final[re.Pattern[str]] = re.compile(r" ?- ?")
_AFTER_NUMERO_RE: Final[re.Pattern[str]] = re.compile(f"{_NUMERO} ")
_WORD_PERIOD_RE: Final[re.Pattern[str]] = re.compile(r"([^\W\d_])\. ?(?=\w)")
_CJK: Final[str] = (
    "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
)
_CJK_SPACE_RE: Final[re.Pattern[str]] = re.compile(f"(?<=[{_CJK}]) | (?=[{_CJK}])")


def normalize_label(text: str) -> str:
    """The canonical form of a unit label (see the module docstring), or a DomainError."""
    label = text.replace(_NUMERO, _NUMERO_GUARD)
    label = unicodedata.normalize("NFKC", label).replace(_NUMERO_GUARD, _NUMERO)
    label = "".join(_clean_char(c) for c in label)
    label = _DASH_RE.sub("-", label)
    label = _SPACE_RE.sub(" ", label).strip()
    label = _AROUND_DASH_RE.sub("-", label)
    label = _AFTER_NUMERO_RE.sub(_NUMERO, label)
    label = _CJK_SPACE_RE.sub("", label)
    label = _WORD_PERIOD_RE.sub(r"\1. ", label)
    label = label.upper()
    if not any(c.isalnum() for c in label) or len(label) > MAX_LABEL:
        raise DomainError("unit.bad_label", value=_shorten(text), limit=MAX_LABEL)
    return label


def _clean_char(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    if category == "Cc":
        return " "
    return char


def _shorten(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- floor area --------------------------------------------------------------------------------

#: Unit suffixes accepted after the number (compared after NFKC and lower-casing, so "m²", "㎡",
#: "M2" and "m2" are one; "кв.м", "кв. м" and "кв м" are one).
_AREA_SUFFIX_RE: Final[re.Pattern[str]] = re.compile(
    r"\s*(?:m2|sq\.?\s*m|sqm|square\s+met(?:er|re)s?|平方米|平米|平方|平|м2|кв\.?\s*м\.?)\s*$"
)
_AREA_NUMBER_RE: Final[re.Pattern[str]] = re.compile(r"(\d{1,6})(?:[.,](\d{1,2}))?")
_NO_AREA: Final[frozenset[str]] = frozenset({"", "-", "—", "–", "?", "n/a", "нет", "无"})


def parse_area(text: str) -> Fraction | None:
    """Floor area in m²: "89.5", "89,5", "89.5m2", "89.5 m²", "89.5平米", "89,5 м²".

    Blank text (or "-", "n/a", "нет", "无") means "no area" and gives ``None``. Otherwise the
    number must be positive, at most :data:`MAX_AREA` and have at most two decimals (a comma is a
    decimal comma: "1,000" has three decimals and is refused rather than guessed); the value is
    exact. Anything else raises ``DomainError("unit.bad_area", value=...)``.
    """
    raw = unicodedata.normalize("NFKC", text).strip().lower()
    if raw in _NO_AREA:
        return None
    number = _AREA_SUFFIX_RE.sub("", raw).strip()
    match = _AREA_NUMBER_RE.fullmatch(number)
    if match is None:
        raise DomainError("unit.bad_area", value=_shorten(text))
    whole, decimals = match.group(1), match.group(2) or "0"
    area = Fraction(f"{whole}.{decimals}")
    if not 0 < area <= MAX_AREA:
        raise DomainError("unit.bad_area", value=_shorten(text))
    return area


# --- the register CSV --------------------------------------------------------------------------

#: Words of a header's first column (label), compared after NFKC ("№" reads "no"), case-folded,
#: without a parenthesised part.
LABEL_HEADERS: Final[frozenset[str]] = frozenset(
    {
        "label",
        "unit",
        "units",
        "unit label",
        "apartment",
        "apt",
        "flat",
        "room",
        "number",
        "单元",
        "房号",
        "房间",
        "房间号",
        "户",
        "户号",
        "门牌",
        "门牌号",
        "房屋",
        "квартира",
        "кв",
        "кв.",
        "номер",
        "номер квартиры",
        "помещение",
        "no",
        "no.",
        "#",
    }
)
#: Words of a header's second column (area).
AREA_HEADERS: Final[frozenset[str]] = frozenset(
    {
        "area",
        "floor area",
        "size",
        "m2",
        "sqm",
        "面积",
        "建筑面积",
        "使用面积",
        "平米",
        "площадь",
        "общая площадь",
        "площадь помещения",
        "площадь м2",
        "площадь, м2",
        "кв.м",
        "м2",
    }
)
_PARENS_RE: Final[re.Pattern[str]] = re.compile(r"[(\[（【].*?[)\]）】]")

#: Keys reported per line by :func:`parse_units_csv`; their messages receive ``line``.
CSV_BAD_LABEL: Final[str] = "unit.csv_bad_label"
CSV_BAD_AREA: Final[str] = "unit.csv_bad_area"
CSV_COLUMNS: Final[str] = "unit.csv_columns"
CSV_DUPLICATE: Final[str] = "unit.duplicate_in_file"


def decode_csv(data: bytes) -> str:
    """The text of an uploaded CSV: UTF-8 with or without BOM, else ``unit.csv_encoding``."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError("unit.csv_encoding") from None


def parse_units_csv(text: str) -> tuple[list[tuple[str, Fraction | None]], list[tuple[int, str]]]:
    """Read a register: one unit per line, the label and optionally the area in m².

    * The separator is the first of tab, semicolon, comma found in the first non-blank line
      (so "3-502;89,5" reads a decimal comma). Quotes work as in any CSV.
    * A BOM is dropped. Blank lines are skipped. Empty trailing cells are ignored; a row with
      more than two non-empty cells is refused (``unit.csv_columns``): a third column is never
      guessed at (it might be the decimals of "89,5" in a comma-separated file).
    * The first non-blank row is a header, and skipped, when its first cell is a label word or
      its second cell an area word (:data:`LABEL_HEADERS`, :data:`AREA_HEADERS`; en, zh, ru).
    * Returns the rows as (normalised label, area or None), in order of first appearance, and
      the problems as (line number, key), line numbers counted from 1 in the file. Keys:
      ``unit.csv_bad_label``, ``unit.csv_bad_area``, ``unit.csv_columns`` (the line is skipped)
      and the warning ``unit.duplicate_in_file`` (reported at the later line, whose values win).
    * More than :data:`MAX_CSV_ROWS` data rows raise ``DomainError("unit.csv_too_large",
      limit=MAX_CSV_ROWS)``.
    """
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    first = next((line for line in lines if line.strip()), "")
    delimiter = next((d for d in "\t;," if d in first), ",")
    rows: dict[str, Fraction | None] = {}
    problems: list[tuple[int, str]] = []
    reader = csv.reader(lines, delimiter=delimiter)
    seen_first = False
    data_rows = 0
    for cells in reader:
        line = reader.line_num
        cells = [c.strip() for c in cells]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if not seen_first:
            seen_first = True
            if _is_header(cells):
                continue
        data_rows += 1
        if data_rows > MAX_CSV_ROWS:
            raise DomainError("unit.csv_too_large", limit=MAX_CSV_ROWS)
        if len(cells) > 2:
            problems.append((line, CSV_COLUMNS))
            continue
        try:
            label = normalize_label(cells[0])
        except DomainError:
            problems.append((line, CSV_BAD_LABEL))
            continue
        try:
            area = parse_area(cells[1]) if len(cells) == 2 else None
        except DomainError:
            problems.append((line, CSV_BAD_AREA))
            continue
        if label in rows:
            problems.append((line, CSV_DUPLICATE))
        rows[label] = area
    return list(rows.items()), problems


def _is_header(cells: list[str]) -> bool:
    words = [_header_word(c) for c in cells[:2]]
    return words[0] in LABEL_HEADERS or (len(words) == 2 and words[1] in AREA_HEADERS)


def _header_word(cell: str) -> str:
    word = unicodedata.normalize("NFKC", cell).casefold()
    word = _PARENS_RE.sub("", word)
    return " ".join(word.split()).strip(" :：")
