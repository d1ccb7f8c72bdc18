"""Logs: at the default level (INFO, configured exactly as `courtyard run` configures it) no
resident's message text appears, across a story that touches every feature; the token appears
nowhere — not in log lines, not in tracebacks, not in anything the bot sends."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.__main__ import RedactingFormatter, setup_logging
from bot.config import Settings
from tests.e2e.conftest import TOKEN, World
from tests.e2e.test_decisions import claim, open_decision
from tests.e2e.test_events import day

#: The fake Telegram is a test fixture, not part of the bot: its own log lines are left out.
FAKE_LOGGERS = ("playground",)


@contextmanager
def production_logging(caplog: pytest.LogCaptureFixture, level: str = "INFO") -> Iterator[None]:
    """Configure logging with the real ``setup_logging`` (levels, quiet third-party loggers)
    and keep pytest's capture handler on the root logger."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    names = ("httpx", "httpcore", "apscheduler", "telegram")
    saved = {name: logging.getLogger(name).level for name in names}
    setup_logging(Settings(token=TOKEN, db_path=Path("unused"), log_level=level))
    stream = [h for h in root.handlers if h is not caplog.handler]
    root.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        for handler in stream:
            root.removeHandler(handler)
        for handler in saved_handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(saved_level)
        for name, lvl in saved.items():
            logging.getLogger(name).setLevel(lvl)


def courtyard_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if not r.name.startswith(FAKE_LOGGERS)]


