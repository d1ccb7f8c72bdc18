"""The bot's life in a group: added, removed, promoted, upgraded to a supergroup, renamed."""

from __future__ import annotations

import logging

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus

from bot.i18n import t
from handlers.common import CourtyardContext, user_language
from storage import chats

log = logging.getLogger(__name__)

_ADMIN = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


def _present(member: ChatMember) -> bool:
    if member.status in (
        ChatMemberStatus.OWNER,
        ChatMemberStatus.ADMINISTRATOR,
        ChatMemberStatus.MEMBER,
    ):
        return True
    return member.status == ChatMemberStatus.RESTRICTED and bool(
        getattr(member, "is_member", False)
    )


async def my_chat_member(update: Update, context: CourtyardContext) -> None:
    """The bot's own membership changed (added, removed, promoted; a user blocked it)."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None:
        return
    services = context.services
    chat = change.chat
    now = services.clock()
    was, now_in = _present(change.old_chat_member), _present(change.new_chat_member)
    services.roles.invalidate(chat.id)
    if chat.type == "private":
        if was != now_in:
            await chats.ensure(
                services.db,
                chat.id,
                type="private",
                title=None,
                defaults=services.defaults(user_language(change.from_user)),
                now=now,
            )
            await chats.set_active(services.db, chat.id, now_in, now)
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
        if chat.title and row.title != chat.title:
            await chats.set_title(services.db, chat.id, chat.title)
        log.info("added to chat %s (new=%s)", chat.id, created)
        # the bot has just joined: always say hello (even if an update from the group was
        # handled first and created the row)
        key = "lifecycle.welcome_back" if reactivated else "lifecycle.welcome"
        await services.outbox.send(
            chat.id, t(row.language, key, title=chat.title or "", bot=services.bot_username)
        )


async def chat_member(update: Update, context: CourtyardContext) -> None:
    """Someone's membership changed: if it touched an administrator, forget the cached leads."""
    change = update.chat_member
    if change is None:
        return
    if change.old_chat_member.status in _ADMIN or change.new_chat_member.status in _ADMIN:
        context.services.roles.invalidate(change.chat.id)


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


async def title_changed(update: Update, context: CourtyardContext) -> None:
    message = update.effective_message
    if message is None or not message.new_chat_title:
        return
    await chats.set_title(context.services.db, message.chat.id, message.new_chat_title)
