"""Back-channel notices pushed to the workspaces (PRODUCT §1.11, docs/PROVIDER.md).

The web process runs `core.provider.notices.NoticeDeliverer` in the background (`delivering`, a
cleanup context of the app): each Security Event Token is signed with the provider's current
ES256 key (the one ID tokens are signed with, published at /oidc/jwks) and POSTed as
`application/secevent+jwt` (RFC 8935 push delivery); 202 or 200 means delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from joserfc import jwt

from core.adapters.db.engine import Database, PgPool
from core.adapters.db.oidc import SqlProviderStore
from core.bootstrap import Services
from core.provider.models import SigningKey
from core.provider.notices import NoticeDeliverer, NoticePolicy, Push
from web.context import CONTEXT
from web.oidc import keys

log = logging.getLogger(__name__)
SET_TYPE = "application/secevent+jwt"


def sign(key: SigningKey, claims: Mapping[str, Any]) -> str:
    """A SET (RFC 8417 §2.3: `typ` secevent+jwt), ES256 with the key's `kid`."""
    header = {"alg": keys.ALG, "kid": key.kid, "typ": "secevent+jwt"}
    return jwt.encode(header, dict(claims), keys.private(key))


def pusher(session: aiohttp.ClientSession, timeout: float) -> Push:
    """POST the SET; None when accepted, else a short reason (status, RFC 8935 `err` code)."""

    async def push(uri: str, token: str) -> str | None:
        try:
            async with session.post(
                uri,
                data=token.encode("ascii"),
                headers={"Content-Type": SET_TYPE, "Accept": "application/json"},
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as response:
                if response.status in (200, 202):
                    return None
                return f"HTTP {response.status}{await _err(response)}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__

    return push


async def _err(response: aiohttp.ClientResponse) -> str:
    """RFC 8935 §2.4: a refusal may say why in {"err": "...", "description": ...}."""
    with contextlib.suppress(Exception):
        body = await response.content.read(4096)
        err = json.loads(body).get("err")
        if isinstance(err, str) and err.isascii() and len(err) <= 40:
            return f" {err}"
    return ""


def policy(services: Services) -> NoticePolicy:
    settings = services.settings
    return NoticePolicy(
        timeout=timedelta(seconds=settings.op_notice_timeout),
        max_attempts=settings.op_notice_max_attempts,
        backoff=timedelta(seconds=settings.op_notice_backoff),
        backoff_max=timedelta(seconds=settings.op_notice_backoff_max),
    )


def deliverer(
    services: Services, session: aiohttp.ClientSession, lookout: Database | None = None
) -> NoticeDeliverer:
    """The deliverer; with `lookout`, its look for due notices goes through that database."""
    provider = services.provider
    assert provider is not None, "core.bootstrap builds it"
    settings = services.settings
    issuer = (settings.op_issuer or settings.public_url).rstrip("/")
    rules = policy(services)
    push = pusher(session, rules.timeout.total_seconds())
    due = SqlProviderStore(lookout).notices_due if lookout is not None else None
    return NoticeDeliverer(provider, issuer, sign, push, rules, services.metrics, due)


def _lookout(services: Services) -> Database:
    """One connection of its own for the look every few seconds: it never waits for a pooled
    connection behind the updates, nor counts among theirs. Claims and outcomes, only when a
    notice is due, go through the product's database (on SQLite, in its writer line)."""
    database = services.database
    return Database(
        database.engine.url.render_as_string(hide_password=False),
        timeouts=database.timeouts,
        sqlite_busy_timeout=database.sqlite_busy_timeout,
        pool=PgPool(size=1, max_overflow=0),
    )


async def delivering(app: web.Application) -> AsyncIterator[None]:
    """Send the notices while the app runs; stop at its cleanup (`OP_NOTICE_INTERVAL=0`: not in
    this instance). A send cut short by the stop goes again after its lease, with its jti."""
    services = app[CONTEXT].services
    interval = services.settings.op_notice_interval
    if services.provider is None or interval <= 0:
        yield
        return
    session = aiohttp.ClientSession()
    lookout = _lookout(services)
    stop = asyncio.Event()
    task = asyncio.create_task(deliverer(services, session, lookout).run(stop, interval))
    try:
        yield
    finally:
        stop.set()
        try:
            async with asyncio.timeout(services.settings.op_notice_timeout + 1):
                await task
        except TimeoutError:
            log.info("workspace notices: stopped in the middle of a push; it goes again later")
        await session.close()
        await lookout.dispose()
