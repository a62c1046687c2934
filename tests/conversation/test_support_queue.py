"""The support chat's sends: the bot's one flood-control mechanism serves them, order kept."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage, TelegramMethod

from bot.app import build_bot
from bot.pacing import Pacer, pacer_of
from bot.support.queue import PersonLine
from core.errors import Unavailable
from core.settings import Settings

GROUP = -1_001_000_000_001


async def test_the_support_group_is_paced_by_the_bots_own_session() -> None:
    settings = Settings(
        _env_file=None,
        bot_token="1:x",
        public_url="https://id.example.com",
        secret_key="s" * 32,
    )
    pacer = pacer_of(build_bot(settings))
    assert pacer is not None and pacer.group.limit == 20 and pacer.group.period == 60


async def test_a_refused_send_to_the_group_waits_as_asked_and_nothing_overtakes_it() -> None:
    now, waited, sent = [0.0], [], []
    refusals = {1: 1}

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        now[0] += seconds

    async def telegram(bot: Bot, method: TelegramMethod[Any]) -> Any:
        number = int(cast(SendMessage, method).text)
        if refusals.get(number):
            refusals[number] -= 1
            raise TelegramRetryAfter(method, "Too Many Requests: retry after 7", 7)
        sent.append((number, now[0]))
        return number

    pacer = Pacer(clock=lambda: now[0], sleep=sleep)
    bot = cast(Bot, object())
    calls = [pacer(telegram, bot, SendMessage(chat_id=GROUP, text=str(n))) for n in range(4)]
    results = await asyncio.gather(*calls)

    assert [cast(int, result) for result in results] == [0, 1, 2, 3]
    assert [number for number, _ in sent] == [0, 1, 2, 3]
    assert waited == [7]
    assert [at for _, at in sent] == [0, 7, 7, 7]


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


async def test_a_relay_the_database_failed_is_told_as_an_outage_and_the_line_goes_on() -> None:
    """The person hears "temporarily unavailable" (and sends it again) instead of a message that
    silently never reached support; the messages after it are not held up."""
    line, done = PersonLine(patience=5), []
    line.reset(10)

    async def down() -> None:
        raise Unavailable()

    async def relay(number: int) -> None:
        done.append(number)

    later = asyncio.create_task(line.run(12, lambda: relay(12)))
    with pytest.raises(Unavailable):
        await line.run(11, down)
    await later
    assert done == [12]
