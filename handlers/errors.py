"""The last line: unknown commands get a pointer to /help, failures get a polite apology.

Logs carry the chat id, the update kind and the command name — never message texts.
"""

from __future__ import annotations

import logging

from telegram import Update

from bot.i18n import t
from handlers.common import CourtyardContext, open_turn, user_language
from storage import chats

log = logging.getLogger("courtyard.errors")


def describe(update: object) -> tuple[int | None, str]:
    """(chat id, what it was: '/command', 'button st', 'message', ...) — no user text."""
    if not isinstance(update, Update):
        return None, type(update).__name__
    chat_id = update.effective_chat.id if update.effective_chat else None
    if update.callback_query is not None:
        prefix = (update.callback_query.data or "").split(":", 1)[0][:8]
        return chat_id, f"button {prefix}"
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/"):
        return chat_id, message.text.split()[0].split("@")[0][:32]
    for kind in ("my_chat_member", "chat_member", "edited_message", "message"):
        if getattr(update, kind, None) is not None:
            return chat_id, kind
    return chat_id, "update"


async def languages(context: CourtyardContext, update: Update) -> tuple[str | None, str | None]:
    """(the chat's language, the person's own) for answering outside a turn."""
    lang = None
    if update.effective_chat is not None:
        chat = await chats.get(context.services.db, update.effective_chat.id)
        lang = chat.language if chat else None
    return lang, user_language(update.effective_user) or lang


async def stale_button(update: Update, context: CourtyardContext) -> None:
    """A press whose data matches no feature (forged, or from an older version)."""
    if update.callback_query is not None:
        _, personal = await languages(context, update)
        await context.services.outbox.answer(
            update.callback_query.id, t(personal, "error.stale_button"), alert=True
        )


async def on_error(update: object, context: CourtyardContext) -> None:
    chat_id, what = describe(update)
    log.error("handling %s in chat %s failed", what, chat_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        services = context.services
        lang, personal = await languages(context, update)
        if update.callback_query is not None:
            await services.outbox.answer(
                update.callback_query.id, t(personal, "error.internal"), alert=True
            )
        elif chat_id is not None and update.effective_message is not None:
            await services.outbox.send(chat_id, t(lang or personal, "error.internal"))
    except Exception:
        log.exception("could not tell chat %s about the failure", chat_id)


async def unknown_command(update: Update, context: CourtyardContext) -> None:
    """A command we do not have: answered in private chats, and in groups only when it was
    addressed to us by name (/foo@our_bot), so we never talk over other bots."""
    message = update.effective_message
    if message is None or not message.text:
        return
    first = message.text.split()[0]
    addressed = "@" in first
    if addressed and first.split("@", 1)[1].lower() != context.services.bot_username.lower():
        return
    if message.chat.type != "private" and not addressed:
        return
    turn = await open_turn(update, context)
    if turn is not None:
        await turn.reply("error.unknown_command", command=first.split("@")[0][:32])
