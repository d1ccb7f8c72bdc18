"""A chat's settings: language, time zone, who may create polls and events, unit approval, the
default rule of formal decisions, when event reminders go out, how long listings stay up and
how long finished things are kept."""

from __future__ import annotations

import enum
import json
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any, Final

from bot.domain.decisions import parse_rule
from bot.domain.errors import DomainError
from bot.domain.languages import SUPPORTED, Keywords, WordSet, fold_hant, parse_language
from bot.domain.proposals import (
    DEFAULT_EXPIRY_DAYS,
    DEFAULT_THRESHOLD,
    parse_expiry_days,
    parse_threshold,
    threshold_or_default,
)
from bot.domain.timezones import is_valid_timezone, parse_timezone

#: Bounds of the numeric settings.
MAX_LISTING_DAYS: Final[int] = 365
#: Retention of finished things (closed polls, past events, returned loans...), in days.
MIN_RETENTION_DAYS: Final[int] = 30
MAX_RETENTION_DAYS: Final[int] = 3650
DEFAULT_RETENTION_DAYS: Final[int] = 365
MAX_EVENT_REMINDERS: Final[int] = 3
MAX_REMINDER_MINUTES: Final[int] = 14 * 24 * 60
#: Emergency roll-call: minutes until households not heard from are reminded (and bounds).
DEFAULT_ROLLCALL_MINUTES: Final[int] = 20
MIN_ROLLCALL_MINUTES: Final[int] = 5
MAX_ROLLCALL_MINUTES: Final[int] = 24 * 60
#: Repair reports: days until one not acknowledged / not fixed is overdue (and the bounds).
DEFAULT_REPORT_ACK_DAYS: Final[int] = 2
DEFAULT_REPORT_FIX_DAYS: Final[int] = 14
MAX_REPORT_DAYS: Final[int] = 90


class Who(enum.Enum):
    EVERYONE = "everyone"
    ORGANIZERS = "organizers"
    LEADS = "leads"


_WHO_WORDS: Final[dict[str, Who]] = Keywords(
    {
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
        "организатор": Who.ORGANIZERS,
        "leads": Who.LEADS,
        "lead": Who.LEADS,
        "admins": Who.LEADS,
        "管理员": Who.LEADS,
        "负责人": Who.LEADS,
        "руководители": Who.LEADS,
        "админы": Who.LEADS,
        "администраторы": Who.LEADS,
        "администратор": Who.LEADS,
    }
)


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
    #: the rule /decide uses when none is given (bot.domain.decisions.Rule.text)
    decision_rule: str = "majority"
    #: minutes before an event that its attendees are reminded, largest first
    event_reminders: tuple[int, ...] = (1440, 60)
    #: days a shared item or request stays listed before its owner is asked to renew it
    listing_days: int = 30
    #: days finished things are kept before the daily retention purge deletes them
    retention_days: int = DEFAULT_RETENTION_DAYS
    #: minutes after a roll-call opens that households not heard from are reminded
    rollcall_minutes: int = DEFAULT_ROLLCALL_MINUTES
    #: supports (a share of the registered households, or a number) that put a proposal on
    #: the agenda, and the days it collects them before it expires
    proposal_support: str = DEFAULT_THRESHOLD
    proposal_days: int = DEFAULT_EXPIRY_DAYS
    #: repair reports: overdue when not acknowledged / not fixed within these many days
    report_ack_days: int = DEFAULT_REPORT_ACK_DAYS
    report_fix_days: int = DEFAULT_REPORT_FIX_DAYS
    #: forum topics (message_thread_id) that announcements and the digest go to (None: where
    #: an announcement was written; the digest in General)
    announcements_topic: int | None = None
    digest_topic: int | None = None

    def __post_init__(self) -> None:
        if self.language not in SUPPORTED:
            raise ValueError(f"unsupported language {self.language!r}")
        if not is_valid_timezone(self.timezone):
            raise ValueError(f"unknown time zone {self.timezone!r}")
        if not 1 <= self.listing_days <= MAX_LISTING_DAYS:
            raise ValueError(f"bad listing_days {self.listing_days!r}")
        if not MIN_RETENTION_DAYS <= self.retention_days <= MAX_RETENTION_DAYS:
            raise ValueError(f"bad retention_days {self.retention_days!r}")
        if len(self.event_reminders) > MAX_EVENT_REMINDERS or any(
            not 1 <= m <= MAX_REMINDER_MINUTES for m in self.event_reminders
        ):
            raise ValueError(f"bad event_reminders {self.event_reminders!r}")
        if not MIN_ROLLCALL_MINUTES <= self.rollcall_minutes <= MAX_ROLLCALL_MINUTES:
            raise ValueError(f"bad rollcall_minutes {self.rollcall_minutes!r}")
        for days in (self.report_ack_days, self.report_fix_days):
            if not 1 <= days <= MAX_REPORT_DAYS:
                raise ValueError(f"bad report days {days!r}")

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
                "decision_rule": self.decision_rule,
                "event_reminders": list(self.event_reminders),
                "listing_days": self.listing_days,
                "retention_days": self.retention_days,
                "rollcall_minutes": self.rollcall_minutes,
                "proposal_support": self.proposal_support,
                "proposal_days": self.proposal_days,
                "report_ack_days": self.report_ack_days,
                "report_fix_days": self.report_fix_days,
                "announcements_topic": self.announcements_topic,
                "digest_topic": self.digest_topic,
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
            decision_rule=_str_or_none(data.get("decision_rule")) or base.decision_rule,
            event_reminders=_minutes_or(data.get("event_reminders"), base.event_reminders),
            listing_days=_days_or(data.get("listing_days"), base.listing_days),
            retention_days=_retention_or(data.get("retention_days"), base.retention_days),
            rollcall_minutes=_rollcall_minutes_or(
                data.get("rollcall_minutes"), base.rollcall_minutes
            ),
            proposal_support=threshold_or_default(_str_or_none(data.get("proposal_support"))).text,
            proposal_days=_proposal_days_or(data.get("proposal_days"), base.proposal_days),
            report_ack_days=_report_days_or(data.get("report_ack_days"), base.report_ack_days),
            report_fix_days=_report_days_or(data.get("report_fix_days"), base.report_fix_days),
            announcements_topic=_topic_or_none(data.get("announcements_topic")),
            digest_topic=_topic_or_none(data.get("digest_topic")),
        )


