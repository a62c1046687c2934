from __future__ import annotations

import pytest

from core.domain.models import AddressKind
from core.errors import LastSignInMethod, NotSignedIn
from tests.core.flows.conftest import World


async def test_the_card_shows_methods_bindings_and_password(world: World) -> None:
    account, _ = await world.account(email="me@example.com", password="correct horse battery")

    view = await world.services.account.view(account)

    assert [i.provider for i in view.identities] == ["google"]
    assert view.email is not None
    assert view.phone is None
    assert view.has_password
    assert view.sign_in_methods == 2


async def test_unbinding_keeps_at_least_one_way_in(world: World) -> None:
    account, _ = await world.account(email="me@example.com", password="correct horse battery")
    async with world.services.kit.unit() as uow:  # an account that lost its social identity
        await uow.bindings.confirm(account, AddressKind.PHONE, "+79123456789", world.clock.now())
        await uow.commit()

    await world.services.account.unbind(account, AddressKind.PHONE, "test")
    view = await world.services.account.view(account)
    assert view.phone is None
    assert view.email is not None


async def test_the_last_password_login_cannot_be_removed_without_a_social_identity(
    world: World,
) -> None:
    account, _ = await world.account(email="me@example.com", password="correct horse battery")
    async with world.services.kit.unit() as uow:
        conn = uow._conn  # type: ignore[attr-defined]
        from sqlalchemy import text

        await conn.execute(
            text("DELETE FROM social_identities WHERE account_id = :a"), {"a": account}
        )
        await uow.commit()

    with pytest.raises(LastSignInMethod):
        await world.services.account.unbind(account, AddressKind.EMAIL, "test")


async def test_sign_out_forgets_the_chat_but_keeps_the_account(world: World) -> None:
    account, telegram_id = await world.account(email="me@example.com")

    await world.services.account.sign_out(telegram_id)

    assert await world.services.account.account_for(telegram_id) is None
    with pytest.raises(NotSignedIn):
        await world.services.account.require(telegram_id)
    assert (await world.services.account.view(account)).email is not None


async def test_every_change_leaves_an_audit_event_without_secrets(world: World) -> None:
    account, _ = await world.account(password="correct horse battery")
    await world.services.bind_email.start(account, "me@example.com", locale="en")
    await world.services.bind_email.confirm_code(account, world.last_code())

    async with world.services.kit.unit() as uow:
        events = await uow.audit.for_account(account)

    actions = [e.action for e in reversed(events)]
    assert actions == [
        "account.created",
        "signed_in",
        "password.set",
        "email.pending",
        "email.bound",
    ]
    flat = repr(events)
    assert "correct horse" not in flat
    assert "me@example.com" not in flat
    assert world.last_code() not in flat
