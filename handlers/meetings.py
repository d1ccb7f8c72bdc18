"""General meetings of owners (业主大会, общее собрание собственников): several numbered items,
each with its own rule, one ballot per household that answers every item.

/meeting <title> | <item> ; <rule> | <item> ; <rule> | … [| closes=<when>] [| part=<part>]  leads
/ballot M2 3-502 1:for 2:against 3:for                          leads: a household's paper ballot
/close M2 · /export M2  (handlers/refs.py)                       leads: close early, one CSV

Buttons on the card: one row per item, For / Against / Abstain (``mt:v:<id>:<item>:f|a|x``,
anyone with an approved unit of the meeting), then Remind (``mt:r:<id>``) and Close now
(``mt:c:<id>``, a second press within CONFIRM_SECONDS confirms) for leads. Callback data is our
own row id and item number, validated on every press.

Choices where the issue is silent (the README repeats them):

* The rules of bot/domain/meetings.py: items after the title, ``closes=`` and ``part=`` as
  /decide reads them, an item without ``; <rule>`` under the group's ``decision_rule``; ballots
  are open (named), ``secret`` is refused.
* A press answers one item for every approved unit of the presser in the meeting (as a
  decision's press does); the answer shows the household's whole ballot. A paper ballot is the
  household's whole ballot: it replaces what the household had (the reply says what it
  replaced), and the items it leaves out have no answer.
* The electorate is the register (or the part) as it stood at the opening; the card names it.
* Closing by the deadline or by a lead; the results are posted once (announced_at: a crash
  between the close and the post posts them at the next start), followed by one picture.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import charts
from bot.domain import meetings as rules
from bot.domain.decisions import ABSTAIN, AGAINST, CHOICES, FOR, Outcome, Totals, Unit, parse_rule
from bot.domain.decisions import evaluate_totals as outcome_of
from bot.domain.errors import DomainError
from bot.domain.refs import Ref, parse_ref
from bot.domain.roles import Action, required_role
from bot.domain.units import normalize_label
from bot.i18n import Html, babel_locale, escape, format_datetime_zone, rule_name, t, tn
from bot.services import Services
from handlers import cards, digest, pictures, refs, topics
from handlers.common import (
    GROUP_ONLY,
    Turn,
    button,
    command,
    display_name,
    mention_batches,
    role_key,
)
from handlers.decisions import area_number, participation_figures, summary, time_left
from handlers.units import format_area
from storage import chats, meetings, units
from storage.meetings import Answer, Meeting, Voter
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE
KIND = meetings.KIND
MAX_TEXT = 4096
CONFIRM_SECONDS = 60.0
REMIND_COOLDOWN = 600.0
LATE_NOTE = timedelta(minutes=5)

_CODES = {"f": FOR, "a": AGAINST, "x": ABSTAIN}
_CODE_OF = {choice: code for code, choice in _CODES.items()}
_STATE = "meetings"
#: ``/ballot M2 …`` (also a Cyrillic М, as a Russian keyboard types it) is a meeting's ballot;
#: every other /ballot is a decision's (handlers/decisions.py).
BALLOT_RE = r"^/ballot(?:@\w+)?\s+#?[MmМм]\s*-?\s*\d"

#: Keys built at run time (tests/test_i18n.py checks they exist).
DYNAMIC_KEYS: frozenset[str] = frozenset(
    {f"decision.choice_{c}" for c in CHOICES} | {f"decision.btn_{c}" for c in CHOICES}
)


def _ref(meeting_id: int) -> Ref:
    return Ref("meeting", meeting_id)


def _meeting_ref(word: str) -> int | None:
    raw = unicodedata.normalize("NFKC", word).strip().lstrip("#")
    if raw[:1] in ("М", "м"):  # Cyrillic Em
        raw = "M" + raw[1:]
    found = parse_ref(raw)
    return found.id if found is not None and found.kind == "meeting" else None


# --- counting ------------------------------------------------------------------------------


def ballots_of(found: Sequence[Answer], voters: Sequence[Voter]) -> dict[str, dict[int, str]]:
    """Each unit's answers per item (``#<unit id>`` keys: a ballot counts only for the unit id
    AND label it was cast for)."""
    known = {v.unit_id: v.label for v in voters}
    out: dict[str, dict[int, str]] = {}
    for a in found:
        if known.get(a.unit_id) == a.label:
            out.setdefault(f"#{a.unit_id}", {})[a.item] = a.choice
    return out


def count_now(
    meeting: Meeting, voters: Sequence[Voter], found: Sequence[Answer]
) -> tuple[rules.ItemResult, ...]:
    items = [rules.Item(i.number, i.title, parse_rule(i.rule)) for i in meeting.items]
    domain_units = [Unit(f"#{v.unit_id}", v.area) for v in voters]
    return rules.count(items, domain_units, ballots_of(found, voters))


def recount(
    meeting: Meeting, voters: Sequence[Voter], found: Sequence[Answer]
) -> dict[int, Totals]:
    return {r.item.number: r.outcome.totals for r in count_now(meeting, voters, found)}


async def outcomes(services: Services, meeting: Meeting) -> list[tuple[int, Outcome, bool | None]]:
    """Every item's outcome: as frozen at closing, or counted now (with "already certain")."""
    if not meeting.is_open and all(i.totals is not None for i in meeting.items):
        return [
            (i.number, outcome_of(parse_rule(i.rule), i.totals), None)
            for i in meeting.items
            if i.totals is not None
        ]
    voters = await meetings.electorate(services.db, meeting.id)
    found = await meetings.answers(services.db, meeting.id)
    return [(r.item.number, r.outcome, r.settled) for r in count_now(meeting, voters, found)]


