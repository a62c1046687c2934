"""Entry points of the flows, for deep links, card buttons and the notifier.

Imported lazily, so routers can use this module without importing each other at load time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import import_module

from bot.talk import Talk

Begin = Callable[[Talk], Awaitable[None]]
DEEP_LINKS = ("bind_email", "bind_phone", "support")
MENU = ("email", "phone", "password", "support", "unbind_email", "unbind_phone", "recover")


# name -> (router module, its entry function)
FLOWS = {
    "bind_email": ("bind_email", "begin"),
    "email": ("bind_email", "begin"),
    "bind_phone": ("bind_phone", "begin"),
    "phone": ("bind_phone", "begin"),
    "password": ("password", "begin"),
    "support": ("support", "begin"),
    "unbind_email": ("settings", "unbind_email"),
    "unbind_phone": ("settings", "unbind_phone"),
    "recover": ("recovery", "begin"),
}


def begin(name: str) -> Begin | None:
    """The coroutine that starts a flow by its deep-link or menu name."""
    if name not in FLOWS:
        return None
    module, function = FLOWS[name]
    found: Begin = getattr(import_module(f"bot.routers.{module}"), function)
    return found


async def open_deep_link(talk: Talk, payload: str) -> None:
    flow = begin(payload)
    if flow is not None:
        await talk.state.clear()
        await flow(talk)
