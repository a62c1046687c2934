"""Passwords (PRODUCT §1.6) in the chat: typed-then-deleted, or on the secure page.

The card's "Create/Change password" is this step on its own; the binding flows ask for it inside
their steps and get the conversation back when it is done (`Returns`).
"""

from __future__ import annotations

import contextlib
from functools import partial

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.state import State
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.filters import signed_in_only
from bot.keyboards import flow as buttons
from bot.routers.steps.card import show_card
from bot.routers.steps.plan import step_of
from bot.routers.steps.returns import Next, Returns
from bot.states import Password
from bot.talk import SignedTalk, Talk
from core.errors import WeakPassword
from core.flows.binding import BindingPlan, Step


async def begin(talk: SignedTalk) -> None:
    """Create or change the password from the card; a new one only beside a login (PRODUCT
    §1.6): without an email or a phone, binding one comes first and asks for the password."""
    view = await talk.services.account.view(talk.account_id)
    if not view.has_password and not (view.email or view.phone):
        await talk.state.clear()
        note = _(
            "A password signs in together with an email or a phone. Bind one first: I will ask "
            "for the password on the way."
        )
        await show_card(talk, note=note)
        return
    await ask_new(talk)


async def ask_new(talk: SignedTalk) -> None:
    """The card's own password step (also asked again after /language)."""
    await ask(talk, Password.awaiting_new, step=(1, 1))


async def ask(talk: SignedTalk, state: State, *, step: tuple[int, int]) -> None:
    """Ask for a password: both ways in, one rule set (PRODUCT §1.6)."""
    await talk.state.set_state(state)
    purpose = "change" if await talk.services.password.has_password(talk.account_id) else "set"
    url = await talk.services.password.create_page(
        talk.account_id, talk.user.id, purpose, talk.locale, await being_bound(talk)
    )
    policy = talk.services.password.policy
    text = "\n\n".join(
        [
            _(
                "Create a password: at least {n} characters. A few unrelated words are easy to "
                "remember and hard to guess."
            ).format(n=policy.min_length),
            _(
                "Open the secure page, or type the password here: I will delete your message at "
                "once."
            ),
        ]
    )
    markup = buttons.secure_page(url, web_app=talk.services.settings.public_is_https)
    await talk.say(texts.with_step(*step, text), markup)


async def in_plan(talk: SignedTalk, plan: BindingPlan, state: State, otherwise: Next) -> None:
    """A binding's password step, asked at `state`, when its plan has one; otherwise on."""
    if not plan.needs_password:
        await otherwise(talk)
        return
    await ask(talk, state, step=await step_of(talk, plan, Step.PASSWORD))


async def on_typed(message: Message, talk: SignedTalk, returns: Returns) -> None:
    """The message with the password is deleted first, whatever happens next."""
    await forget(message, talk)
    try:
        await talk.services.password.set(
            talk.account_id, message.text or "", talk.actor, await being_bound(talk)
        )
    except WeakPassword as error:
        await talk.say(texts.explain(error) + "\n" + _("Please send another password."))
        return
    await after_password(talk, returns)


async def being_bound(talk: Talk) -> list[str]:
    """The address this flow is binding: the password must not be it either (PRODUCT §1.6)."""
    return [str(v) for v in (await talk.recall("address"), await talk.recall("phone")) if v]


async def forget(message: Message, talk: Talk) -> None:
    """Delete a typed password at once and say so (PRODUCT §1.6)."""
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()
    await talk.say(_("I deleted your message with the password, so it does not stay in the chat."))


async def after_password(talk: Talk, returns: Returns) -> None:
    """Where a new password leads: the step that asked for it, or the card."""
    signed = talk.signed_in()
    if signed is None or not await returns.after_password(signed):
        await talk.state.clear()
        await show_card(talk, note=_("Password saved."))


async def after_secure_page(talk: Talk, returns: Returns) -> None:
    """The secure page set the password (the notifier calls this)."""
    await talk.say(_("The password is saved."))
    await after_password(talk, returns)


def make_router(returns: Returns) -> Router:
    """A fresh router: a typed password, at the card's own step or one a flow asked from."""
    router = signed_in_only(Router(name="password"))
    asking = StateFilter(Password.awaiting_new, *returns.asking_password)
    typed = partial(on_typed, returns=returns)
    router.message.register(typed, asking, F.text, ~F.text.startswith("/"))
    return router
