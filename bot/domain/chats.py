"""A chat Courtyard lives in, as the rest of the code sees it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.settings import ChatSettings


@dataclass(frozen=True, slots=True)
class Chat:
    id: int
    type: str  # private | group | supergroup | channel
    title: str | None
    settings: ChatSettings
    active: bool

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    @property
    def language(self) -> str:
        return self.settings.language

    @property
    def timezone(self) -> str:
        return self.settings.timezone
