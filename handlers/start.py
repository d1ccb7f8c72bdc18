"""/start and /help."""

from __future__ import annotations

from bot.domain.commands import visible_commands
from bot.domain.text import utf16_len
from handlers import deeplinks
from handlers.common import Turn, command
from handlers.menus import chat_menus

#: One /help message stays below Telegram's 4096 UTF-16 units; a longer list is split between
#: commands (a lead in a group sees some fifty).
HELP_PART = 3800


@command()
async def start(turn: Turn) -> None:
    if turn.chat.is_private and turn.args and await deeplinks.open_link(turn, turn.args[0]):
        return
    if turn.chat.is_private:
        await turn.reply("start.private", name=turn.user.first_name if turn.user else "")
        await chat_menus(turn.context.bot, turn.chat, None)  # zh_Hant only: its own menu
    else:
        await turn.reply("start.group", bot=turn.services.bot_username)


def help_text(turn: Turn, lines: list[tuple[str, str, str]]) -> str:
    """Catalog texts are HTML already; they are joined, not escaped."""
    body = "\n".join(
        f"/{name} — {desc}" + ("" if example == f"/{name}" else f"\n    <i>{example}</i>")
        for name, desc, example in lines
    )
    header = turn.t("help.private" if turn.chat.is_private else "help.group")
    return f"{header}\n\n{body}\n\n{turn.t('help.footer', bot=turn.services.bot_username)}"


def help_parts(text: str, limit: int = HELP_PART) -> list[str]:
    """``text`` in messages of at most ``limit`` UTF-16 units, split at blank-free line
    boundaries between commands (a command's line and its example stay together)."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for block in text.split("\n/"):
        piece = block if not parts and not current else "/" + block
        length = utf16_len(piece) + 1
        if current and size + length > limit:
            parts.append("\n".join(current))
            current, size = [], 0
        current.append(piece)
        size += length
    if current:
        parts.append("\n".join(current))
    return parts


@command()
async def help_(turn: Turn) -> None:
    specs = visible_commands(turn.where, await turn.role(), turn.chat.settings)
    lines = [(s.name, turn.t(s.description_key), turn.t(s.example_key)) for s in specs]
    for part in help_parts(help_text(turn, lines)):
        await turn.say(part)
