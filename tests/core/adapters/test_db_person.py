"""Who is writing, with the card's rows, in one SELECT; an update's later reads served from it.

`TelegramLinkRepository.person` reads the account a Telegram user is signed in to with its
identities, bindings and password in one statement; inside an update's scope the units that
follow in the same read transaction get those rows without asking the database again, until a
writer begins or the connection is parked (issue #13). On SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from core.adapters.db import Database
from core.domain.models import AddressKind, BindingStatus, SocialIdentity
from core.ports import UnitOfWorkFactory
from tests.core.adapters.test_db import BACKENDS, migrated, url_for

EMAIL, PHONE = AddressKind.EMAIL, AddressKind.PHONE
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TELEGRAM = 1001


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return url_for(request, tmp_path)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        yield database


@contextmanager
def selects(db: Database) -> Iterator[Counter[str]]:
    """The statements the database is asked, by their first word, while inside."""
    seen: Counter[str] = Counter()

    def statement(_conn: Any, _cursor: Any, text: str, *_: Any) -> None:
        seen[text.split(None, 1)[0].upper()] += 1

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)


async def person_with_everything(db: Database) -> int:
    """An account with two identities, an email (confirmed and pending), a phone, a password."""
    units: UnitOfWorkFactory = db.uow
    async with units() as uow:
        account = await uow.accounts.add("Ivan", "ru", NOW)
        for provider in ("dev", "github"):
            await uow.identities.add(
                SocialIdentity(account.id, provider, f"{provider}-1", "i@example.com", True, NOW)
            )
        await uow.bindings.confirm(account.id, EMAIL, "ivan@example.com", NOW)
        await uow.bindings.set_pending(
            account.id, EMAIL, "new@example.com", NOW + timedelta(hours=1), NOW
        )
        await uow.bindings.confirm(account.id, PHONE, "+79990000000", NOW)
        await uow.passwords.set(account.id, "$argon2id$stand-in", NOW)
        await uow.telegram.link(TELEGRAM, account.id, NOW)
        await uow.commit()
    return account.id


async def test_person_is_the_account_with_its_card_rows_in_one_select(db: Database) -> None:
    account_id = await person_with_everything(db)
    with selects(db) as seen:
        async with db.reader() as uow:
            found = await uow.telegram.person(TELEGRAM)
    assert seen["SELECT"] == 1, seen
    assert found is not None
    assert (found.account.id, found.account.name, found.account.locale) == (
        account_id,
        "Ivan",
        "ru",
    )
    assert [i.provider for i in found.identities] == ["dev", "github"]
    # The same rows, in the same order, as the repositories read one by one.
    async with db.reader() as uow:
        assert list(found.identities) == await uow.identities.for_account(account_id)
        assert list(found.bindings) == await uow.bindings.for_account(account_id)
    assert [(b.kind, b.status) for b in found.bindings] == [
        (EMAIL, BindingStatus.CONFIRMED),
        (EMAIL, BindingStatus.PENDING),
        (PHONE, BindingStatus.CONFIRMED),
    ]
    assert found.has_password


async def test_person_without_rows_or_a_link(db: Database) -> None:
    async with db.uow() as uow:
        account = await uow.accounts.add("Anna", None, NOW)
        await uow.telegram.link(TELEGRAM, account.id, NOW)
        await uow.commit()
    async with db.reader() as uow:
        found = await uow.telegram.person(TELEGRAM)
        nobody = await uow.telegram.person(TELEGRAM + 1)
    assert found is not None and nobody is None
    assert (found.identities, found.bindings, found.has_password) == ((), (), False)


async def test_an_erased_account_is_nobody(db: Database) -> None:
    account_id = await person_with_everything(db)
    async with db.uow() as uow:
        await uow.telegram.link(TELEGRAM + 1, account_id, NOW)
        await uow.accounts.erase(account_id, NOW)  # its links go with it
        await uow.telegram.link(TELEGRAM, account_id, NOW)  # a link to the tombstone, say
        await uow.commit()
    async with db.reader() as uow:
        assert await uow.telegram.person(TELEGRAM) is None


async def test_the_update_after_person_reads_those_rows_no_more(db: Database) -> None:
    """The card's reads after `Person`, in the same read transaction, ask the database nothing;
    a writer reads the database itself, and the update's reads after it ask again."""
    account_id = await person_with_everything(db)
    async with db.scope():
        async with db.reader() as uow:
            assert await uow.telegram.person(TELEGRAM) is not None
        with selects(db) as seen:
            async with db.reader() as uow:
                assert await uow.telegram.account_for(TELEGRAM) == account_id
                assert await uow.accounts.get(account_id) is not None
                assert len(await uow.identities.for_account(account_id)) == 2
                assert len(await uow.bindings.for_account(account_id)) == 3
                assert await uow.passwords.get(account_id) == "$argon2id$stand-in"
                # An address's owner is read once, then remembered too.
                assert await uow.bindings.owner(EMAIL, "ivan@example.com") == account_id
                assert await uow.bindings.owner(EMAIL, "ivan@example.com") == account_id
        assert seen["SELECT"] == 1 and seen.total() == 1, seen

        async with db.uow() as uow:  # a writer: the database itself, not what was seen
            assert await uow.passwords.get(account_id) == "$argon2id$stand-in"
            await uow.passwords.remove(account_id)
            await uow.bindings.remove(account_id, EMAIL)
            await uow.commit()
        with selects(db) as seen:
            async with db.reader() as uow:
                assert await uow.passwords.get(account_id) is None
                assert len(await uow.bindings.for_account(account_id)) == 2
                assert await uow.bindings.owner(EMAIL, "ivan@example.com") is None
        assert seen["SELECT"] == 3, seen


async def test_a_parked_update_reads_afresh(db: Database) -> None:
    """Parked (a call to Telegram, a letter), the transaction ends: what was seen is forgotten,
    so another instance's change meanwhile is read."""
    account_id = await person_with_everything(db)
    async with db.scope():
        async with db.reader() as uow:
            found = await uow.telegram.person(TELEGRAM)
            assert found is not None and found.account.locale == "ru"
        await db.park()
        other = Database(str(db.engine.url.render_as_string(hide_password=False)))
        try:
            async with other.uow() as uow:  # outside this update's scope: another instance
                await uow.accounts.set_locale(account_id, "en")
                await uow.commit()
        finally:
            await other.dispose()
        async with db.reader() as uow:
            account = await uow.accounts.get(account_id)
        assert account is not None and account.locale == "en"


async def test_identities_from_the_memo_are_a_copy(db: Database) -> None:
    account_id = await person_with_everything(db)
    async with db.scope():
        async with db.reader() as uow:
            await uow.telegram.person(TELEGRAM)
            first = await uow.identities.for_account(account_id)
            first.clear()
            assert len(await uow.identities.for_account(account_id)) == 2
            bindings = await uow.bindings.for_account(account_id)
            bindings.clear()
            assert len(await uow.bindings.for_account(account_id)) == 3
