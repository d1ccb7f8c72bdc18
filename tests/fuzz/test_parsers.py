"""Every command parser of the domain under hypothesis: random Unicode (RTL, emoji, zero-width
characters), SQL-looking and HTML-looking text, Telegram-size inputs (up to 4096 characters) and
our own separators. Each parser either returns a value or refuses with a ``DomainError`` whose
key is in the catalogs (so the user gets a translated answer) — never any other exception.

300 examples per parser by default, 10 000 with COURTYARD_FULL_TESTS=1 (the end-to-end fuzz
layers in this folder send such input through the real bot as well).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain import (
    decisions,
    events,
    languages,
    meetings,
    polls,
    refs,
    roles,
    sharing,
    timezones,
    units,
    when,
)
from bot.domain import settings as chat_settings
from bot.domain.errors import DomainError
from tests.test_i18n import ENGLISH

EXAMPLES = 10_000 if os.environ.get("COURTYARD_FULL_TESTS") == "1" else 300
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

PIECES = [
    "|",
    "｜",
    "\n",
    " ",
    ",",
    ":",
    "=",
    "-",
    "'; DROP TABLE polls; --",
    "<b>",
    "</i>",
    "&amp;",
    "\u200b",
    "\u200f",
    "\u202e",
    "🙂",
    "👨‍👩‍👧",
    "مرحبا",
    "שלום",
    "tomorrow 9:00",
    "every monday",
    "明天早上8点",
    "каждый вторник в 20:00",
    "closes friday 20:00",
    "rule=cn-278-special",
    "quorum=1/2",
    "multiple",
    "anonymous",
    "secret",
    "per slot 2",
    "sat 8-12",
    "lend",
    "give",
    "¥12.50",
    "30元",
    "12,50 ₽",
    "10 boxes",
    "3-502",
    "89.5",
    "for",
    "за",
    "赞成",
    "D3",
    "#P12",
    "24h, 1h",
    "1天",
    "365",
    "9" * 40,
    "{n}",
    "%s",
]

text = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
    st.lists(st.sampled_from(PIECES), max_size=12).map(" ".join),
    st.builds(lambda piece, n: (piece * n)[:4096], st.sampled_from(PIECES), st.integers(1, 4096)),
)


def in_time(fn: Callable[..., Any]) -> Callable[[str], Any]:
    return lambda raw: fn(raw, lang="en", tz="Europe/Berlin", now=NOW)


PARSERS: dict[str, Callable[[str], Any]] = {
    "poll": polls.parse_poll_command,
    "rule": decisions.parse_rule,
    "choice": decisions.parse_choice,
    "event": events.parse_event,
    "event edit": events.parse_edit,
    "capacity": events.parse_capacity,
    "time range": events.split_range,
    "roster": events.parse_roster,
    "offer": sharing.parse_offer,
    "need": sharing.parse_need,
    "skill": sharing.parse_skill,
    "money": sharing.parse_money,
    "minimum": sharing.parse_minimum,
    "groupbuy": in_time(sharing.parse_groupbuy),
    "chain": in_time(sharing.parse_chain),
    "due": in_time(sharing.parse_due),
    "when": in_time(when.parse),
    "when split": in_time(when.split),
    "unit label": units.normalize_label,
    "area": units.parse_area,
    "units csv": units.parse_units_csv,
    "language": languages.parse_language,
    "timezone": timezones.parse_timezone,
    "role": roles.parse_grantable_role,
    "who": chat_settings.parse_who,
    "on/off": chat_settings.parse_on_off,
    "setting": chat_settings.parse_setting_key,
    "reminder offsets": chat_settings.parse_reminder_offsets,
    "days": chat_settings.parse_days,
    "retention days": chat_settings.parse_retention_days,
    "setting args": lambda raw: chat_settings.split_setting_args(raw.split()),
    "ref": refs.parse_ref,
    "meeting": lambda raw: meetings.parse_request(
        raw, lang="en", tz="Europe/Berlin", now=NOW, default_rule="majority"
    ),
    "meeting paper ballot": lambda raw: meetings.parse_paper(raw.split(), 3),
}
KNOWN = set(ENGLISH)  # every key of the English catalog (the others are checked to match it)


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_a_parser_returns_or_refuses_in_words_we_can_translate(name: str) -> None:
    parse = PARSERS[name]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(text)
    def check(raw: str) -> None:
        try:
            parse(raw)
        except DomainError as exc:
            assert exc.key in KNOWN, f"{name}: {exc.key!r} is not in the catalog"

    check()
