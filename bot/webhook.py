"""The webhook server of ``courtyard run --webhook``: a small HTTP/1.1 server on asyncio that
hands Telegram's updates to ``application.update_queue``.

python-telegram-bot's own server (tornado) reads the whole request body before it looks at the
secret header, has no size limit below 100 MB, no read timeout, and logs an update it cannot
parse at CRITICAL with its whole content. This one, per request:

1. reads the request head (at most ``MAX_HEAD`` bytes, within ``head_timeout``);
2. checks the path, the method and the ``X-Telegram-Bot-Api-Secret-Token`` header (compared in
   constant time) *before any of the body is read*: a wrong or missing secret is answered 403
   and the connection closed;
3. refuses a ``Content-Length`` above ``max_body`` (413) at once, and a chunked body as soon as
   it passes that size;
4. reads the body within ``body_timeout`` in all (a slow body is answered 408 and dropped);
5. parses the update; one that is not JSON is answered 400, one python-telegram-bot cannot
   parse is logged with its ``update_id`` and the exception's class only, never its content,
   and answered 200 so Telegram does not offer the same broken update again and again.

At most ``max_connections`` connections are open at once; further ones get 503 at once.
Only authenticated requests keep their connection open (Telegram reuses connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

SECRET_HEADER = "x-telegram-bot-api-secret-token"
#: Telegram's updates are a few kilobytes; 1 MB is generous.
MAX_BODY = 1_000_000
#: Request line and headers together.
MAX_HEAD = 16 * 1024
MAX_CONNECTIONS = 64
#: Telegram opens at most this many connections at once (setWebhook ``max_connections``).
TELEGRAM_CONNECTIONS = 40


@dataclass(frozen=True, slots=True)
class Limits:
    max_body: int = MAX_BODY
    max_connections: int = MAX_CONNECTIONS
    head_timeout: float = 5.0
    body_timeout: float = 5.0
    idle_timeout: float = 60.0


class _Reject(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class WebhookServer:
    """``await server.start()`` ... ``await server.stop()``. ``deliver`` gets each update's
    decoded JSON object (a dict) and must raise when it cannot turn it into an update."""

    def __init__(
        self,
        *,
        listen: str,
        port: int,
        path: str,
        secret: str,
        deliver: Callable[[dict[str, Any]], Awaitable[None]],
        limits: Limits | None = None,
    ):
        if not secret:
            raise ValueError("the webhook server needs a secret")
        self.listen = listen
        self.port = port
        self.path = "/" + path.strip("/")
        self._secret = secret.encode()
        self._deliver = deliver
        self.limits = limits or Limits()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        #: counters, for tests and the benchmark
        self.refused: dict[int, int] = {}
        self.accepted = 0

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._connection, self.listen, self.port, limit=MAX_HEAD, backlog=128
        )
        if self.port == 0:
            self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._connections) >= self.limits.max_connections:
            self._count(503)
            await self._respond(writer, 503, close=True, extra=b"Retry-After: 1\r\n")
            await self._close(writer)
            return
        self._connections.add(task)
        try:
            first = True
            while True:
                keep = await self._request(reader, writer, first)
                first = False
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # never the request's content: the class name only
            log.warning("webhook: a connection failed (%s)", type(exc).__name__)
        finally:
            self._connections.discard(task)
            await self._close(writer)

    async def _request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bool
    ) -> bool:
        """One request; True to keep the connection for the next one."""
        try:
            head = await self._read_head(reader, first)
        except _Reject as refusal:
            await self._refuse(writer, refusal)
            return False
        if head is None:  # the client closed, or stayed idle too long between requests
            return False
        authorized = False
        try:
            method, target, version, headers = _parse_head(head)
            self._authorize(method, target, headers)
            authorized = True
            body = await self._read_body(reader, writer, headers)
            keep = _keep_alive(version, headers)
            data = _decode(body)
        except _Reject as refusal:
            await self._refuse(writer, refusal, authorized=authorized)
            return False
        try:
            await self._deliver(data)
        except Exception as exc:  # never its content: the class name and the update id only
            update_id = data.get("update_id")
            log.error(
                "webhook: an update could not be read and was dropped (update_id %s: %s)",
                update_id if isinstance(update_id, int) else "unknown",
                type(exc).__name__,
            )
        self.accepted += 1
        await self._respond(writer, 200, close=not keep)
        return keep

    async def _read_head(self, reader: asyncio.StreamReader, first: bool) -> bytes | None:
        """The request head; None when the client closed (or a kept connection stayed idle
        for ``idle_timeout``). A first request must bring its head within ``head_timeout``."""
        timeout = self.limits.head_timeout if first else self.limits.idle_timeout
        try:
            async with asyncio.timeout(timeout):
                return await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            if not first:
                return None
            raise _Reject(408, "request head too slow") from None
        except asyncio.IncompleteReadError as exc:
            if not exc.partial.strip():
                return None
            raise _Reject(400, "incomplete request head") from None
        except (asyncio.LimitOverrunError, ValueError):  # beyond the stream's limit (MAX_HEAD)
            raise _Reject(431, "request head too large") from None

    def _authorize(self, method: str, target: str, headers: dict[str, str]) -> None:
        path = target.split("?", 1)[0]
        if path.rstrip("/") != self.path.rstrip("/"):
            raise _Reject(404, "unknown path")
        if method != "POST":
            raise _Reject(405, "only POST")
        given = headers.get(SECRET_HEADER, "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, self._secret):
            raise _Reject(403, "wrong or missing secret token")

    async def _read_body(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]
    ) -> bytes:
        limits = self.limits
        encoding = headers.get("transfer-encoding", "").strip().lower()
        kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != "application/json":
            raise _Reject(415, "the body must be application/json")
        try:
            async with asyncio.timeout(limits.body_timeout):
                if encoding:
                    if encoding != "chunked":
                        raise _Reject(501, "unsupported transfer encoding")
                    return await _read_chunked(reader, limits.max_body)
                raw = headers.get("content-length")
                if raw is None:
                    raise _Reject(411, "Content-Length required")
                if not raw.isdigit() or len(raw) > 15:
                    raise _Reject(400, "bad Content-Length")
                length = int(raw)
                if length > limits.max_body:
                    raise _Reject(413, "body too large")
                if headers.get("expect", "").lower() == "100-continue":  # curl, some proxies
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return await reader.readexactly(length)
        except TimeoutError:
            raise _Reject(408, "body too slow") from None
        except (asyncio.LimitOverrunError, ValueError):  # a chunk-size line beyond MAX_HEAD
            raise _Reject(400, "bad chunked body") from None

    async def _refuse(
        self, writer: asyncio.StreamWriter, refusal: _Reject, *, authorized: bool = False
    ) -> None:
        self._count(refusal.status)
        # the reason is ours, never the request's content; what strangers send is not news
        # (and must not let them fill the log), what comes with the secret is worth a line
        level = logging.WARNING if authorized else logging.DEBUG
        log.log(level, "webhook: refused a request with %d (%s)", refusal.status, refusal.reason)
        await self._respond(writer, refusal.status, close=True)

    def _count(self, status: int) -> None:
        self.refused[status] = self.refused.get(status, 0) + 1

    async def _respond(
        self, writer: asyncio.StreamWriter, status: int, *, close: bool, extra: bytes = b""
    ) -> None:
        body = b"{}" if status == 200 else b""
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        ).encode()
        if close:
            head += b"Connection: close\r\n"
        with contextlib.suppress(ConnectionError, RuntimeError, TimeoutError):
            writer.write(head + extra + b"\r\n" + body)
            async with asyncio.timeout(self.limits.head_timeout):
                await writer.drain()

    async def _close(self, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            writer.close()
            async with asyncio.timeout(1):
                await writer.wait_closed()


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise _Reject(400, "bad request head") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _Reject(400, "bad request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise _Reject(400, "bad header line")
        key = name.lower()
        if key in headers and key in (SECRET_HEADER, "content-length", "transfer-encoding"):
            raise _Reject(400, f"repeated {key}")  # request smuggling, or a confused client
        headers[key] = value.strip()
    if "content-length" in headers and "transfer-encoding" in headers:
        raise _Reject(400, "both Content-Length and Transfer-Encoding")
    return method, target, version, headers


def _keep_alive(version: str, headers: dict[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


async def _read_chunked(reader: asyncio.StreamReader, max_body: int) -> bytes:
    body = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _Reject(400, "bad chunk size") from None
        if size < 0 or len(body) + size > max_body:
            raise _Reject(413, "body too large")
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return bytes(body)
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise _Reject(400, "bad chunk")


def _decode(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise _Reject(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise _Reject(400, "the body is not a JSON object")
    return data


def deliverer(app: Any) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """The ``deliver`` of :class:`WebhookServer` for ``app``: the update parsed and queued, and
    with several workers (bot/workers.py) its chat's lock taken before Telegram is answered."""
    from telegram import Update
    from telegram.ext import ExtBot

    async def deliver(data: dict[str, Any]) -> None:
        update = Update.de_json(data, app.bot)
        if update is None:
            raise ValueError("empty update")
        if isinstance(app.bot, ExtBot):
            app.bot.insert_callback_data(update)
        guard = getattr(app.update_processor, "guard", None)
        if guard is not None:
            # several workers: the chat's lock is taken before Telegram is answered, so its next
            # update, sent only after this answer, is handled after this one at any worker
            await guard.enter(update)
        await app.update_queue.put(update)

    return deliver


