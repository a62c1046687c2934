"""Core decides which steps binding an address takes (PRODUCT §1.3, §1.4): the workspaces
question only with workspaces, the password only without one, a provider's email to suggest."""

from __future__ import annotations

from core.domain.models import AddressKind
from core.flows.binding import BindingPlan, Step
from tests.core.flows.conftest import World

PASSWORD = "correct horse battery"
ADDRESS, WORKSPACES, CODE = Step.ADDRESS, Step.WORKSPACES, Step.CODE


async def test_without_a_password_the_email_asks_for_one_before_its_letter(world: World) -> None:
    account, _ = await world.account()

    plan = await world.services.bind_email.plan(account)

    assert plan.steps == (ADDRESS, Step.PASSWORD, CODE)
    assert plan.needs_password and not plan.workspaces and plan.total == 3


async def test_without_a_password_the_phone_asks_for_one_after_its_code(world: World) -> None:
    account, _ = await world.account()

    plan = await world.services.bind_phone.plan(account)

    assert plan.steps == (ADDRESS, CODE, Step.PASSWORD)


async def test_workspaces_add_their_question_and_a_password_takes_its_step_away(
    world: World,
) -> None:
    account, _ = await world.account(password=PASSWORD)
    async with world.services.kit.unit() as uow:
        portal = await uow.workspaces.create("portal", "Portal")
        await uow.workspaces.add_member(portal.id, account, "old@example.com", None)
        await uow.commit()

    email = await world.services.bind_email.plan(account)
    phone = await world.services.bind_phone.plan(account)

    assert email.steps == phone.steps == (ADDRESS, WORKSPACES, CODE)
    assert not email.needs_password


async def test_the_provider_verified_email_is_suggested_until_it_is_the_bound_one(
    world: World,
) -> None:
    account, _ = await world.account(social_email="ivan@gmail.com", email_verified=True)
    assert (await world.services.bind_email.plan(account)).suggestion == "ivan@gmail.com"
    assert (await world.services.bind_phone.plan(account)).suggestion is None

    async with world.services.kit.unit() as uow:
        await uow.bindings.confirm(account, AddressKind.EMAIL, "ivan@gmail.com", world.clock.now())
        await uow.commit()

    assert (await world.services.bind_email.plan(account)).suggestion is None


async def test_an_unverified_email_is_not_suggested(world: World) -> None:
    account, _ = await world.account(social_email="ivan@gmail.com", email_verified=False)

    assert (await world.services.bind_email.plan(account)).suggestion is None


def test_a_step_that_fell_away_keeps_the_count_the_flow_began_with() -> None:
    began = BindingPlan((ADDRESS, Step.PASSWORD, CODE))
    now = BindingPlan((ADDRESS, CODE))  # the password was set meanwhile

    assert began.number(Step.PASSWORD) == (2, 3)
    assert now.number(CODE, began.total) == (3, 3)
    assert now.number(CODE) == (2, 2)


async def test_the_address_a_code_is_in_flight_for_until_it_is_cancelled(world: World) -> None:
    account, telegram_id = await world.account()
    phone = world.services.bind_phone

    await phone.send_code(account, "+79123456789", telegram_user_id=telegram_id, locale="en")
    assert await phone.pending_address(account) == "+79123456789"

    await phone.cancel(account)
    assert await phone.pending_address(account) is None
