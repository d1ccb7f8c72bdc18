"""The weekly digest at Telegram's limit: a busy week of emoji titles, every section full."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.text import utf16_len
from handlers.common import plain
from storage.db import to_db
from tests.e2e.conftest import World
from tests.e2e.test_proposals import households


async def test_a_busy_week_of_emoji_still_gets_its_digest(world: World) -> None:
    """Proposals, events, reports and polls titled in emoji: the digest was one message of
    every section, past Telegram's 4 096 UTF-16 units; Telegram refused it each try and the
    week's digest never came."""
    people = await households(world)
    extra = [world.fake.user(f"Resident{i}", language_code="en") for i in range(2)]
    for person in extra:
        await world.do(world.fake.join(world.court, person))
    for person in [world.alice, *people[:4]]:
        for n in range(3):
            await world.do(person.send(world.court, f"/propose {n}{'😀' * 119} | x"))
    for n in range(12):
        await world.do(
            world.alice.send(world.court, f"/event {n}{'🎉' * 99} | in {n + 1} days 10:00")
        )
    for n in range(6):
        await world.do(people[n % 5].send(world.court, f"/report {n}{'🔧' * 150} | {'🚪' * 50}"))
    for n in range(8):
        await world.do(
            world.alice.send(world.court, f"/poll {n}{'❓' * 100} | yes | no | closes in 2 days")
        )
    await world.do(world.alice.send(world.court, "/settings digest every sunday 18:00"))
    db = world.services.db
    row = await db.fetchone("SELECT id FROM scheduled WHERE kind = 'digest' AND status = 'pending'")
    assert row is not None
    past = to_db(world.services.clock() - timedelta(seconds=1))
    async with db.write() as conn:
        await conn.execute(
            "UPDATE scheduled SET run_at = ?1, due_at = ?1 WHERE id = ?2", (past, row["id"])
        )
    mark = world.fake.mark()
    await world.services.scheduler.fire(row["id"])
    await world.services.outbox.idle()
    await world.settle()
    calls = [c for c in world.fake.calls[mark:] if c.method == "sendMessage"]
    assert not [c for c in calls if not c.ok], [c.description for c in calls if not c.ok]
    sent = [c.params["text"] for c in calls if c.ok and int(c.params["chat_id"]) == world.court.id]
    assert sent and all(utf16_len(plain(text)) <= 4096 for text in sent)
    assert "Proposals under way" in "\n".join(sent)
