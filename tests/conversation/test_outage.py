"""SPEC §3: the database or Redis down — "temporarily unavailable", nothing half-written, and the
bot recovers by itself when they are back."""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import ConnectionPool

from core.adapters.db.engine import make_engine
from sandbox.client import Sandbox
from tests.conversation.browser import Browser
from tests.conversation.conftest import running_stack, sign_in


async def test_a_database_outage_is_explained_and_passes(tmp_path: Path, browser: Browser) -> None:
    async with running_stack("postgres+redis", tmp_path / "sandbox") as stack:
        async with Sandbox(stack.url) as sandbox:
            ivan = await sandbox.person("Ivan", language_code="en")
            await sign_in(ivan, browser)
            database = stack.services.resources["database"]
            working = database.engine
            database.engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:9/none")
            try:
                await ivan.send("/me")
                await ivan.wait_for("temporarily unavailable", timeout=15)
            finally:
                await database.engine.dispose()
                database.engine = working

            await ivan.send("/me")
            await ivan.wait_for("Your account")


async def test_a_redis_outage_is_explained_and_passes(tmp_path: Path, browser: Browser) -> None:
    async with running_stack("postgres+redis", tmp_path / "sandbox") as stack:
        async with Sandbox(stack.url) as sandbox:
            ivan = await sandbox.person("Ivan", language_code="en")
            await sign_in(ivan, browser)
            redis = stack.services.resources["redis"]
            working = redis.connection_pool
            redis.connection_pool = ConnectionPool.from_url("redis://127.0.0.1:9/0")
            try:
                await ivan.send("/me")
                await ivan.wait_for("temporarily unavailable", timeout=15)
            finally:
                await redis.connection_pool.disconnect()
                redis.connection_pool = working

            await ivan.send("/me")
            await ivan.wait_for("Your account")
