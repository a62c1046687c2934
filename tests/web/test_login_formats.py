"""The web sign-in reads a login as the bot does (PRODUCT §1.7): phones in national formats,
emails whatever their case, one throttle per login however it is typed."""

from __future__ import annotations

import aiohttp
import pytest

from tests.web.conftest import Site, csrf_of
from tests.web.test_login import post

PASSWORD = "correct horse battery staple"
PHONE = "+79991234567"


@pytest.mark.parametrize(
    "typed",
    ["8 (999) 123-45-67", "89991234567", "+7 999 123-45-67", "+79991234567", "8-999-123-45-67"],
)
async def test_a_phone_signs_in_in_every_format_the_bot_accepts(
    site: Site, http: aiohttp.ClientSession, typed: str
) -> None:
    account_id, _ = await site.world.account(phone=PHONE, password=PASSWORD)

    status, body, _ = await post(http, site, typed, PASSWORD)

    assert (status, body) == (200, {"account_id": account_id})


@pytest.mark.parametrize("typed", ["  Ivan@Example.COM  ", "IVAN@EXAMPLE.COM"])
async def test_an_email_signs_in_whatever_its_case_and_spaces(
    site: Site, http: aiohttp.ClientSession, typed: str
) -> None:
    account_id, _ = await site.world.account(email="ivan@example.com", password=PASSWORD)

    status, body, _ = await post(http, site, typed, PASSWORD)

    assert (status, body) == (200, {"account_id": account_id})


async def test_the_sign_in_page_takes_a_national_number(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.world.account(phone=PHONE, password=PASSWORD)
    async with http.get(site.url + "/login", headers={"Accept-Language": "ru"}) as response:
        form = {"csrf": csrf_of(await response.text())}

    data = form | {"login": "8 (999) 123-45-67", "password": PASSWORD}
    async with http.post(site.url + "/login", data=data) as response:
        assert response.status == 200


async def test_a_wrong_password_for_a_national_number_is_the_same_401(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.world.account(phone=PHONE, password=PASSWORD)

    wrong = await post(http, site, "89991234567", "not the password")
    unknown = await post(http, site, "89990000000", PASSWORD)

    assert wrong[:2] == unknown[:2] == (401, {"error": "Wrong login or password."})


async def test_every_format_of_one_number_shares_one_throttle(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.world.account(phone=PHONE, password=PASSWORD)
    typed = ["89991234567", "+79991234567", "8 (999) 123-45-67", "+7 999 123-45-67", "89991234567"]
    for login in typed:
        assert (await post(http, site, login, "guess"))[0] == 401

    status, _body, response = await post(http, site, "+7 (999) 123 45 67", PASSWORD)

    assert status == 429
    assert int(response.headers["Retry-After"]) > 0
