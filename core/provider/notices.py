"""Back-channel notices to workspaces (PRODUCT §1.11, docs/PROVIDER.md).

When a person changes their email or phone and asks for it in all their workspaces, each
workspace client with a notice URI that the person is a member of or consented to gets a
Security Event Token (RFC 8417), pushed to it (RFC 8935) until it is accepted. The notice is
queued in the transaction of the change (`NoticeOutbox`); this sends what is queued: it claims
the due notices, signs and pushes each, and records the outcome — delivered (the row goes),
retried after an exponential backoff, or abandoned after the last attempt (an audit event and a
warning). Signing (joserfc) and HTTP (aiohttp) are the web layer's, given in as callables.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.domain.addresses import mask
from core.domain.models import AuditEvent
from core.errors import Unavailable
from core.metrics import OpsMetrics
from core.provider.models import PendingNotice, SigningKey
from core.provider.service import ProviderService

log = logging.getLogger(__name__)

# OpenID RISC Event Types 1.0, "Identifier Changed".
IDENTIFIER_CHANGED = "https://schemas.openid.net/secevent/risc/event-type/identifier-changed"
CLAIMS = {"email": "email", "phone": "phone_number"}  # the claim names of the ID token

# (the signing key, the SET's claims) -> the compact JWS
Sign = Callable[[SigningKey, Mapping[str, Any]], str]
# (the notice URI, the SET) -> None when the workspace accepted it, else why not (no secret)
Push = Callable[[str, str], Coroutine[Any, Any, str | None]]


@dataclass(frozen=True)
class NoticePolicy:
    """From settings (OP_NOTICE_*)."""

    timeout: timedelta = timedelta(seconds=5)  # one push, connecting included
    max_attempts: int = 12
    backoff: timedelta = timedelta(seconds=30)  # before the second attempt; doubles after each
    backoff_max: timedelta = timedelta(hours=1)
    batch: int = 20  # notices one tick claims

    @property
    def lease(self) -> timedelta:
        """How long a claimed notice is this deliverer's: longer than any push may take, and
        short enough that a crashed instance's notices go out again soon (with the same jti)."""
        return self.timeout * 2 + timedelta(seconds=30)

    def retry_in(self, attempt: int) -> timedelta:
        """The wait after the failed attempt number `attempt` (1, 2, ...)."""
        doubled: timedelta = self.backoff * (2 ** min(attempt - 1, 32))
        return min(doubled, self.backoff_max)


class NoticeDeliverer:
    """Sends the outbox's due notices; `tick()` once, or `run()` until told to stop.

    Several instances may run one each: a notice is claimed by one of them at a time.
    """

    def __init__(
        self,
        provider: ProviderService,
        issuer: str,
        sign: Sign,
        push: Push,
        policy: NoticePolicy,
        metrics: OpsMetrics | None = None,
        due: Callable[[datetime], Awaitable[bool]] | None = None,
    ) -> None:
        self.provider = provider
        self.issuer = issuer
        self.sign = sign
        self.push = push
        self.policy = policy
        self.metrics = metrics
        # Whether any notice is due: the look every tick makes (by default the store's).
        self.due = due or provider.store.notices_due

    def claims(self, notice: PendingNotice) -> dict[str, Any]:
        """The SET: whom it is about as this workspace knows them (its `sub`), and the new
        address; never the old one. `iat` and `jti` are the notice's, the same on every retry."""
        sub = self.provider.subject(notice.client, notice.account_id)
        claim = CLAIMS[notice.kind]
        return {
            "iss": self.issuer,
            "aud": notice.client.client_id,
            "iat": int(notice.created_at.timestamp()),
            "jti": notice.jti,
            "sub": sub,
            "events": {
                IDENTIFIER_CHANGED: {
                    "subject": {"format": "iss_sub", "iss": self.issuer, "sub": sub},
                    "new-value": notice.address,
                    claim: notice.address,
                    f"{claim}_verified": True,
                }
            },
        }

    async def tick(self) -> int:
        """Send every notice due now (a batch at most); how many were tried."""
        provider = self.provider
        now = provider.clock.now()
        if not await self.due(now):
            return 0
        key = await provider.signing_key()
        if key is None:
            return 0  # the first key is made at start; until then nothing can be signed
        claimed, dropped = await provider.store.claim_notices(
            now, now + self.policy.lease, self.policy.batch
        )
        for _ in range(dropped):
            self._count("dropped")
        await asyncio.gather(*(self._deliver(key, notice) for notice in claimed))
        return len(claimed)

    async def _deliver(self, key: SigningKey, notice: PendingNotice) -> None:
        client_id = notice.client.client_id
        uri = notice.client.notice_uri
        assert uri is not None, "the store claims only notices with somewhere to go"
        try:
            error = await self.push(uri, self.sign(key, self.claims(notice)))
        except Exception as exc:  # a push must not end the loop; its kind says enough
            error = type(exc).__name__
        provider, store = self.provider, self.provider.store
        now = provider.clock.now()
        details = {"client_id": client_id, "attempts": str(notice.attempt)}
        if error is None:
            await store.finish_notice(notice.notice_id, notice.attempt, None, None)
            await self._audit("oidc.notice_delivered", notice, details)
            self._count("delivered")
            log.info(
                "workspace notice delivered: client=%s account=%s attempt=%d",
                client_id,
                notice.account_id,
                notice.attempt,
            )
        elif notice.attempt >= self.policy.max_attempts:
            await store.finish_notice(notice.notice_id, notice.attempt, None, error)
            await self._audit("oidc.notice_abandoned", notice, {**details, "error": error})
            self._count("abandoned")
            log.warning(
                "workspace notice abandoned after %d attempts: client=%s account=%s %s=%s: %s",
                notice.attempt,
                client_id,
                notice.account_id,
                notice.kind,
                mask(notice.address),
                error,
            )
        else:
            wait = self.policy.retry_in(notice.attempt)
            await store.finish_notice(notice.notice_id, notice.attempt, now + wait, error)
            self._count("retried")
            log.info(
                "workspace notice not accepted, again in %ds: client=%s account=%s attempt=%d: %s",
                wait.total_seconds(),
                client_id,
                notice.account_id,
                notice.attempt,
                error,
            )

    async def _audit(self, action: str, notice: PendingNotice, details: dict[str, str]) -> None:
        now = self.provider.clock.now()
        await self.provider.store.record(AuditEvent(action, notice.account_id, now, "web", details))

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.workspace_notices.labels(outcome=outcome).inc()

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        """Tick every `interval` seconds until `stop` is set; a database outage is a warning
        and the next tick tries again."""
        down = False
        while not stop.is_set():
            try:
                await self.tick()
                down = False
            except Unavailable:
                if not down:
                    log.warning("workspace notices wait: the database is unavailable")
                down = True
            except Exception:
                log.exception("workspace notices: a tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
