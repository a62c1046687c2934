"""A live web server on a loopback port (port 0), over the whole core on SQLite + memory."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from core.flows.sign_in import TelegramUser
from sandbox.stack import create_site

# Chromium fixtures, shared with the browser tests of the sandbox pages.
from tests.browser.conftest import browser, new_page, page, screenshot  # noqa: F401
from tests.conftest import FakeClock
from tests.core.flows.conftest import World, make_world
from tests.web.standins import OidcIssuer, serve
from web.providers import Provider
from web.security import MaskedAccessLogger

BOT = "accountbot_test"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Site:
    """A running server and the core behind it."""

    world: World
    url: str
    app: web.Application

    async def link(self, provider: str = "dev", telegram_id: int = 501, name: str = "Ivan") -> str:
        person = TelegramUser(telegram_id, name, "ivan", "en")
        return await self.world.services.sign_in.create_link(person, provider)

    async def account_of(self, telegram_id: int) -> int | None:
        async with self.world.services.kit.unit() as uow:
            return await uow.telegram.account_for(telegram_id)


def cookie_session() -> aiohttp.ClientSession:
    """A browser-like client: keeps cookies for 127.0.0.1 (aiohttp refuses IP hosts otherwise)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


SiteFactory = Callable[..., Awaitable[Site]]


@pytest.fixture
async def make_site(clock: FakeClock, tmp_path: Any) -> AsyncIterator[SiteFactory]:
    stack = AsyncExitStack()
    count = 0

    async def make(
        *,
        providers: Mapping[str, Provider] | None = None,
        settings: Mapping[str, Any] | None = None,
        bot_username: str | None = BOT,
    ) -> Site:
        nonlocal count
        count += 1
        sock = free_socket()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        # METRICS_PORT=0: /metrics on the site's own port, as the tests read it there.
        values = {"public_url": url, "dev_idp_enabled": True, "metrics_port": 0, **(settings or {})}
        world = await make_world(
            clock, f"sqlite+aiosqlite:///{tmp_path}/web{count}.sqlite3", settings=values
        )
        stack.push_async_callback(world.services.close)
        app = create_site(world.services, bot_username=bot_username, providers=providers)
        runner = web.AppRunner(app, access_log_class=MaskedAccessLogger)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.SockSite(runner, sock).start()
        return Site(world, url, app)

    yield make
    await stack.aclose()


@pytest.fixture
async def site(make_site: SiteFactory) -> Site:
    return await make_site()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with cookie_session() as session:
        yield session


@pytest.fixture
async def issuer() -> AsyncIterator[OidcIssuer]:
    """An OpenID provider stand-in on a loopback port."""
    stand_in = OidcIssuer()
    async with serve(stand_in.app()) as url:
        stand_in.url = url
        yield stand_in
