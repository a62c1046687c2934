"""Bind an email (PRODUCT §1.3): check, password first, then the provider's word or a letter."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from core import letters
from core.domain.addresses import mask_email, normalize_email, provider_email
from core.domain.models import AddressKind, BindingStatus
from core.errors import CodeExpired, InvalidEmail, NothingPending, PasswordRequired
from core.flows.binding import BindingFlow, Bound, CodeSent, before_send
from core.flows.binding import verified_emails as _verified
from core.notices import EmailConfirmed
from core.ports import UnitOfWork

EMAIL = AddressKind.EMAIL


class EmailBound(Bound):
    """The provider verified this email (PRODUCT §1.3 step 6)."""


class EmailPending(CodeSent):
    """A letter with a link and a code went out."""


@dataclass(frozen=True)
class BindEmailFlow(BindingFlow, kind=EMAIL, password_last=False, address_key="address"):
    """Steps of binding an email to an account; the bot and the web page drive them."""

    def _link_key(self, token: str) -> str:
        return "emaillink:" + self.kit.keyed.digest("emaillink", token)

    async def check(self, account_id: int, raw: str) -> str:
        """The normalized address if this account may bind it (InvalidEmail, AddressTaken...)."""
        address = await self._address(account_id, raw)
        await self.ensure_free(account_id, address)
        return address

    async def _address(self, account_id: int, raw: str) -> str:
        """A typed address passes the strict check; one a provider verified for this account is
        taken as the provider gave it, special-use domains such as `corp.local` included
        (PRODUCT §1.3 steps 1 and 6)."""
        try:
            return normalize_email(raw)
        except InvalidEmail as strict:
            try:
                given = provider_email(raw)
            except InvalidEmail:
                raise strict from None
            async with self.kit.reader() as uow:
                identities = await uow.identities.for_account(account_id)
            if given in _verified(self.kit, identities):
                return given
            raise

    async def suggestion(self, account_id: int) -> str | None:
        """An email the social provider verified, to offer as a one-tap button."""
        async with self.kit.reader() as uow:
            identities = await uow.identities.for_account(account_id)
        emails = _verified(self.kit, identities)
        return emails[0] if emails else None

    async def _suggestion(self, uow: UnitOfWork, account_id: int) -> str | None:
        """The plan's button (PRODUCT §1.3 step 1): the verified email, unless it is bound now."""
        emails = _verified(self.kit, await uow.identities.for_account(account_id))
        bound = {
            b.address
            for b in await uow.bindings.for_account(account_id)
            if b.kind is EMAIL and b.status is BindingStatus.CONFIRMED
        }
        return emails[0] if emails and emails[0] not in bound else None

    async def start(
        self,
        account_id: int,
        raw: str,
        *,
        locale: str,
        update_workspaces: bool = False,
        actor: str = "",
    ) -> EmailBound | EmailPending:
        """Bind at once when the provider vouches for the address, otherwise send the letter."""
        address = await self.check(account_id, raw)
        async with self.kit.reader() as uow:
            if await uow.passwords.get(account_id) is None:
                raise PasswordRequired()
            identities = await uow.identities.for_account(account_id)
        if address in _verified(self.kit, identities):
            await self._bind(account_id, address, update_workspaces, actor, locale)
            return EmailBound(address)
        data = {
            "address": address,
            "workspaces": "1" if update_workspaces else "",
            "locale": locale,
        }
        await self._send(account_id, data, actor)
        return EmailPending(address, await self.codes.next_resend_in(str(account_id)))

    async def resend(self, account_id: int, actor: str = "") -> EmailPending:
        """A fresh letter for the pending address, after the cooldown (60 s, doubling)."""
        record = await self.codes.pending(str(account_id))
        if record is None:
            raise NothingPending()
        await self._send(account_id, dict(record.data), actor)
        return EmailPending(
            record.data["address"], await self.codes.next_resend_in(str(account_id))
        )

    async def confirm_code(self, account_id: int, code: str, actor: str = "") -> str:
        """The code typed into the chat: CodeInvalid(attempts_left), CodeExpired, AddressTaken.

        Idempotent: an address already confirmed on this account is not bound (nor audited)
        again.
        """
        record = await self.codes.verify(str(account_id), code)
        data = record.data
        if await self.is_bound(account_id, data["address"]):
            return str(data["address"])
        await self._bind(
            account_id, data["address"], bool(data.get("workspaces")), actor, data["locale"]
        )
        return data["address"]

    async def peek_link(self, token: str) -> str | None:
        """The masked address a confirmation link is for, while it is valid (GET shows it)."""
        data = await self.kit.tokens.peek(self._link_key(token))
        return mask_email(data["address"]) if data else None

    async def link_locale(self, token: str) -> str | None:
        """The language of the chat that asked for the letter, while the link is valid: the
        confirmation pages speak it rather than the browser's (PRODUCT §1.10, one language)."""
        data = await self.kit.tokens.peek(self._link_key(token))
        return data.get("locale") or None if data else None

    async def confirm_link(self, token: str) -> tuple[int, str]:
        """Follow the link once (POST): binds and tells the chat. The twin code dies with it."""
        data = await self.kit.tokens.pop(self._link_key(token))
        if not data:
            raise CodeExpired()
        account_id = int(data["account_id"])
        if not await self.codes.consume_issue(str(account_id), data["issue_id"]):
            raise CodeExpired()  # the code was used, or a newer letter replaced this one
        address = data["address"]
        if not await self.is_bound(account_id, address):
            workspaces = data.get("workspaces") == "1"
            await self._bind(account_id, address, workspaces, "web", data["locale"])
        async with self.kit.reader() as uow:
            users = await uow.telegram.users_of(account_id)
        for user in users:
            await self.kit.notifier.notify(EmailConfirmed(user, account_id, address))
        return account_id, address

    async def _send(self, account_id: int, data: dict[str, str], actor: str) -> None:
        subject = str(account_id)
        await before_send(self.codes, subject, [])
        ttl = self.kit.limits.email_code_ttl
        code, stored = await self.codes.issue(subject, ttl, data)
        token = self.kit.new_token()
        link_data = {**data, "account_id": subject, "issue_id": stored.issue_id}
        await self.kit.tokens.put(self._link_key(token), link_data, ttl)
        letter = letters.confirmation_letter(
            data["locale"],
            data["address"],
            code,
            self.kit.url(f"/email/confirm/{token}"),
            int(ttl.total_seconds() // 60),
        )
        await self.kit.idle()  # the letter may take seconds: no connection held meanwhile
        try:
            await self.kit.mailer.send(letter)
        except Exception:
            # Nothing half-done: no code, no link, no cooldown for a letter that never left.
            await self.codes.discard(subject)
            await self.kit.tokens.delete(self._link_key(token))
            await self.codes.reset_cooldown(subject)
            raise
        await self.mark_pending(account_id, data["address"], ttl, actor)

    async def _bind(
        self, account_id: int, address: str, workspaces: bool, actor: str, locale: str
    ) -> None:
        previous = await self.bind_now(
            account_id, address, update_workspaces=workspaces, actor=actor
        )
        if previous:
            # PRODUCT §1.7: the old address hears about the change.
            notice = letters.email_changed_notice(locale, previous, mask_email(address))
            with contextlib.suppress(Exception):
                await self.kit.mailer.send(notice)
