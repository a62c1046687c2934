"""Redis only: racing bot instances still get exact attempts, single use and caps; keys expire."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from core.adapters.redis import RedisCodeStore, RedisCooldowns, RedisLimiter, RedisTokenStore
from core.ports import Rule, StoredCode
from tests.conftest import FakeClock

pytestmark = pytest.mark.redis


async def test_a_hundred_racing_guesses_get_exactly_five_attempts(
    redis_client: Any, clock: FakeClock
) -> None:
    codes = RedisCodeStore(redis_client, clock, redis_client.test_prefix)
    await codes.put(
        "bind:1",
        StoredCode("digest", clock.now() + timedelta(minutes=10), attempts_left=5, issue_id="i"),
    )

    taken = await asyncio.gather(*(codes.take_attempt("bind:1") for _ in range(100)))

    left = sorted(code.attempts_left for code in taken if code is not None)
    assert left == [0, 1, 2, 3, 4]


async def test_a_code_raced_by_twenty_right_guesses_is_consumed_once(
    redis_client: Any, clock: FakeClock
) -> None:
    codes = RedisCodeStore(redis_client, clock, redis_client.test_prefix)
    await codes.put(
        "bind:1",
        StoredCode("digest", clock.now() + timedelta(minutes=10), attempts_left=5, issue_id="i"),
    )

    consumed = await asyncio.gather(*(codes.consume("bind:1", "i") for _ in range(20)))

    assert consumed.count(True) == 1


async def test_fifty_racing_pops_give_the_token_to_one(redis_client: Any, clock: FakeClock) -> None:
    tokens = RedisTokenStore(redis_client, clock, redis_client.test_prefix)
    await tokens.put("oauth:state", {"user": "100"}, timedelta(minutes=10))

    popped = await asyncio.gather(*(tokens.pop("oauth:state") for _ in range(50)))

    assert [data for data in popped if data is not None] == [{"user": "100"}]


async def test_fifty_racing_sends_pass_a_cap_of_five_exactly_five_times(
    redis_client: Any, clock: FakeClock
) -> None:
    limiter = RedisLimiter(redis_client, clock, redis_client.test_prefix)
    rules = [
        Rule("sms:number:+7999", 5, timedelta(hours=24)),
        Rule("sms:user:1", 10, timedelta(hours=24)),
    ]

    results = await asyncio.gather(*(limiter.acquire(rules) for _ in range(50)))

    assert results.count(None) == 5
    # The refused forty-five left no trace on the user's count either: it holds exactly five.
    assert await limiter.check([Rule("sms:user:1", 6, timedelta(hours=24))]) is None
    assert await limiter.check([Rule("sms:user:1", 5, timedelta(hours=24))]) is not None


async def test_every_key_left_in_redis_expires_by_itself(
    redis_client: Any, clock: FakeClock
) -> None:
    prefix = redis_client.test_prefix
    codes = RedisCodeStore(redis_client, clock, prefix)
    await codes.put("bind:1", StoredCode("digest", clock.now(), attempts_left=5, issue_id="i"))
    await RedisTokenStore(redis_client, clock, prefix).put("t", {}, timedelta(minutes=10))
    await RedisLimiter(redis_client, clock, prefix).acquire([Rule("l", 5, timedelta(hours=1))])
    cooldowns = RedisCooldowns(redis_client, clock, prefix)
    await cooldowns.start("c", timedelta(minutes=1), timedelta(hours=1))

    keys = [key async for key in redis_client.scan_iter(match=prefix + "*")]

    assert len(keys) == 4
    assert all([await redis_client.pttl(key) > 0 for key in keys])
