"""Forged callback data through the real bot: for every callback prefix the application
registers, data of valid shape with random ids, other chats' ids, closed items' ids, random
Unicode, over-long data, empty parts and extra colons. Every press is answered exactly once,
never with the internal-error apology, and invalid data changes nothing in the database.

A seeded generator (not hypothesis: one application serves every case, and hypothesis' shrinking
would replay presses against a database that remembers them): 300 cases by default, 10 000 with
COURTYARD_FULL_TESTS=1. A failure names its seed and case number.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from handlers import privacy
from playground import FakeTelegram
from tests.e2e.conftest import World, start_app, stop_app
from tests.e2e.test_authorization import make_cards, registered_prefixes, snapshot

FULL = os.environ.get("COURTYARD_FULL_TESTS") == "1"
COUNT = 10_000 if FULL else 300
SEED = 20261122
INTERNAL = ("something went wrong", "что-то пошло не так", "出了点问题")

#: The operation letters each prefix knows (a wrong letter must be refused as well).
OPS = "vmacgpxtnhlwyrbdikesz"
NASTY = [
    "",
    "0",
    "-1",
    "00",
    "99999999999999999999",
    "1e3",
    " 1",
    "١",  # an Arabic-Indic digit: str.isdigit() says yes, int() accepts it
    "²",  # a superscript: isdigit() yes, int() no
    "'; DROP TABLE polls; --",
    "\u200b1",
    "\u202e1",
    "🙂",
    "%s",
    "{0}",
    "<b>",
    "None",
    "nan",
]


def ids_of(path: Path) -> dict[str, list[int]]:
    """Row ids per feature table, to aim forged data at real rows of both chats."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            "polls",
            "decisions",
            "events",
            "rosters",
            "roster_slots",
            "items",
            "loans",
            "groupbuys",
            "groupbuy_orders",
            "chains",
            "posts",
            "units",
        ]
        out: dict[str, list[int]] = {}
        for table in tables:
            try:
                out[table] = [r[0] for r in conn.execute(f"SELECT rowid FROM {table}")]
            except sqlite3.Error:
                continue
        return out
    finally:
        conn.close()


#: The settings panel's own buttons (handlers/settings.py).
REAL_SETTINGS = re.compile(r"st:(?:[bdeprukx]|z(?::\d{1,3})?|l:(?:en|zh_Hans|ru))")


def case(
    rng: random.Random, prefix: str, foreign: list[int], own: frozenset[int] = frozenset()
) -> str:
    """One piece of callback data for ``prefix``; never valid for the pressing chat: a row id
    is another chat's, or one that does not exist — never one of ``own`` (the pressing chat's
    row ids in any table, which a valid operation may legitimately change)."""
    kind = rng.random()
    op = rng.choice(OPS)
    if prefix == "st":
        # settings buttons carry no row ids: "st:z:1" or "st:d" is a real button, valid for a
        # lead in any chat; forge only data that is not one
        while True:
            data = case(rng, "st!", foreign, own).replace("st!", "st", 1)
            if not REAL_SETTINGS.fullmatch(data):
                return data
    if kind < 0.35:  # valid shape, a row of the other chat (or one that does not exist)
        row = rng.choice(foreign) if foreign and rng.random() < 0.7 else rng.randint(900, 10**9)
        tail = [str(rng.randint(0, 3))] if rng.random() < 0.4 else []
        return ":".join([prefix, op, str(row), *tail])
    if kind < 0.55:  # nasty parts
        parts = [rng.choice(NASTY) for _ in range(rng.randint(0, 4))]
        return ":".join([prefix, op, *parts])
    if kind < 0.7:  # random Unicode, RTL and zero-width included
        text = "".join(
            chr(rng.choice([rng.randint(0x20, 0x2FFF), 0x200F, 0x200B, 0x1F642]))
            for _ in range(rng.randint(0, 30))
        )
        return f"{prefix}:{text}"
    if kind < 0.8:  # over-long
        return f"{prefix}:{op}:" + "9" * rng.randint(60, 300)
    if kind < 0.9:  # empty parts and extra colons
        return prefix + ":" * rng.randint(1, 6) + rng.choice(["", op, "1", f"{op}::1"])
    small = rng.randint(1, 3)
    row = small if small not in own else rng.randint(900, 10**9)
    return f"{prefix}:{op}:{row}:{rng.randint(0, 9)}:{rng.randint(0, 9)}"


async def test_forged_callback_data_is_answered_and_changes_nothing(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "fuzz.sqlite3"
    app = await start_app(fake, db)
    world = World(fake, app)
    rng = random.Random(SEED)
    began = time.monotonic()
    try:
        await world.with_bot()
        birch = fake.group("Birch Court", admins=[world.bob], members=[world.alice])
        await world.do(fake.add_bot(birch, by=world.bob))
        # Birch's rows are the "other chat" the forged data points at
        await make_cards(world, birch, world.bob)
        theirs = ids_of(db)
        await make_cards(world, world.court, world.alice)
        ours = ids_of(db)
        # an id that is one of our rows in any table may be valid for some prefix: never forge it
        own = frozenset(
            i for table, ids in ours.items() for i in ids if i not in set(theirs.get(table, ()))
        )
        foreign = sorted({i for ids in theirs.values() for i in ids} - own)
        our_poll = max(ours["polls"])
        await world.do(world.alice.send(world.court, f"/close P{our_poll}"))  # a closed item
        # the retention rows a start-up job would add 30 s in are added now, so the database
        # changes only if a forged press changes it
        await privacy.ensure_retention(world.services)
        prefixes = sorted(registered_prefixes(world))
        assert len(prefixes) >= 11, prefixes
        target = fake.last_bot_message(world.court)
        assert target is not None
        presser = [world.bob, world.carol, world.wang, world.alice]
        failures: list[tuple[int, str, Any]] = []
        for n in range(COUNT):
            prefix = rng.choice(prefixes)
            data = case(rng, prefix, foreign, own)
            before = snapshot(db)
            query = await rng.choice(presser).press(target, data, check=False)
            await world.settle()
            answers = [
                c
                for c in fake.calls_to("answerCallbackQuery")
                if str(c.params.get("callback_query_id")) == str(query.id)
            ]
            text = str(answers[0].params.get("text") or "") if answers else ""
            if len(answers) != 1:
                failures.append((n, data, f"answered {len(answers)} times"))
            elif any(marker in text.lower() for marker in INTERNAL):
                failures.append((n, data, text))
            elif snapshot(db) != before:
                failures.append((n, data, f"the database changed; answer {text!r}"))
            if len(failures) >= 10:
                break
        took = time.monotonic() - began
        print(f"callback fuzz: {n + 1} cases over {len(prefixes)} prefixes in {took:.1f} s")
        assert not failures, (SEED, failures)
    finally:
        await stop_app(app)


def test_generator_covers_every_shape() -> None:
    rng = random.Random(SEED)
    made = [case(rng, "pl", [5, 6]) for _ in range(2000)]
    assert any(len(d.encode()) > 64 for d in made)
    assert any("::" in d for d in made)
    assert any(re.match(r"^pl:[a-z]:[56]($|:)", d) for d in made)
    assert any(not d.isascii() for d in made)
