"""House rules (小区公约 / 居民公约 / правила дома): drafted, amended, ratified, versioned.

/rules                         the rules in force, article by article, with version and date
/rules <n>                     version n (``/rules draft`` shows the draft when there is one)
/rules draft [text]            leads and organizers: start the draft (from the version in force)
                               and give its text — here, or by replying to the draft's card
                               with a message or a .txt/.md file
/rules ratify [rule] [| closes=<when>]   leads: a formal decision on the draft (default cn-278)
/rules history                 the versions, with buttons comparing each to the one before
/rules compare <a> <b>         what changed between two versions (numbers, ``draft``)
/rules discard                 leads: drop the draft (not while it is being voted on)
/export rules                  the rules in force as a text file
/amend <article> <new text>    anyone in the group: an amendment to the draft (``new`` for a new
                               article); with no text, as a reply, the message replied to is it
/amend accept|decline <n> [reason]   leads (also as a reply to the amendment's card)
/amend withdraw <n>            its author

Cards: the draft (``hr:x`` whole text, ``hr:c`` changes, ``hr:r`` ratify — a second press
within a minute confirms) and each amendment (``hr:s``/``hr:u`` support / withdraw support,
one per household; ``hr:a`` accept, ``hr:d`` decline — asks for the reason). ``hr:p`` pins a
/rules message; ``hr:v:<a>:<b>`` compares two versions. Every id in button data is checked
against the chat and the row's state.

The ratification is a formal decision (storage/decisions.py, handlers/decisions.py): its
outcome reaches the draft through ``handlers.decisions.ON_CLOSED`` and, should that have been
missed (a crash), whenever the rules are read.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.domain import house_rules as domain
from bot.domain.chats import Chat
from bot.domain.decisions import RuleText, evaluate_totals, parse_rule
from bot.domain.errors import DomainError
from bot.domain.languages import SUPPORTED, WordSet
from bot.domain.refs import Ref
from bot.domain.roles import Action, Role, required_role
from bot.domain.text import clip16, utf16_len
from bot.i18n import Html, escape, format_datetime, rule_name, shorten, t, tn
from bot.services import Services
from handlers import cards, digest, refs
from handlers import decisions as decisions_
from handlers.common import (
    GROUP_ONLY,
    Turn,
    button,
    command,
    display_name,
    is_id,
    open_turn,
    plain,
    role_key,
)
from handlers.topics import topic
from storage import chats, units
from storage import decisions as decision_store
from storage import house_rules as store
from storage.decisions import Decision

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE

#: A message's text stays below Telegram's 4096 UTF-16 units with this budget.
PAGE = 3800
#: /rules posts at most this many messages; longer rules come as a file beside the first page.
MAX_PAGES = 4
#: A draft card shows the articles while they fit in this much; else the first ones.
CARD_BUDGET = 3000
#: The largest .txt/.md file read as a draft.
MAX_FILE = 256 * 1024
#: The default rule of a ratification: PRC Civil Code art. 278 (owners' rules).
DEFAULT_RULE = "cn-278"
CONFIRM_SECONDS = 60.0
#: Whole-text presses of one draft: at most one posting per this many seconds.
TEXT_COOLDOWN = 60.0
#: A text sent to replace the draft waits this long for its sender's Replace press.
PENDING_SECONDS = 600.0
_STATE = "house_rules"
#: Numbers of the Replace questions (in memory, like the texts they hold).
_TOKENS = itertools.count(1)

ACCEPT_WORDS = WordSet({"accept", "接受", "采纳", "принять", "принимаю"})
DECLINE_WORDS = WordSet({"decline", "reject", "拒绝", "驳回", "不采纳", "отклонить", "отклоняю"})
WITHDRAW_WORDS = WordSet({"withdraw", "撤回", "отозвать"})
EXPORT_WORDS = WordSet({"export", "file", "导出", "汇出", "文件", "档案", "экспорт", "файл"})

#: Keys built at run time.
DYNAMIC_KEYS: frozenset[str] = frozenset(
    {
        "rules.status_pending",
        "rules.status_accepted",
        "rules.status_accepted_plain",
        "rules.change_changed_same",
        "rules.status_declined",
        "rules.status_withdrawn",
        "rules.change_changed",
        "rules.change_added",
        "rules.change_removed",
    }
)


def _state(services: Services) -> dict[str, Any]:
    state: dict[str, Any] = services.state.setdefault(
        _STATE, {"confirm": {}, "shown": {}, "locks": {}, "pending": {}}
    )
    return state


def _lock(services: Services, chat_id: int) -> asyncio.Lock:
    locks: dict[int, asyncio.Lock] = _state(services)["locks"]
    if chat_id not in locks:
        if len(locks) > 10_000:
            locks.clear()
        locks[chat_id] = asyncio.Lock()
    return locks[chat_id]


# --- rendering -------------------------------------------------------------------------------


def numeral(lang: str, number: int) -> str:
    """An article's number as the language writes it: 第十二条 in Chinese, 12 elsewhere."""
    return domain.chinese_numeral(number) if lang.startswith("zh") else str(number)


def article_block(lang: str, number: int, text: str) -> str:
    return t(lang, "rules.article", number=numeral(lang, number)) + " " + escape(text)


def _day(moment: datetime, lang: str, tz: str) -> str:
    return format_datetime(moment, lang, tz)


def version_head(lang: str, tz: str, version: store.Version) -> str:
    assert version.number is not None and version.ratified_at is not None
    return tn(
        lang,
        "rules.head",
        len(version.articles),
        number=version.number,
        date=_day(version.ratified_at, lang, tz),
        rule=rule_name(lang, version.rule or ""),
        articles=len(version.articles),
    )


def paginate(head: str, blocks: Sequence[str], budget: int = PAGE) -> list[str]:
    """``head`` and the blocks as messages of at most ``budget`` UTF-16 units each, never
    splitting a block (a block is at most an article: below the budget by its limit)."""
    pages: list[str] = []
    current: list[str] = [head] if head else []
    used = utf16_len(head)
    for block in blocks:
        size = utf16_len(block) + 2
        if current and used + size > budget:
            pages.append("\n\n".join(current))
            current, used = [], 0
        current.append(block)
        used += size
    if current:
        pages.append("\n\n".join(current))
    return pages


def text_pages(lang: str, head: str, version: store.Version) -> list[str]:
    blocks = [f"<i>{escape(version.preamble)}</i>"] if version.preamble else []
    blocks += [article_block(lang, n, a) for n, a in enumerate(version.articles, start=1)]
    return paginate(head, blocks)


def plain_text(lang: str, tz: str, version: store.Version, title: str) -> str:
    """The version as a plain text file (Markdown headings)."""
    lines = [f"# {title}", ""]
    if version.preamble:
        lines += [version.preamble, ""]
    for n, article in enumerate(version.articles, start=1):
        heading = t(lang, "rules.article_plain", number=numeral(lang, n))
        lines += [f"## {heading}", "", article, ""]
    return "\n".join(lines)


