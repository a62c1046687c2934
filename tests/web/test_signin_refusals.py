"""A spoiled ID token is refused with a clear page and nobody signed in (OIDC Core §3.1.3.7)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from joserfc.jwk import RSAKey

from core.notices import SignInFailed
from tests.web.conftest import SiteFactory
from tests.web.standins import OidcIssuer
from web.providers.google import Google


def spoil(issuer: OidcIssuer, what: str) -> None:
    if what == "signature":
        issuer.signer = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    else:
        issuer.overrides = {
            "nonce": {"nonce": "replayed-nonce"},
            "audience": {"aud": "another-client"},
            "issuer": {"iss": "https://evil.example.com"},
        }[what]


async def start_at_google(
    http: aiohttp.ClientSession, link: str, issuer: OidcIssuer
) -> dict[str, str]:
    async with http.get(link, allow_redirects=False) as response:
        assert response.status == 302
        location = response.headers["Location"]
    assert location.startswith(issuer.url)
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    issuer.nonce = query["nonce"]
    return query


@pytest.mark.parametrize("what", ["nonce", "audience", "issuer", "signature"])
async def test_a_spoiled_id_token_signs_nobody_in(
    make_site: SiteFactory, issuer: OidcIssuer, http: aiohttp.ClientSession, what: str
) -> None:
    google = Google(issuer.client_id, "secret-1", trust_email=True, issuer=issuer.url)
    site = await make_site(providers={"google": google})
    query = await start_at_google(http, await site.link("google", telegram_id=601), issuer)
    spoil(issuer, what)

    callback = f"{site.url}/auth/callback/google?code=4%2F0A&state={query['state']}"
    async with http.get(callback, allow_redirects=False) as response:
        page = await response.text()

    assert response.status == 400
    assert "nothing was linked" in page
    assert await site.account_of(601) is None
    assert site.world.notifier.notices == [SignInFailed(601, "provider_error")]


async def test_a_good_id_token_reaches_the_consent_page(
    make_site: SiteFactory, issuer: OidcIssuer, http: aiohttp.ClientSession
) -> None:
    google = Google(issuer.client_id, "secret-1", trust_email=True, issuer=issuer.url)
    site = await make_site(providers={"google": google})
    query = await start_at_google(http, await site.link("google", telegram_id=602), issuer)

    callback = f"{site.url}/auth/callback/google?code=4%2F0A&state={query['state']}"
    async with http.get(callback) as response:
        page = await response.text()

    assert "Link Google account i***@gmail.com to Telegram user Ivan (@ivan)?" in page
    assert issuer.requests["/token"]["redirect_uri"] == f"{site.url}/auth/callback/google"
