"""Wiring: ``build_app(settings, clock)`` returns the python-telegram-bot Application.

This is the one module that knows every feature: it registers the handlers of ``handlers/`` and
sets up the services (database, outbox, roles) when the application starts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.domain.commands import Where, visible_commands
from bot.domain.languages import SUPPORTED, TELEGRAM_CODES
from bot.domain.roles import Role
from bot.domain.settings import ChatSettings
from bot.i18n import t
from bot.outbox import Limits, Outbox
from bot.roles import Roles
from bot.services import Clock, Services
from handlers import errors, lifecycle, roles, settings, start
from handlers.common import CourtyardContext
from storage import chats
from storage.db import Database

log = logging.getLogger(__name__)

#: Updates handled at once. Writes stay serialized by the database lock; see ARCHITECTURE.md.
CONCURRENT_UPDATES = 16


def utc_now() -> datetime:
    return datetime.now(UTC)


class TrackingUpdateProcessor(BaseUpdateProcessor):
    """Bounded concurrency (like PTB's SimpleUpdateProcessor) that also counts updates in flight,
    so shutdown, health checks and tests can tell when the bot is idle."""

    def __init__(self, max_concurrent_updates: int):
        super().__init__(max_concurrent_updates)
        self.in_flight = 0
        self.processed = 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self.in_flight += 1
        try:
            await coroutine
        finally:
            self.in_flight -= 1
            self.processed += 1

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class StorageHooks:
    """What the outbox tells the rest of Courtyard: chats that moved, left, or lost messages."""

    def __init__(self, services: Services):
        self.services = services

    async def chat_migrated(self, old_id: int, new_id: int) -> None:
        await chats.migrate(self.services.db, old_id, new_id, self.services.clock())
        self.services.roles.move(old_id, new_id)

    async def chat_unreachable(self, chat_id: int, reason: str) -> None:
        await chats.set_active(self.services.db, chat_id, False, self.services.clock())

    async def delivery_failed(self, chat_id: int, method: str, reason: str) -> None:
        await chats.record_delivery_failure(
            self.services.db, chat_id, method, reason, self.services.clock()
        )


def file_url_for(api_url: str) -> str:
    """The file download URL that goes with a Bot API URL (``.../bot`` -> ``.../file/bot``)."""
    base = api_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


def menu_commands(where: Where, role: Role, lang: str) -> list[BotCommand]:
    defaults = ChatSettings(language=lang)
    return [
        BotCommand(c.name, t(lang, c.description_key)[:256])
        for c in visible_commands(where, role, defaults)
    ]


async def register_menus(app: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """Command menus per scope (private, groups, group admins) and per language."""
    scopes = (
        (BotCommandScopeAllPrivateChats(), Where.PRIVATE, Role.LEAD),
        (BotCommandScopeAllGroupChats(), Where.GROUP, Role.RESIDENT),
        (BotCommandScopeAllChatAdministrators(), Where.GROUP, Role.LEAD),
    )
    count = 0
    for scope, where, role in scopes:
        for lang in SUPPORTED:
            code = None if lang == "en" else TELEGRAM_CODES[lang]
            await app.bot.set_my_commands(
                menu_commands(where, role, lang), scope=scope, language_code=code
            )
            count += 1
    return count


def build_app(
    settings_: Settings,
    clock: Clock | None = None,
    *,
    limits: Limits | None = None,
    concurrency: int = CONCURRENT_UPDATES,
    poll_timeout: float = 30.0,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The Courtyard application. Start it with ``run_polling`` or drive it by hand in tests."""
    if not settings_.token:
        raise ValueError("build_app needs settings with a token")
    now = clock or utc_now
    builder = (
        ApplicationBuilder()
        .token(settings_.token)
        .base_url(settings_.api_url)
        .base_file_url(file_url_for(settings_.api_url))
        .context_types(ContextTypes(context=CourtyardContext))
        .concurrent_updates(TrackingUpdateProcessor(concurrency))
        .get_updates_read_timeout(poll_timeout + 10)
        .post_init(_startup)
        .post_shutdown(_shutdown)
    )
    app = builder.build()
    app.bot_data["config"] = (settings_, now, limits)

    app.add_handler(ChatMemberHandler(lifecycle.my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(ChatMemberHandler(lifecycle.chat_member, ChatMemberHandler.CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, lifecycle.migrated))
    app.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_TITLE, lifecycle.title_changed))
    app.add_handler(CommandHandler("start", start.start))
    app.add_handler(CommandHandler("help", start.help_))
    app.add_handler(CommandHandler("settings", settings.settings))
    app.add_handler(CommandHandler("grant", roles.grant))
    app.add_handler(CommandHandler("revoke", roles.revoke))
    app.add_handler(CallbackQueryHandler(settings.settings_button, pattern=r"^st:"))
    app.add_handler(CallbackQueryHandler(_stale_button))
    # last in group 0: only commands that no handler above took
    app.add_handler(MessageHandler(filters.COMMAND, errors.unknown_command))
    app.add_error_handler(errors.on_error)
    return app


async def _stale_button(update: Update, context: CourtyardContext) -> None:
    """A press whose data matches no feature (forged, or from an older version)."""
    query = update.callback_query
    if query is not None:
        lang = None
        if update.effective_chat is not None:
            chat = await chats.get(context.services.db, update.effective_chat.id)
            lang = chat.language if chat else None
        from handlers.common import user_language

        await context.services.outbox.answer(
            query.id,
            t(user_language(update.effective_user) or lang, "error.stale_button"),
            alert=True,
        )


async def _startup(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    settings_, clock, limits = app.bot_data["config"]
    db = await Database.open(settings_.db_path)
    outbox = Outbox(app.bot, limits=limits)
    services = Services(
        settings=settings_,
        db=db,
        outbox=outbox,
        roles=Roles(app.bot, db),
        clock=clock,
        bot_username=app.bot.username,
    )
    outbox.hooks = StorageHooks(services)
    app.bot_data["services"] = services
    try:
        await register_menus(app)
    except TelegramError as exc:  # menus are a convenience; never block the start for them
        log.warning("could not register command menus: %s", exc)
    log.info("Courtyard started as @%s, database %s", app.bot.username, settings_.db_path)


async def _shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services: Services | None = app.bot_data.get("services")
    if services is None:
        return
    await services.outbox.close()
    await services.db.close()
    await asyncio.sleep(0)