def change_lines(lang: str, changes: Sequence[domain.Change], budget: int = PAGE) -> list[str]:
    blocks: list[str] = []
    for change in changes:
        old = escape(shorten(change.old or "", 600))
        new = escape(shorten(change.new or "", 600))
        key = f"rules.change_{change.kind}"
        if change.kind == domain.CHANGED and change.old_number == change.new_number:
            key = "rules.change_changed_same"
        blocks.append(
            t(
                lang,
                key,
                old_number=numeral(lang, change.old_number or 0),
                new_number=numeral(lang, change.new_number or 0),
                old=Html(old),
                new=Html(new),
            )
        )
    return blocks


def diff_pages(
    lang: str, title: str, old: store.Version | None, new: store.Version, budget: int = PAGE
) -> list[str]:
    """Every page of the comparison (see :func:`send_diff` for how many are posted)."""
    changes = domain.diff(old.articles if old else (), new.articles)
    blocks = change_lines(lang, changes)
    if old is not None and old.preamble != new.preamble:
        blocks.insert(0, t(lang, "rules.preamble_changed", new=new.preamble or "—"))
    if not blocks:
        blocks = [t(lang, "rules.no_changes")]
    head = title + "\n" + tn(lang, "rules.changes_count", len(changes))
    return paginate(head, blocks, budget)


async def send_diff(
    services: Services,
    chat_id: int,
    lang: str,
    title: str,
    old: store.Version | None,
    new: store.Version,
    *,
    thread_id: int | None = None,
) -> None:
    """The comparison in the chat (in the forum topic ``thread_id``, if given); when it takes
    more than MAX_PAGES messages, the first pages and the whole comparison as a text file."""
    pages = diff_pages(lang, title, old, new)
    where = topic(lang, thread_id) if thread_id is not None else {}
    if len(pages) <= MAX_PAGES:
        for page in pages:
            await services.outbox.send(chat_id, page, **where)
        return
    for page in pages[: MAX_PAGES - 1]:
        await services.outbox.send(chat_id, page, **where)
    await services.outbox.send(chat_id, t(lang, "rules.more_changes"), **where)
    content = "\n\n".join(plain(page) for page in pages).encode("utf-8")
    await services.outbox.send_document(
        chat_id, content, "house-rules-changes.txt", caption=plain(title)[:1000], **where
    )


def amendment_target(lang: str, amendment: store.Amendment) -> str:
    if amendment.article is None:
        return t(lang, "rules.to_new_article")
    return t(lang, "rules.to_article", number=numeral(lang, amendment.article))


#: An amendment's card (UTF-16 units, below Telegram's 4 096 with room for the markup).
AMENDMENT_BUDGET = 3900


def render_amendment(
    lang: str, tz: str, amendment: store.Amendment, voting: bool
) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [
        t(
            lang,
            "rules.amendment_head",
            id=amendment.id,
            target=Html(amendment_target(lang, amendment)),
            name=shorten(amendment.author_name, 64),
        )
    ]
    proposed = t(lang, "rules.amendment_proposed", text=shorten(amendment.text, 2000))
    lines.append(proposed)
    lines.append(tn(lang, "rules.supported_by", amendment.supports))
    key = f"rules.status_{amendment.status}"
    if amendment.status == store.ACCEPTED and not amendment.reason:
        key = "rules.status_accepted_plain"
    status = t(
        lang,
        key,
        name=shorten(amendment.decided_by or "", 64),
        reason=amendment.reason or "—",
    )
    lines.append(status)
    if amendment.status == store.PENDING and voting:
        lines.append(t(lang, "rules.amendment_frozen"))
    if amendment.base is not None:
        # the article as it is gets the room the rest leaves: a long article and a long
        # amendment (emoji count twice) once made a card Telegram refused
        room = AMENDMENT_BUDGET - sum(utf16_len(line) + 1 for line in lines)
        now = t(lang, "rules.amendment_now", text=clip16(amendment.base, min(1200, room - 60)))
        lines.insert(1, now)
    text = "\n".join(lines)
    if amendment.status != store.PENDING or voting:
        return text, None
    aid = amendment.id
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(lang, "rules.btn_support"), callback_data=f"hr:s:{aid}"),
                InlineKeyboardButton(t(lang, "rules.btn_unsupport"), callback_data=f"hr:u:{aid}"),
            ],
            [
                InlineKeyboardButton(t(lang, "rules.btn_accept"), callback_data=f"hr:a:{aid}"),
                InlineKeyboardButton(t(lang, "rules.btn_decline"), callback_data=f"hr:d:{aid}"),
            ],
        ]
    )
    return text, markup


async def _voting(services: Services, version: store.Version) -> Decision | None:
    """The open ratification of the draft, if any."""
    if version.decision_id is None:
        return None
    decision = await decision_store.get(services.db, version.decision_id)
    return decision if decision is not None and decision.is_open else None


async def render_amendment_card(
    services: Services, amendment_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    found = await store.amendment(services.db, amendment_id)
    if found is None:
        return None
    chat = await chats.get(services.db, found.chat_id)
    version = await store.get(services.db, found.version_id)
    if chat is None or version is None:
        return None
    voting = version.status == store.DRAFT and await _voting(services, version) is not None
    return render_amendment(chat.language, chat.timezone, found, voting)


def render_draft(
    lang: str,
    tz: str,
    draft: store.Version,
    pending: int,
    voting: Decision | None,
    last: Decision | None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    if draft.status == store.RATIFIED:
        assert draft.number is not None
        return t(lang, "rules.draft_ratified", number=draft.number), None
    if draft.status == store.DISCARDED:
        return t(lang, "rules.draft_discarded"), None
    lines = [tn(lang, "rules.draft_head", len(draft.articles), articles=len(draft.articles))]
    if not draft.has_text:
        lines.append(t(lang, "rules.draft_empty"))
    else:
        blocks = [f"<i>{escape(draft.preamble)}</i>"] if draft.preamble else []
        blocks += [article_block(lang, n, a) for n, a in enumerate(draft.articles, start=1)]
        shown: list[str] = []
        used = 0
        for block in blocks:
            size = utf16_len(block) + 2
            if used + size > CARD_BUDGET:
                break
            shown.append(block)
            used += size
        lines.append("\n\n".join(shown))
        if len(shown) < len(blocks):
            lines.append(tn(lang, "rules.draft_more", len(blocks) - len(shown)))
    lines.append("")
    if voting is not None:
        lines.append(t(lang, "rules.draft_voting", ref=Ref("decision", voting.id).tag))
    else:
        if last is not None and not last.is_open:
            lines.append(t(lang, "rules.draft_rejected", ref=Ref("decision", last.id).tag))
        if pending:
            lines.append(tn(lang, "rules.draft_pending", pending))
        else:
            lines.append(t(lang, "rules.draft_no_pending"))
        lines.append(t(lang, "rules.draft_how"))
    text = "\n".join(lines)
    if voting is not None or not draft.has_text:
        return text, None
    vid = draft.id
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(lang, "rules.btn_text"), callback_data=f"hr:x:{vid}"),
                InlineKeyboardButton(t(lang, "rules.btn_changes"), callback_data=f"hr:c:{vid}"),
            ],
            [InlineKeyboardButton(t(lang, "rules.btn_ratify"), callback_data=f"hr:r:{vid}")],
        ]
    )
    return text, markup


