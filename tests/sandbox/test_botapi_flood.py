"""Telegram's flood limits: 429 with retry_after, on by default, off when switched off."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramRetryAfter

from tests.sandbox.conftest import Running


async def test_a_burst_in_one_chat_is_slowed_down(running: Running) -> None:
    person = await running.started_person()
    running.state.flood_limits = True
    for number in range(4):
        await running.bot.send_message(person.id, f"burst {number}")
    with pytest.raises(TelegramRetryAfter) as slowed:
        await running.bot.send_message(person.id, "one too many")
    assert slowed.value.retry_after >= 1
    assert "Too Many Requests: retry after" in slowed.value.message
    running.clock.advance(seconds=slowed.value.retry_after)
    await running.bot.send_message(person.id, "after waiting")


async def test_a_group_gets_twenty_messages_a_minute(running: Running) -> None:
    group = await running.sandbox.group("Support", is_forum=False)
    running.state.flood_limits = True
    for number in range(20):
        running.clock.advance(seconds=0.5)
        await running.bot.send_message(group["id"], f"note {number}")
    with pytest.raises(TelegramRetryAfter) as slowed:
        await running.bot.send_message(group["id"], "twenty-first")
    assert slowed.value.retry_after > 1


async def test_limits_switched_off_let_everything_through(running: Running) -> None:
    person = await running.started_person()
    running.state.flood_limits = False
    for number in range(40):
        await running.bot.send_message(person.id, f"fast {number}")
    assert len([m for m in await person.messages() if m.from_bot]) == 40


async def test_thirty_messages_a_second_in_all(running: Running) -> None:
    people = [await running.started_person(f"P{number}") for number in range(8)]
    running.state.flood_limits = True
    for number in range(30):
        await running.bot.send_message(people[number % 8].id, f"news {number}")
    with pytest.raises(TelegramRetryAfter):
        await running.bot.send_message(people[7].id, "one more")
    running.clock.advance(seconds=1)
    await running.bot.send_message(people[7].id, "a second later")
