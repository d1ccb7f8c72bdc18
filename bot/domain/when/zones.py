"""Zone abbreviations and offsets written after a time: "9h UTC", "at 8 am CET", "20:00 GMT+3".

An abbreviation that names several zones ("IST": India, Israel or Ireland) is resolved by the
group's own zone when that zone uses it (a group in Asia/Kolkata means India); otherwise it is
not guessed: :func:`resolve` says which zones it could be, and the caller asks the resident.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

#: Abbreviations that name one zone (IANA, so summer time is followed).
_ONE: Final[dict[str, str]] = {
    "utc": "UTC", "gmt": "UTC", "z": "UTC", "zulu": "UTC",
    "cet": "Europe/Berlin", "cest": "Europe/Berlin", "eet": "Europe/Athens",
    "eest": "Europe/Athens", "wet": "Europe/Lisbon", "west": "Europe/Lisbon",
    "msk": "Europe/Moscow", "мск": "Europe/Moscow",
    "est": "America/New_York", "edt": "America/New_York", "et": "America/New_York",
    "pdt": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "cdt": "America/Chicago", "ct": "America/Chicago",
    "mst": "America/Denver", "mdt": "America/Denver", "mt": "America/Denver",
    "akst": "America/Anchorage", "hst": "Pacific/Honolulu",
    "jst": "Asia/Tokyo", "kst": "Asia/Seoul", "hkt": "Asia/Hong_Kong", "sgt": "Asia/Singapore",
    "aest": "Australia/Sydney", "aedt": "Australia/Sydney", "acst": "Australia/Adelaide",
    "awst": "Australia/Perth", "nzst": "Pacific/Auckland", "nzdt": "Pacific/Auckland",
    "pkt": "Asia/Karachi", "wib": "Asia/Jakarta", "ict": "Asia/Bangkok",
    "北京时间": "Asia/Shanghai", "香港时间": "Asia/Hong_Kong", "台北时间": "Asia/Taipei",
    "东京时间": "Asia/Tokyo", "莫斯科时间": "Europe/Moscow", "по москве": "Europe/Moscow",
    "по мск": "Europe/Moscow", "по московскому времени": "Europe/Moscow",
    "по киеву": "Europe/Kyiv", "по минску": "Europe/Minsk",
}  # fmt: skip
#: Abbreviations that name several zones: each reading, by the zones that use it.
AMBIGUOUS: Final[dict[str, tuple[str, ...]]] = {
    "ist": ("Asia/Kolkata", "Asia/Jerusalem", "Europe/Dublin"),
    "cst": ("America/Chicago", "Asia/Shanghai", "America/Havana"),
    "bst": ("Europe/London", "Asia/Dhaka"),
    "ast": ("America/Halifax", "Asia/Riyadh"),
    "pst": ("America/Los_Angeles", "Asia/Manila"),
    "amt": ("America/Manaus", "Asia/Yerevan"),
    "gst": ("Asia/Dubai", "Atlantic/South_Georgia"),
    "sst": ("Pacific/Pago_Pago", "Asia/Singapore"),
}
#: The zones (beyond those above) a group may be in that also use an ambiguous abbreviation.
_ALSO: Final[dict[str, tuple[str, ...]]] = {
    "ist": ("Asia/Calcutta", "Asia/Kathmandu", "Asia/Tel_Aviv", "Israel", "Eire"),
    "cst": ("Asia/Hong_Kong", "Asia/Taipei", "Asia/Macau", "America/Mexico_City",
            "America/Winnipeg", "America/Regina", "America/Guatemala"),
    "bst": ("Europe/Belfast", "Europe/Jersey", "Europe/Guernsey", "Europe/Isle_of_Man"),
}  # fmt: skip

#: Where a group's region settles an abbreviation: a group in America/... writing "PST" means
#: Pacific time, one in Asia/... writing "CST" means China. IST is not settled by region (a
#: group in Berlin writing IST may mean India or Ireland): only by the group's own zone.
_REGIONS: Final[dict[str, dict[str, str]]] = {
    "pst": {"America/": "America/Los_Angeles", "Asia/": "Asia/Manila"},
    "cst": {"America/": "America/Chicago", "Asia/": "Asia/Shanghai"},
    "ast": {"America/": "America/Halifax", "Asia/": "Asia/Riyadh"},
    "bst": {"Europe/": "Europe/London", "Asia/": "Asia/Dhaka"},
    "gst": {"Asia/": "Asia/Dubai"},
}

_NAMES: Final = sorted(map(re.escape, [*_ONE, *AMBIGUOUS]), key=len, reverse=True)
#: A zone: an offset or a name; Latin and Cyrillic names end at a word end, Chinese ones anywhere.
PATTERN: Final = (
    r"(?:(?P<off>(?:utc|gmt|uct)\s*(?P<sign>[+-])\s*(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?)"
    r"|(?P<abbr>" + "|".join(_NAMES) + r"))(?:(?<=[\u4e00-\u9fff])|(?![0-9a-zа-я]))"
)


def _uses(zone: str, abbreviation: str) -> bool:
    """Whether ``zone`` calls itself ``abbreviation`` in winter or summer (e.g. IST)."""
    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError):
        return False
    for month in (1, 7):
        name = datetime(2026, month, 15, 12, tzinfo=tz).tzname() or ""
        if name.lower() == abbreviation:
            return True
    return False


def resolve(found: re.Match[str], group_zone: str) -> tzinfo | tuple[str, ...]:
    """The zone a match of :data:`PATTERN` names, or the readings it could have."""
    if found.group("off"):
        hours, minutes = int(found.group("oh")), int(found.group("om") or 0)
        if hours > 14 or minutes > 59:
            return ()
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if found.group("sign") == "-" else delta)
    abbr = re.sub(r"\s+", " ", found.group("abbr"))
    if abbr in _ONE:
        return ZoneInfo(_ONE[abbr])
    readings = AMBIGUOUS[abbr]
    if group_zone in readings or group_zone in _ALSO.get(abbr, ()) or _uses(group_zone, abbr):
        return ZoneInfo(group_zone)
    for region, zone in _REGIONS.get(abbr, {}).items():
        if group_zone.startswith(region):
            return ZoneInfo(zone)
    return readings
