"""One person's chat as the routers and the notifier see it: who, which account, what to say."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    User,
)

from bot.keyboards import flow
from core.bootstrap import Services
from core.flows.sign_in import TelegramUser

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


@dataclass
class Talk:
    """Built per update by the Person middleware, and by the notifier for web-side events."""

    bot: Bot
    user: User
    state: FSMContext
    services: Services
    account_id: int | None
    locale: str

    @property
    def chat_id(self) -> int:
        return self.user.id  # the bot talks in private chats only

    @property
    def actor(self) -> str:
        return f"telegram:{self.user.id}"

    @property
    def telegram(self) -> TelegramUser:
        return TelegramUser(
            self.user.id,
            self.user.first_name,
            self.user.username,
            self.user.language_code,
            self.locale,  # the link carries the chat's language to the web and back
        )

    async def say(self, text: str, markup: Markup = None, **kwargs: Any) -> Message:
        if isinstance(markup, InlineKeyboardMarkup):
            markup = await self.at_step(markup)
        return await self.bot.send_message(self.chat_id, text, reply_markup=markup, **kwargs)

    async def at_step(self, markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
        """Its "« Back" tied to the step the chat is at (`bot.keyboards.flow.at_step`)."""
        return flow.at_step(markup, await self.state.get_state())

    async def edit(
        self, message_id: int, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        """Edit a message in place; an unchanged text is not an error."""
        if markup is not None:
            markup = await self.at_step(markup)
        try:
            await self.bot.edit_message_text(
                text=text, chat_id=self.chat_id, message_id=message_id, reply_markup=markup
            )
        except TelegramBadRequest as error:
            if "message is not modified" not in error.message:
                raise

    async def remember(self, **values: Any) -> None:
        await self.state.update_data(**values)

    async def recall(self, key: str, default: Any = None) -> Any:
        return (await self.state.get_data()).get(key, default)

    def signed_in(self) -> SignedTalk | None:
        """The same chat with its account, or None while nobody is signed in here."""
        if self.account_id is None:
            return None
        return SignedTalk(
            self.bot, self.user, self.state, self.services, self.account_id, self.locale
        )


@dataclass
class SignedTalk(Talk):
    """A chat with an account: what every step of a flow that needs one is given
    (`bot.filters.SignedIn` lets only these through)."""

    account_id: int
