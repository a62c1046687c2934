"""SandboxState: everything the sandbox knows, in memory, with an injectable clock."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from core.ports import Clock
from sandbox.botapi.errors import ApiError
from sandbox.botapi.flood import FloodGate, FloodLimits
from sandbox.botapi.handling import Handling
from sandbox.botapi.models import Chat, Dialog, Message, PendingQuery, Signal, StoredFile, User

# Telegram leaves these out unless a bot asks for them by name.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
WEBHOOK_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0)
# Update and person ids are reserved this many ahead in the data folder before one is handed
# out, so a sandbox that was killed never hands one out again (Telegram's ids only grow).
ID_BLOCK = 1_000
FIRST_PERSON_ID = 700_000_001


class ChangeLog(Protocol):
    """Where changes are written down (storage.Journal)."""

    def changed(self, messages: tuple[Message, ...]) -> None: ...

    def flush(self) -> None: ...

    def reset(self) -> None: ...


class _UtcClock:
    """Real time, UTC, when no clock is injected."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Webhook:
    """Where and how a bot wants its updates pushed."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    task: asyncio.Task[None] | None = None


@dataclass
class BotAccount:
    """A bot registered in the sandbox, with its update queue."""

    token: str
    user: User
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 1
    reserved_update_id: int = 0  # ids below this may be handed out without writing first
    # A test hook: every update is delivered twice, as after a lost confirmation or a webhook
    # answer that never arrived; `repeated` holds the ids already delivered again.
    deliver_twice: bool = False
    repeated: set[int] = field(default_factory=set)
    redelivered: int = 0  # how many updates were delivered again
    allowed_updates: list[str] | None = None
    webhook: Webhook | None = None
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    menu_button: dict[str, Any] = field(default_factory=lambda: {"type": "default"})
    signal: Signal = field(default_factory=Signal)
    poll_generation: int = 0
    profile: dict[tuple[str, str], str] = field(default_factory=dict)
    handling: Handling = field(default_factory=Handling)  # the settle barrier's record

    @property
    def id(self) -> int:
        return self.user.id


class SandboxState:
    """The whole sandbox world; one per server, never a module global."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        flood_limits: bool = True,
        flood: FloodLimits | None = None,
    ) -> None:
        self.clock: Clock = clock or _UtcClock()
        self.flood_limits = flood_limits
        self.flood = FloodGate(flood) if flood is not None else FloodGate()
        self.webhook_retry_delays: tuple[float, ...] = WEBHOOK_RETRY_DELAYS
        self.bots: dict[int, BotAccount] = {}
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.dialogs: dict[tuple[int, int], Dialog] = {}
        self.files: dict[str, StoredFile] = {}
        self.queries: dict[str, PendingQuery] = {}
        self.version = 0
        self.changed = Signal()
        self.closing = False
        self.storage_path: Path | None = None
        # Called (synchronously) when a new block of ids is reserved; storage writes it down.
        self.on_reserve: Callable[[SandboxState], None] | None = None
        # Set by storage.restore: every change is appended to the data folder's journal.
        self.journal: ChangeLog | None = None
        self.next_person_id = FIRST_PERSON_ID
        self.reserved_person_id = 0
        self._group_ids = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_000_001)
        self._file_ids = itertools.count(1)

    def continue_ids(self) -> None:
        """After a restore: new people and groups get ids after the kept ones."""
        people = [user.id for user in self.people()]
        groups = [-1_001_000_000_000 - chat.id for chat in self.chats.values() if chat.id < 0]
        self.next_person_id = max([self.next_person_id, *(i + 1 for i in people)])
        self._group_ids = itertools.count(max([0, *groups]) + 1)

    def new_file_number(self) -> int:
        return next(self._file_ids)

    def now(self) -> datetime:
        return self.clock.now()

    def touch(self, *messages: Message) -> int:
        """Mark a visible change, waking pages and tests that long-poll for events; `messages`
        are the ones it made or changed (they get the new version). The journal (when the state
        is kept in a folder) writes it down."""
        self.version += 1
        for message in messages:
            message.version = self.version
        self.changed.fire()
        if self.journal is not None:
            self.journal.changed(messages)
        return self.version

    def persist(self) -> None:
        """Write the changes made so far now (a request calls it before it answers)."""
        if self.journal is not None:
            self.journal.flush()

    def close(self) -> None:
        """End every long poll now, so the server can stop without waiting for them."""
        self.closing = True
        self.changed.fire()
        for bot in self.bots.values():
            bot.signal.fire()

    # --- registration --------------------------------------------------------------------------

    def add_bot(self, token: str, *, username: str, first_name: str = "Sandbox Bot") -> BotAccount:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like <id>:<secret>")
        user = User(id=int(bot_id), first_name=first_name, username=username, is_bot=True)
        bot = BotAccount(token=token, user=user)
        self.bots[user.id] = bot
        self.users[user.id] = user
        return bot

    def bot_by_token(self, token: str) -> BotAccount | None:
        bot_id, _, _ = token.partition(":")
        bot = self.bots.get(int(bot_id)) if bot_id.isdigit() else None
        if bot is None or not secrets.compare_digest(bot.token.encode(), token.encode()):
            return None
        return bot

    def find_bot(self, ref: str | int | None = None) -> BotAccount:
        """A bot by id or username; the first registered one when none is named."""
        for bot in self.bots.values():
            if ref in (None, "", bot.id, str(bot.id), bot.user.username):
                return bot
        raise ApiError(404, f"Not Found: bot {ref} is not in the sandbox")

    def add_person(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        phone_number: str | None = None,
    ) -> User:
        person_id = self.next_person_id
        self.next_person_id += 1
        if self.on_reserve is not None and person_id >= self.reserved_person_id:
            self.reserved_person_id = person_id + ID_BLOCK
            self.on_reserve(self)
        # A made-up UK mobile (07911 1xxxxx): phonenumbers accepts it as a valid mobile.
        phone = phone_number or f"+4479111{person_id % 100_000:05d}"
        person = User(person_id, first_name, last_name, username, language_code, False, phone)
        self.users[person_id] = person
        self.chats[person_id] = Chat(id=person_id, type="private", person=person)
        self.touch()
        return person

    def people(self) -> list[User]:
        return [user for user in self.users.values() if not user.is_bot]

    def add_group(
        self, title: str, *, is_forum: bool = True, bots: list[int] | None = None
    ) -> Chat:
        chat_id = -1_001_000_000_000 - next(self._group_ids)
        chat = Chat(id=chat_id, type="supergroup", title=title, is_forum=is_forum)
        for bot_id in bots if bots is not None else list(self.bots):
            chat.members[bot_id] = "administrator"
        self.chats[chat_id] = chat
        self.touch()
        return chat

    # --- lookups -------------------------------------------------------------------------------

    def dialog(self, bot: BotAccount, chat: Chat) -> Dialog:
        key = (bot.id if chat.type == "private" else 0, chat.id)
        if key not in self.dialogs:
            self.dialogs[key] = Dialog(chat=chat)
        return self.dialogs[key]

    def chat(self, ref: object) -> Chat:
        """The chat named by a chat_id parameter: a number or an @username."""
        if isinstance(ref, str) and ref.startswith("@"):
            for user in self.people():
                if user.username and user.username.lower() == ref[1:].lower():
                    return self.chats[user.id]
            raise ApiError(400, "Bad Request: chat not found")
        try:
            chat = self.chats.get(int(str(ref)))
        except ValueError:
            chat = None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def message(self, dialog: Dialog, message_id: int, missing: str) -> Message:
        message = dialog.messages.get(message_id)
        if message is None or message.deleted:
            raise ApiError(400, f"Bad Request: {missing}")
        return message

    def new_query_id(self) -> str:
        return str(next(self._query_ids))

    # --- updates -------------------------------------------------------------------------------

    def push_update(self, bot: BotAccount, kind: str, payload: dict[str, Any]) -> None:
        """Queue an update for the bot unless it asked for other kinds only."""
        allowed = bot.allowed_updates
        if (allowed and kind not in allowed) or (not allowed and kind in OPT_IN_UPDATES):
            return
        bot.updates.append({"update_id": self.new_update_id(bot), kind: payload})
        bot.signal.fire()

    def new_update_id(self, bot: BotAccount) -> int:
        """The next id in the bot's sequence; a new block is written down before it is used."""
        update_id = bot.next_update_id
        bot.next_update_id += 1
        if self.on_reserve is not None and update_id >= bot.reserved_update_id:
            bot.reserved_update_id = update_id + ID_BLOCK
            self.on_reserve(self)
        return update_id

    def bots_in(self, chat: Chat) -> list[BotAccount]:
        return [bot for bot in self.bots.values() if bot.id in chat.members]
