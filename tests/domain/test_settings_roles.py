"""Table tests: settings changes and the permission rule."""

import pytest

from bot.domain.commands import COMMANDS, Where, visible_commands
from bot.domain.errors import DomainError
from bot.domain.roles import Action, Role, may, parse_grantable_role, required_role
from bot.domain.settings import (
    DEFAULT_RETENTION_DAYS,
    MAX_LISTING_DAYS,
    MAX_RETENTION_DAYS,
    MIN_RETENTION_DAYS,
    ChatSettings,
    SettingKey,
    Who,
    apply_setting,
    describe_offsets,
    parse_days,
    parse_reminder_offsets,
    parse_retention_days,
    split_setting_args,
)

DEFAULT = ChatSettings()


@pytest.mark.parametrize(
    ("args", "field", "value"),
    [
        (["language", "zh"], "language", "zh_Hans"),
        (["lang", "RU"], "language", "ru"),
        (["语言", "中文"], "language", "zh_Hans"),
        (["язык", "английский"], "language", "en"),
        (["timezone", "Asia/Shanghai"], "timezone", "Asia/Shanghai"),
        (["tz", "new", "york"], "timezone", "America/New_York"),
        (["часовой", "пояс", "Europe/Moscow"], "timezone", "Europe/Moscow"),
        (["时区", "Asia/Shanghai"], "timezone", "Asia/Shanghai"),
        (["polls", "organizers"], "poll_creators", Who.ORGANIZERS),
        (["events", "leads"], "event_creators", Who.LEADS),
        (["投票", "所有人"], "poll_creators", Who.EVERYONE),
        (["события", "руководители"], "event_creators", Who.LEADS),
    ],
)
def test_apply_setting(args: list[str], field: str, value: object) -> None:
    key, raw = split_setting_args(args)
    changed = apply_setting(DEFAULT, key, raw)
    assert getattr(changed, field) == value
    # nothing else moved
    others = {f for f in ("language", "timezone", "poll_creators", "event_creators") if f != field}
    assert all(getattr(changed, f) == getattr(DEFAULT, f) for f in others)


@pytest.mark.parametrize(
    ("args", "private", "error"),
    [
        ([], False, "error.setting_needs_value"),
        (["language"], False, "error.setting_needs_value"),
        (["colour", "blue"], False, "error.unknown_setting"),
        (["language", "klingon"], False, "error.unknown_language"),
        (["timezone", "Mars/Base"], False, "error.unknown_timezone"),
        (["polls", "dogs"], False, "error.unknown_who"),
        (["polls", "leads"], True, "error.setting_group_only"),
    ],
)
def test_apply_setting_refusals(args: list[str], private: bool, error: str) -> None:
    with pytest.raises(DomainError) as info:
        key, raw = split_setting_args(args)
        apply_setting(DEFAULT, key, raw, private=private)
    assert info.value.key == error


def test_settings_round_trip_and_broken_json() -> None:
    s = ChatSettings(
        "ru",
        "Europe/Moscow",
        Who.LEADS,
        Who.ORGANIZERS,
        Who.EVERYONE,
        "FREQ=WEEKLY;BYDAY=SU",
        "18:00",
    )
    assert ChatSettings.from_row(s.language, s.timezone, s.extra_json()) == s
    assert ChatSettings.from_row("xx", "Nowhere/Land", "{not json") == ChatSettings()
    assert ChatSettings.from_row("en", "UTC", '{"poll_creators": "cats"}') == ChatSettings()
    with pytest.raises(ValueError):
        ChatSettings(language="de")


