"""Telegram's flood limits, as its Bot FAQ publishes them, over the sandbox clock.

Sources (docs/SANDBOX.md, "Flood limits"):

- the Bot FAQ, "My bot is hitting limits, how do I avoid this?"
  (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): in one chat
  "avoid sending more than one message per second. We may allow short bursts that go over this
  limit"; bulk notifications: "not more than 30 messages per second or so"; "your bot will not be
  able to send more than 20 messages per minute to the same group";
- Telegram's TDLib maintainer (tdlib/td#3034): "Limits for message editing and sending are
  shared", so edits count as sends.

A private chat is a token bucket (short bursts, then one a second); a group and the bot as a
whole are sliding windows ("not more than N per minute / second"). Over a limit the answer is
429 with `retry_after`: the whole seconds until a slot is free in every limit the message counts
against, at least 1 — what Telegram answers (`Too Many Requests: retry after N`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sandbox.botapi.errors import ApiError

# Float noise (a clock moved by 0.1 ten times) must not turn a free slot into a 429.
EPSILON = 1e-6


class FloodLimits(BaseSettings):
    """The sandbox's flood limits: Telegram's published figures by default, each one a setting
    (`SANDBOX_FLOOD_*` in the environment or .env; keyword arguments win)."""

    model_config = SettingsConfigDict(
        env_prefix="SANDBOX_FLOOD_", env_file=".env", extra="ignore", frozen=True
    )

    private_rate: float = Field(
        1.0,
        gt=0,
        description="messages a second a bot may send in one private chat, in the long run",
    )
    private_burst: int = Field(
        4, ge=1, description="messages a bot may send at once in a private chat that was quiet"
    )
    group_per_minute: int = Field(
        20, ge=1, description="messages a bot may send in one group a minute"
    )
    bot_per_second: int = Field(
        30, ge=1, description="messages one bot may send a second, in all chats"
    )

    def describe(self) -> str:
        """One line for the sandbox's start-up summary."""
        return (
            f"Flood limits: {self.private_rate:g}/s per private chat (bursts of "
            f"{self.private_burst}), {self.group_per_minute}/min per group, "
            f"{self.bot_per_second}/s per bot (SANDBOX_FLOOD_*)"
        )


@dataclass
class TokenBucket:
    """`burst` messages at once, refilled at `rate` a second."""

    rate: float
    burst: int
    tokens: float | None = None  # None: full, at the first use
    at: float = 0.0

    def wait(self, now: float, cost: int) -> float:
        """Seconds until `cost` messages may go (0: now)."""
        # An album bigger than the burst goes from a full bucket and leaves a debt behind.
        missing = min(cost, self.burst) - self._refill(now)
        return 0.0 if missing <= EPSILON else missing / self.rate

    def take(self, now: float, cost: int) -> None:
        self.tokens = self._refill(now) - cost

    def _refill(self, now: float) -> float:
        if self.tokens is None:
            self.tokens = float(self.burst)
        else:
            grown = self.tokens + max(0.0, now - self.at) * self.rate
            self.tokens = min(float(self.burst), grown)
        self.at = now
        return self.tokens


@dataclass
class SlidingWindow:
    """At most `limit` messages in any `period` seconds."""

    limit: int
    period: float
    times: deque[float] = field(default_factory=deque)

    def wait(self, now: float, cost: int) -> float:
        while self.times and self.times[0] <= now - self.period + EPSILON:
            self.times.popleft()
        if cost >= self.limit:  # an album as big as the limit: once the window is empty
            return self.times[-1] + self.period - now if self.times else 0.0
        over = len(self.times) + cost - self.limit
        if over <= 0:
            return 0.0
        # The `over`-th oldest message must leave the window first.
        return self.times[over - 1] + self.period - now

    def take(self, now: float, cost: int) -> None:
        self.times.extend([now] * cost)


@dataclass
class FloodGate:
    """Counts each bot's messages per chat and overall; refuses with 429 and retry_after."""

    limits: FloodLimits = field(default_factory=lambda: FloodLimits(_env_file=None))
    chats: dict[tuple[int, int], TokenBucket | SlidingWindow] = field(default_factory=dict)
    bots: dict[int, SlidingWindow] = field(default_factory=dict)
    refused: int = 0  # 429s answered, for tests that count them

    def check(self, bot_id: int, chat_id: int, is_group: bool, now: float, cost: int = 1) -> None:
        """Record `cost` messages now (an album is several, all or none), or raise
        ApiError(429) saying in whole seconds how long to wait."""
        limits = (self._chat(bot_id, chat_id, is_group), self._bot(bot_id))
        longest = max(limit.wait(now, cost) for limit in limits)
        if longest > 0:
            self.refused += 1
            raise too_many_requests(longest)
        for limit in limits:
            limit.take(now, cost)

    def _chat(self, bot_id: int, chat_id: int, is_group: bool) -> TokenBucket | SlidingWindow:
        key = (bot_id, chat_id)
        found = self.chats.get(key)
        if found is None:
            found = (
                SlidingWindow(self.limits.group_per_minute, 60.0)
                if is_group
                else TokenBucket(self.limits.private_rate, self.limits.private_burst)
            )
            self.chats[key] = found
        return found

    def _bot(self, bot_id: int) -> SlidingWindow:
        return self.bots.setdefault(bot_id, SlidingWindow(self.limits.bot_per_second, 1.0))


def too_many_requests(wait: float) -> ApiError:
    """Telegram's 429: `retry_after` is whole seconds, rounded up, at least 1."""
    retry_after = max(1, math.ceil(wait - EPSILON))
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
