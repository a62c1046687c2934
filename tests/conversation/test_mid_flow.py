"""Issue #12 in the chat, in Russian and English: commands in the middle of a step, a password
without a login, the cap said with its time, the own contact without "Get code »", and a weak
password's refusal said once."""

from __future__ import annotations

import re

import pytest

from sandbox.client import Person, Sandbox
from sandbox.client.messages import ChatMessage
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import sign_in
from tests.conversation.test_address_taken import bind_email
from tests.conversation.test_bind_phone import StackFactory, join_workspace
from tests.conversation.test_bind_phone import stack_with as stack_with  # the fixture
from tests.conversation.test_settings import PASSWORD

LANGUAGES = ["en", "ru"]

WORDS = {
    "en": {
        "card": "Your account",
        "bind_email": "Bind email",
        "bind_phone": "Bind phone",
        "ask_email": "Send the email address",
        "email_hint": "I am waiting for an email address, as text.",
        "switched": "I will speak English now",
        "same_step": "We go on with the same step.",
        "stopped": "I stopped the step you were at",
        "create_password": "Create password",
        "create_prompt": "Create a password",
        "share": "📱 Share my Telegram number",
        "get_code": "Get code »",
        "continue": "Continue »",
        "resend": "Send the code again",
        "sent_again": "I sent a new code",
        "cap": "Too many codes in a row",
        "send_another": "Please send another password.",
        "try_another": "Try another",
        "unbind_email": "Unbind email",
        "only_login": "It is the only login for your password",
        "yes_unbind": "Yes, unbind",
        "no_login_tip": "Your password has no login to go with it",
        "back": "« Back",
        "free_it": "It is mine, free it",
        "step_2_of_5": "Step 2 of 5",
        "workspaces_q": "Should your workspaces use",
        "not_arriving": "The code is not arriving",
        "tips": "Check that the number is right",
        "still": "Still no code?",
    },
    "ru": {
        "card": "Ваш аккаунт",
        "bind_email": "Привязать почту",
        "bind_phone": "Привязать телефон",
        "ask_email": "Пришлите адрес электронной почты",
        "email_hint": "Жду адрес электронной почты текстом.",
        "switched": "теперь я говорю по-русски",
        "same_step": "Продолжаем с того же шага.",
        "stopped": "Я прервал шаг, на котором вы были",
        "create_password": "Создать пароль",
        "create_prompt": "Придумайте пароль",
        "share": "📱 Поделиться номером из Telegram",
        "get_code": "Получить код »",
        "continue": "Продолжить »",
        "resend": "Отправить код ещё раз",
        "sent_again": "Я отправил новый код",
        "cap": "Слишком много кодов подряд",
        "send_another": "Пришлите, пожалуйста, другой пароль.",
        "try_another": "Придумайте другой",
        "unbind_email": "Отвязать почту",
        "only_login": "Это единственный логин для вашего пароля",
        "yes_unbind": "Да, отвязать",
        "no_login_tip": "К паролю не привязан ни один логин",
        "back": "« Назад",
        "free_it": "Это мой адрес — освободить",
        "step_2_of_5": "Шаг 2 из 5",
        "workspaces_q": "как контактную почту и в ваших рабочих пространствах",
        "not_arriving": "Код не приходит",
        "tips": "Проверьте, правильно ли указан номер",
        "still": "Код так и не пришёл?",
    },
}


async def speaking(lang: str, person: Person) -> Person:
    """The person, signed in, switches to `lang` at the card (the sign-in helper speaks English)."""
    if lang == "ru":
        await switch(person, "ru")
        await person.wait_for(WORDS["ru"]["card"])
    return person


async def switch(person: Person, lang: str) -> None:
    await person.send("/language")
    await person.wait_for(lambda m: "English" in m.button_texts)
    await person.press("Русский" if lang == "ru" else "English")


