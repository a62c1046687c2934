"""Probes, the metrics endpoint and the webhook's drain (docs/DEPLOY.md).

- `/livez`: the process answers (the image's HEALTHCHECK); nothing else is asked.
- `/readyz`: the database, Redis and Telegram answer and the instance is not stopping; the look
  is reused for READINESS_CACHE seconds, so probes from every proxy do not hammer them.
- `/metrics`: on a server of its own (METRICS_HOST:METRICS_PORT, off the public port), and on
  the public port only behind METRICS_TOKEN (a bearer token, compared in constant time) or when
  METRICS_PORT=0 says there is no server of its own.
- `Drain`: on SIGTERM a webhook instance answers new updates 503 (Telegram delivers them again,
  to another instance behind the proxy), finishes those in flight, then stops.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from core.bootstrap import Services
from web.context import context

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Check = Callable[[], Awaitable[Any]]
CHECK_TIMEOUT = 2.0  # seconds one dependency may take to answer a readiness look


class Drain:
    """Counts the webhook requests in flight; once closed, new ones are refused with 503."""

    def __init__(self) -> None:
        self.closed = False
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if self.closed:  # not acknowledged: Telegram sends the update again
                return web.json_response(
                    {"ok": False, "error": "stopping"}, status=503, headers={"Retry-After": "1"}
                )
            self.in_flight += 1
            self._idle.clear()
            try:
                return await handler(request)
            finally:
                self.in_flight -= 1
                if self.in_flight == 0:
                    self._idle.set()

        return guarded

    async def close(self, grace: float) -> int:
        """Refuse new updates, wait up to `grace` seconds for those in flight; how many are left."""
        self.closed = True
        if self.in_flight:
            log.info("stopping: %s updates in flight", self.in_flight)
            try:
                async with asyncio.timeout(grace):
                    await self._idle.wait()
            except TimeoutError:
                log.warning("stopping with %s updates unfinished", self.in_flight)
        return self.in_flight


class Readiness:
    """The dependencies' answers, looked at once per `cache` seconds at most (one look at a
    time); the look also keeps `accountbot_dependency_up` and the outage time."""

    def __init__(self, services: Services, drain: Drain) -> None:
        self.services, self.drain = services, drain
        self.checks: dict[str, Check] = dict(services.checks)
        self._looked: datetime | None = None
        self._last: dict[str, bool] = {}
        self._lock = asyncio.Lock()

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def look(self) -> dict[str, bool]:
        cache = self.services.settings.readiness_cache
        async with self._lock:
            now = self.services.clock.now()
            if self._looked is not None and (now - self._looked).total_seconds() < cache:
                return dict(self._last)
            found = {name: await _answers(check) for name, check in self.checks.items()}
            metrics = self.services.metrics
            for name, up in found.items():
                metrics.dependency_up.labels(name).set(1 if up else 0)
                if not up and self._last.get(name) is False and self._looked is not None:
                    elapsed = (now - self._looked).total_seconds()
                    metrics.down_seconds.labels(name).inc(max(elapsed, 0.0))
            self._looked, self._last = now, found
            return dict(found)


async def _answers(check: Check) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await check()
    except Exception:
        return False
    return True


READINESS = web.AppKey("accountbot_readiness", Readiness)
DRAIN = web.AppKey("accountbot_drain", Drain)


def register_health(app: web.Application, services: Services) -> Readiness:
    """`/livez`, `/readyz` and, when the settings allow it, `/metrics` on this app's port."""
    drain = Drain()
    readiness = Readiness(services, drain)
    app[DRAIN], app[READINESS] = drain, readiness
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    settings = services.settings
    if settings.metrics_token is not None or settings.metrics_port == 0:
        app.router.add_get("/metrics", metrics)
    return readiness


async def livez(_: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    """200 when every dependency answers; 503 naming what is down, or saying it is stopping."""
    readiness = request.config_dict[READINESS]
    if readiness.drain.closed:
        return web.json_response({"status": "stopping"}, status=503)
    found = await readiness.look()
    body = {name: "ok" if up else "down" for name, up in found.items()}
    return web.json_response(body, status=200 if all(found.values()) else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text; with METRICS_TOKEN only for `Authorization: Bearer <token>`."""
    ctx = context(request)
    token = ctx.services.settings.metrics_token
    if token is not None:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
            return web.json_response(
                {"error": "a bearer token is required"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
    readiness = request.config_dict.get(READINESS)
    if readiness is not None:
        await readiness.look()  # the scrape keeps the dependencies' gauges fresh (cached)
    return ctx.metrics.render(ctx.services.metrics.registry)


async def start_metrics_server(app: web.Application, host: str, port: int) -> web.AppRunner:
    """`/metrics` of `app` (its context and readiness) served on a port of its own."""
    from web.app import start_web
    from web.context import CONTEXT

    own = web.Application()
    own[CONTEXT] = app[CONTEXT]
    own[READINESS] = app[READINESS]
    own.router.add_get("/metrics", metrics)
    return await start_web(own, host, port)
