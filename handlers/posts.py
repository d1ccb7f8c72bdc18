"""Reminders and scheduled announcements.

/remind <when> <text>        private: reminds you there; group: reminds the group
/remindme <when> <text>      in a group: reminds you privately
/reminders                   your pending reminders (leads: the group's), with Cancel buttons
/announce <when> | <text> [| pin]   leads and organizers: post to the group at that time
/announcements               the group's announcements, with Cancel and Pause/Resume buttons

Callback data: pp:c:<post id> (cancel), pp:p:<id> (pause), pp:r:<id> (resume).
Delivery runs from the scheduled table (kind "post"); see bot/scheduler.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import when as when_
from bot.domain.errors import DomainError
from bot.domain.posts import check_frequency, clean_text, split_pin
from bot.domain.roles import Action, required_role
from bot.i18n import (
    Html,
    babel_locale,
    describe_rrule,
    escape,
    format_datetime,
    format_datetime_zone,
    shorten,
    t,
    tn,
)
from bot.services import Services
from handlers import deeplinks
from handlers.common import (
    GROUP_ONLY,
    Turn,
    button,
    command,
    display_name,
    is_id,
    mention,
    role_key,
    user_language,
)
from storage import chats, posts
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

LIST_LIMIT = 10


def _moment(lang: str, first: datetime, end: datetime | None, tz: str) -> str:
    """ "Sat 21 Nov, 15:00 (Asia/Shanghai)"; a range said ("4-5pm") shows its end too:
    "Sat 21 Nov, 16:00–17:00 (...)", or with the end's day when it is another one."""
    if end is None:
        return format_datetime_zone(first, lang, tz)
    zone = ZoneInfo(tz)
    if end.astimezone(zone).date() == first.astimezone(zone).date():
        clock = format_skeleton("Hm", end.astimezone(zone), locale=babel_locale(lang))
        return f"{format_datetime(first, lang, tz)}–{clock} ({tz})"
    return f"{format_datetime(first, lang, tz)} – {format_datetime(end, lang, tz)} ({tz})"


def when_phrase(
    lang: str, first: datetime, rrule: str | None, tz: str, end: datetime | None = None
) -> str:
    """ "Sat 21 Nov, 15:00 (Asia/Shanghai)" or "every Tuesday · next Tue 24 Nov, 20:00 (...)";
    ``end``: the end of a range said, shown after the start ("16:00–17:00")."""
    moment = _moment(lang, first, end, tz)
    if rrule is None:
        return moment
    return t(lang, "post.recurring", rule=describe_rrule(lang, rrule), next=moment)


async def _create(
    turn: Turn, *, kind: str, target: int, pin_allowed: bool = False
) -> tuple[str, str, bool]:
    """Parse ``<when> <text>`` (or ``<when> | <text> [| pin]``), store the post and its first
    scheduled row, arm it. Returns how the time reads, the text, and whether it will be pinned."""
    raw = turn.rest
    if not raw.strip():
        raise DomainError(f"{kind}.usage")
    segments = [s.strip() for s in raw.split("|")]
    pin = False
    if pin_allowed:
        segments, pin = split_pin(segments)
    tz = turn.chat.timezone
    moment, text = when_.split(" | ".join(segments), lang=turn.lang, tz=tz, now=turn.now)
    text = clean_text(text)
    assert turn.user is not None
    check_frequency(moment.rrule, private=turn.chat.is_private or target == turn.user.id)
    _, row_id = await posts.create(
        turn.services.db,
        kind=kind,
        chat_id=turn.chat.id,
        target_chat_id=target,
        creator_id=turn.user.id,
        creator_name=display_name(turn.user),
        text=text,
        first=moment.first,
        rrule=moment.rrule,
        pin=pin,
        now=turn.now,
        # posted in the topic it was asked in, when it is posted in this chat
        thread_id=turn.thread_id if target == turn.chat.id else None,
    )
    turn.services.scheduler.arm(row_id, moment.first)
    return when_phrase(turn.lang, moment.first, moment.rrule, tz, moment.end), text, pin


