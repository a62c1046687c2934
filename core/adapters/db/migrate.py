"""Alembic driven from code: upgrade, downgrade and inspect the schema of a database URL.

Alembic keeps its running context process-wide: await one of these at a time per process.
Separate processes may run at once; on PostgreSQL an advisory lock queues them (see env.py).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from core.adapters.db.engine import make_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection: Connection | None = None) -> Config:
    # No alembic.ini: everything Alembic needs is known here.
    config = Config(attributes={"connection": connection} if connection is not None else {})
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def _run(url: str, action: str, revision: str) -> None:
    # Foreign keys off on SQLite: batch migrations rebuild tables that others refer to.
    engine = make_engine(url, foreign_keys=False)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run_sync, action, revision)
    finally:
        await engine.dispose()


def _run_sync(connection: Connection, action: str, revision: str) -> None:
    config = _config(connection)
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply the revisions up to `revision`; applying them again changes nothing."""
    await _run(url, "upgrade", revision)


async def downgrade(url: str, revision: str) -> None:
    """Undo the revisions above `revision` ("base" undoes them all)."""
    await _run(url, "downgrade", revision)


def revisions() -> list[str]:
    """Every revision id, from the first (base) to the newest (head)."""
    script = ScriptDirectory.from_config(_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def current(url: str) -> str | None:
    """The revision the database is at, or None before the first upgrade."""
    engine = make_engine(url, foreign_keys=False)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current_sync)
    finally:
        await engine.dispose()


def _current_sync(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
