"""PRODUCT §1.5 in the chat: the address is another account's; use another, free it, support."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from core.i18n import translator
from sandbox.client import Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import answer_to_press, code_in, running_stack, sign_in
from tests.conversation.test_support_handoff import desk_agent

HOLDER_PASSWORD = "kettle under the violet moon"
MY_PASSWORD = "seven lanterns over a quiet harbour"
TAKEN = "anna@example.com"


async def can_sign_in(stack: SandboxStack, login: str, password: str) -> bool:
    """What the sign-in page does: POST /auth/login (PRODUCT §1.7)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            stack.url + "/auth/login", json={"login": login, "password": password}
        ) as answer,
    ):
        return answer.status == 200


def last_code(stack: SandboxStack, address: str) -> str:
    return code_in(stack.mailbox.letters(to=address)[0].text)  # newest first


async def bind_email(
    person: Person, stack: SandboxStack, address: str, password: str, *, pressed: bool = False
) -> None:
    """Bind by the code in the letter, creating the password on the way."""
    if not pressed:
        await person.press("Bind email")
    await person.wait_for("Send the email address")
    await person.send(address)
    await person.wait_for("Create a password")
    await person.send(password)
    await person.wait_for("I sent a letter")
    await person.send(last_code(stack, address))
    await person.wait_for("Email bound")


async def holder_and_me(sandbox: Sandbox, browser: Browser, stack: SandboxStack) -> Person:
    """Anna's account holds the address; Boris (another Dev ID subject) then asks for it."""
    anna = await sandbox.person("Anna", language_code="en")
    await sign_in(anna, browser, name="Anna Holder")
    await bind_email(anna, stack, TAKEN, HOLDER_PASSWORD)
    boris = await sandbox.person("Boris", language_code="en")
    other_browser = Browser()
    try:
        await sign_in(boris, other_browser, name="Boris Other", email="boris@example.net")
    finally:
        await other_browser.close()
    await boris.press("Bind email")
    await boris.wait_for("Send the email address")
    await boris.send(TAKEN)
    return boris


async def freeing(sandbox: Sandbox, browser: Browser, stack: SandboxStack) -> Person:
    """Boris has seen "already exists", tapped "It is mine, free it" and is at step 1."""
    boris = await holder_and_me(sandbox, browser, stack)
    await boris.wait_for("already exists")
    await boris.press("It is mine, free it")
    await boris.wait_for("Step 2 of 5")
    return boris


