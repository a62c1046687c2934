"""The account card (PRODUCT §1.2): /me, its buttons, language and sign out.

Its buttons open the flows by name (`bot.entry`); the card itself is `steps.card.show_card`.
"""

from __future__ import annotations

from functools import partial

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import entry, texts
from bot.callbacks import Back, Language, Menu, SignOutOf, workspace_ref
from bot.keyboards import card as keyboards
from bot.routers.steps.card import leave_flow, leave_for_command, show_card, signed_in_to
from bot.routers.steps.returns import Returns
from bot.states import hint_for
from bot.talk import Talk


async def on_me(message: Message, talk: Talk) -> None:
    """The card; a step in the middle is ended, and said to be (PRODUCT §3)."""
    await show_card(talk, note=await leave_for_command(talk))


async def on_language_command(message: Message, talk: Talk) -> None:
    await talk.say(_("Choose the language:"), keyboards.languages())


async def on_language(
    query: CallbackQuery, callback_data: Language, talk: Talk, i18n: I18n, returns: Returns
) -> None:
    """The choice is kept on the account, not in the conversation state (issue #6)."""
    if talk.account_id is not None:
        await talk.services.account.set_locale(talk.account_id, callback_data.code, talk.actor)
    talk.locale = callback_data.code
    with i18n.use_locale(callback_data.code):
        state = await talk.state.get_state()
        hint = hint_for(state)
        if hint is None:
            await talk.say(_("Done, I will speak English now."))
            await show_card(talk)
            return
        # In the middle of a step: it is kept, and asked again in the new language, its text and
        # its buttons (PRODUCT §3); a step that cannot be asked again gets its hint.
        lines = [_("Done, I will speak English now."), _("We go on with the same step.")]
        signed, again = talk.signed_in(), returns.again(state)
        if signed is None or again is None:
            await talk.say("\n".join([*lines, hint]))
            return
        await talk.say("\n".join(lines))
        await again(signed)


async def on_back(
    query: CallbackQuery,
    callback_data: Back,
    talk: Talk,
    callback_answer: CallbackAnswer,
    returns: Returns,
) -> None:
    """ "« Back" of the step the person is at; one shown at a step that is over is stale
    (PRODUCT §3): it moves nothing, as any old button."""
    if not callback_data.is_at(await talk.state.get_state()):
        callback_answer.text = texts.stale_button()
        callback_answer.show_alert = True
        return
    await on_menu(query, Menu(action="back"), talk, returns)


async def on_menu(query: CallbackQuery, callback_data: Menu, talk: Talk, returns: Returns) -> None:
    signed = talk.signed_in()
    if signed is None:
        await talk.say(_("Please sign in first: /start"))
        return
    action = callback_data.action
    if action == "back" and await returns.back(signed):
        return  # the step before this one was asked again
    if action in ("card", "back"):
        await leave_flow(talk)
        await show_card(talk)
    elif action == "language":
        await talk.say(_("Choose the language:"), keyboards.languages())
    elif action == "signout":
        await talk.state.clear()
        await talk.services.account.sign_out(talk.user.id)
        await talk.say(_("You are signed out here. Your account stays; /start to sign in again."))
    elif action in entry.MENU and (flow := entry.begin(action)) is not None:
        await talk.state.clear()
        await flow(signed)


async def on_sign_out_of(
    query: CallbackQuery, callback_data: SignOutOf, talk: Talk, callback_answer: CallbackAnswer
) -> None:
    """ "Sign out of <workspace>" (PRODUCT §1.11): asks nothing more, as signing in there again
    undoes it; the consent goes with the workspace's refresh tokens. A button for a workspace
    the account is no longer signed in to is stale, as any old button."""
    provider, account_id = talk.services.provider, talk.account_id
    signed_in = talk.signed_in() is not None and provider is not None and account_id is not None
    workspaces = await signed_in_to(talk) if signed_in else []
    found = next((w for w in workspaces if workspace_ref(w[0]) == callback_data.ref), None)
    if found is None or provider is None or account_id is None:
        callback_answer.text = texts.stale_button()
        callback_answer.show_alert = True
        return
    client_id, title = found
    await provider.revoke_consent(account_id, client_id, talk.actor)
    await show_card(talk, note=texts.signed_out_of(title))


def make_router(returns: Returns) -> Router:
    """A fresh router with this module's handlers (no module-level router state); `returns`
    says where "« Back" leads from each step."""
    router = Router(name="card")
    router.message.register(on_me, Command("me"))
    router.message.register(on_language_command, Command("language"))
    router.callback_query.register(partial(on_language, returns=returns), Language.filter())
    router.callback_query.register(partial(on_back, returns=returns), Back.filter())
    router.callback_query.register(partial(on_menu, returns=returns), Menu.filter())
    router.callback_query.register(on_sign_out_of, SignOutOf.filter())
    return router
