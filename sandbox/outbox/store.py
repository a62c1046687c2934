"""The SMS sender the sandbox gives the product: every message kept in memory for /sms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.ports import Clock


@dataclass(frozen=True)
class SentSms:
    phone: str
    text: str
    at: datetime


@dataclass
class SmsOutbox:
    """Keeps every SMS instead of sending it; the sandbox's SMS outbox page shows them.

    `clock` (the sandbox's one clock) dates each message; real time without one."""

    clock: Clock | None = None
    messages: list[SentSms] = field(default_factory=list)

    async def send(self, phone: str, text: str) -> None:
        at = self.clock.now() if self.clock is not None else datetime.now(UTC)
        self.messages.append(SentSms(phone, text, at))
