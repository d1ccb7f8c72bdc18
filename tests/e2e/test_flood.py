"""The per-user command rate limit: the bucket rule, and the bot keeping one resident from
flooding the group while others are still answered."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flood import FloodGuard, FloodLimits, Verdict
from playground import FakeTelegram
from tests.e2e.conftest import World, start_app, stop_app


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_one_notice_then_quiet_then_refill() -> None:
    clock = Clock()
    guard = FloodGuard(FloodLimits(burst=3, per_minute=6), clock)  # one token per 10 s
    assert [guard.check(1, 7) for _ in range(3)] == [Verdict.ALLOW] * 3
    assert guard.check(1, 7) is Verdict.WARN
    assert guard.wait_seconds(1, 7) == 10
    assert [guard.check(1, 7) for _ in range(5)] == [Verdict.DROP] * 5
    # another member, and the same member in another chat, are not affected
    assert guard.check(1, 8) is Verdict.ALLOW
    assert guard.check(2, 7) is Verdict.ALLOW
    clock.now += 9.9
    assert guard.check(1, 7) is Verdict.DROP
    clock.now += 0.2
    assert guard.check(1, 7) is Verdict.ALLOW  # a token came back; the notice may come again
    assert guard.check(1, 7) is Verdict.WARN
    clock.now += 3600
    assert [guard.check(1, 7) for _ in range(4)] == [Verdict.ALLOW] * 3 + [Verdict.WARN]
    assert guard.stats == {"allowed": 9, "warned": 3, "dropped": 6}


def test_memory_stays_bounded() -> None:
    clock = Clock()
    guard = FloodGuard(FloodLimits(burst=2, per_minute=60), clock)
    guard.MAX_BUCKETS = 100
    for user in range(1000):
        guard.check(1, user)
        clock.now += 1.0  # one second refills a token: old buckets are full again
    assert len(guard._buckets) <= 100


@pytest.mark.parametrize(("burst", "per_minute"), [(0, 1), (1, 0), (-1, 5)])
def test_limits_must_be_positive(burst: int, per_minute: float) -> None:
    with pytest.raises(ValueError):
        FloodLimits(burst=burst, per_minute=per_minute)


async def test_one_resident_cannot_make_the_bot_spam_the_group(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    app = await start_app(fake, tmp_path / "flood.sqlite3", flood=FloodLimits(4, 6))
    world = World(fake, app)
    try:
        guard = world.services.flood
        assert guard is not None
        clock = Clock()
        guard.clock = clock
        await world.with_bot()
        answers = []
        for _ in range(12):
            replies = await world.do(world.bob.send(world.court, "/help"))
            answers.append(replies.text(world.court))
        assert sum("What you can do" in a for a in answers) == 4
        notices = [a for a in answers if "faster than I can answer" in a]
        assert len(notices) == 1 and "10 s" in notices[0]
        assert sum(a == "" for a in answers) == 7  # ignored quietly
        # a neighbour is answered meanwhile
        replies = await world.do(world.carol.send(world.court, "/help"))
        assert replies.text(world.court)
        # ten seconds later Bob is answered again
        clock.now += 10
        replies = await world.do(world.bob.send(world.court, "/help"))
        assert "What you can do" in replies.text(world.court)
    finally:
        await stop_app(app)


async def test_leads_are_not_limited(fake: FakeTelegram, tmp_path: Path) -> None:
    app = await start_app(fake, tmp_path / "flood.sqlite3", flood=FloodLimits(2, 6))
    world = World(fake, app)
    try:
        guard = world.services.flood
        assert guard is not None
        guard.clock = Clock()
        await world.with_bot()
        answers = []
        for n in range(6):
            replies = await world.do(world.alice.send(world.court, f"/units add 1-{n:02d} 50"))
            answers.append(replies.text(world.court))
        assert all("1-0" in a for a in answers), answers
        rows = await world.services.db.fetchone("SELECT COUNT(*) AS n FROM units")
        assert rows is not None and rows["n"] == 6
    finally:
        await stop_app(app)
