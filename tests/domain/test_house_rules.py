"""House rules, the pure part: reading numbered articles in the ways people number them,
amendments, the difference of two versions, version numbers, the words of /rules."""

from __future__ import annotations

import pytest

from bot.domain import house_rules as hr
from bot.domain.errors import DomainError


@pytest.mark.parametrize(
    ("text", "preamble", "articles"),
    [
        (
            "1. Quiet at night.\n2. No bikes on stairs.",
            "",
            ("Quiet at night.", "No bikes on stairs."),
        ),
        ("1) One\n2) Two", "", ("One", "Two")),
        ("1、安静\n2、整洁", "", ("安静", "整洁")),
        ("１．安静\n２．整洁", "", ("安静", "整洁")),  # full-width digits and dot
        ("第一条 安静\n第二条 整洁", "", ("安静", "整洁")),
        ("第1条：安静\n第2条：整洁", "", ("安静", "整洁")),
        ("一、安静\n二、整洁", "", ("安静", "整洁")),
        (
            "居民公约\n一、爱护环境\n（一）不乱扔垃圾\n二、邻里和睦",
            "居民公约",
            ("爱护环境\n（一）不乱扔垃圾", "邻里和睦"),
        ),
        (
            "\n".join(
                f"第{n}条 x{i}"
                for i, n in enumerate(
                    ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"], 1
                )
            ),
            "",
            tuple(f"x{i}" for i in range(1, 13)),
        ),
        ("Статья 1. Тишина\nСтатья 2. Чистота", "", ("Тишина", "Чистота")),
        ("Ст. 1 Тишина\nСт. 2 Чистота", "", ("Тишина", "Чистота")),
        ("Article 1: Quiet\nArticle 2 - Clean", "", ("Quiet", "Clean")),
        ("§ 1 Quiet\n§2 Clean", "", ("Quiet", "Clean")),
        ("## 1. Quiet\n## 2. Clean", "", ("Quiet", "Clean")),  # Markdown headings
        ("**Article 1.** Quiet\n**Article 2.** Clean", "", ("Quiet", "Clean")),
        (
            "House rules\nAdopted by the owners.\n\n1. Quiet",
            "House rules\nAdopted by the owners.",
            ("Quiet",),
        ),
        ("1. Quiet\nfrom 22:00\n\n\n\nto 7:00", "", ("Quiet\nfrom 22:00\n\nto 7:00",)),
        ("\ufeff1. BOM first\r\n2. CRLF", "", ("BOM first", "CRLF")),
        (
            "\u200b1. Copied\n\u00a02. From Word",
            "",
            ("Copied", "From Word"),
        ),
        ("\u3000\u3000第一条 安静\n\u3000\u3000第二条 整洁", "", ("安静", "整洁")),
    ],
)
def test_articles_are_read_however_they_are_numbered(
    text: str, preamble: str, articles: tuple[str, ...]
) -> None:
    parsed = hr.parse_text(text)
    assert parsed.preamble == preamble
    assert parsed.articles == articles


@pytest.mark.parametrize(
    ("text", "articles"),
    [
        # a list inside an article restarting at 1 stays in the article
        ("1. Owners shall:\n1. keep quiet;\n2. keep clean.\n2. Pets", None),
        # another style inside an article is text
        (
            "第一条 业主应当：\n1. 爱护设施；\n2. 22:00后不装修。\n第二条 施行",
            ("业主应当：\n1. 爱护设施；\n2. 22:00后不装修。", "施行"),
        ),
        (
            "1. Owners shall:\n1) keep quiet;\n2) keep clean.\n2. Pets",
            ("Owners shall:\n1) keep quiet;\n2) keep clean.", "Pets"),
        ),
        # times and decimals at a line's start are not headings
        ("1、安静\n22:00 以后不得装修\n2、整洁", ("安静\n22:00 以后不得装修", "整洁")),
        ("1. Distance\n2.5 m from the wall\n2. Next", ("Distance\n2.5 m from the wall", "Next")),
    ],
)
def test_lists_inside_articles_stay_inside(text: str, articles: tuple[str, ...] | None) -> None:
    parsed = hr.parse_text(text)
    if articles is None:
        # the limit, as the README says: a list numbered like the articles cannot be told
        # from them ("2. keep clean." reads as article 2); number such lists 1) or (1)
        assert parsed.articles == ("Owners shall:\n1. keep quiet;", "keep clean.\n2. Pets")
    else:
        assert parsed.articles == articles


