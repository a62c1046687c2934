"""The argon2id hasher: round trip, refusals that never raise, rehash on new parameters; its own
bounded threads (issue #13)."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest

from core.adapters.argon2 import Argon2Hasher
from core.errors import Busy


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


class HeldArgon2:
    """argon2 whose hashes wait on their worker thread until `release` is set."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.release = threading.Event()
        self.entered = threading.Event()
        self.threads: list[str] = []

    def hash(self, password: str) -> str:
        self.threads.append(threading.current_thread().name)
        self.entered.set()
        assert self.release.wait(30), "never released"
        return self.inner.hash(password)  # type: ignore[attr-defined, no-any-return]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def running(self) -> None:
        """A hash is on its thread (and every call made before this has taken its place)."""
        assert await asyncio.to_thread(self.entered.wait, 30), "no hash started"


def held(hasher: Argon2Hasher) -> HeldArgon2:
    engine = HeldArgon2(hasher._hasher)
    hasher._hasher = engine  # type: ignore[assignment]
    return engine


async def test_hashes_run_on_the_hashers_own_threads_not_the_default_executor() -> None:
    hasher = Argon2Hasher(memory_kib=1024, time_cost=1, parallelism=1, workers=2, queue=0)
    engine = held(hasher)
    engine.release.set()
    try:
        await asyncio.gather(hasher.hash("one two three four"), hasher.hash("five six seven"))
        assert engine.threads and all(name.startswith("argon2") for name in engine.threads)
    finally:
        await hasher.close()


async def test_a_full_hasher_refuses_at_once_and_takes_work_again_when_a_hash_is_done() -> None:
    hasher = Argon2Hasher(memory_kib=1024, time_cost=1, parallelism=1, workers=1, queue=1)
    engine = held(hasher)
    running = asyncio.ensure_future(hasher.hash("first of the storm"))
    waiting = asyncio.ensure_future(hasher.hash("second of the storm"))
    try:
        await engine.running()
        with pytest.raises(Busy) as refused:
            await hasher.hash("one too many")
        assert refused.value.retry_in == timedelta(seconds=1)
        with pytest.raises(Busy):
            await hasher.verify("$argon2id$whatever", "a check counts the same")

        engine.release.set()
        assert all(h.startswith("$argon2id$") for h in await asyncio.gather(running, waiting))
        assert await hasher.hash("after the storm")
    finally:
        engine.release.set()
        await hasher.close()


async def test_a_caller_that_gave_up_keeps_its_place_until_its_hash_is_done() -> None:
    # The hash goes on on its thread after the request was cancelled: its core is still busy.
    hasher = Argon2Hasher(memory_kib=1024, time_cost=1, parallelism=1, workers=1, queue=0)
    engine = held(hasher)
    gave_up = asyncio.ensure_future(hasher.hash("a sign-in whose client left"))
    try:
        await engine.running()
        gave_up.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gave_up
        with pytest.raises(Busy):
            await hasher.hash("still busy")
    finally:
        engine.release.set()
        await hasher.close()
