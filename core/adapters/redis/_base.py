"""What every Redis store shares: the client, the clock, the key prefix and time in milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from core.ports import Clock

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

# Keys outlive their logical expiry by this much, so a clock slightly ahead of Redis never
# sees a record vanish before the clock itself says it expired.
GRACE_MS = 60_000


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of a timezone-aware datetime."""
    return (moment - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The UTC datetime of epoch milliseconds."""
    return _EPOCH + ms * _MS


def text(value: bytes | str) -> str:
    """A reply as str, whether or not the client decodes responses."""
    return value.decode() if isinstance(value, bytes) else value


class RedisStore:
    """A Redis client, a clock and the namespace `prefix + kind` for one kind of record."""

    kind = ""

    def __init__(self, redis: Redis, clock: Clock, prefix: str = "accountbot:") -> None:
        self._redis = redis
        self._clock = clock
        self._prefix = prefix + self.kind

    def _key(self, key: str) -> str:
        return self._prefix + key

    def _now_ms(self) -> int:
        return to_ms(self._clock.now())
