"""What a conversation in progress holds: Redis bytes (MEMORY USAGE) and process memory (RSS).

A conversation in progress is a signed-in person who pressed "Bind email" and sent the address:
the bot now waits for the code. The baselines are bare aiogram's 2-step FSM at its code step.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from aiogram.types import Update

from bench import common, dispatch
from bench.common import Size, Updates

# The steps that leave the bot waiting for the code (the FSM is at its code step).
TO_CODE = ("bind_email", "email")


def to_code(updates: Updates, who: int) -> list[Update]:
    steps = dict(dispatch.STEPS)
    return [steps[name](updates, who) for name in TO_CODE]


async def drive(target: dispatch.Target, people: list[int], parallel: int) -> None:
    """Every person to the code step, `parallel` at a time, updates built as they are fed."""
    queue: Iterator[int] = iter(people)

    async def worker() -> None:
        for who in queue:
            for update in to_code(target.updates, who):
                await target.feed(update)

    await asyncio.gather(*(worker() for _ in range(parallel)))


async def usage(redis: Any, prefix: str) -> tuple[int, int]:
    """Bytes (MEMORY USAGE) and number of the keys under `prefix`."""
    total, keys = 0, 0
    async for key in redis.scan_iter(match=prefix + "*", count=1000):
        total += int(await redis.memory_usage(key, samples=0) or 0)
        keys += 1
    return total, keys


async def redis_per_conversation(target: dispatch.Target, redis: Any, prefix: str, n: int) -> Any:
    await drive(target, target.take(2), 2)  # warm up: the bot's own keys exist already
    before = await usage(redis, prefix)
    await drive(target, target.take(n), 4)
    after = await usage(redis, prefix)
    return (after[0] - before[0]) / n, (after[1] - before[1]) / n


async def pg_bytes_per_account(services: Any, n: int) -> float:
    import sqlalchemy as sa

    engine = common.engine_of(services)

    async def size() -> int:
        async with engine.connect() as conn:
            query = sa.text("SELECT pg_database_size(current_database())")
            return int((await conn.execute(query)).scalar_one())

    before = await size()
    await dispatch.seed(services, n, [9_000_000_000 + i for i in range(n)])
    return (await size() - before) / n


async def redis_bytes(size: Size) -> dict[str, Any]:
    from redis.asyncio import Redis

    n = size.redis_conversations
    redis = Redis.from_url(common.REDIS_URL)
    try:
        async with dispatch.full_bot("redis", n + 4) as full:
            prefix = full.services.settings.redis_prefix
            full_bytes, full_keys = await redis_per_conversation(full, redis, prefix, n)
            pg_account = await pg_bytes_per_account(full.services, max(n * 4, 20))
        async with dispatch.bare_bot("redis", n + 4) as bare:
            bare_bytes, bare_keys = await redis_per_conversation(
                bare, redis, bare.extra["prefix"], n
            )
    finally:
        await redis.aclose()
    return {
        "redis_bytes_per_conversation": full_bytes,
        "redis_keys_per_conversation": full_keys,
        "bare_redis_bytes_per_conversation": bare_bytes,
        "bare_redis_keys_per_conversation": bare_keys,
        "pg_bytes_per_account": pg_account,
    }


async def rss_per_conversation(target: dispatch.Target, n: int) -> float:
    await drive(target, target.take(8), 8)  # warm up
    gc.collect()
    before = common.rss_kb()
    await drive(target, target.take(n), 8)
    gc.collect()
    return (common.rss_kb() - before) / n


async def rss(size: Size) -> dict[str, Any]:
    n = size.memory_conversations
    started = datetime.now(UTC)
    async with dispatch.full_bot("memory", n + 8) as full:
        full_kb = await rss_per_conversation(full, n)
    async with dispatch.bare_bot("memory", n + 8) as bare:
        bare_kb = await rss_per_conversation(bare, n)
    return {
        "rss_kb_per_conversation": full_kb,
        "bare_rss_kb_per_conversation": bare_kb,
        "rss_conversations": n,
        "rss_seconds": (datetime.now(UTC) - started).total_seconds(),
    }


async def main(size: Size) -> dict[str, Any]:
    return {**await redis_bytes(size), **await rss(size)}
