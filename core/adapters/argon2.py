"""Password hashing with argon2id (PRODUCT §1.6), on worker threads of its own (issue #13).

A hash takes tens of milliseconds of a core and 19 MiB on purpose. It runs on its own pool of
`workers` threads (argon2 releases the GIL, so each is a core's worth), never in asyncio's default
executor: whatever else waits there would wait behind the hashes. At most `queue` hashes wait for
a worker beyond those running; one more is refused at once with `Busy`, so a storm of sign-ins
cannot pile up work that would be answered long after the person gave up.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import Busy

T = TypeVar("T")

QUEUE = 64  # hashes waiting for a worker at most (the setting ARGON2_QUEUE's default)
RETRY_IN = timedelta(seconds=1)  # a full queue of tens-of-milliseconds hashes drains within it


def cores() -> int:
    """The machine's cores (the setting ARGON2_WORKERS's default)."""
    return os.cpu_count() or 1


class Argon2Hasher:
    """argon2id hashes with parameters from settings; old hashes are flagged for a rehash."""

    def __init__(
        self,
        memory_kib: int,
        time_cost: int,
        parallelism: int,
        *,
        workers: int | None = None,
        queue: int = QUEUE,
    ) -> None:
        self._hasher = _Argon2(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        self.workers = workers or cores()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="argon2")
        # Taken on the loop, given back by the worker when the hash is done (or never started):
        # a cancelled caller does not free its slot while its hash still holds a core.
        self._slots = threading.BoundedSemaphore(self.workers + queue)

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._run(self._verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            # A hash we cannot read cannot be kept either (PRODUCT §1.6: rehash on new parameters).
            return True

    async def close(self) -> None:
        """Hashes already running finish on their threads; none waiting is started."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        if not self._slots.acquire(blocking=False):
            raise Busy(RETRY_IN)
        try:
            future: Future[T] = self._pool.submit(work, *args)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _: self._slots.release())
        return await asyncio.wrap_future(future)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            # VerifyMismatchError and the other argon2 failures mean "not this password".
            return False
