"""The one error type of the domain: a translatable refusal."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule said no. ``key`` names a catalog message; ``params`` fill its placeholders."""

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params: dict[str, Any] = params

    def __repr__(self) -> str:
        return f"DomainError({self.key!r}, **{self.params!r})"
