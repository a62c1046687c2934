"""The OpenID Provider's storage in SQL (PRODUCT §1.11): `core.provider.ports.ProviderStore`.

Each method is its own unit of work on the database (`Database.reader()` for reads,
`Database.uow()` for writes): inside an update's scope a read shares the update's connection and
transaction, and on SQLite a write waits in the writer line as every other write does.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.adapters.db.repositories import upsert
from core.adapters.db.tables import (
    audit_events,
    bindings,
    memberships,
    oidc_clients,
    oidc_codes,
    oidc_consents,
    oidc_keys,
    oidc_notices,
    oidc_refresh_tokens,
    workspaces,
)
from core.domain.models import AddressKind, AuditEvent, BindingStatus
from core.provider.models import (
    AuthorizationCode,
    Client,
    Consent,
    PendingNotice,
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
n = oidc_notices.c
w = workspaces.c


def _client(row: Any) -> Client:
    return Client(
        client_id=row.client_id,
        workspace_id=row.workspace_id,
        redirect_uris=tuple(row.redirect_uris),
        subject_kind=SubjectKind(row.subject_kind),
        secret_hash=row.secret_hash,
        created_at=row.created_at,
        notice_uri=row.notice_uri,
    )


_CLIENT = (
    c.client_id,
    c.workspace_id,
    c.redirect_uris,
    c.subject_kind,
    c.secret_hash,
    c.created_at,
    c.notice_uri,
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
        notice_uri: str | None = None,
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
                "notice_uri": notice_uri,
            }
            await conn.execute(oidc_clients.insert().values(values))
        return Client(
            client_id, workspace_id, tuple(redirect_uris), subject_kind, secret_hash, at, notice_uri
        )

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

    async def set_notice_uri(self, client_id: str, notice_uri: str | None) -> bool:
        async with self._writing() as conn:
            result = await conn.execute(
                oidc_clients.update().where(c.client_id == client_id).values(notice_uri=notice_uri)
            )
            if notice_uri is None:
                await conn.execute(oidc_notices.delete().where(n.client_id == client_id))
        return bool(result.rowcount)

    async def remove_client(self, client_id: str) -> bool:
        async with self._writing() as conn:
            # Explicit, not only ON DELETE CASCADE: SQLite may run without foreign keys.
            for table in (oidc_consents, oidc_codes, oidc_refresh_tokens, oidc_notices):
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

    # --- back-channel notices -------------------------------------------------------------------

    async def notices_due(self, at: datetime) -> bool:
        async with self._reading() as conn:
            found = await conn.scalar(sa.select(n.id).where(n.due_at <= at).limit(1))
        return found is not None

    async def claim_notices(
        self, at: datetime, lease_until: datetime, limit: int
    ) -> tuple[list[PendingNotice], int]:
        due = (
            sa.select(oidc_notices)
            .where(n.due_at <= at)
            .order_by(n.due_at, n.id)
            .limit(limit)
            # PostgreSQL: rows another deliverer is claiming are skipped, not waited for; the
            # lease it then writes keeps them from being due until its sends are over. SQLite
            # ignores it: there the claim is one write transaction, and writers take turns.
            .with_for_update(skip_locked=True, of=oidc_notices)
        )
        claimed: list[PendingNotice] = []
        async with self._writing() as conn:
            rows = (await conn.execute(due)).all()
            if not rows:
                return [], 0
            ids = [row.id for row in rows]
            clients = {
                row.client_id: _client(row)
                for row in await conn.execute(
                    sa.select(*_CLIENT).where(c.client_id.in_({r.client_id for r in rows}))
                )
            }
            bound = {
                (row.account_id, row.kind, row.address)
                for row in await conn.execute(
                    sa.select(bindings.c.account_id, bindings.c.kind, bindings.c.address).where(
                        bindings.c.account_id.in_({r.account_id for r in rows}),
                        bindings.c.status == BindingStatus.CONFIRMED.value,
                    )
                )
            }
            stale: list[int] = []
            for row in rows:
                client = clients.get(row.client_id)
                if (
                    client is None
                    or client.notice_uri is None
                    or (row.account_id, row.kind, row.address) not in bound
                ):
                    stale.append(row.id)
                    continue
                claimed.append(
                    PendingNotice(
                        notice_id=row.id,
                        jti=row.jti,
                        client=client,
                        account_id=row.account_id,
                        kind=row.kind,
                        address=row.address,
                        created_at=row.created_at,
                        attempt=row.attempts + 1,
                    )
                )
            if stale:
                await conn.execute(oidc_notices.delete().where(n.id.in_(stale)))
            live = [i for i in ids if i not in stale]
            if live:
                await conn.execute(
                    oidc_notices.update()
                    .where(n.id.in_(live))
                    .values(attempts=n.attempts + 1, due_at=lease_until)
                )
        return claimed, len(stale)

    async def finish_notice(
        self, notice_id: int, attempt: int, retry_at: datetime | None, error: str | None
    ) -> None:
        mine = oidc_notices.c.id == notice_id, n.attempts == attempt
        async with self._writing() as conn:
            if retry_at is None:
                await conn.execute(oidc_notices.delete().where(*mine))
            else:
                await conn.execute(
                    oidc_notices.update().where(*mine).values(due_at=retry_at, last_error=error)
                )

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


def _new_jti() -> str:
    return secrets.token_urlsafe(24)


class SqlNoticeOutbox:
    """`core.provider.ports.NoticeOutbox` on a unit of work's connection (its transaction)."""

    __slots__ = ("_conn", "_new_jti")

    def __init__(self, conn: AsyncConnection, new_jti: Callable[[], str] = _new_jti) -> None:
        self._conn = conn  # built for every unit of work: nothing more here (PERFORMANCE)
        self._new_jti = new_jti

    async def enqueue(self, account_id: int, kind: AddressKind, address: str, at: datetime) -> int:
        member = sa.exists().where(
            memberships.c.account_id == account_id, memberships.c.workspace_id == c.workspace_id
        )
        consented = sa.exists().where(cs.account_id == account_id, cs.client_id == c.client_id)
        recipients = list(
            await self._conn.scalars(
                sa.select(c.client_id)
                .where(c.notice_uri.is_not(None), sa.or_(member, consented))
                .order_by(c.client_id)
            )
        )
        if not recipients:
            return 0
        # A newer change replaces a notice not yet delivered: the workspace hears the latest.
        await self._conn.execute(
            oidc_notices.delete().where(
                n.account_id == account_id, n.kind == kind.value, n.client_id.in_(recipients)
            )
        )
        await self._conn.execute(
            oidc_notices.insert(),
            [
                {
                    "jti": self._new_jti(),
                    "client_id": client_id,
                    "account_id": account_id,
                    "kind": kind.value,
                    "address": address,
                    "created_at": at,
                    "due_at": at,
                    "attempts": 0,
                }
                for client_id in recipients
            ],
        )
        return len(recipients)
