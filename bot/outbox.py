"""The one way Courtyard talks: every message the bot sends, edits or deletes goes through here.

What it takes care of, so that no handler has to:

* **Rate limits** — a global token bucket (~30 messages/s per bot) and one bucket per chat
  (~20 messages and edits per minute in a group, ~1 per second in a private chat). Callers simply
  wait their turn; nothing is dropped.
* **RetryAfter (429)** — the chat is held for the time Telegram asks, then the call is retried.
* **Timeouts and 5xx** — retried with exponential back-off, up to ``Limits.max_attempts``.
* **ChatMigrated** — a group became a supergroup: the hook moves the chat's rows, a send is
  retried on the new id, and later sends with the old id are redirected. An edit, delete or
  pin by a message id of the old group is never made in the supergroup (the old messages have
  other ids there); the open cards are posted anew instead (``OutboxHooks.chat_moved``).
* **A button press** — answered at once (no budget is waited for); a send its handler makes
  before answering that would have to wait answers the press first (:data:`PRESS`).
* **"message is not modified"** — success: the card already shows that.
* **"message to edit not found"** — somebody deleted the card: it is posted again and the new
  message id is returned so the caller can store it.
* **Forbidden (bot kicked, blocked by the user, chat gone)** — the hook marks the chat
  unreachable; the call returns ``None``.
* **Coalesced card refreshes** — :meth:`Outbox.refresh` edits a message at most once per
  ``edit_interval``; a burst of presses becomes a few edits and the last one renders the
  latest state.

* **Forum topics** — ``thread_id`` names the topic a send goes to. Without one, a send to the
  chat whose update is being handled goes to the topic that update came from (:data:`TOPIC`, set
  by handlers/common.py), so every answer, card and file lands where it was asked; scheduled
  sends (:data:`BACKGROUND`) go only where their row says. A topic Telegram refuses (closed:
  ``TOPIC_CLOSED``; deleted: "message thread not found") gets the message in General instead,
  nothing lost; the first time per topic the message starts with the caller's ``moved_note``.

A delivery that still fails after its retries is reported to ``OutboxHooks.delivery_failed``
(stored for leads to see) and the method returns ``None`` — once per call, or not at all with
``report=False``, for callers that retry and report the failure once themselves. A card that can
be neither edited nor posted again is reported to ``OutboxHooks.card_lost``, once per card.
Any other ``BadRequest`` is a bug of ours (bad markup, a too-long text) and is raised so the
error handler reports it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)
T = TypeVar("T")

Rendered = tuple[str, InlineKeyboardMarkup | None]
Drawn = Callable[[int, int, str, InlineKeyboardMarkup | None], Awaitable[None]]


class OutboxHooks(Protocol):
    async def chat_migrated(self, old_id: int, new_id: int) -> None: ...

    async def chat_unreachable(self, chat_id: int, reason: str) -> None: ...

    async def delivery_failed(self, chat_id: int, method: str, reason: str) -> None: ...

    async def chat_moved(self, old_id: int, new_id: int) -> None:
        """After a migration's rows have moved (once per migration): post cards anew."""
        ...

    async def card_lost(self, chat_id: int, message_id: int, text: str, reason: str) -> None:
        """A card refresh could neither edit the card nor post it again (told once per card)."""
        ...


class NoHooks:
    async def chat_migrated(self, old_id: int, new_id: int) -> None:
        return None

    async def chat_unreachable(self, chat_id: int, reason: str) -> None:
        return None

    async def delivery_failed(self, chat_id: int, method: str, reason: str) -> None:
        return None

    async def chat_moved(self, old_id: int, new_id: int) -> None:
        return None

    async def card_lost(self, chat_id: int, message_id: int, text: str, reason: str) -> None:
        return None


#: Telegram's limit for a media caption.
MAX_CAPTION = 1024


class Stopping(BaseException):
    """Raised in a scheduled action's send that was still waiting for its turn when the bot
    began to stop (:meth:`Outbox.stop_background`): nothing was sent, the action runs again at
    the next start (bot/scheduler.py). Like a cancellation, no ``except Exception`` of a
    feature takes it for a failure and marks the action done."""


#: Set while a scheduled action runs (bot/scheduler.py): its sends are *background* sends,
#: which take their own budget before the global one, so 500 reminders due in one second never
#: make residents' replies queue behind them.
BACKGROUND: ContextVar[bool] = ContextVar("courtyard_background_send", default=False)


