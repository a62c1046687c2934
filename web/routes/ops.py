"""Operations: health, metrics and the bot's webhook."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from web.context import context

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


async def healthz(request: web.Request) -> web.Response:
    """200 with each dependency "ok", or 503 naming what is down."""
    checks = await context(request).services.health()
    body = {name: "ok" if up else "down" for name, up in checks.items()}
    return web.json_response(body, status=200 if all(checks.values()) else 503)


async def metrics(request: web.Request) -> web.Response:
    ctx = context(request)
    return ctx.metrics.render(ctx.services.metrics.registry)


def webhook(secret: str, handler: Handler) -> Handler:
    """The bot's webhook behind Telegram's secret token header, compared in constant time."""
    expected = secret.encode()

    async def guarded(request: web.Request) -> web.StreamResponse:
        sent = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(sent, expected):
            context(request).metrics.failures.labels("webhook_secret").inc()
            return web.Response(status=403)
        return await handler(request)

    return guarded
