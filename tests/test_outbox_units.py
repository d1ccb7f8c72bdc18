"""The outbox's arithmetic: token buckets, the waits it asks for, back-off and flood holds.

The buckets are tested with a fake clock. The outbox tests drive the real ``Outbox`` with a real
``telegram.Bot`` over HTTP against the fake Bot API, but with a fake clock and a *recording*
``sleep``: it notes every wait the outbox asks for and returns at once, so Telegram's real
pacing (3 s per group message past the burst) is checked without waiting for it.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.request import HTTPXRequest

from bot.outbox import BACKGROUND, PRESS, Limits, Outbox, Press, Stopping, TokenBucket
from playground import FakeChat, FakeTelegram, FakeUser

TOKEN = "123456:TEST-outbox-units"


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSleep:
    """Stands in for ``asyncio.sleep``: records the wait and returns after one loop turn.

    Given a clock, it moves the clock on by the wait, as if the time had passed (right for one
    caller at a time); without, time stands still (right for callers queued at one moment).
    """

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, bot_username="courtyard_bot") as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = Bot(
        fake.token,
        base_url=fake.base_url,
        base_file_url=fake.base_file_url,
        request=HTTPXRequest(read_timeout=3.0),
    )
    async with client:
        yield client


@pytest.fixture
def alice(fake: FakeTelegram) -> FakeUser:
    return fake.user("Alice", username="alice")


@pytest.fixture
def court(fake: FakeTelegram, alice: FakeUser) -> FakeChat:
    return fake.group("Maple Court", admins=[alice], with_bot=True)


def make_outbox(
    bot: Bot, limits: Limits | None = None, *, time_passes: bool = True
) -> tuple[Outbox, FakeClock, RecordingSleep]:
    clock = FakeClock()
    sleep = RecordingSleep(clock if time_passes else None)
    return Outbox(bot, limits=limits or Limits(), clock=clock, sleep=sleep), clock, sleep


def delivered(fake: FakeTelegram, text: str) -> int:
    return sum(1 for c in fake.calls_to("sendMessage", text=text) if c.ok)


# --- TokenBucket ---------------------------------------------------------------------------


def test_bucket_gives_the_burst_at_once_then_one_token_every_interval() -> None:
    clock = FakeClock()
    bucket = TokenBucket(20, 20 / 60, clock)
    assert [bucket.reserve() for _ in range(20)] == [0.0] * 20
    assert bucket.reserve() == pytest.approx(3.0)
    assert bucket.reserve() == pytest.approx(6.0)
    assert bucket.reserve() == pytest.approx(9.0)


def test_bucket_refills_with_time_and_never_beyond_its_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(20, 20 / 60, clock)
    for _ in range(20):
        bucket.reserve()
    clock.advance(3.0)  # exactly one token back
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(3.0)
    clock.advance(3600)  # a quiet hour refills the burst, not an hour's worth of tokens
    assert [bucket.reserve() for _ in range(20)] == [0.0] * 20
    assert bucket.reserve() == pytest.approx(3.0)


def test_bucket_reservations_queue_in_arrival_order_across_refills() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1, 1.0, clock)
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(1.0)
    assert bucket.reserve() == pytest.approx(2.0)
    clock.advance(1.5)  # the earlier reservations still stand: the next caller comes after them
    assert bucket.reserve() == pytest.approx(1.5)


def test_bucket_is_idle_only_once_full_again() -> None:
    clock = FakeClock()
    bucket = TokenBucket(3, 1.0, clock)
    assert bucket.idle
    bucket.reserve()
    assert not bucket.idle
    clock.advance(0.99)
    assert not bucket.idle
    clock.advance(0.01)
    assert bucket.idle
    for _ in range(5):  # 3 tokens spent and 2 borrowed: 5 s until full
        bucket.reserve()
    clock.advance(4.9)
    assert not bucket.idle
    clock.advance(0.1)
    assert bucket.idle


# --- the waits the outbox asks for ----------------------------------------------------------


async def test_group_sends_past_twenty_wait_for_the_rolling_minute(
    fake: FakeTelegram, bot: Bot, court: FakeChat
) -> None:
    outbox, _, sleep = make_outbox(bot)  # Telegram's limit: 20 in any rolling minute
    for n in range(23):
        assert await outbox.send(court.id, f"notice {n}") is not None
    # the 21st waits until the first 20 have left the minute; then the next minute is fresh
    assert sleep.waits == pytest.approx([60.0])
    assert [m.text for m in court.bot_messages] == [f"notice {n}" for n in range(23)]
    assert outbox.stats["sent"] == 23


async def test_group_sends_queued_at_once_get_successive_turns(
    fake: FakeTelegram, bot: Bot, court: FakeChat
) -> None:
    outbox, _, sleep = make_outbox(bot, time_passes=False)
    sent = await asyncio.gather(*(outbox.send(court.id, f"notice {n}") for n in range(23)))
    assert all(m is not None for m in sent)
    assert sleep.waits == pytest.approx([60.0, 60.0, 60.0])  # the 21st, 22nd and 23rd
    assert sorted(m.text or "" for m in court.bot_messages) == sorted(
        f"notice {n}" for n in range(23)
    )


async def test_private_chat_sends_past_the_burst_wait_one_second_each(
    fake: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    await alice.send(alice.private, "/start")  # only now may the bot write to her
    outbox, _, sleep = make_outbox(bot)  # 3 at once, then 1 a second
    for n in range(5):
        assert await outbox.send(alice.id, f"reminder {n}") is not None
    assert sleep.waits == pytest.approx([1.0, 1.0])
    assert delivered(fake, "reminder 4") == 1


async def test_global_bucket_paces_sends_across_chats(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, court: FakeChat
) -> None:
    await alice.send(alice.private, "/start")
    other = fake.group("Birch Court", admins=[alice], with_bot=True)
    limits = replace(Limits(), global_per_second=5.0)  # per chat, nobody is past the burst
    outbox, _, sleep = make_outbox(bot, limits)
    for n, chat in enumerate([court.id, alice.id, other.id] * 2 + [court.id]):
        assert await outbox.send(chat, f"m{n}") is not None
    assert sleep.waits == pytest.approx([0.2, 0.2])  # the 6th and 7th message overall


async def test_global_rate_counts_messages_when_they_are_actually_sent(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, court: FakeChat
) -> None:
    others = [fake.group(f"Court {n}", admins=[alice], with_bot=True) for n in (2, 3)]
    # at most 2 messages a second in all; one message every 10 s per group
    limits = replace(Limits(), global_per_second=2.0, group_burst=1, group_per_second=0.1)
    outbox, clock, sleep = make_outbox(bot, limits)
    start = clock.now
    await outbox.send(court.id, "first")
    await outbox.send(court.id, "second")  # its chat's turn comes in 10 s: it goes out then
    assert sleep.waits == pytest.approx([10.0])
    assert clock.now == pytest.approx(start + 10.0)  # "second" goes out; two others speak
    await outbox.send(others[0].id, "third")
    await outbox.send(others[1].id, "fourth")
    # three messages at the same moment with a limit of two a second: the last must wait
    assert sleep.waits == pytest.approx([10.0, 0.5])


async def test_callback_answers_are_not_rate_limited(
    fake: FakeTelegram, bot: Bot, alice: FakeUser
) -> None:
    await alice.send(alice.private, "/start")
    limits = replace(Limits(), global_per_second=3.0)
    outbox, _, sleep = make_outbox(bot, limits)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="vote:yes")]])
    card = await outbox.send(alice.id, "Vote?", reply_markup=markup)
    assert card is not None
    await outbox.send(alice.id, "two")
    await outbox.send(alice.id, "three")  # private and global buckets are now empty
    queries = [await alice.press(card, "vote:yes") for _ in range(5)]
    for query in queries:
        assert await outbox.answer(query.id, "Counted") is True
    assert sleep.waits == []
    assert all(
        fake.callback_answer(q.id) == {"text": "Counted", "show_alert": False} for q in queries
    )
    await outbox.send(alice.id, "four")  # the answers took no tokens: only this send waits
    assert sleep.waits == pytest.approx([1.0])


async def test_expired_callback_answer_is_false_not_an_error(bot: Bot) -> None:
    outbox, _, _ = make_outbox(bot)
    assert await outbox.answer("4382000000000999", "too late") is False


async def test_retry_after_holds_that_chat_for_the_time_telegram_asks(
    fake: FakeTelegram, bot: Bot, court: FakeChat, alice: FakeUser
) -> None:
    await alice.send(alice.private, "/start")
    fake.inject("sendMessage", error_code=429, retry_after=7, times=1, chat_id=court.id)
    outbox, _, sleep = make_outbox(bot)
    assert await outbox.send(court.id, "after the flood") is not None
    assert sleep.waits == pytest.approx([7.0])
    assert outbox.stats["retry_after"] == 1
    assert delivered(fake, "after the flood") == 1
    assert await outbox.send(alice.id, "elsewhere") is not None  # other chats are not held
    assert sleep.waits == pytest.approx([7.0])


async def test_retry_after_gives_up_past_max_total_wait(
    fake: FakeTelegram, bot: Bot, court: FakeChat
) -> None:
    fault = fake.inject("sendMessage", error_code=429, retry_after=3, times=None)
    outbox, _, sleep = make_outbox(bot, replace(Limits(), max_total_wait=5.0))
    assert await outbox.send(court.id, "never") is None
    assert sleep.waits == pytest.approx([3.0])  # a second hold would exceed 5 s in all
    assert fault.hits == 2
    assert outbox.stats == {"sent": 0, "edited": 0, "retries": 0, "retry_after": 2, "failed": 1}


async def test_server_errors_back_off_exponentially_up_to_the_cap(
    fake: FakeTelegram, bot: Bot, court: FakeChat
) -> None:
    fake.inject("sendMessage", error_code=500, times=3)
    fake.inject("sendMessage", error_code=502, times=1)
    limits = replace(Limits(), backoff_base=0.5, backoff_cap=1.5, max_attempts=5)
    outbox, _, sleep = make_outbox(bot, limits)
    assert await outbox.send(court.id, "patience") is not None
    assert sleep.waits == pytest.approx([0.5, 1.0, 1.5, 1.5])
    assert outbox.stats["retries"] == 4
    assert [c.ok for c in fake.calls_to("sendMessage", text="patience")] == [False] * 4 + [True]


@pytest.mark.parametrize(("where", "interval"), [("group", 3.0), ("private", 1.0)])
async def test_refresh_waits_the_edit_interval_between_edits(
    fake: FakeTelegram, bot: Bot, court: FakeChat, alice: FakeUser, where: str, interval: float
) -> None:
    await alice.send(alice.private, "/start")
    chat = court if where == "group" else alice.private
    outbox, _, sleep = make_outbox(bot)  # 3 s between edits of a card in a group, 1 s in private
    card = await outbox.send(chat.id, "count 0")
    assert card is not None
    state = {"count": 1}

    async def render() -> tuple[str, None]:
        return f"count {state['count']}", None

    outbox.refresh(chat.id, card.message_id, render)
    await fake.wait_for("editMessageText", chat_id=chat.id, text="count 1")  # at once
    assert sleep.waits == []
    state["count"] = 2
    outbox.refresh(chat.id, card.message_id, render)  # too soon after the first edit
    await asyncio.wait_for(outbox.idle(), 5)
    assert sleep.waits == pytest.approx([interval])
    message = fake.message(chat, card.message_id)
    assert message is not None and message.text == "count 2"


async def test_refresh_whose_render_returns_none_does_not_edit(
    fake: FakeTelegram, bot: Bot, court: FakeChat
) -> None:
    outbox, _, _ = make_outbox(bot)
    card = await outbox.send(court.id, "poll closed")
    assert card is not None
    rendered = 0

    async def nothing() -> None:
        nonlocal rendered
        rendered += 1

    outbox.refresh(court.id, card.message_id, nothing)
    await asyncio.wait_for(outbox.idle(), 5)
    assert rendered == 1
    assert fake.calls_to("editMessageText") == []
    assert outbox.pending_refreshes == 0


def test_sliding_window_never_exceeds_its_capacity_in_any_window() -> None:
    from bot.outbox import SlidingWindow

    now = [0.0]
    window = SlidingWindow(20, 60.0, lambda: now[0])
    starts = []
    for i in range(100):
        now[0] = i * 0.5  # a press-driven burst: one send every half second
        starts.append(now[0] + window.reserve())
    assert starts[:20] == [i * 0.5 for i in range(20)]  # the first 20 go at once
    assert starts[20] == 60.0  # the 21st waits until the first has left the minute
    assert starts == sorted(starts)
    for i, start in enumerate(starts):
        in_window = [s for s in starts if start - 60.0 < s <= start]
        assert len(in_window) <= 20, i
    # a token bucket with the same numbers would have let 40 through in the first minute
    bucket = TokenBucket(20, 20 / 60, lambda: now[0])
    now[0] = 0.0
    first_minute = 0
    for i in range(100):
        now[0] = i * 0.5
        if now[0] + bucket.reserve() < 60.0:
            first_minute += 1
    assert first_minute > 20


def test_sliding_window_idle_and_bad_arguments() -> None:
    from bot.outbox import SlidingWindow

    now = [0.0]
    window = SlidingWindow(2, 10.0, lambda: now[0])
    assert window.idle
    window.reserve()
    assert not window.idle
    now[0] = 10.0
    assert window.idle
    with pytest.raises(ValueError):
        SlidingWindow(0, 10.0)
    with pytest.raises(ValueError):
        SlidingWindow(1, 0.0)


class VirtualTime:
    """Virtual time for many concurrent waiters: ``sleep`` parks the caller until the driver
    moves the clock to its wake-up time. Lets a test play 500 concurrent sends in microseconds."""

    def __init__(self) -> None:
        self.now = 0.0
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._waiters, (self.now + delay, self._seq, future))
        await future

    async def run(self, tasks: list[asyncio.Task[float]]) -> list[float]:
        while not all(t.done() for t in tasks):
            for _ in range(5):
                await asyncio.sleep(0)  # let every runnable task reach its next sleep
            if self._waiters:
                wake, _, future = heapq.heappop(self._waiters)
                self.now = max(self.now, wake)
                future.set_result(None)
        return [t.result() for t in tasks]


async def _send_times(bot: Bot, *, scheduled_in_background: bool) -> tuple[list[float], float]:
    """When 500 scheduled sends (one per private chat) and one reply, all due at t=0, may go."""
    from bot.outbox import BACKGROUND

    vt = VirtualTime()
    limits = replace(Limits(), global_per_second=30.0, background_per_second=20.0)
    outbox = Outbox(bot, limits=limits, clock=vt.clock, sleep=vt.sleep)

    async def send(chat_id: int, background: bool) -> float:
        BACKGROUND.set(background)  # a task's own context, as the scheduler's jobs have
        await outbox._wait_turn(chat_id, limited=True)
        return vt.now

    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(send(10_000 + n, scheduled_in_background)) for n in range(500)]
    tasks.append(loop.create_task(send(42, False)))  # a resident's /help, at the same moment
    times = await vt.run(tasks)
    return times[:-1], times[-1]


async def test_scheduled_sends_never_make_replies_wait(bot: Bot) -> None:
    """500 reminders due in one second, then a resident's command: the reply goes at once,
    because scheduled sends take their own budget (20/s) before the global one (30/s)."""
    scheduled, reply = await _send_times(bot, scheduled_in_background=True)
    assert reply == pytest.approx(0.0)
    # every reminder goes: 20 at once, then 20 a second — the 500th at 24 s
    assert len(scheduled) == 500 and scheduled.count(0.0) == 20
    assert max(scheduled) == pytest.approx((500 - 20) / 20, abs=0.1)
    # without the background budget the same reply would queue behind the reminders
    _, unfair = await _send_times(bot, scheduled_in_background=False)
    assert unfair > 15.0


async def test_replies_keep_flowing_while_a_reminder_cluster_drains(bot: Bot) -> None:
    """Residents keep sending 20 commands a second while 500 reminders are due at once: the
    replies are not held up (reminders take only what replies leave of the 30/s), and every
    reminder still goes, later."""
    from bot.outbox import BACKGROUND

    vt = VirtualTime()
    outbox = Outbox(bot, limits=Limits(), clock=vt.clock, sleep=vt.sleep)

    async def reminder(n: int) -> float:
        BACKGROUND.set(True)
        await outbox._wait_turn(10_000 + n, limited=True)
        return vt.now

    async def reply(n: int) -> float:
        arrives = n * 0.05  # 20 a second, each to a different resident
        await vt.sleep(arrives)
        await outbox._wait_turn(50_000 + n, limited=True)
        return vt.now - arrives

    loop = asyncio.get_running_loop()
    reminders = [loop.create_task(reminder(n)) for n in range(500)]
    replies = [loop.create_task(reply(n)) for n in range(600)]
    times = await vt.run(reminders + replies)
    waits = sorted(times[500:])
    assert waits[-1] < 0.5, waits[-10:]  # the slowest reply of 600 waited under half a second
    assert len(times[:500]) == 500 and max(times[:500]) > 30  # reminders went, just slower


# --- a press is answered before anything it sends waits ------------------------------------


async def test_a_press_is_answered_before_its_send_waits_for_the_group_budget(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, court: FakeChat
) -> None:
    outbox, _, sleep = make_outbox(bot, time_passes=False)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Want", callback_data="want")]])
    card = await outbox.send(court.id, "Ladder", reply_markup=markup)
    assert card is not None
    for n in range(19):  # the group's 20 a minute are spent
        await outbox.send(court.id, f"notice {n}")
    query = await alice.press(card, "want")
    press = Press(query.id)
    token = PRESS.set(press)
    try:
        mark = fake.mark()
        # a handler that sends before it answers: the send must wait a minute...
        assert await outbox.send(court.id, "hand-over") is not None
        # ...so the press was answered first (no text: the handler had not said one yet)
        methods = [c.method for c in fake.calls[mark:] if c.method != "getUpdates"]
        assert methods == ["answerCallbackQuery", "sendMessage"]
        assert sleep.waits == pytest.approx([60.0])
        assert press.answered.is_set()
        assert fake.callback_answer(query.id) == {"show_alert": False}
        # the handler's own answer comes too late to be shown, and is not sent at all
        assert await outbox.answer(query.id, "Introduced") is False
        assert len(fake.calls_to("answerCallbackQuery")) == 1
    finally:
        PRESS.reset(token)


async def test_a_send_with_room_in_the_budget_leaves_the_press_to_its_handler(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, court: FakeChat
) -> None:
    outbox, _, sleep = make_outbox(bot, time_passes=False)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Want", callback_data="want")]])
    card = await outbox.send(court.id, "Ladder", reply_markup=markup)
    assert card is not None
    query = await alice.press(card, "want")
    press = Press(query.id)
    token = PRESS.set(press)
    try:
        assert await outbox.send(court.id, "hand-over") is not None
        assert not press.answered.is_set() and sleep.waits == []
        assert await outbox.answer(query.id, "Introduced") is True
        assert press.answered.is_set()
        assert fake.callback_answer(query.id) == {"text": "Introduced", "show_alert": False}
    finally:
        PRESS.reset(token)


async def test_a_stop_ends_the_wait_of_scheduled_sends_only(
    bot: Bot, fake: FakeTelegram, court: FakeChat
) -> None:
    """After ``stop_background`` a scheduled send still waiting for its turn gives up without
    sending (``Stopping``); a reply to a resident waits on and is sent."""
    outbox = Outbox(bot, limits=replace(Limits(), group_burst=1, group_per_second=2.0))
    assert await outbox.send(court.id, "first") is not None  # the group's burst is spent

    async def scheduled(text: str) -> object:
        token = BACKGROUND.set(True)
        try:
            return await outbox.send(court.id, text)
        finally:
            BACKGROUND.reset(token)

    waiting = asyncio.ensure_future(scheduled("reminder"))
    reply = asyncio.ensure_future(outbox.send(court.id, "reply"))
    await asyncio.sleep(0.05)
    outbox.stop_background()
    with pytest.raises(Stopping):
        await waiting
    assert await reply is not None
    with pytest.raises(Stopping):  # and a scheduled send that comes later gives up at once
        await scheduled("later")
    assert delivered(fake, "reminder") == 0 and delivered(fake, "later") == 0
    assert delivered(fake, "reply") == 1
