"""Operations per second of the memory and Redis stores: `python bench/bench_stores.py [N]`.

Redis is taken from REDIS_URL (default redis://127.0.0.1:6379/15); its keys are removed after.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from core.adapters.memory_stores import MemoryCodeStore, MemoryLimiter
from core.adapters.redis import RedisCodeStore, RedisLimiter
from core.ports import CodeStore, Limiter, Rule, StoredCode


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


async def rate(n: int, op: Callable[[int], Awaitable[object]]) -> float:
    start = time.perf_counter()
    for i in range(n):
        await op(i)
    return n / (time.perf_counter() - start)


async def take_attempts(codes: CodeStore, n: int) -> float:
    code = StoredCode("digest", RealClock().now() + timedelta(hours=1), n + 1, "issue")
    await codes.put("bench", code)
    return await rate(n, lambda _: codes.take_attempt("bench"))


async def acquires(limiter: Limiter, n: int) -> float:
    rules = [Rule(f"bench:{k}", n + 1, timedelta(hours=1)) for k in ("number", "account", "user")]
    return await rate(n, lambda _: limiter.acquire(rules))


async def main(n: int) -> None:
    clock = RealClock()
    redis = Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    try:
        rows = [
            ("take_attempt", await take_attempts(MemoryCodeStore(clock), n),
             await take_attempts(RedisCodeStore(redis, clock, prefix), n)),
            ("acquire x3 rules", await acquires(MemoryLimiter(clock), n),
             await acquires(RedisLimiter(redis, clock, prefix), n)),
        ]  # fmt: skip
        print(f"{'operation':<18}{'memory ops/s':>14}{'redis ops/s':>14}{'redis/memory':>14}")
        for name, memory, remote in rows:
            print(f"{name:<18}{memory:>14,.0f}{remote:>14,.0f}{remote / memory:>14.4f}")
    finally:
        async for key in redis.scan_iter(match=prefix + "*"):
            await redis.delete(key)
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
