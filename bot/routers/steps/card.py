"""The account card (PRODUCT §1.2) as every flow shows it at its end, and leaving a flow tidily."""

from __future__ import annotations

from aiogram.types import ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.keyboards import card as keyboards
from bot.talk import Talk


async def leave_flow(talk: Talk) -> str | None:
    """End whatever step is going on, tidily: returns the state that was left, if any."""
    was = await talk.state.get_state()
    await talk.state.clear()
    if was and was.startswith("AddressTaken:") and talk.account_id is not None:
        await talk.services.release.cancel(talk.account_id)
    if was == "BindPhone:awaiting_number":  # its reply keyboard would stay on screen
        await talk.say(_("Cancelled."), ReplyKeyboardRemove())
    return was


async def show_card(talk: Talk, *, note: str | None = None) -> None:
    if talk.account_id is None:
        await talk.say(_("Please sign in first: /start"))
        return
    view = await talk.services.account.view(talk.account_id)
    text = texts.card(view, oidc_name=talk.services.settings.oidc_name)
    if note:
        text = f"{note}\n\n{text}"
    markup = keyboards.card(view, phone_available=talk.services.bind_phone.available)
    await talk.say(text, markup)
