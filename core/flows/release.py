"""PRODUCT §1.5, "a user with this email already exists": prove it is yours, re-home, then take it.

The holder account is never named. The person proves control of it (a code sent to the address,
or that account's password), gives it a new address, confirms that, and only then, in one
transaction, the holder gets the new address and this account the old one: the holder never
loses its way in, and nothing is released before the new address is confirmed.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from core import letters
from core.domain.addresses import mask, normalize_email, normalize_phone
from core.domain.models import AddressKind
from core.domain.passwords import normalize
from core.errors import (
    AddressAlreadyYours,
    AddressTaken,
    CodeExpired,
    FeatureDisabled,
    LimitReached,
    NothingPending,
    WrongPassword,
)
from core.flows.binding import before_send, sms_rules
from core.flows.codes import Codes
from core.flows.kit import Kit
from core.notices import AddressReleased
from core.ports import Rule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReleaseState:
    kind: AddressKind
    address: str
    proven: bool
    new_address: str | None


@dataclass(frozen=True)
class ReleaseFlow:
    """Frees an address held by another account of the same person."""

    kit: Kit

    def _key(self, account_id: int) -> str:
        return f"release:{account_id}"

    def _codes(self, step: str) -> Codes:
        return Codes(self.kit, f"release-{step}")

    async def state(self, account_id: int) -> ReleaseState | None:
        data = await self.kit.tokens.peek(self._key(account_id))
        if not data:
            return None
        return ReleaseState(
            AddressKind(data["kind"]),
            data["address"],
            data["proven"] == "1",
            data.get("new") or None,
        )

    async def start(
        self,
        account_id: int,
        kind: AddressKind,
        address: str,
        *,
        locale: str,
        telegram_user_id: int,
    ) -> timedelta:
        """Send a code to the taken address; returns when a resend is allowed."""
        async with self.kit.reader() as uow:
            holder = await uow.bindings.owner(kind, address)
        if holder == account_id:
            raise AddressAlreadyYours(kind.value)
        if holder is None:
            raise NothingPending()  # free now: the person can simply bind it
        data = {
            "kind": kind.value,
            "address": address,
            "holder": str(holder),
            "proven": "",
            "locale": locale,
        }
        await self.kit.tokens.put(self._key(account_id), data, self._ttl(kind) * 2)
        await self._send(account_id, "prove", kind, address, locale, telegram_user_id)
        return await self._codes("prove").next_resend_in(str(account_id))

    async def resend_proof(self, account_id: int, telegram_user_id: int) -> timedelta:
        data = await self._data(account_id)
        kind = AddressKind(data["kind"])
        await self._send(
            account_id, "prove", kind, data["address"], data["locale"], telegram_user_id
        )
        return await self._codes("prove").next_resend_in(str(account_id))

    async def prove_code(self, account_id: int, code: str) -> None:
        await self._data(account_id)
        await self._codes("prove").verify(str(account_id), code)
        await self._update(account_id, proven="1")

    async def prove_password(self, account_id: int, password: str) -> None:
        """The holder's password proves control too; failures are capped like sign-in's."""
        data = await self._data(account_id)
        limits = self.kit.limits
        rule = Rule(
            f"release-pw:{data['holder']}",
            limits.login_failures_per_login,
            limits.login_failures_window,
        )
        # The slot is taken before the password is checked, as for sign-in (PRODUCT §1.9).
        slot = secrets.token_hex(8)
        blocked = await self.kit.limiter.reserve([rule], slot)
        if blocked is not None:
            raise LimitReached(blocked, what="passwords")
        try:
            async with self.kit.reader() as uow:
                stored = await uow.passwords.get(int(data["holder"]))
            await self.kit.idle()  # the hash check takes a while: no connection held meanwhile
            ok = stored is not None and await self.kit.hasher.verify(stored, normalize(password))
        except BaseException:
            await self.kit.limiter.release([rule], slot)
            raise
        if not ok:
            await self.kit.limiter.confirm([rule], slot)
            raise WrongPassword()
        await self.kit.limiter.release([rule], slot)
        await self._update(account_id, proven="1")

    async def propose_new(self, account_id: int, raw: str, *, telegram_user_id: int) -> str:
        """The other account's new address (same kind): checked free, then a code sent to it."""
        data = await self._data(account_id)
        if data["proven"] != "1":
            raise NothingPending()
        kind = AddressKind(data["kind"])
        locale = data["locale"]
        new = normalize_email(raw) if kind is AddressKind.EMAIL else normalize_phone(raw, locale)
        async with self.kit.reader() as uow:
            owner = await uow.bindings.owner(kind, new)
        if new == data["address"] or owner is not None:
            raise AddressTaken(kind.value, new)
        await self._update(account_id, new=new)
        await self._send(account_id, "new", kind, new, locale, telegram_user_id)
        return new

    async def resend_new(self, account_id: int, telegram_user_id: int) -> timedelta:
        """A fresh code to the proposed new address; returns when the next resend is allowed."""
        data = await self._data(account_id)
        if data["proven"] != "1" or not data.get("new"):
            raise NothingPending()
        kind = AddressKind(data["kind"])
        await self._send(account_id, "new", kind, data["new"], data["locale"], telegram_user_id)
        return await self._codes("new").next_resend_in(str(account_id))

    async def confirm_new(self, account_id: int, code: str) -> str:
        """Swap in one transaction: holder gets the new address, this account the old one."""
        data = await self._data(account_id)
        if data["proven"] != "1" or not data.get("new"):
            raise NothingPending()
        await self._codes("new").verify(str(account_id), code)
        kind, holder, now = AddressKind(data["kind"]), int(data["holder"]), self.kit.clock.now()
        async with self.kit.unit() as uow:
            for locked in sorted((holder, account_id)):
                await uow.accounts.lock(locked)
            if await uow.bindings.owner(kind, data["address"]) != holder:
                raise CodeExpired()  # the holder changed meanwhile; start over
            await uow.bindings.confirm(holder, kind, data["new"], now)
            await uow.bindings.confirm(account_id, kind, data["address"], now)
            actor = f"account:{account_id}"
            await uow.audit.record(self.kit.event(f"{kind.value}.released", holder, actor))
            await uow.audit.record(
                self.kit.event(f"{kind.value}.bound", account_id, actor, released="true")
            )
            users = await uow.telegram.users_of(holder)
            account = await uow.accounts.get(holder)
            await uow.commit()
        await self.kit.tokens.delete(self._key(account_id))
        locale = (account.locale if account else None) or data["locale"]
        await self._tell_holder(holder, kind, data["address"], data["new"], locale, users)
        return data["address"]

    async def _tell_holder(
        self,
        holder: int,
        kind: AddressKind,
        released: str,
        new: str,
        locale: str,
        users: list[int],
    ) -> None:
        """PRODUCT §1.10: the account that gave the address away hears it in every chat, and the
        address itself gets a letter or an SMS; in the holder's language, addresses masked."""
        old, now = mask(released), mask(new)
        if kind is AddressKind.EMAIL:
            letter = letters.address_moved_notice(locale, released, old, now)
            with contextlib.suppress(Exception):  # the move is done; a lost notice undoes nothing
                await self.kit.mailer.send(letter)
        else:
            await self._tell_number(released, locale)
        for user in users:
            notice = AddressReleased(user, holder, kind.value, old, now, locale=locale)
            await self.kit.notifier.notify(notice)

    async def _tell_number(self, phone: str, locale: str) -> None:
        """The moved number hears of it by SMS. No person's SMS cap counts it (nobody asked for
        it), but a number gets at most one per MOVED_NUMBER_SMS_INTERVAL, so moving a number
        back and forth cannot pump SMS to it; logged with the number masked."""
        sms = self.kit.sms
        if sms is None:
            return
        interval = self.kit.limits.moved_number_sms_interval
        rule = Rule("sms:moved:" + self.kit.keyed.digest("sms-moved", phone), 1, interval)
        try:
            if await self.kit.limiter.acquire([rule]) is not None:
                log.info("moved-number SMS to %s not sent: one went out lately", mask(phone))
                return
            await sms.send(phone, letters.sms_number_moved_text(locale))
        except Exception as error:  # the move is done; a lost notice undoes nothing
            log.warning("moved-number SMS to %s failed: %s", mask(phone), type(error).__name__)
            return
        log.info("moved-number SMS sent to %s", mask(phone))

    async def cancel(self, account_id: int) -> None:
        await self.kit.tokens.delete(self._key(account_id))
        for step in ("prove", "new"):
            await self._codes(step).discard(str(account_id))

    async def _data(self, account_id: int) -> dict[str, str]:
        data = await self.kit.tokens.peek(self._key(account_id))
        if not data:
            raise NothingPending()
        return data

    async def _update(self, account_id: int, **changes: str) -> None:
        data = {**await self._data(account_id), **changes}
        kind = AddressKind(data["kind"])
        await self.kit.tokens.put(self._key(account_id), data, self._ttl(kind) * 2)

    def _ttl(self, kind: AddressKind) -> timedelta:
        limits = self.kit.limits
        return limits.email_code_ttl if kind is AddressKind.EMAIL else limits.sms_code_ttl

    async def _send(
        self,
        account_id: int,
        step: str,
        kind: AddressKind,
        address: str,
        locale: str,
        telegram_user_id: int,
    ) -> None:
        codes, subject, ttl = self._codes(step), str(account_id), self._ttl(kind)
        minutes = int(ttl.total_seconds() // 60)
        rules = (
            sms_rules(self.kit, address, account_id, telegram_user_id)
            if kind is AddressKind.PHONE
            else []
        )
        await before_send(codes, subject, rules)
        code, _ = await codes.issue(subject, ttl, {"address": address})
        await self.kit.idle()  # the letter or SMS may take seconds: no connection held meanwhile
        try:
            if kind is AddressKind.EMAIL:
                builder = letters.release_letter if step == "prove" else letters.new_address_letter
                await self.kit.mailer.send(builder(locale, address, code, minutes))
            else:
                if self.kit.sms is None:
                    raise FeatureDisabled()
                await self.kit.sms.send(address, letters.sms_code_text(locale, code, minutes))
        except Exception:
            await codes.discard(subject)
            await codes.reset_cooldown(subject)
            raise
