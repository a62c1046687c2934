"""'Forgot password?' walked in headless Chromium at a phone's size, in both languages; the
screenshots (artifacts/screenshots/web-recover-*.png) are for people to look at."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import Screenshot
from tests.web.conftest import Site
from tests.web.test_recover import NEW, OLD

pytestmark = pytest.mark.browser

WORDS = {
    "en": (
        "Forgot password?",
        "a code is on its way",
        "From now on, sign in with the new password.",
    ),
    "ru": ("Забыли пароль?", "туда уже отправлен код", "Теперь входите с новым паролем."),
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_forgotten_password_is_reset_from_the_sign_in_page(
    site: Site, page: Any, screenshot: Screenshot, language: str
) -> None:
    account_id, _ = await site.world.account(email="ivan@example.com", password=OLD)
    forgot, sent, done = WORDS[language]
    await page.set_extra_http_headers({"Accept-Language": language})

    await page.goto(site.url + "/login")
    await screenshot(page, f"web-login-{language}.png")
    await page.click(f"text={forgot}")
    await page.fill("#login", "Ivan@Example.com")
    await screenshot(page, f"web-recover-ask-{language}.png")
    await page.click("button[type=submit]")
    await expect(page.locator("main")).to_contain_text(sent)
    await page.fill("#code", site.world.last_code("ivan@example.com"))
    await page.fill("#password", NEW)
    await page.fill("#repeat", NEW)
    await screenshot(page, f"web-recover-code-{language}.png")
    await page.click("button[type=submit]")

    await expect(page.locator("main")).to_contain_text(done)
    await screenshot(page, f"web-recover-done-{language}.png")
    assert await site.world.services.auth.authenticate("ivan@example.com", NEW, "ip") == account_id
