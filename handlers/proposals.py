"""Proposals (议题) and the three meetings: from a resident's concern to a decision and its review.

/propose <title> | <what and why>          any resident: a card #T3 with Support and Follow
/proposals                                 the group's proposals by stage
/agenda T3 · /decline T3 <reason>          leads: on the agenda directly, or declined (posted)
/hearing T3 | <when> | <place>             leads, organizers: a hearing (听证会) as an event
/coordination T3 | <dispute> | <when> | <place>   the same for a named dispute (协调会)
/say T3 <statement>  (or a reply to the card)     residents: a one-line statement
/minutes T3 | <text>  (or a .txt file with the command as caption)  leads, organizers
/decide T3 [| closes=<when>] [| rule=<rule>]      leads, organizers: a formal decision (also a
                                                  button on the card)
/progress T3 [40%] <text> · /progress T3 assign <who>   leads: progress, who carries it out
/review T3                                 leads: start the review early
/review T3 <when>                          leads: move the review date (default 3 months on)
/review T3 <well|partly|not> [remark]      households, while the review is open (also buttons)
/export T3                                 the whole record as CSV (privately)

Callback data (all under 64 bytes, every id checked against the chat and the stage):
tp:s:<id> support (toggles), tp:f:<id> follow (toggles), tp:a:<id> on the agenda (leads),
tp:v:<id> put to a vote (leads, organizers), tp:w:<id> start the review (leads),
tp:r:<id>:w|p|n review answer; ts:<statement id>:a|d|p agree / disagree / pass.

Support, statement answers and review answers are per household: a press counts for every
approved unit of the presser, and pressing Support again withdraws it. Nobody is shown who
pressed what; the card shows counts only.

The vote's outcome: a formal decision (handlers/decisions.py) is created with the group's
default rule. Its closing reaches the proposal through ``handlers.decisions.ON_CLOSED`` (however
it closed: the deadline, "Close now", ``/close D4``, the start-up after a crash), and a
scheduled row at the decision's deadline (``proposal_vote``) reads the decision's state in case
a hook was lost — whichever comes first moves the proposal (a compare-and-set: once).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.domain import events as event_rules
from bot.domain import proposals as rules
from bot.domain import when as when_
from bot.domain.chats import Chat
from bot.domain.decisions import evaluate_totals, parse_rule
from bot.domain.errors import DomainError
from bot.domain.refs import Ref, find_ref, parse_ref
from bot.domain.roles import Action, required_role
from bot.domain.text import utf16_len
from bot.i18n import Html, escape, format_datetime, shorten, t, tn
from bot.services import Services
from handlers import cards, digest, posts, refs
from handlers import decisions as decisions_handlers
from handlers import events as events_handlers
from handlers.common import (
    GROUP_ONLY,
    CourtyardContext,
    Turn,
    button,
    command,
    display_name,
    is_id,
    plain,
    role_key,
)
from handlers.topics import topic
from storage import chats, decisions, members, scheduled, units
from storage import events as events_store
from storage import proposals as store
from storage.decisions import Decision
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE
KIND = "proposal"
#: A vote's result is read this long after the decision's deadline (its own close runs first).
VOTE_SLACK = timedelta(seconds=30)
#: ... and again this often while it stays open (a close the decision could not count waits for
#: a lead's fix; the decision itself retries hourly).
VOTE_RETRY = timedelta(minutes=10)
CARD_BUDGET = 3800
#: Statements shown on the card per list (agreed, divisive).
SHOWN = 3
#: Progress updates shown on the card (all of them are in the export).
SHOWN_PROGRESS = 3
#: The handler group of replies to the card (a group runs its first matching handler only:
#: sharing uses 7, house rules 8, roll-calls 12 for their replies).
REPLY_GROUP = 14
#: Proposals listed by /proposals.
LIST_LIMIT = 30

#: Letters typed for the T of #T3 on a Cyrillic or Greek keyboard (Т, т, Τ, τ).
_LOOKALIKE_T = frozenset("ТтΤτ")
#: A reference at the start of a command's text: T3, #t3, т3, T-3, or a bare 3, followed by
#: a space, a colon, a comma, a bar or nothing (after NFKC: "T3，" is "T3,").
_HEAD_REF = re.compile(r"(#?[A-Za-zТтΤτ]?-?\d{1,12})(?=[\s:,、|]|$)[\s:,、]*")

_REVIEW_CODES = {"w": rules.WELL, "p": rules.PARTLY, "n": rules.NOT_DONE}
_STATEMENT_CODES = {"a": rules.AGREE, "d": rules.DISAGREE, "p": rules.PASS}

#: Keys built at run time (tests/test_i18n.py checks they exist).
DYNAMIC_KEYS: frozenset[str] = frozenset(
    {f"proposal.stage_{s}" for s in rules.STAGES}
    | {f"proposal.meeting_{m}" for m in rules.MEETINGS}
    | {f"proposal.answer_{a}" for a in rules.ANSWERS}
    | {f"proposal.choice_{c}" for c in rules.CHOICES}
    | {f"proposal.verdict_{a}" for a in rules.ANSWERS}
    | {f"proposal.card_{m}" for m in rules.MEETINGS}
    | {f"proposal.{m}_{what}" for m in rules.MEETINGS for what in ("followers", "open", "usage")}
    | {"proposal.support_added", "proposal.support_withdrawn"}
    | {"proposal.followed", "proposal.unfollowed"}
)


# --- helpers ------------------------------------------------------------------------------------


def ref_of(proposal_id: int) -> Ref:
    return Ref("proposal", proposal_id)


def _threshold(chat: Chat) -> rules.Threshold:
    return rules.threshold_or_default(chat.settings.proposal_support)


async def _households(turn: Turn) -> list[tuple[int, str]]:
    """The presser's approved units here, or a translated refusal."""
    assert turn.user is not None
    claims = await units.claims_of(turn.services.db, turn.chat.id, turn.user.id)
    mine = [(c.unit_id, c.label) for c in claims if c.status == units.APPROVED]
    if mine:
        return mine
    if any(c.status == units.PENDING for c in claims):
        raise DomainError("proposal.no_unit_pending")
    away = [c.label for c in claims if c.status == units.SUSPENDED]
    if away:  # not "register first": claiming the unit again would not bring it back
        raise DomainError("proposal.no_unit_suspended", labels=", ".join(away))
    raise DomainError("proposal.no_unit")


def _replied_card(turn: Turn) -> int | None:
    """The proposal whose card (or statement, or minutes) the command replies to."""
    message = turn.message
    replied = message.reply_to_message if message is not None else None
    card = find_ref(replied.text or replied.caption or "") if replied is not None else None
    return card.id if card is not None and card.kind == KIND else None


def _split_ref(turn: Turn, usage: str) -> tuple[int, str]:
    """``/cmd T3 | rest``, ``/cmd T3 rest``, ``/cmd т3: rest``, ``/cmd T3，rest`` or, as a
    reply to the card, ``/cmd rest``: the proposal id and the rest (its line breaks kept).

    A bare number is a reference only when no card is replied to: "/say 5 lamps are out" as a
    reply to the card is a statement about five lamps, not about T5; and a first word that is
    another kind's reference ("D3 was a mess") is text when a card is replied to."""
    raw = unicodedata.normalize("NFKC", turn.rest).strip()
    card = _replied_card(turn)
    match = _HEAD_REF.match(raw)
    if match is not None:
        token = match.group(1)
        bare = token.lstrip("#")[:1].isdigit()
        if not (bare and card is not None):
            head = token.lstrip("#")[:1]
            if head in _LOOKALIKE_T:
                token = token.replace(head, "T", 1)
            found = parse_ref(token, default_kind=KIND)
            if found is not None and found.kind == KIND:
                return found.id, raw[match.end() :].lstrip("| ").strip()
            if found is not None and card is None:
                raise DomainError(usage)
    if card is not None:
        return card, raw.lstrip("| ").strip()
    raise DomainError(usage)


