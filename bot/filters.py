"""Filters the routers share."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Filter
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
