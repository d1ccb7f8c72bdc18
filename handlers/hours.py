"""Volunteer hours (志愿者): "I did it" on a roster slot, the organizer's approval, /hours.

* The roster card has **✋ I did it**: a volunteer presses it after their slot ended; each
  ended slot of theirs is claimed for its length (bot.domain.hours). The roster's organizer
  is asked privately (in the group, mentioning them, if they never opened a private chat) with
  **Approve** / **Not done**; the organizer or a lead decides, once.
* ``/hours`` in a private chat: your approved hours this month and this year, per group, and
  how many wait for approval. In a group: the same to you privately, and to the group only its
  totals and a thank-you list of first names of volunteers who allowed it.
* ``/hours public on|off``: whether your first name may be in that list (in a group: that
  group; privately: all your groups). Off unless you say so.

Callback data: rs:d:<roster id> I did it (handlers/rosters.py), vh:a:<claim id> approve,
vh:r:<claim id> not done, vh:p:<group chat id>:<1|0> thanked by name there (in the
volunteer's private /hours, only for a group where they have hours).
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.domain import hours as rules
from bot.domain.errors import DomainError
from bot.domain.events import Slot
from bot.domain.languages import WordSet
from bot.domain.roles import Role
from bot.domain.settings import parse_on_off
from bot.i18n import Html, escape, shorten, t
from bot.services import Services
from handlers import deeplinks
from handlers.common import Turn, button, command, display_name, in_group, is_id, mention
from handlers.events import started_bot, when_range
from handlers.topics import topic
from storage import chats, members
from storage import events as rosters_store
from storage import hours as store

NEW = filters.UpdateType.MESSAGE
PUBLIC_WORDS = WordSet({"public", "thanks", "公开", "感谢", "публично", "благодарность"})


def amount(lang: str, minutes: int) -> str:
    h, m = rules.split_minutes(minutes)
    if m == 0:
        return t(lang, "hours.amount_h", h=h)
    return t(lang, "hours.amount", h=h, m=m)


async def did_it(turn: Turn, roster: rosters_store.Roster) -> None:
    """The "I did it" press on a roster card: claim every ended slot of the presser's."""
    assert turn.user is not None
    services, uid = turn.services, turn.user.id
    slots = await rosters_store.slots(services.db, roster.id)
    mine = [s for s in slots if any(v == uid for v, _ in s.volunteers)]
    if not mine:
        raise DomainError("hours.not_volunteer")
    claimed: list[tuple[int, Slot]] = []
    refusal: DomainError | None = None
    for slot in mine:
        try:
            rules.check_claim(
                ends_at=slot.ends_at,
                now=turn.now,
                volunteered=True,
                already=await store.status_of(services.db, slot.id, uid),
            )
        except DomainError as exc:
            refusal = refusal or exc
            continue
        claim_id = await store.claim(
            services.db,
            slot_id=slot.id,
            chat_id=roster.chat_id,
            user_id=uid,
            minutes=rules.slot_minutes(slot.starts_at, slot.ends_at),
            worked_at=slot.starts_at,
            now=turn.now,
        )
        if claim_id is not None:
            claimed.append((claim_id, slot))
    if not claimed:
        raise refusal or DomainError("hours.already_claimed")
    total = sum(rules.slot_minutes(s.starts_at, s.ends_at) for _, s in claimed)
    await turn.answer("hours.claimed", amount=amount(turn.personal_lang, total))
    for claim_id, _ in claimed:
        await _ask_organizer(services, claim_id, display_name(turn.user), roster)


def _approval_markup(lang: str, claim_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "hours.btn_approve"), callback_data=f"vh:a:{claim_id}"
                ),
                InlineKeyboardButton(t(lang, "hours.btn_reject"), callback_data=f"vh:r:{claim_id}"),
            ]
        ]
    )


