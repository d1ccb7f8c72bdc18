"""The Bot API methods served by the fake, with Telegram's validation and error wording."""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import re
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, BotCommand, ChatFullInfo, File, User, WebhookInfo

from playground.httpserver import UploadedFile
from playground.textparse import EntityParseError, parse_text, utf16_len
from playground.world import (
    DEFAULT_ALLOWED_UPDATES,
    GENERAL_TOPIC,
    MEMBER_STATUSES,
    TOPIC_COLORS,
    ApiError,
    FakeChat,
    FakeTopic,
    StoredFile,
    World,
    member_dict,
    normalize_message,
)

__all__ = ["BotApi"]

JSON = dict[str, Any]
Handler = Callable[[JSON], Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024
MAX_UPLOAD = 50 * 1024 * 1024
CALLBACK_ANSWER_WINDOW = 15.0

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
COUNTED_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


def _int(params: JSON, name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, f"Bad Request: invalid {name} specified") from exc


def _json_value(params: JSON, name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from exc
    return value


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


class BotApi(World):
    """Bot API method handlers on top of :class:`World`.

    Every ``tg_<method>`` takes the decoded parameters and returns the ``result`` value, or
    raises :class:`ApiError`.
    """

    def __init__(
        self,
        token: str,
        bot_username: str,
        bot_first_name: str,
        *,
        privacy_mode: bool,
        strict_html: bool,
        enforce_limits: bool,
        group_limit_per_minute: int,
        global_limit_per_second: int,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(
            token, bot_username, bot_first_name, privacy_mode=privacy_mode, clock=clock
        )
        self.strict_html = strict_html
        self.enforce_limits = enforce_limits
        self.group_limit_per_minute = group_limit_per_minute
        self.global_limit_per_second = global_limit_per_second
        self.limit_hits = 0
        self._group_sends: dict[int, deque[float]] = {}
        self._global_sends: deque[float] = deque()
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.webhook: JSON | None = None
        self.shutting_down = False
        self._methods: dict[str, tuple[str, Handler]] = {}
        for attr in dir(type(self)):
            if attr.startswith("tg_") and inspect.isfunction(getattr(type(self), attr)):
                name = attr.removeprefix("tg_")
                self._methods[name.lower()] = (name, getattr(self, attr))

    # ------------------------------------------------------------------ dispatch

    def resolve_method(self, name: str) -> tuple[str, Handler] | None:
        """Telegram method names are case-insensitive."""
        return self._methods.get(name.lower())

    @staticmethod
    def is_real_method(name: str) -> bool:
        """Whether ``name`` is a Bot API method (PTB has a camelCase alias for each)."""
        attr = getattr(Bot, name, None)
        return callable(attr) and name[:1].islower() and any(c.isupper() for c in name)

    async def call(self, name: str, params: JSON) -> Any:
        found = self.resolve_method(name)
        if found is None:
            raise ApiError(404, "Not Found: method not found")
        result = found[1](params)
        if isinstance(result, Awaitable):
            result = await result
        return result

    # ------------------------------------------------------------------ chat access

    def resolve_chat(self, params: JSON, name: str = "chat_id", *, send: bool = True) -> FakeChat:
        raw = params.get(name)
        if raw is None or raw == "":
            raise ApiError(400, f"Bad Request: {name} is empty")
        chat: FakeChat | None = None
        if isinstance(raw, str) and raw.startswith("@"):
            wanted = raw[1:].lower()
            chat = next(
                (c for c in self.chats.values() if c.username and c.username.lower() == wanted),
                None,
            )
        else:
            try:
                chat_id = int(raw)
            except (TypeError, ValueError):
                chat_id = 0
            if chat_id in self.migrations:
                raise ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": self.migrations[chat_id]},
                )
            chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.type == "private":
            assert chat.user is not None
            if not chat.user.started:
                if send:
                    raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
                raise ApiError(400, "Bad Request: chat not found")
            if send and chat.user.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
        else:
            kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
            if chat.bot_status == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind}")
            if chat.bot_status != "member" and chat.bot_status != "administrator":
                raise ApiError(403, f"Forbidden: bot is not a member of the {kind}")
        return chat

    def _message_id(self, params: JSON, name: str = "message_id") -> int:
        message_id = _int(params, name)
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        return message_id

    # ------------------------------------------------------------------ rate limits

    def check_limits(self, method: str, chat: FakeChat) -> None:
        if not self.enforce_limits or method not in COUNTED_METHODS:
            return
        moment = self.monotonic()
        sends = self._global_sends
        while sends and moment - sends[0] >= 1.0:
            sends.popleft()
        if len(sends) >= self.global_limit_per_second:
            self._limited(sends[0] + 1.0 - moment)
        if chat.is_group:
            window = self._group_sends.setdefault(chat.id, deque())
            while window and moment - window[0] >= 60.0:
                window.popleft()
            if len(window) >= self.group_limit_per_minute:
                self._limited(window[0] + 60.0 - moment)

    def _limited(self, wait: float) -> None:
        self.limit_hits += 1
        retry_after = max(1, math.ceil(wait))
        raise ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    def count_send(self, method: str, chat: FakeChat) -> None:
        if method not in COUNTED_METHODS:
            return
        moment = self.monotonic()
        self._global_sends.append(moment)
        if chat.is_group:
            self._group_sends.setdefault(chat.id, deque()).append(moment)

    # ------------------------------------------------------------------ content helpers

    def _parsed(
        self, params: JSON, text_key: str, entities_key: str, *, required: bool
    ) -> tuple[str, list[JSON]] | None:
        text = params.get(text_key)
        if text is None or text == "":
            if required:
                raise ApiError(400, "Bad Request: message text is empty")
            return None
        text = str(text)
        entities = _json_value(params, entities_key)
        try:
            parsed = parse_text(
                text,
                params.get("parse_mode") or None,
                entities if isinstance(entities, list) else None,
                strict_ampersand=self.strict_html,
            )
        except EntityParseError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        except ValueError as exc:
            raise ApiError(400, "Bad Request: unsupported parse_mode") from exc
        if not parsed.text:
            if required:
                raise ApiError(400, "Bad Request: message text is empty")
            return None
        limit = MAX_TEXT if text_key == "text" else MAX_CAPTION
        if utf16_len(parsed.text) > limit:
            if text_key == "text":
                raise ApiError(400, "Bad Request: message is too long")
            raise ApiError(400, "Bad Request: message caption is too long")
        return parsed.text, parsed.entities

    def _markup(self, params: JSON, *, inline_only: bool = False) -> JSON | None:
        """Validate ``reply_markup``; return the inline keyboard to store on the message."""
        markup = _json_value(params, "reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if inline_only:
                raise ApiError(400, "Bad Request: inline keyboard expected")
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: not an array")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: can't parse inline keyboard button: Text is empty"
                    )
                actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
                if not actions:
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: Text buttons are "
                        "unallowed in the inline keyboard",
                    )
                data = button.get("callback_data")
                if data is not None:
                    size = len(str(data).encode("utf-8"))
                    if size == 0 or size > MAX_CALLBACK_DATA:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
                    raise ApiError(
                        400,
                        f"Bad Request: inline keyboard button URL '{url}' is invalid: "
                        "Wrong HTTP URL",
                    )
        if not any(rows):
            return None
        return {"inline_keyboard": rows}

    def _reply(self, chat: FakeChat, params: JSON) -> JSON | None:
        reply = _json_value(params, "reply_parameters")
        allow_missing = _true(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            target_chat = reply.get("chat_id")
            if target_chat is not None and str(target_chat) != str(chat.id):
                return None
            message_id = reply.get("message_id")
            allow_missing = allow_missing or _true(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.get("reply_to_message_id")
        if message_id is None or message_id == "":
            return None
        try:
            snapshot = self.reply_snapshot(chat, int(message_id))
        except (TypeError, ValueError):
            snapshot = None
        if snapshot is None and not allow_missing:
            raise ApiError(400, "Bad Request: message to be replied not found")
        return snapshot

    def _thread(self, chat: FakeChat, params: JSON, reply: JSON | None) -> int | None:
        """The topic a send goes to, as Telegram decides it: ``message_thread_id`` if given
        (1 or none: General), else the topic of the message it replies to. A deleted topic is
        "message thread not found"; a closed one "TOPIC_CLOSED", unless the bot is an
        administrator with ``can_manage_topics``."""
        thread = _int(params, "message_thread_id")
        if thread is None or thread == GENERAL_TOPIC:
            thread = self.thread_of(reply) if chat.is_forum else None
            if thread is None:
                return None
        if not chat.is_forum:
            if chat.type == "supergroup" and thread in chat.messages:
                return None  # a reply thread of a plain supergroup: the message stays in the chat
            raise ApiError(400, "Bad Request: message thread not found")
        topic = chat.topics.get(thread)
        if topic is None or topic.deleted:
            raise ApiError(400, "Bad Request: message thread not found")
        if topic.closed and not self._manages_topics(chat):
            raise ApiError(400, "Bad Request: TOPIC_CLOSED")
        return thread

    def _manages_topics(self, chat: FakeChat) -> bool:
        return chat.bot_is_admin and bool(chat.bot_rights.get("can_manage_topics"))

    def _bot_message(self, method: str, chat: FakeChat, fields: JSON) -> JSON:
        data = self.add_message(chat, self.bot_dict(), fields)
        self.count_send(method, chat)
        return data

    def _file_param(
        self, params: JSON, name: str, *, folder: str, suffix: str | None = None
    ) -> StoredFile:
        value = params.get(name)
        if value is None or value == "":
            raise ApiError(400, f"Bad Request: there is no {name} in the request")
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            if not value.content:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if len(value.content) > MAX_UPLOAD:
                raise ApiError(413, "Request Entity Too Large")
            return self.store_file(
                value.content,
                folder=folder,
                file_name=value.filename or None,
                mime_type=None
                if value.content_type == "application/octet-stream"
                else value.content_type,
                suffix=suffix,
            )
        if isinstance(value, str):
            stored = self.files.get(value)
            if stored is not None:
                return stored
            if re.match(r"^https?://\S+$", value):
                file_name = value.rstrip("/").rsplit("/", 1)[-1] or None
                return self.store_file(
                    value.encode(), folder=folder, file_name=file_name, suffix=suffix
                )
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _editable(self, params: JSON) -> tuple[FakeChat, JSON]:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: message to edit not found")
        chat = self.resolve_chat(params)
        message_id = self._message_id(params)
        data = chat.messages.get(message_id)
        if data is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if data.get("from", {}).get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, data

    def _commit_edit(self, method: str, chat: FakeChat, old: JSON, new: JSON) -> JSON:
        new = normalize_message(new)
        keys = ("text", "entities", "caption", "caption_entities", "reply_markup")
        if all(old.get(key) == new.get(key) for key in keys):
            raise ApiError(400, NOT_MODIFIED)
        self.check_limits(method, chat)
        new["edit_date"] = self.now()
        new = normalize_message(new)
        chat.messages[new["message_id"]] = new
        self.count_send(method, chat)
        return new

    # ------------------------------------------------------------------ bot & updates

    def tg_getMe(self, params: JSON) -> JSON:
        data = {
            **self.bot_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        return User.de_json(data, None).to_dict()

    def tg_logOut(self, params: JSON) -> bool:
        return True

    def tg_close(self, params: JSON) -> bool:
        return True

    async def tg_getUpdates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = _int(params, "offset", 0) or 0
        limit = min(max(_int(params, "limit", 100) or 100, 1), 100)
        try:
            timeout = max(float(params.get("timeout") or 0), 0.0)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "Bad Request: invalid timeout specified") from exc
        allowed = _json_value(params, "allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = (
                frozenset(str(kind) for kind in allowed) if allowed else DEFAULT_ALLOWED_UPDATES
            )
        self.confirm(offset)
        # A newer getUpdates request terminates the one still waiting, as on Telegram.
        self._wake_poll("conflict")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            updates = self.deliverable(limit)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or self.shutting_down:
                return updates
            waiter: asyncio.Future[str] = loop.create_future()
            self._poll_waiter = waiter
            try:
                await asyncio.wait({waiter}, timeout=remaining)
            finally:
                if self._poll_waiter is waiter:
                    self._poll_waiter = None
            if waiter.done() and waiter.result() == "conflict":
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            if waiter.done() and waiter.result() == "stop":
                return []

    def tg_setWebhook(self, params: JSON) -> bool:
        url = params.get("url") or ""
        if not url:
            self.webhook = None
            return True
        if not str(url).startswith("https://"):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        max_connections = _int(params, "max_connections", 40) or 40
        if not 1 <= max_connections <= 100:
            raise ApiError(400, "Bad Request: invalid max_connections specified")
        allowed = _json_value(params, "allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = (
                frozenset(str(kind) for kind in allowed) if allowed else DEFAULT_ALLOWED_UPDATES
            )
        self.webhook = {k: v for k, v in params.items() if not isinstance(v, UploadedFile)}
        self.webhook["max_connections"] = max_connections
        if _true(params.get("drop_pending_updates")):
            self.drop_pending_updates()
        self.webhook_changed()
        return True

    def tg_deleteWebhook(self, params: JSON) -> bool:
        self.webhook = None
        if _true(params.get("drop_pending_updates")):
            self.drop_pending_updates()
        self.webhook_changed()
        return True

    def webhook_changed(self) -> None:
        """Told after setWebhook and deleteWebhook: the server starts or stops delivering
        updates by POST (``FakeTelegram``; nothing here)."""

    def tg_getWebhookInfo(self, params: JSON) -> JSON:
        data: JSON = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": self.updates_pending,
        }
        if self.webhook is not None:
            data["max_connections"] = self.webhook["max_connections"]
        return WebhookInfo.de_json(data, None).to_dict()

    # ------------------------------------------------------------------ messages

    def tg_sendMessage(self, params: JSON) -> JSON:
        chat = self.resolve_chat(params)
        parsed = self._parsed(params, "text", "entities", required=True)
        assert parsed is not None
        markup = self._markup(params)
        reply = self._reply(chat, params)
        thread = self._thread(chat, params, reply)
        self.check_limits("sendMessage", chat)
        fields: JSON = {"text": parsed[0]}
        if parsed[1]:
            fields["entities"] = parsed[1]
        if markup:
            fields["reply_markup"] = markup
        if reply:
            fields["reply_to_message"] = reply
        fields.update(self.thread_fields(chat, thread, reply=bool(reply)))
        return self._bot_message("sendMessage", chat, fields)

    def _send_media(self, method: str, params: JSON, kind: str) -> JSON:
        chat = self.resolve_chat(params)
        caption = self._parsed(params, "caption", "caption_entities", required=False)
        markup = self._markup(params)
        reply = self._reply(chat, params)
        if kind == "document":
            stored = self._file_param(params, "document", folder="documents")
            media: Any = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": stored.size,
            }
            if stored.file_name:
                media["file_name"] = stored.file_name
            if stored.mime_type:
                media["mime_type"] = stored.mime_type
        else:
            stored = self._file_param(params, "photo", folder="photos", suffix=".jpg")
            media = [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": stored.size,
                    "width": 800,
                    "height": 600,
                }
            ]
        thread = self._thread(chat, params, reply)
        self.check_limits(method, chat)
        fields: JSON = {kind: media}
        if caption:
            fields["caption"] = caption[0]
            if caption[1]:
                fields["caption_entities"] = caption[1]
        if markup:
            fields["reply_markup"] = markup
        if reply:
            fields["reply_to_message"] = reply
        fields.update(self.thread_fields(chat, thread, reply=bool(reply)))
        return self._bot_message(method, chat, fields)

    def tg_sendDocument(self, params: JSON) -> JSON:
        return self._send_media("sendDocument", params, "document")

    def tg_sendPhoto(self, params: JSON) -> JSON:
        return self._send_media("sendPhoto", params, "photo")

    def tg_editMessageText(self, params: JSON) -> JSON:
        chat, old = self._editable(params)
        if "text" not in old:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        parsed = self._parsed(params, "text", "entities", required=True)
        assert parsed is not None
        markup = self._markup(params, inline_only=True)
        new = {k: v for k, v in old.items() if k not in ("entities", "reply_markup")}
        new["text"] = parsed[0]
        if parsed[1]:
            new["entities"] = parsed[1]
        if markup:
            new["reply_markup"] = markup
        return self._commit_edit("editMessageText", chat, old, new)

    def tg_editMessageCaption(self, params: JSON) -> JSON:
        chat, old = self._editable(params)
        if "text" in old:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = self._parsed(params, "caption", "caption_entities", required=False)
        markup = self._markup(params, inline_only=True)
        new = {
            k: v for k, v in old.items() if k not in ("caption", "caption_entities", "reply_markup")
        }
        if caption:
            new["caption"] = caption[0]
            if caption[1]:
                new["caption_entities"] = caption[1]
        if markup:
            new["reply_markup"] = markup
        return self._commit_edit("editMessageCaption", chat, old, new)

    def tg_editMessageReplyMarkup(self, params: JSON) -> JSON:
        chat, old = self._editable(params)
        markup = self._markup(params, inline_only=True)
        new = {k: v for k, v in old.items() if k != "reply_markup"}
        if markup:
            new["reply_markup"] = markup
        return self._commit_edit("editMessageReplyMarkup", chat, old, new)

    def tg_deleteMessage(self, params: JSON) -> bool:
        chat = self.resolve_chat(params, send=False)
        message_id = self._message_id(params)
        data = chat.messages.get(message_id)
        if data is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        refused = self.deletion_refused(chat, data)
        if refused is not None:
            raise ApiError(400, refused)
        self.delete_message(chat, message_id)
        return True

    def tg_deleteMessages(self, params: JSON) -> bool:
        chat = self.resolve_chat(params, send=False)
        ids = _json_value(params, "message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise ApiError(400, "Bad Request: message_ids must be a non-empty list")
        for raw in ids:
            data = chat.messages.get(int(raw))
            if data is not None and self.deletion_refused(chat, data) is None:
                self.delete_message(chat, int(raw))
        return True

    def tg_answerCallbackQuery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        record = self.callbacks.get(query_id)
        if record is None or record.answer is not None:
            raise ApiError(400, QUERY_TOO_OLD)
        if self.monotonic() - record.created > CALLBACK_ANSWER_WINDOW:
            raise ApiError(400, QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        record.answer = {k: v for k, v in params.items() if k != "callback_query_id"}
        return True

    # ------------------------------------------------------------------ chats

    def tg_getChat(self, params: JSON) -> JSON:
        chat = self.resolve_chat(params, send=False)
        data: JSON = {
            **chat.to_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.pinned and chat.pinned[-1] in chat.messages:
            data["pinned_message"] = chat.messages[chat.pinned[-1]]
        if chat.is_group:
            data["permissions"] = {
                "can_send_messages": True,
                "can_send_polls": True,
                "can_send_other_messages": True,
                "can_add_web_page_previews": True,
                "can_change_info": False,
                "can_invite_users": True,
                "can_pin_messages": False,
            }
        return ChatFullInfo.de_json(data, None).to_dict()

    def _user_json(self, user_id: int) -> JSON:
        if user_id == self.bot_id:
            return self.bot_dict()
        person = self.users.get(user_id)
        if person is None:
            raise ApiError(400, "Bad Request: user not found")
        return person.to_dict()

    def _member_json(self, chat: FakeChat, user_id: int) -> JSON:
        user = self._user_json(user_id)
        status = chat.status_of(user_id)
        rights = chat.bot_rights if user_id == self.bot_id else None
        return member_dict(user, status, rights)

    def tg_getChatMember(self, params: JSON) -> JSON:
        chat = self.resolve_chat(params, send=False)
        user_id = _int(params, "user_id")
        if user_id is None:
            raise ApiError(400, "Bad Request: user_id is empty")
        return self._member_json(chat, user_id)

    def tg_getChatAdministrators(self, params: JSON) -> list[JSON]:
        chat = self.resolve_chat(params, send=False)
        if not chat.is_group:
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        ids = [uid for uid, status in chat.members.items() if status == "creator"]
        ids += [uid for uid, status in chat.members.items() if status == "administrator"]
        if chat.bot_is_admin:
            ids.append(self.bot_id)
        return [self._member_json(chat, uid) for uid in ids]

    def tg_getChatMemberCount(self, params: JSON) -> int:
        chat = self.resolve_chat(params, send=False)
        if chat.type == "private":
            return 2
        count = sum(1 for status in chat.members.values() if status in MEMBER_STATUSES)
        return count + (1 if chat.bot_is_member else 0)

    def tg_leaveChat(self, params: JSON) -> bool:
        chat = self.resolve_chat(params, send=False)
        if not chat.is_group:
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        old = chat.bot_status
        chat.bot_status = "left"
        bot = self.bot_dict()
        self.enqueue(
            "my_chat_member",
            {
                "chat": chat.to_dict(),
                "from": bot,
                "date": self.now(),
                "old_chat_member": member_dict(bot, old, chat.bot_rights),
                "new_chat_member": member_dict(bot, "left"),
            },
        )
        return True

    def _pin_rights(self, chat: FakeChat) -> None:
        if chat.is_group and not (chat.bot_is_admin and chat.bot_rights.get("can_pin_messages")):
            raise ApiError(
                400, "Bad Request: not enough rights to manage pinned messages in the chat"
            )

    def tg_pinChatMessage(self, params: JSON) -> bool:
        chat = self.resolve_chat(params)
        self._pin_rights(chat)
        message_id = self._message_id(params)
        if message_id not in chat.messages:
            raise ApiError(400, "Bad Request: message to pin not found")
        if message_id in chat.pinned:
            chat.pinned.remove(message_id)
        chat.pinned.append(message_id)
        return True

    def tg_unpinChatMessage(self, params: JSON) -> bool:
        chat = self.resolve_chat(params)
        self._pin_rights(chat)
        message_id = _int(params, "message_id")
        if message_id is None:
            if chat.pinned:
                chat.pinned.pop()
        elif message_id in chat.pinned:
            chat.pinned.remove(message_id)
        elif message_id not in chat.messages:
            raise ApiError(400, "Bad Request: message to unpin not found")
        return True

    def tg_unpinAllChatMessages(self, params: JSON) -> bool:
        chat = self.resolve_chat(params)
        self._pin_rights(chat)
        chat.pinned.clear()
        return True

    def tg_sendChatAction(self, params: JSON) -> bool:
        chat = self.resolve_chat(params)
        self._thread(chat, params, None)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    # ------------------------------------------------------------------ forum topics

    def _forum(self, params: JSON) -> FakeChat:
        chat = self.resolve_chat(params)
        if not chat.is_forum:
            raise ApiError(400, "Bad Request: the chat is not a forum")
        return chat

    def _bot_topic(self, params: JSON) -> tuple[FakeChat, FakeTopic]:
        chat = self._forum(params)
        thread = _int(params, "message_thread_id")
        topic = chat.topics.get(thread or 0)
        if topic is None or topic.deleted:
            raise ApiError(400, "Bad Request: message thread not found")
        if not (self._manages_topics(chat) or topic.creator_id == self.bot_id):
            raise ApiError(400, "Bad Request: not enough rights to manage topics")
        return chat, topic

    @staticmethod
    def _topic_json(topic: FakeTopic) -> JSON:
        return {
            "message_thread_id": topic.id,
            "name": topic.name,
            "icon_color": topic.icon_color,
        }

    def tg_createForumTopic(self, params: JSON) -> JSON:
        chat = self._forum(params)
        if not self._manages_topics(chat):
            raise ApiError(400, "Bad Request: not enough rights to create a topic")
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise ApiError(
                400,
                "Bad Request: TOPIC_TITLE_EMPTY"
                if not name
                else "Bad Request: TOPIC_TITLE_TOO_LONG",
            )
        color = _int(params, "icon_color", TOPIC_COLORS[0])
        if color not in TOPIC_COLORS:
            raise ApiError(400, "Bad Request: TOPIC_ICON_COLOR_INVALID")
        topic = self.new_topic(chat, name, self.bot_dict(), int(color or TOPIC_COLORS[0]))
        return self._topic_json(topic)

    def tg_closeForumTopic(self, params: JSON) -> bool:
        chat, topic = self._bot_topic(params)
        if topic.closed:
            raise ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        self.set_topic_closed(chat, topic, True, self.bot_dict())
        return True

    def tg_reopenForumTopic(self, params: JSON) -> bool:
        chat, topic = self._bot_topic(params)
        if not topic.closed:
            raise ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        self.set_topic_closed(chat, topic, False, self.bot_dict())
        return True

    def tg_deleteForumTopic(self, params: JSON) -> bool:
        chat, topic = self._bot_topic(params)
        if not (chat.bot_is_admin and chat.bot_rights.get("can_delete_messages")):
            raise ApiError(400, "Bad Request: not enough rights to delete a topic")
        self.remove_topic(chat, topic)
        return True

    # ------------------------------------------------------------------ files

    def tg_getFile(self, params: JSON) -> JSON:
        stored = self.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.size > MAX_DOWNLOAD:
            raise ApiError(400, "Bad Request: file is too big")
        data = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }
        return File.de_json(data, None).to_dict()

    # ------------------------------------------------------------------ commands & profile

    def _scope_key(self, params: JSON) -> tuple[str, str]:
        scope = _json_value(params, "scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise ApiError(400, "Bad Request: wrong scope type specified")
        normalized: JSON = {"type": scope["type"]}
        if "chat_id" in scope:
            chat = self.resolve_chat({"chat_id": scope["chat_id"]}, send=False)
            normalized["chat_id"] = chat.id
        elif scope["type"] in ("chat", "chat_administrators", "chat_member"):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if scope["type"] == "chat_member":
            user_id = scope.get("user_id")
            if user_id is None:
                raise ApiError(400, "Bad Request: user_id is empty")
            normalized["user_id"] = int(user_id)
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: invalid language code specified")
        return json.dumps(normalized, sort_keys=True), language

    def tg_setMyCommands(self, params: JSON) -> bool:
        commands = _json_value(params, "commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: commands must be an array")
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JSON] = []
        for item in commands:
            if not isinstance(item, dict):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            command = str(item.get("command", ""))
            description = str(item.get("description", ""))
            if not _COMMAND_RE.fullmatch(command):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description.strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append(BotCommand(command, description).to_dict())
        key = self._scope_key(params)
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        return True

    def tg_getMyCommands(self, params: JSON) -> list[JSON]:
        return list(self.commands.get(self._scope_key(params), []))

    def tg_deleteMyCommands(self, params: JSON) -> bool:
        self.commands.pop(self._scope_key(params), None)
        return True

    def _profile_text(self, params: JSON, field: str, limit: int) -> bool:
        value = str(params.get(field) or "")
        if len(value) > limit:
            raise ApiError(400, f"Bad Request: bot {field.replace('_', ' ')} is too long")
        language = str(params.get("language_code") or "")
        if value:
            self.descriptions[(field, language)] = value
        else:
            self.descriptions.pop((field, language), None)
        return True

    def tg_setMyDescription(self, params: JSON) -> bool:
        return self._profile_text(params, "description", 512)

    def tg_setMyShortDescription(self, params: JSON) -> bool:
        return self._profile_text(params, "short_description", 120)

    def tg_setMyName(self, params: JSON) -> bool:
        return self._profile_text(params, "name", 64)

    def tg_getMyDescription(self, params: JSON) -> JSON:
        language = str(params.get("language_code") or "")
        return {"description": self.descriptions.get(("description", language), "")}

    def tg_getMyShortDescription(self, params: JSON) -> JSON:
        language = str(params.get("language_code") or "")
        value = self.descriptions.get(("short_description", language), "")
        return {"short_description": value}

    def tg_getMyName(self, params: JSON) -> JSON:
        language = str(params.get("language_code") or "")
        return {"name": self.descriptions.get(("name", language), self.bot_first_name)}
