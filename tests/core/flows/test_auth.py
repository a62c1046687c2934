"""PRODUCT §1.7: sign-in with a login and a password, one generic refusal, throttling."""

from __future__ import annotations

import pytest

from core.errors import AuthenticationFailed, Throttled
from tests.core.flows.conftest import World

PASSWORD = "correct horse battery"


async def test_a_bound_email_or_phone_with_the_password_signs_in(world: World) -> None:
    account, _ = await world.account(
        email="me@example.com", phone="+79123456789", password=PASSWORD
    )
    auth = world.services.auth

    assert await auth.authenticate("ME@example.com", PASSWORD, "10.0.0.1") == account
    assert await auth.authenticate("+7 912 345-67-89", PASSWORD, "10.0.0.1") == account


async def test_unknown_login_and_wrong_password_fail_the_same_way(world: World) -> None:
    await world.account(email="me@example.com", password=PASSWORD)
    failures = []
    for login, password in [
        ("me@example.com", "wrong"),
        ("nobody@example.com", PASSWORD),
        ("not a login", PASSWORD),
    ]:
        with pytest.raises(AuthenticationFailed) as error:
            await world.services.auth.authenticate(login, password, "10.0.0.1")
        failures.append(str(error.value))

    assert len(set(failures)) == 1


async def test_a_pending_email_does_not_sign_in(world: World) -> None:
    account, _ = await world.account(password=PASSWORD)
    await world.services.bind_email.start(account, "me@example.com", locale="en")

    with pytest.raises(AuthenticationFailed):
        await world.services.auth.authenticate("me@example.com", PASSWORD, "10.0.0.1")


async def test_five_failures_throttle_the_login_for_fifteen_minutes(world: World) -> None:
    account, _ = await world.account(email="me@example.com", password=PASSWORD)
    for n in range(5):
        with pytest.raises(AuthenticationFailed):
            await world.services.auth.authenticate("me@example.com", "wrong", f"10.0.0.{n}")

    with pytest.raises(Throttled) as error:
        await world.services.auth.authenticate("me@example.com", PASSWORD, "10.9.9.9")
    assert 0 < error.value.retry_in.total_seconds() <= 15 * 60

    world.clock.advance(minutes=15)
    assert await world.services.auth.authenticate("me@example.com", PASSWORD, "10.9.9.9") == account


async def test_one_address_trying_many_logins_is_throttled(world: World) -> None:
    await world.account(email="me@example.com", password=PASSWORD)
    for n in range(50):
        with pytest.raises(AuthenticationFailed):
            await world.services.auth.authenticate(f"guess{n}@example.com", "x", "10.6.6.6")

    with pytest.raises(Throttled):
        await world.services.auth.authenticate("me@example.com", PASSWORD, "10.6.6.6")
    assert await world.services.auth.authenticate("me@example.com", PASSWORD, "10.0.0.1")
