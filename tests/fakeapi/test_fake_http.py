"""The HTTP surface: body encodings, status codes and error bodies as Telegram sends them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from playground import FakeTelegram

from ._support import People


@pytest.fixture
async def client(fake: FakeTelegram) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fake.url, timeout=3) as http:
        yield http


def api(fake: FakeTelegram, method: str) -> str:
    return f"/bot{fake.token}/{method}"


async def test_unknown_method_and_wrong_token(
    fake: FakeTelegram, client: httpx.AsyncClient
) -> None:
    response = await client.post(api(fake, "sendTelepathy"))
    assert response.status_code == 404
    assert response.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    response = await client.post("/bot999:WRONG/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    response = await client.post(api(fake, "sendSticker"), json={"chat_id": 1, "sticker": "x"})
    assert response.status_code == 501
    assert "does not implement sendSticker" in response.json()["description"]
    assert (await client.get("/elsewhere")).status_code == 404
    missing = await client.get(f"/file/bot{fake.token}/documents/nothing.csv")
    assert missing.status_code == 404
    assert [c.method for c in fake.calls] == ["sendTelepathy", "getMe", "sendSticker"]


async def test_body_encodings(
    fake: FakeTelegram, client: httpx.AsyncClient, people: People
) -> None:
    chat_id = people.court.id
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "v:yes"}]]}

    as_json = await client.post(
        api(fake, "sendMessage"), json={"chat_id": chat_id, "text": "42", "reply_markup": markup}
    )
    as_form = await client.post(
        api(fake, "sendmessage"),
        data={"chat_id": str(chat_id), "text": "42", "reply_markup": json.dumps(markup)},
    )
    as_query = await client.get(api(fake, "SENDMESSAGE"), params={"chat_id": chat_id, "text": "7"})

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"chat_id": %d, ' % chat_id
        yield b'"text": "chunked"}'

    as_chunks = await client.post(
        api(fake, "sendMessage"),
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    for response in (as_json, as_form, as_query, as_chunks):
        assert response.status_code == 200, response.text
        assert response.json()["ok"] is True
    assert as_json.json()["result"]["reply_markup"] == markup
    assert as_form.json()["result"]["reply_markup"] == markup
    assert as_form.json()["result"]["text"] == "42"
    sent = fake.calls_to("sendMessage", chat_id=chat_id)
    assert [c.params["text"] for c in sent] == ["42", "42", "7", "chunked"]
    assert all(isinstance(c.params["text"], str) for c in sent)
    assert sent[1].params["reply_markup"] == markup

    upload = await client.post(
        api(fake, "sendDocument"),
        data={"chat_id": str(chat_id), "caption": "plan"},
        files={"document": ("plan.pdf", b"%PDF-1.4 data", "application/pdf")},
    )
    document = upload.json()["result"]["document"]
    assert (document["file_name"], document["mime_type"]) == ("plan.pdf", "application/pdf")
    file = (await client.post(api(fake, "getFile"), json={"file_id": document["file_id"]})).json()
    download = await client.get(f"/file/bot{fake.token}/{file['result']['file_path']}")
    assert download.content == b"%PDF-1.4 data"


async def test_error_status_matches_error_code(
    fake: FakeTelegram, client: httpx.AsyncClient, people: People
) -> None:
    fake.inject("getChat", error_code=502)
    response = await client.post(api(fake, "getChat"), json={"chat_id": people.court.id})
    assert response.status_code == 502
    assert response.json() == {"ok": False, "error_code": 502, "description": "Bad Gateway"}
    response = await client.post(api(fake, "sendMessage"), json={"chat_id": people.court.id})
    assert response.status_code == 400
    assert response.json()["description"] == "Bad Request: message text is empty"
    bad_json = await client.post(
        api(fake, "sendMessage"), content=b"{nope", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