@command()
async def remind(turn: Turn) -> None:
    await _remind_here(turn)


async def _remind_here(turn: Turn) -> None:
    if not turn.chat.is_private and not await turn.may(Action.REMIND_GROUP):
        needed = required_role(Action.REMIND_GROUP, turn.chat.settings)
        raise DomainError("reminder.group_not_allowed", who=Html(turn.t(role_key(needed))))
    phrase, text, _ = await _create(turn, kind="reminder", target=turn.chat.id)
    key = "reminder.saved_private" if turn.chat.is_private else "reminder.saved_group"
    await turn.reply(key, when=phrase, text=text)


@command()
async def remindme(turn: Turn) -> None:
    if turn.chat.is_private:
        await _remind_here(turn)
        return
    assert turn.user is not None
    services = turn.services
    private, created = await chats.ensure(
        services.db,
        turn.user.id,
        type="private",
        title=None,
        defaults=services.defaults(user_language(turn.user) or turn.lang),
        now=turn.now,
    )
    if created:  # we cannot write there until they start the bot (any private update does)
        await chats.set_active(services.db, turn.user.id, False, turn.now)
    started = not created and private.active
    phrase, text, _ = await _create(turn, kind="reminder", target=turn.user.id)
    if started:
        await turn.reply("reminder.saved_me", when=phrase, text=text)
    else:
        url = await deeplinks.link(
            services, user_id=turn.user.id, chat_id=turn.chat.id, kind="reminders", now=turn.now
        )
        await turn.reply(
            "reminder.saved_me_start",
            when=phrase,
            text=text,
            link=Html(f'<a href="{escape(url)}">@{escape(services.bot_username)}</a>'),
            markup=deeplinks.button(turn.lang, url),
        )


@command(action=Action.ANNOUNCE, where=GROUP_ONLY)
async def announce(turn: Turn) -> None:
    phrase, text, pin = await _create(
        turn, kind="announcement", target=turn.chat.id, pin_allowed=True
    )
    await turn.reply(
        "announcement.saved_pin" if pin else "announcement.saved", when=phrase, text=text
    )


# --- listings -----------------------------------------------------------------------------


def is_personal(post: posts.Post) -> bool:
    """Delivered to one person's private chat: only its owner ever sees or changes it."""
    return post.target_chat_id > 0


async def _listing(turn: Turn, kind: str) -> tuple[str, InlineKeyboardMarkup | None]:
    db = turn.services.db
    assert turn.user is not None
    # a personal reminder (/remindme, /remind in private) is listed only to its owner, in
    # their private chat; in a group only what the group itself will see is listed
    personal_hint = kind == "reminder" and not turn.chat.is_private
    if kind == "reminder" and turn.chat.is_private:
        found = await posts.listing(
            db, kind=kind, target_chat_id=turn.chat.id, creator_id=turn.user.id
        )
    elif kind == "reminder" and not await turn.may(Action.MANAGE_POSTS):
        found = await posts.listing(
            db,
            kind=kind,
            chat_id=turn.chat.id,
            target_chat_id=turn.chat.id,
            creator_id=turn.user.id,
        )
    else:
        found = await posts.listing(
            db, kind=kind, chat_id=turn.chat.id, target_chat_id=turn.chat.id
        )
    lang = turn.lang
    hint = ["", t(lang, "reminder.personal_hint")] if personal_hint else []
    if not found:
        return "\n".join([t(lang, f"{kind}.none"), *hint]), None
    lines = [t(lang, f"{kind}.list_title")]
    rows = []
    for number, (post, next_at) in enumerate(found[:LIST_LIMIT], start=1):
        if post.status == "paused":
            moment = t(lang, "post.paused")
        elif next_at is not None:
            moment = when_phrase(lang, next_at, post.rrule, post.tz)
        else:
            moment = "—"
        lines.append(
            t(
                lang,
                "post.list_item",
                number=number,
                when=moment,
                text=shorten(post.text),
                who=post.creator_name,
            )
        )
        buttons = [
            InlineKeyboardButton(
                t(lang, "post.btn_cancel", number=number), callback_data=f"pp:c:{post.id}"
            )
        ]
        if kind == "announcement" and post.rrule:
            if post.status == "paused":
                buttons.append(
                    InlineKeyboardButton(
                        t(lang, "post.btn_resume", number=number), callback_data=f"pp:r:{post.id}"
                    )
                )
            else:
                buttons.append(
                    InlineKeyboardButton(
                        t(lang, "post.btn_pause", number=number), callback_data=f"pp:p:{post.id}"
                    )
                )
        rows.append(buttons)
    if len(found) > LIST_LIMIT:
        lines.append(tn(lang, "post.more", len(found) - LIST_LIMIT))
    return "\n".join([*lines, *hint]), InlineKeyboardMarkup(rows)


