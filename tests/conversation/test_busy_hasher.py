"""A storm of password checks fills the hasher's bound (ARGON2_WORKERS + ARGON2_QUEUE, issue #13):
one more is refused at once rather than queued past the second a step has (PRODUCT §1). The chat
says to try again in a few seconds and keeps the step; the web sign-in answers 503 with
Retry-After, and the refusal costs no sign-in attempt."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox.client import Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import running_stack, sign_in

PASSWORD = "kettle under the violet moon"


class Held:
    """The stack's argon2, its hashes held on their thread until `release` (someone else's
    sign-in taking the only thread)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.release = threading.Event()
        self.entered = threading.Event()

    def hash(self, password: str) -> str:
        self.entered.set()
        assert self.release.wait(60), "never released"
        return str(self.inner.hash(password))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
async def stack(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SandboxStack]:
    """One thread, no queue: one hash in progress fills the hasher."""
    async with running_stack(
        "sqlite+memory", tmp_path / "sandbox", clock=clock, argon2_workers=1, argon2_queue=0
    ) as running:
        yield running


@pytest.fixture
async def sandbox(stack: SandboxStack) -> AsyncIterator[Sandbox]:
    async with Sandbox(stack.url) as client:
        yield client


async def fill(stack: SandboxStack) -> tuple[Held, asyncio.Future[str]]:
    """A hash that holds the hasher's one thread until released."""
    hasher = stack.services.kit.hasher
    held = Held(hasher._hasher)  # type: ignore[attr-defined]
    hasher._hasher = held  # type: ignore[attr-defined]
    elsewhere = asyncio.ensure_future(hasher.hash("someone else's password"))
    assert await asyncio.to_thread(held.entered.wait, 60), "the hash never started"
    return held, elsewhere


async def at_the_password_step(sandbox: Sandbox, browser: Browser) -> Person:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser, name="Ivan Petrov")
    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")
    await ivan.send("ivan.petrov@example.com")
    await ivan.wait_for("Create a password")
    return ivan


async def test_a_password_typed_while_the_hasher_is_full_is_asked_again_in_a_moment(
    stack: SandboxStack, sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await at_the_password_step(sandbox, browser)
    held, elsewhere = await fill(stack)

    typed = await ivan.send(PASSWORD)
    reply = await ivan.wait_for("Too many requests at once right now")

    assert "try again in a few seconds" in reply.text
    assert next(m for m in await ivan.messages() if m.message_id == typed).deleted
    held.release.set()
    await elsewhere
    await ivan.send(PASSWORD)  # the step was kept
    await ivan.wait_for("I sent a letter")


async def test_the_same_in_russian(stack: SandboxStack, sandbox: Sandbox, browser: Browser) -> None:
    olga = await sandbox.person("Olga", language_code="en")
    await sign_in(olga, browser, name="Olga Ivanova")
    await olga.press("Bind email")
    await olga.wait_for("Send the email address")
    await olga.send("/language")
    await olga.wait_for("Choose the language")
    await olga.press("Русский")
    await olga.wait_for("теперь я говорю по-русски")
    await olga.send("olga.ivanova@example.com")
    await olga.wait_for("Придумайте пароль")
    held, elsewhere = await fill(stack)

    await olga.send(PASSWORD)
    reply = await olga.wait_for("Сейчас слишком много запросов")

    assert "Попробуйте ещё раз через несколько секунд." in reply.text
    held.release.set()
    await elsewhere


async def test_the_web_sign_in_answers_503_with_retry_after_and_no_attempt_is_spent(
    stack: SandboxStack,
) -> None:
    held, elsewhere = await fill(stack)
    url = stack.url + "/auth/login"
    body = {"login": "nobody@example.com", "password": "a guess of a storm"}
    async with aiohttp.ClientSession() as http:
        for _ in range(stack.services.settings.login_failures_per_login + 1):
            async with http.post(url, json=body) as response:
                assert response.status == 503
                assert response.headers["Retry-After"] == "1"
        held.release.set()
        await elsewhere
        async with http.post(url, json=body) as response:
            assert response.status == 401  # checked, wrong: not throttled by the refusals
