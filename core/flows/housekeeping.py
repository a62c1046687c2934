"""Housekeeping: what outlived its purpose leaves the database, on a schedule.

Pending claims (bindings awaiting their code) past their lifetime block nobody and show as none
(PRODUCT §1.4), so they go. Audit events go after the retention period (AUDIT_RETENTION_DAYS).
Codes, tokens, limits and cooldowns live in Redis or memory with their own expiry, not here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from core.errors import Unavailable
from core.flows.kit import Kit
from core.ports import RetentionRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Swept:
    """How many rows one run removed."""

    claims: int
    audit: int


@dataclass(frozen=True)
class Housekeeping:
    """Removes expired pending claims and audit events older than `audit_retention`."""

    kit: Kit
    audit_retention: timedelta = timedelta(days=365)
    interval: timedelta = timedelta(hours=1)
    # Rows per transaction: short transactions, so SQLite's writers are not held up for long.
    batch: int = 500

    async def run_once(self) -> Swept:
        now = self.kit.clock.now()
        claims = await self._sweep(lambda r: r.remove_expired_claims(now, self.batch))
        cutoff = now - self.audit_retention
        audit = await self._sweep(lambda r: r.remove_audit_before(cutoff, self.batch))
        return Swept(claims, audit)

    async def run_forever(self) -> None:
        """A run now and then one every `interval`, until cancelled; failures wait for the next."""
        while True:
            try:
                swept = await self.run_once()
            except Unavailable:
                log.warning("housekeeping skipped: the database is unavailable")
            except Exception:
                log.exception("housekeeping failed")
            else:
                if swept.claims or swept.audit:
                    log.info(
                        "housekeeping removed %d expired claims, %d old audit events",
                        swept.claims,
                        swept.audit,
                    )
            await asyncio.sleep(self.interval.total_seconds())

    async def _sweep(self, step: Callable[[RetentionRepository], Awaitable[int]]) -> int:
        total = 0
        while True:
            async with self.kit.unit() as uow:
                removed = await step(uow.retention)
                await uow.commit()
            total += removed
            if removed < self.batch:
                return total
