"""Time zones as people type them, resolved against the IANA database."""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

from bot.domain.errors import DomainError

_OFFSET = re.compile(r"^(?:utc|gmt)\s*([+-])\s*(\d{1,2})$", re.IGNORECASE)


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """Lower-cased IANA name -> canonical IANA name (read once: the scan takes ~50 ms)."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


@lru_cache(maxsize=1)
def _cities() -> dict[str, list[str]]:
    """Lower-cased last component ("shanghai", "new york") -> the zones that end with it."""
    cities: dict[str, list[str]] = {}
    for name in _zones().values():
        if "/" not in name or name.startswith(("Etc/", "SystemV/")):
            continue
        city = name.rsplit("/", 1)[1].replace("_", " ").lower()
        cities.setdefault(city, []).append(name)
    return cities


def is_valid_timezone(name: str) -> bool:
    """True when ``name`` is exactly a zone of the IANA database shipped with Python/tzdata."""
    return name in _zones().values()


def parse_timezone(text: str) -> str:
    """Resolve what a lead typed into a canonical IANA zone name.

    Accepts the exact name in any letter case (``asia/shanghai``), a city alone when it is
    unambiguous (``Moscow``, ``new york``), and fixed offsets ``UTC+8`` / ``GMT-3`` (mapped to
    the IANA ``Etc/GMT`` zones, whose sign is inverted). Anything else is a DomainError.
    """
    value = text.strip()
    if not value:
        raise DomainError("error.unknown_timezone", value=text)
    zones = _zones()
    key = value.lower().replace(" ", "_")
    if key in zones:
        return zones[key]
    match = _OFFSET.match(value)
    if match:
        sign, hours = match.group(1), int(match.group(2))
        if hours == 0:
            return "UTC"
        if hours <= 14:
            candidate = f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
            if candidate in zones.values():
                return candidate
    found = _cities().get(value.lower().replace("_", " "))
    if found and len(found) == 1:
        return found[0]
    raise DomainError("error.unknown_timezone", value=value[:64])


#: Zones offered as buttons in /settings (others are typed: /settings timezone Area/City).
COMMON_ZONES: tuple[str, ...] = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Europe/Moscow",
    "Asia/Yekaterinburg",
    "Asia/Novosibirsk",
    "Asia/Vladivostok",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)