async def _ours(turn: Turn, proposal_id: int) -> store.Proposal:
    found = await store.get(turn.services.db, proposal_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("proposal.not_found", ref=ref_of(proposal_id).text)
    return found


async def _may(turn: Turn, action: Action) -> None:
    if not await turn.may(action):
        needed = required_role(action, turn.chat.settings)
        raise DomainError("error.not_allowed", who=Html(turn.t(role_key(needed))))


# --- the card -----------------------------------------------------------------------------------


def _stage_line(lang: str, p: store.Proposal) -> str:
    return t(lang, "proposal.card_stage", stage=Html(t(lang, f"proposal.stage_{p.stage}")))


def _statement_lines(lang: str, found: Sequence[tuple[store.Statement, rules.Tally]]) -> list[str]:
    tallies = [tl for _, tl in found]
    text_of = {s.id: s.text for s, _ in found}
    lines: list[str] = []
    agreed = rules.most_agreed(tallies, SHOWN)
    split = rules.divisive(tallies, SHOWN)
    if agreed:
        lines.append(t(lang, "proposal.card_agreed"))
        lines += [
            t(
                lang,
                "proposal.card_agreed_item",
                text=shorten(text_of[x.statement_id], 100),
                agree=x.agree,
                answers=x.answers,
            )
            for x in agreed
        ]
    if split:
        lines.append(t(lang, "proposal.card_divisive"))
        lines += [
            t(
                lang,
                "proposal.card_divisive_item",
                text=shorten(text_of[x.statement_id], 100),
                agree=x.agree,
                disagree=x.disagree,
            )
            for x in split
        ]
    return lines


async def render_text(services: Services, chat: Chat, p: store.Proposal) -> str:
    lang, tz, db = chat.language, chat.timezone, services.db
    lines = [t(lang, "proposal.card_title", title=p.title)]
    if p.body:
        lines.append(escape(shorten(p.body, 600)) if "\n" not in p.body else escape(p.body[:600]))
    lines.append("")
    lines.append(_stage_line(lang, p))
    if p.stage in rules.SUPPORTABLE:
        households = await units.count(db, chat.id)
        threshold = _threshold(chat)
        lines.append(
            t(
                lang,
                "proposal.card_support",
                count=await store.support_count(db, p.id),
                needed=threshold.needed(households),
                threshold=threshold.text,
                households=households,
            )
        )
    if p.stage == rules.COLLECTING:
        lines.append(t(lang, "proposal.card_expires", when=format_datetime(p.expires_at, lang, tz)))
    if p.how is not None and p.stage not in (rules.COLLECTING, rules.DECLINED, rules.EXPIRED):
        lines.append(
            t(
                lang,
                "proposal.card_agenda_support"
                if p.how == "support"
                else "proposal.card_agenda_lead",
            )
        )
    if p.stage == rules.DECLINED and p.reason:
        lines.append(t(lang, "proposal.card_declined", reason=p.reason))
    for meeting, event_id in (
        (rules.HEARING, p.hearing_id),
        (rules.COORDINATION, p.coordination_id),
    ):
        if event_id is None:
            continue
        event = await events_store.get(db, event_id)
        if event is None or event.status != "open":
            continue  # a cancelled meeting is not announced; another may be scheduled
        lines.append(
            t(
                lang,
                f"proposal.card_{meeting}",
                when=format_datetime(event.starts_at, lang, tz),
                ref=Ref("event", event_id).tag,
            )
        )
    if p.dispute:
        lines.append(t(lang, "proposal.card_dispute", dispute=p.dispute))
    found = await store.statements(db, p.id)
    if found:
        lines.append(tn(lang, "proposal.card_statements", len(found)))
        lines += _statement_lines(lang, found)
    recorded = await store.minutes(db, p.id)
    if recorded:
        lines.append(tn(lang, "proposal.card_minutes", len(recorded), ref=ref_of(p.id).text))
    if p.decision_id is not None and p.stage == rules.VOTE:
        lines.append(t(lang, "proposal.card_vote", ref=Ref("decision", p.decision_id).tag))
    if p.last_vote and p.stage != rules.VOTE:
        lines.append(t(lang, "proposal.card_last_vote", figures=Html(p.last_vote)))
    if p.decided_at is not None:
        lines.append(t(lang, "proposal.card_decided", when=format_datetime(p.decided_at, lang, tz)))
    if p.assignee:
        lines.append(t(lang, "proposal.card_assignee", who=p.assignee))
    updates = await store.progress(db, p.id)
    for u in updates[-SHOWN_PROGRESS:]:
        when = format_datetime(u.created_at, lang, tz)
        if u.percent is not None:
            lines.append(
                t(lang, "proposal.card_progress_pct", pct=u.percent, text=u.text, when=when)
            )
        else:
            lines.append(t(lang, "proposal.card_progress", text=u.text, when=when))
    if p.stage in (rules.DECIDED, rules.PROGRESS) and p.review_at is not None:
        lines.append(
            t(lang, "proposal.card_review_at", when=format_datetime(p.review_at, lang, tz))
        )
    if p.stage == rules.REVIEW:
        answered = len(await store.review_answers(db, p.id))
        ends = p.review_ends_at or p.stage_at
        lines.append(
            tn(lang, "proposal.card_review_open", answered, when=format_datetime(ends, lang, tz))
        )
    if p.stage == rules.REVIEWED and p.result is not None:
        lines.append(review_line(lang, p.result))
    text = "\n".join(lines)
    if utf16_len(text) > CARD_BUDGET:
        # cut between lines: every line is whole HTML (a cut inside "&lt;" or a tag would make
        # Telegram refuse the card); counted as Telegram counts (an emoji is two units), or a
        # card of emoji under the budget in characters grew past 4 096 and stopped updating
        kept: list[str] = []
        used = 2
        for line in lines:
            used += utf16_len(line) + 1
            if used > CARD_BUDGET:
                break
            kept.append(line)
        text = "\n".join(kept) + "\n…"
    return f"{text}\n\n{ref_of(p.id).tag}"


def review_line(lang: str, result: dict[str, int]) -> str:
    outcome = rules.ReviewResult(
        result.get("well", 0),
        result.get("partly", 0),
        result.get("not", 0),
        result.get("households", 0),
    )
    verdict = outcome.verdict
    return t(
        lang,
        "proposal.card_reviewed",
        well=outcome.well,
        partly=outcome.partly,
        not_done=outcome.not_done,
        answers=outcome.answers,
        households=outcome.households,
        verdict=Html(
            t(lang, f"proposal.verdict_{verdict}") if verdict else t(lang, "proposal.verdict_none")
        ),
    )


def keyboard(lang: str, p: store.Proposal) -> InlineKeyboardMarkup | None:
    pid = p.id

    def b(key: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(t(lang, key), callback_data=data)

    rows: list[list[InlineKeyboardButton]] = []
    follow = b("proposal.btn_follow", f"tp:f:{pid}")
    if p.stage in rules.SUPPORTABLE:
        rows.append([b("proposal.btn_support", f"tp:s:{pid}"), follow])
        if p.stage == rules.COLLECTING:
            rows.append([b("proposal.btn_agenda", f"tp:a:{pid}")])
        else:
            rows.append([b("proposal.btn_vote", f"tp:v:{pid}")])
    elif p.stage in rules.MEETINGS:
        rows.append([follow, b("proposal.btn_vote", f"tp:v:{pid}")])
    elif p.stage == rules.VOTE:
        rows.append([follow])
    elif p.stage in (rules.DECIDED, rules.PROGRESS):
        rows.append([follow, b("proposal.btn_review", f"tp:w:{pid}")])
    elif p.stage == rules.REVIEW:
        rows.append(
            [
                b("proposal.btn_well", f"tp:r:{pid}:w"),
                b("proposal.btn_partly", f"tp:r:{pid}:p"),
                b("proposal.btn_not", f"tp:r:{pid}:n"),
            ]
        )
    return InlineKeyboardMarkup(rows) if rows else None


async def render(
    services: Services, proposal_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    p = await store.get(services.db, proposal_id)
    if p is None:
        return None
    chat = await chats.get(services.db, p.chat_id)
    if chat is None:
        return None
    return await render_text(services, chat, p), keyboard(chat.language, p)


def refresh_card(services: Services, p: store.Proposal) -> None:
    if p.message_id is None:
        return

    async def moved(new_id: int) -> None:
        await store.set_message(services.db, p.id, new_id)

    services.outbox.refresh(
        p.chat_id,
        p.message_id,
        partial(render, services, p.id),
        on_moved=moved,
        thread_id=p.thread_id,
    )


async def _redraw(services: Services, proposal_id: int) -> None:
    p = await store.get(services.db, proposal_id)
    if p is not None:
        refresh_card(services, p)


cards.register(KIND, render=render, redraw=_redraw)  # brought up to date after a restart


async def _notice(services: Services, p: store.Proposal, key: str, **params: Any) -> None:
    """A short message in the group (as a reply to the card when it shows)."""
    chat = await chats.get(services.db, p.chat_id)
    if chat is None or not chat.active:
        return
    text = t(chat.language, key, title=p.title, ref=ref_of(p.id).tag, **params)
    await services.outbox.send(
        chat.id, text, reply_to=p.message_id, **topic(chat.language, p.thread_id)
    )


async def _tell_private(
    services: Services, user_ids: Sequence[int], key: str, p: store.Proposal, **params: Any
) -> int:
    """Tell people privately (those who started the bot), each in their language."""
    told = 0
    chat = await chats.get(services.db, p.chat_id)
    group = chat.title if chat is not None and chat.title else ""
    for user_id in user_ids:
        private = await events_handlers.started_bot(services, user_id)
        if private is None:
            continue
        text = t(private.language, key, title=p.title, ref=ref_of(p.id).tag, group=group, **params)
        if await services.outbox.send(user_id, text) is not None:
            told += 1
    return told


def _arm(services: Services, done: store.Advanced) -> None:
    services.scheduler.disarm(done.stale)
    for row_id, run_at in done.armed:
        services.scheduler.arm(row_id, run_at)


# --- /propose and /proposals --------------------------------------------------------------------


@command(where=GROUP_ONLY, counts=True)
async def propose(turn: Turn) -> None:
    assert turn.user is not None
    draft = rules.parse_proposal(turn.rest)
    services = turn.services
    expires = turn.now + timedelta(days=turn.chat.settings.proposal_days)
    proposal_id, row_id = await store.create(
        services.db,
        chat_id=turn.chat.id,
        author_id=turn.user.id,
        title=draft.title,
        body=draft.body,
        expires_at=expires,
        now=turn.now,
        thread_id=turn.thread_id,
    )
    services.scheduler.arm(row_id, expires)
    rendered = await render(services, proposal_id)
    assert rendered is not None
    message = await turn.say(rendered[0], markup=rendered[1])
    if message is None:
        # nobody saw it and nobody can support it: it must not linger, nor count towards the
        # author's limit; its id is not used again
        stale = await store.discard(services.db, proposal_id)
        if stale is not None:
            services.scheduler.disarm(stale)
            await _refused(services, turn.chat, turn.user.id, display_name(turn.user), draft.title)
        return
    await store.set_message(services.db, proposal_id, message.message_id)
    log.info("proposal %s opened in chat %s", proposal_id, turn.chat.id)


async def _refused(services: Services, chat: Chat, author_id: int, name: str, title: str) -> bool:
    """Tell the author that Telegram did not accept their proposal's card, so it is not
    posted: privately if they started the bot, else in the group (when it takes messages)."""
    log.warning("the card of a proposal in chat %s was not accepted: not posted", chat.id)
    short = shorten(title, 60)
    return await posts.tell_author(
        services,
        author_id,
        name,
        chat.id,
        lambda lang: t(lang, "proposal.card_refused", title=short, group=chat.title or ""),
    )


async def post_cardless(services: Services) -> int:
    """At start-up: a proposal stored by a process that stopped before its card was stored is
    posted now (its author never had an answer; if its card did show, that one keeps working:
    its buttons name the same id). One Telegram refuses again is removed, its author told."""
    started = cards.started_at(services)
    if started is None:
        return 0
    posted = 0
    for p in await store.cardless(services.db, started):
        chat = await chats.get(services.db, p.chat_id)
        rendered = await render(services, p.id)
        if chat is None or rendered is None:
            continue
        message = None
        if chat.active:
            message = await services.outbox.send(
                chat.id,
                rendered[0],
                reply_markup=rendered[1],
                **topic(chat.language, p.thread_id),
            )
        if message is None:
            stale = await store.discard(services.db, p.id)
            if stale is not None:
                services.scheduler.disarm(stale)
                member = await members.get(services.db, chat.id, p.author_id)
                name = member.display_name if member is not None else ""
                await _refused(services, chat, p.author_id, name, p.title)
            continue
        if await store.place_card(services.db, p.id, message.message_id):
            posted += 1
        else:  # stored meanwhile: this copy is one too many
            await services.outbox.delete(chat.id, message.message_id)
    return posted


cards.after_start("proposal cards", post_cardless)


def list_line(lang: str, p: store.Proposal, support: int | None = None) -> str:
    stage = t(lang, f"proposal.stage_{p.stage}")
    if support is not None:
        return t(
            lang,
            "proposal.list_item_support",
            title=shorten(p.title, 60),
            stage=stage,
            count=support,
            ref=ref_of(p.id).tag,
        )
    return t(
        lang, "proposal.list_item", title=shorten(p.title, 60), stage=stage, ref=ref_of(p.id).tag
    )


@command(where=GROUP_ONLY)
async def proposals_(turn: Turn) -> None:
    db = turn.services.db
    found = await store.listed(db, turn.chat.id, limit=LIST_LIMIT + 1)
    if not found:
        await turn.reply("proposal.none")
        return
    await _sync_votes(turn.services, found)
    found = await store.listed(db, turn.chat.id, limit=LIST_LIMIT + 1)
    order = {stage: n for n, stage in enumerate(rules.STAGES)}
    shown = sorted(found[:LIST_LIMIT], key=lambda p: (order[p.stage], p.id))
    lines = [turn.t("proposal.list_title")]
    current = None
    for p in shown:
        if p.stage != current:
            current = p.stage
            lines.append("")
            lines.append(
                turn.t("proposal.list_stage", stage=Html(turn.t(f"proposal.stage_{p.stage}")))
            )
        support = await store.support_count(db, p.id) if p.stage in rules.SUPPORTABLE else None
        line = list_line(turn.lang, p, support)
        if utf16_len("\n".join([*lines, line])) > CARD_BUDGET:
            # thirty titles of emoji made a list Telegram refused (over 4 096 UTF-16 units)
            lines.append(turn.t("proposal.list_more"))
            break
        lines.append(line)
    else:
        if len(found) > LIST_LIMIT:
            lines.append(turn.t("proposal.list_more"))
    await turn.say("\n".join(lines))


# --- support and the agenda ---------------------------------------------------------------------


async def _on_agenda(
    services: Services, p: store.Proposal, *, how: str, now: datetime
) -> store.Proposal | None:
    """Put it on the agenda (once: a second caller finds it moved) and tell the group and the
    leads. Returns the proposal on the agenda, or None when it was not collecting any more."""
    try:
        done = await store.advance(
            services.db,
            p.id,
            chat_id=p.chat_id,
            to=rules.AGENDA,
            now=now,
            fields={"how": how},
            cancel=(store.EXPIRY,),
        )
    except DomainError:
        return None
    _arm(services, done)
    current = done.proposal
    refresh_card(services, current)
    await _notice(
        services,
        current,
        "proposal.on_agenda_support" if how == "support" else "proposal.on_agenda_lead",
    )
    try:
        leads = sorted(await services.roles.admins(p.chat_id))
    except Exception:  # leads are told privately as a courtesy: the group was told already
        log.warning("could not list the leads of chat %s", p.chat_id)
        leads = []
    await _tell_private(services, leads, "proposal.on_agenda_leads", current)
    return current


@button(counts=True)
async def support_button(turn: Turn, parts: list[str]) -> None:
    """tp:s:<id> support / withdraw; tp:f:<id> follow / stop following."""
    if len(parts) != 2 or parts[0] not in ("s", "f") or not is_id(parts[1]):
        raise DomainError("error.stale_button")
    p = await store.get(turn.services.db, int(parts[1]))
    if p is None or p.chat_id != turn.chat.id or turn.user is None:
        raise DomainError("error.stale_button")
    services = turn.services
    if parts[0] == "f":
        if p.stage in rules.FINAL:
            raise DomainError("proposal.closed", ref=ref_of(p.id).text)
        following = await store.toggle_follow(services.db, p.id, p.chat_id, turn.user.id)
        await turn.answer("proposal.followed" if following else "proposal.unfollowed")
        return
    if p.stage not in rules.SUPPORTABLE:
        raise DomainError("proposal.support_over", ref=ref_of(p.id).text)
    households = await _households(turn)
    result = await store.toggle_support(services.db, p.id, households, turn.now)
    if result is None:
        raise DomainError("proposal.support_over", ref=ref_of(p.id).text)
    supporting, labels = result
    key = "proposal.support_added" if supporting else "proposal.support_withdrawn"
    await turn.answer(key, labels=", ".join(labels))
    refresh_card(services, p)
    if supporting and p.stage == rules.COLLECTING:
        count = await store.support_count(services.db, p.id)
        if rules.reached(count, _threshold(turn.chat), await units.count(services.db, p.chat_id)):
            await _on_agenda(services, p, how="support", now=turn.now)


@button(action=Action.MANAGE_DECISIONS)
async def agenda_button(turn: Turn, parts: list[str]) -> None:
    """tp:a:<id> — a lead puts it on the agenda directly."""
    if len(parts) != 2 or parts[0] != "a" or not is_id(parts[1]):
        raise DomainError("error.stale_button")
    p = await store.get(turn.services.db, int(parts[1]))
    if p is None or p.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    if p.stage != rules.COLLECTING:
        raise DomainError(
            "proposal.wrong_stage", stage=Html(t(turn.personal_lang, f"proposal.stage_{p.stage}"))
        )
    await turn.answer("proposal.agenda_done", ref=ref_of(p.id).text)
    await _on_agenda(turn.services, p, how="lead", now=turn.now)


def _stage_error(lang: str, exc: DomainError) -> DomainError:
    """``proposal.wrong_stage`` from storage names the stage by its key: translate it."""
    if exc.key == "proposal.wrong_stage" and isinstance(exc.params.get("stage"), str):
        stage = exc.params["stage"]
        return DomainError("proposal.wrong_stage", stage=Html(t(lang, f"proposal.stage_{stage}")))
    return exc


@command(action=Action.MANAGE_DECISIONS, where=GROUP_ONLY)
async def agenda(turn: Turn) -> None:
    proposal_id, _ = _split_ref(turn, "proposal.agenda_usage")
    p = await _ours(turn, proposal_id)
    if p.stage != rules.COLLECTING:
        raise DomainError("proposal.wrong_stage", stage=Html(turn.t(f"proposal.stage_{p.stage}")))
    if await _on_agenda(turn.services, p, how="lead", now=turn.now) is None:
        raise DomainError("proposal.wrong_stage", stage=Html(turn.t(f"proposal.stage_{p.stage}")))


@command(action=Action.MANAGE_DECISIONS, where=GROUP_ONLY)
async def decline(turn: Turn) -> None:
    proposal_id, text = _split_ref(turn, "proposal.decline_usage")
    p = await _ours(turn, proposal_id)
    reason = rules.clean_text(text, rules.MAX_REASON, "proposal.decline_usage")
    try:
        done = await store.advance(
            turn.services.db,
            p.id,
            chat_id=turn.chat.id,
            to=rules.DECLINED,
            now=turn.now,
            fields={"reason": reason},
            cancel=(store.EXPIRY,),
        )
    except DomainError as exc:
        raise _stage_error(turn.lang, exc) from None
    _arm(turn.services, done)
    refresh_card(turn.services, done.proposal)
    await turn.reply("proposal.declined", title=p.title, reason=reason, ref=ref_of(p.id).tag)


# --- meetings: hearing and coordination ---------------------------------------------------------


async def _meeting(turn: Turn, meeting: str) -> None:
    assert turn.user is not None
    usage = f"proposal.{meeting}_usage"
    proposal_id, text = _split_ref(turn, usage)
    p = await _ours(turn, proposal_id)
    fields = [f.strip() for f in text.split("|")] if text else []
    dispute: str | None = None
    if meeting == rules.COORDINATION:
        if len(fields) < 2:
            raise DomainError(usage)
        dispute = rules.clean_text(fields.pop(0), rules.MAX_DISPUTE, usage)
    if not fields or not fields[0]:
        raise DomainError(usage)
    if not rules.may_move(p.stage, meeting):
        raise DomainError("proposal.wrong_stage", stage=Html(turn.t(f"proposal.stage_{p.stage}")))
    when_text = fields[0]
    place = event_rules.clean_place(fields[1]) if len(fields) > 1 else None
    start_text, end = event_rules.split_range(when_text)
    moment = when_.parse(start_text, lang=turn.lang, tz=turn.chat.timezone, now=turn.now)
    if moment.rrule is not None:
        raise DomainError("event.no_recurrence")
    starts, ends = moment.first, event_rules.end_of(moment.first, end)
    services = turn.services
    title = event_rules.clean_title(
        turn.t(  # the event's own title, kept as text (escaped when shown): "听证会：…"
            "proposal.meeting_event_title",
            meeting=Html(turn.t(f"proposal.meeting_{meeting}")),
            title=Html(shorten(p.title, event_rules.MAX_TITLE - 40)),
        )
    )
    reminder_at = event_rules.next_reminder(starts, turn.chat.settings.event_reminders, turn.now)
    # the stage is checked again when it moves; the event is created first so the card can name it
    event_id, row_id = await events_store.create(
        services.db,
        chat_id=turn.chat.id,
        creator_id=turn.user.id,
        creator_name=display_name(turn.user),
        title=title,
        place=place,
        starts_at=starts,
        ends_at=ends,
        capacity=None,
        reminder_at=reminder_at,
        now=turn.now,
        thread_id=turn.thread_id,  # where its card goes: its reminders follow it
    )
    column = "hearing_id" if meeting == rules.HEARING else "coordination_id"
    values: dict[str, Any] = {column: event_id}
    if dispute is not None:
        values["dispute"] = dispute
    try:
        done = await store.advance(
            services.db, p.id, chat_id=turn.chat.id, to=meeting, now=turn.now, fields=values
        )
    except DomainError as exc:
        stale = await events_store.cancel(services.db, event_id)  # nothing was announced yet
        services.scheduler.disarm(stale or [])
        raise _stage_error(turn.lang, exc) from None
    if row_id is not None and reminder_at is not None:
        services.scheduler.arm(row_id, reminder_at)
    rendered = await events_handlers.render_event(services, event_id)
    assert rendered is not None
    message = await turn.say(rendered[0], markup=rendered[1])
    if message is not None:
        await events_store.set_message(services.db, event_id, message.message_id)
    current = done.proposal
    refresh_card(services, current)
    await turn.reply(
        f"proposal.{meeting}_open",
        title=p.title,
        ref=ref_of(p.id).tag,
        event=Ref("event", event_id).tag,
    )
    await _tell_private(
        services,
        await store.followers(services.db, p.id),
        f"proposal.{meeting}_followers",
        current,
        event=Ref("event", event_id).tag,
    )


@command(action=Action.CREATE_DECISION, where=GROUP_ONLY)
async def hearing(turn: Turn) -> None:
    await _meeting(turn, rules.HEARING)


@command(action=Action.CREATE_DECISION, where=GROUP_ONLY)
async def coordination(turn: Turn) -> None:
    await _meeting(turn, rules.COORDINATION)


def statement_markup(lang: str, statement_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "proposal.btn_agree"), callback_data=f"ts:{statement_id}:a"
                ),
                InlineKeyboardButton(
                    t(lang, "proposal.btn_disagree"), callback_data=f"ts:{statement_id}:d"
                ),
                InlineKeyboardButton(
                    t(lang, "proposal.btn_pass"), callback_data=f"ts:{statement_id}:p"
                ),
            ]
        ]
    )


