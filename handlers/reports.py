"""Repair and problem reports (报修): a card ``#F12`` per report, Me too per household, routing
to handlers per category, states with a one-line reason, overdue flags and the reporter's
"Is it fixed?".

/report <what> [| <where>]          any resident (also as a photo's caption, or a reply to a
                                    photo); in a private chat with the bot: a private report
/report F12 ack|progress|fixed      a handler of the report (also: duplicate <reason>,
                                    notours <reason>); in the group or privately
/report F12                         in a private chat, a handler: the card with its buttons
/reports                            the group's open reports, overdue first (private ones:
                                    only in a handler's private chat)
/reports categories [add <name> | rename <category> <name>]    leads
/reports handler <category> [off]   leads, as a reply to the person's message
/reports handlers                   who handles what

Who handles a report: the leads always; besides them, the people a lead named for its
category. New reports, once their category is chosen, are told privately to the category's
named handlers — or to the leads when it has none. A resident who never opened a private chat
with the bot (Telegram answers 403) is told in the group by mention instead
(``handlers.events.tell``); for a private report the group line names only its reference.

Callback data (never trusted, every id checked): rp:c:<id>:<category> category (the
reporter), rp:g:<id>:<group id> the group of a private draft (the reporter), rp:m:<id> Me too,
rp:s:<id>:<a|p|f> acknowledged / in progress / fixed, rp:d:<id> and rp:n:<id> duplicate /
not ours (asks for the reason), rp:r:<id>:<d|n>:<i> a ready reason, rp:y:<id> / rp:x:<id> the
reporter's "fixed" / "not really". Overdue: scheduled kind ``report_overdue``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.domain import reports as rules
from bot.domain.chats import Chat
from bot.domain.errors import DomainError
from bot.domain.languages import WordSet
from bot.domain.roles import Role
from bot.i18n import Html, escape, format_datetime, shorten, t, tn
from bot.services import Services
from handlers import cards, deeplinks, digest
from handlers.common import (
    BOTH,
    GROUP_ONLY,
    Turn,
    button,
    command,
    display_name,
    in_group,
    is_id,
    mention_batches,
)
from handlers.events import started_bot, tell
from handlers.topics import topic
from storage import chats
from storage import reports as store
from storage.scheduled import Scheduled

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE
LIST_LIMIT = 15
#: Every category (a lead's view of private reports).
ALL: frozenset[str] = frozenset({"*"})

#: Buttons of the states a handler sets in one press.
_STATE_OPS = {"a": rules.ACKNOWLEDGED, "p": rules.IN_PROGRESS, "f": rules.FIXED}
#: Ready one-line reasons (catalog keys) for duplicate (d) and not ours (n).
REASONS: dict[str, tuple[str, ...]] = {
    "d": ("report.reason_dup_earlier",),
    "n": ("report.reason_management", "report.reason_utility", "report.reason_inside_flat"),
}
_REASON_STATE = {"d": rules.DUPLICATE, "n": rules.NOT_OURS}

CATEGORY_WORDS = WordSet({"categories", "category", "分类", "类别", "категории"})
HANDLER_WORDS = WordSet({"handler", "处理人", "исполнитель"})
HANDLERS_WORDS = WordSet({"handlers", "处理人列表", "исполнители"})
ADD_WORDS = WordSet({"add", "添加", "добавить"})
RENAME_WORDS = WordSet({"rename", "改名", "переименовать"})
OFF_WORDS = WordSet({"off", "remove", "no", "取消", "删除", "убрать", "снять"})

#: Keys built at run time.
DYNAMIC_KEYS: frozenset[str] = frozenset(
    {f"report.cat_{c}" for c in rules.CATEGORIES}
    | {
        f"report.state_{s}"
        for s in (
            rules.OPEN,
            rules.ACKNOWLEDGED,
            rules.IN_PROGRESS,
            rules.FIXED,
            rules.CONFIRMED,
            rules.DUPLICATE,
            rules.NOT_OURS,
            rules.DRAFT,
        )
    }
    | {k for keys in REASONS.values() for k in keys}
    | {
        "report.metoo_added",
        "report.metoo_own",
        "report.metoo_already",
        "report.metoo_closed",
        "report.changed_private",
        "report.changed_group",
        "report.changed_group_private",
        "report.overdue_private",
        "report.overdue_group",
        "report.overdue_group_private",
        "report.new_private",
        "report.reopened_private",
        "report.reopened_group",
        "report.reopened_group_private",
        "report.new_group",
        "report.new_group_private",
        "report.ask_fixed_private",
        "report.ask_fixed_group",
        "settings.saved_report_ack_days",
        "settings.saved_report_fix_days",
    }
)


# --- categories ------------------------------------------------------------------------------


async def category_names(services: Services, chat: Chat, lang: str) -> dict[str, str]:
    """Every category of the group in button order, named in ``lang`` where not renamed."""
    custom = await store.category_names(services.db, chat.id)
    builtin = {c: t(lang, f"report.cat_{c}") for c in rules.CATEGORIES}
    return store.names_with(custom, builtin)


# --- who handles a report --------------------------------------------------------------------


async def named_handlers(
    services: Services, group: Chat, category: str | None
) -> list[tuple[int, str]]:
    """The people a lead named for the category who are still in the group (someone who
    left never sees the building's reports again, private ones least of all)."""
    from storage import members

    found = []
    for uid, name in await store.handlers_of(services.db, group.id, category):
        if await members.presence(services.db, group.id, uid) != members.LEFT:
            found.append((uid, name))
    return found


async def may_handle(services: Services, group: Chat, user_id: int, category: str | None) -> bool:
    if await services.roles.role_of(group, user_id) >= Role.LEAD:
        return True
    return any(uid == user_id for uid, _ in await named_handlers(services, group, category))


async def recipients(
    services: Services, group: Chat, category: str | None
) -> list[tuple[int, str]]:
    """Who is told of a new or overdue report: the category's named handlers, else the leads
    (not bots, not the anonymous "Group" administrator)."""
    named = await named_handlers(services, group, category)
    if named:
        return named
    people = []
    for uid in sorted(await services.roles.admins(group.id)):
        if uid <= 0 or uid == _bot_id(services):
            continue
        member = await _member_name(services, group.id, uid)
        people.append((uid, member))
    return people


def _bot_id(services: Services) -> int:
    head = (services.settings.token or "").split(":", 1)[0]
    return int(head) if head.isdigit() else 0


async def _member_name(services: Services, chat_id: int, user_id: int) -> str:
    from storage import members

    found = await members.get(services.db, chat_id, user_id)
    return found.display_name if found and found.display_name else str(user_id)


# --- the card --------------------------------------------------------------------------------


def _state(lang: str, status: str) -> str:
    return t(lang, f"report.state_{status}")


async def render_card(
    services: Services, report: store.Report, lang: str, *, for_handler: bool
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card in ``lang``; ``for_handler``: a private copy (handler buttons, no Me too)."""
    db = services.db
    group = await chats.get(db, report.chat_id)
    tz = group.timezone if group is not None else "UTC"
    tag = rules.tag(report.id)
    names = await category_names(services, group, lang) if group is not None else {}
    lines = [
        t(
            lang,
            "report.card_title_private" if report.private else "report.card_title",
            ref=tag,
            state=_state(lang, report.status),
        ),
        t(lang, "report.card_what", what=report.what),
    ]
    if report.place:
        lines.append(t(lang, "report.card_where", where=report.place))
    if report.category is not None:
        lines.append(
            t(lang, "report.card_category", category=names.get(report.category, report.category))
        )
    elif report.status in rules.ACTIVE or report.status == rules.DRAFT:
        lines.append(t(lang, "report.card_choose_category"))
    lines.append(
        t(
            lang,
            "report.card_by",
            name=shorten(report.reporter_name, 40),
            when=format_datetime(report.created_at, lang, tz),
        )
    )
    count = await store.me_too_count(db, report.id)
    if count:
        lines.append(tn(lang, "report.card_metoo", count))
    for change in await store.history(db, report.id):
        line = t(
            lang,
            "report.card_change",
            state=_state(lang, change.status),
            name=shorten(change.by_name, 40),
            when=format_datetime(change.at, lang, tz),
        )
        if change.reason:
            line += " — " + escape(shorten(change.reason, 120))
        lines.append(line)
    if group is not None:
        s = group.settings
        late = rules.overdue(report.clock, services.clock(), s.report_ack_days, s.report_fix_days)
        if "fix" in late:
            lines.append(tn(lang, "report.card_overdue_fix", s.report_fix_days))
        elif "ack" in late:
            lines.append(tn(lang, "report.card_overdue_ack", s.report_ack_days))
    if report.status == rules.FIXED:
        lines.append(t(lang, "report.card_ask_reporter"))
    lines += ["", tag]
    return "\n".join(lines), _keyboard(lang, report, names, for_handler=for_handler)


def _keyboard(
    lang: str, report: store.Report, names: dict[str, str], *, for_handler: bool
) -> InlineKeyboardMarkup | None:
    rid = report.id
    rows: list[list[InlineKeyboardButton]] = []
    choosing = report.status in rules.ACTIVE or report.status == rules.DRAFT
    if choosing and report.category is None and not for_handler:
        buttons = [
            InlineKeyboardButton(name, callback_data=f"rp:c:{rid}:{key}")
            for key, name in names.items()
        ]
        rows += [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    if report.status in rules.ACTIVE:
        if not for_handler and not report.private:
            rows.append(
                [InlineKeyboardButton(t(lang, "report.btn_metoo"), callback_data=f"rp:m:{rid}")]
            )
        if not (report.private and not for_handler):
            steps = [
                InlineKeyboardButton(
                    t(lang, f"report.btn_{target}"), callback_data=f"rp:s:{rid}:{op}"
                )
                for op, target in _STATE_OPS.items()
                if rules.handler_may_set(report.status, target)
            ]
            rows.append(steps)
            rows.append(
                [
                    InlineKeyboardButton(
                        t(lang, "report.btn_duplicate"), callback_data=f"rp:d:{rid}"
                    ),
                    InlineKeyboardButton(
                        t(lang, "report.btn_not_ours"), callback_data=f"rp:n:{rid}"
                    ),
                ]
            )
    if report.status == rules.FIXED and not for_handler:
        rows.append(
            [
                InlineKeyboardButton(t(lang, "report.btn_yes_fixed"), callback_data=f"rp:y:{rid}"),
                InlineKeyboardButton(t(lang, "report.btn_not_really"), callback_data=f"rp:x:{rid}"),
            ]
        )
    return InlineKeyboardMarkup(rows) if rows else None


async def render_group_card(
    services: Services, report_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    report = await store.get(services.db, report_id)
    if report is None:
        return None
    group = await chats.get(services.db, report.chat_id)
    if group is None:
        return None
    return await render_card(services, report, group.language, for_handler=False)


async def _render_copy(
    services: Services, report_id: int, user_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    report = await store.get(services.db, report_id)
    private = await chats.get(services.db, user_id)
    if report is None:
        return None
    lang = private.language if private is not None else "en"
    if report.reporter_id == user_id:
        return await render_card(services, report, lang, for_handler=False)
    return await render_card(services, report, lang, for_handler=True)


def refresh(services: Services, report: store.Report) -> None:
    """Bring every copy of the card up to date (coalesced by the outbox)."""
    if report.message_id is not None:

        async def moved(new_id: int) -> None:
            await store.set_message(services.db, report.id, new_id)

        services.outbox.refresh(
            report.chat_id,
            report.message_id,
            partial(render_group_card, services, report.id),
            on_moved=moved,
            thread_id=report.thread_id,
        )


async def _redraw(services: Services, report_id: int) -> None:
    found = await store.get(services.db, report_id)
    if found is not None:
        refresh(services, found)


cards.register("report", render=render_group_card, redraw=_redraw)  # after a restart


async def refresh_all(services: Services, report: store.Report) -> None:
    refresh(services, report)
    for user_id, message_id in await store.copies(services.db, report.id):
        services.outbox.refresh(
            user_id, message_id, partial(_render_copy, services, report.id, user_id)
        )


def _params(
    group: Chat, report: store.Report, names: dict[str, str] | None = None
) -> Callable[[str], dict[str, Any]]:
    def params(lang: str) -> dict[str, Any]:
        return {
            "ref": rules.tag(report.id),
            "what": shorten(report.what, 120),
            "group": group.title or "",
            "state": Html(_state(lang, report.status)),
            "reason": report.reason or "",
        }

    return params


# --- /report ---------------------------------------------------------------------------------


def _photo_of(message: Message | None) -> str | None:
    if message is None:
        return None
    if message.photo:
        return message.photo[-1].file_id
    replied = message.reply_to_message
    if replied is not None and replied.photo:
        return replied.photo[-1].file_id
    return None


def _for_another_bot(turn: Turn) -> bool:
    """A photo captioned ``/report@other_bot …`` is not ours (PTB checks this for texts)."""
    message = turn.message
    if message is None or message.text is not None or not message.caption:
        return False
    head = message.caption.split(maxsplit=1)[0]
    _, _, addressee = head.partition("@")
    return bool(addressee) and addressee.casefold() != turn.services.bot_username.casefold()


@command(where=BOTH)
async def report(turn: Turn) -> None:
    if _for_another_bot(turn):
        return
    raw = turn.rest
    words = raw.split()
    report_id = rules.parse_ref(words[0]) if words else None
    # "/report F12 fixed" acts on #F12; "/report F2 corridor light is out" (F2: a floor, a
    # flat) is a new report
    if report_id is not None and (len(words) == 1 or rules.parse_state(words[1]) is not None):
        await _act(turn, report_id, words[1:])
        return
    if turn.chat.is_private:
        await _create_private(turn, raw)
        return
    if not await turn.is_member():
        raise DomainError("membership.not_member")
    draft = rules.parse_report(raw)
    if draft.private:
        link = f"https://t.me/{turn.services.bot_username}?start=report"
        raise DomainError("report.private_here", link=Html(escape(link)))
    await _create_public(turn, draft)


async def _create_public(turn: Turn, draft: rules.Draft) -> None:
    assert turn.user is not None
    services = turn.services
    photo = _photo_of(turn.message)
    report_id, arm = await store.create(
        services.db,
        chat_id=turn.chat.id,
        reporter_id=turn.user.id,
        reporter_name=display_name(turn.user),
        draft=draft,
        photo_id=photo,
        now=turn.now,
        ack_days=turn.chat.settings.report_ack_days,
        thread_id=turn.thread_id,
    )
    if arm is not None:
        services.scheduler.arm(*arm)
    if photo is not None and turn.message is not None and not turn.message.photo:
        # a reply to someone's photo: show it with the card (a caption's photo is just above)
        await services.outbox.send_photo(turn.chat.id, photo, caption=rules.tag(report_id))
    rendered = await render_group_card(services, report_id)
    assert rendered is not None
    message = await turn.say(rendered[0], markup=rendered[1])
    if message is not None:
        await store.set_message(services.db, report_id, message.message_id)


async def _create_private(turn: Turn, raw: str) -> None:
    """A private report: written here, seen only by its handlers."""
    assert turn.user is not None
    services = turn.services
    draft = rules.parse_report(raw)
    draft = rules.Draft(what=draft.what, where=draft.where, private=True)
    groups = await _groups_of(services, turn.user.id)
    if not groups:
        raise DomainError("report.no_group")
    report_id, _ = await store.create(
        services.db,
        chat_id=groups[0].id if len(groups) == 1 else turn.chat.id,
        reporter_id=turn.user.id,
        reporter_name=display_name(turn.user),
        draft=draft,
        photo_id=_photo_of(turn.message),
        now=turn.now,
        ack_days=1,
        status=rules.DRAFT,
    )
    if len(groups) == 1:
        await _ask_category(turn, report_id)
        return
    buttons = [
        [
            InlineKeyboardButton(
                shorten(g.title or str(g.id), 40), callback_data=f"rp:g:{report_id}:{g.id}"
            )
        ]
        for g in groups[:8]
    ]
    await turn.reply("report.choose_group", markup=InlineKeyboardMarkup(buttons))


async def _groups_of(services: Services, user_id: int) -> list[Chat]:
    from storage import units

    found = []
    for chat_id in await units.groups_of(services.db, user_id):
        chat = await chats.get(services.db, chat_id)
        if chat is not None and chat.active:
            found.append(chat)
    return found


async def _ask_category(turn: Turn, report_id: int) -> None:
    services = turn.services
    current = await store.get(services.db, report_id)
    assert current is not None
    text, markup = await render_card(services, current, turn.personal_lang, for_handler=False)
    await turn.say(turn.t("report.private_choose") + "\n\n" + text, markup=markup)


async def _act(turn: Turn, report_id: int, words: list[str]) -> None:
    """``/report F12 <state> [reason]`` by a handler, or ``/report F12`` to see the card."""
    assert turn.user is not None
    services = turn.services
    found = await store.get(services.db, report_id)
    if found is None or found.status == rules.DRAFT:
        raise DomainError("report.not_found", ref=rules.tag(report_id))
    group = await chats.get(services.db, found.chat_id)
    if group is None or (not turn.chat.is_private and group.id != turn.chat.id):
        raise DomainError("report.not_found", ref=rules.tag(report_id))
    handler = await may_handle(services, group, turn.user.id, found.category)
    # a private report, and in a private chat any report, only for its reporter and handlers
    # (a resident of another building must not read this one's reports by trying numbers)
    hidden = found.private or turn.chat.is_private
    if hidden and not handler and found.reporter_id != turn.user.id:
        raise DomainError("report.not_found", ref=rules.tag(report_id))
    if found.private and not turn.chat.is_private:  # handled in private chats only
        raise DomainError("report.not_found", ref=rules.tag(report_id))
    if not words:
        if not turn.chat.is_private:
            raise DomainError("report.act_usage", ref=rules.tag(report_id))
        rendered = await _render_copy(services, report_id, turn.user.id)
        assert rendered is not None
        sent = await turn.say(rendered[0], markup=rendered[1])
        if sent is not None and handler:
            await store.add_copy(services.db, report_id, turn.user.id, sent.message_id)
        return
    target = rules.parse_state(words[0])
    if target is None:
        raise DomainError("report.act_usage", ref=rules.tag(report_id))
    if not handler:
        raise DomainError("report.not_handler")
    reason = None
    if target in rules.NEEDS_REASON:
        reason = rules.parse_reason(" ".join(words[1:]))
    await change_state(turn, group, found, target, reason=reason)
    await turn.reply(
        "report.changed", ref=rules.tag(report_id), state=Html(turn.t(f"report.state_{target}"))
    )


async def change_state(
    turn: Turn,
    group: Chat,
    found: store.Report,
    target: str,
    *,
    reason: str | None,
    by_reporter: bool = False,
) -> store.Report:
    """Apply a change and tell everyone concerned (after the commit)."""
    assert turn.user is not None
    services = turn.services
    try:
        changed = await store.change(
            services.db,
            found.id,
            target,
            by_id=turn.user.id,
            by_name=display_name(turn.user),
            by_reporter=by_reporter,
            reason=reason,
            now=turn.now,
            ack_days=group.settings.report_ack_days,
        )
    except LookupError:
        raise DomainError("error.stale_button") from None
    services.scheduler.disarm(changed.disarm)
    if changed.arm is not None:
        services.scheduler.arm(*changed.arm)
    current = changed.after
    await refresh_all(services, current)
    await _announce(services, group, current, by=turn.user.id)
    return current


async def _announce(services: Services, group: Chat, report: store.Report, *, by: int) -> None:
    """Tell the reporter and the Me-too households of a change (not the one who made it)."""
    params = _params(group, report)
    people = [(report.reporter_id, report.reporter_name)] if report.reporter_id != by else []
    if report.status == rules.FIXED and report.reporter_id != by:
        await _ask_fixed(services, group, report)
        people = []
    people += [p for p in await store.me_too_people(services.db, report.id) if p[0] != by]
    if not people:
        return
    group_key = "report.changed_group_private" if report.private else "report.changed_group"
    await tell(
        services,
        group,
        people,
        "report.changed_private",
        group_key,
        params,
        thread_id=report.thread_id,
    )


async def _ask_fixed(services: Services, group: Chat, report: store.Report) -> None:
    """ "Is it fixed?" to the reporter, privately with the buttons; else on the card."""
    private = await started_bot(services, report.reporter_id)
    if private is not None:
        lang = private.language
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t(lang, "report.btn_yes_fixed"), callback_data=f"rp:y:{report.id}"
                    ),
                    InlineKeyboardButton(
                        t(lang, "report.btn_not_really"), callback_data=f"rp:x:{report.id}"
                    ),
                ]
            ]
        )
        text = t(lang, "report.ask_fixed_private", **_params(group, report)(lang))
        if await services.outbox.send(report.reporter_id, text, reply_markup=markup) is not None:
            return
    if report.private:
        return  # nothing about it goes to the group; the reporter sees it on /report F12
    lang = group.language
    for batch in mention_batches([(report.reporter_id, report.reporter_name)]):
        await services.outbox.send(
            group.id,
            t(lang, "report.ask_fixed_group", mentions=Html(batch), **_params(group, report)(lang)),
            **topic(lang, report.thread_id),
        )


async def _route(services: Services, group: Chat, report: store.Report) -> int:
    """Tell the report's handlers about it; private copies carry the card. Returns how many
    were reached privately."""
    people = await recipients(services, group, report.category)
    reached = 0
    missed: list[tuple[int, str]] = []
    for user_id, name in people:
        if user_id == report.reporter_id and not report.private:
            continue
        private = await started_bot(services, user_id)
        if private is None:
            missed.append((user_id, name))
            continue
        lang = private.language
        intro = t(lang, "report.new_private", **_params(group, report)(lang))
        if report.photo_id:
            await services.outbox.send_photo(user_id, report.photo_id, caption=rules.tag(report.id))
        text, markup = await render_card(services, report, lang, for_handler=True)
        sent = await services.outbox.send(user_id, intro + "\n\n" + text, reply_markup=markup)
        if sent is None:
            missed.append((user_id, name))
            continue
        reached += 1
        # the copy is kept up to date like the group's card (its buttons act on the report)
        await store.add_copy(services.db, report.id, user_id, sent.message_id)
    if missed:
        key = "report.new_group_private" if report.private else "report.new_group"
        lang = group.language
        link = f"https://t.me/{services.bot_username}?start=reports"
        for batch in mention_batches(missed):
            await services.outbox.send(
                group.id,
                t(lang, key, mentions=Html(batch), link=link, **_params(group, report)(lang)),
                **topic(lang, report.thread_id),
            )
    return reached


# --- /reports --------------------------------------------------------------------------------


@command(where=BOTH)
async def reports_(turn: Turn) -> None:
    words = turn.rest.split()
    first = words[0].casefold() if words else ""
    if first in CATEGORY_WORDS:
        await _categories(turn, words[1:])
        return
    if first in HANDLER_WORDS:
        await _handler(turn, words[1:])
        return
    if first in HANDLERS_WORDS:
        await _handlers(turn)
        return
    if words:
        raise DomainError("report.reports_usage")
    if turn.chat.is_private:
        await _private_list(turn)
        return
    await turn.say(await report_list(turn.services, turn.chat, turn.lang))


@deeplinks.word("reports")
async def open_reports(private: Turn) -> None:
    """``?start=reports`` (a handler who could not be reached): the reports they handle.
    (Not the /reports body: it would read the payload word "reports" as its argument.)"""
    await _private_list(private)


@deeplinks.word("report")
async def open_report(private: Turn) -> None:
    """``?start=report`` (a private report asked for in the group): how to write it here."""
    await private.reply("report.usage")


async def report_list(
    services: Services, group: Chat, lang: str, *, private_of: frozenset[str] | None = None
) -> str:
    """The open reports; private ones only of the categories in ``private_of`` (a handler's;
    every category for a lead: ``ALL``)."""
    found = [
        r
        for r in await store.active(services.db, group.id, limit=200)
        if not r.private
        or (private_of is not None and (private_of is ALL or r.category in private_of))
    ]
    if not found:
        return t(lang, "report.none")
    s = group.settings
    now = services.clock()
    late = {
        r.id: bool(rules.overdue(r.clock, now, s.report_ack_days, s.report_fix_days)) for r in found
    }
    ordered = sorted(found, key=lambda r: (not late[r.id], r.since, r.id))
    counts = await store.me_too_counts(services.db, [r.id for r in ordered])
    lines = [t(lang, "report.list_title", group=group.title or "")]
    for r in ordered[:LIST_LIMIT]:
        lines.append(_line(lang, r, counts.get(r.id, 0), late[r.id]))
    if len(ordered) > LIST_LIMIT:
        lines.append(tn(lang, "report.list_more", len(ordered) - LIST_LIMIT))
    return "\n".join(lines)


def _line(lang: str, r: store.Report, count: int, late: bool) -> str:
    return t(
        lang,
        "report.list_item_late" if late else "report.list_item",
        ref=rules.tag(r.id),
        what=shorten(r.what, 60),
        state=Html(_state(lang, r.status)),
        metoo=count,
    )


async def _private_list(turn: Turn) -> None:
    """In a private chat: the open reports of every group where the user handles reports."""
    assert turn.user is not None
    services = turn.services
    parts = []
    for group in await _groups_of(services, turn.user.id):
        mine: frozenset[str] = ALL
        if await services.roles.role_of(group, turn.user.id) < Role.LEAD:
            names = await category_names(services, group, turn.lang)
            handled = set()
            for key in names:
                if any(
                    uid == turn.user.id for uid, _ in await named_handlers(services, group, key)
                ):
                    handled.add(key)
            if not handled:
                continue
            mine = frozenset(handled)
        parts.append(await report_list(services, group, turn.lang, private_of=mine))
    if not parts:
        raise DomainError("report.private_list_none")
    await turn.say("\n\n".join(parts) + "\n\n" + turn.t("report.private_list_hint"))


async def _lead_only(turn: Turn) -> None:
    if turn.chat.is_private:
        raise DomainError("error.group_only")
    if await turn.role() < Role.LEAD:
        raise DomainError("error.not_allowed", who=Html(turn.t("role.leads")))


async def _categories(turn: Turn, words: list[str]) -> None:
    if turn.chat.is_private:
        raise DomainError("error.group_only")
    services = turn.services
    names = await category_names(services, turn.chat, turn.lang)
    if not words:
        listed = ", ".join(f"{escape(n)} (<code>{escape(k)}</code>)" for k, n in names.items())
        await turn.reply("report.categories", names=Html(listed))
        return
    await _lead_only(turn)
    op = words[0].casefold()
    if op in ADD_WORDS:
        name = rules.clean_category_name(" ".join(words[1:]))
        if rules.category_key(name, names) is not None:
            raise DomainError("report.category_exists", name=name)
        key = await store.add_category(services.db, turn.chat.id, name)
        if key is None:
            raise DomainError("report.category_full", max=rules.MAX_CUSTOM)
        await turn.reply("report.category_added", name=name)
        return
    if op in RENAME_WORDS and len(words) >= 3:
        key = rules.category_key(words[1], names)
        if key is None:
            raise DomainError("report.category_unknown", name=words[1][:40])
        name = rules.clean_category_name(" ".join(words[2:]))
        other = rules.category_key(name, names)
        if other is not None and other != key:
            raise DomainError("report.category_exists", name=name)
        await store.rename_category(services.db, turn.chat.id, key, name)
        await turn.reply("report.category_renamed", old=names[key], name=name)
        return
    raise DomainError("report.category_usage")


async def _handler(turn: Turn, words: list[str]) -> None:
    await _lead_only(turn)
    services = turn.services
    if not words:
        raise DomainError("report.handler_usage")
    names = await category_names(services, turn.chat, turn.lang)
    off = len(words) > 1 and words[-1].casefold() in OFF_WORDS
    category_text = " ".join(words[:-1] if off else words)
    key = rules.category_key(category_text, names)
    if key is None:
        raise DomainError("report.category_unknown", name=category_text[:40])
    replied = turn.message.reply_to_message if turn.message is not None else None
    person = replied.from_user if replied is not None else None
    if person is None or person.is_bot:
        raise DomainError("report.handler_usage")
    changed = await store.set_handler(
        services.db, turn.chat.id, key, person.id, display_name(person), not off, turn.now
    )
    reply = "report.handler_removed" if off else "report.handler_added"
    if not changed:
        reply = "report.handler_unchanged"
    await turn.reply(reply, name=display_name(person), category=names[key])


async def _handlers(turn: Turn) -> None:
    if turn.chat.is_private:
        raise DomainError("error.group_only")
    services = turn.services
    names = await category_names(services, turn.chat, turn.lang)
    named = await store.all_handlers(services.db, turn.chat.id)
    lines = [turn.t("report.handlers_title")]
    for key, name in names.items():
        people = named.get(key)
        who = (
            ", ".join(escape(shorten(p, 40)) for p in people)
            if people
            else turn.t("report.handlers_leads")
        )
        lines.append(f"• {escape(name)}: {who}")
    await turn.say("\n".join(lines))


# --- buttons ---------------------------------------------------------------------------------


@button()
async def report_button(turn: Turn, parts: list[str]) -> None:
    if len(parts) < 2 or not is_id(parts[1]) or turn.user is None:
        raise DomainError("error.stale_button")
    op, report_id = parts[0], int(parts[1])
    args = parts[2:]
    services = turn.services
    found = await store.get(services.db, report_id)
    if found is None:
        raise DomainError("error.stale_button")
    uid = turn.user.id
    # a press in a group acts only on that group's reports; in a private chat, on those the
    # presser may see (checked per operation below)
    if not turn.chat.is_private and found.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    if op == "g" and len(args) == 1:
        await _choose_group(turn, found, args[0])
        return
    group = await chats.get(services.db, found.chat_id)
    if group is None or (group.is_private and op != "c"):
        raise DomainError("error.stale_button")
    if op == "c" and len(args) == 1:
        await _choose_category(turn, found, args[0])
        return
    if len(args) != {"r": 2, "s": 1}.get(op, 0):
        raise DomainError("error.stale_button")
    assert group is not None
    if op == "m":
        await _me_too(turn, group, found)
    elif op in ("y", "x"):
        if uid != found.reporter_id:
            raise DomainError("report.only_reporter")
        target = rules.CONFIRMED if op == "y" else rules.OPEN
        if not rules.reporter_may_set(found.status, target):
            raise DomainError(
                "report.already", state=Html(t(turn.personal_lang, f"report.state_{found.status}"))
            )
        await turn.answer("report.thanks_confirmed" if op == "y" else "report.reopened")
        current = await change_state(turn, group, found, target, reason=None, by_reporter=True)
        if target == rules.OPEN:  # not really fixed: its handlers hear it again
            people = await recipients(services, group, current.category)
            key = "report.reopened_group_private" if current.private else "report.reopened_group"
            await tell(
                services, group, people, "report.reopened_private", key, _params(group, current)
            )
    elif op == "s" or op in ("d", "n", "r"):
        if not await may_handle(services, group, uid, found.category):
            raise DomainError("report.not_handler")
        if op == "s":
            await _set_state(turn, group, found, args)
        elif op in ("d", "n"):
            await _ask_reason(turn, found, op)
        else:
            await _ready_reason(turn, group, found, args)
    else:
        raise DomainError("error.stale_button")


async def _choose_group(turn: Turn, found: store.Report, raw: str) -> None:
    assert turn.user is not None
    services = turn.services
    if not turn.chat.is_private or found.reporter_id != turn.user.id or found.status != rules.DRAFT:
        raise DomainError("error.stale_button")
    if not raw.lstrip("-").isdigit() or len(raw) > 16:
        raise DomainError("error.stale_button")
    group = await chats.get(services.db, int(raw))
    if group is None or group.is_private or not group.active:
        raise DomainError("error.stale_button")
    if not await in_group(services, group, turn.user.id, name=None, now=turn.now):
        raise DomainError("membership.not_member_button")
    async with services.db.write() as conn:
        await conn.execute(
            "UPDATE reports SET chat_id = ? WHERE id = ? AND status = 'draft'", (group.id, found.id)
        )
    await turn.answer()
    await _ask_category(turn, found.id)


async def _choose_category(turn: Turn, found: store.Report, key: str) -> None:
    assert turn.user is not None
    services = turn.services
    group = await chats.get(services.db, found.chat_id)
    if group is None or group.is_private:
        raise DomainError("error.stale_button")
    by_lead = False
    if found.reporter_id != turn.user.id:
        # a reporter who did not choose (an elderly neighbour, a hurried one): a lead may,
        # on the group's card, so that the report reaches its handlers
        public_card = not found.private and turn.chat.id == found.chat_id
        if not public_card or await services.roles.role_of(group, turn.user.id) < Role.LEAD:
            raise DomainError("report.only_reporter")
        by_lead = True
    names = await category_names(services, group, turn.personal_lang)
    if key not in names:
        raise DomainError("error.stale_button")
    first = found.category is None
    chooser = None if by_lead else turn.user.id
    if not await store.set_category(services.db, found.id, chooser, key):
        raise DomainError(
            "report.already", state=Html(t(turn.personal_lang, f"report.state_{found.status}"))
        )
    await turn.answer("report.category_set", category=names[key])
    if found.status == rules.DRAFT:
        arm = await store.publish(
            services.db, found.id, turn.user.id, group.id, turn.now, group.settings.report_ack_days
        )
        if arm is None:
            return
        services.scheduler.arm(*arm)
        current = await store.get(services.db, found.id)
        assert current is not None
        reached = await _route(services, group, current)
        message = turn.query.message if turn.query is not None else None
        if message is not None:
            await store.add_copy(services.db, found.id, turn.user.id, message.message_id)
        await refresh_all(services, current)
        await services.outbox.send(
            turn.user.id,
            tn(turn.personal_lang, "report.private_sent", reached, ref=rules.tag(found.id))
            if reached
            else t(turn.personal_lang, "report.private_sent_none", ref=rules.tag(found.id)),
        )
        return
    current = await store.get(services.db, found.id)
    assert current is not None
    refresh(services, current)
    if first:
        await _route(services, group, current)


async def _me_too(turn: Turn, group: Chat, found: store.Report) -> None:
    assert turn.user is not None
    services = turn.services
    if found.private or turn.chat.id != group.id:
        raise DomainError("error.stale_button")
    if not await turn.is_member():
        raise DomainError("membership.not_member_button")
    key = await store.household_of(services.db, group.id, turn.user.id)
    reporter_key = await store.household_of(services.db, group.id, found.reporter_id)
    try:
        current, notice = await store.add_me_too(
            services.db, found.id, turn.user.id, key, lambda r: reporter_key, turn.now
        )
    except LookupError:
        raise DomainError("error.stale_button") from None
    count = await store.me_too_count(services.db, found.id)
    await turn.answer(notice, count=count)
    if notice == "report.metoo_added":
        refresh(services, current)


async def _set_state(turn: Turn, group: Chat, found: store.Report, args: list[str]) -> None:
    target = _STATE_OPS.get(args[0]) if len(args) == 1 else None
    if target is None:
        raise DomainError("error.stale_button")
    lang = turn.personal_lang
    if not rules.handler_may_set(found.status, target):
        raise DomainError("report.already", state=Html(t(lang, f"report.state_{found.status}")))
    await turn.answer(
        "report.changed", ref=rules.tag(found.id), state=Html(t(lang, f"report.state_{target}"))
    )
    try:
        await change_state(turn, group, found, target, reason=None)
    except DomainError:
        log.info("report %s changed meanwhile; press of %s dropped", found.id, target)


async def _ask_reason(turn: Turn, found: store.Report, op: str) -> None:
    if found.status not in rules.ACTIVE:
        raise DomainError(
            "report.already", state=Html(t(turn.personal_lang, f"report.state_{found.status}"))
        )
    lang = turn.personal_lang if turn.chat.is_private else turn.lang
    buttons = [
        [InlineKeyboardButton(t(lang, key), callback_data=f"rp:r:{found.id}:{op}:{i}")]
        for i, key in enumerate(REASONS[op])
    ]
    word = "duplicate" if op == "d" else "notours"
    await turn.answer()
    await turn.services.outbox.send(
        turn.chat.id,
        t(
            lang,
            "report.reason_ask",
            ref=rules.tag(found.id),
            command=f"/report F{found.id} {word} …",
        ),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def _ready_reason(turn: Turn, group: Chat, found: store.Report, args: list[str]) -> None:
    if len(args) != 2 or args[0] not in REASONS or not is_id(args[1], digits=2):
        raise DomainError("error.stale_button")
    keys = REASONS[args[0]]
    index = int(args[1])
    if index >= len(keys):
        raise DomainError("error.stale_button")
    target = _REASON_STATE[args[0]]
    if not rules.handler_may_set(found.status, target):
        raise DomainError(
            "report.already", state=Html(t(turn.personal_lang, f"report.state_{found.status}"))
        )
    reason = t(group.language, keys[index])
    await turn.answer(
        "report.changed",
        ref=rules.tag(found.id),
        state=Html(t(turn.personal_lang, f"report.state_{target}")),
    )
    await change_state(turn, group, found, target, reason=reason)


# --- overdue (run from the scheduler) --------------------------------------------------------


async def run_overdue(services: Services, row: Scheduled, late_by: timedelta) -> None:
    assert row.ref_id is not None
    found = await store.get(services.db, row.ref_id)
    if found is None or found.status not in rules.ACTIVE:
        return
    group = await chats.get(services.db, found.chat_id)
    if group is None or not group.active:
        return
    s = group.settings
    kinds = rules.to_flag(found.clock, services.clock(), s.report_ack_days, s.report_fix_days)
    if not kinds:
        return
    await store.flag(services.db, found.id, kinds)
    current = await store.get(services.db, found.id)
    assert current is not None
    days = s.report_fix_days if "fix" in kinds else s.report_ack_days
    which = "fix" if "fix" in kinds else "ack"

    def params(lang: str) -> dict[str, Any]:
        base = _params(group, current)(lang)
        base["late"] = tn(lang, f"report.late_{which}", days)
        return base

    people = await recipients(services, group, current.category)
    group_key = "report.overdue_group_private" if current.private else "report.overdue_group"
    await tell(
        services,
        group,
        people,
        "report.overdue_private",
        group_key,
        params,
        thread_id=current.thread_id,
    )
    await refresh_all(services, current)


async def missed_overdue(services: Services, row: Scheduled, late_by: timedelta) -> None:
    """The bot was down when the check fell due: flag it now, late (nothing is lost)."""
    await run_overdue(services, row, late_by)


async def next_overdue(services: Services, row: Scheduled, after: datetime) -> datetime | None:
    assert row.ref_id is not None
    found = await store.get(services.db, row.ref_id)
    if found is None:
        return None
    group = await chats.get(services.db, found.chat_id)
    if group is None:
        return None
    s = group.settings
    return rules.next_check(found.clock, after, s.report_ack_days, s.report_fix_days)


# --- digest ----------------------------------------------------------------------------------


async def reports_digest(services: Services, chat: Chat, now: datetime) -> str | None:
    found = [
        r
        for r in await store.active(services.db, chat.id, limit=200)
        if not r.private and r.status in rules.ACTIVE  # fixed ones wait only for their reporter
    ]
    if not found:
        return None
    s = chat.settings
    late = [r for r in found if rules.overdue(r.clock, now, s.report_ack_days, s.report_fix_days)]
    lang = chat.language
    lines = [tn(lang, "report.digest_title", len(found), late=len(late))]
    counts = await store.me_too_counts(services.db, [r.id for r in late])
    lines += [_line(lang, r, counts.get(r.id, 0), True) for r in late[:10]]
    return "\n".join(lines)


# --- wiring ----------------------------------------------------------------------------------

#: A photo whose caption is a /report command (PTB's CommandHandler reads texts only).
CAPTION = filters.PHOTO & filters.CaptionRegex(r"^/report(?:@\w+)?(?:\s|$)") & NEW


def register(app: Any) -> None:
    app.add_handler(CommandHandler("report", report, filters=NEW))
    app.add_handler(MessageHandler(CAPTION, report))
    app.add_handler(CommandHandler("reports", reports_, filters=NEW))
    app.add_handler(CallbackQueryHandler(report_button, pattern=r"^rp:"))


def setup(services: Services) -> None:
    services.scheduler.register(
        store.OVERDUE,
        run=partial(run_overdue, services),
        next_run=partial(next_overdue, services),
        missed=partial(missed_overdue, services),
    )
    if reports_digest not in digest.SECTIONS:
        digest.SECTIONS.append(reports_digest)


__all__ = ["GROUP_ONLY", "register", "setup"]