@command()
async def reminders(turn: Turn) -> None:
    text, markup = await _listing(turn, "reminder")
    await turn.say(text, markup=markup)


@deeplinks.word("reminders")
async def open_reminders_word(private: Turn) -> None:
    """``?start=reminders`` (links of older versions): the person's reminders."""
    text, markup = await _listing(private, "reminder")
    await private.say(text, markup=markup)


@deeplinks.opener("reminders")
async def open_reminders(private: Turn, group: Turn, args: str) -> None:
    """A link handed out by /remindme: the private chat is open now; the list shows it."""
    await open_reminders_word(private)


@command(action=Action.ANNOUNCE, where=GROUP_ONLY)
async def announcements(turn: Turn) -> None:
    text, markup = await _listing(turn, "announcement")
    await turn.say(text, markup=markup)


@button()
async def post_button(turn: Turn, parts: list[str]) -> None:
    if len(parts) != 2 or parts[0] not in ("c", "p", "r") or not is_id(parts[1]):
        raise DomainError("error.stale_button")
    op, post_id = parts[0], int(parts[1])
    services = turn.services
    post = await posts.get(services.db, post_id)
    if post is None or turn.chat.id not in (post.chat_id, post.target_chat_id):
        raise DomainError("error.stale_button")
    if post.status not in ("active", "paused"):
        raise DomainError("post.already_closed")
    assert turn.user is not None
    if is_personal(post):
        # nobody else may see it, so nobody else may change it (not even a lead)
        if turn.user.id != post.creator_id:
            raise DomainError("error.stale_button")
    elif turn.user.id != post.creator_id and not await turn.may(Action.MANAGE_POSTS):
        raise DomainError("post.not_yours")
    if op == "c":
        services.scheduler.disarm(await posts.set_status(services.db, post_id, "cancelled"))
        notice = "post.cancelled"
    elif op == "p" and post.status == "active" and post.rrule:
        services.scheduler.disarm(await posts.set_status(services.db, post_id, "paused"))
        notice = "post.paused_notice"
    elif op == "r" and post.status == "paused":
        following = when_.next_after(_when_of(post), turn.now)
        if following is None:  # a rule that has run out
            services.scheduler.disarm(await posts.set_status(services.db, post_id, "cancelled"))
            raise DomainError("post.already_closed")
        row_id = await posts.resume(services.db, post_id, following, turn.now)
        services.scheduler.arm(row_id, following)
        notice = "post.resumed"
    else:
        raise DomainError("error.stale_button")
    await turn.answer(notice)
    query = turn.query
    if query is not None and query.message is not None and query.message.is_accessible:
        text, markup = await _listing(turn, post.kind)
        await services.outbox.edit(
            turn.chat.id, query.message.message_id, text, reply_markup=markup, repost=False
        )


# --- delivery (runs from the scheduler) ---------------------------------------------------


def _when_of(post: posts.Post) -> when_.When:
    return when_.When(first=post.first_local.replace(tzinfo=ZoneInfo(post.tz)), rrule=post.rrule)


