"""Running the product in production, from settings.

The sandbox (everything on one machine) is assembled by `sandbox.stack`, in its own distribution.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiohttp import web

from accountbot.webhook import ensure_webhook
from bot.app import build_bot, build_dispatcher, set_commands
from bot.polling import handling_of, poller, webhook_handler
from core.bootstrap import Services, build_services
from core.settings import Settings, load_settings
from web.app import create_web_app, start_web
from web.health import DRAIN, READINESS, start_metrics_server

log = logging.getLogger(__name__)


WebAppFactory = Callable[..., web.Application]


async def run_production(create_app: WebAppFactory = create_web_app) -> int:
    """The bot and the web server from the environment; `create_app` is the web server's
    factory (`accountbot run` passes the sandbox's when DEV_IDP_ENABLED, see accountbot.cli)."""
    settings = load_settings()
    logging.getLogger().setLevel(settings.log_level)
    services = build_services(settings)
    if not await redis_is_no_cluster(services):
        await services.close()
        return 2
    bot = build_bot(settings)
    dp, i18n = build_dispatcher(services, bot)
    me = await bot.get_me()
    webhook, stop = None, None
    if settings.telegram_mode == "webhook":
        stop = stop_signals()  # before the first update: a SIGTERM drains, never kills mid-update
        webhook = webhook_handler(dp, bot, settings)  # answered once handled (PRODUCT §3)
    app = create_app(services, webhook_handler=webhook, bot_username=me.username)
    app[READINESS].add("telegram", bot.get_me)  # /readyz: Telegram answers too
    observe_pacer(bot, services)
    runner = await start_web(
        app, settings.web_host, settings.web_port, shutdown_timeout=settings.shutdown_grace
    )
    log.info("web server on %s:%s, bot @%s", settings.web_host, settings.web_port, me.username)
    metrics_server = await start_metrics(app, settings)
    housekeeping = start_housekeeping(services)
    try:
        await set_commands(bot, i18n)
        if stop is None:  # polling
            polling = poller(dp, bot, settings)  # confirms only handled updates (PRODUCT §3)
            with contextlib.suppress(NotImplementedError):
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, polling.request_stop)
            await polling.run()
        else:
            await serve_webhook(app, bot, dp, settings, stop)
    finally:
        await stop_task(housekeeping)
        await runner.cleanup()
        if metrics_server is not None:
            await metrics_server.cleanup()
        await bot.session.close()
        await services.close()
    return 0


async def serve_webhook(
    app: web.Application, bot: Bot, dp: Dispatcher, settings: Settings, stop: asyncio.Event
) -> int:
    """Take updates on the webhook until `stop` (SIGTERM); then new ones get 503 (Telegram sends
    them again, to another instance behind the proxy) and those in flight finish, also those
    already answered because they ran past UPDATE_ACK_TIMEOUT. What still runs after
    SHUTDOWN_GRACE is lost if it was answered, delivered again if not; how many are left."""
    handling = handling_of(dp)
    await ensure_webhook(bot, dp, settings)  # unless `accountbot webhook set` did
    await stop.wait()
    deadline = asyncio.get_running_loop().time() + settings.shutdown_grace
    await app[DRAIN].close(settings.shutdown_grace)
    if handling.count:
        log.info("stopping: %s updates still being handled", handling.count)
    left = await handling.settle(deadline - asyncio.get_running_loop().time())
    log.info("stopped taking updates; %s left unfinished", left)
    return left


def stop_signals() -> asyncio.Event:
    """An event SIGTERM or SIGINT (Ctrl+C) sets; from now on they no longer end the process."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(number, stop.set)
    return stop


async def start_metrics(app: web.Application, settings: Settings) -> web.AppRunner | None:
    """`/metrics` on METRICS_HOST:METRICS_PORT, off the public port; None when METRICS_PORT=0."""
    if settings.metrics_port == 0:
        if settings.metrics_token is None:
            log.warning("/metrics is open on WEB_PORT: METRICS_PORT=0 and no METRICS_TOKEN")
        return None
    server = await start_metrics_server(app, settings.metrics_host, settings.metrics_port)
    log.info("metrics on %s:%s", settings.metrics_host, settings.metrics_port)
    return server


def observe_pacer(bot: Bot, services: Services) -> None:
    """Telegram's 429s, as the Bot API pacer counts them (bot/pacing.py), on /metrics."""
    from bot.pacing import Pacer

    pacer = next((m for m in bot.session.middleware if isinstance(m, Pacer)), None)
    if pacer is None:
        return
    services.metrics.observe(
        "accountbot_telegram_flood_waits",
        "Bot API calls Telegram refused with 429 (waited out and tried again)",
        lambda: pacer.refused,
    )
    services.metrics.observe(
        "accountbot_telegram_flood_gave_up",
        "Bot API calls given up after 429s (TELEGRAM_RETRY_LIMIT, TELEGRAM_MAX_RETRY_WAIT)",
        lambda: pacer.gave_up,
    )


async def redis_is_no_cluster(services: Services) -> bool:
    """False, with one line on stderr, when REDIS_URL reaches a Redis Cluster node (refused:
    core/adapters/redis/connection.py); a Redis that does not answer yet is an outage, not this."""
    if services.redis is None:
        return True
    from redis.exceptions import RedisError

    from core.adapters.redis.connection import ClusterRefused, refuse_cluster

    try:
        await refuse_cluster(services.redis)
    except ClusterRefused as error:
        print(f"Configuration error: REDIS_URL: {error}.", file=sys.stderr)
        return False
    except (RedisError, OSError):
        log.warning("Redis does not answer at start; its readiness says when it does")
    return True


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
