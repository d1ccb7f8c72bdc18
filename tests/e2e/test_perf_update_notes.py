"""Every update's id is noted before it is handled (a re-delivery after a crash is skipped);
updates that come together — one getUpdates batch, a burst of presses — are noted in one write
instead of one each (issue 14: the note was a write transaction per press)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage import polls, updates
from storage.db import Database
from tests.e2e.conftest import World


async def test_ids_asked_for_together_are_noted_in_one_write(world: World) -> None:
    db = world.services.db
    notes = updates.Notes(db, world.services.clock)
    first = await asyncio.gather(*(notes.first_time(9_000 + n) for n in range(50)))
    assert first == [True] * 50
    assert notes.writes == 1
    again = await asyncio.gather(*(notes.first_time(9_000 + n) for n in range(50)))
    assert again == [False] * 50  # re-deliveries, all of them
    assert notes.writes == 2
    row = await db.fetchone(
        "SELECT COUNT(*) AS n FROM updates_seen WHERE update_id BETWEEN 9000 AND 9049"
    )
    assert row is not None and row["n"] == 50


async def test_an_id_asked_for_twice_in_one_write_is_new_only_once(world: World) -> None:
    notes = updates.Notes(world.services.db, world.services.clock)
    assert await asyncio.gather(notes.first_time(77), notes.first_time(77)) == [True, False]
    assert await notes.first_time(78)


async def test_a_failed_note_fails_every_update_it_held(world: World, tmp_path: Path) -> None:
    """None of the updates is handled (their handlers would run unnoted)."""
    db = await Database.open(tmp_path / "other.sqlite3")
    await db.close()
    notes = updates.Notes(db, world.services.clock)
    results = await asyncio.gather(notes.first_time(1), notes.first_time(2), return_exceptions=True)
    assert all(isinstance(r, Exception) for r in results), results
    with pytest.raises(ValueError):  # aiosqlite: the connection is closed
        await notes.first_time(3)


async def test_a_burst_of_presses_is_noted_in_fewer_writes_than_presses(world: World) -> None:
    fake = world.fake
    crowd = [fake.user(f"Neighbour {n}", language_code="en") for n in range(40)]
    for person in crowd:
        await fake.join(world.court, person)
    await world.with_bot()
    await world.do(world.alice.send(world.court, "/poll Paint the gate? | Green | Blue"))
    poll = await polls.get(world.services.db, 1)
    assert poll is not None and poll.message_id is not None
    card = fake.message(world.court, poll.message_id)
    notes = getattr(world.app.update_processor.first_time, "__self__", None)
    assert isinstance(notes, updates.Notes)
    before = notes.writes
    for person in crowd:
        await person.press(card, f"pl:v:{poll.id}:0")
    await world.settle(timeout=30)
    assert all(fake.callback_answer(q) is not None for q in list(fake.callbacks)[-40:])
    assert (await polls.results(world.services.db, poll)).counts == (40, 0)
    assert 1 <= notes.writes - before < len(crowd) // 2, notes.writes - before
