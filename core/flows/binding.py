"""What binding an email and binding a phone share: ownership checks, sending limits, the bind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from core.domain.models import AddressKind, BindingStatus, SocialIdentity
from core.errors import AddressAlreadyYours, AddressTaken, LimitReached, ResendTooSoon
from core.flows.codes import Codes
from core.flows.kit import Kit
from core.ports import Rule, UnitOfWork


class Step(StrEnum):
    """A step of binding an address, as the person sees it."""

    ADDRESS = "address"  # the email, or the phone number
    WORKSPACES = "workspaces"  # "update it in all my workspaces too?"
    PASSWORD = "password"  # noqa: S105  # PRODUCT §1.6, when the account has none
    CODE = "code"  # the letter's or the SMS's


@dataclass(frozen=True)
class Bound:
    """The address was bound at once: its provider or Telegram vouched for it."""

    address: str


@dataclass(frozen=True)
class CodeSent:
    """A code went to the address; the person may ask for another after `resend_in`."""

    address: str
    resend_in: timedelta


@dataclass(frozen=True)
class BindingPlan:
    """The steps binding an address takes for this person now, in order (PRODUCT §1.3, §1.4).

    The workspaces question only for someone with workspaces, the password only for an account
    without one; an email asks for the password before its letter, a phone after its code.
    """

    steps: tuple[Step, ...]
    suggestion: str | None = None  # a provider-verified email to offer, not the one bound now

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def workspaces(self) -> bool:
        return Step.WORKSPACES in self.steps

    @property
    def needs_password(self) -> bool:
        return Step.PASSWORD in self.steps

    def number(self, step: Step, total: int | None = None) -> tuple[int, int]:
        """(k, n) of "step k of n". `total` is the count the flow began with: a step that fell
        away since (a password set meanwhile) does not renumber the steps after it."""
        n = total or self.total
        return n - (self.total - 1 - self.steps.index(step)), n


@dataclass(frozen=True)
class BindingFlow:
    """What the email and the phone flows share: their codes, their plan, the pending claim and
    the bind itself. A flow names its kind where it subclasses this:
    `class BindPhoneFlow(BindingFlow, kind=PHONE, password_last=True, address_key="phone")`."""

    kit: Kit
    kind: ClassVar[AddressKind]
    password_last: ClassVar[bool]  # the password step after the code (a phone) or before it
    address_key: ClassVar[str]  # where the pending code's data keeps the address

    def __init_subclass__(
        cls, *, kind: AddressKind, password_last: bool, address_key: str, **rest: Any
    ) -> None:
        super().__init_subclass__(**rest)
        cls.kind, cls.password_last, cls.address_key = kind, password_last, address_key

    @property
    def codes(self) -> Codes:
        return Codes(self.kit, self.kind.value)

    async def plan(self, account_id: int) -> BindingPlan:
        """Which steps apply to this account now, and the address to suggest."""
        async with self.kit.reader() as uow:
            password = await uow.passwords.get(account_id) is None
            workspaces = bool(await uow.workspaces.memberships(account_id))
            suggestion = await self._suggestion(uow, account_id)
        asks = (Step.PASSWORD,) if password else ()
        first = (Step.ADDRESS, Step.WORKSPACES) if workspaces else (Step.ADDRESS,)
        rest = (Step.CODE, *asks) if self.password_last else (*asks, Step.CODE)
        return BindingPlan((*first, *rest), suggestion)

    async def _suggestion(self, uow: UnitOfWork, account_id: int) -> str | None:
        return None

    async def ensure_free(self, account_id: int, address: str) -> None:
        """AddressTaken when another account holds it confirmed; AddressAlreadyYours for this."""
        async with self.kit.reader() as uow:
            owner = await uow.bindings.owner(self.kind, address)
        if owner == account_id:
            raise AddressAlreadyYours(self.kind.value)
        if owner is not None:
            raise AddressTaken(self.kind.value, address)

    async def resend_at(self, account_id: int) -> datetime | None:
        """The stored deadline of the resend cooldown, while it runs (PRODUCT §1.9)."""
        return await self.codes.next_resend_at(str(account_id))

    async def is_bound(self, account_id: int, address: str) -> bool:
        """Whether this very address is confirmed on the account: a step that bound it and was
        cut short (a crash) resumes after the code instead of asking for it (PRODUCT §3)."""
        async with self.kit.reader() as uow:
            return await uow.bindings.owner(self.kind, address) == account_id

    async def bind_now(
        self, account_id: int, address: str, *, update_workspaces: bool, actor: str
    ) -> str | None:
        """Confirm the address on the account at once; returns the address it replaced, if any.

        The unique index on confirmed addresses decides a race: the loser gets AddressTaken.
        """
        kit, kind = self.kit, self.kind
        now = kit.clock.now()
        async with kit.unit() as uow:
            await uow.accounts.lock(account_id)
            previous = next(
                (
                    b.address
                    for b in await uow.bindings.for_account(account_id)
                    if b.kind is kind and b.status is BindingStatus.CONFIRMED
                ),
                None,
            )
            await uow.bindings.confirm(account_id, kind, address, now)
            if update_workspaces:
                await uow.workspaces.update_contacts(account_id, kind, address)
                if previous != address:
                    # PRODUCT §1.11: the workspaces' clients hear of it by a back-channel notice,
                    # queued in this transaction: kept exactly when the change is.
                    await uow.notices.enqueue(account_id, kind, address, now)
            await uow.audit.record(
                kit.event(
                    f"{kind.value}.bound",
                    account_id,
                    actor,
                    workspaces=str(update_workspaces).lower(),
                    replaced=str(previous is not None).lower(),
                )
            )
            await uow.commit()
        return previous if previous != address else None

    async def mark_pending(self, account_id: int, address: str, ttl: timedelta, actor: str) -> None:
        """The claim while its code lives: it signs nobody in and blocks nobody (PRODUCT §1.3)."""
        now = self.kit.clock.now()
        async with self.kit.unit() as uow:
            await uow.bindings.set_pending(account_id, self.kind, address, now + ttl, now)
            await uow.audit.record(self.kit.event(f"{self.kind.value}.pending", account_id, actor))
            await uow.commit()

    async def pending_address(self, account_id: int) -> str | None:
        """The address the code in flight was sent for, if one is."""
        record = await self.codes.pending(str(account_id))
        return record.data[self.address_key] if record else None

    async def cancel(self, account_id: int) -> None:
        await self.codes.discard(str(account_id))
        async with self.kit.unit() as uow:
            await uow.bindings.remove(account_id, self.kind, pending=True)
            await uow.commit()


def sms_rules(
    kit: Kit, phone: str, account_id: int | None, telegram_user_id: int | None
) -> list[Rule]:
    """PRODUCT §1.9: SMS per number / per account / per Telegram user in 24 hours."""
    limits = kit.limits
    rules = [
        Rule(
            "sms:number:" + kit.keyed.digest("sms", phone), limits.sms_per_number, limits.sms_window
        )
    ]
    if account_id is not None:
        rules.append(Rule(f"sms:account:{account_id}", limits.sms_per_account, limits.sms_window))
    if telegram_user_id is not None:
        rules.append(
            Rule(
                f"sms:telegram:{telegram_user_id}", limits.sms_per_telegram_user, limits.sms_window
            )
        )
    return rules


async def before_send(codes: Codes, subject: str, rules: list[Rule]) -> None:
    """Refuse a send in the cooldown or over a cap; else start the cooldown and count it.

    PRODUCT §1.9: after the cheap checks the cooldown is started atomically (one winner per
    subject), then the caps take their slot atomically before anything is sent. A storm of sends
    for one subject thus spends one slot for its one SMS, and concurrent sends never pass a cap;
    the losers hear "too soon", or the cap once the winner has spent the last slot.
    """
    until = await codes.next_resend_at(subject)
    if until is not None:
        raise ResendTooSoon(until - codes.kit.clock.now(), until)
    limiter = codes.kit.limiter
    until = await limiter.check(rules) if rules else None
    if until is not None:
        raise LimitReached(until)
    await codes.cooldown(subject)
    until = await limiter.acquire(rules) if rules else None
    if until is not None:
        raise LimitReached(until)  # another send took the last slot meanwhile


def verified_emails(kit: Kit, identities: list[SocialIdentity]) -> list[str]:
    """Emails the account's providers vouch for, from providers the operator trusts."""
    trusted = kit.options.trusted_email_providers
    return [
        i.email.lower()
        for i in identities
        if i.email and i.email_verified and i.provider in trusted
    ]
