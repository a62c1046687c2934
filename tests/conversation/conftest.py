"""The whole product in one process, driven as a person would: a chat, a browser, a mailbox."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from sandbox.client import Person, Sandbox
from sandbox.client.messages import WAIT
from sandbox.stack import SandboxStack, start_sandbox
from tests import services
from tests.conftest import FakeClock
from tests.conversation.browser import Browser

CODE = re.compile(r"\b(\d{6})\b")


STORAGE_PAIRS = ["sqlite+memory", "postgres+redis"]


@asynccontextmanager
async def running_stack(
    pair: str, folder: Path, *, flood_limits: bool = False, patient: bool = True, **overrides: Any
) -> AsyncIterator[SandboxStack]:
    """The product on one storage pair: SQLite + memory, or PostgreSQL + Redis (PRODUCT §2).

    Pass `clock=` (a FakeClock) to run Telegram's side and the services on the test's clock.
    `flood_limits`: the sandbox answers 429 as Telegram does, and the bot paces its sends; off,
    neither (pacing against a Bot API without limits would only slow the tests down).
    `patient`: PostgreSQL and Redis get timeouts no loaded machine reaches, so a slow statement is
    never taken for an outage (a suite beside another on 2 cores saw a 1 s connect time out); the
    outage tests pass False and run on the product's own timeouts, which are what they prove.
    """
    database = None
    if patient:
        for setting, seconds in services.patient().items():
            overrides.setdefault(setting, seconds)
    overrides.setdefault("telegram_pacing", flood_limits)
    overrides.setdefault("env_file", None)  # the tests' own world, not the developer's .env
    if pair == "postgres+redis":
        database = await services.create_pg_database()
        overrides.setdefault("database_url", database)
        overrides.setdefault("redis_url", services.redis_url())
        overrides.setdefault("redis_prefix", f"test-{uuid.uuid4().hex[:8]}:")
    else:  # memory, whatever REDIS_URL the shell that runs the tests holds
        overrides.setdefault("redis_url", None)
    running = await start_sandbox("127.0.0.1", 0, folder, flood_limits=flood_limits, **overrides)
    try:
        yield running
    finally:
        redis = running.services.redis
        if redis is not None:
            async for key in redis.scan_iter(match=running.services.settings.redis_prefix + "*"):
                await redis.delete(key)
        await running.stop()
        if database is not None:
            await services.drop_pg_database(database)


@pytest.fixture(params=STORAGE_PAIRS)
async def stack(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[SandboxStack]:
    """The whole product, once per storage pair, on the test's clock (`clock.advance`)."""
    async with running_stack(request.param, tmp_path / "sandbox", clock=clock) as running:
        yield running


@pytest.fixture
async def sandbox(stack: SandboxStack) -> AsyncIterator[Sandbox]:
    async with Sandbox(stack.url) as client:
        yield client


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    client = Browser()
    yield client
    await client.close()


async def sign_in(
    person: Person,
    browser: Browser,
    *,
    name: str = "Ivan Petrov",
    email: str = "",
    verified: bool = False,
) -> None:
    """/start, tap "Sign in with Dev ID", sign in at the provider, confirm, see the card."""
    await sign_in_at_provider(person, browser, name=name, email=email, verified=verified)
    await person.wait_for("Your account")


async def sign_in_at_provider(
    person: Person,
    browser: Browser,
    payload: str | None = None,
    *,
    name: str = "Ivan Petrov",
    email: str = "",
    verified: bool = False,
) -> str:
    """/start [payload], tap "Sign in with Dev ID", sign in and confirm; the link's URL."""
    await person.start(payload)
    await person.wait_for("sign in with the network")
    url = await person.press("Sign in with Dev ID")
    assert url is not None
    page = await browser.open(url)
    page = await browser.submit(name=name, email=email, email_verified=verified)
    assert "Confirm" in page.text or "Подтвердить" in page.text, page.text[:500]
    await browser.submit(button="confirm")
    return url


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, f"no code in {text!r}"
    return match.group(1)


def letters_to(stack: SandboxStack, address: str) -> list[Any]:
    return stack.mailbox.letters(to=address)


async def answer_to_press(person: Person, timeout: float = WAIT) -> dict[str, Any]:  # noqa: ASYNC109
    """The bot's answer to the button just pressed (it comes asynchronously)."""
    return await person.wait_for_answer(timeout)
