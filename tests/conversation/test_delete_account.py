"""PRODUCT §1.12 in the chat, ru and en: "Delete account" on the card, confirmed by a code to a
bound address or, without one, by a fresh social sign-in; then the address is free for anyone,
the person starts again as a newcomer, every linked chat and the email are told, and only an
audit event without personal data is left."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.adapters.db.tables import metadata
from core.domain.models import AddressKind
from core.i18n import translator
from sandbox.client import Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import code_in, running_stack
from tests.conversation.test_address_taken import can_sign_in
from tests.conversation.test_mid_flow import WORDS, switch

LANGUAGES = ["en", "ru"]
NAMES = {"en": "Ivan", "ru": "Иван"}
EMAIL = "ivan@example.com"
PHONE = "+79123456789"
PASSWORD = "kettle under the violet moon"
OTHER_PASSWORD = "seven lanterns over a quiet harbour"
SOCIAL_NAME = "Ivan Deletov"


def words(lang: str, message: str) -> str:
    """What the person reads in their language: the catalog's text, without the markup."""
    return re.sub(r"<[^>]+>", "", translator(lang).gettext(message))


def opening(lang: str, message: str) -> str:
    """The words of a message up to its first placeholder."""
    return words(lang, message).split("{", 1)[0].strip()


def sign_in_button(lang: str) -> str:
    return words(lang, "Sign in with {provider}").format(provider="Dev ID")


DELETED = (
    "Your account has been deleted: its email, phone, sign-ins and password are gone, and this "
    "chat is signed out. To start again as a new user: /start"
)


async def signed_in(person: Person, browser: Browser, lang: str, name: str = SOCIAL_NAME) -> None:
    """/start, the provider, Confirm: the card."""
    await person.start()
    await person.wait_for(lambda m: sign_in_button(lang) in m.button_texts)
    url = await person.press(sign_in_button(lang))
    assert url is not None
    await browser.open(url)
    await browser.submit(name=name)
    await browser.submit(button="confirm")
    await person.wait_for(words(lang, "<b>Your account</b>"))


async def account_of(stack: SandboxStack, person: Person) -> int:
    account = await stack.services.account.account_for(person.id)
    assert account is not None
    return account


async def give_email(stack: SandboxStack, account: int, *, phone: bool = False) -> None:
    """The email (and the phone) bound and a password set, as earlier conversations would."""
    async with stack.services.kit.unit() as uow:
        await uow.bindings.confirm(account, AddressKind.EMAIL, EMAIL, datetime.now(UTC))
        if phone:
            await uow.bindings.confirm(account, AddressKind.PHONE, PHONE, datetime.now(UTC))
        await uow.commit()
    await stack.services.password.set(account, PASSWORD, "test")


async def with_email(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, lang: str, *, phone: bool = False
) -> tuple[Person, int]:
    ivan = await sandbox.person(NAMES[lang], language_code=lang)
    await signed_in(ivan, browser, lang)
    account = await account_of(stack, ivan)
    await give_email(stack, account, phone=phone)
    return ivan, account


async def to_the_code(ivan: Person, lang: str) -> None:
    await ivan.send("/me")
    await ivan.wait_for(words(lang, "<b>Your account</b>"))
    await ivan.press(words(lang, "Delete account"))
    await ivan.wait_for(words(lang, "Delete your account for good?"))
    await ivan.press(words(lang, "Send a code to {address}").format(address="i***@example.com"))
    await ivan.wait_for(
        opening(lang, "I sent a code to {address}. Send it here, and your account will be deleted.")
    )


def deletion_code(stack: SandboxStack) -> str:
    return code_in(stack.mailbox.letters(to=EMAIL)[0].text)  # newest first