@pytest.mark.parametrize(
    ("text", "key", "params"),
    [
        ("", "rules.no_articles", {}),
        ("Just some words without numbers", "rules.no_articles", {}),
        ("1. One\n2. Two\n4. Four", "rules.numbering", {"expected": 3, "found": 4}),
        ("2. Starts at two", "rules.numbering", {"expected": 1, "found": 2}),
        ("第一条 a\n第一条 b", "rules.repeated", {"number": 1}),
        ("Статья 1. a\nСтатья 2. b\nСтатья 2. c", "rules.repeated", {"number": 2}),
        ("1.\n2. Two", "rules.empty_article", {"number": 1}),
        ("1. " + "x" * 3001, "rules.article_too_long", {"number": 1, "limit": 3000}),
        ("p" * 1001 + "\n1. a", "rules.preamble_too_long", {"limit": 1000}),
        ("1. x\n" + "y" * 60_001, "rules.text_too_long", {"limit": 60_000}),
        ("\n".join(f"{n}. a" for n in range(1, 152)), "rules.too_many", {"limit": 150}),
    ],
)
def test_bad_texts_are_refused_with_a_reason(text: str, key: str, params: dict) -> None:
    with pytest.raises(DomainError) as caught:
        hr.parse_text(text)
    assert caught.value.key == key
    assert caught.value.params == params


def test_control_characters_are_dropped_and_an_invisible_article_is_empty() -> None:
    assert hr.parse_text("1. a\x00b\x07c").articles == ("abc",)
    with pytest.raises(DomainError) as caught:
        hr.parse_text("1. \x00\x01\n2. b")
    assert caught.value.key == "rules.empty_article"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十一", 21),
        ("一百零三", 103),
        ("两百", 200),
        ("12", 12),
        ("１２", 12),
        ("abc", None),
        ("", None),
    ],
)
def test_chinese_numbers(text: str, number: int | None) -> None:
    assert hr.chinese_number(text) == number


@pytest.mark.parametrize(
    ("raw", "article", "text"),
    [
        ("3 New text", 3, "New text"),
        ("#3 New text", 3, "New text"),
        ("3. New text", 3, "New text"),
        ("article 3: New text", 3, "New text"),
        ("Article 3 New text", 3, "New text"),
        ("статья 3 Новый текст", 3, "Новый текст"),
        ("第3条 新内容", 3, "新内容"),
        ("第三条 新内容", 3, "新内容"),
        ("第三条新内容", 3, "新内容"),
        ("new A new article", None, "A new article"),
        ("新 新增一条", None, "新增一条"),
        ("новая Новая статья", None, "Новая статья"),
        ("3", 3, ""),  # the text comes from the message replied to
        ("3 line one\nline two", 3, "line one\nline two"),
    ],
)
def test_amend_arguments(raw: str, article: int | None, text: str) -> None:
    assert hr.parse_amend(raw) == hr.AmendRequest(article, text)


@pytest.mark.parametrize("raw", ["", "   ", "three New text", "x3 text", "第条 a"])
def test_amend_without_an_article_is_refused(raw: str) -> None:
    with pytest.raises(DomainError) as caught:
        hr.parse_amend(raw)
    assert caught.value.key == "rules.amend_usage"


def test_amendment_text_drops_a_repeated_heading() -> None:
    assert hr.amendment_text("3. New text", 3, 5) == "New text"
    assert hr.amendment_text("第三条 新内容", 3, 5) == "新内容"
    assert hr.amendment_text("2. Keeps its own number", 3, 5) == "2. Keeps its own number"
    assert hr.amendment_text("6. The new one", None, 5) == "The new one"
    with pytest.raises(DomainError):
        hr.amendment_text("   ", 3, 5)


@pytest.mark.parametrize(
    ("article", "text", "result"),
    [
        (1, "A2", ("A2", "B", "C")),
        (3, "C2", ("A", "B", "C2")),
        (None, "D", ("A", "B", "C", "D")),
    ],
)
def test_amend_replaces_or_appends(article: int | None, text: str, result: tuple) -> None:
    assert hr.amend(("A", "B", "C"), article, text) == result


@pytest.mark.parametrize("article", [0, 4, 99])
def test_amend_refuses_an_article_the_draft_does_not_have(article: int) -> None:
    with pytest.raises(DomainError) as caught:
        hr.amend(("A", "B", "C"), article, "x")
    assert caught.value.key == "rules.no_article"
    assert caught.value.params == {"number": article, "count": 3}