async def render_draft_card(
    services: Services, version_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    draft = await store.get(services.db, version_id)
    if draft is None:
        return None
    chat = await chats.get(services.db, draft.chat_id)
    if chat is None:
        return None
    pending = len(await store.amendments(services.db, draft.id, store.PENDING))
    voting = await _voting(services, draft) if draft.status == store.DRAFT else None
    last = None
    if draft.decision_id is not None and voting is None:
        last = await decision_store.get(services.db, draft.decision_id)
    return render_draft(chat.language, chat.timezone, draft, pending, voting, last)


def refresh_draft(services: Services, draft: store.Version) -> None:
    if draft.message_id is None:
        return

    async def moved(new_id: int) -> None:
        await store.set_message(services.db, draft.id, new_id)

    services.outbox.refresh(
        draft.chat_id,
        draft.message_id,
        partial(render_draft_card, services, draft.id),
        on_moved=moved,
        thread_id=draft.thread_id,
    )


def refresh_amendment(services: Services, amendment: store.Amendment) -> None:
    if amendment.message_id is None:
        return

    async def moved(new_id: int) -> None:
        await store.set_amendment_message(services.db, amendment.id, new_id)

    services.outbox.refresh(
        amendment.chat_id,
        amendment.message_id,
        partial(render_amendment_card, services, amendment.id),
        on_moved=moved,
        thread_id=amendment.thread_id,
    )


async def refresh_all(services: Services, version_id: int) -> None:
    """The draft's card and every pending amendment's card (their buttons follow the vote)."""
    draft = await store.get(services.db, version_id)
    if draft is None:
        return
    refresh_draft(services, draft)
    for amendment in await store.amendments(services.db, version_id, store.PENDING):
        refresh_amendment(services, amendment)


async def _redraw_draft(services: Services, version_id: int) -> None:
    draft = await store.get(services.db, version_id)
    if draft is not None:
        refresh_draft(services, draft)


async def redraw_amendment(services: Services, amendment_id: int) -> None:
    found = await store.amendment(services.db, amendment_id)
    if found is not None:
        refresh_amendment(services, found)


cards.register("rules_draft", render=render_draft_card, redraw=_redraw_draft)
cards.register("rules_amendment", render=render_amendment_card, redraw=redraw_amendment)


# --- the outcome of a ratification -------------------------------------------------------------


def approved(decision: Decision) -> bool:
    """Whether a closed decision passed (from its stored totals; no totals: it did not)."""
    if decision.is_open or decision.final is None or decision.final.totals is None:
        return False
    try:
        return evaluate_totals(parse_rule(decision.rule), decision.final.totals).approved
    except DomainError:
        return False


async def on_decision_closed(services: Services, decision: Decision) -> None:
    """``handlers.decisions.ON_CLOSED``: a ratification's outcome reaches its draft (once)."""
    draft = await store.by_decision(services.db, decision.id)
    if draft is None or draft.status != store.DRAFT:
        return
    chat = await chats.get(services.db, draft.chat_id)
    if chat is None:
        return
    lang = chat.language
    ref = Ref("decision", decision.id).tag
    if not approved(decision):
        seen: set[int] = _state(services).setdefault("rejected", set())
        if decision.id not in seen:  # the hook may run twice after a crash: say it once
            seen.add(decision.id)
            await services.outbox.send(
                chat.id, t(lang, "rules.not_ratified", ref=ref), **topic(lang, decision.thread_id)
            )
        await refresh_all(services, draft.id)
        return
    ratified = await store.ratify(services.db, decision.id, services.clock())
    if ratified is None:
        return
    assert ratified.number is not None
    before = await store.previous(services.db, chat.id, ratified.number)
    title = t(lang, "rules.ratified", number=ratified.number, ref=ref)
    # the outcome goes where the ratification was put to the vote (its decision's topic)
    await send_diff(services, chat.id, lang, title, before, ratified, thread_id=decision.thread_id)
    refresh_draft(services, ratified)
    log.info("house rules version %s ratified in chat %s", ratified.number, chat.id)


async def settle(services: Services, chat_id: int | None = None) -> None:
    """Drafts whose ratification closed while the outcome did not reach them (a crash
    between the close and the hook): settled now."""
    for draft in await store.voting_drafts(services.db, chat_id):
        assert draft.decision_id is not None
        decision = await decision_store.get(services.db, draft.decision_id)
        if decision is not None and not decision.is_open and approved(decision):
            await on_decision_closed(services, decision)


# --- /rules ----------------------------------------------------------------------------------


async def _allowed(turn: Turn, action: Action) -> None:
    if not await turn.may(action):
        needed = required_role(action, turn.chat.settings)
        raise DomainError("error.not_allowed", who=Html(turn.t(role_key(needed))))


@command(where=GROUP_ONLY)
async def rules_(turn: Turn) -> None:
    await settle(turn.services, turn.chat.id)
    words = turn.rest.split()
    first = domain.fold(words[0]) if words else ""
    if not words:
        await show_current(turn)
    elif first in domain.DRAFT_WORDS:
        await draft(turn, turn.rest.split(maxsplit=1)[1] if len(words) > 1 else "")
    elif first in domain.RATIFY_WORDS:
        await ratify(turn, turn.rest.split(maxsplit=1)[1] if len(words) > 1 else "")
    elif first in domain.HISTORY_WORDS:
        await history(turn)
    elif first in domain.COMPARE_WORDS:
        await compare(turn, words[1:])
    elif first in domain.DISCARD_WORDS:
        await discard(turn)
    elif first in EXPORT_WORDS:
        await export_rules(turn)
    else:
        word = words[1] if first in domain.SHOW_WORDS and len(words) > 1 else words[0]
        wanted = domain.parse_version(word)
        if wanted is None:
            raise DomainError("rules.usage")
        await show_version(turn, wanted)


async def _resolve(turn: Turn, wanted: int | str) -> store.Version:
    db = turn.services.db
    found: store.Version | None
    if wanted == "draft":
        found = await store.draft_of(db, turn.chat.id)
        if found is None or not found.has_text:
            raise DomainError("rules.no_draft")
        return found
    if wanted == "current":
        found = await store.current(db, turn.chat.id)
        if found is None:
            raise DomainError("rules.none")
        return found
    assert isinstance(wanted, int)
    found = await store.by_number(db, turn.chat.id, wanted)
    if found is None:
        raise DomainError("rules.no_version", number=wanted)
    return found


async def show_current(turn: Turn) -> None:
    found = await store.current(turn.services.db, turn.chat.id)
    if found is None:
        has_draft = await store.draft_of(turn.services.db, turn.chat.id) is not None
        await turn.reply("rules.none_with_draft" if has_draft else "rules.none")
        return
    await _post_version(turn, found, pin=await turn.role() >= Role.LEAD)


async def show_version(turn: Turn, wanted: int | str) -> None:
    found = await _resolve(turn, wanted)
    if found.status == store.DRAFT:
        await _post_draft_card(turn, found)
        return
    await _post_version(turn, found, pin=False)


async def _post_version(turn: Turn, version: store.Version, *, pin: bool) -> None:
    lang, tz = turn.lang, turn.chat.timezone
    current = await store.current(turn.services.db, turn.chat.id)
    head = version_head(lang, tz, version)
    if current is not None and current.id != version.id:
        head += "\n" + t(lang, "rules.not_in_force", number=current.number)
    pages = text_pages(lang, head, version)
    if len(pages) > 1:  # several messages of the group's budget: once a minute
        shown: dict[tuple[str, int], float] = _state(turn.services)["shown"]
        key = (f"rules{turn.chat.id}", version.id)
        last = shown.get(key)
        if last is not None and time.monotonic() - last < TEXT_COOLDOWN:
            raise DomainError("rules.just_shown")
        shown[key] = time.monotonic()
    if len(pages) > MAX_PAGES:
        await turn.say(pages[0] + "\n\n" + t(lang, "rules.long_as_file"))
        await _send_file(turn, version)
        return
    markup = None
    if pin:
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t(lang, "rules.btn_pin"), callback_data=f"hr:p:{version.id}")]]
        )
    for n, page in enumerate(pages):
        await turn.say(page, markup=markup if n == 0 else None)


