"""Prometheus metrics of one application, on its own registry (not the process-global one)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Metrics:
    """Sign-ins, bindings, codes sent, failures by reason and handler latency."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.sign_ins = Counter(
            "accountbot_sign_ins", "Social sign-ins completed", ["provider"], registry=self.registry
        )
        self.bindings = Counter(
            "accountbot_bindings_confirmed", "Addresses confirmed", ["kind"], registry=self.registry
        )
        self.codes_sent = Counter(
            "accountbot_codes_sent", "Codes and links sent", ["channel"], registry=self.registry
        )
        self.failures = Counter(
            "accountbot_failures", "Refusals by reason", ["reason"], registry=self.registry
        )
        self.latency = Histogram(
            "accountbot_http_request_seconds",
            "Handler latency by route",
            ["route", "method"],
            registry=self.registry,
        )

    def render(self, *others: CollectorRegistry) -> web.Response:
        """This registry and any other (the core's operational counters), in one exposition."""
        body = b"".join(generate_latest(registry) for registry in (self.registry, *others))
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    def middleware(self) -> Middleware:
        @web.middleware
        async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
            started = time.perf_counter()
            try:
                return await handler(request)
            finally:
                # The route pattern, never the path: paths carry one-time tokens.
                self.latency.labels(route_of(request), request.method).observe(
                    time.perf_counter() - started
                )

        return timed


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"