ROLE_TABLE = [
    # action, setting polls, setting events, role, allowed
    (Action.USE_BOT, Who.LEADS, Who.LEADS, Role.RESIDENT, True),
    (Action.CHANGE_SETTINGS, Who.EVERYONE, Who.EVERYONE, Role.RESIDENT, False),
    (Action.CHANGE_SETTINGS, Who.EVERYONE, Who.EVERYONE, Role.ORGANIZER, False),
    (Action.CHANGE_SETTINGS, Who.EVERYONE, Who.EVERYONE, Role.LEAD, True),
    (Action.GRANT_ROLES, Who.EVERYONE, Who.EVERYONE, Role.ORGANIZER, False),
    (Action.GRANT_ROLES, Who.EVERYONE, Who.EVERYONE, Role.LEAD, True),
    (Action.CREATE_POLL, Who.EVERYONE, Who.LEADS, Role.RESIDENT, True),
    (Action.CREATE_POLL, Who.ORGANIZERS, Who.LEADS, Role.RESIDENT, False),
    (Action.CREATE_POLL, Who.ORGANIZERS, Who.LEADS, Role.ORGANIZER, True),
    (Action.CREATE_POLL, Who.LEADS, Who.EVERYONE, Role.ORGANIZER, False),
    (Action.CREATE_POLL, Who.LEADS, Who.EVERYONE, Role.LEAD, True),
    (Action.CREATE_EVENT, Who.LEADS, Who.EVERYONE, Role.RESIDENT, True),
    (Action.CREATE_EVENT, Who.EVERYONE, Who.ORGANIZERS, Role.RESIDENT, False),
    (Action.CREATE_EVENT, Who.EVERYONE, Who.ORGANIZERS, Role.ORGANIZER, True),
    (Action.CREATE_EVENT, Who.EVERYONE, Who.LEADS, Role.ORGANIZER, False),
]


@pytest.mark.parametrize(("action", "polls", "events", "role", "allowed"), ROLE_TABLE)
def test_may(action: Action, polls: Who, events: Who, role: Role, allowed: bool) -> None:
    settings = ChatSettings(poll_creators=polls, event_creators=events)
    assert may(role, action, settings) is allowed


def test_every_action_has_a_rule() -> None:
    for action in Action:
        assert required_role(action, DEFAULT) in Role


@pytest.mark.parametrize("word", ["organizer", "Organiser", "组织者", "Организатор"])
def test_grantable_role(word: str) -> None:
    assert parse_grantable_role(word) is Role.ORGANIZER


@pytest.mark.parametrize("word", ["lead", "admin", "owner", ""])
def test_only_organizer_is_grantable(word: str) -> None:
    with pytest.raises(DomainError):
        parse_grantable_role(word)


def names(where: Where, role: Role, settings: ChatSettings = DEFAULT) -> list[str]:
    return [c.name for c in visible_commands(where, role, settings)]


#: What every member of a group sees in /help and the menus, in catalogue order.
RESIDENT = [
    "start",
    "help",
    "remindme",
    "reminders",
    "unit",
    "poll",
    "close",
    "propose",
    "proposals",
    "say",
    "review",
    "event",
    "events",
    "calendar",
    "roster",
    "offer",
    "need",
    "items",
    "mine",
    "skill",
    "skills",
    "groupbuy",
    "chain",
    "helper",
    "info",
    "hours",
    "rules",
    "amend",
    "export",
    "report",
    "reports",
]
#: What organizers see besides: group reminders, announcements, decisions and the meetings
#: around them, roll-calls, notices.
ORGANIZER_EXTRA = {
    "remind",
    "announce",
    "announcements",
    "decide",
    "hearing",
    "coordination",
    "minutes",
    "rollcall",
    "notice",
}
#: What only leads see: settings, roles, the register, paper ballots and the audit, the agenda,
#: progress, purge.
LEAD_EXTRA = {
    "settings",
    "grant",
    "revoke",
    "units",
    "ballot",
    "audit",
    "meeting",
    "agenda",
    "decline",
    "progress",
    "purge",
}


def in_catalogue_order(found: list[str]) -> bool:
    order = [c.name for c in COMMANDS]
    return found == sorted(found, key=order.index)


