"""The polling loop stops when it is stopped, even when an update finishes at that moment."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot, Dispatcher

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
