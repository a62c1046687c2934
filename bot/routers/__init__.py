"""The routers, in the order that matters: commands first, flows, then the catch-all.

This is where the conversations are assembled, and so where a sub-conversation learns whom it
returns to (`returns`): the flows import the shared steps below them and never each other.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType

from bot.routers import (
    address_taken,
    bind_email,
    bind_phone,
    card,
    common,
    delete,
    fallback,
    notices,
    recovery,
    settings,
    start,
    support,
)
from bot.routers.steps import password
from bot.routers.steps.returns import Returns
from bot.states import (
    AddressTaken,
    BindEmail,
    BindPhone,
    DeleteAccount,
    Password,
    Recovery,
    Unbind,
)
from bot.support.card import RecentLog
from bot.support.desk import desk_for
from core.bootstrap import Services
from core.domain.models import AddressKind


def returns() -> Returns:
    """What follows the password step in each flow that asks for it, where "bind another
    address" leads from the address-taken step (PRODUCT §1.3-§1.6), where "« Back" leads
    from a step that has one before it (a step not listed goes back to the card), and how a
    step is asked again after /language (a step not listed gets its hint, PRODUCT §3)."""
    return Returns(
        password={
            BindEmail.awaiting_password: bind_email.send_letter,
            BindPhone.awaiting_password: bind_phone.finish,
            AddressTaken.awaiting_password: address_taken.finish,
        },
        bind={AddressKind.EMAIL: bind_email.begin, AddressKind.PHONE: bind_phone.begin},
        back={
            BindEmail.awaiting_workspaces: bind_email.begin,
            BindEmail.awaiting_password: bind_email.before_password,
            BindPhone.awaiting_workspaces: bind_phone.begin,
            BindPhone.awaiting_code: bind_phone.again,
        },
        again={
            BindEmail.awaiting_address: bind_email.ask_address,
            BindEmail.awaiting_workspaces: bind_email.ask_workspaces,
            BindEmail.awaiting_password: bind_email.ask_password,
            BindEmail.awaiting_code: bind_email.ask_code,
            BindPhone.awaiting_number: bind_phone.ask_number,
            BindPhone.awaiting_workspaces: bind_phone.ask_workspaces,
            BindPhone.awaiting_code: bind_phone.ask_code,
            BindPhone.awaiting_password: bind_phone.ask_password,
            Password.awaiting_new: password.ask_new,
            Unbind.awaiting_confirmation: settings.ask_again,
            AddressTaken.awaiting_choice: address_taken.offer_again,
            AddressTaken.awaiting_proof: address_taken.say_proof,
            AddressTaken.awaiting_new_address: address_taken.ask_new_address,
            AddressTaken.awaiting_new_code: address_taken.ask_new_code,
            AddressTaken.awaiting_password: address_taken.ask_password,
            Recovery.awaiting_choice: recovery.ask_choice,
            Recovery.awaiting_code: recovery.ask_code,
            Recovery.awaiting_password: recovery.ask_password,
            DeleteAccount.awaiting_choice: delete.ask_choice,
            DeleteAccount.awaiting_code: delete.ask_code,
            DeleteAccount.awaiting_final: delete.ask_final,
        },
    )


def get_routers(services: Services) -> list[Router]:
    """The private-chat conversation; the filter is set once, on the parent (PRODUCT §3).

    The support chat, when configured, has its own router: agents are never in a private chat.
    """
    back = returns()
    private = Router(name="private")
    private.message.filter(F.chat.type == ChatType.PRIVATE)
    private.edited_message.filter(F.chat.type == ChatType.PRIVATE)
    private.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    private.message.outer_middleware(RecentLog())
    private.include_routers(
        support.person.make_router(),  # first: while a handoff is open, it takes every message
        fallback.make_forward_guard(),  # a forwarded text is never taken as an answer
        common.make_router(),
        notices.make_router(),  # a notice's button, in any step
        start.make_router(),
        card.make_router(back),
        password.make_router(back),
        bind_email.make_router(),
        bind_phone.make_router(),
        address_taken.make_router(back),
        settings.make_router(),
        recovery.make_router(),
        delete.make_router(),
        fallback.make_router(),
    )
    chat_id = services.settings.support_chat_id
    if chat_id is None:
        return [private]
    return [support.agents.make_router(desk_for(services), chat_id), private]
