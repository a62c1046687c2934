"""Bind a phone (PRODUCT §1.4): the number, workspaces option, the SMS code, then a password."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import Step
from bot.keyboards import flow as buttons
from bot.keyboards import phone as keyboards
from bot.routers import password, phone_code
from bot.routers.card import show_card
from bot.routers.trouble import note_failure
from bot.states import BindPhone
from bot.talk import Talk
from core.domain.addresses import format_phone
from core.domain.models import AddressKind
from core.errors import (
    AddressTaken,
    CodeExpired,
    CodeInvalid,
    DomainError,
    LimitReached,
    ResendTooSoon,
)
from core.flows.bind_phone import PhoneBound, PhoneCodeSent

FLOW = "phone"


async def _memberships(talk: Talk) -> int:
    async with talk.services.kit.unit() as uow:
        return len(await uow.workspaces.memberships(talk.account_id or 0))


async def _steps(talk: Talk) -> int:
    """Number, (workspaces), code, (password): how many steps this person will see."""
    has_password = await talk.services.password.has_password(talk.account_id or 0)
    return 2 + (not has_password) + bool(await _memberships(talk))


async def _total(talk: Talk) -> int:
    """The step count the flow began with, or worked out again when the data was lost."""
    return int(await talk.recall("flow_total") or await _steps(talk))


async def begin(talk: Talk) -> None:
    """Step 1: ask for the number, typed or shared with the reply keyboard's button."""
    assert talk.account_id is not None
    if not talk.services.bind_phone.available:
        await talk.state.clear()
        await show_card(talk, note=_("Binding a phone is not available here."))
        return
    total = await _steps(talk)
    await talk.state.set_state(BindPhone.awaiting_number)
    await talk.remember(flow_total=total, workspaces=False, failures=0, own_contact=False)
    text = _(
        "Send the mobile number you want to sign in with, for example +7 912 345-67-89, or share "
        "your Telegram number with the button below."
    )
    await talk.say(texts.with_step(1, total, text), keyboards.ask_number())


async def on_number(message: Message, talk: Talk) -> None:
    if message.text == keyboards.back_label():
        await talk.state.clear()
        await talk.say(_("Okay, no phone for now."), ReplyKeyboardRemove())
        await show_card(talk)
        return
    await take_number(talk, message.text or "", own_contact=False)


async def on_contact(message: Message, talk: Talk) -> None:
    """Only one's own contact counts: Telegram vouches for it (PRODUCT §1.4 step 1)."""
    contact = message.contact
    assert contact is not None
    assert message.from_user is not None
    if contact.user_id != message.from_user.id:
        await talk.say(
            _(
                "This is someone else's contact. Please share your own number with the button "
                "below, or type it."
            )
        )
        return
    raw = contact.phone_number
    await take_number(talk, raw if raw.startswith("+") else "+" + raw, own_contact=True)


async def take_number(talk: Talk, raw: str, *, own_contact: bool) -> None:
    assert talk.account_id is not None
    try:
        phone = await talk.services.bind_phone.check(talk.account_id, raw, talk.locale)
    except AddressTaken as taken:
        await number_received(talk, taken.address)
        await offer_taken(talk, taken.address)
        return
    except DomainError as error:
        await talk.say(texts.explain(error) + "\n" + _("Please send the number again."))
        return
    await talk.remember(phone=phone, own_contact=own_contact)
    await number_received(talk, phone)
    if await _memberships(talk):
        await talk.state.set_state(BindPhone.awaiting_workspaces)
        text = _("Should your workspaces use {phone} as their contact phone too?").format(
            phone=format_phone(phone)
        )
        total = await _total(talk)
        await talk.say(texts.with_step(2, total, text), keyboards.workspaces(False))
        return
    await send_code(talk)


async def number_received(talk: Talk, phone: str) -> None:
    """The reply keyboard goes away here; inline buttons then need a message of their own."""
    text = _("Number: {phone}").format(phone=format_phone(phone))
    await talk.say(text, ReplyKeyboardRemove())


async def on_toggle(query: CallbackQuery, talk: Talk) -> None:
    on = not await talk.recall("workspaces", False)
    await talk.remember(workspaces=on)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=keyboards.workspaces(on))


async def on_get_code(query: CallbackQuery, talk: Talk) -> None:
    await send_code(talk)


async def send_code(talk: Talk) -> None:
    """Get code: the SMS goes out, or Telegram's own contact binds at once (PRODUCT §1.4.6)."""
    try:
        outcome = await request_code(talk, own_contact=bool(await talk.recall("own_contact")))
    except AddressTaken as taken:
        await offer_taken(talk, taken.address)
        return
    except LimitReached as error:
        await phone_code.limit_reached(talk, error)
        return
    except ResendTooSoon as error:
        if await code_already_sent(talk, error):
            return
        await talk.say(texts.explain(error))
        return
    except DomainError as error:  # SMS switched off, ...
        await talk.say(texts.explain(error))
        return
    if isinstance(outcome, PhoneBound):
        await after_bound(talk)
        return
    await show_code_sent(talk, outcome)


