"""The HTTP client of the Bot API calls: python-telegram-bot's ``HTTPXRequest`` or ours on aiohttp.

``COURTYARD_HTTP`` chooses (``aiohttp``, the default, or ``httpx``). Both keep PTB's meaning of
the four timeouts and of the connection pool. Ours exists for speed: under a burst of button
presses httpx, httpcore, h11 and anyio took about a quarter of the event loop's time, and an
aiohttp client does the same work for much less (figures in README, Performance).

:class:`AiohttpRequest` does what PTB's ``HTTPXRequest`` does, on an ``aiohttp.ClientSession``:

* at most ``connection_pool_size`` requests at once; one more waits at most ``pool_timeout``
  for a free connection, then fails with :class:`~telegram.error.TimedOut` *without being
  sent* (PTB's "Pool timeout" message), as with httpx;
* ``connect_timeout`` bounds opening a connection, ``read_timeout`` each wait for the answer's
  bytes (a long poll passes its own), ``write_timeout`` (``media_write_timeout`` for uploads)
  the sending of the request: an upload's body is written in chunks, each within it;
* parameters go as a form (``application/x-www-form-urlencoded``), and a request with files
  (documents, photos: PTB's ``InputFile``) as ``multipart/form-data``, file name and type kept;
* a timeout becomes :class:`~telegram.error.TimedOut`, any other failure of the connection
  :class:`~telegram.error.NetworkError`; ``shutdown`` closes every connection;
* a proxy set in the environment (``HTTPS_PROXY``...) is used, as httpx uses it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

#: The environment variable that chooses the client, and its values.
ENV = "COURTYARD_HTTP"
CLIENTS = ("aiohttp", "httpx")
DEFAULT_CLIENT = "aiohttp"

#: An upload's body is written in pieces of this size, each within the write timeout.
CHUNK = 64 * 1024

POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent "
    "to Telegram. Consider adjusting the connection pool size or the pool timeout."
)


def client_name(environ: dict[str, str] | None = None) -> str:
    """The client ``COURTYARD_HTTP`` names (empty: the default); anything else is an error."""
    value = (environ if environ is not None else os.environ).get(ENV, "").strip().lower()
    if not value:
        return DEFAULT_CLIENT
    if value not in CLIENTS:
        raise ValueError(f"{ENV} must be one of {', '.join(CLIENTS)}; got {value!r}")
    return value


def bot_request(
    *,
    read_timeout: float | None = 5.0,
    connection_pool_size: int = 256,
    client: str | None = None,
) -> BaseRequest:
    """A request object of the chosen client with PTB's defaults (``read_timeout`` aside)."""
    name = client or client_name()
    if name == "httpx":
        return HTTPXRequest(connection_pool_size=connection_pool_size, read_timeout=read_timeout)
    return AiohttpRequest(connection_pool_size=connection_pool_size, read_timeout=read_timeout)


class _Timed(aiohttp.payload.Payload):
    """A request body written in chunks, each within ``timeout`` (the write timeout): the loop
    is never held by one big write, and a server that stops reading fails the request."""

    _autoclose = True  # bytes in memory, no handle to close

    def __init__(self, body: bytes, content_type: str, timeout: float | None):
        super().__init__(body, content_type=content_type)
        self._body = body
        self._size = len(body)
        self._timeout = timeout
        self.timed_out = False

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._body.decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self._body

    async def write(self, writer: Any) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        view = memoryview(self._body)[:content_length]
        for start in range(0, len(view), CHUNK):
            try:
                async with asyncio.timeout(self._timeout):
                    await writer.write(view[start : start + CHUNK])
            except TimeoutError:
                self.timed_out = True
                raise


#: HTML5's form encoding of names in a multipart header (what httpx does): quotes, backslashes
#: and control characters cannot break out of the quoted value.
_FORM_ESCAPES = {0x22: "%22", 0x5C: "\\\\"} | {c: f"%{c:02X}" for c in range(0x20) if c != 0x1B}


def _quoted(value: str) -> bytes:
    return b'"' + value.translate(_FORM_ESCAPES).encode("utf-8") + b'"'


def multipart(request_data: RequestData) -> tuple[bytes, str]:
    """The ``multipart/form-data`` body of a request with files, and its content type: the
    parameters as text fields, then each file with its name and type."""
    boundary = secrets.token_hex(16).encode("ascii")
    out = bytearray()
    for name, value in request_data.json_parameters.items():
        out += b"--" + boundary + b"\r\nContent-Disposition: form-data; name=" + _quoted(name)
        out += b"\r\n\r\n" + value.encode("utf-8") + b"\r\n"
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        out += b"--" + boundary + b"\r\nContent-Disposition: form-data; name=" + _quoted(name)
        out += b"; filename=" + _quoted(filename or name)
        out += b"\r\nContent-Type: " + mimetype.encode("ascii", "replace") + b"\r\n\r\n"
        out += data + b"\r\n"
    out += b"--" + boundary + b"--\r\n"
    return bytes(out), f"multipart/form-data; boundary={boundary.decode()}"


class AiohttpRequest(BaseRequest):
    """PTB's ``BaseRequest`` on aiohttp, with ``HTTPXRequest``'s parameters and defaults."""

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ):
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._pool: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    @property
    def connection_pool_size(self) -> int:
        return self._pool_size

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size, limit_per_host=0, enable_cleanup_closed=False
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                auto_decompress=True,
                trust_env=True,  # HTTPS_PROXY and the like, as httpx reads them
                timeout=aiohttp.ClientTimeout(total=None),
            )
            self._pool = asyncio.Semaphore(self._pool_size)
        return self._session

    async def initialize(self) -> None:
        self._open()

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = bool(request_data and request_data.multipart_data)
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        else:
            write = write_timeout
        assert self._pool is not None
        try:
            async with asyncio.timeout(pool):
                await self._pool.acquire()
        except TimeoutError as exc:
            raise TimedOut(message=POOL_TIMEOUT_MESSAGE) from exc
        try:
            return await self._send(url, method, request_data, files, read, write, connect)
        finally:
            self._pool.release()

    async def _send(
        self,
        url: str,
        method: str,
        request_data: RequestData | None,
        files: bool,
        read: float | None,
        write: float | None,
        connect: float | None,
    ) -> tuple[int, bytes]:
        assert self._session is not None
        body: Any = None
        if request_data is not None and files:
            raw, content_type = multipart(request_data)
            body = _Timed(raw, content_type, write)
        elif request_data is not None and request_data.json_parameters:
            body = request_data.json_parameters  # a form, as HTTPXRequest sends it
        timeout = aiohttp.ClientTimeout(
            total=None, connect=connect, sock_connect=connect, sock_read=read
        )
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as res:
                return res.status, await res.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            if isinstance(body, _Timed) and body.timed_out:
                raise TimedOut from exc
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
