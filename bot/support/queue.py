"""Sends into a group at Telegram's pace: one queue per group, in order, nothing dropped.

Telegram allows a bot about 20 messages a minute in one group; over it the answer is 429 with
`retry_after` (Bot API FAQ). Every send waits its turn, and a refused one is tried again after
the time Telegram asked for, so neither order nor messages are lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram.exceptions import TelegramRetryAfter

log = logging.getLogger(__name__)
Call = Callable[[], Awaitable[Any]]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class GroupQueue:
    """One worker per group; `await queue.send(call)` returns the call's result in turn."""

    sleep: Sleep = asyncio.sleep
    jobs: asyncio.Queue[tuple[Call, asyncio.Future[Any]]] = field(default_factory=asyncio.Queue)
    worker: asyncio.Task[None] | None = None

    async def send(self, call: Call) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self.jobs.put((call, future))
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(self._work())
        return await future

    async def _work(self) -> None:
        while True:
            call, future = await self.jobs.get()
            try:
                result = await self._until_accepted(call)
            except Exception as error:  # the caller decides; the queue goes on
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(result)

    async def _until_accepted(self, call: Call) -> Any:
        while True:
            try:
                return await call()
            except TelegramRetryAfter as refused:
                log.info(
                    "support group is rate limited", extra={"retry_after": refused.retry_after}
                )
                await self.sleep(refused.retry_after)

    async def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.worker


@dataclass
class PersonLine:
    """One person's relays, run one at a time in the order the person wrote them.

    Updates are handled concurrently, so message 5 may reach here a moment before message 4;
    a short wait lets the earlier one catch up, then they run sorted by message id.
    """

    settle: float = 0.2
    pending: list[tuple[int, int, Call]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    numbers: itertools.count[int] = field(default_factory=itertools.count)

    async def run(self, message_id: int, job: Call) -> None:
        heapq.heappush(self.pending, (message_id, next(self.numbers), job))
        await asyncio.sleep(self.settle)
        async with self.lock:
            while self.pending and self.pending[0][0] <= message_id:
                _, _, next_job = heapq.heappop(self.pending)
                try:
                    await next_job()
                except Exception:
                    log.exception("a support relay failed")
