"""Sends into a group at Telegram's pace: one queue per group, in order, nothing dropped.

Telegram allows a bot about 20 messages a minute in one group; over it the answer is 429 with
`retry_after` (Bot API FAQ). Every send waits its turn, and a refused one is tried again after
the time Telegram asked for, so neither order nor messages are lost.
"""

from __future__ import annotations

import asyncio
import contextlib
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
        # Ends when the queue is empty (no idle task per chat); `send` starts a new one.
        while not self.jobs.empty():
            call, future = self.jobs.get_nowait()
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
    """One person's relays, one at a time and in the order the person wrote them.

    Updates are handled concurrently, so message 5 may reach here before message 4. In a
    private chat message ids grow by one for every message, the bot's included, so a relay
    waits until every id before its own is accounted for (relayed, or one the bot sent), and
    goes anyway after `patience` seconds (a message this process never saw must not stall it).
    """

    patience: float = 5.0
    last: int | None = None
    done: set[int] = field(default_factory=set)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def reset(self, last: int | None) -> None:
        """A handoff starts (after the bot's message `last`) or ends (None)."""
        self.last, self.done = last, set()

    async def account(self, message_id: int) -> None:
        """Message `message_id` of this chat needs nothing more from the line."""
        async with self.changed:
            if self.last is None:
                self.last = message_id
            elif message_id > self.last:
                self.done.add(message_id)
                while self.last + 1 in self.done:
                    self.last += 1
                    self.done.discard(self.last)
            self.changed.notify_all()

    async def run(self, message_id: int, job: Call) -> None:
        """Run `job` for the person's message `message_id` once the earlier ones ran."""
        async with self.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.changed.wait_for(lambda: self._ready(message_id)), self.patience
                )
        async with self.lock:
            try:
                await job()
            except Exception:
                log.exception("a support relay failed")
            finally:
                if message_id > 0:
                    await self.account(message_id)

    def _ready(self, message_id: int) -> bool:
        return message_id <= 0 or self.last is None or self.last >= message_id - 1
