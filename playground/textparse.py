"""Text handling of the fake Bot API: formatting parsers and automatic entities.

The parsers follow the behaviour of Telegram's own (TDLib) parsers closely enough that
formatting mistakes a bot makes (an unescaped ``<`` in HTML, a bare ``.`` in MarkdownV2,
an unclosed tag) fail here with the same kind of ``can't parse entities`` error.

All offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EntityParseError",
    "ParsedText",
    "detect_entities",
    "parse_text",
    "strip_text",
    "utf16_len",
]

HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "code",
        "del",
        "em",
        "i",
        "ins",
        "pre",
        "s",
        "span",
        "strike",
        "strong",
        "tg-emoji",
        "tg-spoiler",
        "u",
    }
)

_HTML_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([a-zA-Z]{2,4}));")


class EntityParseError(ValueError):
    """Raised when formatted text cannot be parsed; the message is Telegram's wording."""


@dataclass
class ParsedText:
    """Plain text plus its entities (dicts in Bot API form)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _sorted(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


class _Builder:
    """Accumulates output text while tracking the UTF-16 offset."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0
        self.size = 0

    def add(self, chars: str) -> None:
        self.parts.append(chars)
        self.offset += utf16_len(chars)
        self.size += len(chars)

    def text(self) -> str:
        return "".join(self.parts)


# --------------------------------------------------------------------------- HTML


def _decode_html_entity(text: str, index: int) -> tuple[str, int] | None:
    match = _ENTITY_RE.match(text, index)
    if match is None:
        return None
    hex_code, dec_code, name = match.groups()
    if name is not None:
        char = _NAMED_ENTITIES.get(name)
        if char is None:
            return None
        return char, match.end() - index
    code = int(hex_code, 16) if hex_code is not None else int(dec_code)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end() - index


def _decode_attribute(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&":
            decoded = _decode_html_entity(value, i)
            if decoded is not None:
                out.append(decoded[0])
                i += decoded[1]
                continue
        out.append(value[i])
        i += 1
    return "".join(out)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    offset: int
    byte_offset: int


def parse_html(text: str, *, strict_ampersand: bool = True) -> ParsedText:
    """Parse Telegram HTML into plain text and entities.

    With ``strict_ampersand`` a ``&`` that does not start an entity is an error (Telegram
    itself keeps it literally; the strict default catches missing ``html.escape`` calls).
    """
    out = _Builder()
    entities: list[dict[str, Any]] = []
    stack: list[_OpenTag] = []
    n = len(text)
    i = 0
    while i < n:
        char = text[i]
        if char == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                out.add(decoded[0])
                i += decoded[1]
                continue
            if strict_ampersand:
                raise EntityParseError(
                    f'Character "&" must be escaped as "&amp;" at byte offset '
                    f"{_byte_offset(text, i)}"
                )
        if char != "<":
            out.add(char)
            i += 1
            continue
        begin = i
        begin_bytes = _byte_offset(text, begin)
        i += 1
        if i < n and text[i] == "/":
            i += 1
            name_begin = i
            while i < n and not text[i].isspace() and text[i] != ">":
                i += 1
            end_name = text[name_begin:i].lower()
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {begin_bytes}")
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin_bytes}")
            expected = stack[-1].name
            if end_name != expected:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {begin_bytes}, expected "</{expected}>", '
                    f'found "</{end_name}>"'
                )
            i += 1
            tag = stack.pop()
            _close_html_tag(tag, out.offset, entities, stack)
            continue
        name_begin = i
        while i < n and not text[i].isspace() and text[i] != ">":
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
        name = text[name_begin:i].lower()
        if name not in HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {begin_bytes}')
        attrs: dict[str, str] = {}
        while True:
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
            if text[i] == ">":
                i += 1
                break
            attr_begin = i
            while i < n and not text[i].isspace() and text[i] not in "=>":
                i += 1
            attr_name = text[attr_begin:i].lower()
            if not attr_name:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {begin_bytes}'
                )
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
            if text[i] != "=":
                if name == "blockquote" and attr_name == "expandable":
                    attrs[attr_name] = ""
                    continue
                raise EntityParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {begin_bytes}"
                )
            i += 1
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
            if text[i] in "\"'":
                quote = text[i]
                end = text.find(quote, i + 1)
                if end < 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
                attrs[attr_name] = _decode_attribute(text[i + 1 : end])
                i = end + 1
            else:
                value_begin = i
                while i < n and (text[i].isalnum() or text[i] in ".-"):
                    i += 1
                if i >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin_bytes}")
                if not text[i].isspace() and text[i] != ">":
                    raise EntityParseError(
                        f"Unexpected end of name token at byte offset {_byte_offset(text, i)}"
                    )
                attrs[attr_name] = text[value_begin:i]
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {begin_bytes}'
            )
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError(
                f"Custom emoji identifier must be non-empty at byte offset {begin_bytes}"
            )
        stack.append(_OpenTag(name, attrs, out.offset, begin_bytes))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return ParsedText(out.text(), _sorted(entities))


