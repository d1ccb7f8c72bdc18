"""The lead cache: shared lookups, failures and cancellation never leave waiters hanging, and a
change reported during a lookup is not overwritten by its (older) answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from telegram import Bot

from bot.roles import Roles
from playground import FakeTelegram
from storage.db import Database

TOKEN = "123456:TEST-roles-cache-token-abc"


@pytest.fixture
async def setup(tmp_path: Path):
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        alice = fake.user("Alice")
        bob = fake.user("Bob")
        court = fake.group("Court", admins=[alice], members=[bob], with_bot=True)
        db = await Database.open(tmp_path / "r.sqlite3")
        bot = Bot(TOKEN, base_url=fake.base_url)
        async with bot:
            yield fake, Roles(bot, db), court, alice, bob
        await db.close()


async def test_concurrent_lookups_share_one_request(setup) -> None:
    fake, roles, court, alice, _ = setup
    fake.inject("getChatAdministrators", delay=0.2)
    results = await asyncio.gather(*(roles.admins(court.id) for _ in range(10)))
    assert all(r == {alice.id} for r in results)
    assert roles.lookups == 1


async def test_a_failed_lookup_fails_every_waiter_and_the_next_one_retries(setup) -> None:
    from bot.roles import LOOKUP_ATTEMPTS

    fake, roles, court, alice, _ = setup
    fake.inject("getChatAdministrators", error_code=500, delay=0.1, times=LOOKUP_ATTEMPTS)
    results = await asyncio.gather(
        *(roles.admins(court.id) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, Exception) for r in results)
    assert await roles.admins(court.id) == {alice.id}


async def test_a_cancelled_lookup_does_not_hang_the_others(setup) -> None:
    fake, roles, court, _, _ = setup
    fake.inject("getChatAdministrators", delay=0.5)
    first = asyncio.create_task(roles.admins(court.id))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(roles.admins(court.id))
    await asyncio.sleep(0.05)
    first.cancel()
    done, _ = await asyncio.wait({second}, timeout=2)
    assert second in done  # it finished (with an error), it did not hang
    assert isinstance(second.exception(), Exception)


async def test_a_change_reported_during_a_lookup_wins(setup) -> None:
    fake, roles, court, alice, bob = setup
    fake.inject("getChatAdministrators", delay=0.3)
    lookup = asyncio.create_task(roles.admins(court.id))
    await asyncio.sleep(0.1)
    await fake.promote(court, bob, by=alice)  # Telegram's answer above may predate this
    roles.invalidate(court.id)  # ...which is what a chat_member update does
    await lookup
    assert bob.id in await roles.admins(court.id)


async def test_a_lookup_waits_out_a_429_and_retries_a_5xx(setup) -> None:
    """Telegram's "retry after" and a passing server error do not turn a command into an
    internal error: the lookup waits as asked, retries, and answers."""
    fake, roles, court, alice, _ = setup
    fake.inject("getChatAdministrators", error_code=429, retry_after=1, times=1)
    fake.inject("getChatAdministrators", error_code=502, times=1)
    assert await roles.admins(court.id) == {alice.id}
    calls = fake.calls_to("getChatAdministrators")
    assert [c.error_code for c in calls] == [429, 502, None]
    assert calls[1].at - calls[0].at >= 0.95  # the 429's wait was honoured
