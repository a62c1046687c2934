"""Password sign-in (PRODUCT §1.7): one generic refusal, throttled per login and per address."""

from __future__ import annotations

import aiohttp

from tests.web.conftest import Site, SiteFactory, csrf_of

PASSWORD = "correct horse battery staple"


async def bound(site: Site) -> int:
    account_id, _tg = await site.world.account(email="ivan@example.com", password=PASSWORD)
    return account_id


async def post(
    http: aiohttp.ClientSession, site: Site, login: str, password: str, **headers: str
) -> tuple[int, dict[str, object], aiohttp.ClientResponse]:
    body = {"login": login, "password": password}
    async with http.post(site.url + "/auth/login", json=body, headers=headers) as response:
        return response.status, await response.json(), response


async def test_a_bound_email_and_its_password_sign_in(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id = await bound(site)

    status, body, _ = await post(http, site, "Ivan@Example.com", PASSWORD)

    assert (status, body) == (200, {"account_id": account_id})


async def test_unknown_login_and_wrong_password_get_the_same_answer(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await bound(site)

    wrong = await post(http, site, "ivan@example.com", "not the password")
    unknown = await post(http, site, "nobody@example.com", PASSWORD)

    assert wrong[:2] == unknown[:2] == (401, {"error": "Wrong login or password."})


async def test_sign_in_is_throttled_per_login(site: Site, http: aiohttp.ClientSession) -> None:
    await bound(site)
    for _ in range(5):
        assert (await post(http, site, "ivan@example.com", "guess"))[0] == 401

    status, _body, response = await post(http, site, "ivan@example.com", PASSWORD)

    assert status == 429
    assert int(response.headers["Retry-After"]) > 0


async def test_sign_in_is_throttled_per_address(make_site: SiteFactory) -> None:
    site = await make_site(settings={"login_failures_per_address": 3})
    async with aiohttp.ClientSession() as http:
        for number in range(3):
            assert (await post(http, site, f"user{number}@example.com", "guess"))[0] == 401

        status, _body, _ = await post(http, site, "fresh@example.com", "guess")

    assert status == 429


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(make_site: SiteFactory) -> None:
    site = await make_site(
        settings={"login_failures_per_address": 2, "trusted_proxies": "127.0.0.1"}
    )
    async with aiohttp.ClientSession() as http:
        for number in range(2):
            await post(
                http, site, f"a{number}@example.com", "x", **{"X-Forwarded-For": "203.0.113.7"}
            )

        blocked = await post(http, site, "b@example.com", "x", **{"X-Forwarded-For": "203.0.113.7"})
        other = await post(http, site, "c@example.com", "x", **{"X-Forwarded-For": "198.51.100.9"})

    assert blocked[0] == 429
    assert other[0] == 401


async def test_the_sign_in_page_says_signed_in(site: Site, http: aiohttp.ClientSession) -> None:
    await bound(site)
    async with http.get(site.url + "/login") as response:
        form = {"csrf": csrf_of(await response.text())}

    data = form | {"login": "ivan@example.com", "password": PASSWORD}
    async with http.post(site.url + "/login", data=data) as response:
        assert response.status == 200
        assert "Signed in" in await response.text()


async def test_the_sign_in_page_refuses_a_post_without_csrf(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await bound(site)

    data = {"login": "ivan@example.com", "password": PASSWORD}
    async with http.post(site.url + "/login", data=data) as response:
        assert response.status == 403
        assert "Signed in" not in await response.text()


async def test_sign_in_takes_only_json(site: Site, http: aiohttp.ClientSession) -> None:
    await bound(site)
    body = '{"login": "ivan@example.com", "password": "correct horse battery staple"}'

    async with http.post(site.url + "/auth/login", data=body) as response:
        assert response.status == 415
