"""Social sign-in on the provider's own sign-in page (PRODUCT §1.11), as a browser does it: the
workspace's request, a provider's button, Dev ID (the development identity provider), the chat's
callback, then back to the request with the provider's session, and a code for the workspace."""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from oic.oic.message import AuthorizationResponse
from playwright.async_api import expect

from core.provider.service import ProviderService
from sandbox.idp.models import DevUser
from tests import services
from tests.browser.conftest import Screenshot
from tests.web.conftest import Site, SiteFactory, cookie_session
from tests.web.oidc.conftest import REDIRECT, RelyingParty, provider_of, query_of
from web.oidc.routes import COOKIE
from web.providers.google import Google
from web.providers.openid import OpenIDProvider

BUTTON = re.compile(r'<a class="button" href="(/oidc/social/[^"]+)">([^<]+)</a>')
NAME, EMAIL = "Ivan Petrov", "ivan@example.com"


def buttons(page: str) -> dict[str, str]:
    """The sign-in page's social buttons: their text and where each leads."""
    return {html.unescape(text): html.unescape(href) for href, text in BUTTON.findall(page)}


def dev_subject(email: str = EMAIL, name: str = NAME) -> str:
    """The subject Dev ID gives whoever types this email (the same person every time)."""
    return DevUser.typed(name, email, True).sub


def session_of(browser: aiohttp.ClientSession) -> str | None:
    found = [c.value for c in browser.cookie_jar if c.key == COOKIE]
    return found[0] if found else None


async def sign_in_page(rp: RelyingParty, url: str, **headers: str) -> str:
    async with rp.browser.get(url, headers=headers, allow_redirects=False) as response:
        assert response.status == 200
        return await response.text()


