"""'Forgot password?' on the web sign-in page (PRODUCT §1.7): a code to the bound email or phone,
then a new password, with the chat's limits; the same answers whether or not the login exists."""

from __future__ import annotations

import re

import aiohttp

from core.notices import PasswordSet
from tests.web.conftest import Site, csrf_of
from tests.web.test_login import post

OLD = "forgotten passphrase"
NEW = "remembered passphrase"
TOKEN = re.compile(r'name="token" value="([^"]+)"')
LOGIN = re.compile(r'name="login" value="[^"]*"')


async def ask_code(
    http: aiohttp.ClientSession, site: Site, login: str, **headers: str
) -> tuple[int, str]:
    """Follow the link from the sign-in page and send the login."""
    async with http.get(site.url + "/login", headers=headers) as response:
        page = await response.text()
    assert 'href="/login/recover"' in page
    async with http.get(site.url + "/login/recover", headers=headers) as response:
        form = {"csrf": csrf_of(await response.text()), "login": login}
    async with http.post(site.url + "/login/recover", data=form, headers=headers) as response:
        return response.status, await response.text()


async def send_code(
    http: aiohttp.ClientSession,
    page: str,
    site: Site,
    login: str,
    code: str,
    password: str = NEW,
    repeat: str | None = None,
) -> tuple[int, str]:
    form = {
        "csrf": csrf_of(page),
        "login": login,
        "code": code,
        "password": password,
        "repeat": password if repeat is None else repeat,
    }
    token = TOKEN.search(page)
    if token:
        form["token"] = token.group(1)
    async with http.post(site.url + "/login/recover/code", data=form) as response:
        return response.status, await response.text()


async def test_a_code_to_the_bound_email_then_a_new_password_signs_in(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, telegram_id = await site.world.account(email="ivan@example.com", password=OLD)

    status, page = await ask_code(http, site, "Ivan@Example.com")
    assert status == 200 and "a code is on its way" in page
    assert [letter.to for letter in site.world.mailer.letters][-1] == "ivan@example.com"
    code = site.world.last_code("ivan@example.com")
    status, done = await send_code(http, page, site, "Ivan@Example.com", code)

    assert status == 200 and "Password changed" in done
    assert await signs_in(http, site, "ivan@example.com", NEW) == account_id
    assert await signs_in(http, site, "ivan@example.com", OLD) == -401
    # The chat linked to the account hears of it, as after the secure password page.
    assert PasswordSet(telegram_id, account_id) in site.world.notifier.notices


async def test_a_code_by_sms_to_a_phone_typed_in_a_national_format(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, _ = await site.world.account(phone="+79991234567", password=OLD)

    _status, page = await ask_code(http, site, "8 (999) 123-45-67")
    assert [m.phone for m in site.world.outbox.messages] == ["+79991234567"]
    status, _done = await send_code(
        http, page, site, "8 (999) 123-45-67", site.world.last_code("+79991234567")
    )

    assert status == 200
    assert await signs_in(http, site, "89991234567", NEW) == account_id


async def test_an_unknown_login_is_answered_as_a_known_one(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.world.account(email="ivan@example.com", password=OLD)

    known = await ask_code(http, site, "ivan@example.com")
    unknown = await ask_code(http, site, "nobody@example.com")

    assert known[0] == unknown[0] == 200
    assert shape(known[1], "ivan@example.com") == shape(unknown[1], "nobody@example.com")
    assert [letter.to for letter in site.world.mailer.letters] == ["ivan@example.com"]
    # A code typed for either reads the same, and so does asking again too soon.
    wrong_known = await send_code(http, known[1], site, "ivan@example.com", "000000")
    wrong_unknown = await send_code(http, unknown[1], site, "nobody@example.com", "000000")
    assert wrong_known[0] == wrong_unknown[0] == 400
    assert shape(wrong_known[1], "ivan@example.com") == shape(
        wrong_unknown[1], "nobody@example.com"
    )
    again_known = await ask_code(http, site, "ivan@example.com")
    again_unknown = await ask_code(http, site, "nobody@example.com")
    assert "A new code can be sent in" in again_known[1]
    assert shape(again_known[1], "ivan@example.com") == shape(
        again_unknown[1], "nobody@example.com"
    )


async def code_asked(http: aiohttp.ClientSession, site: Site) -> tuple[int, str, str]:
    """An account with a bound email that asked for a code: its id, the code page, the code."""
    account_id, _ = await site.world.account(email="ivan@example.com", password=OLD)
    _status, page = await ask_code(http, site, "ivan@example.com")
    return account_id, page, site.world.last_code("ivan@example.com")


async def signs_in(http: aiohttp.ClientSession, site: Site, login: str, password: str) -> int:
    """The account id /auth/login answers with, or its status when it refuses."""
    status, body, _ = await post(http, site, login, password)
    return int(str(body["account_id"])) if status == 200 else -status


def shape(page: str, login: str) -> str:
    """The page without what differs by design: the nonce, the form token and the login typed."""
    page = re.sub(r'(nonce|name="csrf" value)="[^"]+"', "", page)
    return LOGIN.sub("", page).replace(login, "LOGIN")


async def test_a_wrong_code_changes_nothing_and_the_right_one_still_works(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, page, right = await code_asked(http, site)
    wrong = "000000" if right != "000000" else "111111"

    status, refused = await send_code(http, page, site, "ivan@example.com", wrong)

    assert status == 400 and "This code is wrong or no longer valid" in refused
    assert await signs_in(http, site, "ivan@example.com", NEW) == -401
    status, _done = await send_code(http, refused, site, "ivan@example.com", right)
    assert status == 200
    assert await signs_in(http, site, "ivan@example.com", NEW) == account_id


async def test_a_weak_or_mismatched_password_is_asked_again_without_the_code(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, page, code = await code_asked(http, site)

    status, short = await send_code(http, page, site, "ivan@example.com", code, "short")
    assert status == 400 and "at least" in short and 'name="code"' not in short
    status, differ = await send_code(http, short, site, "ivan@example.com", "", NEW, "other one")
    assert status == 400 and "The two passwords differ." in differ
    status, _done = await send_code(http, differ, site, "ivan@example.com", "")

    assert status == 200
    assert await signs_in(http, site, "ivan@example.com", NEW) == account_id


async def test_the_forms_need_their_csrf_token(site: Site, http: aiohttp.ClientSession) -> None:
    await site.world.account(email="ivan@example.com", password=OLD)

    data = {"login": "ivan@example.com"}
    async with http.post(site.url + "/login/recover", data=data) as response:
        assert response.status == 403
    assert site.world.mailer.letters == []
    data |= {"code": "123456", "password": NEW, "repeat": NEW}
    async with http.post(site.url + "/login/recover/code", data=data) as response:
        assert response.status == 403


async def test_the_pages_speak_russian_and_carry_the_security_headers(
    site: Site, http: aiohttp.ClientSession
) -> None:
    await site.world.account(email="ivan@example.com", password=OLD)
    headers = {"Accept-Language": "ru"}

    async with http.get(site.url + "/login/recover", headers=headers) as response:
        ask = await response.text()
        security = response.headers
    _status, code_page = await ask_code(http, site, "ivan@example.com", **headers)

    assert '<html lang="ru">' in ask and "Забыли пароль?" in ask
    assert "Новый пароль" in code_page and "New password" not in code_page
    assert security["X-Frame-Options"] == "DENY" and security["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in security["Content-Security-Policy"]
    assert site.world.mailer.letters[-1].to == "ivan@example.com"
