"""PRODUCT §1.1 and §1.3 through the sandbox, as a person: chat, browser, mailbox."""

from __future__ import annotations

from sandbox.client import Sandbox
from sandbox.stack import SandboxStack
from tests.conversation.browser import Browser
from tests.conversation.conftest import code_in, sign_in, sign_in_at_provider


async def test_start_greets_and_offers_a_sign_in_link(sandbox: Sandbox) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")

    await ivan.start()
    greeting = await ivan.wait_for("Hello, Ivan!")

    assert "Sign in with Dev ID" in greeting.button_texts


async def test_signing_in_in_the_browser_shows_the_card_in_the_chat(
    sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")

    await sign_in(ivan, browser, name="Ivan Petrov")

    card = await ivan.last_message()
    assert card is not None
    assert "Name: Ivan Petrov" in card.text
    assert "Bind email" in card.button_texts


async def test_binding_an_email_by_the_code_from_the_letter(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)

    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")
    await ivan.send("ivan@example.com")
    await ivan.wait_for("Create a password")
    typed = await ivan.send("kettle under the violet moon")
    await ivan.wait_for("I sent a letter to ivan@example.com")

    messages = await ivan.messages()
    assert next(m for m in messages if m.message_id == typed).deleted
    letter = stack.mailbox.letters(to="ivan@example.com")[0]
    await ivan.send(code_in(letter.text))
    done = await ivan.wait_for("Email bound")

    assert "ivan@example.com" in done.text


async def test_a_second_click_on_a_used_link_shows_a_clear_page_and_a_fresh_link(
    sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    url = await sign_in_at_provider(ivan, browser, name="Ivan")
    await ivan.wait_for("Your account")

    again = await browser.open(url)

    assert "already used or has expired" in again.text
    fresh = await ivan.wait_for("Here is a fresh sign-in link")
    assert "Sign in with Dev ID" in fresh.button_texts
