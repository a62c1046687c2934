"""The phone flow's own buttons: share the Telegram number, and the workspaces step's "Get code"."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards import flow as buttons

EXAMPLE = "+7 912 345-67-89"  # a number, the same in every language


def back_label() -> str:
    """The reply keyboard's Back: a plain text button, so the router compares the text."""
    return _("« Back")


def ask_number() -> ReplyKeyboardMarkup:
    """Step 1: Telegram fills in the person's own number with request_contact."""
    share = KeyboardButton(text=_("📱 Share my Telegram number"), request_contact=True)
    return ReplyKeyboardMarkup(
        keyboard=[[share], [KeyboardButton(text=back_label())]],
        resize_keyboard=True,
        input_field_placeholder=EXAMPLE,
    )


def workspaces(on: bool, *, sends_code: bool = True) -> InlineKeyboardMarkup:
    """The seed's checkbox, off by default, and then the SMS goes out ("Get code »"), or the
    number binds at once when Telegram vouched for it ("Continue »", PRODUCT §1.4.6)."""
    label = _("{mark} Update the phone in all my workspaces").format(mark="☑" if on else "☐")
    then = _("Get code »") if sends_code else _("Continue »")
    return buttons.choices("phone", [("toggle", label), ("continue", then)])
