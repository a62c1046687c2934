"""Slots reserved before the work they limit (PRODUCT §1.9), the same in memory and in Redis."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.adapters.memory_stores import MemoryLimiter
from core.adapters.redis import RedisLimiter
from core.ports import Limiter, Rule
from tests.conftest import FakeClock

WINDOW = timedelta(minutes=15)
LOGIN = Rule("login:ivan", 5, WINDOW)
ADDRESS = Rule("login-addr:203.0.113.7", 50, WINDOW)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request: pytest.FixtureRequest, clock: FakeClock) -> Limiter:
    if request.param == "memory":
        return MemoryLimiter(clock)
    redis = request.getfixturevalue("redis_client")
    return RedisLimiter(redis, clock, redis.test_prefix)


async def test_fifty_racing_reservations_get_exactly_five_slots(limiter: Limiter) -> None:
    answers = await asyncio.gather(
        *(limiter.reserve([LOGIN, ADDRESS], f"slot{n}") for n in range(50))
    )

    assert answers.count(None) == 5
    # The refused took nothing: the address rule counts the five only.
    assert await limiter.check([Rule(ADDRESS.key, 6, WINDOW)]) is None
    assert await limiter.check([Rule(ADDRESS.key, 5, WINDOW)]) is not None


async def test_a_released_slot_is_free_again_and_a_confirmed_one_counts(
    limiter: Limiter,
) -> None:
    for n in range(5):
        assert await limiter.reserve([LOGIN], f"s{n}") is None
    assert await limiter.reserve([LOGIN], "s5") is not None

    await limiter.release([LOGIN], "s0")
    assert await limiter.reserve([LOGIN], "s5") is None
    await limiter.confirm([LOGIN], "s1")
    await limiter.release([LOGIN], "s1")  # already settled: nothing to give back

    assert await limiter.reserve([LOGIN], "s6") is not None


async def test_reset_forgets_counted_events_but_keeps_slots_in_flight(limiter: Limiter) -> None:
    for n in range(3):
        assert await limiter.reserve([LOGIN], f"done{n}") is None
        await limiter.confirm([LOGIN], f"done{n}")
    for n in range(2):
        assert await limiter.reserve([LOGIN], f"busy{n}") is None

    await limiter.reset(LOGIN.key)

    answers = [await limiter.reserve([LOGIN], f"new{n}") for n in range(4)]
    assert answers[:3] == [None, None, None]
    assert answers[3] is not None


async def test_a_confirmed_slot_counts_from_when_it_was_reserved(
    limiter: Limiter, clock: FakeClock
) -> None:
    first = clock.now()
    for n in range(5):
        assert await limiter.reserve([LOGIN], f"s{n}") is None
    clock.advance(minutes=5)
    for n in range(5):
        await limiter.confirm([LOGIN], f"s{n}")

    assert await limiter.reserve([LOGIN], "late") == first + WINDOW
    clock.current = first + WINDOW
    assert await limiter.reserve([LOGIN], "late") is None


async def test_a_slot_never_settled_slides_out_with_its_window(
    limiter: Limiter, clock: FakeClock
) -> None:
    """A process that died while checking a password leaves its slot held: it counts (a guess
    may have been checked) until the window slides past it."""
    for n in range(5):
        assert await limiter.reserve([LOGIN], f"lost{n}") is None

    clock.advance(minutes=14)
    assert await limiter.reserve([LOGIN], "next") is not None
    clock.advance(minutes=1)
    assert await limiter.reserve([LOGIN], "next") is None
