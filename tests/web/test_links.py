"""The email confirmation link and the secure password page (PRODUCT §1.3 step 6, §1.6)."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlencode

import aiohttp

from core.domain.models import AddressKind
from core.notices import EmailConfirmed, PasswordSet
from tests.web.conftest import Site, csrf_of

PASSWORD = "correct horse battery staple"
EXPIRED = "This link was already used or has expired"


async def pending_email(site: Site) -> tuple[int, int, str]:
    world = site.world
    account_id, telegram_id = await world.account(password=PASSWORD)
    await world.services.bind_email.start(account_id, "new.person@example.com", locale="en")
    return account_id, telegram_id, f"{site.url}/email/confirm/{world.last_link_token()}"


async def confirmed_email(site: Site, account_id: int) -> str | None:
    async with site.world.services.kit.unit() as uow:
        bindings = await uow.bindings.for_account(account_id)
    return next((b.address for b in bindings if b.kind is AddressKind.EMAIL and b.confirmed), None)


async def test_opening_the_email_link_alone_confirms_nothing(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, _tg, link = await pending_email(site)

    for _ in range(2):  # a mail scanner, then the person
        async with http.get(link) as response:
            page = await response.text()

    assert "Confirm n***@example.com as the email of your account?" in page
    assert await confirmed_email(site, account_id) is None


async def test_the_confirm_button_binds_the_email_once(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, telegram_id, link = await pending_email(site)

    async with http.post(link) as response:
        assert response.status == 200
        assert "Email confirmed" in await response.text()
    async with http.post(link) as again:
        assert again.status == 410
        assert EXPIRED in await again.text()

    assert await confirmed_email(site, account_id) == "new.person@example.com"
    assert EmailConfirmed(telegram_id, account_id, "new.person@example.com") in (
        site.world.notifier.notices
    )


async def test_an_expired_email_link_is_refused(site: Site, http: aiohttp.ClientSession) -> None:
    account_id, _tg, link = await pending_email(site)
    site.world.clock.advance(hours=1, seconds=1)

    async with http.get(link) as shown, http.post(link) as posted:
        assert shown.status == posted.status == 410
    assert await confirmed_email(site, account_id) is None


async def password_page(site: Site) -> tuple[int, int, str]:
    account_id, telegram_id = await site.world.account()
    url = await site.world.services.password.create_page(account_id, telegram_id, "set", "en")
    return account_id, telegram_id, url


async def fill(http: aiohttp.ClientSession, url: str, **extra: str) -> tuple[int, str]:
    async with http.get(url) as response:
        assert response.status == 200
        form = {"csrf": csrf_of(await response.text()), "password": PASSWORD, "repeat": PASSWORD}
    async with http.post(url, data=form | extra) as response:
        return response.status, await response.text()


def init_data(bot_token: str, user_id: int, auth_date: int) -> str:
    """Signed as Telegram documents it: HMAC-SHA256 keyed by HMAC("WebAppData", bot token)."""
    fields = {
        "auth_date": str(auth_date),
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user_id, "first_name": "Ivan"}),
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


async def test_the_secure_page_sets_the_password_once(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, telegram_id, url = await password_page(site)

    status, page = await fill(http, url)
    assert status == 200 and "Password saved" in page
    async with http.get(url) as again:
        assert again.status == 410
    assert await site.world.services.password.has_password(account_id)
    assert PasswordSet(telegram_id, account_id) in site.world.notifier.notices


async def test_the_secure_page_shows_the_rules_and_can_be_embedded_by_telegram(
    site: Site, http: aiohttp.ClientSession
) -> None:
    _account, _tg, url = await password_page(site)

    async with http.get(url) as response:
        page = await response.text()

    assert "At least 8 characters" in page
    assert "X-Frame-Options" not in response.headers
    assert (
        "frame-ancestors 'self' https://web.telegram.org"
        in (response.headers["Content-Security-Policy"])
    )
    assert response.headers["Cache-Control"] == "no-store"


async def test_the_secure_page_refuses_a_post_without_csrf(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, _tg, url = await password_page(site)

    async with http.post(url, data={"password": PASSWORD, "repeat": PASSWORD}) as response:
        assert response.status == 403
    assert not await site.world.services.password.has_password(account_id)


async def test_the_secure_page_refuses_forged_init_data(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, telegram_id, url = await password_page(site)
    now = int(site.world.clock.now().timestamp())
    forged = init_data("2:someone-elses-bot", telegram_id, now)

    status, _page = await fill(http, url, init_data=forged)

    assert status == 403
    assert not await site.world.services.password.has_password(account_id)


async def test_the_secure_page_refuses_init_data_of_another_telegram_user(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, telegram_id, url = await password_page(site)
    now = int(site.world.clock.now().timestamp())

    status, _page = await fill(http, url, init_data=init_data("1:test", telegram_id + 1, now))

    assert status == 403
    assert not await site.world.services.password.has_password(account_id)


async def test_the_secure_page_accepts_genuine_init_data(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, telegram_id, url = await password_page(site)
    now = int(site.world.clock.now().timestamp())

    status, page = await fill(http, url, init_data=init_data("1:test", telegram_id, now))

    assert status == 200 and "Password saved" in page
    assert await site.world.services.password.has_password(account_id)


async def test_a_weak_password_is_explained_and_the_link_still_works(
    site: Site, http: aiohttp.ClientSession
) -> None:
    account_id, _tg, url = await password_page(site)

    status, page = await fill(http, url, password="short", repeat="short")
    assert status == 400 and "at least 8 characters" in page
    status, page = await fill(http, url)
    assert status == 200
    assert await site.world.services.password.has_password(account_id)