async def bind_by_chat(person: Person, stack: SandboxStack, lang: str) -> None:
    """The chat's own way: the address, a password, the code from the letter."""
    await person.press(words(lang, "Bind email"))
    await person.wait_for(words(lang, "Send the email address you want to sign in with."))
    await person.send(EMAIL)
    await person.wait_for(
        opening(
            lang,
            "Create a password: at least {n} characters. A few unrelated words are easy to "
            "remember and hard to guess.",
        )
    )
    await person.send(OTHER_PASSWORD)
    await person.wait_for(
        opening(
            lang,
            "I sent a letter to {email}. Press the button in it, or send me the 6-digit code "
            "from it.",
        )
    )
    await person.send(code_in(stack.mailbox.letters(to=EMAIL)[0].text))
    await person.wait_for(
        opening(lang, "Email bound. You can now sign in with {email} and your password.")
    )


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_deleted_accounts_address_is_bound_by_another_and_the_person_starts_anew(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, lang: str
) -> None:
    ivan, account = await with_email(sandbox, browser, stack, lang)
    await to_the_code(ivan, lang)

    await ivan.send(deletion_code(stack))
    await ivan.wait_for(words(lang, DELETED))
    assert not await can_sign_in(stack, EMAIL, PASSWORD)

    anna = await sandbox.person("Anna", language_code=lang)
    other = Browser()
    try:
        await signed_in(anna, other, lang, name="Anna Other")
    finally:
        await other.close()
    await bind_by_chat(anna, stack, lang)
    assert await can_sign_in(stack, EMAIL, OTHER_PASSWORD)

    await ivan.start()
    greeting = await ivan.wait_for(opening(lang, "Hello, {name}!"))
    assert sign_in_button(lang) in greeting.button_texts
    left = words(lang, "I stopped the step you were at. You can start it again from the card.")
    assert not any(left in (m.text or "") for m in await ivan.messages())  # no step was kept
    await browser.open(await ivan.press(sign_in_button(lang)) or "")
    consent = await browser.submit(name=SOCIAL_NAME)
    assert "already has an account here" not in consent.text
    await browser.submit(button="confirm")
    card = await ivan.wait_for(words(lang, "<b>Your account</b>"))
    assert words(lang, "Email: not bound") in (card.text or "")
    assert words(lang, "Password: not set") in (card.text or "")
    assert await account_of(stack, ivan) != account


