"""Updates handled and handler errors by kind, counted into the core's operational metrics.

`accountbot_updates_handled{type}` counts every update the dispatcher finished (whatever came of
it); `accountbot_handler_errors{kind}` every one whose handling raised: `kind` is the dependency
that was down (`database`, `redis`, ...), `refused` for a rule of the product said no
(`DomainError`), `bug` for anything else. The errors are seen on aiogram's error event, so an
error in any middleware counts too, wherever this is installed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import ErrorEvent, TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

from bot.middlewares.secrets import dependency_of
from core.errors import DomainError
from core.metrics import OpsMetrics

Next = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def kind_of(error: BaseException) -> str:
    dependency = dependency_of(error)
    if dependency is not None:
        return dependency
    return "refused" if isinstance(error, DomainError) else "bug"


class CountedUpdates(BaseMiddleware):
    """The outermost of the bot's own update middlewares: it sees every update finish."""

    def __init__(self, metrics: OpsMetrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        finally:
            self.metrics.updates.labels(_type_of(event)).inc()


class CountedErrors(BaseMiddleware):
    """On the error event: the kind of what an update raised, before the error handler."""

    def __init__(self, metrics: OpsMetrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Next, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, ErrorEvent):
            self.metrics.handler_errors.labels(kind_of(event.exception)).inc()
        return await handler(event, data)


def _type_of(event: TelegramObject) -> str:
    try:
        return event.event_type if isinstance(event, Update) else type(event).__name__
    except UpdateTypeLookupError:
        return "unknown"


def install(dispatcher: Dispatcher, metrics: OpsMetrics) -> None:
    dispatcher.update.outer_middleware(CountedUpdates(metrics))
    dispatcher.errors.outer_middleware(CountedErrors(metrics))
