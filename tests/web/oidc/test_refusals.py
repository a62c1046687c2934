"""What the provider refuses (PRODUCT §1.11, RFC 9700):
what would let a code or a token be misused.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from jwkest.jws import BadSignature
from oic.oic.message import IdToken

from tests.web.oidc.conftest import PASSWORD, REDIRECT, RelyingParty, basic, query_of


async def signed_in(make_rp: Any, slug: str = "shop") -> RelyingParty:
    rp: RelyingParty = await make_rp(slug)
    await rp.site.world.account(email="ivan@example.com", password=PASSWORD)
    await rp.sign_in("ivan@example.com")  # the browser is signed in and consented
    return rp


async def code_for(rp: RelyingParty) -> tuple[str, str]:
    url, state = rp.login_url()
    async with rp.browser.get(url, allow_redirects=False) as response:
        assert response.status == 302
        return query_of(response)["code"], state


async def token_call(rp: RelyingParty, **form: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            rp.site.url + "/oidc/token",
            data=form,
            headers={"Authorization": basic(rp)},
        ) as response:
            return response.status, await response.json()


def authorize_url(rp: RelyingParty, **params: str) -> str:
    base = {
        "client_id": rp.client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": REDIRECT,
        "state": "s1",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    return rp.site.url + "/oidc/authorize?" + urlencode({**base, **params})


async def test_a_redirect_uri_not_registered_exactly_gets_no_redirect(make_rp: Any) -> None:
    rp = await signed_in(make_rp)
    for wrong in ("https://evil.example/cb", REDIRECT + "/", REDIRECT + "?x=1"):
        async with rp.browser.get(
            authorize_url(rp, redirect_uri=wrong), allow_redirects=False
        ) as response:
            assert response.status == 400 and "Location" not in response.headers


@pytest.mark.parametrize(
    "pkce",
    [
        {"code_challenge": "", "code_challenge_method": ""},
        {"code_challenge": "x" * 43, "code_challenge_method": "plain"},
    ],
    ids=["missing", "plain"],
)
async def test_a_request_without_s256_pkce_is_refused(make_rp: Any, pkce: dict[str, str]) -> None:
    rp = await signed_in(make_rp)
    params = {k: v for k, v in pkce.items() if v}
    url = authorize_url(rp, **params)
    if not params:
        url = url.replace("&code_challenge=", "&x=").replace("&code_challenge_method=", "&y=")
    async with rp.browser.get(url, allow_redirects=False) as response:
        query = query_of(response)
    assert query["error"] == "invalid_request" and "code" not in query
    assert query["iss"] == rp.site.url and query["state"] == "s1"


async def test_a_code_works_once(make_rp: Any) -> None:
    rp = await signed_in(make_rp)
    code, state = await code_for(rp)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": rp.verifiers[state],
    }
    assert (await token_call(rp, **form))[0] == 200
    status, body = await token_call(rp, **form)
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_a_code_needs_its_verifier_and_its_redirect_uri(make_rp: Any) -> None:
    rp = await signed_in(make_rp)
    for change in ({"code_verifier": "w" * 50}, {"redirect_uri": REDIRECT + "x"}):
        code, state = await code_for(rp)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": rp.verifiers[state],
            **change,
        }
        status, body = await token_call(rp, **form)
        assert status == 400 and body["error"] in ("invalid_grant", "invalid_request")


async def test_a_code_from_another_client_is_refused(make_rp: Any) -> None:
    shop = await signed_in(make_rp, "shop")
    blog: RelyingParty = await make_rp("blog")
    code, state = await code_for(shop)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": shop.verifiers[state],
    }
    status, body = await token_call(blog, **form)
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_a_reused_refresh_token_revokes_its_family(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(email="ivan@example.com", password=PASSWORD)
    tokens, _state = await rp.sign_in("ivan@example.com")
    first = tokens["refresh_token"]
    status, rotated = await token_call(rp, grant_type="refresh_token", refresh_token=first)
    assert status == 200 and rotated["refresh_token"] != first
    status, body = await token_call(rp, grant_type="refresh_token", refresh_token=first)
    assert (status, body["error"]) == (400, "invalid_grant")  # the reuse
    status, body = await token_call(
        rp, grant_type="refresh_token", refresh_token=rotated["refresh_token"]
    )
    assert (status, body["error"]) == (400, "invalid_grant")  # the family is revoked


async def test_a_refresh_token_of_another_client_is_refused(make_rp: Any) -> None:
    shop: RelyingParty = await make_rp("shop")
    blog: RelyingParty = await make_rp("blog")
    await shop.site.world.account(email="ivan@example.com", password=PASSWORD)
    tokens, _ = await shop.sign_in("ivan@example.com")
    status, body = await token_call(
        blog, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_a_tampered_id_token_does_not_verify(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(email="ivan@example.com", password=PASSWORD)
    tokens, _ = await rp.sign_in("ivan@example.com")
    header, payload, signature = tokens["id_token"].jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "1000"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    IdToken().from_jwt(f"{header}.{payload}.{signature}", keyjar=rp.oic.keyjar)  # the original
    with pytest.raises(BadSignature):
        IdToken().from_jwt(f"{header}.{forged}.{signature}", keyjar=rp.oic.keyjar)


async def test_a_wrong_client_secret_gets_no_token(make_rp: Any) -> None:
    rp = await signed_in(make_rp)
    code, state = await code_for(rp)
    rp.secret = "not the secret"
    status, body = await token_call(
        rp,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        code_verifier=rp.verifiers[state],
    )
    assert (status, body["error"]) == (401, "invalid_client")


async def test_the_sign_in_page_is_throttled_like_login(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(email="ivan@example.com", password=PASSWORD)
    url, _ = rp.login_url()
    for _ in range(5):
        response = await rp.browse(url, "ivan@example.com", "a guess")
        assert response.status == 401
        assert "Wrong login or password." in await response.text()
    response = await rp.browse(url, "ivan@example.com", PASSWORD)
    assert response.status == 429 and int(response.headers["Retry-After"]) > 0


async def test_an_access_token_reads_userinfo_until_the_consent_is_revoked(
    make_rp: Any,
) -> None:
    rp: RelyingParty = await make_rp()
    account_id, _ = await rp.site.world.account(email="ivan@example.com", password=PASSWORD)
    tokens, _state = await rp.sign_in("ivan@example.com")
    provider = rp.site.world.services.provider
    assert provider is not None
    [consent] = await provider.consents(account_id)
    assert consent.workspace_title == "The Shop"
    assert await provider.revoke_consent(account_id, rp.client_id, "telegram:1") == 1
    status, body = await token_call(
        rp, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    assert await userinfo_status(rp, tokens["access_token"]) == 401
    assert await provider.consents(account_id) == []


async def test_a_deleted_account_leaves_no_grant_and_no_signed_in_browser(make_rp: Any) -> None:
    """PRODUCT §1.12: deleting the account voids what the workspaces hold of it: its refresh
    token, an unredeemed code, its consent (so its access token reads no userinfo), and the
    browser signed in to the provider is signed in no more."""
    rp: RelyingParty = await make_rp()
    world = rp.site.world
    account_id, _ = await world.account(email="ivan@example.com", password=PASSWORD)
    tokens, _state = await rp.sign_in("ivan@example.com")
    url, state = rp.login_url()
    waiting = rp.callback(await rp.browse(url))  # signed in already: a code at once
    assert await world.services.delete.erase(account_id, "en")

    status, body = await token_call(
        rp, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = await token_call(
        rp,
        grant_type="authorization_code",
        code=waiting["code"],
        redirect_uri=REDIRECT,
        code_verifier=rp.verifiers[state],
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    assert await userinfo_status(rp, tokens["access_token"]) == 401
    provider = world.services.provider
    assert provider is not None and await provider.consents(account_id) == []
    url, _ = rp.login_url()
    page = await rp.browser.get(url, allow_redirects=False)  # the same browser, its cookie kept
    assert page.status == 200 and 'name="password"' in await page.text()


async def userinfo_status(rp: RelyingParty, access_token: str) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.get(
            rp.site.url + "/oidc/userinfo", headers={"Authorization": f"Bearer {access_token}"}
        ) as response:
            return response.status
