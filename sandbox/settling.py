"""The sandbox's settle barrier, fed by the bot running in its process (tests wait on it).

Whatever feeds the dispatcher (our poller, aiogram's, a webhook, a test's `feed_update`), every
update passes the dispatcher's outer update middlewares; the first of them reports each update's
start and end to the sandbox (`sandbox.botapi.handling`). Notices from the web side (a sign-in, a
followed link) are reported as work in progress while the chat is told.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import TelegramObject, Update

from core.bootstrap import Services
from core.notices import Notice
from core.ports import Notifier
from sandbox.botapi.handling import Handling

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ReportHandling(BaseMiddleware):
    """The outermost update middleware: tells the sandbox when an update starts and ends."""

    def __init__(self, handling: Handling) -> None:
        self.handling = handling

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        self.handling.started(event.update_id)
        try:
            result = await handler(event, data)
        except asyncio.CancelledError:
            self.handling.abandoned(event.update_id)
            raise
        except BaseException:
            self.handling.done(event.update_id)
            raise
        self.handling.done(event.update_id)
        return result


class ReportedNotifier:
    """A notice being told in the chat holds the barrier until the chat was told."""

    def __init__(self, target: Notifier, handling: Handling) -> None:
        self.target, self.handling = target, handling

    async def notify(self, notice: Notice) -> None:
        with self.handling.working():
            await self.target.notify(notice)


def report_handling(dp: Dispatcher, services: Services, handling: Handling) -> asyncio.Task[None]:
    """Report this dispatcher's handling until the returned task is cancelled (the bot stops)."""
    outer = dp.update.outer_middleware
    # First of all, around aiogram's own error middleware: an error's answer is handling too.
    others = list(outer)
    for middleware in others:
        outer.unregister(middleware)
    reporter = ReportHandling(handling)
    outer.register(reporter)
    for middleware in others:
        outer.register(middleware)
    target = services.notifier.target
    if target is not None:
        services.notifier.target = ReportedNotifier(target, handling)
    handling.attach()

    async def until_stopped() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            handling.detach()

    return asyncio.create_task(until_stopped())
