"""Per-chat isolation on Redis, and the conversation it guards read once and written once.

One update of a chat at a time across every instance (PRODUCT §3), in two Redis round trips:

- Taking the chat's lock is one script that also reads the conversation (state, data; one
  value per chat) and, for the update being handled, the duplicate ledger's verdict.
- Letting go is one script that writes what the update changed, records the update as handled
  (RELIABILITY §2: only once its handler finished) and releases the lock.

Everything the handlers read or set of their own chat's conversation in between is served from
memory. So an update whose process died in its middle changed nothing in Redis and is not
recorded: delivered again, it starts from where it began (what the checkpoint did before, with
no copy of the state kept). A cancelled update (shutdown) writes nothing either, for the same
reason. Other chats' conversations (an agent's reply reaching a person, a notice from the web
side) are read and written at once, as before.

The lock lives only `timeout` seconds and is renewed every third of that while the handler runs,
so a live handler keeps it as long as it needs and a dead one frees it within `timeout`
(aiogram's RedisEventIsolation holds it 60 s).

The recent-message log the support card quotes (bot/support/card.py) is one more field of the
chat's value: appended to in the closing script without being read, and read only for the card.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, cast

from aiogram import BaseMiddleware, Dispatcher
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    DEFAULT_DESTINY,
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    StateType,
    StorageKey,
)
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
LOG_FIELD = "l"  # the recent-message log's field in a chat's conversation
LOG_SIZE = 20  # the support card quotes a person's last 20 messages

# A conversation is one string: name NUL value NUL ... (JSON never holds a raw NUL). One
# string and not a hash: a value over 64 bytes (any real data) turns a hash into Redis's
# hashtable encoding, twice the memory.
_FIELDS = """
local function parse(raw)
  local f = {}
  if raw then
    for k, v in string.gmatch(raw, '(%Z*)%z(%Z*)%z') do f[k] = v end
  end
  return f
