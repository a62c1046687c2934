"""Password recovery through a bound email or phone (PRODUCT §1.7): a code, then a new password.

The answer to `start` is the same whether or not the login exists, so it tells nobody who has an
account; only the login's owner receives the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import letters
from core.domain.models import AddressKind
from core.errors import CodeExpired, NotSignedIn
from core.flows.auth import login_key
from core.flows.binding import before_send, sms_rules
from core.flows.codes import Codes
from core.flows.kit import Kit
from core.flows.password import PasswordFlow
from core.notices import PasswordSet


@dataclass(frozen=True)
class RecoveryFlow:
    """Resets a forgotten password for whoever controls the bound email or phone."""

    kit: Kit

    @property
    def codes(self) -> Codes:
        return Codes(self.kit, "recovery")

    def _key(self, login: str, locale: str | None) -> tuple[AddressKind, str] | None:
        """The login read as the sign-in reads it (PRODUCT §1.7)."""
        return login_key(login, locale, self.kit.options.default_locale)

    def _subject(self, login: str, locale: str | None) -> str:
        key = self._key(login, locale)
        return self.kit.keyed.digest("recovery", key[1] if key else login.strip().casefold())

    async def start(self, login: str, locale: str) -> None:
        """Send a code to the login when an account has it; silently nothing otherwise."""
        key = self._key(login, locale)
        if key is None:
            return
        kind, address = key
        async with self.kit.reader() as uow:
            account_id = await uow.bindings.owner(kind, address)
        subject = self._subject(login, locale)
        if account_id is None:
            await self.codes.cooldown(subject)  # same pace as for a real login
            return
        rules = sms_rules(self.kit, address, account_id, None) if kind is AddressKind.PHONE else []
        await before_send(self.codes, subject, rules)
        ttl = (
            self.kit.limits.email_code_ttl
            if kind is AddressKind.EMAIL
            else self.kit.limits.sms_code_ttl
        )
        code, _ = await self.codes.issue(subject, ttl, {"account_id": str(account_id)})
        minutes = int(ttl.total_seconds() // 60)
        await self.kit.idle()  # the letter or SMS may take seconds: no connection held meanwhile
        if kind is AddressKind.EMAIL:
            await self.kit.mailer.send(letters.recovery_letter(locale, address, code, minutes))
        elif self.kit.sms is not None:
            await self.kit.sms.send(address, letters.sms_recovery_text(locale, code, minutes))

    async def confirm(self, login: str, code: str, locale: str | None = None) -> str:
        """A one-time token allowing to set a new password, for a right code."""
        record = await self.codes.verify(self._subject(login, locale), code)
        token = self.kit.new_token()
        await self.kit.tokens.put(
            self._token_key(token),
            {"account_id": record.data["account_id"]},
            self.kit.limits.secure_page_ttl,
        )
        return token

    async def confirm_here(
        self, account_id: int, login: str, code: str, locale: str | None = None
    ) -> None:
        """For a person already signed in (the chat): a right code lets this very account set a
        new password next, and no token leaves the core (nothing secret in the chat's state)."""
        record = await self.codes.verify(self._subject(login, locale), code)
        if record.data["account_id"] != str(account_id):
            raise CodeExpired()  # a code for another account's login is no use here
        await self.kit.tokens.put(
            self._grant_key(account_id),
            {"account_id": str(account_id)},
            self.kit.limits.secure_page_ttl,
        )

    async def reset_here(self, account_id: int, password: str) -> None:
        """Set the new password after `confirm_here`; the grant works once."""
        await self._reset(self._grant_key(account_id), password)

    async def reset(self, token: str, password: str) -> int:
        """Set the new password with the token from `confirm`; the token works once.

        This is the web's path (the sign-in page's "Forgot password?"): every chat linked to the
        account is told, as after the secure password page (PRODUCT §1.7, §1.10).
        """
        account_id = await self._reset(self._token_key(token), password)
        async with self.kit.reader() as uow:
            users = await uow.telegram.users_of(account_id)
        for user in users:
            await self.kit.notifier.notify(PasswordSet(user, account_id))
        return account_id

    async def _reset(self, key: str, password: str) -> int:
        data = await self.kit.tokens.peek(key)
        if not data:
            raise CodeExpired()
        account_id = int(data["account_id"])
        passwords = PasswordFlow(self.kit)
        try:
            await passwords.check(account_id, password)
        except NotSignedIn:  # the account was deleted since the code (PRODUCT §1.12)
            raise CodeExpired() from None
        if await self.kit.tokens.pop(key) is None:
            raise CodeExpired()
        await passwords.set(account_id, password, "recovery")
        return account_id

    def _token_key(self, token: str) -> str:
        return "reset:" + self.kit.keyed.digest("reset", token)

    def _grant_key(self, account_id: int) -> str:
        return f"reset-grant:{account_id}"
