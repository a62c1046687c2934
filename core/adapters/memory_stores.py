"""In-process codes, tokens, limits and cooldowns (PRODUCT §1.9): the embedded default, one process.

Every method runs without awaiting anything, so on one event loop each call is atomic.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from core.ports import Clock, Rule, StoredCode

V = TypeVar("V")

# Forgotten entries are swept after this many writes, so abandoned keys cannot pile up forever.
_SWEEP_EVERY = 1024
# Bounds the doubling so a runaway resend count cannot overflow datetime arithmetic.
_MAX_DOUBLINGS = 20


class _TimedDict(Generic[V]):
    """A dict whose entries vanish once the clock reaches their `until`."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[datetime, V]] = {}
        self._writes = 0

    def get(self, key: str, now: datetime) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= now:
            del self._items[key]
            return None
        return item[1]

    def set(self, key: str, value: V, until: datetime, now: datetime) -> None:
        self._items[key] = (until, value)
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self._items = {k: item for k, item in self._items.items() if item[0] > now}

    def pop(self, key: str, now: datetime) -> V | None:
        value = self.get(key, now)
        self._items.pop(key, None)
        return value


class MemoryCodeStore:
    """One-time codes kept in a dict; see `core.ports.CodeStore`."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._codes: _TimedDict[StoredCode] = _TimedDict()

    async def put(self, key: str, code: StoredCode) -> None:
        """Store a newly issued code, replacing any earlier one under the key."""
        code = replace(code, data=dict(code.data))
        self._codes.set(key, code, code.expires_at, self._clock.now())

    async def get(self, key: str) -> StoredCode | None:
        """The code if present, unexpired and with attempts left, else None."""
        code = self._codes.get(key, self._clock.now())
        return code if code is not None and code.attempts_left > 0 else None

    async def take_attempt(self, key: str) -> StoredCode | None:
        """Spend one attempt: the code with the attempts left after it; None (deleted) if void."""
        code = await self.get(key)
        if code is None:
            self._codes.pop(key, self._clock.now())
            return None
        code = replace(code, attempts_left=code.attempts_left - 1)
        self._codes.set(key, code, code.expires_at, self._clock.now())
        return code

    async def consume(self, key: str, issue_id: str) -> bool:
        """Delete the code if it is still this unexpired issue; True for exactly one caller."""
        code = self._codes.get(key, self._clock.now())
        if code is None or code.issue_id != issue_id:
            return False
        self._codes.pop(key, self._clock.now())
        return True

    async def discard(self, key: str) -> None:
        """Forget the code under the key."""
        self._codes.pop(key, self._clock.now())


class MemoryTokenStore:
    """Single-use records kept in a dict; see `core.ports.TokenStore`."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._tokens: _TimedDict[dict[str, str]] = _TimedDict()

    async def put(self, key: str, data: Mapping[str, str], ttl: timedelta) -> None:
        """Store the record for `ttl`, replacing any earlier one."""
        now = self._clock.now()
        self._tokens.set(key, dict(data), now + ttl, now)

    async def peek(self, key: str) -> dict[str, str] | None:
        """The record if present and unexpired, without using it up."""
        data = self._tokens.get(key, self._clock.now())
        return None if data is None else dict(data)

    async def pop(self, key: str) -> dict[str, str] | None:
        """The unexpired record, removed: exactly one concurrent caller gets it."""
        return self._tokens.pop(key, self._clock.now())

    async def delete(self, key: str) -> None:
        """Forget the record."""
        self._tokens.pop(key, self._clock.now())


