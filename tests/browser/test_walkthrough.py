"""Issue #6 "done when": in the sandbox's chat page a person signs in, binds an email and a phone,
then signs in with the new password on the sign-in page — in English and in Russian. Every step
is saved as a screenshot in artifacts/screenshots/walk-<lang>-NN-<step>.png."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.stack import SandboxStack, start_sandbox
from tests.browser.conftest import NewPage, Screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "name": "Ivan",
        "sign_in": "Sign in with Dev ID",
        "card": "Your account",
        "bind_email": "Bind email",
        "bind_phone": "Bind phone",
        "password_prompt": "Create a password",
        "letter_sent": "I sent a letter",
        "email_bound": "Email bound",
        "share": "Share my Telegram number",
        "workspaces": "Update the email in all my workspaces",
        "continue": "Continue",
        "get_code": "Get code",
        "code_sent": "I sent a 6-digit code",
        "phone_bound": "Phone bound",
        "signed_in": "and your password: they work",
    },
    "ru": {
        "name": "Иван",
        "sign_in": "Войти через Dev ID",
        "card": "Ваш аккаунт",
        "bind_email": "Привязать почту",
        "bind_phone": "Привязать телефон",
        "password_prompt": "Придумайте пароль",
        "letter_sent": "Я отправил письмо",
        "email_bound": "Почта привязана",
        "share": "Поделиться номером из Telegram",
        "workspaces": "Обновить почту во всех моих рабочих пространствах",
        "continue": "Продолжить",
        "get_code": "Получить код",
        "code_sent": "Я отправил шестизначный код",
        "phone_bound": "Телефон привязан",
        "signed_in": "и паролю — всё работает",
    },
}
PASSWORD = "kettle under the violet moon"


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[SandboxStack]:
    running = await start_sandbox(
        "127.0.0.1", 0, tmp_path / "sandbox", flood_limits=False, demo=True
    )
    yield running
    await running.stop()


class Walk:
    """One person's walk through the chat page, saving a screenshot at each step."""

    def __init__(self, chat: Any, lang: str, screenshot: Screenshot) -> None:
        self.chat, self.lang, self.shot, self.step = chat, lang, screenshot, 0
        self.words = WORDS[lang]

    async def save(self, page: Any, name: str) -> None:
        self.step += 1
        await self.shot(page, f"walk-{self.lang}-{self.step:02d}-{name}.png")

    async def see(self, text: str) -> None:
        await self.chat.locator(".bubble", has_text=text).last.wait_for(timeout=20_000)

    async def tap(self, label: str) -> None:
        button = self.chat.locator(".inline-keyboard button", has_text=label).last
        await button.wait_for(timeout=10_000)
        await button.click()

    async def type(self, text: str) -> None:
        await self.chat.fill("#text", text)
        await self.chat.press("#text", "Enter")


async def test_a_person_binds_email_and_phone_and_signs_in(
    stack: SandboxStack, new_page: NewPage, screenshot: Screenshot, lang: str
) -> None:
    chat = await new_page("phone")
    await chat.context.set_extra_http_headers({"Accept-Language": lang})  # the person's browser
    walk = Walk(chat, lang, screenshot)
    w = walk.words
    address = f"ivan.{lang}@example.com"

    await chat.goto(f"{stack.url}/chat")
    await chat.locator("#person-dialog[open]").wait_for()  # nobody yet: it asks who you are
    await chat.fill("#person-form input[name=first_name]", w["name"])
    await chat.select_option("#person-form select[name=language_code]", lang)
    await chat.click("#person-form button[value=create]")
    await chat.click("#start")
    await chat.locator(".inline-keyboard button", has_text=w["sign_in"]).wait_for()
    await walk.save(chat, "greeting")

    async with chat.context.expect_page() as opened:
        await walk.tap(w["sign_in"])
    provider = await opened.value
    await provider.wait_for_load_state()
    await provider.fill("input[name=name]", f"{w['name']} Petrov")
    await provider.fill("input[name=email]", address)
    await provider.uncheck("input[name=email_verified]")
    await walk.save(provider, "provider")
    await provider.click("button[type=submit]")
    await provider.locator("button[value=confirm]").wait_for()
    await walk.save(provider, "consent")
    await provider.click("button[value=confirm]")
    await provider.wait_for_load_state()
    await walk.save(provider, "signed-in-page")
    await walk.see(w["card"])
    await walk.save(chat, "card")

    await walk.tap(w["bind_email"])
    await walk.type(address)
    await walk.tap(w["workspaces"])  # the demo workspaces: the seed's checkbox, ticked
    await walk.save(chat, "workspaces")
    await walk.tap(w["continue"])
    await walk.see(w["password_prompt"])
    await walk.type(PASSWORD)
    await walk.see(w["letter_sent"])
    await walk.save(chat, "letter-sent")
    mailbox = await new_page("phone")
    await mailbox.goto(f"{stack.url}/mailbox")
    await mailbox.locator("a", has_text=address).first.click()
    await mailbox.wait_for_load_state()
    await walk.save(mailbox, "letter")
    code = _code(stack.mailbox.letters(to=address)[0].text)
    await walk.type(code)
    await walk.see(w["email_bound"])
    await walk.save(chat, "email-bound")

    await walk.tap(w["bind_phone"])
    await chat.locator("#reply-keyboard button", has_text=w["share"]).click()
    await walk.tap(w["get_code"])
    await walk.see(w["code_sent"])
    sms = await new_page("phone")
    await sms.goto(f"{stack.url}/sms")
    await walk.save(sms, "sms")
    await walk.type(_code(stack.outbox.messages[-1].text))
    await walk.see(w["phone_bound"])
    await walk.save(chat, "phone-bound")

    login = await new_page("phone")
    await login.set_extra_http_headers({"Accept-Language": lang})
    await login.goto(f"{stack.url}/login")
    await login.fill("input[name=login]", address)
    await login.fill("input[name=password]", PASSWORD)
    await login.click("button[type=submit]")
    await login.get_by_text(w["signed_in"]).first.wait_for()
    await walk.save(login, "password-sign-in")


@pytest.fixture(params=["en", "ru"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _code(text: str) -> str:
    match = re.search(r"\b(\d{6})\b", text)
    assert match, text
    return match.group(1)
