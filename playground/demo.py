"""The playground's cast, and ``--demo``: a believable building prepared by driving the bot.

Without ``--demo`` the playground has a group with its lead and three residents, and no bot yet:
adding Courtyard is the first thing a visitor does. With ``--demo`` the building is prepared the
way its residents would prepare it, through the fake Telegram and the running bot only (no row
is written by hand): the lead adds the bot, sends the register of 12 units as a CSV in private
and picks the group, residents claim their units, someone opens a poll and neighbours vote, an
event fills up and gets a waitlist, a few things are offered and asked for, and a formal
decision is opened and half the households have voted. All of it in the chosen language. With
``--forum`` the group is a forum supergroup: the poll is in the topic Repairs, the event in
Events, the listings in Sell & give away, the rest in General.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import Message

from playground.page import words
from playground.server import FakeTelegram
from playground.world import TOPIC_COLORS, FakeChat, FakeTopic, FakeUser

__all__ = ["CAST", "LANGUAGES", "Cast", "build_demo", "make_cast"]

_LOGGER = logging.getLogger("playground.demo")

#: (first name, last name) of the lead, then of the residents, per language
CAST: dict[str, list[tuple[str, str | None]]] = {
    "en": [
        ("Alice", "Adams"),
        ("Bob", "Baker"),
        ("Carol", "Chen"),
        ("David", "Diaz"),
        ("Emma", "Evans"),
        ("Frank", "Fischer"),
        ("Grace", "Green"),
        ("Henry", "Hall"),
        ("Iris", "Ito"),
        ("Jack", "Jones"),
    ],
    "zh": [
        ("王芳", None),
        ("李伟", None),
        ("张敏", None),
        ("刘洋", None),
        ("陈静", None),
        ("杨磊", None),
        ("赵丽", None),
        ("黄强", None),
        ("周婷", None),
        ("吴杰", None),
    ],
    # Taiwanese names, written as people there write them (surname first, no space)
    "zh-hant": [
        ("林怡君", None),
        ("陳冠宇", None),
        ("張雅婷", None),
        ("黃志明", None),
        ("李佩珊", None),
        ("王俊傑", None),
        ("吳淑芬", None),
        ("蔡承恩", None),
        ("劉家豪", None),
        ("鄭美玲", None),
    ],
    "ru": [
        ("Анна", "Орлова"),
        ("Борис", "Петров"),
        ("Вера", "Соколова"),
        ("Глеб", "Морозов"),
        ("Дарья", "Волкова"),
        ("Егор", "Лебедев"),
        ("Зоя", "Козлова"),
        ("Игорь", "Новиков"),
        ("Ксения", "Попова"),
        ("Лев", "Фёдоров"),
    ],
}
#: how many residents (besides the lead) are in the group without --demo
SMALL_CAST = 3

#: the register: label, floor area in m²
UNITS = [
    ("1-101", "62.5"),
    ("1-102", "48"),
    ("1-201", "62.5"),
    ("1-202", "48"),
    ("1-301", "75.2"),
    ("1-302", "48"),
    ("2-101", "88"),
    ("2-102", "54.3"),
    ("2-201", "88"),
    ("2-202", "54.3"),
    ("2-301", "96.4"),
    ("2-302", "54.3"),
]

#: the demo's steps, as the page names them while they run (``playground.step.<name>``)
STEPS = ("bot", "register", "claims", "poll", "event", "items", "decision")
LANGUAGES = ("en", "zh", "zh-hant", "ru")
#: the topics of the demo's forum (``--forum``), after General (``playground.demo.topic_<name>``)
TOPICS = ("repairs", "events", "market")


@dataclass
class Cast:
    group: FakeChat
    lead: FakeUser
    residents: list[FakeUser]
    #: a forum's topics by their name in TOPICS (empty: the group has no topics)
    topics: dict[str, FakeTopic] = field(default_factory=dict)

    def topic(self, name: str) -> FakeTopic | None:
        """The demo's topic ``name`` (None: General, or a group without topics)."""
        return self.topics.get(name)


