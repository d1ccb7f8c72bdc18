"""bot/charts.py: the results pictures are PNGs of the right size that Pillow decodes, drawn with
real fonts in every script the bot speaks (Latin, Cyrillic, Simplified and Traditional
Chinese), never with tofu boxes (no font for a letter: NoFont), colour-blind-safe colours with
the outcome also told by shape."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageFont

from bot import charts
from bot.charts import Bar, Fonts, NoFont, Threshold

HAS_LATIN = any(Path(r).exists() for r, _ in charts.LATIN_FONTS)
HAS_CJK = any(Path(r).exists() for r, _ in charts.CJK_FONTS)
HAS_EMOJI = any(Path(p).exists() for p in charts.EMOJI_FONTS)
needs_emoji = pytest.mark.skipif(not HAS_EMOJI, reason="needs fonts-noto-color-emoji")
needs_fonts = pytest.mark.skipif(
    not (HAS_LATIN and HAS_CJK), reason="needs fonts-dejavu-core and fonts-noto-cjk"
)
pytestmark = needs_fonts


def decode(png: bytes) -> Image.Image:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.convert("RGB")


def bars(labels: list[str], counts: list[int]) -> list[Bar]:
    total = sum(counts) or 1
    top = max(counts)
    return [
        Bar(label, f"{c} ({round(100 * c / total)}%)", c / total, leading=top > 0 and c == top)
        for label, c in zip(labels, counts, strict=True)
    ]


def colours(image: Image.Image) -> set[tuple[int, int, int]]:
    found = image.getcolors(maxcolors=1 << 20) or []
    return {(int(c[0]), int(c[1]), int(c[2])) for _, c in found if isinstance(c, tuple)}


TITLES = {
    "en": "Paint the gate?",
    "ru": "Красим ворота?",
    "zh_Hans": "大门刷成什么颜色？",
    "zh_Hant": "大門刷成什麼顏色？",
}


@pytest.mark.parametrize("lang", sorted(TITLES))
def test_a_poll_picture_is_a_png_of_phone_width_in_every_language(lang: str) -> None:
    png = charts.poll_picture(TITLES[lang], bars(["A", "B", "C"], [7, 3, 0]), ["10"], lang)
    image = decode(png)
    assert image.width == charts.WIDTH == 1080
    assert 400 < image.height < 1400
    assert charts.BLUE in colours(image) and charts.SKY in colours(image)  # leader, another


@pytest.mark.parametrize(
    ("lang", "text", "font"),
    [
        ("ru", "Красим", "DejaVuSans"),
        ("en", "Красим", "DejaVuSans"),
        ("zh_Hans", "大门", "NotoSansCJK"),
        ("zh_Hant", "大門", "NotoSansCJK"),
        ("ru", "大门", "NotoSansCJK"),  # a Chinese option in a Russian group: the next font
    ],
)
def test_each_script_is_drawn_from_a_font_that_has_it(lang: str, text: str, font: str) -> None:
    writer = charts._Writer(Fonts.find(lang))
    runs = writer.runs(text, 40, bold=False)
    assert "".join(run for _, run in runs) == text
    for face, run in runs:
        assert isinstance(face, ImageFont.FreeTypeFont)
        assert font in str(face.path)
        assert face.getmask(run).getbbox() is not None  # ink, not an empty box
    # the drawn title shows: the picture differs from one with an empty title
    with_title = decode(charts.poll_picture(text, bars(["x"], [1]), [], lang))
    without = decode(charts.poll_picture("", bars(["x"], [1]), [], lang))
    assert with_title.tobytes() != without.tobytes()


def test_chinese_faces_follow_the_script() -> None:
    hans, hant = Fonts.find("zh_Hans"), Fonts.find("zh_Hant")
    assert hans.regular[0][0].endswith(".ttc") and hant.regular[0][0].endswith(".ttc")
    names = {
        lang: charts._font(*fonts.regular[0], 20).getname()[0]
        for lang, fonts in (("zh_Hans", hans), ("zh_Hant", hant))
    }
    assert names == {"zh_Hans": "Noto Sans CJK SC", "zh_Hant": "Noto Sans CJK TC"}
    assert Fonts.find("en").regular[0][0].endswith("DejaVuSans.ttf")


def test_no_cjk_font_means_no_picture_rather_than_tofu() -> None:
    fonts = Fonts.find("zh_Hans", cjk=())
    with pytest.raises(NoFont):
        charts.poll_picture("大门刷成什么颜色？", bars(["绿色"], [1]), [], "zh_Hans", fonts)
    # an English poll with a Chinese option is refused too, not drawn with a box
    with pytest.raises(NoFont):
        charts.poll_picture("Gate", bars(["Green", "绿色"], [1, 0]), [], "en", fonts)
    # without CJK the Latin picture still draws
    charts.poll_picture("Gate", bars(["Green"], [1]), [], "en", fonts)
    # a slim image with no fonts at all (python:3.12-slim): no picture, no crash
    bare = Fonts.find("en", latin=(), cjk=())
    assert bare.regular == ()
    with pytest.raises(NoFont):
        charts.poll_picture("Gate", bars(["Green"], [1]), [], "en", bare)


def test_a_script_no_installed_font_has_is_refused() -> None:
    with pytest.raises(NoFont, match="U\\+0E17"):
        charts.poll_picture("ทาสีประตู", bars(["A"], [1]), [], "en")


def no_emoji(lang: str = "en") -> Fonts:
    """The fonts of a system without a colour emoji font."""
    return replace(Fonts.find(lang), emoji=None)


def test_without_an_emoji_font_emoji_are_left_out_not_boxed() -> None:
    fonts = no_emoji()
    writer = charts._Writer(fonts)
    assert writer.clean("👥 10 voters 🏁") == "10 voters"
    plain = decode(charts.poll_picture("Q", bars(["a"], [1]), ["10 voters"], "en", fonts))
    emoji = decode(charts.poll_picture("Q", bars(["a"], [1]), ["👥 10 voters"], "en", fonts))
    assert plain.tobytes() == emoji.tobytes()


def test_clusters_keep_an_emoji_with_its_modifiers_and_joined_parts() -> None:
    family, thumb, flag, keycap = "👨\u200d👩\u200d👧", "👍🏽", "🇹🇼", "1\ufe0f\u20e3"
    text = f"a{family} {thumb}{flag}{keycap}❤\ufe0f"
    assert charts.clusters(text) == ["a", family, " ", thumb, flag, keycap, "❤\ufe0f"]
    assert charts.clusters("🇹🇼🇭🇰") == ["🇹🇼", "🇭🇰"]


@needs_emoji
def test_emoji_in_a_poll_are_drawn_in_colour() -> None:
    """ "🌳 Tree planting": the tree is drawn (in colour, where the label starts), not a box,
    not left out; the text after it is moved along by the emoji's width."""
    fonts = Fonts.find("en")
    assert fonts.emoji is not None
    with_tree = charts.poll_picture(
        "🌳 Tree planting", bars(["🌳 Yes", "No"], [2, 1]), ["3 voters"], "en"
    )
    image = decode(with_tree)
    assert image.width == charts.WIDTH
    without = decode(
        charts.poll_picture("Tree planting", bars(["Yes", "No"], [2, 1]), ["3 voters"], "en")
    )
    assert image.tobytes() != without.tobytes()
    # the title's first 50 px: the tree's greens and browns, not ink on white
    corner = image.crop((charts.PAD, 40, charts.PAD + 50, 110))
    vivid = {rgb for rgb in colours(corner) if max(rgb) - min(rgb) > 60}
    assert any(g > r and g > b for r, g, b in vivid), "no green of the tree"
    writer = charts._Writer(fonts)
    tree = writer.width("🌳", charts.LABEL)
    assert charts.LABEL * 0.9 < tree < charts.LABEL * 1.6
    assert writer.width("🌳 Yes", charts.LABEL) > writer.width("Yes", charts.LABEL) + tree
    assert writer.clean("🌳 Yes 👍") == "🌳 Yes 👍"


