"""The SQL repositories behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from core.adapters.db import Database
from core.adapters.db.migrate import upgrade
from core.domain.models import AddressKind, AuditEvent, BindingStatus, SocialIdentity
from core.errors import AddressTaken
from core.ports import UnitOfWorkFactory

EMAIL, PHONE = AddressKind.EMAIL, AddressKind.PHONE
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
BACKENDS = ["sqlite", "postgresql"]


def url_for(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated-to-be database of the fixture's backend: a SQLite file or a fresh PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/data/accounts.sqlite3"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return url_for(request, tmp_path)


@asynccontextmanager
async def migrated(url: str) -> AsyncIterator[Database]:
    """The database at `url`, upgraded to the newest revision, disposed of afterwards."""
    await upgrade(url)
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        yield database


async def new_accounts(db: Database, count: int) -> list[int]:
    units: UnitOfWorkFactory = db.uow  # mypy proves the adapter fits the port
    async with units() as uow:
        ids = [(await uow.accounts.add(f"Person {n}", None, NOW)).id for n in range(count)]
        await uow.commit()
    return ids


async def test_a_new_account_is_found_with_its_name_and_locale(db: Database) -> None:
    async with db.uow() as uow:
        created = await uow.accounts.add("Anna", "ru", NOW)
        await uow.accounts.set_locale(created.id, "en")
        await uow.accounts.accept_terms(created.id, "https://example.org/terms", NOW)
        await uow.commit()
    async with db.uow() as uow:
        found = await uow.accounts.get(created.id)
        missing = await uow.accounts.get(created.id + 1000)
    assert found is not None
    assert (found.name, found.locale, found.terms_accepted_at) == ("Anna", "en", NOW)
    assert missing is None


async def test_nothing_is_written_when_the_unit_of_work_is_not_committed(db: Database) -> None:
    async with db.uow() as uow:
        created = await uow.accounts.add("Ghost", None, NOW)
    async with db.uow() as uow:
        assert await uow.accounts.get(created.id) is None


async def test_an_error_inside_the_unit_of_work_writes_nothing(db: Database) -> None:
    async def failing_flow() -> int:
        async with db.uow() as uow:
            await uow.accounts.add("Ghost", None, NOW)
            raise RuntimeError("the flow failed half way")

    with pytest.raises(RuntimeError):
        await failing_flow()
    async with db.uow() as uow:
        assert await uow.accounts.get(1) is None


async def test_a_social_identity_is_unique_by_provider_and_subject(db: Database) -> None:
    (first, second) = await new_accounts(db, 2)
    identity = SocialIdentity(first, "google", "sub-1", "a@example.org", True, NOW)
    async with db.uow() as uow:
        await uow.identities.add(identity)
        await uow.identities.update_email("google", "sub-1", "b@example.org", False)
        await uow.commit()
    async with db.uow() as uow:
        found = await uow.identities.find("google", "sub-1")
        listed = await uow.identities.for_account(first)
        with pytest.raises(IntegrityError):
            await uow.identities.add(SocialIdentity(second, "google", "sub-1", None, False, NOW))
    assert found is not None
    assert (found.account_id, found.email, found.email_verified) == (first, "b@example.org", False)
    assert listed == [found]


async def test_a_new_pending_address_replaces_the_previous_one(db: Database) -> None:
    (account,) = await new_accounts(db, 1)
    async with db.uow() as uow:
        await uow.bindings.set_pending(account, EMAIL, "old@example.org", NOW, NOW)
        await uow.bindings.set_pending(account, EMAIL, "new@example.org", NOW, NOW)
        await uow.bindings.set_pending(account, PHONE, "+15550001111", NOW, NOW)
        await uow.commit()
    async with db.uow() as uow:
        rows = await uow.bindings.for_account(account)
    assert [(b.kind, b.address, b.status) for b in rows] == [
        (EMAIL, "new@example.org", BindingStatus.PENDING),
        (PHONE, "+15550001111", BindingStatus.PENDING),
    ]
    assert rows[0].expires_at == NOW


async def test_confirming_replaces_the_old_address_and_clears_the_pending_one(
    db: Database,
) -> None:
    (account,) = await new_accounts(db, 1)
    later = NOW + timedelta(hours=1)
    async with db.uow() as uow:
        await uow.bindings.confirm(account, EMAIL, "old@example.org", NOW)
        await uow.bindings.set_pending(account, EMAIL, "new@example.org", later, NOW)
        await uow.bindings.confirm(account, EMAIL, "new@example.org", later)
        await uow.commit()
    async with db.uow() as uow:
        rows = await uow.bindings.for_account(account)
        old_owner = await uow.bindings.owner(EMAIL, "old@example.org")
        new_owner = await uow.bindings.owner(EMAIL, "new@example.org")
    assert [(b.address, b.confirmed, b.confirmed_at) for b in rows] == [
        ("new@example.org", True, later)
    ]
    assert (old_owner, new_owner) == (None, account)


async def test_confirming_the_same_address_again_keeps_the_first_confirmation(
    db: Database,
) -> None:
    (account,) = await new_accounts(db, 1)
    async with db.uow() as uow:
        await uow.bindings.confirm(account, PHONE, "+15550001111", NOW)
        await uow.bindings.confirm(account, PHONE, "+15550001111", NOW + timedelta(days=1))
        await uow.commit()
    async with db.uow() as uow:
        (row,) = await uow.bindings.for_account(account)
    assert row.confirmed_at == NOW


async def test_an_address_confirmed_elsewhere_is_taken_and_other_work_still_commits(
    db: Database,
) -> None:
    owner, other = await new_accounts(db, 2)
    async with db.uow() as uow:
        await uow.bindings.confirm(owner, EMAIL, "shared@example.org", NOW)
        await uow.commit()
    async with db.uow() as uow:
        await uow.bindings.confirm(other, EMAIL, "mine@example.org", NOW)
        with pytest.raises(AddressTaken) as taken:
            await uow.bindings.confirm(other, EMAIL, "shared@example.org", NOW)
        await uow.accounts.set_locale(other, "en")
        await uow.commit()
    assert (taken.value.kind, taken.value.address) == ("email", "shared@example.org")
    async with db.uow() as uow:
        assert await uow.bindings.owner(EMAIL, "shared@example.org") == owner
        assert [b.address for b in await uow.bindings.for_account(other)] == ["mine@example.org"]
        account = await uow.accounts.get(other)
    assert account is not None
    assert account.locale == "en"


async def test_removing_a_binding_leaves_the_other_status_alone(db: Database) -> None:
    (account,) = await new_accounts(db, 1)
    async with db.uow() as uow:
        await uow.bindings.confirm(account, EMAIL, "kept@example.org", NOW)
        await uow.bindings.set_pending(account, EMAIL, "next@example.org", NOW, NOW)
        await uow.bindings.remove(account, EMAIL, pending=True)
        await uow.commit()
    async with db.uow() as uow:
        assert [b.address for b in await uow.bindings.for_account(account)] == ["kept@example.org"]
        await uow.bindings.remove(account, EMAIL)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.bindings.for_account(account) == []
        assert await uow.bindings.owner(EMAIL, "kept@example.org") is None


async def test_a_binding_needs_an_existing_account(db: Database) -> None:
    async with db.uow() as uow:
        with pytest.raises(IntegrityError):
            await uow.bindings.set_pending(4242, EMAIL, "nobody@example.org", NOW, NOW)


async def test_a_password_hash_is_set_replaced_and_removed(db: Database) -> None:
    (account,) = await new_accounts(db, 1)
    async with db.uow() as uow:
        await uow.passwords.set(account, "$argon2id$first", NOW)
        await uow.passwords.set(account, "$argon2id$second", NOW)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.passwords.get(account) == "$argon2id$second"
        await uow.passwords.remove(account)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.passwords.get(account) is None


async def test_a_telegram_user_moves_between_accounts(db: Database) -> None:
    first, second = await new_accounts(db, 2)
    big_id = 7_000_000_000  # Telegram ids exceed 32 bits
    async with db.uow() as uow:
        await uow.telegram.link(big_id, first, NOW)
        await uow.telegram.link(big_id, second, NOW)
        await uow.telegram.link(42, second, NOW)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.telegram.account_for(big_id) == second
        assert sorted(await uow.telegram.users_of(second)) == [42, big_id]
        assert await uow.telegram.users_of(first) == []
        await uow.telegram.unlink(42)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.telegram.account_for(42) is None


async def test_a_new_address_updates_the_contacts_of_every_membership(db: Database) -> None:
    member, bystander = await new_accounts(db, 2)
    async with db.uow() as uow:
        shop = await uow.workspaces.create("shop", "The shop")
        desk = await uow.workspaces.create("desk", "Help desk")
        await uow.workspaces.add_member(shop.id, member, "old@example.org", None)
        await uow.workspaces.add_member(desk.id, member, None, None)
        await uow.workspaces.add_member(desk.id, bystander, "b@example.org", None)
        changed = await uow.workspaces.update_contacts(member, EMAIL, "new@example.org")
        await uow.workspaces.update_contacts(member, PHONE, "+15550001111")
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.workspaces.get("shop") == shop
        assert await uow.workspaces.get("none") is None
        assert await uow.workspaces.all() == [desk, shop]
        mine = await uow.workspaces.memberships(member)
        theirs = await uow.workspaces.memberships(bystander)
        await uow.workspaces.remove_member(shop.id, member)
        await uow.commit()
    assert changed == 2
    assert [(m.workspace.slug, m.contact_email, m.contact_phone) for m in mine] == [
        ("desk", "new@example.org", "+15550001111"),
        ("shop", "new@example.org", "+15550001111"),
    ]
    assert [m.contact_email for m in theirs] == ["b@example.org"]
    async with db.uow() as uow:
        assert [m.workspace for m in await uow.workspaces.memberships(member)] == [desk]


async def test_audit_events_come_back_newest_first(db: Database) -> None:
    (account,) = await new_accounts(db, 1)
    events = [
        AuditEvent("email.bound", account, NOW, "telegram:1", {"email": "a***@example.org"}),
        AuditEvent("password.set", account, NOW + timedelta(minutes=1), "web"),
        AuditEvent("system.note", None, NOW, "system"),
    ]
    async with db.uow() as uow:
        for event in events:
            await uow.audit.record(event)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.audit.for_account(account) == [events[1], events[0]]
        assert await uow.audit.for_account(account, limit=1) == [events[1]]


async def test_times_come_back_as_the_same_instant_in_utc(db: Database) -> None:
    moscow = datetime(2026, 3, 1, 15, 30, 5, 123456, tzinfo=timezone(timedelta(hours=3)))
    async with db.uow() as uow:
        created = await uow.accounts.add("Zoned", None, moscow)
        await uow.commit()
    async with db.uow() as uow:
        found = await uow.accounts.get(created.id)
    assert found is not None
    assert found.created_at == moscow
    assert found.created_at.utcoffset() == timedelta(0)


async def test_a_naive_time_is_refused(db: Database) -> None:
    async with db.uow() as uow:
        with pytest.raises(Exception, match="naive datetime"):
            await uow.accounts.add("Naive", None, datetime(2026, 1, 1))


async def test_the_database_answers_a_ping(db: Database) -> None:
    await db.ping()
