"""Households: the labels residents type for their unit, floor areas, and the register CSV.

A unit label is free text ("3-502", "3栋502", "кв. 12", "Apt 4B"). Two residents who mean the
same unit must end up with the same label, so :func:`normalize_label` applies these rules, in
this order:

1. ``№`` is kept as it is (NFKC alone would turn it into "No").
2. Unicode NFKC: full-width digits, letters, dashes, slashes and spaces become ASCII
   ("３－５０２" -> "3-502", "Ａｐｔ" -> "Apt", the ideographic space -> " ").
3. Invisible characters (zero-width spaces, BOM, direction marks, the Hangul fillers and the
   blank Braille pattern) are dropped; every other control character counts as a space. Every
   decimal digit of any script becomes its ASCII digit ("١-٠١" -> "1-01").
4. Every dash variant (hyphen, non-breaking hyphen, figure dash, en and em dash, horizontal bar,
   minus sign, small and full-width hyphen-minus, and the rarer ones listed in ``_DASHES``) and
   the slash and backslash become ``-``: "3/502" and "3-502" are the same unit. Runs of dashes
   become one dash.
5. Runs of white space become one space; no space stays at either end, next to a dash, after
   ``№``, or next to a CJK character ("3 栋 502" -> "3栋502").
6. A period that ends a word ("кв.12", "Apt.4B") is followed by exactly one space ("кв. 12"),
   a period between digits ("3.502") is left alone.
7. Upper case for every cased letter, Latin and Cyrillic alike ("apt 4b" -> "APT 4B",
   "кв. 12" -> "КВ. 12"); CJK words stay as they are ("3栋502").
8. The result must hold at least one letter or digit and at most :data:`MAX_LABEL` characters,
   otherwise ``DomainError("unit.bad_label", value=..., limit=MAX_LABEL)``.

Words are never translated or dropped: "3栋502", "3-502" and "кв. 3-502" stay three labels.

Look-alikes: a label that only *looks* like another ("1-0О" with a Cyrillic О, "1-01" with a
combining accent, "1-O1" with a Latin O) must not become a second unit. :func:`skeleton` folds a
normalised label to a form in which look-alikes are equal (marks stripped, Cyrillic and Greek
letters that look Latin mapped to Latin, O to 0 and I to 1); the register keeps one unit per
skeleton and shows the label as it was first registered. A label wholly in Cyrillic or Chinese
("кв. 12", "3栋502") is as good as any other.

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
from bot.domain.languages import WordSet
from bot.domain.text import one_line

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
    "\u02d7\u058a\u05be\u1400\u1806\u2043\u2796\u2e17\u2e1a\u2e3a\u2e3b\u2e40"
    "\u301c\u30a0\ufe31\ufe32"
)
#: Letters that render as nothing (or as a blank) but count as letters to ``str.isalnum``.
_INVISIBLE: Final[frozenset[str]] = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5")
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
    label = _DASH_RE.sub("-", _AROUND_DASH_RE.sub("-", label))  # "3 / / 502": one dash
    label = _AFTER_NUMERO_RE.sub(_NUMERO, label)
    label = _CJK_SPACE_RE.sub("", label)
    label = _WORD_PERIOD_RE.sub(r"\1. ", label)
    label = label.upper()
    if not any(c.isalnum() for c in label) or len(label) > MAX_LABEL:
        raise DomainError("unit.bad_label", value=_shorten(text), limit=MAX_LABEL)
    return label


def _clean_char(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf" or char in _INVISIBLE:
        return ""
    if category == "Cc":
        return " "
    if category == "Nd":
        return str(unicodedata.decimal(char))
    return char


#: Letters of Cyrillic and Greek (and a few others) that look like a Latin letter or a digit,
#: mapped to it; the Latin O and I fold to the digits they resemble. Applied after upper-casing
#: and after marks are stripped (so "Ё" is "Е" is "E").
_CONFUSABLES: Final[dict[int, str]] = str.maketrans(
    {
        # Cyrillic
        "\u0410": "A",  # cyrillic capital letter a
        "\u0412": "B",  # cyrillic capital letter ve
        "\u0415": "E",  # cyrillic capital letter ie
        "\u0417": "3",  # cyrillic capital letter ze
        "\u041a": "K",  # cyrillic capital letter ka
        "\u041c": "M",  # cyrillic capital letter em
        "\u041d": "H",  # cyrillic capital letter en
        "\u041e": "0",  # cyrillic capital letter o
        "\u0420": "P",  # cyrillic capital letter er
        "\u0421": "C",  # cyrillic capital letter es
        "\u0422": "T",  # cyrillic capital letter te
        "\u0423": "Y",  # cyrillic capital letter u
        "\u0425": "X",  # cyrillic capital letter ha
        "\u0405": "S",  # cyrillic capital letter dze
        "\u0406": "1",  # cyrillic capital letter byelorussian-ukrainian i
        "\u0408": "J",  # cyrillic capital letter je
        "\u051a": "Q",  # cyrillic capital letter qa
        "\u051c": "W",  # cyrillic capital letter we
        "\u04ba": "H",  # cyrillic capital letter shha
        "\u04c0": "1",  # cyrillic letter palochka
        "\u04cf": "1",  # cyrillic small letter palochka
        "\u04ae": "Y",  # cyrillic capital letter straight u
        "\u0500": "D",  # cyrillic capital letter komi de
        "\ua7ac": "G",  # latin capital letter script g
        # Greek
        "\u0391": "A",  # greek capital letter alpha
        "\u0392": "B",  # greek capital letter beta
        "\u0395": "E",  # greek capital letter epsilon
        "\u0396": "Z",  # greek capital letter zeta
        "\u0397": "H",  # greek capital letter eta
        "\u0399": "1",  # greek capital letter iota
        "\u039a": "K",  # greek capital letter kappa
        "\u039c": "M",  # greek capital letter mu
        "\u039d": "N",  # greek capital letter nu
        "\u039f": "0",  # greek capital letter omicron
        "\u03a1": "P",  # greek capital letter rho
        "\u03a4": "T",  # greek capital letter tau
        "\u03a5": "Y",  # greek capital letter upsilon
        "\u03a7": "X",  # greek capital letter chi
        "\u03f9": "C",  # greek capital lunate sigma symbol
        "\u037f": "J",  # greek capital letter yot
        "\u03f2": "C",  # greek lunate sigma symbol
        "\u03bf": "0",  # greek small letter omicron
        # Latin and others that resemble digits or Latin capitals
        "O": "0",
        "I": "1",
        "\u0196": "1",  # latin capital letter iota
        "\u0555": "0",  # armenian capital letter oh
        "\u01c0": "1",  # latin letter dental click
        "\u13aa": "A",  # cherokee letter go
        "\u13f4": "B",  # cherokee letter yv
        "\u13ac": "E",  # cherokee letter gv
        "\u13bb": "H",  # cherokee letter mi
        "\u13e6": "K",  # cherokee letter tso
        "\u13b7": "M",  # cherokee letter lu
        "\u13e2": "P",  # cherokee letter tlv
        "\u13a2": "T",  # cherokee letter i
    }
)


def skeleton(label: str) -> str:
    """The form of a normalised label in which look-alikes are equal (see the module docstring).

    Compatibility-decomposed, every combining mark and invisible character dropped, digits of any
    script made ASCII, confusable Cyrillic, Greek and Latin letters mapped by ``_CONFUSABLES``,
    and every dash made ``-``. Only for comparing: it is never shown.
    """
    text = unicodedata.normalize("NFKD", label).upper()
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Mn", "Me", "Cf") or char in _INVISIBLE:
            continue
        kept.append(str(unicodedata.decimal(char)) if category == "Nd" else char)
    folded = "".join(kept).translate(_CONFUSABLES)
    folded = _DASH_RE.sub("-", folded)
    return _SPACE_RE.sub(" ", folded).strip()


def _shorten(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- floor area --------------------------------------------------------------------------------

#: Unit suffixes accepted after the number (compared after NFKC and lower-casing, so "m²", "㎡",
#: "M2" and "m2" are one; "кв.м", "кв. м" and "кв м" are one).
_AREA_SUFFIX_RE: Final[re.Pattern[str]] = re.compile(
    r"\s*(?:m2|m|sq\.?\s*m|sqm|square\s+met(?:er|re)s?|met(?:er|re)s?|平方米|平方公尺|平米|平方|平|м2"
    r"|кв\.?\s*м\.?|м\.?\s*кв\.?|(?:кв\.?|квадратных)?\s*метр(?:а|ов)?|м\.?)\s*$"
)
_AREA_NUMBER_RE: Final[re.Pattern[str]] = re.compile(r"(\d{1,6})(?:[.,](\d{0,2}))?")
_NO_AREA: Final[frozenset[str]] = WordSet({"", "-", "—", "–", "?", "n/a", "нет", "无"})


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


#: A word that was meant as an area but is not one: starts with a digit and holds a decimal
#: separator, or is followed by a unit of measure ("80.555", "1,000", "80m", "80 м", "0").
_AREA_LIKE_RE: Final[re.Pattern[str]] = re.compile(
    r"\d[\d\s]*(?:[.,]\d*)*\s*(?:[a-zа-я²平㎡]*)", re.IGNORECASE
)
_AREA_WORDS: Final[int] = 3  # "80 кв. м" is three words
#: A label that ends like this wants its number: "3栋" + "502", "КВ." + "12", "№" + "7".
_CONTINUES_RE: Final[re.Pattern[str]] = re.compile(f"(?:[{_CJK}]|\\.|{_NUMERO})$")


def split_label_area(words: list[str]) -> tuple[str, Fraction | None]:
    """The label and area of ``/units add <label> [area]``, from its words.

    The area is the last one to three words whenever they read as one (``80``, ``80,5``,
    ``80 m²``, ``80 кв. м``, ``80平米``) and something is left for the label — except a bare
    whole number after a label that ends in a CJK character, a period or ``№`` (``3 栋 502``,
    ``кв. 12``), which ends the label. ``-`` there means "no area" (for other labels that end in
    a number after a space: ``Apt 12 -``). A last word that
    was evidently meant as an area but is not one is refused, never taken into the label:
    a number that is not an area (``80.555``, ``0``, ``80m``), or a word of two or more letters
    after a label that already ends in a digit (``3-502 abc``, ``6 сорок``) —
    ``DomainError("unit.area_expected", value=..., label=...)``. A single letter (``Apt 12 B``)
    and letters after a word (``Shop A``, ``Block AB``) stay part of the label.
    """
    words = [w for w in words if w.strip()]
    for size in range(min(_AREA_WORDS, len(words) - 1), 0, -1):
        tail = " ".join(words[-size:])
        try:
            area = parse_area(tail)
        except DomainError:
            continue
        try:
            head = normalize_label(" ".join(words[:-size]))
        except DomainError:
            return normalize_label(" ".join(words)), None  # "№ 7": nothing left but a sign
        if size == 1 and tail.isdigit() and _CONTINUES_RE.search(head):
            return normalize_label(" ".join(words)), None  # "3 栋 502", "кв. 12"
        return head, area
    if len(words) >= 2:
        last = unicodedata.normalize("NFKC", words[-1])
        head = normalize_label(" ".join(words[:-1]))
        numeric = last[0].isdigit() and _AREA_LIKE_RE.fullmatch(last) is not None
        numeric = numeric and not _looks_like_label_part(last)
        word = last.isalpha() and len(last) >= 2 and head[-1].isdigit()
        if numeric or word:
            raise DomainError("unit.area_expected", value=_shorten(words[-1]), label=head)
    return normalize_label(" ".join(words)), None


def _looks_like_label_part(word: str) -> bool:
    """ "4B", "12а", "502室": digits then one letter (or a CJK word) are a label, not an area."""
    letters = word.lstrip("0123456789")
    if not letters:
        return False
    if re.search(f"[{_CJK}]", letters) and not re.search("平|㎡", letters):
        return True
    return len(letters) == 1 and letters.isalpha() and letters.lower() not in ("m", "м")


# --- the register CSV --------------------------------------------------------------------------

#: Words of a header's first column (label), compared after NFKC ("№" reads "no"), case-folded,
#: without a parenthesised part.
LABEL_HEADERS: Final[frozenset[str]] = WordSet(
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
AREA_HEADERS: Final[frozenset[str]] = WordSet(
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
    """:func:`parse_units_csv_parts` without the parts: (label, area) rows."""
    rows, problems = parse_units_csv_parts(text)
    return [(label, area) for label, area, _ in rows], problems


#: A third header cell that names the part of the building a unit is in (en, zh, ru).
PART_HEADERS: Final[frozenset[str]] = WordSet(
    {
        "part",
        "entrance",
        "staircase",
        "building",
        "block",
        "section",
        "单元",
        "楼栋",
        "栋",
        "楼",
        "楼号",
        "分区",
        "подъезд",
        "корпус",
        "секция",
        "часть",
        "строение",
    }
)

#: Reported by :func:`parse_units_csv_parts` for a part cell it cannot take.
CSV_BAD_PART: Final[str] = "unit.csv_bad_part"


def parse_units_csv_parts(
    text: str,
) -> tuple[list[tuple[str, Fraction | None, str | None]], list[tuple[int, str]]]:
    """Read a register: one unit per line, the label and optionally the area in m², and — when
    the header's third cell names one (:data:`PART_HEADERS`: "entrance", "单元", "подъезд") — the
    part of the building it is in (an empty cell keeps the stored part, "-" takes it out).

    * The separator is the first of tab, semicolon, comma found in the first non-blank line
      (so "3-502;89,5" reads a decimal comma). Quotes work as in any CSV.
    * A BOM is dropped. Blank lines are skipped. Empty trailing cells are ignored; a row with
      more than two non-empty cells is refused (``unit.csv_columns``): a third column is never
      guessed at (it might be the decimals of "89,5" in a comma-separated file).
    * The first non-blank row is a header, and skipped, when its first cell is a label word or
      its second cell an area word (:data:`LABEL_HEADERS`, :data:`AREA_HEADERS`; en, zh, ru).
    * Returns the rows as (normalised label, area or None), in order of first appearance, and
      the problems as (line number, key), line numbers counted from 1 in the file. Keys:
      ``unit.csv_bad_label``, ``unit.csv_bad_area``, ``unit.csv_bad_part``, ``unit.csv_columns``
      (the line is skipped)
      and the warning ``unit.duplicate_in_file`` (reported at the later line, whose values win;
      look-alikes such as "1-01" and "1-О1" are duplicates, the first spelling is kept).
    * More than :data:`MAX_CSV_ROWS` data rows raise ``DomainError("unit.csv_too_large",
      limit=MAX_CSV_ROWS)``.
    """
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    first = next((line for line in lines if line.strip()), "")
    delimiter = next((d for d in "\t;," if d in first), ",")
    rows: dict[str, tuple[str, Fraction | None, str | None]] = {}  # by skeleton
    problems: list[tuple[int, str]] = []
    reader = csv.reader(lines, delimiter=delimiter)
    seen_first = False
    data_rows = 0
    columns = 2  # three when the header names a part column
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
                if len(cells) == 3 and _header_word(cells[2]) in PART_HEADERS:
                    columns = 3
                continue
        data_rows += 1
        if data_rows > MAX_CSV_ROWS:
            raise DomainError("unit.csv_too_large", limit=MAX_CSV_ROWS)
        if len(cells) > columns:
            problems.append((line, CSV_COLUMNS))
            continue
        try:
            label = normalize_label(cells[0])
        except DomainError:
            problems.append((line, CSV_BAD_LABEL))
            continue
        try:
            area = parse_area(cells[1]) if len(cells) >= 2 else None
        except DomainError:
            problems.append((line, CSV_BAD_AREA))
            continue
        part: str | None = None
        if len(cells) == 3:
            try:
                _, part = split_part("|" + cells[2])
            except DomainError:
                problems.append((line, CSV_BAD_PART))
                continue
        key = skeleton(label)
        if key in rows:
            problems.append((line, CSV_DUPLICATE))
            label = rows[key][0]  # a look-alike of an earlier line: that line's label is kept
        rows[key] = (label, area, part)
    return list(rows.values()), problems


def _is_header(cells: list[str]) -> bool:
    words = [_header_word(c) for c in cells[:2]]
    return words[0] in LABEL_HEADERS or (len(words) == 2 and words[1] in AREA_HEADERS)


def _header_word(cell: str) -> str:
    word = unicodedata.normalize("NFKC", cell).casefold()
    word = _PARENS_RE.sub("", word)
    return " ".join(word.split()).strip(" :：")


# --- parts of the building -------------------------------------------------------------------

#: The longest name of a part ("Entrance 2", "3号楼", "корпус Б").
MAX_PART: Final[int] = 40

#: Written instead of a part to take a unit out of its part.
NO_PART_WORDS: Final[frozenset[str]] = frozenset({"-", "—", "none", "无", "нет"})


def normalize_part(text: str) -> str:
    """A part's name as it is shown: compatibility forms folded, invisible characters dropped,
    spaces collapsed; at most MAX_PART characters (``unit.bad_part``)."""
    part = one_line(unicodedata.normalize("NFKC", text))
    if not part or len(part) > MAX_PART or "|" in part:  # "entrance 2 | x": a second field
        raise DomainError("unit.bad_part", value=_shorten(text), limit=MAX_PART)
    return part


def part_key(text: str) -> str:
    """What two spellings of one part share: "Entrance 2", "entrance  2" and "ENTRANCE 2"."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def split_part(text: str) -> tuple[str, str | None]:
    """``3-502 80 | entrance 2`` -> ("3-502 80", "entrance 2"); without ``|`` the part is None
    (keep it); ``| -`` is "" (take the unit out of its part)."""
    head, bar, tail = text.partition("|")
    if not bar:
        return text, None
    tail = tail.strip()
    if not tail:
        raise DomainError("unit.bad_part", value="", limit=MAX_PART)
    if tail.casefold() in NO_PART_WORDS:
        return head, ""
    return head, normalize_part(tail)
