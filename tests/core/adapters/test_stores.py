"""Codes, tokens, limits and cooldowns behave the same in memory and in Redis (SPEC §1.9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from core.adapters.memory_stores import (
    MemoryCodeStore,
    MemoryCooldowns,
    MemoryLimiter,
    MemoryTokenStore,
)
from core.adapters.redis import RedisCodeStore, RedisCooldowns, RedisLimiter, RedisTokenStore
from core.ports import CodeStore, Cooldowns, Limiter, Rule, StoredCode, TokenStore
from tests.conftest import FakeClock

DAY = timedelta(hours=24)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@dataclass
class Stores:
    codes: CodeStore
    tokens: TokenStore
    limiter: Limiter
    cooldowns: Cooldowns


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def stores(request: pytest.FixtureRequest, clock: FakeClock) -> Stores:
    if request.param == "memory":
        return Stores(
            MemoryCodeStore(clock),
            MemoryTokenStore(clock),
            MemoryLimiter(clock),
            MemoryCooldowns(clock),
        )
    redis = request.getfixturevalue("redis_client")
    prefix = redis.test_prefix
    return Stores(
        RedisCodeStore(redis, clock, prefix),
        RedisTokenStore(redis, clock, prefix),
        RedisLimiter(redis, clock, prefix),
        RedisCooldowns(redis, clock, prefix),
    )


def sms_code(clock: FakeClock, *, attempts: int = 5, issue: str = "issue-1") -> StoredCode:
    return StoredCode(
        digest="hmac-of-123456",
        expires_at=clock.now() + 10 * MINUTE,
        attempts_left=attempts,
        issue_id=issue,
        data={"phone": "+79990000000"},
    )


def sms_rules(number: str, account: int = 1, user: int = 100) -> list[Rule]:
    return [
        Rule(f"sms:number:{number}", 5, DAY),
        Rule(f"sms:account:{account}", 10, DAY),
        Rule(f"sms:user:{user}", 10, DAY),
    ]


# --- codes -------------------------------------------------------------------------------------


async def test_a_stored_code_comes_back_as_it_was_issued(stores: Stores, clock: FakeClock) -> None:
    await stores.codes.put("bind:1", sms_code(clock))

    assert await stores.codes.get("bind:1") == sms_code(clock)


async def test_a_code_is_void_once_it_expires(stores: Stores, clock: FakeClock) -> None:
    await stores.codes.put("bind:1", sms_code(clock))
    clock.advance(minutes=10)

    assert await stores.codes.get("bind:1") is None
    assert await stores.codes.take_attempt("bind:1") is None
    assert await stores.codes.consume("bind:1", "issue-1") is False


async def test_each_guess_spends_one_attempt_until_none_are_left(
    stores: Stores, clock: FakeClock
) -> None:
    await stores.codes.put("bind:1", sms_code(clock, attempts=5))

    left = [
        getattr(await stores.codes.take_attempt("bind:1"), "attempts_left", None) for _ in range(6)
    ]

    assert left == [4, 3, 2, 1, 0, None]
    assert await stores.codes.get("bind:1") is None


async def test_the_last_attempt_can_still_be_the_right_one(
    stores: Stores, clock: FakeClock
) -> None:
    await stores.codes.put("bind:1", sms_code(clock, attempts=1))

    taken = await stores.codes.take_attempt("bind:1")

    assert taken is not None
    assert taken.attempts_left == 0
    assert await stores.codes.consume("bind:1", taken.issue_id) is True


async def test_a_code_is_consumed_only_once(stores: Stores, clock: FakeClock) -> None:
    await stores.codes.put("bind:1", sms_code(clock))

    assert await stores.codes.consume("bind:1", "issue-1") is True
    assert await stores.codes.consume("bind:1", "issue-1") is False
    assert await stores.codes.get("bind:1") is None


async def test_a_resent_code_replaces_the_old_one(stores: Stores, clock: FakeClock) -> None:
    await stores.codes.put("bind:1", sms_code(clock, attempts=1, issue="old"))
    await stores.codes.put("bind:1", sms_code(clock, attempts=5, issue="new"))

    assert await stores.codes.consume("bind:1", "old") is False
    code = await stores.codes.take_attempt("bind:1")
    assert code is not None
    assert (code.issue_id, code.attempts_left) == ("new", 4)


async def test_a_discarded_code_is_gone(stores: Stores, clock: FakeClock) -> None:
    await stores.codes.put("bind:1", sms_code(clock))
    await stores.codes.discard("bind:1")

    assert await stores.codes.take_attempt("bind:1") is None


# --- tokens ------------------------------------------------------------------------------------


async def test_peeking_a_token_does_not_use_it_up(stores: Stores) -> None:
    await stores.tokens.put("oauth:state", {"user": "100"}, 10 * MINUTE)

    assert await stores.tokens.peek("oauth:state") == {"user": "100"}
    assert await stores.tokens.pop("oauth:state") == {"user": "100"}
    assert await stores.tokens.pop("oauth:state") is None


async def test_an_expired_token_is_refused(stores: Stores, clock: FakeClock) -> None:
    await stores.tokens.put("oauth:state", {"user": "100"}, 10 * MINUTE)
    clock.advance(minutes=10)

    assert await stores.tokens.peek("oauth:state") is None
    assert await stores.tokens.pop("oauth:state") is None


async def test_a_deleted_token_is_refused(stores: Stores) -> None:
    await stores.tokens.put("link:abc", {"account": "1"}, 10 * MINUTE)
    await stores.tokens.delete("link:abc")

    assert await stores.tokens.peek("link:abc") is None


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
