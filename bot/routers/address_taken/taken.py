"""The address belongs to another account (PRODUCT §1.5): say so, and offer the three ways on.

Nothing about the other account is shown beyond what the person proves they control.
"""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from bot.keyboards import release as keyboards
from bot.routers.steps.trouble import hand_over_data
from bot.states import AddressTaken
from bot.talk import SignedTalk, Talk
from core.domain.addresses import format_phone
from core.domain.models import AddressKind


def shown(kind: AddressKind, address: str) -> str:
    return escape(address) if kind is AddressKind.EMAIL else format_phone(address)


def about(kind: AddressKind, address: str, email: str, phone: str) -> str:
    """The `email` or the `phone` message by the address's kind, its {email} or {phone} filled."""
    text = email if kind is AddressKind.EMAIL else phone
    return text.format(email=shown(kind, address), phone=shown(kind, address))


async def recall(talk: Talk) -> tuple[AddressKind, str]:
    """The taken address this conversation is about, as `offer` remembered it."""
    return AddressKind(await talk.recall("taken_kind")), str(await talk.recall("taken_address"))


async def offer(talk: SignedTalk, kind: AddressKind, address: str) -> None:
    """The address belongs to another account: say so, and offer the three ways on."""
    await talk.services.release.cancel(talk.account_id)  # a half-done earlier attempt
    await talk.state.set_state(AddressTaken.awaiting_choice)
    await talk.remember(taken_kind=kind.value, taken_address=address)
    lead = about(
        kind,
        address,
        _("A user with this email already exists: {email}."),
        _("A user with this phone number already exists: {phone}."),
    )
    how = _(
        "If that other account is yours too, I can free the address: you prove the account is "
        "yours, give it another address, and then this one moves here. The other account keeps "
        "working with its new address."
    )
    await talk.say(f"{lead}\n\n{how}", keyboards.offer(kind, hand_over_data("address_taken")))


async def offer_again(talk: SignedTalk) -> None:
    """Back to the three ways on, for the same taken address."""
    await offer(talk, *await recall(talk))