def test_help_differs_by_role_and_place() -> None:
    assert names(Where.GROUP, Role.RESIDENT) == RESIDENT
    organizer = names(Where.GROUP, Role.ORGANIZER)
    assert set(organizer) == set(RESIDENT) | ORGANIZER_EXTRA and in_catalogue_order(organizer)
    lead = names(Where.GROUP, Role.LEAD)
    assert set(lead) == set(organizer) | LEAD_EXTRA and in_catalogue_order(lead)
    # a group that lets only leads create polls and events hides them from residents
    closed = ChatSettings(poll_creators=Who.LEADS, event_creators=Who.ORGANIZERS)
    hidden = set(names(Where.GROUP, Role.RESIDENT)) - set(names(Where.GROUP, Role.RESIDENT, closed))
    assert hidden == {"poll", "event", "roster"}
    # a group that lets everyone set group reminders shows /remind to residents too
    open_group = ChatSettings(reminder_creators=Who.EVERYONE)
    assert "remind" in names(Where.GROUP, Role.RESIDENT, open_group)
    # in a private chat the user owns the chat; group-only commands are not shown
    assert names(Where.PRIVATE, Role.RESIDENT) == [
        "start",
        "help",
        "settings",
        "remind",
        "reminders",
        "checkonme",
        "hours",
        "report",
        "reports",
        "mydata",
        "forgetme",
    ]


def test_command_names_fit_telegram() -> None:
    import re

    for c in COMMANDS:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", c.name)
    assert len({c.name for c in COMMANDS}) == len(COMMANDS)


def test_setting_keys_complete() -> None:
    assert {k.value for k in SettingKey} == {
        "language",
        "timezone",
        "polls",
        "events",
        "reminders",
        "digest",
        "topic",
        "unit_approval",
        "decision_rule",
        "event_reminders",
        "listing_days",
        "retention_days",
        "proposal_support",
        "proposal_days",
        "report_ack_days",
        "report_fix_days",
        "rollcall_minutes",
    }


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["unit_approval", "off"], False),
        (["unit", "approval", "on"], True),
        (["审核", "关闭"], False),
        (["подтверждение", "вкл"], True),
    ],
)
def test_unit_approval_setting(words: list[str], expected: bool) -> None:
    key, value = split_setting_args(words)
    assert key is SettingKey.UNIT_APPROVAL
    changed = apply_setting(ChatSettings(unit_approval=not expected), key, value)
    assert changed.unit_approval is expected
    stored = ChatSettings.from_row("en", "UTC", changed.extra_json())
    assert stored.unit_approval is expected
    with pytest.raises(DomainError):
        apply_setting(DEFAULT, SettingKey.UNIT_APPROVAL, "maybe")
    with pytest.raises(DomainError):
        apply_setting(DEFAULT, SettingKey.UNIT_APPROVAL, "off", private=True)


def test_unit_approval_defaults_on_and_units_are_lead_only() -> None:
    assert DEFAULT.unit_approval is True
    assert ChatSettings.from_row("en", "UTC", '{"unit_approval": "yes"}').unit_approval is True
    assert required_role(Action.MANAGE_UNITS, DEFAULT) is Role.LEAD


# --- feature defaults: decision rule, event reminders, listing days ---------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("24h, 1h", (1440, 60)),
        ("1h 24h", (1440, 60)),
        ("1 day and 2 hours", (1440, 120)),
        ("1天和2小时", (1440, 120)),
        ("1天、30分钟", (1440, 30)),
        ("1 день, 2 часа", (1440, 120)),
        ("1д 2ч", (1440, 120)),
        ("30 min", (30,)),
        ("2", (120,)),  # a bare number is hours
        ("14d", (14 * 1440,)),
        ("off", ()),
        ("выкл", ()),
        ("关闭", ()),
        ("1h, 60m", (60,)),  # the same moment twice counts once
    ],
)
def test_reminder_offsets(text: str, minutes: tuple[int, ...]) -> None:
    assert parse_reminder_offsets(text) == minutes


@pytest.mark.parametrize(
    "text", ["", "x", "1hx", "1h dan 2h", "0", "0h", "15d", "1h 2h 3h 4h", "hh", "-1h", "1.5h"]
)
def test_bad_reminder_offsets(text: str) -> None:
    with pytest.raises(DomainError) as err:
        parse_reminder_offsets(text)
    assert err.value.key == "error.bad_reminder_offsets"