def _topic_or_none(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 1:
        return value
    return None


def _report_days_or(value: object, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_REPORT_DAYS:
        return value
    return default


def _proposal_days_or(value: object, default: int) -> int:
    try:
        return parse_expiry_days(str(value)) if isinstance(value, int) else default
    except DomainError:
        return default


def _minutes_or(value: object, default: tuple[int, ...]) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) > MAX_EVENT_REMINDERS:
        return default
    if not all(isinstance(m, int) and 1 <= m <= MAX_REMINDER_MINUTES for m in value):
        return default
    return tuple(sorted(set(value), reverse=True))


def _days_or(value: object, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_LISTING_DAYS:
        return value
    return default


def _retention_or(value: object, default: int) -> int:
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and MIN_RETENTION_DAYS <= value <= MAX_RETENTION_DAYS
    ):
        return value
    return default


def _rollcall_minutes_or(value: object, default: int) -> int:
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and MIN_ROLLCALL_MINUTES <= value <= MAX_ROLLCALL_MINUTES
    ):
        return value
    return default


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
    DECISION_RULE = "decision_rule"
    EVENT_REMINDERS = "event_reminders"
    LISTING_DAYS = "listing_days"
    RETENTION_DAYS = "retention_days"
    ROLLCALL_MINUTES = "rollcall_minutes"
    PROPOSAL_SUPPORT = "proposal_support"
    PROPOSAL_DAYS = "proposal_days"
    REPORT_ACK_DAYS = "report_ack_days"
    REPORT_FIX_DAYS = "report_fix_days"
    TOPIC = "topic"


