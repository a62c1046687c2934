"""Telegram's flood limits (docs/SANDBOX.md, "Flood limits"): a short burst in a private chat then
one a second, 20 a minute in a group, 30 a second for a bot in all, edits counted as sends, and
429 with `retry_after` in whole seconds until the next free slot. Time is the test's clock."""

from __future__ import annotations

import base64

import aiohttp
import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import BufferedInputFile, InputMediaPhoto, MediaUnion

from sandbox.botapi.flood import FloodGate, FloodLimits
from tests.sandbox.conftest import TOKEN, Running

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def test_a_burst_in_a_private_chat_passes_then_one_a_second(running: Running) -> None:
    person = await running.started_person()
    running.state.flood_limits = True
    for number in range(4):  # the burst
        await running.bot.send_message(person.id, f"burst {number}")
    with pytest.raises(TelegramRetryAfter) as slowed:
        await running.bot.send_message(person.id, "one too many")
    assert slowed.value.retry_after == 1
    running.clock.advance(seconds=0.5)  # half a slot: still refused, still 1 s (rounded up)
    with pytest.raises(TelegramRetryAfter) as again:
        await running.bot.send_message(person.id, "too early")
    assert again.value.retry_after == 1
    running.clock.advance(seconds=0.5)
    await running.bot.send_message(person.id, "after waiting")
    with pytest.raises(TelegramRetryAfter):  # the burst is spent: one a second from now on
        await running.bot.send_message(person.id, "right after")
    running.clock.advance(seconds=1)
    await running.bot.send_message(person.id, "a second later")
    texts = [m.text for m in await person.messages() if m.from_bot]
    assert "one too many" not in texts and "too early" not in texts
    assert texts[-2:] == ["after waiting", "a second later"]


async def test_the_429_has_telegrams_shape(running: Running) -> None:
    person = await running.started_person()
    running.state.flood_limits = True
    url = f"{running.base_url}/bot{TOKEN}/sendMessage"
    async with aiohttp.ClientSession() as http:
        for number in range(4):
            async with http.post(url, json={"chat_id": person.id, "text": f"{number}"}) as answer:
                assert answer.status == 200
        async with http.post(url, json={"chat_id": person.id, "text": "more"}) as answer:
            assert answer.status == 429
            body = await answer.json()
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }


async def test_each_private_chat_has_its_own_limit(running: Running) -> None:
    alice = await running.started_person("Alice")
    bob = await running.started_person("Bob")
    running.state.flood_limits = True
    for number in range(4):
        await running.bot.send_message(alice.id, f"to Alice {number}")
    with pytest.raises(TelegramRetryAfter):
        await running.bot.send_message(alice.id, "Alice again")
    for number in range(4):  # Bob's chat is untouched by Alice's burst
        await running.bot.send_message(bob.id, f"to Bob {number}")
    assert len([m for m in await bob.messages() if m.from_bot]) == 4


async def test_a_group_gets_twenty_messages_a_minute(running: Running) -> None:
    group = await running.sandbox.group("Support", is_forum=False)
    running.state.flood_limits = True
    for number in range(20):
        await running.bot.send_message(group["id"], f"note {number}")
        running.clock.advance(seconds=0.5)
    # 10 s after the first: it leaves the minute's window in 50 s.
    with pytest.raises(TelegramRetryAfter) as slowed:
        await running.bot.send_message(group["id"], "twenty-first")
    assert slowed.value.retry_after == 50
    running.clock.advance(seconds=49)
    with pytest.raises(TelegramRetryAfter) as again:
        await running.bot.send_message(group["id"], "still too early")
    assert again.value.retry_after == 1
    running.clock.advance(seconds=1)
    await running.bot.send_message(group["id"], "twenty-first, a minute after the first")