async def _ask_organizer(
    services: Services, claim_id: int, who: str, roster: rosters_store.Roster
) -> None:
    claim = await store.get(services.db, claim_id)
    group = await chats.get(services.db, roster.chat_id)
    if claim is None or group is None:
        return

    def text(lang: str) -> str:
        return t(
            lang,
            "hours.ask",
            who=shorten(who, 40),
            title=roster.title,
            when=when_range(lang, group.timezone, claim.starts_at, claim.ends_at),
            amount=amount(lang, claim.minutes),
            group=group.title or "",
        )

    own = claim.user_id == roster.creator_id  # the organizer's own hours: a lead confirms
    private = None if own else await started_bot(services, roster.creator_id)
    sent = None
    if private is not None:
        lang = private.language
        sent = await services.outbox.send(
            roster.creator_id,
            text(lang),
            reply_markup=_approval_markup(lang, claim_id),
            report=False,
        )
    if sent is None:
        lang = group.language
        organizer = mention(roster.creator_id, roster.creator_name)
        body = (
            t(lang, "hours.ask_leads") if own else t(lang, "hours.ask_group", organizer=organizer)
        )
        sent = await services.outbox.send(
            group.id,
            body + "\n" + text(lang),
            reply_markup=_approval_markup(lang, claim_id),
            silent=True,
            **topic(lang, roster.thread_id),
        )
    if sent is not None:
        await store.set_message(services.db, claim_id, sent.message_id)


@button()
async def hours_button(turn: Turn, parts: list[str]) -> None:
    assert turn.user is not None
    if len(parts) == 3 and parts[0] == "p":
        await _toggle_public(turn, parts)
        return
    if len(parts) != 2 or parts[0] not in ("a", "r") or not is_id(parts[1]):
        raise DomainError("error.stale_button")
    services = turn.services
    claim = await store.get(services.db, int(parts[1]))
    message = turn.query.message if turn.query else None
    if claim is None or message is None or claim.message_id != message.message_id:
        raise DomainError("error.stale_button")
    # the message is in the organizer's private chat or in the claim's group: nowhere else
    if turn.chat.id not in (claim.chat_id, turn.user.id):
        raise DomainError("error.stale_button")
    group = await chats.get(services.db, claim.chat_id)
    if group is None:
        raise DomainError("error.stale_button")
    uid = turn.user.id
    if uid == claim.user_id:
        raise DomainError("hours.not_own")  # nobody confirms their own hours, not even a lead
    organizer = uid == claim.creator_id and await in_group(
        services, group, uid, name=None, now=turn.now
    )  # an organizer who left the group no longer confirms anyone's hours there
    if not organizer and await services.roles.role_of(group, uid) < Role.LEAD:
        raise DomainError("hours.not_organizer")
    approve = parts[0] == "a"
    status = await store.decide(services.db, claim.id, lambda s: rules.decide(s, approve), turn.now)
    if status is None:
        raise DomainError("error.stale_button")
    lang = turn.lang
    await turn.answer("hours.approved_short" if approve else "hours.rejected_short")
    volunteer = await members.get(services.db, claim.chat_id, claim.user_id)
    name = volunteer.display_name if volunteer else "—"
    key = "hours.approved" if approve else "hours.rejected"
    await services.outbox.edit(
        turn.chat.id,
        message.message_id,
        t(
            lang,
            key,
            who=display_name(turn.user),
            volunteer=shorten(name, 40),
            title=claim.roster_title,
            amount=amount(lang, claim.minutes),
        ),
        repost=False,
    )
    private = await started_bot(services, claim.user_id)
    if private is not None:
        plang = private.language
        await services.outbox.send(
            claim.user_id,
            t(
                plang,
                "hours.told_approved" if approve else "hours.told_rejected",
                title=claim.roster_title,
                when=when_range(plang, group.timezone, claim.starts_at, claim.ends_at),
                amount=amount(plang, claim.minutes),
                group=group.title or "",
            ),
            report=False,
        )


async def _own_figures(services: Services, user_id: int, lang: str, now: Any) -> str:
    claims = await store.mine(services.db, user_id)
    if not claims:
        return t(lang, "hours.none")
    lines = [t(lang, "hours.mine_title")]
    for chat_id in sorted({c[0] for c in claims}):
        group = await chats.get(services.db, chat_id)
        if group is None:
            continue
        approved = [(at, m) for cid, at, m, s in claims if cid == chat_id and s == rules.APPROVED]
        waiting = sum(1 for cid, _, _, s in claims if cid == chat_id and s == rules.CLAIMED)
        sums = rules.totals(approved, now, group.timezone)
        lines.append(
            t(
                lang,
                "hours.mine_line",
                group=group.title or "—",
                month=amount(lang, sums.month),
                year=amount(lang, sums.year),
            )
        )
        if waiting:
            lines.append(t(lang, "hours.mine_waiting", n=waiting))
    lines.append(t(lang, "hours.mine_hint"))
    return "\n".join(lines)


