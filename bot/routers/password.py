"""Passwords (PRODUCT §1.6) in the chat: typed-then-deleted, or on the secure page."""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.keyboards import flow as buttons
from bot.routers.card import show_card
from bot.states import AddressTaken, BindEmail, BindPhone, Password
from bot.talk import Talk
from core.errors import WeakPassword

# States in which a typed text is a new password for the account.
AWAITING = (
    BindEmail.awaiting_password,
    BindPhone.awaiting_password,
    AddressTaken.awaiting_password,
    Password.awaiting_new,
)


async def begin(talk: Talk) -> None:
    """Create or change the password from the card."""
    await ask(talk, Password.awaiting_new, step=(1, 1))


async def ask(talk: Talk, state: object, *, step: tuple[int, int]) -> None:
    """Ask for a password: both ways in, one rule set (PRODUCT §1.6)."""
    assert talk.account_id is not None
    await talk.state.set_state(state)  # type: ignore[arg-type]
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


async def on_typed(message: Message, talk: Talk) -> None:
    """The message with the password is deleted first, whatever happens next."""
    await forget(message, talk)
    assert talk.account_id is not None
    try:
        await talk.services.password.set(
            talk.account_id, message.text or "", talk.actor, await being_bound(talk)
        )
    except WeakPassword as error:
        await talk.say(texts.explain(error) + "\n" + _("Please send another password."))
        return
    await after_password(talk)


async def being_bound(talk: Talk) -> list[str]:
    """The address this flow is binding: the password must not be it either (PRODUCT §1.6)."""
    return [str(v) for v in (await talk.recall("address"), await talk.recall("phone")) if v]


async def forget(message: Message, talk: Talk) -> None:
    """Delete a typed password at once and say so (PRODUCT §1.6)."""
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()
    await talk.say(_("I deleted your message with the password, so it does not stay in the chat."))


async def after_password(talk: Talk) -> None:
    """Where a new password leads: the step that asked for it, or the card."""
    state = await talk.state.get_state()
    if state == BindEmail.awaiting_password.state:
        from bot.routers import bind_email

        await bind_email.send_letter(talk)
    elif state == AddressTaken.awaiting_password.state:
        from bot.routers import release

        await release.finish(talk)
    elif state == BindPhone.awaiting_password.state:
        from bot.routers import bind_phone

        await bind_phone.finish(talk)
    else:
        await talk.state.clear()
        await show_card(talk, note=_("Password saved."))


async def after_secure_page(talk: Talk) -> None:
    """The secure page set the password (the notifier calls this)."""
    await talk.say(_("The password is saved."))
    await after_password(talk)


def make_router() -> Router:
    """A fresh router with this module's handlers (no module-level router state)."""
    router = Router(name="password")
    router.message.register(on_typed, StateFilter(*AWAITING), F.text, ~F.text.startswith("/"))
    return router
