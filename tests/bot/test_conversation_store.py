"""The conversation store on Redis (bot/isolation.py): aiogram's storage contract, one hash per
chat, the update's writes held until it ends, and the lock that carries the duplicate check."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

from bot.isolation import (
    _UPDATE,
    LOG_SIZE,
    ConversationLock,
    RedisConversations,
    SessionLedger,
    parse,
)
from bot.middlewares.person import RedisUpdateLedger

pytestmark = pytest.mark.redis
BOT, CHAT = 42, 1001
TTL = 600


class Steps(StatesGroup):
    one = State()


@pytest.fixture
def store(redis_client: Any) -> RedisConversations:
    return RedisConversations(
        redis_client,
        redis_client.test_prefix,
        ttl=TTL,
        lock_timeout=3.0,
        ledger_window=100,
        ledger_memory_ms=60_000,
    )


def key(chat: int = CHAT, user: int | None = None, destiny: str = "default") -> StorageKey:
    return StorageKey(bot_id=BOT, chat_id=chat, user_id=user or chat, destiny=destiny)


async def stored(store: RedisConversations, chat: int = CHAT) -> dict[str, str]:
    return parse(await store.redis.get(f"{store.prefix}c:{chat}"))


# --- aiogram's storage contract, the same answers as its MemoryStorage --------------------------


@pytest.mark.parametrize("kind", ["redis", "memory"])
async def test_the_storage_contract(kind: str, store: RedisConversations) -> None:
    storage = store if kind == "redis" else MemoryStorage()
    k = key()

    assert await storage.get_state(k) is None
    assert await storage.get_data(k) == {}
    await storage.set_state(k, Steps.one)
    assert await storage.get_state(k) == Steps.one.state
    await storage.set_state(k, "other")
    assert await storage.get_state(k) == "other"
    await storage.set_data(k, {"a": 1, "b": ["x", "é", "nul\x00"]})
    assert await storage.get_data(k) == {"a": 1, "b": ["x", "é", "nul\x00"]}
    assert await storage.update_data(k, {"c": 2**53}) == {
        "a": 1,
        "b": ["x", "é", "nul\x00"],
        "c": 2**53,
    }
    assert await storage.get_value(k, "a") == 1
    with pytest.raises(DataNotDictLikeError):
        await storage.set_data(k, [1, 2])  # type: ignore[arg-type]

    await FSMContext(storage, k).clear()
    assert await storage.get_state(k) is None
    assert await storage.get_data(k) == {}


async def test_one_key_per_chat_with_a_ttl_and_nothing_left_once_cleared(
    store: RedisConversations,
) -> None:
    k = key()
    await store.set_state(k, Steps.one)
    await store.set_data(k, {"flow_total": 2})
    await store.set_data(key(destiny="other"), {"x": 1})

    assert await stored(store) == {"s": "Steps:one", "d": '{"flow_total":2}', "other:d": '{"x":1}'}
    ttl = await store.redis.pttl(f"{store.prefix}c:{CHAT}")
    assert 0 < ttl <= TTL * 1000
    assert [k async for k in store.redis.scan_iter(match=store.prefix + "*")] == [
        f"{store.prefix}c:{CHAT}".encode()
    ]

    await FSMContext(store, k).clear()
    await store.set_data(key(destiny="other"), {})
    assert await store.redis.exists(f"{store.prefix}c:{CHAT}") == 0


async def test_a_group_member_has_a_conversation_of_their_own(store: RedisConversations) -> None:
    await store.set_state(key(chat=-5, user=7), "a")
    await store.set_state(key(chat=-5, user=8), "b")

    assert await store.get_state(key(chat=-5, user=7)) == "a"
    assert await store.get_state(key(chat=-5, user=8)) == "b"


# --- an update's view: read when the lock is taken, written when it is let go ------------------


async def test_writes_wait_for_the_end_of_the_update(store: RedisConversations) -> None:
    k = key()
    await store.set_state(k, "before")
    async with store.session(k):
        assert await store.get_state(k) == "before"
        await store.set_state(k, Steps.one)
        await store.set_data(k, {"n": 1})
        assert await store.get_state(k) == Steps.one.state
        assert await store.get_data(k) == {"n": 1}
        assert await stored(store) == {"s": "before"}  # nothing written yet
        assert store.holds(k)
    assert not store.holds(k)
    assert await stored(store) == {"s": "Steps:one", "d": '{"n":1}'}


async def test_a_failed_update_still_writes_what_it_set(store: RedisConversations) -> None:
    k = key()

    async def update() -> None:
        async with store.session(k):
            await store.set_state(k, "moved on")
            raise RuntimeError("the handler failed after moving on")

    with pytest.raises(RuntimeError):
        await update()
    assert await stored(store) == {"s": "moved on"}
    assert await store.redis.exists(f"{store.prefix}l:{CHAT}") == 0


async def test_a_cancelled_update_writes_nothing_and_lets_the_chat_go(
    store: RedisConversations,
) -> None:
    """A shutdown cancels an update: it comes again, so it must find where it began."""
    k = key()
    await store.set_state(k, "start")
    inside = asyncio.Event()

    async def update() -> None:
        async with store.session(k):
            await store.set_state(k, "half way")
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(update())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await stored(store) == {"s": "start"}
    assert await store.redis.exists(f"{store.prefix}l:{CHAT}") == 0


async def test_another_chat_is_read_and_written_at_once(store: RedisConversations) -> None:
    """An agent's action on the person's chat, or a notice, is not held by the agent's update."""
    async with store.session(key(chat=-100, user=5)):
        await store.set_state(key(chat=77), "told")
        assert await stored(store, 77) == {"s": "told"}


