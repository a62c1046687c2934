"""Password recovery (PRODUCT §1.7): a code to a bound email or phone, then a new password.

After the right code, core remembers that this account may set a password (for the secure-page
lifetime); the conversation keeps nothing secret.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.callbacks import Step
from bot.filters import signed_in_only
from bot.keyboards import flow as buttons
from bot.routers.steps.card import show_card
from bot.routers.steps.code import resent
from bot.routers.steps.password import forget
from bot.states import Recovery
from bot.talk import SignedTalk, Talk
from core.domain.addresses import mask
from core.domain.models import AddressKind
from core.errors import CodeExpired, DomainError, ResendTooSoon, WeakPassword

FLOW = "recover"
TOTAL = 2  # the code, then the new password


async def _logins(talk: SignedTalk) -> dict[AddressKind, str]:
    """The account's confirmed addresses: only those can receive a recovery code."""
    view = await talk.services.account.view(talk.account_id)
    found = {AddressKind.EMAIL: view.email, AddressKind.PHONE: view.phone}
    return {kind: binding.address for kind, binding in found.items() if binding is not None}


async def begin(talk: Talk) -> None:
    """ "Forgot password?": straight to the code with one address, a choice with two."""
    signed = talk.signed_in()
    if signed is None:
        await talk.say(_("Please sign in first: /start"))
        return
    logins = await _logins(signed)
    if not logins:
        note = _("Recovery needs a bound email or phone. Bind one first, then create a password.")
        await show_card(talk, note=note)
        return
    if len(logins) == 1:
        await send_code(signed, next(iter(logins)))
        return
    await talk.state.set_state(Recovery.awaiting_choice)
    await ask_choice(signed, logins)


async def ask_choice(talk: SignedTalk, logins: dict[AddressKind, str] | None = None) -> None:
    """Where the code goes, asked (also again after /language)."""
    logins = logins or await _logins(talk)
    options = [
        (kind.value, label.format(address=mask(logins[kind])))
        for kind, label in (
            (AddressKind.EMAIL, _("Email {address}")),
            (AddressKind.PHONE, _("Phone {address}")),
        )
        if kind in logins
    ]
    await talk.say(_("Where should I send the recovery code?"), buttons.choices(FLOW, options))


async def on_command(message: Message, talk: Talk) -> None:
    await talk.state.clear()
    await begin(talk)


async def on_choice(query: CallbackQuery, callback_data: Step, talk: SignedTalk) -> None:
    await send_code(talk, AddressKind(callback_data.choice))


async def send_code(talk: SignedTalk, kind: AddressKind) -> None:
    """Step 1: the code goes out; a code sent moments ago stays valid (the cooldown)."""
    login = (await _logins(talk)).get(kind)
    if login is None:
        await show_card(talk, note=texts.explain(CodeExpired()))
        return
    await talk.state.set_state(Recovery.awaiting_code)
    await talk.remember(recover_kind=kind.value)
    try:
        await talk.services.recovery.start(login, talk.locale)
    except ResendTooSoon as error:
        note = texts.explain(error, talk.services.clock.now())
    except DomainError as error:
        await talk.state.clear()
        await show_card(talk, note=texts.explain(error))
        return
    else:
        note = ""
    await say_code_sent(talk, login, note)


async def say_code_sent(talk: SignedTalk, login: str, note: str = "") -> None:
    text = _("I sent a recovery code to {address}. Send it here.").format(address=mask(login))
    await talk.say(
        texts.with_step(1, TOTAL, f"{text}\n{note}".strip()),
        buttons.choices(FLOW, [("resend", _("Send the code again"))]),
    )


async def ask_code(talk: SignedTalk) -> None:
    """ "Code sent" again (after /language), with its button: no new code goes out."""
    await say_code_sent(talk, await _login(talk))


async def _login(talk: SignedTalk) -> str:
    kind = AddressKind(await talk.recall("recover_kind"))
    return (await _logins(talk)).get(kind, "")


async def on_code(message: Message, talk: SignedTalk) -> None:
    """Step 2 after a right code: core remembers that this account may set a password now."""
    try:
        await talk.services.recovery.confirm_here(
            talk.account_id, await _login(talk), message.text or "", talk.locale
        )
    except DomainError as error:  # attempts left, or expired: a new code is a button away
        markup = buttons.choices(FLOW, [("resend", _("Send the code again"))])
        await talk.say(texts.explain(error), markup)
        return
    await talk.state.set_state(Recovery.awaiting_password)
    await ask_password(talk)


async def ask_password(talk: SignedTalk) -> None:
    """The new password's step (also asked again after /language)."""
    policy = talk.services.password.policy
    text = _(
        "The code is right. Now send the new password: at least {n} characters. I will delete "
        "your message at once."
    ).format(n=policy.min_length)
    await talk.say(texts.with_step(2, TOTAL, text), buttons.only_back())


async def on_password(message: Message, talk: SignedTalk) -> None:
    await forget(message, talk)
    try:
        await talk.services.recovery.reset_here(talk.account_id, message.text or "")
    except WeakPassword as error:  # the grant stays: core checks before using it up
        await talk.say(texts.explain(error) + "\n" + _("Please send another password."))
        return
    except DomainError as error:
        await talk.state.clear()  # the grant expired or was used
        await show_card(talk, note=texts.explain(error))
        return
    await talk.state.clear()
    await show_card(talk, note=_("Password changed. Sign in with your new password."))


async def on_resend(
    query: CallbackQuery, talk: SignedTalk, callback_answer: CallbackAnswer
) -> None:
    """A new code; the same message is edited to say so (not a new message each time)."""
    login = await _login(talk)

    async def send() -> str:
        await talk.services.recovery.start(login, talk.locale)
        text = _("I sent a new code to {address}. The earlier code no longer works.").format(
            address=mask(login)
        )
        return texts.with_step(1, TOTAL, text)

    markup = buttons.choices(FLOW, [("resend", _("Send the code again"))])
    await resent(query, talk, callback_answer, markup, send)


def make_router() -> Router:
    """A fresh router: /recover, then its steps for a signed-in chat (no module-level state)."""
    router = Router(name="recovery")
    router.message.register(on_command, Command("recover"))
    steps = signed_in_only(Router(name="recovery_steps"))
    text = (F.text, ~F.text.startswith("/"))
    steps.callback_query.register(
        on_choice,
        Recovery.awaiting_choice,
        Step.filter((F.flow == FLOW) & F.choice.in_({"email", "phone"})),
    )
    steps.callback_query.register(
        on_resend, Recovery.awaiting_code, Step.filter((F.flow == FLOW) & (F.choice == "resend"))
    )
    steps.message.register(on_code, Recovery.awaiting_code, *text)
    steps.message.register(on_password, Recovery.awaiting_password, *text)
    router.include_router(steps)
    return router
