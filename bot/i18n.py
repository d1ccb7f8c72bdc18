"""Translations and locale-aware formatting.

Catalogs are gettext ``.po`` files under ``locales/<lang>/LC_MESSAGES/``: ``courtyard.po`` for the
core and one file per feature (``polls.po``, ``events.po``, ...), merged into one catalog per
language (a key may be defined in one file only; a test checks it). Message ids
are symbolic keys (``help.title``); the English catalog holds the English text. The ``.po`` files
are the only source: they are read with Babel and compiled in memory at first use, so there is no
build step and no stale ``.mo``.

Every message is HTML (Telegram ``parse_mode=HTML``). :func:`t` escapes every parameter, except
values wrapped in :class:`Html`, so a resident's name or text can never break the markup.
"""

from __future__ import annotations

import gettext
import html
import io
import logging
import threading
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, get_month_names
from babel.lists import format_list
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.domain.decisions import RuleChoices, RuleText, rule_name_key
from bot.domain.decisions import parse_rule as _parse_rule
from bot.domain.errors import DomainError
from bot.domain.languages import SUPPORTED, TYPED_CODES, LanguageChoices, language_name_key

log = logging.getLogger(__name__)

DOMAIN = "courtyard"
FALLBACK = "en"

#: The Babel (CLDR) locale behind each language's dates, numbers and lists. Traditional Chinese
#: uses Taiwan's (zh_Hant_TW, CLDR's base for zh_Hant): dates and numbers read the same in Hong
#: Kong and Macau ("11月21日週六 15:00", "1,234,567.89"); only lists differ ("和" beside "及").
_BABEL_LOCALES = {"en": "en_GB", "zh_Hans": "zh_Hans_CN", "zh_Hant": "zh_Hant_TW", "ru": "ru_RU"}
_lock = threading.Lock()


class Html(str):
    """A string that is already safe HTML; :func:`t` inserts it unescaped."""

    __slots__ = ()


def escape(value: object) -> str:
    return html.escape(str(value), quote=False)


def po_files(lang: str) -> list[Any]:
    """The ``.po`` files of ``lang``: ``courtyard.po`` first, then the features' by name."""
    folder = resources.files("locales").joinpath(lang, "LC_MESSAGES")
    files = [f for f in folder.iterdir() if f.name.endswith(".po")]
    return sorted(files, key=lambda f: (f.name != f"{DOMAIN}.po", f.name))


@cache
def catalog(lang: str) -> gettext.GNUTranslations:
    """The compiled catalog of ``lang`` (one of SUPPORTED): all its files merged."""
    with _lock:
        merged: Catalog | None = None
        for path in po_files(lang):
            with path.open("rb") as fh:
                po = read_po(fh, locale=_BABEL_LOCALES[lang], domain=DOMAIN)
            if merged is None:
                merged = po
                continue
            for message in po:
                if message.id:
                    merged[message.id] = message
        assert merged is not None, f"no catalog for {lang}"
        buf = io.BytesIO()
        write_mo(buf, merged, use_fuzzy=False)
        buf.seek(0)
        return gettext.GNUTranslations(buf)


def _lang(lang: str | None) -> str:
    return lang if lang is not None and lang in SUPPORTED else FALLBACK


class _Params(dict[str, Any]):
    """Placeholder values; a missing one is a bug of ours: logged, shown as-is, never a crash."""

    def __missing__(self, key: str) -> str:
        log.error("message parameter {%s} is missing", key)
        return "{" + key + "}"


def _format(template: str, params: Mapping[str, Any], lang: str = FALLBACK) -> str:
    safe = _Params(
        (k, v if isinstance(v, Html) else escape(v) if isinstance(v, str) else v)
        for k, v in ((k, _worded(lang, v)) for k, v in params.items())
    )
    return template.format_map(safe)


def _worded(lang: str, value: Any) -> Any:
    """A code the domain hands to a message (a rule, the list of rules or of languages) in the
    reader's words, the code beside; anything else as it is."""
    if isinstance(value, RuleText):
        return rule_label(lang, value)
    if isinstance(value, RuleChoices):
        return rule_choices(lang)
    if isinstance(value, LanguageChoices):
        return language_choices(lang)
    return value


