"""/settings: language, time zone, who may create polls and events, and the features' defaults
— typed or with buttons.

Typed:  /settings language zh · /settings timezone Asia/Shanghai · /settings polls organizers
        /settings unit_approval off · /settings decision_rule cn-278 · /settings event_reminders
        24h, 1h · /settings listing_days 30 · /settings retention_days 365
Buttons: /settings alone shows a panel; only leads may press it (in a private chat, its owner).
Callback data (all under 64 bytes): st:l:<lang> st:z st:z:<index> st:b st:p st:e st:r st:d st:u st:t
st:k (next decision rule) st:x
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import when as when_
from bot.domain.chats import Chat
from bot.domain.decisions import RULE_NAMES, parse_rule
from bot.domain.errors import DomainError
from bot.domain.languages import NATIVE_NAMES, SUPPORTED
from bot.domain.roles import Action
from bot.domain.settings import (
    DIGEST_OFF,
    ChatSettings,
    SettingKey,
    Who,
    apply_setting,
    describe_offsets,
    set_digest,
    set_topic,
    split_setting_args,
    topic_target,
)
from bot.domain.timezones import COMMON_ZONES
from bot.i18n import (
    Html,
    describe_rrule,
    escape,
    format_datetime,
    language_in,
    rule_label,
    rule_name,
    shorten,
    t,
    tn,
)
from handlers import digest, posts
from handlers.common import Turn, button, command, is_id
from handlers.menus import chat_menus
from storage import chats, members

DEFAULT_DIGEST = "FREQ=WEEKLY;BYDAY=SU"

#: Messages the outbox gave up on in this period are shown to leads on the panel.
FAILURES_SHOWN = timedelta(days=7)

_NEXT_WHO = {Who.EVERYONE: Who.ORGANIZERS, Who.ORGANIZERS: Who.LEADS, Who.LEADS: Who.EVERYONE}


def on_off(lang: str, value: bool) -> str:
    return t(lang, "settings.on" if value else "settings.off")


def offsets_value(lang: str, minutes: tuple[int, ...]) -> str:
    """ "1 day, 1 hour" / "1天、1小时" / "1 день, 1 час"; "off" when there are none."""
    if not minutes:
        return t(lang, "settings.off")
    parts = []
    for m in minutes:
        unit, n = describe_offsets(m)
        parts.append(tn(lang, f"settings.offset_{unit}", n))
    return t(lang, "rec.list_sep").join(parts)


def _next_rule(current: str) -> str:
    """The panel's rule button walks the rules without a quorum (quorums are typed)."""
    name = parse_rule(current).name
    return RULE_NAMES[(RULE_NAMES.index(name) + 1) % len(RULE_NAMES)]


#: The panel's button walks these acknowledgement deadlines (days) of repair reports.
REPORT_ACK_STEPS = (1, 2, 3, 7)


def _next_report_days(s: ChatSettings) -> ChatSettings:
    later = [d for d in REPORT_ACK_STEPS if d > s.report_ack_days]
    ack = later[0] if later else REPORT_ACK_STEPS[0]
    return replace(s, report_ack_days=ack, report_fix_days=max(ack, s.report_fix_days))


#: The panel's proposal button walks these thresholds (others are typed).
PROPOSAL_STEPS = ("1/5", "1/10", "1/3", "1/2")


def _next_threshold(current: str) -> str:
    steps = list(PROPOSAL_STEPS)
    return steps[(steps.index(current) + 1) % len(steps)] if current in steps else steps[0]


def digest_value(lang: str, s: ChatSettings) -> str:
    if not s.digest_rrule or not s.digest_time:
        return t(lang, "settings.digest_off")
    return f"{describe_rrule(lang, s.digest_rrule)} {s.digest_time}"