# --- rendering -----------------------------------------------------------------------------


def _day(moment: datetime, lang: str, tz: str) -> str:
    local = moment.astimezone(ZoneInfo(tz))
    return str(format_skeleton("MMMd", local, locale=babel_locale(lang)))


def _electorate_line(lang: str, tz: str, meeting: Meeting, voters: Sequence[Voter]) -> str:
    day = _day(meeting.created_at, lang, tz)
    n = len(voters)
    if any(v.area is None for v in voters):
        line = tn(lang, "decision.electorate_units", n, date=day)
    else:
        area = sum((v.area or Fraction(0) for v in voters), Fraction(0))
        line = tn(lang, "decision.electorate", n, area=area_number(area, lang), date=day)
    if meeting.part is not None:
        line += " · " + t(lang, "decision.only_part", part=meeting.part)
    return line


def _tally(lang: str, o: Outcome) -> str:
    return t(
        lang,
        "decision.tally",
        for_=o.for_units,
        against=o.against_units,
        abstain=o.abstain_units,
        absent=o.not_voted,
    )


def render_text(
    lang: str,
    tz: str,
    meeting: Meeting,
    voters: Sequence[Voter],
    counted: Sequence[tuple[int, Outcome, bool | None]],
    households: int,
    now: datetime,
) -> str:
    ref = _ref(meeting.id)
    closed = not meeting.is_open
    lines = [t(lang, "meeting.card_title", title=meeting.title)]
    lines.append(tn(lang, "meeting.card_open_ballot", len(meeting.items)))
    if voters:
        lines.append(_electorate_line(lang, tz, meeting, voters))
    if not closed:
        lines.append(
            t(lang, "meeting.households_voted", part=households, whole=len(voters) or households)
        )
    by_number = {n: (o, settled) for n, o, settled in counted}
    for item in meeting.items:
        lines.append("")
        lines.append(
            t(
                lang,
                "meeting.item_line",
                number=item.number,
                title=item.title,
                rule=rule_name(lang, item.rule),
            )
        )
        found = by_number.get(item.number)
        if found is None:
            continue
        o, settled = found
        if closed:
            lines.append(summary(lang, o))
        else:
            lines.append(_tally(lang, o))
            if settled is not None:
                key = "meeting.item_certain_pass" if settled else "meeting.item_certain_fail"
                lines.append(t(lang, key))
    lines.append("")
    if closed:
        moment = format_datetime_zone(meeting.closed_at or now, lang, tz)
        if meeting.closed_by:
            lines.append(t(lang, "meeting.closed_early", when=moment))
        else:
            lines.append(t(lang, "decision.closed_deadline", when=moment))
        lines.append(t(lang, "decision.advisory"))
    else:
        when = format_datetime_zone(meeting.closes_at, lang, tz)
        if now >= meeting.closes_at:
            lines.append(t(lang, "meeting.deadline_passed", when=when))
        else:
            left = time_left(lang, meeting.closes_at - now)
            lines.append(t(lang, "decision.closes", when=when, left=left))
            lines.append(t(lang, "meeting.how_to_vote"))
    return fit(lines, ref.tag)