async def signed_in(sandbox: Sandbox, browser: Browser, lang: str, **person: object) -> Person:
    ivan = await sandbox.person("Ivan", **{"language_code": "en", **person})
    await sign_in(ivan, browser)
    return await speaking(lang, ivan)


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_language_mid_step_keeps_the_step_and_asks_it_in_the_new_language(
    lang: str, sandbox: Sandbox, browser: Browser
) -> None:
    other = "en" if lang == "ru" else "ru"
    ivan = await signed_in(sandbox, browser, other)
    await ivan.press(WORDS[other]["bind_email"])
    await ivan.wait_for(WORDS[other]["ask_email"])

    await switch(ivan, lang)
    said = await ivan.wait_for(WORDS[lang]["switched"])

    assert WORDS[lang]["same_step"] in (said.text or "")
    await ivan.wait_for(WORDS[lang]["ask_email"])  # the step asked again whole
    await ivan.send("ivan@example.com")
    await ivan.wait_for(WORDS[lang]["create_prompt"])


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("command", ["/me", "/start", "/start bind_phone"])
async def test_a_command_mid_step_says_the_step_was_left(
    lang: str, command: str, sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await signed_in(sandbox, browser, lang)
    await ivan.press(WORDS[lang]["bind_email"])
    await ivan.wait_for(WORDS[lang]["ask_email"])

    await ivan.send(command)
    await ivan.wait_for(WORDS[lang]["stopped"])

    if command == "/start bind_phone":
        await ivan.wait_for(lambda m: WORDS[lang]["share"] in str(m.raw))
    else:
        await ivan.wait_for(WORDS[lang]["card"])
    await ivan.send("ivan@example.com")  # the email step is over
    await ivan.settled()
    assert WORDS[lang]["create_prompt"] not in (await ivan.messages())[-1].text


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_password_is_not_offered_without_a_login(
    lang: str, sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    await speaking(lang, ivan)
    card = (await ivan.messages())[-1]

    assert WORDS[lang]["card"] in (card.text or "")
    assert WORDS[lang]["create_password"] not in card.button_texts


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_unbinding_the_only_login_of_a_password_says_so(
    lang: str, sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    await bind_email(ivan, stack, "ivan@example.com", PASSWORD)
    await speaking(lang, ivan)

    await ivan.press(WORDS[lang]["unbind_email"])
    question = await ivan.wait_for(WORDS[lang]["only_login"])
    await ivan.press(WORDS[lang]["yes_unbind"], question.message_id)
    card = await ivan.wait_for(WORDS[lang]["no_login_tip"])

    assert WORDS[lang]["only_login"] in (card.text or "")
    assert WORDS[lang]["create_password"] not in card.button_texts


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_ones_own_contact_that_binds_at_once_shows_no_get_code(
    lang: str, stack_with: StackFactory, browser: Browser
) -> None:
    stack, sandbox = await stack_with(skip_sms_for_own_contact=True)
    ivan = await signed_in(sandbox, browser, lang, phone_number="+447912345678")
    await join_workspace(stack, ivan)
    await ivan.press(WORDS[lang]["bind_phone"])
    await ivan.wait_for(lambda m: WORDS[lang]["share"] in str(m.raw))

    await ivan.press(WORDS[lang]["share"])
    step = await ivan.wait_for(lambda m: WORDS[lang]["continue"] in m.button_texts)

    assert WORDS[lang]["get_code"] not in step.button_texts
    await ivan.press(WORDS[lang]["continue"])
    await ivan.wait_for(WORDS[lang]["create_prompt"])
    assert stack.outbox.messages == []


async def at_the_sms_code(ivan: Person, lang: str) -> ChatMessage:
    """Bind phone, type a number: the "code sent" message, with its buttons."""
    await ivan.press(WORDS[lang]["bind_phone"])
    await ivan.wait_for(lambda m: WORDS[lang]["share"] in str(m.raw))
    await ivan.send("+44 7911 123456")
    return await ivan.wait_for(lambda m: WORDS[lang]["not_arriving"] in m.button_texts)


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_sms_cap_says_when_a_new_code_can_go(
    lang: str, stack_with: StackFactory, browser: Browser, clock: FakeClock
) -> None:
    stack, sandbox = await stack_with(sms_limit_per_telegram_user=2, resend_cooldown=0)
    ivan = await signed_in(sandbox, browser, lang)
    sent = await at_the_sms_code(ivan, lang)
    await ivan.press(WORDS[lang]["resend"], sent.message_id)
    await ivan.wait_for(WORDS[lang]["sent_again"])

    clock.advance(seconds=stack.services.settings.double_tap_window)
    await ivan.press(WORDS[lang]["resend"], sent.message_id)
    refused = await ivan.wait_for(WORDS[lang]["cap"])

    text = refused.text or ""
    assert re.search(r"\d{2}:\d{2} UTC", text), text
    assert "tomorrow" not in text and "завтра" not in text
    assert re.search(r"\b(24|23) (hours|часа|часов)\b", text), text


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_weak_password_is_refused_once_not_twice(
    lang: str, sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await signed_in(sandbox, browser, lang)
    await ivan.press(WORDS[lang]["bind_email"])
    await ivan.wait_for(WORDS[lang]["ask_email"])
    await ivan.send("ivan.petrov@example.com")
    await ivan.wait_for(WORDS[lang]["create_prompt"])

    await ivan.send("password123")
    reply = await ivan.wait_for(WORDS[lang]["send_another"])

    assert WORDS[lang]["try_another"] not in (reply.text or "")


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_two_code_not_arriving_taps_edit_one_message(
    lang: str, sandbox: Sandbox, browser: Browser, stack: SandboxStack, clock: FakeClock
) -> None:
    ivan = await signed_in(sandbox, browser, lang)
    sent = await at_the_sms_code(ivan, lang)
    await ivan.press(WORDS[lang]["not_arriving"], sent.message_id)
    tips = await ivan.wait_for(WORDS[lang]["tips"])
    await ivan.settled()
    before = len(await ivan.messages())

    clock.advance(seconds=stack.services.settings.double_tap_window + 1)  # not a double tap
    await ivan.press(WORDS[lang]["not_arriving"], sent.message_id)
    again = await ivan.wait_for(WORDS[lang]["still"])
    await ivan.settled()

    assert again.message_id == tips.message_id
    assert WORDS[lang]["tips"] in (again.text or "")
    assert len(await ivan.messages()) == before


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_back_goes_to_the_previous_step_not_the_card(
    lang: str, sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser, lang)
    await join_workspace(stack, ivan)
    await ivan.press(WORDS[lang]["bind_email"])
    await ivan.wait_for(WORDS[lang]["ask_email"])
    await ivan.send("ivan@example.com")
    await ivan.wait_for(WORDS[lang]["workspaces_q"])
    await ivan.press(WORDS[lang]["continue"])
    password = await ivan.wait_for(WORDS[lang]["create_prompt"])

    await ivan.press(WORDS[lang]["back"], password.message_id)
    question = await ivan.wait_for(WORDS[lang]["workspaces_q"])
    await ivan.press(WORDS[lang]["back"], question.message_id)
    first = await ivan.wait_for(WORDS[lang]["ask_email"])

    assert "1" in (first.text or "").split("\n")[0]  # step 1 of the same count
    await ivan.press(WORDS[lang]["back"], first.message_id)
    await ivan.wait_for(WORDS[lang]["card"])


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_freeing_a_taken_address_goes_on_counting_the_binding_steps(
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
    await boris.send("anna@example.com")  # step 1, the address, is done
    await boris.wait_for(lambda m: WORDS[lang]["free_it"] in m.button_texts)

    await boris.press(WORDS[lang]["free_it"])
    proof = await boris.wait_for(WORDS[lang]["step_2_of_5"])

    assert "1" not in (proof.text or "").split("\n")[0]
