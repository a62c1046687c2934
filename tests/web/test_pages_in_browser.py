"""The sign-in walk and the secure password page in headless Chromium at a phone's size.

Proves what plain HTTP cannot: the inline scripts run under the nonce CSP, and the Web App's
initData travels from the URL fragment into the form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Screenshot
from tests.web.conftest import Site
from tests.web.test_links import PASSWORD, init_data

pytestmark = pytest.mark.browser


async def test_a_person_signs_in_through_dev_id_on_a_phone(
    site: Site, page: Any, screenshot: Screenshot
) -> None:
    await page.goto(await site.link(telegram_id=801))
    await page.fill("#name", "Ivan Petrov")
    await page.fill("#email", "ivan@example.com")
    await page.click("button[type=submit]")
    await expect(page.locator("main")).to_contain_text("to Telegram user Ivan (@ivan)?")
    await screenshot(page, "web-consent-phone.png")

    await page.click("button[value=confirm]")

    await expect(page.locator("main")).to_contain_text("You are signed in, go back to Telegram")
    await screenshot(page, "web-signed-in-phone.png")
    assert await site.account_of(801) is not None


async def test_the_password_page_hints_live_and_saves(
    site: Site, page: Any, screenshot: Screenshot
) -> None:
    account_id, telegram_id = await site.world.account()
    url = await site.world.services.password.create_page(account_id, telegram_id, "set", "en")
    await page.goto(url)

    await page.fill("#password", PASSWORD)
    await expect(page.locator("#rule-min")).to_have_class("ok")
    await page.fill("#repeat", PASSWORD)
    await expect(page.locator("#rule-same")).to_have_class("ok")
    await screenshot(page, "web-password-phone.png")
    await page.click("button[type=submit]")

    await expect(page.locator("main")).to_contain_text("Password saved.")
    assert await site.world.services.password.has_password(account_id)


async def test_the_password_page_as_a_web_app_sends_its_init_data(site: Site, page: Any) -> None:
    account_id, telegram_id = await site.world.account()
    url = await site.world.services.password.create_page(account_id, telegram_id, "set", "en")
    signed = init_data("1:test", telegram_id, int(site.world.clock.now().timestamp()))
    # Telegram puts the whole initData query string, encoded once more, into the fragment.
    fragment = "tgWebAppData=" + quote(signed, safe="")
    await page.goto(f"{url}#{fragment}&tgWebAppVersion=8.0&tgWebAppPlatform=android")

    await expect(page.locator("#init_data")).to_have_value(signed)
    await page.fill("#password", PASSWORD)
    await page.fill("#repeat", PASSWORD)
    await page.click("button[type=submit]")

    await expect(page.locator("main")).to_contain_text("Password saved.")
    assert await site.world.services.password.has_password(account_id)
