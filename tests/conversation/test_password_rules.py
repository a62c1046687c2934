"""PRODUCT §1.6: one rule set on both ways in — typed in the chat (and deleted), or on the secure
page — each rule refused with its reason, and a good password accepted either way."""

from __future__ import annotations

import pytest

from sandbox.client import Person, Sandbox
from tests.conversation.browser import Browser
from tests.conversation.conftest import sign_in

RULES = [
    ("short1", "Too short: at least 8 characters.", "at least 8 characters"),
    ("x" * 257, "Too long: at most 256 characters.", "at most 256 characters"),
    ("password123", "most common", "too common"),
    ("ivan.petrov@example.com", "must not be your name, email or phone", "Do not use your name"),
]


async def at_the_password_step(sandbox: Sandbox, browser: Browser) -> Person:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser, name="Ivan Petrov")
    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")
    await ivan.send("ivan.petrov@example.com")
    await ivan.wait_for("Create a password")
    return ivan


@pytest.mark.parametrize(("password", "in_chat", "on_page"), RULES)
async def test_a_weak_password_typed_in_the_chat_is_deleted_and_refused(
    sandbox: Sandbox, browser: Browser, password: str, in_chat: str, on_page: str
) -> None:
    ivan = await at_the_password_step(sandbox, browser)

    typed = await ivan.send(password)
    reply = await ivan.wait_for(in_chat)

    assert "send another password" in reply.text
    assert next(m for m in await ivan.messages() if m.message_id == typed).deleted
    await ivan.send("kettle under the violet moon")
    await ivan.wait_for("I sent a letter")


@pytest.mark.parametrize(("password", "in_chat", "on_page"), RULES)
async def test_a_weak_password_on_the_secure_page_is_refused_and_the_link_still_works(
    sandbox: Sandbox, browser: Browser, password: str, in_chat: str, on_page: str
) -> None:
    ivan = await at_the_password_step(sandbox, browser)
    url = await ivan.press("🔒 Create password on a secure page")
    assert url is not None

    await browser.open(url)
    refused = await browser.submit(password=password, repeat=password)
    assert on_page in refused.text
    saved = await browser.submit(
        password="kettle under the violet moon", repeat="kettle under the violet moon"
    )

    assert "Password saved" in saved.text
    await ivan.wait_for("I sent a letter")
