"""Results as pictures (issue 17): bars per option of a closed poll; each threshold of a formal
decision against its line, participation and the outcome.

Pure drawing: plain data (already translated, figures already formatted) in, PNG bytes out; no
Telegram, no database. Callers draw off the event loop (``asyncio.to_thread``).

Legible on a phone: 1080 px wide (Telegram keeps 1280 px), text 34-46 px, i.e. about the size of
chat text once the picture fills the screen's width. Colours are Okabe-Ito's (safe for the
common colour-vision deficiencies), and nothing is told by colour alone: a threshold met has a
drawn tick, one missed a cross, the leading options of a poll a bold label.

Fonts are taken by path, in a fallback order, per character: a glyph missing from the first font
is drawn from the next (a Russian group's poll may have a Chinese option). A letter or digit no
installed font has raises :class:`NoFont`, so the caller sends no picture rather than tofu
boxes; a symbol no font has is left out. Emoji ("🌳 Tree planting", 👍, 👨‍👩‍👧, 🇹🇼) are drawn in
colour from Noto Color Emoji, a bitmap font Pillow renders only at its one size (109 px): each
emoji is drawn there and scaled to the text's size; a sequence the font has no single picture
for is drawn as its first emoji, and without the font emoji are left out as other symbols. The
Debian packages: fonts-dejavu-core (DejaVu Sans: Latin, Cyrillic, Greek, ✓✗), fonts-noto-cjk
(Noto Sans CJK: Chinese in Simplified and Traditional forms) and fonts-noto-color-emoji.
"""

from __future__ import annotations

import html
import io
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

from PIL import Image, ImageDraw, ImageFont, features

WIDTH = 1080
PAD = 56
INNER = WIDTH - 2 * PAD

# Okabe-Ito
BLUE = (0, 114, 178)
SKY = (86, 180, 233)
GREEN = (0, 158, 115)
VERMILLION = (213, 94, 0)
ORANGE = (230, 159, 0)
INK = (30, 30, 30)
MUTED = (90, 90, 90)
TRACK = (230, 232, 236)
WHITE = (255, 255, 255)

TITLE = 46
LABEL = 38
FIGURE = 34
NOTE = 32

#: (regular, bold) font files, in the order they are tried. A .ttc names its face by a name tag.
LATIN_FONTS: tuple[tuple[str, str], ...] = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # fonts-dejavu-core
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",  # fonts-noto-core
        "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",  # fonts-liberation
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
)
CJK_FONTS: tuple[tuple[str, str], ...] = (
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk (Debian)
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    ),
    (
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora, Arch
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    ),
    (
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    ),
)
#: Colour emoji fonts (CBDT bitmaps), the first installed one is used.
EMOJI_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",  # fonts-noto-color-emoji (Debian)
    "/usr/share/fonts/noto/NotoColorEmoji.ttf",  # Arch
    "/usr/share/fonts/google-noto-color-emoji/NotoColorEmoji.ttf",  # Fedora
)
#: The one size a CBDT bitmap font is drawn at.
EMOJI_SIZE = 109
#: The face of a Noto CJK collection per language (its glyph forms: 骨 and 写 differ).
_CJK_FACE = {"zh_Hant": "TC", "zh_Hans": "SC"}


class NoFont(Exception):
    """The text needs a font that is not installed: draw no picture."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One option of a poll: ``share`` of the voters (0..1); ``figure`` e.g. ``12 (40%)``.
    Titles and labels are the residents' plain text; notes, verdicts and figures may be catalog
    lines in Telegram HTML (their tags are dropped)."""

    label: str
    figure: str
    share: float
    leading: bool


@dataclass(frozen=True, slots=True)
class Threshold:
    """One requirement of a decision: ``achieved`` against ``required`` (fractions, 0..1).
    ``figure`` e.g. ``8/12 units (66.6 %)``, ``need`` e.g. ``at least 2/3``."""

    label: str
    figure: str
    need: str
    achieved: float
    required: float
    met: bool