async def _send_file(turn: Turn, version: store.Version) -> None:
    """The version (or the draft) as a Markdown text file, in the group."""
    lang, tz = turn.lang, turn.chat.timezone
    if version.number is None or version.ratified_at is None:
        title = t(lang, "rules.draft_file_title")
        name, caption = "house-rules-draft.md", t(lang, "rules.draft_file_caption")
    else:
        date = _day(version.ratified_at, lang, tz)
        title = t(lang, "rules.file_title", number=version.number, date=date)
        name = f"house-rules-v{version.number}.md"
        caption = t(lang, "rules.file_caption", number=version.number)
    content = plain_text(lang, tz, version, title).encode("utf-8")
    await turn.services.outbox.send_document(turn.chat.id, content, name, caption=caption)


async def export_rules(turn: Turn) -> None:
    found = await store.current(turn.services.db, turn.chat.id)
    if found is None:
        raise DomainError("rules.none")
    await _send_file(turn, found)


async def _post_draft_card(turn: Turn, draft_: store.Version) -> None:
    rendered = await render_draft_card(turn.services, draft_.id)
    assert rendered is not None
    message = await turn.say(rendered[0], markup=rendered[1])
    if message is not None:
        await store.set_message(turn.services.db, draft_.id, message.message_id)


async def draft(turn: Turn, text: str) -> None:
    """/rules draft [text]: the draft (started from the version in force) and its text.
    Anyone may read the draft (to amend it); only leads and organizers start or replace it."""
    if not text.strip() and not await turn.may(Action.CREATE_DECISION):
        shown = await store.draft_of(turn.services.db, turn.chat.id)
        if shown is not None:
            await _post_draft_card(turn, shown)
            return
    await _allowed(turn, Action.CREATE_DECISION)
    assert turn.user is not None
    services = turn.services
    found, created = await store.start_draft(
        services.db,
        turn.chat.id,
        creator_id=turn.user.id,
        creator_name=display_name(turn.user),
        now=turn.now,
        thread_id=turn.thread_id,
    )
    if text.strip():
        await _set_text(turn, found, text)
        return
    if created:
        await turn.reply("rules.draft_started")
    await _post_draft_card(turn, found)


async def _set_text(turn: Turn, found: store.Version, raw: str, *, confirm: bool = False) -> None:
    """The draft's new text. With ``confirm`` (a reply or a file, which a lead may send by
    mistake — a comment replying to the card), a draft that has a text already is replaced
    only after the sender's Replace press."""
    parsed = domain.parse_text(raw)
    if await _voting(turn.services, found) is not None:
        raise DomainError("rules.voting")
    same = (parsed.preamble, parsed.articles) == (found.preamble, found.articles)
    if confirm and found.has_text and not same:
        await _ask_replace(turn, found, parsed)
        return
    await _store_text(turn, found, parsed)


async def _ask_replace(turn: Turn, found: store.Version, parsed: domain.Text) -> None:
    assert turn.user is not None
    pending: dict[tuple[int, int], tuple[int, domain.Text, float, int]] = _state(turn.services)[
        "pending"
    ]
    if len(pending) > 1000:
        pending.clear()
    token = next(_TOKENS)  # the question's own: an older question never applies a newer text
    pending[(turn.chat.id, turn.user.id)] = (found.id, parsed, time.monotonic(), token)
    changes = domain.diff(found.articles, parsed.articles)
    count = len(parsed.articles)
    text = tn(
        turn.lang,
        "rules.replace_ask",
        count,
        old=len(found.articles),
        articles=count,
        changes=len(changes),
    )
    vid = found.id
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    turn.t("rules.btn_replace"), callback_data=f"hr:y:{vid}:{token}"
                ),
                InlineKeyboardButton(turn.t("rules.btn_keep"), callback_data=f"hr:n:{vid}:{token}"),
            ]
        ]
    )
    await turn.say(text, markup=markup)


async def _store_text(turn: Turn, found: store.Version, parsed: domain.Text) -> None:
    services = turn.services
    lost = await store.set_text(services.db, found.id, parsed, turn.now)
    current = await store.current(services.db, turn.chat.id)
    changes = domain.diff(current.articles if current else (), parsed.articles)
    key = "rules.draft_saved"
    count = len(parsed.articles)
    await turn.say(tn(turn.lang, key, count, articles=count, changes=len(changes)))
    if lost:
        await turn.reply("rules.amendments_lost", count=lost)
    again = await store.get(services.db, found.id)
    assert again is not None
    if again.message_id is None:
        await _post_draft_card(turn, again)
    else:
        await refresh_all(services, again.id)


async def discard(turn: Turn) -> None:
    await _allowed(turn, Action.MANAGE_DECISIONS)
    services = turn.services
    found = await store.draft_of(services.db, turn.chat.id)
    if found is None:
        raise DomainError("rules.no_draft")
    async with _lock(services, turn.chat.id):  # never while a ratification is being opened
        withdrawn = await store.discard(services.db, found.id, turn.now)
    await turn.reply("rules.discarded")
    refresh_draft(services, found)
    for amendment_id in withdrawn:
        await redraw_amendment(services, amendment_id)


