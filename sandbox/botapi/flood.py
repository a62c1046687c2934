"""Telegram's flood limits as sliding windows over the sandbox clock."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from sandbox.botapi.errors import ApiError


@dataclass(frozen=True)
class Window:
    """At most `limit` messages in any `period` seconds."""

    limit: int
    period: float


# Telegram's FAQ: about one message a second in a chat (short bursts pass), 20 a minute in a
# group, 30 a second overall.
PRIVATE = Window(limit=4, period=4.0)
GROUP = Window(limit=20, period=60.0)
OVERALL = Window(limit=30, period=1.0)


@dataclass
class FloodGate:
    """Counts each bot's sends per chat and overall; refuses with 429 and retry_after."""

    sent: dict[tuple[int, int], deque[float]] = field(default_factory=dict)
    refused: int = 0  # 429s answered, for tests that count them

    def check(self, bot_id: int, chat_id: int, is_group: bool, now: float) -> None:
        """Record one send now, or raise ApiError(429) saying how long to wait."""
        per_chat = GROUP if is_group else PRIVATE
        keys = (((bot_id, chat_id), per_chat), ((bot_id, 0), OVERALL))
        waits = [self._wait(key, window, now) for key, window in keys]
        longest = max(waits)
        if longest > 0:
            self.refused += 1
            retry_after = max(1, math.ceil(longest))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        for key, _ in keys:
            self.sent.setdefault(key, deque()).append(now)

    def _wait(self, key: tuple[int, int], window: Window, now: float) -> float:
        times = self.sent.setdefault(key, deque())
        while times and times[0] <= now - window.period:
            times.popleft()
        if len(times) < window.limit:
            return 0.0
        return times[0] + window.period - now
