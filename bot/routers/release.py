"""Freeing an address held by another account of the same person (PRODUCT §1.5), step by step.

Drives `core.flows.release`: prove control of the other account (a code sent to the address, or
its password), give it a new address, confirm that; only then the address moves here, so the
other account never loses its way in and nothing is released early.
"""

from __future__ import annotations

import re
from html import escape

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import Step
from bot.keyboards import release as keyboards
from bot.routers import password
from bot.routers.card import show_card
from bot.states import AddressTaken as Waiting
from bot.talk import Talk
from core.domain.addresses import format_phone
from core.domain.models import AddressKind
from core.errors import AddressTaken, DomainError, NothingPending

FLOW = keyboards.FLOW
CODE = re.compile(r"[\d\s-]+")  # "123456", "123 456", "123-456": a code, never a password


def shown(kind: AddressKind, address: str) -> str:
    return escape(address) if kind is AddressKind.EMAIL else format_phone(address)


async def taken(talk: Talk) -> tuple[AddressKind, str]:
    """The taken address this conversation is about, as `offer` remembered it."""
    return AddressKind(await talk.recall("taken_kind")), str(await talk.recall("taken_address"))


async def _offer_again(talk: Talk) -> None:
    from bot.routers import address_taken

    await address_taken.offer(talk, *await taken(talk))


async def start(
    talk: Talk, kind: AddressKind, address: str, callback_answer: CallbackAnswer
) -> None:
    """Step 1: a code goes to the taken address; it or the other account's password proves it."""
    assert talk.account_id is not None
    try:
        wait = await talk.services.release.start(
            talk.account_id, kind, address, locale=talk.locale, telegram_user_id=talk.user.id
        )
    except NothingPending:  # freed meanwhile: nothing stands in the way any more
        from bot.routers import address_taken

        await talk.say(_("Good news: this address is free now. Let's bind it."))
        await address_taken.bind_again(talk, kind)
        return
    except DomainError as error:
        callback_answer.text = texts.explain(error)
        callback_answer.show_alert = True
        return
    # Prove, new address, its code, and a password when this account has none.
    total = 3 + (not await talk.services.password.has_password(talk.account_id))
    await talk.remember(release_total=total)
    await talk.state.set_state(Waiting.awaiting_proof)
    text = "\n\n".join(
        [
            _("First, show that the other account is yours."),
            _(
                "I sent a code to {address}. Send me that code, or the other account's password "
                "(I will delete that message at once)."
            ).format(address=shown(kind, address)),
            _("You can ask for a new code in {time}.").format(time=texts.seconds(wait)),
        ]
    )
    await talk.say(texts.with_step(1, total, text), keyboards.proof())


async def on_proof(message: Message, talk: Talk) -> None:
    """A code or the other account's password; the password message is deleted first."""
    assert talk.account_id is not None
    text = message.text or ""
    release = talk.services.release
    try:
        if CODE.fullmatch(text) and sum(ch.isdigit() for ch in text) == 6:
            await release.prove_code(talk.account_id, text)
        else:
            await password.forget(message, talk)
            await release.prove_password(talk.account_id, text)
    except DomainError as error:
        await _refuse(talk, error, keyboards.proof())
        return
    await ask_new_address(talk)


async def ask_new_address(talk: Talk) -> None:
    """Step 2: the other account needs an address of the same kind before it gives this one."""
    kind, _address = await taken(talk)
    await talk.state.set_state(Waiting.awaiting_new_address)
    if kind is AddressKind.EMAIL:
        text = _(
            "Done, the other account is yours. Now send a new email for it: it will sign in with "
            "that one, and the old address moves here."
        )
    else:
        text = _(
            "Done, the other account is yours. Now send a new phone number for it: it will sign "
            "in with that one, and the old number moves here."
        )
    await talk.say(
        texts.with_step(2, await talk.recall("release_total"), text), keyboards.new_address()
    )