async def _add_statement(turn: Turn, proposal_id: int, text: str) -> None:
    assert turn.user is not None
    line = rules.clean_statement(text)
    p = await _ours(turn, proposal_id)
    services = turn.services
    statement = await store.add_statement(
        services.db, p.id, chat_id=turn.chat.id, author_id=turn.user.id, text=line, now=turn.now
    )
    body = turn.t("proposal.statement", text=line, n=statement.id, ref=ref_of(p.id).tag)
    message = await turn.say(body, markup=statement_markup(turn.lang, statement.id))
    if message is not None:
        await store.set_statement_message(services.db, statement.id, message.message_id)
    refresh_card(services, p)


@command(where=GROUP_ONLY, counts=True)
async def say(turn: Turn) -> None:
    proposal_id, text = _split_ref(turn, "proposal.say_usage")
    await _add_statement(turn, proposal_id, text)


async def statement_reply(update: Update, context: CourtyardContext) -> None:
    """A reply to a proposal's card (plain text) is a statement while a meeting is open."""
    message = update.effective_message
    if message is None or message.reply_to_message is None:
        return
    replied = message.reply_to_message
    if replied.from_user is None or replied.from_user.id != context.bot.id:
        return
    card = find_ref(replied.text or "")
    if card is None or card.kind != KIND:
        return
    found = await store.get(context.services.db, card.id)
    if found is None or found.stage not in rules.MEETINGS:
        return  # a reply to the card is a statement only while a meeting hears them
    if found.message_id != replied.message_id or found.chat_id != replied.chat.id:
        return  # a reply to another message that names the proposal ("see #T9") is talk

    @command(where=GROUP_ONLY, counts=True)
    async def body(turn: Turn) -> None:
        await _add_statement(turn, card.id, message.text or "")

    await body(update, context)


