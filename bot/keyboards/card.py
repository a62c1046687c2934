"""The account card's buttons and the sign-in buttons."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import Language, Menu
from core.domain.models import AccountView


def card(view: AccountView, *, phone_available: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Change email") if view.email else _("Bind email"),
        callback_data=Menu(action="email"),
    )
    if phone_available:
        kb.button(
            text=_("Change phone") if view.phone else _("Bind phone"),
            callback_data=Menu(action="phone"),
        )
    kb.button(
        text=_("Change password") if view.has_password else _("Create password"),
        callback_data=Menu(action="password"),
    )
    kb.button(text=_("Language"), callback_data=Menu(action="language"))
    kb.button(text=_("Support"), callback_data=Menu(action="support"))
    kb.button(text=_("Sign out"), callback_data=Menu(action="signout"))
    kb.adjust(1, 1, 1, 2, 1) if phone_available else kb.adjust(1, 1, 2, 1)
    return kb.as_markup()


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
