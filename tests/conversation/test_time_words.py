"""Issue #12 in the chat, in Russian and English: every wait is said from one stored deadline,
read against the clock, in natural units, with its clock time (UTC) when it is long."""

from __future__ import annotations

import pytest

from sandbox.client import Sandbox
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import sign_in
from tests.conversation.test_address_taken import bind_email
from tests.conversation.test_bind_phone import StackFactory
from tests.conversation.test_bind_phone import stack_with as stack_with  # the fixture
from tests.conversation.test_mid_flow import LANGUAGES, WORDS, at_the_sms_code, signed_in
from tests.conversation.test_settings import PASSWORD

SAID = {
    "en": {
        "refused_21": "A new code can be sent in 21 seconds.",
        "tips_19": "You can ask for a new code in 19 seconds.",
        "wrong_password": "That password does not match",
        "password_cap": "Too many wrong passwords. You can try again in 15 minutes.",
    },
    "ru": {
        "refused_21": "Новый код можно будет отправить через 21 секунду.",
        "tips_19": "Новый код можно запросить через 19 секунд.",
        "wrong_password": "Пароль не подходит",
        "password_cap": "Слишком много неверных паролей. Попробовать снова можно будет через "
        "15 минут.",
    },
}


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_resend_and_the_tips_read_one_deadline(
    lang: str, sandbox: Sandbox, browser: Browser, stack: SandboxStack, clock: FakeClock
) -> None:
    """The sandbox's cooldown is 30 s: 9 s after the code, "21 s"; 2 s later, "19 s"."""
    assert stack.services.settings.resend_cooldown == 30
    ivan = await signed_in(sandbox, browser, lang)
    sent = await at_the_sms_code(ivan, lang)

    clock.advance(seconds=9)
    await ivan.press(WORDS[lang]["resend"], sent.message_id)
    refused = await ivan.wait_for_answer()
    clock.advance(seconds=2)
    await ivan.press(WORDS[lang]["not_arriving"], sent.message_id)
    tips = await ivan.wait_for(WORDS[lang]["tips"])

    assert refused["text"] == SAID[lang]["refused_21"]
    assert SAID[lang]["tips_19"] in (tips.text or "")
    assert len(stack.outbox.messages) == 1


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_wrong_passwords_of_the_other_account_are_capped_in_words_of_passwords(
    lang: str, sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    anna = await sandbox.person("Anna", language_code="en")
    await sign_in(anna, browser, name="Anna Holder")
    await bind_email(anna, stack, "anna@example.com", PASSWORD)
    other_browser = Browser()
    try:
        boris = await signed_in(sandbox, other_browser, lang)
    finally:
        await other_browser.close()
    await boris.press(WORDS[lang]["bind_email"])
    await boris.wait_for(WORDS[lang]["ask_email"])
    await boris.send("anna@example.com")
    await boris.wait_for(lambda m: WORDS[lang]["free_it"] in m.button_texts)
    await boris.press(WORDS[lang]["free_it"])
    await boris.wait_for(WORDS[lang]["step_2_of_5"])
    for _ in range(stack.services.settings.login_failures_per_login):
        await boris.send("not her password at all")
        await boris.wait_for(SAID[lang]["wrong_password"])

    await boris.send("not her password either")
    refused = await boris.wait_for(lambda m: "15" in (m.text or ""))

    assert refused.text == SAID[lang]["password_cap"]


LONG = {
    "en": (
        "Next resend in 2 hours, at 15:00 UTC.",
        "You can ask for a new code in 2 hours, at 15:00 UTC.",
    ),
    "ru": (
        "Следующий можно запросить через 2 часа, в 15:00 UTC.",
        "Новый код можно запросить через 2 часа, в 15:00 UTC.",
    ),
}


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_cooldown_over_an_hour_says_its_utc_time_in_the_resend_and_the_tips(
    lang: str, stack_with: StackFactory, browser: Browser, clock: FakeClock
) -> None:
    """An hour's cooldown, doubled by a resend: "in 2 hours, at 15:00 UTC" in both answers."""
    _stack, sandbox = await stack_with(resend_cooldown=3600)
    ivan = await signed_in(sandbox, browser, lang)
    sent = await at_the_sms_code(ivan, lang)  # at 12:00 on the test's clock

    clock.advance(hours=1)
    await ivan.press(WORDS[lang]["resend"], sent.message_id)
    edited = await ivan.wait_for(WORDS[lang]["sent_again"])
    await ivan.press(WORDS[lang]["not_arriving"], sent.message_id)
    tips = await ivan.wait_for(WORDS[lang]["tips"])

    assert LONG[lang][0] in (edited.text or "")
    assert LONG[lang][1] in (tips.text or "")
