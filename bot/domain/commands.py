"""The catalogue of commands: where each works and which action it needs.

/help and the Telegram command menus are both generated from this one list, so a command a
user cannot use is never advertised to them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from bot.domain.roles import Action, Role, may
from bot.domain.settings import ChatSettings


class Where(enum.Enum):
    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """``name`` without the slash; ``action`` is what the command needs in a group."""

    name: str
    action: Action
    where: frozenset[Where]

    @property
    def description_key(self) -> str:
        return f"cmd.{self.name}.desc"

    @property
    def example_key(self) -> str:
        return f"cmd.{self.name}.example"


_BOTH = frozenset({Where.PRIVATE, Where.GROUP})
_GROUP = frozenset({Where.GROUP})
_PRIVATE = frozenset({Where.PRIVATE})

COMMANDS: Final[tuple[CommandSpec, ...]] = (
    CommandSpec("start", Action.USE_BOT, _BOTH),
    CommandSpec("help", Action.USE_BOT, _BOTH),
    CommandSpec("settings", Action.CHANGE_SETTINGS, _BOTH),
    CommandSpec("grant", Action.GRANT_ROLES, _GROUP),
    CommandSpec("revoke", Action.GRANT_ROLES, _GROUP),
    CommandSpec("remind", Action.REMIND_GROUP, _BOTH),
    CommandSpec("remindme", Action.USE_BOT, _GROUP),
    CommandSpec("reminders", Action.USE_BOT, _BOTH),
    CommandSpec("announce", Action.ANNOUNCE, _GROUP),
    CommandSpec("announcements", Action.ANNOUNCE, _GROUP),
    CommandSpec("unit", Action.USE_BOT, _GROUP),
    CommandSpec("units", Action.MANAGE_UNITS, _GROUP),
    CommandSpec("poll", Action.CREATE_POLL, _GROUP),
    CommandSpec("decide", Action.CREATE_DECISION, _GROUP),
    CommandSpec("ballot", Action.MANAGE_DECISIONS, _GROUP),
    CommandSpec("audit", Action.MANAGE_DECISIONS, _GROUP),
    CommandSpec("meeting", Action.MANAGE_DECISIONS, _GROUP),
    CommandSpec("close", Action.USE_BOT, _GROUP),
    CommandSpec("propose", Action.USE_BOT, _GROUP),
    CommandSpec("proposals", Action.USE_BOT, _GROUP),
    CommandSpec("say", Action.USE_BOT, _GROUP),
    CommandSpec("review", Action.USE_BOT, _GROUP),
    CommandSpec("hearing", Action.CREATE_DECISION, _GROUP),
    CommandSpec("coordination", Action.CREATE_DECISION, _GROUP),
    CommandSpec("minutes", Action.CREATE_DECISION, _GROUP),
    CommandSpec("agenda", Action.MANAGE_DECISIONS, _GROUP),
    CommandSpec("decline", Action.MANAGE_DECISIONS, _GROUP),
    CommandSpec("progress", Action.MANAGE_DECISIONS, _GROUP),
    CommandSpec("event", Action.CREATE_EVENT, _GROUP),
    CommandSpec("events", Action.USE_BOT, _GROUP),
    CommandSpec("calendar", Action.USE_BOT, _GROUP),
    CommandSpec("roster", Action.CREATE_EVENT, _GROUP),
    CommandSpec("offer", Action.USE_BOT, _GROUP),
    CommandSpec("need", Action.USE_BOT, _GROUP),
    CommandSpec("items", Action.USE_BOT, _GROUP),
    CommandSpec("mine", Action.USE_BOT, _GROUP),
    CommandSpec("skill", Action.USE_BOT, _GROUP),
    CommandSpec("skills", Action.USE_BOT, _GROUP),
    CommandSpec("groupbuy", Action.USE_BOT, _GROUP),
    CommandSpec("chain", Action.USE_BOT, _GROUP),
    CommandSpec("rollcall", Action.ROLL_CALL, _GROUP),
    CommandSpec("helper", Action.USE_BOT, _GROUP),
    CommandSpec("checkonme", Action.USE_BOT, _PRIVATE),
    CommandSpec("info", Action.USE_BOT, _GROUP),
    CommandSpec("hours", Action.USE_BOT, _BOTH),
    CommandSpec("rules", Action.USE_BOT, _GROUP),
    CommandSpec("amend", Action.USE_BOT, _GROUP),
    CommandSpec("export", Action.USE_BOT, _GROUP),
    CommandSpec("report", Action.USE_BOT, _BOTH),
    CommandSpec("reports", Action.USE_BOT, _BOTH),
    CommandSpec("notice", Action.ANNOUNCE, _GROUP),
    CommandSpec("mydata", Action.USE_BOT, _PRIVATE),
    CommandSpec("forgetme", Action.USE_BOT, _PRIVATE),
    CommandSpec("purge", Action.PURGE_GROUP, _GROUP),
)


def visible_commands(where: Where, role: Role, settings: ChatSettings) -> list[CommandSpec]:
    """The commands a member with ``role`` may use in this kind of chat, in catalogue order.

    In a private chat the user owns the chat, so they act as its lead.
    """
    acting = Role.LEAD if where is Where.PRIVATE else role
    return [c for c in COMMANDS if where in c.where and may(acting, c.action, settings)]