_KEY_WORDS: Final[dict[str, SettingKey]] = Keywords(
    {
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
        "мероприятия": SettingKey.EVENTS,
        "reminders": SettingKey.REMINDERS,
        "reminder": SettingKey.REMINDERS,
        "提醒": SettingKey.REMINDERS,
        "напоминания": SettingKey.REMINDERS,
        "topic": SettingKey.TOPIC,
        "topics": SettingKey.TOPIC,
        "话题": SettingKey.TOPIC,
        "話題": SettingKey.TOPIC,
        "тема": SettingKey.TOPIC,
        "темы": SettingKey.TOPIC,
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
        "decision_rule": SettingKey.DECISION_RULE,
        "rule": SettingKey.DECISION_RULE,
        "decisions": SettingKey.DECISION_RULE,
        "表决规则": SettingKey.DECISION_RULE,
        "规则": SettingKey.DECISION_RULE,
        "правило": SettingKey.DECISION_RULE,
        "правило_решений": SettingKey.DECISION_RULE,
        "event_reminders": SettingKey.EVENT_REMINDERS,
        "活动提醒": SettingKey.EVENT_REMINDERS,
        "напоминания_о_событиях": SettingKey.EVENT_REMINDERS,
        "напоминания_о_мероприятиях": SettingKey.EVENT_REMINDERS,
        "listing_days": SettingKey.LISTING_DAYS,
        "listings": SettingKey.LISTING_DAYS,
        "物品天数": SettingKey.LISTING_DAYS,
        "срок_объявлений": SettingKey.LISTING_DAYS,
        "retention_days": SettingKey.RETENTION_DAYS,
        "retention": SettingKey.RETENTION_DAYS,
        "保留天数": SettingKey.RETENTION_DAYS,
        "数据保留": SettingKey.RETENTION_DAYS,
        "срок_хранения": SettingKey.RETENTION_DAYS,
        "хранение": SettingKey.RETENTION_DAYS,
        "rollcall_minutes": SettingKey.ROLLCALL_MINUTES,
        "rollcall": SettingKey.ROLLCALL_MINUTES,
        "点名提醒": SettingKey.ROLLCALL_MINUTES,
        "点名": SettingKey.ROLLCALL_MINUTES,
        "перекличка": SettingKey.ROLLCALL_MINUTES,
        "proposal_support": SettingKey.PROPOSAL_SUPPORT,
        "议题门槛": SettingKey.PROPOSAL_SUPPORT,
        "порог_предложений": SettingKey.PROPOSAL_SUPPORT,
        "proposal_days": SettingKey.PROPOSAL_DAYS,
        "议题期限": SettingKey.PROPOSAL_DAYS,
        "срок_предложений": SettingKey.PROPOSAL_DAYS,
        "report_ack_days": SettingKey.REPORT_ACK_DAYS,
        "报修受理天数": SettingKey.REPORT_ACK_DAYS,
        "срок_принятия_заявок": SettingKey.REPORT_ACK_DAYS,
        "report_fix_days": SettingKey.REPORT_FIX_DAYS,
        "报修完成天数": SettingKey.REPORT_FIX_DAYS,
        "срок_ремонта": SettingKey.REPORT_FIX_DAYS,
    }
)