def _close_html_tag(
    tag: _OpenTag, end_offset: int, entities: list[dict[str, Any]], stack: list[_OpenTag]
) -> None:
    length = end_offset - tag.offset
    if length <= 0:
        return
    if tag.name == "code" and stack and stack[-1].name == "pre":
        language = tag.attrs.get("class", "")
        if language.startswith("language-") and stack[-1].offset == tag.offset:
            stack[-1].attrs["language"] = language.removeprefix("language-")
            return
    entity: dict[str, Any] = {"offset": tag.offset, "length": length}
    if tag.name == "a":
        url = tag.attrs.get("href", "")
        if not url:
            return
        user_match = re.fullmatch(r"tg://user\?id=(\d+)", url)
        if user_match:
            entity["type"] = "text_mention"
            entity["user"] = {"id": int(user_match.group(1)), "is_bot": False, "first_name": ""}
        else:
            entity["type"] = "text_link"
            entity["url"] = url
    elif tag.name == "pre":
        entity["type"] = "pre"
        if tag.attrs.get("language"):
            entity["language"] = tag.attrs["language"]
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    elif tag.name == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    else:
        entity["type"] = _HTML_TAG_TYPES[tag.name]
    entities.append(entity)


# ---------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _OpenMd:
    kind: str
    offset: int
    byte_offset: int
    text_pos: int
    argument: str = ""


