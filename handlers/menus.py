"""Command menus of one chat, for a language Telegram cannot tell by ``language_code``.

``setMyCommands`` takes two-letter ISO 639-1 codes only, so Simplified and Traditional Chinese
share ``zh`` (the global ``zh`` menus are Simplified: bot/app.py registers one global menu per
code, :data:`~bot.domain.languages.MENU_LANGUAGES`). A chat set to zh_Hant gets menus in its
language in chat scopes — the chat, and in a group its administrators — which Telegram prefers
over every all-chats menu; a chat leaving such a language loses them again, and the global menus
in each user's language apply.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeChatAdministrators
from telegram.error import TelegramError

from bot.domain.chats import Chat
from bot.domain.commands import Where, visible_commands
from bot.domain.languages import CHAT_MENU_LANGUAGES
from bot.domain.roles import Role
from bot.domain.settings import ChatSettings
from bot.i18n import t

log = logging.getLogger(__name__)


async def chat_menus(bot: Bot, chat: Chat, old_language: str | None) -> None:
    """Set (or delete) ``chat``'s own menus after its language became ``chat.language``
    (``old_language``: what it was, None for a new chat). A refusal from Telegram is logged:
    the menus are a convenience, the setting is saved anyway."""
    lang = chat.language
    if lang not in CHAT_MENU_LANGUAGES and old_language not in CHAT_MENU_LANGUAGES:
        return
    defaults = ChatSettings(language=lang)
    if chat.is_private:
        scopes: list[tuple[BotCommandScopeChat | BotCommandScopeChatAdministrators, Where, Role]]
        scopes = [(BotCommandScopeChat(chat.id), Where.PRIVATE, Role.LEAD)]
    else:
        scopes = [
            (BotCommandScopeChat(chat.id), Where.GROUP, Role.RESIDENT),
            (BotCommandScopeChatAdministrators(chat.id), Where.GROUP, Role.LEAD),
        ]
    try:
        for scope, where, role in scopes:
            if lang in CHAT_MENU_LANGUAGES:
                commands = [
                    BotCommand(c.name, t(lang, c.description_key)[:256])
                    for c in visible_commands(where, role, defaults)
                ]
                await bot.set_my_commands(commands, scope=scope)
            else:
                await bot.delete_my_commands(scope=scope)
    except TelegramError as exc:
        log.warning("menus of chat %s in %s not set: %s", chat.id, lang, exc)
