"""Sign-in through the development identity provider over real HTTP on loopback (PRODUCT §1.1)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp

from core.notices import SignedIn, SignInFailed
from tests.web import walk
from tests.web.conftest import Site, SiteFactory

EXPIRED = "This link was already used or has expired"


async def test_code_and_pkce_exchange_signs_the_telegram_user_in(
    site: Site, http: aiohttp.ClientSession
) -> None:
    link = await site.link(telegram_id=501)

    status, page, steps = await walk.sign_in(http, site.url, link)

    assert status == 200
    assert "You are signed in, go back to Telegram" in page
    assert "tg://resolve?domain=accountbot_test" in page
    query = parse_qs(urlsplit(steps.authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 22 and query["nonce"]
    account_id = await site.account_of(501)
    assert account_id is not None
    view = await site.world.services.account.view(account_id)
    assert view.account.name == "Ivan Petrov"
    assert [n for n in site.world.notifier.notices if isinstance(n, SignedIn)] == [
        SignedIn(501, account_id, "dev", True)
    ]


async def test_a_second_use_of_the_same_link_is_refused(
    site: Site, http: aiohttp.ClientSession
) -> None:
    link = await site.link()
    await walk.sign_in(http, site.url, link)

    async with http.get(link, allow_redirects=False) as response:
        assert response.status == 410
        assert EXPIRED in await response.text()


async def test_a_replayed_callback_is_refused(site: Site, http: aiohttp.ClientSession) -> None:
    link = await site.link()
    _status, _page, steps = await walk.sign_in(http, site.url, link)
    site.world.notifier.notices.clear()

    response = await walk.to_consent(http, steps)

    assert response.status == 410
    assert site.world.notifier.notices == []


async def test_a_tampered_state_is_refused_and_nobody_is_signed_in(
    site: Site, http: aiohttp.ClientSession
) -> None:
    steps = await walk.authorized(http, await site.link(telegram_id=502), "Eve", "eve@example.com")
    steps.callback = steps.callback.replace("state=", "state=x")

    response = await walk.to_consent(http, steps)

    assert response.status == 410
    assert await site.account_of(502) is None


async def test_an_expired_state_is_refused(site: Site, http: aiohttp.ClientSession) -> None:
    steps = await walk.authorized(
        http, await site.link(telegram_id=503), "Ivan", "ivan@example.com"
    )
    site.world.clock.advance(minutes=11)

    response = await walk.to_consent(http, steps)

    assert response.status == 410
    assert await site.account_of(503) is None


async def test_a_callback_in_another_browser_is_refused(
    site: Site, http: aiohttp.ClientSession
) -> None:
    steps = await walk.authorized(
        http, await site.link(telegram_id=504), "Ivan", "ivan@example.com"
    )

    async with aiohttp.ClientSession() as other:
        response = await walk.to_consent(other, steps)

    assert response.status == 410
    assert await site.account_of(504) is None


async def test_provider_access_denied_shows_a_clear_page_and_tells_the_chat(
    site: Site, http: aiohttp.ClientSession
) -> None:
    steps = walk.Walk()
    await walk.to_idp(http, await site.link(telegram_id=505), steps)
    state = parse_qs(urlsplit(steps.authorize).query)["state"][0]
    steps.callback = f"{site.url}/auth/callback/dev?error=access_denied&state={state}"

    async with http.get(steps.callback) as response:
        assert response.status == 400
        assert "cancelled at the provider" in await response.text()
    assert await site.account_of(505) is None
    assert site.world.notifier.notices == [SignInFailed(505, "declined")]


async def test_consent_shows_whose_telegram_account_is_linked(
    site: Site, http: aiohttp.ClientSession
) -> None:
    steps = await walk.authorized(http, await site.link(telegram_id=506), "Ivan", "ivan@gmail.com")
    await walk.to_consent(http, steps)

    page = await walk.consent_page(http, site.url, steps)

    assert "Link Dev ID account i***@gmail.com to Telegram user Ivan (@ivan)?" in page
    assert await site.account_of(506) is None


async def test_consent_not_given_links_nothing(site: Site, http: aiohttp.ClientSession) -> None:
    steps = await walk.authorized(
        http, await site.link(telegram_id=507), "Ivan", "ivan@example.com"
    )
    await walk.to_consent(http, steps)

    status, page = await walk.answer(http, site.url, steps, action="cancel")

    assert status == 200
    assert "Nothing was linked" in page
    assert await site.account_of(507) is None
    assert site.world.notifier.notices == [SignInFailed(507, "declined")]


async def test_consent_without_csrf_is_refused(site: Site, http: aiohttp.ClientSession) -> None:
    steps = await walk.authorized(
        http, await site.link(telegram_id=508), "Ivan", "ivan@example.com"
    )
    await walk.to_consent(http, steps)

    async with http.post(site.url + steps.consent, data={"action": "confirm"}) as response:
        assert response.status == 410
    assert await site.account_of(508) is None


async def test_first_sign_in_asks_to_accept_the_user_agreement(
    make_site: SiteFactory, http: aiohttp.ClientSession
) -> None:
    site = await make_site(settings={"terms_url": "https://example.com/terms"})
    steps = await walk.authorized(
        http, await site.link(telegram_id=509), "Ivan", "ivan@example.com"
    )
    await walk.to_consent(http, steps)
    page = await walk.consent_page(http, site.url, steps)
    assert "I accept the user agreement" in page
    assert 'href="https://example.com/terms"' in page

    status, page = await walk.answer(http, site.url, steps)
    assert status == 200 and "Please accept the user agreement first" in page
    assert await site.account_of(509) is None

    status, page = await walk.answer(http, site.url, steps, terms="on")
    assert "You are signed in" in page
    account_id = await site.account_of(509)
    assert account_id is not None
    view = await site.world.services.account.view(account_id)
    assert view.account.terms_accepted_at is not None


async def test_an_in_app_browser_is_told_to_open_the_system_browser(
    site: Site, http: aiohttp.ClientSession
) -> None:
    link = await site.link()
    agent = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Chrome/120.0 Mobile Safari/537.36 Telegram-Android/11.0"
    )

    async with http.get(link, headers={"User-Agent": agent}, allow_redirects=False) as response:
        page = await response.text()

    assert response.status == 200
    assert "Open the link in your browser" in page
    assert "Copy link" in page


async def test_pages_follow_the_browser_language(site: Site, http: aiohttp.ClientSession) -> None:
    async with http.get(
        site.url + "/auth/start/unknown", headers={"Accept-Language": "ru-RU,ru;q=0.9"}
    ) as response:
        page = await response.text()

    assert '<html lang="ru">' in page
    assert "Эта ссылка уже использована или устарела" in page


async def test_a_callback_naming_another_issuer_is_refused(
    site: Site, http: aiohttp.ClientSession
) -> None:
    steps = await walk.authorized(
        http, await site.link(telegram_id=510), "Ivan", "ivan@example.com"
    )
    steps.callback = steps.callback.replace("iss=", "iss=https%3A%2F%2Fevil.example%2F")

    response = await walk.to_consent(http, steps)

    assert response.status == 400
    assert await site.account_of(510) is None
    assert site.world.notifier.notices == [SignInFailed(510, "provider_error")]
