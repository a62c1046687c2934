"""The offer's three ways on, and freeing an address held by another account of the same person
(PRODUCT §1.5) step by step.

Drives `core.flows.release`: prove control of the other account (a code sent to the address, or
its password), give it a new address, confirm that; only then the address moves here, so the
other account never loses its way in and nothing is released early.
"""

from __future__ import annotations

import re
from datetime import timedelta

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import Step
from bot.keyboards import release as keyboards
from bot.routers.address_taken.taken import about, offer_again, recall, shown
from bot.routers.steps import password
from bot.routers.steps.card import show_card
from bot.routers.steps.code import resent
from bot.routers.steps.returns import Returns
from bot.routers.steps.trouble import offer_support
from bot.states import AddressTaken as Waiting
from bot.talk import SignedTalk
from core.domain.models import AddressKind
from core.errors import AddressTaken, DomainError, NothingPending

CODE = re.compile(r"[\d\s-]+")  # "123456", "123 456", "123-456": a code, never a password


async def on_choice(
    query: CallbackQuery,
    callback_data: Step,
    talk: SignedTalk,
    callback_answer: CallbackAnswer,
    returns: Returns,
) -> None:
    kind, address = await recall(talk)
    if callback_data.choice == "another":
        await returns.bind_again(talk, kind)
    elif callback_data.choice == "free":
        await start(talk, kind, address, callback_answer, returns)
    elif callback_data.choice == "support":  # an offer sent before its button opened support
        await offer_support(talk, reason="address_taken")


async def start(
    talk: SignedTalk,
    kind: AddressKind,
    address: str,
    callback_answer: CallbackAnswer,
    returns: Returns,
) -> None:
    """Step 1: a code goes to the taken address; it or the other account's password proves it."""
    try:
        wait = await talk.services.release.start(
            talk.account_id, kind, address, locale=talk.locale, telegram_user_id=talk.user.id
        )
    except NothingPending:  # freed meanwhile: nothing stands in the way any more
        await talk.say(_("Good news: this address is free now. Let's bind it."))
        await returns.bind_again(talk, kind)
        return
    except DomainError as error:
        callback_answer.text = texts.explain(error, talk.services.clock.now())
        callback_answer.show_alert = True
        return
    # One step counter for the conversation: the address, already given, was step 1 of the
    # binding; then prove, new address, its code, and a password when this account has none.
    total = 4 + (not await talk.services.password.has_password(talk.account_id))
    await talk.remember(release_total=total)
    await talk.state.set_state(Waiting.awaiting_proof)
    await say_proof(talk, wait)


async def say_proof(talk: SignedTalk, wait: timedelta | None = None) -> None:
    """Step 2's question; asked again after /language without `wait` (no code goes out)."""
    kind, address = await recall(talk)
    lines = [
        _("First, show that the other account is yours."),
        _(
            "I sent a code to {address}. Send me that code, or the other account's password "
            "(I will delete that message at once)."
        ).format(address=shown(kind, address)),
    ]
    if wait is not None:
        lines.append(_("You can ask for a new code in {time}.").format(time=texts.seconds(wait)))
    text = "\n\n".join(lines)
    await talk.say(texts.with_step(2, await talk.recall("release_total"), text), keyboards.proof())


async def on_proof(message: Message, talk: SignedTalk) -> None:
    """A code or the other account's password; the password message is deleted first."""
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


async def ask_new_address(talk: SignedTalk) -> None:
    """Step 2: the other account needs an address of the same kind before it gives this one."""
    kind, _address = await recall(talk)
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
        texts.with_step(3, await talk.recall("release_total"), text), keyboards.new_address()
    )


async def on_new_address(message: Message, talk: SignedTalk) -> None:
    """Step 3: a code goes to the new address; nothing moves before it is confirmed."""
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
    await say_new_code_sent(talk, new)


async def say_new_code_sent(talk: SignedTalk, new: str) -> None:
    kind, _address = await recall(talk)
    text = _(
        "I sent a code to {address}. Send it here: only then the address moves, so the other "
        "account never stays without a way in."
    ).format(address=shown(kind, new))
    await talk.say(
        texts.with_step(4, await talk.recall("release_total"), text), keyboards.new_code(kind)
    )


async def ask_new_code(talk: SignedTalk) -> None:
    """Step 4 again (after /language): no new code goes out."""
    state = await talk.services.release.state(talk.account_id)
    await say_new_code_sent(talk, (state.new_address if state else None) or "")


async def ask_password(talk: SignedTalk) -> None:
    """The last step again (after /language), its secure page in that language."""
    total = await talk.recall("release_total")
    await password.ask(talk, Waiting.awaiting_password, step=(total, total))


async def on_new_code(message: Message, talk: SignedTalk) -> None:
    kind, _address = await recall(talk)
    try:
        await talk.services.release.confirm_new(talk.account_id, message.text or "")
    except DomainError as error:
        await _refuse(talk, error, keyboards.new_code(kind))
        return
    if await talk.services.password.has_password(talk.account_id):
        await finish(talk)
        return
    await talk.say(_("The address is yours now. One more step: a password to sign in with it."))
    await ask_password(talk)


async def finish(talk: SignedTalk) -> None:
    """The end (also after the password step): the address is here; say so, show the card."""
    kind, address = await recall(talk)
    await talk.state.clear()
    note = about(
        kind,
        address,
        _("Email bound. You can now sign in with {email} and your password."),
        _("Phone bound. You can now sign in with {phone} and your password."),
    )
    await show_card(talk, note=note)


async def _refuse(talk: SignedTalk, error: DomainError, markup: InlineKeyboardMarkup) -> None:
    """The error in words; an expired release (NothingPending) goes back to the choices."""
    if isinstance(error, NothingPending):
        await talk.say(_("That took too long and the attempt has expired. Let's start over."))
        await offer_again(talk)
    else:
        await talk.say(texts.explain(error, talk.services.clock.now()), markup)


async def on_step(
    query: CallbackQuery, callback_data: Step, talk: SignedTalk, callback_answer: CallbackAnswer
) -> None:
    """Resend (the same message is edited), change the new address, or back to the choices."""
    choice = callback_data.choice
    if choice in ("back", "change"):
        await (offer_again(talk) if choice == "back" else ask_new_address(talk))
        return
    kind, address = await recall(talk)
    release = talk.services.release
    proof = choice == "resend_proof"

    async def send() -> str | None:
        try:
            if proof:
                wait, to = await release.resend_proof(talk.account_id, talk.user.id), address
            else:
                wait = await release.resend_new(talk.account_id, talk.user.id)
                state = await release.state(talk.account_id)
                to = (state.new_address if state else None) or ""
        except NothingPending as error:
            await _refuse(talk, error, keyboards.proof())
            return None
        return _(
            "I sent a new code to {address}. The earlier code no longer works. Next resend in "
            "{time}."
        ).format(address=shown(kind, to), time=texts.seconds(wait))

    markup = keyboards.proof() if proof else keyboards.new_code(kind)
    await resent(query, talk, callback_answer, markup, send)
