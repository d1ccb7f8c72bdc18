"""Cards that are true after a crash.

A card (a poll, decision, event, roster, listing, group buy or chain message) is edited
through the outbox's coalesced refresh a moment after its row changes. A process killed in
that moment leaves the card showing a state the database no longer has. So:

* the outbox reports every message it has drawn (``Outbox.on_drawn``: a send with a keyboard,
  an edit Telegram made or found not needed) and :func:`record` keeps a hash of its text and
  keyboard (storage/cards.py);
* at start-up :func:`reconcile` renders every open card afresh — with the renderer its feature
  registered here, the one its own refresh uses — compares it with the hash, and asks the
  feature to refresh only the cards that differ (or were never recorded). Those refreshes go
  through the outbox (each group's 20 messages a minute, the background budget); a group with
  many stale cards gets the first ``AT_ONCE`` at once and the others one every
  ``2 / group_per_second`` seconds (6 s) — half of its budget, so residents' replies keep the
  other half.

Before the cards are compared, the work a crash may have left half done runs once: features
register it with :func:`after_start` (an outcome committed but never posted: the decision or
poll closed, the process died before the outcome message went out).

A closed card whose hash is older than its closing is redrawn too; once a closed card is seen
to match, its hash is dropped. A card of a group that became a supergroup is compared only if it
was drawn in the supergroup: without a hash its message id may be one of the old group's, which
names an unrelated message there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.ext import Application, CallbackContext, JobQueue

from bot.outbox import BACKGROUND, Rendered
from bot.services import Services
from storage import cards as store
from storage.db import DatabaseClosed

log = logging.getLogger(__name__)

#: Stale cards of one chat redrawn at once at start-up; the others are spaced (:func:`spacing`).
AT_ONCE = 3

#: A start-up job runs however late the loop gets to it: APScheduler's default grace of 1 s
#: silently dropped the check on a busy start (measured under load in the crash suite).
LATE_OK: dict[str, Any] = {"misfire_grace_time": None}

#: The key of this module's state in ``Services.state``.
STATE = "cards"

Render = Callable[[Services, int], Awaitable[Rendered | None]]
Redraw = Callable[[Services, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CardKind:
    name: str
    render: Render  # the card as the database says now (None: the row is gone)
    redraw: Redraw  # ask the feature's own coalesced refresh to bring it up to date


_KINDS: dict[str, CardKind] = {}

#: Returns how many things it finished (e.g. outcomes posted).
Unfinished = Callable[[Services], Awaitable[int]]
_AFTER_START: dict[str, Unfinished] = {}


def started_at(services: Services) -> datetime | None:
    """When this process started (None before :func:`start`)."""
    report = services.state.get(STATE)
    return report.started if isinstance(report, Report) else None


def after_start(name: str, work: Unfinished) -> None:
    """``work`` runs once at start-up, before the cards are compared (its posts go first)."""
    _AFTER_START[name] = work


async def finish_unfinished(services: Services, report: Report) -> None:
    """Run every :func:`after_start` work; one failing does not stop the others."""
    for name, work in sorted(_AFTER_START.items()):
        try:
            report.finished += await work(services)
        except Exception:
            report.failed += 1
            log.exception("finishing %s after the start failed", name)


def register(name: str, *, render: Render, redraw: Redraw) -> None:
    """A feature's cards: ``name`` is one of ``storage.cards.KINDS``."""
    if name not in store.KINDS:
        raise ValueError(f"unknown card kind {name!r}: add it to storage.cards.KINDS")
    _KINDS[name] = CardKind(name, render, redraw)


def kinds() -> list[str]:
    return sorted(_KINDS)


@dataclass
class Report:
    """What the start-up check found (``Services.state["cards"]``)."""

    checked: int = 0
    unchanged: int = 0
    stale: int = 0  # drawn differently from what the database says now
    unrecorded: int = 0  # never recorded (drawn by an older version): redrawn
    skipped: int = 0  # unrecorded in a supergroup that was a basic group: left alone
    redrawn: int = 0  # refreshes handed to the feature so far
    pruned: int = 0
    failed: int = 0
    finished: int = 0  # outcomes and the like a crash had left unposted, posted now
    #: when this process started: work left unfinished is work of an earlier process (a close
    #: made since, by a start-up job running beside the check, is posted by that job)
    started: datetime | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def line(self) -> str:
        return (
            f"cards checked={self.checked} unchanged={self.unchanged} stale={self.stale}"
            f" unrecorded={self.unrecorded} skipped={self.skipped} pruned={self.pruned}"
            f" failed={self.failed} finished={self.finished}"
        )


