"""The facts board (常用信息).

/info                         the group's facts
/info <word>                  the facts whose key (or text) has the word
/info set <key>: <text>       leads: add a fact or replace its text
/info remove <key>            leads
/info pin                     leads: post the board and pin it; it is kept up to date

A question in the group that names a fact's key gets the fact (bot.domain.facts.answer_for: a
question, one strong match, never a reply to the bot, each fact at most once per 30 minutes in
a group). The bot sees ordinary group messages only where it is an administrator or privacy
mode is off; elsewhere only /info works.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import CommandHandler, MessageHandler, filters

from bot.domain import facts as rules
from bot.domain.errors import DomainError
from bot.domain.languages import WordSet
from bot.domain.roles import Action, Role
from bot.domain.text import utf16_len
from bot.i18n import Html, escape, t
from bot.services import Services
from handlers.common import GROUP_ONLY, CourtyardContext, Turn, command, open_turn, role_key
from handlers.events import CARD_BUDGET
from storage import facts as store

NEW = filters.UpdateType.MESSAGE
#: ``Services.state`` key: (chat id, fact id) -> when the fact was last given in answer.
STATE = "facts"
#: PTB handler group of the question listener (its own: other features' message handlers
#: in a shared group would hide messages from it, or it from them).
QUESTION_GROUP = 13

SET_WORDS = WordSet({"set", "add", "设置", "设定", "添加", "新增", "установить", "добавить"})
REMOVE_WORDS = WordSet({"remove", "delete", "删除", "移除", "удалить", "убрать"})
PIN_WORDS = WordSet({"pin", "置顶", "закрепить"})


def _line(fact: rules.Fact) -> str:
    return f"• <b>{escape(fact.key)}</b>: {escape(fact.text)}"


def board_text(lang: str, facts: list[rules.Fact]) -> str:
    if not facts:
        return t(lang, "facts.empty")
    lines = [t(lang, "facts.title")]
    used = utf16_len(lines[0])
    for number, fact in enumerate(facts):
        line = _line(fact)
        if used + utf16_len(line) + 1 > CARD_BUDGET:
            lines.append(t(lang, "facts.more", n=len(facts) - number))
            break
        lines.append(line)
        used += utf16_len(line) + 1
    return "\n".join(lines)


async def _refresh_board(services: Services, chat_id: int, lang: str) -> None:
    message_id = await store.board(services.db, chat_id)
    if message_id is None:
        return

    async def render() -> tuple[str, None]:
        return board_text(lang, await store.all_of(services.db, chat_id)), None

    async def moved(new_id: int) -> None:
        await store.set_board(services.db, chat_id, new_id)

    services.outbox.refresh(chat_id, message_id, render, on_moved=moved)


async def _require_lead(turn: Turn) -> None:
    if not await turn.may(Action.MANAGE_FACTS):
        raise DomainError("error.not_allowed", who=Html(turn.t(role_key(Role.LEAD))))


@command(where=GROUP_ONLY)
async def info(turn: Turn) -> None:
    services = turn.services
    words = turn.rest.split(maxsplit=1)
    first = words[0].casefold() if words else ""
    rest = words[1] if len(words) > 1 else ""
    if not words:
        await turn.say(board_text(turn.lang, await store.all_of(services.db, turn.chat.id)))
        return
    if first in SET_WORDS:
        await _require_lead(turn)
        key, text = rules.parse_set(rest)
        added = await store.put(services.db, turn.chat.id, key, rules.fold(key), text, turn.now)
        if added is None:
            raise DomainError("facts.too_many", max=rules.MAX_FACTS)
        await turn.reply("facts.added" if added else "facts.replaced", key=key)
        await _refresh_board(services, turn.chat.id, turn.lang)
        return
    if first in REMOVE_WORDS:
        await _require_lead(turn)
        if not rules.fold(rest):
            raise DomainError("facts.remove_usage")
        if not await store.remove(services.db, turn.chat.id, rules.fold(rest)):
            raise DomainError("facts.not_found", word=rest[: rules.MAX_KEY])
        await turn.reply("facts.removed", key=rest.strip())
        await _refresh_board(services, turn.chat.id, turn.lang)
        return
    if first in PIN_WORDS and not rest:
        await _require_lead(turn)
        text = board_text(turn.lang, await store.all_of(services.db, turn.chat.id))
        message = await services.outbox.send(turn.chat.id, text, silent=True)
        if message is None:
            return
        await store.set_board(services.db, turn.chat.id, message.message_id)
        if not await services.outbox.pin(turn.chat.id, message.message_id, report=False):
            await turn.reply("facts.pin_refused")
        return
    found = rules.find(await store.all_of(services.db, turn.chat.id), turn.rest)
    if not found:
        raise DomainError("facts.not_found", word=turn.rest[: rules.MAX_KEY])
    await turn.say("\n".join(_line(f) for f in found[:10]))


async def question(update: Any, context: CourtyardContext) -> None:
    """A resident's question that names a fact gets the fact (see the module's notes)."""
    message = update.effective_message
    user = update.effective_user
    if message is None or not message.text or user is None or user.is_bot:
        return
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.is_bot:
        return  # a reply to the bot (or another bot) is a conversation, not a question to all
    if not rules.is_question(message.text):
        return
    services = context.services
    chat = update.effective_chat
    if chat is None:
        return
    facts = await store.all_of(services.db, chat.id)
    fact = rules.answer_for(facts, message.text)
    if fact is None:
        return
    given: dict[tuple[int, int], Any] = services.state.setdefault(STATE, {})
    now = services.clock()
    if not rules.may_answer(given.get((chat.id, fact.id)), now):
        return
    given[(chat.id, fact.id)] = now
    turn = await open_turn(update, context)
    if turn is None:
        return
    await turn.say(_line(fact))


def register(app: Any) -> None:
    app.add_handler(CommandHandler("info", info, filters=NEW))
    app.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS & NEW, question),
        group=QUESTION_GROUP,
    )


def setup(services: Services) -> None:
    return None
