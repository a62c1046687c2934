"""Per-chat isolation on Redis whose lock a dead process cannot hold for long (PRODUCT §3).

aiogram's RedisEventIsolation takes a 60-second lock per chat: a process killed while it handled
an update leaves that chat silent for up to a minute, across restarts. Here the lock lives only
`timeout` seconds and is renewed every third of that while the handler runs, so a live handler
keeps it as long as it needs and a dead one frees it within `timeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, KeyBuilder, StorageKey
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

log = logging.getLogger(__name__)


class RenewedRedisIsolation(BaseEventIsolation):
    """One update of a chat at a time across every instance; the lock is short and renewed."""

    def __init__(
        self, redis: Redis, key_builder: KeyBuilder, *, timeout: float, poll: float = 0.05
    ) -> None:
        self.redis = redis
        self.key_builder = key_builder
        self.timeout = timeout
        self.poll = poll

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock = Lock(self.redis, self.key_builder.build(key, "lock"), timeout=self.timeout)
        lock.sleep = min(self.poll, self.timeout / 4)
        await lock.acquire()
        renewal = asyncio.create_task(self._renew(lock))
        try:
            yield None
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            with contextlib.suppress(LockError):  # expired meanwhile: someone else may have it
                await lock.release()

    async def _renew(self, lock: Lock) -> None:
        while True:
            await asyncio.sleep(self.timeout / 3)
            try:
                await lock.reacquire()
            except LockError:
                log.warning("a chat's lock expired while its update was being handled")
                return
            except Exception:  # Redis down: the handler finds out by itself
                log.warning("could not renew a chat's lock")

    async def close(self) -> None:
        pass
