"""The playground's page server without a browser: its event stream, actions, files, command
menus and guards, and the demo building prepared through the real bot in each language.

The bot runs in-process here (the e2e fixtures' ``start_app``, with loose pacing), against the
same FakeTelegram the page serves; the browser tests run ``courtyard playground`` itself.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from playground import FakeTelegram
from playground.demo import UNITS, build_demo, make_cast
from playground.page import PAGE_WORDS, PlaygroundPage, command_menu, words
from tests.e2e.conftest import TOKEN, start_app, stop_app


async def http(
    page: PlaygroundPage,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", page.port)
    head = {"Host": f"127.0.0.1:{page.port}", "Content-Length": str(len(body))}
    head.update(headers or {})
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in head.items()), "", ""]
    writer.write("\r\n".join(lines).encode() + body)
    await writer.drain()
    status_line = await reader.readline()
    answer_headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        key, _, value = line.decode().partition(":")
        answer_headers[key.strip().lower()] = value.strip()
    data = await reader.readexactly(int(answer_headers.get("content-length", "0")))
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1]), answer_headers, data


async def act(page: PlaygroundPage, action: str, **params: Any) -> tuple[int, dict[str, Any]]:
    status, _, body = await http(
        page,
        "POST",
        f"/api/{action}",
        json.dumps(params).encode(),
        {"Content-Type": "application/json"},
    )
    return status, json.loads(body)


class Stream:
    """The page's server-sent events, read as the browser reads them."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def next(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while True:
                line = await self.reader.readline()
                if line.startswith(b"data: "):
                    event: dict[str, Any] = json.loads(line[6:])
                    if event["type"] == kind:
                        return event

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def events(page: PlaygroundPage) -> Stream:
    reader, writer = await asyncio.open_connection("127.0.0.1", page.port)
    writer.write(f"GET /api/events HTTP/1.1\r\nHost: localhost:{page.port}\r\n\r\n".encode())
    await writer.drain()
    assert (await reader.readline()).startswith(b"HTTP/1.1 200")
    return Stream(reader, writer)


@pytest.fixture
async def page() -> AsyncIterator[PlaygroundPage]:
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        cast = make_cast(fake, "en", demo=False)
        served = PlaygroundPage(fake)
        served.home = cast.group
        served.roles = {cast.lead.id: "lead"}
        await served.start()
        try:
            yield served
        finally:
            await served.stop()


async def test_the_stream_starts_with_the_state_then_brings_each_change(
    page: PlaygroundPage,
) -> None:
    stream = await events(page)
    state = (await stream.next("state"))["state"]
    lead = state["people"][0]
    assert lead["role"] == "lead" and lead["name"] == "Alice Adams"
    [home] = [c for c in state["chats"] if c["home"]]
    assert state["words"]["add_bot"] == "Add {bot} to the group"
    status, answer = await act(page, "send", user=lead["id"], chat=home["id"], text="hello *all*")
    assert status == 200, answer
    event = await stream.next("message")
    assert event["chat"] == home["id"] and event["message"]["text"] == "hello *all*"
    # a reply names the message it answers
    await act(page, "send", user=lead["id"], chat=home["id"], text="again", reply_to=1)
    event = await stream.next("message")
    assert event["message"]["reply_to_message"]["message_id"] == 1
    await stream.close()


async def test_actions_the_world_refuses_are_told_and_change_nothing(
    page: PlaygroundPage,
) -> None:
    fake = page.fake
    assert page.home is not None
    group, outsider = page.home, fake.user("Mallory")
    before = len(group.messages)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("send", {"user": outsider.id, "chat": group.id, "text": "hi"}, "not a member"),
        ("send", {"user": 1, "chat": group.id, "text": "hi"}, "unknown person"),
        ("send", {"user": outsider.id, "chat": group.id, "text": "  "}, "write something"),
        ("press", {"user": outsider.id, "chat": group.id, "message_id": 99, "data": "x"}, ""),
        ("document", {"user": outsider.id, "chat": outsider.id, "content": "!!"}, ""),
        ("add_bot", {"user": outsider.id, "chat": group.id}, "not a member"),
        ("person", {"name": "   "}, "needs a name"),
    ]
    for action, params, says in cases:
        status, answer = await act(page, action, **params)
        assert status == 400, (action, answer)
        assert says in answer["error"], (action, answer)
        assert answer["word"] in PAGE_WORDS, answer  # told in the page's language
    assert len(group.messages) == before
    status, _, _ = await http(page, "POST", "/api/send", b"user=1", {"Content-Type": "text/plain"})
    assert status == 415
    status, _, _ = await http(page, "GET", "/", headers={"Host": "attacker.example"})
    assert status == 421
    for path in ("/static/../page.py", "/static/app.js.map", "/api/nothing", "/files/nope"):
        status, _, _ = await http(page, "GET", path)
        assert status == 404, path


