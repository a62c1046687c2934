"""The routers, in the order that matters: commands first, flows, then the catch-all."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from bot.routers import bind_email, card, common, fallback, password, start


def get_routers() -> list[Router]:
    """The private-chat conversation; the filter is set once, on the parent (SPEC §3)."""
    private = Router(name="private")
    private.message.filter(F.chat.type == ChatType.PRIVATE)
    private.edited_message.filter(F.chat.type == ChatType.PRIVATE)
    private.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    private.include_routers(
        common.make_router(),
        start.make_router(),
        card.make_router(),
        password.make_router(),
        bind_email.make_router(),
        fallback.make_router(),
    )
    return [private]
