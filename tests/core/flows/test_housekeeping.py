"""Housekeeping (issue #10): expired pending claims and audit past retention leave the database,
live ones stay; on SQLite and PostgreSQL, with a clock the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from core.domain.models import BindingStatus
from core.flows.housekeeping import Housekeeping, Swept
from core.settings import Settings
from tests.conftest import FakeClock
from tests.core.flows.conftest import World, make_world

PASSWORD = "correct horse battery staple"
RETENTION_DAYS = Settings.model_fields["audit_retention_days"].default  # 365


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/housekeeping.sqlite3"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def world(clock: FakeClock, database_url: str) -> AsyncIterator[World]:
    built = await make_world(clock, database_url)
    yield built
    await built.services.close()


async def bindings_of(world: World, account_id: int) -> list[tuple[str, str, BindingStatus]]:
    async with world.services.kit.reader() as uow:
        found = await uow.bindings.for_account(account_id)
    return sorted((b.kind.value, b.address, b.status) for b in found)


async def test_expired_pending_claims_go_and_live_ones_stay(world: World, clock: FakeClock) -> None:
    waiting, _ = await world.account(password=PASSWORD)
    gone, telegram_id = await world.account(password=PASSWORD)
    bound, _ = await world.account(email="bound@example.com", password=PASSWORD)
    await world.services.bind_email.start(waiting, "waiting@example.com", locale="en")
    email_code = world.last_code("waiting@example.com")
    await world.services.bind_phone.send_code(
        gone, "+79990000001", telegram_user_id=telegram_id, locale="en"
    )
    clock.advance(minutes=30)  # past the SMS code's 10 minutes, within the email's hour

    swept = await world.services.housekeeping.run_once()

    assert swept == Swept(claims=1, audit=0)
    assert await bindings_of(world, gone) == []
    assert await bindings_of(world, waiting) == [
        ("email", "waiting@example.com", BindingStatus.PENDING)
    ]
    assert await bindings_of(world, bound) == [
        ("email", "bound@example.com", BindingStatus.CONFIRMED)
    ]
    # The live claim still works: its owner confirms it.
    assert await world.services.bind_email.confirm_code(waiting, email_code)
    assert await bindings_of(world, waiting) == [
        ("email", "waiting@example.com", BindingStatus.CONFIRMED)
    ]


async def test_audit_events_older_than_the_retention_go_and_recent_ones_stay(
    world: World, clock: FakeClock
) -> None:
    account, _ = await world.account(password=PASSWORD)  # "account.created", "signed_in" now
    async with world.services.kit.reader() as uow:
        old = len(await uow.audit.for_account(account))
    clock.advance(days=RETENTION_DAYS - 1)
    await world.services.account.set_locale(account, "ru", actor="test")
    clock.advance(days=2)  # the first events are a year and a day old, the last one two days

    swept = await world.services.housekeeping.run_once()

    async with world.services.kit.reader() as uow:
        kept = [event.action for event in await uow.audit.for_account(account)]
    assert old > 0 and swept == Swept(claims=0, audit=old)
    assert kept == ["locale.changed"]
    assert await world.services.housekeeping.run_once() == Swept(claims=0, audit=0)


async def test_many_expired_claims_go_in_short_batches(world: World, clock: FakeClock) -> None:
    accounts = [(await world.account(password=PASSWORD))[0] for _ in range(7)]
    for n, account in enumerate(accounts):
        await world.services.bind_email.start(account, f"p{n}@example.com", locale="en")
    clock.advance(hours=2)
    small = replace(world.services.housekeeping, batch=3)

    assert await small.run_once() == Swept(claims=7, audit=0)
    for account in accounts:
        assert await bindings_of(world, account) == []


async def test_the_schedule_runs_at_once_and_stops_when_cancelled(
    world: World, clock: FakeClock
) -> None:
    account, _ = await world.account(password=PASSWORD)
    await world.services.bind_email.start(account, "late@example.com", locale="en")
    clock.advance(hours=2)
    ran = asyncio.Event()

    class Watched(Housekeeping):
        async def run_once(self) -> Swept:
            swept = await super().run_once()
            ran.set()
            return swept

    schedule = Watched(world.services.kit, interval=timedelta(hours=1))
    task = asyncio.create_task(schedule.run_forever())
    async with asyncio.timeout(30):
        await ran.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await bindings_of(world, account) == []