async def panel_text(turn: Turn, chat: Chat) -> str:
    lang = chat.language
    s = chat.settings
    lines = [
        t(
            lang,
            "settings.title_private" if chat.is_private else "settings.title",
            title=chat.title or "",
        ),
        "",
        t(lang, "settings.language", value=language_in(lang, s.language)),
        t(
            lang,
            "settings.timezone",
            value=s.timezone,
            now=format_datetime(turn.now, lang, s.timezone),
        ),
    ]
    if not chat.is_private:
        organizers = await members.organizers(turn.services.db, chat.id)
        names = Html(
            ", ".join(escape(m.display_name) for m in organizers) or t(lang, "settings.nobody")
        )
        lines += [
            t(lang, "settings.polls", value=Html(t(lang, f"who.{s.poll_creators.value}"))),
            t(lang, "settings.events", value=Html(t(lang, f"who.{s.event_creators.value}"))),
            t(lang, "settings.reminders", value=Html(t(lang, f"who.{s.reminder_creators.value}"))),
            t(lang, "settings.digest", value=digest_value(lang, s)),
            t(lang, "settings.unit_approval", value=on_off(lang, s.unit_approval)),
            t(lang, "settings.decision_rule", value=rule_label(lang, s.decision_rule)),
            t(
                lang,
                "proposal.settings_line",
                threshold=s.proposal_support,
                days=s.proposal_days,
            ),
            t(lang, "settings.event_reminders", value=offsets_value(lang, s.event_reminders)),
            tn(lang, "settings.listing_days", s.listing_days),
            tn(lang, "settings.retention_days", s.retention_days),
            t(lang, "settings.rollcall_minutes", value=s.rollcall_minutes),
            t(lang, "settings.report_days", ack=s.report_ack_days, fix=s.report_fix_days),
            t(lang, "settings.organizers", names=names),
            tn(lang, "settings.members_known", await members.count(turn.services.db, chat.id)),
        ]
        tg_chat = turn.update.effective_chat
        if tg_chat is not None and tg_chat.is_forum:  # a forum: where posts go
            here = panel_topic(turn)
            lines.append(
                t(
                    lang,
                    "topic.settings_line",
                    announcements=topic_value(
                        lang, s.announcements_topic, here, "topic.value_where_written"
                    ),
                    digest=topic_value(lang, s.digest_topic, here, "topic.value_general"),
                )
            )
        failed, reason, at = await chats.recent_delivery_failures(
            turn.services.db, chat.id, turn.now - FAILURES_SHOWN
        )
        if failed and reason is not None and at is not None:
            when = format_datetime(at, lang, s.timezone)
            lines.append(
                tn(lang, "settings.delivery_failures", failed, when=when, reason=shorten(reason))
            )
    lines += ["", t(lang, "settings.hint_private" if chat.is_private else "settings.hint")]
    return "\n".join(lines)


def panel_topic(turn: Turn) -> int | None:
    """The forum topic a settings panel is in (None: General, or a group without topics)."""
    tg_chat = turn.update.effective_chat
    return turn.thread_id if tg_chat is not None and tg_chat.is_forum else None


def topic_value(lang: str, chosen: int | None, here: int | None, unset: str) -> str:
    """How the panel names a chosen topic: this one, another one, or ``unset``'s words."""
    if chosen is None:
        return t(lang, unset)
    return t(lang, "topic.value_this" if chosen == here else "topic.value_other")


