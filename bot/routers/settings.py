"""Settings from the card (PRODUCT §1.7): unbind an email or a phone, never the last way in.

Changing the email or phone is the bind flow again (core tells the old address), and changing
the password is `bot.routers.steps.password.begin`; both start from the card's own buttons.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import Step
from bot.filters import signed_in_only
from bot.keyboards import flow as buttons
from bot.routers.steps.card import show_card
from bot.states import Unbind
from bot.talk import SignedTalk
from core.domain.addresses import mask
from core.domain.models import AccountView, AddressKind
from core.errors import DomainError

FLOW = "unbind"


async def unbind_email(talk: SignedTalk) -> None:
    """The card's "Unbind email" button."""
    await ask(talk, AddressKind.EMAIL)


async def unbind_phone(talk: SignedTalk) -> None:
    """The card's "Unbind phone" button."""
    await ask(talk, AddressKind.PHONE)


async def ask(talk: SignedTalk, kind: AddressKind) -> None:
    """Name the address (masked) and wait for an explicit yes."""
    view = await talk.services.account.view(talk.account_id)
    binding = view.email if kind is AddressKind.EMAIL else view.phone
    if binding is None:
        await show_card(talk, note=_("There is nothing to unbind."))
        return
    await talk.state.set_state(Unbind.awaiting_confirmation)
    await talk.remember(unbind_kind=kind.value)
    lines = [
        _("Unbind {address}?").format(address=mask(binding.address)),
        _("You will no longer sign in with it. You can bind it again later."),
    ]
    if last_login_of_password(view, kind):
        lines.append(password_alone())
    text = "\n".join(lines)
    await talk.say(text, buttons.choices(FLOW, [("yes", _("Yes, unbind"))]))


async def ask_again(talk: SignedTalk) -> None:
    """The question asked again, for the same address (after /language)."""
    await ask(talk, AddressKind(await talk.recall("unbind_kind")))


async def on_confirm(query: CallbackQuery, talk: SignedTalk) -> None:
    """Core refuses the last way in (LastSignInMethod); the card comes back either way."""
    kind = AddressKind(await talk.recall("unbind_kind"))
    await talk.state.clear()
    alone = last_login_of_password(await talk.services.account.view(talk.account_id), kind)
    try:
        await talk.services.account.unbind(talk.account_id, kind, talk.actor)
    except DomainError as error:
        await show_card(talk, note=texts.explain(error))
        return
    note = _("Email unbound.") if kind is AddressKind.EMAIL else _("Phone unbound.")
    if alone:
        note += "\n" + password_alone()
    await show_card(talk, note=note)


def last_login_of_password(view: AccountView, kind: AddressKind) -> bool:
    """This address is the only login the password signs in with (PRODUCT §1.7)."""
    other = view.phone if kind is AddressKind.EMAIL else view.email
    return view.has_password and other is None


def password_alone() -> str:
    return _(
        "It is the only login for your password: without it, the password signs you in nowhere "
        "until you bind another email or phone."
    )


def make_router() -> Router:
    """A fresh router with this module's handlers (no module-level router state)."""
    router = signed_in_only(Router(name="settings"))
    router.callback_query.register(
        on_confirm,
        Unbind.awaiting_confirmation,
        Step.filter((F.flow == FLOW) & (F.choice == "yes")),
    )
    return router
