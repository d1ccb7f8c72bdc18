"""Emergency roll-call (应急): every household answers We're OK or Need help.

/rollcall <what happened>   leads and organizers: a card for the whole register
/helper on|off              a resident signs up (or off) as a helper of this group
/checkonme <one line>       privately: "wheelchair, 5th floor" — leads and helpers see it during
                            a roll-call only; expires after a year unless sent again;
                            ``/checkonme off`` removes it
/close A3                   (or the card's Close button) closes with a summary

The card shows need help / not heard from / checked in person / OK by unit. **Need help** goes
at once, privately, to the leads and the helpers (those who never opened a private chat with
the bot, or blocked it, are mentioned once in the group, and the leads are told who could not be
reached). A line about what is needed is added by replying to the card. **Checked a neighbour**
opens a picker of households not heard from (bound to the presser). Households still silent
after the group's ``rollcall_minutes`` (20 by default) are mentioned on the card's thread and
the leads get the list (scheduled kind ``rollcall_reminder``: restart-safe). Roll-calls are
never in the weekly digest.

Residents without a household in the register answer for themselves; they are listed apart and
never counted as "not heard from". A person with several households answers for all of them.

Callback data: rc:o:<id> we're OK, rc:h:<id> need help, rc:c:<id> checked a neighbour,
rc:x:<id> close, rc:s:<prompt id>:<household id> the picker's choice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.domain import rollcall as rules
from bot.domain.chats import Chat
from bot.domain.errors import DomainError
from bot.domain.languages import WordSet
from bot.domain.refs import Ref
from bot.domain.roles import Action
from bot.domain.settings import parse_on_off
from bot.domain.text import utf16_len
from bot.i18n import Html, escape, format_datetime, shorten, t
from bot.roles import GROUP_ANONYMOUS_BOT
from bot.services import Services
from handlers import cards, pictures, refs
from handlers.common import (
    GROUP_ONLY,
    CourtyardContext,
    Turn,
    button,
    command,
    display_name,
    is_id,
    mention_batches,
    open_turn,
)
from handlers.events import CARD_BUDGET, collapse, started_bot
from handlers.topics import topic
from storage import chats, members, prompts
from storage import rollcall as store
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE
PICK_KIND = "rollcall_seen"
#: The private question "one line about what you need" after Need help (a prompt).
NOTE_KIND = "rollcall_note"
NOTE_LASTS = timedelta(minutes=30)
#: PTB handler group of the private line (its own, like the reply in the group).
PRIVATE_GROUP = 14
#: PTB handler group of the reply that adds a line (7: sharing, 8: house rules and proposals).
REPLY_GROUP = 12
PICK_LASTS = timedelta(minutes=30)
#: Households offered by one picker (Telegram allows 100 buttons; 48 stay readable).
PICK_MAX = 48
#: Units named in a press's answer (Telegram shows at most 200 characters there).
ANSWER_UNITS = 40
#: ``Services.state`` key: (roll-call id, user id) already mentioned as unreachable.
STATE = "rollcall"
#: ``Services.state`` key: (roll-call id, household) -> when its Need help was last told.
TOLD_STATE = "rollcall_told"
RETELL_AFTER = timedelta(minutes=10)
#: A line with Need help is told and answered at most this often per person (the last one is kept).
NOTE_EVERY = timedelta(minutes=1)
#: Telegram's own account (channel posts, service messages): an administrator of no one's.
TELEGRAM_SERVICE = 777000
OFF_WORDS = WordSet({"off", "remove", "delete", "关", "关闭", "删除", "выкл", "удалить"})

#: Keys chosen at run time.
DYNAMIC_KEYS: frozenset[str] = frozenset(
    {
        "rollcall.answered_ok",
        "rollcall.answered_help",
        "rollcall.help_stays",
        "rollcall.already_answered",
        "rollcall.same_answer",
    }
)


# --- the card -------------------------------------------------------------------------------


def _tally(households: Sequence[store.Household], rows: Sequence[store.AnswerRow]) -> rules.Tally:
    by_label = {r.label: r.recorded.answer for r in rows if r.label is not None}
    loose = [(r.recorded.name, r.recorded.answer) for r in rows if r.unit_id is None]
    return rules.tally([h.label for h in households], by_label, loose)


def _lists(lang: str, tally: rules.Tally, budget: int) -> list[str]:
    """The four lists (and residents without a household), each within its share of
    ``budget`` UTF-16 units."""
    parts = [
        ("rollcall.list_help", tally.help),
        ("rollcall.list_silent", tally.silent),
        ("rollcall.list_seen", tally.seen),
        ("rollcall.list_ok", tally.ok),
    ]
    shown = [(key, items) for key, items in parts if items]
    loose = [
        f"{escape(shorten(name, 32))} {'🆘' if a is rules.Answer.HELP else '✅'}"
        for name, a in tally.loose
    ]
    share = budget // max(len(shown) + (1 if loose else 0), 1)
    lines = [
        t(lang, key, n=len(items), units=Html(collapse(lang, [escape(i) for i in items], share)))
        for key, items in shown
    ]
    if loose:
        lines.append(
            t(lang, "rollcall.list_loose", n=len(loose), names=Html(collapse(lang, loose, share)))
        )
    return lines


def render_card(
    lang: str, tz: str, rollcall: store.RollCall, tally: rules.Tally
) -> tuple[str, InlineKeyboardMarkup | None]:
    closed = rollcall.status != "open"
    head = [
        t(lang, "rollcall.card_closed" if closed else "rollcall.card_title", title=rollcall.title),
        t(
            lang,
            "rollcall.card_opened",
            when=format_datetime(rollcall.opened_at, lang, tz),
            who=shorten(rollcall.creator_name, 40),
        ),
        t(
            lang,
            "rollcall.card_counts",
            households=tally.households,
            ok=len(tally.ok),
            help=len(tally.help),
            seen=len(tally.seen),
            silent=len(tally.silent),
        ),
    ]
    if not closed:
        head.append(t(lang, "rollcall.card_hint"))
        if not tally.households:
            head.append(t(lang, "rollcall.card_no_register"))
    tag = Ref("rollcall", rollcall.id).tag
    budget = CARD_BUDGET - sum(utf16_len(h) + 1 for h in head) - utf16_len(tag) - 200
    text = "\n".join([*head, "", *_lists(lang, tally, budget), "", tag])
    if closed:
        return text, None
    rid = rollcall.id
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(lang, "rollcall.btn_ok"), callback_data=f"rc:o:{rid}"),
                InlineKeyboardButton(t(lang, "rollcall.btn_help"), callback_data=f"rc:h:{rid}"),
            ],
            [InlineKeyboardButton(t(lang, "rollcall.btn_seen"), callback_data=f"rc:c:{rid}")],
            [InlineKeyboardButton(t(lang, "rollcall.btn_close"), callback_data=f"rc:x:{rid}")],
        ]
    )
    return text, markup


async def render(
    services: Services, rollcall_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    found = await store.get(services.db, rollcall_id)
    if found is None:
        return None
    chat = await chats.get(services.db, found.chat_id)
    if chat is None:
        return None
    tally = _tally(
        await store.households(services.db, rollcall_id),
        await store.answers(services.db, rollcall_id),
    )
    return render_card(chat.language, chat.timezone, found, tally)


def refresh_card(services: Services, found: store.RollCall) -> None:
    if found.message_id is None:
        return

    async def moved(new_id: int) -> None:
        await store.set_message(services.db, found.id, new_id)

    services.outbox.refresh(
        found.chat_id,
        found.message_id,
        partial(render, services, found.id),
        on_moved=moved,
        thread_id=found.thread_id,
    )


async def redraw(services: Services, rollcall_id: int) -> None:
    found = await store.get(services.db, rollcall_id)
    if found is not None:
        refresh_card(services, found)


cards.register("rollcall", render=render, redraw=redraw)


# --- telling leads and helpers --------------------------------------------------------------


async def _responders(services: Services, chat: Chat) -> list[tuple[int, str, bool]]:
    """Leads and helpers of the group: (user id, name, is a lead), each once."""
    found: dict[int, tuple[str, bool]] = {}
    try:
        admins = await services.roles.admins(chat.id)
    except TelegramError as exc:  # Telegram unreachable and nothing cached
        log.warning("could not list the leads of %s: %s", chat.id, exc)
        admins = frozenset()
    for uid in admins:
        if uid in (services.outbox.bot.id, GROUP_ANONYMOUS_BOT, TELEGRAM_SERVICE):
            continue  # the bot itself, "Group" (an anonymous admin), Telegram: nobody to tell
        member = await members.get(services.db, chat.id, uid)
        found[uid] = (member.display_name if member else str(uid), True)
    for uid, name in await store.helpers(services.db, chat.id):
        found.setdefault(uid, (name, False))
    return [(uid, name, lead) for uid, (name, lead) in found.items()]


async def _tell_responders(
    services: Services,
    chat: Chat,
    rollcall: store.RollCall,
    key: str,
    params: dict[str, Any],
    *,
    skip: int | None = None,
    leads_only: bool = False,
) -> None:
    """A private message to every lead and helper (``leads_only``: leads) in their language;
    those who cannot be reached privately are mentioned once per roll-call in the group, and
    the leads who could be reached are told who could not."""
    people = [p for p in await _responders(services, chat) if p[0] != skip]
    if leads_only:
        people = [p for p in people if p[2]]
    reached: list[tuple[int, Chat]] = []
    missed: list[tuple[int, str]] = []
    for uid, name, lead in people:
        private = await started_bot(services, uid)
        if private is not None:
            lang = private.language
            given = {k: v(lang) if callable(v) else v for k, v in params.items()}
            text = t(lang, key, group=chat.title or "", **given)
            if await services.outbox.send(uid, text, report=False) is not None:
                if lead:
                    reached.append((uid, private))
                continue
        missed.append((uid, name))
    if not missed:
        return
    told: set[tuple[int, int]] = services.state.setdefault(STATE, set())
    fresh = [(uid, name) for uid, name in missed if (rollcall.id, uid) not in told]
    told.update((rollcall.id, uid) for uid, _ in fresh)
    link = f"https://t.me/{services.bot_username}?start=helper"
    for batch in mention_batches(fresh):
        await services.outbox.send(
            chat.id,
            t(chat.language, "rollcall.unreachable_group", mentions=Html(batch), link=link),
            reply_to=rollcall.message_id,
            silent=True,
            **topic(chat.language, rollcall.thread_id),
        )
    names = ", ".join(shorten(name, 32) for _, name in missed)
    for uid, private in reached:
        await services.outbox.send(
            uid, t(private.language, "rollcall.unreachable_leads", names=names), report=False
        )


async def _check_on_me_text(services: Services, chat: Chat, rollcall_id: int, lang: str) -> str:
    lines = await store.check_on_me_lines(services.db, rollcall_id, chat.id, services.clock())
    return "\n".join(
        t(
            lang,
            "rollcall.checkonme_line",
            unit=label or t(lang, "rollcall.no_unit"),
            name=shorten(name, 32),
            note=note,
        )
        for label, name, note in lines
    )


async def _tell_check_on_me(services: Services, chat: Chat, rollcall: store.RollCall) -> None:
    """At the start of a roll-call, the leads and helpers get the /checkonme lines privately."""
    if not await store.check_on_me_lines(services.db, rollcall.id, chat.id, services.clock()):
        return
    for uid, _, _ in await _responders(services, chat):
        private = await started_bot(services, uid)
        if private is None:
            continue
        lines = await _check_on_me_text(services, chat, rollcall.id, private.language)
        text = t(
            private.language,
            "rollcall.checkonme_private",
            group=chat.title or "",
            title=rollcall.title,
            lines=lines,
        )
        await services.outbox.send(uid, text, report=False)


# --- commands -------------------------------------------------------------------------------


@command(action=Action.ROLL_CALL, where=GROUP_ONLY)
async def rollcall(turn: Turn) -> None:
    assert turn.user is not None
    title = rules.parse_title(turn.rest)
    services = turn.services
    minutes = turn.chat.settings.rollcall_minutes
    opened = await store.open_rollcall(
        services.db,
        chat_id=turn.chat.id,
        creator_id=turn.user.id,
        creator_name=display_name(turn.user),
        title=title,
        now=turn.now,
        remind_at=rules.remind_at(turn.now, minutes),
        thread_id=turn.thread_id,
    )
    if opened is None:
        busy = await store.open_in(services.db, turn.chat.id)
        if busy is not None and busy.message_id is None:
            # its card never reached the group (Telegram failed): nobody could answer it, and
            # asking again was refused — in an emergency. Asking again posts its card.
            await _post_card(turn, busy.id)
            return
        raise DomainError("rollcall.already_open", ref=Ref("rollcall", busy.id if busy else 0).tag)
    rollcall_id, row_id = opened
    services.scheduler.arm(row_id, rules.remind_at(turn.now, minutes))
    await _post_card(turn, rollcall_id)
    found = await store.get(services.db, rollcall_id)
    assert found is not None
    await _tell_check_on_me(services, turn.chat, found)


async def _post_card(turn: Turn, rollcall_id: int) -> None:
    services = turn.services
    rendered = await render(services, rollcall_id)
    assert rendered is not None
    message = await turn.say(rendered[0], markup=rendered[1])
    if message is not None:
        await store.set_message(services.db, rollcall_id, message.message_id)
        await services.outbox.pin(turn.chat.id, message.message_id, report=False)


@command(where=GROUP_ONLY, counts=True)
async def helper(turn: Turn) -> None:
    assert turn.user is not None
    if not turn.rest:
        on = await store.is_helper(turn.services.db, turn.chat.id, turn.user.id)
        await turn.reply("rollcall.helper_status_on" if on else "rollcall.helper_status_off")
        return
    on = parse_on_off(turn.rest.split()[0])
    await store.set_helper(turn.services.db, turn.chat.id, turn.user.id, on, turn.now)
    if not on:
        await turn.reply("rollcall.helper_off")
        return
    if await started_bot(turn.services, turn.user.id) is None:
        link = f"https://t.me/{turn.services.bot_username}?start=helper"
        await turn.reply("rollcall.helper_on_start", link=link)
        return
    await turn.reply("rollcall.helper_on")


@command()
async def checkonme(turn: Turn) -> None:
    assert turn.user is not None
    services = turn.services
    if not turn.chat.is_private:
        # a personal line typed in the group: taken down if the bot may, never stored
        if turn.rest and turn.message is not None:
            await services.outbox.delete(turn.chat.id, turn.message.message_id)
        link = f"https://t.me/{services.bot_username}?start=checkonme"
        await turn.say(turn.t("rollcall.checkonme_private_only", link=link))
        return
    lang = turn.personal_lang
    text = turn.rest
    if not text:
        current = await store.check_on_me_of(services.db, turn.user.id, turn.now)
        if not current:
            await turn.reply("rollcall.checkonme_none")
            return
        _, note, expires = current[0]
        await turn.reply(
            "rollcall.checkonme_current",
            note=note,
            until=format_datetime(expires, lang, turn.chat.timezone),
            groups=len(current),
        )
        return
    if text.strip().casefold() in OFF_WORDS:
        await store.remove_check_on_me(services.db, turn.user.id)
        await turn.reply("rollcall.checkonme_removed")
        return
    note = rules.parse_note(text)
    groups = [g for g in await _groups_of(services, turn.user.id) if not g.is_private and g.active]
    if not groups:
        raise DomainError("rollcall.checkonme_no_group")
    expires = rules.check_on_me_expires(turn.now)
    await store.set_check_on_me(
        services.db, [g.id for g in groups], turn.user.id, note, turn.now, expires
    )
    await turn.reply(
        "rollcall.checkonme_saved",
        note=note,
        groups=", ".join(g.title or "—" for g in groups),
        until=format_datetime(expires, lang, turn.chat.timezone),
    )


async def _groups_of(services: Services, user_id: int) -> list[Chat]:
    found = []
    for chat_id in await store.groups_of(services.db, user_id):
        chat = await chats.get(services.db, chat_id)
        if chat is not None:
            found.append(chat)
    return found


# --- buttons --------------------------------------------------------------------------------


async def _open_here(turn: Turn, rollcall_id: int) -> store.RollCall:
    found = await store.get(turn.services.db, rollcall_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    if found.status != "open":
        raise DomainError("rollcall.closed_already")
    return found


@button(counts=True)
async def rollcall_button(turn: Turn, parts: list[str]) -> None:
    assert turn.user is not None
    if len(parts) == 3 and parts[0] == "s" and is_id(parts[1]) and is_id(parts[2]):
        await _picked(turn, int(parts[1]), int(parts[2]))
        return
    if len(parts) != 2 or parts[0] not in ("o", "h", "c", "x") or not is_id(parts[1]):
        raise DomainError("error.stale_button")
    found = await _open_here(turn, int(parts[1]))
    if parts[0] == "x":
        if not await turn.may(Action.ROLL_CALL):
            raise DomainError("rollcall.close_not_allowed")
        await turn.answer("rollcall.closing")
        await _close(turn.services, turn.chat, found, by=display_name(turn.user))
        return
    if parts[0] == "c":
        await _offer_picker(turn, found)
        return
    await _answer(turn, found, rules.Answer.OK if parts[0] == "o" else rules.Answer.HELP)


async def _answer(turn: Turn, found: store.RollCall, answer: rules.Answer) -> None:
    assert turn.user is not None
    services, uid, name = turn.services, turn.user.id, display_name(turn.user)
    own = await store.own_households(services.db, found.id, uid)
    targets: list[store.Household | None] = list(own) or [None]
    recorded: list[str] = []
    refused: rules.Refusal | None = None
    for household in targets:
        outcome = await store.answer(
            services.db,
            found.id,
            household.id if household else None,
            user_id=uid,
            name=name,
            decide=lambda current: rules.next_answer(current, answer, uid, own_household=True),
            note=None,
            now=turn.now,
        )
        if outcome is None:
            raise DomainError("rollcall.closed_already")
        if isinstance(outcome, rules.Refusal):
            refused = refused or outcome
            continue
        recorded.append(household.label if household else "")
    if not recorded:
        assert refused is not None
        await turn.answer(refused.value, alert=refused is not rules.Refusal.SAME)
        return
    units = ", ".join(label for label in recorded if label) or name
    shown = shorten(units, ANSWER_UNITS)  # a press's answer is at most 200 characters
    if answer is rules.Answer.OK:
        await turn.answer("rollcall.answered_ok", units=shown)
    else:
        await turn.answer("rollcall.answered_help", alert=True, units=shown)
    refresh_card(services, found)
    if answer is rules.Answer.HELP and _first_cry(services, found.id, units, turn.now):
        await _tell_responders(
            services,
            turn.chat,
            found,
            "rollcall.help_private",
            {"title": found.title, "who": name, "units": _units_param(recorded)},
            skip=uid,
        )
        await _ask_for_a_line(services, turn.chat, found, uid, turn.now)


async def _ask_for_a_line(
    services: Services, chat: Chat, found: store.RollCall, uid: int, now: datetime
) -> None:
    """Privately, to someone who asked for help: "write one line about what you need" — the
    next message there (or a reply to this one) is the line. Only if they opened a chat."""
    private = await started_bot(services, uid)
    if private is None:
        return
    prompt_id = await prompts.create(
        services.db, uid, NOTE_KIND, now, author_id=uid, lasts=NOTE_LASTS
    )
    sent = await services.outbox.send(
        uid,
        t(private.language, "rollcall.note_prompt", group=chat.title or "", title=found.title),
        report=False,
    )
    if sent is not None:
        await prompts.attach(services.db, prompt_id, sent.message_id)


async def private_line(update: Any, context: CourtyardContext) -> None:
    """A line for "Need help" written in the private chat, after the bot asked for it."""
    message = update.effective_message
    user = update.effective_user
    if message is None or not message.text or user is None:
        return
    services = context.services
    now = services.clock()
    asked = await store.open_prompt_of(services.db, user.id, NOTE_KIND, user.id, now)
    if asked is None:
        return
    standing = await store.open_help_of(services.db, user.id)
    turn = await open_turn(update, context)
    if turn is None:
        return
    if not standing:
        return
    try:
        note = rules.parse_note(message.text)
    except DomainError as exc:
        await turn.reply(exc.key, **exc.params)
        return
    outcome, _ = await prompts.take(
        services.db, asked[0], user.id, user.id, asked[1], now, kinds=(NOTE_KIND,)
    )
    if outcome is not prompts.Outcome.TAKEN:
        return
    for rollcall_id, chat_id in standing:
        found = await store.get(services.db, rollcall_id)
        group = await chats.get(services.db, chat_id)
        labels = await store.add_note(services.db, rollcall_id, user.id, note)
        if found is None or group is None or not labels:
            continue
        await _tell_responders(
            services,
            group,
            found,
            "rollcall.help_note_private",
            {
                "title": found.title,
                "who": display_name(user),
                "units": _units_param(labels),
                "note": note,
            },
            skip=user.id,
        )
    await turn.reply("rollcall.note_added")


def _units_param(labels: Sequence[str | None]) -> Callable[[str], str]:
    """The households named in a private message: their labels, or "no unit" in the
    recipient's language for a resident without one."""
    shown = ", ".join(label for label in labels if label)
    return lambda lang: shown or t(lang, "rollcall.no_unit")