def panel_keyboard(chat: Chat, topic: int | None = None) -> InlineKeyboardMarkup:
    """``topic``: the forum topic the panel is in; it gets the buttons that send the
    announcements and the digest there."""
    lang = chat.language
    s = chat.settings
    langs = [
        InlineKeyboardButton(
            ("✓ " if code == s.language else "") + NATIVE_NAMES[code], callback_data=f"st:l:{code}"
        )
        for code in SUPPORTED
    ]
    rows = [
        *(langs[i : i + 2] for i in range(0, len(langs), 2)),  # two a row: wide enough to read
        [
            InlineKeyboardButton(
                t(lang, "settings.btn_timezone", value=s.timezone), callback_data="st:z"
            )
        ],
    ]
    if not chat.is_private:
        for key, who, data in (
            ("settings.btn_polls", s.poll_creators, "st:p"),
            ("settings.btn_events", s.event_creators, "st:e"),
            ("settings.btn_reminders", s.reminder_creators, "st:r"),
        ):
            label = t(lang, key, value=Html(t(lang, f"who.{who.value}")))
            rows.append([InlineKeyboardButton(label, callback_data=data)])
        digest_label = t(lang, "settings.btn_digest", value=digest_value(lang, s))
        rows.append([InlineKeyboardButton(digest_label, callback_data="st:d")])
        approval = t(lang, "settings.btn_unit_approval", value=on_off(lang, s.unit_approval))
        rows.append([InlineKeyboardButton(approval, callback_data="st:u")])
        threshold = t(lang, "proposal.btn_settings", value=s.proposal_support)
        rows.append([InlineKeyboardButton(threshold, callback_data="st:t")])
        rule = t(
            lang, "settings.btn_decision_rule", value=rule_name(lang, s.decision_rule, short=True)
        )
        rows.append([InlineKeyboardButton(rule, callback_data="st:k")])
        overdue = t(lang, "settings.btn_report_days", ack=s.report_ack_days, fix=s.report_fix_days)
        rows.append([InlineKeyboardButton(overdue, callback_data="st:o")])
        if topic is not None:
            for key, chosen, data in (
                ("topic.btn_announcements", s.announcements_topic, "st:n"),
                ("topic.btn_digest", s.digest_topic, "st:g"),
            ):
                label = ("✓ " if chosen == topic else "") + t(lang, key)
                rows.append([InlineKeyboardButton(label, callback_data=data)])
    rows.append([InlineKeyboardButton(t(lang, "settings.btn_done"), callback_data="st:x")])
    return InlineKeyboardMarkup(rows)


def zone_keyboard(chat: Chat) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            ("✓ " if zone == chat.timezone else "") + zone, callback_data=f"st:z:{i}"
        )
        for i, zone in enumerate(COMMON_ZONES)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton(t(chat.language, "settings.btn_back"), callback_data="st:b")])
    return InlineKeyboardMarkup(rows)


async def _update(turn: Turn, change: Callable[[ChatSettings], ChatSettings]) -> Chat:
    """Apply ``change`` to the stored settings atomically (never to a stale copy)."""
    chat = await chats.update_settings(turn.services.db, turn.chat.id, change)
    if chat is None:
        raise DomainError("error.stale_button")
    turn.chat = chat
    return chat


@command(action=Action.CHANGE_SETTINGS)
async def settings(turn: Turn) -> None:
    if not turn.args:
        await turn.say(
            await panel_text(turn, turn.chat), markup=panel_keyboard(turn.chat, panel_topic(turn))
        )
        return
    key, value = split_setting_args(turn.args)
    if key is SettingKey.DIGEST:
        await _set_digest(turn, value)
        return
    if key is SettingKey.TOPIC:
        await _set_topic(turn, value)
        return
    private = turn.chat.is_private
    old_zone = turn.chat.timezone
    old_language = turn.chat.language
    apply_setting(turn.chat.settings, key, value, private=private)  # refuse bad input first
    chat = await _update(turn, lambda s: apply_setting(s, key, value, private=private))
    new = chat.settings
    if key is SettingKey.TIMEZONE:
        await _zone_changed(turn, chat, old_zone)
    if key is SettingKey.LANGUAGE:
        await chat_menus(turn.context.bot, chat, old_language)
        await turn.reply("settings.saved_language", value=language_in(chat.language, chat.language))
    elif key is SettingKey.TIMEZONE:
        await turn.reply(
            "settings.saved_timezone",
            value=chat.timezone,
            now=format_datetime(turn.now, chat.language, chat.timezone),
        )
    elif key is SettingKey.PROPOSAL_SUPPORT:
        await turn.reply("settings.saved_proposal_support", value=new.proposal_support)
    elif key is SettingKey.PROPOSAL_DAYS:
        await turn.reply("settings.saved_proposal_days", value=new.proposal_days)
    elif key is SettingKey.UNIT_APPROVAL:
        await turn.reply(
            "settings.saved_unit_approval", value=on_off(chat.language, new.unit_approval)
        )
    elif key is SettingKey.DECISION_RULE:
        await turn.reply(
            "settings.saved_decision_rule", value=rule_label(chat.language, new.decision_rule)
        )
    elif key is SettingKey.EVENT_REMINDERS:
        await turn.reply(
            "settings.saved_event_reminders",
            value=offsets_value(chat.language, new.event_reminders),
        )
    elif key is SettingKey.LISTING_DAYS:
        await turn.reply("settings.saved_listing_days", value=new.listing_days)
    elif key is SettingKey.RETENTION_DAYS:
        await turn.reply("settings.saved_retention_days", value=new.retention_days)
    elif key is SettingKey.ROLLCALL_MINUTES:
        await turn.reply("settings.saved_rollcall_minutes", value=new.rollcall_minutes)
    elif key in (SettingKey.REPORT_ACK_DAYS, SettingKey.REPORT_FIX_DAYS):
        await turn.reply(
            f"settings.saved_{key.value}", ack=new.report_ack_days, fix=new.report_fix_days
        )
    else:
        who = {
            SettingKey.POLLS: new.poll_creators,
            SettingKey.EVENTS: new.event_creators,
            SettingKey.REMINDERS: new.reminder_creators,
        }[key]
        await turn.reply(f"settings.saved_{key.value}", value=Html(turn.t(f"who.{who.value}")))


