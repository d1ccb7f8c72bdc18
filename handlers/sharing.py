"""Sharing between neighbours: items (lend / give / need) and skills. Group buys and chains
live in handlers/groupbuys.py and are registered from here.

/offer <item> [| lend or give] [| note]   a card with "I'd like it" (a photo may come along:
                                           /offer as a photo's caption, or as a reply to one)
/need <item>                              a card with "I have one"
/items [words]                            search the group's listings (a part of a word is enough)
/mine                                     your listings, with Withdraw (and Renew) buttons
/skill <what you can help with>           a card with "Ask"
/skills [words]                           find neighbours who offered help

Pressing "I'd like it" / "I have one" / "Ask" connects the two people: each gets a private
message mentioning the other (Telegram mention by user id; never a phone number). Whoever
never started the bot privately is mentioned in the group instead.

Loans: the owner presses "Lent to…", picks one of the neighbours who asked, then a length
(3 days, 1 week, 2 weeks, no date) or replies to that prompt with a time ("next Sunday",
"下周日", "через 3 дня"). The borrower is reminded a day before (half-way for short loans), the
owner is told when it is overdue, "Returned" closes the loan. "History" lists past loans.

Listings (offers and needs) expire after the group's ``listing_days``; the owner gets a
private prompt with a Renew button. A listing on loan does not expire while it is out.

Callback data (≤ 64 bytes, our own row ids): it:w|h|l|g|y|x|n:<item>, it:b:<request>,
it:d:<loan>:<days>, it:r:<loan>, sk:a:<item>; group buys gb:*, chains ch:* (handlers/groupbuys.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.domain import sharing as rules
from bot.domain.chats import Chat
from bot.domain.errors import DomainError
from bot.domain.refs import Ref, find_ref
from bot.i18n import format_datetime, shorten, t, tn
from bot.services import Services
from handlers import cards, digest, groupbuys
from handlers.common import GROUP_ONLY, Turn, button, command, display_name, is_id, mention
from handlers.topics import topic
from storage import chats
from storage import sharing as store
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE
#: Results shown by /items and /skills (with buttons), listings shown by /mine.
LIST_LIMIT = 10
#: Telegram's caption limit.
MAX_CAPTION = 1024


def tag(item_id: int) -> str:
    return Ref("item", item_id).tag


#: Keys built at run time (the CSV headers of handlers/groupbuys.py).
DYNAMIC_KEYS: frozenset[str] = groupbuys.DYNAMIC_KEYS


# --- reaching people privately ------------------------------------------------------------


async def private_chat(services: Services, user_id: int) -> Chat | None:
    """The person's private chat with the bot, if they started it and did not block it."""
    chat = await chats.get(services.db, user_id)
    return chat if chat is not None and chat.is_private and chat.active else None


async def reachable(services: Services, *user_ids: int) -> bool:
    """Whether every one of them has a private chat with the bot (said before sending)."""
    return all([await private_chat(services, uid) is not None for uid in user_ids])


async def tell(services: Services, user_id: int, key: str, /, **params: Any) -> bool:
    """A private message in the person's own language; False if they cannot be reached."""
    chat = await private_chat(services, user_id)
    if chat is None:
        return False
    sent = await services.outbox.send(user_id, t(chat.language, key, **params))
    return sent is not None


async def tell_or_group(
    services: Services,
    group: Chat,
    user_id: int,
    key: str,
    group_key: str,
    /,
    markup: InlineKeyboardMarkup | None = None,
    thread_id: int | None = None,
    **params: Any,
) -> bool:
    """Tell the person privately, else say it in the group (``group_key`` has a mention), in
    the forum topic ``thread_id`` (the row's). Returns whether anything could be said."""
    chat = await private_chat(services, user_id)
    if chat is not None:
        sent = await services.outbox.send(
            user_id, t(chat.language, key, **params), reply_markup=markup
        )
        if sent is not None:
            return True
    if not group.active:
        return False
    sent = await services.outbox.send(
        group.id,
        t(group.language, group_key, **params),
        reply_markup=markup,
        **topic(group.language, thread_id),
    )
    return sent is not None


async def connect(
    turn: Turn,
    owner: tuple[int, str],
    other: tuple[int, str],
    keys: tuple[str, str],
    **params: Any,
) -> bool:
    """Each of the two gets a private message mentioning the other. If either cannot be
    reached, the group gets one message mentioning both. True if all went privately."""
    services = turn.services
    owner_key, other_key = keys
    to_owner = await tell(services, owner[0], owner_key, who=mention(other[0], other[1]), **params)
    to_other = await tell(services, other[0], other_key, who=mention(owner[0], owner[1]), **params)
    if to_owner and to_other:
        return True
    link = f"https://t.me/{services.bot_username}?start=sharing"
    await services.outbox.send(
        turn.chat.id,
        turn.t(
            "sharing.connect_group",
            owner=mention(owner[0], owner[1]),
            other=mention(other[0], other[1]),
            link=link,
            **params,
        ),
    )
    return False


