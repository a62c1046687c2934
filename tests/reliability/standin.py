"""Telegram's side in the test process, the bot in a process of its own that a test can kill.

The sandbox's Bot API stand-in, its mailbox (an SMTP catcher) and an SMS gateway stand-in run
here; `accountbot run` runs as a child process on PostgreSQL + Redis, configured from the
environment as in production (core/settings.py), with the development identity provider on its
own web server. The stand-in tells the test when the bot polls (it is up) and can hold the bot's
next send, so a test knows the bot is in the middle of an update when it kills it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from core.adapters.db.migrate import upgrade
from sandbox.botapi import SandboxState, register_botapi
from sandbox.mailbox import Mailbox
from sandbox.stack import SANDBOX_BOT, SANDBOX_TOKEN
from tests import services
from tests.ports import free_port

# The code the bot process runs; another checkout (an older commit) shows how it behaved.
ROOT = Path(os.environ.get("RELIABILITY_BOT_ROOT") or Path(__file__).resolve().parents[2])
CODE = re.compile(r"\b(\d{6})\b")
SENDS = ("sendmessage", "editmessagetext", "answercallbackquery", "deletemessage")


@dataclass
class Sms:
    phone: str
    text: str


@dataclass
class World:
    """The stand-in Bot API, the mailbox and the SMS gateway, with hooks for the tests."""

    url: str
    state: SandboxState
    mailbox: Mailbox
    runner: web.AppRunner
    smtp_port: int
    sms: list[Sms] = field(default_factory=list)
    polled: asyncio.Event = field(default_factory=asyncio.Event)
    calls: int = 0  # the bot's Bot API calls but getUpdates: how far its work has come
    called: asyncio.Event = field(default_factory=asyncio.Event)
    hold_next_send: bool = False
    hold_after_answer: bool = False  # the next tap's answer reaches the chat, then the bot waits
    held: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def letters_to(self, address: str) -> list[Any]:
        return self.mailbox.letters(to=address)

    def sms_to(self, phone: str) -> list[Sms]:
        return [sms for sms in self.sms if sms.phone == phone]

    async def worked(self, calls: int) -> None:
        """Wait until the bot made `calls` more Bot API calls (answers, edits, deletions)."""
        target = self.calls + calls
        while self.calls < target:
            self.called.clear()
            await self.called.wait()

    async def stop(self) -> None:
        self.release.set()
        self.state.close()
        await self.runner.cleanup()
        await self.mailbox.stop()


def _hooks(world_ref: list[World]) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def hooks(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        world = world_ref[0]
        method = request.path.rsplit("/", 1)[-1].lower()
        if method == "getupdates":
            world.polled.set()
        else:
            world.calls += 1
            world.called.set()
        if method in SENDS and world.hold_next_send:
            # The bot is in the middle of an update (and holds the chat's lock): it waits here
            # until the test killed it; the call then fails and changes nothing.
            world.hold_next_send = False
            world.held.set()
            await world.release.wait()
            return web.json_response({"ok": False, "error_code": 502}, status=502)
        if method == "answercallbackquery" and world.hold_after_answer:
            # The answer was taken; the bot, before it could note the update as handled, waits
            # here until the test killed it.
            world.hold_after_answer = False
            response = await handler(request)
            world.held.set()
            await world.release.wait()
            return response
        return await handler(request)

    return hooks


async def start_world() -> World:
    state = SandboxState(flood_limits=False)
    state.add_bot(SANDBOX_TOKEN, username=SANDBOX_BOT, first_name="Account assistant")
    mailbox = Mailbox(None)
    smtp_port = await mailbox.start("127.0.0.1")
    ref: list[World] = []
    app = web.Application(middlewares=[_hooks(ref)])
    register_botapi(app, state)

    async def gateway(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        ref[0].sms.append(Sms(body["to"], body["text"]))
        return web.json_response({"ok": True})

    app.router.add_post("/sms", gateway)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    world = World(f"http://127.0.0.1:{port}", state, mailbox, runner, smtp_port)
    ref.append(world)
    return world


class BotProcess:
    """`accountbot run` as a child process: started, SIGKILLed and started again."""

    def __init__(self, env: dict[str, str], folder: Path, world: World) -> None:
        self.env, self.folder, self.world = env, folder, world
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0

    async def start(self) -> None:
        self.world.polled.clear()
        self.starts += 1
        log = open(self.folder / f"bot-{self.starts}.log", "wb")  # noqa: SIM115, ASYNC230
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "accountbot",
            "run",
            cwd=self.folder,  # no .env of the developer's
            env=self.env,
            stdout=log,
            stderr=log,
        )
        log.close()

    async def ready(self, timeout: float = 600.0) -> None:  # noqa: ASYNC109
        """Wait until the bot polls (it is up) or exits, and fail with its log if it exited.

        The timeout only bounds a hang: a start is imports, migrations and a first poll, and on a
        machine loaded by other work importing aiogram alone once took 22 s (60 s was too short).
        """
        wait = asyncio.ensure_future(self.world.polled.wait())
        assert self.process is not None
        exited = asyncio.ensure_future(self.process.wait())
        done, _ = await asyncio.wait(
            {wait, exited}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        wait.cancel()
        exited.cancel()
        if wait not in done:
            raise AssertionError(f"the bot did not start: {self.log()[-3000:]}")

    def log(self) -> str:
        return (self.folder / f"bot-{self.starts}.log").read_text(errors="replace")

    async def kill(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.kills += 1

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                await self.kill()


@contextlib.asynccontextmanager
async def bot_and_world(folder: Path, **settings: str) -> AsyncIterator[tuple[BotProcess, World]]:
    """The world here, the bot there, on a fresh PostgreSQL database and Redis key prefix."""
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before anything runs
    database = await services.create_pg_database()
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    world = await start_world()
    web_port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",  # a killed process keeps its last log lines
        "BOT_TOKEN": SANDBOX_TOKEN,
        "TELEGRAM_API_URL": world.url,
        "TELEGRAM_MODE": "polling",
        "PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(web_port),
        # A port of its own, or two suites on one machine fight over the default 9464.
        "METRICS_PORT": str(free_port()),
        "DATABASE_URL": database,
        "REDIS_URL": services.redis_url(),
        "REDIS_PREFIX": prefix,
        "SECRET_KEY": "reliability-" + "k" * 40,
        "DATA_DIR": str(folder),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(world.smtp_port),
        "SMTP_TLS": "none",
        "SMS_BACKEND": "http",
        "SMS_HTTP_URL": world.url + "/sms",
        "DEV_IDP_ENABLED": "true",
        "LOG_LEVEL": os.environ.get("RELIABILITY_LOG_LEVEL", "WARNING"),
        # A loaded machine is not an outage: these bots prove crashes, not the outage answer.
        **{name.upper(): str(seconds) for name, seconds in services.patient().items()},
        **{name.upper(): value for name, value in settings.items()},
    }
    await upgrade(database)
    bot = BotProcess(env, folder, world)
    try:
        yield bot, world
    finally:
        await bot.stop()
        await world.stop()
        from redis.asyncio import Redis

        redis = Redis.from_url(services.redis_url())
        async for key in redis.scan_iter(match=prefix + "*"):
            await redis.delete(key)
        await redis.aclose()
        await services.drop_pg_database(database)


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, "no code in the message"
    return match.group(1)
