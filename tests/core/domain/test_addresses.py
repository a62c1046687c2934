from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.addresses import mask, mask_email, mask_phone, normalize_email, normalize_phone
from core.errors import InvalidEmail, InvalidPhone

LOCAL = st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9._+-]{0,20}[a-zA-Z0-9]", fullmatch=True).filter(
    lambda s: ".." not in s
)
DOMAIN = st.sampled_from(["gmail.com", "Example.ORG", "mail.ru", "yandex.ru", "пример.рф"])
RU_MOBILE = st.integers(min_value=900_000_0000, max_value=999_999_9999).map(str)


@given(LOCAL, DOMAIN)
def test_an_email_normalizes_to_one_lowercase_key(local: str, domain: str) -> None:
    key = normalize_email(f"  {local}@{domain} ")

    assert key == key.lower()
    assert key == normalize_email(key)
    assert normalize_email(f"{local.upper()}@{domain.upper()}") == key


@given(LOCAL, DOMAIN)
def test_a_masked_email_keeps_the_first_letter_and_the_domain_only(local: str, domain: str) -> None:
    key = normalize_email(f"{local}@{domain}")

    masked = mask_email(key)

    assert masked == f"{key[0]}***@{key.split('@')[1]}"
    if len(local) > 1:
        assert local.lower() not in masked


@pytest.mark.parametrize(
    "raw",
    ["", "ivan", "ivan@", "@gmail.com", "ivan@@gmail.com", "ivan@gmail", "a" * 300 + "@x.com"],
)
def test_bad_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalize_email(raw)


@given(RU_MOBILE, st.sampled_from(["+7{}", "8{}", "+7 ({}", "8-{}"]))
def test_a_russian_mobile_in_any_common_format_becomes_e164(digits: str, shape: str) -> None:
    number = phonenumbers.parse("+7" + digits)
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        return
    raw = shape.format(digits) if "(" not in shape else f"+7 ({digits[:3]}) {digits[3:]}"

    assert normalize_phone(raw, "ru") == "+7" + digits


@given(RU_MOBILE)
def test_a_masked_phone_shows_the_country_and_last_four_digits(digits: str) -> None:
    masked = mask_phone("+7" + digits)

    assert masked == f"+7 *** ***-{digits[-4:-2]}-{digits[-2:]}"
    assert digits[:6] not in masked.replace(" ", "")


def test_the_spec_examples_mask_as_shown() -> None:
    assert mask("ivan@gmail.com") == "i***@gmail.com"
    assert mask("+79161234567") == "+7 *** ***-45-67"


def test_the_region_comes_from_the_language_when_there_is_no_plus() -> None:
    assert normalize_phone("07911 123456", "en-GB") == "+447911123456"
    assert normalize_phone("(201) 555-2368", "en") == "+12015552368"
    with pytest.raises(InvalidPhone):
        normalize_phone("07911 123456", "ru")
    assert normalize_phone("+44 7911 123456", "ru") == "+447911123456"