def _lookup(lang: str, key: str) -> str:
    text = catalog(lang).gettext(key)
    if text == key and lang != FALLBACK:
        text = catalog(FALLBACK).gettext(key)
    return text


def t(lang: str | None, key: str, /, **params: Any) -> str:
    """The message ``key`` in ``lang`` (falling back to English), placeholders filled."""
    code = _lang(lang)
    return _format(_lookup(code, key), params, code)


def tn(lang: str | None, key: str, n: int, /, **params: Any) -> str:
    """The plural-aware message ``key`` for count ``n`` (``{n}`` is available to the text)."""
    code = _lang(lang)
    text = catalog(code).ngettext(key, key, n)
    if text == key and code != FALLBACK:
        text = catalog(FALLBACK).ngettext(key, key, n)
    return _format(text, {"n": n, **params}, code)


def babel_locale(lang: str | None) -> Locale:
    return Locale.parse(_BABEL_LOCALES[_lang(lang)])


def format_datetime(moment: datetime, lang: str | None, tz: str) -> str:
    """A moment as residents read it: local weekday, day, month and 24-hour time.

    ``moment`` must be aware (we store UTC); it is shown in ``tz``:
    en "Sat 21 Nov, 15:00", zh "11月21日周六 15:00" (zh_Hant "11月21日週六 15:00"),
    ru "сб, 21 нояб., 15:00".
    """
    if moment.tzinfo is None:
        raise ValueError("format_datetime needs an aware datetime")
    local = moment.astimezone(ZoneInfo(tz))
    loc = babel_locale(lang)
    day = format_skeleton("MMMEd", local, locale=loc)
    clock = format_skeleton("Hm", local, locale=loc)
    return f"{day} {clock}" if _lang(lang).startswith("zh") else f"{day}, {clock}"


def format_datetime_zone(moment: datetime, lang: str | None, tz: str) -> str:
    """:func:`format_datetime` followed by the zone name, as confirmations show it."""
    return f"{format_datetime(moment, lang, tz)} ({tz})"


def shorten(text: str, limit: int = 80) -> str:
    """One line of at most ``limit`` characters, for lists and summaries."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _nth_weekday(lang: str | None, nth: int, weekday: int) -> str:
    """ "the last Friday", "最后一个周五", "каждую последнюю пятницу" (rec.nth_<n>_<weekday>)."""
    return t(lang, f"rec.nth_{'last' if nth == -1 else nth}_{weekday}")


def _month_name(lang: str | None, month: int) -> str:
    """A month's name as it stands after a day: "December", "十二月", "декабря"."""
    return str(get_month_names("wide", context="format", locale=babel_locale(lang))[month])


def _daily_hours(lang: str | None, hours: tuple[int, ...], minute: int) -> str:
    """ "every 2 hours from 08:00 to 20:00" when evenly spaced, else "every day at 08:00,
    12:00 and 19:00"."""
    clock = [f"{h:02d}:{minute:02d}" for h in hours]
    steps = {b - a for a, b in pairwise(hours)}
    if len(steps) == 1:
        step = steps.pop()
        if step == 1:
            return t(lang, "rec.hourly_window_one", start=clock[0], end=clock[-1])
        return tn(lang, "rec.hourly_window", step, start=clock[0], end=clock[-1])
    return t(lang, "rec.daily_at", times=format_list(clock, locale=babel_locale(lang)))


