"""The metrics an operator alerts on (docs/DEPLOY.md), counted while a person binds an email."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from sandbox.client import Sandbox
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import code_in, running_stack, sign_in


@pytest.fixture
async def stack(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SandboxStack]:
    # METRICS_PORT=0: /metrics on the sandbox's own port, where the test reads it.
    async with running_stack("sqlite+memory", tmp_path / "s", clock=clock, metrics_port=0) as s:
        yield s


@pytest.fixture
async def web() -> AsyncIterator[Browser]:
    client = Browser()
    yield client
    await client.close()


def value(text: str, sample: str) -> float:
    """A sample's value in the exposition; 0 when it is not there yet."""
    match = re.search("^" + re.escape(sample) + r" (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_updates_codes_letters_and_refused_codes_are_counted(
    stack: SandboxStack, web: Browser
) -> None:
    async with Sandbox(stack.url) as sandbox, aiohttp.ClientSession() as http:
        ivan = await sandbox.person("Ivan", language_code="en")
        await sign_in(ivan, web)
        await ivan.press("Bind email")
        await ivan.wait_for("Send the email address")
        await ivan.send("ivan@example.com")
        await ivan.wait_for("Create a password")
        await ivan.send("kettle under the violet moon")
        await ivan.wait_for("I sent a letter to ivan@example.com")
        code = code_in(stack.mailbox.letters(to="ivan@example.com")[0].text)
        wrong = "000000" if code != "000000" else "111111"
        await ivan.send(wrong)
        await ivan.wait_for("Wrong code")
        await ivan.send(code)
        await ivan.wait_for("Email bound")
        await sandbox.settled()

        async with http.get(stack.url + "/metrics") as response:
            assert response.status == 200
            text = await response.text()

    assert value(text, 'accountbot_updates_handled_total{type="message"}') >= 5
    assert value(text, 'accountbot_updates_handled_total{type="callback_query"}') >= 1
    assert value(text, 'accountbot_codes_issued_total{purpose="email"}') == 1
    assert value(text, 'accountbot_codes_refused_total{purpose="email",reason="wrong"}') == 1
    assert value(text, 'accountbot_messages_total{channel="email",outcome="sent"}') >= 1
    assert value(text, 'accountbot_messages_total{channel="email",outcome="failed"}') == 0
    assert "accountbot_handler_errors_total" in text
    assert "ivan@example.com" not in text and code not in text
