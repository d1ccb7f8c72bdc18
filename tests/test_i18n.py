"""The catalogs: complete, consistent placeholders, right plural forms, valid Telegram HTML,
and every key the code uses exists."""

from __future__ import annotations

import importlib
import re
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.domain.commands import COMMANDS
from bot.domain.languages import SUPPORTED
from bot.domain.settings import SettingKey, Who
from bot.i18n import Html, format_datetime, format_datetime_zone, t, tn
from playground.textparse import parse_html

ROOT = Path(__file__).resolve().parents[1]
PLURALS = {"en": 2, "zh_Hans": 1, "zh_Hant": 1, "ru": 3}


LOCALES = {"en": "en", "zh_Hans": "zh_Hans_CN", "zh_Hant": "zh_Hant_TW", "ru": "ru_RU"}


def files(lang: str) -> list[Path]:
    return sorted((ROOT / "locales" / lang / "LC_MESSAGES").glob("*.po"))


def load_file(path: Path, lang: str):
    with path.open("rb") as fh:
        return read_po(fh, locale=LOCALES[lang])


def load(lang: str):
    """Every file of ``lang`` merged, as bot.i18n merges them."""
    parts = [load_file(p, lang) for p in files(lang)]
    merged = parts[0]
    for part in parts[1:]:
        for message in part:
            if message.id:
                merged[message.id] = message
    return merged


def test_every_language_has_the_same_files() -> None:
    names = {lang: [p.name for p in files(lang)] for lang in SUPPORTED}
    assert "courtyard.po" in names["en"]
    assert all(n == names["en"] for n in names.values()), names


@pytest.mark.parametrize("lang", SUPPORTED)
def test_a_key_lives_in_one_file_only(lang: str) -> None:
    seen: dict[str, str] = {}
    for path in files(lang):
        for message in load_file(path, lang):
            if not message.id:
                continue
            key = msg_key(message)
            assert key not in seen, f"{lang}: {key} in both {seen[key]} and {path.name}"
            seen[key] = path.name


def strings(message) -> list[str]:
    return [message.string] if isinstance(message.string, str) else list(message.string)


