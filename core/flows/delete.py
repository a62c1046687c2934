"""Deleting the account (PRODUCT §1.12): confirmed by a code to a bound address, or without one
by a fresh social sign-in; then everything of the person goes in one transaction.

What stays is one audit event without personal data (the account id, the time, the kind
"account.deleted") and the account's row as a tombstone with no name, so that its id is never
another account's. Every chat that was linked is told, and the bound email gets a letter.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import letters
from core.domain.models import AddressKind, AuditEvent, BindingStatus
from core.errors import FeatureDisabled, FreshSignInNeeded, NothingPending
from core.flows.binding import before_send, sms_rules
from core.flows.codes import Codes
from core.flows.kit import Kit
from core.flows.sign_in import reauth_key
from core.notices import AccountDeleted

log = logging.getLogger(__name__)

# Who the kept audit event names: the person, not their Telegram account (personal data).
ACTOR = "person"


@dataclass(frozen=True)
class DeleteFlow:
    """Confirms and carries out deleting an account."""

    kit: Kit

    @property
    def codes(self) -> Codes:
        return Codes(self.kit, "delete")

    async def logins(self, account_id: int) -> dict[AddressKind, str]:
        """The account's confirmed addresses: a code that confirms the deletion goes to one."""
        async with self.kit.reader() as uow:
            found = await uow.bindings.for_account(account_id)
        return {b.kind: b.address for b in found if b.status is BindingStatus.CONFIRMED}

    async def send_code(
        self, account_id: int, kind: AddressKind, locale: str, telegram_user_id: int
    ) -> str:
        """A code to the bound address of this kind, under the codes' common cooldown and the
        SMS caps (PRODUCT §1.9); returns the address it went to."""
        address = (await self.logins(account_id)).get(kind)
        if address is None:
            raise NothingPending()
        if kind is AddressKind.PHONE and self.kit.sms is None:
            raise FeatureDisabled()
        subject = str(account_id)
        phone = kind is AddressKind.PHONE
        rules = sms_rules(self.kit, address, account_id, telegram_user_id) if phone else []
        await before_send(self.codes, subject, rules)
        limits = self.kit.limits
        ttl = limits.sms_code_ttl if phone else limits.email_code_ttl
        code, _ = await self.codes.issue(subject, ttl, {"kind": kind.value})
        minutes = int(ttl.total_seconds() // 60)
        await self.kit.idle()  # the letter or SMS may take seconds: no connection held meanwhile
        try:
            if self.kit.sms is not None and phone:
                await self.kit.sms.send(address, letters.sms_deletion_text(locale, code, minutes))
            else:
                await self.kit.mailer.send(letters.deletion_letter(locale, address, code, minutes))
        except Exception:
            # Nothing half-done: no code and no cooldown for a message that never left.
            await self.codes.discard(subject)
            await self.codes.reset_cooldown(subject)
            raise
        return address

    async def resend_in(self, account_id: int) -> timedelta:
        return await self.codes.next_resend_in(str(account_id))

    async def cancel(self, account_id: int) -> None:
        """The person changed their mind: the code and any fresh sign-in are void."""
        await self.codes.discard(str(account_id))
        await self.kit.tokens.delete(reauth_key(account_id))

    async def confirm_code(self, account_id: int, code: str, locale: str) -> bool:
        """A right code deletes the account (CodeInvalid / CodeExpired otherwise); False when
        it was deleted already."""
        await self.codes.verify(str(account_id), code)
        return await self.erase(account_id, locale)

    async def fresh_sign_in(self, account_id: int, telegram_user_id: int) -> datetime:
        """When this chat's sign-in again was, while it still counts; FreshSignInNeeded when
        there is none, or it is older than DELETE_REAUTH_MAX_AGE."""
        record = await self.kit.tokens.peek(reauth_key(account_id))
        if not record or record.get("telegram_user_id") != str(telegram_user_id):
            raise FreshSignInNeeded()
        at = datetime.fromisoformat(record["at"])
        if self.kit.clock.now() - at > self.kit.limits.delete_reauth_max_age:
            await self.kit.tokens.delete(reauth_key(account_id))
            raise FreshSignInNeeded()
        return at

    async def confirm_sign_in(self, account_id: int, telegram_user_id: int, locale: str) -> bool:
        """Delete after a fresh social sign-in of this chat (PRODUCT §1.12); the sign-in counts
        once. False when the account was deleted already."""
        await self.fresh_sign_in(account_id, telegram_user_id)
        if await self.kit.tokens.pop(reauth_key(account_id)) is None:
            raise FreshSignInNeeded()
        return await self.erase(account_id, locale)

    async def erase(self, account_id: int, locale: str) -> bool:
        """Everything of the account goes in one transaction; idempotent (False the second
        time). Then the pending codes go, every chat that was linked is told and the bound email
        gets a letter, in the account's language (`locale`, the asking chat's, without one)."""
        kit = self.kit
        now = kit.clock.now()
        async with kit.unit() as uow:
            await uow.accounts.lock(account_id)
            account = await uow.accounts.get(account_id)
            if account is None:
                return False
            users = await uow.telegram.users_of(account_id)
            bindings = await uow.bindings.for_account(account_id)
            await uow.accounts.erase(account_id, now)
            await uow.audit.record(AuditEvent("account.deleted", account_id, now, ACTOR, {}))
            await uow.commit()
        await self._forget(account_id, [b.address for b in bindings])
        speaks = account.locale or locale
        email = next(
            (
                b.address
                for b in bindings
                if b.kind is AddressKind.EMAIL and b.status is BindingStatus.CONFIRMED
            ),
            None,
        )
        if email is not None:
            try:
                await kit.mailer.send(letters.account_deleted_notice(speaks, email))
            except Exception:
                log.warning("could not send the account-deleted letter")
        for user in users:
            await kit.notifier.notify(AccountDeleted(user, locale=speaks))
        return True

    async def _forget(self, account_id: int, addresses: list[str]) -> None:
        """The codes and grants waiting for the account or its addresses are void now."""
        kit, subject = self.kit, str(account_id)
        codes = [
            Codes(kit, purpose)
            for purpose in ("email", "phone", "delete", "release-prove", "release-new")
        ]
        with contextlib.suppress(Exception):
            for codes_of in codes:
                await codes_of.discard(subject)
            for address in addresses:
                await Codes(kit, "recovery").discard(kit.keyed.digest("recovery", address))
            for key in (f"release:{account_id}", f"reset-grant:{account_id}"):
                await kit.tokens.delete(key)
            await kit.tokens.delete(reauth_key(account_id))