@dataclass(frozen=True, slots=True)
class Topic:
    """Where the update being handled was asked: a topic of a forum supergroup."""

    chat_id: int
    thread_id: int
    #: the line a message starts with when it has to go to General instead (translated)
    moved_note: str | None = None
    #: the task handling the update: only its own sends follow the topic. A context is copied
    #: into callbacks scheduled from it (APScheduler's timer, so JobQueue jobs), and a job
    #: run hours later must not post in the topic of whoever last armed one.
    task: asyncio.Task[Any] | None = field(default=None, compare=False)


#: The topic of the update being handled (handlers/common.py ``open_turn``), or None.
TOPIC: ContextVar[Topic | None] = ContextVar("courtyard_topic", default=None)

#: Telegram's refusals of a send to a topic that is closed or was deleted.
TOPIC_GONE = ("topic_closed", "message thread not found", "topic_deleted")


def topic_gone(exc: BadRequest) -> bool:
    text = exc.message.lower()
    return any(words in text for words in TOPIC_GONE)


@dataclass(slots=True)
class Press:
    """The button press being handled (set by the update processor, bot/app.py).

    ``answered`` is set when its answer goes out: the processor then frees the press's lane
    while the rest of the handler (the answer's round trip, sends, card refreshes) carries on."""

    query_id: str
    answered: asyncio.Event = field(default_factory=asyncio.Event)


#: The press whose handler is running, if any (see :class:`Press`).
PRESS: ContextVar[Press | None] = ContextVar("courtyard_press", default=None)


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's limits, as the outbox respects them. Tests may loosen them."""

    global_per_second: float = 30.0
    # scheduled sends (reminders, announcements, closings) use at most this much of it, so
    # replies to residents always find room in the global budget
    background_per_second: float = 20.0
    # ...and take a global token only while at least this many are left for replies
    reply_reserve: float = 5.0
    # a group: at most group_burst messages in any group_burst / group_per_second seconds
    # (20 in any rolling minute, as Telegram counts them)
    group_burst: int = 20
    group_per_second: float = 20 / 60
    private_burst: int = 3
    private_per_second: float = 1.0
    edit_interval: float = 3.0  # between two refreshes of one card in a group
    private_edit_interval: float = 1.0
    max_attempts: int = 5  # for timeouts and 5xx
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_total_wait: float = 900.0  # give up on 429s after this long in all
    # a send made by a press handler before it answered the press, and that would wait longer
    # than this for its turn, answers the press first (Telegram refuses answers after ~15 s,
    # and a resident who sees no answer presses again)
    press_patience: float = 0.5


class TokenBucket:
    """A token bucket that hands out *reservations*: callers queue fairly in arrival order.

    ``reserve()`` takes a token now and returns how long the caller must wait before using it.
    The clock is injectable so the arithmetic is tested without sleeping.
    """

    def __init__(
        self, capacity: float, per_second: float, clock: Callable[[], float] = time.monotonic
    ):
        self.capacity = capacity
        self.per_second = per_second
        self._clock = clock
        self._tokens = capacity
        self._stamp = clock()

    def reserve(self) -> float:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.per_second)
        self._stamp = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.per_second

    def available(self) -> float:
        """Tokens there now (negative while reservations are waiting)."""
        now = self._clock()
        return min(self.capacity, self._tokens + (now - self._stamp) * self.per_second)

    @property
    def idle(self) -> bool:
        """Full again: the bucket can be forgotten without changing any future answer."""
        now = self._clock()
        return self._tokens + (now - self._stamp) * self.per_second >= self.capacity


class SlidingWindow:
    """At most ``capacity`` uses in any ``window`` seconds, handed out as reservations in
    arrival order (like :class:`TokenBucket`).

    Telegram counts a group's messages per rolling minute; a token bucket with a burst of 20
    and 20 a minute lets up to 40 through in one minute (the burst, then the refill), which is
    how a busy group earns a 429. Here the n-th use waits until the (n - capacity)-th has left
    the window.
    """

    def __init__(self, capacity: int, window: float, clock: Callable[[], float] = time.monotonic):
        if capacity < 1 or window <= 0:
            raise ValueError("a sliding window needs a positive capacity and length")
        self.capacity = capacity
        self.window = window
        self._clock = clock
        self._slots: collections.deque[float] = collections.deque()

    def reserve(self) -> float:
        now = self._clock()
        while self._slots and self._slots[0] <= now - self.window:
            self._slots.popleft()
        slot = now
        if len(self._slots) >= self.capacity:
            slot = max(now, self._slots[-self.capacity] + self.window)
        self._slots.append(slot)
        return slot - now

    @property
    def idle(self) -> bool:
        """No use inside the window: forgetting it changes no future answer."""
        return not self._slots or self._slots[-1] <= self._clock() - self.window


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _is_group(chat_id: int) -> bool:
    return chat_id < 0


