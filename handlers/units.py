"""Households: residents claim their unit, leads keep the register.

/unit 3-502              (group) claim a unit; /unit alone shows yours and their status
/units                   (group, leads) the register: label, area, approved residents; paged
/units add 3-502 89.5    (leads) add a unit or update its area (area optional)
/units remove 3-502      (leads) remove a unit and every claim to it
CSV document             (private, leads) bulk import into a group the sender leads

Choices:

* A claim creates the unit when the register does not have it yet: buildings rarely start with a
  register, and the approval card tells leads the label is new, so a typo is caught there (and
  ``/units remove`` clears it).
* A resident may hold several units (two flats, a flat and a shop); claiming another one adds it,
  nothing is replaced. Several residents may share one unit.
* With the group setting ``unit_approval`` on (the default) a claim waits for a lead's Approve /
  Reject on a card in the group; a lead's own claim, and every claim with the setting off, is
  approved at once. A rejected resident may claim again (a new card).
* ``/units add`` without an area, and a CSV row without one, keep the stored area. The last word
  of ``/units add`` is the area whenever it reads as one ("-" for none: ``/units add кв. 12 -``).
* The CSV waiting for its group is kept in memory per user (at most ``MAX_PENDING`` people): a
  restart forgets it and the lead simply sends the file again.

Callback data (all under 64 bytes): un:a:<unit id>:<user id> (approve), un:r:<unit id>:<user id>
(reject), un:p:<page> (register page), un:i:<group chat id> (import the pending CSV there).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from fractions import Fraction

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.domain.errors import DomainError
from bot.domain.roles import Action, Role
from bot.domain.units import decode_csv, normalize_label, parse_area, parse_units_csv
from bot.i18n import Html, escape, t, tn
from handlers.common import (
    GROUP_ONLY,
    PRIVATE_ONLY,
    Turn,
    button,
    command,
    display_name,
    is_id,
    mention,
)
from storage import chats, decisions, members, units

log = logging.getLogger(__name__)

#: Units per page of /units.
PAGE_SIZE = 20
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

_IMPORTS = "unit_imports"


@dataclass(frozen=True, slots=True)
class PendingImport:
    rows: list[tuple[str, Fraction | None]]
    problems: list[tuple[int, str]]
    at: float


def format_area(area: Fraction) -> str:
    """89.5, 100, 72.25 — exact (areas have at most two decimals)."""
    hundredths = area * 100
    if hundredths.denominator != 1:
        return f"{float(area):.2f}"  # pragma: no cover - parse_area allows two decimals only
    whole, cents = divmod(hundredths.numerator, 100)
    return str(whole) if cents == 0 else f"{whole}.{cents:02d}".rstrip("0")


async def refresh_decisions(turn: Turn) -> None:
    """Open decision cards count the register live: bring them up to date after a change."""
    from handlers.decisions import refresh_card  # decisions build on units, not the reverse

    for decision in await decisions.open_in(turn.services.db, turn.chat.id):
        refresh_card(turn.services, decision)


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
    approved = lead or not turn.chat.settings.unit_approval
    claim, before, created = await units.claim(
        db, turn.chat.id, label, turn.user.id, approved=approved, now=turn.now
    )
    if before == units.APPROVED:
        await turn.reply("unit.already_yours", label=label)
    elif before == units.PENDING and claim.status == units.PENDING:
        await turn.reply("unit.already_pending", label=label)
    elif claim.status == units.APPROVED:
        await turn.reply("unit.claimed", name=display_name(turn.user), label=label)
    else:
        key = "unit.card_new" if created else "unit.card"
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        turn.t("unit.btn_approve"),
                        callback_data=f"un:a:{claim.unit_id}:{claim.user_id}",
                    ),
                    InlineKeyboardButton(
                        turn.t("unit.btn_reject"),
                        callback_data=f"un:r:{claim.unit_id}:{claim.user_id}",
                    ),
                ]
            ]
        )
        await turn.reply(key, markup=markup, name=display_name(turn.user), label=label)


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


@button(action=Action.MANAGE_UNITS)
async def decision_button(turn: Turn, parts: list[str]) -> None:
    """un:a / un:r — a lead approves or rejects a claim."""
    if (
        len(parts) != 3
        or parts[0] not in ("a", "r")
        or not is_id(parts[1])
        or not is_id(parts[2], digits=16)
    ):
        raise DomainError("error.stale_button")
    approve, unit_id, user_id = parts[0] == "a", int(parts[1]), int(parts[2])
    db = turn.services.db
    claim = await units.get_claim(db, turn.chat.id, unit_id, user_id)
    if claim is None:
        raise DomainError("error.stale_button")
    assert turn.user is not None
    if not await units.decide(db, turn.chat.id, unit_id, user_id, approve=approve, by=turn.user.id):
        raise DomainError("unit.already_decided")
    await turn.answer("unit.saved")
    member = await members.get(db, turn.chat.id, user_id)
    name = member.display_name if member else str(user_id)
    lead = display_name(turn.user)
    query = turn.query
    if query is not None and query.message is not None and query.message.is_accessible:
        card = "unit.card_approved" if approve else "unit.card_rejected"
        await turn.services.outbox.edit(
            turn.chat.id,
            query.message.message_id,
            turn.t(card, name=name, label=claim.label, lead=lead),
            repost=False,
        )
    notice = "unit.approved_notice" if approve else "unit.rejected_notice"
    await turn.reply(notice, mention=mention(user_id, name), label=claim.label)


# --- /units --------------------------------------------------------------------------------


@command(action=Action.MANAGE_UNITS, where=GROUP_ONLY)
async def units_(turn: Turn) -> None:
    args = turn.args
    op = args[0].lower() if args else ""
    if not args:
        text, markup = await _register_page(turn, 0)
        await turn.say(text, markup=markup)
    elif op in ("add", "添加", "добавить") and len(args) >= 2:
        await _add(turn, args[1:])
    elif op in ("remove", "delete", "删除", "удалить") and len(args) >= 2:
        label = normalize_label(" ".join(args[1:]))
        if not await units.remove(turn.services.db, turn.chat.id, label):
            raise DomainError("unit.not_found", label=label)
        await turn.reply("unit.removed", label=label)
        await refresh_decisions(turn)
    else:
        await turn.reply("unit.units_usage")


async def _add(turn: Turn, words: list[str]) -> None:
    """``3-502 89.5``, ``3-502``, ``3 栋 502 89.5平米``: the last word is the area whenever it
    reads as one (and something is left for the label); "-" there means "no area", for labels
    that end in a number after a space: ``/units add кв. 12 -``."""
    area: Fraction | None = None
    label_words = words
    if len(words) >= 2:
        try:
            area = parse_area(words[-1])
        except DomainError:
            area = None
        else:
            label_words = words[:-1]
    label = normalize_label(" ".join(label_words))
    unit_, created, changed = await units.add(turn.services.db, turn.chat.id, label, area, turn.now)
    shown = format_area(unit_.area) if unit_.area is not None else None
    if created:
        if shown is None:
            await turn.reply("unit.added", label=label)
        else:
            await turn.reply("unit.added_area", label=label, area=shown)
    elif changed and shown is not None:
        await turn.reply("unit.updated_area", label=label, area=shown)
    else:
        await turn.reply("unit.exists", label=label)


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
        names = _names(entry.members, max(budget // PAGE_SIZE - len(entry.unit.label) - 40, 20))
        line = turn.t("unit.register_item", label=entry.unit.label, area=area, names=Html(names))
        if entry.pending:
            line += " " + turn.t("unit.register_pending", pending=entry.pending)
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
    """un:p:<page> — turn the register's page."""
    query = turn.query
    if len(parts) != 2 or parts[0] != "p" or not is_id(parts[1], digits=6) or query is None:
        raise DomainError("error.stale_button")
    message = query.message
    if message is None or not message.is_accessible:
        raise DomainError("error.stale_button")
    await turn.answer()
    text, markup = await _register_page(turn, int(parts[1]))
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
    rows, problems = parse_units_csv(decode_csv(data))
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
    store[turn.user.id] = PendingImport(rows, problems, time.monotonic())
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton((g.title or str(g.id))[:60], callback_data=f"un:i:{g.id}")]
            for g in groups
        ]
    )
    name = document.file_name or "CSV"
    text = turn.t("unit.csv_pick_group", count=len(rows), file=name)
    await turn.say("\n".join([text, *lines]), markup=markup)


@button()
async def import_button(turn: Turn, parts: list[str]) -> None:
    """un:i:<group id> — import the pending CSV into that group (its lead, in private)."""
    assert turn.user is not None
    if len(parts) != 2 or parts[0] != "i" or not is_id(parts[1].removeprefix("-"), digits=15):
        raise DomainError("error.stale_button")
    if not turn.chat.is_private:
        raise DomainError("error.stale_button")
    services = turn.services
    target = await chats.get(services.db, await chats.resolve(services.db, int(parts[1])))
    if target is None or target.is_private or not target.active:
        raise DomainError("error.stale_button")
    if await services.roles.role_of(target, turn.user.id) is not Role.LEAD:
        raise DomainError("unit.import_not_lead")
    pending = _pending(turn).pop(turn.user.id, None)
    if pending is None:
        raise DomainError("unit.import_expired")
    result = await units.import_rows(services.db, target.id, pending.rows, turn.now)
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
    full = "\n".join([text, *lines])
    query = turn.query
    if query is not None and query.message is not None and query.message.is_accessible:
        await services.outbox.edit(turn.chat.id, query.message.message_id, full, repost=True)
    else:
        await turn.say(full)