async def test_a_wrong_code_refuses_and_the_account_stays(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan, account = await with_email(sandbox, browser, stack, "en")
    await to_the_code(ivan, "en")
    right = deletion_code(stack)

    await ivan.send("000000" if right != "000000" else "111111")

    await ivan.wait_for("Wrong code. 4 attempts left.")
    assert await stack.services.account.account_for(ivan.id) == account
    assert await can_sign_in(stack, EMAIL, PASSWORD)


async def test_cancel_keeps_everything_and_the_code_then_deletes_nothing(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan, account = await with_email(sandbox, browser, stack, "en")
    await to_the_code(ivan, "en")

    await ivan.send("/cancel")
    card = await ivan.wait_for("Your account")
    assert "Cancelled." in (card.text or "")
    await ivan.send(deletion_code(stack))
    await ivan.settled()

    assert await stack.services.account.account_for(ivan.id) == account
    assert await can_sign_in(stack, EMAIL, PASSWORD)
    assert not any(DELETED in (m.text or "") for m in await ivan.messages())
    # "« Back" at the warning leaves as well.
    await ivan.press("Delete account")
    await ivan.wait_for("Delete your account for good?")
    await ivan.press("« Back")
    await ivan.wait_for("Your account")
    assert await can_sign_in(stack, EMAIL, PASSWORD)


async def to_the_fresh_sign_in(ivan: Person, browser: Browser, lang: str) -> None:
    """No address bound: the warning offers signing in again; the consent says what for."""
    await ivan.press(words(lang, "Delete account"))
    offer = await ivan.wait_for(words(lang, "Delete your account for good?"))
    url = await ivan.press(sign_in_button(lang), offer.message_id)
    assert url is not None
    await browser.open(url)
    consent = await browser.submit(name=SOCIAL_NAME)
    assert words(lang, "Nothing is deleted yet: the bot asks you once more in the chat.") in (
        consent.text
    )
    await browser.submit(button="confirm")
    done = "You signed in again. Delete your account now? This cannot be undone."
    await ivan.wait_for(words(lang, done))


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_without_an_address_a_fresh_sign_in_confirms_and_a_double_tap_deletes_once(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, lang: str
) -> None:
    ivan = await sandbox.person(NAMES[lang], language_code=lang)
    await signed_in(ivan, browser, lang)
    account = await account_of(stack, ivan)
    await to_the_fresh_sign_in(ivan, browser, lang)

    final = words(lang, "Delete my account for good")
    await ivan.press(final)
    await ivan.press(final)
    await ivan.wait_for(words(lang, DELETED))
    await ivan.settled()

    told = [m for m in await ivan.messages() if words(lang, DELETED) in (m.text or "")]
    assert len(told) == 1
    async with stack.services.kit.reader() as uow:
        events = await uow.audit.for_account(account)
    assert [event.action for event in events] == ["account.deleted"]
    assert await stack.services.account.account_for(ivan.id) is None


async def test_a_sign_in_older_than_the_limit_is_refused_and_a_new_one_offered(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, clock: FakeClock
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await signed_in(ivan, browser, "en")
    account = await account_of(stack, ivan)
    await to_the_fresh_sign_in(ivan, browser, "en")
    clock.advance(seconds=stack.services.settings.delete_reauth_max_age + 1)

    await ivan.press("Delete my account for good")

    again = await ivan.wait_for("That sign-in was more than 5 minutes ago")
    assert sign_in_button("en") in again.button_texts
    assert await stack.services.account.account_for(ivan.id) == account


async def test_another_social_account_does_not_confirm(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await signed_in(ivan, browser, "en")
    account = await account_of(stack, ivan)
    await ivan.press("Delete account")
    await ivan.wait_for("Delete your account for good?")
    url = await ivan.press(sign_in_button("en"))
    await browser.open(url or "")
    await browser.submit(name="Somebody Else")
    await browser.submit(button="confirm")

    await ivan.wait_for("That social account is not the one of your account")
    assert await stack.services.account.account_for(ivan.id) == account


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_other_chat_and_the_email_are_told_and_only_an_anonymous_audit_event_stays(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, lang: str
) -> None:
    ivan, account = await with_email(sandbox, browser, stack, lang, phone=True)
    second = await sandbox.person(NAMES[lang] + " 2", language_code=lang)
    other = Browser()
    try:
        await signed_in(second, other, lang)  # the same social account: it joins Ivan's
    finally:
        await other.close()
    await second.press(words(lang, "Change email"))  # in the middle of a step there
    await second.wait_for(words(lang, "Send the email address you want to sign in with."))
    await to_the_code(ivan, lang)

    await ivan.send(deletion_code(stack))

    await ivan.wait_for(words(lang, DELETED))
    await second.wait_for(words(lang, DELETED))
    letter = stack.mailbox.letters(to=EMAIL)[0]
    assert letter.subject == words(lang, "Your account has been deleted")
    await second.send("anna@example.com")  # that step is forgotten: not taken as an address
    await second.settled()
    assert not stack.mailbox.letters(to="anna@example.com")

    async with stack.services.kit.reader() as uow:
        events = await uow.audit.for_account(account)
    assert [(e.action, e.actor, e.details) for e in events] == [("account.deleted", "person", {})]
    personal = (EMAIL, PHONE, SOCIAL_NAME)
    async with stack.services.database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in (await conn.execute(sa.select(table))).all():
                if "account_id" in row._mapping and row.account_id != account:
                    continue
                assert not any(value in repr(tuple(row)) for value in personal), table.name


async def test_the_code_can_go_by_sms_when_a_phone_is_bound(
    tmp_path: Path, browser: Browser, clock: FakeClock
) -> None:
    async with (
        running_stack("sqlite+memory", tmp_path / "sms", clock=clock) as stack,
        Sandbox(stack.url) as sandbox,
    ):
        ivan, account = await with_email(sandbox, browser, stack, "en", phone=True)
        await ivan.press("Delete account")
        choice = await ivan.wait_for("Delete your account for good?")
        assert "Send a code to +7 *** ***-67-89" in choice.button_texts
        await ivan.press("Send a code to +7 *** ***-67-89")
        await ivan.wait_for("I sent a code to +7")

        await ivan.send(code_in(stack.outbox.messages[-1].text))

        await ivan.wait_for(DELETED)
        assert await stack.services.account.account_for(ivan.id) is None
        async with stack.services.kit.reader() as uow:
            assert await uow.accounts.get(account) is None


async def test_a_secure_password_page_opened_before_the_deletion_is_then_expired(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan, account = await with_email(sandbox, browser, stack, "en")
    await ivan.send("/me")
    await ivan.wait_for("Password: set")
    await ivan.press("Change password")
    secure = "🔒 Create password on a secure page"
    asked = await ivan.wait_for(lambda m: secure in m.button_texts)
    url = await ivan.press(secure, asked.message_id)
    assert url is not None
    page = Browser()
    try:
        await page.open(url)
        await to_the_code(ivan, "en")
        await ivan.send(deletion_code(stack))
        await ivan.wait_for(DELETED)

        answer = await page.submit(password=OTHER_PASSWORD, repeat=OTHER_PASSWORD)
    finally:
        await page.close()

    assert answer.status == 410, answer.text[:300]
    async with stack.services.kit.reader() as uow:
        assert await uow.passwords.get(account) is None


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_language_mid_deletion_asks_the_code_step_again_and_the_code_still_deletes(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, lang: str
) -> None:
    spoken = "en" if lang == "ru" else "ru"
    ivan, _account = await with_email(sandbox, browser, stack, spoken)
    await to_the_code(ivan, spoken)
    letters = len(stack.mailbox.letters(to=EMAIL))

    await switch(ivan, lang)
    same = await ivan.wait_for(WORDS[lang]["same_step"])
    asked = await ivan.wait_for(
        lambda m: m.message_id > same.message_id
        and opening(lang, "I sent a code to {address}. Send it here, and your account will be "
                    "deleted.") in (m.text or "")
    )  # fmt: skip
    assert asked.button_texts == [words(lang, "Send the code again"), words(lang, "« Back")]
    assert len(stack.mailbox.letters(to=EMAIL)) == letters  # asked again: no new code

    await ivan.send(deletion_code(stack))
    await ivan.wait_for(words(lang, DELETED))
