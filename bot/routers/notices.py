"""Notices to a chat about its account, sent because of something done elsewhere (PRODUCT §1.10):
another Telegram account joined (with a button to unlink it), an address was released to another
account. They interrupt no step: a plain message, and the step in progress goes on.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.talk import Talk
from core.notices import AddressReleased, TelegramLinked


class Unlink(CallbackData, prefix="u"):
    """ "Unlink this Telegram account" under the notice of a newcomer (PRODUCT §1.1.8)."""

    user: int


async def telegram_linked(talk: Talk, notice: TelegramLinked) -> None:
    """Every chat already linked hears of the newcomer, with a way to unlink it."""
    text = "\n\n".join(
        [
            _("Another Telegram account was just linked to your account: {who}.").format(
                who=notice.newcomer
            ),
            _("If it was not you, unlink it: it will be signed out at once."),
        ]
    )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Unlink this Telegram account"), callback_data=Unlink(user=notice.newcomer_id))
    await talk.say(text, kb.as_markup())


async def joined(talk: Talk) -> None:
    """The newcomer's own chat: it joined an account that others already use."""
    await talk.say(
        _(
            "This social account already had an account here, so this Telegram account is now "
            "linked to it too. Its other Telegram accounts were told."
        )
    )


async def address_released(talk: Talk, notice: AddressReleased) -> None:
    """The account that gave its address away by "It's mine, free it" (PRODUCT §1.5, §1.10)."""
    if notice.kind == "email":
        text = _(
            "Your email {old} was moved to another account: whoever did it proved they control "
            "it. Your account now signs in with {new}."
        )
    else:
        text = _(
            "Your phone {old} was moved to another account: whoever did it proved they control "
            "it. Your account now signs in with {new}."
        )
    await talk.say(text.format(old=notice.released, new=notice.new_address))


async def unlinked(talk: Talk) -> None:
    """This chat was unlinked by another chat of the account: it is signed out here."""
    await talk.state.clear()
    await talk.say(
        _(
            "Another Telegram account of your account unlinked this one, so you are signed out "
            "here. To sign in again: /start"
        )
    )


async def on_unlink(query: CallbackQuery, callback_data: Unlink, talk: Talk) -> None:
    done = talk.account_id is not None and await talk.services.sign_in.unlink_newcomer(
        talk.account_id, callback_data.user, talk.user.id
    )
    if query.message is not None:
        await talk.bot.edit_message_reply_markup(
            chat_id=talk.chat_id,
            message_id=query.message.message_id,
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[]),
        )
    if done:
        await talk.say(_("Done: that Telegram account is no longer linked to your account."))
    else:
        await talk.say(_("That Telegram account is not linked to your account any more."))


def make_router() -> Router:
    """A fresh router with this module's handlers; in any step, which goes on afterwards."""
    router = Router(name="notices")
    router.callback_query.register(on_unlink, Unlink.filter())
    return router
