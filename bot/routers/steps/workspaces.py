"""The workspaces question of a binding (PRODUCT §1.3 step 4, §1.4): "update it in all my
workspaces too?", a checkbox off by default, then on to the next step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import F, Router
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.callbacks import Step
from bot.routers.steps.returns import Next
from bot.talk import SignedTalk

KEY = "workspaces"  # the conversation data's key of the checkbox


@dataclass(frozen=True)
class Workspaces:
    flow: str
    # The checkbox, on or off, and Continue, as this conversation shows them.
    markup: Callable[[SignedTalk, bool], Awaitable[InlineKeyboardMarkup]]
    then: Next

    async def on_toggle(self, query: CallbackQuery, talk: SignedTalk) -> None:
        on = not await talk.recall(KEY, False)
        await talk.remember(**{KEY: on})
        if isinstance(query.message, Message):
            markup = await talk.at_step(await self.markup(talk, on))
            await query.message.edit_reply_markup(reply_markup=markup)

    async def on_continue(self, query: CallbackQuery, talk: SignedTalk) -> None:
        await self.then(talk)

    def register(self, router: Router, state: State) -> None:
        """On a router of signed-in chats only (`bot.filters.signed_in_only`)."""
        for choice, handler in (("toggle", self.on_toggle), ("continue", self.on_continue)):
            flow = Step.filter((F.flow == self.flow) & (F.choice == choice))
            router.callback_query.register(handler, state, flow)
