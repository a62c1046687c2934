"""PRODUCT §1.5, "a user with this email already exists": another address, free it, or support.

Nothing about the other account is shown beyond what the person proves they control; the way to
free the address is in `bot.routers.release`.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import entry
from bot.callbacks import Step
from bot.keyboards import release as keyboards
from bot.routers import release
from bot.states import AddressTaken
from bot.talk import Talk
from core.domain.models import AddressKind


async def offer(talk: Talk, kind: AddressKind, address: str) -> None:
    """The address belongs to another account: say so, and offer the three ways on."""
    assert talk.account_id is not None
    await talk.services.release.cancel(talk.account_id)  # a half-done earlier attempt
    await talk.state.set_state(AddressTaken.awaiting_choice)
    await talk.remember(taken_kind=kind.value, taken_address=address)
    if kind is AddressKind.EMAIL:
        lead = _("A user with this email already exists: {email}.").format(
            email=release.shown(kind, address)
        )
    else:
        lead = _("A user with this phone number already exists: {phone}.").format(
            phone=release.shown(kind, address)
        )
    how = _(
        "If that other account is yours too, I can free the address: you prove the account is "
        "yours, give it another address, and then this one moves here. The other account keeps "
        "working with its new address."
    )
    await talk.say(f"{lead}\n\n{how}", keyboards.offer(kind))


async def on_choice(
    query: CallbackQuery, callback_data: Step, talk: Talk, callback_answer: CallbackAnswer
) -> None:
    kind, address = await release.taken(talk)
    if callback_data.choice == "another":
        await bind_again(talk, kind)
    elif callback_data.choice == "support":
        from bot.routers import support

        await support.offer(talk, reason="address_taken")
    elif callback_data.choice == "free":
        await release.start(talk, kind, address, callback_answer)


async def bind_again(talk: Talk, kind: AddressKind) -> None:
    """Back to step 1 of binding an address of this kind."""
    await talk.state.clear()
    flow = entry.begin("bind_email" if kind is AddressKind.EMAIL else "bind_phone")
    if flow is not None:
        await flow(talk)


def make_router() -> Router:
    """A fresh router with this module's handlers and the release steps after them."""
    router = Router(name="address_taken")
    router.callback_query.register(
        on_choice, AddressTaken.awaiting_choice, Step.filter(F.flow == keyboards.FLOW)
    )
    router.include_router(release.make_router())
    return router