@dataclass(frozen=True, slots=True)
class Group:
    """One group of a tally (a roll-call's "need help"): ``share`` of the whole (0..1),
    ``figure`` e.g. ``2/12``, ``members`` what it holds (unit labels), ``tone`` one of
    :data:`TONES`."""

    label: str
    figure: str
    share: float
    tone: str
    members: str = ""


#: A tally's tones; each group is also named in words beside its bar.
TONES = {"good": GREEN, "bad": VERMILLION, "warn": ORANGE, "info": SKY}


# --- fonts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fonts:
    """The font files to try, in order: (path, face index) for regular and for bold; the
    colour emoji font (None: emoji are left out)."""

    regular: tuple[tuple[str, int], ...]
    bold: tuple[tuple[str, int], ...]
    emoji: str | None = None

    @classmethod
    def find(
        cls,
        lang: str,
        *,
        latin: Sequence[tuple[str, str]] = LATIN_FONTS,
        cjk: Sequence[tuple[str, str]] = CJK_FONTS,
        emoji: Sequence[str] | None = None,
    ) -> Fonts:
        """The installed fonts for ``lang``: Chinese groups get the CJK font first (its Latin
        and digits match its Chinese), the others DejaVu first; the first installed of each."""
        first_latin = next(((r, b) for r, b in latin if Path(r).exists()), None)
        first_cjk = next(((r, b) for r, b in cjk if Path(r).exists()), None)
        tag = _CJK_FACE.get(lang, "SC")
        chain: list[tuple[tuple[str, int], tuple[str, int]]] = []
        if first_latin:
            chain.append(((first_latin[0], 0), (_bold(first_latin[1], first_latin[0]), 0)))
        if first_cjk:
            bold = _bold(first_cjk[1], first_cjk[0])
            chain.append(((first_cjk[0], _face(first_cjk[0], tag)), (bold, _face(bold, tag))))
        if lang.startswith("zh"):
            chain.reverse()
        wanted = EMOJI_FONTS if emoji is None else emoji  # looked up now: tests change it
        colour = next((path for path in wanted if Path(path).exists()), None)
        return cls(tuple(r for r, _ in chain), tuple(b for _, b in chain), colour)


def _bold(path: str, regular: str) -> str:
    return path if Path(path).exists() else regular


@lru_cache(maxsize=16)
def _face(path: str, tag: str) -> int:
    """The index of the face of a collection whose name has ``tag`` (``SC``), else 0."""
    if not path.endswith(".ttc"):
        return 0
    for index in range(12):
        try:
            family, _ = ImageFont.truetype(path, 12, index=index).getname()
        except OSError:
            break
        if family and tag in family.split() and "Mono" not in family:
            return index
    return 0


@lru_cache(maxsize=64)
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index, layout_engine=ImageFont.Layout.BASIC)


#: A code point no font has: what a font draws for a glyph it lacks (its .notdef box).
_ABSENT = "\U0010fffd"


@lru_cache(maxsize=8192)
def _has(path: str, index: int, ch: str) -> bool:
    font = _font(path, index, 24)
    mask = font.getmask(ch)
    absent = font.getmask(_ABSENT)
    return mask.size != absent.size or bytes(mask) != bytes(absent)


# --- emoji ---------------------------------------------------------------------------------


def _joins(code: int) -> bool:
    """A code point that belongs to the emoji before it: variation selectors, skin tones, the
    keycap, tags (a subdivision flag)."""
    return (
        code in (0xFE0E, 0xFE0F, 0x20E3) or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F
    )


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def clusters(text: str) -> list[str]:
    """``text`` cut into what a reader sees as one character: an emoji with its modifiers and
    its zero-width-joined parts, a flag's two regional letters; any other character alone."""
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i + 1
        if _regional(text[i]) and j < len(text) and _regional(text[j]):
            j += 1
        while j < len(text):
            if _joins(ord(text[j])):
                j += 1
            elif text[j] == "\u200d" and j + 1 < len(text):
                j += 2
            else:
                break
        out.append(text[i:j])
        i = j
    return out


