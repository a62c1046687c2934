"""OAuth attacks on the sign-in, each refused with its page and nobody signed in (RFC 9700 §4).

Every test drives real HTTP against the web server and the development identity provider (or
stand-in OIDC issuers), with one cookie-keeping client per browser, and checks what the person
sees (the page), what the chat is told (the notifier) and who is linked to which account.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import aiohttp
import pytest

from core.notices import SignedIn, SignInFailed
from tests import services
from tests.web import walk
from tests.web.conftest import Site, SiteFactory, cookie_session, csrf_of
from tests.web.standins import OidcIssuer, serve
from web.providers.google import Google
from web.providers.openid import OpenIDProvider

EXPIRED = "This link was already used or has expired"
FAILED = "nothing was linked"
EVIL = "https://evil.example/steal"


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def with_params(url: str, /, **params: str) -> str:
    """The URL with these query parameters set (replacing any of the same name)."""
    parts = urlsplit(url)
    query = query_of(url) | params
    return urlunsplit(parts._replace(query=urlencode(query)))


async def failures(site: Site, reason: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(site.url + "/metrics") as response:
        text = await response.text()
    prefix = f'accountbot_failures_total{{reason="{reason}"}} '
    line = next((line for line in text.splitlines() if line.startswith(prefix)), None)
    return float(line.removeprefix(prefix)) if line else 0.0


async def linked_account(site: Site, telegram_id: int) -> tuple[int, str] | None:
    """The account a chat is signed in to and its name, or None."""
    account_id = await site.account_of(telegram_id)
    if account_id is None:
        return None
    view = await site.world.services.account.view(account_id)
    return account_id, view.account.name


async def identities(site: Site, account_id: int) -> list[str]:
    view = await site.world.services.account.view(account_id)
    return sorted(identity.subject for identity in view.identities)


@pytest.fixture
async def browser_b() -> AsyncIterator[aiohttp.ClientSession]:
    async with cookie_session() as session:
        yield session


# --- state replay -------------------------------------------------------------------------------


async def test_a_used_state_is_refused_every_time_after(
    site: Site, http: aiohttp.ClientSession
) -> None:
    steps = await walk.authorized(http, await site.link(telegram_id=531), "Ivan Petrov")
    assert (await walk.to_consent(http, steps)).status == 303

    replay = await walk.to_consent(http, steps)
    assert replay.status == 410

    status, page = await walk.answer(http, site.url, steps)
    assert status == 200 and "You are signed in" in page
    async with http.get(steps.callback, allow_redirects=False) as late:
        assert late.status == 410 and EXPIRED in await late.text()
    account_id = await site.account_of(531)
    assert account_id is not None
    assert site.world.notifier.notices == [SignedIn(531, account_id, "dev", True)]


@pytest.fixture(params=["memory", "redis"])
async def any_store_site(
    request: pytest.FixtureRequest, make_site: SiteFactory
) -> AsyncIterator[Site]:
    """The site with its tokens in memory, or in Redis under a key prefix of its own."""
    if request.param == "memory":
        yield await make_site()
        return
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    site = await make_site(settings={"redis_url": services.redis_url(), "redis_prefix": prefix})
    yield site
    redis = site.world.services.redis
    async for key in redis.scan_iter(match=prefix + "*"):
        await redis.delete(key)


async def test_the_same_callback_sent_five_times_at_once_is_used_once(
    any_store_site: Site, http: aiohttp.ClientSession
) -> None:
    site = any_store_site
    steps = await walk.authorized(http, await site.link(telegram_id=532))

    async def fetch() -> int:
        async with http.get(steps.callback, allow_redirects=False) as response:
            await response.read()
            return response.status

    statuses = await asyncio.gather(*(fetch() for _ in range(5)))

    assert sorted(statuses) == [303, 410, 410, 410, 410]
    assert site.world.notifier.notices == []


# --- a state from another Telegram user --------------------------------------------------------


async def test_a_callback_started_for_one_telegram_user_signs_in_nobody_elsewhere(
    site: Site, http: aiohttp.ClientSession, browser_b: aiohttp.ClientSession
) -> None:
    """The state is made for one Telegram user (PRODUCT §1.1) and held by the browser that started.
    Alice's callback URL (her state, her code) opened in Bob's browser, which has a sign-in of
    its own under way, signs in neither chat; each browser then completes its own sign-in and
    each chat ends up in its own account, never in the other's."""
    alice = await walk.authorized(
        http, await site.link(telegram_id=541, name="Alice"), "Alice A", "alice@example.com"
    )
    bob = await walk.authorized(
        browser_b, await site.link(telegram_id=542, name="Bob"), "Bob B", "bob@example.com"
    )

    crossed = await walk.to_consent(browser_b, alice)

    assert crossed.status == 410
    assert await site.account_of(541) is None and await site.account_of(542) is None
    assert site.world.notifier.notices == []

    assert (await walk.to_consent(browser_b, bob)).status == 303
    assert (await walk.to_consent(http, alice)).status == 303
    # A consent page is the browser's too: Bob's browser cannot confirm Alice's.
    async with browser_b.get(site.url + alice.consent) as foreign:
        assert foreign.status == 410
    assert "to Telegram user Bob (@ivan)?" in await walk.consent_page(browser_b, site.url, bob)
    assert "to Telegram user Alice (@ivan)?" in await walk.consent_page(http, site.url, alice)
    await walk.answer(browser_b, site.url, bob)
    await walk.answer(http, site.url, alice)

    alice_account, bob_account = await linked_account(site, 541), await linked_account(site, 542)
    assert alice_account is not None and alice_account[1] == "Alice A"
    assert bob_account is not None and bob_account[1] == "Bob B"
    assert alice_account[0] != bob_account[0]


