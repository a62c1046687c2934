"""Support (PRODUCT §1.8), the agents' side: replies, /close, /whois and /reopen in a topic.

Included as its own top-level router, filtered to the support chat; only its members act.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, Filter
from aiogram.types import Message, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.routers.support.person import card_for, resume
from bot.states import Support
from bot.support import card, relay
from bot.support.desk import Desk
from bot.talk import Talk
from core.i18n import pick_locale


class AgentsOnly(Filter):
    """A message in a topic of the support chat from one of its members (getChatMember)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, Any]:
        sender = message.from_user
        if sender is None or sender.is_bot or message.message_thread_id is None:
            return False
        if not await self.desk.is_agent(bot, message.chat.id, sender.id):
            return False
        person = await self.desk.flow.person_in(message.chat.id, message.message_thread_id)
        return {"desk": self.desk, "person": person}


async def person_talk(bot: Bot, dispatcher: Dispatcher, desk: Desk, person: int) -> Talk:
    """The person's chat as their own handlers see it: state, account and language."""
    chat = await bot.get_chat(person)
    user = User(
        id=person,
        is_bot=False,
        first_name=chat.first_name or "",
        last_name=chat.last_name,
        username=chat.username,
    )
    services = desk.services
    found = await services.account.person(person)
    account_id, chosen = found if found else (None, None)
    locale = pick_locale(chosen, services.settings.default_locale)
    state = dispatcher.fsm.get_context(bot, person, person)
    return Talk(bot, user, state, services, account_id, locale)


async def reply(desk: Desk, bot: Bot, message: Message, text: str) -> None:
    chat_id, thread = message.chat.id, message.message_thread_id
    await desk.queue(chat_id).send(
        lambda: bot.send_message(chat_id, text, message_thread_id=thread)
    )


async def no_person(message: Message, person: int | None = None) -> bool:
    """A topic of the support chat that is not a person's conversation."""
    return person is None


async def on_no_person(message: Message, bot: Bot, desk: Desk) -> None:
    """/close, /whois or /reopen where there is nobody to act on."""
    await reply(desk, bot, message, _("This topic is not a person's conversation."))


async def on_close(
    message: Message, bot: Bot, dispatcher: Dispatcher, i18n: I18n, desk: Desk, person: int
) -> None:
    """Ends the handoff: the person is told and is back at their step, state and data."""
    handoff = await desk.flow.close(person)
    if handoff is None:
        await reply(desk, bot, message, _("The conversation is already closed."))
        return
    talk = await person_talk(bot, dispatcher, desk, person)
    desk.line(person).reset(None)
    with i18n.use_locale(talk.locale):
        await resume(talk, handoff, _("Support has closed the conversation. Thank you!"))
    step = card.step_label(handoff.saved_state)
    await reply(desk, bot, message, _("Closed. The person is back at: {step}.").format(step=step))


async def on_whois(
    message: Message, bot: Bot, dispatcher: Dispatcher, i18n: I18n, desk: Desk, person: int
) -> None:
    """The context card again, for the open handoff or the last one."""
    handoff = await desk.flow.current(person) or await desk.flow.store.last(person)
    if handoff is None:
        await reply(desk, bot, message, _("This person has not asked for support yet."))
        return
    talk = await person_talk(bot, dispatcher, desk, person)
    await reply(desk, bot, message, await card_for(talk, handoff, i18n)())


async def on_reopen(
    message: Message, bot: Bot, dispatcher: Dispatcher, i18n: I18n, desk: Desk, person: int
) -> None:
    """Opens the conversation again; the person's current step is saved as on any handoff."""
    if await desk.flow.current(person) is not None:
        await reply(desk, bot, message, _("The conversation is open already."))
        return
    talk = await person_talk(bot, dispatcher, desk, person)
    state, data = await talk.state.get_state(), await talk.state.get_data()
    if await desk.flow.reopen(person, state, data) is None:
        await reply(desk, bot, message, _("This person has not asked for support yet."))
        return
    await talk.state.set_state(Support.in_handoff)
    with i18n.use_locale(talk.locale):
        told = await talk.say(
            _("Support has reopened the conversation. Send /end to go back to where you were.")
        )
    desk.line(person).reset(told.message_id)
    await reply(desk, bot, message, _("Reopened. Your messages reach the person again."))


async def on_agent_message(message: Message, bot: Bot, desk: Desk, person: int | None) -> None:
    """An agent's reply in a person's topic goes to that person while the handoff is open."""
    if person is None or message.content_type not in ("text", "photo", "document"):
        return
    if await desk.flow.current(person) is None:
        await reply(desk, bot, message, _("The conversation is closed; /reopen to write again."))
        return
    await relay.topic_to_person(desk, bot, message, person)


def make_router(desk: Desk, chat_id: int) -> Router:
    """A fresh router for the support chat `chat_id` (no module-level router state)."""
    router = Router(name="support_desk")
    router.message.filter(F.chat.id == chat_id, AgentsOnly(desk))
    router.message.register(on_no_person, Command("close", "whois", "reopen"), no_person)
    router.message.register(on_close, Command("close"))
    router.message.register(on_whois, Command("whois"))
    router.message.register(on_reopen, Command("reopen"))
    router.message.register(on_agent_message)
    return router
