"""Formatting parsers and automatic entities of the fake Bot API."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram.helpers import escape_markdown

from playground.textparse import (
    EntityParseError,
    detect_entities,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    parse_text,
    utf16_len,
)


def spans(text: str, entities: list[dict[str, object]]) -> list[tuple[object, str]]:
    encoded = text.encode("utf-16-le")
    out = []
    for entity in entities:
        start, length = int(str(entity["offset"])), int(str(entity["length"]))
        out.append((entity["type"], encoded[2 * start : 2 * (start + length)].decode("utf-16-le")))
    return out


@given(st.text())
def test_escaped_html_round_trips(text: str) -> None:
    parsed = parse_html(html.escape(text, quote=False))
    assert parsed.text == text and parsed.entities == []


@given(st.text())
def test_escaped_markdown_v2_round_trips(text: str) -> None:
    parsed = parse_markdown_v2(escape_markdown(text, version=2))
    assert parsed.text == text and parsed.entities == []


@given(st.text(min_size=1))
def test_bold_html_covers_the_whole_text(text: str) -> None:
    parsed = parse_html(f"<b>{html.escape(text)}</b>")
    assert parsed.entities == [{"type": "bold", "offset": 0, "length": utf16_len(text)}]


def test_nested_html() -> None:
    parsed = parse_html("🏠 <b>bold <i>both</i></b> <u>u</u> <s>s</s> <code>c</code>")
    assert parsed.text == "🏠 bold both u s c"
    assert spans(parsed.text, parsed.entities) == [
        ("bold", "bold both"),
        ("italic", "both"),
        ("underline", "u"),
        ("strikethrough", "s"),
        ("code", "c"),
    ]
    assert parsed.entities[0]["offset"] == 3


def test_html_errors_name_byte_offsets() -> None:
    with pytest.raises(EntityParseError, match=r'Unsupported start tag "br" at byte offset 6'):
        parse_html("héllo<br>")
    with pytest.raises(EntityParseError, match="Unmatched end tag at byte offset 7"):
        parse_html("<b><i>x</b>")
    assert parse_html("Tom & Jerry", strict_ampersand=False).text == "Tom & Jerry"
    assert parse_html("&unknown; &#0; &#x110000;", strict_ampersand=False).text == (
        "&unknown; &#0; &#x110000;"
    )


def test_markdown_v2_entities() -> None:
    parsed = parse_markdown_v2(
        "*bold _italic_* __under__ ~strike~ ||spoiler|| `co\\`de` [link](https://x.org/a\\)b) "
        "```python\nprint(1)\n```"
    )
    assert parsed.text == "bold italic under strike spoiler co`de link print(1)\n"
    kinds = spans(parsed.text, parsed.entities)
    assert kinds == [
        ("bold", "bold italic"),
        ("italic", "italic"),
        ("underline", "under"),
        ("strikethrough", "strike"),
        ("spoiler", "spoiler"),
        ("code", "co`de"),
        ("text_link", "link"),
        ("pre", "print(1)\n"),
    ]
    link = next(e for e in parsed.entities if e["type"] == "text_link")
    assert link["url"] == "https://x.org/a)b"
    assert next(e for e in parsed.entities if e["type"] == "pre")["language"] == "python"


def test_markdown_v2_blockquote() -> None:
    parsed = parse_markdown_v2(">first\n>second\nafter")
    assert parsed.text == "first\nsecond\nafter"
    assert spans(parsed.text, parsed.entities) == [("blockquote", "first\nsecond")]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("1.5", "Character '.' is reserved"),
        ("a-b", "Character '-' is reserved"),
        ("(x)", "Character '(' is reserved"),
        ("|x", "Character '|' is reserved"),
        ("_open", "Can't find end of Italic entity at byte offset 0"),
        ("ok ```py\ncode", "Can't find end of PreCode entity at byte offset 3"),
    ],
)
def test_markdown_v2_errors(source: str, message: str) -> None:
    with pytest.raises(EntityParseError, match=message.replace("(", r"\(")):
        parse_markdown_v2(source)


def test_legacy_markdown() -> None:
    parsed = parse_markdown("*bold* _it_ `code` [site](http://x.org) 1.5 - ok")
    assert parsed.text == "bold it code site 1.5 - ok"
    assert [e["type"] for e in parsed.entities] == ["bold", "italic", "code", "text_link"]


def test_parse_text_strips_and_rejects_unknown_modes() -> None:
    parsed = parse_text("  <b> hi </b>  ", "HTML")
    assert parsed.text == "hi"
    assert parsed.entities == [{"type": "bold", "offset": 0, "length": 2}]
    with pytest.raises(ValueError, match="parse_mode"):
        parse_text("x", "BBCode")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", [("bot_command", "/start")]),
        ("/start@courtyard_bot now", [("bot_command", "/start@courtyard_bot")]),
        (
            "Привет /help и /grant@bot2 x",
            [("bot_command", "/help"), ("bot_command", "/grant@bot2")],
        ),
        ("🏠/help", [("bot_command", "/help")]),
        ("a/b and 1/2 and /path/to", []),
        ("/cmd@ab", [("bot_command", "/cmd")]),
        ("hi @alice_w and mail@example.com", [("mention", "@alice_w")]),
        ("see https://example.org/x?y=1.", [("url", "https://example.org/x?y=1")]),
    ],
)
def test_detect_entities(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text, detect_entities(text)) == expected
