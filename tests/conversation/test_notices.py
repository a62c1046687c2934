"""PRODUCT §1.1.8, §1.10 and one language per person, in the chat and the browser, ru and en:
the consent page and the chat after Cancel speak the person's language and the link is spent;
a second Telegram account joining is told to every chat, which can unlink it; "It's mine, free
it" tells the account that gave the address away, in its chats and at its old address."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from core.i18n import translator
from sandbox.client import Person, Sandbox
from sandbox.client.messages import ChatMessage
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser, Page
from tests.conversation.conftest import CODE, code_in

LANGUAGES = ["en", "ru"]
NAMES = {"en": "Anna", "ru": "Анна"}
PASSWORD = "kettle under the violet moon"
OTHER_PASSWORD = "seven lanterns over a quiet harbour"
TAKEN = "anna@example.com"


def words(locale: str, message: str) -> str:
    """What the person reads in their language: the catalog's text, without the markup."""
    return re.sub(r"<[^>]+>", "", translator(locale).gettext(message))


def signing_in(lang: str) -> str:
    return words(lang, "Sign in with {provider}").format(provider="Dev ID")


def offers_sign_in(lang: str) -> Callable[[ChatMessage], bool]:
    return lambda message: signing_in(lang) in message.button_texts


async def to_consent(person: Person, browser: Browser, lang: str, name: str) -> Page:
    """/start, the sign-in button, the provider's form: the consent page."""
    await person.start()
    await person.wait_for(offers_sign_in(lang))
    url = await person.press(signing_in(lang))
    assert url is not None
    await browser.open(url)
    return await browser.submit(name=name)


async def signed_in(person: Person, browser: Browser, lang: str, name: str) -> None:
    await to_consent(person, browser, lang, name)
    await browser.submit(button="confirm")
    await person.wait_for(words(lang, "<b>Your account</b>"))


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_cancel_on_the_consent_page_spends_the_link_and_everything_speaks_the_chats_language(
    sandbox: Sandbox, lang: str
) -> None:
    anna = await sandbox.person(NAMES[lang], language_code=lang)
    browser = Browser()  # its Accept-Language is "en": the pages follow the chat, not it
    try:
        await anna.start()
        await anna.wait_for(offers_sign_in(lang))
        url = await anna.press(signing_in(lang))
        assert url is not None
        await browser.open(url)
        consent = await browser.submit(name="Anna Holder")
        assert words(lang, "Confirm sign-in") in consent.text

        cancelled = await browser.submit(button="cancel")
        assert words(lang, "Nothing was linked. You can close this page.") in cancelled.text
        fresh = await anna.wait_for(
            words(lang, "Here is a fresh sign-in link. It works once, for 10 minutes.")
        )
        assert signing_in(lang) in fresh.button_texts

        again = await browser.open(url)  # the cancelled link is spent
        assert words(lang, "Link expired") in again.text
        assert "Confirm" not in again.text

        url = await anna.press(signing_in(lang))
        assert url is not None
        await browser.open(url)
        consent = await browser.submit(name="Anna Holder")
        assert NAMES[lang] in consent.text  # the fresh link still says whose Telegram it is
        await browser.submit(button="confirm")
        card = await anna.wait_for(words(lang, "<b>Your account</b>"))
        assert words(lang, "Sign out") in card.button_texts
    finally:
        await browser.close()


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_second_telegram_account_is_told_to_every_chat_and_can_be_unlinked(
    sandbox: Sandbox, lang: str
) -> None:
    phone, tablet = Browser(), Browser()
    try:
        first = await sandbox.person(NAMES[lang], language_code=lang)
        await signed_in(first, phone, lang, "Anna Holder")
        second = await sandbox.person(NAMES[lang] + " 2", language_code=lang)

        consent = await to_consent(second, tablet, lang, "Anna Holder")
        already = words(
            lang,
            "This {provider} account already has an account here. Confirm links this Telegram "
            "account to it as well, and its other Telegram accounts will be told.",
        ).format(provider="Dev ID")
        assert already in consent.text
        await tablet.submit(button="confirm")

        await second.wait_for(
            words(
                lang,
                "This social account already had an account here, so this Telegram account is "
                "now linked to it too. Its other Telegram accounts were told.",
            )
        )
        await second.wait_for(words(lang, "<b>Your account</b>"))
        told = await first.wait_for(
            words(lang, "Another Telegram account was just linked to your account: {who}.").format(
                who=NAMES[lang] + " 2"
            )
        )
        unlink = words(lang, "Unlink this Telegram account")
        assert told.button_texts == [unlink]

        await first.press(unlink)
        await first.wait_for(
            words(lang, "Done: that Telegram account is no longer linked to your account.")
        )
        await second.wait_for(
            words(
                lang,
                "Another Telegram account of your account unlinked this one, so you are signed "
                "out here. To sign in again: /start",
            )
        )
        await second.send("/me")
        await second.wait_for(words(lang, "Please sign in first: /start"))
        await first.send("/me")
        await first.wait_for(words(lang, "<b>Your account</b>"))
    finally:
        await phone.close()
        await tablet.close()


