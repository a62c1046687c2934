"""The engine owner: builds the async engine with the right SQLite settings and checks health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.adapters.db.uow import (
    CONNECTIVITY_ERRORS,
    CURRENT_SCOPE,
    READONLY,
    ScopedUnitOfWork,
    SqlUnitOfWork,
    UpdateScope,
    WriterLine,
)
from core.errors import Unavailable
from core.ports import UnitOfWork

# How long a SQLite writer waits for another's write lock before the database counts as busy.
SQLITE_BUSY_TIMEOUT_S = 5.0
# How long a unit waits for a pooled SQLite connection: SQLAlchemy's default.
SQLITE_POOL_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class PgTimeouts:
    """How long PostgreSQL may keep a person waiting (seconds): an outage is told at once.

    `connect`: a new connection; `pool`: waiting for a free pooled one; `command`: one statement.
    Settings DATABASE_*_TIMEOUT (issue #10: an answer within 2 s).
    """

    connect: float = 10.0
    pool: float = 30.0
    command: float | None = None
    # The server's own limit (`statement_timeout`): a statement that runs longer is cancelled
    # by PostgreSQL, which frees its locks even when the client is gone. None: the server's.
    statement: float | None = None


@dataclass(frozen=True)
class PgPool:
    """How many PostgreSQL connections one process keeps (DATABASE_POOL_SIZE) and may open
    beyond them at a busy moment (DATABASE_MAX_OVERFLOW); SQLAlchemy's defaults."""

    size: int = 5
    max_overflow: int = 10


def make_engine(
    url: str,
    *,
    foreign_keys: bool = True,
    timeouts: PgTimeouts | None = None,
    sqlite_busy_timeout: float = SQLITE_BUSY_TIMEOUT_S,
    pool: PgPool | None = None,
    sqlite_pool_timeout: float = SQLITE_POOL_TIMEOUT_S,
) -> AsyncEngine:
    """An async engine; on SQLite with WAL, a busy timeout and real BEGIN/SAVEPOINT semantics.

    `sqlite_pool_timeout`: how long a unit waits for one of SQLite's pooled connections (5, and
    10 more at a busy moment) before the person hears "temporarily unavailable" (PRODUCT §3).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        pg = timeouts or PgTimeouts()
        connect_args: dict[str, Any] = {}
        if parsed.get_driver_name() == "asyncpg":
            connect_args["timeout"] = pg.connect
            connect_args["command_timeout"] = pg.command
            if pg.statement is not None:
                milliseconds = max(1, round(pg.statement * 1000))
                connect_args["server_settings"] = {"statement_timeout": str(milliseconds)}
        sizes = pool or PgPool()
        # No pre-ping (a round trip per check-out): a connection the server closed is known to
        # the driver and replaced at check-out, and one that dies in use is a disconnect, which
        # invalidates the pool (RELIABILITY §6), so the next unit connects afresh.
        pg_engine = create_async_engine(
            parsed,
            pool_size=sizes.size,
            max_overflow=sizes.max_overflow,
            pool_timeout=pg.pool,
            connect_args=connect_args,
        )
        event.listen(pg_engine.sync_engine, "checkout", _closed_is_replaced)
        return pg_engine
    engine = create_async_engine(parsed, pool_timeout=sqlite_pool_timeout)
    _tune_sqlite(engine, parsed, foreign_keys=foreign_keys, busy_timeout=sqlite_busy_timeout)
    return engine


def _closed_is_replaced(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection whose server went away (a restart) is replaced, without a query."""
    driver = getattr(dbapi_connection, "_connection", None)
    is_closed = getattr(driver, "is_closed", None)
    if callable(is_closed) and is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _tune_sqlite(engine: AsyncEngine, url: URL, *, foreign_keys: bool, busy_timeout: float) -> None:
    folder = _sqlite_folder(url)

    @event.listens_for(engine.sync_engine, "do_connect")
    def make_folder(*_: Any) -> None:
        # Here rather than at construction: building a Database does no I/O.
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own BEGIN handling skips SELECT and SAVEPOINT; we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: sa.Connection) -> None:
        readonly = bool(conn.get_execution_options().get(READONLY))
        info = conn.connection.info
        if info.get("query_only") is not readonly:
            # A reader cannot write by mistake: a write would need the lock it never took.
            conn.exec_driver_sql(f"PRAGMA query_only = {'ON' if readonly else 'OFF'}")
            info["query_only"] = readonly
        # A reader begins DEFERRED: in WAL it reads its snapshot and takes no lock, so readers
        # never queue behind writers. A writer begins IMMEDIATE, taking the write lock up front:
        # two writers queue on busy_timeout instead of one failing on a stale snapshot, so a
        # racing bind sees AddressTaken (PRODUCT §3).
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _sqlite_folder(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).parent


class Database:
    """Owns the engine; hands out units of work."""

    def __init__(
        self,
        url: str,
        *,
        timeouts: PgTimeouts | None = None,
        sqlite_busy_timeout: float = SQLITE_BUSY_TIMEOUT_S,
        pool: PgPool | None = None,
        sqlite_pool_timeout: float = SQLITE_POOL_TIMEOUT_S,
    ) -> None:
        self.timeouts = timeouts  # PostgreSQL only; kept so a replacement engine gets them too
        self.pool = pool
        self.sqlite_busy_timeout = sqlite_busy_timeout
        self.engine = make_engine(
            url,
            timeouts=timeouts,
            sqlite_busy_timeout=sqlite_busy_timeout,
            pool=pool,
            sqlite_pool_timeout=sqlite_pool_timeout,
        )
        # SQLite has one writer at a time: this process's writers wait for it in order.
        sqlite = make_url(url).get_backend_name() == "sqlite"
        self._writers = WriterLine(sqlite_busy_timeout) if sqlite else None

    def uow(self) -> UnitOfWork:
        """A unit of work that may write; inside an update's scope, the update's own."""
        scope = self._scope()
        if scope is not None:
            return ScopedUnitOfWork(scope)
        return SqlUnitOfWork(self.engine, writers=self._writers)

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads: on SQLite it takes no write lock."""
        scope = self._scope()
        if scope is not None:
            return ScopedUnitOfWork(scope, readonly=True)
        return SqlUnitOfWork(self.engine, readonly=True)

    def _scope(self) -> UpdateScope | None:
        scope = CURRENT_SCOPE.get()
        if scope is None or scope.database is not self or not scope.usable():
            return None
        return scope

    @asynccontextmanager
    async def scope(self) -> AsyncIterator[None]:
        """The units of work opened inside (in this task) share one connection and, until a
        writer commits, one transaction: an update's database work (see `UpdateScope`)."""
        scope = UpdateScope(self, lambda: self.engine, self._writers)
        token = CURRENT_SCOPE.set(scope)
        try:
            yield
        finally:
            CURRENT_SCOPE.reset(token)
            await scope.drop()

    async def park(self) -> None:
        """The current update waits on the outside world: its idle connection goes back."""
        scope = CURRENT_SCOPE.get()
        if scope is not None and scope.database is self and scope.usable():
            await scope.park()

    async def ping(self) -> None:
        """Raise `Unavailable` unless the database answers a trivial query."""
        try:
            async with self.engine.connect() as conn:
                await conn.execution_options(**{READONLY: True})  # no write lock on SQLite
                await conn.execute(sa.text("SELECT 1"))
        except CONNECTIVITY_ERRORS as exc:
            raise Unavailable() from exc

    async def dispose(self) -> None:
        await self.engine.dispose()