async def test_documents_download_and_photos_show(page: PlaygroundPage) -> None:
    fake = page.fake
    person = fake.user("Bob")
    content = b"unit,area\n1-101,62\n"
    status, answer = await act(
        page,
        "document",
        user=person.id,
        chat=person.id,
        filename="реестр.csv",
        content=base64.b64encode(content).decode(),
    )
    assert status == 200, answer
    state = json.loads((await http(page, "GET", "/api/state"))[2])
    [message] = state["messages"][str(person.id)]
    url = message["document"]["url"]
    status, headers, body = await http(page, "GET", url)
    assert status == 200 and body == content
    assert headers["content-disposition"].startswith("attachment;")
    assert (
        "filename*=UTF-8''%D1%80%D0%B5%D0%B5%D1%81%D1%82%D1%80.csv"
        in headers["content-disposition"]
    )
    assert headers["x-content-type-options"] == "nosniff"
    photo = await person.send_photo(person.private, b"\x89PNG\r\n\x1a\nfake", caption="gate")
    state = json.loads((await http(page, "GET", "/api/state"))[2])
    shown = [m for m in state["messages"][str(person.id)] if m.get("photo_url")]
    assert [m["message_id"] for m in shown] == [photo.message_id]
    status, headers, _ = await http(page, "GET", shown[0]["photo_url"])
    assert status == 200 and "content-disposition" not in headers


@pytest.mark.parametrize(
    ("who", "where", "language", "expected"),
    [
        ("lead", "group", "en", "lead-group"),
        ("lead", "group", "ru", "lead-group-ru"),
        ("resident", "group", "ru", "groups"),
        ("resident", "group", "en", "groups"),
        ("resident", "private", "en", "private"),
        ("resident", "private", "zh-hans", "default-zh"),
        ("lead", "other group", "en", "admins"),
    ],
)
def test_the_command_menu_is_chosen_as_telegram_chooses_it(
    who: str, where: str, language: str, expected: str
) -> None:
    fake = FakeTelegram(token=TOKEN)
    lead, resident = fake.user("Alice"), fake.user("Bob")
    lead.started = resident.started = True
    group = fake.group("Maple Court", admins=[lead], members=[resident], with_bot=True)
    other = fake.group("Oak Court", admins=[lead], members=[resident], with_bot=True)

    def menu(name: str, scope: dict[str, Any], code: str = "") -> None:
        commands = json.dumps([{"command": "x", "description": name}])
        params = {"commands": commands, "scope": json.dumps(scope), "language_code": code}
        fake.tg_setMyCommands(params)

    menu("default", {"type": "default"})
    menu("default-zh", {"type": "default"}, "zh")
    menu("private", {"type": "all_private_chats"})
    menu("groups", {"type": "all_group_chats"})
    menu("admins", {"type": "all_chat_administrators"})
    menu("lead-group", {"type": "chat_administrators", "chat_id": group.id})
    menu("lead-group-ru", {"type": "chat_administrators", "chat_id": group.id}, "ru")
    fake.tg_setMyCommands({"commands": "[]", "scope": json.dumps({"type": "default"})})
    person = lead if who == "lead" else resident
    person.language_code = language
    chat = {"group": group, "other group": other, "private": person.private}[where]
    if expected == "default-zh":
        fake.commands.pop((json.dumps({"type": "all_private_chats"}), ""))
    [item] = command_menu(fake, chat, person)
    assert item["description"] == expected


