"""A sandbox Bot API server on a free port, an unmodified aiogram Bot and a person client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from sandbox.botapi import SandboxState, register_botapi
from sandbox.botapi.models import Signal
from sandbox.client import Person, Sandbox
from tests.conftest import FakeClock

TOKEN = "123456789:AAE-sandbox-test-token"


class PlainHttpSession(AiohttpSession):
    """aiogram's own session; only closing skips its 250 ms pause for TLS, as there is none."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def sandbox_bot(token: str, base_url: str) -> Bot:
    """An unmodified aiogram Bot talking to the sandbox at base_url."""
    return Bot(token, session=PlainHttpSession(api=TelegramAPIServer.from_base(base_url)))


@dataclass
class Running:
    """Everything a Bot API test needs."""

    state: SandboxState
    base_url: str
    bot: Bot
    sandbox: Sandbox
    clock: FakeClock
    arrived: asyncio.Event

    async def until_waiting(self, polls: int = 0, feeds: int = 0, settles: int = 0) -> None:
        """Wait until that many getUpdates polls, event-feed and settle requests are parked."""
        bot = self.state.find_bot()
        async with asyncio.timeout(10):  # the requests are on their way through the loop
            while True:
                self.arrived.clear()
                if (
                    bot.signal.waiting >= polls
                    and self.state.changed.waiting >= feeds
                    and bot.handling.signal.waiting >= settles
                ):
                    return
                await self.arrived.wait()

    async def started_person(self, first_name: str = "Alice") -> Person:
        """A person who has opened the chat with /start, its update already confirmed."""
        person = await self.sandbox.person(first_name)
        await person.start()
        updates = await self.bot.get_updates(timeout=0)
        await self.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
        return person


class WatchedSignal(Signal):
    """The sandbox's Signal that also tells the test whenever a request starts waiting on it."""

    def __init__(self, arrived: asyncio.Event) -> None:
        super().__init__()
        self.arrived = arrived

    async def wait(self, seconds: float) -> bool:
        self.arrived.set()  # the waiter looks once this task parks in super().wait, just below
        return await super().wait(seconds)


@pytest.fixture
async def running(clock: FakeClock) -> AsyncIterator[Running]:
    arrived = asyncio.Event()
    state = SandboxState(clock=clock, flood_limits=False)
    state.changed = WatchedSignal(arrived)
    state.webhook_retry_delays = (0.05, 0.1)
    account = state.add_bot(TOKEN, username="sandbox_test_bot", first_name="Test Bot")
    account.signal = WatchedSignal(arrived)
    account.handling.signal = WatchedSignal(arrived)
    app = web.Application()
    register_botapi(app, state)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    base_url = f"http://{host}:{port}"
    bot = sandbox_bot(TOKEN, base_url)
    sandbox = Sandbox(base_url)
    try:
        yield Running(state, base_url, bot, sandbox, clock, arrived)
    finally:
        await sandbox.close()
        await bot.session.close()
        await runner.cleanup()
