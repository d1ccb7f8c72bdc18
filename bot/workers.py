"""Several webhook workers on one PostgreSQL: what they share so that they act as one bot.

Each ``courtyard run --webhook`` process behind a load balancer is a worker. On a PostgreSQL
``COURTYARD_DB`` three things are shared through the database (:func:`attach`, at start):

* **Order per chat** (:class:`ChatGuard`). Telegram sends the updates of one chat one after the
  other: the next is sent once the webhook answered the previous one (the answer is the 200 of
  the POST), while the updates of different chats go in parallel, up to ``max_connections``.
  Our webhook answers as soon as the update is queued, before it is handled, so two updates of
  one chat may be handled at two workers at once, or the later one first. The guard closes that
  gap: a worker takes the chat's PostgreSQL advisory lock *before it answers* (in the webhook's
  ``deliver``) and keeps it until the update has been handled. The next update of the chat is
  only sent after that answer, so whichever worker gets it waits for the lock and handles it
  after the first: the order Telegram sent them in. A chat has two locks, as it has two lanes
  in one process (bot/app.py): its messages, and its button presses (a press never waits for a
  message that waits for the group's send budget; one person's presses stay in order, since
  every press of the chat is handled at one worker at a time, in arrival order there). The locks
  are session locks on a pool of connections of their own (``connections``), never the
  storage's: a wait for a chat never holds a connection the storage needs. A worker that dies
  loses its connections, and PostgreSQL releases its locks at once.
* **Telegram's limits** (:class:`SharedBudget`): the ~30 messages a second of the bot and each
  group's 20 a rolling minute, for all workers together: one row per budget in ``rate_limits``
  (an unlogged table), reserved in one statement, one round trip per send (the group's window
  and the global GCRA bucket together). The press answers never wait for it (they are not
  counted, as in one process).
* **Cards**: one card's render and edit at one worker at a time (:meth:`SharedBudget.card_turn`),
  so the last edit of a card shows its last state, whichever worker refreshed it last.
* **Scheduled rows** (bot/scheduler.py, ``worker=``): a claim is a lease, renewed while it runs.

One process on SQLite uses none of this: the guard is ``None``, the outbox keeps its budgets in
memory, the scheduler recovers every running row at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)

#: Connections of a worker's chat locks: at most this many chats are handled at once in one
#: worker (more wait for a connection). 4 workers x (12 + 2 + 4 + the storage's 5) stay
#: below PostgreSQL's default of 100 connections.
GUARD_CONNECTIONS = 12
#: Connections of the shared send budgets.
BUDGET_CONNECTIONS = 2
#: Connections of the cards' turns (one card's render and edit at one worker at a time).
CARD_CONNECTIONS = 4

_LOCK = "SELECT pg_advisory_lock(hashtextextended($1, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended($1, 0))"


def worker_name() -> str:
    """This process's name in the scheduled rows it claims: host, pid and a nonce (a restarted
    worker is a new one: the rows of its previous life go by their lease)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def chat_key(update: object) -> str | None:
    """The lock an update takes: its chat's presses or its chat's other updates; None for an
    update of no chat (an inline query)."""
    chat = getattr(update, "effective_chat", None)
    if chat is None:
        return None
    press = getattr(update, "callback_query", None) is not None
    return f"courtyard:chat:{chat.id}:{'p' if press else 'm'}"


