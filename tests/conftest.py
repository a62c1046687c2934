"""Shared fixtures: a clock you can move, real databases and a Redis key space per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests import services


class FakeClock:
    """A clock that only moves when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float = 0, **kwargs: float) -> None:
        self.current += timedelta(seconds=seconds, **kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    url = await services.create_pg_database()
    try:
        yield url
    finally:
        await services.drop_pg_database(url)


@pytest.fixture
async def redis_client() -> AsyncIterator[object]:
    """A Redis client whose keys are removed after the test."""
    from redis.asyncio import Redis

    client = Redis.from_url(services.redis_url())
    prefix = f"test:{uuid.uuid4().hex[:8]}:"
    client.test_prefix = prefix  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        async for key in client.scan_iter(match=prefix + "*"):
            await client.delete(key)
        await client.aclose()
