"""A tap is honoured only for a button the message carries (SPEC §3: a forged callback).

Telegram does not check callback data against the message's buttons: a modified client can send
`m:signout` on any message. So before any handler runs, the data must be that of an inline button
on the message the query came from; otherwise (forged data, a message no longer accessible, no
message at all) the person gets the stale-button answer and nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot import texts

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def carries(message: object, data: str | None) -> bool:
    """Whether `message` is accessible and has an inline button with exactly this data."""
    if data is None or not isinstance(message, Message) or message.reply_markup is None:
        return False
    return any(
        button.callback_data == data
        for row in message.reply_markup.inline_keyboard
        for button in row
    )


class HonestButtons(BaseMiddleware):
    """Outer middleware of callback queries: see the module."""

    @classmethod
    def install(cls, dp: Dispatcher) -> HonestButtons:
        middleware = cls()
        dp.callback_query.outer_middleware(middleware)
        return middleware

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, CallbackQuery) or carries(event.message, event.data):
            return await handler(event, data)
        # Never the data itself in the log: it is whatever the client chose to send.
        log.info("stale or forged button refused", extra={"user_id": event.from_user.id})
        bot: Bot = data["bot"]
        try:
            await bot.answer_callback_query(event.id, text=texts.stale_button(), show_alert=True)
        except TelegramAPIError:
            log.warning("could not answer a stale button", extra={"user_id": event.from_user.id})
        return None