# --- code injection ----------------------------------------------------------------------------


async def test_a_code_from_another_sign_in_is_refused_by_pkce(
    site: Site, http: aiohttp.ClientSession, browser_b: aiohttp.ClientSession
) -> None:
    """An attacker puts the victim's stolen authorization code into their own callback (their
    own state, their own browser): the token endpoint refuses it, because the attacker's PKCE
    verifier does not match the victim's challenge (RFC 7636 §4.6, RFC 9700 §4.5)."""
    victim = await walk.authorized(
        http, await site.link(telegram_id=551, name="Vera"), "Vera V", "vera@example.com"
    )
    attacker = await walk.authorized(
        browser_b, await site.link(telegram_id=552, name="Mallory"), "Mallory", "m@example.com"
    )
    injected = with_params(attacker.callback, code=query_of(victim.callback)["code"])

    async with browser_b.get(injected, allow_redirects=False) as response:
        page = await response.text()

    assert response.status == 400 and FAILED in page
    assert await failures(site, "token_exchange") == 1
    assert await site.account_of(552) is None and await site.account_of(551) is None
    assert site.world.notifier.notices == [SignInFailed(552, "provider_error")]
    # The victim's own sign-in is untouched.
    assert (await walk.to_consent(http, victim)).status == 303
    await walk.answer(http, site.url, victim)
    vera = await linked_account(site, 551)
    assert vera is not None and vera[1] == "Vera V"


# --- mix-up ------------------------------------------------------------------------------------


@pytest.fixture
async def second_issuer() -> AsyncIterator[OidcIssuer]:
    stand_in = OidcIssuer()
    async with serve(stand_in.app()) as url:
        stand_in.url = url
        yield stand_in


async def two_providers(
    make_site: SiteFactory, issuer: OidcIssuer, second_issuer: OidcIssuer
) -> Site:
    google = Google(issuer.client_id, "secret-1", trust_email=True, issuer=issuer.url)
    other = OpenIDProvider(
        second_issuer.client_id,
        "secret-2",
        trust_email=True,
        issuer=second_issuer.url,
        name="oidc",
        title="Other ID",
    )
    return await make_site(providers={"google": google, "oidc": other})


async def start_at(http: aiohttp.ClientSession, link: str, issuer: OidcIssuer) -> str:
    """Open the sign-in link; the state of the authorization request sent to `issuer`."""
    async with http.get(link, allow_redirects=False) as response:
        location = response.headers["Location"]
    assert location.startswith(issuer.url)
    query = query_of(location)
    issuer.nonce = query["nonce"]
    return query["state"]


async def test_a_state_for_one_provider_at_another_provider_s_callback_is_refused(
    make_site: SiteFactory,
    issuer: OidcIssuer,
    second_issuer: OidcIssuer,
    http: aiohttp.ClientSession,
) -> None:
    """Mix-up (RFC 9700 §4.4): a response for Google's request arriving at another provider's
    callback is refused before any code is redeemed, and leaves Google's sign-in usable."""
    site = await two_providers(make_site, issuer, second_issuer)
    state = await start_at(http, await site.link("google", telegram_id=561), issuer)

    async with http.get(f"{site.url}/auth/callback/oidc?code=c-1&state={state}") as mixed:
        assert mixed.status == 410 and EXPIRED in await mixed.text()

    assert "/token" not in second_issuer.requests and "/token" not in issuer.requests
    assert site.world.notifier.notices == []
    assert await failures(site, "state_provider") == 1
    async with http.get(f"{site.url}/auth/callback/google?code=c-1&state={state}") as own:
        assert "Link Google account i***@gmail.com" in await own.text()


