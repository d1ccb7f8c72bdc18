"""Households: residents claim their unit, leads keep the register.

/unit 3-502              (group) claim a unit; /unit alone shows yours and their status
/units                   (group, leads) the register: label, area, approved residents; paged
/units add 3-502 89.5    (leads) add a unit or update its area (area optional)
/units remove 3-502      (leads) remove a unit and every claim to it
/units restore 3-502     (leads) restore the claims to it a departure suspended (people back)
/units add 3-502 80 | entrance 2   (leads) also set the unit's part of the building
CSV document             (private, leads) bulk import into a group the sender leads

Choices:

* Only a lead changes the register. A resident's claim to a label the register does not have
  is a request that names the label; a lead's approval of it adds the unit, rejecting it leaves
  the register as it was, whatever ``unit_approval`` says. ``/units add``, the CSV import, a
  lead's own ``/unit`` and that approval are the only ways a unit appears, and each of them
  (and every removal or area change) reaches open decisions as an audited act
  (``storage.decisions.register_changed``, in the same transaction); their cards are refreshed.
* Look-alike labels ("1-О1" with a Cyrillic О, "١-٠١") are the unit they look like: the
  register finds units by skeleton (``bot.domain.units.skeleton``).
* ``/units add 3-502 abc`` is refused: a word where an area was expected is an error, never a
  part of the label (``bot.domain.units.split_label_area``).
* A resident may hold several units; several residents may share one. With the group setting
  ``unit_approval`` on (the default) a claim to a registered unit waits for a lead; with it off
  it is approved at once. A lead's own claim to a registered unit is approved at once.
* People who leave. A claim still waiting whose resident has left is marked on the approval
  card and approving it takes a second press within CONFIRM_SECONDS; claims suspended by a
  departure are listed with a Restore button (working once the person is back), and
  ``/units restore`` does the same when the leads' notice never arrived. The card follows
  departures, returns and restores (handlers/lifecycle.py), is redrawn after a crash like
  every card (``cards.register("unit_queue")``) and is posted anew after a supergroup move.
* Quiet onboarding. The group sees one approval card (per group) that leads work through:
  Approve / Reject per claim, paged, edited in place through the outbox's coalesced refresh (a
  new card is posted only when nothing else was waiting, or the card is a day old). What a
  resident is told (waiting, approved, rejected) goes to their private chat; when Telegram
  refuses that (403: they never opened a private chat with the bot) it becomes one short line
  in the group, batched with the others of the moment. A press is answered first, before any
  of that, and nothing the press sends afterwards waits in the handler for the group's budget.
* ``/units add`` without an area, and a CSV row without one, keep the stored area. The last one
  to three words of ``/units add`` are the area whenever they read as one ("-" for none:
  ``/units add Apt 12 -``).
* The CSV waiting for its group is kept in memory per user (at most ``MAX_PENDING`` people): a
  restart forgets it and the lead simply sends the file again. Its buttons carry the file's
  number: an older question's buttons, or a replay after the import, find nothing.

Callback data (all under 64 bytes): un:a:<unit id>:<user id> / un:r:<unit id>:<user id>
(approve / reject a claim to a registered unit), un:a:n<request id> / un:r:n<request id>
(approve / reject a request naming a new label), un:a:s<unit id>:<user id> (restore a claim
suspended when its holder left: approving it again), un:p:<page> (register page), un:p:w<page>
(approval card page), un:i:<group chat id>:<file number> (import the pending CSV there).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.domain.errors import DomainError
from bot.domain.languages import fold_hant
from bot.domain.refs import Ref
from bot.domain.roles import Action, Role
from bot.domain.units import (
    decode_csv,
    normalize_label,
    parse_units_csv_parts,
    split_label_area,
    split_part,
)
from bot.i18n import Html, escape, shorten, t, tn
from bot.services import Services
from handlers import cards
from handlers.common import (
    GROUP_ONLY,
    PRIVATE_ONLY,
    Turn,
    button,
    command,
    display_name,
    in_group,
    is_id,
    mention,
    topic_of,
)
from storage import chats, decisions, members, units

log = logging.getLogger(__name__)

#: Units per page of /units.
PAGE_SIZE = 20
#: Claims per page of the approval card (each has its row of buttons).
QUEUE_PAGE = 10
#: A card older than this is not edited any more: a new one is posted at the bottom.
QUEUE_CARD_AGE = timedelta(hours=24)
#: Telegram's limit for a message text.
MAX_TEXT = 4096
#: Largest CSV file accepted, bytes.
MAX_CSV_BYTES = 1_000_000
#: Most people with a CSV waiting for its group; the oldest is dropped beyond.
MAX_PENDING = 100
#: Most groups offered for an import.
MAX_GROUPS = 20
#: Most line problems listed in a report.
MAX_PROBLEMS = 20
#: Most lines in one batched group notice.
MAX_BATCH = 30
#: Names on buttons are cut to this.
BUTTON_NAME = 16
#: A lead's second Approve press within this many seconds confirms approving the claim of
#: someone who has left the group.
CONFIRM_SECONDS = 30.0

_IMPORTS = "unit_imports"
_STATE = "unit_state"
_FILE_NUMBERS = itertools.count(1)


@dataclass(frozen=True, slots=True)
class PendingImport:
    rows: list[tuple[str, Fraction | None, str | None]]  # label, area, part of the building
    problems: list[tuple[int, str]]
    at: float
    number: int = 0


@dataclass(slots=True)
class _State:
    """Per application: the card locks, the batched group lines and the background tasks."""

    locks: dict[int, asyncio.Lock] = field(default_factory=dict)
    lines: dict[int, list[str]] = field(default_factory=dict)
    flushing: set[int] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    #: chats whose card changed while it was being posted: refreshed once it is there
    dirty: set[int] = field(default_factory=set)
    #: (chat, lead, button data) -> when a lead was asked to confirm approving a leaver's claim
    confirm: dict[tuple[int, int, str], float] = field(default_factory=dict)


def _state(services: Services) -> _State:
    state = services.state.get(_STATE)
    if state is None:
        state = services.state[_STATE] = _State()
    assert isinstance(state, _State)
    return state


def _spawn(services: Services, work: Coroutine[Any, Any, None]) -> None:
    state = _state(services)
    task = asyncio.get_running_loop().create_task(work)
    state.tasks.add(task)
    task.add_done_callback(state.tasks.discard)


async def idle(services: Services) -> None:
    """Wait until every notice this module queued has been sent (tests, shutdown)."""
    state = _state(services)
    while state.tasks:
        await asyncio.gather(*list(state.tasks), return_exceptions=True)


def format_area(area: Fraction) -> str:
    """89.5, 100, 72.25 — exact (areas have at most two decimals)."""
    hundredths = area * 100
    if hundredths.denominator != 1:
        return f"{float(area):.2f}"  # pragma: no cover - parse_area allows two decimals only
    whole, cents = divmod(hundredths.numerator, 100)
    return str(whole) if cents == 0 else f"{whole}.{cents:02d}".rstrip("0")


async def refresh_decisions(services: Services, decision_ids: tuple[int, ...]) -> None:
    """Bring the cards of the open decisions a register change reached up to date."""
    from handlers.decisions import refresh_card  # decisions build on units, not the reverse

    for decision_id in decision_ids:
        decision = await decisions.get(services.db, decision_id)
        if decision is not None:
            refresh_card(services, decision)


def _told(turn: Turn, decision_ids: tuple[int, ...]) -> str:
    """ " Open decisions told: D3, D5." after a lead's register change, or nothing."""
    if not decision_ids:
        return ""
    refs = ", ".join(Ref("decision", i).text for i in decision_ids)
    return "\n" + turn.t("unit.decisions_told", refs=refs)


