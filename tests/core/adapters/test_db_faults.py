"""Races and outages: one address for fifty accounts at once, and a database that is not there."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from core.adapters.db import Database
from core.domain.models import AddressKind
from core.errors import AddressTaken, Unavailable
from tests.core.adapters.test_db import BACKENDS, NOW, migrated, new_accounts, url_for
from tests.ports import free_port


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return url_for(request, tmp_path)


@pytest.fixture
async def racing_db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        yield database


async def test_of_fifty_accounts_binding_one_address_at_once_exactly_one_wins(
    racing_db: Database,
) -> None:
    async with racing_db.uow() as uow:
        ids = [(await uow.accounts.add(f"P{n}", None, NOW)).id for n in range(50)]
        await uow.commit()

    async def bind(account_id: int) -> str:
        async with racing_db.uow() as uow:
            await uow.accounts.lock(account_id)
            try:
                await uow.bindings.confirm(account_id, AddressKind.EMAIL, "one@example.org", NOW)
            except AddressTaken:
                return "taken"
            await uow.commit()
            return "won"

    outcomes = await asyncio.gather(*(bind(account_id) for account_id in ids))

    assert sorted(outcomes) == ["taken"] * 49 + ["won"]
    async with racing_db.uow() as uow:
        winner = await uow.bindings.owner(AddressKind.EMAIL, "one@example.org")
    assert winner == ids[outcomes.index("won")]


# PostgreSQL runs this on its side: it waits until some transaction waits on a lock another holds
# (PostgreSQL tells nobody when a lock is awaited, so it looks every 10 ms), at most 30 s.
UNTIL_A_LOCK_IS_AWAITED = """
DO $$
BEGIN
  FOR i IN 1..3000 LOOP
    IF EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted) THEN RETURN; END IF;
    PERFORM pg_sleep(0.01);
  END LOOP;
  RAISE EXCEPTION 'no transaction waited for a lock';
END $$
"""


async def wait_until_a_lock_is_awaited(db: Database) -> None:
    """Return once some transaction waits on a lock held by another (checked by the server)."""
    async with db.engine.connect() as conn:
        await conn.execute(sa.text(UNTIL_A_LOCK_IS_AWAITED))


async def test_the_loser_of_a_race_in_flight_gets_address_taken_and_can_still_commit(
    pg_url: str,
) -> None:
    async with migrated(pg_url) as db:
        async with db.uow() as uow:
            first, second = [(await uow.accounts.add(n, None, NOW)).id for n in ("A", "B")]
            await uow.commit()
        async with db.uow() as winner, db.uow() as loser:
            await winner.bindings.confirm(first, AddressKind.PHONE, "+15550001111", NOW)
            # The loser checks before the winner commits, then waits on the unique index.
            racing = asyncio.create_task(
                loser.bindings.confirm(second, AddressKind.PHONE, "+15550001111", NOW)
            )
            await wait_until_a_lock_is_awaited(db)
            await winner.commit()
            with pytest.raises(AddressTaken):
                await racing
            await loser.accounts.set_locale(second, "en")
            await loser.commit()
        async with db.uow() as uow:
            account = await uow.accounts.get(second)
            owner = await uow.bindings.owner(AddressKind.PHONE, "+15550001111")
        assert (owner, account and account.locale) == (first, "en")


async def test_a_second_flow_on_a_locked_account_waits_and_sees_the_first_ones_changes(
    pg_url: str,
) -> None:
    async with migrated(pg_url) as db:
        (account,) = await new_accounts(db, 1)

        async def second_flow() -> str | None:
            async with db.uow() as uow:
                await uow.accounts.lock(account)
                found = await uow.accounts.get(account)
            return found.locale if found else None

        async with db.uow() as first:
            await first.accounts.lock(account)
            second = asyncio.create_task(second_flow())
            await wait_until_a_lock_is_awaited(db)
            await first.accounts.set_locale(account, "en")
            await first.commit()
        assert await second == "en"


async def test_a_database_that_is_down_is_reported_unavailable() -> None:
    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/accounts")
    try:
        with pytest.raises(Unavailable):
            async with db.uow():
                pass
        with pytest.raises(Unavailable):
            await db.ping()
    finally:
        await db.dispose()


async def test_a_connection_lost_mid_flow_is_unavailable_and_the_next_flow_recovers(
    pg_url: str,
) -> None:
    kill_others = sa.text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )

    async def flow_cut_short(db: Database, account: int) -> None:
        async with db.uow() as uow:
            await uow.accounts.set_locale(account, "en")
            async with db.engine.connect() as admin:
                await admin.execute(kill_others)
            await uow.accounts.get(account)

    async with migrated(pg_url) as db:
        (account,) = await new_accounts(db, 1)
        with pytest.raises(Unavailable):
            await flow_cut_short(db, account)
        async with db.uow() as uow:
            found = await uow.accounts.get(account)
    assert found is not None
    assert found.locale is None  # the half-done flow wrote nothing


async def test_an_unreachable_sqlite_file_is_reported_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    db = Database(f"sqlite+aiosqlite:///{blocker}/accounts.sqlite3")
    try:
        with pytest.raises(Unavailable):
            async with db.uow():
                pass
    finally:
        await db.dispose()


async def test_the_sqlite_folder_is_made_on_first_use_not_before(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "data"
    db = Database(f"sqlite+aiosqlite:///{folder}/accounts.sqlite3")
    assert not folder.exists()
    try:
        await db.ping()
    finally:
        await db.dispose()
    assert (folder / "accounts.sqlite3").exists()


async def test_a_pooled_connection_the_server_closed_is_replaced_without_a_ping(
    pg_url: str,
) -> None:
    """A database restart while the bot is idle: the next unit works, on a new connection.

    There is no pre-ping (a round trip on every check-out): the driver knows the server closed
    the connection, and the pool replaces it at check-out (RELIABILITY §6)."""
    others = " FROM pg_stat_activity WHERE datname = current_database()"
    others += " AND pid <> pg_backend_pid()"
    async with migrated(pg_url) as db:
        (account,) = await new_accounts(db, 1)
        async with db.reader() as uow:  # the pool keeps this connection, idle
            await uow.accounts.get(account)
            driver = (await uow.connection.get_raw_connection()).driver_connection
        assert driver is not None
        closed = asyncio.Event()
        driver.add_termination_listener(lambda _connection: closed.set())
        admin = Database(pg_url)
        try:
            async with admin.engine.connect() as conn:
                await conn.execute(sa.text("SELECT pg_terminate_backend(pid)" + others))
                while (await conn.execute(sa.text("SELECT count(*)" + others))).scalar_one():
                    await conn.commit()  # a fresh look: until the server closed all the others
        finally:
            await admin.dispose()
        # Idle means the driver has read the server's goodbye too: until it has, its connection
        # is mid-message and the first statement fails (a check-out in that instant, once).
        async with asyncio.timeout(30):  # only a hang reaches this
            await closed.wait()
        assert driver.is_closed()

        dialect = db.engine.dialect
        pings: list[object] = []
        ping = dialect.do_ping

        def counted_ping(dbapi_connection: Any) -> bool:
            pings.append(dbapi_connection)
            return ping(dbapi_connection)

        dialect.do_ping = counted_ping  # type: ignore[method-assign]
        async with db.reader() as uow:
            found = await uow.accounts.get(account)
    assert found is not None
    assert pings == []
