"""/start and /help."""

from __future__ import annotations

from bot.domain.commands import visible_commands
from handlers.common import Turn, command


@command()
async def start(turn: Turn) -> None:
    if turn.chat.is_private:
        await turn.reply("start.private", name=turn.user.first_name if turn.user else "")
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


@command()
async def help_(turn: Turn) -> None:
    specs = visible_commands(turn.where, await turn.role(), turn.chat.settings)
    lines = [(s.name, turn.t(s.description_key), turn.t(s.example_key)) for s in specs]
    await turn.say(help_text(turn, lines))