async def test_the_lock_is_short_and_one_update_of_a_chat_runs_at_a_time(
    store: RedisConversations,
) -> None:
    k = key()
    order: list[str] = []
    first_in = asyncio.Event()

    async def first() -> None:
        async with store.session(k):
            first_in.set()
            ttl = await store.redis.pttl(f"{store.prefix}l:{CHAT}")
            assert 0 < ttl <= 3000  # a dead process's lock is gone within CHAT_LOCK_TIMEOUT
            await store.set_state(k, "first")
            order.append("first")

    async def second() -> None:
        await first_in.wait()
        async with store.session(k):
            order.append(f"second saw {await store.get_state(k)}")

    await asyncio.gather(first(), second())
    assert order == ["first", "second saw first"]


async def test_the_log_is_appended_to_without_being_read_and_keeps_the_last_ones(
    store: RedisConversations,
) -> None:
    k = key()
    for n in range(LOG_SIZE):
        await store.append_log(k, f"m{n}")
    async with store.session(k):
        await store.append_log(k, "m-new")
        await store.append_log(k, "пароль? [hidden] \x00")
        assert (await store.read_log(k))[-2:] == ["m-new", "пароль? [hidden] \x00"]
    kept = await store.read_log(k)
    assert len(kept) == LOG_SIZE
    assert kept[0] == "m2"
    assert kept[-1] == "пароль? [hidden] \x00"
    assert await store.get_state(k) is None  # the log is beside the state, not in it


# --- the duplicate ledger rides the lock ------------------------------------------------------


async def test_the_duplicate_verdict_comes_with_the_lock_and_the_mark_with_its_release(
    store: RedisConversations,
) -> None:
    inner = RedisUpdateLedger(store.redis, store.prefix, 100, timedelta(minutes=1))
    ledger = SessionLedger(inner)
    k = key()

    async def handle(update_id: int) -> str | None:
        token = _UPDATE.set((BOT, update_id))
        try:
            async with ConversationLock(store).lock(k):
                verdict = await ledger.seen(BOT, update_id)
                if verdict is None:
                    await ledger.mark(BOT, update_id)
                    assert await inner.seen(BOT, update_id) is None  # recorded at the release
                return verdict
        finally:
            _UPDATE.reset(token)

    assert await handle(500) is None
    assert await handle(500) == "handled"
    assert await handle(501) is None
    assert await handle(400) == "behind the window"
    assert await handle(450) is None  # inside the window, never seen
    assert await inner.seen(BOT, 500) == "handled"  # the same ledger as without the lock


async def test_a_conversation_aiogram_kept_is_carried_over_on_its_next_update(
    store: RedisConversations,
) -> None:
    """People in the middle of a step when this store was deployed stay at their step."""
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.redis import RedisStorage

    keys = DefaultKeyBuilder(prefix=store.prefix + "fsm", with_destiny=True)
    old = RedisStorage(store.redis, key_builder=keys)
    k = key()
    await old.set_state(k, "BindEmail:awaiting_code")
    await old.set_data(k, {"address": "ivan@example.com", "flow_total": 2})
    await old.set_data(key(destiny="support_log"), {"log": ["/me", "[hidden]"]})
    await old.set_data(key(destiny="checkpoint"), {"update": 7, "state": None, "data": {}})

    async with store.session(k):
        assert await store.get_state(k) == "BindEmail:awaiting_code"
        assert await store.get_data(k) == {"address": "ivan@example.com", "flow_total": 2}
    assert await store.read_log(k) == ["/me", "[hidden]"]
    assert [k async for k in store.redis.scan_iter(match=store.prefix + "fsm*")] == []

    await FSMContext(store, k).clear()  # cleared stays cleared: nothing comes back from there
    async with store.session(k):
        assert await store.get_state(k) is None


async def test_the_lock_is_let_go_even_when_its_renewal_swallows_the_cancellation(
    redis_client: Any,
) -> None:
    """On Python 3.11 redis-py's write (asyncio.wait_for) returns instead of raising when the
    cancellation lands as the write finishes: the renewal must end all the same, or it renews
    the chat's lock for good and the chat never answers again."""
    store = RedisConversations(
        redis_client,
        redis_client.test_prefix,
        ttl=TTL,
        lock_timeout=0.03,  # the renewal comes at once: the test waits on it, not on time
        ledger_window=100,
        ledger_memory_ms=60_000,
    )
    renewing = asyncio.Event()
    swallowed: list[bool] = []
    renewals: set[asyncio.Task[Any]] = set()

    async def swallowing_renew(**_: Any) -> int:
        renewals.add(asyncio.current_task())  # type: ignore[arg-type]
        renewing.set()
        try:
            await asyncio.Event().wait()  # the renewal's write, in flight
        except asyncio.CancelledError:
            if swallowed:
                raise
            swallowed.append(True)  # the write finished as the cancellation came
        return 1

    store._renew = swallowing_renew  # type: ignore[method-assign, assignment]

    async def update() -> None:
        async with store.session(key()):
            await renewing.wait()

    handled = asyncio.create_task(update())
    await asyncio.wait({handled}, timeout=30)  # only a hang reaches the timeout
    assert handled.done() and handled.exception() is None
    await asyncio.wait(renewals, timeout=30)
    assert swallowed and all(t.done() for t in renewals), "the renewal goes on for good"
    assert await store.redis.exists(f"{store.prefix}l:{CHAT}") == 0
