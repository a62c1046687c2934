"""A provider-verified email is taken as the provider gave it (PRODUCT §1.3), special-use too."""

from __future__ import annotations

import pytest

from core.errors import InvalidEmail
from core.flows.bind_email import EmailBound
from tests.core.flows.conftest import World

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("address", ["ivan@example.test", "ivan@corp.local"])
async def test_a_verified_special_use_email_is_offered_and_bound_at_once(
    world: World, address: str
) -> None:
    account, _ = await world.account(social_email=address, email_verified=True, password=PASSWORD)

    suggestion = await world.services.bind_email.suggestion(account)
    assert suggestion == address
    assert await world.services.bind_email.check(account, suggestion) == address
    outcome = await world.services.bind_email.start(account, suggestion, locale="en")

    assert outcome == EmailBound(address)
    assert world.mailer.letters == []
    assert await world.services.auth.authenticate(address, PASSWORD, "ip") == account


async def test_a_typed_special_use_email_keeps_the_strict_check(world: World) -> None:
    account, _ = await world.account(
        social_email="ivan@corp.local", email_verified=True, password=PASSWORD
    )

    with pytest.raises(InvalidEmail):
        await world.services.bind_email.check(account, "someone@corp.local")
    with pytest.raises(InvalidEmail):
        await world.services.bind_email.start(account, "other@example.test", locale="en")


async def test_an_unverified_special_use_email_is_refused(world: World) -> None:
    account, _ = await world.account(
        social_email="ivan@corp.local", email_verified=False, password=PASSWORD
    )

    assert await world.services.bind_email.suggestion(account) is None
    with pytest.raises(InvalidEmail):
        await world.services.bind_email.check(account, "ivan@corp.local")