async def to_dev_id(rp: RelyingParty, url: str, **headers: str) -> str:
    """The workspace's request → the sign-in page → Dev ID's button → Dev ID, where the person
    types who they are; the callback URL Dev ID sends the browser back to (not opened)."""
    page = await sign_in_page(rp, url, **headers)
    start = rp.site.url + next(
        h for h in buttons(page).values() if h.startswith("/oidc/social/dev")
    )
    async with rp.browser.get(start, headers=headers, allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        authorize = response.headers["Location"]
    form = {"name": NAME, "email": EMAIL, "email_verified": "on"}
    async with rp.browser.post(authorize, data=form, allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        return response.headers["Location"]


async def back(rp: RelyingParty, callback: str, **headers: str) -> aiohttp.ClientResponse:
    async with rp.browser.get(callback, headers=headers, allow_redirects=False) as response:
        await response.read()
        return response


async def failures(site: Site, reason: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(site.url + "/metrics") as response:
        text = await response.text()
    prefix = f'accountbot_failures_total{{reason="{reason}"}} '
    line = next((line for line in text.splitlines() if line.startswith(prefix)), None)
    return float(line.removeprefix(prefix)) if line else 0.0


async def test_an_account_s_social_identity_signs_in_to_the_workspace(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    account_id, _ = await rp.site.world.account(name="Ivan", provider="dev", subject=dev_subject())
    url, state = rp.login_url()

    returned = await back(rp, await to_dev_id(rp, url))

    assert returned.status == 303
    location = returned.headers["Location"]
    assert location == "/oidc/authorize?" + urlsplit(url).query  # the request, as it came
    assert session_of(rp.browser) is not None
    async with rp.site.world.services.kit.unit() as uow:
        events = await uow.audit.for_account(account_id)
    assert ("signed_in.social", {"provider": "dev"}) in [(e.action, e.details) for e in events]
    answer = rp.callback(await rp.browse(rp.site.url + location))  # consent, then the code
    assert answer["state"] == state and answer["iss"] == rp.site.url
    tokens = await rp.exchange(answer["code"], state)
    id_token = tokens["id_token"]  # verified by pyoidc against the JWKS
    assert id_token["sub"] == str(account_id) and id_token["aud"] == [rp.client_id]
    # Signed in to the provider: the next request goes straight to a code, as after a password.
    again, _ = rp.login_url()
    async with rp.browser.get(again, allow_redirects=False) as response:
        assert response.status == 302 and "code" in query_of(response)


async def test_an_identity_without_an_account_signs_nobody_in(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    url, _ = rp.login_url()

    returned = await back(rp, await to_dev_id(rp, url))
    page = await returned.text()

    assert returned.status == 200
    assert "No account signs in with this Dev ID profile yet." in page
    assert "open it and sign in there with Dev ID, then come back and sign in to The Shop" in page
    assert "tg://resolve?domain=accountbot_test" in page  # the bot, where accounts are made
    again = "/oidc/authorize?" + urlsplit(url).query
    assert f'href="{html.escape(again)}"' in page  # back to the workspace's sign-in page
    assert session_of(rp.browser) is None
    async with rp.site.world.services.kit.unit() as uow:
        assert await uow.identities.find("dev", dev_subject()) is None  # nothing was made
    assert await failures(rp.site, "no_account") == 1
    assert 'name="password"' in await sign_in_page(rp, url)  # still signed out


async def test_a_used_state_is_refused_the_second_time(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(provider="dev", subject=dev_subject())
    url, _ = rp.login_url()
    callback = await to_dev_id(rp, url)
    assert (await back(rp, callback)).status == 303
    rp.browser.cookie_jar.clear(lambda cookie: cookie.key == COOKIE)

    replayed = await back(rp, callback)

    assert replayed.status == 410
    page = await replayed.text()
    assert "This sign-in was already used or has expired." in page
    assert "/oidc/authorize?" in page  # the same browser may start again
    assert session_of(rp.browser) is None
    assert await failures(rp.site, "state") == 1


async def test_a_state_from_another_browser_is_refused_and_leaves_the_person_s_own(
    make_rp: Any,
) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(provider="dev", subject=dev_subject())
    url, _ = rp.login_url()
    callback = await to_dev_id(rp, url)

    async with cookie_session() as stranger, stranger.get(callback, allow_redirects=False) as got:
        page = await got.text()
        assert got.status == 410 and "already used or has expired" in page
        assert "/oidc/authorize" not in page  # the workspace's request is not shown to others
        assert not [c for c in stranger.cookie_jar if c.key == COOKIE]

    assert (await back(rp, callback)).status == 303  # the person's own browser still may
    assert await failures(rp.site, "state_browser") == 1


async def test_an_expired_state_is_refused(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(provider="dev", subject=dev_subject())
    url, _ = rp.login_url()
    callback = await to_dev_id(rp, url)
    rp.site.world.clock.advance(minutes=11)  # OAUTH_STATE_TTL is 10 minutes

    expired = await back(rp, callback)

    assert expired.status == 410 and "already used or has expired" in await expired.text()
    assert session_of(rp.browser) is None


async def test_a_tampered_return_goes_nowhere_but_the_stored_request(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(provider="dev", subject=dev_subject())
    url, _ = rp.login_url()
    callback = await to_dev_id(rp, url)
    state = parse_qs(urlsplit(callback).query)["state"][0]

    tampered = await back(rp, callback.replace(f"state={state}", f"state={state}x"))
    mixed = await back(rp, callback.replace("/auth/callback/dev", "/auth/callback/google"))
    assert tampered.status == 410 and mixed.status == 410
    assert session_of(rp.browser) is None
    assert await failures(rp.site, "state_provider") == 1

    evil = "https://evil.example/cb"
    spoiled = await back(rp, f"{callback}&redirect_uri={evil}&next={evil}&return_to={evil}")
    assert spoiled.status == 303
    assert spoiled.headers["Location"] == "/oidc/authorize?" + urlsplit(url).query


async def test_a_request_the_workspace_did_not_register_never_reaches_a_provider(
    make_rp: Any,
) -> None:
    rp: RelyingParty = await make_rp()
    url, _ = rp.login_url(redirect_uri="https://evil.example/cb")
    query = urlsplit(url).query
    async with rp.browser.get(
        f"{rp.site.url}/oidc/social/dev?{query}", allow_redirects=False
    ) as response:
        assert response.status == 400
        assert "This sign-in request is not valid" in await response.text()
    async with rp.browser.get(
        f"{rp.site.url}/oidc/social/nowhere?{urlsplit(rp.login_url()[0]).query}",
        allow_redirects=False,
    ) as response:
        assert response.status == 404


async def test_a_provider_s_refusal_offers_to_try_again(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    url, _ = rp.login_url()
    for error, text in [
        ("access_denied", "Sign-in was cancelled at Dev ID. You are not signed in."),
        ("server_error", "Dev ID answered with an error, so you are not signed in."),
    ]:
        callback = await to_dev_id(rp, url)
        state = parse_qs(urlsplit(callback).query)["state"][0]
        refused = await back(rp, f"{rp.site.url}/auth/callback/dev?error={error}&state={state}")
        page = await refused.text()
        assert refused.status == 400 and text in page
        assert html.escape("/oidc/authorize?" + urlsplit(url).query) in page  # Try again
        assert session_of(rp.browser) is None
        assert (await back(rp, callback)).status == 410  # the state went with the refusal
    assert rp.site.world.notifier.notices == []  # no chat is told: none started it


async def test_the_page_shows_a_button_for_each_configured_provider_only(
    make_rp: Any, make_site: SiteFactory
) -> None:
    rp: RelyingParty = await make_rp()
    url, _ = rp.login_url()
    assert list(buttons(await sign_in_page(rp, url))) == ["Sign in with Dev ID"]

    google = Google("g-1", "secret-1", trust_email=True, issuer="https://accounts.example")
    other = OpenIDProvider(
        "o-1", "secret-2", trust_email=True, issuer="https://id.example", name="oidc", title="Corp"
    )
    site = await make_site(providers={"google": google, "oidc": other})
    async with site.world.services.kit.unit() as uow:
        await uow.workspaces.create("shop", "The Shop")
        await uow.commit()
    provider: ProviderService = provider_of(site)
    client, _secret = await provider.add_client("shop", [REDIRECT], confidential=True)
    query = urlsplit(url).query.replace(rp.client_id, client.client_id)
    async with rp.browser.get(f"{site.url}/oidc/authorize?{query}") as response:
        shown = buttons(await response.text())
    assert list(shown) == ["Sign in with Google", "Sign in with Corp"]
    assert shown["Sign in with Google"] == f"/oidc/social/google?{query}"


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_pages_speak_the_person_s_language(make_rp: Any, language: str) -> None:
    rp: RelyingParty = await make_rp()
    url, _ = rp.login_url()
    headers = {"Accept-Language": language} if language == "ru" else {}
    page = await sign_in_page(rp, url, **headers)
    assert ("Войти через Dev ID" if language == "ru" else "Sign in with Dev ID") in page
    assert (">или<" if language == "ru" else ">or<") in page

    # The callback speaks the language of the page the sign-in began on.
    returned = await back(rp, await to_dev_id(rp, url, **headers))
    page = await returned.text()
    expected = {
        "ru": "С этим профилем Dev ID пока не связан ни один аккаунт.",
        "en": "No account signs in with this Dev ID profile yet.",
    }[language]
    assert expected in page


@pytest.mark.browser
async def test_in_chromium_the_button_signs_in_and_the_workspace_gets_its_code(
    make_rp: Any, page: Any, screenshot: Screenshot
) -> None:
    """What plain HTTP cannot show: the pages' CSP lets the whole walk through (the consent's
    form ends in a redirect to the workspace), and the cookies travel as a browser sends them."""
    rp: RelyingParty = await make_rp()
    account_id, _ = await rp.site.world.account(provider="dev", subject=dev_subject())
    url, state = rp.login_url()
    arrived: list[str] = []

    async def workspace(route: Any) -> None:
        arrived.append(route.request.url)
        await route.fulfill(status=200, body="Welcome to The Shop", content_type="text/plain")

    await page.route("https://shop.example/**", workspace)
    await page.goto(url)
    await expect(page.locator("main")).to_contain_text("Sign in to continue to The Shop.")
    await screenshot(page, "oidc-sign-in-social-phone.png")
    await page.click("text=Sign in with Dev ID")
    await page.fill("#name", NAME)
    await page.fill("#email", EMAIL)
    await page.click("button[type=submit]")
    await expect(page.locator("main")).to_contain_text("The Shop asks to sign you in")
    await page.click("button[value=allow]")

    await expect(page.locator("body")).to_contain_text("Welcome to The Shop")
    answer = rp.oic.parse_response(
        AuthorizationResponse, info=urlsplit(arrived[0]).query, sformat="urlencoded"
    )
    assert answer["state"] == state
    tokens = await rp.exchange(answer["code"], state)
    assert tokens["id_token"]["sub"] == str(account_id)


@pytest.fixture(params=["memory", "redis"])
async def any_store_rp(request: pytest.FixtureRequest, make_site: SiteFactory) -> Any:
    """A workspace's client and a browser on a site with its tokens in memory or in Redis."""
    settings: dict[str, Any] = {}
    if request.param == "redis":
        prefix = f"test-{uuid.uuid4().hex[:8]}:"
        settings = {"redis_url": services.redis_url(), "redis_prefix": prefix}
    site = await make_site(settings=settings)
    async with site.world.services.kit.unit() as uow:
        await uow.workspaces.create("shop", "The Shop")
        await uow.commit()
    client, _secret = await provider_of(site).add_client("shop", [REDIRECT], confidential=True)
    async with cookie_session() as browser:
        yield SimpleNamespace(site=site, browser=browser, client_id=client.client_id)
    if request.param == "redis":
        redis = site.world.services.redis
        assert redis is not None
        async for key in redis.scan_iter(match=settings["redis_prefix"] + "*"):
            await redis.delete(key)


async def test_the_same_callback_sent_five_times_at_once_signs_in_once(any_store_rp: Any) -> None:
    rp = any_store_rp
    await rp.site.world.account(provider="dev", subject=dev_subject())
    challenge = create_s256_code_challenge("v" * 43)
    url = f"{rp.site.url}/oidc/authorize?" + urlencode(
        {
            "client_id": rp.client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": REDIRECT,
            "state": "s-1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    callback = await to_dev_id(rp, url)

    answers = await asyncio.gather(*(back(rp, callback) for _ in range(5)))

    assert sorted(answer.status for answer in answers) == [303, 410, 410, 410, 410]
    assert await failures(rp.site, "state") == 4
