"""PRODUCT §1.7 in the chat: unbind an email or a phone from the card, never the last way in."""

from __future__ import annotations

from sqlalchemy import text

from sandbox.client import Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conversation.browser import Browser
from tests.conversation.conftest import sign_in
from tests.conversation.test_address_taken import bind_email, can_sign_in

PASSWORD = "kettle under the violet moon"


async def with_email(sandbox: Sandbox, browser: Browser, stack: SandboxStack) -> Person:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    await bind_email(ivan, stack, "ivan@example.com", PASSWORD)
    return ivan


async def forget_social_sign_in(stack: SandboxStack, ivan: Person) -> None:
    """As if the operator removed the social identity: the email is the only way in left."""
    account = await stack.services.account.account_for(ivan.id)
    async with stack.services.kit.unit() as uow:
        connection = uow._conn  # type: ignore[attr-defined]
        delete = text("DELETE FROM social_identities WHERE account_id = :a")
        await connection.execute(delete, {"a": account})
        await uow.commit()


async def test_unbinding_asks_first_and_then_the_email_no_longer_signs_in(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await with_email(sandbox, browser, stack)

    await ivan.press("Unbind email")
    question = await ivan.wait_for("Unbind i***@example.com?")
    assert await can_sign_in(stack, "ivan@example.com", PASSWORD)  # not before the yes
    await ivan.press("Yes, unbind", question.message_id)
    card = await ivan.wait_for("Email unbound")

    assert "Email: not bound" in (card.text or "")
    assert not await can_sign_in(stack, "ivan@example.com", PASSWORD)


async def test_the_last_way_in_cannot_be_unbound(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await with_email(sandbox, browser, stack)
    await forget_social_sign_in(stack, ivan)

    await ivan.press("Unbind email")
    await ivan.wait_for("Unbind i***@example.com?")
    await ivan.press("Yes, unbind")
    refused = await ivan.wait_for("last way to sign in")

    assert "Email: i***@example.com ✓" in (refused.text or "")
    assert await can_sign_in(stack, "ivan@example.com", PASSWORD)


async def test_back_keeps_the_email(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await with_email(sandbox, browser, stack)

    await ivan.press("Unbind email")
    await ivan.wait_for("Unbind i***@example.com?")
    await ivan.press("« Back")
    card = await ivan.wait_for("Your account")

    assert "Email: i***@example.com ✓" in (card.text or "")


async def test_unexpected_input_and_cancel_while_asking(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await with_email(sandbox, browser, stack)
    await ivan.press("Unbind email")
    await ivan.wait_for("Unbind i***@example.com?")

    await ivan.send_sticker()
    await ivan.wait_for("choose one of the buttons")
    sent = await ivan.send("yes")
    await ivan.edit(sent, "yes please")
    await ivan.wait_for("edited messages")
    await ivan.send("/cancel")
    card = await ivan.wait_for("Your account")

    assert "Cancelled" in (card.text or "")
    assert await can_sign_in(stack, "ivan@example.com", PASSWORD)
