"""Support under strain: a restart with an open handoff, and a burst under the group's limit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.pacing import pacer_of
from sandbox.botapi import SandboxState
from sandbox.client import Person, Sandbox
from sandbox.stack import SANDBOX_BOT, SANDBOX_TOKEN, SandboxStack, start_sandbox
from tests import services
from tests.conversation.browser import Browser
from tests.conversation.test_support_handoff import HANDED_OVER, desk_agent, signed_in, topic_of


class MovableClock:
    """Real time plus an offset the test moves: Telegram's flood windows pass at once."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def telegram(clock: MovableClock | None = None, *, flood_limits: bool = False) -> SandboxState:
    """The sandbox's Telegram side, kept by the test across a restart of the product."""
    state = SandboxState(clock, flood_limits=flood_limits)
    state.add_bot(SANDBOX_TOKEN, username=SANDBOX_BOT, first_name="Account assistant")
    return state


@asynccontextmanager
async def product(
    folder: Path, state: SandboxState, **overrides: Any
) -> AsyncIterator[SandboxStack]:
    # A stopped stack ends the state's long polls for good; a new one serves them again.
    state.closing = False
    overrides.setdefault("telegram_pacing", state.flood_limits)
    for setting, seconds in services.patient().items():  # a loaded machine is not an outage
        overrides.setdefault(setting, seconds)
    stack = await start_sandbox(
        "127.0.0.1", 0, folder, state=state, flood_limits=state.flood_limits, **overrides
    )
    try:
        yield stack
    finally:
        await stack.stop()


async def test_a_restart_with_an_open_handoff_keeps_relaying(
    tmp_path: Path, browser: Browser
) -> None:
    database = await services.create_pg_database()
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    shared = {"database_url": database, "redis_url": services.redis_url(), "redis_prefix": prefix}
    state, folder = telegram(), tmp_path / "sandbox"
    try:
        async with product(folder, state, **shared) as stack, Sandbox(stack.url) as sandbox:
            ivan = await signed_in(sandbox, browser)
            await ivan.send("/support")
            await ivan.wait_for(HANDED_OVER)
            thread = await topic_of(await desk_agent(sandbox, stack), ivan)

        async with product(folder, state, **shared) as stack, Sandbox(stack.url) as sandbox:
            ivan, agent = Person(sandbox, ivan.data), await desk_agent(sandbox, stack)
            await ivan.send("Still waiting after the restart")
            await agent.wait_for("Still waiting after the restart", thread_id=thread)
            await agent.send("Here we are", thread_id=thread)
            await ivan.wait_for("Here we are")
            redis = stack.services.redis
            async for key in redis.scan_iter(match=prefix + "*"):
                await redis.delete(key)
    finally:
        await services.drop_pg_database(database)


async def test_a_burst_from_ten_people_reaches_the_group_whole_and_in_order(
    tmp_path: Path,
) -> None:
    clock = MovableClock()
    state = telegram(clock, flood_limits=True)
    async with product(tmp_path / "sandbox", state) as stack, Sandbox(stack.url) as sandbox:

        async def wait_as_telegram_asks(seconds: float) -> None:
            clock.offset += timedelta(seconds=seconds)
            await asyncio.sleep(0)

        pacer = pacer_of(stack.bot)  # the bot's one flood control paces the group too
        assert pacer is not None
        pacer.clock, pacer.sleep = lambda: clock.now().timestamp(), wait_as_telegram_asks
        agent = await desk_agent(sandbox, stack)
        people = [await sandbox.person(f"P{n}") for n in range(10)]
        for person in people:
            await person.send("/support")
            await person.wait_for(HANDED_OVER)
        for number in range(10):
            for person in people:
                await person.send(f"{person.data['first_name']} says {number}")
        for person in people:
            await agent.wait_for(f"{person.data['first_name']} says 9", timeout=30)

        for person in people:
            thread = await topic_of(agent, person)
            said = [
                m.text
                for m in await agent.messages(thread)
                if m.text and m.text.startswith(f"{person.data['first_name']} says")
            ]
            assert said == [f"{person.data['first_name']} says {n}" for n in range(10)], said
        # 10 cards and 100 messages at 20 a minute: paced to the group's limit, not refused.
        assert clock.offset >= timedelta(minutes=4)
        assert state.flood.refused == 0


async def test_a_restart_on_memory_storage_keeps_the_handoff_from_the_database(
    tmp_path: Path, browser: Browser
) -> None:
    state, folder = telegram(), tmp_path / "sandbox"
    async with product(folder, state) as stack, Sandbox(stack.url) as sandbox:
        ivan = await signed_in(sandbox, browser)
        await ivan.send("/support")
        await ivan.wait_for(HANDED_OVER)
        thread = await topic_of(await desk_agent(sandbox, stack), ivan)

    async with product(folder, state) as stack, Sandbox(stack.url) as sandbox:
        ivan, agent = Person(sandbox, ivan.data), await desk_agent(sandbox, stack)
        await ivan.send("Hello after the restart")
        await agent.wait_for("Hello after the restart", thread_id=thread)
        await agent.send("/close", thread_id=thread)
        await ivan.wait_for("Support has closed the conversation")
