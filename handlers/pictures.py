"""Results as pictures (issue 17): the picture that follows a text result, as a photo replying
to it. Best-effort: the text result is what counts (and what marks a result announced); a
picture that cannot be drawn (no font for its script, a bug) or sent leaves a log line, never
an exception to the caller. Drawing runs in a worker thread, off the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot import charts
from bot.domain import polls as rules
from bot.domain import rollcall as roll
from bot.i18n import t, tn
from bot.services import Services
from storage import polls

log = logging.getLogger(__name__)

#: Keys handlers/decisions.py builds at run time (tests/test_i18n.py checks they exist).
DYNAMIC_KEYS: frozenset[str] = frozenset(
    f"chart.{stage}_{basis}{suffix}"
    for stage, suffix in (("quorum", ""), ("for", ""), ("for", "_all"))
    for basis in ("units", "area")
)


def follow(
    services: Services, chat_id: int, reply_to: int | None, what: str, draw: Callable[[], bytes]
) -> None:
    """Queue the picture of ``what`` (e.g. ``poll 12``): drawn in a thread, then sent as a photo
    replying to ``reply_to``. It runs as the outbox's background work: after what residents
    are waiting for, awaited by ``outbox.idle()`` at shutdown, and the caller (a closing job)
    is not held up by the drawing."""
    services.outbox.background(
        _follow(services, chat_id, reply_to, what, draw), f"picture of {what}"
    )


async def _follow(
    services: Services, chat_id: int, reply_to: int | None, what: str, draw: Callable[[], bytes]
) -> None:
    """Draw and send. Never raises (a failure is a log line)."""
    try:
        png = await asyncio.to_thread(draw)
    except charts.NoFont as exc:
        log.warning("no picture for %s in chat %s: %s", what, chat_id, exc)
        return
    except Exception:
        log.exception("drawing the picture for %s failed: the text result stands", what)
        return
    try:
        sent = await services.outbox.send_photo(
            chat_id, png, reply_to=reply_to, filename=f"{what.replace(' ', '-')}.png"
        )
    except Exception:
        log.exception("sending the picture for %s failed: the text result stands", what)
        return
    if sent is None:
        reason = services.outbox.last_failure(chat_id)
        log.warning("the picture for %s was not delivered to chat %s: %s", what, chat_id, reason)


def poll_picture(poll: polls.Poll, results: polls.Results, lang: str, note: str | None) -> bytes:
    """A closed poll's bars: what its results text says, never who voted for what."""
    best = max(results.counts, default=0)
    bars = [
        charts.Bar(
            option,
            t(lang, "chart.poll_figure", count=count, percent=rules.percent(count, results.voters)),
            count / results.voters if results.voters else 0.0,
            leading=best > 0 and count == best,
        )
        for option, count in zip(poll.options, results.counts, strict=True)
    ]
    top = [o for o, c in zip(poll.options, results.counts, strict=True) if best and c == best]
    if not top:
        notes = [t(lang, "poll.results_nobody")]
    else:
        key = "poll.results_winner" if len(top) == 1 else "poll.results_tie"
        notes = [t(lang, key, options=", ".join(top))]
    notes.append(tn(lang, "poll.voters", results.voters))
    if note:
        notes.append(note)
    return charts.poll_picture(poll.question, bars, notes, lang)


def rollcall_picture(lang: str, title: str, tally: roll.Tally) -> bytes:
    """A closed roll-call: households who need help, not heard from, checked in person, OK, with
    their unit labels: what the summary text lists, no more."""
    whole = tally.households
    groups = [
        charts.Group(
            t(lang, key),
            f"{len(units)}/{whole}",
            len(units) / whole if whole else 0.0,
            tone,
            ", ".join(units),
        )
        for key, units, tone in (
            ("chart.rollcall_help", tally.help, "bad"),
            ("chart.rollcall_silent", tally.silent, "warn"),
            ("chart.rollcall_seen", tally.seen, "info"),
            ("chart.rollcall_ok", tally.ok, "good"),
        )
    ]
    notes = []
    if tally.loose:
        help_ = t(lang, "chart.rollcall_help")
        names = ", ".join(
            f"{name} ({help_})" if answer is roll.Answer.HELP else name
            for name, answer in tally.loose
        )
        notes.append(t(lang, "rollcall.list_loose", n=len(tally.loose), names=names))
    return charts.tally_picture(title, groups, notes, lang)
