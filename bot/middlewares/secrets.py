"""A password typed in the chat is deleted even when the database or Redis is down (PRODUCT §3).

The conversation state lives in Redis and the account in the database, and both are read before
any handler runs; during an outage no handler runs at all. So the bot keeps, in its own memory, the
step each chat is at (a bounded record, filled by watching the FSM storage: every state set or
read). When handling a message fails because a dependency is down, `SecretMessages` looks the chat
up there and deletes the message if that step awaits a secret.

After a restart during a Redis outage the record does not know the chat yet: then any text that
is not a command is deleted (it may be a password) and the person is told so. Losing an ordinary
message the bot could not read anyway is the lesser harm than leaving a password in the chat.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from enum import Enum
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.dispatcher.middlewares.user_context import EVENT_CONTEXT_KEY, EventContext
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import DEFAULT_DESTINY, BaseStorage, StateType, StorageKey
from aiogram.types import Message, TelegramObject, Update
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.states import AddressTaken, BindEmail, BindPhone, Password, Recovery
from core.bootstrap import Services
from core.errors import Unavailable

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
Key = tuple[int, int, int]  # bot, chat, user: aiogram's USER_IN_CHAT strategy

# Steps whose next text is a password (PRODUCT §1.6, §1.7, the release flow's proof).
SECRET_STEPS = frozenset(
    s.state
    for s in (
        BindEmail.awaiting_password,
        BindPhone.awaiting_password,
        AddressTaken.awaiting_password,
        Password.awaiting_new,
        Recovery.awaiting_password,
        AddressTaken.awaiting_proof,
    )
    if s.state is not None
)
# In the release flow's proof step a 6-digit code is a code, anything else the other account's
# password (bot/routers/address_taken/release.py); codes are not deleted there.
CODE = re.compile(r"[\d\s-]+")
# Where the handler data says what happened, for the error handler's words.
DELETED = "secret_deleted"
# The dispatcher's data key of the core's operational counters (on_error counts outages there).
OPS_METRICS = "ops_metrics"


class Deleted(Enum):
    """Why a message was deleted during an outage."""

    SECRET = "secret"  # noqa: S105  # the step awaits a password
    UNKNOWN = "unknown"  # the step is not known (restart during an outage): to be safe


def is_secret(state: str | None, text: str) -> bool:
    """Whether `text` typed at `state` is a password (and so must not stay in the chat)."""
    if state not in SECRET_STEPS or text.startswith("/"):
        return False
    if state == AddressTaken.awaiting_proof.state:
        return not (CODE.fullmatch(text) and sum(ch.isdigit() for ch in text) == 6)
    return True


class SecretSteps:
    """The step each chat is at, in memory, bounded (least recently used goes first)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._steps: OrderedDict[Key, str | None] = OrderedDict()

    def note(self, key: Key, state: str | None) -> None:
        self._steps[key] = state
        self._steps.move_to_end(key)
        while len(self._steps) > self.capacity:
            self._steps.popitem(last=False)

    def known(self, key: Key) -> bool:
        return key in self._steps

    def step(self, key: Key) -> str | None:
        return self._steps.get(key)

    def clear(self) -> None:
        """Forget every chat (what a restart does)."""
        self._steps.clear()

    def __len__(self) -> int:
        return len(self._steps)


def _key(key: StorageKey) -> Key | None:
    if key.destiny != DEFAULT_DESTINY:
        return None
    return key.bot_id, key.chat_id, key.user_id


def _name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


class WatchedStorage(BaseStorage):
    """The FSM storage as it was, telling `SecretSteps` every state it sets or reads."""

    def __init__(self, inner: BaseStorage, steps: SecretSteps) -> None:
        self.inner = inner
        self.steps = steps

    def __getattr__(self, name: str) -> Any:  # e.g. RedisStorage.redis
        return getattr(self.inner, name)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self.inner.set_state(key, state)
        if (found := _key(key)) is not None:
            self.steps.note(found, _name(state))

    async def get_state(self, key: StorageKey) -> str | None:
        state = await self.inner.get_state(key)
        if (found := _key(key)) is not None:
            self.steps.note(found, state)
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self.inner.set_data(key, data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return await self.inner.get_data(key)

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        return await self.inner.update_data(key, data)

    async def close(self) -> None:
        await self.inner.close()


def dependency_of(error: BaseException) -> str | None:
    """Which dependency being down caused `error`: "database", "redis", "smtp", ... or None."""
    seen: set[int] = set()
    found: BaseException | None = error
    while found is not None and id(found) not in seen:
        seen.add(id(found))
        if isinstance(found, RedisConnectionError | RedisTimeoutError):
            return "redis"
        if isinstance(found, Unavailable):
            named = found.args[0] if found.args else None
            return named if named in ("sms", "smtp", "redis") else "database"
        if isinstance(found, OperationalError | InterfaceError | PoolTimeout):
            return "database"
        if isinstance(found, DBAPIError) and found.connection_invalidated:
            return "database"
        found = found.__cause__ or found.__context__
    return "network" if isinstance(error, OSError) else None


def is_outage(error: BaseException) -> bool:
    return dependency_of(error) is not None


class SecretMessages(BaseMiddleware):
    """Runs before the FSM (Redis) and the Person middleware (the database): see the module."""

    def __init__(self, steps: SecretSteps) -> None:
        self.steps = steps

    @classmethod
    def install(cls, dp: Dispatcher, services: Services) -> SecretMessages:
        """Watch the dispatcher's FSM storage and sit right before its FSM middleware."""
        steps = SecretSteps(services.settings.secret_steps_remembered)
        dp[OPS_METRICS] = services.metrics
        dp.fsm.storage = WatchedStorage(dp.fsm.storage, steps)
        middleware = cls(steps)
        manager = dp.update.outer_middleware
        tail = list(manager[list(manager).index(dp.fsm) :]) if dp.fsm in manager else []
        for later in tail:
            manager.unregister(later)
        manager.register(middleware)
        for later in tail:
            manager.register(later)
        return middleware

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except Exception as error:
            message = event.message if isinstance(event, Update) else None
            if message is not None and message.chat.type == "private" and is_outage(error):
                why = self._verdict(message, data)
                if why is not None and await _delete(data["bot"], message):
                    data[DELETED] = why
            raise

    def _verdict(self, message: Message, data: dict[str, Any]) -> Deleted | None:
        text = message.text
        if text is None:
            return None
        context: EventContext | None = data.get(EVENT_CONTEXT_KEY)
        bot = data.get("bot")
        if context is None or bot is None or context.chat_id is None or context.user_id is None:
            return None
        key = (bot.id, context.chat_id, context.user_id)
        if not self.steps.known(key):
            return None if text.startswith("/") else Deleted.UNKNOWN
        return Deleted.SECRET if is_secret(self.steps.step(key), text) else None


async def _delete(bot: Bot, message: Message) -> bool:
    """Delete the message; already deleted (the handler got to it first) counts as done."""
    try:
        await bot.delete_message(message.chat.id, message.message_id)
    except TelegramAPIError as error:
        if "not found" in str(error):
            return True
        log.warning("could not delete a secret message", extra={"error": type(error).__name__})
        return False
    return True