async def send_photo(
    services: Services, chat_id: int, file_id: str, caption: str
) -> Message | None:
    """A photo by Telegram file id, through the outbox's limits and retries. A file id
    Telegram refuses only loses the photo: the card is posted without it."""
    return await services.outbox.send_photo(chat_id, file_id, caption=caption[:MAX_CAPTION])


# --- cards ----------------------------------------------------------------------------------


def _when(lang: str, moment: datetime, tz: str) -> str:
    return format_datetime(moment, lang, tz)


async def render_item(services: Services, item_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    item = await store.get_item(services.db, item_id)
    if item is None:
        return "—", None
    chat = await chats.get(services.db, item.chat_id)
    lang = chat.language if chat else None
    tz = chat.timezone if chat else "UTC"
    if item.kind == "skill":
        head = t(lang, "sharing.card_skill", who=item.owner_name, skill=item.title)
    elif item.kind == "need":
        head = t(lang, "sharing.card_need", title=item.title, who=item.owner_name)
    elif item.mode == rules.GIVE:
        head = t(lang, "sharing.card_give", title=item.title, who=item.owner_name)
    else:
        head = t(lang, "sharing.card_lend", title=item.title, who=item.owner_name)
    lines = [head]
    if item.note:
        lines.append(t(lang, "sharing.card_note", note=item.note))
    asked = len(await store.requests_for(services.db, item.id, limit=1000))
    if asked and item.kind != "skill":
        lines.append(tn(lang, "sharing.card_interested", asked))
    loan = await store.open_loan(services.db, item.id) if item.status == "lent" else None
    if loan is not None:
        if loan.due_at is not None:
            lines.append(
                t(
                    lang,
                    "sharing.card_lent_until",
                    who=loan.borrower_name,
                    due=_when(lang or "en", loan.due_at, tz),
                )
            )
        else:
            lines.append(t(lang, "sharing.card_lent", who=loan.borrower_name))
    status_key = {
        "expired": "sharing.card_expired",
        "withdrawn": "sharing.card_withdrawn",
        "given": "sharing.card_given" if item.kind == "offer" else "sharing.card_found",
    }.get(item.status)
    if status_key:
        lines.append(t(lang, status_key))
    lines.append(tag(item.id))
    rows: list[list[InlineKeyboardButton]] = []
    if item.kind == "skill" and item.status == "open":
        rows.append(
            [InlineKeyboardButton(t(lang, "sharing.btn_ask"), callback_data=f"sk:a:{item.id}")]
        )
    elif item.kind == "need" and item.status == "open":
        rows.append(
            [
                InlineKeyboardButton(t(lang, "sharing.btn_have"), callback_data=f"it:h:{item.id}"),
                InlineKeyboardButton(t(lang, "sharing.btn_found"), callback_data=f"it:g:{item.id}"),
            ]
        )
    elif item.kind == "offer" and item.status in ("open", "lent"):
        rows.append(
            [InlineKeyboardButton(t(lang, "sharing.btn_want"), callback_data=f"it:w:{item.id}")]
        )
        owner_row = []
        if loan is not None:
            owner_row.append(
                InlineKeyboardButton(
                    t(lang, "sharing.btn_returned"), callback_data=f"it:r:{loan.id}"
                )
            )
        elif item.mode == rules.GIVE:
            owner_row.append(
                InlineKeyboardButton(t(lang, "sharing.btn_given"), callback_data=f"it:g:{item.id}")
            )
        else:
            owner_row.append(
                InlineKeyboardButton(t(lang, "sharing.btn_lend"), callback_data=f"it:l:{item.id}")
            )
        if item.mode == rules.LEND:
            owner_row.append(
                InlineKeyboardButton(
                    t(lang, "sharing.btn_history"), callback_data=f"it:y:{item.id}"
                )
            )
        rows.append(owner_row)
    return "\n".join(lines), InlineKeyboardMarkup(rows) if rows else None


def refresh_item(services: Services, item: store.Item) -> None:
    if item.card_id is None:
        return

    async def moved(new_id: int) -> None:
        await store.set_item_card(services.db, item.id, new_id)

    async def render() -> tuple[str, InlineKeyboardMarkup | None]:
        return await render_item(services, item.id)

    services.outbox.refresh(
        item.chat_id, item.card_id, render, on_moved=moved, thread_id=item.thread_id
    )


async def _redraw(services: Services, item_id: int) -> None:
    item = await store.get_item(services.db, item_id)
    if item is not None:
        refresh_item(services, item)


cards.register("item", render=render_item, redraw=_redraw)  # brought up to date after a restart


async def _post_card(turn: Turn, item: store.Item) -> None:
    """The card (text, with buttons), below the photo when there is one."""
    services = turn.services
    text, markup = await render_item(services, item.id)
    reply_to = turn.message.message_id if turn.message else None
    if item.photo:
        caption = t(
            turn.lang, "sharing.photo_caption", title=shorten(item.title, 200), tag=tag(item.id)
        )
        photo = await send_photo(services, turn.chat.id, item.photo, caption)
        if photo is not None:
            reply_to = photo.message_id
    card = await services.outbox.send(turn.chat.id, text, reply_markup=markup, reply_to=reply_to)
    if card is not None:
        await store.set_item_card(services.db, item.id, card.message_id)


def _photo_of(turn: Turn) -> str | None:
    message = turn.message
    if message is None:
        return None
    for candidate in (message, message.reply_to_message):
        if candidate is not None and candidate.photo:
            return candidate.photo[-1].file_id
    return None


async def _create(turn: Turn, kind: str, title: str, mode: str | None, note: str) -> None:
    assert turn.user is not None
    days = turn.chat.settings.listing_days
    expires = rules.expires_at(turn.now, days) if kind != "skill" else None
    item, row_id = await store.create_item(
        turn.services.db,
        chat_id=turn.chat.id,
        kind=kind,
        mode=mode,
        owner_id=turn.user.id,
        owner_name=display_name(turn.user),
        title=title,
        note=note,
        photo=_photo_of(turn) if kind != "skill" else None,
        search=rules.search_text(title, note),
        now=turn.now,
        expires=expires,
        thread_id=turn.thread_id,
    )
    if row_id is not None and expires is not None:
        turn.services.scheduler.arm(row_id, expires)
    await _post_card(turn, item)


@command(where=GROUP_ONLY)
async def offer(turn: Turn) -> None:
    parsed = rules.parse_offer(turn.rest)
    await _create(turn, "offer", parsed.title, parsed.mode, parsed.note)


@command(where=GROUP_ONLY)
async def need(turn: Turn) -> None:
    await _create(turn, "need", rules.parse_need(turn.rest), None, "")


@command(where=GROUP_ONLY)
async def skill(turn: Turn) -> None:
    await _create(turn, "skill", rules.parse_skill(turn.rest), None, "")


async def photo_command(update: Any, context: Any) -> None:
    """A photo whose caption is /offer or /need."""
    message = update.effective_message
    caption = (message.caption or "") if message else ""
    word = caption.split(maxsplit=1)[0].split("@")[0].lower() if caption.strip() else ""
    if word == "/need":
        await need(update, context)
    else:
        await offer(update, context)


# --- search and lists -----------------------------------------------------------------------


def _item_line(lang: str, number: int, item: store.Item) -> str:
    if item.kind == "need":
        key = "sharing.line_need"
    elif item.status == "lent":
        key = "sharing.line_lent"
    elif item.mode == rules.GIVE:
        key = "sharing.line_give"
    else:
        key = "sharing.line_lend"
    return t(
        lang, key, n=number, title=shorten(item.title, 60), who=item.owner_name, tag=tag(item.id)
    )


@command(where=GROUP_ONLY)
async def items(turn: Turn) -> None:
    terms = rules.search_terms(turn.rest)
    found, total = await store.search(
        turn.services.db, turn.chat.id, terms, kinds=("offer", "need"), limit=LIST_LIMIT
    )
    if not found:
        await turn.reply("sharing.items_none" if terms else "sharing.items_empty")
        return
    lines = [turn.t("sharing.items_title")]
    buttons = []
    for number, item in enumerate(found, start=1):
        lines.append(_item_line(turn.lang, number, item))
        key, op = (
            ("sharing.btn_have_n", "h") if item.kind == "need" else ("sharing.btn_want_n", "w")
        )
        buttons.append(
            InlineKeyboardButton(turn.t(key, n=number), callback_data=f"it:{op}:{item.id}")
        )
    if total > len(found):
        lines.append(tn(turn.lang, "post.more", total - len(found)))
    rows = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    await turn.say("\n".join(lines), markup=InlineKeyboardMarkup(rows))


@command(where=GROUP_ONLY)
async def skills(turn: Turn) -> None:
    terms = rules.search_terms(turn.rest)
    found, total = await store.search(
        turn.services.db,
        turn.chat.id,
        terms,
        kinds=("skill",),
        statuses=("open",),
        limit=LIST_LIMIT,
    )
    if not found:
        await turn.reply("sharing.skills_none" if terms else "sharing.skills_empty")
        return
    lines = [turn.t("sharing.skills_title")]
    buttons = []
    for number, item in enumerate(found, start=1):
        lines.append(
            turn.t(
                "sharing.line_skill", n=number, skill=shorten(item.title, 60), who=item.owner_name
            )
        )
        buttons.append(
            InlineKeyboardButton(
                turn.t("sharing.btn_ask_n", n=number), callback_data=f"sk:a:{item.id}"
            )
        )
    if total > len(found):
        lines.append(tn(turn.lang, "post.more", total - len(found)))
    rows = [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
    await turn.say("\n".join(lines), markup=InlineKeyboardMarkup(rows))


async def _mine_listing(turn: Turn) -> tuple[str, InlineKeyboardMarkup | None]:
    assert turn.user is not None
    found = await store.mine(turn.services.db, turn.chat.id, turn.user.id, limit=LIST_LIMIT + 1)
    if not found:
        return turn.t("sharing.mine_none"), None
    lines = [turn.t("sharing.mine_title")]
    rows = []
    for number, item in enumerate(found[:LIST_LIMIT], start=1):
        if item.kind == "skill":
            line = turn.t(
                "sharing.line_skill", n=number, skill=shorten(item.title, 60), who=item.owner_name
            )
        else:
            line = _item_line(turn.lang, number, item)
        if item.status == "expired":
            line += " " + turn.t("sharing.mine_expired")
        lines.append(line)
        row = []
        if item.status != "lent":
            row.append(
                InlineKeyboardButton(
                    turn.t("sharing.btn_withdraw_n", n=number), callback_data=f"it:x:{item.id}"
                )
            )
        if item.status == "expired":
            row.append(
                InlineKeyboardButton(
                    turn.t("sharing.btn_renew_n", n=number), callback_data=f"it:n:{item.id}"
                )
            )
        if row:
            rows.append(row)
    if len(found) > LIST_LIMIT:
        lines.append(turn.t("sharing.mine_more"))
    return "\n".join(lines), InlineKeyboardMarkup(rows) if rows else None


@command(where=GROUP_ONLY)
async def mine(turn: Turn) -> None:
    text, markup = await _mine_listing(turn)
    await turn.say(text, markup=markup)


# --- buttons --------------------------------------------------------------------------------


def _ids(parts: list[str], ops: str, count: int = 1) -> tuple[str, list[int]]:
    if len(parts) != count + 1 or parts[0] not in ops or not all(is_id(p) for p in parts[1:]):
        raise DomainError("error.stale_button")
    return parts[0], [int(p) for p in parts[1:]]


async def _item_here(turn: Turn, item_id: int) -> store.Item:
    item = await store.get_item(turn.services.db, item_id)
    if item is None or item.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    return item


def _owner_only(turn: Turn, owner_id: int) -> None:
    assert turn.user is not None
    if turn.user.id != owner_id:
        raise DomainError("sharing.owner_only")


async def _edit_pressed(turn: Turn, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    query = turn.query
    if query is not None and query.message is not None and query.message.is_accessible:
        await turn.services.outbox.edit(
            turn.chat.id, query.message.message_id, text, reply_markup=markup, repost=False
        )


@button(counts=True)
async def item_button(turn: Turn, parts: list[str]) -> None:
    assert turn.user is not None
    op = parts[0] if parts else ""
    if op in ("w", "h", "l", "g", "y", "x", "n"):
        _, (item_id,) = _ids(parts, op)
        if op == "n":
            await _renew(turn, item_id)
            return
        item = await _item_here(turn, item_id)
        handler = {
            "w": _want,
            "h": _want,
            "l": _lend_prompt,
            "g": _given,
            "y": _history,
            "x": _withdraw,
        }
        await handler[op](turn, item, op)
    elif op == "b":
        _, (request_id,) = _ids(parts, "b")
        await _lend_to(turn, request_id)
    elif op == "d":
        _, (loan_id, days) = _ids(parts, "d", 2)
        await _due_days(turn, loan_id, days)
    elif op == "r":
        _, (loan_id,) = _ids(parts, "r")
        await _returned(turn, loan_id)
    else:
        raise DomainError("error.stale_button")


async def _want(turn: Turn, item: store.Item, op: str) -> None:
    assert turn.user is not None
    expected = "need" if op == "h" else "offer"
    if item.kind != expected:
        raise DomainError("error.stale_button")
    if item.status not in (("open", "lent") if item.kind == "offer" else ("open",)):
        raise DomainError("sharing.not_available")
    if turn.user.id == item.owner_id:
        raise DomainError("sharing.own_item")
    name = display_name(turn.user)
    _, created = await store.add_request(turn.services.db, item, turn.user.id, name, turn.now)
    if not created:
        raise DomainError("sharing.already_asked")
    keys = (
        ("sharing.dm_have_owner", "sharing.dm_have_other")
        if item.kind == "need"
        else ("sharing.dm_want_owner", "sharing.dm_want_other")
    )
    # answered first: the message to the group may have to wait for the group's budget
    privately = await reachable(turn.services, item.owner_id, turn.user.id)
    await turn.answer("sharing.connected" if privately else "sharing.connected_group")
    await connect(
        turn,
        (item.owner_id, item.owner_name),
        (turn.user.id, name),
        keys,
        title=item.title,
        tag=tag(item.id),
    )
    refresh_item(turn.services, item)


@button(counts=True)
async def skill_button(turn: Turn, parts: list[str]) -> None:
    assert turn.user is not None
    _, (item_id,) = _ids(parts, "a")
    item = await _item_here(turn, item_id)
    if item.kind != "skill" or item.status != "open":
        raise DomainError("sharing.not_available")
    if turn.user.id == item.owner_id:
        raise DomainError("sharing.own_item")
    name = display_name(turn.user)
    _, created = await store.add_request(turn.services.db, item, turn.user.id, name, turn.now)
    if not created:
        raise DomainError("sharing.already_asked")
    privately = await reachable(turn.services, item.owner_id, turn.user.id)
    await turn.answer("sharing.connected" if privately else "sharing.connected_group")
    await connect(
        turn,
        (item.owner_id, item.owner_name),
        (turn.user.id, name),
        ("sharing.dm_ask_owner", "sharing.dm_ask_other"),
        title=item.title,
        tag=tag(item.id),
    )


async def _lend_prompt(turn: Turn, item: store.Item, op: str) -> None:
    _owner_only(turn, item.owner_id)
    if item.kind != "offer" or item.mode != rules.LEND or item.status != "open":
        raise DomainError("sharing.not_available")
    asked = await store.requests_for(turn.services.db, item.id)
    if not asked:
        raise DomainError("sharing.nobody_asked")
    await turn.answer()
    rows = [
        [InlineKeyboardButton(shorten(r.user_name, 40), callback_data=f"it:b:{r.id}")]
        for r in asked
    ]
    await turn.services.outbox.send(
        turn.chat.id,
        turn.t("sharing.lend_pick", title=item.title, tag=tag(item.id)),
        reply_markup=InlineKeyboardMarkup(rows),
        reply_to=item.card_id,
    )


def _due_markup(lang: str, loan_id: int) -> InlineKeyboardMarkup:
    labels = {3: "sharing.btn_3_days", 7: "sharing.btn_week", 14: "sharing.btn_two_weeks"}
    row = [
        InlineKeyboardButton(t(lang, labels[d]), callback_data=f"it:d:{loan_id}:{d}")
        for d in rules.LOAN_DAYS
    ]
    return InlineKeyboardMarkup(
        [
            row,
            [
                InlineKeyboardButton(
                    t(lang, "sharing.btn_no_date"), callback_data=f"it:d:{loan_id}:0"
                )
            ],
        ]
    )


async def _lend_to(turn: Turn, request_id: int) -> None:
    request = await store.get_request(turn.services.db, request_id)
    if request is None or request.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    item = await _item_here(turn, request.item_id)
    _owner_only(turn, item.owner_id)
    loan = await store.lend(turn.services.db, item.id, request, turn.now)
    await turn.answer("sharing.saved")
    await _edit_pressed(
        turn,
        turn.t("sharing.lend_when", title=item.title, who=loan.borrower_name, tag=tag(item.id)),
        _due_markup(turn.lang, loan.id),
    )
    refresh_item(turn.services, item)


async def _loan_here(turn: Turn, loan_id: int) -> tuple[store.Loan, store.Item]:
    loan = await store.get_loan(turn.services.db, loan_id)
    if loan is None or loan.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    item = await _item_here(turn, loan.item_id)
    _owner_only(turn, item.owner_id)
    if loan.status != "out":
        raise DomainError("sharing.loan_closed")
    return loan, item


async def set_due(
    services: Services, chat: Chat, loan: store.Loan, due: datetime, now: datetime
) -> None:
    stale, armed = await store.set_due(
        services.db, loan.id, due, rules.reminder_time(now, due), now
    )
    services.scheduler.disarm(stale)
    for row_id, run_at in armed:
        services.scheduler.arm(row_id, run_at)


async def _due_days(turn: Turn, loan_id: int, days: int) -> None:
    loan, item = await _loan_here(turn, loan_id)
    if days == 0:
        # a date chosen earlier (a typed reply) is forgotten, with its reminder and notice
        turn.services.scheduler.disarm(await store.clear_due(turn.services.db, loan.id))
        await turn.answer("sharing.saved")
        refresh_item(turn.services, item)
        await _edit_pressed(
            turn,
            turn.t(
                "sharing.lend_done_no_date",
                title=item.title,
                who=loan.borrower_name,
                tag=tag(item.id),
            ),
        )
        return
    due = rules.due_in_days(turn.now, days, turn.chat.timezone)
    await set_due(turn.services, turn.chat, loan, due, turn.now)
    await turn.answer("sharing.saved")
    await _edit_pressed(
        turn,
        turn.t(
            "sharing.lend_done",
            title=item.title,
            who=loan.borrower_name,
            due=_when(turn.lang, due, turn.chat.timezone),
            tag=tag(item.id),
        ),
    )
    refresh_item(turn.services, item)


async def _returned(turn: Turn, loan_id: int) -> None:
    loan, item = await _loan_here(turn, loan_id)
    turn.services.scheduler.disarm(await store.return_loan(turn.services.db, loan.id, turn.now))
    await turn.answer("sharing.returned")
    refresh_item(turn.services, item)


async def _given(turn: Turn, item: store.Item, op: str) -> None:
    _owner_only(turn, item.owner_id)
    stale = await store.set_item_status(turn.services.db, item.id, "given", only=("open",))
    if stale is None:
        raise DomainError("sharing.not_available")
    turn.services.scheduler.disarm(stale)
    await turn.answer("sharing.saved")
    refresh_item(turn.services, item)


async def _withdraw(turn: Turn, item: store.Item, op: str) -> None:
    _owner_only(turn, item.owner_id)
    if item.status == "lent":
        raise DomainError("sharing.on_loan")
    stale = await store.set_item_status(
        turn.services.db, item.id, "withdrawn", only=("open", "expired")
    )
    if stale is None:
        raise DomainError("sharing.not_available")
    turn.services.scheduler.disarm(stale)
    await turn.answer("sharing.withdrawn")
    refresh_item(turn.services, item)
    text, markup = await _mine_listing(turn)
    await _edit_pressed(turn, text, markup)


async def _history(turn: Turn, item: store.Item, op: str) -> None:
    past = await store.loan_history(turn.services.db, item.id)
    await turn.answer()
    if not past:
        await turn.services.outbox.send(
            turn.chat.id, turn.t("sharing.history_none", title=item.title), reply_to=item.card_id
        )
        return
    tz = turn.chat.timezone
    lines = [turn.t("sharing.history_title", title=item.title)]
    for loan in past:
        lent = _when(turn.lang, loan.lent_at, tz)
        if loan.returned_at is not None:
            lines.append(
                turn.t(
                    "sharing.history_returned",
                    who=loan.borrower_name,
                    lent=lent,
                    back=_when(turn.lang, loan.returned_at, tz),
                )
            )
        else:
            lines.append(turn.t("sharing.history_out", who=loan.borrower_name, lent=lent))
    await turn.services.outbox.send(turn.chat.id, "\n".join(lines), reply_to=item.card_id)


async def _renew(turn: Turn, item_id: int) -> None:
    """From the private expiry prompt, the group's fallback prompt, or /mine."""
    assert turn.user is not None
    services = turn.services
    item = await store.get_item(services.db, item_id)
    if item is None or (not turn.chat.is_private and item.chat_id != turn.chat.id):
        raise DomainError("error.stale_button")
    _owner_only(turn, item.owner_id)
    group = await chats.get(services.db, item.chat_id)
    if group is None:
        raise DomainError("error.stale_button")
    expires = rules.expires_at(turn.now, group.settings.listing_days)
    row_id = await store.renew(services.db, item.id, expires, turn.now)
    if row_id is None:
        raise DomainError("sharing.not_available")
    services.scheduler.arm(row_id, expires)
    await turn.answer("sharing.renewed")
    refresh_item(services, item)
    await _edit_pressed(
        turn,
        turn.t(
            "sharing.renewed_until",
            title=item.title,
            until=_when(turn.lang, expires, group.timezone),
        ),
    )


# --- replies: a due time for a loan, or a chain line ----------------------------------------


def due_prompt_loan(replied: Message) -> int | None:
    """The loan whose due buttons (``it:d:<loan>:<days>``) are under this bot message: the
    "Until when?" prompt, the only message a typed due time may answer."""
    markup = replied.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for key in row:
            data = key.callback_data
            if isinstance(data, str) and data.startswith("it:d:"):
                loan_id = data.split(":")[2]
                return int(loan_id) if is_id(loan_id) else None
    return None


def _chain_ref(replied: Message) -> int | None:
    found = find_ref(replied.text or replied.caption or "")
    return found.id if found is not None and found.kind == "chain" else None


async def reply_to_card(turn: Turn) -> None:
    """A text reply (or an edited one) to one of the bot's messages. The chain card takes the
    line; the lend prompt takes its owner's due time. Anything else is people talking (a reply
    to an item card, a reminder, a history...): left alone."""
    message = turn.message
    if message is None or message.reply_to_message is None or turn.user is None:
        return
    replied = message.reply_to_message
    if replied.from_user is None or replied.from_user.id != turn.context.bot.id:
        return
    loan_id = due_prompt_loan(replied)
    if loan_id is not None:
        await _due_reply(turn, loan_id, message.text or "")
        return
    chain_id = _chain_ref(replied)
    if chain_id is not None:
        await groupbuys.chain_reply(turn, chain_id, replied.message_id, message.text or "")


async def _due_reply(turn: Turn, loan_id: int, text: str) -> None:
    assert turn.user is not None
    loan = await store.get_loan(turn.services.db, loan_id)
    if loan is None or loan.chat_id != turn.chat.id or loan.status != "out":
        return
    item = await store.get_item(turn.services.db, loan.item_id)
    if item is None or item.chat_id != turn.chat.id or item.owner_id != turn.user.id:
        return
    due = rules.parse_due(text, lang=turn.lang, tz=turn.chat.timezone, now=turn.now)
    await set_due(turn.services, turn.chat, loan, due, turn.now)
    await turn.reply(
        "sharing.lend_done",
        title=item.title,
        who=loan.borrower_name,
        due=_when(turn.lang, due, turn.chat.timezone),
        tag=tag(item.id),
    )
    refresh_item(turn.services, item)


@command(where=GROUP_ONLY, counts=True)
async def _reply_turn(turn: Turn) -> None:
    await reply_to_card(turn)


async def _reply_handler(update: Any, context: Any) -> None:
    """Only replies to the bot's chain cards and lend prompts open a turn: people reply to
    the bot's other messages while talking, and that must neither cost them their command
    allowance (the flood guard) nor get an answer."""
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        return
    if due_prompt_loan(replied) is None and _chain_ref(replied) is None:
        return
    await _reply_turn(update, context)


# --- scheduled ------------------------------------------------------------------------------


async def _group(services: Services, chat_id: int) -> Chat | None:
    return await chats.get(services.db, chat_id)


async def _loan_notice(services: Services, row: Scheduled, *, to_borrower: bool) -> None:
    """The loan's reminder (to the borrower) or overdue notice (to the owner), if still out."""
    assert row.ref_id is not None
    loan = await store.get_loan(services.db, row.ref_id)
    if loan is None or loan.status != "out" or loan.due_at is None:
        return
    item = await store.get_item(services.db, loan.item_id)
    group = await _group(services, loan.chat_id)
    if item is None or group is None:
        return
    to = loan.borrower_id if to_borrower else item.owner_id
    key = "sharing.remind_borrower" if to_borrower else "sharing.overdue_owner"
    private = await private_chat(services, to)
    lang = private.language if private else group.language
    await tell_or_group(
        services,
        group,
        to,
        key,
        f"{key}_group",
        thread_id=item.thread_id,
        title=item.title,
        who=mention(loan.borrower_id, loan.borrower_name),
        owner=mention(item.owner_id, item.owner_name),
        due=_when(lang, loan.due_at, group.timezone),
        tag=tag(item.id),
    )


async def run_remind(services: Services, row: Scheduled, late_by: timedelta) -> None:
    """A day (or half the loan) before the due time: remind the borrower."""
    await _loan_notice(services, row, to_borrower=True)


async def run_overdue(services: Services, row: Scheduled, late_by: timedelta) -> None:
    """At the due time, if not returned: tell the owner."""
    await _loan_notice(services, row, to_borrower=False)


async def run_expiry(services: Services, row: Scheduled, late_by: timedelta) -> None:
    """The listing's days are over: it leaves searches; the owner may renew it."""
    assert row.ref_id is not None
    item = await store.get_item(services.db, row.ref_id)
    if item is None or item.status != "open":
        return  # on loan (next_expiry plans another look), withdrawn, given, renewed
    if await store.set_item_status(services.db, item.id, "expired", only=("open",)) is None:
        return
    refresh_item(services, item)
    group = await _group(services, item.chat_id)
    if group is None:
        return
    private = await private_chat(services, item.owner_id)
    lang = private.language if private else group.language
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(lang, "sharing.btn_renew"), callback_data=f"it:n:{item.id}")]]
    )
    await tell_or_group(
        services,
        group,
        item.owner_id,
        "sharing.expired_owner",
        "sharing.expired_owner_group",
        markup=markup,
        thread_id=item.thread_id,
        title=item.title,
        owner=mention(item.owner_id, item.owner_name),
        days=group.settings.listing_days,
        tag=tag(item.id),
    )


