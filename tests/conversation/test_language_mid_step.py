"""Issue #12 in the chat, in Russian and English: /language in the middle of a step asks that
step again whole in the new language (its text, its inline buttons, its reply keyboard), and
the step is kept: its data, its step count and its attempts."""

from __future__ import annotations

import pytest

from sandbox.client import Person, Sandbox
from sandbox.client.messages import ChatMessage
from sandbox.stack import SandboxStack
from tests.conversation.browser import Browser
from tests.conversation.conftest import sign_in
from tests.conversation.test_address_taken import bind_email, last_code
from tests.conversation.test_bind_phone import join_workspace
from tests.conversation.test_mid_flow import (
    LANGUAGES,
    WORDS,
    at_the_sms_code,
    signed_in,
    speaking,
    switch,
)
from tests.conversation.test_settings import PASSWORD

SAID = {
    "en": {
        "ask_email": "Send the email address you want to sign in with.",
        "ask_number": "Send the mobile number you want to sign in with",
        "code_sent": "I sent a 6-digit code to +44 7911 123456. Send it here.",
        "ticked": "☑ Update the email in all my workspaces",
        "two_left": "Wrong code. 3 attempts left.",
        "one_wrong": "Wrong code. 4 attempts left.",
        "step_2_of_4": "Step 2 of 4",
        "step_1_of_4": "Step 1 of 4",
        "step_2_of_3": "Step 2 of 3",
    },
    "ru": {
        "ask_email": "Пришлите адрес электронной почты, с которым хотите входить.",
        "ask_number": "Пришлите номер мобильного телефона, с которым хотите входить",
        "code_sent": "Я отправил шестизначный код на +44 7911 123456. Пришлите его сюда.",
        "ticked": "☑ Обновить почту во всех моих рабочих пространствах",
        "two_left": "Код неверный. Осталось 3 попытки.",
        "one_wrong": "Код неверный. Осталось 4 попытки.",
        "step_2_of_4": "Шаг 2 из 4",
        "step_1_of_4": "Шаг 1 из 4",
        "step_2_of_3": "Шаг 2 из 3",
    },
}

STALE = {
    "en": "This button is no longer active. Send /me for a fresh menu.",
    "ru": "Эта кнопка больше не работает. Отправьте /me, чтобы открыть меню заново.",
}


def other(lang: str) -> str:
    return "en" if lang == "ru" else "ru"