_ON_OFF_WORDS: Final[dict[str, bool]] = Keywords(
    {
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
)


def parse_on_off(text: str) -> bool:
    value = _ON_OFF_WORDS.get(text.strip().lower())
    if value is None:
        raise DomainError("error.unknown_on_off", value=text.strip()[:64], choices="on, off")
    return value


#: Words that turn the digest off.
DIGEST_OFF: Final[frozenset[str]] = WordSet(
    {"off", "none", "no", "关", "关闭", "不要", "выкл", "нет", "отключить"}
)

#: What ``/settings topic <what> here`` chooses a topic for.
_TOPIC_TARGETS: Final[dict[str, str]] = Keywords(
    {
        **dict.fromkeys(
            ("announcements", "announcement", "announce", "公告", "通告", "объявления"),
            "announcements",
        ),
        **dict.fromkeys(
            ("digest", "summary", "周报", "週報", "摘要", "сводка", "дайджест"), "digest"
        ),
    }
)
#: "here": the topic the command is typed in; "general": back to General (or off).
_TOPIC_HERE: Final[frozenset[str]] = WordSet(
    {"here", "这里", "這裡", "這裏", "此处", "здесь", "сюда", "тут"}
)
_TOPIC_GENERAL: Final[frozenset[str]] = WordSet(
    {
        "general",
        "off",
        "none",
        "综合",
        "綜合",
        "关闭",
        "關閉",
        "关",
        "общая",
        "общий",
        "выкл",
        "нет",
    }
)


def set_topic(settings: ChatSettings, value: str, thread_id: int | None) -> ChatSettings:
    """``/settings topic announcements here`` (or ``digest``; ``general``/``off`` instead of
    ``here``): the topic ``thread_id`` the command was typed in (None: General) becomes where
    announcements or the digest go. "here" typed in General means General."""
    words = [w.strip(".,;:!?。，；：！？") for w in value.lower().split()]
    words = [w for w in words if w]
    if len(words) != 2:
        raise DomainError("topic.usage")
    if words[1] in _TOPIC_TARGETS:  # "here announcements": the order people say it in
        words.reverse()
    target = _TOPIC_TARGETS.get(words[0])
    where = words[1]
    if target is None or (where not in _TOPIC_HERE and where not in _TOPIC_GENERAL):
        raise DomainError("topic.usage")
    chosen = thread_id if where in _TOPIC_HERE else None
    if target == "announcements":
        return replace(settings, announcements_topic=chosen)
    return replace(settings, digest_topic=chosen)


def topic_target(value: str) -> str | None:
    """``announcements`` or ``digest`` for the first word of a topic setting, else None."""
    words = [w.strip(".,;:!?。，；：！？") for w in value.lower().split()]
    return next((_TOPIC_TARGETS[w] for w in words if w in _TOPIC_TARGETS), None)


#: Keys that make sense in a private chat (a person's own language and zone).
PRIVATE_KEYS: Final[frozenset[SettingKey]] = frozenset({SettingKey.LANGUAGE, SettingKey.TIMEZONE})


def parse_setting_key(text: str) -> SettingKey:
    key = _KEY_WORDS.get(text.strip().lower())
    if key is None:
        raise DomainError(
            "error.unknown_setting",
            value=text.strip()[:64],
            choices=(
                "language, timezone, polls, events, reminders, digest, topic, unit_approval,"
                " decision_rule, event_reminders, listing_days, retention_days, report_ack_days,"
                " report_fix_days, rollcall_minutes"
            ),
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
    if key is SettingKey.DECISION_RULE:
        return replace(settings, decision_rule=parse_rule(value).text)
    if key is SettingKey.EVENT_REMINDERS:
        return replace(settings, event_reminders=parse_reminder_offsets(value))
    if key is SettingKey.LISTING_DAYS:
        return replace(settings, listing_days=parse_days(value))
    if key is SettingKey.RETENTION_DAYS:
        return replace(settings, retention_days=parse_retention_days(value))
    if key is SettingKey.ROLLCALL_MINUTES:
        return replace(settings, rollcall_minutes=parse_rollcall_minutes(value))
    if key is SettingKey.PROPOSAL_SUPPORT:
        return replace(settings, proposal_support=parse_threshold(value).text)
    if key is SettingKey.PROPOSAL_DAYS:
        return replace(settings, proposal_days=parse_expiry_days(value))
    if key is SettingKey.REPORT_ACK_DAYS:
        return _report_days(settings, value, ack=True)
    if key is SettingKey.REPORT_FIX_DAYS:
        return _report_days(settings, value, ack=False)
    raise DomainError("error.setting_needs_value", key=key.value)  # digest: see set_digest


def set_digest(settings: ChatSettings, rrule: str | None, local_time: str | None) -> ChatSettings:
    """Turn the weekly digest on (a weekly rule with exactly one weekday) or off."""
    if rrule is None:
        return replace(settings, digest_rrule=None, digest_time=None)
    parts = dict(p.split("=", 1) for p in rrule.split(";") if "=" in p)
    if parts.get("FREQ") != "WEEKLY" or len(parts.get("BYDAY", "").split(",")) != 1:
        raise DomainError("error.digest_weekly")
    return replace(settings, digest_rrule=rrule, digest_time=local_time)


_OFFSET_RE: Final[re.Pattern[str]] = re.compile(
    r"(\d{1,5})\s*(минут[аы]?|мин|minutes?|mins?|m|分钟|分"
    r"|hours?|hrs?|h|个小时|小时|часов|часа|час|ч"
    r"|days?|d|天|дней|дня|день|дн|д)?(?![a-zа-яё])"
)
_OFFSET_UNITS: Final[dict[str, int]] = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes", "分钟", "分", "мин"), 1),
    **dict.fromkeys(("минут", "минута", "минуты"), 1),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "小时", "个小时", "ч", "час"), 60),
    **dict.fromkeys(("часа", "часов"), 60),
    **dict.fromkeys(("d", "day", "days", "天", "д", "дн", "день", "дня", "дней"), 1440),
}
#: Words that turn event reminders off.
REMINDERS_OFF: Final[frozenset[str]] = WordSet(
    {"off", "none", "no", "关", "关闭", "不要", "выкл", "нет", "отключить"}
)


