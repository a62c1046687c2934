"""Codes and tokens behave the same in memory and in Redis (PRODUCT §1.9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from core.adapters.memory_stores import MemoryCodeStore, MemoryTokenStore
from core.adapters.redis import RedisCodeStore, RedisTokenStore
from core.ports import CodeStore, StoredCode, TokenStore
from tests.conftest import FakeClock

MINUTE = timedelta(minutes=1)


@dataclass
class Stores:
    codes: CodeStore
    tokens: TokenStore


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def stores(request: pytest.FixtureRequest, clock: FakeClock) -> Stores:
    if request.param == "memory":
        return Stores(MemoryCodeStore(clock), MemoryTokenStore(clock))
    redis = request.getfixturevalue("redis_client")
    return Stores(
        RedisCodeStore(redis, clock, redis.test_prefix),
        RedisTokenStore(redis, clock, redis.test_prefix),
    )


def sms_code(clock: FakeClock, *, attempts: int = 5, issue: str = "issue-1") -> StoredCode:
    return StoredCode(
        digest="hmac-of-123456",
        expires_at=clock.now() + 10 * MINUTE,
        attempts_left=attempts,
        issue_id=issue,
        data={"phone": "+79990000000"},
    )


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
