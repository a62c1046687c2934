"""The Support desk page in headless Chromium: a person on the chat page, an agent at /desk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from sandbox.client import Sandbox
from sandbox.stack import SandboxStack
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORTS, require_chromium
from tests.browser.conftest import save_screenshot as screenshot
from tests.conversation.browser import Browser
from tests.conversation.conftest import running_stack
from tests.conversation.test_support_handoff import signed_in
from tests.conversation.test_support_offer import has_button, to_sms_code, words
from tests.conversation.test_support_offer import signed_in as signed_in_speaking
from tests.conversation.test_support_paths import waiting_for_code

pytestmark = pytest.mark.browser


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium (the system one, as in tests/browser), with a script-error check."""
    require_chromium()
    from playwright.async_api import async_playwright

    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )

        async def open_page(viewport: str) -> Any:
            context = await browser.new_context(**VIEWPORTS[viewport])  # type: ignore[index]
            opened = await context.new_page()
            opened.on("pageerror", lambda error: errors.append(str(error)))
            return opened

        try:
            yield open_page
        finally:
            await browser.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[SandboxStack]:
    async with running_stack("sqlite+memory", tmp_path / "sandbox") as running:
        yield running


async def test_an_agent_answers_from_the_desk_and_the_person_is_back_at_their_step(
    stack: SandboxStack, browser: Browser, chromium: Any
) -> None:
    async with Sandbox(stack.url) as sandbox:
        ivan = await signed_in(sandbox, browser)
        code = await waiting_for_code(ivan, stack)

    chat = await chromium("phone")
    await chat.goto(f"{stack.url}/chat?person={ivan.id}")
    await chat.fill("#text", "/support")
    await chat.press("#text", "Enter")
    await expect(chat.get_by_text("passed our conversation to a person")).to_be_visible()

    desk = await chromium("desktop")
    await desk.goto(f"{stack.url}/desk")
    await expect(desk.locator("#messages")).to_contain_text("Support request")
    await expect(desk.locator("#messages")).to_contain_text("binding an email — waiting")
    await desk.fill("#text", "Hello, I am looking at your letter now.")
    await desk.press("#text", "Enter")
    await expect(chat.get_by_text("I am looking at your letter")).to_be_visible()

    await chat.fill("#text", "Thank you!")
    await chat.press("#text", "Enter")
    await expect(desk.locator("#messages")).to_contain_text("Thank you!")
    await screenshot(desk, "support-desk-answering.png")
    await screenshot(chat, "support-chat-handoff.png")

    await desk.get_by_role("button", name="/close").click()
    await expect(chat.get_by_text("Support has closed the conversation")).to_be_visible()
    await expect(desk.locator("#messages")).to_contain_text("Closed. The person is back at")
    await chat.fill("#text", code)
    await chat.press("#text", "Enter")
    await expect(chat.get_by_text("Email bound")).to_be_visible()
    await screenshot(chat, "support-chat-back-at-the-step.png")
    await screenshot(desk, "support-desk-closed.png")


async def test_a_russian_walk_the_offer_once_and_the_card_in_words(
    tmp_path: Path, browser: Browser, chromium: Any
) -> None:
    """In Russian, agents speaking Russian (DEFAULT_LOCALE=ru): the offer after three wrong
    codes, not after the fourth; the card with the step and the reason in words."""
    t = words("ru")
    async with running_stack("sqlite+memory", tmp_path / "sandbox", default_locale="ru") as stack:
        async with Sandbox(stack.url) as sandbox:
            ivan = await signed_in_speaking(sandbox, browser, "ru")
            await ivan.send("Здравствуйте, не получается привязать телефон. Спасибо!")
            await to_sms_code(ivan, t)
            for wrong in ("000001", "000002", "000003"):
                await ivan.send(wrong)
            await ivan.wait_for(has_button(t("Yes, write to support")))
            await ivan.press(t("No, thanks"))
            await ivan.wait_for(t("All right. Let us go on."))
            await ivan.send("000004")
            await ivan.settled()

            chat = await chromium("phone")
            await chat.goto(f"{stack.url}/chat?person={ivan.id}")
            await expect(chat.get_by_text(t("All right. Let us go on."))).to_be_visible()
            await screenshot(chat, "support-offer-once-ru.png")
            await ivan.send("/support")
            await ivan.settled()

            desk = await chromium("desktop")
            await desk.goto(f"{stack.url}/desk")
            await expect(desk.locator("#messages")).to_contain_text("привязка телефона — ждём")
            await screenshot(desk, "support-desk-card-ru.png")
