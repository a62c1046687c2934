"""Redis round trips per update, counted on the bot's own connection (issue #13: at most 4 per
update, the chat's lock included): taking the lock reads the conversation and the duplicate
check, letting it go writes the conversation, the log and the mark (bot/isolation.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio.connection import AbstractConnection

from sandbox.client import Person, Sandbox
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import running_stack, sign_in

pytestmark = pytest.mark.redis


class RoundTrips:
    """Every write to a Redis socket of this process (a pipeline or a script is one)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        send = AbstractConnection.send_packed_command

        async def counted(conn: Any, command: Any, check_health: bool = True) -> None:
            self.count += 1
            await send(conn, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)


@pytest.fixture
async def ivan(tmp_path: Path, clock: FakeClock, browser: Browser) -> AsyncIterator[Person]:
    async with (
        running_stack("postgres+redis", tmp_path / "sandbox", clock=clock) as stack,
        Sandbox(stack.url) as sandbox,
    ):
        person = await sandbox.person("Ivan", language_code="en")
        await sign_in(person, browser)
        await person.settled()
        yield person


async def trips(counter: RoundTrips, person: Person, step: Callable[[], Awaitable[Any]]) -> int:
    before = counter.count
    await step()
    await person.settled()
    return counter.count - before


async def test_an_update_is_two_round_trips_plus_its_flows_own(
    ivan: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = RoundTrips(monkeypatch)

    assert await trips(counter, ivan, lambda: ivan.send("/me")) == 2
    assert await trips(counter, ivan, lambda: ivan.send("/help")) == 2
    assert await trips(counter, ivan, lambda: ivan.press("Bind email")) == 2
    await ivan.wait_for("Send the email address")
    # The address and the password are the flow's own limits, cooldown, code and link token on
    # top (the bench counts them); their scripts' first use on a fresh Redis also loads them.
    await ivan.send("ivan@example.com")
    await ivan.wait_for("Create a password")
    await ivan.send("kettle under the violet moon")
    await ivan.wait_for("I sent a letter")
    await ivan.send("000000")  # the code's script is loaded into Redis by the first attempt
    await ivan.settled()
    # A wrong code: the lock, the code's attempt (one script), the release.
    assert await trips(counter, ivan, lambda: ivan.send("111111")) == 3
    assert await trips(counter, ivan, lambda: ivan.send("/cancel")) == 2