async def ratify(turn: Turn, options: str) -> None:
    """/rules ratify [rule] [| closes=…]: a formal decision on the draft."""
    await _allowed(turn, Action.MANAGE_DECISIONS)
    async with _lock(turn.services, turn.chat.id):
        await _ratify(turn, options)


async def _ratify(turn: Turn, options: str) -> None:
    assert turn.user is not None
    services = turn.services
    db = services.db
    found = await store.draft_of(db, turn.chat.id)
    if found is None or not found.has_text:
        raise DomainError("rules.no_draft")
    if await _voting(services, found) is not None:
        raise DomainError("rules.voting")
    pending = await store.amendments(db, found.id, store.PENDING)
    if pending:
        raise DomainError("rules.pending_first", ids=", ".join(str(a.id) for a in pending[:10]))
    current = await store.current(db, turn.chat.id)
    if current is not None and (current.articles, current.preamble) == (
        found.articles,
        found.preamble,
    ):
        raise DomainError("rules.unchanged", number=current.number)
    numbers = [v.number for v in await store.ratified(db, turn.chat.id) if v.number]
    number = domain.next_version(numbers)
    count = len(found.articles)
    title = tn(turn.lang, "rules.decision_title", count, number=number, articles=count)
    segments = [s.strip() for s in options.split("|")] if options.strip() else []
    request = decisions_.parse_request(
        " | ".join([title, *segments]),
        lang=turn.lang,
        tz=turn.chat.timezone,
        now=turn.now,
        default_rule=DEFAULT_RULE,
    )
    if request.part is not None:  # read, then dropped: the lead thought one entrance voted
        raise DomainError("rules.no_part")
    try:
        decision_id, row_id = await decision_store.create(
            db,
            chat_id=turn.chat.id,
            title=request.title,
            rule=request.rule.text,
            secret=request.secret,
            creator_id=turn.user.id,
            creator_name=display_name(turn.user),
            closes_at=request.closes,
            now=turn.now,
            thread_id=turn.thread_id,  # its outcome, the new version, comes back here
        )
    except DomainError as exc:
        if exc.key != "decision.missing_area_labels":
            raise
        # owners' rules count floor area; a residents' convention need not
        await turn.say(turn.t(exc.key, **exc.params) + "\n" + turn.t("rules.area_hint"))
        return
    services.scheduler.arm(row_id, request.closes)
    if not await store.open_ratification(db, found.id, decision_id, request.rule.text, turn.now):
        log.warning("draft %s changed while its ratification opened", found.id)  # pragma: no cover
    await turn.reply(
        "rules.ratify_opened",
        ref=Ref("decision", decision_id).tag,
        rule=rule_name(turn.lang, request.rule.text),
    )
    rendered = await decisions_.render(services, decision_id)
    assert rendered is not None
    message = await turn.say(rendered[0], markup=rendered[1])
    if message is not None:
        await decision_store.set_message(db, decision_id, message.message_id)
    await refresh_all(services, found.id)


async def history(turn: Turn) -> None:
    db = turn.services.db
    lang, tz = turn.lang, turn.chat.timezone
    versions = await store.ratified(db, turn.chat.id)
    found = await store.draft_of(db, turn.chat.id)
    if not versions and found is None:
        raise DomainError("rules.none")
    lines = [turn.t("rules.history_head")]
    if found is not None:
        count = len(found.articles)
        lines.append(tn(turn.lang, "rules.history_draft", count, articles=count))
    for v in versions[:30]:
        assert v.number is not None and v.ratified_at is not None
        ref = Ref("decision", v.decision_id).tag if v.decision_id else "—"
        lines.append(
            tn(
                lang,
                "rules.history_item",
                len(v.articles),
                number=v.number,
                date=_day(v.ratified_at, lang, tz),
                articles=len(v.articles),
                rule=rule_name(lang, v.rule or ""),
                ref=ref,
            )
        )
    lines.append(turn.t("rules.history_how"))
    rows: list[list[InlineKeyboardButton]] = []
    if found is not None and found.has_text and versions:
        rows.append(
            [
                InlineKeyboardButton(
                    turn.t("rules.btn_compare_draft", number=versions[0].number),
                    callback_data=f"hr:v:{versions[0].id}:{found.id}",
                )
            ]
        )
    older_of = {newer.id: older for newer, older in itertools.pairwise(versions)}
    for version in versions[:4]:
        row = [
            InlineKeyboardButton(
                turn.t("rules.btn_show", number=version.number),
                callback_data=f"hr:w:{version.id}",
            )
        ]
        older = older_of.get(version.id)
        if older is not None:
            row.append(
                InlineKeyboardButton(
                    turn.t("rules.btn_compare", old=older.number, new=version.number),
                    callback_data=f"hr:v:{older.id}:{version.id}",
                )
            )
        rows.append(row)
    await turn.say("\n".join(lines), markup=InlineKeyboardMarkup(rows) if rows else None)


async def compare(turn: Turn, words: list[str]) -> None:
    db = turn.services.db
    old: store.Version | None
    new: store.Version
    if len(words) >= 2:
        a, b = domain.parse_version(words[0]), domain.parse_version(words[1])
        if a is None or b is None:
            raise DomainError("rules.compare_usage")
        old, new = await _resolve(turn, a), await _resolve(turn, b)
    elif len(words) == 1:
        b = domain.parse_version(words[0])
        if b is None:
            raise DomainError("rules.compare_usage")
        new = await _resolve(turn, b)
        old = await _before(turn, new)
    else:
        found = await store.draft_of(db, turn.chat.id)
        if found is not None and found.has_text:
            new = found
        else:
            new = await _resolve(turn, "current")
        old = await _before(turn, new)
    await _post_diff(turn, old, new)


async def _before(turn: Turn, new: store.Version) -> store.Version | None:
    if new.number is None:
        return await store.current(turn.services.db, turn.chat.id)
    return await store.previous(turn.services.db, turn.chat.id, new.number)


def _name(lang: str, version: store.Version | None) -> str:
    if version is None:
        return t(lang, "rules.name_nothing")
    if version.number is None:
        return t(lang, "rules.name_draft")
    return t(lang, "rules.name_version", number=version.number)


async def _post_diff(turn: Turn, old: store.Version | None, new: store.Version) -> None:
    lang = turn.lang
    title = t(lang, "rules.compare_head", old=_name(lang, old), new=_name(lang, new))
    await send_diff(turn.services, turn.chat.id, lang, title, old, new)


# --- replies and files to the draft's card ----------------------------------------------------


