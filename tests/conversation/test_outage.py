"""PRODUCT §3: the database or Redis down — "temporarily unavailable", nothing half-written, and the
bot recovers by itself when they are back; a password typed meanwhile is deleted all the same.

An outage is simulated by pointing the running bot at a port where nothing listens: the fault is
"connection refused" at once, or at a port that accepts and never answers (a hung server),
where only the bot's own timeouts end the wait. The two-second bound itself is asserted on those
timeouts, not on the wall clock, which moves with the machine's load.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from redis.asyncio import ConnectionPool

from bot.middlewares.secrets import SecretMessages
from core.adapters.db.engine import make_engine
from core.bootstrap import REDIS_BACKOFF_CAP
from core.settings import Settings
from sandbox.client import Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conversation.browser import Browser
from tests.conversation.conftest import running_stack, sign_in
from tests.core.flows.conftest import settings

NOWHERE_PORT = 9  # discard: nothing listens, the connection is refused
DELETED = "I deleted your message with the password"  # said with "temporarily unavailable"
ANSWER_WITHIN = 2.0  # seconds: "temporarily unavailable" within two seconds (PRODUCT §3.3)
ANSWER_TIMEOUT = 40.0  # how long a test waits at all: without timeouts a hung server never ends


@asynccontextmanager
async def black_hole() -> AsyncIterator[int]:
    """A port that accepts connections and never answers: a hung server, a dead network path.

    Only the bot's own timeouts (settings) bound how long it waits on it.
    """
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(4096):
            pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()


@asynccontextmanager
async def database_at(stack: SandboxStack, port: int) -> AsyncIterator[None]:
    """The running bot's database moved to `port`, with the engine's own settings."""
    database = stack.services.database
    working = database.engine
    database.engine = make_engine(
        f"postgresql+asyncpg://postgres@127.0.0.1:{port}/none", timeouts=database.timeouts
    )
    try:
        yield
    finally:
        await database.engine.dispose()
        database.engine = working


@asynccontextmanager
async def redis_at(stack: SandboxStack, port: int) -> AsyncIterator[None]:
    """The running bot's Redis moved to `port`, with the client's own timeouts and retries."""
    redis = stack.services.redis
    working = redis.connection_pool
    kwargs = {**working.connection_kwargs, "host": "127.0.0.1", "port": port}
    redis.connection_pool = ConnectionPool(connection_class=working.connection_class, **kwargs)
    try:
        yield
    finally:
        await redis.connection_pool.disconnect()
        redis.connection_pool = working


@asynccontextmanager
async def database_down(stack: SandboxStack) -> AsyncIterator[None]:
    async with database_at(stack, NOWHERE_PORT):
        yield


@asynccontextmanager
async def redis_down(stack: SandboxStack) -> AsyncIterator[None]:
    async with redis_at(stack, NOWHERE_PORT):
        yield


@asynccontextmanager
async def database_hangs(stack: SandboxStack) -> AsyncIterator[None]:
    async with black_hole() as port, database_at(stack, port):
        yield


@asynccontextmanager
async def redis_hangs(stack: SandboxStack) -> AsyncIterator[None]:
    async with black_hole() as port, redis_at(stack, port):
        yield


Outage = Callable[[SandboxStack], AbstractAsyncContextManager[None]]
OUTAGES = [
    pytest.param(database_down, id="postgres-refused"),
    pytest.param(redis_down, id="redis-refused"),
]
HANGS = [
    pytest.param(database_hangs, id="postgres-hangs"),
    pytest.param(redis_hangs, id="redis-hangs"),
]
NAMES: dict[Outage, str] = {
    database_down: "database",
    redis_down: "redis",
    database_hangs: "database",
    redis_hangs: "redis",
}


async def answered_in(
    person: Person, text: str, expect: str = "temporarily unavailable"
) -> tuple[int, float]:
    """Send `text`; the message id and the seconds until the answer (`expect`) came."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent = await person.send(text)
    answer = await person.wait_for(expect, timeout=ANSWER_TIMEOUT)
    assert "temporarily unavailable" in (answer.text or "")
    seconds = loop.time() - started
    print(f"answered in {seconds:.2f} s")  # the report's figure (pytest -s)
    return sent, seconds


def outages_counted(stack: SandboxStack, dependency: str) -> float:
    """The metric the operator sees (accountbot_dependency_unavailable_total)."""
    registry = stack.services.metrics.registry
    found = registry.get_sample_value(
        "accountbot_dependency_unavailable_total", {"dependency": dependency}
    )
    return found or 0.0


def outage_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("dependency unavailable")]


def assert_logged_as_an_outage(caplog: pytest.LogCaptureFixture, dependency: str) -> None:
    """One warning naming the dependency, no traceback, nothing called "unhandled"."""
    found = outage_records(caplog)
    assert found, [r.getMessage() for r in caplog.records]
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in found)
    assert all(getattr(r, "dependency", None) == dependency for r in found)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR
    ]


def worst_wait(settings: Settings) -> dict[str, float]:
    """The longest one request can wait on a hung dependency, from the settings alone.

    PostgreSQL: a pooled connection's pre-ping (command timeout) or the wait for a free one (pool
    timeout), then a new connection (connect timeout). Redis: the wait for a free connection, then
    every attempt (the first and each retry) up to its connect or read timeout, with the retry
    backoff's cap between them.
    """
    s = settings
    database = max(s.database_command_timeout, s.database_pool_timeout) + (
        s.database_connect_timeout
    )
    attempts = s.redis_retries + 1
    redis = (
        s.redis_pool_timeout
        + attempts * max(s.redis_connect_timeout, s.redis_timeout)
        + s.redis_retries * REDIS_BACKOFF_CAP
    )
    return {"database": database, "redis": redis}


