"""Each provider adapter against a local stand-in answering like the real provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc.jwk import RSAKey

from core.domain.models import SocialProfile
from tests.core.flows.conftest import settings
from tests.web.standins import OidcIssuer, Recorder, github_app, serve, vk_app, yandex_app
from web.providers import Pending, ProviderError, build_registry
from web.providers.github import GitHub
from web.providers.google import Google
from web.providers.vk import VkId
from web.providers.yandex import Yandex

PENDING = Pending("state-1", "v" * 64, "nonce-1", "http://127.0.0.1:8080/auth/callback/x")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def google(issuer: OidcIssuer, *, trust_email: bool = True) -> Google:
    return Google(issuer.client_id, "secret-1", trust_email=trust_email, issuer=issuer.url)


async def test_google_signs_in_with_a_valid_id_token(
    issuer: OidcIssuer, http: aiohttp.ClientSession
) -> None:
    profile = await google(issuer).profile(http, {"code": "4/0A", "state": "state-1"}, PENDING)

    assert profile == SocialProfile(
        "google", "10769150350006150715113082367", "Ivan Petrov", "ivan@gmail.com", True
    )
    sent = issuer.requests["/token"]
    assert sent["code_verifier"] == PENDING.verifier
    assert sent["redirect_uri"] == PENDING.redirect_uri


async def test_google_authorization_url_carries_pkce_state_and_nonce(
    issuer: OidcIssuer, http: aiohttp.ClientSession
) -> None:
    url = await google(issuer).authorization_url(http, PENDING)

    query = parse_qs(urlsplit(url).query)
    assert url.startswith(issuer.url + "/o/oauth2/v2/auth?")
    assert query["code_challenge"] == [create_s256_code_challenge(PENDING.verifier)]
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == ["state-1"] and query["nonce"] == ["nonce-1"]
    assert query["scope"] == ["openid email profile"]


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        ({"nonce": "someone-else"}, "wrong_nonce"),
        ({"aud": "another-client"}, "wrong_audience"),
        ({"iss": "https://evil.example.com"}, "wrong_issuer"),
        ({"exp": 1_000_000_000, "iat": 999_999_000}, "expired_token"),
    ],
)
async def test_google_refuses_an_id_token_with_a_wrong_claim(
    issuer: OidcIssuer, http: aiohttp.ClientSession, spoil: dict[str, object], reason: str
) -> None:
    issuer.overrides = spoil

    with pytest.raises(ProviderError) as refused:
        await google(issuer).profile(http, {"code": "c"}, PENDING)

    assert refused.value.reason == reason


async def test_google_refuses_an_id_token_signed_by_another_key(
    issuer: OidcIssuer, http: aiohttp.ClientSession
) -> None:
    issuer.signer = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)

    with pytest.raises(ProviderError) as refused:
        await google(issuer).profile(http, {"code": "c"}, PENDING)

    assert refused.value.reason == "bad_signature"


async def test_a_wrong_iss_in_the_authorization_response_is_refused(
    issuer: OidcIssuer, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(ProviderError) as refused:
        await google(issuer).profile(http, {"code": "c", "iss": "https://evil.example"}, PENDING)

    assert refused.value.reason == "wrong_issuer"
    assert "/token" not in issuer.requests


async def test_email_verified_counts_only_when_the_provider_is_trusted(
    issuer: OidcIssuer, http: aiohttp.ClientSession
) -> None:
    profile = await google(issuer, trust_email=False).profile(http, {"code": "c"}, PENDING)

    assert profile.email == "ivan@gmail.com" and profile.email_verified is False


async def test_yandex_reads_info_with_its_oauth_header(http: aiohttp.ClientSession) -> None:
    rec = Recorder()
    async with serve(yandex_app(rec)) as url:
        yandex = Yandex("yandex-client", "y-secret", trust_email=True, oauth_url=url, login_url=url)
        start = await yandex.authorization_url(http, PENDING)
        profile = await yandex.profile(http, {"code": "5454", "state": "state-1"}, PENDING)

    assert start.startswith(url + "/authorize?") and "code_challenge_method=S256" in start
    assert profile == SocialProfile("yandex", "1000034426", "Ivan Petrov", "ivan@yandex.ru", True)
    assert rec.requests["/token"]["code_verifier"] == PENDING.verifier
    assert rec.requests["/token"]["client_secret"] == "y-secret"
    assert rec.requests["/info"] == {"format": "json"}


async def test_github_takes_the_primary_verified_email(http: aiohttp.ClientSession) -> None:
    rec = Recorder()
    async with serve(github_app(rec)) as url:
        github = GitHub("gh-client", "gh-secret", trust_email=True, site_url=url, api_url=url)
        profile = await github.profile(http, {"code": "abc", "state": "state-1"}, PENDING)

    assert profile == SocialProfile("github", "583231", "The Octocat", "octocat@github.com", True)
    assert rec.headers["/user"]["Authorization"] == "Bearer gho_16C7e42F"
    assert rec.requests["/login/oauth/access_token"]["code_verifier"] == PENDING.verifier


async def test_github_ignores_an_unverified_primary_email(http: aiohttp.ClientSession) -> None:
    async with serve(github_app(Recorder(), primary_verified=False)) as url:
        github = GitHub("gh-client", "gh-secret", trust_email=True, site_url=url, api_url=url)
        profile = await github.profile(http, {"code": "abc"}, PENDING)

    assert profile.email is None and profile.email_verified is False


async def test_vk_id_exchanges_with_the_device_id_and_pkce(http: aiohttp.ClientSession) -> None:
    rec = Recorder()
    params = {"code": "vk2.c", "state": "state-1", "device_id": "dev-42", "type": "code_v2"}
    async with serve(vk_app(rec)) as url:
        vk = VkId("51234567", "vk-secret", trust_email=False, base_url=url)
        start = await vk.authorization_url(http, PENDING)
        profile = await vk.profile(http, params, PENDING)

    assert start.startswith(url + "/authorize?") and "code_challenge_method=S256" in start
    assert profile == SocialProfile("vk", "1234567890", "Ivan Ivanov", "ivan@mail.ru", False)
    sent = rec.requests["/oauth2/auth"]
    assert sent["device_id"] == "dev-42" and sent["code_verifier"] == PENDING.verifier
    assert sent["grant_type"] == "authorization_code" and sent["state"] == "state-1"
    assert rec.requests["/oauth2/user_info"] == {"client_id": "51234567", "access_token": "vk2.a.x"}


async def test_vk_id_without_a_device_id_is_refused(http: aiohttp.ClientSession) -> None:
    vk = VkId("51234567", "vk-secret", trust_email=False, base_url="http://127.0.0.1:9")

    with pytest.raises(ProviderError):
        await vk.profile(http, {"code": "vk2.c", "state": "state-1"}, PENDING)


def test_only_providers_with_a_client_id_are_enabled() -> None:
    config = settings(oauth_github_client_id="gh", oauth_yandex_client_id="")

    assert list(build_registry(config)) == ["github"]