def make_cast(fake: FakeTelegram, language: str, *, demo: bool, forum: bool = False) -> Cast:
    """The building's group with its lead and residents (the bot is not in it yet); with
    ``forum`` a forum supergroup whose lead made the topics General, Repairs, Events and
    Sell & give away, in ``language``."""
    names = CAST.get(language, CAST["en"])
    people = names if demo else names[: SMALL_CAST + 1]
    users = [fake.user(first, last, language_code=language) for first, last in people]
    title = words(language, "demo.group")
    if not forum:
        group = fake.group(title, admins=users[:1], members=users[1:])
        return Cast(group, users[0], users[1:])
    group = fake.forum(title, admins=users[:1], members=users[1:])
    topics = {
        name: fake.create_topic(
            group, words(language, f"demo.topic_{name}"), by=users[0], icon_color=color
        )
        for name, color in zip(TOPICS, TOPIC_COLORS[1:], strict=False)
    }
    return Cast(group, users[0], users[1:], topics)


class DemoFailed(Exception):
    pass


class _Driver:
    """Acts through the world and waits for the bot's answers (over its real HTTP calls)."""

    def __init__(self, fake: FakeTelegram, cast: Cast, quiet: float) -> None:
        self.fake = fake
        self.cast = cast
        self.quiet = quiet

    async def settle(self, mark: int, timeout: float = 90.0) -> None:  # noqa: ASYNC109
        """The bot took every update and has been quiet for a moment (its outbox is paced as
        Telegram wants it, so a long wait may be the group's budget, not a fault)."""
        await self.fake.until_confirmed(timeout=timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = -1
        while loop.time() < deadline:
            count = len(self.fake.api_calls)
            if count == seen:
                return
            seen = count
            await asyncio.sleep(self.quiet)

    async def say(
        self, person: FakeUser, chat: FakeChat, text: str, topic: FakeTopic | None = None
    ) -> int:
        """``person`` writes ``text`` (in ``topic`` of a forum; None: General); returns once
        the bot answered (in that chat or in private: a claim's confirmation goes to the
        claimant) and went quiet."""
        mark = self.fake.mark()
        await person.send(chat, text, topic=topic)
        answers = ("sendMessage", "editMessageText", "sendDocument")
        await self.fake.wait_until(
            lambda: any(c.ok and c.method in answers for c in self.fake.calls[mark:]),
            timeout=90,
            message=f"no answer to {text!r}",
        )
        await self.settle(mark)
        return mark

    def card(self, chat: FakeChat, prefix: str, since: int = 0) -> Message | None:
        """The newest bot message in ``chat`` with a button whose data starts with ``prefix``."""
        for message in reversed(chat.bot_messages):
            if message.message_id <= since:
                break
            if buttons_of(message, prefix):
                return message
        return None

    async def wait_card(self, chat: FakeChat, prefix: str, since: int = 0) -> Message:
        found: list[Message] = []

        def ready() -> bool:
            message = self.card(chat, prefix, since)
            if message is not None:
                found.append(message)
            return message is not None

        await self.fake.wait_until(ready, timeout=90, message=f"no card with {prefix} buttons")
        return found[-1]

    async def shows(self, chat: FakeChat, message_id: int, done: Callable[[str], bool]) -> None:
        def ready() -> bool:
            current = self.fake.message(chat, message_id)
            return current is not None and done(current.text or "")

        await self.fake.wait_until(ready, timeout=120, message=f"card {message_id} not final")

    async def press(self, person: FakeUser, message: Message, data: str) -> None:
        query = await person.press(message, data)  # the button as the message shows it now
        await self.fake.wait_until(
            lambda: self.fake.callback_answer(query.id) is not None,
            timeout=30,
            message=f"no answer to {data}",
        )


def buttons_of(message: Message, prefix: str) -> list[str]:
    markup = message.reply_markup
    rows = markup.inline_keyboard if markup else ()
    return [
        str(b.callback_data)
        for row in rows
        for b in row
        if b.callback_data is not None and str(b.callback_data).startswith(prefix)
    ]


async def build_demo(
    fake: FakeTelegram,
    cast: Cast,
    language: str,
    progress: Callable[[str], None],
    *,
    quiet: float = 0.15,
) -> None:
    """Prepare the demo building through the bot (which must be polling already). After each
    line a person writes, the bot's answer is awaited and then ``quiet`` seconds of silence."""

    def say(key: str) -> str:
        return words(language, f"demo.{key}")

    def step(name: str) -> None:
        progress(words(language, "status.preparing", step=words(language, f"step.{name}")))

    drive = _Driver(fake, cast, quiet)
    group, lead, residents = cast.group, cast.lead, cast.residents

    step("bot")
    mark = fake.mark()
    await fake.add_bot(group, by=lead)
    await fake.wait_for("sendMessage", since=mark, chat_id=group.id, timeout=90)
    await drive.settle(mark)

    step("register")
    await drive.say(lead, lead.private, "/start")
    await drive.say(lead, group, "/settings unit_approval off")  # claims approved at once
    csv = "unit,area\n" + "".join(f"{label},{area}\n" for label, area in UNITS)
    newest = max(lead.private.messages, default=0)
    await lead.send_document(lead.private, filename=say("csv_name"), content=csv.encode())
    question = await drive.wait_card(lead.private, f"un:i:{group.id}:", since=newest)
    mark = fake.mark()
    await drive.press(lead, question, buttons_of(question, f"un:i:{group.id}:")[0])
    await drive.settle(mark)

    step("claims")
    owners = [lead, *residents]
    for person, (label, _area) in zip(owners, UNITS, strict=False):
        if person is not lead:
            await drive.say(person, person.private, "/start")
        await drive.say(person, group, f"/unit {label}")
    await drive.say(lead, group, "/settings unit_approval on")  # newcomers wait for the lead

    step("poll")
    since = max(group.messages)
    await drive.say(residents[0], group, say("poll"), cast.topic("repairs"))
    poll = await drive.wait_card(group, "pl:v:", since)
    options = buttons_of(poll, "pl:v:")
    poll_voters = [lead, *residents[1:6]]
    for index, person in enumerate(poll_voters):
        await drive.press(person, poll, options[index % 2 if index < 5 else 2])

    step("event")
    since = max(group.messages)
    await drive.say(residents[2], group, say("event"), cast.topic("events"))
    event = await drive.wait_card(group, "ev:g:", since)
    going = buttons_of(event, "ev:g:")[0]
    guests = [residents[2], lead, *residents[3:7]]  # six for four places: two wait
    for person in guests:
        await drive.press(person, event, going)

    step("items")
    offers = ("offer_drill", "offer_stroller", "need_ladder")
    for person, key in zip((residents[4], residents[5], residents[6]), offers, strict=True):
        await drive.say(person, group, say(key), cast.topic("market"))

    step("decision")
    since = max(group.messages)
    await drive.say(lead, group, say("decide"))
    decision = await drive.wait_card(group, "dc:v:", since)
    choices = buttons_of(decision, "dc:v:")
    voters = [lead, *residents[:5]]  # six of the twelve households
    for index, person in enumerate(voters):
        await drive.press(person, decision, choices[0 if index != 3 else 1])
    # the cards are refreshed at the group's pace (Telegram's 20 messages and edits a minute):
    # the building is ready when every card shows every press
    finals = [
        (poll, lambda text: all(p.full_name in text for p in poll_voters)),
        (event, lambda text: all(p.full_name in text for p in guests)),
        (decision, lambda text: f"{len(voters)}/{len(UNITS)}" in text),
    ]
    for card, done in finals:
        await drive.shows(group, card.message_id, done)
    await drive.settle(fake.mark())
    progress("")
