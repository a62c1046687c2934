"""The account card and what it offers (PRODUCT §1.2, §1.7): view, language, unbind, sign out."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.models import AccountView, AddressKind, Binding, BindingStatus
from core.errors import LastSignInMethod, NotSignedIn
from core.flows.kit import Kit
from core.ports import UnitOfWork


@dataclass(frozen=True)
class AccountFlow:
    """Reads the account card and makes the small changes it offers."""

    kit: Kit

    async def account_for(self, telegram_user_id: int) -> int | None:
        async with self.kit.reader() as uow:
            return await uow.telegram.account_for(telegram_user_id)

    async def person(self, telegram_user_id: int) -> tuple[int, str | None] | None:
        """The account a Telegram user is signed in to and its chosen language, in one read.

        The read brings the card's rows along (`TelegramLinkRepository.person`): the update's
        card, plan and checks that follow in the same read transaction do not ask again."""
        async with self.kit.reader() as uow:
            found = await uow.telegram.person(telegram_user_id)
        return (found.account.id, found.account.locale) if found else None

    async def require(self, telegram_user_id: int) -> int:
        account_id = await self.account_for(telegram_user_id)
        if account_id is None:
            raise NotSignedIn()
        return account_id

    async def view(self, account_id: int) -> AccountView:
        async with self.kit.reader() as uow:
            return await load_view(uow, account_id, self.kit)

    async def set_locale(self, account_id: int, locale: str, actor: str = "") -> None:
        async with self.kit.unit() as uow:
            await uow.accounts.set_locale(account_id, locale)
            await uow.audit.record(
                self.kit.event("locale.changed", account_id, actor, locale=locale)
            )
            await uow.commit()

    async def sign_out(self, telegram_user_id: int) -> None:
        """Unlink this Telegram user from the account; the account itself stays."""
        async with self.kit.unit() as uow:
            account_id = await uow.telegram.account_for(telegram_user_id)
            await uow.telegram.unlink(telegram_user_id)
            actor = f"telegram:{telegram_user_id}"
            await uow.audit.record(self.kit.event("signed_out", account_id, actor))
            await uow.commit()

    async def unbind(self, account_id: int, kind: AddressKind, actor: str) -> None:
        """Remove an email or phone, unless it is the account's last way in (allauth's rule)."""
        async with self.kit.unit() as uow:
            await uow.accounts.lock(account_id)
            view = await load_view(uow, account_id, self.kit)
            binding = view.email if kind is AddressKind.EMAIL else view.phone
            if binding is None:
                return
            if view.sign_in_methods - int(view.has_password) < 1:
                raise LastSignInMethod()
            await uow.bindings.remove(account_id, kind)
            await uow.audit.record(self.kit.event(f"{kind.value}.unbound", account_id, actor))
            await uow.commit()


async def load_view(uow: UnitOfWork, account_id: int, kit: Kit) -> AccountView:
    """The card's data in one read; pending bindings past their lifetime count as none."""
    account = await uow.accounts.get(account_id)
    if account is None:
        raise NotSignedIn()
    identities = tuple(await uow.identities.for_account(account_id))
    now = kit.clock.now()
    found: dict[tuple[AddressKind, BindingStatus], Binding] = {}
    for binding in await uow.bindings.for_account(account_id):
        if binding.status is BindingStatus.PENDING and (
            binding.expires_at is not None and binding.expires_at <= now
        ):
            continue
        found[(binding.kind, binding.status)] = binding
    has_password = await uow.passwords.get(account_id) is not None
    return AccountView(
        account=account,
        identities=identities,
        email=found.get((AddressKind.EMAIL, BindingStatus.CONFIRMED)),
        pending_email=found.get((AddressKind.EMAIL, BindingStatus.PENDING)),
        phone=found.get((AddressKind.PHONE, BindingStatus.CONFIRMED)),
        pending_phone=found.get((AddressKind.PHONE, BindingStatus.PENDING)),
        has_password=has_password,
    )
