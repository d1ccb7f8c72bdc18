"""Table tests: settings changes and the permission rule."""

import pytest

from bot.domain.commands import COMMANDS, Where, visible_commands
from bot.domain.errors import DomainError
from bot.domain.roles import Action, Role, may, parse_grantable_role, required_role
from bot.domain.settings import (
    ChatSettings,
    SettingKey,
    Who,
    apply_setting,
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


def test_help_differs_by_role_and_place() -> None:
    resident = ["start", "help", "remindme", "reminders", "unit"]
    assert names(Where.GROUP, Role.RESIDENT) == resident
    organizer = [
        "start",
        "help",
        "remind",
        "remindme",
        "reminders",
        "announce",
        "announcements",
        "unit",
    ]
    assert names(Where.GROUP, Role.ORGANIZER) == organizer
    assert names(Where.GROUP, Role.LEAD) == [
        "start",
        "help",
        "settings",
        "grant",
        "revoke",
        *organizer[2:],
        "units",
    ]
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
        "unit_approval",
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