async def test_signing_in_again_from_the_same_telegram_account_is_not_a_newcomer(
    sandbox: Sandbox,
) -> None:
    browser = Browser()
    try:
        anna = await sandbox.person("Anna", language_code="en")
        await signed_in(anna, browser, "en", "Anna Holder")
        await anna.send("/start")
        await anna.wait_for("Your account")
        await anna.press("Sign out")
        consent = await to_consent(anna, browser, "en", "Anna Holder")

        assert "already has an account here" not in consent.text
        await browser.submit(button="confirm")
        await anna.wait_for("Your account")
        assert not [m for m in await anna.messages() if "linked to it too" in (m.text or "")]
    finally:
        await browser.close()


async def switch(person: Person, spoken: str, to: str) -> None:
    """/language from the card: from `spoken` to `to`; the card comes in the new language."""
    await person.send("/language")
    await person.wait_for(words(spoken, "Choose the language:"))
    await person.press({"ru": "Русский", "en": "English"}[to])
    await person.wait_for(words(to, "<b>Your account</b>"))


def moved(lang: str, kind: str, old: str, new: str) -> str:
    """The notice to the account that gave its address away (PRODUCT §1.10)."""
    text = (
        f"Your {kind} {{old}} was moved to another account: whoever did it proved they control "
        "it. Your account now signs in with {new}."
    )
    return words(lang, text).format(old=old, new=new)


async def bind(person: Person, stack: SandboxStack, address: str, password: str) -> None:
    """Bind an email by the letter's code, creating the password on the way; in English."""
    await person.press("Bind email")
    await person.wait_for("Send the email address")
    await person.send(address)
    await person.wait_for("Create a password")
    await person.send(password)
    await person.wait_for("I sent a letter")
    await person.send(code_in(stack.mailbox.letters(to=address)[0].text))
    await person.wait_for("Email bound")


async def freed(sandbox: Sandbox, stack: SandboxStack, lang: str) -> tuple[Person, Person]:
    """Anna (speaking `lang`) holds TAKEN; Boris proves it is his and frees it: (Anna, Boris)."""
    first, second = Browser(), Browser()
    try:
        anna = await sandbox.person(NAMES[lang], language_code=lang)
        await signed_in(anna, first, lang, "Anna Holder")
        await switch(anna, lang, "en")  # the binding in English, for the test's brevity
        await bind(anna, stack, TAKEN, PASSWORD)
        await switch(anna, "en", lang)

        boris = await sandbox.person("Boris", language_code="en")
        await signed_in(boris, second, "en", "Boris Other")
        await boris.press("Bind email")
        await boris.wait_for("Send the email address")
        await boris.send(TAKEN)
        await boris.wait_for("already exists")
        await boris.press("It is mine, free it")
        await boris.send(PASSWORD)
        await boris.wait_for("send a new email")
        await boris.send("anna.new@example.com")
        await boris.wait_for("I sent a code")
        await boris.send(code_in(stack.mailbox.letters(to="anna.new@example.com")[0].text))
        await boris.wait_for("Create a password")
        await boris.send(OTHER_PASSWORD)
        await boris.wait_for("Email bound")
    finally:
        await first.close()
        await second.close()
    return anna, boris


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_freeing_an_address_tells_the_account_that_gave_it_in_its_chat_and_letter(
    sandbox: Sandbox, stack: SandboxStack, lang: str
) -> None:
    anna, boris = await freed(sandbox, stack, lang)
    said = await anna.wait_for(moved(lang, "email", "a***@example.com", "a***@example.com"))
    assert "anna@example.com" not in (said.text or "")
    letter = stack.mailbox.letters(to=TAKEN)[0]
    assert letter.subject == words(lang, "This address was moved to another account")
    assert "anna.new@example.com" not in letter.text
    assert not [m for m in await boris.messages() if "was moved" in (m.text or "")]


