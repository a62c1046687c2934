"""One SQL transaction over every repository: commit, or nothing is written."""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Self

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.adapters.db.bindings import SqlBindings
from core.adapters.db.repositories import (
    SqlAccounts,
    SqlIdentities,
    SqlPasswords,
    SqlTelegramLinks,
)
from core.adapters.db.workspaces import SqlAuditLog, SqlWorkspaces
from core.errors import Unavailable
from core.ports import (
    AccountRepository,
    AuditLog,
    BindingRepository,
    IdentityRepository,
    PasswordRepository,
    TelegramLinkRepository,
    WorkspaceRepository,
)

# What a database that is down, unreachable or locked raises (SPEC §3).
CONNECTIVITY_ERRORS = (OSError, OperationalError, InterfaceError)

# The execution option that marks a unit of work as a reader (see `engine.py` for SQLite).
READONLY = "accountbot_readonly"


def is_outage(exc: BaseException | None) -> bool:
    """Whether the error means "the database is not there" rather than a bug or a conflict."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (OperationalError, InterfaceError))


class SqlUnitOfWork:
    """`async with db.uow() as uow: ...; await uow.commit()`; leaving without commit rolls back.

    A `readonly` unit only reads: on SQLite it begins DEFERRED and takes no write lock, so readers
    never queue behind writers (WAL gives each its snapshot); a write in it fails.
    """

    # Typed as the ports: Protocol attributes are invariant, so the concrete types would not fit.
    accounts: AccountRepository
    identities: IdentityRepository
    bindings: BindingRepository
    passwords: PasswordRepository
    telegram: TelegramLinkRepository
    workspaces: WorkspaceRepository
    audit: AuditLog

    def __init__(self, engine: AsyncEngine, *, readonly: bool = False) -> None:
        self._engine = engine
        self._readonly = readonly
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        conn = self._engine.connect()
        try:
            await conn.start()
            await conn.execution_options(**{READONLY: self._readonly})
            await conn.begin()
        except CONNECTIVITY_ERRORS as exc:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await conn.close()
            raise Unavailable() from exc
        self._conn = conn
        self.accounts = SqlAccounts(conn)
        self.identities = SqlIdentities(conn)
        self.bindings = SqlBindings(conn)
        self.passwords = SqlPasswords(conn)
        self.telegram = SqlTelegramLinks(conn)
        self.workspaces = SqlWorkspaces(conn)
        self.audit = SqlAuditLog(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
            await conn.close()
        except (SQLAlchemyError, OSError) as cleanup_error:
            if exc is None:
                raise Unavailable() from cleanup_error
            # The body's own error says more than a failed rollback on a dead connection.
        if is_outage(exc):
            raise Unavailable() from exc

    async def commit(self) -> None:
        if self._conn is None:
            raise RuntimeError("commit() outside `async with` of the unit of work")
        try:
            await self._conn.commit()
        except CONNECTIVITY_ERRORS as exc:
            raise Unavailable() from exc