def raw_text(records: list[logging.LogRecord]) -> str:
    """Every record as logged, before any redaction: message and traceback."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return "\n".join(formatter.format(r) for r in records)


#: Distinctive words residents type; none may reach a log line at INFO.
WORDS = {
    "poll": "Zanzibarquestion",
    "option": "Periwinkleoption",
    "decision": "Quokkadecision",
    "event": "Xylophoneparty",
    "place": "Gazebonorth",
    "roster": "Lanternwatch",
    "offer": "Trombonedrill",
    "need": "Kumquatladder",
    "skill": "Origamiteacher",
    "groupbuy": "Persimmonbox",
    "chain": "Dumplingzebra",
    "line": "Marmalade42",
    "reminder": "Bagpipebins",
    "announcement": "Waffleboiler",
    "chat": "Flamingotalk",
    "search": "Tromb",
}


async def story(world: World) -> None:
    """One of everything, as residents would type it."""
    w = WORDS
    fake = world.fake
    await world.with_bot()
    for who in (world.alice, world.bob, world.carol):
        await world.do(who.send(who.private, "/start"))
    await world.do(world.bob.send(world.court, f"just chatting {w['chat']}"))
    await world.do(world.bob.send(world.court, f"/poll {w['poll']}? | {w['option']} | Blue"))
    poll_card = fake.last_bot_message(world.court)
    await world.do(world.carol.press(poll_card, "pl:v:1:0"))
    await world.do(world.alice.send(world.court, "/units add 2-101 60"))
    await claim(world, world.bob, "2-101")
    decision, card = await open_decision(
        world, f"/decide {w['decision']} | rule=majority | closes=in 2 days"
    )
    await world.do(world.bob.press(card, f"dc:v:{decision.id}:f"))
    await world.do(world.alice.send(world.court, f"/audit D{decision.id}"))
    await world.do(
        world.alice.send(
            world.court, f"/event {w['event']} | {day(world)} 10:00 | {w['place']} | 5"
        )
    )
    await world.do(world.bob.press(fake.last_bot_message(world.court), "ev:g:1"))
    date = day(world, 4)
    await world.do(
        world.alice.send(world.court, f"/roster {w['roster']} | {date} 8:00-12:00 | per slot 2")
    )
    await world.do(world.bob.send(world.court, f"/offer {w['offer']} | lend"))
    await world.do(world.carol.send(world.court, f"/need {w['need']}"))
    await world.do(world.carol.send(world.court, f"/skill {w['skill']}"))
    await world.do(world.carol.send(world.court, f"/items {w['search']}"))
    await world.do(
        world.alice.send(world.court, f"/groupbuy {w['groupbuy']} | ¥12.50 | tomorrow 20:00")
    )
    await world.do(world.alice.send(world.court, f"/chain {w['chain']} | tomorrow 18:00"))
    chain_card = fake.last_bot_message(world.court)
    await world.do(world.carol.send(world.court, f"{w['line']} boxes", reply_to=chain_card))
    await world.do(world.bob.send(world.court, f"/remindme tomorrow 9:00 {w['reminder']}"))
    await world.do(world.alice.send(world.court, f"/announce tomorrow 9:00 {w['announcement']}"))
    await world.do(world.bob.send(world.court, f"/nosuchcommand@courtyard_bot {w['chat']}"))
    await world.do(world.bob.send(world.bob.private, "/mydata"))
    await world.do(world.bob.send(world.bob.private, "/forgetme"))


async def test_no_resident_text_in_logs_at_the_default_level(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    with production_logging(caplog, "INFO"):
        await story(world)
        await world.services.outbox.idle()
    records = courtyard_records(caplog)
    assert records, "the story logged nothing at all: the capture is broken"
    assert all(r.levelno >= logging.INFO for r in records)
    logged = raw_text(records)
    leaked = {k: v for k, v in WORDS.items() if v.lower() in logged.lower()}
    assert leaked == {}, leaked
    assert TOKEN not in logged
    assert TOKEN.split(":")[1] not in logged
    # the bot said these words (so the story really used them)
    said = "\n".join(str(c.params.get("text", "")) for c in world.fake.calls if c.ok)
    assert WORDS["poll"] in said and WORDS["offer"] in said and WORDS["reminder"] in said
    line = await world.services.db.fetchone("SELECT text FROM chain_lines")
    assert line is not None and WORDS["line"] in line["text"]
    assert TOKEN not in said


async def test_the_token_never_appears_even_in_failures(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing handler logs a traceback (whose request URLs hold the token in PTB's and
    httpx's exceptions); the user gets an apology without internals, and the production
    formatter writes the token nowhere, even at DEBUG where PTB logs its API URL."""
    await world.with_bot()
    with production_logging(caplog, "DEBUG"):
        world.fake.inject(
            "sendMessage", error_code=500, description="Internal Server Error", times=20
        )
        await world.do(world.bob.send(world.court, "/help"))
        await world.services.outbox.idle()
    records = caplog.records
    assert records
    formatter = RedactingFormatter("%(levelname)s %(name)s: %(message)s", TOKEN)
    written = "\n".join(formatter.format(r) for r in records)
    assert TOKEN not in written and TOKEN.split(":")[1] not in written
    said = "\n".join(str(c.params.get("text", "")) for c in world.fake.calls)
    assert TOKEN not in said


def test_a_storage_problem_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """A handler failing on a full disk, a read-only file or a vanished database logs one
    sentence the operator can act on (other failures keep their traceback)."""
    import sqlite3
    import sys

    from storage.db import explain

    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorname = "SQLITE_FULL"
    formatter = RedactingFormatter("%(levelname)s %(name)s: %(message)s", TOKEN)

    def logged(exc: BaseException) -> str:
        try:
            raise exc
        except BaseException:
            record = logging.LogRecord(
                "handlers.errors",
                logging.ERROR,
                __file__,
                1,
                "handling %s failed",
                ("/vote",),
                sys.exc_info(),
            )
        return formatter.format(record)

    clear = explain(full, tmp_path / "c.sqlite3")
    assert clear is not None
    line = logged(clear)
    assert line.startswith("ERROR handlers.errors: handling /vote failed: the database ")
    assert "disk holding it is full" in line and "Traceback" not in line and "\n" not in line
    other = logged(ValueError("boom"))
    assert "Traceback" in other  # everything else keeps its traceback
