"""Dispatch: updates/s through the full bot next to bare aiogram, fed in-process, on one storage.

The full bot is `bot.app.build_dispatcher` on services from `core.bootstrap` (every middleware,
i18n, core, FSM), the way `sandbox.stack` builds it; its Bot's session answers at once
(`common.InstantSession`), letters go nowhere. The baseline is bare aiogram with a 2-step FSM on
the same storage (MemoryStorage, or RedisStorage + RedisEventIsolation), fed the same updates.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

from bench import common
from bench.common import COUNTS, Size, Updates, stats

STORAGES = ("memory", "redis")  # memory + SQLite, Redis + PostgreSQL
UPDATE_TIMEOUT = 30.0  # seconds; an update still unhandled then is a hang, counted in the results
EMAIL_BUTTON = "m:email"
MARKUP = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Bind email", callback_data=EMAIL_BUTTON)]]
)
# The realistic step mix of one conversation: (step name, how to build its update).
STEPS: tuple[tuple[str, Callable[[Updates, int], Update]], ...] = (
    ("start", lambda u, who: u.text(who, "/start")),
    ("me", lambda u, who: u.text(who, "/me")),
    ("bind_email", lambda u, who: u.press(who, EMAIL_BUTTON, MARKUP)),
    ("email", lambda u, who: u.text(who, f"bench{who}@example.com")),
    ("wrong_code", lambda u, who: u.text(who, "000000")),
    ("cancel", lambda u, who: u.text(who, "/cancel")),
)


class Nowhere:
    """Letters and SMS go nowhere: the bench measures the bot, not an SMTP server."""

    async def send(self, *message: object) -> None:
        return None


@dataclass
class Target:
    """One dispatcher to feed, and who can talk to it."""

    dp: Dispatcher
    bot: Bot
    people: list[int]
    close: Callable[[], Any]
    services: Any = None
    next_person: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    # One sequence of update ids per dispatcher: a repeated id is a duplicate, and is skipped.
    updates: Updates = field(default_factory=Updates)

    async def feed(self, update: Update) -> None:
        """One update through the dispatcher; one that hangs is given up on and counted."""
        try:
            await asyncio.wait_for(self.dp.feed_update(self.bot, update), UPDATE_TIMEOUT)
        except TimeoutError:
            common.HUNG.append(update.event_type)

    def take(self, n: int) -> list[int]:
        taken = self.people[self.next_person : self.next_person + n]
        if len(taken) < n:
            raise RuntimeError("the bench seeded too few people")
        self.next_person += n
        return taken


@asynccontextmanager
async def full_bot(storage: str, people: int, **overrides: Any) -> AsyncIterator[Target]:
    """The whole product's dispatcher on memory + SQLite or Redis + PostgreSQL, people signed in."""
    from bot.app import build_dispatcher
    from core.adapters.db.migrate import upgrade
    from core.bootstrap import build_services
    from sandbox.stack import sandbox_settings

    with tempfile.TemporaryDirectory() as folder:
        values: dict[str, Any] = {"telegram_pacing": False, **overrides}
        async with _databases(storage) as (database_url, redis_url, prefix):
            if database_url:
                values["database_url"] = database_url
            if redis_url:
                values.update(redis_url=redis_url, redis_prefix=prefix)
            settings = sandbox_settings("http://127.0.0.1:9", Path(folder), 9, **values)
            await upgrade(settings.database_url)
            services = build_services(settings, mailer=Nowhere(), sms=Nowhere())
            common.count_sql(common.engine_of(services))
            bot = common.instant_bot()
            dp, _ = build_dispatcher(services, bot)
            ids = await seed(services, people)
            try:
                yield Target(dp, bot, ids, services.close, services)
            finally:
                await services.close()
                if redis_url:
                    await common.clear_redis(prefix)


@asynccontextmanager
async def _databases(storage: str) -> AsyncIterator[tuple[str | None, str | None, str]]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    if storage == "memory":
        yield None, None, prefix
        return
    async with common.pg_database() as url:
        yield url, common.REDIS_URL, prefix


PASSWORD = "a bench password nobody types"  # noqa: S105 - made up for the bench


async def seed(services: Any, n: int, ids: list[int] | None = None) -> list[int]:
    """n people signed in with a password and no email yet (so /me shows "Bind email")."""
    from core.domain.models import SocialIdentity

    now = datetime.now(UTC)
    digest = await services.kit.hasher.hash(PASSWORD)
    ids = ids if ids is not None else [7_000_000_000 + i for i in range(n)]
    async with services.kit.unit() as uow:
        for telegram_id in ids:
            account = await uow.accounts.add(f"Bench {telegram_id}", "en", now)
            identity = SocialIdentity(account.id, "dev", str(telegram_id), None, False, now)
            await uow.identities.add(identity)
            await uow.telegram.link(telegram_id, account.id, now)
            await uow.passwords.set(account.id, digest, now)
        await uow.commit()
    return ids


class Flow(StatesGroup):
    address = State()
    code = State()


