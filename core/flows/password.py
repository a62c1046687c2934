"""Passwords (PRODUCT §1.6): one rule set for the chat and the secure page; argon2id at rest."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import letters
from core.domain.passwords import PasswordPolicy
from core.errors import CodeExpired, NotSignedIn
from core.flows.account import load_view
from core.flows.kit import Kit
from core.notices import PasswordSet

# Telegram's Web App initData carries auth_date; an old one is a replay
# (core.telegram.org/bots/webapps).
WEB_APP_MAX_AGE = timedelta(hours=24)


@dataclass(frozen=True)
class SecurePage:
    """A one-time page to create a password without it passing through the chat."""

    account_id: int
    telegram_user_id: int
    purpose: str  # "set", "change"
    locale: str
    also: tuple[str, ...] = ()  # addresses being bound that the password must not be


@dataclass(frozen=True)
class PasswordFlow:
    """Checks, sets and changes passwords; makes and honours the secure page's one-time links."""

    kit: Kit

    @property
    def policy(self) -> PasswordPolicy:
        limits = self.kit.limits
        return PasswordPolicy(limits.password_min_length, limits.password_max_length)

    async def check(self, account_id: int, password: str, also: Iterable[str] = ()) -> str:
        """The normalized password, or WeakPassword: length, common list, the person's own data
        (`also`: an address being bound right now, not on the account yet)."""
        async with self.kit.reader() as uow:
            view = await load_view(uow, account_id, self.kit)
        personal = [view.account.name]
        personal += [
            b.address for b in (view.email, view.pending_email, view.phone, view.pending_phone) if b
        ]
        personal += [i.email for i in view.identities if i.email]
        return self.policy.check(password, [*personal, *also])

    async def has_password(self, account_id: int) -> bool:
        async with self.kit.reader() as uow:
            return await uow.passwords.get(account_id) is not None

    async def set(
        self, account_id: int, password: str, actor: str, also: Iterable[str] = ()
    ) -> None:
        """Set or replace the password; a replaced one is announced to the bound email."""
        text = await self.check(account_id, password, also)
        await self.kit.idle()  # hashing takes a while: no connection held meanwhile
        password_hash = await self.kit.hasher.hash(text)
        async with self.kit.unit() as uow:
            await uow.accounts.lock(account_id)
            replaced = await uow.passwords.get(account_id) is not None
            await uow.passwords.set(account_id, password_hash, self.kit.clock.now())
            action = "password.changed" if replaced else "password.set"
            await uow.audit.record(self.kit.event(action, account_id, actor))
            view = await load_view(uow, account_id, self.kit)
            await uow.commit()
        if replaced and view.email is not None:
            locale = view.account.locale or self.kit.options.default_locale
            with contextlib.suppress(Exception):
                await self.kit.mailer.send(
                    letters.password_changed_notice(locale, view.email.address)
                )

    def _page_key(self, token: str) -> str:
        return "pwpage:" + self.kit.keyed.digest("pwpage", token)

    async def create_page(
        self,
        account_id: int,
        telegram_user_id: int,
        purpose: str,
        locale: str,
        also: Iterable[str] = (),
    ) -> str:
        """A one-time URL of the secure password page for this account and this step."""
        token = self.kit.new_token()
        data = {
            "account_id": str(account_id),
            "telegram_user_id": str(telegram_user_id),
            "purpose": purpose,
            "locale": locale,
            "also": "\n".join(also),
        }
        await self.kit.tokens.put(self._page_key(token), data, self.kit.limits.secure_page_ttl)
        return self.kit.url(f"/password/{token}")

    async def open_page(self, token: str) -> SecurePage | None:
        data = await self.kit.tokens.peek(self._page_key(token))
        return _page(data) if data else None

    def web_app_ok(self, page: SecurePage, user_id: int | None, signed_at: datetime) -> bool:
        """Telegram's signed initData, sent with the page's form, is the page's own user's and
        fresh; the caller has checked Telegram's signature."""
        fresh = self.kit.clock.now() - signed_at <= WEB_APP_MAX_AGE
        return user_id == page.telegram_user_id and fresh

    async def submit_page(self, token: str, password: str) -> SecurePage:
        """Set the password from the page; the link works once, a weak password may be retried."""
        page = await self.open_page(token)
        if page is None:
            raise CodeExpired()
        try:
            await self.check(page.account_id, password, page.also)
        except NotSignedIn:  # the account was deleted since the link was made (PRODUCT §1.12)
            raise CodeExpired() from None
        if await self.kit.tokens.pop(self._page_key(token)) is None:
            raise CodeExpired()
        await self.set(page.account_id, password, "web", page.also)
        await self.kit.notifier.notify(PasswordSet(page.telegram_user_id, page.account_id))
        return page


def _page(data: dict[str, str]) -> SecurePage:
    also = tuple(filter(None, data.get("also", "").split("\n")))
    return SecurePage(
        int(data["account_id"]),
        int(data["telegram_user_id"]),
        data["purpose"],
        data["locale"],
        also,
    )
