"""Fixtures for the fake Bot API tests: a started fake, a PTB Bot and a small cast."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from playground import FakeTelegram

from ._support import TOKEN, People, make_bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(
        token=TOKEN, bot_username="courtyard_bot", bot_first_name="Courtyard"
    ) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with make_bot(fake) as client:
        yield client


@pytest.fixture
def people(fake: FakeTelegram) -> People:
    return People(fake)
