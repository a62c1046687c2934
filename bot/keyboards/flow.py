"""Buttons shared by the flows: Back, the workspaces toggle, resend, the secure password page."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import Back, Menu, Step

BACK = Menu(action="back").pack()  # a Back not yet tied to its step


def back() -> InlineKeyboardButton:
    """The step before this one, or the card from a flow's first step (`Returns.back`)."""
    return InlineKeyboardButton(text=_("« Back"), callback_data=BACK)


def at_step(markup: InlineKeyboardMarkup, state: str | None) -> InlineKeyboardMarkup:
    """The markup with its "« Back" tied to the step it is shown at (`Back`), so that a tap on
    it after that step ended gets the stale-button answer instead of moving a later step: no
    edit of old messages is needed (each would count against the chat's flood limit)."""
    if state is None or not any(
        b.callback_data == BACK for row in markup.inline_keyboard for b in row
    ):
        return markup
    data = Back.of(state).pack()
    rows = [
        [
            b.model_copy(update={"callback_data": data}) if b.callback_data == BACK else b
            for b in row
        ]
        for row in markup.inline_keyboard
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def only_back() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[back()]])


def choices(
    flow: str, options: list[tuple[str, str]], *, with_back: bool = True
) -> InlineKeyboardMarkup:
    """One button per (choice, label), each on its own row, then Back."""
    rows = [
        [InlineKeyboardButton(text=label, callback_data=Step(flow=flow, choice=choice).pack())]
        for choice, label in options
    ]
    if with_back:
        rows.append([back()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def workspaces(flow: str, on: bool) -> InlineKeyboardMarkup:
    """The seed's checkbox: "update in all my workspaces", off by default."""
    mark = "☑" if on else "☐"
    if flow == "email":
        label = _("{mark} Update the email in all my workspaces").format(mark=mark)
    else:
        label = _("{mark} Update the phone in all my workspaces").format(mark=mark)
    return choices(flow, [("toggle", label), ("continue", _("Continue »"))])


def waiting_code(flow: str) -> InlineKeyboardMarkup:
    """Under "code sent": resend, change the address, not arriving, support."""
    options = [
        ("resend", _("Send the code again")),
        ("change", _("Change the address") if flow == "email" else _("Change the number")),
        ("help", _("The code is not arriving")),
    ]
    return choices(flow, options)


def secure_page(url: str, *, web_app: bool) -> InlineKeyboardMarkup:
    """Create the password on a one-time page; a Telegram Web App when the site is HTTPS."""
    label = _("🔒 Create password on a secure page")
    button = (
        InlineKeyboardButton(text=label, web_app=WebAppInfo(url=url))
        if web_app
        else InlineKeyboardButton(text=label, url=url)
    )
    return InlineKeyboardMarkup(inline_keyboard=[[button], [back()]])


def single(flow: str, choice: str, label: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=label, callback_data=Step(flow=flow, choice=choice))
    return kb.as_markup()