async def run_demo(language: str, tmp_path: Path, *, forum: bool = False) -> FakeTelegram:
    fake = FakeTelegram(token=TOKEN, bot_username="courtyard_bot")
    await fake.start()
    app = await start_app(fake, tmp_path / "demo.sqlite3", language=language)
    cast = make_cast(fake, language, demo=True, forum=forum)
    steps: list[str] = []
    try:
        await build_demo(fake, cast, language, steps.append, quiet=0.05)
    finally:
        await stop_app(app)
        await fake.stop()
    assert steps[-1] == "" and len(steps) == 8
    return fake


@pytest.mark.parametrize("language", ["en", "zh", "zh-hant", "ru"])
async def test_the_demo_building_is_prepared_through_the_bot(language: str, tmp_path: Path) -> None:
    fake = await run_demo(language, tmp_path)
    [group] = [c for c in fake.chats.values() if c.is_group]
    assert group.title == words(language, "demo.group")
    cards = [m.text or "" for m in group.bot_messages]
    poll = next(t for t in cards if t.startswith("📊"))
    event = next(t for t in cards if t.startswith("📅"))
    decision = next(t for t in cards if t.startswith("🗳"))
    assert re.search(r"\b6\b", poll), poll  # six neighbours voted
    assert "4/4" in event and re.search(r"⏳.*1\..*2\.", event), event  # full, two waiting
    assert "6/12" in decision, decision  # half of the twelve households
    listings = [t for t in cards if t.startswith(("🔧", "🎁", "🔎"))]
    assert len(listings) == 3
    # every resident's claim was confirmed in private, every unit is registered
    lead = group.admins[0]
    imported = [m.text or "" for m in lead.private.bot_messages if "12" in (m.text or "")]
    assert imported, [m.text for m in lead.private.bot_messages]
    assert len(UNITS) == 12
    refused = [c for c in fake.api_calls if not c.ok and "not modified" not in str(c.description)]
    assert not refused, [str(c) for c in refused]


async def _state(port: int) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
    body = await reader.readexactly(length)
    writer.close()
    await writer.wait_closed()
    result: dict[str, Any] = json.loads(body)
    return result


async def test_a_playground_on_the_same_database_goes_on_where_the_last_one_stopped(
    tmp_path: Path,
) -> None:
    """``--db`` keeps the bot's database, not the fake world: the next playground numbers its
    updates and messages beyond the last one's, so the bot does not skip them as handled before a
    restart (it did: every update of the second session was dropped) nor edit a new message for
    an old card."""
    from bot.app import build_app
    from bot.config import Settings
    from playground.launch import Playground
    from tests.e2e.conftest import FAST

    db = tmp_path / "kept.sqlite3"
    seen: list[str] = []
    for session, question in enumerate(("Gate?", "Fence?")):
        playground = Playground(language="en").start()
        config = Settings(token=playground.token, db_path=db, api_url=playground.api_url)
        app = build_app(config, limits=FAST, poll_timeout=1)
        await app.initialize()
        assert app.post_init is not None and app.updater is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            page = playground.page
            state = await _state(page.port)
            lead = state["people"][0]["id"]
            [home] = [c["id"] for c in state["chats"] if c["home"]]
            await act(page, "add_bot", user=lead, chat=home)
            await act(page, "send", user=lead, chat=home, text=f"/poll {question} | Yes | No")
            if session == 1:
                await act(page, "send", user=lead, chat=home, text="/close P1")
            texts: list[str] = []
            for _ in range(200):
                messages = (await _state(page.port))["messages"][str(home)]
                texts = [m.get("text") or "" for m in messages if m["from"]["is_bot"]]
                if any(question in t for t in texts) and (session == 0 or len(texts) >= 4):
                    break
                await asyncio.sleep(0.05)
            seen.append("\n".join(texts))
        finally:
            await stop_app(app)
            playground.stop()
    first, second = seen
    assert "Gate?" in first
    assert "Hello, Maple Court" in second and "Fence?" in second  # nothing skipped
    assert "Gate?" in second  # P1 of the first session, closed and shown anew