async def test_a_taken_email_says_so_and_reveals_nothing_about_the_other_account(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    boris = await holder_and_me(sandbox, browser, stack)

    said = await boris.wait_for("A user with this email already exists")

    assert "Anna" not in (said.text or "")
    assert said.button_texts[:3] == ["Use another email", "It is mine, free it", "Contact support"]


async def test_another_email_goes_back_to_the_first_step(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    boris = await holder_and_me(sandbox, browser, stack)
    await boris.wait_for("already exists")

    await boris.press("Use another email")
    await boris.wait_for("Send the email address")
    await boris.send("boris@example.org")

    await boris.wait_for("Create a password")


async def test_freeing_by_code_moves_the_address_only_after_both_confirmations(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    boris = await freeing(sandbox, browser, stack)
    await boris.send(last_code(stack, TAKEN))
    await boris.wait_for("Step 3 of 5")
    await boris.send("anna.new@example.com")
    await boris.wait_for("Step 4 of 5")

    assert await can_sign_in(stack, TAKEN, HOLDER_PASSWORD)  # nothing released yet
    assert not await can_sign_in(stack, "anna.new@example.com", HOLDER_PASSWORD)

    await boris.send(last_code(stack, "anna.new@example.com"))
    await boris.wait_for("Create a password")
    typed = await boris.send(MY_PASSWORD)
    done = await boris.wait_for("Email bound")

    assert "You can now sign in with anna@example.com" in (done.text or "")
    assert next(m for m in await boris.messages() if m.message_id == typed).deleted
    assert await can_sign_in(stack, "anna.new@example.com", HOLDER_PASSWORD)
    assert await can_sign_in(stack, TAKEN, MY_PASSWORD)
    assert not await can_sign_in(stack, TAKEN, HOLDER_PASSWORD)


async def test_the_other_accounts_password_proves_control_and_is_deleted(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    boris = await freeing(sandbox, browser, stack)

    wrong = await boris.send("not the right password at all")
    await boris.wait_for("That password does not match")
    typed = await boris.send(HOLDER_PASSWORD)
    await boris.wait_for("Done, the other account is yours")

    deleted = {m.message_id for m in await boris.messages() if m.deleted}
    assert {wrong, typed} <= deleted


async def test_a_wrong_code_at_the_proof_shows_attempts_left(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    boris = await freeing(sandbox, browser, stack)
    right = last_code(stack, TAKEN)

    await boris.send("000000" if right != "000000" else "111111")

    await boris.wait_for("attempts left")


async def test_contact_support_is_offered(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    boris = await holder_and_me(sandbox, browser, stack)
    await boris.wait_for("already exists")

    await boris.press("Contact support")

    reply = await boris.wait_for(lambda m: "support" in (m.text or "").lower() and m.from_bot)
    assert "Something went wrong" not in (reply.text or "")


HANDED_OVER = (
    "I have passed our conversation to a person from support. They will answer here. "
    "Everything you write now goes to them; do not send codes or passwords.\n\n"
    "Send /end to go back to where you were."
)
ASKS_AGAIN = "Looks like something is not working. Would you like to write to support?"


def words(lang: str, message: str) -> str:
    """What the person reads in their language: the catalog's text, without the markup."""
    return re.sub(r"<[^>]+>", "", translator(lang).gettext(message))


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_contact_support_opens_the_conversation_without_asking_again(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, lang: str
) -> None:
    anna = await sandbox.person("Anna", language_code="en")
    await sign_in(anna, browser, name="Anna Holder")
    await bind_email(anna, stack, TAKEN, HOLDER_PASSWORD)
    boris = await sandbox.person("Boris", language_code=lang)
    other_browser = Browser()
    try:
        await boris.start()
        sign_in_button = words(lang, "Sign in with {provider}").format(provider="Dev ID")
        await boris.wait_for(lambda m: sign_in_button in m.button_texts)
        url = await boris.press(sign_in_button)
        assert url is not None
        await other_browser.open(url)
        await other_browser.submit(name="Boris Other", email="", email_verified=False)
        await other_browser.submit(button="confirm")
        await boris.wait_for(words(lang, "<b>Your account</b>"))
    finally:
        await other_browser.close()
    await boris.press(words(lang, "Bind email"))
    await boris.wait_for(words(lang, "Send the email address you want to sign in with."))
    await boris.send(TAKEN)
    await boris.wait_for(
        words(lang, "A user with this email already exists: {email}.").format(email=TAKEN)
    )

    await boris.press(words(lang, "Contact support"))

    await boris.wait_for(words(lang, HANDED_OVER))
    await boris.settled()
    assert not [m for m in await boris.messages() if words(lang, ASKS_AGAIN) in (m.text or "")]
    agent = await desk_agent(sandbox, stack)
    card = await agent.wait_for(f"Telegram id {boris.id}")
    assert "Reason: the address is taken by another account" in (card.text or "")


async def test_back_drops_the_attempt_and_offers_the_choices_again(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    boris = await freeing(sandbox, browser, stack)
    code = last_code(stack, TAKEN)

    await boris.press("« Back")
    await boris.wait_for("already exists")
    await boris.send(code)

    await boris.wait_for("choose one of the buttons")
    assert await can_sign_in(stack, TAKEN, HOLDER_PASSWORD)


async def test_unexpected_input_and_cancel_at_each_step(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    boris = await holder_and_me(sandbox, browser, stack)
    steps = [
        ("already exists", "choose one of the buttons"),
        ("Step 2 of 5", "the other account's password"),
        ("Step 3 of 5", "the other account's new address"),
        ("Step 4 of 5", "the code sent to the new address"),
        ("Create a password", "waiting for a password"),
    ]
    for shown, hint in steps:
        await boris.wait_for(shown)
        await boris.send_sticker()
        await boris.wait_for(hint)
        sent = await boris.send("hello")
        await boris.edit(sent, "hello again")
        await boris.wait_for("edited messages")
        await advance(boris, stack, shown)
    await boris.send("/cancel")
    await boris.wait_for("Your account")
    assert await can_sign_in(stack, "anna.new@example.com", HOLDER_PASSWORD)


async def advance(boris: Person, stack: SandboxStack, shown: str) -> None:
    if shown == "already exists":
        await boris.press("It is mine, free it")
    elif shown == "Step 2 of 5":
        await boris.send(last_code(stack, TAKEN))
    elif shown == "Step 3 of 5":
        await boris.send("anna.new@example.com")
    elif shown == "Step 4 of 5":
        await boris.send(last_code(stack, "anna.new@example.com"))


async def test_cancel_at_the_proof_returns_to_the_card(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    boris = await freeing(sandbox, browser, stack)

    await boris.send("/cancel")

    card = await boris.wait_for("Your account")
    assert "Cancelled" in (card.text or "")


@pytest.fixture
async def quick(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[SandboxStack, Sandbox]]:
    """A stack whose first resend cooldown is one second, on the test's clock."""
    async with (
        running_stack("sqlite+memory", tmp_path / "quick", resend_cooldown=1, clock=clock) as stack,
        Sandbox(stack.url) as client,
    ):
        yield stack, client


async def resend_after_the_cooldown(
    boris: Person, shown: str, stack: SandboxStack, clock: FakeClock
) -> None:
    """Too soon: said on the button, nothing sent; then the same message is edited."""
    await boris.press("Send the code again")
    assert "A new code can be sent in" in (await answer_to_press(boris))["text"]
    # The quick stack's one-second cooldown passes; the next tap is no double tap either.
    clock.advance(seconds=max(1.0, stack.services.settings.double_tap_window))
    before = await boris.last_message()
    await boris.press("Send the code again")
    edited = await boris.wait_for(f"I sent a new code to {shown}")
    assert before is not None and edited.message_id == before.message_id


async def test_both_codes_can_be_sent_again_after_the_cooldown(
    quick: tuple[SandboxStack, Sandbox], browser: Browser, clock: FakeClock
) -> None:
    stack, sandbox = quick
    boris = await freeing(sandbox, browser, stack)

    await resend_after_the_cooldown(boris, TAKEN, stack, clock)
    await boris.send(last_code(stack, TAKEN))
    await boris.wait_for("Step 3 of 5")
    await boris.send("anna.new@example.com")
    await boris.wait_for("Step 4 of 5")
    await resend_after_the_cooldown(boris, "anna.new@example.com", stack, clock)
    await boris.send(last_code(stack, "anna.new@example.com"))

    await boris.wait_for("Create a password")
    await boris.settled()
    assert len(stack.mailbox.letters(to="anna.new@example.com")) == 2


async def test_an_account_with_a_password_is_done_after_three_steps(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    boris = await holder_and_me(sandbox, browser, stack)
    await boris.wait_for("already exists")
    await boris.press("Use another email")
    await bind_email(boris, stack, "boris@example.org", MY_PASSWORD, pressed=True)
    await boris.press("Change email")
    await boris.wait_for("Send the email address")
    await boris.send(TAKEN)
    await boris.wait_for("already exists")

    await boris.press("It is mine, free it")
    await boris.wait_for("Step 2 of 4")
    await boris.send(HOLDER_PASSWORD)
    await boris.wait_for("Step 3 of 4")
    await boris.send("anna.new@example.com")
    await boris.wait_for("Step 4 of 4")
    await boris.send(last_code(stack, "anna.new@example.com"))
    await boris.wait_for("Email bound. You can now sign in with anna@example.com")

    assert await can_sign_in(stack, TAKEN, MY_PASSWORD)
    assert await can_sign_in(stack, "anna.new@example.com", HOLDER_PASSWORD)


async def test_a_taken_phone_is_freed_by_sms_codes(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    anna = await sandbox.person("Anna", language_code="en")
    await sign_in(anna, browser, name="Anna Holder")
    await anna.press("Bind phone")
    await anna.wait_for("Step 1 of 3")
    await anna.send("+44 7911 123456")
    await anna.wait_for("I sent a 6-digit code")
    await anna.send(code_in(stack.outbox.messages[-1].text))
    await anna.wait_for("Step 3 of 3")
    await anna.send(HOLDER_PASSWORD)
    await anna.wait_for("Phone bound")
    boris = await sandbox.person("Boris", language_code="en")
    other_browser = Browser()
    try:
        await sign_in(boris, other_browser, name="Boris Other")
    finally:
        await other_browser.close()

    await boris.press("Bind phone")
    await boris.wait_for("Step 1 of 3")
    await boris.send("+44 7911 123456")
    await boris.wait_for("A user with this phone number already exists")
    await boris.press("It is mine, free it")
    await boris.wait_for("Step 2 of 5")
    await boris.send(code_in(stack.outbox.messages[-1].text))
    await boris.wait_for("send a new phone number")
    await boris.send("+44 7911 123999")
    await boris.wait_for("I sent a code to +44 7911 123999")
    assert await can_sign_in(stack, "+447911123456", HOLDER_PASSWORD)
    await boris.send(code_in(stack.outbox.messages[-1].text))
    await boris.wait_for("Create a password")
    await boris.send(MY_PASSWORD)
    await boris.wait_for("Phone bound. You can now sign in with +44 7911 123456")

    assert await can_sign_in(stack, "+447911123999", HOLDER_PASSWORD)
    assert await can_sign_in(stack, "+447911123456", MY_PASSWORD)
