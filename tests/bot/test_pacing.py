"""The pacer alone, on a fake clock: Telegram's limits kept, order kept, 429s waited out."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, DeleteMessage, GetMe, SendMessage, TelegramMethod

from bot.pacing import Pacer, Rate
from sandbox.botapi.errors import ApiError
from sandbox.botapi.flood import FloodGate

BOT = cast(Bot, object())


class Telegram:
    """Time that moves only by sleeping, and a Bot API that refuses as the sandbox does."""

    def __init__(self) -> None:
        self.now = 0.0
        self.gate = FloodGate()  # the sandbox's model of Telegram's limits is the referee
        self.calls: list[tuple[float, str, Any, str]] = []  # (time, method, chat, text)
        self.refuse: list[int] = []  # retry_after of the next answers, whatever the limits
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        until = self.now + seconds
        await asyncio.sleep(0)  # others that wait shorter wake first
        self.now = max(self.now, until)

    async def __call__(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        name = method.__api_method__
        chat: Any = getattr(method, "chat_id", None)
        self.calls.append((self.now, name, chat, getattr(method, "text", "") or ""))
        if self.refuse:
            seconds = self.refuse.pop(0)
            raise TelegramRetryAfter(method, f"Too Many Requests: retry after {seconds}", seconds)
        if name == "sendMessage":
            try:
                self.gate.check(1, int(chat), int(chat) < 0, self.now)
            except ApiError as error:
                seconds = int(error.parameters["retry_after"])
                raise TelegramRetryAfter(method, error.description, seconds) from None
        return name

    def texts(self) -> list[str]:
        return [text for _, name, _, text in self.calls if name == "sendMessage"]

    def times(self, chat: int) -> list[float]:
        return [at for at, name, to, _ in self.calls if name == "sendMessage" and to == chat]


@pytest.fixture
def telegram() -> Telegram:
    return Telegram()


def pacer_on(telegram: Telegram, **options: Any) -> Pacer:
    return Pacer(clock=telegram.clock, sleep=telegram.sleep, **options)


async def send(pacer: Pacer, telegram: Telegram, chat: int, text: str) -> Any:
    return await pacer(telegram, BOT, SendMessage(chat_id=chat, text=text))


def most_in_any(times: list[float], period: float) -> int:
    return max(sum(1 for t in times if start <= t < start + period) for start in times)


async def test_a_burst_in_a_private_chat_passes_then_it_slows_to_the_limit(
    telegram: Telegram,
) -> None:
    pacer = pacer_on(telegram)

    await asyncio.gather(*(send(pacer, telegram, 7, f"m{n}") for n in range(12)))

    assert telegram.texts() == [f"m{n}" for n in range(12)]
    times = telegram.times(7)
    assert times[:4] == [0.0] * 4  # a short burst goes at once
    assert most_in_any(times, 4.0) == 4  # then never more than Telegram's 4 in 4 s
    assert times[-1] < 8.5  # and no slower than that
    assert telegram.gate.refused == 0 and pacer.refused == 0


async def test_a_later_call_never_overtakes_an_earlier_one_waiting(telegram: Telegram) -> None:
    pacer = pacer_on(telegram)
    telegram.refuse = [3]  # the first send is refused once

    await asyncio.gather(
        send(pacer, telegram, 7, "first"),
        pacer(telegram, BOT, DeleteMessage(chat_id=7, message_id=5)),
        send(pacer, telegram, 7, "second"),
        send(pacer, telegram, 8, "elsewhere"),
    )

    order = [(name, text) for _, name, chat, text in telegram.calls if chat == 7]
    assert order == [
        ("sendMessage", "first"),
        ("sendMessage", "first"),
        ("deleteMessage", ""),
        ("sendMessage", "second"),
    ]
    assert telegram.times(7)[1] >= 3.0  # retry_after honoured
    assert telegram.times(8) == [0.0]  # another chat did not wait for this one


async def test_answering_a_button_never_waits_behind_the_pacing(telegram: Telegram) -> None:
    pacer = pacer_on(telegram)
    sends = [asyncio.create_task(send(pacer, telegram, 7, f"m{n}")) for n in range(10)]
    await asyncio.sleep(0)

    await pacer(telegram, BOT, AnswerCallbackQuery(callback_query_id="q1"))
    await pacer(telegram, BOT, GetMe())

    answered = [at for at, name, _, _ in telegram.calls if name == "answerCallbackQuery"]
    assert answered == [0.0]
    assert len(telegram.texts()) == 4  # the rest of the sends still wait for their slots
    await asyncio.gather(*sends)
    assert len(telegram.texts()) == 10


async def test_a_group_gets_twenty_a_minute(telegram: Telegram) -> None:
    pacer = pacer_on(telegram)

    await asyncio.gather(*(send(pacer, telegram, -100, f"n{n}") for n in range(45)))

    times = telegram.times(-100)
    assert telegram.texts() == [f"n{n}" for n in range(45)]
    assert times[:20] == [0.0] * 20
    assert most_in_any(times, 60.0) == 20
    assert 120.0 <= times[-1] < 122.0
    assert telegram.gate.refused == 0


async def test_the_bot_sends_at_most_thirty_a_second_in_all(telegram: Telegram) -> None:
    pacer = pacer_on(telegram)

    await asyncio.gather(*(send(pacer, telegram, 1000 + n, f"p{n}") for n in range(100)))

    times = sorted(at for at, name, _, _ in telegram.calls if name == "sendMessage")
    assert len(times) == 100
    assert times[:30] == [0.0] * 30
    assert most_in_any(times, 1.0) == 30
    assert times[-1] < 3.5
    assert telegram.gate.refused == 0


async def test_retry_after_is_waited_out_and_the_call_succeeds(telegram: Telegram) -> None:
    pacer = pacer_on(telegram)
    telegram.refuse = [7, 2]

    result = await send(pacer, telegram, 7, "hello")

    assert result == "sendMessage"
    assert [at for at, *_ in telegram.calls] == [0.0, 7.0, 9.0]
    assert pacer.refused == 2 and pacer.gave_up == 0


async def test_a_429_on_a_call_outside_any_chat_is_waited_out_too(telegram: Telegram) -> None:
    pacer = pacer_on(telegram)
    telegram.refuse = [4]

    await pacer(telegram, BOT, AnswerCallbackQuery(callback_query_id="q1"))

    assert [at for at, *_ in telegram.calls] == [0.0, 4.0]


async def test_retries_are_bounded_and_a_give_up_is_logged_without_the_text(
    telegram: Telegram, caplog: pytest.LogCaptureFixture
) -> None:
    pacer = pacer_on(telegram, retry_limit=3, max_retry_wait=60)
    telegram.refuse = [2] * 10

    with caplog.at_level(logging.INFO, logger="bot.pacing"), pytest.raises(TelegramRetryAfter):
        await send(pacer, telegram, 7, "the secret text")

    assert len(telegram.calls) == 4  # the first try and three retries
    gave_up = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(gave_up) == 1
    assert gave_up[0].__dict__["method"] == "sendMessage"
    assert gave_up[0].__dict__["chat_id"] == 7
    assert "secret" not in caplog.text
    assert pacer.gave_up == 1


async def test_a_wait_longer_than_the_budget_gives_up_at_once_for_the_chat(
    telegram: Telegram, caplog: pytest.LogCaptureFixture
) -> None:
    pacer = pacer_on(telegram, max_retry_wait=60)
    telegram.refuse = [3600]

    with caplog.at_level(logging.WARNING, logger="bot.pacing"):
        with pytest.raises(TelegramRetryAfter):
            await send(pacer, telegram, 7, "first")
        with pytest.raises(TelegramRetryAfter) as second:
            await send(pacer, telegram, 7, "second")

    assert telegram.texts() == ["first"]  # the second was not even tried: Telegram said an hour
    assert second.value.retry_after == 3600
    assert telegram.slept == []
    assert len(caplog.records) == 2
    telegram.now = 3600.0
    await send(pacer, telegram, 7, "after the hour")
    assert telegram.texts() == ["first", "after the hour"]


async def test_a_slot_counts_from_telegrams_answer(telegram: Telegram) -> None:
    """A slow answer must not make the next send early by Telegram's clock."""
    pacer = pacer_on(telegram, private=Rate(1, 1.0))

    async def slow(bot: Bot, method: TelegramMethod[Any]) -> Any:
        result = await telegram(bot, method)
        telegram.now += 0.5  # Telegram took half a second to answer
        return result

    await asyncio.gather(*(pacer(slow, BOT, SendMessage(chat_id=7, text="x")) for _ in range(3)))

    assert telegram.times(7) == pytest.approx([0.0, 1.55, 3.1])


async def test_without_pacing_sends_go_at_once_but_429s_are_still_waited_out(
    telegram: Telegram,
) -> None:
    pacer = pacer_on(telegram, pacing=False)

    await asyncio.gather(*(send(pacer, telegram, -100, f"n{n}") for n in range(25)))

    assert telegram.times(-100)[:21] == [0.0] * 21  # the 21st is refused: 20 a minute
    assert telegram.texts()[-5:] == [f"n{n}" for n in range(20, 25)]
    assert telegram.gate.refused == pacer.refused == 1
    assert telegram.times(-100)[21] == 60.0


async def test_idle_chats_are_forgotten(telegram: Telegram) -> None:
    pacer = pacer_on(telegram)

    for number in range(2000):
        await send(pacer, telegram, 5000 + number, "hi")
        telegram.now += 0.1  # twenty minutes of ten new chats a second

    assert len(pacer.lanes) <= 2 * (10 * 4) + 64  # about the chats of the last 4 seconds
