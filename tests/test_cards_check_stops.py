"""A database that closes while the cards are rendered ends the check at once: the rest of the
cards are not each rendered against the closed database (one logged traceback per card)."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import cards
from storage import cards as card_store
from storage.db import DatabaseClosed


class _Card:
    def __init__(self, row_id: int) -> None:
        self.kind = "test_closing"
        self.row_id = row_id


async def test_render_all_stops_at_a_closed_database(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    async def render(services: Any, row_id: int) -> None:
        calls.append(row_id)
        raise DatabaseClosed("closing")

    async def listed(*args: Any) -> list[_Card]:
        return [_Card(n) for n in range(50)]

    async def redraw(services: Any, row_id: int) -> None:
        return None

    kind = cards.CardKind(name="test_closing", render=render, redraw=redraw)
    monkeypatch.setitem(cards._KINDS, "test_closing", kind)
    monkeypatch.setattr(card_store, "listed", listed)

    class _Services:
        db = None

        @staticmethod
        def clock() -> None:
            return None

    report = cards.Report()
    with pytest.raises(DatabaseClosed):
        await cards.render_all(_Services(), report)  # type: ignore[arg-type]
    assert calls == [0] and report.failed == 0
