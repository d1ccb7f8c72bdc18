"""A small HTTP/1.1 server on top of ``asyncio.start_server``.

Only what the Bot API clients need: keep-alive connections, ``Content-Length`` or chunked
request bodies, query strings, ``application/json``, ``application/x-www-form-urlencoded``
and ``multipart/form-data`` bodies. Every connection runs in its own task; :meth:`HttpServer.close`
closes the listening socket and every open connection and cancels the tasks serving them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["HttpRequest", "HttpResponse", "HttpServer", "UploadedFile", "decode_params"]

_LOGGER = logging.getLogger(__name__)
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass
class UploadedFile:
    """One file part of a ``multipart/form-data`` body."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass
class HttpRequest:
    """A parsed request."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def header_param(self, header: str, name: str) -> str | None:
        """A ``name=value`` parameter of a header such as ``Content-Type``."""
        for part in self.headers.get(header, "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.strip().lower() == name:
                return value.strip().strip('"')
        return None


@dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    #: a body written piece by piece as it comes (server-sent events); the connection then
    #: closes when the iterator ends, and ``body`` is ignored
    stream: AsyncGenerator[bytes, None] | None = None

    @classmethod
    def json(cls, status: int, payload: Any) -> HttpResponse:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(status, body)

    def stream_head(self) -> bytes:
        """The status line and headers of a streamed response (no length: it ends on close)."""
        lines = [
            f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}",
            f"Content-Type: {self.content_type}",
            "Cache-Control: no-cache",
            "Connection: close",
            *(f"{key}: {value}" for key, value in self.headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def encode(self, keep_alive: bool) -> bytes:
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [
            f"HTTP/1.1 {self.status} {reason}",
            f"Content-Type: {self.content_type}",
            f"Content-Length: {len(self.body)}",
            "Connection: " + ("keep-alive" if keep_alive else "close"),
            *(f"{key}: {value}" for key, value in self.headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


class BadHttpRequest(Exception):
    """The bytes received are not an HTTP request we understand."""


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]


class HttpServer:
    """Serve ``handler`` on ``host:port`` (port 0 picks a free port)."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self.port = 0
        self.host = ""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, host, port)
        sockname = self._server.sockets[0].getsockname()
        self.host, self.port = sockname[0], sockname[1]

    @property
    def running(self) -> bool:
        return self._server is not None

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._connections.values()):
            writer.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            keep_alive = True
            while keep_alive:
                try:
                    request = await self._read_request(reader)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    break
                except BadHttpRequest as exc:
                    response = HttpResponse.json(
                        400, {"ok": False, "error_code": 400, "description": str(exc)}
                    )
                    writer.write(response.encode(keep_alive=False))
                    break
                if request is None:
                    break
                keep_alive = request.headers.get("connection", "").lower() != "close"
                try:
                    response = await self._handler(request)
                except Exception:
                    _LOGGER.exception("fake Bot API: error while serving %s", request.path)
                    response = HttpResponse.json(
                        500,
                        {"ok": False, "error_code": 500, "description": "Internal Server Error"},
                    )
                if writer.is_closing():
                    break
                if response.stream is not None:
                    await self._write_stream(writer, response)
                    break
                writer.write(response.encode(keep_alive))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.pop(task, None)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    @staticmethod
    async def _write_stream(writer: asyncio.StreamWriter, response: HttpResponse) -> None:
        assert response.stream is not None
        writer.write(response.stream_head())
        await writer.drain()
        try:
            async for chunk in response.stream:
                writer.write(chunk)
                await writer.drain()
        finally:
            with contextlib.suppress(Exception):
                await response.stream.aclose()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial.strip():
                return None
            raise
        except asyncio.LimitOverrunError as exc:
            raise BadHttpRequest("request header too large") from exc
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError as exc:
            raise BadHttpRequest("malformed request line") from exc
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await HttpServer._read_chunked(reader)
        else:
            try:
                length = int(headers.get("content-length", "0") or "0")
            except ValueError as exc:
                raise BadHttpRequest("invalid Content-Length") from exc
            if not 0 <= length <= MAX_BODY_BYTES:
                raise BadHttpRequest("request body too large")
            body = await reader.readexactly(length) if length else b""
        split = urlsplit(target)
        return HttpRequest(method.upper(), unquote(split.path), split.query, headers, body)

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            except ValueError as exc:
                raise BadHttpRequest("invalid chunk size") from exc
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise BadHttpRequest("request body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)


def parse_multipart(body: bytes, boundary: str) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """Split a multipart body into text fields and :class:`UploadedFile` parts."""
    fields: list[tuple[str, str]] = []
    files: dict[str, Any] = {}
    delimiter = b"--" + boundary.encode("latin-1")
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n")
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        content = content.removesuffix(b"\r\n")
        part_headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            part_headers[key.strip().lower()] = value.strip()
        disposition = part_headers.get("content-disposition", "")
        params: dict[str, str] = {}
        for item in disposition.split(";")[1:]:
            key, _, value = item.strip().partition("=")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1].replace('\\"', '"')
            params[key.strip().lower()] = value
        name = params.get("name")
        if name is None:
            continue
        if "filename" in params:
            files[name] = UploadedFile(
                filename=params["filename"],
                content=content,
                content_type=part_headers.get("content-type", "application/octet-stream"),
            )
        else:
            fields.append((name, content.decode("utf-8", "replace")))
    return fields, files


# Parameters whose values are always strings, even when they look like JSON.
STRING_PARAMS = frozenset(
    {
        "action",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "custom_title",
        "description",
        "emoji",
        "file_id",
        "inline_message_id",
        "ip_address",
        "language_code",
        "message_effect_id",
        "name",
        "parse_mode",
        "query",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "title",
        "url",
    }
)


def _coerce(name: str, value: str) -> Any:
    if name in STRING_PARAMS:
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    if isinstance(decoded, float) and not value.strip().lstrip("-").replace(".", "").isdigit():
        return value
    return decoded


def decode_params(request: HttpRequest) -> dict[str, Any]:
    """All request parameters, decoded to JSON values; uploaded files as :class:`UploadedFile`.

    Form and multipart fields carry nested values (``reply_markup``, ``entities``...) as JSON
    strings: those are decoded; plain-text parameters (``text``, ``caption``...) never are.
    """
    params: dict[str, Any] = {}
    for key, value in parse_qsl(request.query, keep_blank_values=True):
        params[key] = _coerce(key, value)
    content_type = request.content_type
    if not request.body:
        return params
    if content_type == "application/json":
        try:
            payload = json.loads(request.body.decode("utf-8"))
        except ValueError as exc:
            raise BadHttpRequest("Bad Request: can't parse JSON object") from exc
        if not isinstance(payload, dict):
            raise BadHttpRequest("Bad Request: can't parse JSON object")
        params.update(payload)
    elif content_type == "multipart/form-data":
        boundary = request.header_param("content-type", "boundary")
        if not boundary:
            raise BadHttpRequest("Bad Request: multipart boundary missing")
        fields, files = parse_multipart(request.body, boundary)
        for key, value in fields:
            params[key] = _coerce(key, value)
        params.update(files)
    else:
        text = request.body.decode("utf-8", "replace")
        for key, value in parse_qsl(text, keep_blank_values=True):
            params[key] = _coerce(key, value)
    return params
