"""What every benchmark shares: sizes, its own Redis database and PostgreSQL database, a Bot
whose session answers at once, update builders, and counters of Redis and SQL work."""

from __future__ import annotations

import itertools
import logging
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Chat, Message, Update, User

# The bench's own Redis database (the tests use 15) and PostgreSQL server (a fresh database per
# run, dropped after): never a database anything else writes to.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
PG_DSN = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BOT_ID = 100200300
TOKEN = f"{BOT_ID}:bench-token-not-a-secret"


@dataclass(frozen=True)
class Size:
    """How much each benchmark does; `smoke` runs in seconds (CI), `full` in a few minutes."""

    name: str
    repetitions: int  # of each dispatch measurement (min/median/max printed)
    conversations: int  # per dispatch repetition, each a realistic run of steps
    bare_factor: int  # bare aiogram gets this many times more, so both run for seconds
    parallel: int  # conversations in flight at once
    e2e_seconds: float  # per offered load step
    e2e_start: int  # the first offered load (updates/s); each step doubles... then refines
    e2e_max: int
    me_samples: int
    login_seconds: float
    memory_conversations: int  # for rss_kb_per_conversation
    redis_conversations: int  # for redis_bytes_per_conversation
    tool_seconds: int  # redis-benchmark requests / pgbench seconds scale


SIZES = {
    "smoke": Size("smoke", 1, 3, 4, 3, 0.3, 20, 20, 5, 0.3, 30, 2, 1),
    "full": Size("full", 5, 50, 10, 8, 3.0, 20, 1280, 200, 5.0, 10_000, 50, 5),
}


def stats(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


# --- a Bot whose session answers at once --------------------------------------------------------


class InstantSession(BaseSession):
    """An aiogram session that never leaves the process: every method gets a canned result."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self._ids = itertools.count(1_000_000)

    async def close(self) -> None:
        return None

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> Any:
        self.calls += 1
        returning = method.__returning__
        if returning is bool:
            return True
        if returning is User:
            return User(id=BOT_ID, is_bot=True, first_name="Bench", username="bench_bot")
        chat_id = getattr(method, "chat_id", None)
        if isinstance(chat_id, int):
            return Message(
                message_id=next(self._ids),
                date=datetime.now(UTC),
                chat=Chat(id=chat_id, type="private"),
                text=getattr(method, "text", None),
            ).as_(bot)
        return True

    async def stream_content(  # the bench downloads nothing
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - aiogram's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError
        yield b""  # pragma: no cover


def instant_bot() -> Bot:
    from aiogram.client.default import DefaultBotProperties
    from aiogram.enums import ParseMode

    return Bot(
        TOKEN,
        session=InstantSession(),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


# --- updates -------------------------------------------------------------------------------


class Updates:
    """Telegram updates from people, numbered in one sequence per bot."""

    def __init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)

    def _user(self, user_id: int) -> User:
        return User(id=user_id, is_bot=False, first_name=f"Bench{user_id}", language_code="en")

    def text(self, user_id: int, text: str) -> Update:
        entities = None
        if text.startswith("/"):
            from aiogram.types import MessageEntity

            entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
        message = Message(
            message_id=next(self._message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type="private"),
            from_user=self._user(user_id),
            text=text,
            entities=entities,
        )
        return Update(update_id=next(self._update_ids), message=message)

    def press(self, user_id: int, data: str, markup: Any = None) -> Update:
        shown = Message(
            message_id=next(self._message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=user_id, type="private"),
            from_user=User(id=BOT_ID, is_bot=True, first_name="Bench"),
            text="…",
            reply_markup=markup,
        )
        query = CallbackQuery(
            id=uuid.uuid4().hex,
            from_user=self._user(user_id),
            chat_instance=str(user_id),
            message=shown,
            data=data,
        )
        return Update(update_id=next(self._update_ids), callback_query=query)


# --- counting Redis and SQL work ----------------------------------------------------------------


class Counts:
    """Redis commands and round trips this process sent; SQL statements and units of work."""

    def __init__(self) -> None:
        self.redis_commands = 0
        self.redis_round_trips = 0
        self.sql_statements = 0
        self.units = 0
        # What they were: Redis command names (EVALSHA for a script), SQL statements' first word.
        self.kinds: Counter[str] = Counter()

    def snapshot(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}

    def since(self, before: dict[str, int]) -> dict[str, int]:
        return {k: v - before[k] for k, v in vars(self).items() if isinstance(v, int)}


COUNTS = Counts()
_redis_patched = False


def count_redis() -> None:
    """Count every command packed and every write to a Redis socket (a pipeline is one trip)."""
    global _redis_patched
    if _redis_patched:
        return
    from redis.asyncio.connection import AbstractConnection

    pack, send = AbstractConnection.pack_command, AbstractConnection.send_packed_command

    def pack_command(self: Any, *args: Any) -> Any:
        COUNTS.redis_commands += 1
        name = args[0] if args else b"?"
        COUNTS.kinds["redis " + (name.decode() if isinstance(name, bytes) else str(name))] += 1
        return pack(self, *args)

    async def send_packed_command(self: Any, command: Any, check_health: bool = True) -> None:
        COUNTS.redis_round_trips += 1
        await send(self, command, check_health)

    AbstractConnection.pack_command = pack_command  # type: ignore[method-assign]
    AbstractConnection.send_packed_command = send_packed_command  # type: ignore[method-assign]
    _redis_patched = True


def engine_of(services: Any) -> Any:
    """The services' SQLAlchemy engine (`services.database`; `resources` before it was named)."""
    database = getattr(services, "database", None) or services.resources["database"]
    return database.engine


def count_sql(engine: Any) -> None:
    """SQLAlchemy events on the engine: each statement sent, each transaction begun."""
    from sqlalchemy import event

    sync = getattr(engine, "sync_engine", engine)

    def before_cursor_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        COUNTS.sql_statements += 1
        COUNTS.kinds["sql " + (statement.split(None, 1) or ["?"])[0].upper()] += 1

    def begin(*_: Any) -> None:
        COUNTS.units += 1

    event.listen(sync, "before_cursor_execute", before_cursor_execute)
    event.listen(sync, "begin", begin)


class Warnings(logging.Handler):
    """Counts what the product logged at WARNING or above (an outage answer, an error): a run
    that had any says so beside its figures, since such an update was not a normal one."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen[f"{record.name}: {record.getMessage()}"[:120]] += 1


WARNINGS = Warnings()
HUNG: list[str] = []  # the kinds of updates the bench gave up on (`dispatch.UPDATE_TIMEOUT`)


@contextmanager
def timed() -> Iterator[list[float]]:
    """`with timed() as t:` ... t[0] is the seconds the block took."""
    out: list[float] = []
    start = time.perf_counter()
    try:
        yield out
    finally:
        out.append(time.perf_counter() - start)


# --- its own databases -----------------------------------------------------------------------


@asynccontextmanager
async def pg_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this run (a SQLAlchemy URL), dropped after."""
    import asyncpg

    name = f"accountbot_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        conn = await asyncpg.connect(PG_DSN)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def clear_redis(prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        async for key in client.scan_iter(match=prefix + "*", count=1000):
            await client.delete(key)
    finally:
        await client.aclose()


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
