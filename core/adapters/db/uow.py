"""One SQL transaction over every repository: commit, or nothing is written."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Self

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.adapters.db.bindings import SqlBindings
from core.adapters.db.oidc import SqlNoticeOutbox
from core.adapters.db.repositories import (
    SqlAccounts,
    SqlIdentities,
    SqlPasswords,
    SqlRetention,
    SqlTelegramLinks,
)
from core.adapters.db.seen import (
    Seen,
    SeenAccounts,
    SeenBindings,
    SeenIdentities,
    SeenPasswords,
    SeenTelegramLinks,
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
        self.notices = SqlNoticeOutbox(conn)
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

    @property
    def connection(self) -> AsyncConnection:
        """The unit's connection, for an adapter store that is not one of its repositories."""
        if self._conn is None:
            raise RuntimeError("the connection outside `async with` of the unit of work")
        return self._conn

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


class UpdateScope:
    """One update's database work: one pooled connection, and one transaction while it can last.

    Opened by the bot for each update (`Database.scope()`), it opens nothing itself: the first
    unit of work checks a connection out and begins. A reader leaves its transaction open for
    the next unit, so an update's reads are one transaction; a writer joins it (PostgreSQL) or,
    on SQLite, ends it and begins IMMEDIATE behind the writer line, so a write never upgrades a
    stale snapshot. A writer's `commit()` commits at once, as a unit always did: an effect and
    its record agree (RELIABILITY §2); the next unit begins again. `park()` ends an idle read
    transaction and gives the connection back to the pool while the update waits on the outside
    world (Telegram, a letter, an SMS, a hash), so a slow send never holds a connection.
    """

    def __init__(
        self, owner: object, engine: Callable[[], AsyncEngine], writers: WriterLine | None
    ) -> None:
        self.database = owner  # whose units share it
        self._engine = engine  # read at check-out: a test may swap the database's engine
        self._writers = writers
        self.task = asyncio.current_task()
        self.conn: AsyncConnection | None = None
        self.active = False  # a unit of this scope is inside its `async with`
        self.writing = False  # the open transaction is a writer's
        self._queued = False
        # Rows read in the open transaction before any write: the update's later reads of the
        # same rows (the card, the plan and the checks after `Person`) need not ask again.
        self.seen = Seen()

    def usable(self) -> bool:
        """Units share the scope only in its own task, one at a time (a nested one is its own)."""
        return not self.active and asyncio.current_task() is self.task

    async def enter(self, *, readonly: bool) -> AsyncConnection:
        self.active = True
        try:
            if self.conn is None:
                conn = self._engine().connect()
                try:
                    await conn.start()
                except BaseException:
                    with contextlib.suppress(SQLAlchemyError, OSError):
                        await conn.close()
                    raise
                self.conn = conn
            conn = self.conn
            if not readonly and self._writers is not None and not self.writing:
                # SQLite: a reader's snapshot cannot be upgraded safely; end it, queue, begin anew.
                if conn.in_transaction():
                    await conn.rollback()
                await self._writers.enter()
                self._queued = True
            if not conn.in_transaction():
                await conn.execution_options(**{READONLY: readonly})
                await conn.begin()
            if not readonly:
                self.seen.clear()
            self.writing = self.writing or not readonly
        except BaseException as exc:
            self.active = False
            await self.drop()
            if isinstance(exc, CONNECTIVITY_ERRORS):
                raise Unavailable() from exc
            raise
        return conn

    async def end(self) -> None:
        """End the open transaction, writing nothing (a writer that did not commit), and give
        the connection back: with no transaction open the update holds none."""
        conn, self.conn = self.conn, None
        self.writing = False
        self.seen.clear()
        try:
            if conn is not None:
                if conn.in_transaction():
                    await conn.rollback()
                await conn.close()
        finally:
            self.leave_line()

    async def commit(self) -> None:
        conn = self.conn
        if conn is None or not self.active:
            raise RuntimeError("commit() outside `async with` of the unit of work")
        try:
            await conn.commit()
        except CONNECTIVITY_ERRORS as exc:
            await self.drop()
            raise Unavailable() from exc
        # Committed: the connection goes back to the pool (a letter or a notice may follow).
        await self.drop()

    def leave_line(self) -> None:
        if self._queued and self._writers is not None:
            self._queued = False
            self._writers.leave()

    async def park(self) -> None:
        """Between units: end the read transaction and give the connection back to the pool."""
        if not self.active and self.conn is not None:
            await self.drop()

    async def drop(self) -> None:
        """Roll back whatever is open and return (or, broken, discard) the connection."""
        conn, self.conn = self.conn, None
        self.writing = False
        self.seen.clear()
        try:
            if conn is not None:
                with contextlib.suppress(SQLAlchemyError, OSError):
                    if conn.in_transaction():
                        await conn.rollback()
                with contextlib.suppress(SQLAlchemyError, OSError):
                    await conn.close()
        finally:
            self.leave_line()


# The update being handled in this task, if the bot opened a scope for it.
CURRENT_SCOPE: ContextVar[UpdateScope | None] = ContextVar("accountbot_db_scope", default=None)


class ScopedUnitOfWork(UnitOfWork):
    """A unit of work inside an `UpdateScope`: the scope's connection and transaction.

    The same contract as `SqlUnitOfWork`: leaving a writer without `commit()` writes nothing;
    a reader must not write; an outage is `Unavailable`. A reader leaves the transaction open
    for the update's next unit, unless it failed.
    """

    def __init__(self, scope: UpdateScope, *, readonly: bool = False) -> None:
        self._scope = scope
        self._readonly = readonly
        self._inside = False
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        conn = await self._scope.enter(readonly=self._readonly)
        self._inside = True
        self._conn = conn
        scope = self._scope
        if scope.writing:  # a writer reads the database itself, and forgets what was seen
            self.accounts = SqlAccounts(conn)
            self.identities = SqlIdentities(conn)
            self.bindings = SqlBindings(conn)
            self.passwords = SqlPasswords(conn)
            self.telegram = SqlTelegramLinks(conn)
        else:
            seen = scope.seen
            self.accounts = SeenAccounts(conn, seen)
            self.identities = SeenIdentities(conn, seen)
            self.bindings = SeenBindings(conn, seen)
            self.passwords = SeenPasswords(conn, seen)
            self.telegram = SeenTelegramLinks(conn, seen)
        self.workspaces = SqlWorkspaces(conn)
        self.audit = SqlAuditLog(conn)
        self.retention = SqlRetention(conn)
        self.notices = SqlNoticeOutbox(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._inside:
            return
        self._inside = False
        scope = self._scope
        scope.active = False
        try:
            if is_outage(exc):
                await scope.drop()
            elif exc is not None or not self._readonly:
                await scope.end()  # a writer's work is committed by now or not at all
        except (SQLAlchemyError, OSError) as cleanup_error:
            await scope.drop()
            if exc is None:
                raise Unavailable() from cleanup_error
        if self._readonly and _reader_wrote(exc):
            raise RuntimeError("a read-only unit of work tried to write") from exc
        if is_outage(exc):
            raise Unavailable() from exc

    async def commit(self) -> None:
        if not self._inside:
            raise RuntimeError("commit() outside `async with` of the unit of work")
        await self._scope.commit()

    @property
    def connection(self) -> AsyncConnection:
        """The scope's connection, for an adapter store that is not one of its repositories."""
        if not self._inside or self._conn is None:
            raise RuntimeError("the connection outside `async with` of the unit of work")
        return self._conn
