"""Webhook delivery as Telegram does it: one chat in sequence, different chats at once, at most
`max_connections` requests in flight (docs/SANDBOX.md, "Webhooks")."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.sandbox.conftest import Running


class HoldingReceiver:
    """A webhook that keeps every request open until the test releases it by its text."""

    def __init__(self) -> None:
        self.events: list[str] = []  # "arrived a1", "released a1", in the order they happened
        self.arrived: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.release: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        text = (await request.json())["message"]["text"]
        self.events.append(f"arrived {text}")
        self.arrived[text].set()
        await self.release[text].wait()
        return web.Response(text="ok")

    def let_go(self, text: str) -> None:
        self.events.append(f"released {text}")
        self.release[text].set()

    async def until(self, *texts: str) -> None:
        async with asyncio.timeout(10):
            for text in texts:
                await self.arrived[text].wait()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[HoldingReceiver, str]]:
    holding = HoldingReceiver()
    app = web.Application()
    app.router.add_post("/hook", holding.handle)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield holding, f"http://{host}:{port}/hook"
    finally:
        for event in holding.release.values():
            event.set()
        await runner.cleanup()


async def test_another_chat_is_delivered_while_one_chat_waits_and_each_chat_keeps_its_order(
    running: Running, receiver: tuple[HoldingReceiver, str]
) -> None:
    holding, url = receiver
    await running.bot.set_webhook(url)
    try:
        alice, bob = await running.sandbox.person("Alice"), await running.sandbox.person("Bob")
        await alice.send("a1")
        await alice.send("a2")
        await bob.send("b1")
        await holding.until("a1", "b1")  # Bob's update did not wait for Alice's to be answered
        holding.let_go("b1")
        holding.let_go("a1")
        await holding.until("a2")
        holding.let_go("a2")
        assert holding.events.index("arrived a2") > holding.events.index("released a1")
    finally:
        await running.bot.delete_webhook()


async def test_max_connections_bounds_the_requests_in_flight(
    running: Running, receiver: tuple[HoldingReceiver, str]
) -> None:
    holding, url = receiver
    await running.bot.set_webhook(url, max_connections=1)
    try:
        alice, bob = await running.sandbox.person("Alice"), await running.sandbox.person("Bob")
        await alice.send("a1")
        await bob.send("b1")
        await holding.until("a1")
        holding.let_go("a1")
        await holding.until("b1")
        holding.let_go("b1")
        assert holding.events.index("arrived b1") > holding.events.index("released a1")
    finally:
        await running.bot.delete_webhook()