async def next_expiry(services: Services, row: Scheduled, after: datetime) -> datetime | None:
    """A listing that is out on loan when it would expire is looked at again later."""
    assert row.ref_id is not None
    item = await store.get_item(services.db, row.ref_id)
    if item is None or item.status != "lent":
        return None
    group = await _group(services, item.chat_id)
    days = group.settings.listing_days if group else 30
    following = rules.expires_at(after, days)
    await store.push_expiry(services.db, item.id, following)
    return following


async def new_in_sharing(services: Services, chat: Chat, now: datetime) -> str | None:
    """Digest section: listings of the past week, and group buys and chains still open."""
    lang = chat.language
    fresh = await store.new_since(services.db, chat.id, now - digest.WEEK)
    groupbuys_open, chains_open = await store.open_counts(services.db, chat.id, now - digest.WEEK)
    if not fresh and not groupbuys_open and not chains_open:
        return None
    lines = [t(lang, "sharing.digest_title")]
    for number, item in enumerate(fresh, start=1):
        if item.kind == "skill":
            lines.append(
                t(
                    lang,
                    "sharing.line_skill",
                    n=number,
                    skill=shorten(item.title, 60),
                    who=item.owner_name,
                )
            )
        else:
            lines.append(_item_line(lang, number, item))
    if groupbuys_open:
        lines.append(tn(lang, "sharing.digest_groupbuys", groupbuys_open))
    if chains_open:
        lines.append(tn(lang, "sharing.digest_chains", chains_open))
    return "\n".join(lines)


