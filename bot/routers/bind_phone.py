"""Bind a phone (SPEC §1.4): the number, workspaces option, the SMS code, then a password."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import Step
from bot.keyboards import flow as buttons
from bot.keyboards import phone as keyboards
from bot.routers import password
from bot.routers.card import show_card
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
    NothingPending,
)
from core.flows.bind_phone import PhoneBound, PhoneCodeSent

FLOW = "phone"
FAILURES_BEFORE_SUPPORT = 3  # wrong codes, "not arriving" and caps together (SPEC §1.4 step 4)


async def _memberships(talk: Talk) -> int:
    async with talk.services.kit.unit() as uow:
        return len(await uow.workspaces.memberships(talk.account_id or 0))


async def begin(talk: Talk) -> None:
    """Step 1: ask for the number, typed or shared with the reply keyboard's button."""
    assert talk.account_id is not None
    if not talk.services.bind_phone.available:
        await talk.state.clear()
        await show_card(talk, note=_("Binding a phone is not available here."))
        return
    has_password = await talk.services.password.has_password(talk.account_id)
    total = 2 + (not has_password) + bool(await _memberships(talk))
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
    """Only one's own contact counts: Telegram vouches for it (SPEC §1.4 step 1)."""
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
        total = await talk.recall("flow_total")
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
    """Get code: the SMS goes out, or Telegram's own contact binds at once (SPEC §1.4.6)."""
    try:
        outcome = await _request(talk, own_contact=bool(await talk.recall("own_contact")))
    except AddressTaken as taken:
        await offer_taken(talk, taken.address)
        return
    except LimitReached as error:
        await limit_reached(talk, error)
        return
    except DomainError as error:  # a cooldown from an earlier number, SMS switched off, ...
        await talk.say(texts.explain(error))
        return
    if isinstance(outcome, PhoneBound):
        await after_bound(talk)
        return
    await show_code_sent(talk, outcome)


async def _request(talk: Talk, *, own_contact: bool) -> PhoneBound | PhoneCodeSent:
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
    total = await talk.recall("flow_total")
    has_password = await talk.services.password.has_password(talk.account_id or 0)
    text = _("I sent a 6-digit code to {phone}. Send it here.").format(
        phone=format_phone(sent.phone)
    )
    step = total if has_password else total - 1
    await talk.say(texts.with_step(step, total, text), buttons.waiting_code(FLOW))


async def on_code(message: Message, talk: Talk) -> None:
    assert talk.account_id is not None
    try:
        await talk.services.bind_phone.confirm_code(talk.account_id, message.text or "", talk.actor)
    except AddressTaken as taken:
        await offer_taken(talk, taken.address)
        return
    except (CodeExpired, CodeInvalid) as error:
        # The last attempt and an expired code both end with a new code on offer.
        spent = isinstance(error, CodeExpired) or error.attempts_left == 0
        await talk.say(texts.explain(error), buttons.waiting_code(FLOW) if spent else None)
        await note_failure(talk)
        return
    await after_bound(talk)


async def after_bound(talk: Talk) -> None:
    """The number is on the account; a password follows when there is none yet."""
    assert talk.account_id is not None
    if await talk.services.password.has_password(talk.account_id):
        await finish(talk)
        return
    total = await talk.recall("flow_total")
    await password.ask(talk, BindPhone.awaiting_password, step=(total, total))


async def finish(talk: Talk) -> None:
    """The end of the flow (also after the password step): say so and show the card."""
    phone = await talk.recall("phone")
    await talk.state.clear()
    note = _("Phone bound. You can now sign in with {phone} and your password.").format(
        phone=format_phone(phone or "")
    )
    await show_card(talk, note=note)


async def on_waiting_choice(
    query: CallbackQuery, callback_data: Step, talk: Talk, callback_answer: CallbackAnswer
) -> None:
    assert talk.account_id is not None
    if callback_data.choice == "change":
        await talk.services.bind_phone.cancel(talk.account_id)
        await begin(talk)
    elif callback_data.choice == "help":
        await not_arriving(talk)
    elif callback_data.choice == "resend":
        await resend(query, talk, callback_answer)


async def not_arriving(talk: Talk) -> None:
    """The seed's tips: check the number, operators' delays, ask again after the cooldown."""
    assert talk.account_id is not None
    left = await talk.services.bind_phone.resend_in(talk.account_id)
    lines = [
        _("Check that the number is right: {phone}.").format(
            phone=format_phone(await talk.recall("phone") or "")
        ),
        _("SMS messages sometimes take a few minutes: operators can delay them."),
        _("You can ask for a new code in {time}.").format(time=texts.seconds(left))
        if left.total_seconds() > 0
        else _("You can ask for a new code now."),
    ]
    await talk.say("\n".join(lines), buttons.waiting_code(FLOW))
    await note_failure(talk)


async def resend(query: CallbackQuery, talk: Talk, callback_answer: CallbackAnswer) -> None:
    """A new code; the pressed message is edited to say so, not a new message each time."""
    assert talk.account_id is not None
    try:
        try:
            sent = await talk.services.bind_phone.resend(talk.account_id, talk.user.id)
        except NothingPending:  # expired or spent: a fresh code to the same number
            outcome = await _request(talk, own_contact=False)  # False: always an SMS
            assert isinstance(outcome, PhoneCodeSent)
            sent = outcome
    except LimitReached as error:
        await limit_reached(talk, error)
        return
    except DomainError as error:  # ResendTooSoon above all: shown on the button, nothing sent
        callback_answer.text = texts.explain(error)
        callback_answer.show_alert = True
        return
    text = _(
        "I sent a new code to {phone}. The earlier code no longer works. Next resend in {time}."
    )
    text = text.format(phone=format_phone(sent.phone), time=texts.seconds(sent.resend_in))
    if isinstance(query.message, Message):
        await talk.edit(query.message.message_id, text, buttons.waiting_code(FLOW))


async def note_failure(talk: Talk) -> None:
    """After repeated trouble, offer a human (SPEC §1.4 step 4)."""
    failures = int(await talk.recall("failures", 0)) + 1
    await talk.remember(failures=failures)
    if failures >= FAILURES_BEFORE_SUPPORT:
        await offer_support(talk)


async def offer_taken(talk: Talk, address: str) -> None:
    """Another account holds the number: SPEC §1.5, in its own router."""
    from bot.routers import address_taken

    await address_taken.offer(talk, AddressKind.PHONE, address)


async def limit_reached(talk: Talk, error: LimitReached) -> None:
    await talk.say(texts.explain(error))
    await offer_support(talk)


async def offer_support(talk: Talk) -> None:
    from bot.routers import support

    await support.offer(talk, reason="sms_code")


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
        on_waiting_choice, BindPhone.awaiting_code, Step.filter(F.flow == FLOW)
    )
    return router
