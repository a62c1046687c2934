"""Bind a phone (PRODUCT §1.4): a mobile number, an SMS code within the caps, then bound."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core import letters
from core.domain.addresses import normalize_phone
from core.domain.models import AddressKind
from core.errors import FeatureDisabled, NothingPending
from core.flows.binding import BindingFlow, Bound, CodeSent, before_send, sms_rules

PHONE = AddressKind.PHONE


class PhoneBound(Bound):
    """Shared as one's own Telegram contact, where the operator lets that skip the SMS."""


class PhoneCodeSent(CodeSent):
    """The SMS with the code went out."""


@dataclass(frozen=True)
class BindPhoneFlow(BindingFlow, kind=PHONE, password_last=True, address_key="phone"):
    """Steps of binding a phone number; the code goes by SMS unless Telegram vouched for it."""

    @property
    def available(self) -> bool:
        return self.kit.sms is not None or self.kit.options.skip_sms_for_own_contact

    def binds_at_once(self, *, own_contact: bool) -> bool:
        """PRODUCT §1.4.6: one's own Telegram contact binds without an SMS, where allowed."""
        return own_contact and self.kit.options.skip_sms_for_own_contact

    async def check(self, account_id: int, raw: str, locale: str | None) -> str:
        """E.164 of a mobile number this account may bind (InvalidPhone, AddressTaken, ...)."""
        phone = normalize_phone(raw, locale)
        await self.ensure_free(account_id, phone)
        return phone

    async def send_code(
        self,
        account_id: int,
        raw: str,
        *,
        telegram_user_id: int,
        locale: str,
        update_workspaces: bool = False,
        own_contact: bool = False,
    ) -> PhoneBound | PhoneCodeSent:
        """PRODUCT §1.4.6: a number shared as one's own Telegram contact may skip the SMS."""
        phone = await self.check(account_id, raw, locale)
        actor = f"telegram:{telegram_user_id}"
        if self.binds_at_once(own_contact=own_contact):
            await self.bind_now(account_id, phone, update_workspaces=update_workspaces, actor=actor)
            return PhoneBound(phone)
        data = {"phone": phone, "workspaces": "1" if update_workspaces else "", "locale": locale}
        await self._send(account_id, telegram_user_id, data)
        return PhoneCodeSent(phone, await self.codes.next_resend_in(str(account_id)))

    async def resend(self, account_id: int, telegram_user_id: int) -> PhoneCodeSent:
        record = await self.codes.pending(str(account_id))
        if record is None:
            raise NothingPending()
        await self._send(account_id, telegram_user_id, dict(record.data))
        return PhoneCodeSent(record.data["phone"], await self.codes.next_resend_in(str(account_id)))

    async def resend_in(self, account_id: int) -> timedelta:
        return await self.codes.next_resend_in(str(account_id))

    async def confirm_code(self, account_id: int, code: str, actor: str = "") -> str:
        """The SMS code typed into the chat: binds the number; CodeInvalid(attempts_left) etc.

        Idempotent: a number already confirmed on this account is not bound (nor audited) again.
        """
        record = await self.codes.verify(str(account_id), code)
        phone = record.data["phone"]
        if await self.is_bound(account_id, phone):
            return phone
        workspaces = bool(record.data.get("workspaces"))
        await self.bind_now(account_id, phone, update_workspaces=workspaces, actor=actor)
        return phone

    async def _send(self, account_id: int, telegram_user_id: int, data: dict[str, str]) -> None:
        if self.kit.sms is None:
            raise FeatureDisabled()
        subject = str(account_id)
        phone = data["phone"]
        await before_send(
            self.codes, subject, sms_rules(self.kit, phone, account_id, telegram_user_id)
        )
        ttl = self.kit.limits.sms_code_ttl
        code, _ = await self.codes.issue(subject, ttl, data)
        text = letters.sms_code_text(data["locale"], code, int(ttl.total_seconds() // 60))
        try:
            await self.kit.idle()  # the gateway may take seconds: no connection held meanwhile
            await self.kit.sms.send(phone, text)
        except Exception:
            await self.codes.discard(subject)
            await self.codes.reset_cooldown(subject)
            raise
        await self.mark_pending(account_id, phone, ttl, f"telegram:{telegram_user_id}")
