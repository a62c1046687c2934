"""Support is offered once per step after repeated trouble, again only for a new kind of
trouble; a cap's refusal carries the offer itself and is not followed by a second one
(PRODUCT §1.8), in English and in Russian."""

from __future__ import annotations

import gettext
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from sandbox.client import Person, Sandbox
from sandbox.client.messages import ChatMessage
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import running_stack

LOCALES = Path(__file__).resolve().parents[2] / "locales"
LANGUAGES = ["en", "ru"]
PASSWORD = "kettle under the violet moon"


def words(language: str) -> Callable[[str], str]:
    """What the bot says for a message id in `language`, tags dropped (as the chat shows it)."""
    catalog = gettext.translation("messages", LOCALES, [language])
    return lambda msgid: re.sub(r"<[^>]+>", "", catalog.gettext(msgid))


async def signed_in(sandbox: Sandbox, browser: Browser, language: str) -> Person:
    t = words(language)
    ivan = await sandbox.person("Ivan", language_code=language)
    await ivan.start()
    sign_in = t("Sign in with {provider}").format(provider="Dev ID")
    await ivan.wait_for(has_button(sign_in))
    url = await ivan.press(sign_in)
    assert url is not None
    await browser.open(url)
    await browser.submit(name="Ivan Petrov", email="", email_verified=False)
    await browser.submit(button="confirm")
    await ivan.wait_for(t("<b>Your account</b>"))
    return ivan


def has_button(label: str) -> Callable[[ChatMessage], bool]:
    return lambda message: label in message.button_texts


async def offers(ivan: Person, t: Callable[[str], str]) -> list[ChatMessage]:
    """Every message so far that offers support, once everything sent was answered."""
    await ivan.settled()
    return [m for m in await ivan.messages() if t("Yes, write to support") in m.button_texts]


async def to_sms_code(ivan: Person, t: Callable[[str], str]) -> ChatMessage:
    """Bind phone, a number: the message saying the SMS code went out."""
    await ivan.press(t("Bind phone"))
    number = "Send the mobile number you want to sign in with, for example +7 912 345-67-89, "
    await ivan.wait_for(t(number + "or share your Telegram number with the button below."))
    await ivan.send("+44 7911 123456")
    return await ivan.wait_for(has_button(t("Send the code again")))


@pytest.mark.parametrize("language", LANGUAGES)
async def test_wrong_codes_after_the_offer_are_not_met_with_it_again(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, language: str
) -> None:
    t = words(language)
    ivan = await signed_in(sandbox, browser, language)
    await ivan.press(t("Bind email"))
    await ivan.wait_for(t("Send the email address you want to sign in with."))
    await ivan.send("ivan@example.com")
    await ivan.wait_for(has_button(t("🔒 Create password on a secure page")))
    await ivan.send(PASSWORD)
    letter = await ivan.wait_for(has_button(t("The code is not arriving")))

    for wrong in ("000001", "000002", "000003"):
        await ivan.send(wrong)
    await ivan.wait_for(has_button(t("Yes, write to support")))
    await ivan.press(t("No, thanks"))
    await ivan.wait_for(t("All right. Let us go on."))
    await ivan.send("000004")  # the same trouble again: the answer, and no second offer
    assert len(await offers(ivan, t)) == 1

    await ivan.press(t("The code is not arriving"), letter.message_id)  # a new kind of trouble
    await ivan.wait_for(has_button(t("Yes, write to support")))
    assert len(await offers(ivan, t)) == 2
    await ivan.press(t("The code is not arriving"), letter.message_id)
    assert len(await offers(ivan, t)) == 2


@pytest.fixture
async def capped(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SandboxStack]:
    """Two SMS per person, no cooldown: the third request meets the cap."""
    folder = tmp_path / "sandbox"
    overrides = {"sms_limit_per_telegram_user": 2, "resend_cooldown": 0}
    async with running_stack("sqlite+memory", folder, clock=clock, **overrides) as stack:
        yield stack


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_cap_refusal_carries_the_offer_once(
    capped: SandboxStack, browser: Browser, clock: FakeClock, language: str
) -> None:
    t = words(language)
    async with Sandbox(capped.url) as sandbox:
        ivan = await signed_in(sandbox, browser, language)
        sent = await to_sms_code(ivan, t)
        await ivan.press(t("Send the code again"), sent.message_id)
        await ivan.settled()
        assert len(capped.outbox.messages) == 2

        window = capped.services.settings.double_tap_window
        clock.advance(seconds=window)  # he reads, then taps again: the cap
        await ivan.press(t("Send the code again"), sent.message_id)
        refusal = await ivan.wait_for(lambda m: m.message_id > sent.message_id)
        assert t("Yes, write to support") in refusal.button_texts  # one message, not two
        assert len(await offers(ivan, t)) == 1

        clock.advance(seconds=window)
        await ivan.press(t("Send the code again"), sent.message_id)
        await ivan.settled()
        assert len(await offers(ivan, t)) == 1
        assert len(capped.outbox.messages) == 2
