"""Single-use records as Redis strings; GETDEL hands each one to exactly one caller."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta

from core.adapters.redis._base import GRACE_MS, RedisStore, text


class RedisTokenStore(RedisStore):
    """Single-use records in Redis; see `core.ports.TokenStore`."""

    kind = "token:"

    async def put(self, key: str, data: Mapping[str, str], ttl: timedelta) -> None:
        """Store the record for `ttl`, replacing any earlier one."""
        ttl_ms = max(ttl // timedelta(milliseconds=1), 0)
        record = json.dumps(
            {"expires": self._now_ms() + ttl_ms, "data": dict(data)},
            separators=(",", ":"),
            ensure_ascii=False,
        )
        await self._redis.set(self._key(key), record, px=ttl_ms + GRACE_MS)

    async def peek(self, key: str) -> dict[str, str] | None:
        """The record if present and unexpired, without using it up."""
        return self._unexpired(await self._redis.get(self._key(key)))

    async def pop(self, key: str) -> dict[str, str] | None:
        """The unexpired record, removed: exactly one concurrent caller gets it."""
        return self._unexpired(await self._redis.getdel(self._key(key)))

    async def delete(self, key: str) -> None:
        """Forget the record."""
        await self._redis.delete(self._key(key))

    def _unexpired(self, raw: bytes | str | None) -> dict[str, str] | None:
        if raw is None:
            return None
        record = json.loads(text(raw))
        if record["expires"] <= self._now_ms():
            return None
        data: dict[str, str] = record["data"]
        return data
