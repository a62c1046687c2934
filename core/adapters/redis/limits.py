"""Sliding-window limits and doubling cooldowns in Redis, each decided in one Lua script."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from redis.asyncio import Redis

from core.adapters.redis._base import GRACE_MS, RedisStore, from_ms
from core.ports import Clock, Rule

_MS = timedelta(milliseconds=1)
# Bounds the doubling so a runaway resend count cannot overflow datetime arithmetic.
_MAX_DOUBLINGS = 20

# One sorted set per key (score = epoch ms). Members "e:<id>" are counted events and "h:<slot>"
# slots held by work in flight; both count against the limit. (Members written before the
# prefixes existed count as events.)

# KEYS one sorted set per rule; ARGV now, record (0/1), member, grace, then limit and window per
# rule. Returns when every blocking rule allows again, or nil after recording.
_LIMIT = """
local now = tonumber(ARGV[1])
local retry = false
for i, key in ipairs(KEYS) do
  local limit, window = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  local floor = '(' .. (now - window)
  local count = redis.call('ZCOUNT', key, floor, '+inf')
  if count >= limit then
    local free = now + window
    if limit > 0 then
      local e = redis.call('ZRANGEBYSCORE', key, floor, '+inf', 'WITHSCORES',
                           'LIMIT', count - limit, 1)
      free = tonumber(e[2]) + window
    end
    if not retry or free > retry then retry = free end
  end
end
if retry or ARGV[2] ~= '1' then return retry end
local longest = {}
for i, key in ipairs(KEYS) do
  longest[key] = math.max(longest[key] or 0, tonumber(ARGV[4 + 2 * i]))
end
for key, window in pairs(longest) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window + tonumber(ARGV[4]))
end
return false
"""

# KEYS one sorted set per key; ARGV slot, confirm (0/1). The held slot goes; on confirm it
# stays as a counted event with the time it was reserved at.
_SETTLE = """
for _, key in ipairs(KEYS) do
  local held = 'h:' .. ARGV[1]
  local at = redis.call('ZSCORE', key, held)
  if at then
    redis.call('ZREM', key, held)
    if ARGV[2] == '1' then redis.call('ZADD', key, at, 'e:' .. ARGV[1]) end
  end
end
return 0
"""

# KEYS[1] one sorted set: every counted event goes, the held slots stay.
_RESET = """
local gone = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(member, 1, 2) ~= 'h:' then gone[#gone + 1] = member end
end
if #gone > 0 then redis.call('ZREM', KEYS[1], unpack(gone)) end
return #gone
"""

# KEYS[1] hash of sends, last, next; ARGV now, base, horizon, max doublings, grace.
# Returns the milliseconds left while cooling down, or nil after recording a send.
_COOLDOWN = """
local now, base, horizon = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local f = redis.call('HMGET', KEYS[1], 'sends', 'last', 'next')
if f[3] and now < tonumber(f[3]) then return tonumber(f[3]) - now end
local sends = 0
if f[2] and now - tonumber(f[2]) < horizon then sends = tonumber(f[1]) end
local wait = base * 2 ^ math.min(sends, tonumber(ARGV[4]))
redis.call('HSET', KEYS[1], 'sends', sends + 1, 'last', now, 'next', now + wait)
redis.call('PEXPIRE', KEYS[1], math.max(wait, horizon) + tonumber(ARGV[5]))
return false
"""


class RedisLimiter(RedisStore):
    """Sliding-window logs in Redis sorted sets; see `core.ports.Limiter`."""

    kind = "limit:"

    def __init__(self, redis: Redis, clock: Clock, prefix: str = "accountbot:") -> None:
        super().__init__(redis, clock, prefix)
        self._script = redis.register_script(_LIMIT)
        self._settle = redis.register_script(_SETTLE)
        self._reset = redis.register_script(_RESET)

    async def acquire(self, rules: Sequence[Rule]) -> datetime | None:
        """Count one event per rule if every rule allows it; else count none, say when all will."""
        return await self._run(rules, record=True, member="e:" + uuid.uuid4().hex)

    async def check(self, rules: Sequence[Rule]) -> datetime | None:
        """What `acquire` would answer, without counting anything."""
        return await self._run(rules, record=False, member="")

    async def reset(self, key: str) -> None:
        """Forget every counted event under the key; slots still held stay."""
        await self._reset(keys=[self._key(key)])

    async def reserve(self, rules: Sequence[Rule], slot: str) -> datetime | None:
        """Hold one slot per rule if every rule has room (held slots count); else none, say when."""
        return await self._run(rules, record=True, member="h:" + slot)

    async def confirm(self, rules: Sequence[Rule], slot: str) -> None:
        """The held slot becomes a counted event, at the time it was reserved."""
        if rules:
            await self._settle(keys=self._keys(rules), args=[slot, 1])

    async def release(self, rules: Sequence[Rule], slot: str) -> None:
        """Give the held slot back: the work it was for does not count."""
        if rules:
            await self._settle(keys=self._keys(rules), args=[slot, 0])

    def _keys(self, rules: Sequence[Rule]) -> list[str]:
        return list(dict.fromkeys(self._key(r.key) for r in rules))

    async def _run(self, rules: Sequence[Rule], *, record: bool, member: str) -> datetime | None:
        if not rules:
            return None
        args: list[int | str] = [self._now_ms(), int(record), member, GRACE_MS]
        for rule in rules:
            args += [rule.limit, rule.window // _MS]
        retry_ms = await self._script(keys=[self._key(r.key) for r in rules], args=args)
        return None if retry_ms is None else from_ms(int(retry_ms))


class RedisCooldowns(RedisStore):
    """Doubling resend cooldowns in Redis hashes; see `core.ports.Cooldowns`."""

    kind = "cooldown:"

    def __init__(self, redis: Redis, clock: Clock, prefix: str = "accountbot:") -> None:
        super().__init__(redis, clock, prefix)
        self._script = redis.register_script(_COOLDOWN)

    async def start(self, key: str, base: timedelta, horizon: timedelta) -> timedelta | None:
        """Time left if still cooling down; else record a send and double the next wait."""
        args = [self._now_ms(), base // _MS, horizon // _MS, _MAX_DOUBLINGS, GRACE_MS]
        left_ms = await self._script(keys=[self._key(key)], args=args)
        return None if left_ms is None else int(left_ms) * _MS

    async def remaining(self, key: str) -> timedelta | None:
        """Time left before the next send is allowed, or None if it is allowed now."""
        raw = await self._redis.hget(self._key(key), "next")
        if raw is None:
            return None
        left_ms = int(raw) - self._now_ms()
        return left_ms * _MS if left_ms > 0 else None

    async def deadline(self, key: str) -> datetime | None:
        """The stored moment the next send is allowed at, while it is still ahead."""
        raw = await self._redis.hget(self._key(key), "next")
        if raw is None or int(raw) <= self._now_ms():
            return None
        return from_ms(int(raw))

    async def clear(self, key: str) -> None:
        """Forget the key's sends and cooldown."""
        await self._redis.delete(self._key(key))
