"""The development identity provider enforces what a real one does: PKCE, exact redirect, once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from sandbox.idp import client as dev
from tests.web.conftest import Site

VERIFIER = "v" * 64


def authorize_url(site: Site, **changes: str) -> str:
    params = {
        "response_type": "code",
        "client_id": dev.CLIENT_ID,
        "redirect_uri": site.url + "/auth/callback/dev",
        "scope": "openid email profile",
        "state": "s" * 32,
        "nonce": "n" * 32,
        "code_challenge": create_s256_code_challenge(VERIFIER),
        "code_challenge_method": "S256",
    } | changes
    return f"{site.url}/idp/authorize?{urlencode({k: v for k, v in params.items() if v})}"


async def code_for(http: aiohttp.ClientSession, site: Site) -> str:
    form = {"name": "Ivan", "email": "ivan@example.com", "email_verified": "on"}
    async with http.post(authorize_url(site), data=form, allow_redirects=False) as response:
        location = response.headers["Location"]
    return parse_qs(urlsplit(location).query)["code"][0]


async def exchange(
    http: aiohttp.ClientSession, site: Site, code: str, verifier: str = VERIFIER
) -> tuple[int, dict[str, object]]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": site.url + "/auth/callback/dev",
        "client_id": dev.CLIENT_ID,
        "client_secret": dev.client_secret(site.world.services.settings),
        "code_verifier": verifier,
    }
    async with http.post(site.url + "/idp/token", data=form) as response:
        return response.status, await response.json()


async def test_an_authorization_request_without_pkce_is_refused(
    site: Site, http: aiohttp.ClientSession
) -> None:
    async with http.get(authorize_url(site, code_challenge="")) as response:
        assert response.status == 400
        assert "code_challenge" in await response.text()


async def test_a_foreign_redirect_uri_is_refused_without_redirecting(
    site: Site, http: aiohttp.ClientSession
) -> None:
    url = authorize_url(site, redirect_uri="https://evil.example/cb")

    async with http.get(url, allow_redirects=False) as response:
        assert response.status == 400
        assert "Location" not in response.headers


async def test_the_code_needs_the_right_verifier_and_works_once(
    site: Site, http: aiohttp.ClientSession
) -> None:
    code = await code_for(http, site)

    wrong = await exchange(http, site, code, verifier="w" * 64)
    right = await exchange(http, site, code)
    again = await exchange(http, site, code)

    assert wrong == (400, {"error": "invalid_grant", "error_description": "Code challenge failed."})
    assert right[0] == 200 and "id_token" in right[1]
    assert again[0] == 400 and again[1]["error"] == "invalid_grant"


async def test_userinfo_answers_for_the_access_token(
    site: Site, http: aiohttp.ClientSession
) -> None:
    _status, token = await exchange(http, site, await code_for(http, site))

    headers = {"Authorization": f"Bearer {token['access_token']}"}
    async with http.get(site.url + "/idp/userinfo", headers=headers) as response:
        info = await response.json()

    assert info["email"] == "ivan@example.com" and info["email_verified"] is True
