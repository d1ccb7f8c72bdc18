"""The weekly digest: leads turn it on in /settings with a day and a time; it posts a compact
summary of the coming week. Empty sections are left out; an empty week posts nothing.

Sections are small async functions; features add theirs to ``SECTIONS`` in bot/app.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain import when as when_
from bot.domain.chats import Chat
from bot.domain.text import utf16_len
from bot.i18n import escape, format_datetime, shorten, t
from bot.services import Services
from storage import chats, posts, scheduled
from storage.db import to_db
from storage.scheduled import Scheduled

KIND = "digest"
WEEK = timedelta(days=7)

Section = Callable[[Services, Chat, datetime], Awaitable[str | None]]


def _schedule_of(chat: Chat, now: datetime) -> when_.When | None:
    s = chat.settings
    if not s.digest_rrule or not s.digest_time:
        return None
    hour, minute = (int(x) for x in s.digest_time.split(":"))
    anchor = (now.astimezone(ZoneInfo(chat.timezone)) - timedelta(days=8)).replace(
        hour=hour, minute=minute, second=0, microsecond=0
    )
    return when_.When(first=anchor, rrule=s.digest_rrule)


async def reschedule(services: Services, chat: Chat, now: datetime) -> datetime | None:
    """Replace the chat's pending digest row by one at the next digest time (if it is on)."""
    plan = _schedule_of(chat, now)
    following = when_.next_after(plan, now) if plan else None
    async with services.db.write() as conn:
        stale = await scheduled.set_status_for(
            conn, KIND, None, "cancelled", only=("pending",), chat_id=chat.id
        )
        new_id = None
        if following is not None:
            new_id = await scheduled.insert(
                conn, chat_id=chat.id, kind=KIND, ref_id=None, run_at=following, now=now
            )
    services.scheduler.disarm(stale)
    if new_id is not None and following is not None:
        services.scheduler.arm(new_id, following)
    return following


async def upcoming_posts(services: Services, chat: Chat, now: datetime) -> str | None:
    """Announcements and group reminders due in the coming week."""
    lang = chat.language
    lines = []
    for kind in ("announcement", "reminder"):
        for post, next_at in await posts.listing(services.db, kind=kind, chat_id=chat.id):
            if post.target_chat_id != chat.id or post.status != "active" or next_at is None:
                continue
            if next_at - now <= WEEK:
                moment = format_datetime(next_at, lang, chat.timezone)
                lines.append((next_at, f"• {moment} — {shorten(post.text, 70)}"))
    if not lines:
        return None
    lines.sort(key=lambda pair: pair[0])
    body = "\n".join(escape(text) for _, text in lines)
    return f"{t(lang, 'digest.upcoming')}\n{body}"


SECTIONS: list[Section] = [upcoming_posts]

#: One digest message, in UTF-16 units of its HTML (below Telegram's 4 096 for the text shown).
MESSAGE_BUDGET = 3900


def pack(parts: list[str]) -> list[str]:
    """The title and sections as few messages as fit: a busy week of emoji titles made one
    message past Telegram's limit, refused at every try. Sections stay whole when they fit;
    a longer one is cut between its lines (each line is whole HTML)."""
    pieces: list[tuple[str, str]] = []  # (what goes before it in a message, the piece)
    for part in parts:
        if utf16_len(part) <= MESSAGE_BUDGET:
            pieces.append(("\n\n", part))
        else:
            first, *rest = part.split("\n")
            pieces += [("\n\n", first), *(("\n", line) for line in rest)]
    messages: list[str] = []
    current = ""
    for sep, piece in pieces:
        joined = f"{current}{sep}{piece}" if current else piece
        if current and utf16_len(joined) > MESSAGE_BUDGET:
            messages.append(current)
            current = piece
        else:
            current = joined
    if current:
        messages.append(current)
    return messages


async def run_digest(services: Services, row: Scheduled, late_by: timedelta) -> None:
    chat = await chats.get(services.db, row.chat_id)
    if chat is None or not chat.active or not chat.settings.digest_rrule:
        return
    now = services.clock()
    parts = [part for section in SECTIONS if (part := await section(services, chat, now))]
    if not parts:
        return  # an empty week posts nothing
    # a failed try is not reported: the scheduler tries again, and missed_digest reports once
    topic = chat.settings.digest_topic  # a lead's /settings topic digest here
    moved = t(chat.language, "topic.moved_to_general") if topic else None
    sent = None
    for n, text in enumerate(pack([t(chat.language, "digest.title"), *parts])):
        delivered = await services.outbox.send(
            chat.id, text, report=False, thread_id=topic, moved_note=moved
        )
        if n == 0:
            sent = delivered  # once the first is out, a retry would post it twice
    if sent is None:
        current = await chats.get(services.db, chat.id)
        if current is not None and current.active:
            raise RuntimeError(f"digest for chat {chat.id} not delivered yet")


async def missed_digest(services: Services, row: Scheduled, late_by: timedelta) -> None:
    """Past its grace period: a digest that was tried and kept failing is shown to the leads
    on /settings, once (one the bot was down for is simply skipped: next week's follows)."""
    if row.attempts <= 1:
        return
    chat = await chats.get(services.db, row.chat_id)
    lang = chat.language if chat else None
    cause = services.outbox.last_failure(row.chat_id)
    await chats.record_delivery_failure(
        services.db,
        row.chat_id,
        "sendMessage",
        f"{t(lang, 'failure.reason_post')} (digest {to_db(row.due_at)}): {cause}",
        services.clock(),
        once=True,
    )


async def next_digest(services: Services, row: Scheduled, after: datetime) -> datetime | None:
    chat = await chats.get(services.db, row.chat_id)
    if chat is None:  # an inactive chat keeps its chain: run_digest skips it until it is back
        return None
    plan = _schedule_of(chat, after)
    return when_.next_after(plan, after) if plan else None