@lru_cache(maxsize=4)
def _emoji_font(path: str) -> ImageFont.FreeTypeFont:
    # Raqm (with HarfBuzz) joins 👨‍👩‍👧 and 🇹🇼 into their one picture; without it each part is
    # its own glyph, so only single emoji are drawn (see _Emoji.picture)
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(path, EMOJI_SIZE, layout_engine=layout)


@lru_cache(maxsize=1024)
def _emoji_tile(path: str, cluster: str) -> Image.Image | None:
    """``cluster`` drawn at the font's size (RGBA, the advance wide), None if the font has
    no single picture for it."""
    font = _emoji_font(path)
    try:
        advance = font.getlength(cluster)
        ascent, descent = font.getmetrics()
        if advance <= 0 or (len(cluster) > 1 and advance > 1.5 * EMOJI_SIZE * 1.25):
            return None  # not joined into one picture
        tile = Image.new("RGBA", (round(advance), ascent + descent), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((0, 0), cluster, font=font, embedded_color=True)
    except (OSError, ValueError):
        return None
    return tile if tile.getbbox() is not None else None


class _Emoji:
    """The colour emoji font at one text size (duck-typed beside FreeTypeFont: getlength)."""

    def __init__(self, path: str, size: int) -> None:
        self.path = path
        self.scale = size / EMOJI_SIZE

    def picture(self, cluster: str) -> str | None:
        """The cluster as drawn: itself, else its first emoji alone (a sequence the font cannot
        join: 👩‍🦰 drawn as 👩), else None (not an emoji the font has)."""
        if _emoji_tile(self.path, cluster) is not None:
            return cluster
        base = cluster[:2] if _regional(cluster[0]) else cluster[0]
        if base != cluster and _emoji_tile(self.path, base) is not None:
            return base
        return None

    def getlength(self, text: str) -> float:
        total = 0.0
        for cluster in clusters(text):
            tile = _emoji_tile(self.path, cluster)
            total += tile.width * self.scale if tile is not None else 0.0
        return total

    def draw(self, image: Image.Image, x: float, baseline: float, text: str) -> None:
        ascent, _ = _emoji_font(self.path).getmetrics()
        for cluster in clusters(text):
            tile = _emoji_tile(self.path, cluster)
            if tile is None:
                continue
            size = (max(1, round(tile.width * self.scale)), max(1, round(tile.height * self.scale)))
            scaled = tile.resize(size, Image.Resampling.LANCZOS)
            image.paste(scaled, (round(x), round(baseline - ascent * self.scale)), scaled)
            x += tile.width * self.scale


@lru_cache(maxsize=64)
def _emoji_at(path: str, size: int) -> _Emoji:
    return _Emoji(path, size)


_TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """A catalog line or a user's text without its HTML (``<b>``, ``&amp;``), on one line."""
    return " ".join(html.unescape(_TAG.sub("", text)).split())


class _Writer:
    """Draws text in runs of one font each, on a common baseline."""

    def __init__(self, fonts: Fonts):
        self.fonts = fonts

    def runs(
        self, text: str, size: int, bold: bool
    ) -> list[tuple[ImageFont.FreeTypeFont | _Emoji, str]]:
        chain = self.fonts.bold if bold else self.fonts.regular
        out: list[tuple[ImageFont.FreeTypeFont | _Emoji, str]] = []
        current: tuple[str, int] | None = None
        emoji = _emoji_at(self.fonts.emoji, size) if self.fonts.emoji else None
        for cluster in clusters(text):
            ch = cluster[0]
            text_font = (
                None if ch.isspace() else next((f for f in chain if _has(f[0], f[1], ch)), None)
            )
            # an emoji: a sequence (not asked to be text with U+FE0E), or what no text font has
            wanted = (len(cluster) > 1 and "\ufe0e" not in cluster) or text_font is None
            shown = emoji.picture(cluster) if emoji is not None and wanted else None
            if emoji is not None and shown is not None and not ch.isspace():
                if out and out[-1][0] is emoji:
                    out[-1] = (emoji, out[-1][1] + shown)
                else:
                    out.append((emoji, shown))
                continue
            if ch.isspace():
                choice = current or (chain[0] if chain else None)
                ch = " "
            elif (
                unicodedata.bidirectional(ch) in ("R", "AL") and unicodedata.category(ch)[0] == "L"
            ):
                # Arabic, Hebrew: drawn without shaping they would read backwards, unjoined
                raise NoFont(f"right-to-left text is not drawn ({ch!r}, U+{ord(ch):04X})")
            else:
                choice = text_font
            if choice is None:
                if unicodedata.category(ch)[0] in "LN":
                    raise NoFont(f"no installed font has {ch!r} (U+{ord(ch):04X})")
                continue  # an emoji or a symbol no font has: left out, never a box
            current = choice
            font = _font(choice[0], choice[1], size)
            if out and out[-1][0] is font:
                out[-1] = (font, out[-1][1] + ch)
            else:
                out.append((font, ch))
        return out

    def clean(self, text: str, bold: bool = False) -> str:
        """``text`` without what no font draws (an emoji of a catalog line), spaces collapsed."""
        kept = "".join(run for _, run in self.runs(text, LABEL, bold))
        return " ".join(kept.split())

    def width(self, text: str, size: int, bold: bool = False) -> float:
        return sum(font.getlength(run) for font, run in self.runs(text, size, bold))

    def draw(
        self,
        draw: ImageDraw.ImageDraw,
        xy: tuple[float, float],
        text: str,
        size: int,
        fill: tuple[int, int, int],
        bold: bool = False,
    ) -> float:
        """Draw ``text`` with its baseline at ``xy[1]``; returns the x where it ends."""
        x, y = xy
        for font, run in self.runs(text, size, bold):
            if isinstance(font, _Emoji):
                font.draw(draw._image, x, y, run)
            else:
                draw.text((x, y), run, font=font, fill=fill, anchor="ls")
            x += font.getlength(run)
        return x

    def wrap(self, text: str, size: int, width: float, lines: int, bold: bool = False) -> list[str]:
        """``text`` cut into at most ``lines`` lines of ``width`` (at a space when one is on the
        line, else anywhere: Chinese has none); a text that does not fit ends in "…"."""
        out: list[str] = []
        line = ""
        for ch in clusters(self.clean(text, bold)):
            if self.width(line + ch, size, bold) <= width:
                line += ch
                continue
            cut = line.rfind(" ")
            if ch.isspace():
                out.append(line.rstrip())
                line = ""
            elif cut > 0:
                out.append(line[:cut].rstrip())
                line = line[cut + 1 :] + ch
            else:
                out.append(line)
                line = ch
        if line.strip() or not out:
            out.append(line.strip())
        if len(out) > lines:
            out = out[:lines]
            last = out[-1]
            while last and self.width(last + "…", size, bold) > width:
                last = last[:-1]
            out[-1] = last.rstrip() + "…"
        return out


def _line_height(size: int) -> int:
    return round(size * 1.32)


def _png(image: Image.Image, height: int) -> bytes:
    buffer = io.BytesIO()
    image.crop((0, 0, WIDTH, height)).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _title(w: _Writer, d: ImageDraw.ImageDraw, title: str, y: int) -> int:
    for line in w.wrap(title, TITLE, INNER, 3, bold=True):
        y += _line_height(TITLE)
        w.draw(d, (PAD, y), line, TITLE, INK, bold=True)
    return y


def _notes(w: _Writer, d: ImageDraw.ImageDraw, notes: Sequence[str], y: int) -> int:
    for note in notes:
        for line in w.wrap(plain(note), NOTE, INNER, 3):
            if not line:
                continue
            y += _line_height(NOTE)
            w.draw(d, (PAD, y), line, NOTE, MUTED)
    return y


def _mark(
    d: ImageDraw.ImageDraw, x: float, y: float, size: float, met: bool, colour: tuple[int, int, int]
) -> None:
    """A drawn tick (met) or cross (missed) in a ``size`` square at (x, y), top left."""
    width = max(3, round(size / 7))
    if met:
        points = [(x + size * 0.12, y + size * 0.55), (x + size * 0.4, y + size * 0.82)]
        points.append((x + size * 0.9, y + size * 0.18))
        d.line(points, fill=colour, width=width, joint="curve")
    else:
        a, b = size * 0.18, size * 0.82
        d.line([(x + a, y + a), (x + b, y + b)], fill=colour, width=width)
        d.line([(x + a, y + b), (x + b, y + a)], fill=colour, width=width)


P = ParamSpec("P")
R = TypeVar("R")
#: One picture at a time: the cached FreeType faces are shared, and a face is not safe to use
#: from two threads at once (two polls closing together draw in two worker threads).
_DRAWING = threading.Lock()


def _serial(draw: Callable[P, R]) -> Callable[P, R]:
    @wraps(draw)
    def serial(*args: P.args, **kwargs: P.kwargs) -> R:
        with _DRAWING:
            return draw(*args, **kwargs)

    return serial


# --- the pictures --------------------------------------------------------------------------


@_serial
def poll_picture(
    title: str, bars: Sequence[Bar], notes: Sequence[str], lang: str, fonts: Fonts | None = None
) -> bytes:
    """A closed poll: the question, one bar per option (the leading ones dark and bold), then
    ``notes`` (the winner line, the number of voters). Raises :class:`NoFont`."""
    w = _Writer(fonts or Fonts.find(lang))
    shown = [w.clean(b.label, b.leading) for b in bars]
    if not all(shown) or len(set(shown)) < len(shown):
        # "👍 | 👎": options told apart only by what no font draws would read as the same
        raise NoFont("options differ only by symbols no installed font draws")
    figure_room = max((w.width(b.figure, FIGURE, True) for b in bars), default=0) + 24
    track = INNER - figure_room
    height = 400 + len(bars) * 220 + len(notes) * 150
    image = Image.new("RGB", (WIDTH, height), WHITE)
    d = ImageDraw.Draw(image)
    y = _title(w, d, title, PAD - 12)
    y += 28
    for bar in bars:
        for line in w.wrap(bar.label, LABEL, INNER, 2, bold=bar.leading):
            y += _line_height(LABEL)
            w.draw(d, (PAD, y), line, LABEL, INK, bold=bar.leading)
        y += 14
        top, h = y, 44
        d.rounded_rectangle((PAD, top, PAD + track, top + h), radius=10, fill=TRACK)
        share = min(max(bar.share, 0.0), 1.0)
        if share > 0:
            filled = max(PAD + track * share, PAD + 20)
            colour = BLUE if bar.leading else SKY
            d.rounded_rectangle((PAD, top, filled, top + h), radius=10, fill=colour)
        figure_x = WIDTH - PAD - w.width(bar.figure, FIGURE, True)
        w.draw(d, (figure_x, top + h - 8), bar.figure, FIGURE, INK, bold=True)
        y = top + h + 22
    y += 8
    y = _notes(w, d, notes, y)
    return _png(image, y + PAD)


@_serial
def decision_picture(
    title: str,
    verdict: str,
    passed: bool,
    thresholds: Sequence[Threshold],
    notes: Sequence[str],
    lang: str,
    fonts: Fonts | None = None,
) -> bytes:
    """A closed decision: the title, the outcome in a band (a tick or a cross, its colour),
    each threshold as a bar against a line at what it needs, then ``notes`` (participation,
    the tally, the rule). Raises :class:`NoFont`."""
    w = _Writer(fonts or Fonts.find(lang))
    height = 500 + len(thresholds) * 260 + len(notes) * 150
    image = Image.new("RGB", (WIDTH, height), WHITE)
    d = ImageDraw.Draw(image)
    y = _title(w, d, title, PAD - 12)
    y += 28
    band = 96
    colour = GREEN if passed else VERMILLION
    d.rounded_rectangle((PAD, y, WIDTH - PAD, y + band), radius=16, fill=colour)
    _mark(d, PAD + 24, y + 20, band - 40, passed, WHITE)
    text = w.wrap(plain(verdict), 48, INNER - 120, 1, bold=True)[0]
    w.draw(d, (PAD + 24 + band - 16, y + band / 2 + 17), text, 48, WHITE, bold=True)
    y += band + 24
    for th in thresholds:
        tone = GREEN if th.met else VERMILLION
        y += _line_height(LABEL)
        icon = LABEL * 0.8
        _mark(d, PAD, y - icon, icon, th.met, tone)
        label = w.wrap(plain(th.label), LABEL, INNER - icon - 14, 1, bold=True)[0]
        w.draw(d, (PAD + icon + 14, y), label, LABEL, INK, bold=True)
        y += 18
        top, h = y, 40
        d.rounded_rectangle((PAD, top, WIDTH - PAD, top + h), radius=10, fill=TRACK)
        achieved = min(max(th.achieved, 0.0), 1.0)
        if achieved > 0:
            d.rounded_rectangle(
                (PAD, top, max(PAD + INNER * achieved, PAD + 20), top + h), radius=10, fill=tone
            )
        line_x = PAD + INNER * min(max(th.required, 0.0), 1.0)
        d.rectangle((line_x - 3, top - 12, line_x + 3, top + h + 12), fill=INK)
        y = top + h + 12
        for line in w.wrap(f"{plain(th.figure)} · {plain(th.need)}", FIGURE, INNER, 2):
            y += _line_height(FIGURE)
            w.draw(d, (PAD, y), line, FIGURE, INK)
        y += 22
    y = _notes(w, d, notes, y)
    return _png(image, y + PAD)


@_serial
def tally_picture(
    title: str, groups: Sequence[Group], notes: Sequence[str], lang: str, fonts: Fonts | None = None
) -> bytes:
    """A tally (a closed roll-call): per group its name, count and bar in its tone, and what it
    holds below (at most three lines, "…" after). Raises :class:`NoFont`."""
    w = _Writer(fonts or Fonts.find(lang))
    figure_room = max((w.width(g.figure, FIGURE, True) for g in groups), default=0) + 24
    track = INNER - figure_room
    height = 400 + len(groups) * 340 + len(notes) * 150
    image = Image.new("RGB", (WIDTH, height), WHITE)
    d = ImageDraw.Draw(image)
    y = _title(w, d, title, PAD - 12)
    y += 28
    for group in groups:
        y += _line_height(LABEL)
        label = w.wrap(plain(group.label), LABEL, INNER, 1, bold=True)[0]
        w.draw(d, (PAD, y), label, LABEL, INK, bold=True)
        y += 14
        top, h = y, 44
        d.rounded_rectangle((PAD, top, PAD + track, top + h), radius=10, fill=TRACK)
        share = min(max(group.share, 0.0), 1.0)
        if share > 0:
            filled = max(PAD + track * share, PAD + 20)
            d.rounded_rectangle((PAD, top, filled, top + h), radius=10, fill=TONES[group.tone])
        figure_x = WIDTH - PAD - w.width(group.figure, FIGURE, True)
        w.draw(d, (figure_x, top + h - 8), group.figure, FIGURE, INK, bold=True)
        y = top + h + 6
        if group.members:
            for line in w.wrap(group.members, NOTE, INNER, 3):
                y += _line_height(NOTE)
                w.draw(d, (PAD, y), line, NOTE, MUTED)
        y += 22
    y = _notes(w, d, notes, y)
    return _png(image, y + PAD)
