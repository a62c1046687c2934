"""Accounts, social identities, passwords and Telegram links over one SQL connection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.adapters.db.tables import (
    accounts,
    audit_events,
    bindings,
    memberships,
    oidc_codes,
    oidc_consents,
    oidc_notices,
    oidc_refresh_tokens,
    password_credentials,
    social_identities,
    support_handoffs,
    telegram_links,
)
from core.domain.models import Account, AddressKind, Binding, BindingStatus, SocialIdentity
from core.ports import AccountRecord


async def upsert(
    conn: AsyncConnection, table: sa.Table, values: Mapping[str, Any], keys: Sequence[str]
) -> None:
    """Insert a row, or update it in place when `keys` already match one (no race window)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**values)
    changes = {name: stmt.excluded[name] for name in values if name not in keys}
    await conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=changes))


class SqlAccounts:
    """Accounts and their terms acceptance."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, name: str, locale: str | None, now: datetime) -> Account:
        result = await self._conn.execute(
            accounts.insert().values(name=name, locale=locale, created_at=now)
        )
        (account_id,) = result.inserted_primary_key or (None,)
        assert isinstance(account_id, int)
        return Account(id=account_id, name=name, locale=locale, created_at=now)

    async def get(self, account_id: int) -> Account | None:
        query = sa.select(
            accounts.c.id,
            accounts.c.name,
            accounts.c.locale,
            accounts.c.created_at,
            accounts.c.terms_accepted_at,
        ).where(accounts.c.id == account_id, accounts.c.deleted_at.is_(None))
        row = (await self._conn.execute(query)).one_or_none()
        return Account(**row._mapping) if row else None

    async def erase(self, account_id: int, now: datetime) -> None:
        """PRODUCT §1.12: everything of the account goes; its row stays as a tombstone with no
        personal data (no name, language or terms), so that its id is never another account's.
        The caller records the one audit event that is kept."""
        for table in (
            social_identities,
            bindings,
            password_credentials,
            telegram_links,
            memberships,
            # The workspaces' grants (PRODUCT §1.11): a code or refresh token in flight is
            # void, a consent goes (and with it every access token's userinfo), and a notice not
            # yet pushed carries an address that must not outlive the account.
            oidc_codes,
            oidc_refresh_tokens,
            oidc_consents,
            oidc_notices,
            audit_events,
        ):
            await self._conn.execute(table.delete().where(table.c.account_id == account_id))
        # Support keeps its handoffs (keyed by the Telegram user), not the conversation data
        # saved in them: an address being bound, a step's notes.
        handoffs = support_handoffs.c
        await self._conn.execute(
            support_handoffs.update().where(handoffs.account_id == account_id).values(saved_data={})
        )
        await self._conn.execute(
            accounts.update()
            .where(accounts.c.id == account_id)
            .values(name="", locale=None, terms_url=None, terms_accepted_at=None, deleted_at=now)
        )

    async def lock(self, account_id: int) -> None:
        # FOR UPDATE serializes two flows on one account on PostgreSQL; SQLite omits the clause
        # and needs none, since every SQLite transaction there begins IMMEDIATE.
        query = sa.select(accounts.c.id).where(accounts.c.id == account_id).with_for_update()
        await self._conn.execute(query)

    async def set_locale(self, account_id: int, locale: str) -> None:
        await self._conn.execute(
            accounts.update().where(accounts.c.id == account_id).values(locale=locale)
        )

    async def accept_terms(self, account_id: int, terms_url: str, now: datetime) -> None:
        await self._conn.execute(
            accounts.update()
            .where(accounts.c.id == account_id)
            .values(terms_url=terms_url, terms_accepted_at=now)
        )


class SqlIdentities:
    """Social identities, unique by (provider, subject)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _select(self) -> sa.Select[Any]:
        c = social_identities.c
        return sa.select(
            c.account_id, c.provider, c.subject, c.email, c.email_verified, c.created_at
        )

    async def find(self, provider: str, subject: str) -> SocialIdentity | None:
        c = social_identities.c
        query = self._select().where(c.provider == provider, c.subject == subject)
        row = (await self._conn.execute(query)).one_or_none()
        return SocialIdentity(**row._mapping) if row else None

    async def for_account(self, account_id: int) -> list[SocialIdentity]:
        c = social_identities.c
        query = self._select().where(c.account_id == account_id).order_by(c.id)
        return [SocialIdentity(**row._mapping) for row in await self._conn.execute(query)]

    async def add(self, identity: SocialIdentity) -> None:
        await self._conn.execute(
            social_identities.insert().values(
                account_id=identity.account_id,
                provider=identity.provider,
                subject=identity.subject,
                email=identity.email,
                email_verified=identity.email_verified,
                created_at=identity.created_at,
            )
        )

    async def update_email(
        self, provider: str, subject: str, email: str | None, verified: bool
    ) -> None:
        c = social_identities.c
        await self._conn.execute(
            social_identities.update()
            .where(c.provider == provider, c.subject == subject)
            .values(email=email, email_verified=verified)
        )