@button(counts=True)
async def statement_button(turn: Turn, parts: list[str]) -> None:
    """ts:<statement id>:a|d|p — a household agrees, disagrees or passes."""
    if len(parts) != 2 or not is_id(parts[0]) or parts[1] not in _STATEMENT_CODES:
        raise DomainError("error.stale_button")
    statement = await store.get_statement(turn.services.db, int(parts[0]))
    if statement is None:
        raise DomainError("error.stale_button")
    p = await store.get(turn.services.db, statement.proposal_id)
    if p is None or p.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    if p.stage not in rules.MEETINGS:
        raise DomainError("proposal.meeting_over", ref=ref_of(p.id).text)
    households = await _households(turn)
    choice = _STATEMENT_CODES[parts[1]]
    if not await store.vote_statement(turn.services.db, statement.id, households, choice):
        raise DomainError("proposal.meeting_over", ref=ref_of(p.id).text)
    word = Html(t(turn.personal_lang, f"proposal.choice_{choice}"))
    await turn.answer(
        "proposal.statement_voted", choice=word, labels=", ".join(label for _, label in households)
    )
    refresh_card(turn.services, p)


# --- minutes ------------------------------------------------------------------------------------

MAX_MINUTES_FILE = 64 * 1024


@command(action=Action.CREATE_DECISION, where=GROUP_ONLY)
async def minutes(turn: Turn) -> None:
    assert turn.user is not None
    proposal_id, text = _split_ref(turn, "proposal.minutes_usage")
    p = await _ours(turn, proposal_id)
    document = turn.message.document if turn.message is not None else None
    if document is not None:
        text = await _document_text(turn, document)
    body = rules.clean_text(text, rules.MAX_MINUTES, "proposal.minutes_usage")
    meeting = p.stage if p.stage in rules.MEETINGS else None
    if meeting is None:
        # minutes of the last meeting held, also after it moved on to a vote
        if p.coordination_id is not None and p.stage not in (rules.COLLECTING, rules.AGENDA):
            meeting = rules.COORDINATION
        elif p.hearing_id is not None:
            meeting = rules.HEARING
        else:
            raise DomainError("proposal.no_meeting", ref=ref_of(p.id).text)
    event_id = p.hearing_id if meeting == rules.HEARING else p.coordination_id
    attendance = None
    if event_id is not None:
        signups = await events_store.signups(turn.services.db, event_id)
        attendance = event_rules.taken(event_rules.going(signups))
    await store.add_minutes(
        turn.services.db,
        p.id,
        chat_id=turn.chat.id,
        meeting=meeting,
        by_id=turn.user.id,
        text=body,
        attendance=attendance,
        now=turn.now,
    )
    found = await store.statements(turn.services.db, p.id)
    lines = [
        turn.t(
            "proposal.minutes_title",
            meeting=Html(turn.t(f"proposal.meeting_{meeting}")),
            title=p.title,
        ),
    ]
    if attendance is not None:
        lines.append(
            tn(
                turn.lang,
                "proposal.minutes_attendance",
                attendance,
                event=Ref("event", event_id).tag if event_id else "",
            )
        )
    shown = body if len(body) <= rules.MINUTES_SHOWN else body[: rules.MINUTES_SHOWN] + "…"
    lines += ["", escape(shown)]
    if shown is not body:
        lines.append(turn.t("proposal.minutes_more", ref=ref_of(p.id).text))
    statement_lines = _statement_lines(turn.lang, found)
    if statement_lines:
        lines += ["", *statement_lines]
    lines += ["", ref_of(p.id).tag]
    await turn.say("\n".join(lines))
    refresh_card(turn.services, p)


