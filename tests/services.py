"""Real PostgreSQL and Redis for tests: found at 127.0.0.1, or a clear skip (a failure under CI)."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require(name: str, host: str, port: int) -> None:
    """Skip with the reason when the service is absent; under CI=true that is a failure."""
    if _answers(host, port):
        return
    reason = f"{name} is not answering at {host}:{port}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI must prove the real thing", pytrace=False)
    pytest.skip(reason)


async def create_pg_database() -> str:
    """A new, empty database; returns its SQLAlchemy URL."""
    import asyncpg

    require("PostgreSQL", PG_HOST, PG_PORT)
    name = f"accountbot_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


async def drop_pg_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def redis_url() -> str:
    require("Redis", REDIS_HOST, REDIS_PORT)
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/15"


# The outage timeouts (PRODUCT §3) that a loaded machine could reach without any outage: a suite
# beside another on 2 cores saw a 1 s connect and a 1 s first statement time out. Stacks that are
# not proving the outage answer get `patient()` ones, so a slow statement is never taken for one.
PATIENT_TIMEOUTS = (
    "database_connect_timeout",
    "database_pool_timeout",
    "database_command_timeout",
    "redis_connect_timeout",
    "redis_timeout",
    "redis_pool_timeout",
    # The sandbox's SMTP catcher answers in the test's own process: on a machine loaded past 6
    # a letter once took longer than the product's 15 s and the person heard "unavailable".
    "smtp_timeout",
)
PATIENT_SECONDS = 120.0


def patient() -> dict[str, float]:
    """Settings (keyword form) with every outage timeout out of a loaded machine's reach."""
    return dict.fromkeys(PATIENT_TIMEOUTS, PATIENT_SECONDS)
