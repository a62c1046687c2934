"""Waiting for a code (PRODUCT §1.3 step 6, §1.4 step 4): one handler for the buttons under "code
sent" in every flow that sends one — resend, change the address, "the code is not arriving"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import F, Router
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import Step
from bot.keyboards import flow as buttons
from bot.routers.steps.returns import Next
from bot.talk import SignedTalk, Talk
from core.errors import DomainError
from core.flows.binding import BindingFlow

# Sends the code again and returns the words for the pressed message (None: already answered).
Send = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True)
class WaitingForCode:
    """What one flow does for each button under its "code sent" message."""

    flow: str
    change: Next  # the pending code cancelled, back to step 1
    resumed: Callable[[SignedTalk], Awaitable[bool]]  # bound meanwhile: said so (PRODUCT §3)
    not_arriving: Next  # the tips, counted as trouble
    resend: Callable[[SignedTalk], Awaitable[str | None]]  # the words, as `Send`

    async def on_choice(
        self,
        query: CallbackQuery,
        callback_data: Step,
        talk: SignedTalk,
        callback_answer: CallbackAnswer,
    ) -> None:
        if callback_data.choice == "change":
            await self.change(talk)
        elif await self.resumed(talk):  # the address is bound already (PRODUCT §3)
            return
        elif callback_data.choice == "help":
            await self.not_arriving(talk)
        elif callback_data.choice == "resend":
            markup = buttons.waiting_code(self.flow)
            await resent(query, talk, callback_answer, markup, lambda: self.resend(talk))

    def register(self, router: Router, state: State) -> None:
        """On a router of signed-in chats only (`bot.filters.signed_in_only`)."""
        router.callback_query.register(self.on_choice, state, Step.filter(F.flow == self.flow))


async def bound_meanwhile(
    talk: SignedTalk,
    flow: BindingFlow,
    key: str,
    then: Callable[[SignedTalk, str], Awaitable[None]],
) -> bool:
    """PRODUCT §3: the address this conversation binds (its data's `key`) is confirmed on the
    account already, by a step that was cut short (the code or the link used, then a crash):
    `then` says so and goes on, instead of "expired" or "already yours"."""
    address = await talk.recall(key)
    if not address or not await flow.is_bound(talk.account_id, address):
        return False
    await then(talk, address)
    return True


TIPS = "tips_message"  # the conversation data's key of the "code not arriving" message shown


async def tips(talk: Talk, text: str, markup: InlineKeyboardMarkup) -> None:
    """ "The code is not arriving": the tips come once, and a second tap edits that message
    (saying it is still missing) instead of adding another one."""
    shown = await talk.recall(TIPS)
    if shown:
        await talk.edit(int(shown), _("Still no code?") + "\n" + text, markup)
        return
    sent = await talk.say(text, markup)
    await talk.remember(**{TIPS: sent.message_id})


async def resent(
    query: CallbackQuery,
    talk: Talk,
    callback_answer: CallbackAnswer,
    markup: InlineKeyboardMarkup,
    send: Send,
) -> None:
    """A new code: the pressed message is edited to say so, not a new message each time. A
    refusal (ResendTooSoon above all) is shown on the button, and nothing is sent."""
    try:
        text = await send()
    except DomainError as error:  # said from its stored deadline, read now (PRODUCT §1.9)
        callback_answer.text = texts.explain(error, talk.services.clock.now())
        callback_answer.show_alert = True
        return
    if text is not None and isinstance(query.message, Message):
        await talk.edit(query.message.message_id, text, markup)
