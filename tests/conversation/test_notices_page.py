"""The notices as a person sees them on the chat page, in headless Chromium, ru and en: a second
Telegram account joined (with its Unlink button), an address moved by "It's mine, free it"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from sandbox.client import Sandbox
from sandbox.stack import SandboxStack
from tests.browser.conftest import save_screenshot as screenshot
from tests.conversation.browser import Browser
from tests.conversation.conftest import running_stack
from tests.conversation.test_notices import (
    LANGUAGES,
    NAMES,
    freed,
    moved,
    offers_sign_in,
    signed_in,
    signing_in,
    words,
)
from tests.conversation.test_support_desk_page import chromium  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[SandboxStack]:
    async with running_stack("sqlite+memory", tmp_path / "sandbox") as running:
        yield running


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_second_telegram_notice_on_the_chat_page(
    stack: SandboxStack,
    chromium: Any,  # noqa: F811
    lang: str,
) -> None:
    phone = Browser()
    try:
        async with Sandbox(stack.url) as sandbox:
            first = await sandbox.person(NAMES[lang], language_code=lang)
            await signed_in(first, phone, lang, "Anna Holder")
            second = await sandbox.person(NAMES[lang] + " 2", language_code=lang)
            await second.start()
            await second.wait_for(offers_sign_in(lang))
            url = await second.press(signing_in(lang))
            assert url is not None

            tablet = await chromium("phone")  # Chromium asks for English; the page follows the chat
            await tablet.goto(url)
            await tablet.fill("#name", "Anna Holder")
            await tablet.locator("button[type=submit]").click()
            already = words(
                lang,
                "This {provider} account already has an account here. Confirm links this "
                "Telegram account to it as well, and its other Telegram accounts will be told.",
            ).format(provider="Dev ID")
            await expect(tablet.get_by_text(already)).to_be_visible()
            await screenshot(tablet, f"notices-{lang}-consent-joins-existing.png")
            await tablet.get_by_role("button", name=words(lang, "Confirm"), exact=True).click()

            linked = "Another Telegram account was just linked to your account: {who}."
            await first.wait_for(words(lang, linked).format(who=NAMES[lang] + " 2"))
    finally:
        await phone.close()

    chat = await chromium("phone")
    await chat.goto(f"{stack.url}/chat?person={first.id}")
    unlink = chat.get_by_role("button", name=words(lang, "Unlink this Telegram account"))
    await expect(unlink).to_be_visible()
    await screenshot(chat, f"notices-{lang}-second-telegram.png")

    other = await chromium("phone")
    await other.goto(f"{stack.url}/chat?person={second.id}")
    joined = words(
        lang,
        "This social account already had an account here, so this Telegram account is now "
        "linked to it too. Its other Telegram accounts were told.",
    )
    await expect(other.get_by_text(joined)).to_be_visible()
    await screenshot(other, f"notices-{lang}-joined.png")

    await unlink.click()
    done = words(lang, "Done: that Telegram account is no longer linked to your account.")
    await expect(chat.get_by_text(done)).to_be_visible()
    await screenshot(chat, f"notices-{lang}-unlinked.png")


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_release_notice_on_the_chat_page(
    stack: SandboxStack,
    chromium: Any,  # noqa: F811
    lang: str,
) -> None:
    async with Sandbox(stack.url) as sandbox:
        anna, _boris = await freed(sandbox, stack, lang)
        told = moved(lang, "email", "a***@example.com", "a***@example.com")
        await anna.wait_for(told)

    chat = await chromium("phone")
    await chat.goto(f"{stack.url}/chat?person={anna.id}")
    await expect(chat.get_by_text(told)).to_be_visible()
    await screenshot(chat, f"notices-{lang}-address-moved.png")

    mailbox = await chromium("desktop")
    await mailbox.goto(f"{stack.url}/mailbox")
    subject = words(lang, "This address was moved to another account")
    await expect(mailbox.get_by_text(subject).first).to_be_visible()
    await mailbox.get_by_text(subject).first.click()
    await screenshot(mailbox, f"notices-{lang}-address-moved-letter.png")
