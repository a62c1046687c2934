"""PRODUCT §1.1.8: another Telegram user joining an account is told to the chats already linked,
and only a chat of that account can unlink it."""

from __future__ import annotations

from core.domain.models import SocialProfile
from core.flows.sign_in import TelegramUser
from core.notices import SignedIn, TelegramLinked, Unlinked
from tests.core.flows.conftest import World

PHONE = TelegramUser(42, "Ivan", "ivan", "ru")
TABLET = TelegramUser(43, "Ivan", None, "ru")
STRANGER = TelegramUser(44, "Eve", "eve", "en")
IVAN = SocialProfile("google", "g-1", "Ivan P")


async def sign_in(world: World, who: TelegramUser, profile: SocialProfile = IVAN) -> int:
    url = await world.services.sign_in.create_link(who, "google")
    result = await world.services.sign_in.complete(url.rsplit("/", 1)[1], profile)
    return result.account_id


async def test_a_newcomer_is_told_to_the_chats_already_linked_and_joins(world: World) -> None:
    account_id = await sign_in(world, PHONE)
    world.notifier.notices.clear()

    assert await sign_in(world, TABLET) == account_id

    assert world.notifier.notices == [
        TelegramLinked(42, account_id, 43, "Ivan"),
        SignedIn(43, account_id, "google", False, True),
    ]


async def test_signing_in_again_from_a_linked_chat_tells_nobody(world: World) -> None:
    account_id = await sign_in(world, PHONE)
    await sign_in(world, TABLET)
    world.notifier.notices.clear()

    await sign_in(world, TABLET)

    assert world.notifier.notices == [SignedIn(43, account_id, "google", False, False)]


async def test_only_a_chat_of_the_account_unlinks_and_only_its_own_newcomer(world: World) -> None:
    account_id = await sign_in(world, PHONE)
    await sign_in(world, TABLET)
    other = await sign_in(world, STRANGER, SocialProfile("google", "g-2", "Eve"))
    flow = world.services.sign_in
    world.notifier.notices.clear()

    assert not await flow.unlink_newcomer(account_id, 43, by=44)  # a stranger's forged tap
    assert not await flow.unlink_newcomer(other, 43, by=44)  # not the stranger's account's
    assert not await flow.unlink_newcomer(account_id, 42, by=42)  # not oneself
    assert await world.services.account.account_for(43) == account_id

    assert await flow.unlink_newcomer(account_id, 43, by=42)
    assert await world.services.account.account_for(43) is None
    assert world.notifier.notices == [Unlinked(43)]
    assert not await flow.unlink_newcomer(account_id, 43, by=42)  # a second tap: nothing to do
