"""`accountbot webhook set|info|delete` against the sandbox's Bot API, and a webhook instance
stopped by SIGTERM mid-update: new updates refused with 503, the running one finished."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from core.adapters.db.migrate import upgrade
from sandbox.botapi import BotAccount, SandboxState, register_botapi
from sandbox.client import Sandbox
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAE-webhook-cli-token"
SECRET = "hook-secret-never-printed"
TIMEOUT = 60  # seconds a child process may take on a loaded machine; only a hang reaches it


@dataclass
class BotApi:
    url: str
    bot: BotAccount
    sandbox: Sandbox


@pytest.fixture
async def botapi(clock: FakeClock) -> AsyncIterator[BotApi]:
    state = SandboxState(clock=clock, flood_limits=False)
    state.webhook_retry_delays = (60.0,)  # the unreachable webhook is tried once, not hammered
    account = state.add_bot(TOKEN, username="webhook_cli_bot", first_name="Bot")
    app = web.Application()
    register_botapi(app, state)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}"
    async with Sandbox(url) as sandbox:
        yield BotApi(url, account, sandbox)
    await runner.cleanup()


def environment(tmp_path: Path, telegram: str, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram,
        "PUBLIC_URL": "https://bot.example.com",
        "SECRET_KEY": "k" * 40,
        "WEBHOOK_SECRET": SECRET,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3",
        **extra,
    }


async def accountbot(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "accountbot", *argv,
        cwd=tmp_cwd(env), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(TIMEOUT):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def tmp_cwd(env: dict[str, str]) -> str:
    """A folder without the repository's .env, so only `env` configures the command."""
    return env["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///").rsplit("/", 1)[0]


async def test_webhook_set_info_and_delete(botapi: BotApi, tmp_path: Path) -> None:
    env = environment(tmp_path, botapi.url, PYTHONPATH=str(ROOT))
    person = await botapi.sandbox.person("Ivan")
    await person.send("waiting before the webhook")  # an update pending at Telegram

    code, out, err = await accountbot(env, "webhook", "set", "--max-connections", "12")
    assert code == 0, err
    webhook = botapi.bot.webhook
    assert webhook is not None
    assert webhook.url == "https://bot.example.com/telegram/webhook"
    assert webhook.secret_token == SECRET
    assert webhook.max_connections == 12
    # The update types the dispatcher has handlers for, and no other.
    assert botapi.bot.allowed_updates is not None
    assert {"message", "callback_query"} <= set(botapi.bot.allowed_updates)
    assert "inline_query" not in botapi.bot.allowed_updates
    assert "https://bot.example.com/telegram/webhook" in out
    assert len(botapi.bot.updates) == 1  # kept: no --drop-pending-updates

    code, out, err = await accountbot(env, "webhook", "info")
    assert code == 0, err
    assert "https://bot.example.com/telegram/webhook" in out
    assert "pending updates:  1" in out and "max connections:  12" in out
    assert SECRET not in out + err

    code, out, err = await accountbot(
        env, "webhook", "set", "--url", "https://other.example.com/hook", "--drop-pending-updates"
    )
    assert code == 0, err
    assert botapi.bot.webhook is not None
    assert botapi.bot.webhook.url == "https://other.example.com/hook"
    assert botapi.bot.webhook.max_connections == 40  # WEBHOOK_MAX_CONNECTIONS
    assert botapi.bot.updates == []

    code, out, err = await accountbot(env, "webhook", "delete")
    assert code == 0, err
    assert botapi.bot.webhook is None
    code, out, err = await accountbot(env, "webhook", "info")
    assert "(none: the bot polls)" in out
    assert SECRET not in out + err


async def test_webhook_set_needs_the_secret(botapi: BotApi, tmp_path: Path) -> None:
    env = environment(tmp_path, botapi.url, PYTHONPATH=str(ROOT))
    del env["WEBHOOK_SECRET"]

    code, _, err = await accountbot(env, "webhook", "set")

    assert code == 2
    assert "WEBHOOK_SECRET is required" in err and "Traceback" not in err
    assert botapi.bot.webhook is None


