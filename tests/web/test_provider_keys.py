"""A provider's keys and metadata: kept for a while, picked up again when it rotates (PRODUCT §3).

The stand-in issuer counts the discovery and JWKS requests it serves, so every test says how many
fetches a sign-in cost. Time is a FakeClock: nothing sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from core.domain.models import SocialProfile
from core.notices import SignInFailed
from sandbox.stack import site_providers
from tests.conftest import FakeClock
from tests.core.flows.conftest import settings
from tests.web.conftest import SiteFactory
from tests.web.standins import OidcIssuer
from web.providers import Pending, ProviderError
from web.providers.cache import CachePolicy, max_age
from web.providers.google import Google
from web.providers.openid import OpenIDProvider

PENDING = Pending("state-1", "v" * 64, "nonce-1", "http://127.0.0.1:8080/auth/callback/google")
JWKS = OidcIssuer.JWKS
DISCOVERY = OidcIssuer.DISCOVERY
POLICY = CachePolicy(
    metadata_ttl=600, keys_ttl=300, min_ttl=60, max_ttl=86_400, refetch_interval=60
)


def timer(clock: FakeClock) -> Callable[[], float]:
    return lambda: clock.now().timestamp()


def google(
    issuer: OidcIssuer, clock: FakeClock | None = None, policy: CachePolicy = POLICY
) -> Google:
    if clock is None:  # the provider as production builds it: its own clock, default policy
        return Google(issuer.client_id, "secret-1", trust_email=True, issuer=issuer.url)
    return Google(
        issuer.client_id,
        "secret-1",
        trust_email=True,
        issuer=issuer.url,
        cache=policy,
        timer=timer(clock),
    )


async def sign_in(provider: Google, http: aiohttp.ClientSession) -> SocialProfile:
    return await provider.profile(http, {"code": "4/0A", "state": "state-1"}, PENDING)


async def refused(provider: Google, http: aiohttp.ClientSession) -> str:
    with pytest.raises(ProviderError) as error:
        await sign_in(provider, http)
    return error.value.reason


async def check(provider: Google, http: aiohttp.ClientSession, issuer: OidcIssuer) -> str:
    """The ID token's check alone: concurrent calls all reach the keys in their first step."""
    claims = await provider.validate(http, issuer.id_token(), issuer.nonce)
    return str(claims["name"])


async def keys_refused(provider: Google, http: aiohttp.ClientSession) -> str:
    with pytest.raises(ProviderError) as error:
        await provider.keys(http)
    return error.value.reason


@pytest.mark.parametrize("new_kid", [None, "k2"], ids=["same-kid", "new-kid"])
async def test_a_rotated_key_is_picked_up_without_a_restart(
    issuer: OidcIssuer, http: aiohttp.ClientSession, new_kid: str | None
) -> None:
    provider = google(issuer)
    assert (await sign_in(provider, http)).name == "Ivan Petrov"
    assert issuer.served[JWKS] == 1

    issuer.rotate(new_kid)

    assert (await sign_in(provider, http)).name == "Ivan Petrov"
    assert (await sign_in(provider, http)).name == "Ivan Petrov"
    # One refetch for the rotation, then the new keys are kept.
    assert issuer.served[JWKS] == 2
    assert issuer.served[DISCOVERY] == 1


async def test_a_bad_signature_is_refused_and_refetches_at_most_once_per_interval(
    issuer: OidcIssuer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    provider = google(issuer, clock)
    await sign_in(provider, http)
    issuer.signer = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)

    reasons = [await refused(provider, http) for _ in range(5)]

    assert reasons == ["bad_signature"] * 5
    assert issuer.served[JWKS] == 2  # the first fetch and one refetch, not one per attempt
    clock.advance(seconds=POLICY.refetch_interval - 1)
    assert await refused(provider, http) == "bad_signature"
    assert issuer.served[JWKS] == 2
    clock.advance(seconds=1)
    assert await refused(provider, http) == "bad_signature"
    assert issuer.served[JWKS] == 3


