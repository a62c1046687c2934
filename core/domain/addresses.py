"""Email and phone: parsing, the normalized key, and the masked form shown in chat and logs."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, EmailSyntaxError, validate_email
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

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


def region_for(locale: str | None) -> str:
    """The region of "en-GB" is GB; a bare language maps to its main country."""
    language, _, region = (locale or "").replace("_", "-").partition("-")
    if len(region) == 2 and region.isalpha():
        return region.upper()
    return _REGION_BY_LANGUAGE.get(language.lower(), "US")


def normalize_phone(raw: str, locale: str | None = None) -> str:
    """E.164 of a mobile number typed in any common format, or InvalidPhone with the reason."""
    text = raw.strip()
    if not any(ch.isdigit() for ch in text) or len(text) > 40:
        raise InvalidPhone("syntax")
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region_for(locale))
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


def format_phone(e164: str) -> str:
    """A readable international form, shown to the owner right after typing it."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(e164, None), PhoneNumberFormat.INTERNATIONAL
        )
    except NumberParseException:
        return e164
