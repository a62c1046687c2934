"""Email and phone: parsing, the normalized key, and the masked form shown in chat and logs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import phonenumbers
from email_validator import EmailNotValidError, EmailSyntaxError, validate_email
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from core.domain.models import AddressKind
from core.errors import InvalidEmail, InvalidPhone

MAX_EMAIL_LENGTH = 254  # RFC 5321 §4.5.3.1.3, path limit less the angle brackets

# Region used to read a number typed without "+", from the person's language (PRODUCT §1.4.1).
_REGION_BY_LANGUAGE = {"ru": "RU", "uk": "UA", "be": "BY", "kk": "KZ", "en": "US"}
_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_email(raw: str) -> str:
    """The unique key of an address: IDN-decoded, lowercased, without surrounding spaces.

    email-validator lowercases only the domain; we lowercase the local part too, because no
    mainstream mailbox treats case as significant and two accounts must not hold "Ivan@" and
    "ivan@" as different logins.
    """
    text = raw.strip()
    if not text or len(text) > MAX_EMAIL_LENGTH:
        raise InvalidEmail("too_long" if text else "syntax")
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailSyntaxError as error:
        raise InvalidEmail("syntax") from error
    except EmailNotValidError as error:
        raise InvalidEmail("domain") from error
    return result.normalized.lower()


def provider_email(raw: str) -> str:
    """An email as the provider that verified it gave it, trimmed and lowercased.

    The provider has seen mail delivered there, so only its shape is checked: special-use and
    reserved domains (`corp.local`, `example.test`), which email-validator refuses whatever its
    options (its SPECIAL_USE_DOMAIN_NAMES list), are accepted here. A typed address goes through
    `normalize_email` instead.
    """
    text = raw.strip()
    local, _, domain = text.rpartition("@")
    if not local or not domain or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise InvalidEmail("syntax")
    if len(text) > MAX_EMAIL_LENGTH:
        raise InvalidEmail("too_long")
    try:
        return normalize_email(text)
    except InvalidEmail:
        return text.lower()


def region_for(locale: str | None) -> str:
    """The region of "en-GB" is GB; a bare language maps to its main country."""
    language, _, region = (locale or "").replace("_", "-").partition("-")
    if len(region) == 2 and region.isalpha():
        return region.upper()
    return _REGION_BY_LANGUAGE.get(language.lower(), "US")


def normalize_phone(raw: str, locale: str | None = None) -> str:
    """E.164 of a mobile number typed in any common format, or InvalidPhone with the reason."""
    return _phone_in(raw, region_for(locale))


def _phone_in(raw: str, region: str) -> str:
    """E.164 of a mobile number, read with `region` when it has no "+"."""
    text = raw.strip()
    if not any(ch.isdigit() for ch in text) or len(text) > 40:
        raise InvalidPhone("syntax")
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except NumberParseException as error:
        raise InvalidPhone("syntax") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not_a_number")
    if phonenumbers.number_type(number) not in _MOBILE:
        raise InvalidPhone("not_mobile")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def mask_email(address: str) -> str:
    """i***@gmail.com: enough for the owner to recognize, too little for anyone else."""
    local, _, domain = address.rpartition("@")
    if not local:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_phone(e164: str) -> str:
    """+7 *** ***-45-67: the country code and the last four digits."""
    digits = "".join(ch for ch in e164 if ch.isdigit())
    try:
        country = str(phonenumbers.parse(e164, None).country_code)
    except NumberParseException:
        country = digits[:1]
    if len(digits) < len(country) + 4:
        return "+" + "*" * len(digits)
    return f"+{country} *** ***-{digits[-4:-2]}-{digits[-2:]}"


def mask(address: str) -> str:
    return mask_email(address) if "@" in address else mask_phone(address)


def looks_like_email(login: str) -> bool:
    return "@" in login


def parse_login(raw: str, locales: Iterable[str | None] = ()) -> tuple[AddressKind, str]:
    """The kind and normalized key of a login, read the same way in the chat and on the web.

    An email is found as it was bound, a provider-verified one included (`provider_email`). A
    phone without "+" is read with the region of each of `locales` in turn, the first giving a
    mobile number wins: "8 (999) 123-45-67", "89991234567" and "+7 999 123-45-67" are one login.
    InvalidEmail / InvalidPhone (the reason for the first region) when it is neither.
    """
    if looks_like_email(raw):
        return AddressKind.EMAIL, provider_email(raw)
    regions = list(dict.fromkeys(region_for(locale) for locale in locales)) or [region_for(None)]
    try:
        return AddressKind.PHONE, _phone_in(raw, regions[0])
    except InvalidPhone:
        for region in regions[1:]:
            with contextlib.suppress(InvalidPhone):
                return AddressKind.PHONE, _phone_in(raw, region)
        raise


def format_phone(e164: str) -> str:
    """A readable international form, shown to the owner right after typing it."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), PhoneNumberFormat.INTERNATIONAL
        )
    except NumberParseException:
        return e164
