"""Group buys and sign-up chains (接龙); registered from handlers/sharing.py.

/groupbuy <item> | <price per unit> | <closes when> [| minimum total]
    A card with +1 / −1: each resident sets their quantity; the card shows everyone's
    quantity (with their unit when they claimed one), the amount each, the total and whether the
    minimum is reached. The minimum is a quantity ("10", "10 boxes") or money ("¥300", "300元",
    "3000 ₽", "300.00"). At closing (the time, the organizer's Close button or /close G<id>) the
    organizer gets the summary privately and the card gets Paid / Picked-up ticks only the
    organizer can set. No money is handled.
/chain <title> [| closes when]
    A numbered list in one message; residents reply to the card with their line
    ("3-502 Wang, 2 boxes"); a new reply replaces the sender's line in place, "-" removes it.
    Closes at the time or by its creator (Close button, /close C<id>).
/export G<id> | C<id>   CSV privately (handlers/refs.py).

Callback data: gb:p|m|c:<groupbuy id>, gb:y|k:<order id> (paid / picked-up ticks),
ch:c:<chain id>.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import charts
from bot.domain import sharing as rules
from bot.domain.errors import DomainError
from bot.domain.refs import Ref
from bot.domain.roles import Role
from bot.i18n import Html, escape, format_datetime, shorten, t, tn
from bot.services import Services
from handlers import cards, pictures, refs
from handlers.common import GROUP_ONLY, Turn, button, command, display_name, is_id, mention
from storage import chats
from storage import sharing as store
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE
#: Lines shown on a card; the export has them all.
MAX_CARD_LINES = 60
#: Orders that get Paid / Picked-up buttons on a closed card (2 buttons each; Telegram: 100).
MAX_TICK_ROWS = 45
MAX_TEXT = 4096
#: Kept free on the summary for the sentence around it (with the organizer's mention).
SUMMARY_ROOM = 600
#: Kept free for the "…and N more" line.
MORE_ROOM = 80


def money(lang: str | None, cents: int, currency: str) -> str:
    """The amount as the language writes it: ¥1,234,567.89, 1 234 567,89 ₽."""
    return rules.format_money(cents, currency, locale=lang or "en")


async def _lead_or(turn: Turn, user_id: int) -> bool:
    assert turn.user is not None
    return turn.user.id == user_id or await turn.role() is Role.LEAD


# --- group buys -----------------------------------------------------------------------------


async def render_groupbuy(
    services: Services, gb_id: int, *, for_summary: bool = False
) -> tuple[str, InlineKeyboardMarkup | None]:
    gb = await store.get_groupbuy(services.db, gb_id)
    if gb is None:
        return "—", None
    chat = await chats.get(services.db, gb.chat_id)
    lang = chat.language if chat else None
    tz = chat.timezone if chat else "UTC"
    found = await store.orders(services.db, gb.id)
    labels = await store.unit_labels(services.db, gb.chat_id, [o.user_id for o in found])
    price = money(lang, gb.price_cents, gb.currency)
    head = "sharing.gb_title_closed" if gb.status == "closed" else "sharing.gb_title"
    lines = [t(lang, head, title=gb.title)]
    closes = format_datetime(gb.closes_at, lang, tz)
    lines.append(t(lang, "sharing.gb_price", price=price, organizer=gb.organizer_name))
    if gb.status == "open":
        lines.append(t(lang, "sharing.gb_closes", when=closes))
    total = rules.totals([o.quantity for o in found], gb.price_cents, gb.minimum)
    if gb.minimum is not None:
        if gb.minimum.kind == rules.UNITS:
            need = str(gb.minimum.value)
            have = str(total.units)
        else:
            need = money(lang, gb.minimum.value, gb.currency)
            have = money(lang, total.cents, gb.currency)
        key = "sharing.gb_min_reached" if total.reached else "sharing.gb_min_not_reached"
        lines.append(t(lang, key, need=need, have=have))
    tail = [
        t(
            lang,
            "sharing.gb_total",
            units=total.units,
            amount=money(lang, total.cents, gb.currency),
            people=total.people,
        )
    ]
    if gb.status == "closed" and found:
        tail.append(t(lang, "sharing.gb_legend"))
    tail.append(Ref("groupbuy", gb.id).tag)
    # Whole lines only (a cut inside a tag or an entity would make Telegram refuse the card),
    # measured as HTML, which is never shorter than what Telegram counts. The summary leaves
    # room for the sentence that carries it.
    limit = MAX_TEXT - (SUMMARY_ROOM if for_summary else 0)
    budget = limit - sum(len(x) + 1 for x in lines + tail) - 4 - MORE_ROOM
    body: list[str] = []
    for number, order in enumerate(found, start=1):
        unit = labels.get(order.user_id)
        who = (
            t(lang, "sharing.gb_who_unit", name=order.user_name, unit=unit)
            if unit
            else escape(order.user_name)
        )
        ticks = ""
        if gb.status == "closed":
            ticks = ("  💰" if order.paid else "") + ("  📦" if order.picked else "")
        line = (
            t(
                lang,
                "sharing.gb_line",
                n=number,
                who=Html(who),
                qty=order.quantity,
                amount=money(lang, order.quantity * gb.price_cents, gb.currency),
            )
            + ticks
        )
        if number > MAX_CARD_LINES or len(line) + 1 > budget:
            body.append(tn(lang, "post.more", len(found) - number + 1))
            break
        budget -= len(line) + 1
        body.append(line)
    if not found:
        body.append(t(lang, "sharing.gb_nobody"))
    text = "\n".join([*lines, "", *body, "", *tail])
    if for_summary:
        return text, None
    rows: list[list[InlineKeyboardButton]] = []
    if gb.status == "open":
        rows.append(
            [
                InlineKeyboardButton("+1", callback_data=f"gb:p:{gb.id}"),
                InlineKeyboardButton("−1", callback_data=f"gb:m:{gb.id}"),
            ]
        )
        rows.append(
            [InlineKeyboardButton(t(lang, "sharing.btn_close"), callback_data=f"gb:c:{gb.id}")]
        )
    else:
        for number, order in enumerate(found[:MAX_TICK_ROWS], start=1):
            name = shorten(order.user_name, 14)
            rows.append(
                [
                    InlineKeyboardButton(
                        f"{'✅' if order.paid else '💰'} {number}. {name}",
                        callback_data=f"gb:y:{order.id}",
                    ),
                    InlineKeyboardButton(
                        f"{'✅' if order.picked else '📦'} {number}",
                        callback_data=f"gb:k:{order.id}",
                    ),
                ]
            )
    return text, InlineKeyboardMarkup(rows) if rows else None


def refresh_groupbuy(services: Services, gb: store.GroupBuy) -> None:
    if gb.card_id is None:
        return

    async def moved(new_id: int) -> None:
        await store.set_groupbuy_card(services.db, gb.id, new_id)

    async def render() -> tuple[str, InlineKeyboardMarkup | None]:
        return await render_groupbuy(services, gb.id)

    services.outbox.refresh(gb.chat_id, gb.card_id, render, on_moved=moved, thread_id=gb.thread_id)


async def _redraw_groupbuy(services: Services, gb_id: int) -> None:
    gb = await store.get_groupbuy(services.db, gb_id)
    if gb is not None:
        refresh_groupbuy(services, gb)


cards.register("groupbuy", render=render_groupbuy, redraw=_redraw_groupbuy)


@command(where=GROUP_ONLY)
async def groupbuy(turn: Turn) -> None:
    assert turn.user is not None
    spec = rules.parse_groupbuy(turn.rest, lang=turn.lang, tz=turn.chat.timezone, now=turn.now)
    gb, row_id = await store.create_groupbuy(
        turn.services.db,
        chat_id=turn.chat.id,
        organizer_id=turn.user.id,
        organizer_name=display_name(turn.user),
        title=spec.title,
        price_cents=spec.price.cents,
        currency=spec.price.currency,
        minimum=spec.minimum,
        closes_at=spec.closes_at,
        now=turn.now,
        thread_id=turn.thread_id,
    )
    turn.services.scheduler.arm(row_id, spec.closes_at)
    text, markup = await render_groupbuy(turn.services, gb.id)
    card = await turn.say(text, markup=markup)
    if card is not None:
        await store.set_groupbuy_card(turn.services.db, gb.id, card.message_id)


def _parse(parts: list[str], ops: str) -> tuple[str, int]:
    if len(parts) != 2 or parts[0] not in ops or not is_id(parts[1]):
        raise DomainError("error.stale_button")
    return parts[0], int(parts[1])


@button(counts=True)
async def groupbuy_button(turn: Turn, parts: list[str]) -> None:
    assert turn.user is not None
    op, row_id = _parse(parts, "pmcyk")
    services = turn.services
    if op in "yk":
        order = await store.get_order(services.db, row_id)
        gb = await store.get_groupbuy(services.db, order.groupbuy_id) if order else None
        if order is None or gb is None or gb.chat_id != turn.chat.id:
            raise DomainError("error.stale_button")
        if turn.user.id != gb.organizer_id:
            raise DomainError("sharing.organizer_only")
        if gb.status != "closed":
            raise DomainError("error.stale_button")
        await store.toggle_order(services.db, order.id, "paid" if op == "y" else "picked")
        await turn.answer("sharing.saved")
        refresh_groupbuy(services, gb)
        return
    found = await store.get_groupbuy(services.db, row_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    if op == "c":
        if not await _lead_or(turn, found.organizer_id):
            raise DomainError("sharing.organizer_only")
        await close_groupbuy(services, found.id)
        await turn.answer("sharing.closed")
        return
    quantity = await store.change_order(
        services.db,
        found.id,
        turn.user.id,
        display_name(turn.user),
        1 if op == "p" else -1,
        turn.now,
    )
    await turn.answer("sharing.gb_quantity", qty=quantity)
    refresh_groupbuy(services, found)


async def close_groupbuy(services: Services, gb_id: int) -> bool:
    """Close it (time, button or /close): card with ticks, summary to the organizer."""
    stale = await store.close_groupbuy(services.db, gb_id, services.clock())
    if stale is None:
        return False
    services.scheduler.disarm(stale)
    gb = await store.get_groupbuy(services.db, gb_id)
    assert gb is not None
    refresh_groupbuy(services, gb)
    group = await chats.get(services.db, gb.chat_id)
    if group is None:
        return True
    from handlers.sharing import tell_or_group

    summary, _ = await render_groupbuy(services, gb.id, for_summary=True)
    await tell_or_group(
        services,
        group,
        gb.organizer_id,
        "sharing.gb_summary",
        "sharing.gb_summary_group",
        thread_id=gb.thread_id,
        who=mention(gb.organizer_id, gb.organizer_name),
        summary=Html(summary),
    )
    try:  # best-effort: the group buy is closed and its summary sent whatever happens here
        await _totals_picture(services, gb)
    except Exception:
        log.exception("no picture for group buy %s", gb.id)
    return True


#: Buyers drawn in a group buy's picture before "and N more".
PICTURE_BUYERS = 12


async def _totals_picture(services: Services, gb: store.GroupBuy) -> None:
    """The totals as a picture, best-effort, for the organizer (who got the summary): in their
    private chat, else nowhere (the group has the card)."""
    from handlers.sharing import private_chat

    private = await private_chat(services, gb.organizer_id)
    found = [o for o in await store.orders(services.db, gb.id) if o.quantity > 0]
    if private is None or not found:
        return
    lang = private.language
    labels = await store.unit_labels(services.db, gb.chat_id, [o.user_id for o in found])
    total = rules.totals([o.quantity for o in found], gb.price_cents, gb.minimum)
    groups = []
    notes = []
    if gb.minimum is not None:
        money_min = gb.minimum.kind != rules.UNITS
        have = total.cents if money_min else total.units
        shown = (lambda v: money(lang, v, gb.currency)) if money_min else str
        groups.append(
            charts.Group(
                t(lang, "chart.gb_minimum", need=shown(gb.minimum.value)),
                shown(have),
                have / gb.minimum.value if gb.minimum.value else 1.0,
                "good" if total.reached else "warn",
            )
        )
    for order in sorted(found, key=lambda o: -o.quantity)[:PICTURE_BUYERS]:
        unit = labels.get(order.user_id)
        who = f"{order.user_name} ({unit})" if unit else order.user_name
        amount = money(lang, order.quantity * gb.price_cents, gb.currency)
        share = order.quantity / total.units if total.units else 0.0
        groups.append(charts.Group(who, f"{order.quantity} → {amount}", share, "info"))
    if len(found) > PICTURE_BUYERS:
        notes.append(t(lang, "chart.gb_more", n=len(found) - PICTURE_BUYERS))
    amount = money(lang, total.cents, gb.currency)
    notes.append(t(lang, "sharing.gb_total", units=total.units, amount=amount, people=total.people))
    draw = partial(charts.tally_picture, gb.title, groups, notes, lang)
    pictures.follow(services, private.id, None, f"group buy {gb.id}", draw)


@refs.closer("groupbuy")
async def close_groupbuy_ref(turn: Turn, gb_id: int) -> None:
    gb = await store.get_groupbuy(turn.services.db, gb_id)
    if gb is None or gb.chat_id != turn.chat.id:
        raise DomainError("sharing.unknown_ref", ref=f"G{gb_id}")
    if not await _lead_or(turn, gb.organizer_id):
        raise DomainError("sharing.organizer_only")
    if not await close_groupbuy(turn.services, gb.id):
        raise DomainError("sharing.already_closed")
    await turn.reply("sharing.closed_ref", ref=f"G{gb.id}")


@refs.exporter("groupbuy")
async def export_groupbuy(turn: Turn, gb_id: int) -> refs.Export:
    gb = await store.get_groupbuy(turn.services.db, gb_id)
    if gb is None or gb.chat_id != turn.chat.id:
        raise DomainError("sharing.unknown_ref", ref=f"G{gb_id}")
    if not await _lead_or(turn, gb.organizer_id):
        raise DomainError("sharing.organizer_only")
    found = await store.orders(turn.services.db, gb.id)
    labels = await store.unit_labels(turn.services.db, gb.chat_id, [o.user_id for o in found])
    lang = turn.personal_lang
    rows = [
        [
            str(number),
            order.user_name,
            labels.get(order.user_id, ""),
            str(order.quantity),
            rules.format_money(order.quantity * gb.price_cents),
            "1" if order.paid else "0",
            "1" if order.picked else "0",
        ]
        for number, order in enumerate(found, start=1)
    ]
    header = [
        t(lang, f"sharing.csv_{c}")
        for c in ("n", "name", "unit", "qty", "amount", "paid", "picked")
    ]
    return refs.Export(filename=f"groupbuy-G{gb.id}.csv", header=header, rows=rows)


async def run_groupbuy_close(services: Services, row: Scheduled, late_by: timedelta) -> None:
    assert row.ref_id is not None
    await close_groupbuy(services, row.ref_id)


# --- chains ---------------------------------------------------------------------------------


async def render_chain(
    services: Services, chain_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    chain = await store.get_chain(services.db, chain_id)
    if chain is None:
        return "—", None
    group = await chats.get(services.db, chain.chat_id)
    lang = group.language if group else None
    tz = group.timezone if group else "UTC"
    head = "sharing.chain_title_closed" if chain.status == "closed" else "sharing.chain_title"
    lines = [t(lang, head, title=chain.title, who=chain.creator_name)]
    if chain.status == "open" and chain.closes_at is not None:
        lines.append(
            t(lang, "sharing.chain_closes", when=format_datetime(chain.closes_at, lang, tz))
        )
    found = await store.lines(services.db, chain.id)
    tail = [t(lang, "sharing.chain_hint")] if chain.status == "open" else []
    tail.append(Ref("chain", chain.id).tag)
    budget = MAX_TEXT - sum(len(x) + 1 for x in lines + tail) - 80
    body: list[str] = []
    for number, line in enumerate(found, start=1):
        text = t(lang, "sharing.chain_line", n=number, text=line.text, who=line.user_name)
        if budget - len(text) - 1 < 0:
            body.append(tn(lang, "post.more", len(found) - number + 1))
            break
        budget -= len(text) + 1
        body.append(text)
    if not found:
        body.append(t(lang, "sharing.chain_empty"))
    text = "\n".join([*lines, "", *body, "", *tail])
    markup = None
    if chain.status == "open":
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t(lang, "sharing.btn_close"), callback_data=f"ch:c:{chain.id}")]]
        )
    return text, markup


def refresh_chain(services: Services, chain: store.Chain) -> None:
    if chain.card_id is None:
        return

    async def moved(new_id: int) -> None:
        await store.set_chain_card(services.db, chain.id, new_id)

    async def render() -> tuple[str, InlineKeyboardMarkup | None]:
        return await render_chain(services, chain.id)

    services.outbox.refresh(
        chain.chat_id, chain.card_id, render, on_moved=moved, thread_id=chain.thread_id
    )


async def _redraw_chain(services: Services, chain_id: int) -> None:
    chain = await store.get_chain(services.db, chain_id)
    if chain is not None:
        refresh_chain(services, chain)


cards.register("chain", render=render_chain, redraw=_redraw_chain)  # after a restart, too


@command(where=GROUP_ONLY)
async def chain(turn: Turn) -> None:
    assert turn.user is not None
    spec = rules.parse_chain(turn.rest, lang=turn.lang, tz=turn.chat.timezone, now=turn.now)
    found, row_id = await store.create_chain(
        turn.services.db,
        chat_id=turn.chat.id,
        creator_id=turn.user.id,
        creator_name=display_name(turn.user),
        title=spec.title,
        closes_at=spec.closes_at,
        now=turn.now,
        thread_id=turn.thread_id,
    )
    if row_id is not None and spec.closes_at is not None:
        turn.services.scheduler.arm(row_id, spec.closes_at)
    text, markup = await render_chain(turn.services, found.id)
    card = await turn.say(text, markup=markup)
    if card is not None:
        await store.set_chain_card(turn.services.db, found.id, card.message_id)


async def chain_reply(turn: Turn, chain_id: int, replied_id: int, text: str) -> None:
    """A reply to the chain card: the sender's line (added, replaced, or removed with "-").
    Only the card itself takes lines: another bot message that happens to show the chain's
    tag (an error repeating what someone typed, say) is not the chain."""
    assert turn.user is not None
    found = await store.get_chain(turn.services.db, chain_id)
    if found is None or found.chat_id != turn.chat.id or found.card_id != replied_id:
        return
    line = rules.chain_line(text)
    await store.put_line(
        turn.services.db, found.id, turn.user.id, display_name(turn.user), line, turn.now
    )
    refresh_chain(turn.services, found)


@button()
async def chain_button(turn: Turn, parts: list[str]) -> None:
    _, chain_id = _parse(parts, "c")
    found = await store.get_chain(turn.services.db, chain_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    if not await _lead_or(turn, found.creator_id):
        raise DomainError("sharing.creator_only")
    if not await close_chain(turn.services, found.id):
        raise DomainError("sharing.already_closed")
    await turn.answer("sharing.closed")


async def close_chain(services: Services, chain_id: int) -> bool:
    stale = await store.close_chain(services.db, chain_id, services.clock())
    if stale is None:
        return False
    services.scheduler.disarm(stale)
    found = await store.get_chain(services.db, chain_id)
    assert found is not None
    refresh_chain(services, found)
    return True


@refs.closer("chain")
async def close_chain_ref(turn: Turn, chain_id: int) -> None:
    found = await store.get_chain(turn.services.db, chain_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("sharing.unknown_ref", ref=f"C{chain_id}")
    if not await _lead_or(turn, found.creator_id):
        raise DomainError("sharing.creator_only")
    if not await close_chain(turn.services, found.id):
        raise DomainError("sharing.already_closed")
    await turn.reply("sharing.closed_ref", ref=f"C{found.id}")


@refs.exporter("chain")
async def export_chain(turn: Turn, chain_id: int) -> refs.Export:
    """Anyone in the group: the lines are on the card for all to see anyway."""
    found = await store.get_chain(turn.services.db, chain_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("sharing.unknown_ref", ref=f"C{chain_id}")
    lang, tz = turn.personal_lang, turn.chat.timezone
    zone = ZoneInfo(tz)
    rows = [
        [
            str(number),
            line.user_name,
            line.text,
            line.updated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        ]
        for number, line in enumerate(await store.lines(turn.services.db, found.id), start=1)
    ]
    header = [t(lang, f"sharing.csv_{c}", tz=tz) for c in ("n", "name", "line", "updated")]
    return refs.Export(filename=f"chain-C{found.id}.csv", header=header, rows=rows)


async def run_chain_close(services: Services, row: Scheduled, late_by: timedelta) -> None:
    assert row.ref_id is not None
    await close_chain(services, row.ref_id)


# --- wiring ---------------------------------------------------------------------------------

DYNAMIC_KEYS = frozenset(
    f"sharing.csv_{c}"
    for c in ("n", "name", "unit", "qty", "amount", "paid", "picked", "line", "updated")
)


def register(app: Any) -> None:
    app.add_handler(CommandHandler("groupbuy", groupbuy, filters=NEW))
    app.add_handler(CommandHandler("chain", chain, filters=NEW))
    app.add_handler(CallbackQueryHandler(groupbuy_button, pattern=r"^gb:"))
    app.add_handler(CallbackQueryHandler(chain_button, pattern=r"^ch:"))


def setup(services: Services) -> None:
    # a close that fell due while the bot was down still closes (late): missed = run
    for kind, run in (
        (store.KIND_GB_CLOSE, run_groupbuy_close),
        (store.KIND_CHAIN_CLOSE, run_chain_close),
    ):
        services.scheduler.register(kind, run=partial(run, services), missed=partial(run, services))