def fit(lines: Sequence[str], tag: str) -> str:
    """The card's lines and its reference in one message: whole lines only (each line is
    balanced HTML, so a cut never leaves a tag open), "…" where lines were left out."""
    budget = MAX_TEXT - len(tag) - 3
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget:
            kept.append("…")
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join([*kept, tag])


def chunks(lines: Sequence[str], tag: str) -> list[str]:
    """Lines split into messages of at most MAX_TEXT characters at line boundaries, each
    ending with the reference (a reply to any of them finds the meeting)."""
    budget = MAX_TEXT - len(tag) - 2
    out: list[list[str]] = [[]]
    used = 0
    for line in lines:
        line = line[:budget]
        if out[-1] and used + len(line) + 1 > budget:
            out.append([])
            used = 0
        out[-1].append(line)
        used += len(line) + 1
    return ["\n".join([*part, tag]) for part in out]


def keyboard(lang: str, meeting: Meeting) -> InlineKeyboardMarkup | None:
    if not meeting.is_open:
        return None
    rows = [
        [
            InlineKeyboardButton(
                f"{item.number} · {t(lang, f'decision.btn_{c}')}",
                callback_data=f"mt:v:{meeting.id}:{item.number}:{_CODE_OF[c]}",
            )
            for c in CHOICES
        ]
        for item in meeting.items
    ]
    rows.append(
        [
            InlineKeyboardButton(
                t(lang, "decision.btn_remind"), callback_data=f"mt:r:{meeting.id}"
            ),
            InlineKeyboardButton(t(lang, "decision.btn_close"), callback_data=f"mt:c:{meeting.id}"),
        ]
    )
    return InlineKeyboardMarkup(rows)


