from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.models import AddressKind
from core.errors import (
    AddressAlreadyYours,
    AddressTaken,
    CodeExpired,
    CodeInvalid,
    InvalidEmail,
    PasswordRequired,
    ResendTooSoon,
)
from core.flows.bind_email import EmailBound, EmailPending
from core.notices import EmailConfirmed
from tests.core.flows.conftest import World

PASSWORD = "correct horse battery"


async def test_a_bad_address_says_what_is_wrong_and_stores_nothing(world: World) -> None:
    account, _ = await world.account(password=PASSWORD)

    with pytest.raises(InvalidEmail) as error:
        await world.services.bind_email.start(account, "ivan@@gmail", locale="en")

    assert error.value.reason == "syntax"
    view = await world.services.account.view(account)
    assert view.email is None and view.pending_email is None
    assert world.mailer.letters == []


async def test_an_address_of_another_account_leads_to_already_exists(world: World) -> None:
    await world.account(email="taken@example.com")
    account, _ = await world.account(password=PASSWORD)

    with pytest.raises(AddressTaken) as error:
        await world.services.bind_email.start(account, "Taken@Example.com", locale="en")

    assert (error.value.kind, error.value.address) == ("email", "taken@example.com")


async def test_the_own_address_is_reported_as_already_bound(world: World) -> None:
    account, _ = await world.account(email="me@example.com", password=PASSWORD)

    with pytest.raises(AddressAlreadyYours):
        await world.services.bind_email.check(account, "ME@example.com")


async def test_a_password_is_asked_for_before_the_letter(world: World) -> None:
    account, _ = await world.account()

    with pytest.raises(PasswordRequired):
        await world.services.bind_email.start(account, "me@example.com", locale="en")
    assert world.mailer.letters == []


async def test_an_email_the_provider_verified_is_bound_without_a_letter(world: World) -> None:
    account, _ = await world.account(social_email="ivan@gmail.com", email_verified=True)
    await world.services.password.set(account, PASSWORD, "test")

    assert await world.services.bind_email.suggestion(account) == "ivan@gmail.com"
    outcome = await world.services.bind_email.start(account, "Ivan@Gmail.com", locale="en")

    assert outcome == EmailBound("ivan@gmail.com")
    assert world.mailer.letters == []
    assert (await world.services.account.view(account)).email is not None


async def test_an_untrusted_provider_still_needs_the_letter(world: World) -> None:
    account, _ = await world.account(
        provider="vk", social_email="ivan@mail.ru", email_verified=True, password=PASSWORD
    )

    assert await world.services.bind_email.suggestion(account) is None
    outcome = await world.services.bind_email.start(account, "ivan@mail.ru", locale="ru")

    assert isinstance(outcome, EmailPending)
    assert [letter.to for letter in world.mailer.letters] == ["ivan@mail.ru"]


async def test_the_code_from_the_letter_binds_the_email(world: World) -> None:
    account, _ = await world.account(password=PASSWORD)

    outcome = await world.services.bind_email.start(account, "me@example.com", locale="en")
    assert outcome == EmailPending("me@example.com", timedelta(seconds=60))
    view = await world.services.account.view(account)
    assert view.pending_email is not None and view.email is None

    await world.services.bind_email.confirm_code(account, world.last_code("me@example.com"))

    view = await world.services.account.view(account)
    assert view.email is not None and view.email.address == "me@example.com"
    assert view.pending_email is None
    assert await world.services.auth.authenticate("me@example.com", PASSWORD, "1.2.3.4") == account


async def test_a_wrong_code_shows_attempts_left_and_the_fifth_voids_it(world: World) -> None:
    account, _ = await world.account(password=PASSWORD)
    await world.services.bind_email.start(account, "me@example.com", locale="en")
    right = world.last_code()
    wrong = "000000" if right != "000000" else "111111"

    left = []
    for _ in range(5):
        with pytest.raises(CodeInvalid) as error:
            await world.services.bind_email.confirm_code(account, wrong)
        left.append(error.value.attempts_left)

    assert left == [4, 3, 2, 1, 0]
    with pytest.raises(CodeExpired):
        await world.services.bind_email.confirm_code(account, right)


async def test_a_code_expires_after_an_hour(world: World) -> None:
    account, _ = await world.account(password=PASSWORD)
    await world.services.bind_email.start(account, "me@example.com", locale="en")
    world.clock.advance(hours=1, seconds=1)

    with pytest.raises(CodeExpired):
        await world.services.bind_email.confirm_code(account, world.last_code())
    assert (await world.services.account.view(account)).pending_email is None


