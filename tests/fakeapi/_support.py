"""Helpers shared by the fake Bot API tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from telegram import Bot
from telegram.ext import Application, ApplicationBuilder, BaseHandler
from telegram.request import HTTPXRequest

from playground import FakeChat, FakeTelegram, FakeUser

TOKEN = "123456:TEST"


def make_bot(fake: FakeTelegram, *, read_timeout: float = 3.0) -> Bot:
    """A plain PTB Bot talking to the fake."""
    return Bot(
        fake.token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        request=HTTPXRequest(read_timeout=read_timeout),
        get_updates_request=HTTPXRequest(read_timeout=read_timeout),
    )


class People:
    """Alice (creator of Maple Court), Bob and Кэрол (members); the bot is in the group."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.alice: FakeUser = fake.user("Alice", username="alice", language_code="en")
        self.bob: FakeUser = fake.user("Bob", last_name="Baker", username="bob")
        self.carol: FakeUser = fake.user("Кэрол", language_code="ru")
        self.court: FakeChat = fake.group(
            "Maple Court",
            admins=[self.alice],
            members=[self.bob, self.carol],
            with_bot=True,
        )


@contextlib.asynccontextmanager
async def running_app(
    fake: FakeTelegram,
    *handlers: BaseHandler[Any, Any, Any],
    allowed_updates: Sequence[str] | None = None,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A real PTB Application polling the fake, stopped cleanly afterwards."""
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=allowed_updates)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