class SqlPasswords:
    """Password credentials, as argon2id hashes only."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, account_id: int) -> str | None:
        c = password_credentials.c
        query = sa.select(c.password_hash).where(c.account_id == account_id)
        value = (await self._conn.execute(query)).scalar_one_or_none()
        return str(value) if value is not None else None

    async def set(self, account_id: int, password_hash: str, now: datetime) -> None:
        values = {"account_id": account_id, "password_hash": password_hash, "updated_at": now}
        await upsert(self._conn, password_credentials, values, ["account_id"])

    async def remove(self, account_id: int) -> None:
        c = password_credentials.c
        await self._conn.execute(password_credentials.delete().where(c.account_id == account_id))


def _person_query() -> sa.Select[Any]:
    """`SqlTelegramLinks.read_person`'s statement: built once, since building it every update
    cost as much CPU as running it (the joins' conditions, the labels)."""
    a, p, i, b = accounts.c, password_credentials.c, social_identities.c, bindings.c
    link = telegram_links.c
    return (
        sa.select(
            a.id,
            a.name,
            a.locale,
            a.created_at,
            a.terms_accepted_at,
            p.password_hash,
            i.id.label("i_id"),
            i.provider,
            i.subject,
            i.email,
            i.email_verified,
            i.created_at.label("i_created_at"),
            b.id.label("b_id"),
            b.kind,
            b.address,
            b.status,
            b.created_at.label("b_created_at"),
            b.confirmed_at,
            b.expires_at,
        )
        .select_from(
            telegram_links.join(accounts, a.id == link.account_id)
            .outerjoin(password_credentials, p.account_id == a.id)
            .outerjoin(social_identities, i.account_id == a.id)
            .outerjoin(bindings, b.account_id == a.id)
        )
        .where(link.telegram_user_id == sa.bindparam("telegram_user_id"), a.deleted_at.is_(None))
    )


_PERSON = _person_query()


class SqlTelegramLinks:
    """Which account a Telegram user is signed in to."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def account_for(self, telegram_user_id: int) -> int | None:
        c = telegram_links.c
        query = sa.select(c.account_id).where(c.telegram_user_id == telegram_user_id)
        value = (await self._conn.execute(query)).scalar_one_or_none()
        return int(value) if value is not None else None

    async def person(self, telegram_user_id: int) -> AccountRecord | None:
        found = await self.read_person(telegram_user_id)
        return found[0] if found else None

    async def read_person(self, telegram_user_id: int) -> tuple[AccountRecord, str | None] | None:
        """`person`, and the password's hash (for the scope's memo, `seen.py`): one SELECT.

        The link, the account and its password are one row each; the identities and bindings
        (a few of each) are joined beside them, so the rows are their product, folded here.
        """
        parameters = {"telegram_user_id": telegram_user_id}
        rows = (await self._conn.execute(_PERSON, parameters)).all()
        if not rows:
            return None
        first = rows[0]
        identities: dict[int, SocialIdentity] = {}
        found: dict[int, Binding] = {}
        for row in rows:
            if row.i_id is not None and row.i_id not in identities:
                identities[row.i_id] = SocialIdentity(
                    first.id,
                    row.provider,
                    row.subject,
                    row.email,
                    row.email_verified,
                    row.i_created_at,
                )
            if row.b_id is not None and row.b_id not in found:
                found[row.b_id] = Binding(
                    first.id,
                    AddressKind(row.kind),
                    row.address,
                    BindingStatus(row.status),
                    row.b_created_at,
                    row.confirmed_at,
                    row.expires_at,
                )
        account = Account(
            first.id, first.name, first.locale, first.created_at, first.terms_accepted_at
        )
        record = AccountRecord(
            account,
            tuple(identities[key] for key in sorted(identities)),  # as `SqlIdentities`: by id
            tuple(sorted(found.values(), key=lambda x: (x.kind.value, x.status.value))),
            first.password_hash is not None,
        )
        hashed = first.password_hash
        return record, str(hashed) if hashed is not None else None

    async def link(self, telegram_user_id: int, account_id: int, now: datetime) -> None:
        values = {"telegram_user_id": telegram_user_id, "account_id": account_id, "linked_at": now}
        await upsert(self._conn, telegram_links, values, ["telegram_user_id"])

    async def unlink(self, telegram_user_id: int) -> None:
        c = telegram_links.c
        await self._conn.execute(
            telegram_links.delete().where(c.telegram_user_id == telegram_user_id)
        )

    async def users_of(self, account_id: int) -> list[int]:
        c = telegram_links.c
        query = sa.select(c.telegram_user_id).where(c.account_id == account_id)
        return [
            int(value)
            for value in (await self._conn.execute(query.order_by(c.linked_at))).scalars()
        ]


class SqlRetention:
    """Housekeeping's deletions, in batches so no write lock is held for long (SQLite)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def remove_expired_claims(self, now: datetime, limit: int) -> int:
        """Pending bindings past their lifetime: they block nobody and are shown as none."""
        c = bindings.c
        batch = (
            sa.select(c.id)
            .where(c.status == BindingStatus.PENDING.value, c.expires_at <= now)
            .order_by(c.id)
            .limit(limit)
        )
        result = await self._conn.execute(
            bindings.delete().where(c.id.in_(batch.scalar_subquery()))
        )
        return int(result.rowcount)

    async def remove_audit_before(self, moment: datetime, limit: int) -> int:
        """Audit events recorded before `moment`, oldest first."""
        c = audit_events.c
        batch = sa.select(c.id).where(c.at < moment).order_by(c.at).limit(limit)
        result = await self._conn.execute(
            audit_events.delete().where(c.id.in_(batch.scalar_subquery()))
        )
        return int(result.rowcount)
