"""getUpdates long polling, offsets, allowed_updates, and webhook delivery with retries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram.exceptions import TelegramConflictError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from tests.sandbox.conftest import Running


async def test_long_polling_returns_as_soon_as_a_person_writes(running: Running) -> None:
    person = await running.sandbox.person("Alice")
    poll = asyncio.create_task(running.bot.get_updates(timeout=10))
    await running.until_waiting(polls=1)
    assert not poll.done()
    await person.send("hello")
    updates = await asyncio.wait_for(poll, 5)
    message = updates[0].message
    assert message is not None
    assert message.from_user is not None
    assert (message.text, message.from_user.first_name) == ("hello", "Alice")


async def test_an_empty_poll_ends_at_its_timeout(running: Running) -> None:
    assert await running.bot.get_updates(timeout=1) == []


async def test_an_offset_confirms_the_updates_before_it(running: Running) -> None:
    person = await running.sandbox.person()
    for text in ("one", "two", "three"):
        await person.send(text)
    first = await running.bot.get_updates(timeout=0, limit=2)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    rest = await running.bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["three"]
    again = await running.bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.update_id for u in again] == [u.update_id for u in rest]


async def test_allowed_updates_leaves_out_other_kinds(running: Running) -> None:
    person = await running.started_person()
    await running.bot.send_message(
        person.id,
        "Tap",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]]
        ),
    )
    await running.bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    await person.send("ignored text")
    await person.press("Go")
    updates = await running.bot.get_updates(timeout=0)
    assert [u.event_type for u in updates] == ["callback_query"]


async def test_a_new_poll_ends_the_one_still_waiting(running: Running) -> None:
    first = asyncio.create_task(running.bot.get_updates(timeout=10))
    await running.until_waiting(polls=1)
    second = asyncio.create_task(running.bot.get_updates(timeout=1))
    await running.until_waiting(polls=2)
    person = await running.sandbox.person()
    await person.send("hi")
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await first
    assert [u.message.text for u in await second if u.message] == ["hi"]


class Receiver:
    """A webhook endpoint that fails the first `failures` deliveries."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[str | None, dict[str, Any]]] = []
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        if self.failures > 0:
            self.failures -= 1
            return web.Response(status=500)
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        self.received.append((secret, await request.json()))
        self.arrived.set()
        return web.Response(text="ok")


async def serve(
    handler: Callable[[web.Request], Awaitable[web.Response]],
) -> tuple[web.AppRunner, str]:
    """A webhook endpoint on a free port; the runner to clean up and its URL."""
    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/hook"


async def test_a_webhook_receives_updates_with_the_secret_header(running: Running) -> None:
    receiver = Receiver()
    runner, url = await serve(receiver.handle)
    try:
        await running.bot.set_webhook(url, secret_token="s3cr3t-token")
        person = await running.sandbox.person()
        await person.send("via webhook")
        await asyncio.wait_for(receiver.arrived.wait(), 5)
        secret, update = receiver.received[0]
        assert secret == "s3cr3t-token"
        assert update["message"]["text"] == "via webhook"
        info = await running.bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (url, 0)
    finally:
        await running.bot.delete_webhook()
        await runner.cleanup()


async def test_a_failed_delivery_is_retried_and_reported(running: Running) -> None:
    receiver = Receiver(failures=1)
    runner, url = await serve(receiver.handle)
    try:
        await running.bot.set_webhook(url)
        person = await running.sandbox.person()
        await person.send("retry me")
        await asyncio.wait_for(receiver.arrived.wait(), 5)
        assert [u["message"]["text"] for _, u in receiver.received] == ["retry me"]
        info = await running.bot.get_webhook_info()
        assert "500" in (info.last_error_message or "")
    finally:
        await running.bot.delete_webhook()
        await runner.cleanup()


