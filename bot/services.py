"""What every handler can reach: settings, database, outbox, roles and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.domain.settings import ChatSettings
from bot.flood import FloodGuard
from bot.outbox import Outbox
from bot.roles import Roles
from bot.scheduler import Scheduler
from storage.db import Database

Clock = Callable[[], datetime]


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    outbox: Outbox
    roles: Roles
    scheduler: Scheduler
    clock: Clock
    bot_username: str = ""
    seen: dict[tuple[int, int], tuple[str, float]] = field(default_factory=dict)
    #: per-user command rate limit (None: off, as in most tests)
    flood: FloodGuard | None = None
    #: per-feature in-memory state (caches, pending uploads), keyed by the feature's name
    state: dict[str, Any] = field(default_factory=dict)

    def defaults(self, language: str | None = None) -> ChatSettings:
        """Settings for a new chat: the operator's defaults, the language possibly overridden."""
        return ChatSettings(
            language=language or self.settings.language, timezone=self.settings.timezone
        )