def _mention(post: posts.Post) -> Html:
    return mention(post.creator_id, post.creator_name)


async def run_post(services: Services, row: Scheduled, late_by: timedelta) -> None:
    """Deliver one occurrence. Raising makes the scheduler retry later; a send that fails is
    not reported per attempt (``report=False``) but once, when it is given up (here when no
    chat can be reached, in :func:`missed_post` when retries ran out)."""
    assert row.ref_id is not None
    post = await posts.get(services.db, row.ref_id)
    if post is None or post.status != "active":
        return  # cancelled or paused between arming and firing: nothing to say
    target = await chats.get(services.db, post.target_chat_id)
    lang = target.language if target else None
    tz = target.timezone if target else post.tz
    if post.kind == "announcement":
        text = t(lang, "post.announcement", text=post.text)
    elif post.target_chat_id == post.chat_id and post.chat_id < 0:
        text = t(lang, "post.reminder_group", text=post.text, who=post.creator_name)
    else:
        text = t(lang, "post.reminder", text=post.text)
    if late_by > timedelta(minutes=1):
        text += "\n\n" + t(lang, "post.late", due=format_datetime(row.run_at, lang, tz))
    thread = post.thread_id
    if post.kind == "announcement" and target is not None and not target.is_private:
        # a lead's /settings topic announcements here, else the topic it was written in
        thread = target.settings.announcements_topic or thread
    message = await services.outbox.send(
        post.target_chat_id,
        text,
        report=False,
        thread_id=thread,
        moved_note=t(lang, "topic.moved_to_general") if thread else None,
    )
    reachable = [post.target_chat_id]
    if message is None and post.target_chat_id != post.chat_id:
        # /remindme for someone who never started the bot (or blocked it): say it in the group
        origin = await chats.get(services.db, post.chat_id)
        if origin is not None and origin.active:
            reachable.append(origin.id)
            olang = origin.language
            message = await services.outbox.send(
                origin.id,
                t(olang, "post.reminder_fallback", who=_mention(post), text=post.text),
                report=False,
            )
    if message is None:
        for chat_id in reachable:
            current = await chats.get(services.db, chat_id)
            if current is not None and current.active:
                raise RuntimeError(f"post {post.id} could not be delivered yet")  # retry later
        log.info("post %s not delivered: no reachable chat", post.id)
        await post_failed(services, post, row, gone=True)
        if post.rrule is None:
            await posts.mark_done(services.db, post.id)
        return
    if post.pin and not await services.outbox.pin(
        message.chat_id, message.message_id, report=False
    ):
        await pin_failed(services, post, message.chat_id)
    if post.rrule is None:
        await posts.mark_done(services.db, post.id)


# --- failures, told to the person who asked ----------------------------------------------


async def tell_author(
    services: Services,
    author_id: int,
    name: str,
    group_id: int,
    text: Callable[[str | None], str],
) -> bool:
    """Tell the person who asked for something that it failed: privately if they opened a
    private chat with the bot, else in the group, mentioning them. ``text(lang)`` renders the
    notice in the language of the chat it goes to. Returns whether anyone could be told."""
    private = await chats.get(services.db, author_id)
    if (
        private is not None
        and private.is_private
        and private.active
        and await services.outbox.send(author_id, text(private.language), report=False)
    ):
        return True
    group = await chats.get(services.db, group_id)
    if group is None or group.is_private or not group.active:
        return False
    notice = t(
        group.language, "failure.in_group", who=mention(author_id, name), text=text(group.language)
    )
    return await services.outbox.send(group.id, notice, report=False) is not None


def _ref(post: posts.Post) -> str:
    return f"{post.kind} #{post.id}"


