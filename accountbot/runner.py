"""Running the product in production, from settings.

The sandbox (everything on one machine) is assembled by `sandbox.stack`, in its own distribution.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.app import build_bot, build_dispatcher, set_commands
from bot.polling import poller, webhook_handler
from core.bootstrap import Services, build_services
from core.settings import load_settings
from web.app import create_web_app, start_web

log = logging.getLogger(__name__)


WebAppFactory = Callable[..., web.Application]


async def run_production(create_app: WebAppFactory = create_web_app) -> int:
    """The bot and the web server from the environment; `create_app` is the web server's
    factory (`accountbot run` passes the sandbox's when DEV_IDP_ENABLED, see accountbot.cli)."""
    settings = load_settings()
    logging.getLogger().setLevel(settings.log_level)
    services = build_services(settings)
    bot = build_bot(settings)
    dp, i18n = build_dispatcher(services, bot)
    me = await bot.get_me()
    webhook = None
    if settings.telegram_mode == "webhook":
        webhook = webhook_handler(dp, bot, settings)  # answered once handled (PRODUCT §3)
    app = create_app(services, webhook_handler=webhook, bot_username=me.username)
    runner = await start_web(app, settings.web_host, settings.web_port)
    log.info("web server on %s:%s, bot @%s", settings.web_host, settings.web_port, me.username)
    housekeeping = start_housekeeping(services)
    try:
        await set_commands(bot, i18n)
        if webhook is None:
            polling = poller(dp, bot, settings)  # confirms only handled updates (PRODUCT §3)
            with contextlib.suppress(NotImplementedError):
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, polling.request_stop)
            await polling.run()
        else:
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
            await bot.set_webhook(f"{settings.public_url}/telegram/webhook", secret_token=secret)
            await asyncio.Event().wait()
    finally:
        await stop_task(housekeeping)
        await runner.cleanup()
        await bot.session.close()
        await services.close()
    return 0


def start_housekeeping(services: Services) -> asyncio.Task[None]:
    """Expired claims and old audit leave the database every HOUSEKEEPING_INTERVAL."""
    return asyncio.create_task(services.housekeeping.run_forever(), name="housekeeping")


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


__all__ = ["create_web_app", "run_production", "start_housekeeping", "stop_task"]
