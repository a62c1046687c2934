"""The polling loop stops when it is stopped, even when an update finishes at that moment."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import GetMe, GetUpdates
from aiogram.types import Message, Update, User

from bot.polling import Poller


async def test_a_stop_that_comes_as_an_update_finishes_is_not_lost() -> None:
    # The sandbox and the runner stop the poller by cancelling it. Python 3.11's wait_for
    # swallowed a cancellation arriving as the awaited event fired: the "stopped" poller went on
    # polling, and the stop (a restart, a test's teardown) waited for it forever.
    poller = Poller(Dispatcher(), Bot("42:TEST"))
    pause = asyncio.create_task(poller._pause(60))
    await asyncio.sleep(0)  # one turn of the loop: the pause is waiting
    poller._wake.set()  # an update finishes...
    pause.cancel()  # ...as the process is told to stop
    with pytest.raises(asyncio.CancelledError):
        await pause


class Telegram(BaseSession):
    """getUpdates and getMe only. The second getUpdates answers once update 1 was handled, and
    update 2 arrives just after: what a poller sees when an update finishes mid-call."""

    def __init__(self) -> None:
        super().__init__()
        self.poller: Poller | None = None
        self.pending = [update(1)]
        self.calls = 0
        self.arrived = asyncio.Event()

    async def make_request(
        self,
        bot: Bot,
        method: Any,
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> Any:
        if isinstance(method, GetMe):
            return User(id=42, is_bot=True, first_name="Bot", username="bot")
        assert isinstance(method, GetUpdates)
        self.calls += 1
        if self.calls == 2:
            assert self.poller is not None
            # The poller's own record has no event: wait turn by turn until update 1's task and
            # its done-callback have run (no wall clock involved).
            while 1 not in self.poller._finished:  # noqa: ASYNC110
                await asyncio.sleep(0)
            answer = self.unconfirmed(method)
            self.pending.append(update(2))
            self.arrived.set()
            return answer
        if not self.unconfirmed(method) and method.timeout:
            await self.arrived.wait()
            self.arrived.clear()
        return self.unconfirmed(method)

    def unconfirmed(self, method: GetUpdates) -> list[Update]:
        return [u for u in self.pending if u.update_id >= (method.offset or 0)]

    async def close(self) -> None:
        return None

    def stream_content(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


def update(update_id: int) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": 7, "type": "private"},
                "from": {"id": 7, "is_bot": False, "first_name": "Ivan"},
                "text": f"message {update_id}",
            },
        }
    )


async def test_an_update_that_arrives_after_the_oldest_finished_is_not_held_back() -> None:
    # The oldest running update finished while getUpdates was in flight; the poller then waited
    # POLLING_BUSY_INTERVAL for a wake-up that had already come (every polled answer after a
    # busy moment came up to a quarter of a second late; docs/PERFORMANCE.md). Here that
    # interval is an hour: a poller that waits it never sees update 2.
    handled: list[int] = []
    second = asyncio.Event()
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def note(message: Message) -> None:
        handled.append(message.message_id)
        if message.message_id == 2:
            second.set()

    telegram = Telegram()
    bot = Bot("42:TEST", session=telegram)
    poller = telegram.poller = Poller(
        dispatcher, bot, busy_interval=3600, allowed_updates=["message"]
    )
    running = asyncio.create_task(poller.run())
    try:
        async with asyncio.timeout(30):  # a hang bound, not a speed: the fixed poller needs none
            await second.wait()
    finally:
        await poller.stop()
        await running
    assert handled == [1, 2]
