"""PRODUCT §1.5: "a user with this email already exists", and the way out that frees it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.domain.models import AddressKind
from core.errors import (
    AddressTaken,
    AuthenticationFailed,
    CodeInvalid,
    NothingPending,
    WrongPassword,
)
from tests.conftest import FakeClock
from tests.core.flows.conftest import World, make_world

EMAIL = AddressKind.EMAIL
OLD_PASSWORD = "the other account's secret"
NEW_PASSWORD = "my brand new passphrase"


async def holder_and_me(world: World) -> tuple[int, int, int]:
    holder, _ = await world.account(email="ivan@example.com", password=OLD_PASSWORD)
    me, telegram_id = await world.account(password=NEW_PASSWORD)
    return holder, me, telegram_id


async def test_freeing_an_address_takes_both_confirmations(world: World) -> None:
    holder, me, telegram_id = await holder_and_me(world)
    release = world.services.release

    await release.start(me, EMAIL, "ivan@example.com", locale="en", telegram_user_id=telegram_id)
    assert [letter.to for letter in world.mailer.letters] == ["ivan@example.com"]
    await release.prove_code(me, world.last_code("ivan@example.com"))
    await release.propose_new(me, "ivan.work@example.com", telegram_user_id=telegram_id)

    async with world.services.kit.unit() as uow:  # nothing released before the new one is confirmed
        assert await uow.bindings.owner(EMAIL, "ivan@example.com") == holder

    bound = await release.confirm_new(me, world.last_code("ivan.work@example.com"))

    assert bound == "ivan@example.com"
    assert await world.services.auth.authenticate("ivan@example.com", NEW_PASSWORD, "ip") == me
    assert (
        await world.services.auth.authenticate("ivan.work@example.com", OLD_PASSWORD, "ip")
        == holder
    )
    assert await release.state(me) is None


async def test_the_other_accounts_password_proves_control_too(world: World) -> None:
    _holder, me, telegram_id = await holder_and_me(world)
    release = world.services.release
    await release.start(me, EMAIL, "ivan@example.com", locale="en", telegram_user_id=telegram_id)

    with pytest.raises(WrongPassword):
        await release.prove_password(me, "a guess")
    await release.prove_password(me, OLD_PASSWORD)

    state = await release.state(me)
    assert state is not None and state.proven


async def test_no_new_address_before_proof(world: World) -> None:
    _, me, telegram_id = await holder_and_me(world)
    release = world.services.release
    await release.start(me, EMAIL, "ivan@example.com", locale="en", telegram_user_id=telegram_id)

    with pytest.raises(NothingPending):
        await release.propose_new(me, "elsewhere@example.com", telegram_user_id=telegram_id)
    with pytest.raises(CodeInvalid):
        await release.prove_code(me, "000000" if world.last_code() != "000000" else "111111")


async def test_the_new_address_must_be_free(world: World) -> None:
    await world.account(email="busy@example.com")
    _, me, telegram_id = await holder_and_me(world)
    release = world.services.release
    await release.start(me, EMAIL, "ivan@example.com", locale="en", telegram_user_id=telegram_id)
    await release.prove_code(me, world.last_code())

    for taken in ("busy@example.com", "ivan@example.com"):
        with pytest.raises(AddressTaken):
            await release.propose_new(me, taken, telegram_user_id=telegram_id)


async def test_cancel_leaves_everything_as_it_was(world: World) -> None:
    holder, me, telegram_id = await holder_and_me(world)
    release = world.services.release
    await release.start(me, EMAIL, "ivan@example.com", locale="en", telegram_user_id=telegram_id)
    await release.prove_code(me, world.last_code())

    await release.cancel(me)

    assert await release.state(me) is None
    assert await world.services.auth.authenticate("ivan@example.com", OLD_PASSWORD, "ip") == holder
    with pytest.raises(AuthenticationFailed):
        await world.services.auth.authenticate("ivan@example.com", NEW_PASSWORD, "ip")


PHONE = AddressKind.PHONE
NUMBER = "+447911123456"
MOVED = "This number now signs in to another account."


@pytest.fixture
async def two_a_day(clock: FakeClock, tmp_path: Path) -> AsyncIterator[World]:
    """At most two SMS to a number a day: a notice counted among them would refuse a code."""
    built = await make_world(
        clock, f"sqlite+aiosqlite:///{tmp_path}/core.sqlite3", settings={"sms_limit_per_number": 2}
    )
    yield built
    await built.services.close()


async def move_number(world: World, to: int, telegram_id: int, new_for_holder: str) -> None:
    """`to` frees NUMBER from the account that holds it, which gets `new_for_holder`."""
    release = world.services.release
    await release.start(to, PHONE, NUMBER, locale="en", telegram_user_id=telegram_id)
    await release.prove_code(to, world.last_code(NUMBER))
    await release.propose_new(to, new_for_holder, telegram_user_id=telegram_id)
    await release.confirm_new(to, world.last_code(new_for_holder))


async def test_a_moved_number_hears_of_it_by_sms_at_most_once_a_day_outside_the_caps(
    two_a_day: World, caplog: pytest.LogCaptureFixture
) -> None:
    world = two_a_day
    anna, anna_telegram = await world.account(phone=NUMBER)
    boris, boris_telegram = await world.account()

    def notices() -> list[str]:
        return [m.text for m in world.outbox.messages if m.phone == NUMBER and MOVED in m.text]

    with caplog.at_level(logging.INFO):
        await move_number(world, boris, boris_telegram, "+447911123001")
    assert notices() == [
        "This number now signs in to another account. If it was not you, contact support in "
        "the bot."
    ]
    assert "+44 *** ***-34-56" in caplog.text and NUMBER not in caplog.text  # logged masked

    # Anna takes it back the same day: her proof code still goes out (the notice counted for
    # no cap), and the number hears of the move no second time that day.
    await move_number(world, anna, anna_telegram, "+447911123002")
    assert len(notices()) == 1

    world.clock.advance(days=1)
    await move_number(world, boris, boris_telegram, "+447911123003")
    assert len(notices()) == 2
