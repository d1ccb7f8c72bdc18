"""Webhook server under hostile requests: python-telegram-bot's own server (tornado, what
``courtyard run --webhook`` used before) against Courtyard's (bot/webhook.py), measured in one
run, each in its own process behind a bare python-telegram-bot ``Application`` (no handlers)
that registers its webhook with the fake Bot API.

Per server:
* RSS at rest, and the peak RSS while six clients each post a 90 MB body *without* the secret
  header (sampled every 20 ms from /proc), with how many bytes each client got to send;
* 50 slow bodies *with* the secret (a head announcing 1000 bytes, then one byte a second):
  how long until the server drops the last of them (capped), and the RSS meanwhile.

Run: ``python bench/webhook_bench.py`` (about a minute). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "123456:BENCH-webhook-token-0000000000"
SECRET = "Bench_sEcReT-0123456789abcdefGHIJKLmnop"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
BIG = 90_000_000
SLOW = 50
SLOW_CAP = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(mode: str, port: int, api: str) -> None:
    from telegram.ext import ApplicationBuilder

    app = ApplicationBuilder().token(TOKEN).base_url(api).build()
    url = "https://bench.example.org/hook"
    if mode == "ptb":
        app.run_webhook(
            listen="127.0.0.1", port=port, url_path="hook", webhook_url=url, secret_token=SECRET
        )
    else:
        from bot.webhook import run_webhook

        run_webhook(
            app, listen="127.0.0.1", port=port, url_path="hook", webhook_url=url, secret=SECRET
        )


def head(length: int, secret: str | None) -> bytes:
    lines = ["POST /hook HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if secret:
        lines.append(f"{HEADER}: {secret}")
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def big_body(port: int) -> int:
    """Post 90 MB without the secret as fast as the server reads; bytes it let us send."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head(BIG, None))
    sent = 0
    chunk = b" " * 65536
    answered = asyncio.create_task(reader.read(100))
    with contextlib.suppress(ConnectionError):
        while sent < BIG and not answered.done():
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(answered, 30)
    writer.close()
    return sent


async def slow_body(port: int) -> float:
    """Seconds until the server drops a body that trickles in (capped at SLOW_CAP)."""
    began = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head(1000, SECRET) + b"{")
    try:
        while time.monotonic() - began < SLOW_CAP:
            try:
                data = await asyncio.wait_for(reader.read(100), 1.0)
                if not data or data.startswith(b"HTTP/"):
                    break
            except TimeoutError:
                writer.write(b" ")
                await writer.drain()
    except ConnectionError:
        pass
    writer.close()
    return time.monotonic() - began


async def sample_peak(pid: int, stop: asyncio.Event) -> float:
    peak = 0.0
    while not stop.is_set():
        peak = max(peak, rss_mb(pid))
        await asyncio.sleep(0.02)
    return peak


async def measure(mode: str) -> dict[str, Any]:
    from playground import FakeTelegram

    port = free_port()
    async with FakeTelegram(token=TOKEN, bot_username="bench_bot") as fake:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--child",
            mode,
            "--port",
            str(port),
            "--api",
            fake.base_url,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await fake.wait_for("setWebhook", timeout=30)
            for _ in range(200):
                try:
                    _, w = await asyncio.open_connection("127.0.0.1", port)
                    w.close()
                    break
                except OSError:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            rest = rss_mb(proc.pid)
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_peak(proc.pid, stop))
            began = time.monotonic()
            sent = await asyncio.gather(*(big_body(port) for _ in range(6)))
            big_seconds = time.monotonic() - began
            await asyncio.sleep(0.5)
            stop.set()
            peak = await sampler
            after_big = rss_mb(proc.pid)

            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_peak(proc.pid, stop))
            held = await asyncio.gather(*(slow_body(port) for _ in range(SLOW)))
            stop.set()
            slow_peak = await sampler
        finally:
            proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 20)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    return {
        "mode": mode,
        "rest": rest,
        "peak": peak,
        "after_big": after_big,
        "sent_mb": [s / 1e6 for s in sent],
        "big_seconds": big_seconds,
        "slow_longest": max(held),
        "slow_peak": slow_peak,
    }


def report(results: list[dict[str, Any]]) -> None:
    names = {"ptb": "python-telegram-bot (tornado)", "courtyard": "Courtyard (bot/webhook.py)"}
    print(f"six {BIG // 1_000_000} MB bodies without the secret, then {SLOW} slow bodies")
    for r in results:
        sent = ", ".join(f"{mb:.1f}" for mb in r["sent_mb"])
        capped = " (cap)" if r["slow_longest"] >= SLOW_CAP - 0.5 else ""
        print(
            f"{names[r['mode']]:32} RSS at rest {r['rest']:6.0f} MB, peak under the bodies "
            f"{r['peak']:6.0f} MB (after: {r['after_big']:.0f} MB), {r['big_seconds']:.1f} s;\n"
            f"{'':32} MB each client got to send: {sent};\n"
            f"{'':32} slow bodies dropped after at most {r['slow_longest']:.1f} s{capped}, "
            f"peak RSS meanwhile {r['slow_peak']:.0f} MB"
        )


async def parent() -> None:
    results = [await measure("ptb"), await measure("courtyard")]
    report(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--child", choices=("ptb", "courtyard"))
    parser.add_argument("--port", type=int)
    parser.add_argument("--api")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.port, args.api)
        return
    asyncio.run(parent())


if __name__ == "__main__":
    main()
