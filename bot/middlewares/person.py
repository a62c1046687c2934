"""Who is writing: their account (if signed in) and their language, once per update."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User

from bot.talk import Talk
from core.bootstrap import Services
from core.i18n import pick_locale
from core.ports import Rule

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DuplicateUpdates(BaseMiddleware):
    """An update delivered twice (webhook retry, restart) is handled once (SPEC §3).

    The update id is counted in the core's limiter, so several instances on Redis agree.
    """

    def __init__(self, services: Services, remember: timedelta = timedelta(hours=24)) -> None:
        self.services = services
        self.remember = remember

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update):
            bot = data.get("bot")
            key = f"update:{bot.id if bot else 0}:{event.update_id}"
            if await self.services.kit.limiter.acquire([Rule(key, 1, self.remember)]) is not None:
                log.info("duplicate update skipped", extra={"update_id": event.update_id})
                return None
        return await handler(event, data)


class Person(BaseMiddleware):
    """Puts `account_id` (or None) and `locale` into the handler data."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        default = self.services.settings.default_locale
        data["account_id"] = None
        data["locale"] = pick_locale(user.language_code if user else None, default)
        if user is not None and not user.is_bot:
            found = await self.services.account.person(user.id)
            if found is not None:
                data["account_id"], chosen = found
                data["locale"] = pick_locale(chosen, data["locale"]) if chosen else data["locale"]
            state = data.get("state")
            if state is not None:
                data["talk"] = Talk(
                    bot=data["bot"],
                    user=user,
                    state=state,
                    services=self.services,
                    account_id=data["account_id"],
                    locale=data["locale"],
                )
        return await handler(event, data)
