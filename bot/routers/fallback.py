"""What nobody else took: a short hint, never silence (PRODUCT §3). Included last."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.states import SignIn, hint_for
from bot.talk import Talk

# Steps a person is at before having an account: the sign-in's own.
WITHOUT_ACCOUNT = frozenset({SignIn.awaiting_terms.state})


async def on_edit(message: Message, talk: Talk) -> None:
    lead = _("I do not read edited messages. Please send the text again as a new message.")
    hint = hint_for(await talk.state.get_state())
    await talk.say(f"{lead} {hint}" if hint else lead)


async def on_anything(message: Message, talk: Talk) -> None:
    state = await talk.state.get_state()
    hint = hint_for(state)
    if message.forward_origin is not None:
        lead = _("Forwarded messages are not read here.")
    elif message.text and message.text.startswith("/"):
        lead = _("I do not know this command.")
    else:
        lead = _("Sorry, I did not understand that.")
    if hint is None and _looks_like_code(message.text):
        await talk.say(
            _("I was not waiting for a code: that step may have expired. Let's start over: /me")
        )
        return
    if hint is not None:
        tail = hint + "\n" + _("Send /cancel to stop.")
    elif talk.account_id is None:
        tail = _("Send /start to sign in.")
    else:
        tail = _("Send /me to see your account, or /help.")
    await talk.say(f"{lead} {tail}")


async def on_stale_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A button from an old message, or forged data: say so, change nothing."""
    callback_answer.text = texts.stale_button()
    callback_answer.show_alert = True


def make_router() -> Router:
    """A fresh router with this module's handlers (no module-level router state)."""
    router = Router(name="fallback")
    router.edited_message.register(on_edit)
    router.message.register(on_anything)
    router.callback_query.register(on_stale_button)
    return router


def _looks_like_code(text: str | None) -> bool:
    digits = "".join(ch for ch in text or "" if ch.isdigit())
    return len(digits) == 6 and len((text or "").strip()) <= 9


async def signed_out_mid_flow(
    event: Message | CallbackQuery, raw_state: str | None, **data: Any
) -> bool:
    """A step of a flow that needs an account, but the chat is not signed in (any more): signed
    out elsewhere, or the account's Telegram link moved while the step was kept (PRODUCT §3)."""
    if raw_state is None or raw_state in WITHOUT_ACCOUNT:
        return False
    talk: Talk | None = data.get("talk")
    if talk is None or talk.account_id is not None:
        return False
    text = event.text if isinstance(event, Message) else None
    return not (text or "").startswith("/")  # commands work signed out (/start above all)


async def on_signed_out_message(message: Message, talk: Talk) -> None:
    await talk.state.clear()
    await talk.say(_("Please sign in first: /start"))


async def on_signed_out_button(
    query: CallbackQuery, talk: Talk, callback_answer: CallbackAnswer
) -> None:
    await talk.state.clear()
    callback_answer.text = _("Please sign in first: /start")
    callback_answer.show_alert = True


def make_forward_guard() -> Router:
    """Before any flow could take them as input: forwarded messages get the step's hint, and a
    step that needs an account, reached signed out, ends with "sign in first"."""
    router = Router(name="forward_guard")
    router.message.register(on_anything, F.forward_origin)
    router.message.register(on_signed_out_message, signed_out_mid_flow)
    router.callback_query.register(on_signed_out_button, signed_out_mid_flow)
    return router
