"""The whole product in one process, driven as a person would: a chat, a browser, a mailbox."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from accountbot.runner import SandboxStack, start_sandbox
from sandbox.client import Person, Sandbox
from tests.conversation.browser import Browser

CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[SandboxStack]:
    running = await start_sandbox("127.0.0.1", 0, tmp_path / "sandbox", flood_limits=False)
    yield running
    await running.stop()


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
    await person.start()
    await person.wait_for("sign in with the network")
    url = await person.press("Sign in with Dev ID")
    assert url is not None
    page = await browser.open(url)
    page = await browser.submit(name=name, email=email, email_verified=verified)
    assert "Confirm" in page.text or "Подтвердить" in page.text, page.text[:500]
    await browser.submit(button="confirm")
    await person.wait_for("Your account")


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, f"no code in {text!r}"
    return match.group(1)


def letters_to(stack: SandboxStack, address: str) -> list[Any]:
    return stack.mailbox.letters(to=address)
