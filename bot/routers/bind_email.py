"""Bind an email (PRODUCT §1.3): address, workspaces option, password, then the letter's code.

Which of these steps apply, and their count, is core's plan (`BindEmailFlow.plan`).
"""

from __future__ import annotations

from functools import partial
from html import escape

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import Step
from bot.filters import signed_in_only
from bot.keyboards import flow as buttons
from bot.routers import address_taken
from bot.routers.steps import password
from bot.routers.steps.card import show_card
from bot.routers.steps.code import WaitingForCode, bound_meanwhile, tips
from bot.routers.steps.plan import began, step_of
from bot.routers.steps.trouble import Trouble, note_failure
from bot.routers.steps.workspaces import Workspaces
from bot.states import BindEmail
from bot.talk import SignedTalk, Talk
from core.domain.models import AddressKind
from core.errors import AddressTaken, CodeExpired, DomainError, NothingPending, ResendTooSoon
from core.flows.bind_email import EmailBound, EmailPending
from core.flows.binding import BindingPlan
from core.flows.binding import Step as Steps

FLOW = "email"


async def _plan(talk: SignedTalk) -> BindingPlan:
    return await talk.services.bind_email.plan(talk.account_id)


async def begin(talk: SignedTalk) -> None:
    """Step 1: ask for the address, offering the provider-verified one as a button."""
    await talk.state.set_state(BindEmail.awaiting_address)
    plan = await _plan(talk)
    await began(talk, plan, workspaces=False)
    await ask_address(talk, plan)


async def ask_address(talk: SignedTalk, plan: BindingPlan | None = None) -> None:
    """Step 1's question and buttons, as they stand (also after /language)."""
    plan = plan or await _plan(talk)
    if plan.suggestion:
        use = _("Use {email}").format(email=plan.suggestion)
        markup = buttons.choices(FLOW, [("suggested", use)])
    else:
        markup = buttons.only_back()
    text = _("Send the email address you want to sign in with.")
    await talk.say(texts.with_step(*plan.number(Steps.ADDRESS), text), markup)


async def again(talk: SignedTalk) -> None:
    """The "Change the address" button: the pending letter is dropped, and step 1 again."""
    await talk.services.bind_email.cancel(talk.account_id)
    await begin(talk)


async def on_suggested(query: CallbackQuery, talk: SignedTalk) -> None:
    suggestion = await talk.services.bind_email.suggestion(talk.account_id)
    if suggestion:
        await take_address(talk, suggestion)


async def on_address(message: Message, talk: SignedTalk) -> None:
    await take_address(talk, message.text or "")


async def take_address(talk: SignedTalk, raw: str) -> None:
    try:
        address = await talk.services.bind_email.check(talk.account_id, raw)
    except AddressTaken as taken:
        await address_taken.offer(talk, AddressKind.EMAIL, taken.address)
        return
    except DomainError as error:
        await talk.say(
            texts.explain(error) + "\n" + _("Please send the address again."), buttons.only_back()
        )
        return
    await talk.remember(address=address)
    plan = await _plan(talk)
    if plan.workspaces:
        await talk.state.set_state(BindEmail.awaiting_workspaces)
        await ask_workspaces(talk, plan)
        return
    await after_workspaces(talk, plan)


async def ask_workspaces(talk: SignedTalk, plan: BindingPlan | None = None) -> None:
    """The workspaces question, with its box as it stands (also after /language)."""
    plan = plan or await _plan(talk)
    text = _("Should your workspaces use {email} as their contact email too?").format(
        email=escape(await talk.recall("address") or "")
    )
    step = await step_of(talk, plan, Steps.WORKSPACES)
    on = bool(await talk.recall("workspaces"))
    await talk.say(texts.with_step(*step, text), buttons.workspaces(FLOW, on))


async def workspaces_markup(talk: SignedTalk, on: bool) -> InlineKeyboardMarkup:
    return buttons.workspaces(FLOW, on)


async def before_password(talk: SignedTalk) -> None:
    """ "« Back" from the password step: the workspaces question again when the plan has it,
    else the address."""
    address = await talk.recall("address")
    if address and (await _plan(talk)).workspaces:
        await talk.remember(workspaces=False)  # the question comes back with its box unticked
        await take_address(talk, address)
    else:
        await begin(talk)


async def after_workspaces(talk: SignedTalk, plan: BindingPlan | None = None) -> None:
    plan = plan or await _plan(talk)
    then = partial(send_letter, plan=plan)  # "step k of n" of the letter from the same plan
    await password.in_plan(talk, plan, BindEmail.awaiting_password, then)


async def ask_password(talk: SignedTalk) -> None:
    """The password step asked again (after /language), its secure page in that language; on
    to the letter when a password was set meanwhile."""
    await password.in_plan(talk, await _plan(talk), BindEmail.awaiting_password, send_letter)


async def ask_code(talk: SignedTalk) -> None:
    """ "Letter sent" again (after /language), with its buttons: no new letter goes out."""
    await letter_sent(talk, await talk.recall("address") or "")


