"""Injected faults and rate limits surface as the PTB exceptions a real outage produces."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from playground import FakeTelegram

from ._support import People, make_bot


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22.8 warns (an error under -W error) when RetryAfter.retry_after is an int.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


async def test_retry_after(fake: FakeTelegram, bot: Bot, people: People) -> None:
    fault = fake.inject("sendMessage", error_code=429, retry_after=3, times=1, chat_id=None)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(people.court.id, "hello")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    call = fake.api_calls[-1]
    assert (call.ok, call.error_code, call.description, call.parameters) == (
        False,
        429,
        "Too Many Requests: retry after 3",
        {"retry_after": 3},
    )
    assert call.fault is fault
    assert (fault.hits, fault.remaining, fault.active) == (1, 0, False)
    assert people.court.bot_messages == []
    await bot.send_message(people.court.id, "hello")
    assert len(people.court.bot_messages) == 1


async def test_server_errors_are_network_errors(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    sent = await bot.send_message(people.court.id, "v1")
    fake.inject("editMessageText", error_code=500, description="Internal Server Error", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error") as caught:
            await bot.edit_message_text("v2", chat_id=people.court.id, message_id=sent.message_id)
        assert type(caught.value) is NetworkError
    await bot.edit_message_text("v2", chat_id=people.court.id, message_id=sent.message_id)

    fake.inject("*", error_code=502, times=3)
    for _ in range(3):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.get_chat(people.court.id)
    assert await bot.get_updates(timeout=0) == ()  # "*" leaves polling alone
    assert [c.error_code for c in fake.api_calls[-3:]] == [502, 502, 502]


async def test_custom_bad_request_and_method_match(
    fake: FakeTelegram, bot: Bot, people: People
) -> None:
    fake.inject("sendMessage", error_code=400, description="Bad Request: something", times=1)
    with pytest.raises(BadRequest, match="Something"):
        await bot.send_message(people.court.id, "x")
    other = fake.group("Other", admins=[people.alice], with_bot=True)
    fake.inject("sendMessage", error_code=403, description="Forbidden: nope", chat_id=other.id)
    await bot.send_message(people.court.id, "fine")
    with pytest.raises(Exception, match="Forbidden: nope"):
        await bot.send_message(other.id, "x")


async def test_faults_until_cleared_and_on_polling(fake: FakeTelegram, bot: Bot) -> None:
    forever = fake.inject("getMe", error_code=503, times=None)
    for _ in range(3):
        with pytest.raises(NetworkError, match="Service Unavailable"):
            await bot.get_me()
    assert (forever.hits, forever.remaining) == (3, None)
    fake.clear_faults()
    assert forever.remaining == 0 and fake.faults == []
    await bot.get_me()

    fake.inject("getUpdates", error_code=502)
    with pytest.raises(NetworkError):
        await bot.get_updates(timeout=0)
    assert await bot.get_updates(timeout=0) == ()
    with pytest.raises(ValueError, match="needs an error_code"):
        fake.inject("sendMessage")


async def test_delay_then_normal_answer(fake: FakeTelegram, bot: Bot, people: People) -> None:
    fake.inject("sendMessage", delay=0.3, times=1)
    started = time.monotonic()
    message = await bot.send_message(people.court.id, "slow")
    assert time.monotonic() - started >= 0.3
    assert message.text == "slow"
    fake.inject("sendMessage", delay=0.2, error_code=500)
    started = time.monotonic()
    with pytest.raises(NetworkError):
        await bot.send_message(people.court.id, "slow and broken")
    assert time.monotonic() - started >= 0.2


async def test_delay_beyond_read_timeout_is_timed_out(fake: FakeTelegram, people: People) -> None:
    fake.inject("sendMessage", delay=0.6, times=1)
    async with make_bot(fake, read_timeout=0.2) as impatient:
        with pytest.raises(TimedOut):
            await impatient.send_message(people.court.id, "are you there?")
        # Telegram may still perform a request the client gave up on; so does the fake.
        call = await fake.wait_for("sendMessage", timeout=2, chat_id=people.court.id)
        assert call.params["text"] == "are you there?"
        assert [m.text for m in people.court.bot_messages] == ["are you there?"]


async def test_wait_for_reports_latest_calls(fake: FakeTelegram, bot: Bot, people: People) -> None:
    await bot.send_message(people.court.id, "hello")
    mark = fake.mark()
    with pytest.raises(TimeoutError) as caught:
        await fake.wait_for("sendMessage", timeout=0.1, since=mark, chat_id=people.court.id)
    assert "sendMessage(chat_id=" in str(caught.value) and "'hello'" in str(caught.value)
    later = asyncio.create_task(
        fake.wait_for("sendMessage", timeout=2, since=mark, chat_id=people.court.id)
    )
    await asyncio.sleep(0.05)
    await bot.send_message(people.court.id, "second")
    call = await later
    assert call.index == mark and call.params["text"] == "second"
    first = await fake.wait_for("sendMessage", timeout=0.1, chat_id=people.court.id)
    assert first.params["text"] == "hello"


async def test_limits_emulation() -> None:
    async with FakeTelegram(enforce_limits=True, group_limit_per_minute=5) as fake:
        alice = fake.user("Alice")
        court = fake.group("Maple Court", admins=[alice], with_bot=True)
        other = fake.group("Other", admins=[alice], with_bot=True)
        async with make_bot(fake) as bot:
            first = await bot.send_message(court.id, "1")
            for n in range(3):
                await bot.send_message(court.id, str(n + 2))
            await bot.edit_message_text("1!", chat_id=court.id, message_id=first.message_id)
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(court.id, "6")
            retry = caught.value.retry_after
            assert isinstance(retry, dtm.timedelta)
            assert 50 <= retry.total_seconds() <= 60
            assert fake.limit_hits == 1
            await bot.send_message(other.id, "another group is fine")
    async with FakeTelegram(enforce_limits=True, global_limit_per_second=3) as fake:
        people = [fake.user(f"P{n}") for n in range(4)]
        async with make_bot(fake) as bot:
            for person in people:
                await person.send(person.private, "/start")
            for person in people[:3]:
                await bot.send_message(person.id, "hi")
            with pytest.raises(RetryAfter):
                await bot.send_message(people[3].id, "hi")
            assert fake.limit_hits == 1
