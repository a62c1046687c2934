"""One parser for logins (PRODUCT §1.7): the chat and the web read a login the same way."""

from __future__ import annotations

import pytest

from core.domain.addresses import normalize_email, parse_login, provider_email
from core.domain.models import AddressKind
from core.errors import InvalidEmail, InvalidPhone
from core.flows.auth import login_key

PHONE = (AddressKind.PHONE, "+79991234567")


@pytest.mark.parametrize(
    "typed", ["8 (999) 123-45-67", "89991234567", "+7 999 123-45-67", " +79991234567 "]
)
def test_a_russian_number_in_any_format_the_bot_takes_is_one_login(typed: str) -> None:
    assert parse_login(typed, ["ru"]) == PHONE


def test_a_national_number_is_read_with_the_next_region_when_the_first_gives_none() -> None:
    assert parse_login("8 (999) 123-45-67", ["en", "ru"]) == PHONE
    assert parse_login("(201) 555-0123", ["ru", "en"]) == (AddressKind.PHONE, "+12015550123")


def test_a_number_no_region_reads_keeps_the_first_regions_reason() -> None:
    with pytest.raises(InvalidPhone) as error:
        parse_login("12345", ["ru", "en"])
    assert error.value.reason == "not_a_number"


def test_the_sign_in_reads_national_numbers_of_every_language_the_bot_speaks() -> None:
    # The site's default language is English, yet a number the bot took from a Russian speaker
    # as "8 (999) ..." is the same login on the web.
    assert login_key("8 (999) 123-45-67", "en") == PHONE
    assert login_key("89991234567", None, "en") == PHONE
    assert login_key("not a login", "en") is None


def test_an_email_login_is_trimmed_and_lowercased() -> None:
    assert parse_login("  Ivan@Example.COM ", ["en"]) == (AddressKind.EMAIL, "ivan@example.com")


@pytest.mark.parametrize("address", ["ivan@example.test", "Ivan@Corp.Local", "me@host.invalid"])
def test_a_special_use_domain_is_refused_typed_but_found_as_a_login(address: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(address)
    assert provider_email(address) == address.lower()
    assert parse_login(address) == (AddressKind.EMAIL, address.lower())


@pytest.mark.parametrize("raw", ["@corp.local", "ivan@", "iv an@corp.local", "ivan@corp.local\n x"])
def test_a_provider_email_still_needs_the_shape_of_one(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        provider_email(raw)