async def on_new_address(message: Message, talk: Talk) -> None:
    """Step 3: a code goes to the new address; nothing moves before it is confirmed."""
    assert talk.account_id is not None
    kind, _address = await taken(talk)
    try:
        new = await talk.services.release.propose_new(
            talk.account_id, message.text or "", telegram_user_id=talk.user.id
        )
    except AddressTaken:
        await talk.say(
            _("This address is taken as well. Please send another one."), keyboards.new_address()
        )
        return
    except DomainError as error:
        await _refuse(talk, error, keyboards.new_address())
        return
    await talk.state.set_state(Waiting.awaiting_new_code)
    text = _(
        "I sent a code to {address}. Send it here: only then the address moves, so the other "
        "account never stays without a way in."
    ).format(address=shown(kind, new))
    await talk.say(
        texts.with_step(3, await talk.recall("release_total"), text), keyboards.new_code(kind)
    )


async def on_new_code(message: Message, talk: Talk) -> None:
    assert talk.account_id is not None
    kind, _address = await taken(talk)
    try:
        await talk.services.release.confirm_new(talk.account_id, message.text or "")
    except DomainError as error:
        await _refuse(talk, error, keyboards.new_code(kind))
        return
    if await talk.services.password.has_password(talk.account_id):
        await finish(talk)
        return
    total = await talk.recall("release_total")
    await talk.say(_("The address is yours now. One more step: a password to sign in with it."))
    await password.ask(talk, Waiting.awaiting_password, step=(total, total))


async def finish(talk: Talk) -> None:
    kind, address = await taken(talk)
    await talk.state.clear()
    if kind is AddressKind.EMAIL:
        note = _("Email bound. You can now sign in with {email} and your password.").format(
            email=shown(kind, address)
        )
    else:
        note = _("Phone bound. You can now sign in with {phone} and your password.").format(
            phone=shown(kind, address)
        )
    await show_card(talk, note=note)


async def _refuse(talk: Talk, error: DomainError, markup: InlineKeyboardMarkup) -> None:
    """The error in words; an expired release (NothingPending) goes back to the choices."""
    if isinstance(error, NothingPending):
        await talk.say(_("That took too long and the attempt has expired. Let's start over."))
        await _offer_again(talk)
    else:
        await talk.say(texts.explain(error), markup)


async def on_step(
    query: CallbackQuery, callback_data: Step, talk: Talk, callback_answer: CallbackAnswer
) -> None:
    """Resend (the same message is edited), change the new address, or back to the choices."""
    assert talk.account_id is not None
    kind, address = await taken(talk)
    release = talk.services.release
    choice = callback_data.choice
    if choice in ("back", "change"):
        await (_offer_again(talk) if choice == "back" else ask_new_address(talk))
        return
    try:
        if choice == "resend_proof":
            wait = await release.resend_proof(talk.account_id, talk.user.id)
            markup, to = keyboards.proof(), address
        else:
            wait = await release.resend_new(talk.account_id, talk.user.id)
            state = await release.state(talk.account_id)
            markup, to = keyboards.new_code(kind), (state.new_address if state else None) or ""
    except NothingPending as error:
        await _refuse(talk, error, keyboards.proof())
        return
    except DomainError as error:  # ResendTooSoon above all: shown on the button, nothing sent
        callback_answer.text = texts.explain(error)
        callback_answer.show_alert = True
        return
    text = _(
        "I sent a new code to {address}. The earlier code no longer works. Next resend in {time}."
    ).format(address=shown(kind, to), time=texts.seconds(wait))
    if isinstance(query.message, Message):
        await talk.edit(query.message.message_id, text, markup)


def make_router() -> Router:
    """A fresh router with this module's handlers (no module-level router state)."""
    router = Router(name="release")
    text = (F.text, ~F.text.startswith("/"))
    waiting = StateFilter(
        Waiting.awaiting_proof, Waiting.awaiting_new_address, Waiting.awaiting_new_code
    )
    router.callback_query.register(on_step, waiting, Step.filter(F.flow == FLOW))
    router.message.register(on_proof, Waiting.awaiting_proof, *text)
    router.message.register(on_new_address, Waiting.awaiting_new_address, *text)
    router.message.register(on_new_code, Waiting.awaiting_new_code, *text)
    return router
