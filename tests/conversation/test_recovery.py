"""PRODUCT §1.7 in the chat: "Forgot password?", a code to a bound address, then a new password."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from core.domain.models import AddressKind
from sandbox.client import Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import code_in, running_stack, sign_in
from tests.conversation.test_address_taken import bind_email, can_sign_in, last_code

OLD = "kettle under the violet moon"
NEW = "seven lanterns over a quiet harbour"
EMAIL = "ivan@example.com"
PHONE = "+79123456789"


async def with_email(sandbox: Sandbox, browser: Browser, stack: SandboxStack) -> Person:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    await bind_email(ivan, stack, EMAIL, OLD)
    return ivan


async def waiting_for_code(ivan: Person) -> None:
    await ivan.press("Forgot password?")
    await ivan.wait_for("I sent a recovery code to i***@example.com")


async def test_recovery_by_email_code_sets_a_password_that_signs_in(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await with_email(sandbox, browser, stack)
    await waiting_for_code(ivan)

    await ivan.send(last_code(stack, EMAIL))
    await ivan.wait_for("Now send the new password")
    typed = await ivan.send(NEW)
    done = await ivan.wait_for("Password changed")

    assert "Your account" in (done.text or "")
    assert next(m for m in await ivan.messages() if m.message_id == typed).deleted
    assert await can_sign_in(stack, EMAIL, NEW)
    assert not await can_sign_in(stack, EMAIL, OLD)


async def test_a_wrong_recovery_code_shows_attempts_left(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await with_email(sandbox, browser, stack)
    await waiting_for_code(ivan)
    right = last_code(stack, EMAIL)

    await ivan.send("000000" if right != "000000" else "111111")

    await ivan.wait_for("Wrong code. 4 attempts left.")


async def test_a_weak_new_password_is_refused_and_another_asked(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await with_email(sandbox, browser, stack)
    await waiting_for_code(ivan)
    await ivan.send(last_code(stack, EMAIL))
    await ivan.wait_for("Now send the new password")

    await ivan.send("short")
    await ivan.wait_for("Please send another password")
    await ivan.send(NEW)
    await ivan.wait_for("Password changed")

    assert await can_sign_in(stack, EMAIL, NEW)


async def test_with_an_email_and_a_phone_the_person_chooses_where_the_code_goes(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await with_email(sandbox, browser, stack)
    account = await stack.services.account.account_for(ivan.id)
    assert account is not None
    async with stack.services.kit.unit() as uow:
        await uow.bindings.confirm(account, AddressKind.PHONE, PHONE, datetime.now(UTC))
        await uow.commit()

    await ivan.send("/recover")
    choice = await ivan.wait_for("Where should I send the recovery code?")
    assert "Phone +7 *** ***-67-89" in choice.button_texts
    await ivan.press("Phone +7 *** ***-67-89")
    await ivan.wait_for("I sent a recovery code to +7")
    await ivan.send(code_in(stack.outbox.messages[-1].text))
    await ivan.wait_for("Now send the new password")
    await ivan.send(NEW)
    await ivan.wait_for("Password changed")

    assert await can_sign_in(stack, PHONE, NEW)


async def test_unexpected_input_and_cancel_at_each_step(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await with_email(sandbox, browser, stack)
    await waiting_for_code(ivan)
    for hint in ("waiting for the recovery code", "waiting for the new password"):
        await ivan.send_sticker()
        await ivan.wait_for(hint)
        await ivan.send_photo()
        await ivan.wait_for(hint)
        first = next(m for m in await ivan.messages() if not m.from_bot)
        await ivan.edit(first, "hello")
        await ivan.wait_for("edited messages")
        if hint.endswith("code"):
            await ivan.send(last_code(stack, EMAIL))
            await ivan.wait_for("Now send the new password")
    await ivan.send("/cancel")
    card = await ivan.wait_for("Your account")

    assert "Cancelled" in (card.text or "")
    assert await can_sign_in(stack, EMAIL, OLD)


async def test_cancel_while_waiting_for_the_code_returns_to_the_card(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await with_email(sandbox, browser, stack)
    await waiting_for_code(ivan)

    await ivan.send("/cancel")

    assert "Cancelled" in ((await ivan.wait_for("Your account")).text or "")


async def test_an_expired_code_offers_a_new_one_that_works(
    tmp_path: Path, browser: Browser, clock: FakeClock
) -> None:
    overrides = {"email_code_ttl": 2, "resend_cooldown": 1}
    async with (
        running_stack("sqlite+memory", tmp_path / "quick", clock=clock, **overrides) as stack,
        Sandbox(stack.url) as sandbox,
    ):
        ivan = await with_email(sandbox, browser, stack)
        await waiting_for_code(ivan)
        clock.advance(seconds=2)  # the code lives two seconds on this stack

        await ivan.send(last_code(stack, EMAIL))
        expired = await ivan.wait_for("This code has expired")
        await ivan.press("Send the code again", expired.message_id)
        await ivan.wait_for("I sent a new code to i***@example.com")
        await ivan.send(last_code(stack, EMAIL))
        await ivan.wait_for("Now send the new password")
