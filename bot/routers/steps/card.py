"""The account card (PRODUCT §1.2) as every flow shows it at its end, and leaving a flow tidily."""

from __future__ import annotations

from aiogram.types import ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot import texts
from bot.keyboards import card as keyboards
from bot.talk import Talk

NUMBER_STEP = "BindPhone:awaiting_number"  # its reply keyboard is removed with a message
SIGN_IN_STEPS = ("SignIn:",)  # the sign-in's own steps: /start asks them again, nothing is left


async def leave_flow(talk: Talk, *, said: str | None = None) -> str | None:
    """End whatever step is going on, tidily: returns the state that was left, if any. `said`
    is what the number step's keyboard goes away with ("Cancelled." unless told)."""
    was = await talk.state.get_state()
    await talk.state.clear()
    if was and was.startswith("AddressTaken:") and talk.account_id is not None:
        await talk.services.release.cancel(talk.account_id)
    if was == NUMBER_STEP:  # its reply keyboard would stay on screen
        await talk.say(said or _("Cancelled."), ReplyKeyboardRemove())
    return was


def step_left() -> str:
    """Said when a command (/start, /me, a deep link) ends a step in the middle (PRODUCT §3)."""
    return _("I stopped the step you were at. You can start it again from the card.")


async def leave_for_command(talk: Talk) -> str | None:
    """/start, /me or a deep link in the middle of a step: the step ends, and is said to end
    (PRODUCT §3). The note for the card that follows, or None when there was no step (or the
    number step's keyboard went away with these very words)."""
    was = await leave_flow(talk, said=step_left())
    if not was or was == NUMBER_STEP or was.startswith(SIGN_IN_STEPS):
        return None
    return step_left()


async def show_card(talk: Talk, *, note: str | None = None) -> None:
    if talk.account_id is None:
        await talk.say(_("Please sign in first: /start"))
        return
    view = await talk.services.account.view(talk.account_id)
    workspaces = await signed_in_to(talk)
    text = texts.card(
        view,
        oidc_name=talk.services.settings.oidc_name,
        workspaces=[title for _client, title in workspaces],
    )
    if note:
        text = f"{note}\n\n{text}"
    markup = keyboards.card(
        view, phone_available=talk.services.bind_phone.available, workspaces=workspaces
    )
    await talk.say(text, markup)


async def signed_in_to(talk: Talk) -> list[tuple[str, str]]:
    """(client id, workspace title) of each workspace the account consented to (PRODUCT §1.11)."""
    provider = talk.services.provider
    if provider is None or talk.account_id is None:
        return []
    return [(c.client_id, c.workspace_title) for c in await provider.consents(talk.account_id)]