def test_the_settings_answer_an_outage_within_two_seconds() -> None:
    """Deterministic: the timeouts on the path of one update add up to PRODUCT §3.3's bound."""
    defaults = settings()  # every outage setting at its default
    for dependency, seconds in worst_wait(defaults).items():
        assert seconds <= ANSWER_WITHIN, (dependency, seconds)


@pytest.mark.parametrize("outage", OUTAGES + HANGS)
async def test_an_outage_is_explained_at_once_logged_as_such_and_passes(
    tmp_path: Path, browser: Browser, caplog: pytest.LogCaptureFixture, outage: Outage
) -> None:
    async with running_stack("postgres+redis", tmp_path / "sandbox", patient=False) as stack:
        async with Sandbox(stack.url) as sandbox:
            ivan = await sandbox.person("Ivan", language_code="en")
            await sign_in(ivan, browser)
            await ivan.settled()
            caplog.clear()
            caplog.set_level(logging.INFO)
            async with outage(stack):
                _sent, seconds = await answered_in(ivan, "/me")

            # The wall-clock figure is printed, not asserted (it moves with the machine's load);
            # what bounds it is asserted in test_the_settings_answer_an_outage_within_two_seconds.
            assert seconds < ANSWER_TIMEOUT
            assert_logged_as_an_outage(caplog, NAMES[outage])
            assert outages_counted(stack, NAMES[outage]) >= 1
            await ivan.send("/me")
            await ivan.wait_for("Your account")


@pytest.mark.parametrize("outage", OUTAGES + HANGS)
async def test_a_password_typed_during_an_outage_is_deleted(
    tmp_path: Path, browser: Browser, caplog: pytest.LogCaptureFixture, outage: Outage
) -> None:
    async with running_stack("postgres+redis", tmp_path / "sandbox", patient=False) as stack:
        async with Sandbox(stack.url) as sandbox:
            ivan = await sandbox.person("Ivan", language_code="en")
            await sign_in(ivan, browser)
            await to_a_password_step(ivan)
            await ivan.wait_for("Create a password")
            await ivan.settled()  # the press is wholly handled before the outage begins
            caplog.clear()
            caplog.set_level(logging.INFO)
            async with outage(stack):
                typed, seconds = await answered_in(ivan, "kettle under the violet moon", DELETED)
                assert next(m for m in await ivan.messages() if m.message_id == typed).deleted
                # The wall-clock figure is printed, not asserted (it moves with the machine's load);
            # what bounds it is asserted in test_the_settings_answer_an_outage_within_two_seconds.
            assert seconds < ANSWER_TIMEOUT
            assert_logged_as_an_outage(caplog, NAMES[outage])

            # Back to normal: the step is still there, the password is taken and deleted.
            again = await ivan.send("kettle under the violet moon")
            await ivan.wait_for("I sent a letter")  # the binding goes on after its password
            assert next(m for m in await ivan.messages() if m.message_id == again).deleted


@pytest.mark.parametrize("outage", OUTAGES)
async def test_every_password_typed_during_an_outage_is_deleted(
    tmp_path: Path, browser: Browser, outage: Outage
) -> None:
    """Several in a row (the issue saw 18 of 126 left): none stays, each one is answered."""
    async with running_stack("postgres+redis", tmp_path / "sandbox", patient=False) as stack:
        async with Sandbox(stack.url) as sandbox:
            ivan = await sandbox.person("Ivan", language_code="en")
            await sign_in(ivan, browser)
            await to_a_password_step(ivan)
            await ivan.wait_for("Create a password")
            await ivan.settled()  # the press is wholly handled before the outage begins
            typed = []
            async with outage(stack):
                for n in range(5):
                    sent, _ = await answered_in(ivan, f"kettle under the violet moon {n}", DELETED)
                    typed.append(sent)
            shown = {m.message_id: m for m in await ivan.messages()}
            assert [shown[t].deleted for t in typed] == [True] * len(typed)


async def test_after_a_restart_during_a_redis_outage_a_text_is_deleted_to_be_safe(
    tmp_path: Path, browser: Browser
) -> None:
    """A fresh process does not know the chat's step and cannot read it: a text that may be a
    password goes (and the person is told why); a command stays."""
    async with running_stack("postgres+redis", tmp_path / "sandbox", patient=False) as stack:
        async with Sandbox(stack.url) as sandbox:
            ivan = await sandbox.person("Ivan", language_code="en")
            await sign_in(ivan, browser)
            await to_a_password_step(ivan)
            await ivan.wait_for("Create a password")
            await ivan.settled()  # the press is wholly handled before the outage begins
            forget_every_step(stack)  # what a restart does to the in-process record
            async with redis_down(stack):
                typed, _ = await answered_in(ivan, "kettle under the violet moon", "to be safe")
                command, _ = await answered_in(ivan, "/me")
            shown = {m.message_id: m for m in await ivan.messages()}
            assert shown[typed].deleted
            assert not shown[command].deleted


async def to_a_password_step(ivan: Person) -> None:
    """Binding an email asks for the password (the card offers none without a login)."""
    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")
    await ivan.send("ivan@example.com")


def forget_every_step(stack: SandboxStack) -> None:
    found = [m for m in stack.dispatcher.update.outer_middleware if isinstance(m, SecretMessages)]
    assert len(found) == 1
    found[0].steps.clear()
