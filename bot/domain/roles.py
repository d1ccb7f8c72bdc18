"""Who may do what in a chat: the one permission rule of Courtyard.

*Leads* are the chat's administrators; leads grant the *organizer* role; everyone else is a
*resident*. Some actions are fixed to a role, others follow a group setting (who may create
polls, who may create events). :func:`may` is the only place that decides.
"""

from __future__ import annotations

import enum
from typing import Final

from bot.domain.errors import DomainError
from bot.domain.languages import Keywords
from bot.domain.settings import ChatSettings, Who


class Role(enum.IntEnum):
    """Ordered: a lead may do everything an organizer may, an organizer what a resident may."""

    RESIDENT = 1
    ORGANIZER = 2
    LEAD = 3


class Action(enum.Enum):
    USE_BOT = "use_bot"  # /start, /help, pressing public buttons
    CHANGE_SETTINGS = "change_settings"
    GRANT_ROLES = "grant_roles"
    CREATE_POLL = "create_poll"
    CREATE_EVENT = "create_event"
    REMIND_GROUP = "remind_group"  # /remind in a group: a reminder the whole group sees
    ANNOUNCE = "announce"  # /announce: scheduled announcements
    MANAGE_POSTS = "manage_posts"  # cancel or pause anyone's reminders and announcements
    MANAGE_UNITS = "manage_units"  # the register of units; approve or reject unit claims
    CREATE_DECISION = "create_decision"  # /decide: a formal per-household decision
    MANAGE_DECISIONS = "manage_decisions"  # paper ballots, audit, chasing, early close, export
    PURGE_GROUP = "purge_group"  # /purge: delete everything stored about the group
    ROLL_CALL = "roll_call"  # /rollcall: an emergency roll-call of every household
    MANAGE_FACTS = "manage_facts"  # /info set, /info remove, /info pin: the facts board


#: Actions whose minimum role is fixed.
_FIXED: Final[dict[Action, Role]] = {
    Action.USE_BOT: Role.RESIDENT,
    Action.CHANGE_SETTINGS: Role.LEAD,
    Action.GRANT_ROLES: Role.LEAD,
    Action.ANNOUNCE: Role.ORGANIZER,
    Action.MANAGE_POSTS: Role.LEAD,
    Action.MANAGE_UNITS: Role.LEAD,
    Action.CREATE_DECISION: Role.ORGANIZER,
    Action.MANAGE_DECISIONS: Role.LEAD,
    Action.PURGE_GROUP: Role.LEAD,
    Action.ROLL_CALL: Role.ORGANIZER,
    Action.MANAGE_FACTS: Role.LEAD,
}

_WHO_MIN_ROLE: Final[dict[Who, Role]] = {
    Who.EVERYONE: Role.RESIDENT,
    Who.ORGANIZERS: Role.ORGANIZER,
    Who.LEADS: Role.LEAD,
}


def required_role(action: Action, settings: ChatSettings) -> Role:
    """The least role that may perform ``action`` under ``settings``."""
    if action in _FIXED:
        return _FIXED[action]
    if action is Action.CREATE_POLL:
        return _WHO_MIN_ROLE[settings.poll_creators]
    if action is Action.CREATE_EVENT:
        return _WHO_MIN_ROLE[settings.event_creators]
    if action is Action.REMIND_GROUP:
        return _WHO_MIN_ROLE[settings.reminder_creators]
    raise AssertionError(f"no rule for {action}")  # pragma: no cover - enum is exhaustive


def may(role: Role, action: Action, settings: ChatSettings) -> bool:
    """May a member with ``role`` perform ``action`` in a chat with ``settings``?"""
    return role >= required_role(action, settings)


#: Roles a lead may grant, and the words people use for them in our three languages.
GRANTABLE: Final[dict[str, Role]] = Keywords(
    {
        "organizer": Role.ORGANIZER,
        "organiser": Role.ORGANIZER,
        "组织者": Role.ORGANIZER,
        "组织人": Role.ORGANIZER,
        "организатор": Role.ORGANIZER,
    }
)


def parse_grantable_role(text: str) -> Role:
    """The role named in ``/grant <role>``; only the organizer role can be granted."""
    role = GRANTABLE.get(text.strip().lower())
    if role is None:
        raise DomainError("error.unknown_role", value=text.strip()[:64], choices="organizer")
    return role