def markup_dict(markup: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    return markup.to_dict() if markup is not None else None


def digest_of(rendered: Rendered) -> str:
    text, markup = rendered
    return store.digest(text, markup_dict(markup))


async def record(
    services: Services,
    chat_id: int,
    message_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    """``Outbox.on_drawn``: Telegram confirmed this message shows ``text`` and ``markup``."""
    await store.record(
        services.db, chat_id, message_id, store.digest(text, markup_dict(markup)), services.clock()
    )


async def render_all(
    services: Services, report: Report | None = None
) -> list[tuple[store.Card, Rendered | None]]:
    """Every card there is (open, or closed with a digest), rendered as the database says now."""
    found = await store.listed(services.db, kinds(), services.clock())
    rendered: list[tuple[store.Card, Rendered | None]] = []
    for card in found:
        try:
            rendered.append((card, await _KINDS[card.kind].render(services, card.row_id)))
        except DatabaseClosed:
            raise  # the bot is stopping: the check ends here, not once per remaining card
        except Exception:
            if report is not None:
                report.failed += 1
            log.exception("rendering %s %s failed", card.kind, card.row_id)
    return rendered


async def reconcile(services: Services, report: Report) -> list[list[store.Card]]:
    """Compare every card with what was last drawn; returns the stale cards per chat."""
    drawn = await store.digests(services.db)
    migrated = await store.migrated_chats(services.db)
    seen: set[tuple[int, int]] = set()
    settled: list[tuple[int, int]] = []
    stale: dict[int, list[store.Card]] = {}
    for card, rendered in await render_all(services, report):
        seen.add(card.key)
        if rendered is None:
            continue
        report.checked += 1
        last = drawn.get(card.key)
        if last is None:
            if not card.open:
                continue
            if card.chat_id in migrated:
                report.skipped += 1
                continue
            report.unrecorded += 1
        elif last == digest_of(rendered):
            report.unchanged += 1
            if not card.open:
                settled.append(card.key)
            continue
        else:
            report.stale += 1
        stale.setdefault(card.chat_id, []).append(card)
    report.pruned = await store.forget(
        services.db, [key for key in drawn if key not in seen] + settled
    )
    return list(stale.values())


def spacing(services: Services, chat_id: int) -> float:
    """Seconds between two start-up redraws in one chat: half of its send budget."""
    limits = services.outbox.limits
    rate = limits.group_per_second if chat_id < 0 else limits.private_per_second
    return 2.0 / rate


async def _redraw(services: Services, report: Report, batch: list[store.Card], last: bool) -> None:
    token = BACKGROUND.set(True)  # the refresh tasks inherit it: replies go first
    try:
        for card in batch:
            try:
                await _KINDS[card.kind].redraw(services, card.row_id)
                report.redrawn += 1
            except Exception:
                report.failed += 1
                log.exception("redrawing %s %s failed", card.kind, card.row_id)
    finally:
        BACKGROUND.reset(token)
        if last:
            report.done.set()


def schedule(
    job_queue: JobQueue[Any], services: Services, report: Report, per_chat: list[list[store.Card]]
) -> int:
    """The first ``AT_ONCE`` stale cards of every chat are redrawn at once, the n-th after them
    at n * spacing; one job per moment (jobs not yet run are dropped when the application
    stops: those cards are compared again at the next start). Returns the number of jobs."""
    batches: dict[float, list[store.Card]] = {}
    for chat_cards in per_chat:
        step = spacing(services, chat_cards[0].chat_id)
        for n, card in enumerate(chat_cards):
            batches.setdefault(round(max(0, n - AT_ONCE + 1) * step, 3), []).append(card)
    delays = sorted(batches)
    for delay in delays:

        async def job(
            context: CallbackContext[Any, Any, Any, Any],
            batch: list[store.Card] = batches[delay],
            last: bool = delay == delays[-1],
        ) -> None:
            await _redraw(services, report, batch, last)

        job_queue.run_once(job, delay, name="card redraw", job_kwargs=LATE_OK)
    return len(delays)


def start(app: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    """At start-up: record what the outbox draws from now on, and once the application runs,
    bring every card that changed since it was last drawn up to date."""
    services.outbox.on_drawn = partial(record, services)
    report = services.state[STATE] = Report(started=services.clock())
    job_queue = app.job_queue
    if job_queue is None:  # pragma: no cover - build_app always has one
        report.done.set()
        return

    async def check(context: CallbackContext[Any, Any, Any, Any]) -> None:
        await finish_unfinished(services, report)
        try:
            per_chat = await reconcile(services, report)
        except DatabaseClosed:
            log.info("the cards check ended: the bot is stopping")
            report.done.set()
            return
        except Exception:
            log.exception("checking the cards after the start failed")
            report.done.set()
            return
        if report.stale or report.unrecorded:
            log.info("%s: bringing them up to date", report.line())
        else:
            log.info(report.line())
        if not schedule(job_queue, services, report, per_chat):
            report.done.set()

    job_queue.run_once(check, 0, name="cards after start", job_kwargs=LATE_OK)
