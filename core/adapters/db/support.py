"""The support handoff's store over SQL: each call is its own short unit of work."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.adapters.db.repositories import upsert
from core.adapters.db.tables import support_handoffs, support_messages, support_topics
from core.support_ports import Handoff, NewHandoff, Relayed

if TYPE_CHECKING:
    from core.adapters.db.engine import Database

OPEN = support_handoffs.c.closed_at.is_(None)


def _handoff(row: RowMapping) -> Handoff:
    return Handoff(
        id=row["id"],
        telegram_user_id=row["telegram_user_id"],
        account_id=row["account_id"],
        reason=row["reason"],
        saved_state=row["saved_state"],
        saved_data=dict(row["saved_data"] or {}),
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
    )


def _relayed(row: RowMapping) -> Relayed:
    return Relayed(row["telegram_user_id"], row["person_message_id"], row["group_message_id"])


class SqlSupportStore:
    """Implements `core.support_ports.SupportStore` on the product's database.

    Through the database's units of work, like every other store: on SQLite a read takes no
    write lock and a write waits in this process's line of writers (PRODUCT §2). On the engine
    directly, every read began IMMEDIATE and every write raced the bot's writers on SQLite's
    busy timeout, and a relay under load lost the person's message ("database is locked").
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    async def _run(self, work: Any, *args: Any) -> Any:
        """`work(conn, *args)` in a unit that may write, committed when it returns."""
        async with self._database.uow() as uow:
            result = await work(cast(Any, uow).connection, *args)
            await uow.commit()
        return result

    async def _read(self, work: Any) -> Any:
        async with self._database.reader() as uow:
            return await work(cast(Any, uow).connection)

    async def open(self, new: NewHandoff, now: datetime) -> tuple[Handoff, bool]:
        async def insert(conn: AsyncConnection) -> None:
            values = {**asdict(new), "saved_data": dict(new.saved_data), "opened_at": now}
            await conn.execute(support_handoffs.insert().values(**values))

        found = await self.current(new.telegram_user_id)
        if found is not None:
            return found, False
        created = True
        try:
            await self._run(insert)
        except IntegrityError:  # another instance opened it a moment ago: theirs stands
            created = False
        opened = await self.current(new.telegram_user_id)
        assert opened is not None
        return opened, created

    async def current(self, telegram_user_id: int) -> Handoff | None:
        query = support_handoffs.select().where(
            support_handoffs.c.telegram_user_id == telegram_user_id, OPEN
        )
        found: Handoff | None = await self._one(query, _handoff)
        return found

    async def last(self, telegram_user_id: int) -> Handoff | None:
        query = (
            support_handoffs.select()
            .where(support_handoffs.c.telegram_user_id == telegram_user_id)
            .order_by(support_handoffs.c.id.desc())
            .limit(1)
        )
        found: Handoff | None = await self._one(query, _handoff)
        return found

    async def close(self, telegram_user_id: int, now: datetime) -> Handoff | None:
        async def update(conn: AsyncConnection) -> Handoff | None:
            query = support_handoffs.select().where(
                support_handoffs.c.telegram_user_id == telegram_user_id, OPEN
            )
            row = (await conn.execute(query)).mappings().first()
            if row is None:
                return None
            closed = await conn.execute(
                support_handoffs.update()
                .where(support_handoffs.c.id == row["id"], OPEN)
                .values(closed_at=now)
            )
            # Two agents closing at once: only the one that changed the row resumes the person.
            return _handoff(row) if closed.rowcount == 1 else None

        result: Handoff | None = await self._run(update)
        return result

    async def topic(self, chat_id: int, telegram_user_id: int) -> int | None:
        query = sa.select(support_topics.c.thread_id).where(
            support_topics.c.chat_id == chat_id,
            support_topics.c.telegram_user_id == telegram_user_id,
        )
        found: int | None = await self._one(query, lambda row: int(row["thread_id"]))
        return found

    async def set_topic(
        self, chat_id: int, telegram_user_id: int, thread_id: int, now: datetime
    ) -> None:
        async def write(conn: AsyncConnection) -> None:
            values = {
                "chat_id": chat_id,
                "telegram_user_id": telegram_user_id,
                "thread_id": thread_id,
                "created_at": now,
            }
            await upsert(conn, support_topics, values, ["chat_id", "telegram_user_id"])

        await self._run(write)

    async def person_in(self, chat_id: int, thread_id: int) -> int | None:
        query = sa.select(support_topics.c.telegram_user_id).where(
            support_topics.c.chat_id == chat_id, support_topics.c.thread_id == thread_id
        )
        found: int | None = await self._one(query, lambda row: int(row["telegram_user_id"]))
        return found

    async def remember(self, chat_id: int, relayed: Relayed, now: datetime) -> None:
        async def write(conn: AsyncConnection) -> None:
            values = {
                "chat_id": chat_id,
                "group_message_id": relayed.group_message_id,
                "telegram_user_id": relayed.telegram_user_id,
                "person_message_id": relayed.person_message_id,
                "at": now,
            }
            await upsert(conn, support_messages, values, ["chat_id", "group_message_id"])

        await self._run(write)

    async def by_group_message(self, chat_id: int, message_id: int) -> Relayed | None:
        query = support_messages.select().where(
            support_messages.c.chat_id == chat_id,
            support_messages.c.group_message_id == message_id,
        )
        found: Relayed | None = await self._one(query, _relayed)
        return found

    async def by_person_message(
        self, chat_id: int, telegram_user_id: int, message_id: int
    ) -> Relayed | None:
        query = support_messages.select().where(
            support_messages.c.chat_id == chat_id,
            support_messages.c.telegram_user_id == telegram_user_id,
            support_messages.c.person_message_id == message_id,
        )
        found: Relayed | None = await self._one(query, _relayed)
        return found

    async def _one(self, query: Any, convert: Any) -> Any:
        async def read(conn: AsyncConnection) -> Any:
            row = (await conn.execute(query)).mappings().first()
            return None if row is None else convert(row)

        return await self._read(read)
