"""Localized letters and SMS texts: plain text plus self-contained, mobile-friendly HTML."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from core.i18n import translator
from core.ports import Letter

PRODUCT = "Account assistant"


@dataclass(frozen=True)
class _Content:
    """What one letter says, before it is laid out as text and HTML."""

    subject: str
    paragraphs: tuple[str, ...]
    code: str | None = None
    button: tuple[str, str] | None = None  # (label, URL)
    closing: tuple[str, ...] = ()


def confirmation_letter(
    locale: str, to: str, code: str, link: str, ttl_minutes: int, product: str = PRODUCT
) -> Letter:
    """Bind an email: the link or the 6-digit code confirms it, whichever is handier."""
    t = translator(locale)
    _ = t.gettext
    content = _Content(
        subject=_("Confirm your email address"),
        paragraphs=(
            _("This address is being added to your {product} account.").format(product=product),
            _("To confirm it, press the button or type the code in the chat with the bot."),
        ),
        code=code,
        button=(_("Confirm email"), link),
        closing=(
            t.ngettext(
                "The link and the code are valid for {minutes} minute.",
                "The link and the code are valid for {minutes} minutes.",
                ttl_minutes,
            ).format(minutes=ttl_minutes),
            _("If it was not you, just ignore this letter."),
        ),
    )
    return _render(locale, to, content, product)


def release_letter(
    locale: str, to: str, code: str, ttl_minutes: int, product: str = PRODUCT
) -> Letter:
    """Someone asked to free this address for another account; the code proves control of it."""
    _ = translator(locale).gettext
    content = _Content(
        subject=_("Confirm that this address is yours"),
        paragraphs=(
            _(
                "Someone asked to move this address from your {product} account to another one."
            ).format(product=product),
            _("If it was you, type this code in the chat with the bot to confirm the move."),
        ),
        code=code,
        closing=(
            _code_lifetime(locale, ttl_minutes),
            _("If it was not you, just ignore this letter: the address stays with your account."),
        ),
    )
    return _render(locale, to, content, product)


def new_address_letter(
    locale: str, to: str, code: str, ttl_minutes: int, product: str = PRODUCT
) -> Letter:
    """The new address of an account whose old one is being freed (PRODUCT §1.5); code only."""
    _ = translator(locale).gettext
    content = _Content(
        subject=_("Confirm the new address of your account"),
        paragraphs=(
            _(
                "This address is becoming the new email of your {product} account, instead of "
                "the one you are moving to another account."
            ).format(product=product),
            _("To confirm it, type this code in the chat with the bot."),
        ),
        code=code,
        closing=(
            _code_lifetime(locale, ttl_minutes),
            _("If it was not you, just ignore this letter."),
        ),
    )
    return _render(locale, to, content, product)


def recovery_letter(
    locale: str, to: str, code: str, ttl_minutes: int, product: str = PRODUCT
) -> Letter:
    """Password recovery through a bound email."""
    _ = translator(locale).gettext
    content = _Content(
        subject=_("Password recovery code"),
        paragraphs=(
            _("We received a request to reset the password of your {product} account.").format(
                product=product
            ),
            _("To set a new password, type this code in the chat with the bot."),
        ),
        code=code,
        closing=(
            _code_lifetime(locale, ttl_minutes),
            _("If it was not you, just ignore this letter: your password stays the same."),
        ),
    )
    return _render(locale, to, content, product)


def email_changed_notice(
    locale: str, to: str, new_address_masked: str, product: str = PRODUCT
) -> Letter:
    """Sent to the old address when the account's email changes (PRODUCT §1.7)."""
    _ = translator(locale).gettext
    content = _Content(
        subject=_("The email of your account has changed"),
        paragraphs=(
            _("The email of your {product} account has been changed to {address}.").format(
                product=product, address=new_address_masked
            ),
            _("Letters will now go there, and this address no longer works for signing in."),
        ),
        closing=(_("If you did not do this, contact support in the bot right away."),),
    )
    return _render(locale, to, content, product)


def password_changed_notice(locale: str, to: str, product: str = PRODUCT) -> Letter:
    """Sent when the account's password changes."""
    _ = translator(locale).gettext
    content = _Content(
        subject=_("Your password has been changed"),
        paragraphs=(
            _("The password of your {product} account has just been changed.").format(
                product=product
            ),
            _("If it was you, there is nothing else to do."),
        ),
        closing=(_("If not, recover your password in the bot and contact support right away."),),
    )
    return _render(locale, to, content, product)


