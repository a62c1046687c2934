"""Localized letters and SMS texts, rendered from the templates in core/templates/.

Each letter's copy is one template, `letters/NAME.jinja`, which sets its subject, paragraphs,
button label and closing lines; `letters/letter.txt` and `letters/letter.html` lay any letter out
as plain text and as self-contained, mobile-friendly HTML (autoescaped, so names and addresses
that come from the person are escaped). gettext reads the same catalogs as the bot (core.i18n).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from core.i18n import translator
from core.ports import Letter

PRODUCT = "Account assistant"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def confirmation_letter(
    locale: str, to: str, code: str, link: str, ttl_minutes: int, product: str = PRODUCT
) -> Letter:
    """Bind an email: the link or the 6-digit code confirms it, whichever is handier."""
    return _letter("confirmation", locale, to, product, code=code, link=link, minutes=ttl_minutes)


def release_letter(
    locale: str, to: str, code: str, ttl_minutes: int, product: str = PRODUCT
) -> Letter:
    """Someone asked to free this address for another account; the code proves control of it."""
    return _letter("release", locale, to, product, code=code, minutes=ttl_minutes)


def new_address_letter(
    locale: str, to: str, code: str, ttl_minutes: int, product: str = PRODUCT
) -> Letter:
    """The new address of an account whose old one is being freed (PRODUCT §1.5); code only."""
    return _letter("new_address", locale, to, product, code=code, minutes=ttl_minutes)


def recovery_letter(
    locale: str, to: str, code: str, ttl_minutes: int, product: str = PRODUCT
) -> Letter:
    """Password recovery through a bound email."""
    return _letter("recovery", locale, to, product, code=code, minutes=ttl_minutes)


def email_changed_notice(
    locale: str, to: str, new_address_masked: str, product: str = PRODUCT
) -> Letter:
    """Sent to the old address when the account's email changes (PRODUCT §1.7)."""
    return _letter("email_changed", locale, to, product, address=new_address_masked)


def address_moved_notice(
    locale: str, to: str, address_masked: str, new_address_masked: str, product: str = PRODUCT
) -> Letter:
    """Sent to an address moved to another account by "It's mine, free it" (PRODUCT §1.5, §1.10)."""
    return _letter(
        "address_moved", locale, to, product, address=address_masked, new=new_address_masked
    )


def telegram_linked_notice(locale: str, to: str, who_masked: str, product: str = PRODUCT) -> Letter:
    """Sent to the bound email when another Telegram account joins the account (PRODUCT §1.10)."""
    return _letter("telegram_linked", locale, to, product, who=who_masked)


def password_changed_notice(locale: str, to: str, product: str = PRODUCT) -> Letter:
    """Sent when the account's password changes."""
    return _letter("password_changed", locale, to, product)


def deletion_letter(
    locale: str, to: str, code: str, ttl_minutes: int, product: str = PRODUCT
) -> Letter:
    """The code that confirms deleting the account (PRODUCT §1.12)."""
    return _letter("deletion", locale, to, product, code=code, minutes=ttl_minutes)


def account_deleted_notice(locale: str, to: str, product: str = PRODUCT) -> Letter:
    """Sent to the bound email once the account is deleted (PRODUCT §1.12)."""
    return _letter("account_deleted", locale, to, product)


def sms_code_text(locale: str, code: str, ttl_minutes: int) -> str:
    """A phone confirmation code; short, so it fits one SMS in Cyrillic too."""
    return _render(locale, "sms/code.txt", code=code, minutes=ttl_minutes).strip()


def sms_recovery_text(locale: str, code: str, ttl_minutes: int) -> str:
    """A password recovery code sent by SMS."""
    return _render(locale, "sms/recovery.txt", code=code, minutes=ttl_minutes).strip()


def sms_number_moved_text(locale: str) -> str:
    """Sent to a number moved to another account by "It's mine, free it" (PRODUCT §1.10)."""
    return _render(locale, "sms/number_moved.txt").strip()


def sms_deletion_text(locale: str, code: str, ttl_minutes: int) -> str:
    """The code that confirms deleting the account, sent by SMS (PRODUCT §1.12)."""
    return _render(locale, "sms/deletion.txt", code=code, minutes=ttl_minutes).strip()


def _letter(name: str, locale: str, to: str, product: str, **values: Any) -> Letter:
    """One letter: its copy (letters/NAME.jinja) laid out as the text and the HTML part."""
    context: dict[str, Any] = {"product": product, "code": None, "link": None}
    context.update(values)
    template = _environment(locale).get_template(f"letters/{name}.jinja")
    copy = template.make_module({"locale": locale, **context})
    return Letter(
        to=to,
        subject=str(vars(copy)["subject"]),
        text=_render(locale, "letters/letter.txt", letter=copy, **context),
        html=_render(locale, "letters/letter.html", letter=copy, **context),
    )


def _render(locale: str, template: str, /, **context: Any) -> str:
    return _environment(locale).get_template(template).render(locale=locale, **context)


@cache
def _environment(locale: str) -> Environment:
    """Templates with one locale's gettext installed; HTML parts are autoescaped, text is not."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(translator(locale), newstyle=False)  # type: ignore[attr-defined]
    return environment
