"""Commands that work at any point: /cancel first of all, then /help (STYLE §5)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.routers.steps.card import leave_flow, show_card
from bot.talk import Talk


async def on_cancel(message: Message, talk: Talk) -> None:
    """Stop whatever is going on; a code already sent simply expires."""
    was = await leave_flow(talk)
    if talk.account_id is None:
        await talk.say(_("Cancelled. Send /start to sign in."))
        return
    if was == "BindPhone:awaiting_number":
        note = None  # already said, with the keyboard removed
    else:
        note = _("Cancelled.") if was else _("There was nothing to cancel.")
    await show_card(talk, note=note)


async def on_help(message: Message, talk: Talk) -> None:
    await talk.say(
        "\n".join(
            [
                _(
                    "I help you add a login and a password to an account you made through a "
                    "social network."
                ),
                "",
                _("/start — sign in"),
                _("/me — your account"),
                _("/cancel — stop the current step"),
                _("/recover — forgot your password?"),
                _("/language — change the language"),
                _("/support — talk to a person"),
            ]
        )
    )


def make_router() -> Router:
    """A fresh router with this module's handlers (no module-level router state)."""
    router = Router(name="common")
    router.message.register(on_cancel, Command("cancel"))
    router.message.register(on_help, Command("help"))
    return router
