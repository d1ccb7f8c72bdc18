"""``FakeTelegram``: the fake Bot API server, its records and its fault injection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import Any

from telegram import Message

from playground.httpserver import (
    BadHttpRequest,
    HttpRequest,
    HttpResponse,
    HttpServer,
    UploadedFile,
    decode_params,
)
from playground.methods import BotApi
from playground.world import ApiError, FakeChat, FakeUser

__all__ = ["Call", "FakeTelegram", "Fault"]

_LOGGER = logging.getLogger("playground")

JSON = dict[str, Any]

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _same(key: str, actual: Any, expected: Any) -> bool:
    if callable(expected):
        return bool(expected(actual))
    if (key == "chat_id" or key.endswith("_id")) and isinstance(expected, int | str):
        return str(actual) == str(expected)
    return bool(actual == expected)


def params_match(params: JSON, match: JSON) -> bool:
    """Whether every ``match`` item equals the parameter of the same name.

    Ids (``chat_id``, ``message_id``...) compare by value whether sent as number or string;
    a callable matches when it returns true for the parameter's value.
    """
    return all(key in params and _same(key, params[key], value) for key, value in match.items())


@dataclass
class Call:
    """One Bot API request the bot made, in the order the fake answered them.

    ``params`` are the decoded parameters (uploaded files as ``bytes`` under their field name,
    their names in ``files``); ``result`` is the JSON result of a successful call; ``at`` is the
    ``time.monotonic()`` at which the call was answered.
    """

    method: str
    params: JSON
    ok: bool
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    parameters: JSON | None = None
    at: float = 0.0
    index: int = 0
    files: dict[str, UploadedFile] = field(default_factory=dict)
    fault: Fault | None = None

    def __str__(self) -> str:
        shown = []
        for key, value in self.params.items():
            text = repr(value) if not isinstance(value, bytes) else f"<{len(value)} bytes>"
            shown.append(f"{key}={text[:60]}")
        outcome = "ok" if self.ok else f"{self.error_code} {self.description}"
        return f"#{self.index} {self.method}({', '.join(shown)}) -> {outcome}"


class Fault:
    """An injected failure or delay; see :meth:`FakeTelegram.inject`."""

    def __init__(
        self,
        method: str,
        *,
        error_code: int | None,
        description: str | None,
        parameters: JSON | None,
        delay: float,
        times: int | None,
        match: JSON,
    ) -> None:
        self.method = method
        self.error_code = error_code
        self.description = description
        self.parameters = parameters
        self.delay = delay
        self.times = times
        self.match = match
        self.hits = 0
        self._cancelled = False

    def __repr__(self) -> str:
        return (
            f"Fault({self.method!r}, error_code={self.error_code}, delay={self.delay}, "
            f"hits={self.hits}, remaining={self.remaining})"
        )

    @property
    def remaining(self) -> int | None:
        """How many more times it fires (None: until cleared)."""
        if self._cancelled:
            return 0
        return None if self.times is None else max(self.times - self.hits, 0)

    @property
    def active(self) -> bool:
        remaining = self.remaining
        return remaining is None or remaining > 0

    def cancel(self) -> None:
        self._cancelled = True

    def matches(self, method: str, params: JSON) -> bool:
        if self.method == "*":
            if method.lower() == "getupdates":
                return False
        elif self.method.lower() != method.lower():
            return False
        return params_match(params, self.match)

    def error(self) -> ApiError | None:
        if self.error_code is None:
            return None
        return ApiError(self.error_code, self.description or "", self.parameters)


class FakeTelegram(BotApi):
    """A fake Telegram Bot API server plus a simulated world of users and groups.

    See the :mod:`playground` module documentation for a walk-through.

    Options: ``enforce_limits`` answers 429 past ``group_limit_per_minute`` messages+edits per
    group and ``global_limit_per_second`` sends+edits overall (counted in ``limit_hits``);
    ``privacy_mode`` (Telegram's default) delivers only commands, replies to the bot and service
    messages from groups where the bot is not an administrator; ``strict_html`` rejects a bare
    ``&`` in HTML text (Telegram keeps it literally; strictness catches missing escaping);
    ``clock`` (Unix seconds, default ``time.time``) is the world's time, moved on by
    :meth:`advance` (message dates, the 48-hour delete rule, callback answer deadlines).

    How python-telegram-bot 22.8 sees the error answers: 400 -> ``BadRequest``, 403 ->
    ``Forbidden``, 401/404 -> ``InvalidToken``, 409 -> ``Conflict``; ``parameters`` with
    ``migrate_to_chat_id`` -> ``ChatMigrated`` and with ``retry_after`` -> ``RetryAfter`` (these
    two win over the status); every other status, 5xx included (502 explicitly), becomes
    ``NetworkError`` carrying the JSON ``description``. PTB does not retry a 5xx for ordinary
    methods; its polling loop retries ``getUpdates`` after a ``NetworkError``. A response slower
    than the client's read timeout raises ``TimedOut`` (the fake still performs the call, as
    Telegram does).
    """

    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        bot_username: str = "courtyard_bot",
        bot_first_name: str = "Courtyard",
        host: str = "127.0.0.1",
        port: int = 0,
        enforce_limits: bool = False,
        privacy_mode: bool = True,
        strict_html: bool = True,
        group_limit_per_minute: int = 20,
        global_limit_per_second: int = 30,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(
            token,
            bot_username,
            bot_first_name,
            privacy_mode=privacy_mode,
            strict_html=strict_html,
            enforce_limits=enforce_limits,
            group_limit_per_minute=group_limit_per_minute,
            global_limit_per_second=global_limit_per_second,
            clock=clock,
        )
        self.host = host
        self.port = port
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self._http = HttpServer(self._handle)
        #: where webhook updates are POSTed instead of setWebhook's URL, in turn (a test's and
        #: a benchmark's load balancer in front of several workers; see :meth:`webhook_changed`)
        self.webhook_targets: list[str] | None = None
        #: seconds a webhook POST may take before it counts as failed (Telegram's is ~60)
        self.webhook_timeout = 60.0
        #: every webhook POST: (update_id, target URL, HTTP status or 0 for no answer)
        self.webhook_posts: list[tuple[int, str, int]] = []
        self._webhook_task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        state = f"{self.url}" if self._http.running else "stopped"
        return f"FakeTelegram(@{self.bot_username}, {state})"

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeTelegram:
        """Start serving on ``host`` (127.0.0.1) and ``port`` (0: a free port)."""
        if self._http.running:
            return self
        self.shutting_down = False
        await self._http.start(self.host, self.port)
        self.port = self._http.port
        _LOGGER.info("fake Bot API listening on %s", self.url)
        return self

    async def stop(self) -> None:
        """Answer pending long polls with no updates, close every connection and the server."""
        self.shutting_down = True
        self._wake_poll("stop")
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        for _ in range(5):  # let the woken long polls write their answer
            await asyncio.sleep(0)
        await self._http.close()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("the fake Bot API is not started: await fake.start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``base_file_url`` (PTB appends the token)."""
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------ webhooks

    def webhook_changed(self) -> None:
        """After setWebhook, updates are POSTed as Telegram does instead of waiting for
        getUpdates: to setWebhook's URL or, when ``webhook_targets`` is set, to those URLs in
        turn (round robin, a load balancer in front of workers; the fake's own extension, since
        Telegram takes one HTTPS URL), with the ``X-Telegram-Bot-Api-Secret-Token`` header when
        a ``secret_token`` was given.

        As on Telegram: an update counts as delivered when it is answered 200; any other
        answer, a refused connection or no answer within ``webhook_timeout`` makes it offered
        again (after 0.05 s, doubling up to 1 s, to the next target); the updates of one chat
        go one at a time, in order — the next once the previous was answered — and those of
        different chats in parallel, at most setWebhook's ``max_connections`` (40 by default) at
        once. ``webhook_posts`` records every POST. deleteWebhook stops the delivery."""
        if self.webhook is not None and self._webhook_task is None and not self.shutting_down:
            self._webhook_task = asyncio.get_running_loop().create_task(
                self._deliver_webhooks(), name="fake webhook delivery"
            )

    async def _deliver_webhooks(self) -> None:
        import aiohttp

        loop = asyncio.get_running_loop()
        flying: dict[int, asyncio.Task[None]] = {}
        not_before: dict[int, float] = {}
        failures: dict[int, int] = {}
        turn = 0
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:

            async def post(pending: JSON, target: str) -> None:
                update_id = int(pending["update_id"])
                headers = {"Content-Type": "application/json"}
                secret = (self.webhook or {}).get("secret_token")
                if secret:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = str(secret)
                status = 0
                try:
                    async with session.post(
                        target, data=json.dumps(pending), headers=headers
                    ) as response:
                        status = response.status
                        await response.read()
                except (aiohttp.ClientError, TimeoutError, OSError):
                    status = 0
                self.webhook_posts.append((update_id, target, status))
                if status == 200:
                    failures.pop(update_id, None)
                    self._pending = [u for u in self._pending if u.update_id != update_id]
                else:
                    tries = failures[update_id] = failures.get(update_id, 0) + 1
                    not_before[update_id] = loop.time() + min(0.05 * 2 ** (tries - 1), 1.0)
                self._notify()

            try:
                while self.webhook is not None and not self.shutting_down:
                    hook = self.webhook
                    targets = self.webhook_targets or [str(hook["url"])]
                    limit = int(hook.get("max_connections") or 40)
                    now = loop.time()
                    busy_chats: set[int | None] = set()
                    for pending in self.deliverable(len(self._pending) or 1):
                        update_id = int(pending["update_id"])
                        chat = _update_chat(pending)
                        if chat in busy_chats and chat is not None:
                            continue  # an earlier update of its chat is not answered yet
                        busy_chats.add(chat)
                        if update_id in flying or not_before.get(update_id, 0.0) > now:
                            continue
                        if len(flying) >= limit:
                            break
                        target = targets[turn % len(targets)]
                        turn += 1
                        task = loop.create_task(post(pending, target))
                        flying[update_id] = task
                        task.add_done_callback(partial(_forget, flying, update_id))
                    changed = self._changed
                    waits: set[asyncio.Future[Any]] = {asyncio.ensure_future(changed.wait())}
                    waits |= set(flying.values())
                    await asyncio.wait(waits, timeout=0.05, return_when=asyncio.FIRST_COMPLETED)
                    for waiter in waits - set(flying.values()):
                        if not waiter.done():
                            waiter.cancel()
            finally:
                for task in list(flying.values()):
                    task.cancel()
                if flying:
                    await asyncio.gather(*flying.values(), return_exceptions=True)
                self._webhook_task = None

    # ------------------------------------------------------------------ world actions

    async def add_bot(self, chat: FakeChat, by: FakeUser, *, admin: bool = False) -> Message:
        """``by`` adds the bot: a my_chat_member update and a new_chat_members message."""
        message = self._add_bot(chat, by, admin)
        await asyncio.sleep(0)
        return message

    async def remove_bot(self, chat: FakeChat, by: FakeUser, *, kicked: bool = True) -> Message:
        """``by`` removes the bot (kicked, or just left): my_chat_member + left_chat_member."""
        message = self._remove_bot(chat, by, kicked)
        await asyncio.sleep(0)
        return message

    async def promote_bot(self, chat: FakeChat, by: FakeUser) -> None:
        """Make the bot an administrator (a my_chat_member update)."""
        self._set_bot_admin(chat, by, True)
        await asyncio.sleep(0)

    async def demote_bot(self, chat: FakeChat, by: FakeUser) -> None:
        self._set_bot_admin(chat, by, False)
        await asyncio.sleep(0)

    async def upgrade_to_supergroup(self, chat: FakeChat, by: FakeUser) -> FakeChat:
        """Migrate a basic group; returns the new supergroup (same title and members)."""
        new = self._upgrade(chat, by)
        await asyncio.sleep(0)
        return new

    async def set_title(self, chat: FakeChat, title: str, by: FakeUser) -> Message:
        message = self._set_title(chat, title, by)
        await asyncio.sleep(0)
        return message

    async def promote(self, chat: FakeChat, user: FakeUser, by: FakeUser) -> None:
        """Make ``user`` an administrator: a chat_member update.

        Telegram sends chat_member updates only when the bot is an administrator of the chat and
        asked for them in ``allowed_updates``.
        """
        self._set_admin(chat, user, by, True)
        await asyncio.sleep(0)

    async def demote(self, chat: FakeChat, user: FakeUser, by: FakeUser) -> None:
        self._set_admin(chat, user, by, False)
        await asyncio.sleep(0)

    async def join(self, chat: FakeChat, user: FakeUser, by: FakeUser | None = None) -> Message:
        """``user`` joins (or is added by ``by``): new_chat_members + chat_member."""
        message = self._join(chat, user, by)
        await asyncio.sleep(0)
        return message

    async def leave(
        self,
        chat: FakeChat,
        user: FakeUser,
        by: FakeUser | None = None,
        *,
        kicked: bool = False,
    ) -> Message:
        """``user`` leaves (or is removed by ``by``): left_chat_member + chat_member."""
        message = self._leave(chat, user, by, kicked)
        await asyncio.sleep(0)
        return message

    # ------------------------------------------------------------------ records

    def mark(self) -> int:
        """The current number of recorded calls, for ``wait_for(since=...)``."""
        return len(self.calls)

    @property
    def api_calls(self) -> list[Call]:
        """Recorded calls without the getUpdates polling."""
        return [call for call in self.calls if call.method != "getUpdates"]

    def _canonical(self, method: str) -> str:
        found = self.resolve_method(method)
        return found[0] if found is not None else method

    def calls_to(self, method: str, **match: Any) -> list[Call]:
        """Recorded calls of ``method`` (successful or not) whose params match ``match``."""
        name = self._canonical(method).lower()
        return [
            call
            for call in self.calls
            if call.method.lower() == name and params_match(call.params, match)
        ]

    async def wait_for(
        self,
        method: str,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the fake's public API
        since: int | None = None,
        **match: Any,
    ) -> Call:
        """The first successful ``method`` call matching ``match`` with index >= ``since``.

        Waits for it if there is none yet; raises ``TimeoutError`` listing the latest calls.
        """
        name = self._canonical(method).lower()
        start = since or 0
        found: list[Call] = []

        def condition() -> bool:
            for call in self.calls[start:]:
                if call.ok and call.method.lower() == name and params_match(call.params, match):
                    found.append(call)
                    return True
            return False

        def describe() -> str:
            wanted = ", ".join(f"{key}={value!r}" for key, value in match.items())
            recent = "\n".join(f"  {call}" for call in self.api_calls[-12:]) or "  (none)"
            return (
                f"no successful {method}({wanted}) call at index >= {start} within {timeout}s; "
                f"latest calls (without getUpdates):\n{recent}"
            )

        await self._wait_until(condition, timeout, describe)
        return found[0]

    # ------------------------------------------------------------------ faults

    def inject(
        self,
        method: str = "*",
        *,
        error_code: int | None = None,
        description: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        times: int | None = 1,
        parameters: JSON | None = None,
        **match: Any,
    ) -> Fault:
        """Make the next ``times`` matching calls fail with ``error_code`` and/or answer late.

        ``method="*"`` matches every method except getUpdates (name it to fault polling).
        ``match`` restricts to calls with those parameters (None values are ignored).
        The description defaults to Telegram's (``Too Many Requests: retry after N`` for 429,
        where ``retry_after`` defaults to 1 and goes into ``parameters``).
        """
        if error_code is None and delay <= 0:
            raise ValueError("a fault needs an error_code, a delay, or both")
        params = dict(parameters or {})
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if retry_after is not None:
            params["retry_after"] = retry_after
        if error_code is not None and description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = DEFAULT_DESCRIPTIONS.get(error_code, "Error")
        fault = Fault(
            method,
            error_code=error_code,
            description=description,
            parameters=params or None,
            delay=delay,
            times=times,
            match={key: value for key, value in match.items() if value is not None},
        )
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        for fault in self.faults:
            fault.cancel()
        self.faults.clear()

    def _take_fault(self, method: str, params: JSON) -> Fault | None:
        for fault in self.faults:
            if fault.active and fault.matches(method, params):
                fault.hits += 1
                return fault
        return None

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path.startswith("/file/bot"):
            token, _, file_path = path.removeprefix("/file/bot").partition("/")
            stored = self.files_by_path.get(file_path) if token == self.token else None
            if token != self.token:
                return HttpResponse.json(
                    401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
                )
            if stored is None or request.method not in ("GET", "HEAD"):
                return HttpResponse.json(
                    404, {"ok": False, "error_code": 404, "description": "Not Found"}
                )
            body = stored.content if request.method == "GET" else b""
            return HttpResponse(200, body, stored.mime_type or "application/octet-stream")
        if path.startswith("/bot"):
            token, _, method = path.removeprefix("/bot").partition("/")
            return await self._api_request(token, method, request)
        return HttpResponse.json(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    async def _api_request(self, token: str, method: str, request: HttpRequest) -> HttpResponse:
        raw: JSON = {}
        fault: Fault | None = None
        name = self._canonical(method)
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            try:
                raw = decode_params(request)
            except BadHttpRequest as exc:
                raise ApiError(400, str(exc)) from exc
            fault = self._take_fault(name, raw)
            if fault is not None and fault.delay > 0:
                await asyncio.sleep(fault.delay)
            error = fault.error() if fault is not None else None
            if error is not None:
                raise error
            if self.resolve_method(name) is None and self.is_real_method(name):
                _LOGGER.warning("fake Bot API: %s is not implemented", name)
                raise ApiError(501, f"Not Implemented: the fake Bot API does not implement {name}")
            result = await self.call(name, raw)
        except ApiError as err:
            self._record(name, raw, fault, ok=False, error=err)
            return HttpResponse.json(err.code, err.payload())
        self._record(name, raw, fault, ok=True, result=result)
        return HttpResponse.json(200, {"ok": True, "result": result})

    def _record(
        self,
        method: str,
        raw: JSON,
        fault: Fault | None,
        *,
        ok: bool,
        result: Any = None,
        error: ApiError | None = None,
    ) -> None:
        files = {key: value for key, value in raw.items() if isinstance(value, UploadedFile)}
        params = {
            key: (value.content if isinstance(value, UploadedFile) else value)
            for key, value in raw.items()
        }
        call = Call(
            method=method,
            params=params,
            ok=ok,
            result=result,
            error_code=error.code if error else None,
            description=error.description if error else None,
            parameters=error.parameters if error else None,
            at=time.monotonic(),
            index=len(self.calls),
            files=files,
            fault=fault,
        )
        self.calls.append(call)
        if method != "getUpdates" or not ok:
            _LOGGER.debug("fake Bot API: %s", call)
        self._notify()


def _forget(flying: dict[int, Any], update_id: int, _task: object) -> None:
    flying.pop(update_id, None)


def _update_chat(update: JSON) -> int | None:
    """The chat an update belongs to (Telegram delivers one chat's updates in order)."""
    for key, value in update.items():
        if not isinstance(value, dict):
            continue
        chat = value.get("chat")
        if chat is None and isinstance(value.get("message"), dict):
            chat = value["message"].get("chat")  # a callback query
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        if key == "callback_query":
            sender = value.get("from")
            return int(sender["id"]) if isinstance(sender, dict) else None
    return None
