"""What an update's read transaction has read already, so its later units need not ask again.

An update's units share one read transaction until a writer begins, the transaction ends or
the connection is parked (`uow.UpdateScope`); in that time the rows below cannot differ from
what they were when first read (on SQLite the transaction is a snapshot; on PostgreSQL the
update reads them once, at one moment). `Person` reads the account with its card's rows in one
statement (`SqlTelegramLinks.read_person`), and the card, the plan and the checks of the same
update are then served from here. Nothing outlives the transaction: every instance reads the
database afresh on its next update, and a writer never sees this (it reads the database).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from core.adapters.db.bindings import SqlBindings
from core.adapters.db.repositories import (
    SqlAccounts,
    SqlIdentities,
    SqlPasswords,
    SqlTelegramLinks,
)
from core.domain.models import Account, AddressKind, Binding, SocialIdentity
from core.ports import AccountRecord


@dataclass
class Seen:
    """The rows read in the open read transaction, by the repository call that returns them."""

    links: dict[int, int | None] = field(default_factory=dict)  # Telegram user -> account
    accounts: dict[int, Account | None] = field(default_factory=dict)
    identities: dict[int, tuple[SocialIdentity, ...]] = field(default_factory=dict)
    bindings: dict[int, tuple[Binding, ...]] = field(default_factory=dict)
    owners: dict[tuple[AddressKind, str], int | None] = field(default_factory=dict)
    passwords: dict[int, str | None] = field(default_factory=dict)  # hashes, never in the clear

    def clear(self) -> None:
        for memo in (
            self.links,
            self.accounts,
            self.identities,
            self.bindings,
            self.owners,
            self.passwords,
        ):
            memo.clear()


class SeenAccounts(SqlAccounts):
    """`SqlAccounts` whose `get` is served from the transaction's memo."""

    def __init__(self, conn: AsyncConnection, seen: Seen) -> None:
        super().__init__(conn)
        self._seen = seen

    async def get(self, account_id: int) -> Account | None:
        memo = self._seen.accounts
        if account_id not in memo:
            memo[account_id] = await super().get(account_id)
        return memo[account_id]


class SeenIdentities(SqlIdentities):
    def __init__(self, conn: AsyncConnection, seen: Seen) -> None:
        super().__init__(conn)
        self._seen = seen

    async def for_account(self, account_id: int) -> list[SocialIdentity]:
        memo = self._seen.identities
        if account_id not in memo:
            memo[account_id] = tuple(await super().for_account(account_id))
        return list(memo[account_id])


class SeenBindings(SqlBindings):
    """Reads served from the memo; its writes (never in a reader) go to the database."""

    def __init__(self, conn: AsyncConnection, seen: Seen) -> None:
        super().__init__(conn)
        self._seen = seen

    async def owner(self, kind: AddressKind, address: str) -> int | None:
        memo = self._seen.owners
        if (kind, address) not in memo:
            memo[(kind, address)] = await super().owner(kind, address)
        return memo[(kind, address)]

    async def for_account(self, account_id: int) -> list[Binding]:
        memo = self._seen.bindings
        if account_id not in memo:
            memo[account_id] = tuple(await super().for_account(account_id))
        return list(memo[account_id])


class SeenPasswords(SqlPasswords):
    def __init__(self, conn: AsyncConnection, seen: Seen) -> None:
        super().__init__(conn)
        self._seen = seen

    async def get(self, account_id: int) -> str | None:
        memo = self._seen.passwords
        if account_id not in memo:
            memo[account_id] = await super().get(account_id)
        return memo[account_id]


class SeenTelegramLinks(SqlTelegramLinks):
    """`person` fills the memo with the account's card rows; `account_for` is served from it."""

    def __init__(self, conn: AsyncConnection, seen: Seen) -> None:
        super().__init__(conn)
        self._seen = seen

    async def account_for(self, telegram_user_id: int) -> int | None:
        memo = self._seen.links
        if telegram_user_id not in memo:
            memo[telegram_user_id] = await super().account_for(telegram_user_id)
        return memo[telegram_user_id]

    async def person(self, telegram_user_id: int) -> AccountRecord | None:
        found = await self.read_person(telegram_user_id)
        if found is None:
            return None  # no link, or its account is erased: nothing to remember
        record, password_hash = found
        seen, account_id = self._seen, record.account.id
        seen.links[telegram_user_id] = account_id
        seen.accounts[account_id] = record.account
        seen.identities[account_id] = record.identities
        seen.bindings[account_id] = record.bindings
        seen.passwords[account_id] = password_hash
        return record