async def test_an_authorization_response_naming_another_issuer_is_refused(
    make_site: SiteFactory,
    issuer: OidcIssuer,
    second_issuer: OidcIssuer,
    http: aiohttp.ClientSession,
) -> None:
    """RFC 9207: `iss` in the response says who answered; another issuer's is refused and the
    code is sent to no token endpoint."""
    site = await two_providers(make_site, issuer, second_issuer)
    state = await start_at(http, await site.link("google", telegram_id=562), issuer)
    callback = f"{site.url}/auth/callback/google?" + urlencode(
        {"code": "c-1", "state": state, "iss": second_issuer.url}
    )

    async with http.get(callback) as response:
        page = await response.text()

    assert response.status == 400 and FAILED in page
    assert "/token" not in issuer.requests and "/token" not in second_issuer.requests
    assert await site.account_of(562) is None
    assert site.world.notifier.notices == [SignInFailed(562, "provider_error")]
    assert await failures(site, "wrong_issuer") == 1


async def test_a_response_without_the_promised_iss_is_refused(
    site: Site, http: aiohttp.ClientSession
) -> None:
    """The dev IdP announces authorization_response_iss_parameter_supported: a response
    without `iss` may come from somebody else (RFC 9207 §2.4)."""
    steps = await walk.authorized(http, await site.link(telegram_id=563))
    query = query_of(steps.callback)
    query.pop("iss")
    steps.callback = steps.callback.split("?")[0] + "?" + urlencode(query)

    response = await walk.to_consent(http, steps)

    assert response.status == 400
    assert await site.account_of(563) is None
    assert site.world.notifier.notices == [SignInFailed(563, "provider_error")]


# --- open redirect -----------------------------------------------------------------------------

HOSTILE = {
    "next": EVIL,
    "redirect": EVIL,
    "redirect_uri": EVIL,
    "return_to": "//evil.example/steal",
    "continue": EVIL,
    "url": EVIL,
}


# A link, form target, resource or meta refresh that would take the browser to the attacker.
LINK_AWAY = re.compile(r"""(href|action|src|content|formaction)\s*=\s*["'][^"']*evil\.example""")


def stays_home(site: Site, location: str | None) -> bool:
    if location is None:
        return True
    target = urlsplit(urljoin(site.url + "/", location))
    return (target.scheme, target.netloc) == tuple(urlsplit(site.url)[:2])


async def test_no_redirect_leaves_our_origin_whatever_the_request_says(
    site: Site, http: aiohttp.ClientSession
) -> None:
    """Every redirect target comes from our settings or the provider's metadata, never from the
    request: hostile parameters and a forged Host header on each step of the sign-in, Cancel and
    Confirm included."""
    seen: list[tuple[str, int, str | None]] = []

    async def visit(method: str, url: str, **kwargs: Any) -> str:
        async with http.request(method, url, allow_redirects=False, **kwargs) as response:
            text = await response.text()
            seen.append((url, response.status, response.headers.get("Location")))
            assert not LINK_AWAY.search(text), url
            return text

    async def to_consent(telegram_id: int) -> str:
        link = await site.link(telegram_id=telegram_id)
        forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
        await visit("GET", with_params(link, **HOSTILE), headers=forged)
        start = seen[-1][2]
        assert start is not None and start.startswith(site.url + "/idp/authorize?")
        assert query_of(start)["redirect_uri"] == site.url + "/auth/callback/dev"
        # The provider sends the code nowhere but the registered callback (RFC 6749 §4.1.2.1).
        await visit("GET", with_params(start, redirect_uri=EVIL))
        assert seen[-1][1] == 400 and seen[-1][2] is None
        steps = walk.Walk(authorize=start)
        await walk.at_idp(http, steps, "Ivan", "ivan@example.com")
        await visit("GET", with_params(steps.callback, **HOSTILE))
        consent = seen[-1][2]
        assert seen[-1][1] == 303 and consent is not None and consent.startswith("/auth/consent/")
        return site.url + consent

    hostile = "?" + urlencode(HOSTILE)
    consent = await to_consent(571)
    page = await visit("GET", consent + hostile)
    form = {"csrf": csrf_of(page), "action": "cancel", **HOSTILE}
    assert "Nothing was linked" in await visit("POST", consent + hostile, data=form)
    consent = await to_consent(572)
    page = await visit("GET", consent + hostile)
    form = {"csrf": csrf_of(page), "action": "confirm", **HOSTILE}
    assert "You are signed in" in await visit("POST", consent + hostile, data=form)
    await visit("GET", site.url + "/auth/start/unknown" + hostile)
    await visit("GET", site.url + "/auth/callback/dev" + hostile)
    await visit("GET", site.url + "/login" + hostile)

    assert [entry for entry in seen if not stays_home(site, entry[2])] == []
    assert len(seen) == 13
    assert await site.account_of(571) is None and await site.account_of(572) is not None