async def _public_keyboard(
    services: Services, user_id: int, lang: str
) -> InlineKeyboardMarkup | None:
    """One toggle per group of the person's hours: thanked by first name there, or not."""
    rows = []
    for chat_id in sorted({c[0] for c in await store.mine(services.db, user_id)})[:10]:
        group = await chats.get(services.db, chat_id)
        if group is None:
            continue
        public = await store.is_public(services.db, chat_id, user_id)
        key = "hours.btn_public_off" if public else "hours.btn_public_on"
        label = t(lang, key, group=shorten(group.title or "—", 30))
        data = f"vh:p:{chat_id}:{0 if public else 1}"
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    return InlineKeyboardMarkup(rows) if rows else None


async def _toggle_public(turn: Turn, parts: list[str]) -> None:
    """vh:p:<chat id>:<1|0> in the person's private chat: their own choice for that group."""
    assert turn.user is not None
    raw, value = parts[1], parts[2]
    digits = raw[1:] if raw.startswith("-") else raw
    if not turn.chat.is_private or value not in ("0", "1") or not is_id(digits, digits=16):
        raise DomainError("error.stale_button")
    services, uid = turn.services, turn.user.id
    chat_id = int(raw)
    if chat_id not in {c[0] for c in await store.mine(services.db, uid)}:
        raise DomainError("error.stale_button")  # no hours of theirs there: nothing to choose
    public = value == "1"
    await store.set_public(services.db, [chat_id], uid, public)
    await turn.answer("hours.public_on" if public else "hours.public_off")
    message = turn.query.message if turn.query else None
    if message is not None:
        await services.outbox.edit(
            turn.chat.id,
            message.message_id,
            await _own_figures(services, uid, turn.lang, turn.now),
            reply_markup=await _public_keyboard(services, uid, turn.lang),
            repost=False,
        )


@deeplinks.word("hours")
async def open_hours(private: Turn) -> None:
    """``?start=hours`` (asked for in a group before the private chat was open): the person's
    own figures, as /hours shows them privately."""
    assert private.user is not None
    services, uid = private.services, private.user.id
    await private.say(
        await _own_figures(services, uid, private.lang, private.now),
        markup=await _public_keyboard(services, uid, private.lang),
    )


@command()
async def hours(turn: Turn) -> None:
    assert turn.user is not None
    services, uid = turn.services, turn.user.id
    words = turn.rest.split()
    if words and words[0].casefold() in PUBLIC_WORDS:
        if len(words) != 2:
            raise DomainError("hours.public_usage")
        public = parse_on_off(words[1])
        if turn.chat.is_private:
            groups = sorted({c[0] for c in await store.mine(services.db, uid)})
        else:
            groups = [turn.chat.id]
        await store.set_public(services.db, groups, uid, public)
        await turn.reply("hours.public_on" if public else "hours.public_off")
        return
    if words:
        raise DomainError("hours.usage")
    if turn.chat.is_private:
        await turn.say(
            await _own_figures(services, uid, turn.lang, turn.now),
            markup=await _public_keyboard(services, uid, turn.lang),
        )
        return
    private = await started_bot(services, uid)
    sent = None
    if private is not None:
        text = await _own_figures(services, uid, private.language, turn.now)
        sent = await services.outbox.send(uid, text, report=False)
    approved = await store.approved_in(services.db, turn.chat.id)
    tz = turn.chat.timezone
    sums = rules.totals([(at, m) for _, at, m in approved], turn.now, tz)
    month_people = {u for u, at, _ in approved if rules.totals([(at, 1)], turn.now, tz).month}
    names = await store.public_names(services.db, turn.chat.id, sorted(month_people))
    lines = [
        t(
            turn.lang,
            "hours.group",
            month=amount(turn.lang, sums.month),
            year=amount(turn.lang, sums.year),
            people=len(month_people),
        )
    ]
    firsts = [escape(rules.first_name(n)) for n in names if rules.first_name(n)]
    if firsts:
        lines.append(t(turn.lang, "hours.thanks", names=Html(", ".join(firsts))))
    if sent is None:
        link = f"https://t.me/{services.bot_username}?start=hours"
        lines.append(t(turn.lang, "hours.start_first", link=link))
    else:
        lines.append(t(turn.lang, "hours.sent_privately"))
    await turn.say("\n".join(lines))


def register(app: Any) -> None:
    app.add_handler(CommandHandler("hours", hours, filters=NEW))
    app.add_handler(CallbackQueryHandler(hours_button, pattern=r"^vh:"))


def setup(services: Services) -> None:
    return None