def run_webhook(
    app: Any,
    *,
    listen: str,
    port: int,
    url_path: str,
    webhook_url: str,
    secret: str,
    allowed_updates: list[str] | None = None,
    limits: Limits | None = None,
) -> None:
    """What ``Application.run_webhook`` does (initialize, ``post_init``, setWebhook, start,
    run until SIGINT/SIGTERM or ``stop_running()``, then stop, ``post_stop``, shutdown,
    ``post_shutdown``), with this module's server instead of tornado. Blocks."""
    deliver = deliverer(app)
    server = WebhookServer(
        listen=listen, port=port, path=url_path, secret=secret, deliver=deliver, limits=limits
    )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def stop_now() -> None:  # as python-telegram-bot does: leave run_until_complete/run_forever
        raise SystemExit

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGABRT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop_now)
    try:
        loop.run_until_complete(app.initialize())
        if app.post_init:
            loop.run_until_complete(app.post_init(app))
        loop.run_until_complete(server.start())
        loop.run_until_complete(
            app.bot.set_webhook(
                url=webhook_url,
                secret_token=secret,
                allowed_updates=allowed_updates,
                drop_pending_updates=False,
                max_connections=TELEGRAM_CONNECTIONS,
            )
        )
        loop.run_until_complete(app.start())
        loop.run_forever()
    except (KeyboardInterrupt, SystemExit):
        log.debug("stop signal received, shutting down")
    finally:
        try:
            loop.run_until_complete(server.stop())
            if app.running:
                loop.run_until_complete(app.stop())
                if app.post_stop:
                    loop.run_until_complete(app.post_stop(app))
            loop.run_until_complete(app.shutdown())
            if app.post_shutdown:
                loop.run_until_complete(app.post_shutdown(app))
        finally:
            loop.close()
            asyncio.set_event_loop(None)
