"""The OpenID Provider's storage in SQL (PRODUCT §1.11): `core.provider.ports.ProviderStore`.

Each method is its own unit of work on the database (`Database.reader()` for reads,
`Database.uow()` for writes): inside an update's scope a read shares the update's connection and
transaction, and on SQLite a write waits in the writer line as every other write does.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.adapters.db.repositories import upsert
from core.adapters.db.tables import (
    audit_events,
    oidc_clients,
    oidc_codes,
    oidc_consents,
    oidc_keys,
    oidc_refresh_tokens,
    workspaces,
)
from core.domain.models import AuditEvent
from core.provider.models import (
    AuthorizationCode,
    Client,
    Consent,
    RefreshToken,
    SigningKey,
    SubjectKind,
)

if TYPE_CHECKING:
    from core.adapters.db.engine import Database

c = oidc_clients.c
cs = oidc_consents.c
cd = oidc_codes.c
rt = oidc_refresh_tokens.c
k = oidc_keys.c
w = workspaces.c


def _client(row: Any) -> Client:
    return Client(
        client_id=row.client_id,
        workspace_id=row.workspace_id,
        redirect_uris=tuple(row.redirect_uris),
        subject_kind=SubjectKind(row.subject_kind),
        secret_hash=row.secret_hash,
        created_at=row.created_at,
    )


_CLIENT = (
    c.client_id,
    c.workspace_id,
    c.redirect_uris,
    c.subject_kind,
    c.secret_hash,
    c.created_at,
)


class SqlProviderStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        async with self._database.reader() as uow:
            yield cast(Any, uow).connection

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        async with self._database.uow() as uow:
            yield cast(Any, uow).connection
            await uow.commit()

    # --- clients -------------------------------------------------------------------------------

    async def add_client(
        self,
        client_id: str,
        workspace_slug: str,
        redirect_uris: Sequence[str],
        subject_kind: SubjectKind,
        secret_hash: str | None,
        at: datetime,
    ) -> Client | None:
        async with self._writing() as conn:
            workspace_id = await conn.scalar(sa.select(w.id).where(w.slug == workspace_slug))
            if workspace_id is None:
                return None
            values = {
                "client_id": client_id,
                "workspace_id": workspace_id,
                "redirect_uris": list(redirect_uris),
                "subject_kind": subject_kind.value,
                "secret_hash": secret_hash,
                "created_at": at,
            }
            await conn.execute(oidc_clients.insert().values(values))
        return Client(client_id, workspace_id, tuple(redirect_uris), subject_kind, secret_hash, at)

    async def client(self, client_id: str) -> Client | None:
        async with self._reading() as conn:
            row = (
                await conn.execute(sa.select(*_CLIENT).where(c.client_id == client_id))
            ).one_or_none()
        return _client(row) if row else None

    async def clients(self) -> list[tuple[Client, str, str]]:
        query = (
            sa.select(*_CLIENT, w.slug, w.title)
            .join_from(oidc_clients, workspaces, c.workspace_id == w.id)
            .order_by(w.slug, c.client_id)
        )
        async with self._reading() as conn:
            return [(_client(row), row.slug, row.title) for row in await conn.execute(query)]

    async def set_client_secret(self, client_id: str, secret_hash: str) -> bool:
        async with self._writing() as conn:
            result = await conn.execute(
                oidc_clients.update()
                .where(c.client_id == client_id)
                .values(secret_hash=secret_hash)
            )
        return bool(result.rowcount)

    async def remove_client(self, client_id: str) -> bool:
        async with self._writing() as conn:
            # Explicit, not only ON DELETE CASCADE: SQLite may run without foreign keys.
            for table in (oidc_consents, oidc_codes, oidc_refresh_tokens):
                await conn.execute(table.delete().where(table.c.client_id == client_id))
            result = await conn.execute(oidc_clients.delete().where(c.client_id == client_id))
        return bool(result.rowcount)

    # --- consents ------------------------------------------------------------------------------

    async def grant_consent(
        self, account_id: int, client_id: str, scope: str, at: datetime
    ) -> None:
        values = {
            "account_id": account_id,
            "client_id": client_id,
            "scope": scope,
            "granted_at": at,
        }
        async with self._writing() as conn:
            await upsert(conn, oidc_consents, values, ["account_id", "client_id"])

    def _consents(self) -> sa.Select[Any]:
        return (
            sa.select(cs.account_id, cs.client_id, cs.scope, cs.granted_at, w.title)
            .join_from(oidc_consents, oidc_clients, cs.client_id == c.client_id)
            .join(workspaces, c.workspace_id == w.id)
        )

    @staticmethod
    def _consent(row: Any) -> Consent:
        return Consent(row.account_id, row.client_id, row.title, row.scope, row.granted_at)

    async def consent(self, account_id: int, client_id: str) -> Consent | None:
        query = self._consents().where(cs.account_id == account_id, cs.client_id == client_id)
        async with self._reading() as conn:
            row = (await conn.execute(query)).one_or_none()
        return self._consent(row) if row else None

    async def consents(self, account_id: int) -> list[Consent]:
        query = self._consents().where(cs.account_id == account_id).order_by(cs.granted_at)
        async with self._reading() as conn:
            return [self._consent(row) for row in await conn.execute(query)]

    async def revoke_consent(self, account_id: int, client_id: str, at: datetime) -> int:
        async with self._writing() as conn:
            await conn.execute(
                oidc_consents.delete().where(cs.account_id == account_id, cs.client_id == client_id)
            )
            result = await conn.execute(
                oidc_refresh_tokens.update()
                .where(
                    rt.account_id == account_id,
                    rt.client_id == client_id,
                    rt.revoked_at.is_(None),
                    rt.used_at.is_(None),
                )
                .values(revoked_at=at)
            )
            await conn.execute(
                oidc_refresh_tokens.update()
                .where(
                    rt.account_id == account_id, rt.client_id == client_id, rt.revoked_at.is_(None)
                )
                .values(revoked_at=at)
            )
        return int(result.rowcount)

    # --- codes ---------------------------------------------------------------------------------

    async def add_code(self, code: AuthorizationCode) -> None:
        async with self._writing() as conn:
            await conn.execute(oidc_codes.insert().values(**code.__dict__))

    async def take_code(self, code_hash: str, at: datetime) -> AuthorizationCode | None:
        async with self._writing() as conn:
            # One UPDATE decides: of two redemptions at once, exactly one marks it used.
            taken = await conn.execute(
                oidc_codes.update()
                .where(cd.code_hash == code_hash, cd.used_at.is_(None), cd.expires_at > at)
                .values(used_at=at)
            )
            if not taken.rowcount:
                return None
            row = (await conn.execute(sa.select(oidc_codes).where(cd.code_hash == code_hash))).one()
        values = dict(row._mapping)
        values.pop("used_at")
        return AuthorizationCode(**values)

    # --- refresh tokens ------------------------------------------------------------------------

    async def add_refresh(self, token: RefreshToken) -> None:
        async with self._writing() as conn:
            await conn.execute(oidc_refresh_tokens.insert().values(**token.__dict__))

    async def refresh(self, token_hash: str) -> RefreshToken | None:
        async with self._reading() as conn:
            row = (
                await conn.execute(
                    sa.select(oidc_refresh_tokens).where(rt.token_hash == token_hash)
                )
            ).one_or_none()
        return RefreshToken(**row._mapping) if row else None

    async def use_refresh(self, token_hash: str, at: datetime) -> bool:
        async with self._writing() as conn:
            result = await conn.execute(
                oidc_refresh_tokens.update()
                .where(rt.token_hash == token_hash, rt.used_at.is_(None), rt.revoked_at.is_(None))
                .values(used_at=at)
            )
        return bool(result.rowcount)

    async def revoke_family(self, family: str, at: datetime) -> int:
        async with self._writing() as conn:
            result = await conn.execute(
                oidc_refresh_tokens.update()
                .where(rt.family == family, rt.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return int(result.rowcount)

    # --- keys ----------------------------------------------------------------------------------

    async def keys(self) -> list[SigningKey]:
        async with self._reading() as conn:
            rows = await conn.execute(sa.select(oidc_keys).order_by(k.signs_from))
            return [SigningKey(**row._mapping) for row in rows]

    async def add_key(self, key: SigningKey) -> None:
        async with self._writing() as conn:
            await conn.execute(oidc_keys.insert().values(**key.__dict__))

    async def retire_key(self, kid: str, at: datetime) -> None:
        async with self._writing() as conn:
            await conn.execute(oidc_keys.update().where(k.kid == kid).values(retired_at=at))

    async def drop_key(self, kid: str) -> None:
        async with self._writing() as conn:
            await conn.execute(oidc_keys.delete().where(k.kid == kid))

    # --- audit ---------------------------------------------------------------------------------

    async def record(self, event: AuditEvent) -> None:
        async with self._writing() as conn:
            await conn.execute(
                audit_events.insert().values(
                    account_id=event.account_id,
                    action=event.action,
                    actor=event.actor,
                    details=dict(event.details),
                    at=event.at,
                )
            )
