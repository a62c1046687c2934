"""The code flow with PKCE, as a workspace runs it with pyoidc (PRODUCT §1.11)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.web.oidc.conftest import PASSWORD, REDIRECT, RelyingParty, basic, off_loop, query_of


async def test_a_workspace_signs_a_person_in_with_email_and_password(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    account_id, _ = await rp.site.world.account(
        name="Ivan", email="ivan@example.com", password=PASSWORD
    )
    tokens, state = await rp.sign_in("Ivan@Example.com")
    id_token = tokens["id_token"]  # verified by pyoidc against the JWKS: signature, iss, aud
    assert id_token["sub"] == str(account_id)
    assert id_token["iss"] == rp.site.url
    assert id_token["email"] == "ivan@example.com" and id_token["email_verified"] is True
    info = await off_loop(rp.oic.do_user_info_request, state=state)
    assert info["sub"] == str(account_id) and info["name"] == "Ivan"
    assert info["email"] == "ivan@example.com"


async def test_a_phone_and_password_sign_in_and_only_confirmed_bindings_are_claims(
    make_rp: Any,
) -> None:
    rp: RelyingParty = await make_rp()
    account_id, _ = await rp.site.world.account(phone="+79161234567", password=PASSWORD)
    tokens, _state = await rp.sign_in("+7 916 123-45-67")
    id_token = tokens["id_token"]
    assert id_token["sub"] == str(account_id)
    assert id_token["phone_number"] == "+79161234567"
    assert id_token["phone_number_verified"] is True
    assert "email" not in id_token  # no confirmed email: no claim at all


async def test_the_authorization_response_names_the_issuer(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(email="ivan@example.com", password=PASSWORD)
    url, state = rp.login_url()
    response = await rp.browse(url, "ivan@example.com")
    query = query_of(response)
    assert query["iss"] == rp.site.url and query["state"] == state  # RFC 9207


async def test_consent_is_asked_once_per_workspace(make_rp: Any) -> None:
    shop: RelyingParty = await make_rp("shop")
    await shop.site.world.account(email="ivan@example.com", password=PASSWORD)
    await shop.sign_in("ivan@example.com")
    url, _ = shop.login_url()
    again = await shop.browser.get(url, allow_redirects=False)  # signed in, consent given
    assert again.status == 302 and "code" in query_of(again)
    blog: RelyingParty = await make_rp("blog")
    blog.browser = shop.browser  # the same browser, signed in already
    url, _ = blog.login_url()
    page = await blog.browser.get(url, allow_redirects=False)
    assert page.status == 200 and 'name="decision"' in await page.text()


async def test_refresh_rotates_and_revocation_and_logout_end_the_session(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(email="ivan@example.com", password=PASSWORD)
    tokens, state = await rp.sign_in("ivan@example.com")
    first = tokens["refresh_token"]
    refreshed = await off_loop(rp.oic.do_access_token_refresh, state=state)
    assert refreshed["refresh_token"] != first and refreshed["access_token"]

    async with rp.browser.post(
        rp.site.url + "/oidc/revoke",
        data={"token": refreshed["refresh_token"], "token_type_hint": "refresh_token"},
        headers={"Authorization": basic(rp)},
    ) as revoked:
        assert revoked.status == 200
    status, body = await raw_refresh(rp, refreshed["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")

    url = (
        rp.oic.end_session_endpoint
        + "?"
        + urlencode(
            {
                "id_token_hint": tokens["id_token"].jwt,
                "post_logout_redirect_uri": REDIRECT,
                "state": "bye",
            }
        )
    )
    async with rp.browser.get(url, allow_redirects=False) as out:
        assert out.status == 302 and out.headers["Location"] == REDIRECT + "?state=bye"
    login_url, _ = rp.login_url()
    async with rp.browser.get(login_url, allow_redirects=False) as page:
        assert page.status == 200 and 'name="password"' in await page.text()  # signed out


async def raw_refresh(rp: RelyingParty, token: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            rp.site.url + "/oidc/token",
            data={"grant_type": "refresh_token", "refresh_token": token},
            headers={"Authorization": basic(rp)},
        ) as response:
            return response.status, await response.json()


async def test_the_providers_pages_and_answers_carry_the_pages_headers(make_rp: Any) -> None:
    """The sign-in page holds a form token and the token endpoint's answer the tokens: neither
    is cached, sent on as a referrer, framed or sniffed (as the web server's other pages)."""
    rp: RelyingParty = await make_rp()
    url, _state = rp.login_url()
    async with rp.browser.get(url, allow_redirects=False) as page:
        assert page.status == 200 and 'name="password"' in await page.text()
        headers = page.headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    async with rp.browser.get(rp.site.url + "/.well-known/openid-configuration") as found:
        assert found.headers["X-Content-Type-Options"] == "nosniff"
    async with rp.browser.get(rp.site.url + "/oidc/jwks") as jwks:
        assert jwks.headers["Cache-Control"].startswith("public")  # its own, kept


async def test_the_id_token_claims_no_sign_in_method(make_rp: Any) -> None:
    """`amr` would say "pwd" after a social sign-in too: the token leaves it out."""
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(email="ivan@example.com", password=PASSWORD)
    tokens, _state = await rp.sign_in("ivan@example.com")
    assert "amr" not in tokens["id_token"].to_dict()


async def test_the_consent_page_names_in_words_what_the_workspace_gets(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(email="ivan@example.com", password=PASSWORD)
    url, _state = rp.login_url("openid email phone")
    page = await rp.browse(url, "ivan@example.com", allow=False)  # refused: asked again below
    asked, _ = rp.login_url("openid email phone")
    consent = await rp.browser.get(asked, headers={"Accept-Language": "ru"})
    text = await consent.text()
    assert "The Shop получит:" in text
    assert "адрес вашей почты" in text and "номер вашего телефона" in text
    assert "ваше имя" not in text and "profile" not in text  # only what it asked for
    bare, _ = rp.login_url("openid")
    consent = await rp.browser.get(bare)
    assert "will learn only that it is you" in await consent.text()
    assert page.status == 302
