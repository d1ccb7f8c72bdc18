"""Loose typing by an elderly resident: what a hurried hand puts between a command and its
words is not a reason to lose them."""

from __future__ import annotations

from storage import reports
from tests.e2e.conftest import World


async def test_a_comma_or_colon_after_the_command_keeps_the_first_word(world: World) -> None:
    """ "/report,lift broken" made a report of "broken": the first word went with the
    command, as it was glued to it (Telegram ends the command at the comma)."""
    await world.with_bot()
    for typed, title in (
        ("/report,lift broken", "lift broken"),
        ("/report:lift broken", "lift broken"),
        ("/report，电梯坏了", "电梯坏了"),
        ("/report: лифт сломался", "лифт сломался"),
        ("/report lift stuck", "lift stuck"),
    ):
        replies = await world.do(world.bob.send(world.court, typed))
        assert title in replies.text(world.court), typed
    found = [r.what for r in await reports.active(world.services.db, world.court.id)]
    assert sorted(found) == sorted(
        ["lift broken", "lift broken", "电梯坏了", "лифт сломался", "lift stuck"]
    )