async def test_an_unknown_kid_shares_the_refetch_limit(
    issuer: OidcIssuer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    provider = google(issuer, clock)
    await sign_in(provider, http)
    stranger = RSAKey.generate_key(2048, parameters={"kid": "nobody"}, private=True)
    forged = jwt.encode({"alg": "RS256", "kid": "nobody"}, {"sub": "1"}, stranger)

    for _ in range(3):
        with pytest.raises(ProviderError) as error:
            await provider.validate(http, forged, "nonce-1")
        assert error.value.reason == "bad_signature"

    assert issuer.served[JWKS] == 2


async def test_concurrent_callbacks_fetch_the_keys_once(
    issuer: OidcIssuer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    provider = google(issuer, clock)
    await provider.metadata(http)
    issuer.jwks_gate = asyncio.Event()

    calls = asyncio.gather(*(check(provider, http, issuer) for _ in range(10)))
    await asyncio.wait_for(issuer.jwks_asked.wait(), 10)
    issuer.jwks_gate.set()
    names = await asyncio.wait_for(calls, 30)

    assert names == ["Ivan Petrov"] * 10
    assert issuer.served[JWKS] == 1
    assert issuer.served[DISCOVERY] == 1


async def test_concurrent_callbacks_after_a_rotation_refetch_once(
    issuer: OidcIssuer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    provider = google(issuer, clock)
    await sign_in(provider, http)
    issuer.rotate()
    issuer.jwks_asked.clear()
    issuer.jwks_gate = asyncio.Event()

    calls = asyncio.gather(*(check(provider, http, issuer) for _ in range(10)))
    await asyncio.wait_for(issuer.jwks_asked.wait(), 10)
    issuer.jwks_gate.set()
    names = await asyncio.wait_for(calls, 30)

    assert names == ["Ivan Petrov"] * 10
    assert issuer.served[JWKS] == 2


async def test_concurrent_callbacks_share_one_failed_fetch(
    issuer: OidcIssuer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    provider = google(issuer, clock)
    await provider.metadata(http)
    issuer.failing.add(JWKS)
    issuer.jwks_gate = asyncio.Event()

    calls = asyncio.gather(*(keys_refused(provider, http) for _ in range(5)))
    await asyncio.wait_for(issuer.jwks_asked.wait(), 10)
    issuer.jwks_gate.set()
    reasons = await asyncio.wait_for(calls, 30)

    assert reasons == ["jwks"] * 5
    assert issuer.served[JWKS] == 1
    issuer.failing.clear()
    assert (await sign_in(provider, http)).name == "Ivan Petrov"  # the next one tries again
    assert issuer.served[JWKS] == 2


async def test_keys_and_metadata_are_fetched_again_after_their_ttl(
    issuer: OidcIssuer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    provider = google(issuer, clock)
    await sign_in(provider, http)

    clock.advance(seconds=POLICY.keys_ttl - 1)
    await sign_in(provider, http)
    assert (issuer.served[DISCOVERY], issuer.served[JWKS]) == (1, 1)

    clock.advance(seconds=1)
    await sign_in(provider, http)
    assert (issuer.served[DISCOVERY], issuer.served[JWKS]) == (1, 2)

    clock.advance(seconds=POLICY.metadata_ttl - POLICY.keys_ttl)
    await sign_in(provider, http)
    assert (issuer.served[DISCOVERY], issuer.served[JWKS]) == (2, 3)


@pytest.mark.parametrize(
    ("header", "lifetime"),
    [
        ("public, max-age=7200, must-revalidate, no-transform", 7200),
        ("max-age=5", POLICY.min_ttl),  # bounded below: a provider cannot make us poll it
        ("no-store", POLICY.min_ttl),
        ("public, max-age=999999999", POLICY.max_ttl),  # bounded above: rotations still land
    ],
)
async def test_cache_control_max_age_sets_how_long_the_keys_are_kept(
    issuer: OidcIssuer, http: aiohttp.ClientSession, clock: FakeClock, header: str, lifetime: int
) -> None:
    issuer.cache_control[JWKS] = header
    provider = google(issuer, clock)
    await sign_in(provider, http)

    clock.advance(seconds=lifetime - 1)
    await sign_in(provider, http)
    assert issuer.served[JWKS] == 1

    clock.advance(seconds=1)
    await sign_in(provider, http)
    assert issuer.served[JWKS] == 2


async def test_cache_control_of_the_discovery_document_is_honoured(
    issuer: OidcIssuer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    issuer.cache_control[DISCOVERY] = "public, max-age=3600"
    provider = google(issuer, clock)
    await provider.metadata(http)

    clock.advance(seconds=3599)
    await provider.metadata(http)
    assert issuer.served[DISCOVERY] == 1
    clock.advance(seconds=1)
    await provider.metadata(http)
    assert issuer.served[DISCOVERY] == 2


async def test_a_provider_down_at_refresh_time_leaves_the_last_keys_in_use(
    issuer: OidcIssuer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    provider = google(issuer, clock)
    await sign_in(provider, http)
    issuer.failing.add(JWKS)
    clock.advance(seconds=POLICY.keys_ttl)

    assert (await sign_in(provider, http)).name == "Ivan Petrov"
    assert issuer.served[JWKS] == 2
    # The failed refresh is tried again only after the shortest lifetime, not per sign-in.
    await sign_in(provider, http)
    assert issuer.served[JWKS] == 2
    issuer.failing.clear()
    clock.advance(seconds=POLICY.min_ttl)
    await sign_in(provider, http)
    assert issuer.served[JWKS] == 3


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("public", None),
        ("max-age=300", 300),
        ("Public, Max-Age=300", 300),
        ('max-age="300"', 300),
        ("private, max-age=0", 0),
        ("no-cache", 0),
        ("no-store, max-age=300", 0),
        ("max-age=ten", None),
        ("max-age=-1", None),
    ],
)
def test_max_age_reads_cache_control(header: str | None, seconds: int | None) -> None:
    assert max_age(header) == seconds


async def test_after_a_rotation_the_next_person_reaches_the_consent_page(
    make_site: SiteFactory, issuer: OidcIssuer, http: aiohttp.ClientSession
) -> None:
    """What a person sees: the provider rotated its key between two sign-ins; no restart."""
    site = await make_site(providers={"google": google(issuer)})

    async def callback(telegram_id: int) -> tuple[int, str]:
        async with http.get(await site.link("google", telegram_id=telegram_id)) as start:
            query = parse_qs(urlsplit(str(start.url)).query)
        issuer.nonce = query["nonce"][0]
        url = f"{site.url}/auth/callback/google?code=4%2F0A&state={query['state'][0]}"
        async with http.get(url) as response:
            return response.status, await response.text()

    assert "Link Google account" in (await callback(611))[1]
    issuer.rotate()

    status, page = await callback(612)

    assert status == 200 and "Link Google account i***@gmail.com" in page
    assert SignInFailed(612, "provider_error") not in site.world.notifier.notices
    assert issuer.served[JWKS] == 2


def test_the_lifetimes_come_from_the_settings() -> None:
    config = settings(
        oauth_google_client_id="g",
        oidc_issuer="https://id.example.com",
        oidc_client_id="o",
        dev_idp_enabled=True,
        provider_metadata_ttl=900,
        provider_keys_ttl=120,
        provider_cache_min_ttl=30,
        provider_cache_max_ttl=7200,
        provider_keys_refetch_interval=10,
    )
    expected = CachePolicy(
        metadata_ttl=900, keys_ttl=120, min_ttl=30, max_ttl=7200, refetch_interval=10
    )

    registry = site_providers(config)

    assert {name: p.cache for name, p in registry.items() if isinstance(p, OpenIDProvider)} == {
        "google": expected,
        "oidc": expected,
        "dev": expected,
    }