class _Hold:
    __slots__ = ("conn", "count", "ready")

    def __init__(self) -> None:
        self.count = 0
        self.conn: Any = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class ChatGuard:
    """Cross-worker order per chat (see the module text). ``enter(update)`` takes the update's
    chat lock (call it before answering the webhook); ``hold(update)`` holds it while the
    update runs and lets it go after (it enters first if ``enter`` was not called: polling, a
    test). Updates of one chat in one worker share the worker's hold; the in-process lanes of
    bot/app.py order them there."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._holds: dict[str, _Hold] = {}
        self._entered: dict[int, str] = {}  # id(update) -> key, entered but not yet held
        self.waits = 0  # updates that found their chat held by another worker
        self._closed = False

    @classmethod
    async def open(cls, url: str, connections: int = GUARD_CONNECTIONS) -> ChatGuard:
        import asyncpg

        pool = await asyncpg.create_pool(url, min_size=1, max_size=connections)
        return cls(pool)

    async def enter(self, update: object) -> None:
        key = chat_key(update)
        if key is None or id(update) in self._entered:
            return
        await self._acquire(key)
        self._entered[id(update)] = key

    @asynccontextmanager
    async def hold(self, update: object) -> AsyncIterator[None]:
        key = self._entered.pop(id(update), None)
        if key is None:
            key = chat_key(update)
            if key is None:
                yield
                return
            await self._acquire(key)
        try:
            yield
        finally:
            await self._release(key)

    async def _acquire(self, key: str) -> None:
        hold = self._holds.get(key)
        if hold is None:
            hold = self._holds[key] = _Hold()
            hold.count += 1
            try:
                conn = await self._pool.acquire()
                try:
                    taken = await conn.fetchval(
                        "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", key
                    )
                    if not taken:
                        self.waits += 1
                        await conn.execute(_LOCK, key)
                except BaseException:
                    await self._pool.release(conn)
                    raise
            except BaseException as exc:
                hold.count -= 1
                del self._holds[key]
                hold.ready.set_exception(exc)
                hold.ready.exception()  # retrieved: the waiters get it raised
                raise
            hold.conn = conn
            hold.ready.set_result(None)
            return
        hold.count += 1
        try:
            await asyncio.shield(hold.ready)
        except BaseException:
            hold.count -= 1
            raise

    async def _release(self, key: str) -> None:
        hold = self._holds[key]
        hold.count -= 1
        if hold.count > 0:
            return
        del self._holds[key]
        conn, hold.conn = hold.conn, None
        try:
            await conn.execute(_UNLOCK, key)
        except Exception:
            log.exception("could not let the lock of %s go; dropping its connection", key)
            with contextlib.suppress(Exception):
                await conn.close()
        finally:
            with contextlib.suppress(Exception):
                await self._pool.release(conn)

    @property
    def held(self) -> int:
        return len(self._holds)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._entered.clear()
        await self._pool.close()  # the locks go with the connections


#: One send's reservation: a place in the chat's rolling window (its last ``capacity`` uses)
#: and, when the chat allows the send now, a token of the global GCRA bucket, in one statement.
#: A send that has to wait for its chat takes the global token only once it may go (as in one
#: process: a token taken for a minute later would hold every other chat back).
#: $1 chat key, $2 capacity, $3 window seconds, $4 global interval (1 / per second), $5 global
#: tolerance (seconds of burst allowed: the capacity less the tokens a scheduled send leaves to
#: replies, times $4). Returns the chat's wait and the global wait (NULL: not taken yet).
_RESERVE = """
WITH t AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now),
chat AS (
    INSERT INTO rate_limits AS r (key, slots) SELECT $1, ARRAY[t.now] FROM t
    ON CONFLICT (key) DO UPDATE SET slots = (
        SELECT (r.slots || s.slot)[greatest(1, cardinality(r.slots) + 2 - $2):]
        FROM (SELECT CASE WHEN cardinality(r.slots) >= $2
                     THEN greatest(t.now, r.slots[cardinality(r.slots) + 1 - $2] + $3)
                     ELSE t.now END AS slot FROM t) s)
    RETURNING r.slots[cardinality(r.slots)] AS at
),
old AS (
    SELECT tat FROM rate_limits
    WHERE key = 'global' AND (SELECT at FROM chat) <= (SELECT now FROM t)
    FOR UPDATE
),
g AS (
    UPDATE rate_limits AS r SET tat = greatest(old.tat, (SELECT now FROM t)) + $4
    FROM old WHERE r.key = 'global'
    RETURNING greatest((SELECT now FROM t), old.tat - $5) AS start
)
SELECT (SELECT at FROM chat) - (SELECT now FROM t) AS chat,
       (SELECT start FROM g) - (SELECT now FROM t) AS global
