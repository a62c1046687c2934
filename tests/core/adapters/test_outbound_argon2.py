"""The argon2id hasher: round trip, refusals that never raise, rehash on new parameters."""

from __future__ import annotations

import pytest

from core.adapters.argon2 import Argon2Hasher


@pytest.fixture
def hasher() -> Argon2Hasher:
    # Small memory keeps the suite fast; the defaults get their own test below.
    return Argon2Hasher(memory_kib=1024, time_cost=1, parallelism=1)


async def test_hash_verifies_with_the_same_password(hasher: Argon2Hasher) -> None:
    password_hash = await hasher.hash("correct horse battery staple")
    assert password_hash.startswith("$argon2id$")
    assert "correct horse" not in password_hash
    assert await hasher.verify(password_hash, "correct horse battery staple")


async def test_wrong_password_is_refused(hasher: Argon2Hasher) -> None:
    password_hash = await hasher.hash("correct horse battery staple")
    assert not await hasher.verify(password_hash, "correct horse battery stapler")


@pytest.mark.parametrize(
    "garbage", ["", "not a hash", "$argon2id$v=19$m=1024,t=1,p=1$broken", "$2b$12$abcdefghijk"]
)
async def test_garbage_hash_is_refused_without_an_error(hasher: Argon2Hasher, garbage: str) -> None:
    assert not await hasher.verify(garbage, "anything")


async def test_same_password_hashes_differently_each_time(hasher: Argon2Hasher) -> None:
    assert await hasher.hash("pw-one-two-three") != await hasher.hash("pw-one-two-three")


async def test_hash_made_with_old_parameters_needs_a_rehash(hasher: Argon2Hasher) -> None:
    old_hash = await hasher.hash("correct horse battery staple")
    stronger = Argon2Hasher(memory_kib=2048, time_cost=2, parallelism=1)
    assert not hasher.needs_rehash(old_hash)
    assert stronger.needs_rehash(old_hash)
    assert await stronger.verify(old_hash, "correct horse battery staple")


def test_unreadable_hash_needs_a_rehash(hasher: Argon2Hasher) -> None:
    assert hasher.needs_rehash("not a hash")


async def test_default_owasp_parameters_round_trip() -> None:
    hasher = Argon2Hasher(memory_kib=19_456, time_cost=2, parallelism=1)
    password_hash = await hasher.hash("пароль на кириллице")
    assert "$m=19456,t=2,p=1$" in password_hash
    assert await hasher.verify(password_hash, "пароль на кириллице")
    assert not hasher.needs_rehash(password_hash)