@dataclass(slots=True)
class _Where:
    """The topic of one send, and whether it had to go to General instead."""

    thread: int | None
    note: str | None
    moved: bool = False
    tell: bool = False  # start the message with ``note`` (its topic's first refusal)

    def text(self, text: str, limit: int) -> str:
        if not (self.tell and self.note) or len(self.note) + len(text) + 2 > limit:
            return text
        return f"{self.note}\n\n{text}"


class _Refresh:
    __slots__ = ("dirty", "last", "on_moved", "render", "task")

    def __init__(self) -> None:
        self.dirty = False
        self.last = float("-inf")
        self.task: asyncio.Task[None] | None = None
        self.render: Callable[[], Awaitable[Rendered | None]] | None = None
        self.on_moved: Callable[[int], Awaitable[None]] | None = None


class Outbox:
    def __init__(
        self,
        bot: Bot,
        *,
        hooks: OutboxHooks | None = None,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.bot = bot
        self.hooks: OutboxHooks = hooks or NoHooks()
        self.limits = limits or Limits()
        self._clock = clock
        self._sleep = sleep
        self._stopping = asyncio.Event()  # set by stop_background
        self._global = TokenBucket(
            self.limits.global_per_second, self.limits.global_per_second, clock
        )
        self._background = TokenBucket(
            self.limits.background_per_second, self.limits.background_per_second, clock
        )
        self._chats: dict[int, TokenBucket | SlidingWindow] = {}
        #: several workers on one PostgreSQL: the chats' windows and the global budget are
        #: shared by all of them (bot/workers.py), instead of ``_chats`` and ``_global``
        self.shared: Any = None
        self._held_until: dict[int, float] = {}
        self._redirects: dict[int, int] = {}
        self._refreshes: dict[tuple[int, int], _Refresh] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_failure: dict[int, str] = {}
        self._lost: set[tuple[int, int]] = set()  # cards whose loss was reported
        self._topics_told: set[tuple[int, int]] = set()  # topics whose refusal was told
        #: the topic of messages sent in one, newest last: a card posted again goes back there
        self._threads: collections.OrderedDict[tuple[int, int], int] = collections.OrderedDict()
        self.stats = {"sent": 0, "edited": 0, "retries": 0, "retry_after": 0, "failed": 0}
        #: sends a closed or deleted topic refused, made in General instead
        self.to_general = 0
        #: told ``(chat_id, message_id, text, reply_markup)`` once Telegram has confirmed what a
        #: message shows (a send with a keyboard, an edit made or not needed): handlers/cards.py
        #: keeps it to bring cards up to date after a crash
        self.on_drawn: Drawn | None = None

    # --- plumbing -------------------------------------------------------------------------

    def redirect(self, old_id: int, new_id: int) -> None:
        """From now on, messages for ``old_id`` go to ``new_id`` (a group became a supergroup;
        call this once its rows have moved).

        The old group's messages get new ids in the supergroup, so nothing is ever edited,
        deleted or pinned by an id of the old group: such calls return ``None``, and refreshes
        asked for before the move are dropped. The first time, ``hooks.chat_moved`` runs in
        the background (it posts the open cards anew)."""
        first = self._redirects.get(old_id) != new_id
        self._redirects[old_id] = new_id
        for (chat_id, _), state in self._refreshes.items():
            if chat_id == old_id:
                state.dirty = False
        if first:
            self.background(self.hooks.chat_moved(old_id, new_id), f"chat {old_id} moved")

    def background(self, work: Awaitable[None], name: str) -> None:
        """Run ``work`` after the replies residents wait for, counted by ``idle()`` (shutdown
        awaits it); a failure is logged, never raised."""

        async def run() -> None:
            PRESS.set(None)  # not part of the press that may have caused it
            BACKGROUND.set(True)  # replies to residents go first
            try:
                await work
            except Stopping:
                log.info("%s: not finished, the bot is stopping", name)
            except Exception:
                log.exception("%s: failed", name)

        task = asyncio.get_running_loop().create_task(run(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def current_id(self, chat_id: int) -> int:
        seen = set()
        while chat_id in self._redirects and chat_id not in seen:
            seen.add(chat_id)
            chat_id = self._redirects[chat_id]
        return chat_id

    def _bucket(self, chat_id: int) -> TokenBucket | SlidingWindow:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > 10_000:  # forget full buckets of quiet chats
                for key in [k for k, b in self._chats.items() if b.idle]:
                    del self._chats[key]
            if _is_group(chat_id):
                window = self.limits.group_burst / self.limits.group_per_second
                bucket = SlidingWindow(self.limits.group_burst, window, self._clock)
            else:
                bucket = TokenBucket(
                    self.limits.private_burst, self.limits.private_per_second, self._clock
                )
            self._chats[chat_id] = bucket
        return bucket

    async def _pause(self, delay: float) -> None:
        """Wait ``delay`` for a turn; an unanswered press is answered before a long wait."""
        if delay > self.limits.press_patience:
            await self._answer_press_now()
        await self._wait(delay)

    def stop_background(self) -> None:
        """The bot is stopping: scheduled sends still waiting for their turn give up (raising
        :class:`Stopping`) instead of holding the stop; sends on their way finish."""
        self._stopping.set()

    async def _wait(self, delay: float) -> None:
        """Sleep ``delay``; a scheduled send's wait ends early, with :class:`Stopping`, when
        the bot stops (replies to residents still wait: the stop lets them finish)."""
        if not BACKGROUND.get():
            await self._sleep(delay)
            return
        if self._stopping.is_set():
            raise Stopping
        sleeping = asyncio.ensure_future(self._sleep(delay))
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({sleeping, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            stopped.cancel()
        if self._stopping.is_set():
            raise Stopping

    async def _answer_press_now(self) -> None:
        press = PRESS.get()
        if press is not None and not press.answered.is_set():
            log.info("answering press %s before a send that has to wait", press.query_id)
            await self.answer(press.query_id)

    async def _wait_turn(self, chat_id: int, limited: bool) -> None:
        if chat_id in self._held_until:
            held = self._held_until[chat_id] - self._clock()
            if held > 0:
                await self._pause(held)
            else:
                del self._held_until[chat_id]
        if limited:
            if BACKGROUND.get():
                # scheduled sends queue in their own budget first (see BACKGROUND)
                delay = self._background.reserve()
                if delay > 0:
                    await self._wait(delay)
            if self.shared is not None:
                # the chat's window and the global budget of every worker, in one round trip;
                # a scheduled send leaves the last few global tokens to replies
                background = BACKGROUND.get()
                delay, global_delay = await self.shared.reserve(chat_id, background)
                if global_delay is None:  # the chat's turn first, then the global token
                    await self._pause(delay)
                    global_delay = await self.shared.reserve_global(background)
                if global_delay > 0:
                    await self._pause(global_delay)
                return
            # the chat's turn first; the global token is taken only when the message can go
            delay = self._bucket(chat_id).reserve()
            if delay > 0:
                await self._pause(delay)
            if BACKGROUND.get():
                # and they leave the last few global tokens to replies: when residents are busy,
                # reminders slow down rather than replies queueing behind them
                step = 1.0 / self.limits.global_per_second
                while self._global.available() < self.limits.reply_reserve:
                    await self._wait(step)
            delay = self._global.reserve()
            if delay > 0:
                await self._pause(delay)

    async def _call(
        self,
        method: str,
        chat_id: int,
        fn: Callable[[int], Awaitable[T]],
        *,
        limited: bool = True,
        on_bad_request: Callable[[BadRequest, int], Awaitable[T | None]] | None = None,
        by_message_id: bool = False,
        report: bool = True,
    ) -> T | None:
        """Run ``fn(chat_id)`` with limits and retries. ``None`` means: not delivered.

        ``by_message_id``: the call names a message of ``chat_id`` (edit, delete, pin). If that
        chat has become a supergroup, the id is one of the old group's and names some other
        message there: the call is not made (``None``). ``report=False``: a caller that retries
        (a scheduled post) or tells the person itself reports the failure once, itself; the
        reason is kept for it (:meth:`last_failure`)."""
        if by_message_id and chat_id in self._redirects:
            log.info("%s by a message id of group %s, now a supergroup: skipped", method, chat_id)
            return None
        chat_id = self.current_id(chat_id)
        attempts = 0
        waited = 0.0
        while True:
            await self._wait_turn(chat_id, limited)
            try:
                return await fn(chat_id)
            except RetryAfter as exc:
                pause = retry_seconds(exc)
                self.stats["retry_after"] += 1
                waited += pause
                if waited > self.limits.max_total_wait:
                    await self._failed(chat_id, method, f"flood wait over {waited:.0f}s", report)
                    return None
                log.warning("429 from Telegram in chat %s: waiting %.1fs", chat_id, pause)
                self._held_until[chat_id] = self._clock() + pause
                continue
            except ChatMigrated as exc:
                new_id = int(exc.new_chat_id)
                log.info("chat %s became supergroup %s", chat_id, new_id)
                await self.hooks.chat_migrated(chat_id, new_id)  # rows first, then redirect
                self.redirect(chat_id, new_id)
                if by_message_id:
                    return None  # never by an old message id in the supergroup
                chat_id = new_id
                continue
            except Forbidden as exc:
                log.info("chat %s unreachable: %s", chat_id, exc.message)
                self._last_failure[chat_id] = exc.message
                await self.hooks.chat_unreachable(chat_id, exc.message)
                return None
            except BadRequest as exc:
                text = exc.message.lower()
                if "chat not found" in text:
                    self._last_failure[chat_id] = exc.message
                    await self.hooks.chat_unreachable(chat_id, exc.message)
                    return None
                if on_bad_request is not None:
                    return await on_bad_request(exc, chat_id)
                raise
            except (TimedOut, NetworkError) as exc:
                attempts += 1
                self.stats["retries"] += 1
                if attempts >= self.limits.max_attempts:
                    await self._failed(chat_id, method, f"{type(exc).__name__}: {exc}", report)
                    return None
                pause = min(self.limits.backoff_cap, self.limits.backoff_base * 2 ** (attempts - 1))
                log.warning(
                    "%s to chat %s failed (%s), retry %d in %.1fs",
                    method,
                    chat_id,
                    type(exc).__name__,
                    attempts,
                    pause,
                )
                await self._wait(pause)

    async def _drawn(
        self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        if self.on_drawn is None:
            return
        try:
            await self.on_drawn(chat_id, message_id, text, markup)
        except Exception:  # a card left unrecorded is redrawn at the next start, no more
            log.exception("recording message %s in chat %s failed", message_id, chat_id)

    async def _failed(self, chat_id: int, method: str, reason: str, report: bool = True) -> None:
        self.stats["failed"] += 1
        self._last_failure[chat_id] = reason
        log.error("giving up %s to chat %s: %s", method, chat_id, reason)
        if report:
            await self.hooks.delivery_failed(chat_id, method, reason)

    def last_failure(self, chat_id: int) -> str:
        """Why the last call to this chat was not delivered (for the caller who reports it)."""
        return self._last_failure.get(self.current_id(chat_id), "not delivered")

    # --- sending --------------------------------------------------------------------------

    def _where(self, chat_id: int, thread_id: int | None, moved_note: str | None) -> _Where:
        """The topic of a send: the one named, else the topic of the update being handled
        when the send goes to its chat (never for a scheduled send)."""
        if thread_id is None and not BACKGROUND.get():
            asked = TOPIC.get()
            if (
                asked is not None
                and asked.task is asyncio.current_task()
                and self.current_id(asked.chat_id) == self.current_id(chat_id)
            ):
                thread_id = asked.thread_id
                moved_note = moved_note or asked.moved_note
        return _Where(thread_id, moved_note)

    async def _to_general(
        self, exc: BadRequest, cid: int, where: _Where, again: Callable[[], Awaitable[T | None]]
    ) -> T | None:
        """A send its topic refused: to General instead (without the reply, which is in that
        topic), the note first the first time for this topic."""
        thread = where.thread
        assert thread is not None
        log.info("topic %s of chat %s refused a send (%s): to General", thread, cid, exc.message)
        self.to_general += 1
        where.thread = None
        where.moved = True
        if (cid, thread) not in self._topics_told:
            self._topics_told.add((cid, thread))
            where.tell = bool(where.note)
        return await again()

    def _note_thread(self, message: Message) -> None:
        if message.is_topic_message and message.message_thread_id is not None:
            self._threads[(message.chat.id, message.message_id)] = message.message_thread_id
            while len(self._threads) > 20_000:
                self._threads.popitem(last=False)

    def thread_of(self, chat_id: int, message_id: int) -> int | None:
        """The topic a message this process sent is in (None: General, or not known)."""
        return self._threads.get((self.current_id(chat_id), message_id))

    def told_topic_moved(self, chat_id: int, thread_id: int) -> bool:
        """Whether a refusal by this topic has been met (and told) since the start."""
        return (self.current_id(chat_id), thread_id) in self._topics_told

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
        silent: bool = False,
        report: bool = True,
        thread_id: int | None = None,
        moved_note: str | None = None,
    ) -> Message | None:
        """Send an HTML message. Returns the message, or ``None`` if it could not be delivered.
        If the chat turns out to have become a supergroup, the message goes there, without
        ``reply_to`` (an id of the old group's). ``thread_id``: the forum topic (see the module
        notes); ``moved_note`` starts the message if the topic refuses it (first time only)."""
        first = self.current_id(chat_id)
        where = self._where(chat_id, thread_id, moved_note)

        async def call(cid: int) -> Message:
            return await self.bot.send_message(
                chat_id=cid,
                text=where.text(text, 4096),
                parse_mode=ParseMode.HTML,
                reply_markup=reply_markup,
                reply_parameters=(
                    ReplyParameters(reply_to, allow_sending_without_reply=True)
                    if reply_to and cid == first and not where.moved
                    else None
                ),
                message_thread_id=where.thread,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                disable_notification=silent,
            )

        async def bad(exc: BadRequest, cid: int) -> Message | None:
            if where.thread is None or not topic_gone(exc):
                raise exc
            return await self._to_general(
                exc, cid, where, lambda: self._call("sendMessage", cid, call, report=report)
            )

        message = await self._call("sendMessage", chat_id, call, report=report, on_bad_request=bad)
        if message is not None:
            self.stats["sent"] += 1
            self._note_thread(message)
            if reply_markup is not None:
                await self._drawn(message.chat.id, message.message_id, text, reply_markup)
        return message

    async def send_document(
        self,
        chat_id: int,
        content: bytes,
        filename: str,
        *,
        caption: str | None = None,
        thread_id: int | None = None,
        moved_note: str | None = None,
    ) -> Message | None:
        """A file; ``thread_id`` and ``moved_note`` as in :meth:`send`."""
        where = self._where(chat_id, thread_id, moved_note)

        async def call(cid: int) -> Message:
            return await self.bot.send_document(
                chat_id=cid,
                document=InputFile(content, filename=filename),
                caption=where.text(caption, MAX_CAPTION) if caption else None,
                parse_mode=ParseMode.HTML,
                message_thread_id=where.thread,
            )

        async def bad(exc: BadRequest, cid: int) -> Message | None:
            if where.thread is None or not topic_gone(exc):
                raise exc
            return await self._to_general(
                exc, cid, where, lambda: self._call("sendDocument", cid, call)
            )

        return await self._call("sendDocument", chat_id, call, on_bad_request=bad)

    async def send_photo(
        self,
        chat_id: int,
        photo: str | bytes,
        *,
        caption: str | None = None,
        reply_to: int | None = None,
        filename: str = "picture.png",
        thread_id: int | None = None,
        moved_note: str | None = None,
    ) -> Message | None:
        """A photo by Telegram file id, or drawn bytes (uploaded as ``filename``); captions are
        at most 1024 characters: cut here. ``reply_to`` as in :meth:`send` (dropped when the
        chat moved). A photo Telegram refuses returns ``None`` (logged), like any undeliverable
        message."""
        first = self.current_id(chat_id)
        where = self._where(chat_id, thread_id, moved_note)

        async def call(cid: int) -> Message:
            return await self.bot.send_photo(
                chat_id=cid,
                photo=InputFile(photo, filename=filename) if isinstance(photo, bytes) else photo,
                caption=where.text(caption, MAX_CAPTION)[:MAX_CAPTION] if caption else None,
                parse_mode=ParseMode.HTML,
                reply_parameters=(
                    ReplyParameters(reply_to, allow_sending_without_reply=True)
                    if reply_to and cid == first and not where.moved
                    else None
                ),
                message_thread_id=where.thread,
            )

        async def bad(exc: BadRequest, cid: int) -> Message | None:
            if where.thread is not None and topic_gone(exc):
                return await self._to_general(
                    exc, cid, where, lambda: self._call("sendPhoto", cid, call, on_bad_request=bad)
                )
            log.info("photo refused in chat %s: %s", cid, exc.message)
            return None

        message = await self._call("sendPhoto", chat_id, call, on_bad_request=bad)
        if message is not None:
            self.stats["sent"] += 1
        return message

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None = None,
        repost: bool = True,
        report: bool = True,
    ) -> int | None:
        """Edit a message; returns the id of the message that now shows ``text``.

        That is ``message_id`` (also when Telegram says nothing changed), a new id when the
        message was deleted and ``repost`` is set (the text is posted again), or ``None``.
        """

        async def call(cid: int) -> int:
            await self.bot.edit_message_text(
                chat_id=cid,
                message_id=message_id,
                text=text,
                parse_mode=ParseMode.HTML,
                reply_markup=reply_markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            await self._drawn(cid, message_id, text, reply_markup)
            return message_id

        async def bad(exc: BadRequest, cid: int) -> int | None:
            msg = exc.message.lower()
            if "not modified" in msg:
                await self._drawn(cid, message_id, text, reply_markup)
                return message_id
            if "message to edit not found" in msg or "message_id_invalid" in msg:
                if not repost:
                    return None
                log.info("message %s in chat %s is gone; posting it again", message_id, cid)
                again = await self.send(
                    cid,
                    text,
                    reply_markup=reply_markup,
                    report=report,
                    thread_id=self._threads.get((cid, message_id)),  # back to its topic
                )
                if again is not None and reply_markup is None:
                    await self._drawn(again.chat.id, again.message_id, text, None)
                return again.message_id if again else None
            raise exc

        result = await self._call(
            "editMessageText",
            chat_id,
            call,
            on_bad_request=bad,
            by_message_id=True,
            report=report,
        )
        if result is not None:
            self.stats["edited"] += 1
        return result

    async def delete(self, chat_id: int, message_id: int) -> bool:
        """Delete a message; a message that is already gone counts as deleted."""

        async def call(cid: int) -> bool:
            return await self.bot.delete_message(chat_id=cid, message_id=message_id)

        async def bad(exc: BadRequest, cid: int) -> bool:
            msg = exc.message.lower()
            if "message to delete not found" in msg:
                return True
            if "can't be deleted" in msg:
                return False
            raise exc

        return bool(
            await self._call(
                "deleteMessage",
                chat_id,
                call,
                limited=False,
                on_bad_request=bad,
                by_message_id=True,
            )
        )

    async def answer(
        self, callback_query_id: str, text: str | None = None, *, alert: bool = False
    ) -> bool:
        """Answer a button press at once: an answer is not a message to the chat, so it never
        waits for the chat's budget nor for the global one. An expired query is not an error.
        A press the outbox already answered (before a send that had to wait) is not answered
        twice: Telegram would refuse it."""
        press = PRESS.get()
        mine = press is not None and press.query_id == callback_query_id
        if mine and press is not None and press.answered.is_set():
            log.info("press %s was answered already; %r not shown", callback_query_id, text)
            return False
        if mine and press is not None:
            # the press leaves its lane now: its answer's round trip need not hold it
            press.answered.set()
        try:
            return await self.bot.answer_callback_query(
                callback_query_id, text=text, show_alert=alert
            )
        except BadRequest as exc:
            log.info("callback answer refused: %s", exc.message)
            return False
        except TelegramError as exc:  # 429, 403, timeouts: the press is lost, not the bot
            log.warning("callback answer failed: %s", exc)
            return False

    async def pin(self, chat_id: int, message_id: int, *, report: bool = True) -> bool:
        """Pin a message quietly. ``False`` if Telegram refused (the bot may not pin there:
        the reason is in :meth:`last_failure`) or it could not be done."""

        async def call(cid: int) -> bool:
            return await self.bot.pin_chat_message(
                chat_id=cid, message_id=message_id, disable_notification=True
            )

        async def bad(exc: BadRequest, cid: int) -> bool:
            log.info("pin refused in chat %s: %s", cid, exc.message)
            self._last_failure[cid] = exc.message
            return False

        return bool(
            await self._call(
                "pinChatMessage",
                chat_id,
                call,
                on_bad_request=bad,
                by_message_id=True,
                report=report,
            )
        )

    # --- coalesced card refreshes ---------------------------------------------------------

    def refresh(
        self,
        chat_id: int,
        message_id: int,
        render: Callable[[], Awaitable[Rendered | None]],
        *,
        on_moved: Callable[[int], Awaitable[None]] | None = None,
        thread_id: int | None = None,
    ) -> None:
        """Ask for a card to be brought up to date; returns at once. ``thread_id``: the forum
        topic the card is in (stored with its row), where it goes if it has to be posted again.

        ``render`` is awaited when the edit is due, so it reads the latest state. Edits of one
        message are at least ``edit_interval`` apart; requests in between are merged into one.
        ``render`` returning ``None`` skips the edit. ``on_moved(new_id)`` runs when the card
        had to be posted again. A message id of a group that has become a supergroup is
        never refreshed (see :meth:`redirect`).
        """
        if chat_id in self._redirects:
            log.info(
                "refresh of message %s of group %s, now a supergroup: dropped", message_id, chat_id
            )
            return
        if thread_id is not None:
            self._threads[(chat_id, message_id)] = thread_id
        key = (chat_id, message_id)
        if len(self._refreshes) > 5_000:  # forget settled cards; their interval has passed
            horizon = self._clock() - max(self.limits.edit_interval, 1.0)
            for k in [k for k, s in self._refreshes.items() if s.task is None and s.last < horizon]:
                del self._refreshes[k]
        state = self._refreshes.get(key)
        if state is None:
            state = self._refreshes[key] = _Refresh()
        state.dirty = True
        state.render = render
        state.on_moved = on_moved
        if state.task is None or state.task.done():
            state.task = asyncio.get_running_loop().create_task(
                self._refresh_loop(key, state), name=f"refresh {key}"
            )

    async def _refresh_loop(self, key: tuple[int, int], state: _Refresh) -> None:
        chat_id, message_id = key
        interval = (
            self.limits.edit_interval if _is_group(chat_id) else self.limits.private_edit_interval
        )
        while state.dirty:
            due = state.last + interval - self._clock()
            if due > 0:
                await self._sleep(due)
            if chat_id in self._redirects:
                break  # the group became a supergroup meanwhile: its cards are posted anew
            state.dirty = False
            try:
                assert state.render is not None
                # several workers: one card's render and edit one worker at a time, so the
                # last edit shows the last render (bot/workers.py); nothing in one process
                turn = self.shared.card_turn(chat_id, message_id) if self.shared else None
                async with turn or contextlib.nullcontext():
                    rendered = await state.render()
                    state.last = self._clock()
                    if rendered is None:
                        continue
                    text, markup = rendered
                    new_id = await self.edit(
                        chat_id, message_id, text, reply_markup=markup, report=False
                    )
                if new_id is None and chat_id not in self._redirects:
                    await self._card_lost(chat_id, message_id, text)
                elif new_id is not None and new_id != message_id:
                    if state.on_moved is not None:
                        await state.on_moved(new_id)
                    message_id = new_id
            except Stopping:
                break  # the bot is stopping; the next start redraws its cards
            except Exception:
                # one failed refresh must not swallow the requests that came in meanwhile
                state.last = self._clock()
                log.exception("refreshing message %s in chat %s failed", message_id, chat_id)
        state.task = None

    async def _card_lost(self, chat_id: int, message_id: int, text: str) -> None:
        """A card could be neither edited nor posted again: reported once per card."""
        if (chat_id, message_id) in self._lost:
            return
        if len(self._lost) > 10_000:
            self._lost.clear()
        self._lost.add((chat_id, message_id))
        await self.hooks.card_lost(chat_id, message_id, text, self.last_failure(chat_id))

    @property
    def pending_refreshes(self) -> int:
        """Refreshes not yet sent, and background work (cards posted anew after a move)."""
        busy = sum(1 for s in self._refreshes.values() if s.task is not None and not s.task.done())
        return busy + sum(1 for task in self._tasks if not task.done())

    async def idle(self) -> None:
        """Wait until every requested refresh has been sent."""
        while True:
            tasks = [s.task for s in self._refreshes.values() if s.task and not s.task.done()]
            tasks += [task for task in self._tasks if not task.done()]
            if not tasks:
                return
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        """Flush pending refreshes (used at shutdown)."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.idle(), timeout=10)
        for state in self._refreshes.values():
            if state.task and not state.task.done():
                state.task.cancel()
        for task in list(self._tasks):
            task.cancel()