C, A, R = hr.CHANGED, hr.ADDED, hr.REMOVED


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (("a", "b"), ("a", "b"), []),
        (("a", "b", "c"), ("a", "B", "c"), [(C, 2, 2, "b", "B")]),
        (("a", "b"), ("a", "b", "c"), [(A, None, 3, None, "c")]),
        (("a", "b", "c"), ("a", "c"), [(R, 2, None, "b", None)]),
        # an article inserted in the middle is one addition, the rest renumbered, not changed
        (("a", "b", "c"), ("a", "x", "b", "c"), [(A, None, 2, None, "x")]),
        # rewritten and extended in place
        (
            ("a", "b"),
            ("A", "B", "c"),
            [(C, 1, 1, "a", "A"), (C, 2, 2, "b", "B"), (A, None, 3, None, "c")],
        ),
        ((), ("a", "b"), [(A, None, 1, None, "a"), (A, None, 2, None, "b")]),
    ],
)
def test_diff(old: tuple, new: tuple, expected: list) -> None:
    assert [
        (c.kind, c.old_number, c.new_number, c.old, c.new) for c in hr.diff(old, new)
    ] == expected


@pytest.mark.parametrize(("numbers", "expected"), [((), 1), ((1,), 2), ((1, 2, 3), 4), ((3, 1), 4)])
def test_version_numbers_are_never_given_twice(numbers: tuple, expected: int) -> None:
    assert hr.next_version(numbers) == expected


@pytest.mark.parametrize(
    ("word", "version"),
    [
        ("3", 3),
        ("v3", 3),
        ("#3", 3),
        ("V3", 3),
        ("в3", 3),
        ("版本3", 3),
        ("第3版", 3),
        ("draft", "draft"),
        ("草案", "draft"),
        ("проект", "draft"),
        ("current", "current"),
        ("x", None),
        ("3a", None),
        ("", None),
    ],
)
def test_version_words(word: str, version: int | str | None) -> None:
    assert hr.parse_version(word) == version


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1, "一"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (101, "一百零一"),
        (110, "一百一十"),
        (1001, "一千零一"),
        (0, "0"),
        (10_000, "10000"),
    ],
)
def test_chinese_numerals_and_back(number: int, text: str) -> None:
    assert hr.chinese_numeral(number) == text
    if 0 < number < 10_000:
        assert hr.chinese_number(text) == number


@pytest.mark.parametrize("word", ["delete", "Delete.", "remove", "-", "删除", "删除。", "удалить"])
def test_an_amendment_that_only_says_delete_is_refused(word: str) -> None:
    with pytest.raises(DomainError) as caught:
        hr.amendment_text(word, 3, 5)
    assert caught.value.key == "rules.no_delete" and caught.value.params == {"number": 3}


def test_the_invisible_characters_are_the_categories_cc_cs_co() -> None:
    import sys
    import unicodedata

    # every character of the Basic Multilingual Plane, and every 7th beyond
    for code in [*range(0x10000), *range(0x10000, sys.maxunicode + 1, 7), 0xF0000, 0x10FFFD]:
        char = chr(code)
        if char in "\n\t" or code in (0xFFFFE, 0xFFFFF, 0x10FFFE, 0x10FFFF):  # kept / noncharacters
            continue
        invisible = unicodedata.category(char) in ("Cc", "Cs", "Co")
        assert bool(hr._INVISIBLE_RE.match(char)) == invisible, hex(code)


@pytest.mark.parametrize(
    ("text", "article"),
    [
        ("1. a\u202eb", "ab"),  # a bidi override would turn the card around
        ("1. Quiet\u200b hours", "Quiet hours"),
        ("1. Family 👨\u200d👩\u200d👧 room", "Family 👨\u200d👩\u200d👧 room"),  # joiners kept
        ("1.   Quiet    hours  \n   from 22:00", "Quiet hours\nfrom 22:00"),
    ],
)
def test_articles_are_kept_as_a_reader_sees_them(text: str, article: str) -> None:
    assert hr.parse_text(text).articles == (article,)


@pytest.mark.parametrize("text", ["1. \u200b\u2060\n2. b", "1. \u3164\n2. b", "1. \u202e\n2. b"])
def test_an_invisible_article_is_empty(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        hr.parse_text(text)
    assert caught.value.key == "rules.empty_article" and caught.value.params == {"number": 1}
