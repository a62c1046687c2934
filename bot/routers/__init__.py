"""The routers, in the order that matters: commands first, flows, then the catch-all."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from bot.routers import (
    address_taken,
    bind_email,
    bind_phone,
    card,
    common,
    fallback,
    password,
    recovery,
    settings,
    start,
    support,
    support_desk,
)
from bot.support.card import RecentLog
from bot.support.desk import desk_for
from core.bootstrap import Services


def get_routers(services: Services) -> list[Router]:
    """The private-chat conversation; the filter is set once, on the parent (PRODUCT §3).

    The support chat, when configured, has its own router: agents are never in a private chat.
    """
    private = Router(name="private")
    private.message.filter(F.chat.type == ChatType.PRIVATE)
    private.edited_message.filter(F.chat.type == ChatType.PRIVATE)
    private.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    private.message.outer_middleware(RecentLog())
    private.include_routers(
        support.make_router(),  # first: while a handoff is open, it takes every message
        fallback.make_forward_guard(),  # a forwarded text is never taken as an answer
        common.make_router(),
        start.make_router(),
        card.make_router(),
        password.make_router(),
        bind_email.make_router(),
        bind_phone.make_router(),
        address_taken.make_router(),
        settings.make_router(),
        recovery.make_router(),
        fallback.make_router(),
    )
    chat_id = services.settings.support_chat_id
    if chat_id is None:
        return [private]
    return [support_desk.make_router(desk_for(services), chat_id), private]
