"""Limits and cooldowns behave the same in memory and in Redis (PRODUCT §1.9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from core.adapters.memory_stores import MemoryCooldowns, MemoryLimiter
from core.adapters.redis import RedisCooldowns, RedisLimiter
from core.ports import Cooldowns, Limiter, Rule
from tests.conftest import FakeClock

DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


@dataclass
class Stores:
    limiter: Limiter
    cooldowns: Cooldowns


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def stores(request: pytest.FixtureRequest, clock: FakeClock) -> Stores:
    if request.param == "memory":
        return Stores(MemoryLimiter(clock), MemoryCooldowns(clock))
    redis = request.getfixturevalue("redis_client")
    return Stores(
        RedisLimiter(redis, clock, redis.test_prefix),
        RedisCooldowns(redis, clock, redis.test_prefix),
    )


def sms_rules(number: str, account: int = 1, user: int = 100) -> list[Rule]:
    return [
        Rule(f"sms:number:{number}", 5, DAY),
        Rule(f"sms:account:{account}", 10, DAY),
        Rule(f"sms:user:{user}", 10, DAY),
    ]


# --- limits ------------------------------------------------------------------------------------


async def test_a_sixth_sms_to_a_number_waits_for_the_first_to_slide_out(
    stores: Stores, clock: FakeClock
) -> None:
    first = clock.now()
    for _ in range(5):
        assert await stores.limiter.acquire(sms_rules("+7999")) is None
        clock.advance(hours=1)

    assert await stores.limiter.acquire(sms_rules("+7999")) == first + DAY
    clock.current = first + DAY
    assert await stores.limiter.acquire(sms_rules("+7999")) is None
    assert await stores.limiter.acquire(sms_rules("+7999")) == first + DAY + timedelta(hours=1)


async def test_a_refused_sms_counts_against_no_rule(stores: Stores, clock: FakeClock) -> None:
    for _ in range(5):
        assert await stores.limiter.acquire(sms_rules("+7001")) is None
    for _ in range(3):  # refused by the number's cap, so the account's and user's must not grow
        assert await stores.limiter.acquire(sms_rules("+7001")) is not None

    results = [await stores.limiter.acquire(sms_rules("+7002")) for _ in range(5)]

    assert results == [None] * 5
    assert await stores.limiter.acquire(sms_rules("+7003")) == clock.now() + DAY


async def test_the_wait_is_the_latest_of_the_blocking_rules(
    stores: Stores, clock: FakeClock
) -> None:
    first = clock.now()
    for number in ("+7001", "+7002"):
        for _ in range(5):
            assert await stores.limiter.acquire(sms_rules(number, user=200)) is None
            clock.advance(hours=1)

    # The account's ten sends free up at first + 24 h; the number +7002's five only 5 h later.
    assert await stores.limiter.check(sms_rules("+7002", user=300)) == first + DAY + 5 * HOUR
    assert await stores.limiter.check(sms_rules("+7003", user=300)) == first + DAY


async def test_checking_a_limit_counts_nothing(stores: Stores) -> None:
    for _ in range(10):
        assert await stores.limiter.check(sms_rules("+7001")) is None

    assert [await stores.limiter.acquire(sms_rules("+7001")) for _ in range(5)] == [None] * 5
    assert await stores.limiter.check(sms_rules("+7001")) is not None


async def test_a_reset_limit_allows_again(stores: Stores) -> None:
    rule = Rule("signin:alice@example.com", 5, 15 * MINUTE)
    for _ in range(5):
        await stores.limiter.acquire([rule])

    await stores.limiter.reset(rule.key)

    assert await stores.limiter.acquire([rule]) is None


# --- cooldowns ---------------------------------------------------------------------------------


async def test_each_resend_doubles_the_cooldown(stores: Stores, clock: FakeClock) -> None:
    waits = []
    for _ in range(3):
        assert await stores.cooldowns.start("resend:1", MINUTE, DAY) is None
        waits.append(await stores.cooldowns.remaining("resend:1"))
        clock.current += waits[-1] or timedelta()

    assert waits == [MINUTE, 2 * MINUTE, 4 * MINUTE]


async def test_a_resend_too_soon_says_how_long_to_wait(stores: Stores, clock: FakeClock) -> None:
    await stores.cooldowns.start("resend:1", MINUTE, DAY)
    clock.advance(seconds=20)

    assert await stores.cooldowns.start("resend:1", MINUTE, DAY) == timedelta(seconds=40)
    assert await stores.cooldowns.remaining("resend:1") == timedelta(seconds=40)
    clock.advance(seconds=40)
    assert await stores.cooldowns.remaining("resend:1") is None


async def test_the_doubling_is_forgotten_after_the_horizon(
    stores: Stores, clock: FakeClock
) -> None:
    await stores.cooldowns.start("resend:1", MINUTE, timedelta(hours=1))
    clock.advance(minutes=1)
    await stores.cooldowns.start("resend:1", MINUTE, timedelta(hours=1))
    clock.advance(hours=1)

    assert await stores.cooldowns.start("resend:1", MINUTE, timedelta(hours=1)) is None
    assert await stores.cooldowns.remaining("resend:1") == MINUTE


async def test_a_cleared_cooldown_allows_a_send_at_once(stores: Stores) -> None:
    await stores.cooldowns.start("resend:1", MINUTE, DAY)
    await stores.cooldowns.clear("resend:1")

    assert await stores.cooldowns.remaining("resend:1") is None
    assert await stores.cooldowns.start("resend:1", MINUTE, DAY) is None