def parse_reminder_offsets(text: str) -> tuple[int, ...]:
    """``"24h, 1h"`` / ``"1d 30m"`` / ``"1天 2小时"`` / ``"off"`` -> minutes, largest first.

    A bare number is hours. At most :data:`MAX_EVENT_REMINDERS`, each up to 14 days.
    Refusal: ``error.bad_reminder_offsets`` (value).
    """
    raw = fold_hant(unicodedata.normalize("NFKC", text).strip().casefold())  # 小時, 分鐘
    if raw in REMINDERS_OFF:
        return ()
    minutes: set[int] = set()
    position = 0
    while position < len(raw):
        gap = re.match(r"(?:[\s,;，、]|和|and\b|и\b)*", raw[position:])
        position += gap.end() if gap else 0
        if position >= len(raw):
            break
        match = _OFFSET_RE.match(raw, position)
        if match is None:
            raise DomainError("error.bad_reminder_offsets", value=text.strip()[:64])
        position = match.end()
        unit = _OFFSET_UNITS[match.group(2)] if match.group(2) else 60
        value = int(match.group(1)) * unit
        if not 1 <= value <= MAX_REMINDER_MINUTES:
            raise DomainError("error.bad_reminder_offsets", value=text.strip()[:64])
        minutes.add(value)
    if not minutes or len(minutes) > MAX_EVENT_REMINDERS:
        raise DomainError("error.bad_reminder_offsets", value=text.strip()[:64])
    return tuple(sorted(minutes, reverse=True))


def parse_days(text: str) -> int:
    """A whole number of days, 1 to :data:`MAX_LISTING_DAYS` ("30", "30d", "30天", "30 дней")."""
    match = re.fullmatch(r"(\d{1,4})\s*(d|days?|天|д|дн|дней|дня|день)?", text.strip().casefold())
    value = int(match.group(1)) if match else 0
    if not 1 <= value <= MAX_LISTING_DAYS:
        raise DomainError("error.bad_days", value=text.strip()[:64], limit=MAX_LISTING_DAYS)
    return value


def parse_retention_days(text: str) -> int:
    """Days finished things are kept: :data:`MIN_RETENTION_DAYS` to :data:`MAX_RETENTION_DAYS`
    ("365", "365d", "365天", "365 дней"). Refusal: ``error.bad_retention`` (value, min, max)."""
    match = re.fullmatch(r"(\d{1,5})\s*(d|days?|天|д|дн|дней|дня|день)?", text.strip().casefold())
    value = int(match.group(1)) if match else 0
    if not MIN_RETENTION_DAYS <= value <= MAX_RETENTION_DAYS:
        raise DomainError(
            "error.bad_retention",
            value=text.strip()[:64],
            min=MIN_RETENTION_DAYS,
            max=MAX_RETENTION_DAYS,
        )
    return value


def _report_days(settings: ChatSettings, value: str, *, ack: bool) -> ChatSettings:
    """Days until a repair report is overdue: 1 to :data:`MAX_REPORT_DAYS`; the fix deadline
    may not come before the acknowledgement one. Refusals: ``error.bad_report_days`` (value,
    max), ``error.report_days_order`` (ack, fix)."""
    match = re.fullmatch(r"(\d{1,3})\s*(d|days?|天|д|дн|дней|дня|день)?", value.strip().casefold())
    days = int(match.group(1)) if match else 0
    if not 1 <= days <= MAX_REPORT_DAYS:
        raise DomainError("error.bad_report_days", value=value.strip()[:64], max=MAX_REPORT_DAYS)
    if ack:
        ack_days, fix_days = days, settings.report_fix_days
    else:
        ack_days, fix_days = settings.report_ack_days, days
    if fix_days < ack_days:
        raise DomainError("error.report_days_order", ack=ack_days, fix=fix_days)
    return replace(settings, report_ack_days=ack_days, report_fix_days=fix_days)


def parse_rollcall_minutes(text: str) -> int:
    """Minutes until a roll-call reminds households not heard from: "20", "20m", "1h",
    "20分钟", "20 минут"; :data:`MIN_ROLLCALL_MINUTES` to :data:`MAX_ROLLCALL_MINUTES`.
    Refusal: ``error.bad_rollcall_minutes`` (value, min, max)."""
    try:
        offsets = parse_reminder_offsets(text if re.search(r"\D", text.strip()) else text + "m")
    except DomainError:
        offsets = ()
    value = offsets[0] if len(offsets) == 1 else 0
    if not MIN_ROLLCALL_MINUTES <= value <= MAX_ROLLCALL_MINUTES:
        raise DomainError(
            "error.bad_rollcall_minutes",
            value=text.strip()[:64],
            min=MIN_ROLLCALL_MINUTES,
            max=MAX_ROLLCALL_MINUTES,
        )
    return value


def describe_offsets(minutes: int) -> tuple[str, int]:
    """How an offset reads, for translation: ("d", 1) for 1440, ("h", 2) for 120, ("m", 45)."""
    if minutes % 1440 == 0:
        return "d", minutes // 1440
    if minutes % 60 == 0:
        return "h", minutes // 60
    return "m", minutes


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
