"""The start-up cards check's listing (storage/cards.py) on both backends: every kind's
condition is SQL both accept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.settings import ChatSettings
from storage import cards, chats, units
from storage.db import Database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GROUP = -1001


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "courtyard.sqlite3")
    await chats.ensure(
        database, GROUP, type="group", title="Maple", defaults=ChatSettings(), now=NOW
    )
    yield database
    await database.close()


async def test_every_kind_of_card_can_be_listed(db: Database) -> None:
    """PostgreSQL refused the approval card's condition (``(1) OR EXISTS ...``: an integer is
    not a boolean there), so the check listed no card of any kind on PostgreSQL."""
    assert await cards.listed(db, cards.KINDS, NOW) == []


async def test_the_units_approval_card_is_listed_as_live(db: Database) -> None:
    await units.set_queue_card(db, GROUP, 501, now=NOW)
    listed = await cards.listed(db, ["unit_queue"], NOW)
    assert listed == [cards.Card("unit_queue", GROUP, GROUP, 501, True)]