def has_button(text: str) -> Callable[[ChatMessage], bool]:
    return lambda message: text in message.button_texts


SENT_LETTER = (
    "I sent a letter to {email}. Press the button in it, or send me the 6-digit code from it."
)


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_the_secure_password_page_and_the_email_link_speak_the_chats_language(
    sandbox: Sandbox, stack: SandboxStack, lang: str
) -> None:
    browser = Browser()  # Accept-Language: en
    try:
        ivan = await sandbox.person("Ivan", language_code=lang)
        await signed_in(ivan, browser, lang, "Ivan Petrov")
        await ivan.press(words(lang, "Bind email"))
        await ivan.wait_for(words(lang, "Send the email address you want to sign in with."))
        await ivan.send("ivan@example.com")
        secure = words(lang, "🔒 Create password on a secure page")
        await ivan.wait_for(has_button(secure))
        url = await ivan.press(secure)
        assert url is not None

        form = await browser.open(url)
        assert words(lang, "Repeat the password") in form.text
        saved = await browser.submit(password=PASSWORD, repeat=PASSWORD)
        assert words(lang, "Password saved") in saved.text

        await ivan.wait_for(words(lang, "The password is saved."))
        # The letter goes after that message, and the chat says so: wait for it, not the mailbox.
        await ivan.wait_for(words(lang, SENT_LETTER).split("{email}")[0])
        letter = stack.mailbox.letters(to="ivan@example.com")[0]
        link = re.search(r"https?://\S+/email/confirm/[\w-]+", letter.text)
        assert link is not None
        page = await browser.open(link.group(0))
        assert (
            words(lang, "Confirm {email} as the email of your account?").format(
                email="i***@example.com"
            )
            in page.text
        )
        confirmed = await browser.submit()
        assert words(lang, "Email confirmed") in confirmed.text
    finally:
        await browser.close()


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_freeing_a_phone_tells_the_account_that_gave_it_in_its_chat(
    sandbox: Sandbox, stack: SandboxStack, lang: str
) -> None:
    first, second = Browser(), Browser()
    try:
        anna = await sandbox.person(NAMES[lang], language_code=lang)
        await signed_in(anna, first, lang, "Anna Holder")
        await switch(anna, lang, "en")  # the binding in English, for the test's brevity
        await anna.press("Bind phone")
        await anna.send("+44 7911 123456")
        await anna.wait_for("I sent a 6-digit code")
        await anna.send(code_in(stack.outbox.messages[-1].text))
        await anna.wait_for("Create a password")
        await anna.send(PASSWORD)
        await anna.wait_for("Phone bound")
        await switch(anna, "en", lang)

        boris = await sandbox.person("Boris", language_code="en")
        await signed_in(boris, second, "en", "Boris Other")
        await boris.press("Bind phone")
        await boris.send("+44 7911 123456")
        await boris.wait_for("A user with this phone number already exists")
        await boris.press("It is mine, free it")
        await boris.send(PASSWORD)
        await boris.wait_for("send a new phone number")
        await boris.send("+44 7911 123999")
        await boris.wait_for("I sent a code to +44 7911 123999")
        await boris.send(code_in(stack.outbox.messages[-1].text))
        await boris.wait_for("Create a password")
        await boris.send(OTHER_PASSWORD)
        await boris.wait_for("Phone bound")
    finally:
        await first.close()
        await second.close()

    await anna.wait_for(moved(lang, "phone", "+44 *** ***-34-56", "+44 *** ***-39-99"))
    # The number itself hears of it too, in the language of the account it left, with no code
    # and not the other number (PRODUCT §1.10).
    told = [sms for sms in stack.outbox.messages if sms.phone == "+447911123456"][-1]
    said = words(
        lang,
        "This number now signs in to another account. If it was not you, contact support in "
        "the bot.",
    )
    assert told.text == said
    assert "+447911123999" not in told.text and "39-99" not in told.text


