"""The playground's web page: a Telegram-like group chat in the browser over the fake world.

:class:`PlaygroundPage` serves, beside a running :class:`~playground.server.FakeTelegram`:

* ``GET /`` and ``/static/<file>``: the page (plain HTML, CSS and JavaScript shipped in
  ``playground/web/``; nothing is fetched from the internet);
* ``GET /api/events``: server-sent events, first the whole state (``state``), then what changed
  (``message``, ``deleted``, ``chat``, ``people``, ``commands``, ``answer``), so the page never
  reloads;
* ``GET /api/menu?chat=&user=``: the command menu that person sees in that chat, resolved from
  what the bot registered with ``setMyCommands`` as Telegram resolves scopes and languages;
* ``GET /files/<file_id>``: documents (always as a download) and photos;
* ``POST /api/<action>`` with a JSON body: people act in the world (write, press a button,
  send a file, add or remove the bot, join, leave, a new person).

The bot is not involved: it keeps talking to the fake Bot API over HTTP, exactly as it talks to
Telegram. Only loopback ``Host`` headers are answered when the page listens on loopback (a web
site elsewhere cannot reach it through DNS rebinding), and actions need a JSON body (a form on
another site cannot post one without the browser asking first, which is never allowed).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import html
import itertools
import json
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote

from playground.httpserver import HttpRequest, HttpResponse, HttpServer
from playground.server import FakeTelegram
from playground.world import GENERAL_TOPIC, TOPIC_COLORS, FakeChat, FakeUser

__all__ = ["PAGE_WORDS", "PlaygroundPage", "command_menu", "words"]

_LOGGER = logging.getLogger("playground.page")

JSON = dict[str, Any]

STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
#: the page's own words (``playground.page.<name>`` in locales/*/LC_MESSAGES/playground.po)
PAGE_WORDS = (
    *("brand", "you_are", "new_person", "join_group", "chats", "pinned", "replying", "menu"),
    *("send", "private_with", "members", "bot_not_in", "add_bot", "remove_bot", "start"),
    *("start_hint", "join", "leave", "not_member", "no_commands", "reply", "edited", "attach"),
    *("write", "name_hint", "joined", "left", "added", "title", "pinned_service", "migrated"),
    *("offline", "bot", "download", "make_admin", "unmake_admin", "refused", "only_admins"),
    *("gone", "already", "empty", "need_name", "empty_file", "too_big", "too_long"),
    *("topics", "general", "topic_name", "create_topic", "close_topic"),
    *("reopen_topic", "topic_closed", "topic_created", "topic_closed_service"),
    *("topic_reopened_service", "need_topic_name", "open_in_private"),
)
#: the largest file a person may send from the page (Telegram's bot download limit)
MAX_UPLOAD = 20 * 1024 * 1024
#: seconds between two keep-alive comments on an idle event stream
HEARTBEAT = 15.0


def numbers_from_now() -> int:
    """A first number for update and message ids that is higher than any an earlier playground
    handed out (milliseconds since 2023): the bot keeps what it saw in its database (``--db``),
    skips updates whose ids it handled before, and must not take a new message for an old card.
    """
    return int(time.time() * 1000) - 1_700_000_000_000


def continue_numbering(fake: FakeTelegram, chats: list[FakeChat], start: int) -> None:
    """Number the world's updates and these chats' messages from ``start`` on."""
    fake._update_ids = itertools.count(start)
    for chat in chats:
        chat._message_ids = itertools.count(start)


def words(language: str, key: str, /, **params: Any) -> str:
    """A playground text from the catalogs (``playground.<key>``) in ``language`` (en, zh,
    zh-hant, ru), English when missing; placeholders filled as plain text (the page shows text,
    not HTML: the catalogs' HTML escapes such as ``&amp;`` become their characters)."""
    from bot.domain.languages import normalize_language
    from bot.i18n import FALLBACK, catalog

    code = normalize_language(language) or FALLBACK
    full = f"playground.{key}"
    text = catalog(code).gettext(full)
    if text == full:
        text = catalog(FALLBACK).gettext(full)
    text = html.unescape(text)
    return text.format_map(params) if params else text


def command_menu(fake: FakeTelegram, chat: FakeChat, user: FakeUser) -> list[JSON]:
    """The commands ``user`` sees in ``chat``'s menu, as Telegram picks them.

    Scopes are tried from the narrowest: in a group chat_member, chat_administrators (for an
    administrator), chat, all_chat_administrators (administrator), all_group_chats, default; in a
    private chat chat, all_private_chats, default. In each scope the list for the person's
    language wins over the one without a language; the first scope with a list is used.
    """
    language = (user.language_code or "")[:2].lower()
    scopes: list[JSON]
    if chat.type == "private":
        scopes = [{"type": "chat", "chat_id": chat.id}, {"type": "all_private_chats"}]
    else:
        admin = chat.status_of(user.id) in ("creator", "administrator")
        scopes = [{"type": "chat_member", "chat_id": chat.id, "user_id": user.id}]
        if admin:
            scopes.append({"type": "chat_administrators", "chat_id": chat.id})
        scopes.append({"type": "chat", "chat_id": chat.id})
        if admin:
            scopes.append({"type": "all_chat_administrators"})
        scopes.append({"type": "all_group_chats"})
    scopes.append({"type": "default"})
    for scope in scopes:
        key = json.dumps(scope, sort_keys=True)
        for code in dict.fromkeys((language, "")):
            found = fake.commands.get((key, code))
            if found:
                return [dict(item) for item in found]
    return []


class BadAction(Exception):
    """An action the page asked for that the world refuses (shown to the person in the page's
    language: ``word`` names the page word, the English text is for logs and tests)."""

    def __init__(self, message: str, word: str = "refused") -> None:
        super().__init__(message)
        self.word = word


#: the world's refusals (developer English), as the page word that tells a person
_REFUSALS = (
    ("is not a member", "not_member"),
    ("is not an administrator", "only_admins"),
    ("no longer exists", "gone"),
    ("has no button", "gone"),
    ("already in", "already"),
    ("is closed", "topic_closed"),
    ("was deleted", "gone"),
)


def _word_for(message: str) -> str:
    return next((word for part, word in _REFUSALS if part in message), "refused")


class PlaygroundPage:
    """The web page beside ``fake``; ``start()`` it, then open :attr:`url`."""

    def __init__(self, fake: FakeTelegram, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake
        self.host = host
        self.port = port
        #: the playground's building group (shown first); more groups may exist
        self.home: FakeChat | None = None
        #: people shown first in the switcher, with a word on who they are (e.g. "lead")
        self.roles: dict[int, str] = {}
        #: the language of the page's own words (en, zh, ru)
        self.language = "en"
        #: a short line the page shows while something prepares the world (the demo)
        self.status = ""
        #: new people's private chats number their messages from now on (numbers_from_now)
        self.continue_ids = False
        self._http = HttpServer(self._handle)
        self._clients: list[asyncio.Queue[JSON | None]] = []
        self._seen_messages: dict[int, dict[int, JSON]] = {}
        self._seen_chats: dict[int, str] = {}
        self._seen_people = ""
        self._seen_commands = ""
        self._seen_status = ""
        self._queries: set[str] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._actions: dict[str, Callable[[JSON], Awaitable[JSON]]] = {
            "send": self._act_send,
            "press": self._act_press,
            "document": self._act_document,
            "add_bot": self._act_add_bot,
            "remove_bot": self._act_remove_bot,
            "promote_bot": self._act_promote_bot,
            "demote_bot": self._act_demote_bot,
            "person": self._act_person,
            "join": self._act_join,
            "leave": self._act_leave,
            "create_topic": self._act_create_topic,
            "close_topic": self._act_close_topic,
            "reopen_topic": self._act_reopen_topic,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> PlaygroundPage:
        await self._http.start(self.host, self.port)
        self.port = self._http.port
        self._scan()  # the baseline: later scans send what changed
        self._watcher = asyncio.create_task(self._watch(), name="playground-page-watch")
        return self

    async def stop(self) -> None:
        for queue in self._clients:
            queue.put_nowait(None)
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self._http.close()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    # ------------------------------------------------------------------ state

    def person_json(self, user: FakeUser) -> JSON:
        return {
            "id": user.id,
            "name": user.full_name,
            "username": user.username,
            "language": user.language_code,
            "role": self.roles.get(user.id, ""),
            "started": user.started,
            "blocked": user.blocked,
        }

    def chat_json(self, chat: FakeChat) -> JSON:
        return {
            "id": chat.id,
            "type": chat.type,
            "title": chat.title if chat.is_group else chat.user.full_name if chat.user else "",
            "user": chat.user.id if chat.user is not None else None,
            "bot_status": chat.bot_status,
            "members": {str(uid): status for uid, status in chat.members.items()},
            "pinned": list(chat.pinned),
            "migrated_to": chat.migrated_to,
            "home": chat is self.home,
            "forum": chat.is_forum,
            "topics": [
                {
                    "id": topic.id,
                    "name": topic.name,
                    "icon_color": topic.icon_color,
                    "closed": topic.closed,
                }
                for topic in sorted(chat.topics.values(), key=lambda t: t.id)
                if not topic.deleted
            ],
        }

    def people(self) -> list[JSON]:
        order = {uid: index for index, uid in enumerate(self.roles)}
        users = sorted(self.fake.users.values(), key=lambda u: (order.get(u.id, len(order)), u.id))
        return [self.person_json(user) for user in users]

    def state(self) -> JSON:
        chats = list(self.fake.chats.values())
        return {
            "bot": self.fake.bot_dict(),
            "language": self.language,
            "words": {name: words(self.language, f"page.{name}") for name in PAGE_WORDS},
            "status": self.status,
            "people": self.people(),
            "chats": [self.chat_json(chat) for chat in chats],
            "messages": {
                str(chat.id): [self._message_json(m) for _, m in sorted(chat.messages.items())]
                for chat in chats
            },
        }

    def _message_json(self, data: JSON) -> JSON:
        """The stored message, with the fake's file ids as page download links."""
        out = dict(data)
        document = data.get("document")
        if document:
            out["document"] = {**document, "url": "/files/" + quote(document["file_id"])}
        photo = data.get("photo")
        if photo:
            biggest = max(photo, key=lambda p: p.get("width", 0) * p.get("height", 0))
            out["photo_url"] = "/files/" + quote(biggest["file_id"])
        return out

    # ------------------------------------------------------------------ changes

    def _scan(self) -> list[JSON]:
        """What changed since the last scan, as events (each one idempotent for the page)."""
        events: list[JSON] = []
        for chat in list(self.fake.chats.values()):
            seen = self._seen_messages.setdefault(chat.id, {})
            for message_id, data in chat.messages.items():
                if seen.get(message_id) is not data:  # the world stores a new dict per edit
                    seen[message_id] = data
                    events.append(
                        {"type": "message", "chat": chat.id, "message": self._message_json(data)}
                    )
            for message_id in [m for m in seen if m not in chat.messages]:
                del seen[message_id]
                events.append({"type": "deleted", "chat": chat.id, "message_id": message_id})
            summary = self.chat_json(chat)
            dumped = json.dumps(summary, sort_keys=True)
            if self._seen_chats.get(chat.id) != dumped:
                self._seen_chats[chat.id] = dumped
                events.append({"type": "chat", "chat": summary})
        people = self.people()
        dumped = json.dumps(people, sort_keys=True)
        if dumped != self._seen_people:
            self._seen_people = dumped
            events.append({"type": "people", "people": people})
        commands = json.dumps(sorted(self.fake.commands.items()))
        if commands != self._seen_commands:
            self._seen_commands = commands
            events.append({"type": "commands"})
        if self.status != self._seen_status:
            self._seen_status = self.status
            events.append({"type": "status", "status": self.status})
        for query_id in list(self._queries):
            answer = self.fake.callback_answer(query_id)
            if answer is not None:
                self._queries.discard(query_id)
                events.append(
                    {
                        "type": "answer",
                        "query_id": query_id,
                        "text": str(answer.get("text") or ""),
                        "show_alert": bool(answer.get("show_alert")),
                    }
                )
        return events

    def _broadcast(self) -> None:
        events = self._scan()
        if not events:
            return
        for queue in self._clients:
            for event in events:
                queue.put_nowait(event)

    def changed(self) -> None:
        """Something outside the world changed (``status``): tell the pages now."""
        self._broadcast()

    async def _watch(self) -> None:
        while True:
            changed = self.fake._changed  # replaced by a new event after each notification
            await changed.wait()
            await asyncio.sleep(0.02)  # let a burst of calls settle into one scan
            self._broadcast()

    async def _events(self) -> AsyncGenerator[bytes, None]:
        self._broadcast()  # earlier changes reach the pages already open, not this one twice
        queue: asyncio.Queue[JSON | None] = asyncio.Queue()
        self._clients.append(queue)
        try:
            yield _sse({"type": "state", "state": self.state()})
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT)
                except TimeoutError:
                    yield b": still here\n\n"
                    continue
                if event is None:
                    return
                yield _sse(event)
        finally:
            self._clients.remove(queue)

    # ------------------------------------------------------------------ HTTP

    def _host_allowed(self, request: HttpRequest) -> bool:
        if self.host not in ("127.0.0.1", "::1", "localhost"):
            return True  # listening beyond loopback was asked for explicitly
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in LOOPBACK

    async def _handle(self, request: HttpRequest) -> HttpResponse:
        if not self._host_allowed(request):
            return _error(421, "this page answers only on its loopback address")
        path = request.path
        if request.method == "POST" and path.startswith("/api/"):
            return await self._action(path.removeprefix("/api/"), request)
        if request.method not in ("GET", "HEAD"):
            return _error(405, "method not allowed")
        if path == "/":
            path = "/static/index.html"
        if path == "/favicon.ico":
            return HttpResponse(204, headers=dict(SECURITY_HEADERS))
        if path.startswith("/static/"):
            return self._static(path.removeprefix("/static/"))
        if path == "/api/events":
            return HttpResponse(
                200, content_type="text/event-stream; charset=utf-8", stream=self._events()
            )
        if path == "/api/state":
            return _json(200, self.state())
        if path == "/api/menu":
            return self._menu(request)
        if path.startswith("/files/"):
            return self._file(path.removeprefix("/files/"), request)
        return _error(404, "not found")

    def _static(self, name: str) -> HttpResponse:
        content_type = STATIC.get(name)
        if content_type is None:
            return _error(404, "not found")
        body = resources.files("playground").joinpath("web", name).read_bytes()
        return HttpResponse(200, body, content_type, headers=dict(SECURITY_HEADERS))

    def _menu(self, request: HttpRequest) -> HttpResponse:
        query = parse_qs(request.query)
        try:
            chat = self.fake.chats[int(query["chat"][0])]
            user = self.fake.users[int(query["user"][0])]
        except (KeyError, ValueError, IndexError):
            return _error(400, "unknown chat or person")
        return _json(200, {"commands": command_menu(self.fake, chat, user)})

    def _file(self, file_id: str, request: HttpRequest) -> HttpResponse:
        stored = self.fake.files.get(file_id)
        if stored is None:
            return _error(404, "no such file")
        headers = dict(SECURITY_HEADERS)
        image = _image_type(stored.content)
        photo = stored.file_path.startswith("photos/") and image is not None
        mime = image if photo and image else stored.mime_type or "application/octet-stream"
        if not photo or "download" in parse_qs(request.query):
            name = stored.file_name or stored.file_path.rsplit("/", 1)[-1]
            ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
            headers["Content-Disposition"] = (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
            )
        body = stored.content if request.method == "GET" else b""
        return HttpResponse(200, body, mime, headers=headers)

    async def _action(self, name: str, request: HttpRequest) -> HttpResponse:
        action = self._actions.get(name)
        if action is None:
            return _error(404, "no such action")
        if request.content_type != "application/json":
            return _error(415, "actions take a JSON body")
        try:
            params = json.loads(request.body or b"{}")
            if not isinstance(params, dict):
                raise BadAction("actions take a JSON object")
            result = await action(params)
        except BadAction as exc:
            return _error(400, str(exc), exc.word)
        except (ValueError, LookupError) as exc:  # the world's refusals, in its own words
            return _error(400, str(exc), _word_for(str(exc)))
        # not every change wakes the world's watchers (a group message the bot may not see
        # under privacy mode notifies nobody): show it now
        self._broadcast()
        return _json(200, {"ok": True, **result})

    # ------------------------------------------------------------------ actions

    def _user(self, params: JSON, key: str = "user") -> FakeUser:
        try:
            return self.fake.users[int(params[key])]
        except (KeyError, TypeError, ValueError):
            raise BadAction("unknown person") from None

    def _chat(self, params: JSON, key: str = "chat") -> FakeChat:
        try:
            return self.fake.chats[int(params[key])]
        except (KeyError, TypeError, ValueError):
            raise BadAction("unknown chat") from None

    async def _act_send(self, params: JSON) -> JSON:
        user, chat = self._user(params), self._chat(params)
        text = str(params.get("text") or "").strip()
        if not text:
            raise BadAction("write something first", "empty")
        if len(text) > 4096:
            raise BadAction("a message holds at most 4096 characters", "too_long")
        reply_to = params.get("reply_to")
        message = await user.send(
            chat,
            text,
            reply_to=int(reply_to) if reply_to not in (None, "") else None,
            topic=self._topic(chat, params),
        )
        return {"message_id": message.message_id}

    @staticmethod
    def _topic(chat: FakeChat, params: JSON) -> int | None:
        """The topic of a forum a person writes in (None: General, or not a forum)."""
        wanted = params.get("topic")
        if wanted in (None, "", GENERAL_TOPIC) or not chat.is_forum:
            return None
        try:
            return chat.topic(int(wanted)).id
        except (TypeError, ValueError):
            raise BadAction("which topic?", "gone") from None

    async def _act_press(self, params: JSON) -> JSON:
        user, chat = self._user(params), self._chat(params)
        try:
            message_id = int(params["message_id"])
        except (KeyError, TypeError, ValueError):
            raise BadAction("which message?") from None
        query = await user.press(message_id, str(params.get("data") or ""), chat=chat)
        self._queries.add(str(query.id))
        return {"query_id": str(query.id)}

    async def _act_document(self, params: JSON) -> JSON:
        user, chat = self._user(params), self._chat(params)
        filename = str(params.get("filename") or "").strip().replace("/", "_")[:128]
        try:
            content = base64.b64decode(str(params.get("content") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise BadAction("the file did not arrive whole") from None
        if not filename or not content:
            raise BadAction("choose a file that is not empty", "empty_file")
        if len(content) > MAX_UPLOAD:
            raise BadAction("files up to 20 MB only", "too_big")
        caption = str(params.get("caption") or "").strip() or None
        reply_to = params.get("reply_to")
        reply = int(reply_to) if reply_to not in (None, "") else None
        topic = None if reply is not None else self._topic(chat, params)
        size = _image_size(content) if params.get("as_photo") else None
        if size is not None:  # a picture is sent as a photo, as Telegram's apps send it
            message = await user.send_photo(
                chat,
                content,
                caption=caption,
                width=size[0],
                height=size[1],
                topic=topic,
                reply_to=reply,
            )
        else:
            message = await user.send_document(
                chat,
                filename=filename,
                content=content,
                caption=caption,
                topic=topic,
                reply_to=reply,
            )
        return {"message_id": message.message_id}

    async def _act_add_bot(self, params: JSON) -> JSON:
        await self.fake.add_bot(self._chat(params), by=self._user(params))
        return {}

    async def _act_remove_bot(self, params: JSON) -> JSON:
        await self.fake.remove_bot(self._chat(params), by=self._user(params), kicked=False)
        return {}

    async def _act_promote_bot(self, params: JSON) -> JSON:
        await self.fake.promote_bot(self._chat(params), by=self._user(params))
        return {}

    async def _act_demote_bot(self, params: JSON) -> JSON:
        await self.fake.demote_bot(self._chat(params), by=self._user(params))
        return {}

    async def _act_join(self, params: JSON) -> JSON:
        await self.fake.join(self._chat(params), self._user(params))
        return {}

    async def _act_leave(self, params: JSON) -> JSON:
        await self.fake.leave(self._chat(params), self._user(params))
        return {}

    async def _act_create_topic(self, params: JSON) -> JSON:
        user, chat = self._user(params), self._chat(params)
        name = " ".join(str(params.get("name") or "").split())[:128]
        if not name:
            raise BadAction("a topic needs a name", "need_topic_name")
        if not chat.is_forum:
            raise BadAction(f"{chat!r} has no topics")
        color = TOPIC_COLORS[len(chat.topics) % len(TOPIC_COLORS)]
        topic = self.fake.create_topic(chat, name, by=user, icon_color=color)
        return {"topic": topic.id}

    async def _act_close_topic(self, params: JSON) -> JSON:
        return await self._topic_closed(params, True)

    async def _act_reopen_topic(self, params: JSON) -> JSON:
        return await self._topic_closed(params, False)

    async def _topic_closed(self, params: JSON, closed: bool) -> JSON:
        user, chat = self._user(params), self._chat(params)
        topic = self._topic(chat, params)
        if topic is None:
            raise BadAction("General cannot be closed here")
        if closed:
            self.fake.close_topic(chat, topic, by=user)
        else:
            self.fake.reopen_topic(chat, topic, by=user)
        return {"topic": topic}

    async def _act_person(self, params: JSON) -> JSON:
        name = " ".join(str(params.get("name") or "").split())[:64]
        if not name:
            raise BadAction("a new person needs a name", "need_name")
        language = str(params.get("language") or "en").strip().lower()
        if language not in ("en", "zh", "zh-hant", "ru", "de", "es", "fr"):
            language = "en"
        first, _, last = name.partition(" ")
        user = self.fake.user(first, last or None, language_code=language)
        if self.continue_ids:
            user.private._message_ids = itertools.count(numbers_from_now())
        if params.get("chat") not in (None, ""):
            chat = self._chat(params)
            if chat.is_group and chat.migrated_to is None:
                await self.fake.join(chat, user)
        return {"user": user.id}


def _image_type(content: bytes) -> str | None:
    """The image type the bytes begin with (photos are shown only as what they are)."""
    for magic, mime in (
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
    ):
        if content.startswith(magic):
            return mime
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def _image_size(content: bytes) -> tuple[int, int] | None:
    """Width and height of a JPEG, PNG, GIF or WebP picture (None: not a picture)."""
    if _image_type(content) is None:
        return None
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def _sse(event: JSON) -> bytes:
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()


def _json(status: int, payload: Any) -> HttpResponse:
    response = HttpResponse.json(status, payload)
    response.headers.update(SECURITY_HEADERS)
    return response


def _error(status: int, message: str, word: str | None = None) -> HttpResponse:
    payload: JSON = {"ok": False, "error": message}
    if word is not None:
        payload["word"] = word
    return _json(status, payload)
