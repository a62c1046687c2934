"""The sign-in attempt and the consent (PRODUCT §1.1): one browser, one use (RFC 6749 §10.12)."""

from __future__ import annotations

import pytest

from core.domain.models import SocialProfile
from core.errors import CodeExpired
from core.flows.sign_in import AttemptRefused, SignInLink, TelegramUser
from core.notices import SignedIn, SignInFailed
from tests.core.flows.conftest import World

IVAN = TelegramUser(42, "Ivan", "ivan", "en")
PROFILE = SocialProfile("google", "g-1", "Ivan P", "ivan@gmail.com", True)


async def open_link(world: World) -> SignInLink:
    url = await world.services.sign_in.create_link(IVAN, "google")
    link = await world.services.sign_in.open_link(url.rsplit("/", 1)[1])
    assert link is not None
    return link


async def test_the_browser_that_started_comes_back_once(world: World) -> None:
    sign_in = world.services.sign_in
    attempt = await sign_in.begin(await open_link(world), None)
    assert attempt.browser and attempt.redirect_uri.endswith("/auth/callback/google")
    assert len({attempt.state, attempt.verifier, attempt.nonce}) == 3

    claimed = await sign_in.claim(attempt.state, "google", attempt.browser)

    assert (claimed.verifier, claimed.nonce) == (attempt.verifier, attempt.nonce)
    with pytest.raises(AttemptRefused) as again:
        await sign_in.claim(attempt.state, "google", attempt.browser)
    assert again.value.reason == "state"


@pytest.mark.parametrize(
    ("provider", "browser", "reason"),
    [("github", None, "state_provider"), ("google", "another", "state_browser")],
)
async def test_another_provider_or_browser_cannot_spend_the_state(
    world: World, provider: str, browser: str | None, reason: str
) -> None:
    sign_in = world.services.sign_in
    attempt = await sign_in.begin(await open_link(world), "mine")

    with pytest.raises(AttemptRefused) as refused:
        await sign_in.claim(attempt.state, provider, browser or attempt.browser)

    assert refused.value.reason == reason
    assert await sign_in.claim(attempt.state, "google", "mine")  # the person's own still works


async def test_a_consent_opens_for_its_browser_and_confirms_once(world: World) -> None:
    sign_in = world.services.sign_in
    attempt = await sign_in.claim(
        (started := await sign_in.begin(await open_link(world), "mine")).state, "google", "mine"
    )
    consent_id = await sign_in.hold_consent(attempt, PROFILE)

    assert await sign_in.open_consent(consent_id, "another") is None
    consent = await sign_in.open_consent(consent_id, started.browser)
    assert consent is not None and consent.profile == PROFILE and consent.form_ok(consent.csrf)
    assert not consent.form_ok("forged")

    result = await sign_in.confirm(consent)

    assert world.notifier.notices == [SignedIn(42, result.account_id, "google", True)]
    with pytest.raises(CodeExpired):
        await sign_in.confirm(consent)
    assert await sign_in.open_consent(consent_id, "mine") is None


async def test_cancel_links_nothing_and_tells_the_chat(world: World) -> None:
    sign_in = world.services.sign_in
    attempt = await sign_in.claim(
        (await sign_in.begin(await open_link(world), "mine")).state, "google", "mine"
    )
    consent = await sign_in.open_consent(await sign_in.hold_consent(attempt, PROFILE), "mine")
    assert consent is not None

    await sign_in.cancel(consent)

    assert world.notifier.notices == [SignInFailed(42, "declined")]
    assert await world.services.account.account_for(42) is None
