"""Who is writing: their account (if signed in) and their language, once per update."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.fsm.context import FSMContext
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import TelegramObject, Update, User
from redis.asyncio import Redis

from bot.talk import Talk
from core.bootstrap import Services
from core.i18n import pick_locale
from core.ports import Clock

log = logging.getLogger(__name__)
CHECKPOINT = "checkpoint"  # the FSM destiny where an update's starting point is kept
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateLedger(Protocol):
    """Which update ids a bot has handled: a high-water mark and a window below it."""

    async def seen(self, bot_id: int, update_id: int) -> str | None:
        """Why the update is a duplicate ("handled", "behind the window"), or None when new."""
        ...

    async def mark(self, bot_id: int, update_id: int) -> None:
        """Remember the update as handled."""
        ...


# KEYS: the window (a sorted set of ids), the high-water mark. ARGV: update id, window size.
_SEEN = """
local mark = redis.call('GET', KEYS[2])
if not mark then return 0 end
local id = tonumber(ARGV[1])
mark = tonumber(mark)
if id > mark then return 0 end
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if id <= mark - tonumber(ARGV[2]) then return 2 end
return 0
"""
# ARGV: update id, window size, how long to remember (ms). Both keys live that long after the
# newest update, so a bot silent that long starts afresh (Telegram's restarted sequence).
_MARK = """
local id = tonumber(ARGV[1])
local mark = tonumber(redis.call('GET', KEYS[2]) or ARGV[1])
if id > mark then mark = id end
redis.call('SET', KEYS[2], mark, 'PX', ARGV[3])
redis.call('ZADD', KEYS[1], id, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', mark - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return mark
"""
_VERDICTS = {1: "handled", 2: "behind the window"}


class RedisUpdateLedger:
    """The ledger in Redis, shared by every instance: one sorted set of at most `window` ids
    and one number per bot, whatever the traffic (not a key per update)."""

    def __init__(self, redis: Redis, prefix: str, window: int, memory: timedelta) -> None:
        self.redis, self.prefix, self.window = redis, prefix + "updates:", window
        self.memory_ms = int(memory.total_seconds() * 1000)
        self._seen = redis.register_script(_SEEN)
        self._mark = redis.register_script(_MARK)

    def _keys(self, bot_id: int) -> list[str]:
        return [f"{self.prefix}{bot_id}:window", f"{self.prefix}{bot_id}:mark"]

    async def seen(self, bot_id: int, update_id: int) -> str | None:
        verdict = await self._seen(keys=self._keys(bot_id), args=[update_id, self.window])
        return _VERDICTS.get(int(verdict))

    async def mark(self, bot_id: int, update_id: int) -> None:
        await self._mark(keys=self._keys(bot_id), args=[update_id, self.window, self.memory_ms])


@dataclass
class _Window:
    mark: int
    ids: set[int] = field(default_factory=set)
    last: datetime | None = None


class MemoryUpdateLedger:
    """The same rules in this process's memory (no Redis: one instance)."""

    def __init__(self, clock: Clock, window: int, memory: timedelta) -> None:
        self.clock, self.window, self.memory = clock, window, memory
        self._bots: dict[int, _Window] = {}

    def _current(self, bot_id: int) -> _Window | None:
        found = self._bots.get(bot_id)
        if found is not None and found.last and self.clock.now() - found.last >= self.memory:
            del self._bots[bot_id]  # silent that long: forgotten, as the Redis keys expire
            return None
        return found

    async def seen(self, bot_id: int, update_id: int) -> str | None:
        found = self._current(bot_id)
        if found is None or update_id > found.mark:
            return None
        if update_id in found.ids:
            return "handled"
        return "behind the window" if update_id <= found.mark - self.window else None

    async def mark(self, bot_id: int, update_id: int) -> None:
        found = self._current(bot_id) or self._bots.setdefault(bot_id, _Window(update_id))
        found.mark = max(found.mark, update_id)
        found.ids.add(update_id)
        found.last = self.clock.now()
        if len(found.ids) > 2 * self.window:  # trimmed now and then: at most twice the window
            floor = found.mark - self.window
            found.ids = {i for i in found.ids if i > floor}


# One memory ledger per Services, so a bot restarted inside the sandbox remembers what it handled.
_MEMORY_LEDGERS: WeakKeyDictionary[Services, MemoryUpdateLedger] = WeakKeyDictionary()


def update_ledger(services: Services) -> UpdateLedger:
    """Redis when configured; otherwise one memory ledger per process."""
    settings = services.settings
    window, memory = settings.duplicate_window, timedelta(seconds=settings.duplicate_memory)
    if services.redis is not None:
        from bot.isolation import SessionLedger  # the verdict and the mark ride the chat's lock

        return SessionLedger(
            RedisUpdateLedger(services.redis, settings.redis_prefix, window, memory)
        )
    ledger = _MEMORY_LEDGERS.get(services)
    if ledger is None:
        ledger = _MEMORY_LEDGERS[services] = MemoryUpdateLedger(services.clock, window, memory)
    return ledger


class DuplicateUpdates(BaseMiddleware):
    """An update delivered twice (webhook retry, restart) is handled once (PRODUCT §3).

    Telegram's update ids only grow per bot, so the ledger keeps a high-water mark and a window
    of the last `DUPLICATE_WINDOW` ids below it, not a key per update. An update counts as
    handled once its handler finished (or failed and the person was told): one that a crash or
    a shutdown interrupted is handled again when it comes back (PRODUCT §3). This runs inside the
    chat's lock, so two copies of one chat's update never run at once; copies of one update in
    this process wait for each other, too.
    """

    def __init__(self, services: Services, ledger: UpdateLedger | None = None) -> None:
        self.services = services
        self.ledger = ledger or update_ledger(services)
        self._running: dict[tuple[int, int], asyncio.Event] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        bot = data.get("bot")
        key = (bot.id if bot else 0, event.update_id)
        while (running := self._running.get(key)) is not None:
            await running.wait()
        verdict = await self.ledger.seen(*key)
        if verdict is not None:
            log.info("duplicate update skipped (%s)", verdict, extra={"update_id": key[1]})
            return None
        self._running[key] = done = asyncio.Event()
        try:
            state: FSMContext | None = data.get("state")
            # Where the chat's writes wait for the update's end (bot/isolation.py), a dead
            # process wrote nothing: the update comes back to its starting point by itself.
            holds = getattr(state.storage, "holds", None) if state is not None else None
            if state is not None and not (holds is not None and holds(state.key)):
                await self._checkpoint(state, key[1], data)
            try:
                result = await handler(event, data)
            except Exception:
                await self._mark(key)  # the person was told; a copy must not act again
                raise
            await self._mark(key)
            return result
        finally:
            del self._running[key]
            done.set()

    async def _checkpoint(self, state: FSMContext, update_id: int, data: dict[str, Any]) -> None:
        """Where the conversation stood when this update began, kept apart from the state.

        An update that comes again although it was begun (the process died in its middle) is
        handled again from there: the state it may have moved on, or cleared, is put back, and
        the steps' side effects are idempotent (a bound address moves on, a sent code is
        asked for), so the person resumes where the side effects left them (PRODUCT §3).
        """
        saved_at = FSMContext(state.storage, replace(state.key, destiny=CHECKPOINT))
        saved = await saved_at.get_data()
        if saved.get("update") == update_id:
            await state.set_state(saved.get("state"))
            await state.set_data(dict(saved.get("data") or {}))
            data["raw_state"] = saved.get("state")
            log.info("an interrupted update is handled again", extra={"update_id": update_id})
            return
        current = {"update": update_id, "state": data.get("raw_state")}
        await saved_at.set_data({**current, "data": await state.get_data()})

    async def _mark(self, key: tuple[int, int]) -> None:
        try:
            await self.ledger.mark(*key)
        except Exception:  # Redis down: a later copy may be handled again, never lost
            log.warning("could not record a handled update", extra={"update_id": key[1]})


class Person(BaseMiddleware):
    """Puts `account_id` (or None) and `locale` into the handler data.

    The update's database work is one scope (`Database.scope`): the reads here and the
    handler's units share one connection and, until a writer commits, one transaction; an
    update that touches no data opens none. Before each call to Telegram the scope's idle
    connection goes back to the pool (`ParkDuringCalls`), so a paced send never holds one.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self._parking: set[int] = set()  # the bot sessions that park the scope on each call

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        bot: Bot | None = data.get("bot")
        if bot is not None and id(bot.session) not in self._parking:
            self._parking.add(id(bot.session))
            bot.session.middleware(ParkDuringCalls(self.services))
        async with self.services.database.scope():
            return await self._person(handler, event, data)

    async def _person(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        default = self.services.settings.default_locale
        data["account_id"] = None
        data["locale"] = pick_locale(user.language_code if user else None, default)
        if user is not None and not user.is_bot:
            found = await self.services.account.person(user.id)
            if found is not None:
                data["account_id"], chosen = found
                data["locale"] = pick_locale(chosen, data["locale"]) if chosen else data["locale"]
            state = data.get("state")
            if state is not None:
                data["talk"] = Talk(
                    bot=data["bot"],
                    user=user,
                    state=state,
                    services=self.services,
                    account_id=data["account_id"],
                    locale=data["locale"],
                )
        return await handler(event, data)


class ParkDuringCalls(BaseRequestMiddleware):
    """A session middleware: before a call to Telegram (which pacing may hold for seconds), the
    update's database connection, idle between units of work, goes back to the pool."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        await self.services.database.park()
        return await make_request(bot, method)