TABLET_NAMES = {"en": "Anna tablet", "ru": "Анна планшет"}


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_second_telegram_account_is_told_to_the_bound_email_too(
    sandbox: Sandbox, stack: SandboxStack, lang: str
) -> None:
    phone, tablet = Browser(), Browser()
    try:
        anna = await sandbox.person(NAMES[lang], language_code=lang)
        await signed_in(anna, phone, lang, "Anna Holder")
        await switch(anna, lang, "en")  # the binding in English, for the test's brevity
        await bind(anna, stack, TAKEN, PASSWORD)
        await switch(anna, "en", lang)
        second = await sandbox.person(
            TABLET_NAMES[lang], username="anna_tablet", language_code=lang
        )
        await to_consent(second, tablet, lang, "Anna Holder")
        await tablet.submit(button="confirm")
        await second.wait_for(words(lang, "<b>Your account</b>"))
    finally:
        await phone.close()
        await tablet.close()

    subject = words(lang, "Another Telegram account was linked to your account")
    letters = [x for x in stack.mailbox.letters(to=TAKEN) if x.subject == subject]
    assert len(letters) == 1
    letter = letters[0]
    who = TABLET_NAMES[lang][0] + "*** (@a***)"  # masked: a letter travels further than a chat
    linked = words(
        lang, "Another Telegram account was just linked to your {product} account: {who}."
    )
    assert linked.format(product="Account assistant", who=who) in letter.text
    button = words(lang, "Unlink this Telegram account")
    how = words(
        lang,
        'If it was not you, open the bot in Telegram and tap "{button}" under the message about '
        "it: that Telegram account is signed out at once. Then contact support in the bot.",
    )
    assert how.format(button=button) in " ".join(letter.text.split())
    for secret in ("anna_tablet", TABLET_NAMES[lang]):
        assert secret not in letter.text and secret not in letter.html
    assert str(second.id) not in letter.text


NUMBER = "+447911123456"


async def free_number(
    person: Person, stack: SandboxStack, button: str, new_for_holder: str
) -> None:
    """In English: `person` frees NUMBER by its SMS code and gives its holder `new_for_holder`."""
    await person.press(button)
    await person.send(NUMBER)
    await person.wait_for("A user with this phone number already exists")
    await person.press("It is mine, free it")
    await person.wait_for("First, show that the other account is yours")
    await person.send(code_in([m for m in stack.outbox.messages if m.phone == NUMBER][-1].text))
    await person.wait_for("send a new phone number")
    await person.send(new_for_holder)
    await person.wait_for("I sent a code to")
    await person.send(code_in(stack.outbox.messages[-1].text))
    bound = await person.wait_for(
        lambda m: "Phone bound" in (m.text or "") or "Create a" in (m.text or "")
    )
    if "Phone bound" not in (bound.text or ""):
        await person.send(OTHER_PASSWORD)
        await person.wait_for("Phone bound")


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_a_number_moved_back_and_forth_hears_of_it_once_a_day(
    sandbox: Sandbox, stack: SandboxStack, clock: FakeClock, lang: str
) -> None:
    first, second = Browser(), Browser()
    try:
        anna = await sandbox.person(NAMES[lang], language_code=lang)
        await signed_in(anna, first, lang, "Anna Holder")
        await switch(anna, lang, "en")  # the steps in English, for the test's brevity
        await anna.press("Bind phone")
        await anna.send(NUMBER)
        await anna.wait_for("I sent a 6-digit code")
        await anna.send(code_in(stack.outbox.messages[-1].text))
        await anna.wait_for("Create a password")
        await anna.send(PASSWORD)
        await anna.wait_for("Phone bound")
        await switch(anna, "en", lang)
        boris = await sandbox.person("Boris", language_code="en")
        await signed_in(boris, second, "en", "Boris Other")
    finally:
        await first.close()
        await second.close()
    said = words(
        lang,
        "This number now signs in to another account. If it was not you, contact support in "
        "the bot.",
    )

    def told() -> list[str]:
        """The SMS to the number that carry no code: the notices."""
        return [
            m.text for m in stack.outbox.messages if m.phone == NUMBER and not CODE.search(m.text)
        ]

    await free_number(boris, stack, "Bind phone", "+447911123001")
    await anna.wait_for(moved(lang, "phone", "+44 *** ***-34-56", "+44 *** ***-30-01"))
    assert told() == [said]

    await switch(anna, lang, "en")  # Anna takes it back the same day: no second SMS about it
    await free_number(anna, stack, "Change phone", "+447911123002")
    await boris.wait_for(moved("en", "phone", "+44 *** ***-34-56", "+44 *** ***-30-02"))
    assert told() == [said]
    await switch(anna, "en", lang)

    clock.advance(days=1)  # a day later it may be told again
    await free_number(boris, stack, "Change phone", "+447911123003")
    await anna.wait_for(moved(lang, "phone", "+44 *** ***-34-56", "+44 *** ***-30-03"))
    assert told() == [said, said]
