"""Hostile input through the real bot: every command of the catalogue with random arguments
gets an answer (one message; a created card may add its own), and never the "something went
wrong" apology (that would be an unhandled error).

The default run sends 120 generated commands; COURTYARD_FULL_TESTS=1 sends 1 500.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from bot.domain.commands import COMMANDS as CATALOGUE
from playground import FakeTelegram
from tests.e2e.conftest import World, start_app, stop_app

COUNT = 1500 if os.environ.get("COURTYARD_FULL_TESTS") == "1" else 120

PIECES = [
    "tomorrow",
    "9:00",
    "every",
    "monday",
    "|",
    "pin",
    "明天",
    "早上8点",
    "每周二",
    "завтра",
    "в 9:00",
    "каждый",
    "language",
    "timezone",
    "polls",
    "digest",
    "organizer",
    "zh",
    "ru",
    "Asia/Shanghai",
    "'; DROP TABLE chats; --",
    "<b>",
    "</i>",
    "&amp;",
    "&",
    "<script>",
    "\u200b",
    "\u200f",
    "\u202e",
    "مرحبا",
    "שלום",
    "🙂",
    "👨‍👩‍👧",
    "\n",
    "{n}",
    "{name}",
    "%s",
    "0",
    "-1",
    "99999999999999999999",
    "1/0",
    "\x00",
    "yesterday",
    "2020-01-01",
    "12/5",
    "in 100 years",
]
PIECES += [
    "rule=cn-278-special",
    "closes=in 14 days",
    "closes friday 20:00",
    "secret",
    "anonymous",
    "multiple",
    "quorum=1/2",
    "D1",
    "P1",
    "E1",
    "G1",
    "C1",
    "I1",
    "for",
    "за",
    "赞成",
    "3-502",
    "89.5",
    "add",
    "remove",
    "edit",
    "cancel",
    "per slot 2",
    "sat 8:00-12:00",
    "lend",
    "give",
    "¥12.5",
    "12,50 ₽",
    "30元",
    "电脑",
    "велосипед",
]
#: Every command of the catalogue (bot/domain/commands.py), so a new command is fuzzed at once.
COMMANDS = [f"/{spec.name}" for spec in CATALOGUE]


def hostile(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.05:
        return rng.choice(PIECES) * rng.randint(200, 1200)  # very long
    if kind < 0.15:
        return "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 40)))
    return " ".join(rng.choice(PIECES) for _ in range(rng.randint(0, 8)))


async def test_random_arguments_always_get_one_clear_answer(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    app = await start_app(fake, tmp_path / "fuzz.sqlite3")
    world = World(fake, app)
    rng = random.Random(20261121)
    try:
        await world.with_bot()
        await world.do(world.bob.send(world.bob.private, "/start"))
        for i in range(COUNT):
            command = rng.choice(COMMANDS)
            who = rng.choice([world.alice, world.bob, world.carol])
            chat = world.court if rng.random() < 0.7 else who.private
            text = f"{command} {hostile(rng)}".replace("\x00", "")[:4096]
            replies = await world.do(who.send(chat, text))
            sent = [
                c for c in replies.calls if c.ok and c.method in ("sendMessage", "sendDocument")
            ]
            shown = [str(c.params.get("text") or c.params.get("caption"))[:80] for c in sent]
            assert 1 <= len(sent) <= 3, (i, text[:80], shown)
            for call in sent:
                answer = str(call.params.get("text") or call.params.get("caption") or "")
                assert "something went wrong" not in answer, (i, text[:120])
                assert "Traceback" not in answer
    finally:
        await stop_app(app)