async def _zone_changed(turn: Turn, chat: Chat, old_zone: str) -> None:
    """Everything planned in the old zone keeps its wall time in the new one."""
    await posts.follow_zone(turn.services, chat.id, old_zone, chat.timezone)
    if not chat.is_private:
        await digest.reschedule(turn.services, chat, turn.now)


async def _set_topic(turn: Turn, value: str) -> None:
    """``/settings topic announcements here`` / ``digest here`` (``general`` to undo), typed in
    the topic of a forum supergroup that is to receive them."""
    if turn.chat.is_private:
        raise DomainError("error.setting_group_only", key="topic")
    tg_chat = turn.update.effective_chat
    if tg_chat is None or not tg_chat.is_forum:
        raise DomainError("topic.not_forum")
    thread = turn.thread_id
    set_topic(turn.chat.settings, value, thread)  # refuse bad input before writing
    chat = await _update(turn, lambda s: set_topic(s, value, thread))
    what = topic_target(value) or "digest"
    chosen = chat.settings.announcements_topic if what == "announcements" else None
    if what == "digest":
        chosen = chat.settings.digest_topic
    saved = {
        ("announcements", True): "topic.saved_announcements_here",
        ("announcements", False): "topic.saved_announcements_general",
        ("digest", True): "topic.saved_digest_here",
        ("digest", False): "topic.saved_digest_general",
    }
    await turn.reply(saved[(what, chosen is not None)])


async def _set_digest(turn: Turn, value: str) -> None:
    if turn.chat.is_private:
        raise DomainError("error.setting_group_only", key="digest")
    if not value.strip():
        raise DomainError("error.digest_weekly")
    if value.strip().lower() in DIGEST_OFF:
        rule, at = None, None
    else:
        moment = when_.parse(value, lang=turn.lang, tz=turn.chat.timezone, now=turn.now)
        if moment.rrule is None:
            raise DomainError("error.digest_weekly")
        rule, at = moment.rrule, moment.first.strftime("%H:%M")
    set_digest(turn.chat.settings, rule, at)  # refuse a non-weekly rule before writing
    chat = await _update(turn, lambda s: set_digest(s, rule, at))
    following = await digest.reschedule(turn.services, chat, turn.now)
    if following is None:
        await turn.reply("settings.saved_digest_off")
    else:
        await turn.reply(
            "settings.saved_digest",
            value=digest_value(chat.language, chat.settings),
            next=format_datetime(following, chat.language, chat.timezone),
        )


