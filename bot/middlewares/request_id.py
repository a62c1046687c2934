"""One id per Telegram update in every log line of its handling (core.log_context)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import TelegramObject, Update

from core.log_context import bound, new_id

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateLogId(BaseMiddleware):
    """The outermost update middleware: the id is set before anything else logs."""

    @classmethod
    def install(cls, dp: Dispatcher) -> None:
        dp.update.outer_middleware(cls())

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        key = event.update_id if isinstance(event, Update) else None
        with bound(new_id("u", key)):
            return await handler(event, data)
