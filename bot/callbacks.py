"""Typed callback data: every inline button's payload, short enough for Telegram's 64 bytes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class Menu(CallbackData, prefix="m"):
    """Account card buttons: action is one of the names in `bot.keyboards.card`."""

    action: str


class Step(CallbackData, prefix="s"):
    """A choice inside a flow: `flow` names the flow, `choice` what was picked."""

    flow: str
    choice: str


class Language(CallbackData, prefix="l"):
    code: str