end
local function dump(f)
  local out = {}
  for k, v in pairs(f) do out[#out + 1] = k .. '\\0' .. v .. '\\0' end
  return table.concat(out)
end
"""
# KEYS lock, conversation, ledger window, ledger mark, then aiogram's old keys of the chat.
# ARGV token, lock ms, update id ('' when the update is not known), window size, conversation
# ms. False while another holds the lock; else the ledger's
# verdict (0 new, 1 handled, 2 behind the window) and the conversation less its log.
_OPEN = (
    _FIELDS
    + """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
end
local verdict = 0
if ARGV[3] ~= '' then
  local mark = redis.call('GET', KEYS[4])
  local id = tonumber(ARGV[3])
  if mark and id <= tonumber(mark) then
    if redis.call('ZSCORE', KEYS[3], ARGV[3]) then verdict = 1
    elseif id <= tonumber(mark) - tonumber(ARGV[4]) then verdict = 2 end
  end
end
local raw = redis.call('GET', KEYS[2])
if not raw and #KEYS > 4 then
  -- A conversation aiogram's RedisStorage kept (KEYS state, data, log, checkpoint): moved here.
  local old = {}
  local s, d, l = redis.call('GET', KEYS[5]), redis.call('GET', KEYS[6]), redis.call('GET', KEYS[7])
  if s then old['s'] = s end
  if d and d ~= '{}' then old['d'] = d end
  if l then
    local ok, v = pcall(cjson.decode, l)
    if ok and type(v) == 'table' and type(v['log']) == 'table' and #v['log'] > 0 then
      old['l'] = cjson.encode(v['log'])
    end
  end
  if next(old) then
    raw = dump(old)
    redis.call('SET', KEYS[2], raw, 'PX', ARGV[5])
  end
  redis.call('DEL', KEYS[5], KEYS[6], KEYS[7], KEYS[8])
end
local f = parse(raw)
f['l'] = nil
return {verdict, dump(f)}
"""
)
# KEYS as above. ARGV token ('' no lock to release), conversation ms, update id to record ('' none),
# window size, ledger ms, log size, n log entries and the entries, n fields to set and the
# field/value pairs, then the fields to delete. The ledger part is the ledger's own rule
# (bot/middlewares/person.py): the mark only grows, the window keeps the ids above mark - size.
_CLOSE = (
    _FIELDS
    + """
local i, wrote = 8, false
local f = parse(redis.call('GET', KEYS[2]))
local entries = tonumber(ARGV[7])
if entries > 0 then
  local kept = f['l'] and cjson.decode(f['l']) or {}
  for j = i, i + entries - 1 do kept[#kept + 1] = ARGV[j] end
  i = i + entries
  local size, last = tonumber(ARGV[6]), {}
  for j = math.max(1, #kept - size + 1), #kept do last[#last + 1] = kept[j] end
  f['l'] = cjson.encode(last)
  wrote = true
end
local sets = tonumber(ARGV[i])
i = i + 1
for _ = 1, sets do
  f[ARGV[i]] = ARGV[i + 1]
  i, wrote = i + 2, true
end
for j = i, #ARGV do
  f[ARGV[j]] = nil
  wrote = true
end
if wrote then
  local value = dump(f)
  if value == '' then redis.call('DEL', KEYS[2])
  else redis.call('SET', KEYS[2], value, 'PX', ARGV[2]) end
end
if ARGV[3] ~= '' then
  local id = tonumber(ARGV[3])
  local mark = tonumber(redis.call('GET', KEYS[4]) or ARGV[3])
  if id > mark then mark = id end
  redis.call('SET', KEYS[4], mark, 'PX', ARGV[5])
  redis.call('ZADD', KEYS[3], id, ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', mark - tonumber(ARGV[4]))
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
end
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""
)
# KEYS lock. ARGV token, lock ms. 1 while the lock is still ours (and now lives on), else 0.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_VERDICTS = {1: "handled", 2: "behind the window"}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def parse(raw: bytes | str | None) -> dict[str, str]:
    """A conversation's fields from its stored string (name NUL value NUL ...)."""
    parts = _text(raw).split("\0") if raw else []
    return {parts[i]: parts[i + 1] for i in range(0, len(parts) - 1, 2)}


def _fields(key: StorageKey) -> tuple[str, str]:
    """The fields of a destiny's state and data: "s" and "d" for the conversation itself."""
    if key.destiny == DEFAULT_DESTINY:
        return "s", "d"
    return f"{key.destiny}:s", f"{key.destiny}:d"


@dataclass
class _Session:
    """One update's view of its chat's conversation, held until the update ends."""

    key: str
    fields: dict[str, str]
    update: tuple[int, int] | None = None
    verdict: str | None = None
    changes: dict[str, str | None] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    mark: bool = False
    closed: bool = False

    def get(self, name: str) -> str | None:
        if name in self.changes:
            return self.changes[name]
        return self.fields.get(name)

    def set(self, name: str, value: str | None) -> None:
        if self.get(name) != value:
            self.changes[name] = value


# The sessions the current task holds, by conversation key (a handler may reach other chats).
_SESSIONS: ContextVar[Mapping[str, _Session] | None] = ContextVar("sessions", default=None)
# The update being handled (bot id, update id), set before the lock is taken (`CurrentUpdate`).
_UPDATE: ContextVar[tuple[int, int] | None] = ContextVar("current_update", default=None)
# The session opened for the update being handled, for the duplicate ledger.
_HELD: ContextVar[_Session | None] = ContextVar("held_session", default=None)


class RedisConversations(BaseStorage):
    """aiogram's FSM storage as one Redis string per chat: state "s", data "d" (compact JSON),
    other destinies "<destiny>:s"/"<destiny>:d", the support log "l"; it lives `ttl` seconds after
    its last write. While the chat's lock (`lock`) is held, its own chat is served from memory."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        ttl: int,
        lock_timeout: float,
        ledger_window: int,
        ledger_memory_ms: int,
        poll: float = 0.05,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_ms = ttl * 1000
        self.lock_timeout = lock_timeout
        self.lock_ms = max(int(lock_timeout * 1000), 1)
        self.poll = min(poll, lock_timeout / 4)
        self.ledger_window = ledger_window
        self.ledger_memory_ms = ledger_memory_ms
        self._legacy = DefaultKeyBuilder(prefix=prefix + "fsm", with_destiny=True)
        self._open = redis.register_script(_OPEN)
        self._close = redis.register_script(_CLOSE)
        self._renew = redis.register_script(_RENEW)

    # Keys: short, one per chat (the user too when it is not the chat: groups). No bot id, as
    # aiogram's own key builder by default: one bot per REDIS_PREFIX.
    def key_of(self, key: StorageKey) -> str:
        suffix = f"{key.chat_id}"
        if key.user_id != key.chat_id:
            suffix += f":{key.user_id}"
        if key.thread_id:
            suffix += f":t{key.thread_id}"
        if key.business_connection_id:
            suffix += f":b{key.business_connection_id}"
        return suffix

    def _keys(self, suffix: str, bot_id: int) -> list[str]:
        ledger = f"{self.prefix}updates:{bot_id}:"
        return [
            f"{self.prefix}l:{suffix}",
            f"{self.prefix}c:{suffix}",
            ledger + "window",
            ledger + "mark",
        ]

    def _legacy_keys(self, key: StorageKey) -> list[str]:
        """Where aiogram's RedisStorage kept the chat (before this store): state, data, the
        support log and the checkpoint. A conversation found there is moved on its next update."""
        default = replace(key, destiny=DEFAULT_DESTINY)
        return [
            self._legacy.build(default, "state"),
            self._legacy.build(default, "data"),
            self._legacy.build(replace(key, destiny="support_log"), "data"),
            self._legacy.build(replace(key, destiny="checkpoint"), "data"),
        ]

    def _session(self, key: StorageKey) -> _Session | None:
        found = (_SESSIONS.get() or {}).get(self.key_of(key))
        return None if found is None or found.closed else found

    def holds(self, key: StorageKey) -> bool:
        """Whether this update's writes to the chat wait for its end (the lock is held here)."""
        return self._session(key) is not None

    # The lock, taken by `ConversationLock`.
    @asynccontextmanager
    async def session(self, key: StorageKey) -> AsyncGenerator[None, None]:
        suffix = self.key_of(key)
        keys = self._keys(suffix, key.bot_id)
        update = _UPDATE.get()
        opening = [*keys, *self._legacy_keys(key)]
        update_arg = update[1] if update is not None and update[0] == key.bot_id else ""
        token = uuid.uuid4().hex
        args: list[str | int] = [token, self.lock_ms, update_arg, self.ledger_window, self.ttl_ms]
        while (opened := await self._open(keys=opening, args=args)) is None:  # noqa: ASYNC110
            await asyncio.sleep(self.poll)  # another update of the chat holds it (or a dead one)
        session = _Session(suffix, parse(opened[1]))
        if update_arg != "":
            session.update, session.verdict = update, _VERDICTS.get(int(opened[0]))
        sessions = _SESSIONS.set({**(_SESSIONS.get() or {}), suffix: session})
        held = _HELD.set(session if update_arg != "" else _HELD.get())
        done = asyncio.Event()
        renewal = asyncio.create_task(self._keep(keys[0], token, done))
        failed: BaseException | None = None
        try:
            yield None
        except BaseException as error:
            failed = error
            raise
        finally:
            session.closed = True
            _HELD.reset(held)
            _SESSIONS.reset(sessions)
            done.set()
            renewal.cancel()
            # Never waits long: the flag ends a renewal whose cancellation was swallowed at its
            # next step. (Nor swallows this update's own cancellation, as a suppress would.)
            await asyncio.wait({renewal}, timeout=self.lock_timeout)
            # Cancelled (a shutdown): nothing is written nor recorded, the update comes again.
            keep = failed is None or isinstance(failed, Exception)
            try:
                await self._write(keys, session if keep else None, token)
            except Exception:
                if failed is None:
                    raise
                log.warning("could not write a chat's conversation after a failed update")

    async def _keep(self, lock: str, token: str, done: asyncio.Event) -> None:
        """Renew the chat's lock until the update is `done`. The flag ends it, not only the
        cancellation: on Python 3.11 redis-py's socket write (`asyncio.wait_for`) swallows a
        cancellation that lands as the write finishes, and a renewal that went on would hold
        the chat's lock, and so the chat, for good (22 chats of 500 at once fell silent so)."""
        while not done.is_set():
            await asyncio.sleep(self.lock_timeout / 3)
            if done.is_set():
                return
            try:
                renewed = await self._renew(keys=[lock], args=[token, self.lock_ms])
            except Exception:  # Redis down: the handler finds out by itself
                log.warning("could not renew a chat's lock")
                continue
            if not renewed:
                log.warning("a chat's lock expired while its update was being handled")
                return

    async def _write(self, keys: list[str], session: _Session | None, token: str) -> None:
        if session is None:
            await self._run_close(keys, token, {}, [], None)
            return
        update = session.update if session.mark else None
        await self._run_close(keys, token, session.changes, session.log, update)

    async def _run_close(
        self,
        keys: list[str],
        token: str,
        changes: Mapping[str, str | None],
        entries: Sequence[str],
        update: tuple[int, int] | None,
    ) -> None:
        sets = [(name, value) for name, value in changes.items() if value is not None]
        dels = [name for name, value in changes.items() if value is None]
        args: list[str | int] = [
            token,
            self.ttl_ms,
            "" if update is None else update[1],
            self.ledger_window,
            self.ledger_memory_ms,
            LOG_SIZE,
            len(entries),
            *entries,
            len(sets),
        ]
        for name, value in sets:
            args += [name, value]
        args += dels
        await self._close(keys=keys, args=args)

    async def _put(self, key: StorageKey, name: str, value: str | None) -> None:
        session = self._session(key)
        if session is not None:
            session.set(name, value)
            return
        keys = self._keys(self.key_of(key), key.bot_id)
        await self._run_close(keys, "", {name: value}, [], None)

    async def _get(self, key: StorageKey, name: str) -> str | None:
        session = self._session(key)
        if session is not None:
            return session.get(name)
        raw = await self.redis.get(self._keys(self.key_of(key), key.bot_id)[1])
        return parse(raw).get(name)

    # aiogram's BaseStorage.
    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._put(key, _fields(key)[0], value)

    async def get_state(self, key: StorageKey) -> str | None:
        return await self._get(key, _fields(key)[0])

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        value = json.dumps(data, separators=(",", ":"), ensure_ascii=False) if data else None
        await self._put(key, _fields(key)[1], value)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        raw = await self._get(key, _fields(key)[1])
        return {} if raw is None else cast(dict[str, Any], json.loads(raw))

    async def close(self) -> None:
        pass  # the Redis client is the services' (core/bootstrap.py closes it)

    # The support card's recent-message log (bot/support/card.py).
    async def append_log(self, key: StorageKey, entry: str) -> None:
        """Add one entry to the chat's log (the last `LOG_SIZE` are kept), without reading it."""
        session = self._session(key)
        if session is not None:
            session.log.append(entry)
            return
        await self._run_close(self._keys(self.key_of(key), key.bot_id), "", {}, [entry], None)

    async def read_log(self, key: StorageKey) -> list[str]:
        """The chat's log, oldest first, with what this update added."""
        conversation = self._keys(self.key_of(key), key.bot_id)[1]
        raw = parse(await self.redis.get(conversation)).get(LOG_FIELD)
        kept = [str(e) for e in json.loads(raw)] if raw is not None else []
        session = self._session(key)
        if session is not None:
            kept += session.log
        return kept[-LOG_SIZE:]

    # The duplicate ledger's part (`SessionLedger`).
    @staticmethod
    def held_update(bot_id: int, update_id: int) -> _Session | None:
        found = _HELD.get()
        if found is None or found.closed or found.update != (bot_id, update_id):
            return None
        return found


class ConversationLock(BaseEventIsolation):
    """aiogram's event isolation for `RedisConversations`: see the module."""

    def __init__(self, storage: RedisConversations) -> None:
        self.storage = storage

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        async with self.storage.session(key):
            yield None

    async def close(self) -> None:
        pass


class SessionLedger:
    """The duplicate ledger (bot/middlewares/person.py) served by the chat's lock: the verdict
    came with the lock, the mark goes with its release; updates without a chat go to `inner`."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def seen(self, bot_id: int, update_id: int) -> str | None:
        held = RedisConversations.held_update(bot_id, update_id)
        if held is not None:
            return held.verdict
        return cast(str | None, await self.inner.seen(bot_id, update_id))

    async def mark(self, bot_id: int, update_id: int) -> None:
        held = RedisConversations.held_update(bot_id, update_id)
        if held is not None:
            held.mark = True
            return
        await self.inner.mark(bot_id, update_id)


class CurrentUpdate(BaseMiddleware):
    """Tells the chat's lock which update it is taken for, so the duplicate check comes with it."""

    @classmethod
    def install(cls, dp: Dispatcher) -> None:
        """Right before the dispatcher's FSM middleware (which takes the lock)."""
        manager = dp.update.outer_middleware
        tail = list(manager[list(manager).index(dp.fsm) :]) if dp.fsm in manager else []
        for later in tail:
            manager.unregister(later)
        manager.register(cls())
        for later in tail:
            manager.register(later)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        bot = data.get("bot")
        if not isinstance(event, Update) or bot is None:
            return await handler(event, data)
        token = _UPDATE.set((bot.id, event.update_id))
        try:
            return await handler(event, data)
        finally:
            _UPDATE.reset(token)
