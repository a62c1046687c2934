"""Filters the routers share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.filters import Filter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import TelegramObject

from bot.talk import Talk


class SignedIn(Filter):
    """Lets through only a chat with an account, and hands the handler its `SignedTalk`.

    A step of a flow reached signed out never gets here: the forward guard answers it first
    with "sign in first" (`bot.routers.fallback.signed_out_mid_flow`, PRODUCT §3).
    """

    async def __call__(
        self, event: TelegramObject, talk: Talk | None = None
    ) -> bool | dict[str, Any]:
        signed = talk.signed_in() if talk is not None else None
        return False if signed is None else {"talk": signed}


def signed_in_only(router: Router) -> Router:
    """The router's messages and buttons reach its handlers only from a signed-in chat."""
    router.message.filter(SignedIn())
    router.callback_query.filter(SignedIn())
    return router


@dataclass
class _OnTheLoop(FilterObject):
    """A library predicate aiogram would send to a worker thread, run on the loop instead."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.awaitable = True

    async def call(self, *args: Any, **kwargs: Any) -> Any:
        return self.callback(*args, **self._prepare_kwargs(kwargs))


def _pure(found: FilterObject) -> bool:
    """A magic filter (`F.text`), a state (`BindEmail.awaiting_code`) or a state group: each only
    compares values the event already holds."""
    return found.magic is not None or isinstance(found.callback, State | StatesGroup)


def on_the_loop(router: Router) -> Router:
    """Runs the routers' magic filters and state filters on the event loop (issue #13).

    aiogram runs every filter that is not a coroutine function with `asyncio.to_thread`, in the
    default executor: a thread hand-off per filter tried, several per update, all queued behind
    whatever else uses that pool. Magic filters and states are such plain callables, yet only
    compare values, so they are run in place. Every other filter and handler of the bot is
    async itself (tests/bot/test_awaitable_callbacks.py checks both).
    """
    for each in router.chain_tail:
        for observer in each.observers.values():
            for handler in [observer._handler, *observer.handlers]:  # _handler: the router's own
                filters = handler.filters or []
                for i, found in enumerate(filters):
                    if not found.awaitable and _pure(found):
                        predicate = found.callback if found.magic is None else found.magic
                        filters[i] = _OnTheLoop(predicate)
    return router