class MemoryLimiter:
    """Sliding-window logs kept in a dict; see `core.ports.Limiter`.

    Counted events are a sorted list of times per key; slots held by work in flight are kept
    apart (slot id -> time), so `reset` can forget the events and keep the slots.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._events: _TimedDict[list[datetime]] = _TimedDict()
        self._held: _TimedDict[dict[str, datetime]] = _TimedDict()

    async def acquire(self, rules: Sequence[Rule]) -> datetime | None:
        """Count one event per rule if every rule allows it; else count none, say when all will."""
        now = self._clock.now()
        retry_at = self._retry_at(rules, now)
        if retry_at is not None:
            return retry_at
        for key, longest in _longest(rules).items():
            self._count(key, now, longest)
        return None

    async def check(self, rules: Sequence[Rule]) -> datetime | None:
        """What `acquire` would answer, without counting anything."""
        return self._retry_at(rules, self._clock.now())

    async def reset(self, key: str) -> None:
        """Forget every counted event under the key; slots still held stay."""
        self._events.pop(key, self._clock.now())

    async def reserve(self, rules: Sequence[Rule], slot: str) -> datetime | None:
        """Hold one slot per rule if every rule has room (held slots count); else none, say when."""
        now = self._clock.now()
        retry_at = self._retry_at(rules, now)
        if retry_at is not None:
            return retry_at
        for key, longest in _longest(rules).items():
            held = {s: t for s, t in (self._held.get(key, now) or {}).items() if t > now - longest}
            held[slot] = now
            self._held.set(key, held, max(held.values()) + longest, now)
        return None

    async def confirm(self, rules: Sequence[Rule], slot: str) -> None:
        """The held slot becomes a counted event, at the time it was reserved."""
        now = self._clock.now()
        for key, longest in _longest(rules).items():
            at = self._take(key, slot, now)
            if at is not None:
                self._count(key, at, longest)

    async def release(self, rules: Sequence[Rule], slot: str) -> None:
        """Give the held slot back: the work it was for does not count."""
        now = self._clock.now()
        for key in _longest(rules):
            self._take(key, slot, now)

    def _count(self, key: str, at: datetime, longest: timedelta) -> None:
        now = self._clock.now()
        events = self._events.get(key, now) or []
        # Older events can no longer count against the longest window in use for this key.
        events = events[bisect.bisect_right(events, now - longest) :]
        bisect.insort(events, at)
        self._events.set(key, events, events[-1] + longest, now)

    def _take(self, key: str, slot: str, now: datetime) -> datetime | None:
        held = self._held.get(key, now)
        if held is None or slot not in held:
            return None
        at = held.pop(slot)
        if not held:
            self._held.pop(key, now)
        return at

    def _retry_at(self, rules: Sequence[Rule], now: datetime) -> datetime | None:
        retry_at: datetime | None = None
        for rule in rules:
            events = self._events.get(rule.key, now) or []
            held = (self._held.get(rule.key, now) or {}).values()
            floor = now - rule.window
            recent = sorted([t for t in events if t > floor] + [t for t in held if t > floor])
            if len(recent) >= rule.limit:
                # The rule allows again once enough events slide out to leave room for one more.
                # A rule that allows nothing at all answers a window from now, as Redis does.
                oldest = recent[len(recent) - rule.limit] if rule.limit > 0 else now
                free_at = oldest + rule.window
                retry_at = free_at if retry_at is None else max(retry_at, free_at)
        return retry_at


def _longest(rules: Sequence[Rule]) -> dict[str, timedelta]:
    """Each key once, with the longest window any rule gives it."""
    longest: dict[str, timedelta] = {}
    for rule in rules:
        longest[rule.key] = max(longest.get(rule.key, rule.window), rule.window)
    return longest


@dataclass(frozen=True)
class _Cooling:
    sends: int
    last_send: datetime
    next_allowed: datetime


class MemoryCooldowns:
    """Doubling resend cooldowns kept in a dict; see `core.ports.Cooldowns`."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._states: _TimedDict[_Cooling] = _TimedDict()

    async def start(self, key: str, base: timedelta, horizon: timedelta) -> timedelta | None:
        """Time left if still cooling down; else record a send and double the next wait."""
        now = self._clock.now()
        state = self._states.get(key, now)
        if state is not None and now < state.next_allowed:
            return state.next_allowed - now
        sends = 0 if state is None or now - state.last_send >= horizon else state.sends
        wait = base * 2 ** min(sends, _MAX_DOUBLINGS)
        state = _Cooling(sends=sends + 1, last_send=now, next_allowed=now + wait)
        self._states.set(key, state, max(now + wait, now + horizon), now)
        return None

    async def remaining(self, key: str) -> timedelta | None:
        """Time left before the next send is allowed, or None if it is allowed now."""
        now = self._clock.now()
        state = self._states.get(key, now)
        return state.next_allowed - now if state is not None and now < state.next_allowed else None

    async def deadline(self, key: str) -> datetime | None:
        """The stored moment the next send is allowed at, while it is still ahead."""
        now = self._clock.now()
        state = self._states.get(key, now)
        return state.next_allowed if state is not None and now < state.next_allowed else None

    async def clear(self, key: str) -> None:
        """Forget the key's sends and cooldown."""
        self._states.pop(key, self._clock.now())