async def test_the_link_binds_once_and_tells_the_chat(world: World) -> None:
    account, telegram_id = await world.account(password=PASSWORD)
    await world.services.bind_email.start(account, "me@example.com", locale="en")
    token = world.last_link_token()

    assert await world.services.bind_email.peek_link(token) == "m***@example.com"
    assert await world.services.bind_email.confirm_link(token) == (account, "me@example.com")

    assert world.notifier.notices == [EmailConfirmed(telegram_id, account, "me@example.com")]
    with pytest.raises(CodeExpired):
        await world.services.bind_email.confirm_link(token)
    with pytest.raises(CodeExpired):
        await world.services.bind_email.confirm_code(account, world.last_code())


async def test_a_used_code_kills_its_link_and_a_new_letter_kills_the_old_one(world: World) -> None:
    account, _ = await world.account(password=PASSWORD)
    await world.services.bind_email.start(account, "me@example.com", locale="en")
    old_token = world.last_link_token()
    world.clock.advance(seconds=61)
    await world.services.bind_email.resend(account)

    with pytest.raises(CodeExpired):
        await world.services.bind_email.confirm_link(old_token)
    await world.services.bind_email.confirm_code(account, world.last_code())
    with pytest.raises(CodeExpired):
        await world.services.bind_email.confirm_link(world.last_link_token())


async def test_resend_waits_a_minute_then_twice_as_long(world: World) -> None:
    account, _ = await world.account(password=PASSWORD)
    await world.services.bind_email.start(account, "me@example.com", locale="en")

    with pytest.raises(ResendTooSoon) as error:
        await world.services.bind_email.resend(account)
    assert error.value.retry_in == timedelta(seconds=60)

    world.clock.advance(seconds=60)
    assert (await world.services.bind_email.resend(account)).resend_in == timedelta(seconds=120)
    world.clock.advance(seconds=119)
    with pytest.raises(ResendTooSoon):
        await world.services.bind_email.resend(account)
    assert len(world.mailer.letters) == 2


async def test_a_pending_claim_does_not_block_another_account(world: World) -> None:
    first, _ = await world.account(password=PASSWORD)
    second, _ = await world.account(password=PASSWORD)
    await world.services.bind_email.start(first, "shared@example.com", locale="en")
    first_code = world.last_code()

    await world.services.bind_email.start(second, "shared@example.com", locale="en")
    await world.services.bind_email.confirm_code(second, world.last_code())

    with pytest.raises(AddressTaken):
        await world.services.bind_email.confirm_code(first, first_code)
    assert (await world.services.account.view(first)).email is None


async def test_workspaces_take_the_new_email_only_when_asked(world: World) -> None:
    account, _ = await world.account(password=PASSWORD)
    other, _ = await world.account(password=PASSWORD)
    async with world.services.kit.unit() as uow:
        portal = await uow.workspaces.create("portal", "Portal")
        await uow.workspaces.add_member(portal.id, account, "old@example.com", None)
        await uow.workspaces.add_member(portal.id, other, "keep@example.com", None)
        await uow.commit()

    await world.services.bind_email.start(
        account, "new@example.com", locale="en", update_workspaces=True
    )
    await world.services.bind_email.confirm_code(account, world.last_code())
    await world.services.bind_email.start(other, "other@example.com", locale="en")
    await world.services.bind_email.confirm_code(other, world.last_code())

    async with world.services.kit.unit() as uow:
        mine = await uow.workspaces.memberships(account)
        theirs = await uow.workspaces.memberships(other)
    assert [m.contact_email for m in mine] == ["new@example.com"]
    assert [m.contact_email for m in theirs] == ["keep@example.com"]


async def test_changing_the_email_tells_the_old_address(world: World) -> None:
    account, _ = await world.account(email="old@example.com", password=PASSWORD)

    await world.services.bind_email.start(account, "new@example.com", locale="en")
    await world.services.bind_email.confirm_code(account, world.last_code())

    assert [letter.to for letter in world.mailer.letters] == ["new@example.com", "old@example.com"]
    assert "n***@example.com" in world.mailer.letters[-1].text
    async with world.services.kit.unit() as uow:
        assert await uow.bindings.owner(AddressKind.EMAIL, "old@example.com") is None
