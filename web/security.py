"""Headers on every answer, the client's address and an access log without tokens."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from web.metrics import route_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Set on a response that Telegram may embed (a Web App page).
FRAMEABLE = web.ResponseKey("accountbot_frameable", bool)


# The web server's own paths: an app shared with the sandbox keeps the sandbox's pages as they are.
OWN_PATHS = (
    "/auth/",
    "/email/",
    "/password/",
    "/login",
    "/idp/",
    "/oidc/",  # the OpenID Provider's pages and endpoints (PRODUCT §1.11)
    "/.well-known/openid-configuration",
    "/healthz",
    "/livez",
    "/readyz",
    "/metrics",
    "/telegram/",
)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """OWASP secure headers; pages set their own CSP with a nonce, the rest get a closed one."""
    response = await handler(request)
    if not request.path.startswith(OWN_PATHS):
        return response
    headers = response.headers
    headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if not response.get(FRAMEABLE):
        headers.setdefault("X-Frame-Options", "DENY")
    # Pages carry one-time tokens and personal data: nothing is cached (RFC 9111 §5.2.2.5).
    headers.setdefault("Cache-Control", "no-store")
    return response


# A path segment that looks like a token: long and URL-safe.
_TOKEN = re.compile(r"/[A-Za-z0-9_\-]{16,}")


class MaskedAccessLogger(AbstractAccessLogger):
    """Logs the route pattern and never the query: paths and callbacks carry one-time secrets."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if isinstance(request, web.Request) and request.match_info.route.resource is not None:
            path = route_of(request)
        else:
            path = _TOKEN.sub("/***", request.path)
        # Written once the request's context is gone: its id comes from the answer's header.
        ident = response.headers.get("X-Request-ID")
        extra = {"request_id": ident} if ident else None
        self.logger.info("%s %s %s %.3fs", request.method, path, response.status, time, extra=extra)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(20)


def client_address(request: web.Request, trusted_proxies: Iterable[str]) -> str:
    """The peer, or the last X-Forwarded-For hop not ours when the peer is a trusted proxy."""
    peer = request.remote or ""
    networks = [n for n in map(_network, trusted_proxies) if n is not None]
    if not networks or not _within(peer, networks):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _within(hop, networks):
            return hop
    return peer


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _within(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