async def send_letter(talk: SignedTalk, plan: BindingPlan | None = None) -> None:
    """The last step: bound at once when the provider vouches, otherwise the letter goes out.
    `plan`: the one this update read already (after the letter the connection was given back,
    so reading it again would be another unit of work)."""
    if await resumed(talk):
        return
    address = await talk.recall("address")
    try:
        outcome = await start(talk)
    except AddressTaken as taken:
        await address_taken.offer(talk, AddressKind.EMAIL, taken.address)
        return
    except ResendTooSoon:
        # PRODUCT §3: the letter to this very address went out, but the step was cut short (a
        # crash, and the update came again): the person is sent on to its code, not told to wait.
        if await talk.services.bind_email.pending_address(talk.account_id) != address:
            raise
        await letter_sent(talk, address, plan)
        return
    if isinstance(outcome, EmailBound):
        await done(talk, outcome.address)
        return
    await letter_sent(talk, outcome.address, plan)


async def start(talk: SignedTalk) -> EmailBound | EmailPending:
    return await talk.services.bind_email.start(
        talk.account_id,
        await talk.recall("address"),
        locale=talk.locale,
        update_workspaces=bool(await talk.recall("workspaces")),
        actor=talk.actor,
    )


async def letter_sent(talk: SignedTalk, address: str, plan: BindingPlan | None = None) -> None:
    await talk.state.set_state(BindEmail.awaiting_code)
    step = await step_of(talk, plan or await _plan(talk), Steps.CODE)
    text = _(
        "I sent a letter to {email}. Press the button in it, or send me the 6-digit code from it."
    ).format(email=escape(address))
    await talk.say(texts.with_step(*step, text), buttons.waiting_code(FLOW))


async def resumed(talk: SignedTalk) -> bool:
    """The address was bound meanwhile (PRODUCT §3): say so, and show the card."""
    return await bound_meanwhile(talk, talk.services.bind_email, "address", done)


async def on_code(message: Message, talk: SignedTalk) -> None:
    if await resumed(talk):
        return
    try:
        address = await talk.services.bind_email.confirm_code(
            talk.account_id, message.text or "", talk.actor
        )
    except AddressTaken as taken:
        await address_taken.offer(talk, AddressKind.EMAIL, taken.address)
        return
    except CodeExpired as error:
        if await resumed(talk):  # the link or a copy of this update used the code meanwhile
            return
        await talk.say(texts.explain(error), buttons.waiting_code(FLOW))
        return
    except DomainError as error:
        await talk.say(texts.explain(error))
        await note_failure(talk, "email_code")
        return
    await done(talk, address)


async def not_arriving(talk: SignedTalk) -> None:
    await tips(
        talk,
        _(
            "Check the Spam folder and that the address is right. Letters usually arrive "
            "within a minute; you can ask for a new one."
        ),
        buttons.waiting_code(FLOW),
    )
    await note_failure(talk, "email_code", Trouble.NOT_ARRIVING)


async def resend(talk: SignedTalk) -> str | None:
    """A new letter, said in the pressed message (not a new message each time)."""
    try:
        pending = await talk.services.bind_email.resend(talk.account_id, talk.actor)
    except NothingPending:  # used up (a step cut short) or expired: a fresh letter
        outcome = await start(talk)
        if isinstance(outcome, EmailBound):
            await done(talk, outcome.address)
            return None
        pending = outcome
    now = talk.services.clock.now()
    until = await talk.services.bind_email.resend_at(talk.account_id)  # the one deadline
    return _(
        "I sent a new letter to {email}. The code from the earlier letter no longer works. Next "
        "resend {wait}."
    ).format(email=escape(pending.address), wait=texts.wait(until or now, now))


async def done(talk: Talk, address: str, *, clear: bool = True) -> None:
    if clear:
        await talk.state.clear()
    note = _("Email bound. You can now sign in with {email} and your password.").format(
        email=escape(address)
    )
    await show_card(talk, note=note)


async def after_link(talk: Talk, address: str) -> None:
    """The link in the letter was followed (the notifier calls this); another step the person
    has moved on to meanwhile is left as it is."""
    waiting = await talk.state.get_state() == BindEmail.awaiting_code.state
    await done(talk, address, clear=waiting)


def make_router() -> Router:
    """A fresh router with this module's handlers (no module-level router state)."""
    router = signed_in_only(Router(name="bind_email"))
    text = (F.text, ~F.text.startswith("/"))
    router.callback_query.register(
        on_suggested,
        BindEmail.awaiting_address,
        Step.filter((F.flow == FLOW) & (F.choice == "suggested")),
    )
    router.message.register(on_address, BindEmail.awaiting_address, *text)
    workspaces = Workspaces(FLOW, workspaces_markup, after_workspaces)
    workspaces.register(router, BindEmail.awaiting_workspaces)
    router.message.register(on_code, BindEmail.awaiting_code, *text)
    WaitingForCode(FLOW, again, resumed, not_arriving, resend).register(
        router, BindEmail.awaiting_code
    )
    return router