@needs_emoji
def test_an_emoji_sequence_the_font_cannot_join_is_drawn_as_its_first_emoji() -> None:
    writer = charts._Writer(Fonts.find("en"))
    # 🌳 joined to 👍 is no emoji: drawn as 🌳 (and the 👍 after it on its own is not joined)
    odd = "🌳\u200d👍"
    runs = writer.runs(f"{odd} x", charts.LABEL, False)
    assert runs[0][1] == "🌳"
    assert writer.width(odd, charts.LABEL) == writer.width("🌳", charts.LABEL)
    charts.poll_picture("Q", bars([odd, "👍"], [1, 1]), [], "en")


@needs_emoji
def test_options_told_apart_by_emoji_are_drawn_when_the_emoji_font_is_there() -> None:
    charts.poll_picture("Q", bars(["👍", "👎"], [1, 0]), [], "en")
    charts.poll_picture("Q", bars(["🟢 Go", "🔴 Go"], [1, 0]), [], "en")


def test_html_of_catalog_lines_is_dropped_but_a_residents_text_is_kept() -> None:
    assert charts.plain("Most votes: <b>Green &amp; Blue</b>") == "Most votes: Green & Blue"
    odd = "Is 1 <b> 2?"  # a resident's literal text: drawn as typed
    with_tags = decode(charts.poll_picture(odd, bars(["a"], [1]), [], "en"))
    without = decode(charts.poll_picture("Is 1  2?", bars(["a"], [1]), [], "en"))
    assert with_tags.tobytes() != without.tobytes()


def test_long_text_wraps_and_ends_in_an_ellipsis() -> None:
    writer = charts._Writer(Fonts.find("en"))
    lines = writer.wrap("word " * 80, charts.LABEL, 600, 2)
    assert len(lines) == 2 and lines[1].endswith("…")
    assert all(writer.width(line, charts.LABEL) <= 600 for line in lines)
    hans = charts._Writer(Fonts.find("zh_Hans"))
    lines = hans.wrap("刷" * 200, charts.LABEL, 600, 3)  # no spaces: cut anywhere
    assert len(lines) == 3 and all(hans.width(line, charts.LABEL) <= 600 for line in lines)
    # a poll of many long options grows, stays phone-wide
    many = bars([("option " * 30) + str(i) for i in range(12)], list(range(12)))
    image = decode(charts.poll_picture("Q " * 100, many, ["n"] * 3, "en"))
    assert image.width == 1080 and image.height > 2000


