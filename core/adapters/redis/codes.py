"""One-time codes as Redis hashes; attempts and consumption are Lua scripts, so atomic."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from core.adapters.redis._base import GRACE_MS, RedisStore, from_ms, text, to_ms
from core.ports import Clock, StoredCode

_DATA = "d:"  # the prefix of the fields holding the code's data, one item each
_PACKED_DIGEST = "h"  # the digest's bytes in base64, when it is lowercase hex
_HEX = re.compile(r"(?:[0-9a-f]{2})+")

# KEYS[1] code; ARGV now. Void codes are deleted; otherwise one attempt is spent.
_TAKE_ATTEMPT = """
local f = redis.call('HMGET', KEYS[1], 'expires', 'attempts')
if not f[1] then return false end
if tonumber(f[1]) <= tonumber(ARGV[1]) or tonumber(f[2]) <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('HINCRBY', KEYS[1], 'attempts', -1)
return redis.call('HGETALL', KEYS[1])
"""

# KEYS[1] code; ARGV now, issue id. Attempts are not checked: the last attempt may be the right one.
_CONSUME = """
local f = redis.call('HMGET', KEYS[1], 'expires', 'issue')
if f[1] and tonumber(f[1]) > tonumber(ARGV[1]) and f[2] == ARGV[2] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisCodeStore(RedisStore):
    """One-time codes in Redis; see `core.ports.CodeStore`."""

    kind = "code:"

    def __init__(self, redis: Redis, clock: Clock, prefix: str = "accountbot:") -> None:
        super().__init__(redis, clock, prefix)
        self._take_attempt = redis.register_script(_TAKE_ATTEMPT)
        self._consume = redis.register_script(_CONSUME)

    async def put(self, key: str, code: StoredCode) -> None:
        """Store a newly issued code, replacing any earlier one under the key."""
        expires_ms = to_ms(code.expires_at)
        fields: dict[FieldT, EncodableT] = {
            **_digest_field(code.digest),
            "expires": expires_ms,
            "attempts": code.attempts_left,
            "issue": code.issue_id,
            # One field per item: a value over 64 bytes (the data as one JSON) would turn the
            # hash into Redis's hashtable encoding, twice the memory of its listpack.
            **{_DATA + name: value for name, value in code.data.items()},
        }
        ttl_ms = max(expires_ms - self._now_ms(), 0) + GRACE_MS
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(key))
            pipe.hset(self._key(key), mapping=fields)
            pipe.pexpire(self._key(key), ttl_ms)
            await pipe.execute()

    async def get(self, key: str) -> StoredCode | None:
        """The code if present, unexpired and with attempts left, else None."""
        raw = await self._redis.hgetall(self._key(key))
        if not raw:
            return None
        code = _decode({text(k): text(v) for k, v in raw.items()})
        if code.expires_at <= self._clock.now() or code.attempts_left <= 0:
            return None
        return code

    async def take_attempt(self, key: str) -> StoredCode | None:
        """Spend one attempt: the code with the attempts left after it; None (deleted) if void."""
        flat = await self._take_attempt(keys=[self._key(key)], args=[self._now_ms()])
        return None if flat is None else _decode(_pairs(flat))

    async def consume(self, key: str, issue_id: str) -> bool:
        """Delete the code if it is still this unexpired issue; True for exactly one caller."""
        deleted = await self._consume(keys=[self._key(key)], args=[self._now_ms(), issue_id])
        return bool(deleted)

    async def discard(self, key: str) -> None:
        """Forget the code under the key."""
        await self._redis.delete(self._key(key))


def _digest_field(digest: str) -> dict[FieldT, EncodableT]:
    """A hex digest as its bytes in base64 (an HMAC-SHA256: 44 bytes, not 64); other text as is."""
    if _HEX.fullmatch(digest):
        return {_PACKED_DIGEST: base64.b64encode(bytes.fromhex(digest)).decode()}
    return {"digest": digest}


def _pairs(flat: Sequence[bytes | str]) -> dict[str, str]:
    return {text(flat[i]): text(flat[i + 1]) for i in range(0, len(flat), 2)}


def _decode(fields: Mapping[str, str]) -> StoredCode:
    data = {k[len(_DATA) :]: v for k, v in fields.items() if k.startswith(_DATA)}
    if "data" in fields:  # a code stored before the items had fields of their own
        data.update(json.loads(fields["data"]))
    packed = fields.get(_PACKED_DIGEST)
    return StoredCode(
        digest=base64.b64decode(packed).hex() if packed else fields["digest"],
        expires_at=from_ms(int(fields["expires"])),
        attempts_left=int(fields["attempts"]),
        issue_id=fields["issue"],
        data=data,
    )
