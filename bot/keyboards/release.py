"""Buttons of "a user with this address already exists" (PRODUCT §1.5) and its way to free it."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks import Step
from bot.keyboards import flow as buttons
from core.domain.models import AddressKind

FLOW = "taken"


def _button(choice: str, label: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=label, callback_data=Step(flow=FLOW, choice=choice).pack())]


def step_back() -> list[InlineKeyboardButton]:
    """Back to the three choices: what was started to free the address is dropped."""
    return _button("back", _("« Back"))


def offer(kind: AddressKind, support: str) -> InlineKeyboardMarkup:
    """The three ways on; `support` is the callback that opens the support conversation itself
    (choosing it is the person's answer already: nothing asks "write to support?" again)."""
    another = _("Use another email") if kind is AddressKind.EMAIL else _("Use another number")
    rows = [
        _button("another", another),
        _button("free", _("It is mine, free it")),
        [InlineKeyboardButton(text=_("Contact support"), callback_data=support)],
        [buttons.back()],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def proof() -> InlineKeyboardMarkup:
    """Under "I sent a code to the taken address"."""
    return InlineKeyboardMarkup(
        inline_keyboard=[_button("resend_proof", _("Send the code again")), step_back()]
    )


def new_address() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[step_back()])


def new_code(kind: AddressKind) -> InlineKeyboardMarkup:
    """Under "I sent a code to the other account's new address"."""
    change = _("Change the address") if kind is AddressKind.EMAIL else _("Change the number")
    rows = [
        _button("resend_new", _("Send the code again")),
        _button("change", change),
        step_back(),
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)
