"""The simulated Telegram world: users, chats, messages, files and the bot's update queue.

Everything here runs on the event loop thread and mutates plain Python state; the HTTP side
(:mod:`playground.methods`, :mod:`playground.server`) reads and changes the same state when
the bot calls the Bot API.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import mimetypes
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import (
    CallbackQuery,
    Chat,
    ChatMember,
    Message,
    Update,
    User,
)

from playground.textparse import detect_entities, parse_text

__all__ = [
    "GENERAL_TOPIC",
    "ApiError",
    "FakeChat",
    "FakeTopic",
    "FakeUser",
    "StoredFile",
    "World",
]

JSON = dict[str, Any]
# A message given as a telegram.Message, its JSON (e.g. ``Call.result``) or a bare id + chat.
MessageRef = Message | Mapping[str, Any] | int

# Update types Telegram sends when ``allowed_updates`` was never given (or given as []).
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "purchased_paid_media",
    }
)

MEMBER_STATUSES = ("creator", "administrator", "member")

# Rights of an administrator in this world (the bot gets them when made admin).
ADMIN_RIGHTS: JSON = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": False,
}


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": code, "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


#: Telegram lets a bot delete a message only within 48 hours of sending (see ``World.can_delete``).
DELETE_WINDOW = 48 * 3600

#: The user Telegram names as the sender of messages "from the group itself", such as the
#: ``migrate_from_chat_id`` message that opens a new supergroup (with ``sender_chat`` set).
GROUP_ANONYMOUS_BOT: JSON = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


def now() -> int:
    """Wall-clock Unix time (the world's own time is :meth:`World.now`)."""
    return int(time.time())


def normalize_message(data: JSON) -> JSON:
    """Round-trip through :class:`telegram.Message` so the JSON is exactly what PTB emits."""
    return Message.de_json(data, None).to_dict()


def to_message(data: JSON) -> Message:
    return Message.de_json(data, None)


def member_dict(user: JSON, status: str, rights: JSON | None = None) -> JSON:
    """A ChatMember JSON object, normalized through PTB's ChatMember classes."""
    data: JSON = {"status": status, "user": user}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(rights or ADMIN_RIGHTS)
    elif status == "kicked":
        data["until_date"] = 0
    return ChatMember.de_json(data, None).to_dict()


@dataclass(eq=False)
class StoredFile:
    """A file known to the fake server (uploaded by the bot or sent by a user)."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class PendingUpdate:
    update_id: int
    kind: str
    data: JSON


@dataclass
class CallbackRecord:
    query: JSON
    created: float
    answer: JSON | None = None


#: The General topic of a forum supergroup, as Telegram numbers it. Messages in General carry
#: no ``message_thread_id``; a send with ``message_thread_id=1`` goes to General.
GENERAL_TOPIC = 1

#: Icon colours Telegram allows for a new topic (createForumTopic).
TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)


@dataclass
class FakeTopic:
    """A topic of a forum supergroup. Its id is the id of the service message that created it
    (``forum_topic_created``), as on Telegram. Closed: only administrators with
    ``can_manage_topics`` (and the creator) may write in it. Deleted: gone with its messages."""

    id: int
    name: str
    icon_color: int
    creator_id: int
    closed: bool = False
    deleted: bool = False


class FakeUser:
    """A person in the simulated world.

    ``id``, ``first_name``, ``last_name``, ``username``, ``language_code`` mirror Telegram's User;
    ``started`` becomes True once the user has written to the bot in private (only then may the
    bot message them); ``blocked`` while the user has blocked the bot.
    """

    def __init__(
        self,
        world: World,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        self._world = world
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = False
        self.blocked = False
        self._private: FakeChat | None = None

    def __repr__(self) -> str:
        return f"FakeUser({self.first_name!r}, id={self.id})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    @property
    def tg(self) -> User:
        """This user as a :class:`telegram.User`."""
        return User.de_json(self.to_dict(), None)

    @property
    def private(self) -> FakeChat:
        """The private chat between this user and the bot."""
        if self._private is None:
            self._private = self._world._private_chat(self)
        return self._private

    async def send(
        self,
        chat: FakeChat,
        text: str,
        *,
        reply_to: MessageRef | None = None,
        entities: Sequence[JSON] | None = None,
        topic: FakeTopic | int | None = None,
    ) -> Message:
        """Write ``text`` in ``chat``; commands, mentions and URLs get their entities.

        ``topic``: a topic of a forum supergroup (None: General, or the topic of ``reply_to``)."""
        message = self._world._user_message(
            self, chat, {"text": text}, reply_to=reply_to, entities=entities, topic=topic
        )
        await asyncio.sleep(0)
        return message

    async def send_document(
        self,
        chat: FakeChat,
        *,
        filename: str,
        content: bytes,
        caption: str | None = None,
        mime_type: str | None = None,
        reply_to: MessageRef | None = None,
        topic: FakeTopic | int | None = None,
    ) -> Message:
        """Send a file; its ``file_id`` works with getFile and the file download URL."""
        stored = self._world.store_file(
            content, folder="documents", file_name=filename, mime_type=mime_type
        )
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "file_size": stored.size,
        }
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        content_fields: JSON = {"document": document}
        if caption:
            content_fields["caption"] = caption
        message = self._world._user_message(
            self, chat, content_fields, reply_to=reply_to, topic=topic
        )
        await asyncio.sleep(0)
        return message

    async def send_photo(
        self,
        chat: FakeChat,
        content: bytes = b"\x89PNG\r\n\x1a\n",
        *,
        caption: str | None = None,
        width: int = 800,
        height: int = 600,
        topic: FakeTopic | int | None = None,
        reply_to: MessageRef | None = None,
    ) -> Message:
        """Send a photo (the bytes are stored as is; width/height are what you say)."""
        stored = self._world.store_file(content, folder="photos", suffix=".jpg")
        photo = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": stored.size,
        }
        content_fields: JSON = {"photo": [photo]}
        if caption:
            content_fields["caption"] = caption
        message = self._world._user_message(
            self, chat, content_fields, reply_to=reply_to, topic=topic
        )
        await asyncio.sleep(0)
        return message

    async def edit(
        self, message: MessageRef, text: str, *, chat: FakeChat | None = None
    ) -> Message:
        """Edit one of this user's own text messages (an ``edited_message`` update)."""
        edited = self._world._user_edit(self, message, text, chat)
        await asyncio.sleep(0)
        return edited

    async def press(
        self,
        message: MessageRef,
        data: str,
        *,
        chat: FakeChat | None = None,
        check: bool = True,
    ) -> CallbackQuery:
        """Press the inline button with ``callback_data == data`` under a bot message.

        ``message`` is a :class:`telegram.Message`, its JSON (``Call.result``), or a message id
        together with ``chat``.
        With ``check`` (the default) the button must exist on the message's current keyboard.
        """
        query = self._world._press(self, message, data, chat, check)
        await asyncio.sleep(0)
        return query

    def block_bot(self) -> None:
        """Block the bot: sends to the private chat fail with 403; a my_chat_member update."""
        self._world._set_blocked(self, True)

    def unblock_bot(self) -> None:
        self._world._set_blocked(self, False)


class FakeChat:
    """A private chat, group or supergroup.

    ``members`` maps user id to status (creator/administrator/member/left/kicked);
    ``bot_status`` is the bot's own status in the chat.
    """

    def __init__(
        self,
        world: World,
        chat_id: int,
        chat_type: str,
        *,
        title: str | None = None,
        user: FakeUser | None = None,
        username: str | None = None,
    ) -> None:
        self._world = world
        self.id = chat_id
        self.type = chat_type
        self.title = title
        self.user = user
        self.username = username
        self.members: dict[int, str] = {}
        self.bot_status = "member" if chat_type == "private" else "left"
        self.bot_rights: JSON = dict(ADMIN_RIGHTS)
        self.messages: dict[int, JSON] = {}
        self.deleted: set[int] = set()
        self.pinned: list[int] = []
        self.migrated_to: int | None = None
        self.migrated_from: int | None = None
        #: a forum supergroup (topics enabled); ``topics`` by id (General is not listed)
        self.is_forum = False
        self.topics: dict[int, FakeTopic] = {}
        self._message_ids = itertools.count(1)

    def __repr__(self) -> str:
        name = self.title if self.title is not None else (self.user and self.user.first_name)
        return f"FakeChat({name!r}, id={self.id}, type={self.type!r})"

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def to_dict(self) -> JSON:
        if self.type == "private":
            assert self.user is not None
            data = self.user.to_dict()
            data.pop("is_bot", None)
            data.pop("language_code", None)
            data["type"] = "private"
            return data
        data = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data

    def topic(self, ref: FakeTopic | int | str) -> FakeTopic:
        """A topic by itself, its id or its name (LookupError if there is none)."""
        if isinstance(ref, FakeTopic):
            return ref
        if isinstance(ref, str):
            for topic in self.topics.values():
                if topic.name == ref and not topic.deleted:
                    return topic
            raise LookupError(f"{self!r} has no topic named {ref!r}")
        found = self.topics.get(int(ref))
        if found is None:
            raise LookupError(f"{self!r} has no topic {ref}")
        return found

    def in_topic(self, ref: FakeTopic | int | str | None) -> list[Message]:
        """Messages of a topic (None: General) that still exist, oldest first."""
        wanted = None if ref is None else self.topic(ref).id
        return [
            to_message(data)
            for _, data in sorted(self.messages.items())
            if (data.get("message_thread_id") if data.get("is_topic_message") else None) == wanted
        ]

    def status_of(self, user_id: int) -> str:
        if user_id == self._world.bot_id:
            return self.bot_status
        if self.type == "private":
            assert self.user is not None
            return "member" if user_id == self.user.id else "left"
        return self.members.get(user_id, "left")

    def _is_bot_message(self, data: JSON) -> bool:
        return bool(data.get("from", {}).get("id") == self._world.bot_id)

    @property
    def bot_messages(self) -> list[Message]:
        """Messages the bot sent here that still exist, oldest first, edits applied."""
        return [
            to_message(data)
            for _, data in sorted(self.messages.items())
            if self._is_bot_message(data)
        ]

    @property
    def history(self) -> list[Message]:
        """Every message of the chat that still exists, oldest first."""
        return [to_message(data) for _, data in sorted(self.messages.items())]

    @property
    def admins(self) -> list[FakeUser]:
        return [
            self._world.users[uid]
            for uid, status in self.members.items()
            if status in ("creator", "administrator")
        ]

    @property
    def member_users(self) -> list[FakeUser]:
        """Everyone currently in the chat (creator, administrators and members)."""
        return [
            self._world.users[uid]
            for uid, status in self.members.items()
            if status in MEMBER_STATUSES
        ]

    @property
    def tg(self) -> Chat:
        """This chat as a :class:`telegram.Chat`."""
        return Chat.de_json(self.to_dict(), None)

    @property
    def bot_is_member(self) -> bool:
        return self.bot_status in ("member", "administrator")

    @property
    def bot_is_admin(self) -> bool:
        return self.bot_status == "administrator"


class World:
    """Users, chats and the update queue, with the actions people can take."""

    def __init__(
        self,
        token: str,
        bot_username: str,
        bot_first_name: str,
        *,
        privacy_mode: bool,
        clock: Callable[[], float] | None = None,
    ) -> None:
        prefix = token.split(":", 1)[0]
        if not prefix.isdigit():
            raise ValueError(f"token must look like '<bot id>:<secret>', got {token!r}")
        self.token = token
        self.bot_id = int(prefix)
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.privacy_mode = privacy_mode
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.migrations: dict[int, int] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self._pending: list[PendingUpdate] = []
        self._update_ids = itertools.count(1)
        #: recent updates by id, for redeliver()
        self._sent_updates: dict[int, PendingUpdate] = {}
        self._user_ids = itertools.count(7_000_000_001)
        self._group_ids = itertools.count(4_100_000_001)
        self._supergroup_ids = itertools.count(2_100_000_001)
        self._file_numbers = itertools.count(1)
        self._query_ids = itertools.count(4_382_000_000_000_001)
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self._changed = asyncio.Event()
        self._poll_waiter: asyncio.Future[str] | None = None
        self._clock = clock or time.time
        #: seconds the world's time runs ahead of its clock (:meth:`advance`)
        self.time_offset = 0.0

    # ------------------------------------------------------------------ time

    def now(self) -> int:
        """The world's Unix time: message dates, edit dates, the 48-hour delete rule."""
        return int(self._clock() + self.time_offset)

    def monotonic(self) -> float:
        """The world's monotonic time (rate-limit windows, callback answer deadlines)."""
        return time.monotonic() + self.time_offset

    def advance(
        self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0, days: float = 0.0
    ) -> None:
        """Move the world's time forward: messages sent before now look that much older (the
        48-hour delete rule applies to them), pending callback queries expire, rate-limit
        windows pass. The bot's own clock is not touched."""
        step = seconds + 60 * minutes + 3600 * hours + 86400 * days
        if step < 0:
            raise ValueError("time only moves forward")
        self.time_offset += step

    # ------------------------------------------------------------------ identities

    def bot_dict(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    @property
    def bot_user(self) -> User:
        """The bot as a :class:`telegram.User`."""
        return User.de_json(self.bot_dict(), None)

    def user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        *,
        user_id: int | None = None,
    ) -> FakeUser:
        """Create a person. They have not talked to the bot yet."""
        uid = user_id if user_id is not None else next(self._user_ids)
        if uid in self.users or uid == self.bot_id:
            raise ValueError(f"user id {uid} is taken")
        person = FakeUser(self, uid, first_name, last_name, username, language_code)
        self.users[uid] = person
        self._private_chat(person)
        return person

    def _private_chat(self, person: FakeUser) -> FakeChat:
        chat = self.chats.get(person.id)
        if chat is None:
            chat = FakeChat(self, person.id, "private", user=person)
            self.chats[person.id] = chat
        return chat

    def group(
        self,
        title: str,
        *,
        admins: Iterable[FakeUser] = (),
        members: Iterable[FakeUser] = (),
        supergroup: bool = False,
        with_bot: bool = False,
        bot_admin: bool = False,
        username: str | None = None,
        chat_id: int | None = None,
    ) -> FakeChat:
        """Create a group (or supergroup). The first admin is its creator.

        The bot is not in it unless ``with_bot`` (added silently, no updates) — use
        :meth:`add_bot` to simulate someone adding it.
        """
        if chat_id is None:
            chat_id = (
                -(1_000_000_000_000 + next(self._supergroup_ids))
                if supergroup
                else -next(self._group_ids)
            )
        if chat_id in self.chats:
            raise ValueError(f"chat id {chat_id} is taken")
        chat = FakeChat(
            self,
            chat_id,
            "supergroup" if supergroup else "group",
            title=title,
            username=username,
        )
        for index, person in enumerate(admins):
            chat.members[person.id] = "creator" if index == 0 else "administrator"
        for person in members:
            chat.members.setdefault(person.id, "member")
        if with_bot or bot_admin:
            chat.bot_status = "administrator" if bot_admin else "member"
        self.chats[chat_id] = chat
        return chat

    def forum(
        self,
        title: str,
        *,
        admins: Iterable[FakeUser] = (),
        members: Iterable[FakeUser] = (),
        with_bot: bool = False,
        bot_admin: bool = False,
        username: str | None = None,
    ) -> FakeChat:
        """Create a forum supergroup (topics enabled): only its General topic exists yet."""
        chat = self.group(
            title,
            admins=admins,
            members=members,
            supergroup=True,
            with_bot=with_bot,
            bot_admin=bot_admin,
            username=username,
        )
        chat.is_forum = True
        # message 1 opened the chat: the General topic is numbered after it, as on Telegram
        chat.next_message_id()
        return chat

    def _require_forum(self, chat: FakeChat) -> None:
        if not chat.is_forum:
            raise ValueError(f"{chat!r} is not a forum supergroup")

    def _topic_service(self, chat: FakeChat, topic: FakeTopic, sender: JSON, fields: JSON) -> JSON:
        """A service message in ``topic`` (created, closed, reopened), told to the bot."""
        data = self.add_message(chat, sender, {**fields, **self.thread_fields(chat, topic.id)})
        self._deliver_service(chat, data)
        return data

    def new_topic(
        self, chat: FakeChat, name: str, sender: JSON, icon_color: int = TOPIC_COLORS[0]
    ) -> FakeTopic:
        """Create a topic: its id is the id of its ``forum_topic_created`` message."""
        self._require_forum(chat)
        data = self.add_message(
            chat, sender, {"forum_topic_created": {"name": name, "icon_color": icon_color}}
        )
        topic = FakeTopic(data["message_id"], name, icon_color, int(sender["id"]))
        chat.topics[topic.id] = topic
        data = normalize_message({**data, "message_thread_id": topic.id, "is_topic_message": True})
        chat.messages[topic.id] = data
        self._deliver_service(chat, data)
        return topic

    def create_topic(
        self, chat: FakeChat, name: str, *, by: FakeUser, icon_color: int = TOPIC_COLORS[0]
    ) -> FakeTopic:
        """An administrator of the forum creates a topic (a ``forum_topic_created`` message)."""
        self._require_admin(chat, by)
        return self.new_topic(chat, name, by.to_dict(), icon_color)

    def set_topic_closed(
        self, chat: FakeChat, ref: FakeTopic | int | str, closed: bool, sender: JSON
    ) -> FakeTopic:
        self._require_forum(chat)
        topic = chat.topic(ref)
        if topic.deleted:
            raise LookupError(f"topic {topic.id} of {chat!r} was deleted")
        if topic.closed == closed:
            return topic
        topic.closed = closed
        kind = "forum_topic_closed" if closed else "forum_topic_reopened"
        self._topic_service(chat, topic, sender, {kind: {}})
        return topic

    def close_topic(self, chat: FakeChat, ref: FakeTopic | int | str, *, by: FakeUser) -> FakeTopic:
        """An administrator closes a topic: members can no longer write in it (nor can the bot,
        unless it is an administrator with ``can_manage_topics``)."""
        self._require_admin(chat, by)
        return self.set_topic_closed(chat, ref, True, by.to_dict())

    def reopen_topic(
        self, chat: FakeChat, ref: FakeTopic | int | str, *, by: FakeUser
    ) -> FakeTopic:
        self._require_admin(chat, by)
        return self.set_topic_closed(chat, ref, False, by.to_dict())

    def remove_topic(self, chat: FakeChat, ref: FakeTopic | int | str) -> FakeTopic:
        """Delete a topic with every message in it (the bot is not told, as on Telegram)."""
        self._require_forum(chat)
        topic = chat.topic(ref)
        topic.deleted = True
        for message_id, data in list(chat.messages.items()):
            if data.get("is_topic_message") and data.get("message_thread_id") == topic.id:
                self.delete_message(chat, message_id)
        return topic

    def delete_topic(
        self, chat: FakeChat, ref: FakeTopic | int | str, *, by: FakeUser
    ) -> FakeTopic:
        """An administrator deletes a topic and everything in it."""
        self._require_admin(chat, by)
        return self.remove_topic(chat, ref)

    @staticmethod
    def thread_of(data: Mapping[str, Any] | None) -> int | None:
        """The topic a stored message is in (None: General, or not a forum)."""
        if not data or not data.get("is_topic_message"):
            return None
        thread = data.get("message_thread_id")
        return int(thread) if thread is not None else None

    def thread_fields(self, chat: FakeChat, thread: int | None, *, reply: bool = False) -> JSON:
        """The fields a message in ``thread`` carries, as Telegram sets them: the thread id,
        ``is_topic_message`` and, for a message that is not a reply, ``reply_to_message`` set
        to the topic's ``forum_topic_created`` message (``reply``: it is a reply already)."""
        if thread is None or not chat.is_forum:
            return {}
        fields: JSON = {"message_thread_id": thread, "is_topic_message": True}
        if not reply:
            created = self.reply_snapshot(chat, thread)
            if created is not None:
                fields["reply_to_message"] = created
        return fields

    def _chat_of(self, message: MessageRef, chat: FakeChat | None) -> tuple[FakeChat, int]:
        if isinstance(message, Message | Mapping):
            if isinstance(message, Message):
                chat_id, message_id = message.chat.id, message.message_id
            else:
                chat_id, message_id = int(message["chat"]["id"]), int(message["message_id"])
            found = self.chats.get(chat_id)
            if found is None:
                raise LookupError(f"chat {chat_id} is unknown to the fake")
            return found, message_id
        if chat is None:
            raise ValueError("pass chat= together with a bare message id")
        return chat, int(message)

    # ------------------------------------------------------------------ updates

    @property
    def updates_pending(self) -> int:
        """Updates enqueued for the bot and not yet confirmed by a getUpdates offset."""
        return len(self._pending)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _wake_poll(self, reason: str) -> None:
        waiter = self._poll_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(reason)

    def enqueue(self, kind: str, payload: JSON) -> JSON:
        """Add an update of type ``kind`` for the bot; returns the update JSON."""
        update_id = next(self._update_ids)
        data = Update.de_json({"update_id": update_id, kind: payload}, None).to_dict()
        pending = PendingUpdate(update_id, kind, data)
        self._pending.append(pending)
        self._sent_updates[update_id] = pending
        if len(self._sent_updates) > 10_000:
            del self._sent_updates[next(iter(self._sent_updates))]
        self._wake_poll("update")
        self._notify()
        return data

    @property
    def last_update_id(self) -> int:
        """The id of the newest update enqueued (0 before the first)."""
        return next(reversed(self._sent_updates), 0)

    def redeliver(self, update_id: int) -> None:
        """Hand an update out again with its old id, as Telegram does when a bot stopped (or
        crashed) before confirming it with the next getUpdates offset."""
        pending = self._sent_updates[update_id]
        self._pending.append(pending)
        self._wake_poll("update")
        self._notify()

    def confirm(self, offset: int) -> None:
        """Apply a getUpdates ``offset`` (negative: keep only the last ``-offset`` updates)."""
        before = len(self._pending)
        if offset < 0:
            self._pending = self._pending[offset:]
        elif offset > 0:
            self._pending = [u for u in self._pending if u.update_id >= offset]
        if len(self._pending) != before:
            self._notify()

    def drop_pending_updates(self) -> None:
        if self._pending:
            self._pending = []
            self._notify()

    def deliverable(self, limit: int) -> list[JSON]:
        """Pending updates the bot asked for; updates of other types are dropped."""
        kept = [u for u in self._pending if u.kind in self.allowed_updates]
        if len(kept) != len(self._pending):
            self._pending = kept
            self._notify()
        return [u.data for u in kept[:limit]]

    async def _wait_until(
        self, condition: Callable[[], bool], within: float, describe: Callable[[], str]
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(describe())
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the fake's public API
        message: str = "condition not met",
    ) -> None:
        """Wait until ``condition()`` is true, re-checking whenever a call or update happens."""
        await self._wait_until(condition, timeout, lambda: f"{message} within {timeout}s")

    async def until_confirmed(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has confirmed (getUpdates offset past) every enqueued update."""

        def describe() -> str:
            kinds = ", ".join(f"#{u.update_id} {u.kind}" for u in self._pending)
            return f"{len(self._pending)} update(s) not confirmed after {timeout}s: {kinds}"

        await self._wait_until(lambda: not self._pending, timeout, describe)

    # ------------------------------------------------------------------ messages

    def add_message(self, chat: FakeChat, sender: JSON, fields: JSON) -> JSON:
        """Store a new message in ``chat`` and return its normalized JSON."""
        data: JSON = {
            "message_id": chat.next_message_id(),
            "date": self.now(),
            "chat": chat.to_dict(),
            "from": sender,
            **fields,
        }
        stored = normalize_message(data)
        chat.messages[stored["message_id"]] = stored
        return stored

    def reply_snapshot(self, chat: FakeChat, message_id: int) -> JSON | None:
        data = chat.messages.get(message_id)
        if data is None:
            return None
        snapshot = dict(data)
        snapshot.pop("reply_to_message", None)
        return snapshot

    def _require_member(self, person: FakeUser, chat: FakeChat) -> None:
        if chat.migrated_to is not None:
            raise ValueError(
                f"{chat!r} was upgraded to a supergroup; use the chat returned by "
                "upgrade_to_supergroup"
            )
        if chat.type == "private":
            if chat.user is not person:
                raise ValueError(f"{person!r} cannot write in {chat!r}: not their private chat")
            return
        if chat.status_of(person.id) not in MEMBER_STATUSES:
            raise ValueError(f"{person!r} is not a member of {chat!r}")

    def _delivers_group_message(self, chat: FakeChat, data: JSON) -> bool:
        if not chat.bot_is_member:
            return False
        if not self.privacy_mode or chat.bot_is_admin:
            return True
        text = data.get("text") or data.get("caption") or ""
        entities = data.get("entities") or data.get("caption_entities") or []
        if entities and entities[0]["type"] == "bot_command" and entities[0]["offset"] == 0:
            command = text[: entities[0]["length"]]
            target = command.partition("@")[2]
            if not target or target.lower() == self.bot_username.lower():
                return True
        replied = data.get("reply_to_message")
        return bool(replied and replied.get("from", {}).get("id") == self.bot_id)

    def _deliver_message(self, chat: FakeChat, data: JSON, *, kind: str = "message") -> None:
        if chat.type == "private":
            if chat.user is not None and not chat.user.blocked:
                self.enqueue(kind, data)
        elif self._delivers_group_message(chat, data):
            self.enqueue(kind, data)

    def _deliver_service(self, chat: FakeChat, data: JSON) -> None:
        if chat.bot_is_member:
            self.enqueue("message", data)

    def _user_message(
        self,
        person: FakeUser,
        chat: FakeChat,
        fields: JSON,
        *,
        reply_to: MessageRef | None = None,
        entities: Sequence[JSON] | None = None,
        topic: FakeTopic | int | None = None,
    ) -> Message:
        self._require_member(person, chat)
        thread: int | None = None
        if topic is not None:
            self._require_forum(chat)
            thread = chat.topic(topic).id
        content = dict(fields)
        text_key = "text" if "text" in content else "caption"
        text = content.get(text_key)
        if text_key == "text" and not text:
            raise ValueError("a message needs a non-empty text")
        if text:
            found = list(entities) if entities is not None else detect_entities(text)
            if found:
                content["entities" if text_key == "text" else "caption_entities"] = found
        if reply_to is not None:
            if isinstance(reply_to, int):
                reply_id = reply_to
            else:
                reply_chat, reply_id = self._chat_of(reply_to, None)
                if reply_chat is not chat:
                    raise ValueError("reply_to must be a message of the same chat")
            snapshot = self.reply_snapshot(chat, reply_id)
            if snapshot is None:
                raise LookupError(f"message {reply_id} does not exist in {chat!r}")
            content["reply_to_message"] = snapshot
            replied_thread = self.thread_of(snapshot)
            if thread is None:
                thread = replied_thread  # a reply lands in the topic of what it answers
            elif replied_thread != thread:
                raise ValueError(f"message {reply_id} is not in topic {thread}")
        if thread is not None:
            where = chat.topic(thread)
            if where.deleted:
                raise LookupError(f"topic {thread} of {chat!r} was deleted")
            if where.closed and chat.status_of(person.id) not in ("creator", "administrator"):
                raise ValueError(f"topic {where.name!r} of {chat!r} is closed")
            content.update(self.thread_fields(chat, thread, reply="reply_to_message" in content))
        if chat.type == "private":
            if person.blocked:
                self._set_blocked(person, False)
            person.started = True
        data = self.add_message(chat, person.to_dict(), content)
        self._deliver_message(chat, data)
        return to_message(data)

    def _user_edit(
        self, person: FakeUser, message: MessageRef, text: str, chat: FakeChat | None
    ) -> Message:
        target, message_id = self._chat_of(message, chat)
        self._require_member(person, target)
        data = target.messages.get(message_id)
        if data is None or data.get("from", {}).get("id") != person.id or "text" not in data:
            raise LookupError(f"{person!r} has no text message {message_id} in {target!r}")
        updated = {k: v for k, v in data.items() if k != "entities"}
        updated["text"] = text
        found = detect_entities(text)
        if found:
            updated["entities"] = found
        updated["edit_date"] = self.now()
        stored = normalize_message(updated)
        target.messages[message_id] = stored
        self._deliver_message(target, stored, kind="edited_message")
        return to_message(stored)

    def delete_message(self, chat: FakeChat, message_id: int) -> None:
        """Someone deleted a message (the bot is not told, as on Telegram)."""
        if chat.messages.pop(int(message_id), None) is not None:
            chat.deleted.add(int(message_id))
            if int(message_id) in chat.pinned:
                chat.pinned.remove(int(message_id))

    def deletion_refused(self, chat: FakeChat, data: JSON) -> str | None:
        """Why the bot may not delete this message (Telegram's words), or None if it may.

        As on Telegram: the bot deletes its own messages and, in private chats, the other
        person's; in groups others' messages need administrator rights with
        ``can_delete_messages``. Any message older than 48 hours is refused ("can't be deleted
        for everyone"), except in a supergroup where the bot has ``can_delete_messages``.
        """
        own = data.get("from", {}).get("id") == self.bot_id
        rights = chat.bot_is_admin and bool(chat.bot_rights.get("can_delete_messages"))
        if not (chat.type == "private" or own or rights):
            return "Bad Request: message can't be deleted"
        if self.now() - int(data.get("date", 0)) >= DELETE_WINDOW and not (
            chat.type == "supergroup" and rights
        ):
            return "Bad Request: message can't be deleted for everyone"
        return None

    def message(self, chat: FakeChat, message_id: int) -> Message | None:
        """The current state of a message (bot's or user's), or None if it does not exist."""
        data = chat.messages.get(int(message_id))
        return to_message(data) if data is not None else None

    def shows(
        self,
        chat: FakeChat,
        message_id: int,
        text: str,
        reply_markup: Any = None,
        *,
        parse_mode: str | None = "HTML",
    ) -> bool:
        """Whether the message now shows exactly ``text`` (parsed as Telegram parses it) and
        ``reply_markup`` (an ``InlineKeyboardMarkup`` or its dict; None: no keyboard)."""
        data = chat.messages.get(int(message_id))
        if data is None:
            return False
        parsed = parse_text(text, parse_mode, None, strict_ampersand=False)
        markup = reply_markup.to_dict() if hasattr(reply_markup, "to_dict") else reply_markup
        if markup is not None and not any(markup.get("inline_keyboard") or []):
            markup = None
        expected: JSON = {
            "message_id": int(message_id),
            "date": 0,
            "chat": chat.to_dict(),
            "text": parsed.text,
        }
        if parsed.entities:
            expected["entities"] = parsed.entities
        if markup is not None:
            expected["reply_markup"] = markup
        wanted = normalize_message(expected)
        return all(data.get(key) == wanted.get(key) for key in ("text", "entities", "reply_markup"))

    def last_bot_message(self, chat: FakeChat) -> Message | None:
        """The newest bot message of ``chat`` that still exists."""
        for message_id in sorted(chat.messages, reverse=True):
            data = chat.messages[message_id]
            if data.get("from", {}).get("id") == self.bot_id:
                return to_message(data)
        return None

    # ------------------------------------------------------------------ files

    def store_file(
        self,
        content: bytes,
        *,
        folder: str,
        file_name: str | None = None,
        mime_type: str | None = None,
        suffix: str | None = None,
    ) -> StoredFile:
        number = next(self._file_numbers)
        digest = hashlib.sha1(content + str(number).encode(), usedforsecurity=False).hexdigest()
        prefix = {"documents": "BQACAgIAAxk", "photos": "AgACAgIAAxk"}.get(folder, "CAACAgIAAxk")
        file_id = f"{prefix}{number:06d}{digest[:24]}"
        unique_id = f"AQAD{number:06d}{digest[24:32]}"
        if suffix is None:
            suffix = ""
            if file_name and "." in file_name:
                suffix = "." + file_name.rsplit(".", 1)[1]
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            content=bytes(content),
            file_path=f"{folder}/file_{number}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    # ------------------------------------------------------------------ callbacks

    def _press(
        self,
        person: FakeUser,
        message: MessageRef,
        data: str,
        chat: FakeChat | None,
        check: bool,
    ) -> CallbackQuery:
        target, message_id = self._chat_of(message, chat)
        if not (target.is_group and target.username and target.migrated_to is None):
            # a public group (it has a username) can be read, and its buttons pressed, by anyone
            self._require_member(person, target)
        stored = target.messages.get(message_id)
        if stored is None:
            raise LookupError(f"message {message_id} no longer exists in {target!r}")
        if stored.get("from", {}).get("id") != self.bot_id:
            raise ValueError(f"message {message_id} in {target!r} was not sent by the bot")
        if check:
            buttons = [
                button.get("callback_data")
                for row in (stored.get("reply_markup") or {}).get("inline_keyboard", [])
                for button in row
            ]
            if data not in buttons:
                raise LookupError(
                    f"message {message_id} in {target!r} has no button with callback_data "
                    f"{data!r}; its buttons: {[b for b in buttons if b is not None]}"
                )
        instance = hashlib.sha1(
            f"{target.id}:{self.bot_id}".encode(), usedforsecurity=False
        ).hexdigest()
        query: JSON = {
            "id": str(next(self._query_ids)),
            "from": person.to_dict(),
            "message": stored,
            "chat_instance": str(int(instance[:15], 16)),
            "data": data,
        }
        query = CallbackQuery.de_json(query, None).to_dict()
        self.callbacks[query["id"]] = CallbackRecord(query, self.monotonic())
        reachable = target.bot_is_member if target.is_group else not person.blocked
        if reachable:
            self.enqueue("callback_query", query)
        return CallbackQuery.de_json(query, None)

    def callback_answer(self, query_id: str) -> JSON | None:
        """The answerCallbackQuery parameters the bot sent for this query, or None."""
        record = self.callbacks.get(str(query_id))
        return dict(record.answer) if record is not None and record.answer is not None else None

    @property
    def unanswered_callbacks(self) -> list[str]:
        """Ids of callback queries the bot has not answered."""
        return [qid for qid, record in self.callbacks.items() if record.answer is None]

    # ------------------------------------------------------------------ membership

    def _member_update(
        self,
        chat: FakeChat,
        by: FakeUser | None,
        user: JSON,
        old: str,
        new: str,
        rights: JSON | None = None,
    ) -> JSON:
        return {
            "chat": chat.to_dict(),
            "from": by.to_dict() if by is not None else user,
            "date": self.now(),
            "old_chat_member": member_dict(user, old, rights),
            "new_chat_member": member_dict(user, new, rights),
        }

    def _set_blocked(self, person: FakeUser, blocked: bool) -> None:
        if person.blocked == blocked:
            return
        person.blocked = blocked
        chat = person.private
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        chat.bot_status = new
        self.enqueue("my_chat_member", self._member_update(chat, person, self.bot_dict(), old, new))

    def _require_admin(self, chat: FakeChat, by: FakeUser) -> None:
        if not chat.is_group:
            raise ValueError(f"{chat!r} is not a group")
        if chat.migrated_to is not None:
            raise ValueError(f"{chat!r} was upgraded to a supergroup")
        if chat.status_of(by.id) not in ("creator", "administrator"):
            raise ValueError(f"{by!r} is not an administrator of {chat!r}")

    def _add_bot(self, chat: FakeChat, by: FakeUser, admin: bool) -> Message:
        if not chat.is_group:
            raise ValueError(f"{chat!r} is not a group")
        self._require_member(by, chat)
        if chat.bot_is_member:
            raise ValueError(f"the bot is already in {chat!r}")
        old = chat.bot_status
        chat.bot_status = "administrator" if admin else "member"
        self.enqueue(
            "my_chat_member",
            self._member_update(chat, by, self.bot_dict(), old, chat.bot_status, chat.bot_rights),
        )
        data = self.add_message(chat, by.to_dict(), {"new_chat_members": [self.bot_dict()]})
        self.enqueue("message", data)
        return to_message(data)

    def _remove_bot(self, chat: FakeChat, by: FakeUser, kicked: bool) -> Message:
        self._require_admin(chat, by)
        if not chat.bot_is_member:
            raise ValueError(f"the bot is not in {chat!r}")
        old = chat.bot_status
        chat.bot_status = "kicked" if kicked else "left"
        self.enqueue(
            "my_chat_member",
            self._member_update(chat, by, self.bot_dict(), old, chat.bot_status, chat.bot_rights),
        )
        data = self.add_message(chat, by.to_dict(), {"left_chat_member": self.bot_dict()})
        self.enqueue("message", data)
        return to_message(data)

    def _set_bot_admin(self, chat: FakeChat, by: FakeUser, admin: bool) -> None:
        self._require_admin(chat, by)
        if not chat.bot_is_member:
            raise ValueError(f"the bot is not in {chat!r}")
        old, new = chat.bot_status, ("administrator" if admin else "member")
        if old == new:
            return
        chat.bot_status = new
        self.enqueue(
            "my_chat_member",
            self._member_update(chat, by, self.bot_dict(), old, new, chat.bot_rights),
        )

    def _deliver_chat_member(self, chat: FakeChat, payload: JSON) -> None:
        # Telegram sends chat_member updates only to administrators of the chat.
        if chat.bot_is_admin:
            self.enqueue("chat_member", payload)

    def _set_admin(self, chat: FakeChat, person: FakeUser, by: FakeUser, admin: bool) -> None:
        self._require_admin(chat, by)
        old = chat.status_of(person.id)
        if old == "creator":
            raise ValueError(f"{person!r} is the creator of {chat!r}")
        if old not in MEMBER_STATUSES:
            raise ValueError(f"{person!r} is not a member of {chat!r}")
        new = "administrator" if admin else "member"
        if old == new:
            return
        chat.members[person.id] = new
        self._deliver_chat_member(chat, self._member_update(chat, by, person.to_dict(), old, new))

    def _join(self, chat: FakeChat, person: FakeUser, by: FakeUser | None) -> Message:
        if not chat.is_group or chat.migrated_to is not None:
            raise ValueError(f"{chat!r} is not an active group")
        old = chat.status_of(person.id)
        if old in MEMBER_STATUSES:
            raise ValueError(f"{person!r} is already in {chat!r}")
        if by is not None:
            self._require_member(by, chat)
        chat.members[person.id] = "member"
        actor = by if by is not None else person
        data = self.add_message(chat, actor.to_dict(), {"new_chat_members": [person.to_dict()]})
        self._deliver_service(chat, data)
        self._deliver_chat_member(
            chat, self._member_update(chat, actor, person.to_dict(), old, "member")
        )
        return to_message(data)

    def _leave(
        self, chat: FakeChat, person: FakeUser, by: FakeUser | None, kicked: bool
    ) -> Message:
        if not chat.is_group or chat.migrated_to is not None:
            raise ValueError(f"{chat!r} is not an active group")
        old = chat.status_of(person.id)
        if old not in MEMBER_STATUSES:
            raise ValueError(f"{person!r} is not in {chat!r}")
        if by is not None:
            self._require_admin(chat, by)
        new = "kicked" if kicked else "left"
        chat.members[person.id] = new
        actor = by if by is not None else person
        data = self.add_message(chat, actor.to_dict(), {"left_chat_member": person.to_dict()})
        self._deliver_service(chat, data)
        self._deliver_chat_member(
            chat, self._member_update(chat, actor, person.to_dict(), old, new)
        )
        return to_message(data)

    def _set_title(self, chat: FakeChat, title: str, by: FakeUser) -> Message:
        self._require_admin(chat, by)
        chat.title = title
        data = self.add_message(chat, by.to_dict(), {"new_chat_title": title})
        self._deliver_service(chat, data)
        return to_message(data)

    def _upgrade(self, chat: FakeChat, by: FakeUser) -> FakeChat:
        if chat.type != "group":
            raise ValueError(f"{chat!r} is not a basic group")
        self._require_admin(chat, by)
        new = self.group(chat.title or "", supergroup=True)
        new.members = dict(chat.members)
        new.bot_status = chat.bot_status
        new.bot_rights = dict(chat.bot_rights)
        new.migrated_from = chat.id
        old_data = self.add_message(chat, by.to_dict(), {"migrate_to_chat_id": new.id})
        chat.migrated_to = new.id
        self.migrations[chat.id] = new.id
        self._deliver_service(chat, old_data)
        # as on Telegram: message 1 of the supergroup, sent "by the group itself"
        new_data = self.add_message(
            new,
            dict(GROUP_ANONYMOUS_BOT),
            {"migrate_from_chat_id": chat.id, "sender_chat": new.to_dict()},
        )
        self._deliver_service(new, new_data)
        return new
