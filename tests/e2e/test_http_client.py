"""The HTTP client of the Bot API calls (bot/http.py): both clients, chosen by COURTYARD_HTTP,
over real HTTP against the fake Bot API (and, for the write timeout, a server that never reads).

The stories that move files — a CSV downloaded and imported, an export and /mydata uploaded as
documents, a photo with a non-ASCII name and caption — run with each client; the rest of the
e2e suite runs with the default one (aiohttp), and with ``COURTYARD_HTTP=httpx`` on demand.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot import http
from bot.http import AiohttpRequest, bot_request, client_name
from playground import FakeTelegram

from .conftest import TOKEN, World, start_app, stop_app

CLIENTS = ("aiohttp", "httpx")


@pytest.fixture(params=CLIENTS)
async def any_world(
    request: pytest.FixtureRequest,
    fake: FakeTelegram,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[World]:
    """The usual world, with the bot's HTTP client chosen as an operator would."""
    monkeypatch.setenv(http.ENV, request.param)
    app = await start_app(fake, tmp_path / "courtyard.sqlite3")
    try:
        world = World(fake, app)
        wanted = AiohttpRequest if request.param == "aiohttp" else HTTPXRequest
        assert isinstance(app.bot.request, wanted)
        yield world
    finally:
        await stop_app(app)


