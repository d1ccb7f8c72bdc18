"""The bot's profile per language: a resident who opens it in Chinese or Russian reads what it
is. Set once; a restart with the same texts makes no change call."""

from __future__ import annotations

from pathlib import Path

from bot.domain.languages import MENU_LANGUAGES, TELEGRAM_CODES
from bot.i18n import t
from playground import FakeTelegram
from tests.e2e.conftest import start_app, stop_app


async def test_descriptions_per_language_set_once(fake: FakeTelegram, tmp_path: Path) -> None:
    db_path = tmp_path / "courtyard.sqlite3"
    app = await start_app(fake, db_path)
    try:
        await fake.wait_until(
            lambda: len(fake.descriptions) == 2 * len(MENU_LANGUAGES),
            timeout=10,
            message="descriptions",
        )
    finally:
        await stop_app(app)
    assert "residents of a building" in fake.descriptions[("description", "")]
    assert "按户表决" in fake.descriptions[("description", "zh")]
    assert "домового чата" in fake.descriptions[("short_description", "ru")]
    for lang in MENU_LANGUAGES:
        code = "" if lang == "en" else TELEGRAM_CODES[lang]
        assert fake.descriptions[("description", code)] == t(lang, "bot.description")
        assert len(t(lang, "bot.description")) <= 512
        assert len(t(lang, "bot.short_description")) <= 120
    mark = fake.mark()
    app = await start_app(fake, db_path)
    try:
        await fake.wait_until(
            lambda: len(fake.calls_to("getMyShortDescription")) >= 2 * len(MENU_LANGUAGES),
            timeout=10,
            message="the second start's checks",
        )
    finally:
        await stop_app(app)
    changed = [
        c for c in fake.calls[mark:] if c.method.startswith("setMy") and "escription" in c.method
    ]
    assert changed == []
