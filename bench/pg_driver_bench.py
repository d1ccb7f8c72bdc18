"""asyncpg against psycopg 3 (async) on a throwaway PostgreSQL cluster.

    python bench/pg_driver_bench.py [--url postgresql://...] [--rounds 2000]

Measures, for each driver, over one connection to a local cluster (127.0.0.1):

* import time of the driver (a fresh interpreter, best of 5);
* the round trip of a small ``SELECT`` by primary key (p50/p99 in microseconds);
* a write transaction of three statements (BEGIN, INSERT, UPDATE, SELECT ... FOR UPDATE,
  COMMIT), p50/p99;
* 1000 single-row INSERTs in one transaction, one statement each (as the storage modules do),
  and the same 1000 as one batch (executemany);
* the resident memory the import and one open connection add (a fresh interpreter).

Without ``--url`` it starts a cluster with :mod:`storage.pgcluster` (fsync on, as in
production) and removes it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SETUP = (
    "DROP TABLE IF EXISTS bench_rows",
    "CREATE TABLE bench_rows (id BIGSERIAL PRIMARY KEY, chat_id BIGINT NOT NULL, "
    "body TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0)",
)


def _quantiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"p50_us": round(statistics.median(ordered) * 1e6, 1), "p99_us": round(p99 * 1e6, 1)}


async def _timed(rounds: int, body: Callable[[int], Awaitable[Any]]) -> dict[str, float]:
    for i in range(50):  # warm up (prepared statements, caches)
        await body(i)
    samples = []
    for i in range(rounds):
        start = time.perf_counter()
        await body(i)
        samples.append(time.perf_counter() - start)
    return _quantiles(samples)


async def bench_asyncpg(url: str, rounds: int) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for sql in SETUP:
            await conn.execute(sql)
        await conn.execute("INSERT INTO bench_rows (chat_id, body) VALUES (1, 'seed')")

        async def select(_: int) -> None:
            await conn.fetchrow("SELECT id, chat_id, body FROM bench_rows WHERE id = $1", 1)

        async def write(i: int) -> None:
            async with conn.transaction():
                await conn.fetchrow("SELECT n FROM bench_rows WHERE id = $1 FOR UPDATE", 1)
                await conn.fetchval(
                    "INSERT INTO bench_rows (chat_id, body) VALUES ($1, $2) RETURNING id", i, "x"
                )
                await conn.execute("UPDATE bench_rows SET n = n + 1 WHERE id = $1", 1)

        result: dict[str, Any] = {"select": await _timed(rounds, select)}
        result["write_tx_3"] = await _timed(rounds, write)
        start = time.perf_counter()
        async with conn.transaction():
            for i in range(1000):
                await conn.execute(
                    "INSERT INTO bench_rows (chat_id, body) VALUES ($1, $2)", i, f"row {i}"
                )
        result["insert_1000_ms"] = round((time.perf_counter() - start) * 1000, 1)
        start = time.perf_counter()
        async with conn.transaction():
            await conn.executemany(
                "INSERT INTO bench_rows (chat_id, body) VALUES ($1, $2)",
                [(i, f"row {i}") for i in range(1000)],
            )
        result["insert_1000_batch_ms"] = round((time.perf_counter() - start) * 1000, 1)
        await conn.execute("DROP TABLE bench_rows")
        return result
    finally:
        await conn.close()


async def bench_psycopg(url: str, rounds: int) -> dict[str, Any]:
    import psycopg

    conn = await psycopg.AsyncConnection.connect(url, autocommit=True, prepare_threshold=0)
    try:
        for sql in SETUP:
            await conn.execute(sql)
        await conn.execute("INSERT INTO bench_rows (chat_id, body) VALUES (1, 'seed')")

        async def select(_: int) -> None:
            cur = await conn.execute("SELECT id, chat_id, body FROM bench_rows WHERE id = %s", (1,))
            await cur.fetchone()

        async def write(i: int) -> None:
            async with conn.transaction():
                cur = await conn.execute("SELECT n FROM bench_rows WHERE id = %s FOR UPDATE", (1,))
                await cur.fetchone()
                cur = await conn.execute(
                    "INSERT INTO bench_rows (chat_id, body) VALUES (%s, %s) RETURNING id", (i, "x")
                )
                await cur.fetchone()
                await conn.execute("UPDATE bench_rows SET n = n + 1 WHERE id = %s", (1,))

        result: dict[str, Any] = {"select": await _timed(rounds, select)}
        result["write_tx_3"] = await _timed(rounds, write)
        start = time.perf_counter()
        async with conn.transaction():
            for i in range(1000):
                await conn.execute(
                    "INSERT INTO bench_rows (chat_id, body) VALUES (%s, %s)", (i, f"row {i}")
                )
        result["insert_1000_ms"] = round((time.perf_counter() - start) * 1000, 1)
        start = time.perf_counter()
        async with conn.transaction(), conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO bench_rows (chat_id, body) VALUES (%s, %s)",
                [(i, f"row {i}") for i in range(1000)],
            )
        result["insert_1000_batch_ms"] = round((time.perf_counter() - start) * 1000, 1)
        await conn.execute("DROP TABLE bench_rows")
        return result
    finally:
        await conn.close()


_FOOTPRINT = """
import asyncio, resource, sys, time
def rss():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
base = rss()
start = time.perf_counter()
if sys.argv[1] == 'asyncpg':
    import asyncpg
else:
    import psycopg
imported = time.perf_counter() - start
after_import = rss()
async def main():
    if sys.argv[1] == 'asyncpg':
        conn = await asyncpg.connect(sys.argv[2])
        await conn.fetchval('SELECT 1')
    else:
        conn = await psycopg.AsyncConnection.connect(sys.argv[2], autocommit=True)
        await (await conn.execute('SELECT 1')).fetchone()
    after = rss()
    await conn.close()
    return after
after_conn = asyncio.run(main())
print(imported, after_import - base, after_conn - base)
"""


def footprint(driver: str, url: str) -> dict[str, float]:
    runs = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", _FOOTPRINT, driver, url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        runs.append((float(out[0]), int(out[1]), int(out[2])))
    return {
        "import_ms": round(min(r[0] for r in runs) * 1000, 1),
        "import_rss_kib": min(r[1] for r in runs),
        "import_and_connection_rss_kib": min(r[2] for r in runs),
    }


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("asyncpg", "psycopg", "psycopg-binary")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an existing PostgreSQL (default: a throwaway cluster)")
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    cluster = None
    url = args.url
    if url is None:
        from storage import pgcluster

        cluster = pgcluster.start(fsync=True)
        url = cluster.url()
    try:
        report: dict[str, Any] = {"versions": versions(), "rounds": args.rounds}
        report["asyncpg"] = asyncio.run(bench_asyncpg(url, args.rounds))
        report["psycopg"] = asyncio.run(bench_psycopg(url, args.rounds))
        report["asyncpg"].update(footprint("asyncpg", url))
        report["psycopg"].update(footprint("psycopg", url))
        print(json.dumps(report, indent=2))
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
