"""Bind an email (PRODUCT §1.3): address, workspaces option, password, then the letter's code."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import Step
from bot.keyboards import flow as buttons
from bot.routers import password
from bot.routers.card import show_card
from bot.routers.trouble import note_failure
from bot.states import BindEmail
from bot.talk import Talk
from core.domain.models import AddressKind
from core.errors import AddressTaken, CodeExpired, DomainError, NothingPending, ResendTooSoon
from core.flows.bind_email import EmailBound, EmailPending

FLOW = "email"


async def _steps(talk: Talk) -> int:
    """Address, (workspaces), (password), code: how many steps this person will see."""
    assert talk.account_id is not None
    total = 2 + (not await talk.services.password.has_password(talk.account_id))
    return total + bool(await _memberships(talk))


async def _total(talk: Talk) -> int:
    """The step count the flow began with, or worked out again when the data was lost."""
    return int(await talk.recall("flow_total") or await _steps(talk))


async def _memberships(talk: Talk) -> int:
    async with talk.services.kit.unit() as uow:
        return len(await uow.workspaces.memberships(talk.account_id or 0))


async def begin(talk: Talk) -> None:
    """Step 1: ask for the address, offering the provider-verified one as a button."""
    assert talk.account_id is not None
    await talk.state.set_state(BindEmail.awaiting_address)
    total = await _steps(talk)
    await talk.remember(flow_total=total, workspaces=False)
    suggestion = await talk.services.bind_email.suggestion(talk.account_id)
    view = await talk.services.account.view(talk.account_id)
    if suggestion and (view.email is None or view.email.address != suggestion):
        markup = buttons.choices(FLOW, [("suggested", _("Use {email}").format(email=suggestion))])
    else:
        markup = buttons.only_back()
    text = _("Send the email address you want to sign in with.")
    await talk.say(texts.with_step(1, total, text), markup)


async def on_suggested(query: CallbackQuery, talk: Talk) -> None:
    assert talk.account_id is not None
    suggestion = await talk.services.bind_email.suggestion(talk.account_id)
    if suggestion:
        await take_address(talk, suggestion)


async def on_address(message: Message, talk: Talk) -> None:
    await take_address(talk, message.text or "")


async def take_address(talk: Talk, raw: str) -> None:
    assert talk.account_id is not None
    try:
        address = await talk.services.bind_email.check(talk.account_id, raw)
    except AddressTaken as taken:
        from bot.routers import address_taken

        await address_taken.offer(talk, AddressKind.EMAIL, taken.address)
        return
    except DomainError as error:
        await talk.say(
            texts.explain(error) + "\n" + _("Please send the address again."), buttons.only_back()
        )
        return
    await talk.remember(address=address)
    if await _memberships(talk):
        await talk.state.set_state(BindEmail.awaiting_workspaces)
        text = _("Should your workspaces use {email} as their contact email too?").format(
            email=escape(address)
        )
        await talk.say(
            texts.with_step(2, await _total(talk), text),
            buttons.workspaces(FLOW, False),
        )
        return
    await after_workspaces(talk)


async def on_toggle(query: CallbackQuery, talk: Talk) -> None:
    on = not await talk.recall("workspaces", False)
    await talk.remember(workspaces=on)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=buttons.workspaces(FLOW, on))


async def on_workspaces_done(query: CallbackQuery, talk: Talk) -> None:
    await after_workspaces(talk)


async def after_workspaces(talk: Talk) -> None:
    assert talk.account_id is not None
    if await talk.services.password.has_password(talk.account_id):
        await send_letter(talk)
        return
    total = await _total(talk)
    await password.ask(talk, BindEmail.awaiting_password, step=(total - 1, total))


async def send_letter(talk: Talk) -> None:
    """The last step: bound at once when the provider vouches, otherwise the letter goes out."""
    assert talk.account_id is not None
    if await resumed(talk):
        return
    address = await talk.recall("address")
    try:
        outcome = await start(talk)
    except AddressTaken as taken:
        from bot.routers import address_taken

        await address_taken.offer(talk, AddressKind.EMAIL, taken.address)
        return
    except ResendTooSoon:
        # PRODUCT §3: the letter to this very address went out, but the step was cut short (a
        # crash, and the update came again): the person is sent on to its code, not told to wait.
        if await talk.services.bind_email.pending_address(talk.account_id) != address:
            raise
        await letter_sent(talk, address)
        return
    if isinstance(outcome, EmailBound):
        await done(talk, outcome.address)
        return
    await letter_sent(talk, outcome.address)


async def start(talk: Talk) -> EmailBound | EmailPending:
    return await talk.services.bind_email.start(
        talk.account_id or 0,
        await talk.recall("address"),
        locale=talk.locale,
        update_workspaces=bool(await talk.recall("workspaces")),
        actor=talk.actor,
    )


async def letter_sent(talk: Talk, address: str) -> None:
    await talk.state.set_state(BindEmail.awaiting_code)
    total = await _total(talk)
    text = _(
        "I sent a letter to {email}. Press the button in it, or send me the 6-digit code from it."
    ).format(email=escape(address))
    await talk.say(texts.with_step(total, total, text), buttons.waiting_code(FLOW))


async def resumed(talk: Talk) -> bool:
    """PRODUCT §3: the address being bound is already confirmed on this account (by the code or
    the link, in a step that was cut short): whatever comes next says so and shows the card,
    instead of "expired" or "already yours"."""
    address = await talk.recall("address")
    if talk.account_id is None or not address:
        return False
    if not await talk.services.bind_email.is_bound(talk.account_id, address):
        return False
    await done(talk, address)
    return True


async def on_code(message: Message, talk: Talk) -> None:
    assert talk.account_id is not None
    if await resumed(talk):
        return
    try:
        address = await talk.services.bind_email.confirm_code(
            talk.account_id, message.text or "", talk.actor
        )
    except AddressTaken as taken:
        from bot.routers import address_taken

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


async def on_waiting_choice(
    query: CallbackQuery, callback_data: Step, talk: Talk, callback_answer: CallbackAnswer
) -> None:
    assert talk.account_id is not None
    if callback_data.choice == "change":
        await talk.services.bind_email.cancel(talk.account_id)
        await begin(talk)
    elif await resumed(talk):  # the address is bound already (PRODUCT §3)
        return
    elif callback_data.choice == "help":
        await talk.say(
            _(
                "Check the Spam folder and that the address is right. Letters usually arrive "
                "within a minute; you can ask for a new one."
            ),
            buttons.waiting_code(FLOW),
        )
        await note_failure(talk, "email_code")
    elif callback_data.choice == "resend":
        await resend(query, talk, callback_answer)


async def resend(query: CallbackQuery, talk: Talk, callback_answer: CallbackAnswer) -> None:
    """A new letter; the same message is edited to say so (not a new message each time)."""
    assert talk.account_id is not None
    try:
        try:
            pending = await talk.services.bind_email.resend(talk.account_id, talk.actor)
        except NothingPending:  # used up (a step cut short) or expired: a fresh letter
            outcome = await start(talk)
            if isinstance(outcome, EmailBound):
                await done(talk, outcome.address)
                return
            pending = outcome
    except DomainError as error:  # ResendTooSoon above all: shown on the button, nothing sent
        callback_answer.text = texts.explain(error)
        callback_answer.show_alert = True
        return
    text = _(
        "I sent a new letter to {email}. The code from the earlier letter no longer works. Next "
        "resend in {time}."
    ).format(email=escape(pending.address), time=texts.seconds(pending.resend_in))
    if isinstance(query.message, Message):
        await talk.edit(query.message.message_id, text, buttons.waiting_code(FLOW))


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
    router = Router(name="bind_email")
    router.callback_query.register(
        on_suggested,
        BindEmail.awaiting_address,
        Step.filter((F.flow == FLOW) & (F.choice == "suggested")),
    )
    router.message.register(on_address, BindEmail.awaiting_address, F.text, ~F.text.startswith("/"))
    router.callback_query.register(
        on_toggle,
        BindEmail.awaiting_workspaces,
        Step.filter((F.flow == FLOW) & (F.choice == "toggle")),
    )
    router.callback_query.register(
        on_workspaces_done,
        BindEmail.awaiting_workspaces,
        Step.filter((F.flow == FLOW) & (F.choice == "continue")),
    )
    router.message.register(on_code, BindEmail.awaiting_code, F.text, ~F.text.startswith("/"))
    router.callback_query.register(
        on_waiting_choice, BindEmail.awaiting_code, Step.filter(F.flow == FLOW)
    )
    return router