def test_shares_out_of_range_and_no_votes_still_draw() -> None:
    odd = [Bar("a", "0 (0%)", 0.0, False), Bar("b", "?", 1.7, False), Bar("c", "?", -1, False)]
    decode(charts.poll_picture("Q", odd, [], "en"))
    decode(charts.poll_picture("Q", [], [], "en"))


def threshold(achieved: float, required: float, met: bool) -> Threshold:
    return Threshold(
        "Quorum, units", "8/12 units (66.6 %)", "at least 2/3", achieved, required, met
    )


@pytest.mark.parametrize("lang", sorted(TITLES))
def test_a_decision_picture_tells_the_outcome_by_colour_and_shape(lang: str) -> None:
    passed = decode(
        charts.decision_picture(
            TITLES[lang],
            "<b>PASSED</b>",
            True,
            [threshold(0.75, 2 / 3, True), threshold(0.8, 0.5, True)],
            ["Voted: 9/12 units", "For 7 · Against 1 · Abstain 1 · Not voted 3"],
            lang,
        )
    )
    assert passed.width == 1080 and charts.GREEN in colours(passed)
    assert charts.VERMILLION not in colours(passed)
    failed = decode(
        charts.decision_picture(
            TITLES[lang], "NOT PASSED", False, [threshold(0.5, 2 / 3, False)], [], lang
        )
    )
    assert charts.VERMILLION in colours(failed) and charts.GREEN not in colours(failed)


def test_the_threshold_line_sits_at_what_it_needs() -> None:
    """The bar's track holds a dark line at the required share, on either side of the fill."""
    for required in (0.25, 2 / 3, 0.9):
        image = decode(
            charts.decision_picture("T", "X", True, [threshold(0.5, required, True)], [], "en")
        )
        x = round(charts.PAD + charts.INNER * required)
        longest = run = 0
        for y in range(image.height):
            run = run + 1 if image.getpixel((x, y)) == charts.INK else 0
            longest = max(longest, run)
        assert longest >= 60  # through the 40 px bar and 12 px beyond each side: no glyph is
        # that tall


def test_the_same_data_draws_the_same_bytes() -> None:
    data = ("Q", bars(["a", "b"], [2, 1]), ["3 voters"], "ru")
    assert charts.poll_picture(*data) == charts.poll_picture(*data)


def test_options_told_apart_only_by_emoji_get_no_picture_without_the_emoji_font() -> None:
    """ "👍 | 👎" would draw two bars without labels; "🟢 Go | 🔴 Go" two that read the same."""
    fonts = no_emoji()
    for labels in (["👍", "👎"], ["🟢 Go", "🔴 Go"]):
        with pytest.raises(NoFont, match="only by symbols"):
            charts.poll_picture("Q", bars(labels, [1, 0]), [], "en", fonts)
    charts.poll_picture("Q", bars(["🟢 Go", "🔴 Stop"], [1, 0]), [], "en", fonts)  # still apart


@pytest.mark.parametrize("text", ["صباح الخير", "שלום"])
def test_right_to_left_text_is_not_drawn_backwards(text: str) -> None:
    with pytest.raises(NoFont, match="right-to-left"):
        charts.poll_picture(text, bars(["a"], [1]), [], "en")
    # a stray right-to-left mark (pasted from a phone) in a Latin title is no reason to refuse
    charts.poll_picture("Paint\u200f the gate?", bars(["a"], [1]), [], "en")


def test_a_tally_picture_has_each_group_in_its_tone() -> None:
    groups = [
        charts.Group("Need help", "2/6", 2 / 6, "bad", "2-102, 2-105"),
        charts.Group("Not heard from", "1/6", 1 / 6, "warn", "2-104"),
        charts.Group("Checked in person", "0/6", 0.0, "info"),
        charts.Group("OK", "3/6", 3 / 6, "good", ", ".join(f"3-{n:03d}" for n in range(400))),
    ]
    image = decode(charts.tally_picture("Water pipe burst", groups, ["Frank"], "en"))
    found = colours(image)
    assert image.width == 1080
    assert {charts.VERMILLION, charts.ORANGE, charts.GREEN} <= found
    assert charts.SKY not in found  # an empty group draws no fill
    assert image.height < 1600  # 400 unit labels are cut to three lines


def test_pictures_drawn_in_many_threads_at_once_are_the_same() -> None:
    """Two polls closing together draw in two worker threads; the fonts are shared."""
    from concurrent.futures import ThreadPoolExecutor

    data = ("大门 ворота gate", bars(["绿色 Green", "Синий"], [7, 3]), ["n"], "ru")
    alone = charts.poll_picture(*data)
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda _: charts.poll_picture(*data), range(24)))
    assert all(p == alone for p in together)