async def test_csv_import_and_export_with_each_client(any_world: World) -> None:
    world = any_world
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/units add 3-502 80"))
    content = "房号,面积\n3-502,89.5\n３－５０４,70平米\n".encode()
    replies = await world.do(
        world.alice.send_document(world.alice.private, filename="单元.csv", content=content)
    )
    assert "Units read from 单元.csv: 2" in replies.text(world.alice.private)  # downloaded whole
    question = world.fake.last_bot_message(world.alice.private)
    assert question is not None and question.reply_markup is not None
    data = question.reply_markup.inline_keyboard[0][0].callback_data
    assert isinstance(data, str)
    replies = await world.do(world.alice.press(question, data))
    done = [c.params["text"] for c in replies.edits(world.alice.private)]
    assert any("1 added, 1 updated" in text for text in done)

    # the register goes back out as a document: a multipart upload
    replies = await world.do(world.alice.send(world.alice.private, "/units"))
    await world.do(world.alice.send(world.court, "/roster Gate | tomorrow 8:00-12:00 | per slot 1"))
    card = world.fake.last_bot_message(world.court)
    slot = await world.services.db.fetchone("SELECT id FROM roster_slots")
    assert card is not None and slot is not None
    await world.do(world.carol.press(card, f"rs:t:{slot['id']}"))
    replies = await world.do(world.alice.send(world.court, "/export R1"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument" and c.ok]
    rows = list(csv.reader(io.StringIO(doc.params["document"].decode("utf-8-sig"))))
    assert rows[0][0] == "Slot" and rows[1][3] == "Кэрол"
    assert doc.files["document"].filename == "roster-1.csv"


async def test_mydata_document_with_each_client(any_world: World) -> None:
    world = any_world
    await world.with_bot()
    await world.do(world.carol.send(world.carol.private, "/start"))
    await world.do(world.carol.send(world.court, "/poll Цвет ворот? | Зелёный | Синий"))
    card = world.fake.last_bot_message(world.court)
    assert card is not None and card.reply_markup is not None
    data = card.reply_markup.inline_keyboard[0][0].callback_data
    assert isinstance(data, str)
    await world.do(world.carol.press(card, data))
    replies = await world.do(world.carol.send(world.carol.private, "/mydata"))
    [doc] = [c for c in replies.calls if c.method == "sendDocument" and c.ok]
    mine = json.loads(doc.params["document"].decode("utf-8"))
    assert mine["courtyard_data_for_user_id"] == world.carol.id
    assert [v["chosen"] for v in mine["data"]["poll_votes"]] == [["Зелёный"]]
    assert doc.params["caption"]  # the caption went as a text field beside the file


@pytest.mark.parametrize("client", CLIENTS)
async def test_a_photo_keeps_its_bytes_name_type_and_caption(
    fake: FakeTelegram, client: str
) -> None:
    alice = fake.user("Alice")
    court = fake.group("Maple Court", admins=[alice])
    await fake.add_bot(court, by=alice)
    picture = bytes(range(256)) * 3000 + b'\r\n--"\\'  # 768 kB, ends like a boundary would
    async with Bot(TOKEN, base_url=fake.base_url, request=bot_request(client=client)) as bot:
        await bot.send_photo(
            court.id,
            InputFile(picture, filename='двор "1".png'),
            caption="Двор & 院子 <b>",
        )
    [call] = fake.calls_to("sendPhoto")
    assert call.ok and call.params["photo"] == picture
    assert call.files["photo"].filename == "двор %221%22.png"  # quotes escaped, as httpx does
    assert call.files["photo"].content_type == "image/png"
    assert call.params["caption"] == "Двор & 院子 <b>"


# --- the client's own rules (aiohttp) ------------------------------------------------------------


def test_the_environment_variable_chooses_the_client() -> None:
    assert client_name({}) == "aiohttp"
    assert client_name({"COURTYARD_HTTP": " HTTPX "}) == "httpx"
    assert client_name({"COURTYARD_HTTP": "aiohttp"}) == "aiohttp"
    with pytest.raises(ValueError, match="COURTYARD_HTTP must be one of aiohttp, httpx"):
        client_name({"COURTYARD_HTTP": "requests"})
    assert isinstance(bot_request(client="httpx"), HTTPXRequest)
    ours = bot_request(read_timeout=40, connection_pool_size=1)
    assert isinstance(ours, AiohttpRequest)
    assert ours.read_timeout == 40 and ours.connection_pool_size == 1


async def test_read_timeout_is_timed_out_and_the_call_still_happened(fake: FakeTelegram) -> None:
    alice = fake.user("Alice")
    court = fake.group("Maple Court", admins=[alice])
    await fake.add_bot(court, by=alice)
    request = AiohttpRequest(read_timeout=0.2)
    async with Bot(TOKEN, base_url=fake.base_url, request=request) as bot:
        fake.inject("sendMessage", delay=0.6)
        with pytest.raises(TimedOut):
            await bot.send_message(court.id, "slow")
        await asyncio.sleep(0.6)
        # a longer read timeout for one call (as a long poll passes its own)
        fake.inject("sendMessage", delay=0.3)
        sent = await bot.send_message(court.id, "patient", read_timeout=2)
        assert sent.text == "patient"
    assert [c.params["text"] for c in fake.calls_to("sendMessage")] == ["slow", "patient"]


async def test_a_full_pool_times_out_without_sending(fake: FakeTelegram) -> None:
    alice = fake.user("Alice")
    court = fake.group("Maple Court", admins=[alice])
    await fake.add_bot(court, by=alice)
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.1)
    async with Bot(TOKEN, base_url=fake.base_url, request=request) as bot:
        fake.inject("sendMessage", delay=0.5)
        slow = asyncio.ensure_future(bot.send_message(court.id, "first"))
        await asyncio.sleep(0.1)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await bot.send_message(court.id, "second")
        assert (await slow).text == "first"
        assert (await bot.send_message(court.id, "third")).text == "third"  # the slot came back
    assert [c.params["text"] for c in fake.calls_to("sendMessage")] == ["first", "third"]


async def test_nothing_listening_is_a_network_error() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    request = AiohttpRequest(connect_timeout=2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match="aiohttp") as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()


async def test_an_upload_the_server_never_reads_hits_the_write_timeout() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # holds the connection open, reads nothing

    server = await asyncio.start_server(never_read, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest(media_write_timeout=0.3, read_timeout=30)
    await request.initialize()
    body = InputFile(b"x" * (64 * 1024 * 1024 - 4096), filename="big.bin")
    data = RequestData(
        [RequestParameter.from_input("chat_id", 1), RequestParameter.from_input("document", body)]
    )
    loop = asyncio.get_running_loop()
    began = loop.time()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/sendDocument", data)
        assert loop.time() - began < 5  # the write timeout, not the read timeout of 30 s
    finally:
        await request.shutdown()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_shutdown_closes_and_initialize_opens_again(fake: FakeTelegram) -> None:
    request = AiohttpRequest()
    with pytest.raises(NetworkError, match="not initialized"):  # PTB wraps it, as for httpx
        await request.post(f"{fake.base_url}{TOKEN}/getMe")
    await request.initialize()
    me: Any = await request.post(f"{fake.base_url}{TOKEN}/getMe")
    assert me["is_bot"]
    await request.shutdown()
    await request.shutdown()  # twice is harmless
    with pytest.raises(NetworkError, match="not initialized"):  # PTB wraps it, as for httpx
        await request.post(f"{fake.base_url}{TOKEN}/getMe")
    await request.initialize()
    assert (await request.post(f"{fake.base_url}{TOKEN}/getMe"))["is_bot"]  # type: ignore[index]
    await request.shutdown()


def test_courtyard_run_refuses_a_client_it_does_not_have(tmp_path: Path) -> None:
    """A typo in COURTYARD_HTTP is one clear line and status 1, not a traceback."""
    from tests.e2e.test_cli import clean_env, courtyard, migrated

    db = migrated(tmp_path / "courtyard.sqlite3")
    env = clean_env(
        COURTYARD_DB=str(db),
        COURTYARD_TOKEN=TOKEN,
        COURTYARD_API_URL="http://127.0.0.1:9/bot",
        COURTYARD_HTTP="aiohtp",
    )
    result = courtyard("run", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "COURTYARD_HTTP must be one of aiohttp, httpx; got 'aiohtp'" in result.stderr
    assert "Traceback" not in result.stderr
