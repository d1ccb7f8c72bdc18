"""End-to-end fixtures: the real Courtyard Application polling the fake Bot API over loopback
HTTP, with a real SQLite file. Tests read like stories::

    async def test_story(world):
        await world.fake.add_bot(world.court, by=world.alice)
        replies = await world.do(world.bob.send(world.court, "/help"))
        assert "What you can do" in replies.text(world.court)

On PostgreSQL too (README, Tests): with ``COURTYARD_TEST_PG=1`` or ``COURTYARD_TEST_PG_URL``,
every test marked ``pg`` runs a second time as ``[postgresql]``, each of its
``Database.open(<file>)`` opening a PostgreSQL database instead (tests/pg.py): the world, and
any bot a test starts itself. ``COURTYARD_TEST_PG_FULL=1`` does so for every test here, except
those of SQLite's own machinery (:data:`SQLITE_ONLY`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.app import TrackingUpdateProcessor, build_app
from bot.config import Settings
from bot.flood import FloodLimits
from bot.outbox import Limits
from bot.services import Services
from playground import Call, FakeChat, FakeTelegram, FakeUser
from tests import pg
from tests.pg import use_postgresql  # noqa: F401  (the fixture)

TOKEN = "123456:TEST-courtyard-token-abcdef"

_FILE = "the SQLite file itself (its bytes, journal, lock file, backups or integrity check)"
#: Test files of SQLite's own machinery, left out of COURTYARD_TEST_PG_FULL's runs (a test of
#: theirs in :data:`PG_SUBSET` still runs): file -> why.
SQLITE_ONLY = {
    "test_cli.py": _FILE + "; test_cli_pg.py is its PostgreSQL counterpart",
    "test_cli_pg.py": "runs on PostgreSQL by itself",
    "test_workers.py": "runs on PostgreSQL by itself (several workers)",
    "test_faults.py": _FILE,
    "test_forget_on_disk.py": _FILE,
    "test_secrets_on_disk.py": _FILE,
    "test_cards_after_restart.py": "changes the stopped bot's SQLite file with sqlite3",
}


#: The end-to-end subset that runs on PostgreSQL by default (marked ``pg`` here, so that the
#: test files need not change; a test may also carry ``@pytest.mark.pg`` itself): one story of
#: each thing whose SQL differs or whose timing is the database's — votes, decisions under the
#: legal rules, events, reminders firing (also after downtime), secret votes closing, sharing
#: (its search is pg_trgm there), proposals, and restarts mid-way.
PG_SUBSET = frozenset(
    {
        "test_polls.py::test_vote_move_and_withdraw_on_a_pipe_poll",
        "test_polls.py::test_anonymous_poll_stores_no_user_ids_and_keeps_only_counts",
        "test_polls.py::test_closing_time_fires_after_a_restart_and_votes_are_kept",
        "test_decisions.py::test_elevator_decision_in_a_12_unit_building_survives_a_restart",
        "test_decisions.py::test_secret_decision_never_shows_who_chose_what",
        "test_decisions.py::test_a_ballot_cast_while_closing_is_in_the_final_count",
        "test_rule_names.py::test_a_chinese_group_reads_rule_names_with_the_codes_beside",
        "test_events.py::test_a_full_event",
        "test_reminders.py::test_private_reminder_is_confirmed_listed_and_fired",
        "test_reminders.py::test_a_reminder_due_during_downtime_fires_once_late_with_a_note",
        "test_reminders.py::test_recurring_announcement_pins_pauses_and_resumes",
        "test_secrets_on_disk.py::test_purging_a_group_destroys_the_keys_of_its_open_votes",
        "test_sharing.py::test_offer_request_lend_remind_return",
        "test_sharing.py::test_search_in_three_languages",
        "test_proposals.py::test_the_courtyard_lights_from_proposal_to_review",
        "test_proposals.py::test_a_restart_mid_hearing_keeps_everything",
        "test_decisions_outcome_after_crash.py::test_a_decision_closed_by_a_process_that_died_"
        "before_the_post_is_announced_once",
    }
)


def _name(item: pytest.Item | Any) -> str:
    return f"{Path(str(item.path)).name}::{getattr(item, 'originalname', item.name)}"


def _on_postgresql(item: pytest.Item | Any) -> bool:
    """Whether a test also runs as ``[postgresql]`` (see the module text)."""
    if not pg.wanted():
        return False
    if _name(item) in PG_SUBSET or item.get_closest_marker("pg") is not None:
        return True
    return bool(os.environ.get("COURTYARD_TEST_PG_FULL")) and (
        Path(str(item.path)).name not in SQLITE_ONLY
    )


@pytest.hookimpl(tryfirst=True)  # before `-m pg` selects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _name(item) in PG_SUBSET:
            item.add_marker(pytest.mark.pg)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    if _on_postgresql(metafunc.definition):
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(autouse=True)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """``sqlite``, or ``postgresql`` for the second run of a test (see the module text)."""
    name = getattr(request, "param", "sqlite")
    if name == "postgresql":
        request.getfixturevalue("use_postgresql")
    yield name


def pytest_sessionfinish() -> None:
    pg.stop()


#: Limits loose enough that stories do not wait for Telegram's real pacing.
FAST = Limits(
    global_per_second=10_000,
    background_per_second=10_000,
    group_burst=10_000,
    group_per_second=10_000,
    private_burst=10_000,
    private_per_second=10_000,
    edit_interval=0.05,
    private_edit_interval=0.05,
    backoff_base=0.01,
    backoff_cap=0.05,
)

SENDING = {"sendMessage", "editMessageText", "sendDocument", "deleteMessage", "pinChatMessage"}


@dataclass
class Replies:
    """What the bot did in answer to one action."""

    calls: list[Call]

    def sent(self, chat: FakeChat | int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "sendMessage" and c.ok and _in(c, chat)]

    def edits(self, chat: FakeChat | int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "editMessageText" and c.ok and _in(c, chat)]

    def text(self, chat: FakeChat | int | None = None) -> str:
        """All texts sent to ``chat``, joined (empty if nothing was said)."""
        return "\n---\n".join(c.params["text"] for c in self.sent(chat))

    def answers(self) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == "answerCallbackQuery" and c.ok]

    def answer_text(self) -> str:
        [answer] = self.answers()
        return str(answer.get("text") or "")


def _in(call: Call, chat: FakeChat | int | None) -> bool:
    if chat is None:
        return True
    chat_id = chat if isinstance(chat, int) else chat.id
    return int(call.params.get("chat_id", 0)) == chat_id


class World:
    """The fake Telegram, the running bot, and a small cast in the group "Maple Court".

    Alice is the group's creator (a lead), Bob and Кэрол are residents (Кэрол's Telegram is in
    Russian, 王芳's in Chinese). The bot is *not* in the group until a test adds it.
    """

    def __init__(self, fake: FakeTelegram, app: Application[Any, Any, Any, Any, Any, Any]):
        self.fake = fake
        self.app = app
        self.alice = fake.user("Alice", username="alice", language_code="en")
        self.bob = fake.user("Bob", last_name="Baker", username="bob", language_code="en")
        self.carol = fake.user("Кэрол", language_code="ru")
        self.wang = fake.user("王芳", language_code="zh-hans")
        self.court = fake.group(
            "Maple Court", admins=[self.alice], members=[self.bob, self.carol, self.wang]
        )

    @property
    def services(self) -> Services:
        services: Services = self.app.bot_data["services"]
        return services

    async def settle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a deadline, not I/O
        """Wait until the bot has taken every update, handled it and flushed its outbox."""
        processor = self.app.update_processor
        assert isinstance(processor, TrackingUpdateProcessor)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self.fake.until_confirmed(timeout=timeout)
        quiet = 0
        while quiet < 3:
            if loop.time() > deadline:
                raise TimeoutError("the bot did not become idle")
            busy = processor.active or not self.app.update_queue.empty()
            busy = busy or self.services.outbox.pending_refreshes > 0
            quiet = 0 if busy else quiet + 1
            await asyncio.sleep(0.005)

    async def do(self, action: Awaitable[Any]) -> Replies:
        """Perform a user action and return what the bot did in answer."""
        mark = self.fake.mark()
        await action
        await self.settle()
        return Replies([c for c in self.fake.calls[mark:] if c.method != "getUpdates"])

    async def with_bot(self, chat: FakeChat | None = None, by: FakeUser | None = None) -> Replies:
        return await self.do(self.fake.add_bot(chat or self.court, by=by or self.alice))

    async def forum(self, *topics: str, admin: bool = False) -> FakeChat:
        """A forum supergroup "Maple Forum" with the same cast (Alice its creator), the bot
        added by Alice (an administrator with ``admin``), and the topics named, created by
        Alice (``forum.topic("Events")``; write in one with ``user.send(..., topic=...)``)."""
        forum = self.fake.forum(
            "Maple Forum", admins=[self.alice], members=[self.bob, self.carol, self.wang]
        )
        await self.do(self.fake.add_bot(forum, by=self.alice, admin=admin))
        for name in topics:
            self.fake.create_topic(forum, name, by=self.alice)
        await self.settle()
        return forum


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as server:
        yield server


async def start_app(
    fake: FakeTelegram, db_path: Path, *, flood: FloodLimits | None = None, **settings: Any
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Stories send commands faster than any resident; the flood guard is off unless asked."""
    config = Settings(token=TOKEN, db_path=db_path, api_url=fake.base_url, **settings)
    app = build_app(config, limits=FAST, poll_timeout=1, flood=flood)
    # the same order as Application.run_polling: initialize, post_init, start
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
    return app


async def stop_app(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        assert app.post_stop is not None
        await app.post_stop(app)  # run_polling runs it between stop and shutdown
    await app.shutdown()
    assert app.post_shutdown is not None
    await app.post_shutdown(app)


@pytest.fixture
async def world(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[World]:
    app = await start_app(fake, tmp_path / "courtyard.sqlite3")
    try:
        yield World(fake, app)
    finally:
        await stop_app(app)
