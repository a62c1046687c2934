"""PRODUCT §1.4 through the sandbox, as a person: the number, the SMS code, the password."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import Update

from core.flows.bind_phone import BindPhoneFlow
from sandbox.client import Person, Sandbox
from sandbox.client.messages import ChatMessage
from sandbox.stack import SandboxStack, start_sandbox
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import answer_to_press, code_in, sign_in, sign_in_at_provider

Started = tuple[SandboxStack, Sandbox]
StackFactory = Callable[..., Awaitable[Started]]


@pytest.fixture
async def stack_with(tmp_path: Path, clock: FakeClock) -> AsyncIterator[StackFactory]:
    """A stack with smaller limits (Settings overrides), for cooldowns and caps, on `clock`."""
    async with AsyncExitStack() as exits:

        async def start(**overrides: Any) -> Started:
            running = await start_sandbox(
                "127.0.0.1", 0, tmp_path / "sandbox", flood_limits=False, clock=clock, **overrides
            )
            exits.push_async_callback(running.stop)
            client = await exits.enter_async_context(Sandbox(running.url))
            return running, client

        yield start


async def signed_in(sandbox: Sandbox, browser: Browser, **person: Any) -> Person:
    ivan = await sandbox.person("Ivan", **{"language_code": "en", **person})
    await sign_in(ivan, browser)
    return ivan


async def to_code(ivan: Person, number: str = "+44 7911 123456") -> int:
    """Bind phone, type the number, wait for "code sent": that message's id."""
    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of 3")
    await ivan.send(number)
    return (await ivan.wait_for("I sent a 6-digit code")).message_id


def last_code(stack: SandboxStack) -> str:
    return code_in(stack.outbox.messages[-1].text)


async def test_a_typed_british_number_gets_a_code_and_then_a_password(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)

    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of 3")
    assert "📱 Share my Telegram number" in str(await ivan.reply_keyboard())
    await ivan.send("+44 7911 123456")
    sent = await ivan.wait_for("I sent a 6-digit code to +44 7911 123456")

    assert "Step 2 of 3" in (sent.text or "")
    assert await ivan.reply_keyboard() is None
    assert [sms.phone for sms in stack.outbox.messages] == ["+447911123456"]
    await ivan.send(last_code(stack))
    await ivan.wait_for("Step 3 of 3")
    typed = await ivan.send("kettle under the violet moon")
    done = await ivan.wait_for("Phone bound")

    assert "You can now sign in with +44 7911 123456 and your password" in (done.text or "")
    assert "Your account" in (done.text or "")
    assert next(m for m in await ivan.messages() if m.message_id == typed).deleted