# --- telling a resident ---------------------------------------------------------------------


async def _tell(
    services: Services,
    chat_id: int,
    user_id: int,
    *,
    private: str,
    line: str | None,
) -> None:
    """Send ``private`` to the user's private chat; when Telegram refuses (they never opened
    one, or blocked the bot), queue ``line`` for the group's next batched notice."""
    sent = await services.outbox.send(user_id, private)
    if sent is None and line is not None:
        _queue_line(services, chat_id, line)


def _queue_line(services: Services, chat_id: int, line: str) -> None:
    state = _state(services)
    state.lines.setdefault(chat_id, []).append(line)
    if chat_id not in state.flushing:
        state.flushing.add(chat_id)
        _spawn(services, _flush(services, chat_id))


async def _flush(services: Services, chat_id: int) -> None:
    """One message for all the lines queued meanwhile (the group's budget is 20 a minute)."""
    state = _state(services)
    try:
        await asyncio.sleep(services.outbox.limits.edit_interval)  # let the moment's lines gather
        while state.lines.get(chat_id):
            batch = state.lines[chat_id][:MAX_BATCH]
            del state.lines[chat_id][:MAX_BATCH]
            chat = await chats.get(services.db, chat_id)
            lang = chat.language if chat else "en"
            text = "\n".join([*batch, t(lang, "unit.batch_hint")])
            await services.outbox.send(chat_id, text, silent=False)
    except Exception:
        log.exception("sending the batched unit notices of chat %s failed", chat_id)
    finally:
        state.lines.pop(chat_id, None)
        state.flushing.discard(chat_id)


# --- the approval card ----------------------------------------------------------------------


