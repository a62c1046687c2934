"""A /language switch in the middle of a step, as a person sees it on the chat page in headless
Chromium: the step is kept and asked again in the new language (issue #12), ru and en."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from sandbox.client import Sandbox
from sandbox.stack import SandboxStack
from tests.browser.conftest import save_screenshot as screenshot
from tests.conversation.browser import Browser
from tests.conversation.test_mid_flow import LANGUAGES, WORDS, signed_in, switch
from tests.conversation.test_notices_page import stack as stack  # a fixture: SQLite + memory
from tests.conversation.test_support_desk_page import chromium  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_language_switch_mid_step_on_the_chat_page(
    stack: SandboxStack,
    chromium: Any,  # noqa: F811
    lang: str,
) -> None:
    other = "en" if lang == "ru" else "ru"
    browser = Browser()
    try:
        async with Sandbox(stack.url) as sandbox:
            ivan = await signed_in(sandbox, browser, other)
            await ivan.press(WORDS[other]["bind_email"])
            await ivan.wait_for(WORDS[other]["ask_email"])
            await switch(ivan, lang)
            await ivan.wait_for(WORDS[lang]["same_step"])
            await ivan.wait_for(WORDS[lang]["ask_email"])  # the step asked again whole
    finally:
        await browser.close()

    chat = await chromium("phone")
    await chat.goto(f"{stack.url}/chat?person={ivan.id}")
    await expect(chat.get_by_text(WORDS[lang]["same_step"])).to_be_visible()
    await expect(chat.get_by_text(WORDS[lang]["ask_email"]).last).to_be_visible()
    await screenshot(chat, f"mid-step-language-{other}-to-{lang}.png")
