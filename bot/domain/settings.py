"""A chat's settings: language, time zone, who may create polls and events, unit approval."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, replace
from typing import Any, Final

from bot.domain.errors import DomainError
from bot.domain.languages import SUPPORTED, parse_language
from bot.domain.timezones import is_valid_timezone, parse_timezone


class Who(enum.Enum):
    EVERYONE = "everyone"
    ORGANIZERS = "organizers"
    LEADS = "leads"


_WHO_WORDS: Final[dict[str, Who]] = {
    "everyone": Who.EVERYONE,
    "all": Who.EVERYONE,
    "residents": Who.EVERYONE,
    "所有人": Who.EVERYONE,
    "大家": Who.EVERYONE,
    "все": Who.EVERYONE,
    "всем": Who.EVERYONE,
    "organizers": Who.ORGANIZERS,
    "organisers": Who.ORGANIZERS,
    "organizer": Who.ORGANIZERS,
    "组织者": Who.ORGANIZERS,
    "организаторы": Who.ORGANIZERS,
    "leads": Who.LEADS,
    "lead": Who.LEADS,
    "admins": Who.LEADS,
    "管理员": Who.LEADS,
    "负责人": Who.LEADS,
    "руководители": Who.LEADS,
    "админы": Who.LEADS,
}


def parse_who(text: str) -> Who:
    who = _WHO_WORDS.get(text.strip().lower())
    if who is None:
        raise DomainError(
            "error.unknown_who", value=text.strip()[:64], choices="everyone, organizers, leads"
        )
    return who


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """Everything a lead can set for a chat. ``language`` is one of ``SUPPORTED``."""

    language: str = "en"
    timezone: str = "UTC"
    poll_creators: Who = Who.EVERYONE
    event_creators: Who = Who.EVERYONE
    reminder_creators: Who = Who.ORGANIZERS
    #: weekly digest: RRULE (one weekday) and the local wall time "HH:MM", or None when off
    digest_rrule: str | None = None
    digest_time: str | None = None
    #: a resident's /unit claim waits for a lead's approval (off: approved at once)
    unit_approval: bool = True

    def __post_init__(self) -> None:
        if self.language not in SUPPORTED:
            raise ValueError(f"unsupported language {self.language!r}")
        if not is_valid_timezone(self.timezone):
            raise ValueError(f"unknown time zone {self.timezone!r}")

    def extra_json(self) -> str:
        """The settings stored in the chat row's JSON column (language and zone have columns)."""
        return json.dumps(
            {
                "poll_creators": self.poll_creators.value,
                "event_creators": self.event_creators.value,
                "reminder_creators": self.reminder_creators.value,
                "digest_rrule": self.digest_rrule,
                "digest_time": self.digest_time,
                "unit_approval": self.unit_approval,
            },
            sort_keys=True,
        )

    @classmethod
    def from_row(cls, language: str, timezone: str, extra: str | None) -> ChatSettings:
        """Rebuild from stored columns; unknown or broken JSON keys fall back to defaults."""
        data: dict[str, Any] = {}
        if extra:
            try:
                loaded = json.loads(extra)
            except ValueError:
                loaded = {}
            if isinstance(loaded, dict):
                data = loaded
        base = cls()
        return cls(
            language=language if language in SUPPORTED else base.language,
            timezone=timezone if is_valid_timezone(timezone) else base.timezone,
            poll_creators=_who_or(data.get("poll_creators"), base.poll_creators),
            event_creators=_who_or(data.get("event_creators"), base.event_creators),
            reminder_creators=_who_or(data.get("reminder_creators"), base.reminder_creators),
            digest_rrule=_str_or_none(data.get("digest_rrule")),
            digest_time=_str_or_none(data.get("digest_time")),
            unit_approval=_bool_or(data.get("unit_approval"), base.unit_approval),
        )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _bool_or(value: object, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def _who_or(value: object, default: Who) -> Who:
    try:
        return Who(value)
    except ValueError:
        return default


class SettingKey(enum.Enum):
    LANGUAGE = "language"
    TIMEZONE = "timezone"
    POLLS = "polls"
    EVENTS = "events"
    REMINDERS = "reminders"
    DIGEST = "digest"
    UNIT_APPROVAL = "unit_approval"


_KEY_WORDS: Final[dict[str, SettingKey]] = {
    "language": SettingKey.LANGUAGE,
    "lang": SettingKey.LANGUAGE,
    "语言": SettingKey.LANGUAGE,
    "язык": SettingKey.LANGUAGE,
    "timezone": SettingKey.TIMEZONE,
    "tz": SettingKey.TIMEZONE,
    "zone": SettingKey.TIMEZONE,
    "时区": SettingKey.TIMEZONE,
    "часовой_пояс": SettingKey.TIMEZONE,
    "пояс": SettingKey.TIMEZONE,
    "polls": SettingKey.POLLS,
    "poll": SettingKey.POLLS,
    "投票": SettingKey.POLLS,
    "опросы": SettingKey.POLLS,
    "events": SettingKey.EVENTS,
    "event": SettingKey.EVENTS,
    "活动": SettingKey.EVENTS,
    "события": SettingKey.EVENTS,
    "reminders": SettingKey.REMINDERS,
    "reminder": SettingKey.REMINDERS,
    "提醒": SettingKey.REMINDERS,
    "напоминания": SettingKey.REMINDERS,
    "digest": SettingKey.DIGEST,
    "summary": SettingKey.DIGEST,
    "周报": SettingKey.DIGEST,
    "摘要": SettingKey.DIGEST,
    "сводка": SettingKey.DIGEST,
    "дайджест": SettingKey.DIGEST,
    "unit_approval": SettingKey.UNIT_APPROVAL,
    "units": SettingKey.UNIT_APPROVAL,
    "approval": SettingKey.UNIT_APPROVAL,
    "房号审核": SettingKey.UNIT_APPROVAL,
    "审核": SettingKey.UNIT_APPROVAL,
    "подтверждение": SettingKey.UNIT_APPROVAL,
    "подтверждение_квартир": SettingKey.UNIT_APPROVAL,
}

_ON_OFF_WORDS: Final[dict[str, bool]] = {
    "on": True,
    "yes": True,
    "true": True,
    "开": True,
    "开启": True,
    "打开": True,
    "是": True,
    "вкл": True,
    "включить": True,
    "да": True,
    "off": False,
    "no": False,
    "false": False,
    "关": False,
    "关闭": False,
    "否": False,
    "выкл": False,
    "выключить": False,
    "нет": False,
}


def parse_on_off(text: str) -> bool:
    value = _ON_OFF_WORDS.get(text.strip().lower())
    if value is None:
        raise DomainError("error.unknown_on_off", value=text.strip()[:64], choices="on, off")
    return value


#: Words that turn the digest off.
DIGEST_OFF: Final[frozenset[str]] = frozenset(
    {"off", "none", "no", "关", "关闭", "不要", "выкл", "нет", "отключить"}
)

#: Keys that make sense in a private chat (a person's own language and zone).
PRIVATE_KEYS: Final[frozenset[SettingKey]] = frozenset({SettingKey.LANGUAGE, SettingKey.TIMEZONE})


def parse_setting_key(text: str) -> SettingKey:
    key = _KEY_WORDS.get(text.strip().lower())
    if key is None:
        raise DomainError(
            "error.unknown_setting",
            value=text.strip()[:64],
            choices="language, timezone, polls, events, reminders, digest, unit_approval",
        )
    return key


def apply_setting(
    settings: ChatSettings, key: SettingKey, value: str, *, private: bool = False
) -> ChatSettings:
    """Return ``settings`` changed by ``/settings <key> <value>``, or raise a DomainError."""
    if private and key not in PRIVATE_KEYS:
        raise DomainError("error.setting_group_only", key=key.value)
    if not value.strip():
        raise DomainError("error.setting_needs_value", key=key.value)
    if key is SettingKey.LANGUAGE:
        return replace(settings, language=parse_language(value))
    if key is SettingKey.TIMEZONE:
        return replace(settings, timezone=parse_timezone(value))
    if key is SettingKey.POLLS:
        return replace(settings, poll_creators=parse_who(value))
    if key is SettingKey.EVENTS:
        return replace(settings, event_creators=parse_who(value))
    if key is SettingKey.REMINDERS:
        return replace(settings, reminder_creators=parse_who(value))
    if key is SettingKey.UNIT_APPROVAL:
        return replace(settings, unit_approval=parse_on_off(value))
    raise DomainError("error.setting_needs_value", key=key.value)  # digest: see set_digest


def set_digest(settings: ChatSettings, rrule: str | None, local_time: str | None) -> ChatSettings:
    """Turn the weekly digest on (a weekly rule with exactly one weekday) or off."""
    if rrule is None:
        return replace(settings, digest_rrule=None, digest_time=None)
    parts = dict(p.split("=", 1) for p in rrule.split(";") if "=" in p)
    if parts.get("FREQ") != "WEEKLY" or len(parts.get("BYDAY", "").split(",")) != 1:
        raise DomainError("error.digest_weekly")
    return replace(settings, digest_rrule=rrule, digest_time=local_time)


def split_setting_args(args: list[str]) -> tuple[SettingKey, str]:
    """``["timezone", "America/New_York"]`` -> key and value; multi-word keys are joined."""
    if not args:
        raise DomainError("error.setting_needs_value", key="")
    # "часовой пояс Europe/Moscow": try a two-word key first.
    if len(args) >= 2:
        two = f"{args[0]}_{args[1]}".lower()
        if two in _KEY_WORDS:
            return _KEY_WORDS[two], " ".join(args[2:])
    return parse_setting_key(args[0]), " ".join(args[1:])