# --- a forwarded sign-in link ------------------------------------------------------------------


async def test_a_forwarded_sign_in_link_cannot_tie_a_stranger_to_the_sender_s_account(
    site: Site, http: aiohttp.ClientSession, browser_b: aiohttp.ClientSession
) -> None:
    """Alice is signed in; the bot gives her a fresh sign-in link and she forwards it to Carol,
    who opens it in her own browser and signs in at the provider as herself.

    Expected (PRODUCT §1.1, "a link is for the person who asked for it"): the link is made for
    Alice's Telegram user, so it can only ever sign *Alice's chat* in, never Carol's; a link
    cannot be bound to the first browser that opens it, because the bot itself tells people in
    an in-app browser to open it in another one. So the defence is the consent page: before
    anything is linked Carol is shown whose Telegram account this is and told to confirm only a
    link she asked for herself. Nothing is linked until Confirm; Cancel links nothing and tells
    Alice's chat. Carol never gets into Alice's account: no page shows it, her social account is
    never added to it, and her browser cannot use Alice's callback or consent pages either.
    """
    await walk.sign_in(
        http, site.url, await site.link(telegram_id=581, name="Alice"), name="Alice A"
    )
    alice = await linked_account(site, 581)
    assert alice is not None
    alice_identities = await identities(site, alice[0])
    site.world.notifier.notices.clear()
    forwarded = await site.link(telegram_id=581, name="Alice")

    carol = await walk.authorized(browser_b, forwarded, "Carol C", "carol@example.com")
    assert (await walk.to_consent(browser_b, carol)).status == 303
    page = await walk.consent_page(browser_b, site.url, carol)

    assert "Link Dev ID account c***@example.com to Telegram user Alice (@ivan)?" in page
    assert "Only confirm if you asked the bot for this link yourself." in page
    assert "Alice A" not in page  # nothing of Alice's account is shown to Carol
    assert await linked_account(site, 581) == alice
    assert site.world.notifier.notices == []

    status, page = await walk.answer(browser_b, site.url, carol, action="cancel")

    assert status == 200 and "Nothing was linked" in page
    assert await linked_account(site, 581) == alice
    assert await identities(site, alice[0]) == alice_identities
    assert site.world.notifier.notices == [SignInFailed(581, "declined")]


async def test_a_forwarded_link_confirmed_anyway_never_adds_the_stranger_to_the_account(
    site: Site, http: aiohttp.ClientSession, browser_b: aiohttp.ClientSession
) -> None:
    """If Carol confirms despite the warning, what she confirmed happens to the chat named on
    the page (Alice's chat now uses Carol's social account, as PRODUCT §1.1 has it), and nothing
    else: Alice's account gains no identity of Carol's, no other chat is signed in, Carol's
    browser sees only "go back to Telegram", and the link is used up for good."""
    await walk.sign_in(
        http, site.url, await site.link(telegram_id=582, name="Alice"), name="Alice A"
    )
    alice = await linked_account(site, 582)
    assert alice is not None
    alice_identities = await identities(site, alice[0])
    forwarded = await site.link(telegram_id=582, name="Alice")

    _status, page, _steps = await walk.sign_in(
        browser_b, site.url, forwarded, name="Carol C", email="carol@example.com"
    )

    assert "You are signed in, go back to Telegram" in page and "Alice A" not in page
    assert await identities(site, alice[0]) == alice_identities
    carols = await linked_account(site, 582)
    assert carols is not None and carols[0] != alice[0] and carols[1] == "Carol C"
    async with http.get(forwarded, allow_redirects=False) as again:
        assert again.status == 410