async def pin_failed(services: Services, post: posts.Post, chat_id: int) -> bool:
    """The announcement went out but could not be pinned: the leads' panel shows it and the
    author is told — once (a weekly announcement does not repeat it every week)."""
    group = await chats.get(services.db, chat_id)
    glang = group.language if group else None
    reason = (
        f"{t(glang, 'failure.reason_pin')} ({_ref(post)}): {services.outbox.last_failure(chat_id)}"
    )
    if not await chats.record_delivery_failure(
        services.db, chat_id, "pinChatMessage", reason, services.clock(), once=True
    ):
        return False
    title = group.title if group and group.title else ""
    return await tell_author(
        services,
        post.creator_id,
        post.creator_name,
        chat_id,
        lambda lang: t(lang, "failure.pin", group=title, text=shorten(post.text)),
    )


async def post_failed(services: Services, post: posts.Post, row: Scheduled, *, gone: bool) -> bool:
    """A reminder or announcement could not be delivered at all (``gone``: no chat it could go
    to is reachable; else Telegram kept failing until the retries ran out). Recorded for the
    leads and told to its author, once."""
    target = await chats.get(services.db, post.target_chat_id)
    cause = services.outbox.last_failure(post.target_chat_id)
    reason = (
        f"{t(target.language if target else None, 'failure.reason_post')} ({_ref(post)}): {cause}"
    )
    recorded = await chats.record_delivery_failure(
        services.db, post.target_chat_id, "sendMessage", reason, services.clock(), once=True
    )
    if not recorded:
        return False
    group = await chats.get(services.db, post.chat_id)
    title = group.title if group and group.title else ""
    why = "failure.why_gone" if gone else "failure.why_refused"
    key = "failure.announcement" if post.kind == "announcement" else "failure.reminder"

    def notice(lang: str | None) -> str:
        return t(
            lang,
            key,
            group=title,
            due=format_datetime_zone(row.due_at, lang, post.tz),
            text=shorten(post.text),
            why=Html(t(lang, why)),
        )

    return await tell_author(services, post.creator_id, post.creator_name, post.chat_id, notice)


async def next_post_run(services: Services, row: Scheduled, after: datetime) -> datetime | None:
    assert row.ref_id is not None
    post = await posts.get(services.db, row.ref_id)
    if post is None or post.status != "active" or post.rrule is None:
        return None
    return when_.next_after(_when_of(post), after)


async def missed_post(services: Services, row: Scheduled, late_by: timedelta) -> None:
    """The bot was down past the grace period: tell the creator instead of posting stale news.
    A post that was tried and kept failing until the grace period ran out is a failure: the
    leads' panel shows it and its author is told, once."""
    assert row.ref_id is not None
    post = await posts.get(services.db, row.ref_id)
    if post is None:
        return
    if post.rrule is None:
        await posts.mark_done(services.db, post.id)
    if row.attempts > 1:  # claimed before: it was tried, and failed
        await post_failed(services, post, row, gone=False)
        return
    creator = await chats.get(services.db, post.creator_id)
    where = (
        creator
        if creator is not None and creator.active
        else await chats.get(services.db, post.chat_id)
    )
    if where is None:
        return
    await services.outbox.send(
        where.id,
        t(
            where.language,
            "post.missed",
            due=format_datetime_zone(row.run_at, where.language, post.tz),
            text=shorten(post.text),
        ),
    )


async def follow_zone(services: Services, chat_id: int, old_tz: str, new_tz: str) -> int:
    """The chat's time zone changed: its reminders and announcements keep their wall time
    ("every Monday 9:00" stays 9:00) in the new zone. A one-off whose new time has already
    passed keeps its old time. Returns how many posts moved."""
    if old_tz == new_tz:
        return 0
    now = services.clock()
    moved = 0
    for post in await posts.in_zone(services.db, chat_id, old_tz):
        plan = when_.When(first=post.first_local.replace(tzinfo=ZoneInfo(new_tz)), rrule=post.rrule)
        following = when_.next_after(plan, now)
        if following is None:
            continue  # a one-off now in the past: leave it where it was
        changed = await posts.move_zone(services.db, post.id, new_tz, following)
        services.scheduler.disarm(changed)
        for row_id in changed:
            services.scheduler.arm(row_id, following)
        moved += 1
    return moved
