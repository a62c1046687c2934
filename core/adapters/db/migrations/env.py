"""Alembic's entry point: runs the revisions on the connection `core.adapters.db.migrate` gives.

Run by Alembic itself, not imported by the application; it also works from the `alembic` command
line with `sqlalchemy.url` set, opening its own async engine.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

from core.adapters.db.engine import make_engine
from core.adapters.db.tables import metadata

# Any fixed number; it names the lock that two `accountbot migrate` started at once share.
MIGRATION_LOCK = 0x6163636F756E74


def run_on(connection: Connection) -> None:
    """Run the pending revisions on an open synchronous connection."""
    if connection.dialect.name == "postgresql":
        # Held until the migration's transaction ends; the second runner then finds nothing to do.
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    engine = make_engine(url, foreign_keys=False)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run_on)
    finally:
        await engine.dispose()


def main() -> None:
    config = context.config
    if context.is_offline_mode():
        url = config.get_main_option("sqlalchemy.url")
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    asyncio.run(run_with_own_engine(url))


main()