def test_a_careless_start_is_told_in_one_sentence(tmp_path: Path) -> None:
    """A port already taken, a --db in a folder that does not exist: one line, no traceback."""
    import os
    import socket
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("COURTYARD_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])

    def playground(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bot", "playground", *args]
        return subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = playground("--port", str(taken.getsockname()[1]))
    assert result.returncode == 1
    assert "Choose another with --port" in result.stderr and "Traceback" not in result.stderr
    result = playground("--db", str(tmp_path / "missing" / "x.sqlite3"))
    assert result.returncode == 2
    assert "the folder" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "missing").exists()


async def test_the_demo_forum_keeps_each_card_in_its_topic(tmp_path: Path) -> None:
    """``--demo --forum``: the group is a forum whose topics the lead made (in the building's
    language); the poll lives in Repairs, the event in Events, the listings in Sell & give
    away, the decision in General, and the bot answered each in its topic."""
    fake = await run_demo("ru", tmp_path, forum=True)
    [group] = [c for c in fake.chats.values() if c.is_group]
    assert group.is_forum
    names = [t.name for t in sorted(group.topics.values(), key=lambda t: t.id)]
    assert names == [words("ru", f"demo.topic_{n}") for n in ("repairs", "events", "market")]

    def cards(where: str | None) -> list[str]:
        return [m.text or "" for m in group.in_topic(where) if m.from_user and m.from_user.is_bot]

    repairs, events, market = (
        cards(words("ru", f"demo.topic_{n}")) for n in ("repairs", "events", "market")
    )
    general = cards(None)
    assert [t for t in repairs if t.startswith("📊")] and not any(
        t.startswith("📅") for t in repairs
    )
    assert [t for t in events if t.startswith("📅")] and not any(t.startswith("📊") for t in events)
    assert len([t for t in market if t.startswith(("🔧", "🎁", "🔎"))]) == 3
    assert [t for t in general if t.startswith("🗳")]
    assert not any(t.startswith(("📊", "📅", "🔧", "🎁", "🔎")) for t in general)


async def test_topics_from_the_page_go_where_the_person_is_and_refusals_are_told() -> None:
    """A forum's topics in the state; a send and a photo land in the topic asked for; a
    resident cannot create or close a topic, nor write in a closed one (told in page words)."""
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as fake:
        cast = make_cast(fake, "en", demo=False, forum=True)
        served = PlaygroundPage(fake)
        served.home = cast.group
        await served.start()
        try:
            group, lead, bob = cast.group, cast.lead, cast.residents[0]
            state = json.loads((await http(served, "GET", "/api/state"))[2])
            [summary] = [c for c in state["chats"] if c["id"] == group.id]
            assert summary["forum"] is True
            names = [t["name"] for t in summary["topics"]]
            assert names == ["Repairs", "Events", "Sell & give away"]
            events = cast.topics["events"]
            status, answer = await act(
                served,
                "send",
                user=bob.id,
                chat=group.id,
                text="Who brings rakes?",
                topic=events.id,
            )
            assert status == 200, answer
            assert [m.text for m in group.in_topic(events.id)][-1] == "Who brings rakes?"
            png = base64.b64decode(
                "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAADklEQVR4nGP4z8DAwMAAA/4B/8d3"
                "8z8AAAAASUVORK5CYII="
            )
            status, answer = await act(
                served,
                "document",
                user=bob.id,
                chat=group.id,
                topic=events.id,
                filename="rakes.png",
                content=base64.b64encode(png).decode(),
                caption="These ones",
                as_photo=True,
            )
            assert status == 200, answer
            [photo] = [m for m in group.in_topic(events.id) if m.photo]
            assert (photo.photo[-1].width, photo.photo[-1].height) == (2, 1)
            assert photo.caption == "These ones"
            refused = [
                ("create_topic", {"user": bob.id, "chat": group.id, "name": "Parking"}),
                ("close_topic", {"user": bob.id, "chat": group.id, "topic": events.id}),
                ("create_topic", {"user": lead.id, "chat": group.id, "name": "  "}),
            ]
            for action, params in refused:
                status, answer = await act(served, action, **params)
                assert status == 400 and answer["word"] in PAGE_WORDS, (action, answer)
            closing = await act(served, "close_topic", user=lead.id, chat=group.id, topic=events.id)
            assert closing[0] == 200, closing
            status, answer = await act(
                served, "send", user=bob.id, chat=group.id, text="Late?", topic=events.id
            )
            assert status == 400 and answer["word"] == "topic_closed", answer
            status, answer = await act(
                served, "create_topic", user=lead.id, chat=group.id, name="Parking"
            )
            assert status == 200 and group.topic(answer["topic"]).name == "Parking"
        finally:
            await served.stop()
