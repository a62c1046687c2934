"""Duplicates (issue #10, PRODUCT §3): every update of a whole email binding and phone binding
delivered twice, by polling and by webhook retries; one letter, one SMS, one audit row per
action. Duplicates are recognised in bounded memory, and a sandbox restarted on the same Redis
does not make a person's next messages look like duplicates."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiogram.types import Update

from bot.app import build_bot, build_dispatcher
from bot.polling import webhook_handler
from core.adapters.db import tables
from sandbox.client import Person, Sandbox
from sandbox.stack import SandboxStack, create_site, start_sandbox
from tests import services
from tests.conversation.browser import Browser
from tests.conversation.conftest import STORAGE_PAIRS, code_in, running_stack, sign_in
from tests.ports import free_port
from web.app import start_web

SECRET = "webhook-secret-for-the-test"
PASSWORD = "quiet harbour lantern"


@pytest.fixture(params=STORAGE_PAIRS)
async def stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SandboxStack]:
    overrides = {"webhook_secret": SECRET, "resend_cooldown": 0}
    async with running_stack(request.param, tmp_path / "sandbox", **overrides) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    client = Browser()
    yield client
    await client.close()


async def bind_both(stack: SandboxStack, sandbox: Sandbox, browser: Browser) -> Person:
    """A person binds an email (password typed, code from the letter), then a phone."""
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")
    await ivan.send("ivan@example.com")
    await ivan.wait_for("Create a password")
    await ivan.send(PASSWORD)
    await ivan.wait_for("I sent a letter")
    await ivan.send(code_in(stack.mailbox.letters(to="ivan@example.com")[0].text))
    await ivan.wait_for("Email bound")
    await ivan.press("Bind phone")
    await ivan.wait_for("Send the mobile number")
    await ivan.send("+44 7911 123456")
    await ivan.wait_for("I sent a 6-digit code")
    await ivan.send(code_in(stack.outbox.messages[-1].text))
    await ivan.wait_for("Phone bound")
    await ivan.send("/me")  # confirms the flow's last update: its second copy comes
    await ivan.wait_for("Your account")
    await sandbox.settled()  # ...and was handled
    return ivan


async def audit_actions(stack: SandboxStack) -> Counter[str]:
    engine = sa.ext.asyncio.create_async_engine(stack.services.settings.database_url)
    try:
        async with engine.connect() as db:
            rows = await db.execute(sa.select(tables.audit_events.c.action))
            return Counter(rows.scalars())
    finally:
        await engine.dispose()


async def assert_once_each(stack: SandboxStack, ivan: Person) -> None:
    assert len(stack.mailbox.letters(to="ivan@example.com")) == 1
    assert len(stack.outbox.messages) == 1
    actions = await audit_actions(stack)
    for action in ("email.pending", "email.bound", "password.set", "phone.pending", "phone.bound"):
        assert actions[action] == 1, (action, actions)
    said = Counter((m.text or "").split("\n")[0] for m in await ivan.messages() if m.from_bot)
    for first_line in ("Email bound.", "Phone bound.", "Step 3 of 3"):
        assert sum(n for line, n in said.items() if line.startswith(first_line)) == 1, said
    deleted = [m for m in await ivan.messages() if "I deleted your message" in (m.text or "")]
    assert len(deleted) == 1


async def test_every_update_polled_twice_has_its_effects_once(
    stack: SandboxStack, browser: Browser
) -> None:
    stack.state.find_bot().deliver_twice = True
    async with Sandbox(stack.url) as sandbox:
        ivan = await bind_both(stack, sandbox, browser)

        await assert_once_each(stack, ivan)
    assert stack.state.find_bot().redelivered >= 8  # each of Ivan's 8 messages and presses


async def test_every_webhook_delivery_retried_has_its_effects_once(
    stack: SandboxStack, browser: Browser
) -> None:
    """The webhook as in production (answered once handled), each update delivered twice."""
    from sandbox.settling import report_handling

    await stack._stop_bot()  # the stack's polling bot makes way for a webhook one
    bot = build_bot(stack.services.settings)
    dispatcher, _ = build_dispatcher(stack.services, bot)
    stack.bot, stack.dispatcher = bot, dispatcher
    state_bot = stack.state.find_bot()
    stack.tasks.append(report_handling(dispatcher, stack.services, state_bot.handling))
    app = create_site(
        stack.services, webhook_handler=webhook_handler(dispatcher, bot, stack.services.settings)
    )
    port = free_port()
    runner = await start_web(app, "127.0.0.1", port)
    try:
        state_bot.deliver_twice = True
        await bot.set_webhook(f"http://127.0.0.1:{port}/telegram/webhook", secret_token=SECRET)
        async with Sandbox(stack.url) as sandbox:
            ivan = await bind_both(stack, sandbox, browser)
            await bot.delete_webhook()

            await assert_once_each(stack, ivan)
    finally:
        await runner.cleanup()
    assert state_bot.redelivered >= 8


def _update(update_id: int, chat_id: int, text: str, bot: object) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Ivan"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Ivan"},
                "text": text,
            },
        },
        context={"bot": bot},
    )


async def test_duplicates_are_recognised_in_bounded_memory(tmp_path: Path) -> None:
    """Redis holds a window per bot, not a key per update (≈1 GB a day at 80 updates/s)."""
    window = 100
    async with (
        running_stack("postgres+redis", tmp_path / "sandbox", duplicate_window=window) as stack,
        Sandbox(stack.url) as sandbox,
    ):
        redis = stack.services.redis
        prefix = stack.services.settings.redis_prefix
        ivan = await sandbox.person("Ivan", language_code="en")
        await ivan.start()
        await ivan.wait_for("sign in with the network")
        before = {key async for key in redis.scan_iter(match=prefix + "*")}
        for update_id in range(10_000, 10_000 + 3 * window):
            update = _update(update_id, ivan.id, "hello", stack.bot)
            await stack.dispatcher.feed_update(stack.bot, update)
        again = _update(10_000 + 3 * window - 1, ivan.id, "hello", stack.bot)
        answers = len(await ivan.messages())
        await stack.dispatcher.feed_update(stack.bot, again)  # the newest one, once more
        after = {key async for key in redis.scan_iter(match=prefix + "*")}

        assert len(await ivan.messages()) == answers  # recognised: nothing said twice
        new_keys = [key for key in after - before if b"update" in key]
        assert len(new_keys) <= 2, new_keys
        windows = [key for key in after if key.endswith(b":window")]
        assert windows
        for key in windows:
            assert await redis.zcard(key) <= window


async def test_a_sandbox_restarted_on_the_same_redis_is_heard(
    tmp_path: Path, browser: Browser
) -> None:
    """The stand-in used to number updates from 1 again after a restart; the bot, which had
    seen those ids, skipped the person's next messages as duplicates."""
    database = await services.create_pg_database()
    settings = {
        "database_url": database,
        "redis_url": services.redis_url(),
        "redis_prefix": f"test-{uuid.uuid4().hex[:8]}:",
        **services.patient(),  # a loaded machine is not an outage
    }
    folder = tmp_path / "sandbox"
    try:
        first = await start_sandbox("127.0.0.1", 0, folder, flood_limits=False, **settings)
        try:
            async with Sandbox(first.url) as sandbox:
                ivan = await sandbox.person("Ivan", language_code="en")
                await sign_in(ivan, browser)
                for _ in range(3):
                    await ivan.send("/me")
                    await ivan.wait_for("Your account")
                person_id = ivan.id
        finally:
            await first.stop()

        second = await start_sandbox("127.0.0.1", 0, folder, flood_limits=False, **settings)
        try:
            async with Sandbox(second.url) as sandbox:
                ivan = Person(sandbox, {"id": person_id, "first_name": "Ivan"})
                await ivan.send("/me")
                await ivan.wait_for("Your account")
        finally:
            redis = second.services.redis
            async for key in redis.scan_iter(match=settings["redis_prefix"] + "*"):
                await redis.delete(key)
            await second.stop()
    finally:
        await services.drop_pg_database(database)
