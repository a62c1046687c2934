"""The operator's workspaces, the accounts' memberships, and the audit log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.adapters.db.repositories import upsert
from core.adapters.db.tables import audit_events, memberships, workspaces
from core.domain.models import AddressKind, AuditEvent, Membership, Workspace

w = workspaces.c
m = memberships.c
a = audit_events.c


class SqlWorkspaces:
    """Workspaces and memberships with the contact addresses the operator sees."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _select(self) -> sa.Select[Any]:
        return sa.select(w.id, w.slug, w.title)

    async def create(self, slug: str, title: str) -> Workspace:
        result = await self._conn.execute(workspaces.insert().values(slug=slug, title=title))
        (workspace_id,) = result.inserted_primary_key or (None,)
        assert isinstance(workspace_id, int)
        return Workspace(id=workspace_id, slug=slug, title=title)

    async def get(self, slug: str) -> Workspace | None:
        row = (await self._conn.execute(self._select().where(w.slug == slug))).one_or_none()
        return Workspace(**row._mapping) if row else None

    async def all(self) -> list[Workspace]:
        rows = await self._conn.execute(self._select().order_by(w.slug))
        return [Workspace(**row._mapping) for row in rows]

    async def add_member(
        self, workspace_id: int, account_id: int, email: str | None, phone: str | None
    ) -> None:
        values = {
            "workspace_id": workspace_id,
            "account_id": account_id,
            "contact_email": email,
            "contact_phone": phone,
        }
        await upsert(self._conn, memberships, values, ["workspace_id", "account_id"])

    async def remove_member(self, workspace_id: int, account_id: int) -> None:
        await self._conn.execute(
            memberships.delete().where(m.workspace_id == workspace_id, m.account_id == account_id)
        )

    async def memberships(self, account_id: int) -> list[Membership]:
        query = (
            sa.select(w.id, w.slug, w.title, m.contact_email, m.contact_phone)
            .join_from(memberships, workspaces, m.workspace_id == w.id)
            .where(m.account_id == account_id)
            .order_by(w.slug)
        )
        return [
            Membership(
                workspace=Workspace(id=row.id, slug=row.slug, title=row.title),
                account_id=account_id,
                contact_email=row.contact_email,
                contact_phone=row.contact_phone,
            )
            for row in await self._conn.execute(query)
        ]

    async def update_contacts(self, account_id: int, kind: AddressKind, address: str) -> int:
        column = "contact_email" if kind is AddressKind.EMAIL else "contact_phone"
        result = await self._conn.execute(
            memberships.update().where(m.account_id == account_id).values({column: address})
        )
        return int(result.rowcount)


class SqlAuditLog:
    """Append-only record of changes; never a secret."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(self, event: AuditEvent) -> None:
        await self._conn.execute(
            audit_events.insert().values(
                account_id=event.account_id,
                action=event.action,
                actor=event.actor,
                details=dict(event.details),
                at=event.at,
            )
        )

    async def for_account(self, account_id: int, limit: int = 50) -> list[AuditEvent]:
        query = (
            sa.select(a.action, a.account_id, a.at, a.actor, a.details)
            .where(a.account_id == account_id)
            .order_by(a.at.desc(), a.id.desc())
            .limit(limit)
        )
        return [AuditEvent(**row._mapping) for row in await self._conn.execute(query)]
