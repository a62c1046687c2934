"""Codes, tokens, limits and cooldowns in Redis (PRODUCT §1.9), shared by every bot instance.

Every decision about time uses the injected clock, passed into Lua as epoch milliseconds; Redis key
expiry is only garbage collection, set relative to that clock so that test clocks work too.
"""

from core.adapters.redis.codes import RedisCodeStore
from core.adapters.redis.limits import RedisCooldowns, RedisLimiter
from core.adapters.redis.tokens import RedisTokenStore

__all__ = ["RedisCodeStore", "RedisCooldowns", "RedisLimiter", "RedisTokenStore"]