@button(action=Action.CHANGE_SETTINGS)
async def settings_button(turn: Turn, parts: list[str]) -> None:
    query = turn.query
    assert query is not None
    message = query.message
    if message is None or not message.is_accessible:
        raise DomainError("error.stale_button")
    if len(parts) > 2:
        raise DomainError("error.stale_button")  # none of ours has more parts: forged
    op, arg = (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else None)
    chat = turn.chat
    outbox = turn.services.outbox
    if op == "x" and arg is None:
        await turn.answer()
        await outbox.edit(chat.id, message.message_id, await panel_text(turn, chat), repost=False)
        return
    if op == "z" and arg is None:
        await turn.answer()
        await outbox.edit(
            chat.id,
            message.message_id,
            await panel_text(turn, chat),
            reply_markup=zone_keyboard(chat),
            repost=False,
        )
        return
    if op == "b" and arg is None:
        pass
    elif op == "l" and arg in SUPPORTED:
        old_language = chat.language
        chat = await _update(turn, lambda s: replace(s, language=arg))
        await chat_menus(turn.context.bot, chat, old_language)
    elif op == "z" and arg is not None and is_id(arg, digits=3) and int(arg) < len(COMMON_ZONES):
        zone = COMMON_ZONES[int(arg)]
        old_zone = chat.timezone
        chat = await _update(turn, lambda s: replace(s, timezone=zone))
        await _zone_changed(turn, chat, old_zone)
    elif op == "p" and arg is None and not chat.is_private:
        chat = await _update(turn, lambda s: replace(s, poll_creators=_NEXT_WHO[s.poll_creators]))
    elif op == "d" and arg is None and not chat.is_private:
        # one press turns the digest on at the usual time (Sunday 18:00), the next turns it off;
        # other days and times are typed: /settings digest every friday 19:00
        if chat.settings.digest_rrule:
            chat = await _update(turn, lambda s: set_digest(s, None, None))
        else:
            chat = await _update(turn, lambda s: set_digest(s, DEFAULT_DIGEST, "18:00"))
        await digest.reschedule(turn.services, chat, turn.now)
    elif op == "r" and arg is None and not chat.is_private:
        chat = await _update(
            turn, lambda s: replace(s, reminder_creators=_NEXT_WHO[s.reminder_creators])
        )
    elif op == "t" and arg is None and not chat.is_private:
        chat = await _update(
            turn, lambda s: replace(s, proposal_support=_next_threshold(s.proposal_support))
        )
    elif op == "u" and arg is None and not chat.is_private:
        chat = await _update(turn, lambda s: replace(s, unit_approval=not s.unit_approval))
    elif op == "k" and arg is None and not chat.is_private:
        chat = await _update(turn, lambda s: replace(s, decision_rule=_next_rule(s.decision_rule)))
    elif op == "o" and arg is None and not chat.is_private:
        # repair reports: overdue after 1, 2, 3 or 7 days without acknowledgement (the fix
        # deadline follows when it would come first); other values are typed
        chat = await _update(turn, _next_report_days)
    elif op == "e" and arg is None and not chat.is_private:
        chat = await _update(turn, lambda s: replace(s, event_creators=_NEXT_WHO[s.event_creators]))
    elif op in ("n", "g") and arg is None and (here := panel_topic(turn)) is not None:
        # the panel's topic becomes (or stops being) where announcements / the digest go
        if op == "n":
            chat = await _update(
                turn,
                lambda s: replace(
                    s, announcements_topic=None if s.announcements_topic == here else here
                ),
            )
        else:
            chat = await _update(
                turn, lambda s: replace(s, digest_topic=None if s.digest_topic == here else here)
            )
    else:
        raise DomainError("error.stale_button")
    await turn.answer(None if op == "b" else "settings.saved")  # at once; the edit may wait
    await outbox.edit(
        chat.id,
        message.message_id,
        await panel_text(turn, chat),
        reply_markup=panel_keyboard(chat, panel_topic(turn)),
        repost=False,
    )