# A webhook instance as `accountbot run` serves it (accountbot.runner.serve_webhook), with one
# slow handler: it finishes only when the test asks (POST /release), after SIGTERM.
INSTANCE = """
import asyncio, logging, sys
from aiogram import Dispatcher
from aiogram.types import Message
from aiohttp import web
from accountbot.runner import serve_webhook, stop_signals
from bot.app import build_bot
from bot.polling import webhook_handler
from core.bootstrap import build_services
from core.settings import load_settings
from web.app import create_web_app, start_web

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")

async def main():
    settings = load_settings()
    stop = stop_signals()
    services = build_services(settings)
    bot = build_bot(settings)
    dp = Dispatcher()
    release = asyncio.Event()

    @dp.message()
    async def slow(message: Message) -> None:
        print("started", message.text, flush=True)
        await release.wait()
        print("handled", message.text, flush=True)

    async def let_go(_):
        release.set()
        return web.Response(text="ok")

    app = create_web_app(services, webhook_handler=webhook_handler(dp, bot, settings))
    app.router.add_post("/release", let_go)
    runner = await start_web(app, "127.0.0.1", 0, shutdown_timeout=settings.shutdown_grace)
    print("listening", runner.addresses[0][1], flush=True)
    left = await serve_webhook(app, bot, dp, settings, stop)
    await runner.cleanup()
    await bot.session.close()
    await services.close()
    print("exited", left, flush=True)

asyncio.run(main())
"""


async def telegram_stand_in() -> tuple[web.AppRunner, str]:
    """Answers getWebhookInfo as Telegram does when the webhook is already set."""

    async def call(request: web.Request) -> web.Response:
        info = {
            "url": "https://bot.example.com/telegram/webhook",
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        if request.match_info["method"].lower() == "getwebhookinfo":
            return web.json_response({"ok": True, "result": info})
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", call)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def line_with(stream: asyncio.StreamReader, text: str) -> str:
    while True:
        line = (await stream.readline()).decode()
        assert line, f"the instance ended before saying {text!r}"
        if text in line:
            return line


HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def update(number: int, text: str) -> dict[str, object]:
    chat = {"id": number, "type": "private"}
    message = {"message_id": 1, "date": 0, "chat": chat, "text": text}
    return {"update_id": number, "message": message}


@dataclass
class Instance:
    process: asyncio.subprocess.Process
    base: str  # its web server
    http: aiohttp.ClientSession

    async def line(self, text: str, *, stderr: bool = False) -> str:
        stream = self.process.stderr if stderr else self.process.stdout
        assert stream is not None
        return await line_with(stream, text)

    async def rest(self) -> str:
        """What it prints until it exits, once it exited with 0."""
        assert self.process.stdout is not None
        said = (await self.process.stdout.read()).decode()
        assert await self.process.wait() == 0
        return said


@contextlib.asynccontextmanager
async def instance(tmp_path: Path, **extra: str) -> AsyncIterator[Instance]:
    """INSTANCE on a migrated database (as `accountbot migrate` leaves it), listening."""
    telegram, url = await telegram_stand_in()
    env = environment(tmp_path, url, PYTHONPATH=str(ROOT), TELEGRAM_MODE="webhook", **extra)
    await upgrade(env["DATABASE_URL"])
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", INSTANCE, cwd=tmp_cwd(env), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(TIMEOUT), aiohttp.ClientSession() as http:
            port = int((await line_with(process.stdout, "listening")).split()[1])
            yield Instance(process, f"http://127.0.0.1:{port}", http)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await telegram.cleanup()


async def test_sigterm_refuses_new_updates_finishes_the_running_one_and_exits(
    tmp_path: Path,
) -> None:
    async with instance(tmp_path) as bot:
        http, base = bot.http, bot.base
        running = asyncio.create_task(
            http.post(base + "/telegram/webhook", json=update(1, "slow"), headers=HEADERS)
        )
        await bot.line("started slow")
        bot.process.send_signal(signal.SIGTERM)
        await bot.line("updates in flight", stderr=True)  # the drain has begun

        async with http.post(
            base + "/telegram/webhook", json=update(2, "late"), headers=HEADERS
        ) as response:
            assert response.status == 503  # unanswered: Telegram delivers it again
        async with http.get(base + "/readyz") as response:
            assert response.status == 503  # the proxy takes the instance out
        assert not running.done()

        async with http.post(base + "/release"):
            pass
        async with await running as response:
            assert response.status == 200  # acknowledged once handled
        rest = await bot.rest()

    assert "handled slow" in rest and "exited 0" in rest
    assert "late" not in rest


async def test_sigterm_waits_for_an_update_already_answered_past_the_ack_timeout(
    tmp_path: Path,
) -> None:
    """An update that ran past UPDATE_ACK_TIMEOUT was answered 200, so Telegram never sends it
    again: a SIGTERM waits for it as for one whose request is open, instead of cutting it off."""
    async with instance(tmp_path, UPDATE_ACK_TIMEOUT="0.05") as bot:
        async with bot.http.post(
            bot.base + "/telegram/webhook", json=update(7, "slow"), headers=HEADERS
        ) as answer:
            assert answer.status == 200  # answered early: the handler still waits
        await bot.line("started slow")
        bot.process.send_signal(signal.SIGTERM)
        await bot.line("1 updates still being handled", stderr=True)
        async with bot.http.post(bot.base + "/release"):
            pass
        rest = await bot.rest()

    assert "handled slow" in rest and "exited 0" in rest
