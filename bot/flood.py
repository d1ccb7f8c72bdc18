"""Per-user command rate limit: one resident cannot make the bot spam the group.

Each (chat, user) pair has a token bucket: ``burst`` commands at once, then one more every
``60 / per_minute`` seconds. The first command over the limit gets one polite, translated
notice; further ones are ignored silently until a token is back (a notice per ignored command
would itself be the spam we prevent). Leads (the group's admins) are not limited: they enter
stacks of paper ballots or units, and Telegram already trusts them with the group. Button
presses are not limited here: their answers are private to the presser and card edits are
coalesced by the outbox.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FloodLimits:
    burst: int = 8
    per_minute: float = 10.0

    def __post_init__(self) -> None:
        if self.burst < 1 or self.per_minute <= 0:
            raise ValueError("flood limits must be positive")


class Verdict(enum.Enum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit for the first time: tell them once
    DROP = "drop"  # still over the limit: ignore quietly


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class FloodGuard:
    #: Buckets kept at most; full ones are forgotten first (they carry no information).
    MAX_BUCKETS = 20_000

    def __init__(self, limits: FloodLimits, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self.clock = clock
        self._buckets: dict[tuple[int, int], _Bucket] = {}
        self.stats = {"allowed": 0, "warned": 0, "dropped": 0}

    def check(self, chat_id: int, user_id: int) -> Verdict:
        now = self.clock()
        rate = self.limits.per_minute / 60.0
        key = (chat_id, user_id)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.MAX_BUCKETS:
                self._prune(now, rate)
            bucket = self._buckets[key] = _Bucket(tokens=float(self.limits.burst), at=now)
        else:
            bucket.tokens = min(self.limits.burst, bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            self.stats["allowed"] += 1
            return Verdict.ALLOW
        if bucket.warned:
            self.stats["dropped"] += 1
            return Verdict.DROP
        bucket.warned = True
        self.stats["warned"] += 1
        return Verdict.WARN

    def wait_seconds(self, chat_id: int, user_id: int) -> int:
        """Whole seconds until this user's next command is accepted (at least 1)."""
        bucket = self._buckets.get((chat_id, user_id))
        if bucket is None:
            return 1
        missing = max(0.0, 1 - bucket.tokens)
        return max(1, int(missing * 60 / self.limits.per_minute + 0.999))

    def _prune(self, now: float, rate: float) -> None:
        full = [
            k
            for k, b in self._buckets.items()
            if b.tokens + (now - b.at) * rate >= self.limits.burst
        ]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self.MAX_BUCKETS:  # everyone is busy: start afresh
            self._buckets.clear()
