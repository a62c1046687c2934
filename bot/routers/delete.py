"""Deleting the account (PRODUCT §1.12): a plain warning, then a code to a bound address or,
without one, a fresh social sign-in; then the account is gone and every linked chat is told.

Core decides and carries it out (`core.flows.delete`); this conversation only asks. The chat
that deleted hears the same notice as the others (`account_deleted`), from the core.
"""

from __future__ import annotations

from datetime import timedelta

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import Step
from bot.filters import signed_in_only
from bot.keyboards import flow as buttons
from bot.routers.steps.card import show_card
from bot.routers.steps.code import resent
from bot.states import DeleteAccount
from bot.talk import SignedTalk, Talk
from core.domain.addresses import mask
from core.domain.models import AddressKind
from core.errors import DomainError, FreshSignInNeeded, ResendTooSoon
from core.notices import Reauthenticated

FLOW = "delete"
TOTAL = 2  # the warning with its way to confirm, then the code or the fresh sign-in


def warning() -> str:
    return "\n\n".join(
        [
            _("Delete your account for good?"),
            _(
                "Everything goes: your email and phone, your social sign-ins, the Telegram "
                "accounts linked to it, the password and your workspace memberships. The "
                "addresses become free, and this cannot be undone."
            ),
        ]
    )


def _wait(talk: Talk) -> str:
    """How long a fresh sign-in counts (DELETE_REAUTH_MAX_AGE), in words."""
    return texts.seconds(timedelta(seconds=talk.services.settings.delete_reauth_max_age))


async def begin(talk: SignedTalk) -> None:
    """The card's "Delete account": the warning, and how the deletion will be confirmed."""
    await talk.services.delete.cancel(talk.account_id)  # an earlier attempt counts no more
    logins = await talk.services.delete.logins(talk.account_id)
    if not logins:
        await talk.state.set_state(DeleteAccount.awaiting_sign_in)
        await offer_sign_in(talk, warning())
        return
    await talk.state.set_state(DeleteAccount.awaiting_choice)
    await ask_choice(talk, logins)


async def ask_choice(talk: SignedTalk, logins: dict[AddressKind, str] | None = None) -> None:
    """Step 1 with a bound address: where the code goes (also after /language)."""
    if logins is None:
        logins = await talk.services.delete.logins(talk.account_id)
    options = [
        (kind.value, _("Send a code to {address}").format(address=mask(address)))
        for kind, address in sorted(logins.items())
    ]
    text = "\n\n".join([warning(), _("To confirm, I will send you a code.")])
    await talk.say(texts.with_step(1, TOTAL, text), buttons.choices(FLOW, options))


async def offer_sign_in(talk: SignedTalk, first: str | None = None) -> None:
    """Links that sign in again with the account's own social networks, for this only."""
    view = await talk.services.account.view(talk.account_id)
    mine = {identity.provider for identity in view.identities}
    providers = talk.services.settings.sign_in_providers()
    rows = [
        [
            InlineKeyboardButton(
                text=_("Sign in with {provider}").format(provider=title),
                url=await talk.services.sign_in.create_link(
                    talk.telegram, name, reauth=talk.account_id
                ),
            )
        ]
        for name, title in providers
        if name in mine or not mine
    ]
    rows.append([buttons.back()])
    ask = _(
        "To confirm, sign in again with your social network: the button below works once. The "
        "sign-in counts for {wait}."
    ).format(wait=_wait(talk))
    text = "\n\n".join(part for part in (first, ask) if part)
    await talk.say(texts.with_step(1, TOTAL, text), InlineKeyboardMarkup(inline_keyboard=rows))


async def on_choice(query: CallbackQuery, callback_data: Step, talk: SignedTalk) -> None:
    await send_code(talk, AddressKind(callback_data.choice))


def _waiting() -> InlineKeyboardMarkup:
    return buttons.choices(FLOW, [("resend", _("Send the code again"))])


async def send_code(talk: SignedTalk, kind: AddressKind) -> None:
    """Step 2: the code goes out; a code sent moments ago stays valid (the cooldown)."""
    note = ""
    try:
        address = await talk.services.delete.send_code(
            talk.account_id, kind, talk.locale, talk.user.id
        )
    except ResendTooSoon as error:
        address = (await talk.services.delete.logins(talk.account_id)).get(kind, "")
        note = texts.explain(error)
    except DomainError as error:
        await talk.state.clear()
        await show_card(talk, note=texts.explain(error))
        return
    await talk.state.set_state(DeleteAccount.awaiting_code)
    await talk.remember(delete_kind=kind.value)
    await say_code_sent(talk, address, note)