def _decode(data: bytes) -> str:
    """A text file's text: UTF-8 (with or without a BOM), else GB18030, else Windows-1251.
    A Russian Windows-1251 text is not GB18030: a word of an odd number of letters followed
    by a space or a line break leaves a byte GB18030 cannot end on."""
    for encoding in ("utf-8-sig", "gb18030", "cp1251"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError("rules.file_unreadable")  # pragma: no cover - cp1251 decodes nearly all


async def _document_text(turn: Turn) -> str | None:
    message = turn.message
    document = message.document if message is not None else None
    if document is None:
        return None
    name = (document.file_name or "").casefold()
    if not name.endswith((".txt", ".md", ".markdown")) and document.mime_type not in (
        "text/plain",
        "text/markdown",
    ):
        raise DomainError("rules.file_kind")
    if document.file_size is not None and document.file_size > MAX_FILE:
        raise DomainError("rules.file_too_big", limit=MAX_FILE // 1024)
    try:
        file = await turn.context.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not download a rules file in chat %s: %s", turn.chat.id, exc)
        raise DomainError("rules.file_download_failed") from None
    if len(data) > MAX_FILE:
        raise DomainError("rules.file_too_big", limit=MAX_FILE // 1024)
    return _decode(data)


async def _to_draft(turn: Turn, found: store.Version) -> None:
    """A message or file given as the draft's text (a reply to its card, or a file captioned
    /rules draft)."""
    message = turn.message
    assert message is not None
    if not await turn.may(Action.CREATE_DECISION):
        if message.document is not None:
            raise DomainError("rules.reply_not_lead")
        try:  # a resident's comment replying to the card is conversation, not ours to answer
            domain.parse_text(message.text or "")
        except DomainError:
            return
        raise DomainError("rules.reply_not_lead")
    text = await _document_text(turn)
    if text is None:
        text = message.text or ""
    await _set_text(turn, found, text, confirm=True)


async def _reply(update: Any, context: Any) -> None:
    """Group messages replying to the bot (handler group of its own): a reply to a draft card
    is its new text; anything else is not ours and is left alone."""
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    chat = update.effective_chat
    if chat is None or message is None:
        return
    services: Services = context.services
    caption = (message.caption or "").strip()
    by_caption = message.document is not None and _caption_is_draft(caption)
    found: store.Version | None = None
    if replied is None and not by_caption:
        return
    if replied is not None and not by_caption:
        if replied.from_user is None or replied.from_user.id != context.bot.id:
            return
        found = await store.by_message(services.db, chat.id, replied.message_id)
        if found is None and _looks_like_draft_card(replied.text or ""):
            # an older card of the draft (someone posted it again since): still the draft
            found = await store.draft_of(services.db, chat.id)
        if found is None:
            return
    turn = await open_turn(update, context)
    if turn is None:
        return
    if found is not None and found.status != store.DRAFT:  # a card of a settled draft
        if await turn.may(Action.CREATE_DECISION):  # a resident's reply is conversation
            await turn.reply("rules.draft_settled")
        return
    try:
        if by_caption:
            await _allowed(turn, Action.CREATE_DECISION)
            assert turn.user is not None
            found, _ = await store.start_draft(
                services.db,
                chat.id,
                creator_id=turn.user.id,
                creator_name=display_name(turn.user),
                now=turn.now,
            )
        assert found is not None
        await _to_draft(turn, found)
    except DomainError as exc:
        await turn.reply(exc.key, **exc.params)


def _looks_like_draft_card(text: str) -> bool:
    """A draft card's first words, in any of our languages ("📝 Draft of the house rules")."""
    for lang in SUPPORTED:
        head = plain(tn(lang, "rules.draft_head", 2, articles=2)).split("·", 1)[0].strip()
        if head and text.startswith(head):
            return True
    return False


def _caption_is_draft(caption: str) -> bool:
    words = caption.split()
    if len(words) < 2:
        return False
    command_word = words[0].split("@", 1)[0].casefold()
    return command_word == "/rules" and domain.fold(words[1]) in domain.DRAFT_WORDS


# --- /amend ----------------------------------------------------------------------------------


@command(where=GROUP_ONLY, counts=True)
async def amend(turn: Turn) -> None:
    await settle(turn.services, turn.chat.id)
    raw = turn.rest
    words = raw.split()
    first = domain.fold(words[0]) if words else ""
    if first in ACCEPT_WORDS | DECLINE_WORDS:
        await _decide_command(turn, first in ACCEPT_WORDS, words[1:], raw)
        return
    if first in WITHDRAW_WORDS:
        amendment = await _amendment_of(turn, words[1:])
        assert turn.user is not None
        if not await store.withdraw(turn.services.db, amendment.id, turn.user.id, turn.now):
            raise DomainError("rules.not_your_amendment")
        await turn.reply("rules.withdrawn", id=amendment.id)
        await redraw_amendment(turn.services, amendment.id)
        return
    await _propose(turn, raw)


async def _propose(turn: Turn, raw: str) -> None:
    assert turn.user is not None
    services = turn.services
    request = domain.parse_amend(raw)
    text = request.text
    replied = turn.message.reply_to_message if turn.message is not None else None
    if not text and replied is not None:
        bot_id = turn.context.bot.id
        if replied.from_user is not None and replied.from_user.id != bot_id:
            text = replied.text or replied.caption or ""
    if not text:
        raise DomainError("rules.amend_usage")
    found = await store.draft_of(services.db, turn.chat.id)
    if found is None or not found.has_text:
        raise DomainError("rules.no_draft_to_amend")
    domain.check_article(request.article, len(found.articles))
    cleaned = domain.amendment_text(text, request.article, len(found.articles))
    amendment = await store.propose(
        services.db,
        found.id,
        article=request.article,
        text=cleaned,
        author_id=turn.user.id,
        author_name=display_name(turn.user),
        now=turn.now,
        thread_id=turn.thread_id,
    )
    rendered = render_amendment(turn.lang, turn.chat.timezone, amendment, False)
    message = await turn.say(rendered[0], markup=rendered[1])
    if message is not None:
        await store.set_amendment_message(services.db, amendment.id, message.message_id)
    refresh_draft(services, found)


async def _amendment_of(turn: Turn, words: list[str]) -> store.Amendment:
    """The amendment named (``7``, ``#7``) or the card replied to; in this chat."""
    db = turn.services.db
    found: store.Amendment | None = None
    if words:
        raw = words[0].lstrip("#№").rstrip(".:")
        if not is_id(raw):
            raise DomainError("rules.decide_usage")
        found = await store.amendment(db, int(raw))
    else:
        replied = turn.message.reply_to_message if turn.message is not None else None
        if replied is not None:
            found = await store.amendment_by_message(db, turn.chat.id, replied.message_id)
        if found is None:
            raise DomainError("rules.decide_usage")
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("rules.no_amendment", id=words[0][:12] if words else "?")
    return found


async def _decide_command(turn: Turn, accept: bool, words: list[str], raw: str) -> None:
    await _allowed(turn, Action.MANAGE_DECISIONS)
    reply_form = not words or not is_id(words[0].lstrip("#№").rstrip(".:"))
    amendment = await _amendment_of(turn, [] if reply_form else words)
    rest = raw.split(maxsplit=1 if reply_form else 2)
    reason = rest[-1].strip() if len(rest) > (1 if reply_form else 2) else ""
    await decide_amendment(turn, amendment, accept=accept, reason=reason)


async def decide_amendment(
    turn: Turn, amendment: store.Amendment, *, accept: bool, reason: str
) -> None:
    assert turn.user is not None
    if not accept and not reason:
        raise DomainError("rules.reason_needed", id=amendment.id)
    reason = shorten(" ".join(reason.split()), 300) if reason else ""
    services = turn.services
    done = await store.decide(
        services.db,
        amendment.id,
        accept=accept,
        reason=reason or None,
        by_id=turn.user.id,
        by_name=display_name(turn.user),
        now=turn.now,
    )
    key = "rules.declined_notice"
    if accept:
        key = "rules.accepted_notice" if reason else "rules.accepted_notice_plain"
    text = turn.t(
        key,
        id=done.id,
        target=Html(amendment_target(turn.lang, done)),
        name=display_name(turn.user),
        reason=reason or "—",
    )
    await turn.services.outbox.send(turn.chat.id, text)
    refresh_amendment(services, done)
    draft_ = await store.get(services.db, done.version_id)
    if draft_ is not None:
        refresh_draft(services, draft_)


# --- buttons ---------------------------------------------------------------------------------


async def _own_amendment(turn: Turn, raw: str) -> store.Amendment:
    if not is_id(raw):
        raise DomainError("error.stale_button")
    found = await store.amendment(turn.services.db, int(raw))
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    return found


async def _own_version(turn: Turn, raw: str) -> store.Version:
    if not is_id(raw):
        raise DomainError("error.stale_button")
    found = await store.get(turn.services.db, int(raw))
    if found is None or found.chat_id != turn.chat.id:
        raise DomainError("error.stale_button")
    return found


@button(counts=True)
async def support_button(turn: Turn, parts: list[str]) -> None:
    """hr:s:<id> support, hr:u:<id> withdraw the support — for every approved household of
    the presser in this group."""
    if len(parts) != 2 or parts[0] not in ("s", "u"):
        raise DomainError("error.stale_button")
    amendment = await _own_amendment(turn, parts[1])
    if amendment.status != store.PENDING:
        raise DomainError("rules.amendment_closed")
    assert turn.user is not None
    db = turn.services.db
    claims = await units.claims_of(db, turn.chat.id, turn.user.id)
    mine = [c for c in claims if c.status == units.APPROVED]
    away = [c.label for c in claims if c.status == units.SUSPENDED]
    if not mine and away:  # not "register first": claiming again would not bring it back
        raise DomainError("rules.no_household_suspended", labels=", ".join(away))
    if not mine:
        raise DomainError("rules.no_household")
    if parts[0] == "s" and amendment.author_id == turn.user.id:
        raise DomainError("rules.own_amendment")
    on = parts[0] == "s"
    changed = await store.support(
        db, amendment.id, [c.unit_id for c in mine], turn.user.id, turn.now, on=on
    )
    labels = ", ".join(c.label for c in mine)
    if on:
        await turn.answer(
            "rules.supported" if changed else "rules.supported_already", labels=labels
        )
    else:
        await turn.answer(
            "rules.unsupported" if changed else "rules.unsupported_none", labels=labels
        )
    if changed:
        refresh_amendment(turn.services, amendment)


@button(action=Action.MANAGE_DECISIONS)
async def decide_button(turn: Turn, parts: list[str]) -> None:
    """hr:a:<id> accept; hr:d:<id> decline — which needs a reason, so the press says how."""
    if len(parts) != 2 or parts[0] not in ("a", "d"):
        raise DomainError("error.stale_button")
    amendment = await _own_amendment(turn, parts[1])
    if amendment.status != store.PENDING:
        raise DomainError("rules.amendment_closed")
    if parts[0] == "d":
        await turn.answer("rules.decline_how", alert=True, id=amendment.id)
        return
    await turn.answer("rules.accepting", id=amendment.id)
    try:
        await decide_amendment(turn, amendment, accept=True, reason="")
    except DomainError as exc:  # answered already: the refusal goes to the group
        await turn.say(turn.t(exc.key, **exc.params))


@button()
async def draft_button(turn: Turn, parts: list[str]) -> None:
    """hr:x:<id> whole text, hr:c:<id> changes, hr:r:<id> ratify (leads, confirmed)."""
    if len(parts) != 2 or parts[0] not in ("x", "c", "r"):
        raise DomainError("error.stale_button")
    found = await _own_version(turn, parts[1])
    if found.status != store.DRAFT or not found.has_text:
        raise DomainError("rules.no_draft")
    services = turn.services
    if parts[0] == "r":
        await _ratify_press(turn, found)
        return
    shown: dict[tuple[str, int], float] = _state(services)["shown"]
    key = (parts[0], found.id)
    last = shown.get(key)
    if last is not None and time.monotonic() - last < TEXT_COOLDOWN:
        raise DomainError("rules.just_shown")
    if len(shown) > 1000:
        shown.clear()
    shown[key] = time.monotonic()
    await turn.answer()
    lang = turn.lang
    if parts[0] == "x":
        pages = text_pages(lang, t(lang, "rules.draft_text_head"), found)
        if len(pages) > MAX_PAGES:
            await services.outbox.send(
                turn.chat.id, pages[0] + "\n\n" + t(lang, "rules.long_as_file")
            )
            await _send_file(turn, found)
            return
        for page in pages:
            await services.outbox.send(turn.chat.id, page)
        return
    current = await store.current(services.db, turn.chat.id)
    title = t(lang, "rules.compare_head", old=_name(lang, current), new=_name(lang, found))
    await send_diff(services, turn.chat.id, lang, title, current, found)


async def _ratify_press(turn: Turn, found: store.Version) -> None:
    if not await turn.may(Action.MANAGE_DECISIONS):
        await turn.answer(
            "error.not_allowed_button",
            alert=True,
            who=Html(t(turn.personal_lang, role_key(Role.LEAD))),
        )
        return
    assert turn.user is not None
    confirm: dict[tuple[int, int], float] = _state(turn.services)["confirm"]
    key = (found.id, turn.user.id)
    asked = confirm.pop(key, None)
    if asked is None or time.monotonic() - asked > CONFIRM_SECONDS:
        if len(confirm) > 1000:
            confirm.clear()
        confirm[key] = time.monotonic()
        await turn.answer("rules.ratify_confirm", alert=True, rule=RuleText(DEFAULT_RULE))
        return
    await turn.answer("rules.ratifying")
    try:
        async with _lock(turn.services, turn.chat.id):
            await _ratify(turn, "")
    except DomainError as exc:
        await turn.say(turn.t(exc.key, **exc.params))


@button(action=Action.CREATE_DECISION)
async def replace_button(turn: Turn, parts: list[str]) -> None:
    """hr:y:<draft>:<n> replace the draft's text with the one its presser sent; hr:n: keep
    the draft. Only the person who sent the text answers (the text waits in memory only: after
    a restart it is sent again)."""
    if len(parts) != 3 or parts[0] not in ("y", "n") or not is_id(parts[2]):
        raise DomainError("error.stale_button")
    found = await _own_version(turn, parts[1])
    assert turn.user is not None
    pending: dict[tuple[int, int], tuple[int, domain.Text, float, int]] = _state(turn.services)[
        "pending"
    ]
    key = (turn.chat.id, turn.user.id)
    waiting = pending.get(key)
    if (
        waiting is None
        or waiting[0] != found.id
        or waiting[3] != int(parts[2])
        or time.monotonic() - waiting[2] > PENDING_SECONDS
    ):
        raise DomainError("rules.replace_gone")
    del pending[key]
    message = turn.query.message if turn.query is not None else None
    if parts[0] == "n":
        await turn.answer("rules.replace_kept")
        if message is not None:
            await turn.services.outbox.edit(
                turn.chat.id, message.message_id, turn.t("rules.replace_kept"), repost=False
            )
        return
    if found.status != store.DRAFT:
        raise DomainError("rules.no_draft")
    await turn.answer("rules.replacing")
    try:
        await _store_text(turn, found, waiting[1])
    except DomainError as exc:  # answered already: the refusal goes to the group
        await turn.say(turn.t(exc.key, **exc.params))
        return
    if message is not None:
        await turn.services.outbox.edit(
            turn.chat.id, message.message_id, turn.t("rules.replace_done"), repost=False
        )


@button(action=Action.MANAGE_DECISIONS)
async def pin_button(turn: Turn, parts: list[str]) -> None:
    """hr:p:<version id> — pin the /rules message pressed."""
    if len(parts) != 2 or parts[0] != "p":
        raise DomainError("error.stale_button")
    found = await _own_version(turn, parts[1])
    if found.status != store.RATIFIED or turn.query is None or turn.query.message is None:
        raise DomainError("error.stale_button")
    current = await store.current(turn.services.db, turn.chat.id)
    if current is None or current.id != found.id:
        raise DomainError("rules.pin_outdated", number=current.number if current else 0)
    message_id = turn.query.message.message_id
    if await turn.services.outbox.pin(turn.chat.id, message_id, report=False):
        await turn.answer("rules.pinned")
    else:
        await turn.answer("rules.pin_refused", alert=True)


@button()
async def show_button(turn: Turn, parts: list[str]) -> None:
    """hr:w:<version> — post a ratified version of this group (from /rules history)."""
    if len(parts) != 2 or parts[0] != "w":
        raise DomainError("error.stale_button")
    found = await _own_version(turn, parts[1])
    if found.status != store.RATIFIED:
        raise DomainError("error.stale_button")
    await turn.answer()
    try:
        await _post_version(turn, found, pin=False)
    except DomainError as exc:  # answered already: the refusal goes to the group
        await turn.say(turn.t(exc.key, **exc.params))


@button()
async def compare_button(turn: Turn, parts: list[str]) -> None:
    """hr:v:<old id>:<new id> — what changed between two versions of this group."""
    if len(parts) != 3 or parts[0] != "v":
        raise DomainError("error.stale_button")
    old = await _own_version(turn, parts[1])
    new = await _own_version(turn, parts[2])
    if old.status == store.DISCARDED or new.status == store.DISCARDED:
        raise DomainError("error.stale_button")
    shown: dict[tuple[str, int], float] = _state(turn.services)["shown"]
    key = (f"v{old.id}", new.id)
    last = shown.get(key)
    if last is not None and time.monotonic() - last < TEXT_COOLDOWN:
        raise DomainError("rules.just_shown")
    shown[key] = time.monotonic()
    await turn.answer()
    lang = turn.lang
    title = t(lang, "rules.compare_head", old=_name(lang, old), new=_name(lang, new))
    await send_diff(turn.services, turn.chat.id, lang, title, old, new)


# --- digest ----------------------------------------------------------------------------------


async def rules_news(services: Services, chat: Chat, now: datetime) -> str | None:
    """The digest's line: a draft waiting (amendments, a vote), or a version ratified this
    week."""
    lang = chat.language
    lines: list[str] = []
    found = await store.draft_of(services.db, chat.id)
    if found is not None and found.has_text:
        voting = await _voting(services, found)
        if voting is not None:
            lines.append(
                t(
                    lang,
                    "rules.digest_voting",
                    ref=Ref("decision", voting.id).tag,
                    when=format_datetime(voting.closes_at, lang, chat.timezone),
                )
            )
        else:
            pending = len(await store.amendments(services.db, found.id, store.PENDING))
            lines.append(tn(lang, "rules.digest_draft", pending))
    current = await store.current(services.db, chat.id)
    if (
        current is not None
        and current.ratified_at is not None
        and now - current.ratified_at <= timedelta(days=7)
    ):
        lines.append(t(lang, "rules.digest_ratified", number=current.number))
    if not lines:
        return None
    return "\n".join([t(lang, "rules.digest_title"), *lines])


# --- wiring ----------------------------------------------------------------------------------


def register(app: Any) -> None:
    """Add this feature's handlers to the application."""
    app.add_handler(CommandHandler("rules", rules_, filters=NEW))
    app.add_handler(CommandHandler("amend", amend, filters=NEW))
    app.add_handler(CallbackQueryHandler(support_button, pattern=r"^hr:[su]:"))
    app.add_handler(CallbackQueryHandler(decide_button, pattern=r"^hr:[ad]:"))
    app.add_handler(CallbackQueryHandler(draft_button, pattern=r"^hr:[xcr]:"))
    app.add_handler(CallbackQueryHandler(pin_button, pattern=r"^hr:p:"))
    app.add_handler(CallbackQueryHandler(replace_button, pattern=r"^hr:[yn]:"))
    app.add_handler(CallbackQueryHandler(compare_button, pattern=r"^hr:v:"))
    app.add_handler(CallbackQueryHandler(show_button, pattern=r"^hr:w:"))
    # replies to the draft's card and files captioned /rules draft, in a handler group of
    # their own so that other features' message handlers still see every message
    app.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS
            & NEW
            & (
                (filters.REPLY & (filters.TEXT | filters.Document.ALL) & ~filters.COMMAND)
                | (filters.Document.ALL & filters.CaptionRegex(r"^/rules(@\w+)?\s"))
            ),
            _reply,
        ),
        group=8,
    )


def setup(services: Services) -> None:
    """Register the decision hook and the digest section."""
    if on_decision_closed not in decisions_.ON_CLOSED:
        decisions_.ON_CLOSED.append(on_decision_closed)
    if rules_news not in digest.SECTIONS:
        digest.SECTIONS.append(rules_news)
    refs.NAMED_EXPORTS.update(dict.fromkeys(("rules", "公约", "公約", "правила"), export_rules))