# --- wiring ---------------------------------------------------------------------------------


def register(app: Any) -> None:
    """Add this feature's handlers to the application."""
    app.add_handler(CommandHandler("offer", offer, filters=NEW))
    app.add_handler(CommandHandler("need", need, filters=NEW))
    app.add_handler(CommandHandler("items", items, filters=NEW))
    app.add_handler(CommandHandler("mine", mine, filters=NEW))
    app.add_handler(CommandHandler("skill", skill, filters=NEW))
    app.add_handler(CommandHandler("skills", skills, filters=NEW))
    app.add_handler(
        MessageHandler(
            filters.PHOTO & filters.CaptionRegex(r"^/(offer|need)(@\w+)?(\s|$)") & NEW,
            photo_command,
        )
    )
    app.add_handler(CallbackQueryHandler(item_button, pattern=r"^it:"))
    app.add_handler(CallbackQueryHandler(skill_button, pattern=r"^sk:"))
    groupbuys.register(app)
    # Replies to the bot's cards (chain lines, loan due times), in a handler group of their
    # own so that other features' message handlers in group 0 still see every message.
    app.add_handler(
        MessageHandler(
            filters.REPLY
            & filters.TEXT
            & ~filters.COMMAND
            & filters.ChatType.GROUPS
            & filters.UpdateType.MESSAGES,  # an edited line replaces the line too
            _reply_handler,
        ),
        group=7,
    )


def setup(services: Services) -> None:
    """Register this feature's scheduled kinds and digest sections."""
    scheduler = services.scheduler
    for kind, run in (
        (store.KIND_REMIND, run_remind),
        (store.KIND_OVERDUE, run_overdue),
    ):
        # missed (the bot was down): still worth saying, late
        scheduler.register(kind, run=partial(run, services), missed=partial(run, services))
    scheduler.register(
        store.KIND_EXPIRY,
        run=partial(run_expiry, services),
        next_run=partial(next_expiry, services),
        missed=partial(run_expiry, services),
    )
    groupbuys.setup(services)
    if new_in_sharing not in digest.SECTIONS:
        digest.SECTIONS.append(new_in_sharing)