def _first_note(services: Services, rollcall_id: int, user_id: int, now: datetime) -> bool:
    told: dict[tuple[int, str], datetime] = services.state.setdefault(TOLD_STATE, {})
    key = (rollcall_id, f"note:{user_id}")
    last = told.get(key)
    if last is not None and now - last < NOTE_EVERY:
        return False
    told[key] = now
    return True


def _first_cry(services: Services, rollcall_id: int, units: str, now: datetime) -> bool:
    """Whether this household's "Need help" is news: pressing Need help, OK, Need help again
    within :data:`RETELL_AFTER` tells the leads and helpers once, not at every press."""
    told: dict[tuple[int, str], datetime] = services.state.setdefault(TOLD_STATE, {})
    last = told.get((rollcall_id, units))
    if last is not None and now - last < RETELL_AFTER:
        return False
    told[(rollcall_id, units)] = now
    return True


async def _offer_picker(turn: Turn, found: store.RollCall) -> None:
    assert turn.user is not None
    services = turn.services
    households = await store.households(services.db, found.id)
    tally = _tally(households, await store.answers(services.db, found.id))
    silent = set(tally.silent)
    own = {h.id for h in await store.own_households(services.db, found.id, turn.user.id)}
    offered = [h for h in households if h.label in silent and h.id not in own]
    if not offered:
        raise DomainError("rollcall.nobody_silent")
    if await store.open_prompt(services.db, turn.chat.id, PICK_KIND, turn.user.id, turn.now):
        raise DomainError("rollcall.pick_open")  # one picker each: presses cannot flood the group
    await turn.answer()
    prompt_id = await prompts.create(
        services.db, turn.chat.id, PICK_KIND, turn.now, author_id=turn.user.id, lasts=PICK_LASTS
    )
    rows: list[list[InlineKeyboardButton]] = []
    for h in offered[:PICK_MAX]:
        data = f"rc:s:{prompt_id}:{h.id}"
        if not rows or len(rows[-1]) == 4:
            rows.append([])
        rows[-1].append(InlineKeyboardButton(shorten(h.label, 20), callback_data=data))
    text = t(turn.lang, "rollcall.pick", who=display_name(turn.user))
    if len(offered) > PICK_MAX:
        text += "\n" + t(turn.lang, "rollcall.pick_more", n=len(offered) - PICK_MAX)
    sent = await services.outbox.send(
        turn.chat.id,
        text,
        reply_markup=InlineKeyboardMarkup(rows),
        reply_to=found.message_id,
        **topic(turn.lang, found.thread_id),
    )
    if sent is not None:
        await prompts.attach(services.db, prompt_id, sent.message_id)


