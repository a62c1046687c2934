"""Support (PRODUCT §1.8), the person's side: hand the chat to people, relay, and come back."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n

from bot.callbacks import Step
from bot.routers.steps.card import show_card
from bot.routers.steps.trouble import SUPPORT
from bot.states import Support, hint_for
from bot.support import card, relay
from bot.support.desk import desk_for
from bot.talk import Talk
from core.support_ports import Handoff

RELAYED = ("text", "photo", "document")


def contact_text(talk: Talk) -> str:
    configured = talk.services.settings.support_contact_text
    return configured or _("Support is not available in this chat yet. Please try again later.")


async def begin(talk: Talk) -> None:
    """The Support button, /support and the `support` deep link."""
    await hand_over(talk, "asked")


async def on_offer(query: CallbackQuery, callback_data: Step, talk: Talk) -> None:
    """The buttons of `bot.routers.steps.trouble.offer_support`."""
    choice, _sep, reason = callback_data.choice.partition(".")
    if choice == "yes":
        await hand_over(talk, reason or "offered")
    else:
        hint = hint_for(await talk.state.get_state())
        text = _("All right. Let us go on.")
        await talk.say(f"{text} {hint}" if hint else text)


async def hand_over(talk: Talk, reason: str) -> None:
    """Save the step, enter the handoff and put the context card in the person's topic."""
    chat_id = talk.services.settings.support_chat_id
    if chat_id is None:
        await talk.say(contact_text(talk))
        return
    state = await talk.state.get_state()
    if state == Support.in_handoff.state:
        await talk.say(_("You are already talking to support. Send /end to go back."))
        return
    desk = desk_for(talk.services)
    data = await talk.state.get_data()
    handoff, _created = await desk.flow.open(talk.user.id, talk.account_id, reason, state, data)
    await talk.state.set_state(Support.in_handoff)
    told = await talk.say(
        _(
            "I have passed our conversation to a person from support. They will answer here. "
            "Everything you write now goes to them; do not send codes or passwords.\n\n"
            "Send /end to go back to where you were."
        )
    )
    line = desk.line(talk.user.id)
    line.reset(told.message_id)  # what the person writes from here on is relayed in order
    show = card_for(talk, handoff, get_i18n())
    await line.run(0, lambda: relay.post_card(desk, talk.bot, chat_id, talk.user, show))


def card_for(talk: Talk, handoff: Handoff, i18n: I18n) -> relay.Card:
    """The card, made when needed, in the agents' language (DEFAULT_LOCALE)."""

    async def show() -> str:
        with i18n.use_locale(talk.services.settings.default_locale):
            return await card.render(talk.services, talk.user, handoff, talk.state, talk.locale)

    return show


async def on_message(message: Message, talk: Talk) -> None:
    """While the handoff is open, what the person writes goes to their topic."""
    chat_id = talk.services.settings.support_chat_id
    desk = desk_for(talk.services)
    handoff = await desk.flow.current(talk.user.id)
    if chat_id is None or handoff is None:
        await talk.state.clear()
        await talk.say(_("The conversation with support has ended. Send /me for your account."))
        return
    line = desk.line(talk.user.id)
    if message.content_type not in RELAYED:
        told = await talk.say(_("Only text, photos and documents reach support."))
        await line.account(message.message_id)
        await line.account(told.message_id)
        return
    show = card_for(talk, handoff, get_i18n())
    await line.run(
        message.message_id,
        lambda: relay.person_to_topic(desk, talk.bot, chat_id, message, show),
    )


async def on_end(message: Message, talk: Talk) -> None:
    """/end (or /cancel) by the person: the handoff closes and the paused step comes back."""
    desk = desk_for(talk.services)
    handoff = await desk.flow.close(talk.user.id)
    await resume(talk, handoff, _("You have left the conversation with support."))
    chat_id = talk.services.settings.support_chat_id
    if handoff is not None and chat_id is not None:
        show = card_for(talk, handoff, get_i18n())
        text = _("The person ended the conversation.")
        line = desk.line(talk.user.id)
        await line.run(
            message.message_id, lambda: relay.note(desk, talk.bot, chat_id, talk.user, text, show)
        )
        line.reset(None)


async def resume(talk: Talk, handoff: Handoff | None, note: str) -> None:
    """Put back the state and data saved at the handoff, and ask for that step again."""
    saved = handoff.saved_state if handoff else None
    await talk.state.set_state(saved)
    await talk.state.set_data(dict(handoff.saved_data) if handoff else {})
    hint = hint_for(saved)
    if hint is None:
        await show_card(talk, note=note)
        return
    again = _("Let us go on where you left off.")
    await talk.say(f"{note}\n\n{again} {hint}")


async def on_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("You are talking to support now. Send /end to go back first.")
    callback_answer.show_alert = True


async def on_support(message: Message, talk: Talk) -> None:
    await hand_over(talk, "asked")


async def open_in_database(message: Message, talk: Talk) -> bool:
    """The conversation store forgot the handoff (memory storage, a restart); the database
    did not: the person is put back in it."""
    if talk.services.settings.support_chat_id is None:
        return False
    if await desk_for(talk.services).flow.current(talk.user.id) is None:
        return False
    await talk.state.set_state(Support.in_handoff)
    return True


def make_router() -> Router:
    """A fresh router with this module's handlers (no module-level router state)."""
    router = Router(name="support")
    router.message.register(on_end, Support.in_handoff, Command("end", "cancel"))
    router.message.register(on_message, Support.in_handoff)
    # Cheap filters first: the database is asked only about a stateless, relayable message.
    stateless = StateFilter(None)
    router.message.register(on_end, stateless, Command("end", "cancel"), open_in_database)
    router.message.register(on_message, stateless, ~F.text.startswith("/"), open_in_database)
    router.callback_query.register(on_button, Support.in_handoff)
    router.message.register(on_support, Command("support"))
    router.callback_query.register(on_offer, Step.filter(F.flow == SUPPORT))
    return router
