"""PRODUCT §1.3 and §3 in the chat: every way an email gets bound, and every way it goes wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.client import Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import (
    answer_to_press,
    code_in,
    running_stack,
    sign_in,
    sign_in_at_provider,
)

PASSWORD = "kettle under the violet moon"


async def signed_in(sandbox: Sandbox, browser: Browser, **kwargs: object) -> Person:
    ivan = await sandbox.person("Ivan", language_code=str(kwargs.pop("language", "en")))
    await sign_in(ivan, browser, **kwargs)  # type: ignore[arg-type]
    return ivan


async def waiting_for_code(ivan: Person, address: str = "ivan@example.com") -> None:
    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")
    await ivan.send(address)
    await ivan.wait_for("Create a password")
    await ivan.send(PASSWORD)
    await ivan.wait_for("I sent a letter")


async def test_the_email_the_provider_verified_binds_with_one_tap(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser, email="ivan@example.com", verified=True)

    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")
    await ivan.press("Use ivan@example.com")
    await ivan.wait_for("Create a password")
    await ivan.send(PASSWORD)
    done = await ivan.wait_for("Email bound")
    await ivan.settled()

    assert "ivan@example.com" in done.text
    assert stack.mailbox.letters(to="ivan@example.com") == []


async def test_the_link_in_the_letter_confirms_only_after_pressing_confirm(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    await waiting_for_code(ivan)
    letter = stack.mailbox.letters(to="ivan@example.com")[0]
    link = next(word for word in letter.text.split() if "/email/confirm/" in word)

    page = await browser.open(link)
    assert "i***@example.com" in page.text
    await ivan.settled()  # opening the page alone told the chat nothing
    assert "Email bound" not in ((await ivan.last_message()) or ivan).text  # type: ignore[union-attr]

    await browser.submit()
    done = await ivan.wait_for("Email bound")
    assert "ivan@example.com" in done.text
    again = await browser.open(link)
    assert "already used or has expired" in again.text


async def test_a_bad_address_is_explained_and_asked_again(
    sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")

    await ivan.send("ivan@@example")
    reply = await ivan.wait_for("does not look like an email address")

    assert "send the address again" in reply.text
    await ivan.send("ivan@example.com")
    await ivan.wait_for("Create a password")


async def test_a_wrong_code_tells_how_many_attempts_are_left(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    await waiting_for_code(ivan)
    right = code_in(stack.mailbox.letters(to="ivan@example.com")[0].text)

    await ivan.send("000000" if right != "000000" else "111111")
    await ivan.wait_for("Wrong code. 4 attempts left.")
    await ivan.send(right)
    await ivan.wait_for("Email bound")


async def test_resend_too_soon_says_when_and_sends_nothing(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    await waiting_for_code(ivan)

    await ivan.press("Send the code again")
    answer = await answer_to_press(ivan)
    await ivan.settled()

    assert "A new code can be sent in" in answer["text"]
    assert len(stack.mailbox.letters(to="ivan@example.com")) == 1


async def test_resend_edits_the_same_message(
    sandbox_fast: Sandbox, browser: Browser, clock: FakeClock
) -> None:
    ivan = await signed_in(sandbox_fast, browser)
    await waiting_for_code(ivan)
    before = len(await ivan.messages())
    clock.advance(seconds=1)  # the one-second cooldown of this stack

    await ivan.press("Send the code again")
    edited = await ivan.wait_for("I sent a new letter")
    await ivan.settled()

    assert len(await ivan.messages()) == before
    assert "Next resend in 2 seconds" in edited.text


@pytest.mark.parametrize("stage", ["address", "password", "code"])
async def test_cancel_at_any_step_returns_to_the_card(
    sandbox: Sandbox, browser: Browser, stage: str
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")
    if stage != "address":
        await ivan.send("ivan@example.com")
        await ivan.wait_for("Create a password")
    if stage == "code":
        await ivan.send(PASSWORD)
        await ivan.wait_for("I sent a letter")

    await ivan.send("/cancel")
    reply = await ivan.wait_for("Cancelled.")

    assert "Your account" in reply.text


async def test_unexpected_input_gets_the_steps_hint(sandbox: Sandbox, browser: Browser) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")

    await ivan.send_sticker()
    await ivan.wait_for("I am waiting for an email address")
    await ivan.send_photo()
    await ivan.wait_for("I am waiting for an email address")
    sent = await ivan.send("ivan@example")
    await ivan.wait_for("does not look like")
    await ivan.edit(sent, "ivan@example.com")
    await ivan.wait_for("I do not read edited messages")
    await ivan.forward("ivan@example.com", from_name="Somebody")
    await ivan.wait_for("Forwarded messages are not read here")
    await ivan.send("/frobnicate")
    await ivan.wait_for("I do not know this command")


async def test_a_stale_or_forged_button_changes_nothing(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    await waiting_for_code(ivan)
    await ivan.send("/cancel")
    await ivan.wait_for("Cancelled.")

    await ivan.press(
        "Send the code again", message_id=_id_of(await ivan.messages(), "I sent a letter")
    )
    answer = await answer_to_press(ivan)
    await ivan.settled()

    assert "no longer active" in answer["text"]
    assert len(stack.mailbox.letters(to="ivan@example.com")) == 1


async def test_the_deep_link_leads_to_the_email_step_after_signing_in(
    sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in_at_provider(ivan, browser, "bind_email", name="Ivan")

    await ivan.wait_for("Send the email address")


async def test_switching_the_language_mid_flow_keeps_the_step(
    sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")

    await ivan.send("/language")
    await ivan.wait_for("Choose the language")
    await ivan.press("Русский")
    await ivan.wait_for("теперь я говорю по-русски")
    await ivan.send("ivan@example.com")

    await ivan.wait_for("Придумайте пароль")


async def test_a_russian_speaker_is_greeted_in_russian(sandbox: Sandbox) -> None:
    olga = await sandbox.person("Ольга", language_code="ru")

    await olga.start()
    greeting = await olga.wait_for("Здравствуйте, Ольга!")

    assert "Войти через Dev ID" in greeting.button_texts


async def test_a_restart_mid_flow_resumes_with_redis_storage(
    tmp_path: Path, browser: Browser
) -> None:
    async with running_stack("postgres+redis", tmp_path / "sandbox") as stack:
        async with Sandbox(stack.url) as sandbox:
            ivan = await signed_in(sandbox, browser)
            await waiting_for_code(ivan)
            await ivan.settled()  # a deploy between two messages, not in the middle of one

            await stack.restart_bot()
            await ivan.send(code_in(stack.mailbox.letters(to="ivan@example.com")[0].text))

            await ivan.wait_for("Email bound")


async def test_after_a_restart_on_memory_storage_a_code_gets_a_friendly_restart(
    tmp_path: Path, browser: Browser
) -> None:
    async with running_stack("sqlite+memory", tmp_path / "sandbox") as stack:
        async with Sandbox(stack.url) as sandbox:
            ivan = await signed_in(sandbox, browser)
            await waiting_for_code(ivan)
            await ivan.settled()  # a deploy between two messages, not in the middle of one

            await stack.restart_bot()
            await ivan.send(code_in(stack.mailbox.letters(to="ivan@example.com")[0].text))

            await ivan.wait_for("Let's start over")


def _id_of(messages: list, text: str) -> int:  # type: ignore[type-arg]
    return next(m.message_id for m in messages if text in m.text)


@pytest.fixture
async def sandbox_fast(tmp_path: Path, clock: FakeClock):  # type: ignore[no-untyped-def]
    folder = tmp_path / "fast"
    async with running_stack("sqlite+memory", folder, resend_cooldown=1, clock=clock) as stack:
        async with Sandbox(stack.url) as client:
            yield client
