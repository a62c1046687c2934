"""The support chat's send queue alone: Telegram's retry_after honoured, order kept."""

from __future__ import annotations

import asyncio

from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage

from bot.support.queue import GroupQueue, PersonLine


async def test_a_refused_send_waits_as_asked_and_nothing_overtakes_it() -> None:
    waited: list[float] = []
    sent: list[int] = []
    refusals = {1: 1}

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    def send(number: int):  # type: ignore[no-untyped-def]
        async def call() -> int:
            if refusals.get(number):
                refusals[number] -= 1
                method = SendMessage(chat_id=1, text="x")
                raise TelegramRetryAfter(method, "Too Many Requests: retry after 7", 7)
            sent.append(number)
            return number

        return call

    queue = GroupQueue(sleep=sleep)
    results = await asyncio.gather(*(queue.send(send(n)) for n in range(4)))
    assert results == [0, 1, 2, 3]
    assert sent == [0, 1, 2, 3]
    assert waited == [7]


async def test_a_later_message_waits_for_the_earlier_one_of_the_same_person() -> None:
    line, done = PersonLine(patience=5), []
    line.reset(10)

    async def relay(number: int) -> None:
        done.append(number)

    later = asyncio.create_task(line.run(12, lambda: relay(12)))
    await asyncio.sleep(0)
    assert done == []
    await line.run(11, lambda: relay(11))
    await later
    assert done == [11, 12]
