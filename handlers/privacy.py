"""Privacy: /mydata, /forgetme, /purge and the daily retention purge.

/mydata      private chat: a JSON file with every row stored about you, in every group
/forgetme    private chat: after a confirm button, removes or anonymises all of it
/purge       group, leads: after a confirm button naming the group, deletes all its data
retention    a daily scheduled row per group ("retention_purge") deletes finished things older
             than the group's ``retention_days`` (default 365; /settings retention_days 730)

Callback data: pv:y:<prompt id> (yes: forget me, or purge) and pv:x:<prompt id> (cancel). The
question is a prompt (storage/prompts.py): only its author can answer it, once, on its own
message, within :data:`CONFIRM_FOR`; cancelling kills its Yes too. The old forms (pv:f:<minute>,
pv:p:<minute>, pv:n) are answered as stale and change nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Final
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError
from telegram.ext import CallbackContext, CallbackQueryHandler, CommandHandler, filters

from bot.domain import events as event_rules
from bot.domain.errors import DomainError
from bot.domain.refs import ref
from bot.domain.roles import Action
from bot.i18n import Html, t, tn
from bot.services import Services
from handlers import decisions as decisions_h
from handlers import events as events_h
from handlers import groupbuys as groupbuys_h
from handlers import house_rules as house_rules_h
from handlers import polls as polls_h
from handlers import rollcall as rollcall_h
from handlers import rosters as rosters_h
from handlers import sharing as sharing_h
from handlers import units as units_h
from handlers.common import BOTH, GROUP_ONLY, Turn, button, command, is_id
from storage import chats, prompts
from storage import decisions as decisions_store
from storage import events as events_store
from storage import polls as polls_store
from storage import privacy as store
from storage import secrets as sealing
from storage import sharing as sharing_store
from storage.db import to_db
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE

#: A confirm button works this long after the question.
CONFIRM_FOR: Final = timedelta(minutes=15)
#: Local time of the daily retention purge.
PURGE_HOUR: Final = 4
#: How often groups without a retention row get one (new groups); also run at start-up.
ENSURE_EVERY: Final = timedelta(hours=6)


def placeholders(lang: str) -> store.Placeholders:
    return store.Placeholders(
        former=t(lang, "privacy.former_resident"), lead=t(lang, "privacy.a_lead")
    )


#: The prompts' kinds (storage/prompts.py): /forgetme in a private chat, /purge in a group.
FORGET, PURGE = "forget", "purge"


def _confirm(lang: str, yes_key: str, prompt_id: int, **params: Any) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t(lang, yes_key, **params), callback_data=f"pv:y:{prompt_id}")],
            [
                InlineKeyboardButton(
                    t(lang, "privacy.btn_cancel"), callback_data=f"pv:x:{prompt_id}"
                )
            ],
        ]
    )


async def _ask(turn: Turn, kind: str, key: str, yes_key: str, **params: Any) -> None:
    """Ask the question as a prompt of the asking user, bound to the message that asks it."""
    assert turn.user is not None
    db = turn.services.db
    prompt_id = await prompts.create(
        db, turn.chat.id, kind, turn.now, author_id=turn.user.id, lasts=CONFIRM_FOR
    )
    markup = _confirm(turn.lang, yes_key, prompt_id, **params)
    sent = await turn.reply(key, markup=markup, **params)
    if sent is not None:
        await prompts.attach(db, prompt_id, sent.message_id)


# --- /mydata ----------------------------------------------------------------------------------


def export_json(lang: str, user_id: int, now: datetime, data: dict[str, Any]) -> bytes:
    notes = [
        t(lang, "privacy.note_what"),
        t(lang, "privacy.note_secret"),
        t(lang, "privacy.note_anonymous"),
        t(lang, "privacy.note_times"),
        t(lang, "privacy.note_forget"),
    ]
    document = {
        "courtyard_data_for_user_id": user_id,
        "generated_at": to_db(now),
        "notes": notes,
        "data": data,
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")


@command(where=BOTH)
async def mydata(turn: Turn) -> None:
    if not turn.chat.is_private:
        await turn.reply("privacy.ask_privately", bot=turn.services.bot_username or "")
        return
    assert turn.user is not None
    data = await store.collect(turn.services.db, turn.user.id)
    rows = sum(len(v) for v in data.values())
    content = export_json(turn.lang, turn.user.id, turn.now, data)
    name = f"courtyard-my-data-{turn.now:%Y-%m-%d}.json"
    caption = tn(turn.lang, "privacy.mydata_caption", rows)
    await turn.services.outbox.send_document(turn.chat.id, content, name, caption=caption)


# --- /forgetme --------------------------------------------------------------------------------


@command(where=BOTH)
async def forgetme(turn: Turn) -> None:
    if not turn.chat.is_private:
        await turn.reply("privacy.ask_privately", bot=turn.services.bot_username or "")
        return
    await _ask(turn, FORGET, "privacy.forget_question", "privacy.btn_forget")


async def _leave_open_events(services: Services, user_id: int, now: datetime) -> int:
    """Withdraw the person from events still ahead through the events rule, so the waitlist
    moves up and the promoted are told, exactly as if they had pressed "Leave"."""
    rows = await services.db.fetchall(
        "SELECT DISTINCT e.id FROM event_signups s JOIN events e ON e.id = s.event_id"
        " WHERE s.user_id = ? AND e.status = 'open' AND e.starts_at > ?",
        (user_id, to_db(now)),
    )
    left = 0
    for row in rows:
        try:
            event, outcome = await events_store.apply(
                services.db,
                row["id"],
                lambda e, s: event_rules.leave(e.capacity, s, user_id),
            )
        except (LookupError, DomainError):
            continue  # gone meanwhile; the sign-up row is deleted with the rest
        left += 1
        events_h.refresh_card(services, event)
        chat = await chats.get(services.db, event.chat_id)
        if chat is not None:
            await events_h.announce_moves(services, chat, event, outcome)
    return left


async def _drop_card(services: Services, chat_id: int, message_id: int) -> bool | None:
    """Delete a card of the person's own listing: True when deleted; False when Telegram
    refused (a bot may delete only messages younger than 48 hours) and the card was edited to
    a line that names nobody instead; None when neither was possible."""
    try:
        if await services.outbox.delete(chat_id, message_id):
            return True
    except TelegramError as exc:  # refused for another reason: try the edit all the same
        log.info("could not delete a forgotten person's card in chat %s: %s", chat_id, exc)
    chat = await chats.get(services.db, chat_id)
    text = t(chat.language if chat else "en", "privacy.card_forgotten")
    try:
        edited = await services.outbox.edit(chat_id, message_id, text, repost=False)
    except TelegramError as exc:
        log.warning("a forgotten person's card in chat %s still shows them: %s", chat_id, exc)
        return None
    return False if edited is not None else None


async def forget_user(services: Services, user_id: int, now: datetime) -> store.Forgotten:
    """Everything /forgetme does, after the confirmation: the events rule first, then one
    transaction over every table, then the cards that showed the person are brought up to date
    and their own listings' cards deleted (or, too old to delete, edited to drop the name);
    last, the search index is rebuilt and the write-ahead log truncated, so that no byte of
    the database files holds the person any more."""
    await _leave_open_events(services, user_id, now)
    # the groups whose approval card may list their claims: read before they go
    claimed_in = [
        row["chat_id"]
        for row in await services.db.fetchall(
            "SELECT chat_id FROM unit_members WHERE user_id = ?"
            " UNION SELECT chat_id FROM unit_requests WHERE user_id = ?",
            (user_id, user_id),
        )
    ]
    done = await store.forget(services.db, user_id, placeholders)
    services.scheduler.disarm(done.disarm)
    for key in [k for k in services.seen if k[1] == user_id]:
        services.seen.pop(key, None)
    db = services.db
    for chat_id, message_id in done.delete_cards:
        dropped = await _drop_card(services, chat_id, message_id)
        if dropped is False:
            done.cards_edited += 1
        elif dropped is None:
            done.cards_stuck += 1
    for decision_id in done.decisions:
        if (decision := await decisions_store.get(db, decision_id)) is not None:
            decisions_h.refresh_card(services, decision)
    for poll_id in done.polls:
        if (poll := await polls_store.get(db, poll_id)) is not None:
            polls_h.refresh(services, poll)
    for roster_id in done.rosters:
        if (roster := await events_store.get_roster(db, roster_id)) is not None:
            rosters_h.refresh_card(services, roster)
    for rollcall_id in done.rollcalls:
        await rollcall_h.redraw(services, rollcall_id)
    if done.reports or done.notices:
        from handlers import notices as notices_h
        from handlers import reports as reports_h
        from storage import notices as notices_store
        from storage import reports as reports_store

        for report_id in done.reports:
            if (report := await reports_store.get(db, report_id)) is not None:
                reports_h.refresh(services, report)
        for notice_id in done.notices:
            if (notice := await notices_store.get(db, notice_id)) is not None:
                notices_h.refresh_card(services, notice)
    for event_id in done.events:
        if (event := await events_store.get(db, event_id)) is not None:
            events_h.refresh_card(services, event)
    for item_id in done.items:
        if (item := await sharing_store.get_item(db, item_id)) is not None:
            sharing_h.refresh_item(services, item)
    for gb_id in done.groupbuys:
        if (gb := await sharing_store.get_groupbuy(db, gb_id)) is not None:
            groupbuys_h.refresh_groupbuy(services, gb)
    for chain_id in done.chains:
        if (chain := await sharing_store.get_chain(db, chain_id)) is not None:
            groupbuys_h.refresh_chain(services, chain)
    for amendment_id in done.rules_amendments:
        await house_rules_h.redraw_amendment(services, amendment_id)
    for chat_id in claimed_in:
        await units_h.refresh_queue_card(services, chat_id)
    await store.scrub(db)
    log.info(
        "forgot a user: %d row(s) removed, %d anonymised, %d old card(s) edited, %d not",
        sum(done.removed.values()),
        sum(done.anonymised.values()),
        done.cards_edited,
        done.cards_stuck,
    )
    return done


def forgotten_text(lang: str, done: store.Forgotten) -> str:
    """What /forgetme tells the person: what was removed and kept, and truthfully which old
    cards could only be edited, or not even that."""
    lines = [
        t(
            lang,
            "privacy.forgotten",
            removed=sum(done.removed.values()),
            kept=sum(done.anonymised.values()),
        )
    ]
    if done.cards_edited:
        lines.append(tn(lang, "privacy.forgotten_edited", done.cards_edited))
    if done.cards_stuck:
        lines.append(tn(lang, "privacy.forgotten_stuck", done.cards_stuck))
    return "\n\n".join(lines)


# --- /purge -----------------------------------------------------------------------------------


@command(action=Action.PURGE_GROUP, where=GROUP_ONLY)
async def purge(turn: Turn) -> None:
    title = turn.chat.title or str(turn.chat.id)
    await _ask(turn, PURGE, "privacy.purge_question", "privacy.btn_purge", title=title)


async def purge_chat(services: Services, chat_id: int) -> bool:
    stale = await store.purge_group(services.db, chat_id)
    if stale is None:
        return False
    services.scheduler.disarm(stale)
    for key in [k for k in services.seen if k[0] == chat_id]:
        services.seen.pop(key, None)
    await sealing.prune(services.db)  # the keys of the group's open secret votes
    await services.db.scrub()
    log.info("purged every row of chat %s at a lead's request", chat_id)
    return True


# --- buttons ----------------------------------------------------------------------------------


@button(action=Action.USE_BOT)
async def privacy_button(turn: Turn, parts: list[str]) -> None:
    query = turn.query
    assert query is not None
    message = query.message
    if message is None or not message.is_accessible or turn.user is None:
        raise DomainError("error.stale_button")
    outbox = turn.services.outbox
    if len(parts) != 2 or parts[0] not in ("y", "x") or not is_id(parts[1]):
        raise DomainError("error.stale_button")  # also the old pv:n, pv:f:<minute>, pv:p:<minute>
    op, prompt_id = parts[0], int(parts[1])
    kind = FORGET if turn.chat.is_private else PURGE
    if op == "y" and kind == PURGE and not await turn.may(Action.PURGE_GROUP):
        raise DomainError("error.not_allowed_button", who=Html(t(turn.personal_lang, "role.leads")))
    answer = prompts.take if op == "y" else prompts.cancel
    outcome, _ = await answer(
        turn.services.db,
        prompt_id,
        turn.chat.id,
        turn.user.id,
        message.message_id,
        turn.now,
        kinds=(kind,),
    )
    if outcome is prompts.Outcome.NOT_YOURS:
        raise DomainError("prompt.not_yours")
    if outcome is prompts.Outcome.EXPIRED:
        raise DomainError("privacy.confirm_expired")
    if outcome is not prompts.Outcome.TAKEN:
        raise DomainError("error.stale_button")
    if op == "x":
        await turn.answer()
        await outbox.edit(
            turn.chat.id, message.message_id, turn.t("privacy.cancelled"), repost=False
        )
        return
    if kind == FORGET:
        await turn.answer()
        lang = turn.lang
        done = await forget_user(turn.services, turn.user.id, turn.now)
        text = forgotten_text(lang, done)
        await outbox.edit(turn.chat.id, message.message_id, text, repost=False)
        return
    await turn.answer()
    chat = turn.chat
    title = chat.title or str(chat.id)
    purged = await purge_chat(turn.services, chat.id)
    key = "privacy.purged" if purged else "privacy.nothing_to_purge"
    text = t(chat.language, key, title=title)
    await outbox.edit(chat.id, message.message_id, text, repost=False)


# --- retention --------------------------------------------------------------------------------


def first_purge(now: datetime, timezone: str) -> datetime:
    """The next :data:`PURGE_HOUR` o'clock in the group's zone, at least ten minutes ahead."""
    local = now.astimezone(ZoneInfo(timezone))
    at = local.replace(hour=PURGE_HOUR, minute=0, second=0, microsecond=0)
    if at <= local + timedelta(minutes=10):
        at += timedelta(days=1)
    return at.astimezone(UTC)


async def run_retention(services: Services, row: Scheduled, late_by: timedelta) -> None:
    chat = await chats.get(services.db, row.chat_id)
    if chat is None or chat.is_private:
        return
    cutoff = services.clock() - timedelta(days=chat.settings.retention_days)
    counts = await store.purge_old(services.db, chat.id, cutoff)
    if counts:
        log.info("retention purge in chat %s deleted %s", chat.id, counts)


async def next_retention(services: Services, row: Scheduled, after: datetime) -> datetime | None:
    chat = await chats.get(services.db, row.chat_id)
    if chat is None or chat.is_private:
        return None
    return after + timedelta(days=1)


async def ensure_retention(services: Services) -> int:
    """Give every group without one its daily retention row, and arm the new rows."""
    now = services.clock()
    added = await store.ensure_retention_rows(services.db, lambda zone: first_purge(now, zone), now)
    for row_id, run_at in added:
        services.scheduler.arm(row_id, run_at)
    return len(added)


async def _ensure_job(services: Services, context: CallbackContext[Any, Any, Any, Any]) -> None:
    try:
        await ensure_retention(services)
    except Exception:  # housekeeping: try again at the next round
        log.exception("could not plan the retention purges")


def register(app: Any) -> None:
    app.add_handler(CommandHandler("mydata", mydata, filters=NEW))
    app.add_handler(CommandHandler("forgetme", forgetme, filters=NEW))
    app.add_handler(CommandHandler("purge", purge, filters=NEW))
    app.add_handler(CallbackQueryHandler(privacy_button, pattern=r"^pv:"))


async def tell_lost(services: Services, lost: list[sealing.Lost]) -> None:
    """Tell each group about its open secret votes whose earlier ballots cannot be read (a
    backup restored after the vote closed), and redraw their cards."""
    db = services.db
    for item in lost:
        chat = await chats.get(db, item.chat_id)
        if chat is None:
            continue
        if item.kind == sealing.DECISION:
            key, tag = "privacy.sealed_lost_decision", ref("decision", item.ref_id).text
            if (decision := await decisions_store.get(db, item.ref_id)) is not None:
                decisions_h.refresh_card(services, decision)
        else:
            key, tag = "privacy.sealed_lost_poll", ref("poll", item.ref_id).text
            if (poll := await polls_store.get(db, item.ref_id)) is not None:
                polls_h.refresh(services, poll)
        text = tn(chat.language, key, item.ballots, ref=tag, title=item.title)
        await services.outbox.send(chat.id, text)


#: Notices being sent at start-up (kept referenced until done; tests wait for them).
NOTICES: set[asyncio.Task[None]] = set()


async def _tell_lost_safely(services: Services, lost: list[sealing.Lost]) -> None:
    try:
        await tell_lost(services, lost)
    except Exception:
        log.exception("could not tell the groups about unreadable secret ballots")


def sweep_keys(services: Services) -> sealing.Sweep:
    """At start-up, before any scheduled closing runs: the keys folder and the database are
    brought into line (see storage/secrets.py); the groups concerned are told right after."""
    keys = sealing.configure(services.db.path, services.settings.keys_dir)
    done = sealing.sweep(services.db.path, keys)
    if done.lost:
        task = asyncio.get_running_loop().create_task(_tell_lost_safely(services, done.lost))
        NOTICES.add(task)
        task.add_done_callback(NOTICES.discard)
    return done


def setup(services: Services) -> None:
    sweep_keys(services)
    services.scheduler.register(
        store.RETENTION_KIND,
        run=partial(run_retention, services),
        next_run=partial(next_retention, services),
        # a purge that fell due while the bot was down is simply run late: it is idempotent
        missed=partial(run_retention, services),
    )
    queue = services.scheduler.job_queue
    if queue is not None:
        queue.run_repeating(
            partial(_ensure_job, services),
            interval=ENSURE_EVERY,
            first=timedelta(seconds=30),
            name="privacy:retention-rows",
            job_kwargs={"misfire_grace_time": None, "coalesce": True},
        )
