"""The last line: unknown commands get a pointer to /help, failures get a polite apology.

Logs carry the chat id, the update kind and the command name — never message texts.
"""

from __future__ import annotations

import logging

from telegram import Update

from bot.domain.commands import COMMANDS
from bot.domain.suggest import suggest
from bot.i18n import t
from handlers.common import CourtyardContext, Turn, open_turn, user_language
from storage import chats

log = logging.getLogger("courtyard.errors")

#: Every command we have, in catalogue order (the first of equally close ones is suggested).
COMMAND_NAMES = tuple(spec.name for spec in COMMANDS)


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
    """A command we do not have: answered in private chats, and in groups when it was addressed
    to us by name (/foo@our_bot) — so we never talk over other bots — or when it is one typo
    away from one of ours (/pol → "did you mean /poll?")."""
    message = update.effective_message
    if message is None or not message.text:
        return
    first = message.text.split()[0]
    name = first.split("@")[0][:33]
    addressed = "@" in first
    if addressed and first.split("@", 1)[1].lower() != context.services.bot_username.lower():
        return
    unaddressed = message.chat.type != "private" and not addressed
    suggestion = suggest(name, COMMAND_NAMES, strict=unaddressed)
    if unaddressed and suggestion is None:
        return
    turn = await open_turn(update, context)
    if turn is None:
        return
    if suggestion is None:
        await turn.reply("error.unknown_command", command=name)
    else:
        await _did_you_mean(turn, name, suggestion)


async def local_command(update: Update, context: CourtyardContext) -> None:
    """'/опрос', '/投票': Telegram makes no command of them (only Latin letters are one), so
    they arrive as text. A word we know is answered with the command it means; any other text
    after a slash is a neighbour's business."""
    message = update.effective_message
    if message is None or not message.text:
        return
    name = message.text.split()[0][:33]
    suggestion = suggest(name, COMMAND_NAMES)
    if suggestion is None or name[1:].isascii():
        return
    turn = await open_turn(update, context)
    if turn is not None:
        await _did_you_mean(turn, name, suggestion)


async def _did_you_mean(turn: Turn, name: str, suggestion: str) -> None:
    await turn.reply(
        "error.did_you_mean",
        command=name,
        suggestion=f"/{suggestion}",
        example=t(turn.lang, f"cmd.{suggestion}.example"),
    )
