"""The support desk's order of things: the person's messages relayed in the order written.

Flood control is not here: every call the bot makes, the support group's included, is paced to
Telegram's limits, kept in order per chat and retried after a 429 by the bot's session
(bot/pacing.py, PRODUCT §3).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import Unavailable

log = logging.getLogger(__name__)
Call = Callable[[], Awaitable[Any]]


class Straight:
    """`desk.queue(chat).send(call)` of callers written before bot/pacing.py: runs the call.

    Order and pace per chat are the session's now; call the bot directly instead.
    """

    async def send(self, call: Call) -> Any:
        return await call()


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
            with contextlib.suppress(TimeoutError):  # not wait_for: it can swallow a cancellation
                async with asyncio.timeout(self.patience):
                    await self.changed.wait_for(lambda: self._ready(message_id))
        async with self.lock:
            try:
                await job()
            except Unavailable:
                raise  # the person hears "temporarily unavailable" and sends it again (PRODUCT §3)
            except Exception:
                log.exception("a support relay failed")
            finally:
                if message_id > 0:
                    await self.account(message_id)

    def _ready(self, message_id: int) -> bool:
        return message_id <= 0 or self.last is None or self.last >= message_id - 1