async def _picked(turn: Turn, prompt_id: int, unit_id: int) -> None:
    assert turn.user is not None and turn.query is not None
    services = turn.services
    message = turn.query.message
    if message is None:
        raise DomainError("error.stale_button")
    place = await store.household(services.db, unit_id)
    if place is None:
        raise DomainError("error.stale_button")
    rollcall_id, household = place
    found = await _open_here(turn, rollcall_id)
    asked = await prompts.get(services.db, prompt_id)
    if asked is None or asked.chat_id != turn.chat.id or asked.kind != PICK_KIND:
        raise DomainError("error.stale_button")
    if asked.author_id != turn.user.id:
        raise DomainError("rollcall.pick_not_yours")
    outcome, _ = await prompts.take(
        services.db,
        prompt_id,
        turn.chat.id,
        turn.user.id,
        message.message_id,
        turn.now,
        kinds=(PICK_KIND,),
    )
    if outcome is not prompts.Outcome.TAKEN:
        raise DomainError("error.stale_button")
    uid = turn.user.id
    result = await store.answer(
        services.db,
        found.id,
        household.id,
        user_id=uid,
        name=display_name(turn.user),
        decide=lambda current: rules.next_answer(
            current, rules.Answer.SEEN, uid, own_household=False
        ),
        note=None,
        now=turn.now,
    )
    if result is None:
        raise DomainError("rollcall.closed_already")
    if isinstance(result, rules.Refusal):
        await turn.answer(result.value, alert=True)
        await services.outbox.delete(turn.chat.id, message.message_id)
        return
    await turn.answer("rollcall.seen_done", unit=shorten(household.label, ANSWER_UNITS))
    await services.outbox.edit(
        turn.chat.id,
        message.message_id,
        t(turn.lang, "rollcall.seen_posted", who=display_name(turn.user), unit=household.label),
        repost=False,
    )
    refresh_card(services, found)