async def _document_text(turn: Turn, document: Any) -> str:
    name = (document.file_name or "").lower()
    if not name.endswith((".txt", ".md")) or (document.file_size or 0) > MAX_MINUTES_FILE:
        raise DomainError("proposal.minutes_file", limit=MAX_MINUTES_FILE // 1024)
    file = await document.get_file()
    data = bytes(await file.download_as_bytearray())
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError("proposal.minutes_file", limit=MAX_MINUTES_FILE // 1024) from None


# --- the vote -----------------------------------------------------------------------------------


async def put_to_vote(turn: Turn, p: store.Proposal, options: str) -> None:
    """A formal decision on the proposal with the group's default rule (or ``options``)."""
    assert turn.user is not None
    if not rules.may_move(p.stage, rules.VOTE):
        raise DomainError(
            "proposal.wrong_stage", stage=Html(t(turn.personal_lang, f"proposal.stage_{p.stage}"))
        )
    request = decisions_handlers.parse_request(
        p.title[: decisions_handlers.MAX_TITLE] + (" | " + options if options else ""),
        lang=turn.lang,
        tz=turn.chat.timezone,
        now=turn.now,
        default_rule=turn.chat.settings.decision_rule,
    )
    if request.closes <= turn.now:
        raise DomainError("proposal.vote_past")
    services = turn.services
    db = services.db
    # the stage moves first (a compare-and-set: two presses open one decision), then the decision
    done = await store.advance(
        db,
        p.id,
        chat_id=turn.chat.id,
        to=rules.VOTE,
        now=turn.now,
        schedule=((store.VOTE_CHECK, request.closes + VOTE_SLACK),),
    )
    try:
        decision_id, row_id = await decisions.create(
            db,
            chat_id=turn.chat.id,
            title=request.title,
            rule=request.rule.text,
            secret=request.secret,
            creator_id=turn.user.id,
            creator_name=display_name(turn.user),
            closes_at=request.closes,
            now=turn.now,
            thread_id=turn.thread_id,  # where its card goes: its outcome follows it
            part=request.part,  # "| part=entrance 2" was read, then dropped: all voted
        )
    except DomainError:
        # no decision could open (an empty register, areas missing): back where it was
        await store.revert_vote(db, p.id, p.stage, [row for row, _ in done.armed])
        raise
    _arm(services, done)
    await store.set_fields(db, p.id, (rules.VOTE,), decision_id=decision_id)
    services.scheduler.arm(row_id, request.closes)
    rendered = await decisions_handlers.render(services, decision_id)
    assert rendered is not None
    message = await services.outbox.send(turn.chat.id, rendered[0], reply_markup=rendered[1])
    if message is not None:
        await decisions.set_message(db, decision_id, message.message_id)
    current = await store.get(db, p.id)
    assert current is not None
    refresh_card(services, current)
    await _tell_private(
        services,
        await store.followers(db, p.id),
        "proposal.vote_followers",
        current,
        decision=Ref("decision", decision_id).tag,
    )


@button(action=Action.CREATE_DECISION)
async def vote_button(turn: Turn, parts: list[str]) -> None:
    """tp:v:<id> — put to a vote with the group's default rule, closing in 14 days."""
    if len(parts) != 2 or parts[0] != "v" or not is_id(parts[1]):
        raise DomainError("error.stale_button")
    p = await store.get(turn.services.db, int(parts[1]))
    if p is None or p.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    if not rules.may_move(p.stage, rules.VOTE):
        raise DomainError(
            "proposal.wrong_stage", stage=Html(t(turn.personal_lang, f"proposal.stage_{p.stage}"))
        )
    await turn.answer("proposal.vote_opening", ref=ref_of(p.id).text)
    try:
        await put_to_vote(turn, p, "")
    except DomainError as exc:  # answered already: the refusal goes to the group
        exc = _stage_error(turn.lang, exc)
        await turn.say(turn.t(exc.key, **exc.params))


@command(action=Action.CREATE_DECISION, where=GROUP_ONLY)
async def decide_proposal(turn: Turn) -> None:
    """/decide T3 [| closes=...] — the vote of a proposal (other /decide go to decisions)."""
    proposal_id, options = _split_ref(turn, "proposal.decide_usage")
    p = await _ours(turn, proposal_id)
    try:
        await put_to_vote(turn, p, options.lstrip("| "))
    except DomainError as exc:
        raise _stage_error(turn.lang, exc) from None


async def decide_router(update: Update, context: CourtyardContext) -> None:
    """Before the decisions feature sees ``/decide``: ``/decide T3 …`` is a proposal's vote."""
    message = update.effective_message
    words = (message.text or "").split(None, 2) if message is not None else []
    if len(words) < 2:
        return
    found = parse_ref(words[1].rstrip(":,|"))
    if found is None or found.kind != KIND:
        return
    await decide_proposal(update, context)
    raise ApplicationHandlerStop


async def sync_vote(services: Services, p: store.Proposal) -> bool:
    """If the proposal's decision has closed, move the proposal: decided (with the review
    date) or back on the agenda with the figures. True when it moved."""
    if p.stage != rules.VOTE or p.decision_id is None:
        return False
    decision = await decisions.get(services.db, p.decision_id)
    if decision is None:
        return False
    if decision.is_open:
        return False
    chat = await chats.get(services.db, p.chat_id)
    if chat is None:
        return False
    counted = await decisions_handlers.count(services, decision)
    outcome = counted.outcome
    if outcome is None and decision.final is not None and decision.final.totals is not None:
        outcome = evaluate_totals(parse_rule(decision.rule), decision.final.totals)
    now = services.clock()
    figures = decisions_handlers.summary(chat.language, outcome) if outcome is not None else ""
    try:
        if outcome is not None and outcome.approved:
            review_at = rules.review_date(now)
            done = await store.advance(
                services.db,
                p.id,
                chat_id=p.chat_id,
                to=rules.DECIDED,
                now=now,
                fields={"decided_at": now, "review_at": review_at, "last_vote": None},
                schedule=((store.REVIEW_OPEN, review_at),),
                cancel=(store.VOTE_CHECK,),
            )
        else:
            done = await store.advance(
                services.db,
                p.id,
                chat_id=p.chat_id,
                to=rules.AGENDA,
                now=now,
                fields={
                    "last_vote": figures or t(chat.language, "proposal.no_figures"),
                    "decision_id": None,
                },
                cancel=(store.VOTE_CHECK,),
            )
    except DomainError:
        return False  # moved meanwhile by another path
    _arm(services, done)
    current = done.proposal
    refresh_card(services, current)
    fig = Html(figures) if figures else Html(escape(t(chat.language, "proposal.no_figures")))
    if current.stage == rules.DECIDED:
        assert current.review_at is not None
        when = format_datetime(current.review_at, chat.language, chat.timezone)
        await _notice(services, current, "proposal.passed", figures=fig, review=when)
        key = "proposal.passed_followers"
    else:
        await _notice(services, current, "proposal.not_passed", figures=fig)
        key = "proposal.not_passed_followers"
    await _tell_private(services, await store.followers(services.db, p.id), key, current)
    return True


async def _sync_votes(services: Services, found: Sequence[store.Proposal]) -> None:
    for p in found:
        if p.stage == rules.VOTE:
            await sync_vote(services, p)


async def _after_decision_closed(services: Services, decision_id: int) -> None:
    p = await store.by_decision(services.db, decision_id)
    if p is not None:
        await sync_vote(services, p)


async def on_decision_closed(services: Services, decision: Decision) -> None:
    """``handlers.decisions.ON_CLOSED``: a proposal waiting for this decision moves at once."""
    await _after_decision_closed(services, decision.id)


async def run_vote_check(services: Services, row: Scheduled, late_by: timedelta) -> None:
    """At the decision's deadline: read its state; still open (its close waits for a fix, or
    ran later than ours), look again in a minute."""
    assert row.ref_id is not None
    p = await store.get(services.db, row.ref_id)
    if p is None or p.stage != rules.VOTE:
        return
    if p.decision_id is None:
        # a crash between the stage's move and the decision's creation: nothing was voted
        await store.revert_vote(services.db, p.id, rules.AGENDA, [])
        current = await store.get(services.db, p.id)
        if current is not None:
            refresh_card(services, current)
        return
    if await sync_vote(services, p):
        return
    now = services.clock()
    decision = await decisions.get(services.db, p.decision_id)
    retry = now + VOTE_RETRY
    if decision is not None and decision.closes_at + VOTE_SLACK > retry:
        retry = decision.closes_at + VOTE_SLACK
    async with services.db.write() as conn:
        row_id = await scheduled.insert(
            conn, chat_id=p.chat_id, kind=store.VOTE_CHECK, ref_id=p.id, run_at=retry, now=now
        )
    services.scheduler.arm(row_id, retry)


# --- progress and review ------------------------------------------------------------------------


@command(action=Action.MANAGE_DECISIONS, where=GROUP_ONLY)
async def progress(turn: Turn) -> None:
    assert turn.user is not None
    proposal_id, text = _split_ref(turn, "proposal.progress_usage")
    p = await _ours(turn, proposal_id)
    if p.stage not in (rules.DECIDED, rules.PROGRESS):
        raise DomainError("proposal.not_decided", ref=ref_of(p.id).text)
    words = text.split(None, 1)
    services = turn.services
    if words and words[0].casefold().rstrip(":：") in rules.ASSIGN_WORDS:
        who = rules.clean_assignee(words[1] if len(words) > 1 else "")
        if not await store.set_fields(
            services.db, p.id, (rules.DECIDED, rules.PROGRESS), assignee=who
        ):
            raise DomainError("proposal.not_decided", ref=ref_of(p.id).text)
        current = await store.get(services.db, p.id)
        assert current is not None
        refresh_card(services, current)
        await turn.reply("proposal.assigned", who=who, ref=ref_of(p.id).tag)
        await _tell_private(
            services,
            await store.followers(services.db, p.id),
            "proposal.assigned_followers",
            current,
            who=who,
        )
        return
    update = rules.parse_progress(text)
    body = update.text or (
        turn.t("proposal.progress_pct_only") if update.percent is not None else ""
    )
    current = await store.add_progress(
        services.db,
        p.id,
        chat_id=turn.chat.id,
        by_id=turn.user.id,
        text=body,
        percent=update.percent,
        now=turn.now,
    )
    refresh_card(services, current)
    told = await _tell_private(
        services,
        await store.followers(services.db, p.id),
        "proposal.progress_followers",
        current,
        text=body,
        pct=update.percent if update.percent is not None else "—",
    )
    await turn.say(tn(turn.lang, "proposal.progress_saved", told, ref=ref_of(p.id).tag))


async def open_review(
    services: Services, p: store.Proposal, *, early: bool
) -> store.Proposal | None:
    now = services.clock()
    ends = rules.review_end(now)
    try:
        done = await store.advance(
            services.db,
            p.id,
            chat_id=p.chat_id,
            to=rules.REVIEW,
            now=now,
            fields={"review_ends_at": ends},
            schedule=((store.REVIEW_CLOSE, ends),),
            cancel=(store.REVIEW_OPEN,),
        )
    except DomainError:
        return None
    _arm(services, done)
    current = done.proposal
    refresh_card(services, current)
    chat = await chats.get(services.db, p.chat_id)
    if chat is not None:
        await _notice(
            services,
            current,
            "proposal.review_opened",
            when=format_datetime(ends, chat.language, chat.timezone),
        )
    await _tell_private(
        services, await store.followers(services.db, p.id), "proposal.review_followers", current
    )
    return current


async def close_review(services: Services, p: store.Proposal) -> store.Proposal | None:
    answers = await store.review_answers(services.db, p.id)
    households = await units.count(services.db, p.chat_id)
    outcome = rules.review_result([a for a, _ in answers], households)
    result = {
        "well": outcome.well,
        "partly": outcome.partly,
        "not": outcome.not_done,
        "households": households,
    }
    try:
        done = await store.advance(
            services.db,
            p.id,
            chat_id=p.chat_id,
            to=rules.REVIEWED,
            now=services.clock(),
            fields={"result": result},
            cancel=(store.REVIEW_CLOSE,),
        )
    except DomainError:
        return None
    _arm(services, done)
    current = done.proposal
    refresh_card(services, current)
    chat = await chats.get(services.db, p.chat_id)
    if chat is None:
        return current
    lang = chat.language
    remarks = [r for _, r in answers if r][:10]
    lines = [t(lang, "proposal.review_result_head", title=p.title), review_line(lang, result)]
    if remarks:
        lines.append(t(lang, "proposal.review_remarks"))
        lines += [f"• {escape(shorten(r, rules.MAX_REMARK))}" for r in remarks]
    lines += ["", ref_of(p.id).tag]
    await services.outbox.send(
        chat.id, "\n".join(lines), reply_to=p.message_id, **topic(lang, p.thread_id)
    )
    await _tell_private(
        services, await store.followers(services.db, p.id), "proposal.reviewed_followers", current
    )
    return current


@button(action=Action.MANAGE_DECISIONS)
async def review_start_button(turn: Turn, parts: list[str]) -> None:
    """tp:w:<id> — a lead starts the review early."""
    if len(parts) != 2 or parts[0] != "w" or not is_id(parts[1]):
        raise DomainError("error.stale_button")
    p = await store.get(turn.services.db, int(parts[1]))
    if p is None or p.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    if p.stage not in (rules.DECIDED, rules.PROGRESS):
        raise DomainError(
            "proposal.wrong_stage", stage=Html(t(turn.personal_lang, f"proposal.stage_{p.stage}"))
        )
    await turn.answer("proposal.review_starting", ref=ref_of(p.id).text)
    await open_review(turn.services, p, early=True)


@button(counts=True)
async def review_button(turn: Turn, parts: list[str]) -> None:
    """tp:r:<id>:w|p|n — a household's review answer (the latest counts)."""
    if len(parts) != 3 or parts[0] != "r" or not is_id(parts[1]) or parts[2] not in _REVIEW_CODES:
        raise DomainError("error.stale_button")
    p = await store.get(turn.services.db, int(parts[1]))
    if p is None or p.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    if p.stage != rules.REVIEW:
        raise DomainError("proposal.review_not_open", ref=ref_of(p.id).text)
    households = await _households(turn)
    answer = _REVIEW_CODES[parts[2]]
    if not await store.answer_review(turn.services.db, p.id, households, answer, None, turn.now):
        raise DomainError("proposal.review_not_open", ref=ref_of(p.id).text)
    word = Html(t(turn.personal_lang, f"proposal.answer_{answer}"))
    await turn.answer(
        "proposal.review_answered",
        answer=word,
        labels=", ".join(label for _, label in households),
        ref=ref_of(p.id).text,
    )
    refresh_card(turn.services, p)


@command(where=GROUP_ONLY)
async def review(turn: Turn) -> None:
    """/review T3 (a lead: start it now) · /review T3 partly the lamps flicker (a household)."""
    proposal_id, text = _split_ref(turn, "proposal.review_usage")
    p = await _ours(turn, proposal_id)
    if p.stage != rules.REVIEW:
        if (
            text
            and p.stage in (rules.DECIDED, rules.PROGRESS)
            and rules.split_answer(text)[0] is None  # "partly …" answers; it is no date
            and await turn.may(Action.MANAGE_DECISIONS)
        ):
            await _move_review(turn, p, text)
            return
        if text:
            raise DomainError("proposal.review_not_open", ref=ref_of(p.id).text)
        await _may(turn, Action.MANAGE_DECISIONS)
        if p.stage not in (rules.DECIDED, rules.PROGRESS):
            raise DomainError(
                "proposal.wrong_stage", stage=Html(turn.t(f"proposal.stage_{p.stage}"))
            )
        if await open_review(turn.services, p, early=True) is None:
            raise DomainError(
                "proposal.wrong_stage", stage=Html(turn.t(f"proposal.stage_{p.stage}"))
            )
        return
    if not text:
        raise DomainError("proposal.review_usage")
    if not await turn.is_member():
        raise DomainError("membership.not_member")
    answer, remark = rules.split_answer(text)
    if remark is not None and len(remark) > rules.MAX_REMARK:
        raise DomainError("proposal.text_too_long", limit=rules.MAX_REMARK)
    households = await _households(turn)
    if not await store.answer_review(turn.services.db, p.id, households, answer, remark, turn.now):
        raise DomainError("proposal.review_not_open", ref=ref_of(p.id).text)
    await turn.reply("proposal.review_noted", ref=ref_of(p.id).tag)
    refresh_card(turn.services, p)


async def _move_review(turn: Turn, p: store.Proposal, text: str) -> None:
    """``/review T3 1 march 10:00`` (a lead): the review opens then instead."""
    moment = when_.parse(text, lang=turn.lang, tz=turn.chat.timezone, now=turn.now)
    if moment.rrule is not None:
        raise DomainError("event.no_recurrence")
    moved = await store.move_review(turn.services.db, p.id, moment.first, turn.now)
    if moved is None:
        raise DomainError("proposal.wrong_stage", stage=Html(turn.t(f"proposal.stage_{p.stage}")))
    stale, row_id = moved
    turn.services.scheduler.disarm(stale)
    turn.services.scheduler.arm(row_id, moment.first)
    current = await store.get(turn.services.db, p.id)
    if current is not None:
        refresh_card(turn.services, current)
    when = format_datetime(moment.first, turn.lang, turn.chat.timezone)
    await turn.reply("proposal.review_moved", when=when, ref=ref_of(p.id).tag)


async def run_review_open(services: Services, row: Scheduled, late_by: timedelta) -> None:
    assert row.ref_id is not None
    p = await store.get(services.db, row.ref_id)
    if p is not None and p.stage in (rules.DECIDED, rules.PROGRESS):
        await open_review(services, p, early=False)


async def run_review_close(services: Services, row: Scheduled, late_by: timedelta) -> None:
    assert row.ref_id is not None
    p = await store.get(services.db, row.ref_id)
    if p is not None and p.stage == rules.REVIEW:
        await close_review(services, p)


async def run_expiry(services: Services, row: Scheduled, late_by: timedelta) -> None:
    """A proposal that gathered too little support by its time expires, with a notice."""
    assert row.ref_id is not None
    p = await store.get(services.db, row.ref_id)
    if p is None or p.stage != rules.COLLECTING:
        return
    count = await store.support_count(services.db, p.id)
    chat = await chats.get(services.db, p.chat_id)
    households = await units.count(services.db, p.chat_id)
    if chat is not None and rules.reached(count, _threshold(chat), households):
        # the threshold was lowered (or the register shrank) since the last press: it has
        # the support it needs now, so it goes on the agenda instead of expiring
        await _on_agenda(services, p, how="support", now=services.clock())
        return
    try:
        done = await store.advance(
            services.db, p.id, chat_id=p.chat_id, to=rules.EXPIRED, now=services.clock()
        )
    except DomainError:
        return
    refresh_card(services, done.proposal)
    await _notice(services, done.proposal, "proposal.expired", count=count)


@refs.closer(KIND)
async def close_ref(turn: Turn, proposal_id: int) -> None:
    """/close T3 — a lead ends an open review now (the result is posted)."""
    p = await _ours(turn, proposal_id)
    await _may(turn, Action.MANAGE_DECISIONS)
    if p.stage != rules.REVIEW:
        raise DomainError("proposal.close_how", ref=ref_of(p.id).text)
    await close_review(turn.services, p)


@refs.exporter(KIND)
async def export_ref(turn: Turn, proposal_id: int) -> refs.Export:
    """The whole record: stages, support, statements with their answers, minutes, progress,
    review — no person's name or id (answers are households' counts)."""
    p = await _ours(turn, proposal_id)
    db = turn.services.db
    lang = turn.personal_lang
    tz = turn.chat.timezone

    def when(moment: datetime) -> str:
        return format_datetime(moment, lang, tz)

    rows: list[list[str]] = [
        [t(lang, "proposal.csv_proposal"), when(p.created_at), p.title, p.body],
        [t(lang, "proposal.csv_stage"), when(p.stage_at), t(lang, f"proposal.stage_{p.stage}"), ""],
        [t(lang, "proposal.csv_support"), "", str(await store.support_count(db, p.id)), ""],
    ]
    if p.reason:
        rows.append([t(lang, "proposal.csv_reason"), "", p.reason, ""])
    for s, tl in await store.statements(db, p.id):
        figures = t(
            lang,
            "proposal.csv_statement_figures",
            agree=tl.agree,
            disagree=tl.disagree,
            passed=tl.passed,
        )
        rows.append([t(lang, "proposal.csv_statement"), when(s.created_at), s.text, figures])
    for m in await store.minutes(db, p.id):
        rows.append(
            [t(lang, "proposal.csv_minutes"), when(m.created_at), m.text, str(m.attendance or "")]
        )
    if p.last_vote:
        rows.append([t(lang, "proposal.csv_vote"), "", plain(p.last_vote), ""])
    if p.decision_id is not None:
        rows.append([t(lang, "proposal.csv_vote"), "", Ref("decision", p.decision_id).text, ""])
    if p.assignee:
        rows.append([t(lang, "proposal.csv_assignee"), "", p.assignee, ""])
    for u in await store.progress(db, p.id):
        rows.append(
            [
                t(lang, "proposal.csv_progress"),
                when(u.created_at),
                u.text,
                "" if u.percent is None else f"{u.percent}%",
            ]
        )
    if p.result is not None:
        r = p.result
        rows.append(
            [
                t(lang, "proposal.csv_review"),
                "",
                f"{r.get('well', 0)}/{r.get('partly', 0)}/{r.get('not', 0)}",
                str(r.get("households", 0)),
            ]
        )
    for answer, remark in await store.review_answers(db, p.id):
        if remark:
            rows.append(
                [t(lang, "proposal.csv_remark"), "", remark, t(lang, f"proposal.answer_{answer}")]
            )
    header = [
        t(lang, "proposal.csv_what"),
        t(lang, "proposal.csv_when"),
        t(lang, "proposal.csv_text"),
        t(lang, "proposal.csv_detail"),
    ]
    return refs.Export(filename=f"proposal-{p.id}.csv", header=header, rows=rows)


# --- digest -------------------------------------------------------------------------------------


async def proposals_digest(services: Services, chat: Chat, now: datetime) -> str | None:
    found = await store.under_way(
        services.db,
        chat.id,
        (
            rules.COLLECTING,
            rules.AGENDA,
            rules.HEARING,
            rules.COORDINATION,
            rules.VOTE,
            rules.REVIEW,
        ),
    )
    if not found:
        return None
    lines = [t(chat.language, "proposal.digest_title")]
    for p in found[:15]:
        support = (
            await store.support_count(services.db, p.id) if p.stage in rules.SUPPORTABLE else None
        )
        lines.append(list_line(chat.language, p, support))
    return "\n".join(lines)


# --- wiring -------------------------------------------------------------------------------------


def register(app: Any) -> None:
    """Add this feature's handlers to the application."""
    app.add_handler(CommandHandler("decide", decide_router, filters=NEW), group=-1)
    app.add_handler(CommandHandler("propose", propose, filters=NEW))
    app.add_handler(CommandHandler("proposals", proposals_, filters=NEW))
    app.add_handler(CommandHandler("agenda", agenda, filters=NEW))
    app.add_handler(CommandHandler("decline", decline, filters=NEW))
    app.add_handler(CommandHandler("hearing", hearing, filters=NEW))
    app.add_handler(CommandHandler("coordination", coordination, filters=NEW))
    app.add_handler(CommandHandler("say", say, filters=NEW))
    app.add_handler(CommandHandler("minutes", minutes, filters=NEW))
    app.add_handler(
        MessageHandler(
            filters.Document.ALL & filters.CaptionRegex(r"(?i)^/minutes(@\w+)?\b") & NEW, minutes
        )
    )
    app.add_handler(CommandHandler("progress", progress, filters=NEW))
    app.add_handler(CommandHandler("review", review, filters=NEW))
    app.add_handler(CallbackQueryHandler(support_button, pattern=r"^tp:[sf]:"))
    app.add_handler(CallbackQueryHandler(agenda_button, pattern=r"^tp:a:"))
    app.add_handler(CallbackQueryHandler(vote_button, pattern=r"^tp:v:"))
    app.add_handler(CallbackQueryHandler(review_start_button, pattern=r"^tp:w:"))
    app.add_handler(CallbackQueryHandler(review_button, pattern=r"^tp:r:"))
    app.add_handler(CallbackQueryHandler(statement_button, pattern=r"^ts:"))
    app.add_handler(
        MessageHandler(
            filters.REPLY & filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS & NEW,
            statement_reply,
        ),
        group=REPLY_GROUP,
    )
    if on_decision_closed not in decisions_handlers.ON_CLOSED:
        decisions_handlers.ON_CLOSED.append(on_decision_closed)


def setup(services: Services) -> None:
    """Register this feature's scheduled kinds and digest section."""
    scheduler = services.scheduler
    for kind, run in (
        (store.EXPIRY, run_expiry),
        (store.VOTE_CHECK, run_vote_check),
        (store.REVIEW_OPEN, run_review_open),
        (store.REVIEW_CLOSE, run_review_close),
    ):
        # missed (the bot was down): each still happens, late — a review is not skipped
        scheduler.register(kind, run=partial(run, services), missed=partial(run, services))
    if proposals_digest not in digest.SECTIONS:
        digest.SECTIONS.append(proposals_digest)
