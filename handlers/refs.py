"""Commands that act on a card of any feature: ``/close <ref>`` and ``/export <ref>``.

``/close P12`` · ``/export D3`` — or reply to the card with ``/close`` / ``/export``: the
reference is read from the card (every card ends with its ``#P12``). Features register what
closing and exporting mean for their kind::

    @refs.closer("poll")
    async def close_poll(turn: Turn, poll_id: int) -> None: ...

    @refs.exporter("decision")
    async def export_decision(turn: Turn, decision_id: int) -> Export: ...

A closer or exporter checks that the row exists, belongs to ``turn.chat`` and that the user may
act, raising ``DomainError`` otherwise (translated for the user by the command wrapper).
An export is sent to the requester in a private chat as a CSV file (UTF-8 with a byte-order
mark, so spreadsheet programs read Chinese and Russian correctly); if they never started the
bot (or blocked it), the group is told how to start it (the file is never posted in the group).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.domain.errors import DomainError
from bot.domain.refs import KINDS, LETTERS, Ref, find_ref, parse_ref
from bot.i18n import t
from handlers import deeplinks
from handlers.common import GROUP_ONLY, Turn, command

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Export:
    """A table to send: ``filename`` (no path), a header row and the rows, all strings."""

    filename: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]


Closer = Callable[[Turn, int], Awaitable[None]]
Exporter = Callable[[Turn, int], Awaitable[Export]]

CLOSERS: dict[str, Closer] = {}
EXPORTERS: dict[str, Exporter] = {}
#: ``/export <word>`` for what has no reference (``/export rules``): the word, folded, to a
#: feature's own sender (it sends what it exports itself).
NAMED_EXPORTS: dict[str, Callable[[Turn], Awaitable[None]]] = {}


def closer(kind: str) -> Callable[[Closer], Closer]:
    """Register what ``/close`` does for ``kind`` (a name of bot.domain.refs.KINDS)."""
    if kind not in LETTERS:
        raise ValueError(f"unknown kind {kind!r}")

    def deco(fn: Closer) -> Closer:
        CLOSERS[kind] = fn
        return fn

    return deco


def exporter(kind: str) -> Callable[[Exporter], Exporter]:
    """Register what ``/export`` sends for ``kind``."""
    if kind not in LETTERS:
        raise ValueError(f"unknown kind {kind!r}")

    def deco(fn: Exporter) -> Exporter:
        EXPORTERS[kind] = fn
        return fn

    return deco


def target(turn: Turn, usage: str, allowed: dict[str, object]) -> Ref:
    """The reference typed after the command, else the one of the card replied to."""
    text = turn.rest
    found: Ref | None = None
    if text:
        found = parse_ref(text.split()[0])
    elif turn.message is not None and turn.message.reply_to_message is not None:
        replied = turn.message.reply_to_message
        found = find_ref(replied.text or replied.caption or "")
    if found is None:
        raise DomainError(usage, kinds=", ".join(f"{LETTERS[k]}…" for k in allowed))
    if found.kind not in allowed:
        raise DomainError(f"{usage}_kind", ref=found.text)
    return found


#: A cell starting with one of these is read as a formula by spreadsheet programs (CSV
#: injection): a resident named "=HYPERLINK(...)" or a unit labelled "=1+2" must stay text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(cell: str) -> str:
    """``cell`` as inert text: a leading apostrophe when it would start a formula (the OWASP
    advice; spreadsheet programs hide the apostrophe and show the text as typed)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def to_csv(export: Export) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in export.header])
    writer.writerows([safe_cell(c) for c in row] for row in export.rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


@command(where=GROUP_ONLY)
async def close(turn: Turn) -> None:
    """/close <ref> or a reply to the card: the feature's closer decides who may."""
    found = target(turn, "refs.close_usage", dict(CLOSERS))
    await CLOSERS[found.kind](turn, found.id)


@command(where=GROUP_ONLY)
async def export(turn: Turn) -> None:
    """/export <ref> or a reply to the card: a CSV to the requester, privately."""
    assert turn.user is not None
    word = turn.rest.split()[0].casefold() if turn.rest else ""
    if word in NAMED_EXPORTS:
        await NAMED_EXPORTS[word](turn)
        return
    found = target(turn, "refs.export_usage", dict(EXPORTERS))
    if await _send_export(turn, turn.user.id, found):
        await turn.reply("refs.export_sent", ref=found.text)
        return
    # never started the bot, or blocked it: Telegram refuses the private chat. The button's
    # link, for this person only, sends the file once they press Start (computed again then,
    # with their rights at that moment).
    url = await deeplinks.link(
        turn.services,
        user_id=turn.user.id,
        chat_id=turn.chat.id,
        kind="export",
        args=found.text,
        now=turn.now,
    )
    await turn.reply("refs.export_start_first", markup=deeplinks.button(turn.lang, url))


async def _send_export(turn: Turn, user_id: int, found: Ref) -> bool:
    """The export of ``found`` (a group turn: its rules decide) to ``user_id`` privately."""
    table = await EXPORTERS[found.kind](turn, found.id)
    sent = await turn.services.outbox.send_document(
        user_id,
        to_csv(table),
        filename=table.filename,
        caption=t(turn.personal_lang, "refs.export_caption", ref=found.text, rows=len(table.rows)),
    )
    return sent is not None


@deeplinks.opener("export")
async def open_export(private: Turn, group: Turn, args: str) -> None:
    """The export promised by a link, now that the private chat is open."""
    found = parse_ref(args)
    if found is None or found.kind not in EXPORTERS or private.user is None:
        raise DomainError("link.expired")
    if not await group.is_member():  # a link outlives its owner's place in the group
        raise DomainError("link.not_member")
    if not await _send_export(group, private.user.id, found):
        raise DomainError("link.expired")


__all__ = [
    "CLOSERS",
    "EXPORTERS",
    "KINDS",
    "Export",
    "close",
    "closer",
    "export",
    "exporter",
    "safe_cell",
    "to_csv",
]
