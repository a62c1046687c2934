"""The Alembic revisions build exactly `tables.py`, go down cleanly, and are idempotent."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.adapters.db.engine import make_engine
from core.adapters.db.migrate import current, downgrade, revisions, upgrade
from core.adapters.db.tables import metadata
from tests.core.adapters.test_db import BACKENDS, url_for

T = TypeVar("T")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return url_for(request, tmp_path)


async def inspect(url: str, read: Callable[[sa.Connection], T]) -> T:
    """Run `read` on a synchronous connection to the database at `url`."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    names = await inspect(url, lambda sync: sa.inspect(sync).get_table_names())
    return set(names) - {"alembic_version"}


def partial_index_predicates(sync: sa.Connection) -> dict[str, str]:
    return {
        index["name"] or "": str(option)
        for index in sa.inspect(sync).get_indexes("bindings")
        for key, option in index.get("dialect_options", {}).items()
        if key.endswith("_where")
    }


def schema_differences(sync: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(sync, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def test_revisions_run_from_the_first_to_the_newest() -> None:
    ids = revisions()
    assert ids[0] == "0001"
    assert len(ids) == len(set(ids))


async def test_every_revision_goes_up_and_back_down_step_by_step(db_url: str) -> None:
    assert await current(db_url) is None
    ids = revisions()
    for revision in ids:
        await upgrade(db_url, revision)
        assert await current(db_url) == revision
    for below in [*reversed(ids[:-1]), None]:
        await downgrade(db_url, below or "base")
        assert await current(db_url) == below
    assert await table_names(db_url) == set()


async def test_upgrading_twice_changes_nothing(db_url: str) -> None:
    await upgrade(db_url)
    await upgrade(db_url)
    assert await current(db_url) == revisions()[-1]
    assert await table_names(db_url) == set(metadata.tables)


async def test_the_migrated_schema_matches_the_tables(db_url: str) -> None:
    await upgrade(db_url)
    assert await inspect(db_url, schema_differences) == []


async def test_one_confirmed_address_per_kind_is_enforced_by_partial_indexes(db_url: str) -> None:
    # compare_metadata does not look at WHERE clauses, so check them on their own.
    await upgrade(db_url)
    predicates = await inspect(db_url, partial_index_predicates)
    assert sorted(predicates) == [
        "uq_bindings_confirmed_address",
        "uq_bindings_confirmed_kind",
        "uq_bindings_pending_kind",
    ]
    assert "'confirmed'" in predicates["uq_bindings_confirmed_address"]
    assert "'pending'" in predicates["uq_bindings_pending_kind"]


async def test_two_migrate_processes_started_at_once_both_succeed(pg_url: str) -> None:
    # PostgreSQL: an advisory lock queues them (SQLite's BEGIN IMMEDIATE needs no test of ours).
    # Separate processes: Alembic's `context` is process-wide, so one process runs one at a time.
    script = "import asyncio, sys; from core.adapters.db.migrate import upgrade; "
    script += "asyncio.run(upgrade(sys.argv[1]))"
    runs = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", script, pg_url) for _ in range(2)
    ]
    assert [await run.wait() for run in runs] == [0, 0]
    assert await current(pg_url) == revisions()[-1]
