"""Waiting for the SMS code (PRODUCT §1.4 step 4): resend, change the number, "not arriving"."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import Step
from bot.keyboards import flow as buttons
from bot.routers.trouble import note_failure, offer_support
from bot.talk import Talk
from core.domain.addresses import format_phone
from core.errors import DomainError, LimitReached, NothingPending
from core.flows.bind_phone import PhoneCodeSent

FLOW = "phone"


async def on_waiting_choice(
    query: CallbackQuery, callback_data: Step, talk: Talk, callback_answer: CallbackAnswer
) -> None:
    assert talk.account_id is not None
    from bot.routers import bind_phone

    if callback_data.choice == "change":
        await talk.services.bind_phone.cancel(talk.account_id)
        await bind_phone.begin(talk)
    elif await bind_phone.resumed(talk):  # the number is bound already (PRODUCT §3)
        return
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
    await note_failure(talk, "sms_code")


async def resend(query: CallbackQuery, talk: Talk, callback_answer: CallbackAnswer) -> None:
    """A new code; the pressed message is edited to say so, not a new message each time."""
    assert talk.account_id is not None
    try:
        try:
            sent = await talk.services.bind_phone.resend(talk.account_id, talk.user.id)
        except NothingPending:  # expired or spent: a fresh code to the same number
            from bot.routers import bind_phone

            outcome = await bind_phone.request_code(talk, own_contact=False)  # always an SMS
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


async def limit_reached(talk: Talk, error: LimitReached) -> None:
    await talk.say(texts.explain(error))
    await offer_support(talk, "sms_code")
