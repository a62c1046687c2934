from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import (
    AddressTaken,
    CodeExpired,
    CodeInvalid,
    FeatureDisabled,
    InvalidPhone,
    LimitReached,
    ResendTooSoon,
)
from core.flows.bind_phone import PhoneBound, PhoneCodeSent
from tests.core.flows.conftest import World, make_world


async def test_a_number_typed_the_russian_way_is_stored_as_e164(world: World) -> None:
    account, telegram_id = await world.account()

    outcome = await world.services.bind_phone.send_code(
        account, "8 (912) 345-67-89", telegram_user_id=telegram_id, locale="ru"
    )

    assert outcome == PhoneCodeSent("+79123456789", timedelta(seconds=60))
    assert [m.phone for m in world.outbox.messages] == ["+79123456789"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("call me", "syntax"), ("+7 999", "not_a_number"), ("+7 495 123-45-67", "not_mobile")],
)
async def test_a_bad_number_says_what_is_wrong(world: World, raw: str, reason: str) -> None:
    account, telegram_id = await world.account()

    with pytest.raises(InvalidPhone) as error:
        await world.services.bind_phone.send_code(
            account, raw, telegram_user_id=telegram_id, locale="en"
        )

    assert error.value.reason == reason
    assert world.outbox.messages == []


async def test_the_sms_code_binds_the_phone(world: World) -> None:
    account, telegram_id = await world.account()
    await world.services.bind_phone.send_code(
        account, "+44 7911 123456", telegram_user_id=telegram_id, locale="en"
    )

    with pytest.raises(CodeInvalid) as error:
        await world.services.bind_phone.confirm_code(account, "12345")
    assert error.value.attempts_left == 4
    phone = await world.services.bind_phone.confirm_code(account, world.last_code())

    assert phone == "+447911123456"
    view = await world.services.account.view(account)
    assert view.phone is not None and view.phone.address == phone


async def test_an_sms_code_lives_ten_minutes(world: World) -> None:
    account, telegram_id = await world.account()
    await world.services.bind_phone.send_code(
        account, "+79123456789", telegram_user_id=telegram_id, locale="en"
    )
    world.clock.advance(minutes=10, seconds=1)

    with pytest.raises(CodeExpired):
        await world.services.bind_phone.confirm_code(account, world.last_code())


async def test_a_number_of_another_account_is_taken(world: World) -> None:
    await world.account(phone="+79123456789")
    account, telegram_id = await world.account()

    with pytest.raises(AddressTaken):
        await world.services.bind_phone.send_code(
            account, "+7 912 345 67 89", telegram_user_id=telegram_id, locale="en"
        )


async def test_resend_is_refused_during_the_cooldown(world: World) -> None:
    account, telegram_id = await world.account()
    await world.services.bind_phone.send_code(
        account, "+79123456789", telegram_user_id=telegram_id, locale="en"
    )

    with pytest.raises(ResendTooSoon):
        await world.services.bind_phone.resend(account, telegram_id)
    world.clock.advance(seconds=60)
    sent = await world.services.bind_phone.resend(account, telegram_id)

    assert sent.resend_in == timedelta(seconds=120)
    assert len(world.outbox.messages) == 2


async def test_a_number_gets_at_most_five_sms_a_day(world: World) -> None:
    async def send_from_a_new_account() -> None:
        account, telegram_id = await world.account()
        await world.services.bind_phone.send_code(
            account, "+79123456789", telegram_user_id=telegram_id, locale="en"
        )

    for _ in range(5):
        await send_from_a_new_account()
    with pytest.raises(LimitReached) as error:
        await send_from_a_new_account()

    sent = len(world.outbox.messages)
    assert sent == 5
    assert error.value.until > world.clock.now()
    world.clock.advance(hours=24)
    account, telegram_id = await world.account()
    await world.services.bind_phone.send_code(
        account, "+79123456789", telegram_user_id=telegram_id, locale="en"
    )
    assert len(world.outbox.messages) == 6


async def test_a_telegram_user_gets_at_most_ten_sms_a_day(world: World) -> None:
    account, telegram_id = await world.account()
    for n in range(10):
        await world.services.bind_phone.send_code(
            account, f"+7912345670{n}", telegram_user_id=telegram_id, locale="en"
        )
        world.clock.current += await world.services.bind_phone.resend_in(account)

    with pytest.raises(LimitReached):
        await world.services.bind_phone.send_code(
            account, "+79123456710", telegram_user_id=telegram_id, locale="en"
        )
    assert len(world.outbox.messages) == 10


async def test_an_own_telegram_contact_skips_the_sms_when_the_operator_allows(
    clock,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    world = await make_world(
        clock,
        f"sqlite+aiosqlite:///{tmp_path}/p.sqlite3",
        settings={"skip_sms_for_own_contact": True},
    )
    try:
        account, telegram_id = await world.account()
        outcome = await world.services.bind_phone.send_code(
            account, "79123456789", telegram_user_id=telegram_id, locale="ru", own_contact=True
        )
        assert outcome == PhoneBound("+79123456789")
        assert world.outbox.messages == []
    finally:
        await world.services.close()


async def test_an_own_contact_still_gets_an_sms_by_default(world: World) -> None:
    account, telegram_id = await world.account()

    outcome = await world.services.bind_phone.send_code(
        account, "+79123456789", telegram_user_id=telegram_id, locale="ru", own_contact=True
    )

    assert isinstance(outcome, PhoneCodeSent)


async def test_without_an_sms_gateway_phone_binding_is_off(clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = await make_world(
        clock,
        f"sqlite+aiosqlite:///{tmp_path}/p.sqlite3",
        settings={"sms_backend": "disabled"},
        sms=None,
    )
    try:
        account, telegram_id = await world.account()
        assert not world.services.bind_phone.available
        with pytest.raises(FeatureDisabled):
            await world.services.bind_phone.send_code(
                account, "+79123456789", telegram_user_id=telegram_id, locale="ru"
            )
    finally:
        await world.services.close()
