from __future__ import annotations

import pytest

from core.adapters.argon2 import Argon2Hasher
from core.errors import CodeExpired, WeakPassword
from core.notices import PasswordSet
from tests.core.flows.conftest import World


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "too_short"),
        ("x" * 257, "too_long"),
        ("password1", "common"),
        ("Qwerty123", "common"),
        ("ivan.petrov@example.com", "personal"),
        ("+79123456789", "personal"),
        ("Ivan Petrov", "personal"),
    ],
)
async def test_a_weak_password_names_the_rule(world: World, password: str, reason: str) -> None:
    account, _ = await world.account(
        name="Ivan Petrov", email="ivan.petrov@example.com", phone="+79123456789"
    )

    with pytest.raises(WeakPassword) as error:
        await world.services.password.set(account, password, "test")

    assert error.value.reason == reason
    assert not await world.services.password.has_password(account)


async def test_a_long_uncommon_passphrase_is_accepted_and_stored_hashed(world: World) -> None:
    account, _ = await world.account()

    await world.services.password.set(account, "kettle under the violet moon", "test")

    async with world.services.kit.unit() as uow:
        stored = await uow.passwords.get(account)
    assert stored is not None and stored.startswith("$argon2id$")
    assert "violet" not in stored


async def test_the_minimum_length_comes_from_settings(world: World) -> None:
    assert world.services.password.policy.min_length == 8
    assert world.services.password.policy.max_length == 256


async def test_the_secure_page_sets_the_password_once(world: World) -> None:
    account, telegram_id = await world.account()
    url = await world.services.password.create_page(account, telegram_id, "set", "en")
    token = url.rsplit("/", 1)[1]

    with pytest.raises(WeakPassword):
        await world.services.password.submit_page(token, "123456789")
    page = await world.services.password.submit_page(token, "kettle under the violet moon")

    assert (page.account_id, page.telegram_user_id) == (account, telegram_id)
    assert world.notifier.notices == [PasswordSet(telegram_id, account)]
    assert await world.services.password.open_page(token) is None
    with pytest.raises(CodeExpired):
        await world.services.password.submit_page(token, "another fine passphrase")


async def test_a_changed_password_is_announced_to_the_bound_email(world: World) -> None:
    account, _ = await world.account(email="me@example.com", password="first fine passphrase")

    await world.services.password.set(account, "second fine passphrase", "test")

    assert [letter.to for letter in world.mailer.letters] == ["me@example.com"]


async def test_sign_in_rehashes_when_the_parameters_change(world: World) -> None:
    account, _ = await world.account(email="me@example.com", password="first fine passphrase")
    stronger = Argon2Hasher(memory_kib=2048, time_cost=2, parallelism=1)
    object.__setattr__(world.services.auth.kit, "hasher", stronger)

    await world.services.auth.authenticate("me@example.com", "first fine passphrase", "ip")

    async with world.services.kit.unit() as uow:
        stored = await uow.passwords.get(account)
    assert stored is not None and "m=2048,t=2" in stored
