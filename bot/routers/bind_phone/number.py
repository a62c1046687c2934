"""Steps 1 and 2 of binding a phone (PRODUCT §1.4): the number, typed or shared with the reply
keyboard's button, then the workspaces option."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.keyboards import phone as keyboards
from bot.routers.bind_phone import code
from bot.routers.steps.card import show_card
from bot.routers.steps.plan import began, step_of
from bot.states import BindPhone
from bot.talk import SignedTalk
from core.domain.addresses import format_phone
from core.errors import AddressTaken, DomainError
from core.flows.binding import BindingPlan, Step


async def begin(talk: SignedTalk) -> None:
    """Step 1: ask for the number, typed or shared with the reply keyboard's button."""
    if not talk.services.bind_phone.available:
        await talk.state.clear()
        await show_card(talk, note=_("Binding a phone is not available here."))
        return
    plan = await talk.services.bind_phone.plan(talk.account_id)
    await talk.state.set_state(BindPhone.awaiting_number)
    await began(talk, plan, workspaces=False, failures=0, own_contact=False)
    await ask_number(talk, plan)


async def ask_number(talk: SignedTalk, plan: BindingPlan | None = None) -> None:
    """Step 1's question with its reply keyboard, as it stands (also after /language)."""
    plan = plan or await talk.services.bind_phone.plan(talk.account_id)
    text = _(
        "Send the mobile number you want to sign in with, for example +7 912 345-67-89, or share "
        "your Telegram number with the button below."
    )
    await talk.say(texts.with_step(*plan.number(Step.ADDRESS), text), keyboards.ask_number())


async def again(talk: SignedTalk) -> None:
    """The "Change the number" button: the pending code is dropped, and step 1 again."""
    await talk.services.bind_phone.cancel(talk.account_id)
    await begin(talk)


async def on_number(message: Message, talk: SignedTalk) -> None:
    if message.text == keyboards.back_label():
        await talk.state.clear()
        await talk.say(_("Okay, no phone for now."), ReplyKeyboardRemove())
        await show_card(talk)
        return
    await take_number(talk, message.text or "", own_contact=False)


async def on_contact(message: Message, talk: SignedTalk) -> None:
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


async def take_number(talk: SignedTalk, raw: str, *, own_contact: bool) -> None:
    try:
        phone = await talk.services.bind_phone.check(talk.account_id, raw, talk.locale)
    except AddressTaken as taken:
        await number_received(talk, taken.address)
        await code.offer_taken(talk, taken.address)
        return
    except DomainError as error:
        await talk.say(texts.explain(error) + "\n" + _("Please send the number again."))
        return
    await talk.remember(phone=phone, own_contact=own_contact)
    await number_received(talk, phone)
    plan = await talk.services.bind_phone.plan(talk.account_id)
    if plan.workspaces:
        await talk.state.set_state(BindPhone.awaiting_workspaces)
        await ask_workspaces(talk, plan)
        return
    await code.send_code(talk)


async def ask_workspaces(talk: SignedTalk, plan: BindingPlan | None = None) -> None:
    """The workspaces question, with its box as it stands (also after /language)."""
    plan = plan or await talk.services.bind_phone.plan(talk.account_id)
    text = _("Should your workspaces use {phone} as their contact phone too?").format(
        phone=format_phone(await talk.recall("phone") or "")
    )
    step = await step_of(talk, plan, Step.WORKSPACES)
    on = bool(await talk.recall("workspaces"))
    await talk.say(texts.with_step(*step, text), await workspaces_markup(talk, on))


async def workspaces_markup(talk: SignedTalk, on: bool) -> InlineKeyboardMarkup:
    """ "Get code »", or "Continue »" when the shared contact binds at once (PRODUCT §1.4.6)."""
    own = bool(await talk.recall("own_contact"))
    sends_code = not talk.services.bind_phone.binds_at_once(own_contact=own)
    return keyboards.workspaces(on, sends_code=sends_code)


async def number_received(talk: SignedTalk, phone: str) -> None:
    """The reply keyboard goes away here; inline buttons then need a message of their own."""
    text = _("Number: {phone}").format(phone=format_phone(phone))
    await talk.say(text, ReplyKeyboardRemove())
