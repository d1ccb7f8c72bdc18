"""Quick polls: ``/poll Question | A | B [| multiple] [| anonymous] [| closes friday 20:00]``.

The card shows each option with its count, a bar and (open polls) who chose it, the number of
voters, the closing time in the group's zone and the reference ``#P<id>``. Buttons:

* an option — vote; press again to withdraw, press another to move the vote (single choice) or
  to add it (multiple choice);
* before the first vote, for the creator and leads: multiple choice on/off, anonymous on/off;
* Close — the creator or a lead (also ``/close P12`` or ``/close`` in reply to the card).

At its closing time the poll closes by itself (scheduled kind ``poll_close``, restart-safe).
Closing edits the card to its final state (no vote buttons) and posts the results.

Callback data (all well under 64 bytes): ``pl:v:<poll id>:<option>`` (vote),
``pl:m:<poll id>`` / ``pl:a:<poll id>`` (toggle multiple / anonymous), ``pl:c:<poll id>`` (close).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.domain import polls as rules
from bot.domain import when as when_
from bot.domain.chats import Chat
from bot.domain.errors import DomainError
from bot.domain.refs import ref
from bot.domain.roles import Action, Role
from bot.domain.text import utf16_len
from bot.i18n import Html, escape, format_datetime_zone, shorten, t, tn
from bot.outbox import Rendered
from bot.services import Services
from handlers import cards, digest, pictures, refs
from handlers.common import GROUP_ONLY, Turn, button, command
from storage import chats, polls
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE

#: Telegram's limit for a message text.
MAX_TEXT = 4096
#: Kept free under MAX_TEXT for what the estimate of the card's length may miss.
MARGIN = 64
#: Width of the bars, in cells.
BAR_WIDTH = 10
#: Characters of an option shown on its button.
BUTTON_CHARS = 40
#: A row id and an option number in button data: ASCII digits only ("²".isdigit() is True
#: and int("²") raises; "١" would parse) — forged data must be a stale button, not a crash.
_ID_RE = re.compile(r"[0-9]{1,12}")
_OPTION_RE = re.compile(r"[0-9]{1,2}")


# --- rendering ---------------------------------------------------------------------------------


def _footer(poll: polls.Poll, lang: str, tz: str) -> str:
    tag = ref("poll", poll.id).tag
    if not poll.is_open:
        moment = poll.closed_at or poll.closes_at
        if moment is None:  # pragma: no cover - a closed poll always has closed_at
            return tag
        return t(lang, "poll.footer_closed", when=format_datetime_zone(moment, lang, tz), ref=tag)
    if poll.closes_at is not None:
        return t(
            lang, "poll.footer_closes", when=format_datetime_zone(poll.closes_at, lang, tz), ref=tag
        )
    return t(lang, "poll.footer_open", ref=tag)


def render_card(
    poll: polls.Poll, results: polls.Results, lang: str, tz: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card's HTML and keyboard; long name lists are collapsed to fit one message."""
    mode = t(lang, "poll.mode_multiple" if poll.multiple else "poll.mode_single")
    if poll.anonymous:
        mode += " · " + t(lang, "poll.mode_anonymous")
    head = [t(lang, "poll.card_title", question=poll.question), f"<i>{mode}</i>"]
    if not poll.is_open:
        head.insert(1, t(lang, "poll.card_closed"))
    blocks: list[list[str]] = []
    for i, option in enumerate(poll.options):
        count = results.counts[i]
        blocks.append(
            [
                t(
                    lang,
                    "poll.option_line",
                    option=option,
                    count=count,
                    percent=rules.percent(count, results.voters),
                ),
                rules.bar(count, results.voters, BAR_WIDTH),
            ]
        )
    tail = [tn(lang, "poll.voters", results.voters)]
    hint = poll.is_open and results.voters == 0
    if hint:
        tail.append(t(lang, "poll.settings_hint"))
    tail.append(_footer(poll, lang, tz))

    def assemble(names: list[str]) -> str:
        parts = ["\n".join(head)]
        for block, shown in zip(blocks, names, strict=True):
            lines = [*block]
            if shown:
                lines.append(f"<i>{shown}</i>")
            parts.append("\n".join(lines))
        parts.append("\n".join(tail))
        return "\n\n".join(parts)

    bare = assemble([""] * len(blocks))
    if poll.anonymous:
        text = bare
    else:
        tags = len("<i></i>") + 1
        # Telegram counts UTF-16 code units (an emoji in a name counts twice); the HTML tags
        # and entities of ``bare`` are counted too, which only errs on the safe side
        budget = MAX_TEXT - MARGIN - utf16_len(bare) - tags * len(blocks)
        escaped = [[escape(n) for n in names] for names in results.names]
        text = assemble(rules.fit_names(escaped, budget, lambda n: tn(lang, "poll.names_more", n)))
    return text, _keyboard(poll, results, lang, settings=hint)


