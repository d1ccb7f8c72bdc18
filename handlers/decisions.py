"""Formal decisions: one ballot per household (unit), counted under a rule of building law.

/decide <question> [| rule=<rule>] [| closes=<when>] [| secret]   leads and organizers
/ballot <D3|3> <unit> for|against|abstain [note]                  leads: a paper or proxy ballot
/audit <D3|3>  (or a reply to the card)                           leads: who recorded what, when
/close D3 · /export D3  (handlers/refs.py)                        leads: close early, CSV export

Buttons on the card: For / Against / Abstain (dc:v:<id>:f|a|x, anyone with an approved unit),
Remind non-voters (dc:r:<id>, leads), Close now (dc:c:<id>, leads; a second press within
CONFIRM_SECONDS confirms). All callback data is our own row id, validated on every press.

Choices where the issue is silent (the README in notes/decisions.md repeats them):

* Without ``closes=`` a decision closes in DEFAULT_DAYS days; without ``rule=`` the group's
  ``decision_rule`` setting counts.
* A press applies to every approved unit of the presser in this group (the answer names them);
  the latest ballot of a unit counts, whether a press or a paper ballot.
* The electorate (the units and their areas) is fixed when the decision opens and shown on the
  card; the live register is never counted. A lead's change to the register reaches an open
  decision only through ``storage.decisions.register_changed``, named on the card and in the
  outcome: a unit added joins and may vote, a removed unit's ballot stops counting, a changed
  area re-weights. A rule that counts floor area cannot open while a unit lacks an area, and a
  count that cannot be made refuses the close (the scheduled close tells the leads once and
  tries again every CLOSE_RETRY) — the ballots are never discarded without the result.
* Secret decisions: the card shows participation only; for/against and "already certain" appear
  at closing, because a live split would reveal a single vote to anyone watching the card. The
  audit never holds a choice; a lead's /ballot message is deleted (if the bot may) so the
  group does not read it; at closing the per-unit choices are discarded, the totals kept.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from babel.numbers import format_decimal
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import charts
from bot.domain import when as when_
from bot.domain.decisions import (
    ABSTAIN,
    AGAINST,
    CHOICES,
    FOR,
    Ballot,
    Basis,
    Check,
    Outcome,
    Rule,
    Stage,
    Totals,
    Unit,
    certain,
    evaluate,
    evaluate_totals,
    parse_choice,
    parse_rule,
)
from bot.domain.errors import DomainError
from bot.domain.refs import Ref, find_ref, parse_ref
from bot.domain.roles import Action, required_role
from bot.domain.text import one_line
from bot.domain.units import normalize_label, normalize_part
from bot.i18n import (
    Html,
    babel_locale,
    escape,
    format_datetime,
    format_datetime_zone,
    rule_label,
    rule_name,
    t,
    tn,
)
from bot.services import Services
from handlers import cards, pictures, refs
from handlers.common import (
    GROUP_ONLY,
    Turn,
    button,
    command,
    display_name,
    mention_batches,
    role_key,
)
from handlers.units import format_area
from storage import chats, decisions, units
from storage.decisions import Change, Decision, Final, StoredBallot, Voter
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE

KIND = decisions.KIND
#: Days a decision stays open when /decide names no closing time.
DEFAULT_DAYS = 14
MAX_TITLE = 200
MAX_NOTE = 200
MAX_TEXT = 4096
#: Seconds within which a second "Close now" press confirms.
CONFIRM_SECONDS = 60.0
#: Seconds between two "Remind non-voters" posts for one decision.
REMIND_COOLDOWN = 600.0
#: Removed-unit labels named on a card before "+N".
MAX_LABELS = 10
#: Register changes named on a card before "and N more" (all of them are in /audit).
MAX_CHANGES = 6
#: How long a scheduled close that could not count waits before it tries again.
CLOSE_RETRY = timedelta(hours=1)

_CODES = {"f": FOR, "a": AGAINST, "x": ABSTAIN}
_CODE_OF = {choice: code for code, choice in _CODES.items()}
_STATE = "decisions"

#: A scheduled close this much after its deadline says it is late.
LATE_NOTE = timedelta(minutes=5)

#: Called once a decision has closed and its outcome was posted, with the closed decision
#: (``final`` holds the totals): features that open decisions (house rules, proposals) learn
#: the result here. A hook's failure is logged and never undoes the close. A process that died
#: between the close and the outcome post runs them at its next start, after posting the
#: outcome (so a hook may, rarely, see one decision twice: key what it does by decision id).
ON_CLOSED: list[Callable[[Services, Decision], Awaitable[None]]] = []

#: Chinese words in Simplified and Traditional forms (规则/規則, 无记名/無記名/不记名/不記名).
_RULE_KEYS = frozenset({"rule", "rules", "правило", "规则", "規則"})
_CLOSE_KEYS = frozenset(
    {"closes", "close", "until", "deadline", "ends", "截止", "结束", "結束"}
    | {"до", "срок", "закрытие"}
)
_SECRET_WORDS = frozenset(
    {"secret", "anonymous", "秘密", "匿名", "无记名", "無記名", "不记名", "不記名"}
    | {"无记名投票", "無記名投票", "不记名投票", "不記名投票", "匿名投票", "秘密投票"}
    | {"无记名表决", "無記名表決", "不记名表决", "不記名表決", "秘密表决", "秘密表決"}
    | {"тайно", "тайное", "анонимно"}
)
_OPEN_WORDS = frozenset({"open", "公开", "公開", "открыто", "открытое"})
#: ``part=entrance 2``: a decision of one part of the building (its households only).
_PART_KEYS = frozenset({"part", "scope", "部分", "范围", "範圍", "仅限", "僅限", "часть", "только"})

_OPTION_RE = re.compile(r"^([\w-]+)\s*(?:[=:：]\s*|\s+)(.+)$")

#: Keys built at run time (tests/test_i18n.py checks they exist).
DYNAMIC_KEYS: frozenset[str] = frozenset(
    {f"decision.choice_{c}" for c in CHOICES}
    | {f"decision.btn_{c}" for c in CHOICES}
    | {
        "decision.check_quorum_units",
        "decision.check_quorum_area",
        "decision.check_for_units",
        "decision.check_for_area",
        "decision.check_for_units_all",
        "decision.check_for_area_all",
    }
)


# --- parsing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    title: str
    rule: Rule
    secret: bool
    closes: datetime
    part: str | None = None  # only this part of the building's households count


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def parse_request(text: str, *, lang: str, tz: str, now: datetime, default_rule: str) -> Request:
    """``Install an elevator | rule=cn-278-special | closes=in 14 days | secret | part=entrance
    2``."""
    segments = [s.strip() for s in text.split("|")]
    title = one_line(segments[0]) if segments else ""  # nothing invisible makes a title
    if not title:
        raise DomainError("decision.usage")
    if len(title) > MAX_TITLE:
        raise DomainError("decision.title_too_long", limit=MAX_TITLE)
    rule: Rule | None = None
    secret = False
    closes: datetime | None = None
    part: str | None = None
    for segment in segments[1:]:
        if not segment:
            continue
        folded = _fold(segment)
        if folded in _SECRET_WORDS:
            secret = True
            continue
        if folded in _OPEN_WORDS:
            secret = False
            continue
        match = _OPTION_RE.match(folded)
        key = match.group(1) if match else ""
        if match and key in _CLOSE_KEYS:
            moment = when_.parse(_value_of(segment), lang=lang, tz=tz, now=now)
            if moment.rrule is not None:
                raise DomainError("decision.bad_closing")
            closes = moment.first
            continue
        if match and key in _PART_KEYS:
            part = normalize_part(_value_of(segment))
            continue
        try:
            rule = parse_rule(segment)  # "rule=two-thirds quorum=1/2" or just "two-thirds"
        except DomainError as exc:
            if (match and key in _RULE_KEYS) or exc.key != "decision.unknown_rule":
                raise
            raise DomainError("decision.unknown_option", value=segment[:64]) from None
    if rule is None:
        rule = parse_rule(default_rule)
    return Request(title, rule, secret, closes or now + timedelta(days=DEFAULT_DAYS), part)


def _value_of(segment: str) -> str:
    """What follows ``closes=`` / ``closes:`` / ``closes `` in the segment (original text)."""
    match = re.match(r"^\s*[\w-]+\s*(?:[=:：]\s*|\s+)(.+)$", segment)
    return match.group(1) if match else ""


def _decision_ref(word: str) -> int | None:
    found = parse_ref(word, default_kind="decision")
    return found.id if found is not None and found.kind == "decision" else None


# --- counting ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Count:
    """A decision counted now (open) or as frozen at closing."""

    outcome: Outcome | None  # None when the count is impossible (units without area)
    missing_area: int
    ignored: tuple[str, ...]  # labels of ballots of removed units
    paper: int
    settled: bool | None  # certain() while open; None when it can still go either way
    #: labels of the electorate's units without an area (an area rule cannot count them)
    missing: tuple[str, ...] = ()
    #: the electorate now: how many units count, their area (None: some area unknown)
    households: int = 0
    area: Fraction | None = None
    #: the leads' changes to the electorate since it was fixed
    changes: tuple[Change, ...] = ()


def count_open(
    rule: Rule, electorate: Sequence[units.Unit], ballots: Sequence[StoredBallot]
) -> Count:
    """The count of an open decision from its electorate (the units that count) and the
    ballots as they stand. A ballot counts only for the unit id AND label it was cast for."""
    known = {u.id: u.label for u in electorate}

    def counts(b: StoredBallot) -> bool:
        return known.get(b.unit_id) == b.label

    domain_units = [Unit(f"#{u.id}", u.area) for u in electorate]
    cast = [Ballot(f"#{b.unit_id}", b.choice) for b in ballots if b.choice and counts(b)]
    ignored = tuple(sorted({b.label for b in ballots if not counts(b)}, key=units.natural_key))
    paper = sum(1 for b in ballots if b.paper and counts(b))
    missing = tuple(sorted((u.label for u in electorate if u.area is None), key=units.natural_key))
    area = None if missing else sum((u.area or Fraction(0) for u in electorate), Fraction(0))
    base = Count(None, len(missing), ignored, paper, None, missing, len(electorate), area)
    try:
        outcome = evaluate(rule, domain_units, cast)
    except DomainError as exc:
        return replace(base, missing_area=int(exc.params.get("units", len(missing))))
    return replace(base, outcome=outcome, missing_area=0, settled=certain(rule, outcome.totals))


def final_of(counted: Count) -> Final:
    """What closing keeps of a count: the totals only (never a unit's choice)."""
    totals: Totals | None = counted.outcome.totals if counted.outcome is not None else None
    return Final(totals, counted.ignored, counted.missing_area)


def counting(decision: Decision, voters: Sequence[Voter]) -> list[units.Unit]:
    """The units of the electorate that count now, as the count takes them."""
    return [units.Unit(v.unit_id, decision.chat_id, v.label, v.area) for v in voters if v.counts]


async def count(services: Services, decision: Decision) -> Count:
    rule = parse_rule(decision.rule)
    db = services.db
    ballots = await decisions.ballots(db, decision.id)
    changes = tuple(await decisions.changes(db, decision.id))
    if not decision.is_open and decision.final is not None:
        final = decision.final
        outcome = evaluate_totals(rule, final.totals) if final.totals is not None else None
        paper = sum(1 for b in ballots if b.paper and b.label not in final.ignored)
        totals = final.totals
        return Count(
            outcome,
            final.missing_area,
            final.ignored,
            paper,
            None,
            households=totals.units if totals else 0,
            area=totals.area if totals else None,
            changes=changes,
        )
    electorate = counting(decision, await decisions.electorate(db, decision.id))
    return replace(count_open(rule, electorate, ballots), changes=changes)


# --- rendering -----------------------------------------------------------------------------


def area_number(value: Fraction, lang: str) -> str:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(
        format_decimal(exact.quantize(Decimal("0.01")), "#,##0.##", locale=babel_locale(lang))
    )


def _pct(value: Fraction, lang: str) -> str:
    """Rounded down to a tenth: a share never reads as reaching a threshold it missed."""
    tenths = Decimal(int((value * 1000).__floor__())) / 10
    shown = format_decimal(
        tenths.quantize(Decimal("0.1"), ROUND_FLOOR), "#,##0.#", locale=babel_locale(lang)
    )
    return t(lang, "decision.pct", value=str(shown))


def _share(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def _units_fig(lang: str, part: Fraction | int, whole: Fraction | int) -> str:
    part, whole = Fraction(part), Fraction(whole)
    pct = _pct(part / whole if whole else Fraction(0), lang)
    return tn(lang, "decision.units_of", int(whole), part=int(part), pct=pct)


def _area_fig(lang: str, part: Fraction, whole: Fraction) -> str:
    pct = _pct(part / whole if whole else Fraction(0), lang)
    return t(
        lang,
        "decision.area_of",
        part=area_number(part, lang),
        whole=area_number(whole, lang),
        pct=pct,
    )


def _check_line(lang: str, check: Check, mark: str) -> str:
    req = check.requirement
    kind = "quorum" if req.stage is Stage.QUORUM else "for"
    basis = "units" if req.basis is Basis.UNITS else "area"
    suffix = "_all" if req.stage is Stage.APPROVAL and req.of_all else ""
    figure = (
        _units_fig(lang, check.part, check.whole)
        if req.basis is Basis.UNITS
        else _area_fig(lang, check.part, check.whole)
    )
    need = t(
        lang,
        "decision.need_more" if req.strict else "decision.need_least",
        value=_share(req.required),
    )
    return t(
        lang,
        f"decision.check_{kind}_{basis}{suffix}",
        mark=mark,
        figure=Html(escape(figure)),
        need=Html(escape(need)),
    )


def participation_figures(lang: str, o: Outcome) -> str:
    parts = [_units_fig(lang, o.participating_units, o.units)]
    if o.area is not None and o.participating_area is not None:
        parts.append(_area_fig(lang, o.participating_area, o.area))
    return ", ".join(parts)


def _for_share(lang: str, o: Outcome) -> str:
    parts = [_units_fig(lang, o.for_units, o.participating_units)]
    if o.for_area is not None and o.participating_area is not None:
        parts.append(_area_fig(lang, o.for_area, o.participating_area))
    return ", ".join(parts)


def summary(lang: str, o: Outcome) -> str:
    """Participation 34/40 units (85 %), 2 950/3 400 m² (86.7 %); For 28/34 units (82.3 %),
    2 410/2 950 m² (81.6 %) → PASSED under cn-278-special"""
    verdict = t(lang, "decision.passed" if o.approved else "decision.rejected")
    return t(
        lang,
        "decision.summary",
        participation=participation_figures(lang, o),
        for_=_for_share(lang, o),
        verdict=Html(verdict),
        rule=rule_name(lang, o.rule.text),
    )


def _day(moment: datetime, lang: str, tz: str) -> str:
    """2 Dec · 12月2日 · 2 дек."""
    local = moment.astimezone(ZoneInfo(tz))
    return str(format_skeleton("MMMd", local, locale=babel_locale(lang)))


def electorate_line(lang: str, tz: str, decision: Decision, counted: Count) -> str:
    """🏠 12 households, 1 034 m² · fixed on 2 Dec (· only entrance 2)"""
    day = _day(decision.created_at, lang, tz)
    n = counted.households
    if counted.area is None:
        line = tn(lang, "decision.electorate_units", n, date=day)
    else:
        line = tn(lang, "decision.electorate", n, area=area_number(counted.area, lang), date=day)
    if decision.part is not None:  # a decision of one part of the building
        line += " · " + t(lang, "decision.only_part", part=decision.part)
    return line


def change_line(lang: str, tz: str, change: Change) -> str:
    """➕ 1-04 (80 m²) added by a lead on 3 Dec · ➖ 1-03 removed …: its ballot no longer counts ·
    📐 area of 2-01 changed from 60 to 65 m² by a lead on 3 Dec"""
    day = _day(change.at, lang, tz)
    label = change.label
    if change.kind == decisions.ADDED:
        if change.area is None:
            return t(lang, "decision.change_added", label=label, date=day)
        area = format_area(change.area)
        return t(lang, "decision.change_added_area", label=label, area=area, date=day)
    if change.kind == decisions.REMOVED:
        key = "decision.change_removed_ballot" if change.counted else "decision.change_removed"
        return t(lang, key, label=label, date=day)
    new = format_area(change.area) if change.area is not None else "?"
    if change.old_area is None:
        return t(lang, "decision.change_area_set", label=label, new=new, date=day)
    old = format_area(change.old_area)
    return t(lang, "decision.change_area", label=label, old=old, new=new, date=day)


def _labels(labels: tuple[str, ...]) -> str:
    shown = ", ".join(labels[:MAX_LABELS])
    return shown + (f", +{len(labels) - MAX_LABELS}" if len(labels) > MAX_LABELS else "")


def time_left(lang: str, delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 1)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        parts = [tn(lang, "decision.left_days", days)]
        if hours:
            parts.append(tn(lang, "decision.left_hours", hours))
    elif hours:
        parts = [tn(lang, "decision.left_hours", hours)]
        if mins:
            parts.append(tn(lang, "decision.left_minutes", mins))
    else:
        parts = [tn(lang, "decision.left_minutes", mins)]
    return " ".join(parts)


def render_text(lang: str, tz: str, decision: Decision, counted: Count, now: datetime) -> str:
    rule = parse_rule(decision.rule)
    lines = [t(lang, "decision.card_title", title=decision.title)]
    key = "decision.card_rule_secret" if decision.secret else "decision.card_rule_open"
    lines.append(t(lang, key, rule=rule_label(lang, rule.text)))
    if counted.households or decision.is_open:  # a lead may have removed every unit
        lines.append(electorate_line(lang, tz, decision, counted))
    for change in counted.changes[:MAX_CHANGES]:
        lines.append(change_line(lang, tz, change))
    if len(counted.changes) > MAX_CHANGES:
        more = len(counted.changes) - MAX_CHANGES
        lines.append(tn(lang, "decision.changes_more", more, ref=Ref("decision", decision.id).text))
    lines.append("")
    o = counted.outcome
    closed = not decision.is_open
    show_split = closed or not decision.secret
    if o is None:
        if counted.missing:
            lines.append(
                t(
                    lang,
                    "decision.card_missing_area",
                    labels=_labels(counted.missing),
                    first=counted.missing[0],
                )
            )
        else:
            lines.append(t(lang, "decision.missing_area", units=counted.missing_area))
    else:
        if closed:
            lines.append(summary(lang, o))
            lines.append("")
        else:
            lines.append(t(lang, "decision.participation", figures=participation_figures(lang, o)))
        for check in o.checks:
            if not show_split and check.requirement.stage is not Stage.QUORUM:
                continue
            mark = ("✅" if check.met else "❌") if closed else ("✅" if check.met else "⏳")
            lines.append(_check_line(lang, check, mark))
        if show_split:
            lines.append(
                t(
                    lang,
                    "decision.tally",
                    for_=o.for_units,
                    against=o.against_units,
                    abstain=o.abstain_units,
                    absent=o.not_voted,
                )
            )
        else:
            lines.append(t(lang, "decision.secret_hidden", absent=o.not_voted))
        if closed and o.reasons:
            reasons = " ".join(t(lang, r) for r in o.reasons)
            lines.append(t(lang, "decision.reasons", reasons=Html(escape(reasons))))
    if counted.paper:
        lines.append(tn(lang, "decision.paper_count", counted.paper))
    named = {c.label for c in counted.changes if c.kind == decisions.REMOVED and c.counted}
    unnamed = tuple(label for label in counted.ignored if label not in named)
    if unnamed:  # removed before the electorate was data, or without a named change
        lines.append(tn(lang, "decision.ignored", len(unnamed), labels=_labels(unnamed)))
    if closed:
        moment = format_datetime_zone(decision.closed_at or now, lang, tz)
        if decision.closed_by:
            lines.append(t(lang, "decision.closed_by", name=decision.closed_by, when=moment))
        else:
            lines.append(t(lang, "decision.closed_deadline", when=moment))
        lines.append(t(lang, "decision.advisory"))
    else:
        if show_split and counted.settled is not None:
            key = "decision.certain_pass" if counted.settled else "decision.certain_fail"
            lines.append(t(lang, key))
        when = format_datetime_zone(decision.closes_at, lang, tz)
        if now >= decision.closes_at:
            lines.append(t(lang, "decision.deadline_passed", when=when))
        else:
            lines.append(
                t(
                    lang,
                    "decision.closes",
                    when=when,
                    left=time_left(lang, decision.closes_at - now),
                )
            )
    lines.append(Ref("decision", decision.id).tag)
    text = "\n".join(lines)
    return (
        text
        if len(text) <= MAX_TEXT
        else text[: MAX_TEXT - 20] + "…\n" + Ref("decision", decision.id).tag
    )


def keyboard(lang: str, decision: Decision) -> InlineKeyboardMarkup | None:
    if not decision.is_open:
        return None
    votes = [
        InlineKeyboardButton(
            t(lang, f"decision.btn_{c}"), callback_data=f"dc:v:{decision.id}:{_CODE_OF[c]}"
        )
        for c in CHOICES
    ]
    lead = [
        InlineKeyboardButton(t(lang, "decision.btn_remind"), callback_data=f"dc:r:{decision.id}"),
        InlineKeyboardButton(t(lang, "decision.btn_close"), callback_data=f"dc:c:{decision.id}"),
    ]
    return InlineKeyboardMarkup([votes, lead])


async def render(
    services: Services, decision_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """The card as it should read now (``None`` if the decision or its chat is gone)."""
    decision = await decisions.get(services.db, decision_id)
    if decision is None:
        return None
    chat = await chats.get(services.db, decision.chat_id)
    if chat is None:
        return None
    counted = await count(services, decision)
    text = render_text(chat.language, chat.timezone, decision, counted, services.clock())
    return text, keyboard(chat.language, decision)


async def _moved(services: Services, decision_id: int, message_id: int) -> None:
    await decisions.set_message(services.db, decision_id, message_id)


def refresh_card(services: Services, decision: Decision) -> None:
    if decision.message_id is None:
        return
    services.outbox.refresh(
        decision.chat_id,
        decision.message_id,
        partial(render, services, decision.id),
        on_moved=partial(_moved, services, decision.id),
        thread_id=decision.thread_id,
    )


async def _redraw(services: Services, decision_id: int) -> None:
    decision = await decisions.get(services.db, decision_id)
    if decision is not None:
        refresh_card(services, decision)


cards.register("decision", render=render, redraw=_redraw)  # brought up to date after a restart


# --- /decide ---------------------------------------------------------------------------------


@command(action=Action.CREATE_DECISION, where=GROUP_ONLY)
async def decide(turn: Turn) -> None:
    assert turn.user is not None
    request = parse_request(
        turn.rest,
        lang=turn.lang,
        tz=turn.chat.timezone,
        now=turn.now,
        default_rule=turn.chat.settings.decision_rule,
    )
    db = turn.services.db
    # the electorate is copied from the register in the same transaction; an area rule is
    # refused there, naming the units without an area
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
        part=request.part,
        thread_id=turn.thread_id,
    )
    turn.services.scheduler.arm(row_id, request.closes)
    rendered = await render(turn.services, decision_id)
    assert rendered is not None
    message = await turn.say(rendered[0], markup=rendered[1])
    if message is not None:
        await decisions.set_message(db, decision_id, message.message_id)
    log.info("decision %s opened in chat %s", decision_id, turn.chat.id)


# --- buttons ---------------------------------------------------------------------------------


async def _own_decision(turn: Turn, raw: str) -> Decision:
    """The decision of callback data, only if it is ours and in this chat."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:  # "²".isdigit() is True
        raise DomainError("error.stale_button")
    decision = await decisions.get(turn.services.db, int(raw))
    if decision is None or decision.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    return decision


def _is_open(decision: Decision, now: datetime) -> bool:
    return decision.is_open and now < decision.closes_at


@button(counts=True)
async def vote_button(turn: Turn, parts: list[str]) -> None:
    """dc:v:<id>:f|a|x — a household's ballot."""
    if len(parts) != 3 or parts[0] != "v" or parts[2] not in _CODES:
        raise DomainError("error.stale_button")
    decision = await _own_decision(turn, parts[1])
    if not _is_open(decision, turn.now):
        raise DomainError("decision.is_closed", ref=Ref("decision", decision.id).text)
    assert turn.user is not None
    db = turn.services.db
    mine = [
        c
        for c in await units.claims_of(db, turn.chat.id, turn.user.id)
        if c.status == units.APPROVED
    ]
    if not mine:
        claims = await units.claims_of(db, turn.chat.id, turn.user.id)
        # a rejected claim waits for nothing: only a pending one is told to wait
        pending = any(c.status == units.PENDING for c in claims)
        if pending:
            raise DomainError("decision.no_unit_pending")
        away = [c.label for c in claims if c.status == units.SUSPENDED]
        if away:  # they hold a unit: never told to claim it again
            raise DomainError("decision.no_unit_suspended", labels=", ".join(away))
        raise DomainError("decision.no_unit")
    voters = {v.unit_id: v for v in await decisions.electorate(db, decision.id) if v.counts}
    theirs = [c for c in mine if c.unit_id in voters and voters[c.unit_id].label == c.label]
    if not theirs:
        raise DomainError(
            "decision.not_in_electorate",
            labels=", ".join(c.label for c in mine),
            ref=Ref("decision", decision.id).text,
            date=_day(decision.created_at, turn.personal_lang, turn.chat.timezone),
        )
    choice = _CODES[parts[2]]
    stored = await decisions.cast(
        db,
        decision.id,
        [(c.unit_id, c.label) for c in theirs],
        choice,
        by_id=turn.user.id,
        by_name=display_name(turn.user),
        now=turn.now,
    )
    if stored is None:
        raise DomainError("decision.is_closed", ref=Ref("decision", decision.id).text)
    if not stored:  # removed from the electorate a moment ago
        raise DomainError(
            "decision.not_in_electorate",
            labels=", ".join(c.label for c in theirs),
            ref=Ref("decision", decision.id).text,
            date=_day(decision.created_at, turn.personal_lang, turn.chat.timezone),
        )
    word = Html(t(turn.personal_lang, f"decision.choice_{choice}"))
    labels = ", ".join(stored)
    if len(stored) == 1:
        await turn.answer("decision.voted", label=labels, choice=word)
    else:
        await turn.answer("decision.voted_units", labels=labels, choice=word, count=len(stored))
    refresh_card(turn.services, decision)


def _state(services: Services) -> dict[str, dict[Any, float]]:
    state: dict[str, dict[Any, float]] = services.state.setdefault(
        _STATE, {"confirm": {}, "reminded": {}}
    )
    return state


@button(action=Action.MANAGE_DECISIONS)
async def remind_button(turn: Turn, parts: list[str]) -> None:
    """dc:r:<id> — mention the approved members of units that have not voted."""
    if len(parts) != 2 or parts[0] != "r":
        raise DomainError("error.stale_button")
    decision = await _own_decision(turn, parts[1])
    ref = Ref("decision", decision.id)
    if not _is_open(decision, turn.now):
        raise DomainError("decision.is_closed", ref=ref.text)
    reminded = _state(turn.services)["reminded"]
    last = reminded.get(decision.id)
    if last is not None and time.monotonic() - last < REMIND_COOLDOWN:
        raise DomainError("decision.remind_wait", minutes=int(REMIND_COOLDOWN // 60))
    people = await decisions.non_voters(turn.services.db, turn.chat.id, decision.id)
    if not people:
        raise DomainError("decision.remind_none")
    reminded[decision.id] = time.monotonic()
    await turn.answer("decision.reminded", count=len(people))
    when = format_datetime_zone(decision.closes_at, turn.lang, turn.chat.timezone)
    for batch in mention_batches(people):
        await turn.services.outbox.send(
            turn.chat.id,
            turn.t(
                "decision.remind",
                title=decision.title,
                when=when,
                mentions=Html(batch),
                ref=ref.tag,
            ),
        )


@button(action=Action.MANAGE_DECISIONS)
async def close_button(turn: Turn, parts: list[str]) -> None:
    """dc:c:<id> — a lead closes early; the first press asks, a second within a minute closes."""
    if len(parts) != 2 or parts[0] != "c":
        raise DomainError("error.stale_button")
    decision = await _own_decision(turn, parts[1])
    ref = Ref("decision", decision.id)
    if not decision.is_open:
        raise DomainError("decision.already_closed", ref=ref.text)
    assert turn.user is not None
    confirm = _state(turn.services)["confirm"]
    key = (decision.id, turn.user.id)
    asked = confirm.pop(key, None)
    if asked is None or time.monotonic() - asked > CONFIRM_SECONDS:
        if len(confirm) > 1000:
            confirm.clear()
        confirm[key] = time.monotonic()
        await turn.answer("decision.close_confirm", alert=True, ref=ref.text)
        return
    await turn.answer("decision.closing", ref=ref.text)
    try:
        await close_decision(turn.services, decision.id, closed_by=display_name(turn.user))
    except DomainError as exc:  # the press is answered already: the refusal goes to the group
        await turn.say(turn.t(exc.key, **exc.params))


# --- closing ---------------------------------------------------------------------------------


async def close_decision(
    services: Services, decision_id: int, *, closed_by: str | None, late: bool = False
) -> bool:
    """Freeze the count, close, update the card and post the outcome. False if already closed.

    A count that cannot be made (a unit of the electorate without an area under an area rule)
    refuses the close with ``decision.cannot_close_labels`` (what to fix): the decision stays
    open, every ballot intact."""
    decision = await decisions.get(services.db, decision_id)
    if decision is None or not decision.is_open:
        return False
    rule = parse_rule(decision.rule)
    now = services.clock()
    # counted inside the closing transaction: a ballot cast a moment before is in the totals
    try:
        closed, stopped = await decisions.close(
            services.db,
            decision.id,
            lambda electorate, ballots: final_of(count_open(rule, electorate, ballots)),
            closed_by=closed_by,
            now=now,
        )
    except DomainError as exc:
        if exc.key != "decision.cannot_close":
            raise
        voters = await decisions.electorate(services.db, decision.id)
        missing = [v.label for v in voters if v.counts and v.area is None]
        if not missing:
            raise
        raise DomainError(
            "decision.cannot_close_labels",
            ref=Ref("decision", decision.id).text,
            labels=_labels(tuple(missing)),
            first=missing[0],
        ) from None
    services.scheduler.disarm(stopped)
    if not closed:
        return False
    if decision.secret:
        await services.db.scrub()  # the per-unit choices just discarded leave no copy in the log
    closed_decision = await decisions.get(services.db, decision.id)
    if closed_decision is None:
        return True
    refresh_card(services, closed_decision)
    await announce(services, closed_decision, late=late)
    return True


def picture(lang: str, closed: Decision, o: Outcome) -> bytes:
    """The outcome as a picture (bot/charts.py): what the outcome text shows of a closed
    decision, secret or not (its totals), never a unit's choice."""
    thresholds = []
    for check in o.checks:
        req = check.requirement
        kind = "quorum" if req.stage is Stage.QUORUM else "for"
        basis = "units" if req.basis is Basis.UNITS else "area"
        suffix = "_all" if req.stage is Stage.APPROVAL and req.of_all else ""
        figure = (
            _units_fig(lang, check.part, check.whole)
            if req.basis is Basis.UNITS
            else _area_fig(lang, check.part, check.whole)
        )
        key = "decision.need_more" if req.strict else "decision.need_least"
        need = t(lang, key, value=_share(req.required))
        thresholds.append(
            charts.Threshold(
                t(lang, f"chart.{kind}_{basis}{suffix}"),
                figure,
                need,
                float(check.achieved),
                float(req.required),
                check.met,
            )
        )
    notes = [t(lang, "chart.participation", figures=participation_figures(lang, o))]
    tally = dict(for_=o.for_units, against=o.against_units, abstain=o.abstain_units)
    notes.append(t(lang, "decision.tally", **tally, absent=o.not_voted))
    if o.reasons:
        reasons = " ".join(t(lang, r) for r in o.reasons)
        notes.append(t(lang, "decision.reasons", reasons=Html(escape(reasons))))
    key = "decision.card_rule_secret" if closed.secret else "decision.card_rule_open"
    notes.append(t(lang, key, rule=rule_name(lang, o.rule.text)))
    verdict = t(lang, "decision.passed" if o.approved else "decision.rejected")
    return charts.decision_picture(closed.title, verdict, o.approved, thresholds, notes, lang)


async def announce(services: Services, closed: Decision, *, late: bool) -> bool:
    """Post the outcome of a closed decision, mark it announced once delivered (a start-up
    after a crash posts the outcomes never marked: :func:`announce_unannounced`), then run the
    ``ON_CLOSED`` hooks. True if the outcome was delivered."""
    chat = await chats.get(services.db, closed.chat_id)
    if chat is None:
        return False
    lang = chat.language
    again = await count(services, closed)
    text = render_text(lang, chat.timezone, closed, again, services.clock())
    head = t(lang, "decision.outcome_head")
    if late:
        head += "\n" + t(
            lang,
            "decision.closed_late",
            due=format_datetime_zone(closed.closes_at, lang, chat.timezone),
        )
    sent = await services.outbox.send(
        chat.id,
        f"{head}\n{text}",
        thread_id=closed.thread_id,
        moved_note=t(lang, "topic.moved_to_general") if closed.thread_id else None,
    )
    if sent is not None:
        await decisions.announced(services.db, closed.id, services.clock())
        if again.outcome is not None:  # the picture follows, best-effort (never raises)
            draw = partial(picture, lang, closed, again.outcome)
            what = f"decision {closed.id}"
            pictures.follow(services, sent.chat.id, sent.message_id, what, draw)
    log.info("decision %s closed in chat %s", closed.id, chat.id)
    for hook in ON_CLOSED:
        try:
            await hook(services, closed)
        except Exception:
            log.exception("a hook after closing decision %s failed", closed.id)
    return sent is not None


async def announce_unannounced(services: Services) -> int:
    """At start-up: the outcomes of decisions that closed but were never posted (the process
    died between the closing commit and the post). Returns how many were delivered."""
    posted = 0
    since = cards.started_at(services)
    for decision_id in await decisions.unannounced(services.db):
        closed = await decisions.get(services.db, decision_id)
        if closed is None or closed.closed_at is None:
            continue
        if since is not None and closed.closed_at >= since:
            continue  # closed by this process: its own close posts it
        late = closed.closed_by is None and closed.closed_at - closed.closes_at > LATE_NOTE
        log.info("decision %s closed without its outcome posted: posting it now", decision_id)
        posted += await announce(services, closed, late=late)
    return posted


cards.after_start("decision outcomes", announce_unannounced)


async def _scheduled_close(services: Services, decision_id: int, *, late: bool) -> None:
    """The deadline's close. When the count cannot be made, the leads are told once (in the
    group, with what to fix) and the close is tried again every CLOSE_RETRY until it counts;
    a lead's /close works as soon as the fix is made."""
    try:
        await close_decision(services, decision_id, closed_by=None, late=late)
    except DomainError as exc:
        now = services.clock()
        retry_at = now + CLOSE_RETRY
        first, row_id = await decisions.blocked(
            services.db, decision_id, retry_at=retry_at, now=now
        )
        if row_id is not None:
            services.scheduler.arm(row_id, retry_at)
        decision = await decisions.get(services.db, decision_id)
        chat = await chats.get(services.db, decision.chat_id) if decision else None
        if decision is None or chat is None:
            return
        refresh_card(services, decision)
        if first:
            lang = chat.language
            reason = t(lang, exc.key, **exc.params)
            text = t(
                lang,
                "decision.close_blocked",
                title=decision.title,
                reason=Html(reason),
                ref=Ref("decision", decision.id).tag,
            )
            await services.outbox.send(
                chat.id,
                text,
                thread_id=decision.thread_id,
                moved_note=t(lang, "topic.moved_to_general") if decision.thread_id else None,
            )
        log.warning("decision %s could not close: %s", decision_id, exc.key)


async def run_close(services: Services, row: Scheduled, late_by: timedelta) -> None:
    if row.ref_id is None:
        return
    await _scheduled_close(services, row.ref_id, late=late_by > LATE_NOTE)


async def missed_close(services: Services, row: Scheduled, late_by: timedelta) -> None:
    """The bot was down past the grace period: close anyway (no ballot could come in
    meanwhile), saying it is late."""
    if row.ref_id is None:
        return
    await _scheduled_close(services, row.ref_id, late=True)


async def _for_lead(turn: Turn, decision_id: int) -> Decision:
    decision = await decisions.get(turn.services.db, decision_id)
    ref = Ref("decision", decision_id)
    if decision is None or decision.chat_id != turn.chat.id:
        raise DomainError("decision.not_found", ref=ref.text)
    if not await turn.may(Action.MANAGE_DECISIONS):
        needed = required_role(Action.MANAGE_DECISIONS, turn.chat.settings)
        raise DomainError("error.not_allowed", who=Html(turn.t(role_key(needed))))
    return decision


@refs.closer("decision")
async def close_ref(turn: Turn, decision_id: int) -> None:
    """/close D3 — a lead closes early."""
    decision = await _for_lead(turn, decision_id)
    if not decision.is_open:
        raise DomainError("decision.already_closed", ref=Ref("decision", decision.id).text)
    assert turn.user is not None
    await close_decision(turn.services, decision.id, closed_by=display_name(turn.user))


# --- /ballot, /audit, /export -----------------------------------------------------------------


@command(action=Action.MANAGE_DECISIONS, where=GROUP_ONLY)
async def ballot(turn: Turn) -> None:
    """/ballot D3 3-502 for [note] — a paper or proxy ballot recorded by a lead.

    For a secret decision the lead's message is deleted first, whatever follows: a mistyped
    unit or a closed decision must not leave "3-502 for" readable in the group either."""
    assert turn.user is not None
    words = turn.rest.split()
    decision_id = _decision_ref(words[0]) if words else None
    if decision_id is None:
        raise DomainError("decision.ballot_usage")
    db = turn.services.db
    decision = await decisions.get(db, decision_id)
    ref = Ref("decision", decision_id)
    if decision is None or decision.chat_id != turn.chat.id:
        raise DomainError("decision.not_found", ref=ref.text)
    deleted = False
    if decision.secret and turn.message is not None:
        deleted = await turn.services.outbox.delete(turn.chat.id, turn.message.message_id)
    if len(words) < 3:
        raise DomainError("decision.ballot_usage")
    at = None
    for i in range(2, len(words)):
        try:
            choice = parse_choice(words[i])
        except DomainError:
            continue
        at = i
        break
    if at is None:
        parse_choice(words[-1])  # raises the translated "not a choice"
        raise DomainError("decision.ballot_usage")  # pragma: no cover
    label = normalize_label(" ".join(words[1:at]))
    note = " ".join(words[at + 1 :])[:MAX_NOTE] or None
    if not _is_open(decision, turn.now):
        raise DomainError("decision.is_closed", ref=ref.text)
    registered = await units.get(db, turn.chat.id, label)  # look-alikes are that unit
    if registered is None:
        raise DomainError("unit.not_found", label=label)
    label = registered.label
    unit = next(
        (
            v
            for v in await decisions.electorate(db, decision.id)
            if v.unit_id == registered.id and v.label == label and v.counts
        ),
        None,
    )
    if unit is None:
        raise DomainError(
            "decision.unit_not_in_electorate",
            label=label,
            ref=ref.text,
            date=_day(decision.created_at, turn.lang, turn.chat.timezone),
        )
    stored = await decisions.cast(
        db,
        decision.id,
        [(unit.unit_id, unit.label)],
        choice,
        by_id=turn.user.id,
        by_name=display_name(turn.user),
        paper=True,
        note=note,
        now=turn.now,
    )
    if stored is None:
        raise DomainError("decision.is_closed", ref=ref.text)
    if not stored:  # removed from the electorate a moment ago
        raise DomainError(
            "decision.unit_not_in_electorate",
            label=label,
            ref=ref.text,
            date=_day(decision.created_at, turn.lang, turn.chat.timezone),
        )
    if decision.secret:
        text = turn.t("decision.paper_recorded_secret", label=unit.label, ref=ref.text)
        if not deleted:
            text += "\n" + turn.t("decision.paper_not_deleted")
        await turn.say(text)
    else:
        await turn.reply(
            "decision.paper_recorded",
            label=unit.label,
            ref=ref.text,
            choice=Html(turn.t(f"decision.choice_{choice}")),
        )
    refresh_card(turn.services, decision)


def _target(turn: Turn) -> int:
    words = turn.rest.split()
    if words:
        found = _decision_ref(words[0])
        if found is not None:
            return found
    elif turn.message is not None and turn.message.reply_to_message is not None:
        replied = turn.message.reply_to_message
        ref = find_ref(replied.text or replied.caption or "")
        if ref is not None and ref.kind == "decision":
            return ref.id
    raise DomainError("decision.audit_usage")


def _by(lang: str, paper: bool, name: str) -> str:
    return t(lang, "decision.by_paper", name=name) if paper else name


@command(action=Action.MANAGE_DECISIONS, where=GROUP_ONLY)
async def audit(turn: Turn) -> None:
    """/audit D3 — every ballot recorded: by whom, for which unit, when (and the choice, unless
    the decision is secret)."""
    decision = await _for_lead(turn, _target(turn))
    entries = await decisions.audit(turn.services.db, decision.id)
    changes = await decisions.changes(turn.services.db, decision.id)
    ref = Ref("decision", decision.id)
    lang, tz = turn.lang, turn.chat.timezone
    head = turn.t("decision.audit_title", ref=ref.text, title=decision.title)
    if not entries and not changes:
        await turn.say(head + "\n" + turn.t("decision.audit_empty"))
        return
    lines: list[str] = []
    used = len(head) + 60
    if changes:  # the leads' changes to the electorate first: they are few, and they matter
        lines.append(turn.t("decision.audit_changes"))
        for number, change in enumerate(changes):
            line = t(
                lang,
                "decision.audit_change",
                when=format_datetime(change.at, lang, tz),
                line=Html(change_line(lang, tz, change)),
                by=change.by_name or "—",
            )
            if used + len(line) + 1 > MAX_TEXT // 2:
                lines.append(tn(lang, "post.more", len(changes) - number))
                break
            lines.append(line)
            used += len(line) + 1
        lines.append("")
    for number, entry in enumerate(entries):
        when = format_datetime(entry.at, lang, tz)
        by = _by(lang, entry.paper, entry.by_name)
        if decision.secret or entry.choice is None:
            line = t(lang, "decision.audit_item_secret", when=when, label=entry.label, by=by)
        else:
            line = t(
                lang,
                "decision.audit_item",
                when=when,
                label=entry.label,
                by=by,
                choice=Html(t(lang, f"decision.choice_{entry.choice}")),
            )
        if entry.note:
            line += " — " + escape(entry.note)
        if used + len(line) + 1 > MAX_TEXT - 40:
            lines.append(tn(lang, "post.more", len(entries) - number))
            break
        lines.append(line)
        used += len(line) + 1
    zone = turn.t("decision.audit_zone", tz=tz)
    await turn.say("\n".join([head, zone, *lines]))


def _local(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


@refs.exporter("decision")
async def export_ref(turn: Turn, decision_id: int) -> refs.Export:
    """/export D3 — a lead gets the CSV privately: unit, area, choice (unless secret),
    recorded by, time in the group's zone. The units are the decision's electorate (with the
    areas it counts), never the register as it is now; a ballot is listed only with the unit
    it was cast for, and a removed unit's ballot is marked as no longer counting."""
    decision = await _for_lead(turn, decision_id)
    lang, tz = turn.personal_lang, turn.chat.timezone
    db = turn.services.db
    voters = await decisions.electorate(db, decision.id)
    if not voters:  # closed before the electorate was kept: the register then counted
        voters = [
            Voter(e.unit.id, e.unit.label, e.unit.area, True)
            for e in await units.register(db, turn.chat.id)
        ]
    ballots: dict[int, StoredBallot] = {
        b.unit_id: b for b in await decisions.ballots(db, decision.id)
    }
    header = [t(lang, "decision.csv_unit"), t(lang, "decision.csv_area")]
    if not decision.secret:
        header.append(t(lang, "decision.csv_choice"))
    header += [t(lang, "decision.csv_by"), t(lang, "decision.csv_time", tz=tz)]

    def row(label: str, area: str, b: StoredBallot | None) -> list[str]:
        cells = [label, area]
        if not decision.secret:
            cells.append(t(lang, f"decision.choice_{b.choice}") if b and b.choice else "")
        cells.append(_by(lang, b.paper, b.by_name) if b else "")
        cells.append(_local(b.cast_at, tz) if b else "")
        return cells

    rows = []
    removed = t(lang, "decision.csv_removed")
    for voter in voters:
        cast = ballots.get(voter.unit_id)
        mine = cast if cast is not None and cast.label == voter.label else None
        if mine is not None:
            del ballots[voter.unit_id]
        if not voter.counts:
            if mine is not None:
                rows.append(row(voter.label, removed, mine))
            continue
        area = format_area(voter.area) if voter.area is not None else ""
        rows.append(row(voter.label, area, mine))
    for gone in ballots.values():  # ballots of units that are not (any more) in the electorate
        rows.append(row(gone.label, removed, gone))
    return refs.Export(f"decision-D{decision.id}.csv", header, rows)


# --- wiring ----------------------------------------------------------------------------------


def register(app: Any) -> None:
    """Add this feature's handlers to the application."""
    app.add_handler(CommandHandler("decide", decide, filters=NEW))
    app.add_handler(CommandHandler("ballot", ballot, filters=NEW))
    app.add_handler(CommandHandler("audit", audit, filters=NEW))
    app.add_handler(CallbackQueryHandler(vote_button, pattern=r"^dc:v:"))
    app.add_handler(CallbackQueryHandler(remind_button, pattern=r"^dc:r:"))
    app.add_handler(CallbackQueryHandler(close_button, pattern=r"^dc:c:"))


def setup(services: Services) -> None:
    """Register this feature's scheduled kind (closing at the deadline, restart-safe)."""
    services.scheduler.register(
        KIND, run=partial(run_close, services), missed=partial(missed_close, services)
    )
