"""Brute force against `POST /auth/login` (PRODUCT §1.7, §1.9): a storm of concurrent guesses for
one login gets exactly LOGIN_FAILURES_PER_LOGIN password checks, the rest are throttled; on SQLite +
memory and on PostgreSQL + Redis, through the real web server."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from core.adapters.argon2 import Argon2Hasher
from core.ports import PasswordHasher
from core.settings import Settings
from tests import services as real
from tests.conftest import FakeClock
from tests.core.flows.conftest import FAST_HASHER, World, make_world
from tests.web.conftest import free_socket
from web.app import create_web_app

PASSWORD = "correct horse battery staple"
LOGIN = "ivan@example.com"
LIMIT = Settings.model_fields["login_failures_per_login"].default  # PRODUCT §1.9: 5 per 15 min
STORM = int(os.environ.get("STORM", "50"))  # concurrent requests; `make reliability` may raise it


class GatedHasher:
    """The real (fast) argon2, counting every password check; wrong guesses wait for the gate, as
    a slow hash on a busy machine would, so the whole storm is in flight at once."""

    def __init__(self, inner: PasswordHasher = FAST_HASHER) -> None:
        self.inner = inner
        self.checks = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.progress = asyncio.Condition()

    async def moved(self) -> None:
        """Something the tests wait for happened (a check began, an answer came)."""
        async with self.progress:
            self.progress.notify_all()

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        """Wait for a condition the server's progress makes true (not for a fixed time)."""
        try:
            async with asyncio.timeout(60), self.progress:
                await self.progress.wait_for(condition)
        except TimeoutError:
            raise AssertionError(f"never came: {what}") from None

    async def hash(self, password: str) -> str:
        return await self.inner.hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        self.checks += 1
        await self.moved()
        if password != PASSWORD:
            await self.gate.wait()
        return await self.inner.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self.inner.needs_rehash(password_hash)


class Site:
    def __init__(self, world: World, url: str, hasher: GatedHasher) -> None:
        self.world, self.url, self.hasher = world, url, hasher


SiteFactory = Callable[[], Awaitable[Site]]