def _keyboard(
    poll: polls.Poll, results: polls.Results, lang: str, *, settings: bool
) -> InlineKeyboardMarkup | None:
    if not poll.is_open:
        return None
    rows = [
        [
            InlineKeyboardButton(
                f"{shorten(option, BUTTON_CHARS)} · {results.counts[i]}",
                callback_data=f"pl:v:{poll.id}:{i}",
            )
        ]
        for i, option in enumerate(poll.options)
    ]
    if settings:
        rows.append(
            [
                InlineKeyboardButton(
                    t(lang, "poll.btn_multiple", mark="✅" if poll.multiple else "⬜"),
                    callback_data=f"pl:m:{poll.id}",
                ),
                InlineKeyboardButton(
                    t(lang, "poll.btn_anonymous", mark="✅" if poll.anonymous else "⬜"),
                    callback_data=f"pl:a:{poll.id}",
                ),
            ]
        )
    rows.append([InlineKeyboardButton(t(lang, "poll.btn_close"), callback_data=f"pl:c:{poll.id}")])
    return InlineKeyboardMarkup(rows)


async def render(
    services: Services, poll_id: int, message_id: int | None = None
) -> Rendered | None:
    """The card as it is now in the database (called by the outbox when an edit is due).

    With ``message_id`` (the card this refresh was asked for): if the card has been posted
    again since (it was deleted), the new one is refreshed instead and this edit is skipped —
    editing the deleted one would post yet another copy."""
    poll = await polls.get(services.db, poll_id)
    if poll is None:
        return None
    if message_id is not None and poll.message_id not in (None, message_id):
        refresh(services, poll)
        return None
    chat = await chats.get(services.db, poll.chat_id)
    lang = chat.language if chat else None
    tz = chat.timezone if chat else "UTC"
    return render_card(poll, await polls.results(services.db, poll), lang or "en", tz)


def refresh(services: Services, poll: polls.Poll) -> None:
    """Ask the outbox to bring the card up to date (coalesced; re-posted if deleted)."""
    if poll.message_id is None:
        return

    async def moved(new_id: int) -> None:
        await polls.set_message(services.db, poll.id, new_id)

    services.outbox.refresh(
        poll.chat_id,
        poll.message_id,
        partial(render, services, poll.id, poll.message_id),
        on_moved=moved,
        thread_id=poll.thread_id,
    )


async def _redraw(services: Services, poll_id: int) -> None:
    poll = await polls.get(services.db, poll_id)
    if poll is not None:
        refresh(services, poll)


cards.register("poll", render=render, redraw=_redraw)  # brought up to date after a restart


def results_text(poll: polls.Poll, results: polls.Results, lang: str, note: str | None) -> str:
    lines = [t(lang, "poll.results_title", question=poll.question)]
    for i, option in enumerate(poll.options):
        count = results.counts[i]
        lines.append(
            t(
                lang,
                "poll.results_line",
                bar=rules.bar(count, results.voters, BAR_WIDTH),
                option=option,
                count=count,
                percent=rules.percent(count, results.voters),
            )
        )
    lines.append("")
    best = max(results.counts) if results.counts else 0
    if results.voters == 0 or best == 0:
        lines.append(t(lang, "poll.results_nobody"))
    else:
        top = [o for o, c in zip(poll.options, results.counts, strict=True) if c == best]
        names = Html(", ".join(f"<b>{escape(o)}</b>" for o in top))
        key = "poll.results_winner" if len(top) == 1 else "poll.results_tie"
        lines.append(t(lang, key, options=names))
    lines.append(tn(lang, "poll.voters", results.voters))
    if note:
        lines.append(note)
    lines.append(ref("poll", poll.id).tag)
    return "\n".join(lines)


