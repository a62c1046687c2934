"""The flows on the production pair, PostgreSQL + Redis, under concurrency (PRODUCT §3, §1.9)."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import AddressTaken, CodeExpired, CodeInvalid
from tests.core.flows.conftest import World

PASSWORD = "correct horse battery"


async def test_fifty_accounts_confirming_one_address_at_once_one_wins(pg_world: World) -> None:
    world = pg_world
    accounts = [(await world.account(password=PASSWORD))[0] for _ in range(50)]
    codes = {}
    for account in accounts:
        world.clock.advance(seconds=0)
        await world.services.bind_email.start(account, "shared@example.com", locale="en")
        codes[account] = world.last_code()

    results = await asyncio.gather(
        *(world.services.bind_email.confirm_code(a, codes[a]) for a in accounts),
        return_exceptions=True,
    )

    winners = [r for r in results if r == "shared@example.com"]
    losers = [r for r in results if isinstance(r, AddressTaken)]
    assert (len(winners), len(losers)) == (1, 49)


async def test_a_hundred_concurrent_wrong_guesses_use_five_attempts_and_void_the_code(
    pg_world: World,
) -> None:
    world = pg_world
    account, _ = await world.account(password=PASSWORD)
    await world.services.bind_email.start(account, "me@example.com", locale="en")
    right = world.last_code()
    wrong = "000000" if right != "000000" else "111111"

    results = await asyncio.gather(
        *(world.services.bind_email.confirm_code(account, wrong) for _ in range(100)),
        return_exceptions=True,
    )

    invalid = [r for r in results if isinstance(r, CodeInvalid)]
    assert sorted(r.attempts_left for r in invalid) == [0, 1, 2, 3, 4]
    assert all(isinstance(r, CodeExpired) for r in results if not isinstance(r, CodeInvalid))
    with pytest.raises(CodeExpired):
        await world.services.bind_email.confirm_code(account, right)


async def test_the_whole_email_binding_works_on_the_production_pair(pg_world: World) -> None:
    world = pg_world
    account, _ = await world.account(password=PASSWORD)
    await world.services.bind_email.start(account, "me@example.com", locale="ru")
    await world.services.bind_email.confirm_link(world.last_link_token())

    assert await world.services.auth.authenticate("me@example.com", PASSWORD, "ip") == account
    health = await world.services.health()
    assert health == {"database": True, "redis": True}
