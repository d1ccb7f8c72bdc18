"""Wiring: ``build_app(settings, clock)`` returns the python-telegram-bot Application.

This is the one module that knows every feature: it registers the handlers of ``handlers/`` and
sets up the services (database, outbox, roles) when the application starts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
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

from bot import workers
from bot.config import Settings
from bot.domain import when
from bot.domain.commands import Where, visible_commands
from bot.domain.languages import MENU_LANGUAGES, TELEGRAM_CODES
from bot.domain.roles import Role
from bot.domain.settings import ChatSettings
from bot.flood import FloodGuard, FloodLimits
from bot.http import bot_request
from bot.i18n import Html, shorten, t
from bot.outbox import PRESS, Limits, Outbox, Press
from bot.roles import Roles
from bot.scheduler import Scheduler, StoppingJobQueue
from bot.services import Clock, Services
from handlers import (
    cards,
    decisions,
    digest,
    errors,
    events,
    facts,
    hours,
    house_rules,
    lifecycle,
    meetings,
    notices,
    polls,
    posts,
    privacy,
    proposals,
    refs,
    reports,
    roles,
    rollcall,
    settings,
    sharing,
    start,
    units,
)
from handlers.common import CourtyardContext, plain
from storage import chats, updates
from storage.db import Database

log = logging.getLogger(__name__)

#: Commands come from new messages only: editing an old "/grant organizer" must not run it again.
NEW = filters.UpdateType.MESSAGE

#: PTB's own bound on updates waiting or running (ours is CONCURRENT_UPDATES, per chat 2).
OUTER_BOUND = 4096

#: Feature modules. Each has ``register(app)`` (adds its command, button and message handlers)
#: and ``setup(services)`` (registers its scheduled kinds and digest sections at start-up).
FEATURES = (
    polls,
    meetings,  # before decisions: "/ballot M2 …" is a meeting's ballot
    decisions,
    events,
    sharing,
    privacy,
    house_rules,
    rollcall,
    reports,
    notices,
    proposals,
    facts,
    hours,
)

#: Commands per resident: 8 at once, then 10 a minute (bot/flood.py).
DEFAULT_FLOOD = FloodLimits(burst=8, per_minute=10)

#: Updates handled at once. Writes stay serialized by the database lock; see ARCHITECTURE.md.
CONCURRENT_UPDATES = 16

#: Button presses of one chat handled at once (each only until it is answered; bench/votes_bench.py
#: has the figures). Below CONCURRENT_UPDATES, so a chat flooding the bot with presses always
#: leaves slots to the other chats.
PRESS_LANE = 8


def utc_now() -> datetime:
    return datetime.now(UTC)


class TrackingUpdateProcessor(BaseUpdateProcessor):
    """Bounded concurrency (like PTB's SimpleUpdateProcessor) with two additions:

    * at most ``per_chat`` updates of one chat run at once, and the others wait *before* taking
      one of the ``max_concurrent`` slots — a group flooding the bot (whose replies wait for that
      group's rate limit) can hold only ``per_chat`` slots, and every other chat keeps being
      served. Button presses have their own, wider lane (``per_chat_presses``): they never wait
      for the group's message limit (the answer is private, the card refresh is coalesced in
      the background), and a press must be answered within seconds or Telegram drops the
      answer — a 1000-press burst on one poll must not queue behind two slots. One person's
      presses in a chat still run one at a time, in the order they came: pressing Yes then No
      must end on No (a vote press toggles). A press holds its lane (and its presser's place
      in line) only until it is answered: what it sends afterwards (a hand-over message waiting
      for the group's budget, a card refresh) finishes outside every lane, so with the group's
      budget spent the next presses are still answered at once;
    * updates in flight are counted, so shutdown, health checks and tests can tell when the bot
      is idle;
    * an update is handled at most once: its id is noted in the database before it is handled
      (``first_time``, set at start-up), so an update Telegram hands out again after a crash —
      the bot died before confirming it — is skipped instead of, say, withdrawing a vote by
      pressing it a second time. An update lost in the crash was never answered, so nothing
      the bot acknowledged is lost.

    PTB's own semaphore (taken before ``do_process_update``) is set wide open; the real bound is
    ours, taken after the chat's turn.
    """

    def __init__(self, max_concurrent: int, per_chat: int = 2, per_chat_presses: int | None = None):
        super().__init__(OUTER_BOUND)
        self.max_concurrent = max_concurrent
        self.per_chat = per_chat
        lane = PRESS_LANE if per_chat_presses is None else per_chat_presses
        self.per_chat_presses = min(lane, max_concurrent)
        self.in_flight = 0  # running now
        self.active = 0  # running or waiting for their chat's turn or a slot
        self.processed = 0
        self._slots = asyncio.BoundedSemaphore(max_concurrent)
        self._chats: dict[tuple[int, bool], tuple[asyncio.Semaphore, int]] = {}
        self._pressers: dict[tuple[int, int], tuple[asyncio.Lock, int]] = {}
        self.first_time: Callable[[int], Awaitable[bool]] | None = None
        self.skipped = 0
        #: several workers on one PostgreSQL: the chat's lock across workers, held while the
        #: update runs (bot/workers.py); None in one process
        self.guard: Any = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self.active += 1  # from the first await on: tests and shutdown wait for it
        try:
            if self.guard is None:
                rest = await self._process(update, coroutine)
            else:  # held until handled (a press: answered), as its lane in this process
                async with self.guard.hold(update):
                    rest = await self._process(update, coroutine)
            if rest is not None:
                await rest  # an answered press finishing its sends, outside every lane
        finally:
            self.active -= 1
            self.processed += 1

    async def _process(
        self, update: object, coroutine: Awaitable[Any]
    ) -> asyncio.Future[Any] | None:
        chat = getattr(update, "effective_chat", None)
        query = getattr(update, "callback_query", None)
        press = query is not None
        user = getattr(update, "effective_user", None)
        if press and chat is not None and user is not None:
            # the person's place in line is taken before the first await: nothing that follows
            # (noting the update id may take longer for one update than another) can reorder
            # their presses
            return await self._in_order((chat.id, user.id), update, chat, coroutine)
        return await self._checked(update, chat, press, coroutine)

    async def _checked(
        self, update: object, chat: Any, press: bool, coroutine: Awaitable[Any]
    ) -> asyncio.Future[Any] | None:
        query = getattr(update, "callback_query", None)
        query_id = getattr(query, "id", None) if press else None
        if not await self._first_time(update, coroutine):
            return None
        return await self._run(update, chat, query_id, coroutine)

    async def _first_time(self, update: object, coroutine: Awaitable[Any]) -> bool:
        """Note the update's id; False (and the handler dropped) if it was handled before."""
        update_id = getattr(update, "update_id", None)
        first_time = self.first_time
        if first_time is None or not isinstance(update_id, int) or await first_time(update_id):
            return True
        self.skipped += 1
        log.warning("update %s was handled before a restart; skipped", update_id)
        if asyncio.iscoroutine(coroutine):
            coroutine.close()  # never awaited: no "was never awaited" warning
        return False

    async def _in_order(
        self, who: tuple[int, int], update: object, chat: Any, coroutine: Awaitable[Any]
    ) -> asyncio.Future[Any] | None:
        """Run one person's presses in a chat one after another (FIFO), others in parallel.
        The next press of the same person may start once this one is answered (its vote is
        stored by then)."""
        lock, waiting = self._pressers.get(who, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._pressers[who] = (lock, waiting + 1)
        try:
            async with lock:
                return await self._checked(update, chat, True, coroutine)
        finally:
            lock, waiting = self._pressers[who]
            if waiting <= 1:
                del self._pressers[who]
            else:
                self._pressers[who] = (lock, waiting - 1)

    async def _run(
        self, update: object, chat: Any, query_id: str | None, coroutine: Awaitable[Any]
    ) -> asyncio.Future[Any] | None:
        """Run the update in its chat's lane. A press leaves its lane as soon as it is answered:
        what it still has to send (a message waiting for the group's budget, a card refresh)
        is returned to be awaited outside the lane, so the next presses are answered at once."""
        press = query_id is not None
        key = (chat.id if chat is not None else 0, press)
        semaphore, users = self._chats.get(key, (None, 0))
        if semaphore is None:
            lane = self.per_chat_presses if press else self.per_chat
            semaphore = asyncio.Semaphore(lane if chat is not None else self.max_concurrent)
        self._chats[key] = (semaphore, users + 1)
        try:
            async with semaphore, self._slots:
                self.in_flight += 1
                try:
                    if query_id is None:
                        await coroutine
                        return None
                    return await self._until_answered(query_id, coroutine)
                finally:
                    self.in_flight -= 1
        finally:
            semaphore, users = self._chats[key]
            if users <= 1:
                del self._chats[key]
            else:
                self._chats[key] = (semaphore, users - 1)

    @staticmethod
    async def _until_answered(
        query_id: str, coroutine: Awaitable[Any]
    ) -> asyncio.Future[Any] | None:
        """Run a press's handler until it has answered the press (or finished)."""
        state = Press(query_id)
        token = PRESS.set(state)
        try:
            task = asyncio.ensure_future(coroutine)  # the task keeps PRESS (context copied)
        finally:
            PRESS.reset(token)
        answered = asyncio.ensure_future(state.answered.wait())
        try:
            await asyncio.wait({task, answered}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            answered.cancel()
        if task.done():
            task.result()  # a handler's exception surfaces here, as before
            return None
        return task

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

    async def chat_moved(self, old_id: int, new_id: int) -> None:
        await repost_cards(self.services, new_id)

    async def card_lost(self, chat_id: int, message_id: int, text: str, reason: str) -> None:
        await card_lost(self.services, chat_id, message_id, text, reason)


async def card_lost(
    services: Services, chat_id: int, message_id: int, text: str, reason: str
) -> bool:
    """A card could be neither edited nor posted again: the leads' panel shows it and the
    card's author is told (privately, else in the group), once. Returns whether anyone was."""
    found = await chats.card_of(services.db, chat_id, message_id)
    group = await chats.get(services.db, chat_id)
    lang = group.language if group else None
    ref = f"{found[0]} #{found[1]}" if found else f"message {message_id}"
    recorded = await chats.record_delivery_failure(
        services.db,
        chat_id,
        "editMessageText",
        f"{t(lang, 'failure.reason_card')} ({ref}): {reason}",
        services.clock(),
        once=True,
    )
    if found is None or not recorded:
        return False
    _, _, author_id, name = found
    title = shorten(plain(text.split("\n", 1)[0]), 60)
    where = group.title if group is not None and group.title else ""
    why = "failure.why_refused" if group is not None and group.active else "failure.why_gone"
    return await posts.tell_author(
        services,
        author_id,
        name,
        chat_id,
        lambda lang: t(lang, "failure.card", title=title, group=where, why=Html(t(lang, why))),
    )


async def repost_cards(services: Services, chat_id: int) -> int:
    """Post every open card of the chat that shows nowhere, and store where it shows now: after
    a group became a supergroup, its cards' old message ids were forgotten (storage/chats.py)
    and the cards are posted anew, never edited by an old id. Returns how many were posted."""
    posted = 0
    found = await chats.cards_without_message(services.db, chat_id, cards.kinds(), services.clock())
    for kind, row_id in found:
        rendered = await cards._KINDS[kind].render(services, row_id)
        if rendered is None:
            continue
        text, markup = rendered
        message = await services.outbox.send(chat_id, text, reply_markup=markup, silent=True)
        if message is None:
            log.warning("could not post %s %s anew in chat %s", kind, row_id, chat_id)
            continue
        if await chats.set_card_message(services.db, kind, row_id, message.message_id):
            posted += 1
        else:  # posted meanwhile by its feature: this copy is one too many
            await services.outbox.delete(chat_id, message.message_id)
    if found:
        log.info("chat %s: %d card(s) posted anew after becoming a supergroup", chat_id, posted)
    return posted


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
        for lang in MENU_LANGUAGES:  # zh_Hant shares "zh": its menus are per chat
            code = None if lang == "en" else TELEGRAM_CODES[lang]
            await app.bot.set_my_commands(
                menu_commands(where, role, lang), scope=scope, language_code=code
            )
            count += 1
    return count


async def register_profile(app: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """The bot's description (shown in an empty private chat, up to 512 characters) and short
    description (its profile, up to 120) per language, so a resident who opens the bot's
    profile in Chinese or Russian reads what it is. Set only when Telegram holds another text:
    each change is an API call, and every start would otherwise make six."""
    count = 0
    for lang in MENU_LANGUAGES:
        code = "" if lang == "en" else TELEGRAM_CODES[lang]
        description = t(lang, "bot.description")[:512]
        short = t(lang, "bot.short_description")[:120]
        if (await app.bot.get_my_description(language_code=code)).description != description:
            await app.bot.set_my_description(description, language_code=code)
            count += 1
        current = await app.bot.get_my_short_description(language_code=code)
        if current.short_description != short:
            await app.bot.set_my_short_description(short, language_code=code)
            count += 1
    return count


def build_app(
    settings_: Settings,
    clock: Clock | None = None,
    *,
    limits: Limits | None = None,
    concurrency: int = CONCURRENT_UPDATES,
    poll_timeout: float = 30.0,
    scheduler_options: dict[str, Any] | None = None,
    flood: FloodLimits | None = DEFAULT_FLOOD,
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
        .job_queue(StoppingJobQueue())  # a stop waits STOP_GRACE for running scheduled actions
        # COURTYARD_HTTP chooses the client (bot/http.py); PTB's pool sizes and timeouts
        .request(bot_request())
        .get_updates_request(bot_request(read_timeout=poll_timeout + 10, connection_pool_size=1))
        .post_init(_startup)
        .post_stop(_stopping)
        .post_shutdown(_shutdown)
    )
    app = builder.build()
    app.bot_data["config"] = (settings_, now, limits)
    app.bot_data["scheduler_options"] = scheduler_options or {}
    app.bot_data["flood"] = flood

    app.add_handler(ChatMemberHandler(lifecycle.my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(ChatMemberHandler(lifecycle.chat_member, ChatMemberHandler.CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, lifecycle.members_joined))
    app.add_handler(MessageHandler(filters.StatusUpdate.LEFT_CHAT_MEMBER, lifecycle.member_gone))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, lifecycle.migrated))
    app.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_TITLE, lifecycle.title_changed))
    app.add_handler(CommandHandler("start", start.start, filters=NEW))
    app.add_handler(CommandHandler("help", start.help_, filters=NEW))
    app.add_handler(CommandHandler("settings", settings.settings, filters=NEW))
    app.add_handler(CommandHandler("grant", roles.grant, filters=NEW))
    app.add_handler(CommandHandler("revoke", roles.revoke, filters=NEW))
    app.add_handler(CommandHandler("remind", posts.remind, filters=NEW))
    app.add_handler(CommandHandler("remindme", posts.remindme, filters=NEW))
    app.add_handler(CommandHandler("reminders", posts.reminders, filters=NEW))
    app.add_handler(CommandHandler("announce", posts.announce, filters=NEW))
    app.add_handler(CommandHandler("announcements", posts.announcements, filters=NEW))
    app.add_handler(CommandHandler("unit", units.unit, filters=NEW))
    app.add_handler(CommandHandler("units", units.units_, filters=NEW))
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL & NEW, units.csv_document)
    )
    app.add_handler(CommandHandler("close", refs.close, filters=NEW))
    app.add_handler(CommandHandler("export", refs.export, filters=NEW))
    # "/опрос", "/投票": not commands to Telegram (Latin only), answered with the one meant
    app.add_handler(
        MessageHandler(filters.TEXT & filters.Regex(r"^/[^\x00-\x7f]") & NEW, errors.local_command)
    )
    for feature in FEATURES:
        feature.register(app)
    app.add_handler(CallbackQueryHandler(settings.settings_button, pattern=r"^st:"))
    app.add_handler(CallbackQueryHandler(posts.post_button, pattern=r"^pp:"))
    app.add_handler(CallbackQueryHandler(units.decision_button, pattern=r"^un:[ar]:"))
    app.add_handler(CallbackQueryHandler(units.page_button, pattern=r"^un:p:"))
    app.add_handler(CallbackQueryHandler(units.import_button, pattern=r"^un:i:"))
    app.add_handler(CallbackQueryHandler(lifecycle.restore_button, pattern=r"^mb:"))
    app.add_handler(CallbackQueryHandler(errors.stale_button))
    # last in group 0: only commands that no handler above took
    app.add_handler(MessageHandler(filters.COMMAND & NEW, errors.unknown_command))
    app.add_error_handler(errors.on_error)
    return app


async def _startup(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    settings_, clock, limits = app.bot_data["config"]
    db = await Database.open(settings_.db_path)
    outbox = Outbox(app.bot, limits=limits)
    scheduler = Scheduler(db, app.job_queue, clock, **app.bot_data.get("scheduler_options", {}))
    services = Services(
        settings=settings_,
        db=db,
        outbox=outbox,
        roles=Roles(app.bot, db),
        scheduler=scheduler,
        clock=clock,
        bot_username=app.bot.username,
        flood=FloodGuard(app.bot_data["flood"]) if app.bot_data.get("flood") else None,
    )
    outbox.hooks = StorageHooks(services)
    if isinstance(app.job_queue, StoppingJobQueue):  # a stop ends the waits of scheduled sends
        app.job_queue.on_stop.append(outbox.stop_background)
    app.bot_data["services"] = services
    scheduler.register(
        "post",
        run=partial(posts.run_post, services),
        next_run=partial(posts.next_post_run, services),
        missed=partial(posts.missed_post, services),
    )
    scheduler.register(
        digest.KIND,
        run=partial(digest.run_digest, services),
        next_run=partial(digest.next_digest, services),
        missed=partial(digest.missed_digest, services),
    )
    processor = app.update_processor
    if isinstance(processor, TrackingUpdateProcessor):
        # the ids of updates that come together are noted in one write (storage/updates.py)
        processor.first_time = updates.Notes(db, clock).first_time
    for feature in FEATURES:
        feature.setup(services)
    await workers.attach(app, services)  # several workers on PostgreSQL; nothing on SQLite
    await asyncio.get_running_loop().run_in_executor(None, when.warm)
    armed = await scheduler.start()
    log.info("%d scheduled action(s) armed", armed)
    cards.start(app, services)  # cards left behind by a crash are redrawn once running
    try:
        await register_menus(app)
    except TelegramError as exc:  # menus are a convenience; never block the start for them
        log.warning("could not register command menus: %s", exc)
    try:
        await register_profile(app)
    except TelegramError as exc:  # likewise
        log.warning("could not set the bot's description: %s", exc)
    log.info("Courtyard started as @%s, database %s", app.bot.username, settings_.db_path)


async def _stopping(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Flush pending card refreshes while the HTTP client still works (after ``stop``, before
    ``shutdown`` closes it — flushing later only retried into a closed client for seconds and
    lost the last edit)."""
    services: Services | None = app.bot_data.get("services")
    if services is not None:
        await services.outbox.close()


async def _shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    services: Services | None = app.bot_data.get("services")
    if services is None:
        return
    await services.outbox.close()  # no-op after _stopping; kept for a shutdown without a stop
    await workers.detach(app)
    await services.db.close()
    await asyncio.sleep(0)