@pytest.fixture(
    params=[
        "sqlite+memory",
        pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
async def site(
    request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Any
) -> AsyncIterator[Site]:
    async with AsyncExitStack() as stack:
        yield await _start(stack, clock, tmp_path, request.param, GatedHasher())


@pytest.fixture
async def sqlite_site(clock: FakeClock, tmp_path: Any) -> AsyncIterator[Site]:
    """The embedded default with argon2id at the production parameters (PRODUCT §1.6)."""
    s = Settings.model_fields
    production = Argon2Hasher(
        s["argon2_memory_kib"].default,
        s["argon2_time_cost"].default,
        s["argon2_parallelism"].default,
    )
    async with AsyncExitStack() as stack:
        yield await _start(stack, clock, tmp_path, "sqlite+memory", GatedHasher(production))


async def _start(
    stack: AsyncExitStack, clock: FakeClock, tmp_path: Any, backend: str, hasher: GatedHasher
) -> Site:
    sock = free_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    values: dict[str, Any] = {"public_url": url}
    if backend == "sqlite+memory":
        database_url = f"sqlite+aiosqlite:///{tmp_path}/storm.sqlite3"
    else:
        database_url = await real.create_pg_database()
        stack.push_async_callback(real.drop_pg_database, database_url)
        values["redis_url"] = real.redis_url()
        values["redis_prefix"] = f"test:{uuid.uuid4().hex[:8]}:"
    world = await make_world(clock, database_url, settings=values, hasher=hasher)
    stack.push_async_callback(world.services.close)
    if world.services.redis is not None:
        stack.push_async_callback(_forget_keys, world, values["redis_prefix"])
    runner = web.AppRunner(create_web_app(world.services, bot_username="accountbot_test"))
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    stack.callback(hasher.gate.set)  # first thing at teardown: no check is left waiting
    await web.SockSite(runner, sock).start()
    return Site(world, url, hasher)


async def _forget_keys(world: World, prefix: str) -> None:
    redis = world.services.redis
    async for key in redis.scan_iter(match=prefix + "*"):
        await redis.delete(key)


async def post(http: aiohttp.ClientSession, site: Site, password: str) -> int:
    body = {"login": LOGIN, "password": password}
    async with http.post(site.url + "/auth/login", json=body) as response:
        await response.read()
        return response.status


async def test_forty_nine_guesses_in_flight_then_the_right_password_get_five_checks(
    site: Site, clock: FakeClock
) -> None:
    await site.world.account(email=LOGIN, password=PASSWORD)
    site.hasher.gate.clear()
    answered: list[int] = []

    async def guess(http: aiohttp.ClientSession, password: str) -> int:
        status = await post(http, site, password)
        answered.append(status)
        await site.hasher.moved()
        return status

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        wrong = [asyncio.create_task(guess(http, f"wrong guess {n}")) for n in range(STORM - 1)]
        # Every guess is either refused already or inside its password check.
        await site.hasher.until(
            lambda: len(answered) + site.hasher.checks >= STORM - 1, "the storm in flight"
        )
        right = asyncio.create_task(guess(http, PASSWORD))
        await site.hasher.until(
            lambda: len(answered) + site.hasher.checks >= STORM, "the right one arrived"
        )
        site.hasher.gate.set()
        statuses = await asyncio.gather(*wrong)
        right_status = await right

        assert site.hasher.checks == LIMIT
        assert Counter([*statuses, right_status]) == {401: LIMIT, 429: STORM - LIMIT}
        assert right_status == 429  # the login is throttled: the right password is not checked

        # The person waits out the window (PRODUCT §1.9: 15 min) and signs in.
        clock.advance(minutes=15)
        assert await post(http, site, PASSWORD) == 200


async def test_fifty_simultaneous_wrong_guesses_get_exactly_five_checks(site: Site) -> None:
    await site.world.account(email=LOGIN, password=PASSWORD)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        statuses = await asyncio.gather(
            *(post(http, site, f"wrong guess {n}") for n in range(STORM))
        )

    assert site.hasher.checks == LIMIT
    assert Counter(statuses) == {401: LIMIT, 429: STORM - LIMIT}


async def test_a_success_does_not_free_the_slots_of_guesses_still_in_flight(site: Site) -> None:
    """The right password signs in while three guesses are being checked: it forgets the settled
    failure only, so only two more guesses are checked while the three are in flight."""
    await site.world.account(email=LOGIN, password=PASSWORD)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        assert await post(http, site, "settled failure") == 401
        site.hasher.gate.clear()
        in_flight = [asyncio.create_task(post(http, site, f"wrong {n}")) for n in range(3)]
        await site.hasher.until(lambda: site.hasher.checks >= 4, "three guesses in their checks")
        assert await post(http, site, PASSWORD) == 200
        answered: list[int] = []

        async def guess(password: str) -> int:
            status = await post(http, site, password)
            answered.append(status)
            await site.hasher.moved()
            return status

        later = [asyncio.create_task(guess(f"later {n}")) for n in range(3)]
        await site.hasher.until(
            lambda: len(answered) + site.hasher.checks - 5 >= 3, "the later guesses"
        )
        site.hasher.gate.set()
        assert Counter(await asyncio.gather(*in_flight)) == {401: 3}
        assert Counter(await asyncio.gather(*later)) == {401: 2, 429: 1}

    assert site.hasher.checks == 5 + 2


async def test_thirty_two_sign_ins_at_once_on_sqlite_are_all_answered(sqlite_site: Site) -> None:
    """PRODUCT §2: SQLite is a real embedded default; 32 people signing in at the same moment all
    get in, none hears "temporarily unavailable"."""
    site = sqlite_site
    people = [f"person{n}@example.com" for n in range(32)]
    for login in people:
        await site.world.account(email=login, password=PASSWORD)

    async def sign_in(http: aiohttp.ClientSession, login: str) -> int:
        body = {"login": login, "password": PASSWORD}
        async with http.post(site.url + "/auth/login", json=body) as response:
            await response.read()
            return response.status

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        statuses = await asyncio.gather(*(sign_in(http, login) for login in people))

    assert Counter(statuses) == {200: 32}
    async with site.world.services.kit.reader() as uow:
        events = await uow.audit.for_account(1)
    assert [e.action for e in events].count("signed_in.password") == 1
