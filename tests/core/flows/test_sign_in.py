from __future__ import annotations

import pytest

from core.domain.models import SocialProfile
from core.errors import CodeExpired
from core.flows.sign_in import TelegramUser
from core.notices import SignedIn, SignInFailed
from tests.core.flows.conftest import World, make_world

IVAN = TelegramUser(42, "Ivan", "ivan", "ru")


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


async def test_first_sign_in_creates_an_account_and_tells_the_chat(world: World) -> None:
    url = await world.services.sign_in.create_link(IVAN, "google")
    assert url.startswith("http://127.0.0.1:8080/auth/start/")

    result = await world.services.sign_in.complete(
        token_of(url), SocialProfile("google", "g-1", "Ivan P", "ivan@gmail.com", True)
    )

    assert result.created
    assert await world.services.account.account_for(42) == result.account_id
    view = await world.services.account.view(result.account_id)
    assert view.account.name == "Ivan P"
    assert [(i.provider, i.email) for i in view.identities] == [("google", "ivan@gmail.com")]
    assert world.notifier.notices == [SignedIn(42, result.account_id, "google", True)]


async def test_a_known_identity_finds_its_account_and_an_email_never_merges(world: World) -> None:
    first = await world.services.sign_in.complete(
        token_of(await world.services.sign_in.create_link(IVAN, "google")),
        SocialProfile("google", "g-1", "Ivan", "ivan@gmail.com", True),
    )
    again = await world.services.sign_in.complete(
        token_of(await world.services.sign_in.create_link(IVAN, "google")),
        SocialProfile("google", "g-1", "Ivan", "ivan@gmail.com", True),
    )
    other = await world.services.sign_in.complete(
        token_of(await world.services.sign_in.create_link(IVAN, "github")),
        SocialProfile("github", "gh-7", "Ivan", "ivan@gmail.com", True),
    )

    assert again.account_id == first.account_id and not again.created
    assert other.account_id != first.account_id and other.created


async def test_a_link_works_once(world: World) -> None:
    token = token_of(await world.services.sign_in.create_link(IVAN, "google"))
    await world.services.sign_in.complete(token, SocialProfile("google", "g-1"))

    assert await world.services.sign_in.open_link(token) is None
    with pytest.raises(CodeExpired):
        await world.services.sign_in.complete(token, SocialProfile("google", "g-1"))


async def test_a_link_expires_after_ten_minutes(world: World) -> None:
    token = token_of(await world.services.sign_in.create_link(IVAN, "google"))
    link = await world.services.sign_in.open_link(token)
    assert link is not None and link.telegram.display == "Ivan (@ivan)"

    world.clock.advance(minutes=10, seconds=1)

    assert await world.services.sign_in.open_link(token) is None
    with pytest.raises(CodeExpired):
        await world.services.sign_in.complete(token, SocialProfile("google", "g-1"))


async def test_terms_are_asked_for_and_recorded_once_accepted(clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = await make_world(
        clock,
        f"sqlite+aiosqlite:///{tmp_path}/t.sqlite3",
        settings={"terms_url": "https://example.com/terms"},
    )
    try:
        profile = SocialProfile("google", "g-1")
        assert await world.services.sign_in.needs_terms(profile)
        token = token_of(await world.services.sign_in.create_link(IVAN, "google"))
        result = await world.services.sign_in.complete(token, profile)
        assert result.needs_terms

        await world.services.sign_in.accept_terms(result.account_id, "telegram:42")

        view = await world.services.account.view(result.account_id)
        assert view.account.terms_accepted_at == clock.now()
        assert not await world.services.sign_in.needs_terms(profile)
        token = token_of(await world.services.sign_in.create_link(IVAN, "google"))
        again = await world.services.sign_in.complete(token, SocialProfile("google", "g-1"))
        assert not again.needs_terms
    finally:
        await world.services.close()


async def test_a_used_or_expired_link_opened_again_offers_a_fresh_one_once(world: World) -> None:
    used = token_of(await world.services.sign_in.create_link(IVAN, "google"))
    await world.services.sign_in.complete(used, SocialProfile("google", "g-1"))
    late = token_of(await world.services.sign_in.create_link(IVAN, "google"))
    world.clock.advance(minutes=11)
    world.notifier.notices.clear()

    assert await world.services.sign_in.report_stale(used)
    assert await world.services.sign_in.report_stale(late)
    assert not await world.services.sign_in.report_stale(used)  # once per link

    assert world.notifier.notices == [SignInFailed(42, "expired"), SignInFailed(42, "expired")]


async def test_a_fresh_link_is_not_stale(world: World) -> None:
    token = token_of(await world.services.sign_in.create_link(IVAN, "google"))

    assert not await world.services.sign_in.report_stale(token)
    assert await world.services.sign_in.open_link(token) is not None
    assert world.notifier.notices == []
