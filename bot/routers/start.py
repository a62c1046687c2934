"""/start and sign-in (PRODUCT §1.1): the greeting with provider links, terms, deep links."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import entry
from bot.callbacks import Step
from bot.keyboards import card as keyboards
from bot.routers.steps.card import leave_for_command, show_card
from bot.states import SignIn
from bot.talk import Talk


async def on_start(message: Message, command: CommandObject, talk: Talk) -> None:
    payload = command.args if command.args in entry.DEEP_LINKS else None
    left = await leave_for_command(talk)
    signed = talk.signed_in()
    if signed is None:
        await talk.remember(after_sign_in=payload)
        await send_sign_in(talk)
    elif await needs_terms(talk):
        await talk.remember(after_sign_in=payload)
        await ask_terms(talk)
    elif payload:
        if left:
            await talk.say(left)
        await entry.open_deep_link(signed, payload)
    else:
        await show_card(talk, note=left)


async def send_sign_in(talk: Talk, *, again: bool = False) -> None:
    """The greeting and one sign-in link per provider, made for this person."""
    providers = talk.services.settings.sign_in_providers()
    links = [
        (title, await talk.services.sign_in.create_link(talk.telegram, name))
        for name, title in providers
    ]
    if again:
        text = _("Here is a fresh sign-in link. It works once, for 10 minutes.")
    else:
        text = "\n\n".join(
            [
                _("Hello, {name}!").format(name=talk.user.first_name),
                _(
                    "I will help you add a login and a password to your account, so that you can "
                    "sign in even when the social network is not available."
                ),
                _(
                    "First, sign in with the network you registered with. The link works once, "
                    "for 10 minutes."
                ),
            ]
        )
    if not links:
        text += "\n\n" + _("No sign-in method is configured yet. Please write to support.")
    await talk.say(text, keyboards.sign_in(links))


async def needs_terms(talk: Talk) -> bool:
    if not talk.services.settings.terms_url or talk.account_id is None:
        return False
    view = await talk.services.account.view(talk.account_id)
    return view.account.terms_accepted_at is None


async def ask_terms(talk: Talk) -> None:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Read the agreement"), url=talk.services.settings.terms_url or "")
    kb.button(text=_("I accept"), callback_data=Step(flow="terms", choice="accept"))
    kb.adjust(1)
    await talk.state.set_state(SignIn.awaiting_terms)
    await talk.say(
        _("Before we go on, please read and accept the user agreement."),
        kb.as_markup(),
    )


async def on_terms_accepted(
    query: CallbackQuery, talk: Talk, callback_answer: CallbackAnswer
) -> None:
    if talk.account_id is None:
        return
    await talk.services.sign_in.accept_terms(talk.account_id, talk.actor)
    callback_answer.text = _("Thank you!")
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=InlineKeyboardMarkup(inline_keyboard=[]))
    await after_sign_in(talk)


async def after_sign_in(talk: Talk) -> None:
    """Where a fresh sign-in leads: the terms, a deep link asked for earlier, or the card."""
    if await needs_terms(talk):
        await ask_terms(talk)
        return
    payload = await talk.recall("after_sign_in")
    await talk.state.clear()
    signed = talk.signed_in()
    if payload in entry.DEEP_LINKS and signed is not None:
        await entry.open_deep_link(signed, payload)
    else:
        await show_card(talk)


def make_router() -> Router:
    """A fresh router with this module's handlers (no module-level router state)."""
    router = Router(name="start")
    router.message.register(on_start, CommandStart())
    router.callback_query.register(
        on_terms_accepted, SignIn.awaiting_terms, Step.filter(F.flow == "terms")
    )
    return router
