"""Operations: the dependencies' health and the bot's webhook (probes and /metrics: web.health)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from web.context import context

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def healthz(request: web.Request) -> web.Response:
    """200 with each dependency "ok", or 503 naming what is down."""
    checks = await context(request).services.health()
    body = {name: "ok" if up else "down" for name, up in checks.items()}
    return web.json_response(body, status=200 if all(checks.values()) else 503)


def webhook(handler: Handler) -> Handler:
    """The bot's webhook (aiogram's handler checks Telegram's secret token); refusals counted."""

    async def counted(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        if response.status == web.HTTPUnauthorized.status_code:
            context(request).metrics.failures.labels("webhook_secret").inc()
        return response

    return counted
