"""Issue #12 in the chat, in Russian and English: /language in the middle of a step asks that
step again whole in the new language (its text, its inline buttons, its reply keyboard), and
the step is kept: its data, its step count and its attempts."""

from __future__ import annotations

import pytest

from sandbox.client import Person, Sandbox
from sandbox.client.messages import ChatMessage
from sandbox.stack import SandboxStack
from tests.conversation.browser import Browser
from tests.conversation.test_bind_phone import join_workspace
from tests.conversation.test_mid_flow import LANGUAGES, WORDS, at_the_sms_code, signed_in, switch

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
