"""One SQL transaction over every repository: commit, or nothing is written."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from types import TracebackType
from typing import Self

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.adapters.db.bindings import SqlBindings
from core.adapters.db.repositories import (
    SqlAccounts,
    SqlIdentities,
    SqlPasswords,
    SqlRetention,
    SqlTelegramLinks,
)
from core.adapters.db.workspaces import SqlAuditLog, SqlWorkspaces
from core.errors import Unavailable
from core.ports import UnitOfWork

# What a database that is down, unreachable or locked raises (PRODUCT §3).
CONNECTIVITY_ERRORS = (OSError, OperationalError, InterfaceError)

# The execution option that marks a unit of work as a reader (see `engine.py` for SQLite).
READONLY = "accountbot_readonly"


def is_outage(exc: BaseException | None) -> bool:
    """Whether the error means "the database is not there" rather than a bug or a conflict."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (OperationalError, InterfaceError))


def _reader_wrote(exc: BaseException | None) -> bool:
    """A write inside a reader: SQLite's query_only refuses it (a bug, not an outage)."""
    return getattr(getattr(exc, "orig", None), "sqlite_errorname", None) == "SQLITE_READONLY"


class WriterLine:
    """This process's SQLite writers, served one at a time in arrival order.

    SQLite's own busy wait polls with growing sleeps and is unfair: under a crowd some writer
    keeps losing and reaches the busy timeout while the others get through. Here a writer waits
    in line for as long as the line moves; it gives up (Unavailable) only when nobody entered or
    left for `patience` seconds, that is when the writer ahead of it is stuck.
    """

    def __init__(self, patience: float) -> None:
        self.patience = patience
        self._busy = False
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._moved = 0.0

    async def enter(self) -> None:
        loop = asyncio.get_running_loop()
        if not self._busy and not self._waiters:
            self._busy, self._moved = True, loop.time()
            return
        turn: asyncio.Future[None] = loop.create_future()
        self._waiters.append(turn)
        try:
            while not turn.done():
                left = self._moved + self.patience - loop.time()
                if left <= 0:
                    raise Unavailable()
                # Not wait_for: on 3.11 it swallows a cancellation that comes with the turn.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(left):
                        await asyncio.shield(turn)
        except BaseException:
            if turn.done() and not turn.cancelled():
                self.leave()  # the turn came as we gave up: pass it on
            else:
                turn.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(turn)
            raise

    def leave(self) -> None:
        self._moved = asyncio.get_running_loop().time()
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)  # the line stays busy: it is this waiter's turn
                return
        self._busy = False


class SqlUnitOfWork(UnitOfWork):
    """`async with db.uow() as uow: ...; await uow.commit()`; leaving without commit rolls back.

    A `readonly` unit only reads: on SQLite it begins DEFERRED and takes no write lock, so readers
    never queue behind writers (WAL gives each its snapshot); a write in it fails. On SQLite the
    writers of this process wait their turn in `writers` (a `WriterLine`) before they take the
    database's write lock.
    """

    # The repositories are declared, typed as the ports, by `UnitOfWork`.

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        readonly: bool = False,
        writers: WriterLine | None = None,
    ) -> None:
        self._engine = engine
        self._readonly = readonly
        self._writers = None if readonly else writers
        self._queued = False
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        conn = self._engine.connect()
        try:
            # The connection first, then the line: a writer whose turn came must not then wait
            # for the pool (held by readers) while the writers behind it count the line as stuck.
            await conn.start()
            if self._writers is not None:
                await self._writers.enter()
                self._queued = True
            await conn.execution_options(**{READONLY: self._readonly})
            await conn.begin()
        except BaseException as exc:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await conn.close()
            self._leave_queue()
            if isinstance(exc, CONNECTIVITY_ERRORS):
                raise Unavailable() from exc
            raise
        self._conn = conn
        self.accounts = SqlAccounts(conn)
        self.identities = SqlIdentities(conn)
        self.bindings = SqlBindings(conn)
        self.passwords = SqlPasswords(conn)
        self.telegram = SqlTelegramLinks(conn)
        self.workspaces = SqlWorkspaces(conn)
        self.audit = SqlAuditLog(conn)
        self.retention = SqlRetention(conn)
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
        finally:
            self._leave_queue()
        if self._readonly and _reader_wrote(exc):
            raise RuntimeError("a read-only unit of work tried to write") from exc
        if is_outage(exc):
            raise Unavailable() from exc

    def _leave_queue(self) -> None:
        if self._queued and self._writers is not None:
            self._queued = False
            self._writers.leave()

    async def commit(self) -> None:
        if self._conn is None:
            raise RuntimeError("commit() outside `async with` of the unit of work")
        try:
            await self._conn.commit()
        except CONNECTIVITY_ERRORS as exc:
            raise Unavailable() from exc
