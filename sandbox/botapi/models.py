"""The sandbox's in-memory records: people, bots, chats, messages, files and a wake-up signal."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Signal:
    """Wakes every waiter at once; made lazily so it binds to whichever loop runs the server."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    async def wait(self, seconds: float) -> bool:
        """Wait until fired or the timeout passes; True when fired."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(future)
        try:
            async with asyncio.timeout(seconds):  # not wait_for: it can swallow a cancellation
                await future
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(future)

    @property
    def waiting(self) -> int:
        """How many are waiting now (tests use it to know a long poll has arrived)."""
        return len(self._waiters)

    def fire(self) -> None:
        for future in list(self._waiters):
            if not future.done():
                future.set_result(None)


@dataclass
class User:
    """A Telegram user: a person of the sandbox or a bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    phone_number: str | None = None

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass
class Topic:
    """A forum topic; its id is the id of the service message that opened it, as in Telegram."""

    message_thread_id: int
    name: str
    icon_color: int = 0x6FB9F0
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data


@dataclass
class Chat:
    """A private chat (id = the person's id) or a supergroup, possibly a forum."""

    id: int
    type: str
    title: str | None = None
    is_forum: bool = False
    person: User | None = None
    members: dict[int, str] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        if self.person is not None:
            data = self.person.to_api()
            data.pop("is_bot")
            data.pop("language_code", None)
            return {**data, "type": "private"}
        data = {"id": self.id, "type": self.type, "title": self.title}
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class Message:
    """One message of a chat; deleted ones stay, flagged, so a test can see what went away."""

    message_id: int
    chat: Chat
    sender: User
    date: datetime
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, Any] = field(default_factory=dict)
    reply_markup: dict[str, Any] | None = None
    thread_id: int | None = None
    edit_date: datetime | None = None
    forward_origin: dict[str, Any] | None = None
    protect_content: bool = False
    deleted: bool = False
    version: int = 0
    history: list[str] = field(default_factory=list)
    reply_to: Message | None = None
    quote: dict[str, Any] | None = None  # the part of reply_to it quotes (a TextQuote)

    def to_api(self, *, with_reply: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender.to_api(),
            "chat": self.chat.to_api(),
            "date": int(self.date.timestamp()),
        }
        if self.thread_id is not None:
            data["message_thread_id"] = self.thread_id
            data["is_topic_message"] = True
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.caption is not None:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        data.update(self.media)
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            data["edit_date"] = int(self.edit_date.timestamp())
        if self.forward_origin is not None:
            data["forward_origin"] = self.forward_origin
        if self.protect_content:
            data["has_protected_content"] = True
        if with_reply and self.reply_to is not None:
            # Telegram nests the replied message one level deep only.
            data["reply_to_message"] = self.reply_to.to_api(with_reply=False)
            if self.quote is not None:
                data["quote"] = self.quote
        return data


@dataclass
class Dialog:
    """The messages of one chat as one bot shares it; groups have one dialog for all bots."""

    chat: Chat
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1
    started: bool = False
    blocked: bool = False
    reply_keyboard: dict[str, Any] | None = None
    callback_answer: dict[str, Any] | None = None
    action: str | None = None

    def take_message_id(self) -> int:
        self.next_message_id += 1
        return self.next_message_id - 1


@dataclass
class StoredFile:
    """Uploaded bytes with the ids Telegram would give them."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


@dataclass
class PendingQuery:
    """A callback query waiting for the bot's answer."""

    query_id: str
    bot_id: int
    dialog: Dialog
    message_id: int
    answered: bool = False