def test_describe_offsets() -> None:
    assert describe_offsets(1440) == ("d", 1)
    assert describe_offsets(120) == ("h", 2)
    assert describe_offsets(90) == ("m", 90)


@pytest.mark.parametrize(("text", "days"), [("30", 30), ("7d", 7), ("7天", 7), ("30 дней", 30)])
def test_listing_days(text: str, days: int) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize("text", ["0", "366", "x", "-3", "3.5", ""])
def test_bad_listing_days(text: str) -> None:
    with pytest.raises(DomainError) as err:
        parse_days(text)
    assert err.value.key == "error.bad_days" and err.value.params["limit"] == MAX_LISTING_DAYS


def test_feature_settings_round_trip_and_survive_broken_json() -> None:
    s = apply_setting(ChatSettings(), SettingKey.DECISION_RULE, "Two thirds, quorum=50%")
    s = apply_setting(s, SettingKey.EVENT_REMINDERS, "2h, 1 day")
    s = apply_setting(s, SettingKey.LISTING_DAYS, "14")
    assert (s.decision_rule, s.event_reminders, s.listing_days) == (
        "two-thirds quorum=1/2",
        (1440, 120),
        14,
    )
    back = ChatSettings.from_row(s.language, s.timezone, s.extra_json())
    assert back == s
    # a hand-edited or older row falls back to the defaults, never crashes
    broken = '{"decision_rule": 5, "event_reminders": [0, "x"], "listing_days": true}'
    d = ChatSettings.from_row("en", "UTC", broken)
    assert (d.decision_rule, d.event_reminders, d.listing_days) == ("majority", (1440, 60), 30)
    assert ChatSettings.from_row("en", "UTC", '{"listing_days": 9999}').listing_days == 30
    with pytest.raises(DomainError) as err:
        apply_setting(ChatSettings(), SettingKey.DECISION_RULE, "most votes")
    assert err.value.key == "decision.unknown_rule"
    with pytest.raises(ValueError):
        ChatSettings(listing_days=0)
    with pytest.raises(ValueError):
        ChatSettings(event_reminders=(0,))


# --- retention (privacy): how long finished things are kept ---------------------------------


@pytest.mark.parametrize(
    ("words", "days"),
    [
        (["retention_days", "730"], 730),
        (["retention", "30d"], 30),
        (["保留天数", "400天"], 400),
        (["срок", "хранения", "3650", "дней"], 3650),
    ],
)
def test_retention_days_setting(words: list[str], days: int) -> None:
    key, value = split_setting_args(words)
    assert key is SettingKey.RETENTION_DAYS
    changed = apply_setting(DEFAULT, key, value)
    assert changed.retention_days == days
    assert ChatSettings.from_row("en", "UTC", changed.extra_json()).retention_days == days
    assert changed.listing_days == DEFAULT.listing_days  # nothing else moved


@pytest.mark.parametrize("text", ["29", "3651", "0", "x", "-30", "1.5", "365 weeks", ""])
def test_bad_retention_days(text: str) -> None:
    with pytest.raises(DomainError) as err:
        parse_retention_days(text)
    assert err.value.key == "error.bad_retention"
    assert err.value.params["min"] == MIN_RETENTION_DAYS
    assert err.value.params["max"] == MAX_RETENTION_DAYS


def test_retention_defaults_and_survives_broken_json() -> None:
    assert DEFAULT.retention_days == DEFAULT_RETENTION_DAYS == 365
    for broken in ('{"retention_days": 5}', '{"retention_days": true}', '{"retention_days": "x"}'):
        assert ChatSettings.from_row("en", "UTC", broken).retention_days == 365
    with pytest.raises(ValueError):
        ChatSettings(retention_days=10)
    with pytest.raises(DomainError) as err:
        apply_setting(DEFAULT, SettingKey.RETENTION_DAYS, "400", private=True)
    assert err.value.key == "error.setting_group_only"
    assert required_role(Action.PURGE_GROUP, DEFAULT) is Role.LEAD