def sms_code_text(locale: str, code: str, ttl_minutes: int) -> str:
    """A phone confirmation code; short, so it fits one SMS in Cyrillic too."""
    _ = translator(locale).gettext
    return _("Confirmation code: {code}. Valid for {minutes} min. Do not share it.").format(
        code=code, minutes=ttl_minutes
    )


def sms_recovery_text(locale: str, code: str, ttl_minutes: int) -> str:
    """A password recovery code sent by SMS."""
    _ = translator(locale).gettext
    return _("Password recovery code: {code}. Valid for {minutes} min. Do not share it.").format(
        code=code, minutes=ttl_minutes
    )


def _code_lifetime(locale: str, minutes: int) -> str:
    return (
        translator(locale)
        .ngettext(
            "The code is valid for {minutes} minute.",
            "The code is valid for {minutes} minutes.",
            minutes,
        )
        .format(minutes=minutes)
    )


def _render(locale: str, to: str, content: _Content, product: str) -> Letter:
    _ = translator(locale).gettext
    greeting = _("Hello!")
    footer = _("This letter was sent automatically by {product}; there is no need to reply.")
    footer = footer.format(product=product)
    text = _plain_text(locale, greeting, content, footer)
    html = _html(locale, greeting, content, footer)
    return Letter(to=to, subject=content.subject, text=text, html=html)


def _plain_text(locale: str, greeting: str, content: _Content, footer: str) -> str:
    _ = translator(locale).gettext
    blocks = [greeting, *content.paragraphs]
    if content.code is not None:
        blocks.append(_("Your code: {code}").format(code=content.code))
    if content.button is not None:
        blocks.append(f"{content.button[0]}: {content.button[1]}")
    blocks += [*content.closing, "-- \n" + footer]
    return "\n\n".join(blocks) + "\n"


# Mail clients drop <style> blocks and block remote images, so everything is inline and local.
_P = '<p style="margin:0 0 16px;font-size:16px;line-height:24px;color:#1f2933">{}</p>'
_CODE = (
    '<p style="margin:0 0 8px;font-size:14px;color:#52606d">{label}</p>'
    '<p style="margin:0 0 24px;font-size:36px;line-height:44px;font-weight:bold;'
    "letter-spacing:6px;font-family:'SFMono-Regular',Consolas,monospace;color:#102a43\">"
    "{code}</p>"
)
_BUTTON = (
    '<p style="margin:0 0 24px"><a href="{url}" style="display:inline-block;padding:14px 28px;'
    "background:#2563eb;color:#ffffff;font-size:16px;font-weight:bold;text-decoration:none;"
    'border-radius:8px">{label}</a></p>'
    '<p style="margin:0 0 24px;font-size:13px;line-height:20px;color:#52606d">{hint}<br>'
    '<a href="{url}" style="color:#2563eb;word-break:break-all">{url}</a></p>'
)
_PAGE = (
    '<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>'
    '</head><body style="margin:0;padding:0;background:#f5f7fa">'
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
    'style="background:#f5f7fa"><tr><td align="center" style="padding:24px 12px">'
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
    'style="max-width:520px;background:#ffffff;border-radius:12px">'
    "<tr><td style=\"padding:32px 24px;font-family:-apple-system,'Segoe UI',Roboto,Arial,"
    'sans-serif">{body}</td></tr></table>'
    '<p style="margin:16px 0 0;font-family:Arial,sans-serif;font-size:12px;color:#7b8794">'
    "{footer}</p></td></tr></table></body></html>"
)


def _html(locale: str, greeting: str, content: _Content, footer: str) -> str:
    _ = translator(locale).gettext
    parts = [_P.format(escape(line)) for line in (greeting, *content.paragraphs)]
    if content.code is not None:
        parts.append(_CODE.format(label=escape(_("Your code:")), code=escape(content.code)))
    if content.button is not None:
        label, url = content.button
        hint = _("If the button does not work, copy this link into your browser:")
        parts.append(_BUTTON.format(url=escape(url), label=escape(label), hint=escape(hint)))
    parts += [_P.format(escape(line)) for line in content.closing]
    return _PAGE.format(
        lang=escape(locale),
        title=escape(content.subject),
        body="".join(parts),
        footer=escape(footer),
    )
