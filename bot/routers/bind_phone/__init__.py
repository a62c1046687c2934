"""Bind a phone (PRODUCT §1.4): the number, workspaces option, the SMS code, then a password.

`number` asks for the number (typed or shared) and the workspaces option; `code` sends the SMS
and waits for its code. Which steps apply, and their count, is core's plan
(`BindPhoneFlow.plan`).
"""

from __future__ import annotations

from aiogram import F, Router

from bot.filters import signed_in_only
from bot.routers.bind_phone import code, number
from bot.routers.bind_phone.code import FLOW, ask_code, ask_password, finish
from bot.routers.bind_phone.number import again, ask_number, ask_workspaces, begin
from bot.routers.steps.code import WaitingForCode
from bot.routers.steps.workspaces import Workspaces
from bot.states import BindPhone

__all__ = [
    "again",
    "ask_code",
    "ask_number",
    "ask_password",
    "ask_workspaces",
    "begin",
    "finish",
    "make_router",
]


def make_router() -> Router:
    """A fresh router with this flow's handlers (no module-level router state)."""
    router = signed_in_only(Router(name="bind_phone"))
    text = (F.text, ~F.text.startswith("/"))
    router.message.register(number.on_contact, BindPhone.awaiting_number, F.contact)
    router.message.register(number.on_number, BindPhone.awaiting_number, *text)
    Workspaces(FLOW, number.workspaces_markup, code.send_code).register(
        router, BindPhone.awaiting_workspaces
    )
    router.message.register(code.on_code, BindPhone.awaiting_code, *text)
    WaitingForCode(FLOW, number.again, code.resumed, code.not_arriving, code.resend).register(
        router, BindPhone.awaiting_code
    )
    return router