async def finish(
    services: Services, poll_id: int, *, by: int | None, late_by: timedelta | None = None
) -> bool:
    """Close a poll (if still open): store the final counts, edit the card to its closed state,
    post the results. False if it was not open."""
    now = services.clock()
    closed = await polls.close(services.db, poll_id, now, by)
    if closed is None:
        return False
    poll, stale = closed
    services.scheduler.disarm(stale)
    if poll.anonymous:
        await services.db.scrub()  # the voter keys just deleted leave no copy in the log
    refresh(services, poll)
    await announce(services, poll, late=by is None and late_by is not None and late_by > LATE)
    return True


#: A close by the clock this much after the closing time says it is late.
LATE = timedelta(minutes=1)


async def announce(services: Services, poll: polls.Poll, *, late: bool) -> bool:
    """Post a closed poll's results; marked announced once delivered, so a start-up after a
    crash between the close and this post posts them (:func:`announce_unannounced`)."""
    chat = await chats.get(services.db, poll.chat_id)
    lang = chat.language if chat else "en"
    tz = chat.timezone if chat else "UTC"
    note = None
    if late and poll.closes_at is not None:
        note = t(lang, "poll.closed_late", due=format_datetime_zone(poll.closes_at, lang, tz))
    results = await polls.results(services.db, poll)
    text = results_text(poll, results, lang, note)
    sent = await services.outbox.send(
        poll.chat_id,
        text,
        reply_to=poll.message_id,
        thread_id=poll.thread_id,
        moved_note=t(lang, "topic.moved_to_general") if poll.thread_id else None,
    )
    if sent is not None:
        await polls.announced(services.db, poll.id, services.clock())
        # the picture follows the text, best-effort (handlers/pictures.py: never raises)
        draw = partial(pictures.poll_picture, poll, results, lang, note)
        pictures.follow(services, sent.chat.id, sent.message_id, f"poll {poll.id}", draw)
    return sent is not None


async def announce_unannounced(services: Services) -> int:
    """At start-up: results of polls that closed but were never posted. Returns how many."""
    posted = 0
    since = cards.started_at(services)
    for poll_id in await polls.unannounced(services.db):
        poll = await polls.get(services.db, poll_id)
        if poll is None or poll.closed_at is None:
            continue
        if since is not None and poll.closed_at >= since:
            continue  # closed by this process: its own close posts it
        late = (
            poll.closed_by is None
            and poll.closes_at is not None
            and poll.closed_at - poll.closes_at > LATE
        )
        posted += await announce(services, poll, late=late)
    return posted


cards.after_start("poll results", announce_unannounced)


# --- /poll ---------------------------------------------------------------------------------------


@command(action=Action.CREATE_POLL, where=GROUP_ONLY)
async def poll(turn: Turn) -> None:
    assert turn.user is not None
    question, options, flags = rules.parse_poll_command(turn.rest)
    closes_at: datetime | None = None
    if flags.closes is not None:
        moment = when_.parse(flags.closes, lang=turn.lang, tz=turn.chat.timezone, now=turn.now)
        if moment.rrule is not None:
            raise DomainError("poll.closing_recurring")
        closes_at = moment.first
    services = turn.services
    created, row_id = await polls.create(
        services.db,
        chat_id=turn.chat.id,
        creator_id=turn.user.id,
        question=question,
        options=options,
        multiple=flags.multiple,
        anonymous=flags.anonymous,
        closes_at=closes_at,
        now=turn.now,
        thread_id=turn.thread_id,
    )
    if row_id is not None and closes_at is not None:
        services.scheduler.arm(row_id, closes_at)
    text, markup = render_card(
        created, await polls.results(services.db, created), turn.lang, turn.chat.timezone
    )
    message = await turn.say(text, markup=markup)
    if message is None:  # the group cannot be reached: nothing to vote on
        services.scheduler.disarm(await polls.discard(services.db, created.id))
        return
    await polls.set_message(services.db, created.id, message.message_id)


# --- buttons -------------------------------------------------------------------------------------


async def _may_manage(turn: Turn, poll_: polls.Poll) -> bool:
    assert turn.user is not None
    return turn.user.id == poll_.creator_id or await turn.role() is Role.LEAD


async def _poll_here(turn: Turn, raw_id: str) -> polls.Poll:
    """The poll named by button data, if it exists in this chat; else a stale button."""
    if _ID_RE.fullmatch(raw_id) is None:
        raise DomainError("error.stale_button")
    found = await polls.get(turn.services.db, int(raw_id))
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    return found