async def render(
    services: Services, meeting_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """The card as it should read now (None if the meeting or its chat is gone)."""
    meeting = await meetings.get(services.db, meeting_id)
    if meeting is None:
        return None
    chat = await chats.get(services.db, meeting.chat_id)
    if chat is None:
        return None
    voters = await meetings.electorate(services.db, meeting.id)
    found = await meetings.answers(services.db, meeting.id)
    households = rules.households_voting(ballots_of(found, voters))
    counted = await outcomes(services, meeting)
    text = render_text(
        chat.language, chat.timezone, meeting, voters, counted, households, services.clock()
    )
    return text, keyboard(chat.language, meeting)


async def _moved(services: Services, meeting_id: int, message_id: int) -> None:
    await meetings.set_message(services.db, meeting_id, message_id)


def refresh_card(services: Services, meeting: Meeting) -> None:
    if meeting.message_id is None:
        return
    services.outbox.refresh(
        meeting.chat_id,
        meeting.message_id,
        partial(render, services, meeting.id),
        on_moved=partial(_moved, services, meeting.id),
        thread_id=meeting.thread_id,
    )


async def _redraw(services: Services, meeting_id: int) -> None:
    meeting = await meetings.get(services.db, meeting_id)
    if meeting is not None:
        refresh_card(services, meeting)


cards.register("meeting", render=render, redraw=_redraw)


# --- /meeting --------------------------------------------------------------------------------


def _item_error(turn: Turn, exc: DomainError) -> DomainError:
    """A refusal about one item, prefixed with its number ("Item 2: …")."""
    params = dict(exc.params)
    number = params.pop("item", None)
    if number is None:
        return exc
    text = turn.t("meeting.in_item", number=number) + " " + turn.t(exc.key, **params)
    return DomainError("meeting.refusal", text=Html(text))


@command(action=Action.MANAGE_DECISIONS, where=GROUP_ONLY)
async def meeting(turn: Turn) -> None:
    assert turn.user is not None
    try:
        request = rules.parse_request(
            turn.rest,
            lang=turn.lang,
            tz=turn.chat.timezone,
            now=turn.now,
            default_rule=turn.chat.settings.decision_rule,
        )
        meeting_id, row_id = await meetings.create(
            turn.services.db,
            chat_id=turn.chat.id,
            title=request.title,
            items=[(i.title, i.rule.text) for i in request.items],
            creator_id=turn.user.id,
            creator_name=display_name(turn.user),
            closes_at=request.closes,
            now=turn.now,
            part=request.part,
            thread_id=turn.thread_id,
        )
    except DomainError as exc:
        raise _item_error(turn, exc) from None
    turn.services.scheduler.arm(row_id, request.closes)
    rendered = await render(turn.services, meeting_id)
    assert rendered is not None
    message = await turn.say(rendered[0], markup=rendered[1])
    if message is not None:
        await meetings.set_message(turn.services.db, meeting_id, message.message_id)
    log.info("meeting %s opened in chat %s", meeting_id, turn.chat.id)


# --- buttons ---------------------------------------------------------------------------------


async def _own_meeting(turn: Turn, raw: str) -> Meeting:
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise DomainError("error.stale_button")
    found = await meetings.get(turn.services.db, int(raw))
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    return found


def _is_open(meeting: Meeting, now: datetime) -> bool:
    return meeting.is_open and now < meeting.closes_at


def _ballot_line(lang: str, meeting: Meeting, chosen: Mapping[int, str]) -> str:
    """``1 for · 2 — · 3 against``"""
    return " · ".join(
        f"{i.number} "
        + (t(lang, f"decision.choice_{chosen[i.number]}") if i.number in chosen else "—")
        for i in meeting.items
    )


@button(counts=True)
async def vote_button(turn: Turn, parts: list[str]) -> None:
    """mt:v:<id>:<item>:f|a|x — a household answers one item."""
    if len(parts) != 4 or parts[0] != "v" or parts[3] not in _CODES:
        raise DomainError("error.stale_button")
    found = await _own_meeting(turn, parts[1])
    raw_item = parts[2]
    numbers = {i.number for i in found.items}
    if not (raw_item.isascii() and raw_item.isdigit()) or int(raw_item) not in numbers:
        raise DomainError("error.stale_button")
    number = int(raw_item)
    ref = _ref(found.id)
    if not _is_open(found, turn.now):
        raise DomainError("meeting.is_closed", ref=ref.text)
    assert turn.user is not None
    db = turn.services.db
    claims = await units.claims_of(db, turn.chat.id, turn.user.id)
    mine = [c for c in claims if c.status == units.APPROVED]
    if not mine:
        if any(c.status == units.PENDING for c in claims):
            raise DomainError("decision.no_unit_pending")
        away = [c.label for c in claims if c.status == units.SUSPENDED]
        if away:
            raise DomainError("decision.no_unit_suspended", labels=", ".join(away))
        raise DomainError("decision.no_unit")
    voters = {v.unit_id: v.label for v in await meetings.electorate(db, found.id)}
    theirs = [c for c in mine if voters.get(c.unit_id) == c.label]
    if not theirs:
        raise DomainError(
            "meeting.not_in_electorate",
            labels=", ".join(c.label for c in mine),
            ref=ref.text,
            date=_day(found.created_at, turn.personal_lang, turn.chat.timezone),
        )
    choice = _CODES[parts[3]]
    stored = await meetings.cast(
        db,
        found.id,
        [(c.unit_id, c.label) for c in theirs],
        {number: choice},
        by_id=turn.user.id,
        by_name=display_name(turn.user),
        now=turn.now,
    )
    if stored is None:
        raise DomainError("meeting.is_closed", ref=ref.text)
    answers = await meetings.answers(db, found.id)
    first = theirs[0]
    chosen = {a.item: a.choice for a in answers if a.unit_id == first.unit_id}
    lang = turn.personal_lang
    await turn.answer(
        "meeting.voted",
        labels=", ".join(stored.labels),
        number=number,
        choice=Html(t(lang, f"decision.choice_{choice}")),
        ballot=_ballot_line(lang, found, chosen),
    )
    refresh_card(turn.services, found)


def _state(services: Services) -> dict[str, dict[Any, float]]:
    state: dict[str, dict[Any, float]] = services.state.setdefault(
        _STATE, {"confirm": {}, "reminded": {}}
    )
    return state


@button(action=Action.MANAGE_DECISIONS)
async def remind_button(turn: Turn, parts: list[str]) -> None:
    """mt:r:<id> — mention the approved members of households that answered nothing yet."""
    if len(parts) != 2 or parts[0] != "r":
        raise DomainError("error.stale_button")
    found = await _own_meeting(turn, parts[1])
    ref = _ref(found.id)
    if not _is_open(found, turn.now):
        raise DomainError("meeting.is_closed", ref=ref.text)
    reminded = _state(turn.services)["reminded"]
    last = reminded.get(found.id)
    if last is not None and time.monotonic() - last < REMIND_COOLDOWN:
        raise DomainError("decision.remind_wait", minutes=int(REMIND_COOLDOWN // 60))
    people = await meetings.non_voters(turn.services.db, turn.chat.id, found.id)
    if not people:
        raise DomainError("meeting.remind_none")
    reminded[found.id] = time.monotonic()
    await turn.answer("decision.reminded", count=len(people))
    when = format_datetime_zone(found.closes_at, turn.lang, turn.chat.timezone)
    for batch in mention_batches(people):
        await turn.services.outbox.send(
            turn.chat.id,
            turn.t(
                "meeting.remind", title=found.title, when=when, mentions=Html(batch), ref=ref.tag
            ),
            thread_id=found.thread_id,
            moved_note=turn.moved_note() if found.thread_id else None,
        )


@button(action=Action.MANAGE_DECISIONS)
async def close_button(turn: Turn, parts: list[str]) -> None:
    """mt:c:<id> — a lead closes early; the first press asks, a second within a minute closes."""
    if len(parts) != 2 or parts[0] != "c":
        raise DomainError("error.stale_button")
    found = await _own_meeting(turn, parts[1])
    ref = _ref(found.id)
    if not found.is_open:
        raise DomainError("meeting.already_closed", ref=ref.text)
    assert turn.user is not None
    confirm = _state(turn.services)["confirm"]
    key = (found.id, turn.user.id)
    asked = confirm.pop(key, None)
    if asked is None or time.monotonic() - asked > CONFIRM_SECONDS:
        if len(confirm) > 1000:
            confirm.clear()
        confirm[key] = time.monotonic()
        await turn.answer("decision.close_confirm", alert=True, ref=ref.text)
        return
    await turn.answer("decision.closing", ref=ref.text)
    await close_meeting(
        turn.services, found.id, closed_by=display_name(turn.user), closed_by_id=turn.user.id
    )


# --- closing ---------------------------------------------------------------------------------


async def close_meeting(
    services: Services,
    meeting_id: int,
    *,
    closed_by: str | None,
    closed_by_id: int | None = None,
    late: bool = False,
) -> bool:
    """Freeze every item's count, close, update the card and post the results. False if it was
    closed already."""
    found = await meetings.get(services.db, meeting_id)
    if found is None or not found.is_open:
        return False
    closed, stopped = await meetings.close(
        services.db,
        found.id,
        partial(recount, found),
        closed_by=closed_by,
        closed_by_id=closed_by_id,
        now=services.clock(),
    )
    services.scheduler.disarm(stopped)
    if not closed:
        return False
    done = await meetings.get(services.db, found.id)
    if done is None:
        return True
    refresh_card(services, done)
    await announce(services, done, late=late)
    return True


def results_text(
    lang: str, tz: str, meeting: Meeting, counted: Sequence[tuple[int, Outcome, bool | None]]
) -> list[str]:
    """The results, in one message or (a long meeting) several."""
    ref = _ref(meeting.id)
    lines = [t(lang, "meeting.results_head", title=meeting.title)]
    passed = 0
    by_number = {n: o for n, o, _ in counted}
    for item in meeting.items:
        o = by_number.get(item.number)
        lines.append("")
        lines.append(
            t(
                lang,
                "meeting.item_line",
                number=item.number,
                title=item.title,
                rule=rule_name(lang, item.rule),
            )
        )
        if o is None:
            continue
        passed += o.approved
        lines.append(summary(lang, o))
        lines.append(_tally(lang, o))
        if o.reasons:
            reasons = " ".join(t(lang, r) for r in o.reasons)
            lines.append(t(lang, "decision.reasons", reasons=Html(escape(reasons))))
    lines.append("")
    lines.append(tn(lang, "meeting.passed_of", len(meeting.items), passed=passed))
    moment = format_datetime_zone(meeting.closed_at or meeting.closes_at, lang, tz)
    if meeting.closed_by:
        lines.append(t(lang, "decision.closed_by", name=meeting.closed_by, when=moment))
    else:
        lines.append(t(lang, "decision.closed_deadline", when=moment))
    lines.append(t(lang, "meeting.export_hint", ref=ref.text))
    lines.append(t(lang, "decision.advisory"))
    return chunks(lines, ref.tag)


def picture(
    lang: str, meeting: Meeting, counted: Sequence[tuple[int, Outcome, bool | None]]
) -> bytes:
    """One compact chart: per item its "for" share of the participating households, in green
    when it passed, red when not (what the results text shows, never a household's answer)."""
    by_number = {n: o for n, o, _ in counted}
    groups = []
    for item in meeting.items:
        o = by_number.get(item.number)
        if o is None:
            continue
        verdict = t(lang, "decision.passed" if o.approved else "decision.rejected")
        groups.append(
            charts.Group(
                f"{item.number}. {item.title}",
                f"{o.for_units}/{o.participating_units}",
                o.for_units / o.participating_units if o.participating_units else 0.0,
                "good" if o.approved else "bad",
                " · ".join(
                    charts.plain(part)
                    for part in (
                        verdict,
                        t(lang, "chart.participation", figures=participation_figures(lang, o)),
                        _tally(lang, o),
                    )
                ),
            )
        )
    notes = [t(lang, "meeting.chart_note")]
    return charts.tally_picture(meeting.title, groups, notes, lang)


async def announce(services: Services, closed: Meeting, *, late: bool) -> bool:
    """Post the results of a closed meeting; mark it announced once delivered."""
    chat = await chats.get(services.db, closed.chat_id)
    if chat is None:
        return False
    lang = chat.language
    counted = await outcomes(services, closed)
    texts = results_text(lang, chat.timezone, closed, counted)
    if late:
        due = format_datetime_zone(closed.closes_at, lang, chat.timezone)
        texts[0] = t(lang, "decision.closed_late", due=due) + "\n" + texts[0]
    topic = topics.topic(lang, closed.thread_id)
    sent = await services.outbox.send(chat.id, texts[0], **topic)
    for more in texts[1:] if sent is not None else []:
        await services.outbox.send(chat.id, more, **topic)
    if sent is not None:
        await meetings.announced(services.db, closed.id, services.clock())
        draw = partial(picture, lang, closed, counted)
        pictures.follow(services, sent.chat.id, sent.message_id, f"meeting {closed.id}", draw)
    log.info("meeting %s closed in chat %s", closed.id, chat.id)
    return sent is not None


async def announce_unannounced(services: Services) -> int:
    """At start-up: results of meetings that closed but were never posted."""
    posted = 0
    since = cards.started_at(services)
    for meeting_id in await meetings.unannounced(services.db):
        closed = await meetings.get(services.db, meeting_id)
        if closed is None or closed.closed_at is None:
            continue
        if since is not None and closed.closed_at >= since:
            continue  # closed by this process: its own close posts it
        late = closed.closed_by is None and closed.closed_at - closed.closes_at > LATE_NOTE
        log.info("meeting %s closed without its results posted: posting them now", meeting_id)
        posted += await announce(services, closed, late=late)
    return posted


cards.after_start("meeting results", announce_unannounced)


async def run_close(services: Services, row: Scheduled, late_by: timedelta) -> None:
    if row.ref_id is not None:
        await close_meeting(services, row.ref_id, closed_by=None, late=late_by > LATE_NOTE)


async def missed_close(services: Services, row: Scheduled, late_by: timedelta) -> None:
    """The bot was down past the grace period: close anyway (no ballot came in meanwhile)."""
    if row.ref_id is not None:
        await close_meeting(services, row.ref_id, closed_by=None, late=True)


async def _for_lead(turn: Turn, meeting_id: int) -> Meeting:
    found = await meetings.get(turn.services.db, meeting_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("meeting.not_found", ref=_ref(meeting_id).text)
    if not await turn.may(Action.MANAGE_DECISIONS):
        needed = required_role(Action.MANAGE_DECISIONS, turn.chat.settings)
        raise DomainError("error.not_allowed", who=Html(turn.t(role_key(needed))))
    return found


@refs.closer("meeting")
async def close_ref(turn: Turn, meeting_id: int) -> None:
    """/close M2 — a lead closes early."""
    found = await _for_lead(turn, meeting_id)
    if not found.is_open:
        raise DomainError("meeting.already_closed", ref=_ref(found.id).text)
    assert turn.user is not None
    await close_meeting(
        turn.services, found.id, closed_by=display_name(turn.user), closed_by_id=turn.user.id
    )


# --- /ballot M2 ----------------------------------------------------------------------------------


async def _voter_of(turn: Turn, found: Meeting, label: str) -> Voter:
    """The unit of the meeting's electorate a lead typed (look-alike spellings are that unit)."""
    voters = await meetings.electorate(turn.services.db, found.id)
    registered = await units.get(turn.services.db, turn.chat.id, label)
    if registered is not None:
        match = next(
            (v for v in voters if v.unit_id == registered.id and v.label == registered.label),
            None,
        )
        if match is not None:
            return match
        label = registered.label
    else:  # removed from the register since the meeting opened: still one of its households
        match = next((v for v in voters if v.label == label), None)
        if match is not None:
            return match
        raise DomainError("unit.not_found", label=label)
    raise DomainError(
        "meeting.unit_not_in_electorate",
        label=label,
        ref=_ref(found.id).text,
        date=_day(found.created_at, turn.lang, turn.chat.timezone),
    )


@command(action=Action.MANAGE_DECISIONS, where=GROUP_ONLY)
async def ballot(turn: Turn) -> None:
    """/ballot M2 3-502 1:for 2:against 3:for — a household's paper ballot, entered by a lead."""
    assert turn.user is not None
    words = turn.rest.split()
    meeting_id = _meeting_ref(words[0]) if words else None
    if meeting_id is None:
        raise DomainError("meeting.ballot_usage")
    found = await meetings.get(turn.services.db, meeting_id)
    ref = _ref(meeting_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("meeting.not_found", ref=ref.text)
    paper = rules.parse_paper(words[1:], len(found.items))
    if not _is_open(found, turn.now):
        raise DomainError("meeting.is_closed", ref=ref.text)
    voter = await _voter_of(turn, found, normalize_label(paper.label))
    stored = await meetings.cast(
        turn.services.db,
        found.id,
        [(voter.unit_id, voter.label)],
        paper.answers,
        by_id=turn.user.id,
        by_name=display_name(turn.user),
        paper=True,
        now=turn.now,
    )
    if stored is None:
        raise DomainError("meeting.is_closed", ref=ref.text)
    text = turn.t(
        "meeting.paper_recorded",
        label=voter.label,
        ref=ref.text,
        ballot=_ballot_line(turn.lang, found, paper.answers),
    )
    if stored.replaced:
        earlier = {a.item: a.choice for a in stored.replaced}
        names = sorted({_by(turn.lang, a) for a in stored.replaced})
        text += "\n" + turn.t(
            "meeting.paper_replaced",
            ballot=_ballot_line(turn.lang, found, earlier),
            by=", ".join(names),
        )
    await turn.say(text)
    refresh_card(turn.services, found)


def _by(lang: str, a: Answer) -> str:
    return t(lang, "decision.by_paper", name=a.by_name) if a.paper else a.by_name


# --- /export M2 ----------------------------------------------------------------------------------


def _local(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _figure(units_: int, area: Fraction | None) -> str:
    return str(units_) if area is None else f"{units_} ({format_area(area)} m²)"


@refs.exporter("meeting")
async def export_ref(turn: Turn, meeting_id: int) -> refs.Export:
    """/export M2 — one CSV for a lead, privately: a row per household of the meeting (unit,
    area, its answer to each item, who recorded it, when, in the group's zone), then each
    item's result under its column."""
    found = await _for_lead(turn, meeting_id)
    lang, tz = turn.personal_lang, turn.chat.timezone
    db = turn.services.db
    voters = await meetings.electorate(db, found.id)
    found_answers = await meetings.answers(db, found.id)
    per_unit: dict[int, list[Answer]] = {}
    for a in found_answers:
        per_unit.setdefault(a.unit_id, []).append(a)
    header = [t(lang, "decision.csv_unit"), t(lang, "decision.csv_area")]
    header += [f"{i.number}. {i.title}" for i in found.items]
    header += [t(lang, "decision.csv_by"), t(lang, "decision.csv_time", tz=tz)]
    rows: list[list[str]] = []
    for voter in voters:
        mine = [a for a in per_unit.get(voter.unit_id, []) if a.label == voter.label]
        chosen = {a.item: a.choice for a in mine}
        row = [voter.label, format_area(voter.area) if voter.area is not None else ""]
        row += [
            t(lang, f"decision.choice_{chosen[i.number]}") if i.number in chosen else ""
            for i in found.items
        ]
        row.append("; ".join(sorted({_by(lang, a) for a in mine})))
        row.append(_local(max(a.cast_at for a in mine), tz) if mine else "")
        rows.append(row)
    counted = {n: o for n, o, _ in await outcomes(turn.services, found)}
    blank = ["" for _ in header]
    rows.append(blank)

    def result_row(label: str, cell: Any) -> list[str]:
        cells = [label, ""]
        cells += [cell(counted[i.number]) if i.number in counted else "" for i in found.items]
        return [*cells, "", ""]

    rules_row = [t(lang, "meeting.csv_rule"), ""]
    rows.append([*rules_row, *[rule_name(lang, i.rule) for i in found.items], "", ""])
    rows.append(result_row(t(lang, "decision.btn_for"), lambda o: _figure(o.for_units, o.for_area)))
    rows.append(
        result_row(
            t(lang, "decision.btn_against"), lambda o: _figure(o.against_units, o.against_area)
        )
    )
    rows.append(
        result_row(
            t(lang, "decision.btn_abstain"), lambda o: _figure(o.abstain_units, o.abstain_area)
        )
    )
    rows.append(result_row(t(lang, "meeting.csv_not_voted"), lambda o: str(o.not_voted)))
    status = "meeting.csv_open" if found.is_open else "meeting.csv_result"
    rows.append(
        result_row(
            t(lang, status),
            lambda o: charts.plain(
                t(lang, "decision.passed" if o.approved else "decision.rejected")
            ),
        )
    )
    return refs.Export(f"meeting-M{found.id}.csv", header, rows)


# --- digest ----------------------------------------------------------------------------------


async def meetings_digest(services: Services, chat: Any, now: datetime) -> str | None:
    """Open owners' meetings: how many households answered, when each closes."""
    open_ = await meetings.open_in(services.db, chat.id)
    if not open_:
        return None
    lang = chat.language
    lines = [t(lang, "meeting.digest_title")]
    for found in open_:
        voters = await meetings.electorate(services.db, found.id)
        answers = await meetings.answers(services.db, found.id)
        lines.append(
            t(
                lang,
                "meeting.digest_line",
                ref=_ref(found.id).text,
                title=found.title,
                part=rules.households_voting(ballots_of(answers, voters)),
                whole=len(voters),
                when=format_datetime_zone(found.closes_at, lang, chat.timezone),
            )
        )
    return "\n".join(lines)


# --- wiring ----------------------------------------------------------------------------------


def register(app: Any) -> None:
    """Add this feature's handlers (before handlers/decisions.py: ``/ballot M2`` is ours)."""
    app.add_handler(CommandHandler("meeting", meeting, filters=NEW))
    app.add_handler(CommandHandler("ballot", ballot, filters=NEW & filters.Regex(BALLOT_RE)))
    app.add_handler(CallbackQueryHandler(vote_button, pattern=r"^mt:v:"))
    app.add_handler(CallbackQueryHandler(remind_button, pattern=r"^mt:r:"))
    app.add_handler(CallbackQueryHandler(close_button, pattern=r"^mt:c:"))


def setup(services: Services) -> None:
    """Closing at the deadline (restart-safe) and the digest section."""
    services.scheduler.register(
        KIND, run=partial(run_close, services), missed=partial(missed_close, services)
    )
    if meetings_digest not in digest.SECTIONS:
        digest.SECTIONS.append(meetings_digest)
