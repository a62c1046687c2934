"""Nothing of a chat goes through asyncio's default thread pool (issue #13).

aiogram runs a handler or filter that is not a coroutine function with `asyncio.to_thread`; that
pool is shared with whatever else runs in it, so every such callback makes an update wait behind
it. Every handler and filter of the assembled dispatcher, on every router and event, must be
awaited in place: written async, or a library predicate run on the loop (`bot.filters.on_the_loop`).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.handler import CallableObject

from bot.app import build_dispatcher
from tests.conftest import FakeClock
from tests.core.flows.conftest import make_world


def _name(callback: CallableObject) -> str:
    found = inspect.unwrap(callback.callback)
    return getattr(found, "__qualname__", None) or repr(found)


def in_a_thread(dp: Dispatcher) -> list[str]:
    """Every handler and filter aiogram would hand to a worker thread, named with its event."""
    found: list[str] = []
    for observer in (dp.startup, dp.shutdown):
        found += [f"lifecycle: {_name(h)}" for h in observer.handlers if not h.awaitable]
    for router in dp.chain_tail:
        for event, observer in router.observers.items():
            where = f"{router.name}.{event}"
            own = observer._handler.filters or []  # the router's filters for every handler
            found += [f"{where} filter {_name(f)}" for f in own if not f.awaitable]
            for handler in observer.handlers:
                if not handler.awaitable:
                    found.append(f"{where} handler {_name(handler)}")
                for f in handler.filters or []:
                    if not f.awaitable:
                        found.append(f"{where} filter {_name(f)} of {_name(handler)}")
    return found


async def test_no_handler_or_filter_runs_in_a_thread(clock: FakeClock, tmp_path: Path) -> None:
    # A support chat configured, so the agents' router is assembled too.
    url = f"sqlite+aiosqlite:///{tmp_path}/callbacks.sqlite3"
    world = await make_world(clock, url, settings={"support_chat_id": -100123})
    bot: Any = Bot("1:callbacks")
    try:
        dp, _ = build_dispatcher(world.services, bot)
        routers = list(dp.chain_tail)
        assert len(routers) > 10  # every router of the conversation was walked
        assert sum(len(r.message.handlers) for r in routers) > 20
        assert in_a_thread(dp) == []
    finally:
        await bot.session.close()
        await world.services.close()
