"""The context card agents see at the top of a topic, and the rolling log it quotes.

The log keeps a person's last messages, redacted, in its own corner of the conversation store
(a separate FSM destiny, so /cancel does not wipe it). A message sent while a code or password
was awaited is never kept: only "[hidden]" stands for it (PRODUCT §1.8).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from html import escape
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.isolation import LOG_SIZE
from bot.states import (
    N_,
    AddressTaken,
    BindEmail,
    BindPhone,
    DeleteAccount,
    Password,
    Recovery,
    SignIn,
    Support,
    Unbind,
)
from core.bootstrap import Services
from core.flows.support import HIDDEN, redact
from core.support_ports import Handoff

LOG_DESTINY = "support_log"
# States in which whatever the person types is a secret (a code or a password).
SECRET_STATES = {
    state.state
    for state in (
        BindEmail.awaiting_password,
        BindEmail.awaiting_code,
        BindPhone.awaiting_code,
        BindPhone.awaiting_password,
        AddressTaken.awaiting_proof,
        AddressTaken.awaiting_new_code,
        Password.awaiting_new,
        Recovery.awaiting_code,
        Recovery.awaiting_password,
    )
}
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# The step a person is at, in the agents' words (the states' own hints speak to the person).
STEPS = {
    state.state: label
    for state, label in (
        (SignIn.awaiting_terms, N_("signing in — accepting the user agreement")),
        (BindEmail.awaiting_address, N_("binding an email — waiting for the address")),
        (BindEmail.awaiting_workspaces, N_("binding an email — the workspaces question")),
        (BindEmail.awaiting_password, N_("binding an email — creating a password")),
        (BindEmail.awaiting_code, N_("binding an email — waiting for the code from the letter")),
        (BindPhone.awaiting_number, N_("binding a phone — waiting for the number")),
        (BindPhone.awaiting_workspaces, N_("binding a phone — the workspaces question")),
        (BindPhone.awaiting_code, N_("binding a phone — waiting for the SMS code")),
        (BindPhone.awaiting_password, N_("binding a phone — creating a password")),
        (AddressTaken.awaiting_choice, N_("the address is taken — choosing what to do")),
        (
            AddressTaken.awaiting_proof,
            N_("freeing a taken address — waiting for the code or the other account's password"),
        ),
        (
            AddressTaken.awaiting_new_address,
            N_("freeing a taken address — waiting for the other account's new address"),
        ),
        (
            AddressTaken.awaiting_new_code,
            N_("freeing a taken address — waiting for the code sent to the new address"),
        ),
        (AddressTaken.awaiting_password, N_("freeing a taken address — creating a password")),
        (Password.awaiting_new, N_("setting a password — waiting for the new password")),
        (Unbind.awaiting_confirmation, N_("unbinding an address — waiting for confirmation")),
        (Recovery.awaiting_choice, N_("recovering access — choosing where the code goes")),
        (Recovery.awaiting_code, N_("recovering access — waiting for the code")),
        (Recovery.awaiting_password, N_("recovering access — waiting for the new password")),
        (
            DeleteAccount.awaiting_choice,
            N_("deleting the account — choosing where the confirmation code goes"),
        ),
        (DeleteAccount.awaiting_code, N_("deleting the account — waiting for the code")),
        (
            DeleteAccount.awaiting_sign_in,
            N_("deleting the account — waiting for a fresh social sign-in"),
        ),
        (DeleteAccount.awaiting_final, N_("deleting the account — the last confirmation")),
        (Support.in_handoff, N_("talking to support")),
    )
}
# Why the handoff was opened (`hand_over`'s reason, the offer's `yes.<reason>`), in words.
REASONS = {
    "asked": N_("the person asked (the Support button, /support or the link)"),
    "offered": N_("the person accepted the offer after repeated trouble"),
    "email_code": N_("repeated trouble with the code from the letter"),
    "sms_code": N_("repeated trouble with the SMS code"),
    "address_taken": N_("the address is taken by another account"),
    "reopened": N_("support reopened the conversation"),
}


def step_label(state: str | None) -> str:
    """The step in words, in the current language; a step without a label by its name."""
    if state is None:
        return _("no step: the account card")
    label = STEPS.get(state)
    return _(label) if label else state


def reason_label(reason: str) -> str:
    label = REASONS.get(reason)
    return _(label) if label else reason


def log_of(state: FSMContext) -> FSMContext:
    """The same person's log, beside (not inside) their conversation state."""
    return FSMContext(storage=state.storage, key=replace(state.key, destiny=LOG_DESTINY))


async def remember(state: FSMContext, entry: str) -> None:
    """Add one entry to the person's log: on Redis one field of the chat's hash, appended to
    when the update's writes go out, never read for it (bot/isolation.py)."""
    append = getattr(state.storage, "append_log", None)
    if append is not None:
        await append(state.key, entry)
        return
    log = log_of(state)
    kept = list((await log.get_data()).get("log", []))
    kept.append(entry)
    await log.set_data({"log": kept[-LOG_SIZE:]})


async def recent(state: FSMContext) -> list[str]:
    """The person's last messages, oldest first (read only for the card)."""
    read = getattr(state.storage, "read_log", None)
    if read is not None:
        return list(await read(state.key))
    return list((await log_of(state).get_data()).get("log", []))


def summary(message: Message, state: str | None) -> str:
    """What the card may show of one message: never a secret."""
    if state in SECRET_STATES:
        return HIDDEN
    if message.text:
        return redact(message.text)
    if message.photo:
        return "[photo]" + (f" {redact(message.caption)}" if message.caption else "")
    if message.document:
        return f"[document {message.document.file_name or ''}]".replace(" ]", "]")
    return f"[{message.content_type}]"


class RecentLog(BaseMiddleware):
    """Keeps the last messages of each person for the card; handoff messages go to the topic."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        if isinstance(event, Message) and state is not None:
            current = await state.get_state()
            if current != Support.in_handoff.state:
                await remember(state, summary(event, current))
        return await handler(event, data)


async def render(
    services: Services, user: User, handoff: Handoff, state: FSMContext, locale: str
) -> str:
    """The card: who, which account, the paused step, why, and the redacted last messages."""
    name = escape(user.full_name or str(user.id))
    handle = f" @{escape(user.username)}" if user.username else ""
    lines = [
        _("<b>Support request</b>"),
        _("Person: {name}{handle}, Telegram id {id}").format(name=name, handle=handle, id=user.id),
        _("Reason: {reason}").format(reason=escape(reason_label(handoff.reason))),
        _("Step: {state}").format(state=escape(step_label(handoff.saved_state))),
        _("Language: {locale}").format(locale=escape(locale)),
    ]
    if handoff.account_id is None:
        lines.append(_("Not signed in."))
    else:
        lines.append(_("Account id: {id}").format(id=handoff.account_id))
        view = await services.account.view(handoff.account_id)
        # The person's card, less its heading and its advice (both speak to the person).
        person_card = texts.card(view, oidc_name=services.settings.oidc_name)
        lines += person_card.split("\n\n")[0].split("\n")[1:]
    lines += ["", _("<b>Last messages</b>")]
    lines += [f"› {escape(text)}" for text in await recent(state)] or ["—"]
    return "\n".join(lines)
