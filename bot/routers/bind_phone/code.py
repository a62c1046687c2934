"""The SMS code of binding a phone (PRODUCT §1.4 steps 3-6): it goes out (or Telegram's own
contact binds at once), the code, resend, "not arriving", and the password when there is none."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.keyboards import flow as buttons
from bot.routers import address_taken
from bot.routers.steps import password
from bot.routers.steps.card import show_card
from bot.routers.steps.code import bound_meanwhile, tips
from bot.routers.steps.plan import step_of
from bot.routers.steps.trouble import Trouble, note_failure, refuse_at_cap
from bot.states import BindPhone
from bot.talk import SignedTalk, Talk
from core.domain.addresses import format_phone
from core.domain.models import AddressKind
from core.errors import (
    AddressTaken,
    CodeExpired,
    CodeInvalid,
    DomainError,
    LimitReached,
    NothingPending,
    ResendTooSoon,
)
from core.flows.bind_phone import PhoneBound, PhoneCodeSent
from core.flows.binding import Step

FLOW = "phone"


async def send_code(talk: SignedTalk) -> None:
    """Get code: the SMS goes out, or Telegram's own contact binds at once (PRODUCT §1.4.6)."""
    try:
        outcome = await request_code(talk, own_contact=bool(await talk.recall("own_contact")))
    except AddressTaken as taken:
        await offer_taken(talk, taken.address)
        return
    except LimitReached as error:
        await limit_reached(talk, error)
        return
    except ResendTooSoon as error:
        if await code_already_sent(talk, error):
            return
        await talk.say(texts.explain(error, talk.services.clock.now()))
        return
    except DomainError as error:  # SMS switched off, ...
        await talk.say(texts.explain(error))
        return
    if isinstance(outcome, PhoneBound):
        await after_bound(talk)
        return
    await show_code_sent(talk, outcome)


async def code_already_sent(talk: SignedTalk, error: ResendTooSoon) -> bool:
    """PRODUCT §3: the SMS for this very number went out but the step was cut short (a crash, and
    the update came again): the person is asked for that code instead of told to wait."""
    phone = await talk.recall("phone")
    if not phone or await talk.services.bind_phone.pending_address(talk.account_id) != phone:
        return False
    await show_code_sent(talk, PhoneCodeSent(phone, error.retry_in))
    return True


async def resumed(talk: SignedTalk) -> bool:
    """The number was bound meanwhile (PRODUCT §3): on to the password or the card."""
    return await bound_meanwhile(talk, talk.services.bind_phone, "phone", _after_bound)


async def _after_bound(talk: SignedTalk, phone: str) -> None:
    await after_bound(talk)


async def request_code(talk: SignedTalk, *, own_contact: bool) -> PhoneBound | PhoneCodeSent:
    return await talk.services.bind_phone.send_code(
        talk.account_id,
        await talk.recall("phone"),
        telegram_user_id=talk.user.id,
        locale=talk.locale,
        update_workspaces=bool(await talk.recall("workspaces")),
        own_contact=own_contact,
    )


async def show_code_sent(talk: SignedTalk, sent: PhoneCodeSent) -> None:
    await talk.state.set_state(BindPhone.awaiting_code)
    await say_code_sent(talk, sent.address)


async def say_code_sent(talk: SignedTalk, phone: str) -> None:
    step = await step_of(talk, await talk.services.bind_phone.plan(talk.account_id), Step.CODE)
    text = _("I sent a 6-digit code to {phone}. Send it here.").format(phone=format_phone(phone))
    await talk.say(texts.with_step(*step, text), buttons.waiting_code(FLOW))


async def ask_code(talk: SignedTalk) -> None:
    """ "Code sent" again (after /language), with its buttons: no new SMS goes out."""
    await say_code_sent(talk, await talk.recall("phone") or "")


async def ask_password(talk: SignedTalk) -> None:
    """The password step asked again (after /language), its secure page in that language."""
    await after_bound(talk)


async def on_code(message: Message, talk: SignedTalk) -> None:
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


async def not_arriving(talk: SignedTalk) -> None:
    """The seed's tips: check the number, operators' delays, ask again after the cooldown."""
    until = await talk.services.bind_phone.resend_at(talk.account_id)  # the one deadline
    lines = [
        _("Check that the number is right: {phone}.").format(
            phone=format_phone(await talk.recall("phone") or "")
        ),
        _("SMS messages sometimes take a few minutes: operators can delay them."),
        _("You can ask for a new code {wait}.").format(
            wait=texts.wait(until, talk.services.clock.now())
        )
        if until is not None
        else _("You can ask for a new code now."),
    ]
    await tips(talk, "\n".join(lines), buttons.waiting_code(FLOW))
    await note_failure(talk, "sms_code", Trouble.NOT_ARRIVING)


async def resend(talk: SignedTalk) -> str | None:
    """A new code, said in the pressed message; a cap reached is said, with support offered."""
    try:
        try:
            sent = await talk.services.bind_phone.resend(talk.account_id, talk.user.id)
        except NothingPending:  # expired or spent: a fresh code to the same number
            outcome = await request_code(talk, own_contact=False)  # always an SMS
            assert isinstance(outcome, PhoneCodeSent)
            sent = outcome
    except LimitReached as error:
        await limit_reached(talk, error)
        return None
    now = talk.services.clock.now()
    until = await talk.services.bind_phone.resend_at(talk.account_id)  # the one deadline
    text = _("I sent a new code to {phone}. The earlier code no longer works. Next resend {wait}.")
    return text.format(phone=format_phone(sent.address), wait=texts.wait(until or now, now))


async def limit_reached(talk: Talk, error: LimitReached) -> None:
    refusal = texts.cap_reached(error.until, talk.services.clock.now())
    await refuse_at_cap(talk, "sms_code", refusal)


async def after_bound(talk: SignedTalk) -> None:
    """The number is on the account; a password follows when there is none yet."""
    plan = await talk.services.bind_phone.plan(talk.account_id)
    await password.in_plan(talk, plan, BindPhone.awaiting_password, finish)


async def finish(talk: SignedTalk) -> None:
    """The end of the flow (also after the password step): say so and show the card."""
    phone = await talk.recall("phone")
    await talk.state.clear()
    note = _("Phone bound. You can now sign in with {phone} and your password.").format(
        phone=format_phone(phone or "")
    )
    await show_card(talk, note=note)


async def offer_taken(talk: SignedTalk, address: str) -> None:
    """Another account holds the number: PRODUCT §1.5."""
    await address_taken.offer(talk, AddressKind.PHONE, address)
