"""PRODUCT §1.5, "a user with this email already exists": another address, free it, or support.

The binding flows call `offer`; `taken` says so and offers the three ways on, and `release` frees
the address step by step. Binding another address goes back to the flow of that kind through
`Returns`, so this package imports neither binding flow.
"""

from __future__ import annotations

from functools import partial

from aiogram import F, Router
from aiogram.filters import StateFilter

from bot.callbacks import Step
from bot.filters import signed_in_only
from bot.keyboards import release as keyboards
from bot.routers.address_taken import release
from bot.routers.address_taken.release import (
    ask_new_address,
    ask_new_code,
    ask_password,
    finish,
    say_proof,
)
from bot.routers.address_taken.taken import offer, offer_again
from bot.routers.steps.returns import Returns
from bot.states import AddressTaken

__all__ = [
    "ask_new_address",
    "ask_new_code",
    "ask_password",
    "finish",
    "make_router",
    "offer",
    "offer_again",
    "say_proof",
]


def make_router(returns: Returns) -> Router:
    """A fresh router with the offer's choices and the release steps after them."""
    router = signed_in_only(Router(name="address_taken"))
    text = (F.text, ~F.text.startswith("/"))
    flow = Step.filter(F.flow == keyboards.FLOW)
    on_choice = partial(release.on_choice, returns=returns)
    router.callback_query.register(on_choice, AddressTaken.awaiting_choice, flow)
    releasing = StateFilter(
        AddressTaken.awaiting_proof,
        AddressTaken.awaiting_new_address,
        AddressTaken.awaiting_new_code,
    )
    router.callback_query.register(release.on_step, releasing, flow)
    router.message.register(release.on_proof, AddressTaken.awaiting_proof, *text)
    router.message.register(release.on_new_address, AddressTaken.awaiting_new_address, *text)
    router.message.register(release.on_new_code, AddressTaken.awaiting_new_code, *text)
    return router