def msg_key(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


CATALOGS = {lang: load(lang) for lang in SUPPORTED}
ENGLISH = {msg_key(m): m for m in CATALOGS["en"] if m.id}


@pytest.mark.parametrize("lang", SUPPORTED)
def test_catalog_has_every_message_and_nothing_else(lang: str) -> None:
    keys = {msg_key(m) for m in CATALOGS[lang] if m.id}
    assert keys == set(ENGLISH), (
        f"{lang}: missing {set(ENGLISH) - keys}, extra {keys - set(ENGLISH)}"
    )


@pytest.mark.parametrize("lang", SUPPORTED)
def test_placeholders_plurals_and_html(lang: str) -> None:
    catalog = CATALOGS[lang]
    assert catalog.num_plurals == PLURALS[lang]
    for message in catalog:
        if not message.id:
            continue
        key = msg_key(message)
        english = placeholders(strings(ENGLISH[key])[-1])
        texts = strings(message)
        if not isinstance(message.id, str):
            assert len(texts) == PLURALS[lang], f"{lang} {key}: wrong number of plural forms"
        for text in texts:
            assert text.strip(), f"{lang} {key} is empty"
            assert not message.fuzzy, f"{lang} {key} is fuzzy"
            found = placeholders(text)
            # a plural form may leave out {n} ("one neighbour"), nothing else may differ
            assert found == english or found == english - {"n"}, f"{lang} {key}: {found}"
            filled = text.format_map({name: "x" for name in found})
            parse_html(filled)  # raises on tags or entities Telegram would refuse


def used_keys() -> set[str]:
    """Literal keys in calls such as t(lang, "a.b"), turn.reply("a.b"), DomainError("a.b")."""
    call = re.compile(
        r"""(?:\bt|\btn|\.t|reply|answer|DomainError)\(\s*(?:[\w.]+,\s*)?"([a-z_]+\.[a-z_.]+)\""""
    )
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            if "fakeapi" in path.parts:
                continue
            found.update(call.findall(path.read_text("utf-8")))
    return found


def dynamic_keys() -> set[str]:
    keys = {f"who.{w.value}" for w in Who}
    keys |= {f"role.{r}" for r in ("everyone", "organizers", "leads")}
    keys |= {c.description_key for c in COMMANDS} | {c.example_key for c in COMMANDS}
    keys |= {f"settings.saved_{k.value}" for k in SettingKey}
    # returned (not raised) by the pure rules: CSV line problems and decision failure reasons
    from bot.domain import units

    keys |= {units.CSV_BAD_LABEL, units.CSV_BAD_AREA, units.CSV_COLUMNS, units.CSV_DUPLICATE}
    keys |= {units.CSV_BAD_PART}
    keys |= {"decision.no_quorum_units", "decision.no_quorum_area"}
    keys |= {"decision.short_units", "decision.short_area"}
    # keys the features build at run time (f-strings) are declared next to the code, in
    # every module that has them (not only the features bot/app.py lists: handlers/units.py)
    for module in dynamic_key_modules():
        keys |= set(importlib.import_module(module).DYNAMIC_KEYS)
    return keys


def dynamic_key_modules() -> list[str]:
    """Every module of the bot that declares ``DYNAMIC_KEYS`` (found by reading the source)."""
    declared = re.compile(r"^DYNAMIC_KEYS\b", re.MULTILINE)
    found = []
    for folder in ("bot", "handlers", "storage"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if declared.search(path.read_text("utf-8")):
                found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def test_dynamic_keys_of_every_module_are_checked() -> None:
    modules = dynamic_key_modules()
    assert "handlers.units" in modules and "handlers.decisions" in modules, modules
    from handlers import units

    assert set(units.DYNAMIC_KEYS) <= dynamic_keys()


def test_the_apology_promises_nothing_it_cannot_keep() -> None:
    """error.internal follows any failure, a database that vanished included: it may not say
    that nothing was lost, only that what was asked may not have been done."""
    for lang, promise, truth in (
        ("en", "lost", "may not have been done"),
        ("ru", "сохранил", "возможно, не выполнен"),
        ("zh_Hans", "丢失", "可能没有完成"),
    ):
        text = t(lang, "error.internal")
        assert promise not in text and truth in text, (lang, text)


def test_every_key_used_in_code_exists() -> None:
    used = used_keys()
    assert len(used) > 30  # the scan itself works
    missing = (used | dynamic_keys()) - set(ENGLISH)
    assert not missing, f"keys used in code but not in the catalog: {sorted(missing)}"


def test_parameters_are_escaped_but_html_passes() -> None:
    text = t("en", "roles.granted", name="<script>&")
    assert "&lt;script&gt;&amp;" in text
    assert t("en", "roles.granted", name=Html("<b>Bob</b>")).startswith("✅ <b>Bob</b>")


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [
        ("en", 1, "1 neighbour has"),
        ("en", 2, "2 neighbours have"),
        ("ru", 1, "1 сосед "),
        ("ru", 3, "3 соседа "),
        ("ru", 5, "5 соседей "),
        ("ru", 11, "11 соседей "),
        ("ru", 21, "21 сосед "),
        ("ru", 24, "24 соседа "),
        ("zh_Hans", 7, "已有 7 位邻居"),
    ],
)
def test_plural_forms(lang: str, n: int, expected: str) -> None:
    assert tn(lang, "settings.members_known", n).startswith(expected)


def test_unknown_language_and_key_fall_back() -> None:
    assert t("de", "settings.saved") == t("en", "settings.saved")
    assert t(None, "settings.saved") == "Saved."
    assert t("en", "no.such.key") == "no.such.key"


@pytest.mark.parametrize(
    ("lang", "tz", "expected"),
    [
        ("en", "Asia/Shanghai", "Sat 21 Nov, 15:00"),
        ("zh_Hans", "Asia/Shanghai", "11月21日周六 15:00"),
        ("ru", "Europe/Moscow", "сб, 21 нояб., 10:00"),
        ("en", "America/New_York", "Sat 21 Nov, 02:00"),
    ],
)
def test_dates_in_the_chats_zone_and_locale(lang: str, tz: str, expected: str) -> None:
    moment = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    assert format_datetime(moment, lang, tz) == expected


def test_dates_across_dst() -> None:
    # Europe/Berlin leaves summer time at 01:00 UTC on 25 Oct 2026
    before = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    after = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert format_datetime(before, "en", "Europe/Berlin").endswith("02:30")
    assert format_datetime(after, "en", "Europe/Berlin").endswith("02:30")
    assert format_datetime_zone(after, "en", "Europe/Berlin").endswith("(Europe/Berlin)")
    with pytest.raises(ValueError):
        format_datetime(datetime(2026, 1, 1), "en", "UTC")


@pytest.mark.parametrize("lang", SUPPORTED)
def test_no_unread_drafts(lang: str) -> None:
    """locales/sync_hant.py writes drafts ``#, fuzzy``; the bot ignores them (English shows), so
    a draft left unread is a hole in the catalog."""
    fuzzy = [msg_key(m) for p in files(lang) for m in load_file(p, lang) if m.id and m.fuzzy]
    assert not fuzzy, f"{lang}: unread drafts {fuzzy}"