async def _render_queue(
    services: Services, chat_id: int, page: int | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    db = services.db
    chat = await chats.get(db, chat_id)
    lang = chat.language if chat else "en"
    waiting = await units.waiting(db, chat_id)
    away = await units.suspended(db, chat_id)
    if page is None:
        card = await units.queue_card(db, chat_id)
        page = card.page if card else 0
    pages = max(1, (len(waiting) + QUEUE_PAGE - 1) // QUEUE_PAGE)
    page = min(max(page, 0), pages - 1)
    lines: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    if waiting:
        lines.append(tn(lang, "unit.queue_title", len(waiting)))
        if pages > 1:
            lines.append(t(lang, "unit.register_page", page=page + 1, pages=pages))
        lines.append("")
        start = page * QUEUE_PAGE
        for number, item in enumerate(waiting[start : start + QUEUE_PAGE], start=start + 1):
            claim = item.claim
            key = "unit.queue_item_new" if claim.is_request else "unit.queue_item"
            line = t(lang, key, number=number, name=item.name, label=claim.label)
            if item.left:  # approving it needs a second press (decision_button)
                line += " " + t(lang, "unit.queue_item_left")
            lines.append(line)
            data = (
                f"n{claim.request_id}" if claim.is_request else f"{claim.unit_id}:{claim.user_id}"
            )
            rows.append(
                [
                    InlineKeyboardButton(
                        t(
                            lang,
                            "unit.btn_approve_claim",
                            label=claim.label,
                            name=shorten(item.name, BUTTON_NAME),
                        ),
                        callback_data=f"un:a:{data}",
                    ),
                    InlineKeyboardButton(
                        t(lang, "unit.btn_reject_claim", label=claim.label),
                        callback_data=f"un:r:{data}",
                    ),
                ]
            )
        if pages > 1:
            turn_page = []
            if page > 0:
                turn_page.append(InlineKeyboardButton("◂", callback_data=f"un:p:w{page - 1}"))
            if page < pages - 1:
                turn_page.append(InlineKeyboardButton("▸", callback_data=f"un:p:w{page + 1}"))
            rows.append(turn_page)
    else:
        lines.append(t(lang, "unit.queue_empty"))
    if away:
        lines += ["", t(lang, "unit.queue_suspended_title")]
        shown = away[:QUEUE_PAGE]
        lines += [
            t(lang, "unit.queue_suspended_item", name=a.name, label=a.claim.label) for a in shown
        ]
        rows += [
            [
                InlineKeyboardButton(
                    t(
                        lang,
                        "unit.btn_restore_claim",
                        label=a.claim.label,
                        name=shorten(a.name, BUTTON_NAME),
                    ),
                    callback_data=f"un:a:s{a.claim.unit_id}:{a.claim.user_id}",
                )
            ]
            for a in shown
        ]
        if len(away) > len(shown):
            lines.append(tn(lang, "post.more", len(away) - len(shown)))
    text = "\n".join(lines)
    return text, InlineKeyboardMarkup(rows) if rows else None


def _lock(services: Services, chat_id: int) -> asyncio.Lock:
    locks = _state(services).locks
    lock = locks.get(chat_id)
    if lock is None:
        if len(locks) > 10_000:
            for key in [k for k, v in locks.items() if not v.locked()]:
                del locks[key]
        lock = locks[chat_id] = asyncio.Lock()
    return lock


def _refresh_queue(
    services: Services, chat_id: int, message_id: int, thread_id: int | None = None
) -> None:
    """Refresh the approval card; ``thread_id``: its forum topic, where it is posted again."""

    async def render() -> tuple[str, InlineKeyboardMarkup | None] | None:
        card = await units.queue_card(services.db, chat_id)
        if card is None or card.message_id != message_id:
            return None  # a newer card took over; this one stays as it was
        return await _render_queue(services, chat_id)

    async def moved(new_id: int) -> None:
        await units.set_queue_card(
            services.db, chat_id, new_id, now=services.clock(), thread_id=thread_id
        )

    services.outbox.refresh(chat_id, message_id, render, on_moved=moved, thread_id=thread_id)


async def queue_changed(turn: Turn, *, reply: bool) -> bool:
    """A claim was added: post the approval card, or refresh it. True if a new card was posted
    (as a reply to the claim when ``reply``).

    Only the claim that posts a card waits for the group's budget; a claim that arrives while
    the card is being posted does not queue behind it (it would hold one of the chat's command
    lanes, and a resident's /help would wait): it marks the card to be refreshed once posted."""
    services = turn.services
    chat_id = turn.chat.id
    state = _state(services)
    lock = _lock(services, chat_id)
    if lock.locked():
        state.dirty.add(chat_id)
        return False
    async with lock:
        state.dirty.discard(chat_id)
        card = await units.queue_card(services.db, chat_id)
        waiting = len(await units.waiting(services.db, chat_id))
        fresh = card is not None and turn.now - card.posted_at < QUEUE_CARD_AGE
        if card is not None and fresh and waiting > 1:
            _refresh_queue(services, chat_id, card.message_id, card.thread_id)
            return False
        text, markup = await _render_queue(services, chat_id, page=0)
        if reply:
            sent = await turn.say(text, markup=markup)
        else:
            sent = await services.outbox.send(chat_id, text, reply_markup=markup)
        if sent is None:
            return False
        thread = topic_of(sent)
        await units.set_queue_card(
            services.db, chat_id, sent.message_id, now=turn.now, thread_id=thread
        )
        if card is not None and card.message_id != sent.message_id and waiting > 1:
            # a day-old card that still lists claims points to the new one (its buttons would
            # still work); an emptied card already says that nothing is waiting
            _refresh_old(services, chat_id, card.message_id)
        if chat_id in state.dirty:
            state.dirty.discard(chat_id)
            _refresh_queue(services, chat_id, sent.message_id, thread)
        return True


async def _render_queue_card(
    services: Services, chat_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """The approval card as the database says now (for the start-up check)."""
    if await units.queue_card(services.db, chat_id) is None:
        return None
    return await _render_queue(services, chat_id)


async def refresh_queue_card(services: Services, chat_id: int) -> None:
    """Bring the group's approval card (if it has one) up to date through the outbox."""
    card = await units.queue_card(services.db, chat_id)
    if card is not None:
        _refresh_queue(services, chat_id, card.message_id, card.thread_id)


async def post_queue_card_anew(services: Services, chat_id: int) -> bool:
    """After the group became a supergroup (its old card's id names another message there):
    post the approval card anew if claims are waiting or suspended. True if posted."""
    db = services.db
    async with _lock(services, chat_id):
        if await units.queue_card(db, chat_id) is not None:
            return False  # posted in the supergroup already
        if not await units.waiting(db, chat_id) and not await units.suspended(db, chat_id):
            return False
        text, markup = await _render_queue(services, chat_id, page=0)
        sent = await services.outbox.send(chat_id, text, reply_markup=markup, silent=True)
        if sent is None:
            return False
        await units.set_queue_card(db, chat_id, sent.message_id, now=services.clock())
        return True


# the approval card is brought up to date after a crash like every other card
cards.register("unit_queue", render=_render_queue_card, redraw=refresh_queue_card)


def _refresh_old(services: Services, chat_id: int, message_id: int) -> None:
    async def render() -> tuple[str, InlineKeyboardMarkup | None]:
        chat = await chats.get(services.db, chat_id)
        return t(chat.language if chat else "en", "unit.queue_moved"), None

    services.outbox.refresh(chat_id, message_id, render)


# --- /unit ---------------------------------------------------------------------------------


@command(where=GROUP_ONLY)
async def unit(turn: Turn) -> None:
    assert turn.user is not None
    raw = turn.rest
    db = turn.services.db
    if not raw:
        await _show_mine(turn)
        return
    label = normalize_label(raw)
    lead = await turn.may(Action.MANAGE_UNITS)
    registered = await units.get(db, turn.chat.id, label)
    if registered is None and lead:
        # a lead's own claim to a new label is a lead's act: it adds the unit (as /units add)
        done = await units.claim_unit(
            db, turn.chat.id, label, turn.user.id, approved=True, now=turn.now, by=turn.user.id
        )
        await turn.say(
            turn.t("unit.lead_added_claimed", label=done.claim.label) + _told(turn, done.decisions)
        )
        await refresh_decisions(turn.services, done.decisions)
        return
    approved = registered is not None and (lead or not turn.chat.settings.unit_approval)
    done = await units.claim_unit(
        db, turn.chat.id, label, turn.user.id, approved=approved, now=turn.now
    )
    claim, before = done.claim, done.before
    if before == units.APPROVED:
        await _tell_now(turn, "already_yours", claim)
    elif before == units.SUSPENDED:
        await _tell_now(turn, "suspended", claim)
    elif before == units.PENDING and claim.status == units.PENDING:
        await _tell_now(turn, "already_pending", claim)
    elif claim.status == units.APPROVED:
        await _tell_now(turn, "claimed", claim)
    else:
        posted = await queue_changed(turn, reply=True)
        kind = "pending_new" if claim.is_request else "pending"
        await _tell_now(turn, kind, claim, group_line=not posted)


async def _tell_now(turn: Turn, kind: str, claim: units.Claim, *, group_line: bool = True) -> None:
    """Tell the claimant privately; in the group (batched) when that is refused."""
    assert turn.user is not None
    title = turn.chat.title or ""
    private = t(turn.personal_lang, f"unit.dm_{kind}", title=title, label=claim.label)
    line = None
    if group_line:
        who = mention(turn.user.id, display_name(turn.user))
        line = turn.t(f"unit.line_{kind}", mention=who, label=claim.label)
    _spawn(
        turn.services,
        _tell(turn.services, turn.chat.id, turn.user.id, private=private, line=line),
    )


async def _show_mine(turn: Turn) -> None:
    assert turn.user is not None
    mine = await units.claims_of(turn.services.db, turn.chat.id, turn.user.id)
    if not mine:
        await turn.reply("unit.none")
        return
    lines = [turn.t("unit.mine_title")]
    for c in mine:
        status = Html(turn.t(f"unit.status_{c.status}"))
        lines.append(turn.t("unit.mine_item", label=c.label, status=status))
    await turn.say("\n".join(lines))


DYNAMIC_KEYS: frozenset[str] = frozenset(
    [f"unit.status_{s}" for s in ("pending", "approved", "rejected", "suspended")]
    + [
        f"unit.{prefix}_{kind}"
        for prefix in ("dm", "line")
        for kind in (
            "already_yours",
            "suspended",
            "already_pending",
            "claimed",
            "pending",
            "pending_new",
            "approved",
            "rejected",
        )
    ]
)


@button(action=Action.MANAGE_UNITS)
async def decision_button(turn: Turn, parts: list[str]) -> None:
    """un:a / un:r — a lead approves or rejects a claim (or a request naming a new label)."""
    if len(parts) not in (2, 3) or parts[0] not in ("a", "r"):
        raise DomainError("error.stale_button")
    approve = parts[0] == "a"
    assert turn.user is not None
    services = turn.services
    db = services.db
    if approve and len(parts) == 3 and parts[1].startswith("s"):
        await _restore_pressed(turn, parts[1][1:], parts[2])
        return
    if approve:
        await _confirm_if_left(turn, parts)
    touched: tuple[int, ...] = ()
    if len(parts) == 2:
        raw = parts[1]
        if not raw.startswith("n") or not is_id(raw[1:]):
            raise DomainError("error.stale_button")
        request = await units.get_request(db, turn.chat.id, int(raw[1:]))
        if request is None:
            raise DomainError("error.stale_button")
        done = await units.decide_request(
            db, turn.chat.id, int(raw[1:]), approve=approve, by=turn.user.id, now=turn.now
        )
        if done is None:
            raise DomainError("unit.already_decided")
        claim, touched = done.claim, done.decisions
    else:
        if not is_id(parts[1]) or not is_id(parts[2], digits=16):
            raise DomainError("error.stale_button")
        unit_id, user_id = int(parts[1]), int(parts[2])
        found = await units.get_claim(db, turn.chat.id, unit_id, user_id)
        if found is None:
            raise DomainError("error.stale_button")
        if not await units.decide(
            db, turn.chat.id, unit_id, user_id, approve=approve, by=turn.user.id
        ):
            raise DomainError("unit.already_decided")
        claim = found
    member = await members.get(db, turn.chat.id, claim.user_id)
    name = member.display_name if member else str(claim.user_id)
    # the press is answered first: nothing below waits for the group's send budget
    answer = "unit.answer_approved" if approve else "unit.answer_rejected"
    await turn.answer(answer, name=name, label=claim.label)
    card = await units.queue_card(db, turn.chat.id)
    query = turn.query
    pressed = query.message if query is not None else None
    if card is not None:
        _refresh_queue(services, turn.chat.id, card.message_id, card.thread_id)
    if (
        pressed is not None
        and pressed.is_accessible
        and (card is None or pressed.message_id != card.message_id)
    ):
        _settle_old_card(turn, pressed.message_id, approve, name, claim.label)
    await refresh_decisions(services, touched)
    kind = "approved" if approve else "rejected"
    chat = turn.chat
    user_lang = await _language_of(turn, claim.user_id)
    private = t(user_lang, f"unit.dm_{kind}", title=chat.title or "", label=claim.label)
    line = turn.t(f"unit.line_{kind}", mention=mention(claim.user_id, name), label=claim.label)
    _spawn(services, _tell(services, chat.id, claim.user_id, private=private, line=line))


async def _confirm_if_left(turn: Turn, parts: list[str]) -> None:
    """Approving the claim of someone who has left the group takes a second press within
    CONFIRM_SECONDS (the first is answered with why): a household nobody there speaks for is
    not counted by a slip of the finger."""
    assert turn.user is not None
    db = turn.services.db
    if len(parts) == 2:
        raw = parts[1]
        found = (
            await units.get_request(db, turn.chat.id, int(raw[1:]))
            if raw.startswith("n") and is_id(raw[1:])
            else None
        )
    elif is_id(parts[1]) and is_id(parts[2], digits=16):
        found = await units.get_claim(db, turn.chat.id, int(parts[1]), int(parts[2]))
    else:
        found = None
    if found is None:
        return  # the caller refuses it
    member = await members.get(db, turn.chat.id, found.user_id)
    if member is None or member.status != members.LEFT:
        return
    asked = _state(turn.services).confirm
    key = (turn.chat.id, turn.user.id, ":".join(parts))
    now = time.monotonic()
    for old in [k for k, at in asked.items() if now - at > CONFIRM_SECONDS]:
        del asked[old]
    if key in asked:
        del asked[key]
        return
    asked[key] = now
    raise DomainError("unit.confirm_left", name=member.display_name, label=found.label)


async def _restore_pressed(turn: Turn, raw_unit: str, raw_user: str) -> None:
    """un:a:s<unit id>:<user id> — a lead approves again (restores) one suspended claim from
    the approval card; the person must be back in the group."""
    if not is_id(raw_unit) or not is_id(raw_user, digits=16):
        raise DomainError("error.stale_button")
    assert turn.user is not None
    services = turn.services
    unit_id, user_id = int(raw_unit), int(raw_user)
    found = await units.get_claim(services.db, turn.chat.id, unit_id, user_id)
    if found is None or found.status != units.SUSPENDED:
        raise DomainError("unit.already_decided")
    member = await members.get(services.db, turn.chat.id, user_id)
    name = member.display_name if member else str(user_id)
    if not await in_group(services, turn.chat, user_id, name=None, now=turn.now):
        raise DomainError("membership.not_back", name=name)
    if not await units.restore(services.db, turn.chat.id, unit_id, user_id, by=turn.user.id):
        raise DomainError("unit.already_decided")
    await turn.answer("unit.answer_restored", name=name, label=found.label)
    await refresh_queue_card(services, turn.chat.id)


async def _restore_command(turn: Turn, words: list[str]) -> None:
    """``/units restore 3-502``: restore the suspended claims to the unit of everyone who is
    back in the group (the others are named: they are not back yet)."""
    assert turn.user is not None
    services = turn.services
    label = normalize_label(" ".join(words))
    unit_ = await units.get(services.db, turn.chat.id, label)
    if unit_ is None:
        raise DomainError("unit.not_found", label=label)
    away = [
        w for w in await units.suspended(services.db, turn.chat.id) if w.claim.unit_id == unit_.id
    ]
    if not away:
        raise DomainError("unit.restore_none", label=unit_.label)
    restored: list[str] = []
    absent: list[str] = []
    for item in away:
        user_id = item.claim.user_id
        if not await in_group(services, turn.chat, user_id, name=None, now=turn.now):
            absent.append(item.name)
        elif await units.restore(services.db, turn.chat.id, unit_.id, user_id, by=turn.user.id):
            restored.append(item.name)
    lines = []
    if restored:
        lines.append(turn.t("unit.restored", label=unit_.label, names=", ".join(restored)))
    if absent:
        lines.append(turn.t("unit.restore_absent", label=unit_.label, names=", ".join(absent)))
    await turn.say("\n".join(lines))
    if restored:
        await refresh_queue_card(services, turn.chat.id)


async def _language_of(turn: Turn, user_id: int) -> str:
    """The claimant's language for a private notice: their private chat's, else the group's."""
    private = await chats.get(turn.services.db, user_id)
    return private.language if private is not None and private.is_private else turn.lang


def _settle_old_card(turn: Turn, message_id: int, approve: bool, name: str, label: str) -> None:
    """A card of one claim (as the bot posted them before the approval card) shows the result."""
    key = "unit.card_approved" if approve else "unit.card_rejected"
    assert turn.user is not None
    text = turn.t(key, name=name, label=label, lead=display_name(turn.user))

    async def render() -> tuple[str, InlineKeyboardMarkup | None]:
        return text, None

    turn.services.outbox.refresh(turn.chat.id, message_id, render)


# --- /units --------------------------------------------------------------------------------


@command(action=Action.MANAGE_UNITS, where=GROUP_ONLY)
async def units_(turn: Turn) -> None:
    args = turn.args
    op = fold_hant(args[0].lower()) if args else ""  # 恢復, 刪除 as well
    if not args:
        text, markup = await _register_page(turn, 0)
        await turn.say(text, markup=markup)
    elif op in ("add", "添加", "新增", "добавить") and len(args) >= 2:
        await _add(turn, args[1:])
    elif op in ("restore", "恢复", "восстановить") and len(args) >= 2:
        await _restore_command(turn, args[1:])
    elif op in ("remove", "delete", "删除", "移除", "удалить") and len(args) >= 2:
        assert turn.user is not None
        label = normalize_label(" ".join(args[1:]))
        removed = await units.remove(
            turn.services.db, turn.chat.id, label, now=turn.now, by=turn.user.id
        )
        if removed is None:
            raise DomainError("unit.not_found", label=label)
        unit_, touched = removed
        await turn.say(turn.t("unit.removed", label=unit_.label) + _told(turn, touched))
        await refresh_decisions(turn.services, touched)
        card = await units.queue_card(turn.services.db, turn.chat.id)
        if card is not None:
            _refresh_queue(turn.services, turn.chat.id, card.message_id, card.thread_id)
    else:
        await turn.reply("unit.units_usage")


async def _add(turn: Turn, words: list[str]) -> None:
    """``3-502 89.5``, ``3-502``, ``3 栋 502 89.5平米``, ``кв. 12 80 кв. м``: see
    ``split_label_area`` (a word where the area was expected is refused)."""
    assert turn.user is not None
    head, part = split_part(" ".join(words))  # "3-502 80 | entrance 2": its part of the building
    if not head.split():
        raise DomainError("unit.units_usage")
    label, area = split_label_area(head.split())
    before = await units.get(turn.services.db, turn.chat.id, label)
    done = await units.add_unit(
        turn.services.db, turn.chat.id, label, area, turn.now, by=turn.user.id, part=part
    )
    unit_ = done.unit
    shown = format_area(unit_.area) if unit_.area is not None else None
    if done.created:
        if shown is None:
            text = turn.t("unit.added", label=unit_.label)
        else:
            text = turn.t("unit.added_area", label=unit_.label, area=shown)
    elif done.changed and shown is not None:
        text = turn.t("unit.updated_area", label=unit_.label, area=shown)
    elif part is None or (before is not None and (before.part or "") == part):
        text = turn.t("unit.exists", label=unit_.label)
    else:
        text = turn.t("unit.saved")
    if part and unit_.part:
        text += "\n" + turn.t("unit.part_set", part=unit_.part)  # the register's spelling
    elif part == "" and before is not None and before.part:
        text += "\n" + turn.t("unit.part_cleared")
    await turn.say(text + _told(turn, done.decisions))
    await refresh_decisions(turn.services, done.decisions)


async def _register_page(turn: Turn, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    entries = await units.register(turn.services.db, turn.chat.id)
    if not entries:
        return turn.t("unit.register_empty"), None
    pages = (len(entries) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), pages - 1)
    head = [turn.t("unit.register_title", count=len(entries))]
    if pages > 1:
        head.append(turn.t("unit.register_page", page=page + 1, pages=pages))
    lines = []
    budget = MAX_TEXT - sum(len(h) + 1 for h in head) - 40
    for entry in entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        area = "—"
        if entry.unit.area is not None:
            area = turn.t("unit.area_value", area=format_area(entry.unit.area))
        room = max(budget // PAGE_SIZE - len(entry.unit.label) - 40, 20)
        names = _names(entry.members, room)
        line = turn.t("unit.register_item", label=entry.unit.label, area=area, names=Html(names))
        if entry.unit.part:
            line += " " + turn.t("unit.register_part", part=entry.unit.part)
        if entry.pending:
            line += " " + turn.t("unit.register_pending", pending=entry.pending)
        if entry.suspended:
            away = Html(_names(entry.suspended, room))
            line += " " + turn.t("unit.register_suspended", names=away)
        lines.append(line)
    text = "\n".join([*head, "", *lines])
    markup = None
    if pages > 1:
        buttons = []
        if page > 0:
            buttons.append(InlineKeyboardButton("◂", callback_data=f"un:p:{page - 1}"))
        if page < pages - 1:
            buttons.append(InlineKeyboardButton("▸", callback_data=f"un:p:{page + 1}"))
        markup = InlineKeyboardMarkup([buttons])
    return text, markup


def _names(names: tuple[str, ...], limit: int) -> str:
    """Escaped names, collapsed to "…, +N" when they would pass ``limit`` characters."""
    if not names:
        return "—"
    shown: list[str] = []
    used = 0
    for number, name in enumerate(names):
        piece = escape(name)
        if used + len(piece) + 2 > limit and shown:
            return ", ".join(shown) + f", +{len(names) - number}"
        shown.append(piece)
        used += len(piece) + 2
    return ", ".join(shown)


@button(action=Action.MANAGE_UNITS)
async def page_button(turn: Turn, parts: list[str]) -> None:
    """un:p:<page> — turn the register's page; un:p:w<page> — the approval card's."""
    query = turn.query
    if len(parts) != 2 or parts[0] != "p" or query is None:
        raise DomainError("error.stale_button")
    raw = parts[1]
    queue = raw.startswith("w")
    if not is_id(raw.removeprefix("w"), digits=6):
        raise DomainError("error.stale_button")
    message = query.message
    if message is None or not message.is_accessible:
        raise DomainError("error.stale_button")
    page = int(raw.removeprefix("w"))
    await turn.answer()
    if queue:
        await units.set_queue_page(turn.services.db, turn.chat.id, message.message_id, page)
        card = await units.queue_card(turn.services.db, turn.chat.id)
        if card is not None and card.message_id == message.message_id:
            _refresh_queue(turn.services, turn.chat.id, message.message_id, card.thread_id)
        return
    text, markup = await _register_page(turn, page)
    await turn.services.outbox.edit(
        turn.chat.id, message.message_id, text, reply_markup=markup, repost=False
    )


# --- CSV import (private chat) ---------------------------------------------------------------


def _pending(turn: Turn) -> dict[int, PendingImport]:
    store: dict[int, PendingImport] = turn.context.application.bot_data.setdefault(_IMPORTS, {})
    return store


def _problem_lines(lang: str, problems: list[tuple[int, str]]) -> list[str]:
    lines = [t(lang, key, line=line) for line, key in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(tn(lang, "post.more", len(problems) - MAX_PROBLEMS))
    return lines


@command(where=PRIVATE_ONLY)
async def csv_document(turn: Turn) -> None:
    """A document in a private chat: read it as a register CSV and ask for the group."""
    message = turn.message
    assert turn.user is not None
    document = message.document if message else None
    if document is None:
        return
    if document.file_size is not None and document.file_size > MAX_CSV_BYTES:
        raise DomainError("unit.csv_file_too_big", limit=MAX_CSV_BYTES // 1000)
    try:
        file = await turn.context.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not download a CSV in chat %s: %s", turn.chat.id, exc)
        raise DomainError("unit.csv_download_failed") from None
    if len(data) > MAX_CSV_BYTES:
        raise DomainError("unit.csv_file_too_big", limit=MAX_CSV_BYTES // 1000)
    rows, problems = parse_units_csv_parts(decode_csv(data))
    lines = _problem_lines(turn.lang, problems)
    if not rows:
        await turn.say("\n".join([turn.t("unit.csv_empty"), *lines]))
        return
    groups = []
    for chat_id in await units.groups_of(turn.services.db, turn.user.id):
        chat = await chats.get(turn.services.db, chat_id)
        if chat is None:
            continue
        if await turn.services.roles.role_of(chat, turn.user.id) is Role.LEAD:
            groups.append(chat)
        if len(groups) >= MAX_GROUPS:
            break
    if not groups:
        await turn.say("\n".join([turn.t("unit.csv_no_groups", count=len(rows)), *lines]))
        return
    store = _pending(turn)
    store.pop(turn.user.id, None)
    while len(store) >= MAX_PENDING:
        del store[next(iter(store))]  # the oldest
    number = next(_FILE_NUMBERS)
    store[turn.user.id] = PendingImport(rows, problems, time.monotonic(), number)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    (g.title or str(g.id))[:60], callback_data=f"un:i:{g.id}:{number}"
                )
            ]
            for g in groups
        ]
    )
    name = document.file_name or "CSV"
    text = turn.t("unit.csv_pick_group", count=len(rows), file=name)
    await turn.say("\n".join([text, *lines]), markup=markup)


@button()
async def import_button(turn: Turn, parts: list[str]) -> None:
    """un:i:<group id>:<file number> — import that pending CSV into that group (its lead, in
    private). The file number binds the button to the question it was sent with."""
    assert turn.user is not None
    if (
        len(parts) != 3
        or parts[0] != "i"
        or not is_id(parts[1].removeprefix("-"), digits=15)
        or not is_id(parts[2])
    ):
        raise DomainError("error.stale_button")
    if not turn.chat.is_private:
        raise DomainError("error.stale_button")
    services = turn.services
    target = await chats.get(services.db, await chats.resolve(services.db, int(parts[1])))
    if target is None or target.is_private or not target.active:
        raise DomainError("error.stale_button")
    if await services.roles.role_of(target, turn.user.id) is not Role.LEAD:
        raise DomainError("unit.import_not_lead")
    store = _pending(turn)
    pending = store.get(turn.user.id)
    if pending is None or pending.number != int(parts[2]):
        raise DomainError("unit.import_expired")
    del store[turn.user.id]
    try:
        result = await units.import_rows(
            services.db, target.id, pending.rows, turn.now, by=turn.user.id
        )
    except DomainError:
        store[turn.user.id] = pending  # nothing was imported: the lead may fix and press again
        raise
    await turn.answer("unit.saved")
    text = turn.t(
        "unit.csv_imported",
        title=target.title or str(target.id),
        added=result.added,
        updated=result.updated,
        unchanged=result.unchanged,
    )
    lines = _problem_lines(turn.lang, pending.problems)
    if lines:
        lines.insert(0, turn.t("unit.csv_problems"))
    full = "\n".join([text + _told(turn, result.decisions), *lines])
    query = turn.query
    if query is not None and query.message is not None and query.message.is_accessible:
        await services.outbox.edit(turn.chat.id, query.message.message_id, full, repost=True)
    else:
        await turn.say(full)
    await refresh_decisions(services, result.decisions)
