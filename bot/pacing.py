"""Every Bot API call through one gate: sends paced to Telegram's limits, 429s waited out.

Telegram's Bot FAQ: about one message a second in one chat (short bursts pass), 20 a minute in
a group, 30 a second for a bot in all; over a limit the answer is 429 with `retry_after`.
PRODUCT §3.7: flood control never loses a message, every call waits it out and is retried,
and sends are paced per chat and per bot so that it is rare.

`Pacer` is an aiogram session request middleware (`bot.session.middleware(Pacer(...))`), so it
sees every call the bot makes, whoever makes it: handlers, the notifier, the support desk.

- Calls that write in a chat (send, copy, forward, edit, delete, make a topic) go through that
  chat's lane, one at a time, in the order they were made: a later one never overtakes an earlier
  one that waits for its slot or for a `retry_after`.
- Sends and edits take a slot in the chat's window and in the bot's window (sliding windows:
  at most `limit` in any `period` seconds); a slot counts from the moment Telegram answered,
  so a slow answer cannot make the next send early. Deletions keep the order but take no slot.
- Everything else (getUpdates, getMe, answerCallbackQuery, getChatMember, sendChatAction...)
  passes straight through; a 429 on it is waited out too.
- A call refused with 429 waits `retry_after` and is tried again, at most `retry_limit` times and
  `max_retry_wait` seconds in all; a give-up is logged (method and chat, never the text) and the
  `TelegramRetryAfter` reaches the caller.

Idle chats are forgotten: a lane nobody uses whose window has emptied is dropped, so memory
follows the chats active in the last minute, not every chat ever seen.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramRetryAfter

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import Response, TelegramMethod
    from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# Methods that put something in a chat: each takes a slot (or several, see `_cost`).
SENDS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendAudio",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendPaidMedia",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendChecklist",
        "sendDice",
        "sendSticker",
        "sendInvoice",
        "sendGame",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "createForumTopic",  # posts a service message in the group
        "editMessageText",  # Telegram counts edits against the chat's limit too
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "editMessageLiveLocation",
        "editMessageChecklist",
        "stopMessageLiveLocation",
        "stopPoll",
    }
)
# Methods that change a chat without a new message: they keep their place, take no slot.
IN_ORDER = frozenset({"deleteMessage", "deleteMessages", "editForumTopic", "closeForumTopic"})
# Seconds added to a slot when a window is full, against clock drift between us and Telegram.
SLACK = 0.05


@dataclass(frozen=True)
class Rate:
    """At most `limit` messages in any `period` seconds."""

    limit: int
    period: float


# Telegram's published limits (Bot FAQ); the per-chat one as a window that lets 4 through at
# once and then one a second.
PRIVATE = Rate(limit=4, period=4.0)
GROUP = Rate(limit=20, period=60.0)
OVERALL = Rate(limit=30, period=1.0)


@dataclass(eq=False)
class Mark:
    """One slot: when it was taken, moved to when Telegram answered."""

    at: float


@dataclass
class Window:
    """The last `rate.limit` slots of one chat, or of the whole bot."""

    rate: Rate
    marks: list[Mark] = field(default_factory=list)

    def free_at(self, now: float, cost: int) -> float:
        """The earliest moment `cost` more slots fit (never before a slot already taken)."""
        cost = min(cost, self.rate.limit)
        if not self.marks:
            return now
        times = sorted(mark.at for mark in self.marks)
        earliest = max(now, times[-1])
        room = self.rate.limit - cost  # marks that may stay inside the window
        if len(times) > room:
            earliest = max(earliest, times[len(times) - room - 1] + self.rate.period + SLACK)
        return earliest

    def take(self, at: float, cost: int) -> list[Mark]:
        taken = [Mark(at) for _ in range(min(cost, self.rate.limit))]
        self.marks.extend(taken)
        self.marks.sort(key=lambda mark: mark.at)
        del self.marks[: -self.rate.limit]
        return taken

    def idle(self, now: float) -> bool:
        return all(mark.at + self.rate.period <= now for mark in self.marks)


@dataclass
class Lane:
    """One chat: its calls one at a time in order, its window, a 429's "not before"."""

    window: Window
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    not_before: float = 0.0

    def idle(self, now: float) -> bool:
        return self.users == 0 and self.not_before <= now and self.window.idle(now)


@dataclass
class Budget:
    """Seconds of waiting out 429s one call has left (TELEGRAM_MAX_RETRY_WAIT)."""

    left: float


class GaveUp(TelegramRetryAfter):
    """A call not even tried: the chat must wait longer than the retry budget allows."""


