"""PRODUCT §1.12 in core: what deleting an account removes, keeps and frees, and that it is done
once; the chat's side is in tests/conversation/test_delete_account.py."""

from __future__ import annotations

import pytest

from core.adapters.db.support import SqlSupportStore
from core.domain.models import AddressKind
from core.errors import CodeInvalid, FreshSignInNeeded
from core.notices import AccountDeleted
from core.support_ports import NewHandoff
from tests.core.flows.conftest import World

EMAIL = "ivan@example.com"
PASSWORD = "correct horse battery"


async def test_the_deleted_accounts_id_is_never_another_accounts(world: World) -> None:
    """SQLite gives a new row the highest rowid + 1: the newest account deleted, its id would go
    to the next newcomer with the old one's cooldowns and codes, but the tombstone keeps it."""
    account, _ = await world.account(email=EMAIL, password=PASSWORD)
    await world.services.delete.send_code(account, AddressKind.EMAIL, "en", 1)

    await world.services.delete.confirm_code(account, world.last_code(EMAIL), "en")
    newcomer, _ = await world.account(name="Anna", subject="anna")

    assert newcomer > account
    async with world.services.kit.reader() as uow:
        assert await uow.accounts.get(account) is None
        assert await uow.bindings.owner(AddressKind.EMAIL, EMAIL) is None


async def test_a_second_confirmation_deletes_nothing_more_and_tells_nobody_again(
    world: World,
) -> None:
    account, telegram = await world.account(email=EMAIL, password=PASSWORD)

    assert await world.services.delete.erase(account, "en")
    assert not await world.services.delete.erase(account, "en")

    told = [n for n in world.notifier.notices if isinstance(n, AccountDeleted)]
    assert [n.telegram_user_id for n in told] == [telegram]
    async with world.services.kit.reader() as uow:
        events = await uow.audit.for_account(account)
    assert [(e.action, e.actor, e.details) for e in events] == [("account.deleted", "person", {})]


async def test_workspace_memberships_and_the_password_go(world: World) -> None:
    account, _ = await world.account(email=EMAIL, password=PASSWORD)
    async with world.services.kit.unit() as uow:
        portal = await uow.workspaces.create("portal", "Portal")
        await uow.workspaces.add_member(portal.id, account, EMAIL, None)
        await uow.commit()

    await world.services.delete.erase(account, "en")

    async with world.services.kit.reader() as uow:
        assert await uow.workspaces.memberships(account) == []
        assert await uow.passwords.get(account) is None
        assert await uow.identities.for_account(account) == []


async def test_a_wrong_code_deletes_nothing(world: World) -> None:
    account, _ = await world.account(email=EMAIL, password=PASSWORD)
    await world.services.delete.send_code(account, AddressKind.EMAIL, "en", 1)
    right = world.last_code(EMAIL)

    with pytest.raises(CodeInvalid):
        await world.services.delete.confirm_code(
            account, "000000" if right != "000000" else "1", "en"
        )

    assert await world.services.account.view(account)


async def test_without_a_sign_in_again_nothing_is_deleted(world: World) -> None:
    account, telegram = await world.account()

    with pytest.raises(FreshSignInNeeded):
        await world.services.delete.confirm_sign_in(account, telegram, "en")

    assert await world.services.account.view(account)


async def test_support_keeps_its_handoffs_but_not_the_conversation_data_in_them(
    world: World,
) -> None:
    account, telegram = await world.account(email=EMAIL, password=PASSWORD)
    store = SqlSupportStore(world.services.database)
    saved = {"address": "new@example.com"}
    await store.open(
        NewHandoff(telegram, account, "button", "BindEmail:awaiting_code", saved), world.clock.now()
    )
    await store.close(telegram, world.clock.now())

    await world.services.delete.erase(account, "en")

    handoff = await store.last(telegram)
    assert handoff is not None
    assert handoff.saved_data == {}
