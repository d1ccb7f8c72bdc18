"""The bot's life in a group: added, removed, promoted, upgraded to a supergroup, renamed; and
the members' comings and goings (a ``chat_member`` update — sent only to a bot that is an
administrator — or the join and leave service messages every bot in the group gets).

Callback data: mb:r:<prompt id> — a lead restores the unit claims a departure suspended.
"""

from __future__ import annotations

import logging

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus

from bot.domain.errors import DomainError
from bot.domain.roles import Action
from bot.i18n import t, tn
from bot.roles import is_present
from handlers.common import (
    RESTORE_KIND,
    CourtyardContext,
    Turn,
    button,
    display_name,
    in_group,
    is_id,
    member_joined,
    member_left,
    open_turn,
    user_language,
)
from handlers.menus import chat_menus
from handlers.units import post_queue_card_anew, refresh_queue_card
from storage import chats, members, prompts

log = logging.getLogger(__name__)

_ADMIN = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


async def my_chat_member(update: Update, context: CourtyardContext) -> None:
    """The bot's own membership changed (added, removed, promoted; a user blocked it)."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None:
        return
    services = context.services
    chat = change.chat
    now = services.clock()
    was, now_in = is_present(change.old_chat_member), is_present(change.new_chat_member)
    services.roles.invalidate(chat.id)
    if chat.type == "private":
        if was != now_in:
            row, _ = await chats.ensure(
                services.db,
                chat.id,
                type="private",
                title=None,
                defaults=services.defaults(user_language(change.from_user)),
                now=now,
            )
            await chats.set_active(services.db, chat.id, now_in, now)
            if now_in:
                await chat_menus(context.bot, row, None)  # a zh-hk user's menu: 繁體中文
        return
    if was and not now_in:
        await chats.set_active(services.db, chat.id, False, now)
        log.info("removed from chat %s; its data is kept", chat.id)
        return
    if now_in and not was:
        row, created = await chats.ensure(
            services.db,
            chat.id,
            type=chat.type,
            title=chat.title,
            defaults=services.defaults(user_language(change.from_user)),
            now=now,
        )
        reactivated = not created and await chats.set_active(services.db, chat.id, True, now)
        adder = change.from_user
        if adder is not None and not adder.is_bot:  # only a member can add a bot: met here
            await members.seen(
                services.db, chat.id, adder.id, display_name(adder), now, present=True
            )
        if chat.title and row.title != chat.title:
            await chats.set_title(services.db, chat.id, chat.title)
        log.info("added to chat %s (new=%s)", chat.id, created)
        await chat_menus(context.bot, row, None)  # a group in 繁體中文 (only then: no call)
        # the bot has just joined: always say hello (even if an update from the group was
        # handled first and created the row)
        key = "lifecycle.welcome_back" if reactivated else "lifecycle.welcome"
        await services.outbox.send(
            chat.id, t(row.language, key, title=chat.title or "", bot=services.bot_username)
        )


async def chat_member(update: Update, context: CourtyardContext) -> None:
    """Someone's membership changed: note a join or a departure (which suspends their unit
    claims); if it touched an administrator, forget the cached leads."""
    change = update.chat_member
    if change is None:
        return
    if change.old_chat_member.status in _ADMIN or change.new_chat_member.status in _ADMIN:
        context.services.roles.invalidate(change.chat.id)
    person = change.new_chat_member.user
    if change.chat.type == "private" or person.is_bot:
        return
    was, now_in = is_present(change.old_chat_member), is_present(change.new_chat_member)
    if was == now_in:
        return
    turn = await open_turn(update, context, note=False)
    if turn is None:
        return
    if now_in:
        await member_joined(turn.services, turn.chat, person)
    else:
        await member_left(turn.services, turn.chat, person.id, display_name(person))
    await refresh_queue_card(turn.services, turn.chat.id)  # "has left" / suspended lines


async def members_joined(update: Update, context: CourtyardContext) -> None:
    """A ``new_chat_members`` service message: they are in the group (claims stay suspended)."""
    message = update.effective_message
    people = [u for u in (message.new_chat_members if message else ()) if not u.is_bot]
    if not people:
        return  # the bot itself: my_chat_member says hello
    turn = await open_turn(update, context, note=False)
    if turn is None or turn.chat.is_private:
        return
    for person in people:
        await member_joined(turn.services, turn.chat, person)
    await refresh_queue_card(turn.services, turn.chat.id)


async def member_gone(update: Update, context: CourtyardContext) -> None:
    """A ``left_chat_member`` service message: they left or were removed."""
    message = update.effective_message
    person = message.left_chat_member if message else None
    if person is None or person.is_bot:
        return  # the bot itself: my_chat_member handles it
    turn = await open_turn(update, context, note=False)
    if turn is None or turn.chat.is_private:
        return
    await member_left(turn.services, turn.chat, person.id, display_name(person))
    await refresh_queue_card(turn.services, turn.chat.id)


@button(action=Action.MANAGE_UNITS)
async def restore_button(turn: Turn, parts: list[str]) -> None:
    """mb:r:<prompt id> — a lead restores the claims that someone's departure suspended."""
    query = turn.query
    message = query.message if query is not None else None
    if (
        len(parts) != 2
        or parts[0] != "r"
        or not is_id(parts[1])
        or message is None
        or not message.is_accessible
        or turn.user is None
        or turn.chat.is_private
    ):
        raise DomainError("error.stale_button")
    services = turn.services
    asked = await prompts.get(services.db, int(parts[1]))
    if (
        asked is not None
        and asked.kind == RESTORE_KIND
        and asked.chat_id == turn.chat.id
        and asked.state == "open"
        and asked.member_id is not None
        and not await in_group(services, turn.chat, asked.member_id, name=None, now=turn.now)
    ):
        # restoring someone who is not back would count a household nobody there speaks for
        member = await members.get(services.db, turn.chat.id, asked.member_id)
        raise DomainError("membership.not_back", name=member.display_name if member else "—")
    outcome, prompt = await prompts.take(
        services.db,
        int(parts[1]),
        turn.chat.id,
        turn.user.id,
        message.message_id,
        turn.now,
        kinds=(RESTORE_KIND,),
    )
    if outcome is not prompts.Outcome.TAKEN or prompt is None or prompt.member_id is None:
        raise DomainError("error.stale_button")
    restored = await members.restore_claims(
        services.db, turn.chat.id, prompt.member_id, by=turn.user.id
    )
    member = await members.get(services.db, turn.chat.id, prompt.member_id)
    name = member.display_name if member else "—"
    lead = display_name(turn.user)
    if restored:
        await turn.answer("membership.restored_short")
        text = tn(
            turn.lang,
            "membership.restored",
            len(restored),
            name=name,
            units=", ".join(restored),
            lead=lead,
        )
    else:
        await turn.answer("membership.nothing_to_restore")
        text = turn.t("membership.nothing_restored", name=name)
    await services.outbox.edit(turn.chat.id, message.message_id, text, repost=False)
    if restored:
        await refresh_queue_card(services, turn.chat.id)  # its suspended lines


async def migrated(update: Update, context: CourtyardContext) -> None:
    """A group became a supergroup: move everything to the new id (announced in both chats)."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    await move_chat(context, old, new)


async def move_chat(context: CourtyardContext, old: int, new: int) -> None:
    services = context.services
    moved = await chats.migrate(services.db, old, new, services.clock())
    services.outbox.redirect(old, new)
    services.roles.move(old, new)
    if moved:
        log.info("chat %s moved to supergroup %s", old, new)
        await post_queue_card_anew(services, new)


async def title_changed(update: Update, context: CourtyardContext) -> None:
    message = update.effective_message
    if message is None or not message.new_chat_title:
        return
    await chats.set_title(context.services.db, message.chat.id, message.new_chat_title)