@dataclass
class Pacer(BaseRequestMiddleware):
    """The session middleware; `clock` and `sleep` are injectable (tests run without waiting)."""

    retry_limit: int = 5
    max_retry_wait: float = 60.0
    private: Rate = PRIVATE
    group: Rate = GROUP
    overall: Rate = OVERALL
    pacing: bool = True
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    lanes: dict[int | str, Lane] = field(default_factory=dict)
    everyone: Window = field(init=False)
    refused: int = 0  # 429s Telegram answered
    gave_up: int = 0  # calls that reached their caller as TelegramRetryAfter
    _sweep_at: int = 64

    def __post_init__(self) -> None:
        self.everyone = Window(self.overall)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        chat = getattr(method, "chat_id", None) if name in SENDS or name in IN_ORDER else None
        if not isinstance(chat, int | str):
            return await self._tried(make_request, bot, method, None, None, 0)
        lane = self._lane(chat)
        lane.users += 1  # before any await: the order of calls is the order they came in
        try:
            async with lane.turn:
                cost = _cost(method) if name in SENDS and self.pacing else 0
                return await self._tried(make_request, bot, method, chat, lane, cost)
        finally:
            lane.users -= 1
            self._forget_idle()

    async def _tried(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
        chat: int | str | None,
        lane: Lane | None,
        cost: int,
    ) -> Response[TelegramType]:
        budget = Budget(self.max_retry_wait)  # seconds of 429 waiting this call may still spend
        retries = 0
        while True:
            marks = await self._slot(method, chat, lane, cost, budget) if lane else []
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as refused:
                self.refused += 1
                now = self.clock()
                if lane is not None:  # the lane's next call waits too (`_slot`)
                    lane.not_before = max(lane.not_before, now + refused.retry_after)
                retries += 1
                if retries > self.retry_limit or refused.retry_after > budget.left:
                    self._give_up(method, chat, retries - 1, refused.retry_after)
                    raise
                log.info(
                    "Telegram asked %s in chat %s to wait %s s",
                    method.__api_method__,
                    chat,
                    refused.retry_after,
                    extra={
                        "method": method.__api_method__,
                        "chat_id": chat,
                        "retry_after": refused.retry_after,
                    },
                )
                if lane is None:
                    budget.left -= refused.retry_after
                    await self._wait_until(now + refused.retry_after)
            finally:
                answered = self.clock()
                for mark in marks:
                    mark.at = max(mark.at, answered)

    async def _slot(
        self,
        method: TelegramMethod[Any],
        chat: int | str | None,
        lane: Lane,
        cost: int,
        budget: Budget,
    ) -> list[Mark]:
        """Wait out the chat's last 429, then, for a send, a slot in its window and the bot's.

        The bot's slot is taken only once the chat's has come: a group waiting a minute for its
        window must not hold up everyone else's sends.
        """
        now = self.clock()
        refused = max(0.0, lane.not_before - now)
        if refused > budget.left:
            self._give_up(method, chat, 0, refused)
            message = f"Too Many Requests: retry after {math.ceil(refused)}"
            raise GaveUp(method=method, message=message, retry_after=math.ceil(refused))
        budget.left -= refused
        at = now + refused
        if not cost:
            await self._wait_until(at)
            return []
        at = max(at, lane.window.free_at(now, cost))
        marks = lane.window.take(at, cost)
        await self._wait_until(at)
        at = self.everyone.free_at(self.clock(), cost)
        marks += self.everyone.take(at, cost)
        await self._wait_until(at)
        return marks

    async def _wait_until(self, moment: float) -> None:
        while (left := moment - self.clock()) > 0:
            await self.sleep(left)

    def _give_up(
        self, method: TelegramMethod[Any], chat: int | str | None, retries: int, wait: float
    ) -> None:
        self.gave_up += 1
        log.warning(
            "gave up %s in chat %s under flood control (%s retries, %s s more to wait)",
            method.__api_method__,
            chat,
            retries,
            round(wait, 1),
            extra={
                "method": method.__api_method__,
                "chat_id": chat,
                "retries": retries,
                "retry_after": wait,
            },
        )

    def _lane(self, chat: int | str) -> Lane:
        lane = self.lanes.get(chat)
        if lane is None:
            private = isinstance(chat, int) and chat > 0
            lane = self.lanes[chat] = Lane(Window(self.private if private else self.group))
        return lane

    def _forget_idle(self) -> None:
        # Amortized: a sweep when the lanes have doubled since the last one.
        if len(self.lanes) < self._sweep_at:
            return
        now = self.clock()
        for chat in [chat for chat, lane in self.lanes.items() if lane.idle(now)]:
            del self.lanes[chat]
        self._sweep_at = max(64, 2 * len(self.lanes))


def _cost(method: TelegramMethod[Any]) -> int:
    """Messages a call makes: an album or a batch copy is several."""
    for name in ("media", "message_ids"):
        items = getattr(method, name, None)
        if isinstance(items, list | tuple):
            return max(1, len(items))
    return 1


def pacer_of(bot: Bot) -> Pacer | None:
    """The bot's pacer (tests move its clock)."""
    return next((m for m in bot.session.middleware if isinstance(m, Pacer)), None)