def bare_router() -> Router:
    """A 2-step FSM the way an aiogram tutorial writes it: address, then code."""
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer("Hello! /me shows your account.")

    @router.message(Command("me"))
    async def me(message: Message) -> None:
        await message.answer("Your account", reply_markup=MARKUP)

    @router.message(Command("cancel"))
    async def cancel(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer("Cancelled.")

    @router.callback_query(F.data == EMAIL_BUTTON)
    async def bind(query: CallbackQuery, state: FSMContext) -> None:
        await state.set_state(Flow.address)
        await query.answer()
        await query.bot.send_message(query.from_user.id, "Send the address.")  # type: ignore[union-attr]

    @router.message(Flow.address, F.text)
    async def address(message: Message, state: FSMContext) -> None:
        await state.update_data(address=message.text)
        await state.set_state(Flow.code)
        await message.answer("Send the code from the letter.")

    @router.message(Flow.code, F.text)
    async def code(message: Message, state: FSMContext) -> None:
        await message.answer("Wrong code, try again.")

    @router.message()
    async def other(message: Message) -> None:
        await message.answer("Send /me.")

    return router


@asynccontextmanager
async def bare_bot(storage: str, people: int) -> AsyncIterator[Target]:
    kwargs: dict[str, Any] = {}
    redis = None
    prefix = f"bench-bare-{uuid.uuid4().hex[:8]}"
    if storage == "redis":
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
        from redis.asyncio import Redis

        redis = Redis.from_url(common.REDIS_URL)
        keys = DefaultKeyBuilder(prefix=prefix, with_destiny=True)
        kwargs["storage"] = RedisStorage(redis, key_builder=keys)
        kwargs["events_isolation"] = RedisEventIsolation(redis, key_builder=keys)
    dp = Dispatcher(**kwargs)
    dp.include_router(bare_router())
    bot = common.instant_bot()
    ids = [8_000_000_000 + i for i in range(people)]
    try:
        yield Target(dp, bot, ids, lambda: None, extra={"redis": redis, "prefix": prefix})
    finally:
        await dp.storage.close()
        if redis is not None:
            await common.clear_redis(prefix)
            await redis.aclose()


def conversation(updates: Updates, who: int) -> list[Update]:
    return [build(updates, who) for _, build in STEPS]


async def feed(target: Target, conversations: list[list[Update]], parallel: int) -> float:
    """Feed every conversation (each in order, `parallel` at once); updates per second."""
    gate = asyncio.Semaphore(parallel)

    async def one(updates: list[Update]) -> None:
        async with gate:
            for update in updates:
                await target.feed(update)

    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.gather(*(one(c) for c in conversations))
    return sum(len(c) for c in conversations) / (loop.time() - start)


async def per_step_counts(target: Target, n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Redis and SQL work of each step, one update at a time so nothing else is counted: the
    totals, and what they were (Redis command names, SQL statements' first word)."""
    totals: dict[str, dict[str, float]] = {}
    by_kind: dict[str, dict[str, float]] = {}
    for who in target.take(n):
        for name, build in STEPS:
            update = build(target.updates, who)
            before, kinds = COUNTS.snapshot(), COUNTS.kinds.copy()
            await target.feed(update)
            for key, value in COUNTS.since(before).items():
                totals.setdefault(name, {}).setdefault(key, 0)
                totals[name][key] += value / n
            step = by_kind.setdefault(name, {})
            for kind, value in (COUNTS.kinds - kinds).items():
                step[kind] = step.get(kind, 0) + value / n
    return totals, {name: dict(sorted(c.items())) for name, c in by_kind.items()}


def mix_average(per_step: dict[str, dict[str, float]], key: str) -> float:
    return sum(step[key] for step in per_step.values()) / len(per_step)


async def measure(storage: str, size: Size) -> dict[str, Any]:
    """dispatch_ups, bare_ups and their ratio over repetitions, plus the work per step."""
    common.count_redis()
    per_rep, bare_rep = size.conversations, size.conversations * size.bare_factor
    full_runs: list[float] = []
    bare_runs: list[float] = []
    full_people = (size.repetitions + 1) * per_rep + 3
    bare_people = (size.repetitions + 1) * bare_rep + 3
    async with full_bot(storage, full_people) as full, bare_bot(storage, bare_people) as bare:
        for target, n in ((full, per_rep), (bare, bare_rep)):  # warm up: connections, caches
            await feed(target, [conversation(target.updates, w) for w in target.take(n)], 4)
        for _ in range(size.repetitions):  # interleaved, so both see the same machine
            convs = [conversation(full.updates, w) for w in full.take(per_rep)]
            full_runs.append(await feed(full, convs, size.parallel))
            convs = [conversation(bare.updates, w) for w in bare.take(bare_rep)]
            bare_runs.append(await feed(bare, convs, size.parallel))
        steps, kinds = await per_step_counts(full, 3)
        bare_steps, bare_kinds = await per_step_counts(bare, 3)
    ratios = [f / b for f, b in zip(full_runs, bare_runs, strict=True)]
    return {
        "full": stats(full_runs),
        "bare": stats(bare_runs),
        "ratio": stats(ratios),
        "steps": steps,
        "bare_steps": bare_steps,
        "step_kinds": kinds,
        "bare_step_kinds": bare_kinds,
    }


async def main(size: Size) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for storage in STORAGES:
        results[storage] = await measure(storage, size)
    return results