async def code_already_sent(talk: Talk, error: ResendTooSoon) -> bool:
    """PRODUCT §3: the SMS for this very number went out but the step was cut short (a crash, and
    the update came again): the person is asked for that code instead of told to wait."""
    phone = await talk.recall("phone")
    pending = await talk.services.bind_phone.codes.pending(str(talk.account_id))
    if pending is None or not phone or pending.data.get("phone") != phone:
        return False
    await show_code_sent(talk, PhoneCodeSent(phone, error.retry_in))
    return True


async def resumed(talk: Talk) -> bool:
    """PRODUCT §3: the number being bound is already confirmed on this account (the code was used
    by a step that was cut short): whatever comes next moves on to the password or the card,
    instead of "expired" or "already bound"."""
    phone = await talk.recall("phone")
    if talk.account_id is None or not phone:
        return False
    if not await talk.services.bind_phone.is_bound(talk.account_id, phone):
        return False
    await after_bound(talk)
    return True


async def request_code(talk: Talk, *, own_contact: bool) -> PhoneBound | PhoneCodeSent:
    return await talk.services.bind_phone.send_code(
        talk.account_id or 0,
        await talk.recall("phone"),
        telegram_user_id=talk.user.id,
        locale=talk.locale,
        update_workspaces=bool(await talk.recall("workspaces")),
        own_contact=own_contact,
    )


async def show_code_sent(talk: Talk, sent: PhoneCodeSent) -> None:
    await talk.state.set_state(BindPhone.awaiting_code)
    total = await _total(talk)
    has_password = await talk.services.password.has_password(talk.account_id or 0)
    text = _("I sent a 6-digit code to {phone}. Send it here.").format(
        phone=format_phone(sent.phone)
    )
    step = total if has_password else total - 1
    await talk.say(texts.with_step(step, total, text), buttons.waiting_code(FLOW))


async def on_code(message: Message, talk: Talk) -> None:
    assert talk.account_id is not None
    if await resumed(talk):
        return
    try:
        await talk.services.bind_phone.confirm_code(talk.account_id, message.text or "", talk.actor)
    except AddressTaken as taken:
        await offer_taken(talk, taken.address)
        return
    except (CodeExpired, CodeInvalid) as error:
        if await resumed(talk):  # a copy of this very update used the code meanwhile
            return
        # The last attempt and an expired code both end with a new code on offer.
        spent = isinstance(error, CodeExpired) or error.attempts_left == 0
        await talk.say(texts.explain(error), buttons.waiting_code(FLOW) if spent else None)
        await note_failure(talk, "sms_code")
        return
    await after_bound(talk)


async def after_bound(talk: Talk) -> None:
    """The number is on the account; a password follows when there is none yet."""
    assert talk.account_id is not None
    if await talk.services.password.has_password(talk.account_id):
        await finish(talk)
        return
    total = await _total(talk)
    await password.ask(talk, BindPhone.awaiting_password, step=(total, total))


async def finish(talk: Talk) -> None:
    """The end of the flow (also after the password step): say so and show the card."""
    phone = await talk.recall("phone")
    await talk.state.clear()
    note = _("Phone bound. You can now sign in with {phone} and your password.").format(
        phone=format_phone(phone or "")
    )
    await show_card(talk, note=note)


async def offer_taken(talk: Talk, address: str) -> None:
    """Another account holds the number: PRODUCT §1.5, in its own router."""
    from bot.routers import address_taken

    await address_taken.offer(talk, AddressKind.PHONE, address)


def make_router() -> Router:
    """A fresh router with this module's handlers (no module-level router state)."""
    router = Router(name="bind_phone")
    text = (F.text, ~F.text.startswith("/"))
    router.message.register(on_contact, BindPhone.awaiting_number, F.contact)
    router.message.register(on_number, BindPhone.awaiting_number, *text)
    router.callback_query.register(
        on_toggle,
        BindPhone.awaiting_workspaces,
        Step.filter((F.flow == FLOW) & (F.choice == "toggle")),
    )
    router.callback_query.register(
        on_get_code,
        BindPhone.awaiting_workspaces,
        Step.filter((F.flow == FLOW) & (F.choice == "continue")),
    )
    router.message.register(on_code, BindPhone.awaiting_code, *text)
    router.callback_query.register(
        phone_code.on_waiting_choice, BindPhone.awaiting_code, Step.filter(F.flow == FLOW)
    )
    return router