def parse_markdown_v2(text: str) -> ParsedText:
    """Parse MarkdownV2 into plain text and entities (TDLib's rules)."""
    out = _Builder()
    entities: list[dict[str, Any]] = []
    stack: list[_OpenMd] = []
    quote_start: int | None = None
    n = len(text)

    def at(index: int) -> str:
        return text[index] if index < n else ""

    def reserved_error(index: int) -> EntityParseError:
        return EntityParseError(
            f"Character '{text[index]}' is reserved and must be escaped with the preceding '\\'"
        )

    i = 0
    while i < n:
        char = text[i]
        line_start = i == 0 or text[i - 1] == "\n"
        if quote_start is not None and line_start and char != ">":
            _add_quote(entities, quote_start, out.offset, out)
            quote_start = None
        if char == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        inside_code = bool(stack) and stack[-1].kind in ("code", "pre")
        reserved = "`" if inside_code else _MDV2_RESERVED
        if char not in reserved:
            out.add(char)
            i += 1
            continue
        if char == ">" and line_start and not stack:
            if quote_start is None:
                quote_start = out.offset
            i += 1
            continue
        top = stack[-1].kind if stack else None
        closes = (
            (top == "bold" and char == "*")
            or (top == "italic" and char == "_" and at(i + 1) != "_")
            or (top == "code" and char == "`")
            or (top == "pre" and text.startswith("```", i))
            or (top in ("text_link", "custom_emoji") and char == "]")
            or (top == "underline" and text.startswith("__", i))
            or (top == "strikethrough" and char == "~")
            or (top == "spoiler" and text.startswith("||", i))
        )
        if not closes:
            begin = i
            argument = ""
            if char == "_":
                if at(i + 1) == "_":
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif char == "*":
                kind = "bold"
            elif char == "~":
                kind = "strikethrough"
            elif char == "|":
                if at(i + 1) != "|":
                    raise reserved_error(i)
                kind = "spoiler"
                i += 1
            elif char == "[":
                kind = "text_link"
            elif char == "`":
                if text.startswith("```", i):
                    kind = "pre"
                    i += 3
                    language_end = i
                    while (
                        language_end < n
                        and not text[language_end].isspace()
                        and (text[language_end] != "`")
                    ):
                        language_end += 1
                    if i != language_end and language_end < n and text[language_end] != "`":
                        argument = text[i:language_end]
                        i = language_end
                    if at(i) in ("\n", "\r"):
                        if at(i + 1) in ("\n", "\r") and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            elif char == "!":
                if at(i + 1) != "[":
                    raise reserved_error(i)
                kind = "custom_emoji"
                i += 1
            else:
                raise reserved_error(i)
            stack.append(_OpenMd(kind, out.offset, _byte_offset(text, begin), out.size, argument))
            i += 1
            continue
        opened = stack.pop()
        keep = True
        entity: dict[str, Any] = {
            "type": opened.kind,
            "offset": opened.offset,
            "length": out.offset - opened.offset,
        }
        if opened.kind in ("underline", "spoiler"):
            i += 1
        elif opened.kind == "pre":
            i += 2
            if opened.argument:
                entity["language"] = opened.argument
        elif opened.kind in ("text_link", "custom_emoji"):
            url = ""
            if at(i + 1) != "(":
                url = out.text()[opened.text_pos :]
            else:
                i += 2
                url_begin = i
                chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
                        chars.append(text[i + 1])
                        i += 2
                        continue
                    chars.append(text[i])
                    i += 1
                if i >= n:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}"
                    )
                url = "".join(chars)
            if opened.kind == "custom_emoji":
                emoji_id = url.removeprefix("tg://emoji?id=")
                if not emoji_id.isdigit():
                    raise EntityParseError("Custom emoji URL must have an emoji identifier")
                entity["custom_emoji_id"] = emoji_id
            else:
                user_match = re.fullmatch(r"tg://user\?id=(\d+)", url)
                if user_match:
                    entity["type"] = "text_mention"
                    entity["user"] = {
                        "id": int(user_match.group(1)),
                        "is_bot": False,
                        "first_name": "",
                    }
                elif url:
                    entity["url"] = url
                else:
                    keep = False
        if keep and entity["length"] > 0:
            entities.append(entity)
        i += 1
    if stack:
        opened = stack[-1]
        name = _MDV2_NAMES[opened.kind]
        if opened.kind == "pre" and opened.argument:
            name = "PreCode"
        raise EntityParseError(
            f"Can't find end of {name} entity at byte offset {opened.byte_offset}"
        )
    if quote_start is not None:
        _add_quote(entities, quote_start, out.offset, out)
    return ParsedText(out.text(), _sorted(entities))


def _add_quote(entities: list[dict[str, Any]], start: int, end: int, out: _Builder) -> None:
    text = out.text()
    if text.endswith("\n"):
        end -= 1
    if end > start:
        entities.append({"type": "blockquote", "offset": start, "length": end - start})


# ------------------------------------------------------------------ legacy Markdown


def parse_markdown(text: str) -> ParsedText:
    """Parse legacy Markdown (``*bold*``, ``_italic_``, `` `code` ``, ``[text](url)``)."""
    out = _Builder()
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if char not in "_*`[":
            out.add(char)
            i += 1
            continue
        begin = i
        end_char = "]" if char == "[" else char
        is_pre = False
        language = ""
        i += 1
        if char == "`" and text.startswith("``", i):
            i += 2
            is_pre = True
            language_end = i
            while (
                language_end < n
                and not text[language_end].isspace()
                and (text[language_end] != "`")
            ):
                language_end += 1
            if i != language_end and language_end < n and text[language_end] != "`":
                language = text[i:language_end]
                i = language_end + 1
        start_offset = out.offset
        start_pos = out.size
        while i < n and (text[i] != end_char or (is_pre and not text.startswith("```", i))):
            out.add(text[i])
            i += 1
        if i >= n:
            raise EntityParseError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        length = out.offset - start_offset
        if length > 0:
            entity: dict[str, Any] = {"offset": start_offset, "length": length}
            if char == "_":
                entity["type"] = "italic"
            elif char == "*":
                entity["type"] = "bold"
            elif char == "`":
                entity["type"] = "pre" if is_pre else "code"
                if language:
                    entity["language"] = language
            else:
                if i + 1 < n and text[i + 1] == "(":
                    close = text.find(")", i + 2)
                    if close < 0:
                        close = n
                    url = text[i + 2 : close]
                    i = close
                else:
                    url = out.text()[start_pos:]
                entity["type"] = "text_link"
                entity["url"] = url
            entities.append(entity)
        if is_pre:
            i += 2
        i += 1
    return ParsedText(out.text(), _sorted(entities))