async def test_a_step_whose_remembered_data_was_lost_still_counts_its_steps(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    """The conversation's data can go while its step stays (an older release's state, a resumed
    update): the step counter is worked out again instead of failing the step."""
    ivan = await signed_in(sandbox, browser)
    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of 3")
    await ivan.settled()
    state = stack.dispatcher.fsm.get_context(stack.bot, ivan.id, ivan.id)
    await state.set_data({})

    await ivan.send("+44 7911 123456")

    sent = await ivan.wait_for("I sent a 6-digit code to +44 7911 123456")
    assert "Step 2 of 3" in (sent.text or "")


async def test_a_russian_number_typed_with_8_is_read_as_russian(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.send("/language")
    await ivan.wait_for(lambda m: "Русский" in m.button_texts)
    await ivan.press("Русский")
    await ivan.wait_for(lambda m: bool(m.buttons))  # the card again, in Russian

    await ivan.start("bind_phone")
    await ivan.wait_for(lambda m: True)
    assert "request_contact" in str(await ivan.reply_keyboard())
    await ivan.send("8 912 345-67-89")
    await ivan.wait_for(lambda m: "+7 912 345-67-89" in (m.text or "") and bool(m.buttons))

    assert [sms.phone for sms in stack.outbox.messages] == ["+79123456789"]


async def test_ones_own_shared_contact_gets_a_code(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser, phone_number="+447912345678")

    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of 3")
    await ivan.press("📱 Share my Telegram number")
    await ivan.wait_for("I sent a 6-digit code to +44 7912 345678")

    assert [sms.phone for sms in stack.outbox.messages] == ["+447912345678"]


async def test_ones_own_contact_skips_the_sms_when_the_operator_allows(
    stack_with: StackFactory, browser: Browser
) -> None:
    stack, sandbox = await stack_with(skip_sms_for_own_contact=True)
    ivan = await signed_in(sandbox, browser, phone_number="+447912345678")
    await ivan.send("/start bind_phone")
    await ivan.wait_for("Step 1 of 3")

    await ivan.press("📱 Share my Telegram number")
    await ivan.wait_for("Create a password")

    await ivan.settled()
    assert stack.outbox.messages == []


async def test_someone_elses_contact_is_refused(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of 3")

    await ivan.share_contact("+447911777777", "Maria")
    await ivan.wait_for("This is someone else's contact")

    await ivan.settled()
    assert stack.outbox.messages == []


async def test_a_landline_is_explained_and_asked_again(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of 3")

    await ivan.send("+44 20 7946 0000")
    reply = await ivan.wait_for("Please send the number again")

    assert "mobile" in (reply.text or "")
    await ivan.settled()
    assert stack.outbox.messages == []


async def test_wrong_code_shows_attempts_left(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    await to_code(ivan)

    wrong = "000000" if last_code(stack) != "000000" else "111111"
    await ivan.send(wrong)

    await ivan.wait_for("Wrong code. 4 attempts left.")


async def test_an_expired_code_offers_a_new_one(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, clock: FakeClock
) -> None:
    ivan = await signed_in(sandbox, browser)
    await to_code(ivan)
    code = last_code(stack)

    clock.advance(seconds=stack.services.settings.sms_code_ttl)
    await ivan.send(code)
    expired = await ivan.wait_for("This code has expired")
    await ivan.press("Send the code again", expired.message_id)
    await ivan.wait_for("I sent a new code to +44 7911 123456")
    await ivan.send(last_code(stack))

    await ivan.wait_for("Create a password")
    assert len(stack.outbox.messages) == 2


async def test_resend_too_soon_shows_the_seconds_and_sends_nothing(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    sent = await to_code(ivan)
    before = len(await ivan.messages())

    await ivan.press("Send the code again", sent)
    answer = await answer_to_press(ivan)
    await ivan.settled()

    assert "A new code can be sent in" in answer["text"]
    assert "second" in answer["text"]
    assert answer["show_alert"]
    assert len(await ivan.messages()) == before
    assert len(stack.outbox.messages) == 1


async def test_resend_after_the_cooldown_edits_the_same_message(
    stack_with: StackFactory, browser: Browser, clock: FakeClock
) -> None:
    stack, sandbox = await stack_with(resend_cooldown=1)
    ivan = await signed_in(sandbox, browser)
    sent = await to_code(ivan)
    before = len(await ivan.messages())

    clock.advance(seconds=1)  # the one-second cooldown of this stack
    await ivan.press("Send the code again", sent)
    edited = await ivan.wait_for("I sent a new code to +44 7911 123456")
    await ivan.settled()

    assert edited.message_id == sent
    assert "Next resend in 2 seconds" in (edited.text or "")
    assert len(await ivan.messages()) == before
    assert len(stack.outbox.messages) == 2
    await ivan.send(last_code(stack))
    await ivan.wait_for("Create a password")


async def test_the_daily_cap_says_so_and_offers_support(
    stack_with: StackFactory, browser: Browser, clock: FakeClock
) -> None:
    stack, sandbox = await stack_with(sms_limit_per_telegram_user=2, resend_cooldown=0)
    ivan = await signed_in(sandbox, browser)
    sent = await to_code(ivan)
    await ivan.press("Send the code again", sent)
    await ivan.wait_for("I sent a new code")

    clock.advance(seconds=stack.services.settings.double_tap_window)  # he reads, then taps again
    await ivan.press("Send the code again", sent)
    await ivan.wait_for("Too many codes in a row")

    await ivan.wait_for(support_offer)
    assert len(stack.outbox.messages) == 2


def support_offer(message: ChatMessage) -> bool:
    return "Yes, write to support" in message.button_texts


async def test_code_not_arriving_gives_tips_then_offers_support(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    sent = await to_code(ivan)

    await ivan.press("The code is not arriving", sent)
    tips = await ivan.wait_for("Check that the number is right: +44 7911 123456")
    assert "operators" in (tips.text or "")
    assert "You can ask for a new code in" in (tips.text or "")
    await ivan.press("The code is not arriving", tips.message_id)
    await ivan.wait_for("Check that the number is right")
    await ivan.send("000000" if last_code(stack) != "000000" else "111111")

    await ivan.wait_for(support_offer)


async def test_the_deep_link_leads_to_the_number_after_signing_in(
    sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in_at_provider(ivan, browser, "bind_phone", name="Ivan")

    await ivan.wait_for("Send the mobile number")
    assert "request_contact" in str(await ivan.reply_keyboard())


async def test_without_sms_the_deep_link_says_phones_are_not_available(
    sandbox: Sandbox, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    ivan = await signed_in(sandbox, browser)
    # An operator without an SMS gateway (the sandbox runner always has its outbox).
    monkeypatch.setattr(BindPhoneFlow, "available", property(lambda _flow: False))

    await ivan.start("bind_phone")
    reply = await ivan.wait_for("Binding a phone is not available here")

    assert "Bind phone" not in reply.button_texts
    assert "Bind email" in reply.button_texts


async def test_a_sticker_while_waiting_for_the_number_gets_the_hint(
    sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of 3")

    await ivan.send_sticker()

    await ivan.wait_for("I am waiting for a phone number")


async def test_a_photo_while_waiting_for_the_code_gets_the_hint(
    sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await signed_in(sandbox, browser)
    await to_code(ivan)

    await ivan.send_photo()

    await ivan.wait_for("I am waiting for the 6-digit code from the SMS")


async def test_an_edited_message_while_waiting_for_the_code_is_not_taken(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    await to_code(ivan)
    typed = await ivan.send("000000" if last_code(stack) != "000000" else "111111")
    await ivan.wait_for("Wrong code")

    await ivan.edit(typed, last_code(stack))

    await ivan.wait_for("I do not read edited messages")
    await ivan.send(last_code(stack))
    await ivan.wait_for("Create a password")


async def test_changing_the_number_asks_for_it_again(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    sent = await to_code(ivan)

    await ivan.press("Change the number", sent)
    await ivan.wait_for("Send the mobile number")

    assert "request_contact" in str(await ivan.reply_keyboard())


async def join_workspace(stack: SandboxStack, person: Person) -> None:
    """An operator's `accountbot workspace add-member`, done directly on the database."""
    found = await stack.services.account.person(person.id)
    assert found is not None
    async with stack.services.kit.unit() as uow:
        workspace = await uow.workspaces.create("portal", "Portal")
        await uow.workspaces.add_member(workspace.id, found[0], None, None)
        await uow.commit()


async def test_the_workspaces_option_is_off_until_toggled(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    await join_workspace(stack, ivan)
    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of 4")
    await ivan.send("+44 7911 123456")
    step = await ivan.wait_for("Step 2 of 4")

    assert "☐ Update the phone in all my workspaces" in step.button_texts
    await ivan.press("☐ Update the phone in all my workspaces")
    toggled = await ivan.wait_for(
        lambda m: "☑ Update the phone in all my workspaces" in m.button_texts
    )
    assert toggled.message_id == step.message_id
    await ivan.press("Get code »")
    await ivan.wait_for("Step 3 of 4")
    await ivan.send(last_code(stack))
    await ivan.wait_for("Step 4 of 4")

    found = await stack.services.account.person(ivan.id)
    assert found is not None
    async with stack.services.kit.unit() as uow:
        memberships = await uow.workspaces.memberships(found[0])
    assert [m.contact_phone for m in memberships] == ["+447911123456"]


@pytest.mark.parametrize("step", ["number", "workspaces", "code", "password"])
async def test_cancel_at_each_step_returns_to_the_card(
    step: str, sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    if step == "workspaces":
        await join_workspace(stack, ivan)
    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of")
    if step != "number":
        await ivan.send("+44 7911 123456")
        await ivan.wait_for("Step 2 of")
    if step == "password":
        await ivan.send(last_code(stack))
        await ivan.wait_for("Create a password")

    await ivan.send("/cancel")
    await ivan.wait_for("Cancelled.")
    await ivan.wait_for("Your account")

    assert await ivan.reply_keyboard() is None  # the number keyboard went away with the step
    await ivan.send("+44 7911 123456")
    await ivan.wait_for("Sorry, I did not understand")


async def test_the_same_update_delivered_twice_sends_one_sms(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of 3")
    update = Update.model_validate(
        {
            "update_id": 900_000_001,
            "message": {
                "message_id": 900_001,
                "date": int(time.time()),
                "chat": {"id": ivan.id, "type": "private", "first_name": "Ivan"},
                "from": {
                    "id": ivan.id,
                    "is_bot": False,
                    "first_name": "Ivan",
                    "language_code": "en",
                },
                "text": "+44 7911 123456",
            },
        },
        context={"bot": stack.bot},
    )

    await stack.dispatcher.feed_update(stack.bot, update)
    after_first = len(await ivan.messages())
    await stack.dispatcher.feed_update(stack.bot, update)

    assert len(stack.outbox.messages) == 1
    assert len(await ivan.messages()) == after_first


async def test_a_number_of_another_account_leads_to_already_exists(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    maria = await sandbox.person("Maria", language_code="en")
    await sign_in(maria, browser, name="Maria")
    await to_code(maria)
    await maria.send(last_code(stack))
    await maria.wait_for("Create a password")
    ivan = await sandbox.person("Ivan", language_code="en")
    other = Browser()  # Ivan signs in on his own device
    try:
        await sign_in(ivan, other, name="Ivan Petrov")
    finally:
        await other.close()

    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of 3")
    await ivan.send("+44 7911 123456")

    await ivan.wait_for("A user with this phone number already exists")
    await ivan.settled()
    assert await ivan.reply_keyboard() is None
    assert len(stack.outbox.messages) == 1


async def test_the_last_wrong_attempt_offers_a_new_code(
    stack_with: StackFactory, browser: Browser
) -> None:
    stack, sandbox = await stack_with(code_max_attempts=1, resend_cooldown=0)
    ivan = await signed_in(sandbox, browser)
    await to_code(ivan)
    first = last_code(stack)

    await ivan.send("000000" if first != "000000" else "111111")
    spent = await ivan.wait_for("that was the last attempt")
    await ivan.press("Send the code again", spent.message_id)
    await ivan.wait_for("I sent a new code")
    await ivan.send(last_code(stack))

    await ivan.wait_for("Create a password")


async def test_back_on_the_number_keyboard_returns_to_the_card_and_hides_it(
    sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of 3")

    await ivan.press("« Back")
    await ivan.wait_for("Your account")

    assert await ivan.reply_keyboard() is None


async def test_a_forwarded_number_is_not_taken_as_an_answer(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1 of 3")

    await ivan.forward("+44 7911 123456", from_name="Maria")

    await ivan.wait_for("I am waiting for a phone number")
    await ivan.settled()
    assert stack.outbox.messages == []
