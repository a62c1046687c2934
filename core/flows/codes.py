"""The one code check every flow shares: issue, resend cooldown, attempts, single use.

Codes are kept only as HMAC-SHA256 under the server key and compared in constant time
(PRODUCT §1.9; as ory/kratos `CodeHMAC`). An attempt is spent before the comparison,
atomically in the store, so concurrent guesses can never use more than the allowed attempts.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import CodeExpired, CodeInvalid, ResendTooSoon
from core.flows.kit import Kit
from core.ports import StoredCode


@dataclass(frozen=True)
class Codes:
    """Issue and verify one-time codes for one purpose ("email", "phone", "release", ...)."""

    kit: Kit
    purpose: str

    def _key(self, subject: str) -> str:
        return f"code:{self.purpose}:{subject}"

    async def cooldown(self, subject: str) -> None:
        """Start the resend cooldown, or ResendTooSoon while it runs (60 s, doubling)."""
        limits = self.kit.limits
        horizon = max(limits.email_code_ttl, limits.sms_window)
        left = await self.kit.cooldowns.start(
            f"cooldown:{self.purpose}:{subject}", limits.resend_cooldown, horizon
        )
        if left is not None:  # refused: said from the stored deadline (PRODUCT §1.9)
            self._refused("too_soon")
            raise ResendTooSoon(left, await self.next_resend_at(subject))

    async def reset_cooldown(self, subject: str) -> None:
        """Forget a cooldown started for a send that failed."""
        await self.kit.cooldowns.clear(f"cooldown:{self.purpose}:{subject}")

    async def next_resend_at(self, subject: str) -> datetime | None:
        """The stored deadline of the resend cooldown, while it runs: every answer about it
        (the refusal, "next resend in", the tips) is read from this one moment."""
        return await self.kit.cooldowns.deadline(f"cooldown:{self.purpose}:{subject}")

    async def next_resend_in(self, subject: str) -> timedelta:
        left = await self.kit.cooldowns.remaining(f"cooldown:{self.purpose}:{subject}")
        return left or timedelta(0)

    async def issue(
        self, subject: str, ttl: timedelta, data: Mapping[str, str]
    ) -> tuple[str, StoredCode]:
        """A new code replacing any earlier one: the code in clear, to send and forget, and
        the record kept (its `issue_id` ties a twin link to this very issue)."""
        code = self.kit.new_code()
        stored = StoredCode(
            digest=self.kit.keyed.digest(self.purpose, code),
            expires_at=self.kit.clock.now() + ttl,
            attempts_left=self.kit.limits.code_max_attempts,
            issue_id=secrets.token_hex(8),
            data=dict(data),
        )
        await self.kit.codes.put(self._key(subject), stored)
        self.kit.metrics.codes_issued.labels(self.purpose).inc()
        return code, stored

    async def pending(self, subject: str) -> StoredCode | None:
        return await self.kit.codes.get(self._key(subject))

    async def verify(self, subject: str, code: str) -> StoredCode:
        """The stored record when the code is right; CodeInvalid or CodeExpired otherwise."""
        key = self._key(subject)
        record = await self.kit.codes.take_attempt(key)
        if record is None:
            self._refused("expired")
            raise CodeExpired()
        given = self.kit.keyed.digest(self.purpose, _digits(code))
        if not self.kit.keyed.same(record.digest, given):
            if record.attempts_left <= 0:
                # The last attempt: this code is void now (a code issued meanwhile stays).
                await self.kit.codes.consume(key, record.issue_id)
            self._refused("wrong")
            raise CodeInvalid(record.attempts_left)
        if not await self.kit.codes.consume(key, record.issue_id):
            self._refused("expired")
            raise CodeExpired()
        return record

    def _refused(self, reason: str) -> None:
        self.kit.metrics.codes_refused.labels(self.purpose, reason).inc()

    async def discard(self, subject: str) -> None:
        await self.kit.codes.discard(self._key(subject))

    async def consume_issue(self, subject: str, issue_id: str) -> bool:
        """Use up the code of this issue (when its twin link was followed instead)."""
        return await self.kit.codes.consume(self._key(subject), issue_id)


def _digits(code: str) -> str:
    """People type "123 456" or "123-456"; only the digits count."""
    return "".join(ch for ch in code if ch.isdigit()) or code.strip()
