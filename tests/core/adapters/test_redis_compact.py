"""Redis records stay small (issue #13: at most 1 KB per conversation in progress)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from core.adapters.redis import RedisCodeStore, RedisTokenStore
from core.ports import StoredCode
from tests.conftest import FakeClock

pytestmark = pytest.mark.redis


def email_code(clock: FakeClock) -> StoredCode:
    return StoredCode(
        digest="9f" * 32,  # an HMAC-SHA256, hex
        expires_at=clock.now() + timedelta(hours=1),
        attempts_left=5,
        issue_id="37051175625153d5",
        data={"address": "ivan.petrov@example.com", "workspaces": "", "locale": "ru"},
    )


async def test_a_code_is_a_compact_hash_and_comes_back_whole(
    redis_client: Any, clock: FakeClock
) -> None:
    codes = RedisCodeStore(redis_client, clock, redis_client.test_prefix)
    await codes.put("code:email:1", email_code(clock))

    key = f"{redis_client.test_prefix}code:code:email:1"
    assert await redis_client.object("encoding", key) == b"listpack"
    assert await codes.get("code:email:1") == email_code(clock)
    taken = await codes.take_attempt("code:email:1")
    assert taken is not None
    assert taken.data == email_code(clock).data


async def test_a_code_stored_before_its_data_had_fields_of_its_own_still_works(
    redis_client: Any, clock: FakeClock
) -> None:
    codes = RedisCodeStore(redis_client, clock, redis_client.test_prefix)
    code = email_code(clock)
    key = f"{redis_client.test_prefix}code:code:email:1"
    expires = int(code.expires_at.timestamp() * 1000)
    fields = {"digest": code.digest, "expires": expires, "attempts": 5, "issue": code.issue_id}
    await redis_client.hset(key, mapping={**fields, "data": json.dumps(dict(code.data))})

    assert await codes.get("code:email:1") == code


async def test_a_token_is_compact_json(redis_client: Any, clock: FakeClock) -> None:
    tokens = RedisTokenStore(redis_client, clock, redis_client.test_prefix)
    await tokens.put("emaillink:abc", {"address": "иван@пример.рф"}, timedelta(hours=1))

    raw = (await redis_client.get(f"{redis_client.test_prefix}token:emaillink:abc")).decode()
    assert " " not in raw
    assert "иван@пример.рф" in raw
    assert await tokens.peek("emaillink:abc") == {"address": "иван@пример.рф"}
