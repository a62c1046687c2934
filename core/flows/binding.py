"""What binding an email and binding a phone share: ownership checks, sending limits, the bind."""

from __future__ import annotations

from datetime import timedelta

from core.domain.models import AddressKind, BindingStatus, SocialIdentity
from core.errors import AddressAlreadyYours, AddressTaken, LimitReached, ResendTooSoon
from core.flows.codes import Codes
from core.flows.kit import Kit
from core.ports import Rule


async def ensure_free(kit: Kit, account_id: int, kind: AddressKind, address: str) -> None:
    """AddressTaken when another account holds it confirmed; AddressAlreadyYours for this one."""
    async with kit.reader() as uow:
        owner = await uow.bindings.owner(kind, address)
    if owner == account_id:
        raise AddressAlreadyYours(kind.value)
    if owner is not None:
        raise AddressTaken(kind.value, address)


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

    PRODUCT §1.9: the cooldown is started first (atomically, one winner per subject), then the caps
    take their slot atomically before anything is sent. A storm of sends for one subject thus
    spends one slot for its one SMS, and concurrent sends never pass a cap.
    """
    left = await codes.next_resend_in(subject)
    if left > timedelta(0):
        raise ResendTooSoon(left)
    limiter = codes.kit.limiter
    until = await limiter.check(rules) if rules else None
    if until is not None:
        raise LimitReached(until)
    await codes.cooldown(subject)
    until = await limiter.acquire(rules) if rules else None
    if until is not None:
        raise LimitReached(until)  # another send took the last slot meanwhile


async def bind_now(
    kit: Kit,
    account_id: int,
    kind: AddressKind,
    address: str,
    *,
    update_workspaces: bool,
    actor: str,
) -> str | None:
    """Confirm the address on the account at once; returns the email it replaced, if any.

    The unique index on confirmed addresses decides a race: the loser gets AddressTaken.
    """
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


async def mark_pending(
    kit: Kit, account_id: int, kind: AddressKind, address: str, ttl: timedelta, actor: str
) -> None:
    now = kit.clock.now()
    async with kit.unit() as uow:
        await uow.bindings.set_pending(account_id, kind, address, now + ttl, now)
        await uow.audit.record(kit.event(f"{kind.value}.pending", account_id, actor))
        await uow.commit()


async def clear_pending(kit: Kit, account_id: int, kind: AddressKind) -> None:
    async with kit.unit() as uow:
        await uow.bindings.remove(account_id, kind, pending=True)
        await uow.commit()


def verified_emails(kit: Kit, identities: list[SocialIdentity]) -> list[str]:
    """Emails the account's providers vouch for, from providers the operator trusts."""
    trusted = kit.options.trusted_email_providers
    return [
        i.email.lower()
        for i in identities
        if i.email and i.email_verified and i.provider in trusted
    ]