def describe_rrule(lang: str | None, rrule: str) -> str:
    """How a recurrence reads, in words: "every 2 weeks on Tuesday", "每隔一周的周三",
    "каждый первый понедельник месяца", "every 3 hours". Only a rule our parser does not
    write reads as "repeating" (rec.other)."""
    from bot.domain.posts import describe

    rec = describe(rrule)
    n = rec.interval
    days = format_list([t(lang, f"rec.day_{d}") for d in rec.weekdays], locale=babel_locale(lang))
    if rec.kind == "minutely":
        return tn(lang, "rec.minutely", n)
    if rec.kind == "hourly":
        return t(lang, "rec.hourly_one") if n == 1 else tn(lang, "rec.hourly", n)
    if rec.kind == "daily" and rec.hours:
        return _daily_hours(lang, rec.hours, rec.minute)
    if rec.kind == "daily":
        return t(lang, "rec.daily") if n == 1 else tn(lang, "rec.daily_n", n)
    if rec.kind == "weekdays":
        return t(lang, "rec.weekdays")
    if rec.kind == "weekly" and n == 1:
        return t(lang, "rec.list_sep").join(t(lang, f"rec.weekly_{d}") for d in rec.weekdays)
    if rec.kind == "weekly":
        return (
            t(lang, "rec.weekly_other", days=days)
            if n == 2
            else tn(lang, "rec.weekly_n", n, days=days)
        )
    if rec.kind == "monthly" and n == 1 and rec.monthday == -1:
        return t(lang, "rec.monthly_last")
    if rec.kind == "monthly" and n == 1 and rec.monthday is not None:
        return t(lang, "rec.monthly", day=rec.monthday)
    if rec.kind == "monthly_nth" and n == 1 and rec.nth is not None:
        return t(lang, "rec.monthly_nth", day=_nth_weekday(lang, rec.nth, rec.weekdays[0]))
    if rec.kind == "yearly" and rec.month is not None and rec.monthday == -1:
        return t(lang, "rec.yearly_last", month=_month_name(lang, rec.month))
    if rec.kind == "yearly" and rec.month is not None and rec.monthday is not None:
        day = date(2024, rec.month, rec.monthday)  # 2024: February 29th exists
        return t(lang, "rec.yearly", date=format_skeleton("MMMMd", day, locale=babel_locale(lang)))
    if rec.kind == "yearly_nth" and rec.month is not None and rec.nth is not None:
        day_text = _nth_weekday(lang, rec.nth, rec.weekdays[0])
        return t(lang, "rec.yearly_nth", day=day_text, month=_month_name(lang, rec.month))
    return t(lang, "rec.other")


def language_name(lang: str) -> str:
    from bot.domain.languages import NATIVE_NAMES

    return NATIVE_NAMES.get(lang, lang)


def language_in(lang: str | None, code: str) -> str:
    """The language ``code`` named in the reader's language ``lang``: "Traditional Chinese",
    "繁体中文", "традиционный китайский"."""
    return t(lang, language_name_key(code))


def language_choices(lang: str | None) -> Html:
    """Every language as a refusal lists it, in the reader's words with the code one types:
    "English (<code>en</code>), …"; "英语（<code>en</code>）、简体中文（<code>zh</code>）……"."""
    return _choice_list(
        lang,
        [t(lang, "lang.choice", name=language_in(lang, c), code=TYPED_CODES[c]) for c in SUPPORTED],
    )


def rule_name(lang: str | None, rule: str, *, short: bool = False) -> str:
    """A decision rule's canonical spelling (``Rule.text``) in words, for cards, outcomes and
    pictures: "simple majority", "三分之二多数，法定人数 1/2", "ОСС — большинство участвующих";
    ``short`` for a button ("民法典·重大事项", "Civil Code 278, special"). A spelling that does
    not parse (never stored so) is shown as it is."""
    try:
        parsed = _parse_rule(rule)
    except (DomainError, ValueError):  # never stored so; shown as it is rather than lost
        return rule
    name = t(lang, rule_name_key(parsed.name) + ("_short" if short else ""))
    if parsed.quorum is None:
        return name
    return t(lang, "decision.rule_with_quorum", name=name, quorum=str(parsed.quorum))


def rule_label(lang: str | None, rule: str) -> Html:
    """A rule in words with the code one types beside it, where a lead may type it (settings,
    refusals, a ratification's confirmation): "简单多数（<code>majority</code>）"."""
    return Html(t(lang, "decision.rule_label", name=rule_name(lang, rule), code=str(rule)))


def rule_choices(lang: str | None) -> Html:
    """Every rule, as a refusal lists them: names with their codes."""
    from bot.domain.decisions import RULE_NAMES

    return _choice_list(lang, [rule_label(lang, name) for name in RULE_NAMES])


def _choice_list(lang: str | None, items: list[str]) -> Html:
    """ "a, b or c" / "a、b或c" / "a, b или c" (Babel's list of alternatives); items are HTML."""
    return Html(format_list(items, style="or", locale=babel_locale(lang)))
