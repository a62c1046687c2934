"""The core's Notifier port in the chat: what happened on the web reaches the person here."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.types import User
from aiogram.utils.i18n import I18n

from bot.talk import Talk
from core.bootstrap import Services
from core.i18n import pick_locale
from core.notices import (
    AccountDeleted,
    AddressReleased,
    EmailConfirmed,
    Notice,
    PasswordSet,
    Reauthenticated,
    SignedIn,
    SignInFailed,
    TelegramLinked,
    Unlinked,
)

log = logging.getLogger(__name__)


class BotNotifier:
    """Turns a notice into the next step of the person's conversation."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher, services: Services, i18n: I18n) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.services = services
        self.i18n = i18n

    async def notify(self, notice: Notice) -> None:
        # Only a fresh sign-in link needs the person's name (the consent page shows it).
        named = isinstance(notice, SignInFailed)
        talk = await self._talk(notice.telegram_user_id, notice.locale, named=named)
        with self.i18n.context(), self.i18n.use_locale(talk.locale):
            try:
                await self._react(talk, notice)
            except Exception:
                log.exception("could not deliver a notice", extra={"kind": type(notice).__name__})

    async def _react(self, talk: Talk, notice: Notice) -> None:
        from bot.routers import bind_email, delete, notices, returns, start
        from bot.routers.steps import password
        from bot.states import DeleteAccount

        match notice:
            case SignedIn():
                if notice.joined:
                    await notices.joined(talk)
                await start.after_sign_in(talk)
            case SignInFailed() if (
                await talk.state.get_state() == DeleteAccount.awaiting_sign_in.state
            ):
                await delete.sign_in_failed(talk)  # a link to confirm deleting (§1.12)
            case SignInFailed():
                await start.send_sign_in(talk, again=True)
            case EmailConfirmed():
                await bind_email.after_link(talk, notice.address)
            case PasswordSet():
                await password.after_secure_page(talk, returns())
            case TelegramLinked():
                await notices.telegram_linked(talk, notice)
            case AddressReleased():
                await notices.address_released(talk, notice)
            case Unlinked():
                await notices.unlinked(talk)
            case Reauthenticated():
                await delete.reauthenticated(talk, notice)
            case AccountDeleted():
                await delete.account_deleted(talk)

    async def _talk(
        self, telegram_user_id: int, spoken: str | None = None, *, named: bool = False
    ) -> Talk:
        """The person's chat in their language: the account's choice, else the language the
        chat spoke when this began (carried by the notice), else Telegram's (PRODUCT §1.10)."""
        found = await self.services.account.person(telegram_user_id)
        account_id, chosen = found if found else (None, None)
        state = self.dispatcher.fsm.get_context(self.bot, telegram_user_id, telegram_user_id)
        data = await state.get_data()
        first_name, username = data.get("first_name", ""), None
        if named and not first_name:
            first_name, username = await self._names(telegram_user_id)
        user = User(
            id=telegram_user_id,
            is_bot=False,
            first_name=first_name,
            username=username,
            language_code=data.get("language_code"),
        )
        default = self.services.settings.default_locale
        locale = pick_locale(chosen or spoken or user.language_code, default)
        return Talk(self.bot, user, state, self.services, account_id, locale)

    async def _names(self, telegram_user_id: int) -> tuple[str, str | None]:
        """How Telegram names the person: a fresh sign-in link made here still shows the consent
        page whose Telegram account it is for (PRODUCT §1.1.5). Unknown on a failure."""
        try:
            chat = await self.bot.get_chat(telegram_user_id)
        except Exception:
            log.warning("could not read the person's name", extra={"user_id": telegram_user_id})
            return "", None
        return chat.first_name or "", chat.username