async def switched_to(ivan: Person, lang: str, asked: str) -> ChatMessage:
    """/language, the choice: "we go on with the same step", then that step asked again."""
    await switch(ivan, lang)
    said = await ivan.wait_for(WORDS[lang]["switched"])
    assert WORDS[lang]["same_step"] in (said.text or "")
    return await ivan.wait_for(lambda m: m.message_id > said.message_id and asked in (m.text or ""))


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_email_step_comes_again_with_its_buttons_in_the_new_language(
    lang: str, sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await signed_in(sandbox, browser, other(lang))
    await ivan.press(WORDS[other(lang)]["bind_email"])
    await ivan.wait_for(SAID[other(lang)]["ask_email"])

    asked = await switched_to(ivan, lang, SAID[lang]["ask_email"])

    assert asked.button_texts == [WORDS[lang]["back"]]
    await ivan.send("ivan@example.com")  # the same step, going on
    await ivan.wait_for(WORDS[lang]["create_prompt"])


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_number_step_comes_again_with_its_reply_keyboard_in_the_new_language(
    lang: str, sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await signed_in(sandbox, browser, other(lang))
    await ivan.press(WORDS[other(lang)]["bind_phone"])
    await ivan.wait_for(SAID[other(lang)]["ask_number"])

    await switched_to(ivan, lang, SAID[lang]["ask_number"])

    keyboard = await ivan.reply_keyboard()
    assert keyboard is not None
    assert [b.text for row in keyboard for b in row] == [WORDS[lang]["share"], WORDS[lang]["back"]]


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_workspaces_question_comes_again_as_it_stood(
    lang: str, sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser, other(lang))
    await join_workspace(stack, ivan)
    await ivan.press(WORDS[other(lang)]["bind_email"])
    await ivan.wait_for(WORDS[other(lang)]["ask_email"])
    await ivan.send("ivan@example.com")
    question = await ivan.wait_for(WORDS[other(lang)]["workspaces_q"])
    await ivan.press(question.button_texts[0], question.message_id)  # ticked
    await ivan.wait_for(lambda m: m.message_id == question.message_id and "☑" in str(m.raw))

    asked = await switched_to(ivan, lang, WORDS[lang]["workspaces_q"])

    assert SAID[lang]["step_2_of_4"] in (asked.text or "")  # the same count
    assert asked.button_texts == [
        SAID[lang]["ticked"],
        WORDS[lang]["continue"],
        WORDS[lang]["back"],
    ]
    await ivan.press(WORDS[lang]["continue"], asked.message_id)
    await ivan.wait_for(WORDS[lang]["create_prompt"])


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_code_step_comes_again_without_a_new_code_and_keeps_its_attempts(
    lang: str, sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser, other(lang))
    await at_the_sms_code(ivan, other(lang))
    await ivan.send("000000")
    await ivan.wait_for(SAID[other(lang)]["one_wrong"])

    asked = await switched_to(ivan, lang, SAID[lang]["code_sent"])

    assert SAID[lang]["step_2_of_3"] in (asked.text or "")
    assert asked.button_texts == [
        WORDS[lang]["resend"],
        *asked.button_texts[1:2],
        WORDS[lang]["not_arriving"],
        WORDS[lang]["back"],
    ]
    assert len(stack.outbox.messages) == 1  # no second SMS
    await ivan.send("000000")
    await ivan.wait_for(SAID[lang]["two_left"])


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_an_old_back_once_its_step_is_over_is_a_stale_button(
    lang: str, sandbox: Sandbox, browser: Browser
) -> None:
    """A "« Back" left on an earlier step's message moves nothing (PRODUCT §3): the step the
    person is at stays, and its own Back still works."""
    ivan = await signed_in(sandbox, browser, lang)
    await ivan.press(WORDS[lang]["bind_email"])
    first = await ivan.wait_for(WORDS[lang]["ask_email"])
    await ivan.send("ivan@example.com")
    password = await ivan.wait_for(WORDS[lang]["create_prompt"])
    await ivan.settled()
    before = len(await ivan.messages())

    await ivan.press(WORDS[lang]["back"], first.message_id)
    answer = await ivan.wait_for_answer()
    await ivan.settled()

    assert answer["text"] == STALE[lang] and answer["show_alert"]
    assert len(await ivan.messages()) == before
    await ivan.press(WORDS[lang]["back"], password.message_id)  # the step's own Back
    await ivan.wait_for(WORDS[lang]["ask_email"])


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_an_old_back_after_the_flow_ended_is_a_stale_button(
    lang: str, sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await signed_in(sandbox, browser, lang)
    await ivan.press(WORDS[lang]["bind_email"])
    first = await ivan.wait_for(WORDS[lang]["ask_email"])
    await ivan.send("/cancel")
    await ivan.settled()
    before = len(await ivan.messages())

    await ivan.press(WORDS[lang]["back"], first.message_id)
    answer = await ivan.wait_for_answer()
    await ivan.settled()

    assert answer["text"] == STALE[lang]
    assert len(await ivan.messages()) == before  # no card, no step


PROOF = {
    "en": ("First, show that the other account is yours.", "Done, the other account is yours."),
    "ru": (
        "Сначала подтвердите, что другой аккаунт тоже ваш.",
        "Готово, другой аккаунт тоже ваш.",
    ),
}
RECOVERY = {
    "en": ("I sent a recovery code to i***@example.com", "The code is right."),
    "ru": ("Я отправил код для восстановления на i***@example.com", "Код верный."),
}


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_freeing_a_taken_address_is_asked_again_without_a_new_code(
    lang: str, sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    anna = await sandbox.person("Anna", language_code="en")
    await sign_in(anna, browser, name="Anna Holder")
    await bind_email(anna, stack, "anna@example.com", PASSWORD)
    other_browser = Browser()
    try:
        boris = await signed_in(sandbox, other_browser, other(lang))
    finally:
        await other_browser.close()
    await boris.press(WORDS[other(lang)]["bind_email"])
    await boris.wait_for(WORDS[other(lang)]["ask_email"])
    await boris.send("anna@example.com")
    await boris.wait_for(lambda m: WORDS[other(lang)]["free_it"] in m.button_texts)
    await boris.press(WORDS[other(lang)]["free_it"])
    await boris.wait_for(PROOF[other(lang)][0])
    letters = len(stack.mailbox.letters(to="anna@example.com"))

    asked = await switched_to(boris, lang, PROOF[lang][0])

    assert WORDS[lang]["step_2_of_5"] in (asked.text or "")
    assert asked.button_texts == [WORDS[lang]["resend"], WORDS[lang]["back"]]
    assert len(stack.mailbox.letters(to="anna@example.com")) == letters
    await boris.send(last_code(stack, "anna@example.com"))
    await boris.wait_for(PROOF[lang][1])


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_recovery_code_is_asked_again_without_a_new_code(
    lang: str, sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    await bind_email(ivan, stack, "ivan@example.com", PASSWORD)
    await speaking(other(lang), ivan)
    await ivan.send("/recover")
    await ivan.wait_for(RECOVERY[other(lang)][0])
    letters = len(stack.mailbox.letters(to="ivan@example.com"))

    asked = await switched_to(ivan, lang, RECOVERY[lang][0])

    assert asked.button_texts == [WORDS[lang]["resend"], WORDS[lang]["back"]]
    assert len(stack.mailbox.letters(to="ivan@example.com")) == letters
    await ivan.send(last_code(stack, "ivan@example.com"))
    await ivan.wait_for(RECOVERY[lang][1])
