"""The Mailbox and SMS pages in headless Chromium, at a phone's size, with screenshots."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import expect

from sandbox.mailbox import Mailbox, register_mailbox
from sandbox.outbox import SmsOutbox, register_outbox
from sandbox.pages import register_pages
from tests.browser.conftest import Screenshot, Serve
from tests.browser.letters import send_letter

pytestmark = pytest.mark.browser

SUBJECT = "Подтвердите адрес почты"


@dataclass(frozen=True)
class Sandbox:
    """The pages under test, served locally, with the Mailbox's SMTP port."""

    url: str
    smtp_port: int
    outbox: SmsOutbox

    async def send_letter(self, subject: str = SUBJECT) -> None:
        link = f"{self.url}/sandbox"
        await send_letter(
            self.smtp_port,
            to="ivan@example.org",
            subject=subject,
            text=f"Your code: 123456\nConfirm: {link}",
            html=f'<h2>Almost there</h2><p>Your code: <b>123456</b></p><p><a href="{link}">'
            "Confirm email</a></p>",
        )


@pytest.fixture
async def sandbox(serve: Serve) -> AsyncIterator[Sandbox]:
    mailbox, outbox = Mailbox(), SmsOutbox()
    app = web.Application()
    register_pages(app)
    register_mailbox(app, mailbox)
    register_outbox(app, outbox)
    port = await mailbox.start()
    try:
        yield Sandbox(await serve(app), port, outbox)
    finally:
        await mailbox.stop()


async def test_a_letter_opens_and_its_link_opens_in_a_new_tab(
    sandbox: Sandbox, page: Any, screenshot: Screenshot
) -> None:
    await sandbox.send_letter()

    await page.goto(f"{sandbox.url}/mailbox")
    await expect(page.get_by_text(SUBJECT)).to_be_visible()
    await expect(page.get_by_text("ivan@example.org")).to_be_visible()
    await screenshot(page, "mailbox.png")

    await page.get_by_text(SUBJECT).click()
    link = page.frame_locator("iframe.letter-html").get_by_role("link", name="Confirm email")
    await expect(link).to_be_visible()
    await expect(page.get_by_text("Your code: 123456")).to_be_visible()
    await screenshot(page, "mailbox_letter.png")

    async with page.context.expect_page() as opened:
        await link.click()
    tab = await opened.value
    await tab.wait_for_load_state()
    assert tab.url == f"{sandbox.url}/sandbox"
    assert page.url.startswith(f"{sandbox.url}/mailbox/")


async def test_a_new_letter_appears_without_reloading_by_hand(sandbox: Sandbox, page: Any) -> None:
    await page.goto(f"{sandbox.url}/mailbox")
    await expect(page.get_by_text("No letters yet")).to_be_visible()

    await sandbox.send_letter(subject="Arrived while watching")

    await expect(page.get_by_text("Arrived while watching")).to_be_visible(timeout=10_000)


async def test_the_sms_page_shows_the_code(
    sandbox: Sandbox, page: Any, screenshot: Screenshot
) -> None:
    await sandbox.outbox.send("+79161234567", "Account assistant: your code is 482913")

    await page.goto(f"{sandbox.url}/sms")

    await expect(page.get_by_text("these messages were not sent")).to_be_visible()
    await expect(page.locator(".code", has_text="482913")).to_be_visible()
    await expect(page.get_by_text("+79161234567")).to_be_visible()
    await screenshot(page, "sms.png")


@pytest.mark.parametrize("page", ["desktop"], indirect=True)
async def test_the_index_page_leads_to_every_tool(
    sandbox: Sandbox, page: Any, screenshot: Screenshot
) -> None:
    await page.goto(f"{sandbox.url}/sandbox")

    await page.get_by_role("link", name="Mailbox").first.click()

    await expect(page.get_by_role("heading", name="Mailbox")).to_be_visible()
    await page.goto(f"{sandbox.url}/sandbox")
    await screenshot(page, "sandbox_index.png")