# -------------------------------------------------------------------- common entry


def strip_text(parsed: ParsedText) -> ParsedText:
    """Trim surrounding whitespace like Telegram does, fixing up entity offsets."""
    text = parsed.text
    stripped = text.strip()
    if stripped == text:
        return parsed
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    entities: list[dict[str, Any]] = []
    for entity in parsed.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(stripped, entities)


def parse_text(
    text: str,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None = None,
    *,
    strict_ampersand: bool = True,
) -> ParsedText:
    """Turn the ``text``/``parse_mode``/``entities`` parameters into a message text.

    Raises :class:`EntityParseError` (Telegram's ``can't parse entities`` reasons) and
    :class:`ValueError` for an unknown parse mode.
    """
    mode = (parse_mode or "").lower()
    if not mode:
        parsed = ParsedText(text, list(entities or []))
    elif mode == "html":
        parsed = parse_html(text, strict_ampersand=strict_ampersand)
    elif mode == "markdownv2":
        parsed = parse_markdown_v2(text)
    elif mode == "markdown":
        parsed = parse_markdown(text)
    else:
        raise ValueError(f"unsupported parse_mode {parse_mode!r}")
    return strip_text(parsed)


# ----------------------------------------------------------- entities of user text

_COMMAND_CHARS = re.compile(r"[A-Za-z0-9_]*")
_MENTION_RE = re.compile(r"@([A-Za-z0-9_]{5,32})")
_URL_RE = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)


def _units_before(text: str, index: int) -> int:
    return utf16_len(text[:index])


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram adds to a user's plain message: bot commands, mentions, URLs."""
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    n = len(text)
    i = text.find("/")
    while i >= 0:
        prev = text[i - 1] if i > 0 else ""
        if prev and (_is_word_char(prev) or prev in "/<>\\"):
            i = text.find("/", i + 1)
            continue
        match = _COMMAND_CHARS.match(text, i + 1)
        end = match.end() if match else i + 1
        if end == i + 1 or end - i - 1 > 64:
            i = text.find("/", i + 1)
            continue
        if end < n and text[end] == "@":
            bot_match = _COMMAND_CHARS.match(text, end + 1)
            bot_end = bot_match.end() if bot_match else end + 1
            if 3 <= bot_end - end - 1 <= 32:
                end = bot_end
        if end < n and (_is_word_char(text[end]) or text[end] == "/"):
            i = text.find("/", end)
            continue
        found.append((i, end, "bot_command"))
        taken.append((i, end))
        i = text.find("/", end)
    for url in _URL_RE.finditer(text):
        start, end = url.span()
        while end > start and text[end - 1] in ".,;:!?)":
            end -= 1
        if not any(s < end and start < e for s, e in taken):
            found.append((start, end, "url"))
            taken.append((start, end))
    for mention in _MENTION_RE.finditer(text):
        start, end = mention.span()
        prev = text[start - 1] if start > 0 else ""
        if prev and (_is_word_char(prev) or prev in "/@"):
            continue
        if end < n and _is_word_char(text[end]):
            continue
        if not any(s < end and start < e for s, e in taken):
            found.append((start, end, "mention"))
    entities = [
        {
            "type": kind,
            "offset": _units_before(text, start),
            "length": utf16_len(text[start:end]),
        }
        for start, end, kind in found
    ]
    return _sorted(entities)