async def test_thirty_messages_a_second_for_the_bot_in_all(running: Running) -> None:
    people = [await running.started_person(f"P{number}") for number in range(8)]
    running.state.flood_limits = True
    for number in range(30):  # 30 chats' worth, none over its own burst of 4
        await running.bot.send_message(people[number % 8].id, f"news {number}")
    fresh = await running.started_person("Fresh")  # a chat of its own, with its burst unspent
    with pytest.raises(TelegramRetryAfter) as slowed:
        await running.bot.send_message(fresh.id, "thirty-first")
    assert slowed.value.retry_after == 1
    running.clock.advance(seconds=1)
    await running.bot.send_message(fresh.id, "a second later")


async def test_edits_count_against_the_chats_limit(running: Running) -> None:
    person = await running.started_person()
    running.state.flood_limits = True
    sent = await running.bot.send_message(person.id, "0")
    for number in range(1, 4):
        await running.bot.edit_message_text(
            f"{number}", chat_id=person.id, message_id=sent.message_id
        )
    with pytest.raises(TelegramRetryAfter):
        await running.bot.edit_message_text("4", chat_id=person.id, message_id=sent.message_id)
    shown = [m for m in await person.messages() if m.from_bot]
    assert [m.text for m in shown] == ["3"]  # the refused edit changed nothing


async def test_an_album_is_sent_whole_or_not_at_all(running: Running) -> None:
    group = await running.sandbox.group("Photos", is_forum=False)
    running.state.flood_limits = True
    for number in range(15):
        await running.bot.send_message(group["id"], f"note {number}")

    def album(size: int) -> list[MediaUnion]:
        return [
            InputMediaPhoto(media=BufferedInputFile(PNG, f"{number}.png")) for number in range(size)
        ]

    with pytest.raises(TelegramRetryAfter):  # 15 + 6 > 20 in the minute: none of the six goes
        await running.bot.send_media_group(group["id"], album(6))
    sent = await running.bot.send_media_group(group["id"], album(5))  # 15 + 5 = 20 fits
    dialog = running.state.dialog(running.state.find_bot(), running.state.chat(str(group["id"])))
    photos = [m for m in dialog.messages.values() if "photo" in m.media]
    assert len(sent) == len(photos) == 5


async def test_limits_switched_off_let_everything_through(running: Running) -> None:
    person = await running.started_person()
    running.state.flood_limits = False
    for number in range(40):
        await running.bot.send_message(person.id, f"fast {number}")
    assert len([m for m in await person.messages() if m.from_bot]) == 40


def test_the_limits_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert FloodLimits(_env_file=None) == FloodLimits(
        private_rate=1.0, private_burst=4, group_per_minute=20, bot_per_second=30
    )
    monkeypatch.setenv("SANDBOX_FLOOD_PRIVATE_BURST", "2")
    monkeypatch.setenv("SANDBOX_FLOOD_GROUP_PER_MINUTE", "5")
    limits = FloodLimits(_env_file=None, group_per_minute=6)  # a keyword wins
    assert (limits.private_burst, limits.group_per_minute) == (2, 6)
    assert limits.describe() == (
        "Flood limits: 1/s per private chat (bursts of 2), 6/min per group, 30/s per bot"
        " (SANDBOX_FLOOD_*)"
    )
    gate = FloodGate(limits)
    gate.check(1, 10, False, 100.0)
    gate.check(1, 10, False, 100.0)
    with pytest.raises(Exception, match="retry after 1"):
        gate.check(1, 10, False, 100.0)
    assert gate.refused == 1


def test_a_slow_rate_rounds_retry_after_up_to_whole_seconds() -> None:
    gate = FloodGate(FloodLimits(_env_file=None, private_rate=0.4, private_burst=1))
    gate.check(1, 10, False, 0.0)
    with pytest.raises(Exception, match="retry after 3") as slowed:  # 2.5 s, rounded up
        gate.check(1, 10, False, 0.0)
    assert slowed.value.parameters == {"retry_after": 3}  # type: ignore[attr-defined]
    gate.check(1, 10, False, 2.5)  # exactly when the slot is free