async def test_get_updates_is_refused_while_a_webhook_is_set(running: Running) -> None:
    await running.bot.set_webhook("http://127.0.0.1:9/unreachable")
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook"):
        await running.bot.get_updates(timeout=0)
    await running.bot.delete_webhook()
    assert await running.bot.get_updates(timeout=0) == []


async def test_delete_webhook_can_drop_pending_updates(running: Running) -> None:
    await running.bot.set_webhook("http://127.0.0.1:9/unreachable")
    person = await running.sandbox.person()
    await person.send("lost")
    assert (await running.bot.get_webhook_info()).pending_update_count == 1
    await running.bot.delete_webhook(drop_pending_updates=True)
    assert await running.bot.get_updates(timeout=0) == []


async def test_a_method_in_the_webhook_answer_is_run(running: Running) -> None:
    person = await running.started_person()

    async def answer(request: web.Request) -> web.Response:
        update = await request.json()
        chat_id = update["message"]["chat"]["id"]
        return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": "Got it"})

    runner, url = await serve(answer)
    try:
        await running.bot.set_webhook(url)
        await person.send("hello")
        assert (await person.wait_for("Got it")).text == "Got it"
    finally:
        await running.bot.delete_webhook()
        await runner.cleanup()


async def test_the_event_feed_wakes_when_something_happens(running: Running) -> None:
    version = await running.sandbox.wait_event(0, 0.1)
    waiting = asyncio.create_task(running.sandbox.wait_event(version, 5))
    await running.until_waiting(feeds=1)
    assert not waiting.done()
    await running.sandbox.person("Newcomer")
    assert await asyncio.wait_for(waiting, 5) > version


async def test_stopping_the_server_ends_waiting_polls(running: Running) -> None:
    poll = asyncio.create_task(running.bot.get_updates(timeout=30))
    feed = asyncio.create_task(running.sandbox.wait_event(running.state.version, 25))
    await running.until_waiting(polls=1, feeds=1)
    running.state.close()
    assert await asyncio.wait_for(poll, 5) == []
    assert await asyncio.wait_for(feed, 5) == running.state.version


async def test_setting_a_webhook_ends_a_waiting_poll(running: Running) -> None:
    poll = asyncio.create_task(running.bot.get_updates(timeout=10))
    await running.until_waiting(polls=1)
    await running.bot.set_webhook("http://127.0.0.1:9/unreachable")
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await asyncio.wait_for(poll, 5)
    await running.bot.delete_webhook()


async def test_deliver_twice_hands_a_confirmed_update_out_once_more(running: Running) -> None:
    running.state.find_bot().deliver_twice = True
    person = await running.sandbox.person()
    await person.send("one")
    first = await running.bot.get_updates(timeout=0)
    after = first[-1].update_id + 1
    await person.send("two")

    again = await running.bot.get_updates(offset=after, timeout=0)
    assert [u.message.text for u in again if u.message] == ["one", "two"]
    assert again[0].update_id == first[0].update_id
    last = await running.bot.get_updates(offset=again[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in last if u.message] == ["two"]
    assert await running.bot.get_updates(offset=last[-1].update_id + 1, timeout=0) == []


async def test_deliver_twice_posts_every_update_to_the_webhook_twice(running: Running) -> None:
    running.state.find_bot().deliver_twice = True
    receiver = Receiver()
    runner, url = await serve(receiver.handle)
    try:
        await running.bot.set_webhook(url)
        person = await running.sandbox.person()
        await person.send("one")
        await person.send("two")
        async with asyncio.timeout(10):
            while len(receiver.received) < 4:
                receiver.arrived.clear()
                await receiver.arrived.wait()
        texts = [u["message"]["text"] for _, u in receiver.received]
        assert texts == ["one", "one", "two", "two"]
        ids = [u["update_id"] for _, u in receiver.received]
        assert ids[0] == ids[1] != ids[2] == ids[3]
    finally:
        await running.bot.delete_webhook()
        await runner.cleanup()