async def say_code_sent(talk: SignedTalk, address: str, note: str = "") -> None:
    text = _("I sent a code to {address}. Send it here, and your account will be deleted.").format(
        address=mask(address)
    )
    await talk.say(texts.with_step(2, TOTAL, f"{text}\n{note}".strip()), _waiting())


async def ask_code(talk: SignedTalk) -> None:
    """Step 2 asked again after /language: the code already sent stays the one (no new one)."""
    kind = AddressKind(await talk.recall("delete_kind", AddressKind.EMAIL.value))
    address = (await talk.services.delete.logins(talk.account_id)).get(kind, "")
    await say_code_sent(talk, address)


async def on_code(message: Message, talk: SignedTalk) -> None:
    """A right code deletes the account; the notice then reaches this chat like every other."""
    try:
        await talk.services.delete.confirm_code(talk.account_id, message.text or "", talk.locale)
    except DomainError as error:  # attempts left, or expired: a new code is a button away
        await talk.say(texts.explain(error), _waiting())
        return
    await talk.state.clear()  # the notice cleared it too; this update must not write it back


async def on_resend(
    query: CallbackQuery, talk: SignedTalk, callback_answer: CallbackAnswer
) -> None:
    kind = AddressKind(await talk.recall("delete_kind", AddressKind.EMAIL.value))

    async def send() -> str:
        address = await talk.services.delete.send_code(
            talk.account_id, kind, talk.locale, talk.user.id
        )
        text = _("I sent a new code to {address}. The earlier code no longer works.").format(
            address=mask(address)
        )
        return texts.with_step(2, TOTAL, text)

    await resent(query, talk, callback_answer, _waiting(), send)


async def reauthenticated(talk: Talk, notice: Reauthenticated) -> None:
    """The fresh sign-in came back from the web: one more tap deletes (PRODUCT §1.12)."""
    signed = talk.signed_in()
    if signed is None or signed.account_id != notice.account_id:
        return
    if await talk.state.get_state() != DeleteAccount.awaiting_sign_in.state:
        await talk.say(_("You signed in again, but you had left the deletion: nothing changed."))
        return
    if not notice.matched:
        note = _(
            "That social account is not the one of your account, so it does not confirm "
            "anything. Please sign in with your account's own network."
        )
        await offer_sign_in(signed, note)
        return
    await talk.state.set_state(DeleteAccount.awaiting_final)
    await ask_final(signed)


async def ask_final(talk: SignedTalk) -> None:
    """The last tap after a fresh sign-in (also after /language)."""
    text = "\n\n".join(
        [
            _("You signed in again. Delete your account now? This cannot be undone."),
            _("Please confirm within {wait}, or you will need to sign in again.").format(
                wait=_wait(talk)
            ),
        ]
    )
    markup = buttons.choices(FLOW, [("final", _("Delete my account for good"))])
    await talk.say(texts.with_step(2, TOTAL, text), markup)


async def sign_in_failed(talk: Talk) -> None:
    """The link expired, or the consent page was cancelled: a fresh one, same step."""
    signed = talk.signed_in()
    if signed is not None:
        await offer_sign_in(signed, _("The sign-in did not go through. Here is a fresh link."))


async def on_final(query: CallbackQuery, talk: SignedTalk) -> None:
    try:
        await talk.services.delete.confirm_sign_in(talk.account_id, talk.user.id, talk.locale)
        await talk.state.clear()  # as after the code
    except FreshSignInNeeded:
        await talk.state.set_state(DeleteAccount.awaiting_sign_in)
        note = _(
            "That sign-in was more than {wait} ago, so it no longer confirms. Please sign in again."
        ).format(wait=_wait(talk))
        await offer_sign_in(talk, note)


async def account_deleted(talk: Talk) -> None:
    """Every chat that was linked: signed out, its step forgotten, told how to come back."""
    await talk.state.clear()
    await talk.say(
        _(
            "Your account has been deleted: its email, phone, sign-ins and password are gone, "
            "and this chat is signed out. To start again as a new user: /start"
        )
    )


def make_router() -> Router:
    """A fresh router: the steps of deleting, for a signed-in chat (no module-level state)."""
    router = signed_in_only(Router(name="delete"))
    text = (F.text, ~F.text.startswith("/"))
    router.callback_query.register(
        on_choice,
        DeleteAccount.awaiting_choice,
        Step.filter((F.flow == FLOW) & F.choice.in_({"email", "phone"})),
    )
    router.callback_query.register(
        on_resend,
        DeleteAccount.awaiting_code,
        Step.filter((F.flow == FLOW) & (F.choice == "resend")),
    )
    router.callback_query.register(
        on_final,
        DeleteAccount.awaiting_final,
        Step.filter((F.flow == FLOW) & (F.choice == "final")),
    )
    router.message.register(on_code, DeleteAccount.awaiting_code, *text)
    return router
