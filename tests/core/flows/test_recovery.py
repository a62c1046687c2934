from __future__ import annotations

import pytest

from core.errors import AuthenticationFailed, CodeExpired
from tests.core.flows.conftest import World


async def test_a_code_to_the_bound_email_lets_one_set_a_new_password(world: World) -> None:
    account, _ = await world.account(email="me@example.com", password="forgotten passphrase")

    await world.services.recovery.start("me@example.com", "en")
    token = await world.services.recovery.confirm("me@example.com", world.last_code())
    assert await world.services.recovery.reset(token, "remembered passphrase") == account

    auth = world.services.auth
    assert await auth.authenticate("me@example.com", "remembered passphrase", "ip") == account
    with pytest.raises(AuthenticationFailed):
        await auth.authenticate("me@example.com", "forgotten passphrase", "ip")
    with pytest.raises(CodeExpired):
        await world.services.recovery.reset(token, "a third passphrase")


async def test_recovery_by_phone_sends_an_sms(world: World) -> None:
    account, _ = await world.account(phone="+79123456789", password="forgotten passphrase")

    await world.services.recovery.start("8 912 345 67 89", "ru")

    assert [m.phone for m in world.outbox.messages] == ["+79123456789"]
    token = await world.services.recovery.confirm("+79123456789", world.last_code())
    assert await world.services.recovery.reset(token, "remembered passphrase") == account


async def test_an_unknown_login_gets_the_same_answer_and_no_letter(world: World) -> None:
    await world.services.recovery.start("nobody@example.com", "en")

    assert world.mailer.letters == []
    assert world.outbox.messages == []


async def test_in_the_chat_a_right_code_lets_only_this_account_set_a_password(
    world: World,
) -> None:
    account, _ = await world.account(email="me@example.com", password="forgotten passphrase")
    other, _ = await world.account(email="other@example.com", password="another passphrase")
    await world.services.recovery.start("me@example.com", "en")
    code = world.last_code()

    with pytest.raises(CodeExpired):  # a code for someone else's login is of no use here
        await world.services.recovery.confirm_here(other, "me@example.com", code)
    world.clock.advance(seconds=61)
    await world.services.recovery.start("me@example.com", "en")
    await world.services.recovery.confirm_here(account, "me@example.com", world.last_code())
    await world.services.recovery.reset_here(account, "remembered passphrase")

    auth = world.services.auth
    assert await auth.authenticate("me@example.com", "remembered passphrase", "ip") == account
    with pytest.raises(CodeExpired):
        await world.services.recovery.reset_here(account, "a third passphrase")
