"""The pages as a browser gets them: escaped, in the reader's language, styles under the nonce."""

from __future__ import annotations

import re

import aiohttp

from tests.web.conftest import Site, csrf_of

NONCE = re.compile(r"nonce-([A-Za-z0-9_\-]+)")


async def test_what_a_person_typed_comes_back_as_text_not_markup(
    site: Site, http: aiohttp.ClientSession
) -> None:
    async with http.get(site.url + "/login") as response:
        form = {"csrf": csrf_of(await response.text()), "password": "x" * 12}
    typed = '"><script>alert(1)</script>'

    async with http.post(site.url + "/login", data=form | {"login": typed}) as response:
        page = await response.text()

    assert response.status == 401
    assert "<script>alert(1)" not in page
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


async def test_a_page_speaks_the_browsers_language(site: Site, http: aiohttp.ClientSession) -> None:
    headers = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}
    async with http.get(site.url + "/login", headers=headers) as response:
        page = await response.text()

    assert '<html lang="ru">' in page and "<h1>Войти</h1>" in page
    assert "Email or phone" not in page


async def test_styles_and_scripts_carry_the_nonce_of_their_own_answer(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, telegram_id = await site.world.account()
    url = await site.world.services.password.create_page(account_id, telegram_id, "set", "en")
    nonces = []
    for _ in range(2):
        async with http.get(url) as response:
            page = await response.text()
            match = NONCE.search(response.headers["Content-Security-Policy"])
        assert match is not None
        nonce = match.group(1)
        assert f'<style nonce="{nonce}">' in page and f'<script nonce="{nonce}">' in page
        nonces.append(nonce)

    assert nonces[0] != nonces[1]
