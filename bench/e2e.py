"""End to end: from a person's message in the sandbox to the bot's answer, at stepped offered load.

The whole product runs in the sandbox (`sandbox.stack.start_sandbox`, memory + SQLite); a bare
aiogram bot on the same sandbox with its own token is the baseline. Both are measured polling,
then both switch to webhooks on one local web server (the product's own handler, which answers
Telegram only once the update was handled; the sandbox delivers one chat in sequence and
different chats at once, up to `max_connections`, as Telegram does). People write /me
at a fixed rate (open loop); the answer's time is when the bot's message lands in the sandbox's
chat. A load is sustained when every message was answered within a second of the last one sent
and the p99 stays under a second (PRODUCT §1: each step answers within a second).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command
from aiogram.types import Message

from bench import dispatch
from bench.common import Size, percentile

BARE_TOKEN = "200300400:bare-bench-token-not-a-secret"  # noqa: S105 - a local stand-in
PEOPLE = 300
GRACE = 1.0  # seconds after the last message for the answers to arrive
TOO_SLOW = 1.0  # a p99 above this (seconds) is falling behind


class Watched(dict[int, Any]):
    """A dialog's messages; a bot's new message answers the oldest unanswered one in the chat."""

    def __init__(self, sent: collections.deque[float], load: Load) -> None:
        super().__init__()
        self.sent, self.load = sent, load

    def __setitem__(self, key: int, message: Any) -> None:
        if key not in self and getattr(message.sender, "is_bot", False) and self.sent:
            self.load.answered(asyncio.get_running_loop().time() - self.sent.popleft())
        super().__setitem__(key, message)


@dataclass
class Step:
    offered: float
    sent: int
    answered: int
    p50_ms: float
    p99_ms: float

    @property
    def sustained(self) -> bool:
        return self.answered == self.sent and self.p99_ms <= TOO_SLOW * 1000


class Load:
    """People of one bot in the sandbox, and what their messages waited."""

    def __init__(self, stack: Any, bot_id: int, people: list[Any]) -> None:
        from sandbox.botapi.people import text_fields

        self.stack, self.people = stack, people
        self.bot = stack.state.bots[bot_id]
        self.fields = text_fields("/me")
        self.latencies: list[float] = []
        self.queues: list[collections.deque[float]] = []
        self.outstanding = 0
        self.idle = asyncio.Event()  # set while every message sent has its answer
        self.idle.set()
        for person in people:
            queue: collections.deque[float] = collections.deque()
            dialog = stack.state.dialog(self.bot, stack.state.chats[person.id])
            watched = Watched(queue, self)
            watched.update(dialog.messages)
            dialog.messages = watched
            self.queues.append(queue)

    def answered(self, latency: float) -> None:
        self.latencies.append(latency)
        self.outstanding -= 1
        if not self.outstanding:
            self.idle.set()

    async def _until_idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle.wait(), max(0.0, seconds))

    async def step(self, rate: float, seconds: float) -> Step:
        from sandbox.botapi.people import post

        state = self.stack.state
        self.latencies.clear()
        loop = asyncio.get_running_loop()
        total = max(1, int(rate * seconds))
        start = loop.time()
        for i in range(total):
            due = start + i / rate
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            who = i % len(self.people)
            person = self.people[who]
            self.queues[who].append(loop.time())
            self.outstanding += 1
            self.idle.clear()
            post(state, self.bot, person, state.chats[person.id], **self.fields)
        await self._until_idle(GRACE)
        answered = len(self.latencies)
        values = self.latencies or [float("inf")]
        p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
        # Let a backlog drain before the next step, so steps do not feed one another; what is
        # still unanswered after that is forgotten.
        await self._until_idle(10)
        for queue in self.queues:
            queue.clear()
        self.outstanding = 0
        self.idle.set()
        return Step(rate, total, answered, p50, p99)


async def ramp(load: Load, size: Size) -> tuple[list[Step], float]:
    """Double the offered load until it falls behind (twice in a row), then bisect twice; the
    steps and the highest load sustained."""
    steps: list[Step] = []
    rate, best, worst = float(size.e2e_start), 0.0, 0.0
    while rate <= size.e2e_max:
        step = await load.step(rate, size.e2e_seconds)
        if not step.sustained:  # once more: a moment of other work on the machine is no verdict
            step = await load.step(rate, size.e2e_seconds)
        steps.append(step)
        if not step.sustained:
            worst = rate
            break
        best = rate
        rate *= 2
    if worst and best:
        for _ in range(2):
            middle = (best + worst) / 2
            step = await load.step(middle, size.e2e_seconds)
            if not step.sustained:
                step = await load.step(middle, size.e2e_seconds)
            steps.append(step)
            best, worst = (middle, worst) if step.sustained else (best, middle)
    return sorted(steps, key=lambda s: s.offered), best


WEBHOOK_SECRET = "bench-webhook-secret-not-a-secret"  # noqa: S105 - a local stand-in
MAX_CONNECTIONS = 100  # Telegram's highest, for both bots


@contextlib.asynccontextmanager
async def webhooks(stack: Any, bare_bot: Bot, bare: Dispatcher) -> AsyncIterator[None]:
    """Stop both bots' polling and serve both from one web server's webhooks."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler
    from aiohttp import web
    from pydantic import SecretStr

    from bot.polling import webhook_handler

    for task in stack.tasks:  # the product's poller (the other task is the sandbox's barrier)
        if task.get_coro().__qualname__ == "Poller.run":
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    with contextlib.suppress(RuntimeError):
        await bare.stop_polling()
    settings = stack.services.settings.model_copy(
        update={"webhook_secret": SecretStr(WEBHOOK_SECRET)}
    )
    app = web.Application()
    app.router.add_post("/product", webhook_handler(stack.dispatcher, stack.bot, settings))
    bare_handler = SimpleRequestHandler(bare, bare_bot, handle_in_background=False)
    app.router.add_post("/bare", bare_handler.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        await stack.bot.set_webhook(
            f"http://{host}:{port}/product",
            secret_token=WEBHOOK_SECRET,
            max_connections=MAX_CONNECTIONS,
        )
        await bare_bot.set_webhook(f"http://{host}:{port}/bare", max_connections=MAX_CONNECTIONS)
        yield
    finally:
        for bot in (stack.bot, bare_bot):
            with contextlib.suppress(Exception):
                await bot.delete_webhook()
        await runner.cleanup()


def bare_dispatcher() -> Dispatcher:
    router = Router()

    @router.message(Command("me"))
    async def me(message: Message) -> None:
        await message.answer("Your account")

    dp = Dispatcher()
    dp.include_router(router)
    return dp


async def main(size: Size) -> dict[str, Any]:
    from sandbox.stack import start_sandbox

    with tempfile.TemporaryDirectory() as folder:
        stack = await start_sandbox(
            "127.0.0.1", 0, Path(folder), flood_limits=False, telegram_pacing=False
        )
        stack.state.add_bot(BARE_TOKEN, username="bare_bench_bot", first_name="Bare")
        bare_bot = Bot(
            BARE_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(stack.url))
        )
        bare = bare_dispatcher()
        polling = asyncio.create_task(bare.start_polling(bare_bot, handle_signals=False))
        try:
            people = [
                stack.state.add_person(f"Load {i}", language_code="en") for i in range(PEOPLE)
            ]
            await dispatch.seed(stack.services, PEOPLE, [p.id for p in people])
            full = Load(stack, stack.bot.id, people)
            baseline = Load(stack, bare_bot.id, people)
            await full.step(size.e2e_start, size.e2e_seconds / 2)  # warm up
            await baseline.step(size.e2e_start, size.e2e_seconds / 2)
            bare_steps, bare_max = await ramp(baseline, size)
            full_steps, full_max = await ramp(full, size)
            half = await full.step(max(1.0, bare_max / 2), size.e2e_seconds)
            async with webhooks(stack, bare_bot, bare):
                await full.step(size.e2e_start, size.e2e_seconds / 2)  # warm up
                await baseline.step(size.e2e_start, size.e2e_seconds / 2)
                hook_bare_steps, hook_bare_max = await ramp(baseline, size)
                hook_steps, hook_max = await ramp(full, size)
                hook_half = await full.step(max(1.0, hook_bare_max / 2), size.e2e_seconds)
        finally:
            with contextlib.suppress(RuntimeError):
                await bare.stop_polling()
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await polling
            await bare_bot.session.close()
            await stack.stop()
    return {
        "e2e_p50_ms": half.p50_ms,
        "e2e_p99_ms": half.p99_ms,
        "e2e_at_ups": half.offered,
        "e2e_max_sustained_ups": full_max,
        "e2e_bare_max_sustained_ups": bare_max,
        "e2e_webhook_p50_ms": hook_half.p50_ms,
        "e2e_webhook_p99_ms": hook_half.p99_ms,
        "e2e_webhook_at_ups": hook_half.offered,
        "e2e_webhook_max_sustained_ups": hook_max,
        "e2e_webhook_bare_max_sustained_ups": hook_bare_max,
        "curve": {
            "bot": [vars(s) for s in full_steps],
            "bare": [vars(s) for s in bare_steps],
            "bot_webhook": [vars(s) for s in hook_steps],
            "bare_webhook": [vars(s) for s in hook_bare_steps],
        },
    }
