"""/grant organizer and /revoke organizer — a lead replies to a member's message."""

from __future__ import annotations

from telegram import User

from bot.domain.errors import DomainError
from bot.domain.roles import Action, Role, parse_grantable_role
from handlers.common import GROUP_ONLY, Turn, command, display_name
from storage import members


def _target(turn: Turn) -> User:
    message = turn.message
    replied = message.reply_to_message if message else None
    target = replied.from_user if replied else None
    if replied is None or target is None or replied.sender_chat is not None:
        raise DomainError("error.grant_needs_reply")
    if target.is_bot:
        raise DomainError("error.grant_bot")
    return target


async def _change(turn: Turn, grant: bool) -> None:
    if not turn.args:
        raise DomainError("error.grant_needs_role", choices="organizer")
    role = parse_grantable_role(" ".join(turn.args))
    target = _target(turn)
    name = display_name(target)
    if await turn.services.roles.role_of(turn.chat, target.id) is Role.LEAD:
        raise DomainError("roles.already_lead", name=name)
    changed = await members.set_role(
        turn.services.db, turn.chat.id, target.id, name, role if grant else Role.RESIDENT, turn.now
    )
    if grant:
        await turn.reply("roles.granted" if changed else "roles.already_organizer", name=name)
    else:
        await turn.reply("roles.revoked" if changed else "roles.not_organizer", name=name)


@command(action=Action.GRANT_ROLES, where=GROUP_ONLY)
async def grant(turn: Turn) -> None:
    await _change(turn, grant=True)


@command(action=Action.GRANT_ROLES, where=GROUP_ONLY)
async def revoke(turn: Turn) -> None:
    await _change(turn, grant=False)
