"""Emails and phones of accounts; a confirmed address belongs to one account only."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.adapters.db.tables import bindings
from core.domain.models import AddressKind, Binding, BindingStatus
from core.errors import AddressTaken

cols = bindings.c
PENDING, CONFIRMED = BindingStatus.PENDING, BindingStatus.CONFIRMED


class SqlBindings:
    """Bindings; the partial unique index on confirmed (kind, address) is the race guard."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def owner(self, kind: AddressKind, address: str) -> int | None:
        query = sa.select(cols.account_id).where(
            cols.kind == kind.value,
            cols.address == address,
            cols.status == CONFIRMED.value,
        )
        value = (await self._conn.execute(query)).scalar_one_or_none()
        return int(value) if value is not None else None

    async def for_account(self, account_id: int) -> list[Binding]:
        query = (
            sa.select(
                cols.account_id,
                cols.kind,
                cols.address,
                cols.status,
                cols.created_at,
                cols.confirmed_at,
                cols.expires_at,
            )
            .where(cols.account_id == account_id)
            .order_by(cols.kind, cols.status)
        )
        rows = await self._conn.execute(query)
        return [
            Binding(
                **{
                    **row._mapping,
                    "kind": AddressKind(row.kind),
                    "status": BindingStatus(row.status),
                }
            )
            for row in rows
        ]

    async def set_pending(
        self, account_id: int, kind: AddressKind, address: str, expires_at: datetime, now: datetime
    ) -> None:
        await self._put(account_id, kind, address, PENDING, now, expires_at=expires_at)

    async def confirm(
        self, account_id: int, kind: AddressKind, address: str, now: datetime
    ) -> None:
        """Make `address` this account's confirmed one of its kind, or raise `AddressTaken`."""
        holder = await self.owner(kind, address)
        if holder == account_id:
            return
        if holder is not None:
            raise AddressTaken(kind.value, address)
        try:
            # A savepoint, so a lost race leaves the rest of the unit of work usable.
            async with self._conn.begin_nested():
                await self._put(account_id, kind, address, CONFIRMED, now, confirmed_at=now)
        except IntegrityError:
            # On PostgreSQL the violation is raised once the winner commits, so it is visible.
            if await self.owner(kind, address) not in (None, account_id):
                raise AddressTaken(kind.value, address) from None
            raise

    async def remove(self, account_id: int, kind: AddressKind, *, pending: bool = False) -> None:
        await self._delete(account_id, kind, PENDING if pending else CONFIRMED)

    async def _put(
        self,
        account_id: int,
        kind: AddressKind,
        address: str,
        status: BindingStatus,
        now: datetime,
        **times: datetime,
    ) -> None:
        """Insert the row; a pending one replaces the pending, a confirmed one replaces both."""
        replaced = (PENDING,) if status is PENDING else (CONFIRMED, PENDING)
        await self._delete(account_id, kind, *replaced)
        await self._conn.execute(
            bindings.insert().values(
                account_id=account_id,
                kind=kind.value,
                address=address,
                status=status.value,
                created_at=now,
                **times,
            )
        )

    async def _delete(self, account_id: int, kind: AddressKind, *statuses: BindingStatus) -> None:
        await self._conn.execute(
            bindings.delete().where(
                cols.account_id == account_id,
                cols.kind == kind.value,
                cols.status.in_([status.value for status in statuses]),
            )
        )
