"""The account card's buttons and the sign-in buttons."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import Language, Menu, SignOutOf, workspace_ref
from core.domain.models import AccountView


def card(
    view: AccountView,
    *,
    phone_available: bool,
    workspaces: Sequence[tuple[str, str]] = (),
) -> InlineKeyboardMarkup:
    """`workspaces`: (client id, title) of each workspace the account is signed in to."""
    kb = InlineKeyboardBuilder()
    email = InlineKeyboardButton(
        text=_("Change email") if view.email else _("Bind email"),
        callback_data=Menu(action="email").pack(),
    )
    kb.row(email, *_second(view.email is not None, _("Unbind email"), "unbind_email"))
    if phone_available:
        phone = InlineKeyboardButton(
            text=_("Change phone") if view.phone else _("Bind phone"),
            callback_data=Menu(action="phone").pack(),
        )
        kb.row(phone, *_second(view.phone is not None, _("Unbind phone"), "unbind_phone"))
    login = bool(view.email or view.phone)
    # A password is created only beside a login (PRODUCT §1.6): without one, binding an email
    # or a phone asks for it. Recovery needs a password to replace and an address for the code.
    if view.has_password or login:
        password = InlineKeyboardButton(
            text=_("Change password") if view.has_password else _("Create password"),
            callback_data=Menu(action="password").pack(),
        )
        recoverable = view.has_password and login
        kb.row(password, *_second(recoverable, _("Forgot password?"), "recover"))
    for client_id, title in workspaces:  # PRODUCT §1.11: sign out of one workspace
        kb.row(
            InlineKeyboardButton(
                text=_("Sign out of {workspace}").format(workspace=title),
                callback_data=SignOutOf(ref=workspace_ref(client_id)).pack(),
            )
        )
    kb.row(
        InlineKeyboardButton(text=_("Language"), callback_data=Menu(action="language").pack()),
        InlineKeyboardButton(text=_("Support"), callback_data=Menu(action="support").pack()),
    )
    kb.row(
        InlineKeyboardButton(text=_("Sign out"), callback_data=Menu(action="signout").pack()),
        # PRODUCT §1.12: the next step warns plainly and asks for a confirmation.
        InlineKeyboardButton(text=_("Delete account"), callback_data=Menu(action="delete").pack()),
    )
    return kb.as_markup()


def _second(shown: bool, label: str, action: str) -> list[InlineKeyboardButton]:
    """A second button in the row, when it applies."""
    if not shown:
        return []
    return [InlineKeyboardButton(text=label, callback_data=Menu(action=action).pack())]


def sign_in(links: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """One URL button per configured provider: (title, link)."""
    rows = [
        [InlineKeyboardButton(text=_("Sign in with {provider}").format(provider=title), url=url)]
        for title, url in links
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def languages() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="Русский", callback_data=Language(code="ru"))
    kb.button(text="English", callback_data=Language(code="en"))
    return kb.as_markup()


def back_to_card() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("« Back to my account"), callback_data=Menu(action="card"))
    return kb.as_markup()