# --- a line with "Need help": a reply to the card ---------------------------------------------


async def card_reply(update: Any, context: CourtyardContext) -> None:
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    if message is None or replied is None or not message.text or update.effective_user is None:
        return
    services = context.services
    chat_id = update.effective_chat.id if update.effective_chat else 0
    found = await store.open_in(services.db, chat_id)
    if found is None or found.message_id != replied.message_id:
        return
    turn = await open_turn(update, context)
    if turn is None or turn.user is None:
        return
    try:
        note = rules.parse_note(message.text)
    except DomainError as exc:
        await turn.reply(exc.key, **exc.params)
        return
    labels = await store.add_note(services.db, found.id, turn.user.id, note)
    if not labels:
        return  # an ordinary reply: only a "Need help" answer takes a line
    name = display_name(turn.user)
    if not _first_note(services, found.id, turn.user.id, turn.now):
        return  # stored; lines sent faster than one a minute are not each told and answered
    await turn.reply("rollcall.note_added")
    await _tell_responders(
        services,
        turn.chat,
        found,
        "rollcall.help_note_private",
        {"title": found.title, "who": name, "units": _units_param(labels), "note": note},
        skip=turn.user.id,
    )


# --- closing and the reminder -----------------------------------------------------------------


async def _summary(services: Services, found: store.RollCall, lang: str) -> str:
    tally = _tally(
        await store.households(services.db, found.id), await store.answers(services.db, found.id)
    )
    lasted = (found.closed_at or services.clock()) - found.opened_at
    minutes = max(int(lasted.total_seconds() // 60), 0)
    lines = [
        t(lang, "rollcall.summary_title", title=found.title, minutes=minutes),
        t(
            lang,
            "rollcall.card_counts",
            households=tally.households,
            ok=len(tally.ok),
            help=len(tally.help),
            seen=len(tally.seen),
            silent=len(tally.silent),
        ),
        *_lists(lang, tally, 3000),
        Ref("rollcall", found.id).tag,
    ]
    return "\n".join(lines)


async def _close(services: Services, chat: Chat, found: store.RollCall, *, by: str) -> None:
    stale = await store.close(services.db, found.id, services.clock())
    if stale is None:
        return
    services.scheduler.disarm(stale)
    closed = await store.get(services.db, found.id)
    assert closed is not None
    text = await _summary(services, closed, chat.language)
    sent = await services.outbox.send(
        chat.id,
        t(chat.language, "rollcall.closed_by", who=by) + "\n" + text,
        **topic(chat.language, closed.thread_id),
    )
    if sent is not None:  # the picture follows, best-effort: never in the way of the leads' notes
        try:
            db = services.db
            tally = _tally(await store.households(db, found.id), await store.answers(db, found.id))
            draw = partial(pictures.rollcall_picture, chat.language, closed.title, tally)
            pictures.follow(services, sent.chat.id, sent.message_id, f"roll-call {found.id}", draw)
        except Exception:
            log.exception("no picture for roll-call %s", found.id)
    refresh_card(services, closed)
    notes = [
        r
        for r in await store.answers(services.db, found.id)
        if r.recorded.answer is rules.Answer.HELP
    ]
    for uid, _, lead in await _responders(services, chat):
        if not lead:
            continue
        private = await started_bot(services, uid)
        if private is None:
            continue
        lang = private.language
        body = [
            t(lang, "rollcall.summary_private", group=chat.title or ""),
            await _summary(services, closed, lang),
        ]
        body += [
            t(
                lang,
                "rollcall.help_line",
                unit=r.label or t(lang, "rollcall.no_unit"),
                who=shorten(r.recorded.name, 32),
                note=r.recorded.note or "—",
            )
            for r in notes
        ]
        await services.outbox.send(uid, "\n".join(body), report=False)


@refs.closer("rollcall")
async def close_rollcall(turn: Turn, rollcall_id: int) -> None:
    assert turn.user is not None
    found = await store.get(turn.services.db, rollcall_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("rollcall.not_found", ref=Ref("rollcall", rollcall_id).text)
    if found.status != "open":
        raise DomainError("rollcall.closed_already")
    if not await turn.may(Action.ROLL_CALL):
        raise DomainError("rollcall.close_not_allowed")
    await _close(turn.services, turn.chat, found, by=display_name(turn.user))


async def run_reminder(services: Services, row: Scheduled, late_by: timedelta) -> None:
    assert row.ref_id is not None
    found = await store.get(services.db, row.ref_id)
    if found is None or found.status != "open":
        return
    chat = await chats.get(services.db, found.chat_id)
    if chat is None or not chat.active:
        return
    households = await store.households(services.db, found.id)
    tally = _tally(households, await store.answers(services.db, found.id))
    if not tally.silent:
        return
    silent = [h for h in households if h.label in set(tally.silent)]
    people = await store.members_of(services.db, found.id, [h.id for h in silent])
    lang = chat.language
    units = ", ".join(h.label for h in silent)
    everyone = [p for h in silent for p in people.get(h.id, [])]
    head = t(lang, "rollcall.reminder_group", title=found.title, units=shorten(units, 1500))
    batches = mention_batches(everyone) or [""]
    for number, batch in enumerate(batches):
        text = (head + "\n" if number == 0 else "") + batch
        await services.outbox.send(
            chat.id, text, reply_to=found.message_id, **topic(lang, found.thread_id)
        )
    listed = [
        t(
            lang,
            "rollcall.silent_line",
            unit=h.label,
            names=", ".join(shorten(n, 24) for _, n in people.get(h.id, [])) or "—",
        )
        for h in silent
    ]
    await _tell_responders(
        services,
        chat,
        found,
        "rollcall.reminder_leads",
        {
            "title": found.title,
            "n": len(silent),
            "lines": "\n".join(listed),
        },
        leads_only=True,
    )


def register(app: Any) -> None:
    app.add_handler(CommandHandler("rollcall", rollcall, filters=NEW))
    app.add_handler(CommandHandler("helper", helper, filters=NEW))
    app.add_handler(CommandHandler("checkonme", checkonme, filters=NEW))
    app.add_handler(CallbackQueryHandler(rollcall_button, pattern=r"^rc:"))
    # a line for "Need help", as a reply to the card, in a handler group of its own (in a
    # shared group the first matching handler of another feature would take the message)
    app.add_handler(
        MessageHandler(
            filters.REPLY & filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS & NEW,
            card_reply,
        ),
        group=REPLY_GROUP,
    )
    app.add_handler(
        MessageHandler(
            filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE & NEW, private_line
        ),
        group=PRIVATE_GROUP,
    )


def setup(services: Services) -> None:
    # a roll-call is an emergency: a reminder that fell due while the bot was down still goes
    services.scheduler.register(
        store.REMINDER,
        run=partial(run_reminder, services),
        missed=partial(run_reminder, services),
    )