"""

#: The global token alone (after a wait for the chat): $1 interval, $2 tolerance.
_GLOBAL = """
WITH t AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now),
old AS (SELECT tat FROM rate_limits WHERE key = 'global' FOR UPDATE)
UPDATE rate_limits AS r SET tat = greatest(old.tat, (SELECT now FROM t)) + $1
FROM old WHERE r.key = 'global'
RETURNING greatest((SELECT now FROM t), old.tat - $2) - (SELECT now FROM t)
"""


class SharedBudget:
    """Telegram's send limits held by every worker together (see the module text):
    ``await reserve(chat_id, background)`` takes a place in the chat's window and in the global
    budget and returns how long to wait before sending (0: at once)."""

    def __init__(self, pool: Any, limits: Any, cards: Any = None) -> None:
        self._pool = pool
        self._cards = cards
        self.limits = limits
        self.reserved = 0

    @classmethod
    async def open(
        cls, url: str, limits: Any, connections: int = BUDGET_CONNECTIONS
    ) -> SharedBudget:
        import asyncpg

        pool = await asyncpg.create_pool(url, min_size=1, max_size=connections)
        await pool.execute(
            "INSERT INTO rate_limits (key, tat) VALUES ('global', 0) ON CONFLICT DO NOTHING"
        )
        cards = await asyncpg.create_pool(url, min_size=0, max_size=CARD_CONNECTIONS)
        return cls(pool, limits, cards)

    @asynccontextmanager
    async def card_turn(self, chat_id: int, message_id: int) -> AsyncIterator[None]:
        """One card's render and edit at one worker at a time (a transaction's advisory lock
        on a pool of its own, never the budget's: the edit inside reserves a send). Without
        it a worker that rendered before another's vote could edit after the other's edit,
        and the card would stay one vote behind."""
        if self._cards is None:
            yield
            return
        async with self._cards.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                f"courtyard:card:{chat_id}:{message_id}",
            )
            yield

    def _shape(self, chat_id: int, background: bool) -> tuple[str, int, float, float, float]:
        limits = self.limits
        if chat_id < 0:
            capacity = limits.group_burst
            window = limits.group_burst / limits.group_per_second
        else:
            capacity = limits.private_burst
            window = limits.private_burst / limits.private_per_second
        interval = 1.0 / limits.global_per_second
        keep = limits.reply_reserve if background else 0.0
        tolerance = max(0.0, limits.global_per_second - 1 - keep) * interval
        return f"chat:{chat_id}", capacity, window, interval, tolerance

    async def reserve(self, chat_id: int, background: bool = False) -> tuple[float, float | None]:
        """(the wait for the chat, the wait for the global token); the second is None when
        the chat has to wait first: call :meth:`reserve_global` after that wait."""
        args = self._shape(chat_id, background)
        row = await self._pool.fetchrow(_RESERVE, *args)
        self.reserved += 1
        chat = max(0.0, float(row["chat"] or 0.0))
        found = row["global"]
        return chat, None if found is None else max(0.0, float(found))

    async def reserve_global(self, background: bool = False) -> float:
        _, _, _, interval, tolerance = self._shape(-1, background)
        delay = await self._pool.fetchval(_GLOBAL, interval, tolerance)
        return max(0.0, float(delay or 0.0))

    async def forget_quiet(self, older_than: float = 3600.0) -> int:
        """Drop the windows of chats quiet for ``older_than`` seconds (they allow everything)."""
        status = await self._pool.execute(
            "DELETE FROM rate_limits WHERE key <> 'global' AND slots[cardinality(slots)]"
            " < extract(epoch FROM clock_timestamp()) - $1",
            older_than,
        )
        return int(status.rsplit(" ", 1)[-1])

    async def close(self) -> None:
        await self._pool.close()
        if self._cards is not None:
            await self._cards.close()


async def attach(app: Any, services: Any) -> bool:
    """At start, on a PostgreSQL database: the chat guard on the update processor, the shared
    budgets in the outbox, a worker name and leases for the scheduler; closed at shutdown
    (:func:`detach`). Returns False (nothing changed) on SQLite."""
    db = services.db
    if getattr(db, "dialect", "sqlite") != "postgresql":
        return False
    url = db.url
    guard = await ChatGuard.open(url)
    budget = await SharedBudget.open(url, services.outbox.limits)
    processor = app.update_processor
    if hasattr(processor, "guard"):
        processor.guard = guard
    services.outbox.shared = budget
    if services.scheduler.worker is None:
        services.scheduler.worker = worker_name()
    app.bot_data["workers"] = (guard, budget)
    log.info(
        "worker %s: order per chat, send budgets and scheduled rows shared in PostgreSQL",
        services.scheduler.worker,
    )
    return True


async def detach(app: Any) -> None:
    """At shutdown: the rows this worker was firing go back at once, the pools close."""
    found = app.bot_data.pop("workers", None)
    if found is None:
        return
    guard, budget = found
    services = app.bot_data.get("services")
    if services is not None:
        with contextlib.suppress(Exception):
            await services.scheduler.release()
    processor = app.update_processor
    if getattr(processor, "guard", None) is guard:
        processor.guard = None
    if services is not None and services.outbox.shared is budget:
        services.outbox.shared = None
    await guard.close()
    await budget.close()