@button(counts=True)
async def poll_button(turn: Turn, parts: list[str]) -> None:
    """pl:v:<id>:<option> · pl:m:<id> · pl:a:<id> · pl:c:<id>."""
    assert turn.user is not None
    services = turn.services
    if len(parts) == 3 and parts[0] == "v":
        if _ID_RE.fullmatch(parts[1]) is None or _OPTION_RE.fullmatch(parts[2]) is None:
            raise DomainError("error.stale_button")
        option = int(parts[2])
        # polls.vote checks, inside its transaction, that the poll is in this chat and open
        vote = await polls.vote(
            services.db, int(parts[1]), turn.chat.id, turn.user.id, option, turn.now
        )
        # escaped like any parameter; Turn.answer turns the message into plain text for the toast
        name = shorten(vote.poll.options[option], 60)
        if option in vote.after:
            await turn.answer("poll.voted", option=name)
        else:
            await turn.answer("poll.withdrawn", option=name)
        refresh(services, vote.poll)
        return
    if len(parts) != 2 or parts[0] not in ("m", "a", "c"):
        raise DomainError("error.stale_button")
    found = await _poll_here(turn, parts[1])
    if not found.is_open:
        raise DomainError("poll.is_closed")
    if not await _may_manage(turn, found):
        raise DomainError("poll.not_yours")
    if parts[0] == "c":
        await turn.answer("poll.closing")
        # False: closed meanwhile by someone else, whose results are posted
        await finish(services, found.id, by=turn.user.id)
        return
    # switched inside the transaction, from the stored state: two quick presses switch twice
    if parts[0] == "m":
        changed = await polls.configure(services.db, found.id, turn.chat.id, toggle="multiple")
        await turn.answer("poll.multiple_on" if changed.multiple else "poll.multiple_off")
    else:
        changed = await polls.configure(services.db, found.id, turn.chat.id, toggle="anonymous")
        await turn.answer("poll.anonymous_on" if changed.anonymous else "poll.anonymous_off")
    refresh(services, changed)


# --- /close P12 ----------------------------------------------------------------------------------


@refs.closer("poll")
async def close_poll(turn: Turn, poll_id: int) -> None:
    tag = ref("poll", poll_id).text
    found = await polls.get(turn.services.db, poll_id)
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("poll.not_found", ref=tag)
    if not found.is_open:
        raise DomainError("poll.already_closed", ref=tag)
    if not await _may_manage(turn, found):
        raise DomainError("poll.not_yours")
    assert turn.user is not None
    if not await finish(turn.services, poll_id, by=turn.user.id):
        raise DomainError("poll.already_closed", ref=tag)


# --- closing at the closing time ------------------------------------------------------------------


async def run_close(services: Services, row: Scheduled, late_by: timedelta) -> None:
    if row.ref_id is not None:
        await finish(services, row.ref_id, by=None, late_by=late_by)


async def missed_close(services: Services, row: Scheduled, late_by: timedelta) -> None:
    """The bot was down past the grace period: a poll must still close (with a note)."""
    await run_close(services, row, late_by)


# --- digest ---------------------------------------------------------------------------------------


async def closing_this_week(services: Services, chat: Chat, now: datetime) -> str | None:
    """Digest section: open polls that close within the coming week."""
    found = await polls.closing_between(services.db, chat.id, now, now + digest.WEEK)
    if not found:
        return None
    lang = chat.language
    lines = [t(lang, "poll.digest_title")]
    for p in found:
        assert p.closes_at is not None
        lines.append(
            t(
                lang,
                "poll.digest_item",
                when=format_datetime_zone(p.closes_at, lang, chat.timezone),
                question=shorten(p.question, 70),
                ref=ref("poll", p.id).tag,
            )
        )
    return "\n".join(lines)


# --- protocol ------------------------------------------------------------------------------------


def register(app: Any) -> None:
    """Add this feature's handlers to the application."""
    app.add_handler(CommandHandler("poll", poll, filters=NEW))
    app.add_handler(CallbackQueryHandler(poll_button, pattern=r"^pl:"))


def setup(services: Services) -> None:
    """Register this feature's scheduled kinds and digest sections."""
    services.scheduler.register(
        polls.CLOSE_KIND,
        run=partial(run_close, services),
        missed=partial(missed_close, services),
    )
    if closing_this_week not in digest.SECTIONS:
        digest.SECTIONS.append(closing_this_week)
