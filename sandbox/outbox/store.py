"""The SMS sender the sandbox gives the product: every message kept in memory for /sms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class SentSms:
    phone: str
    text: str
    at: datetime


@dataclass
class SmsOutbox:
    """Keeps every SMS instead of sending it; the sandbox's SMS outbox page shows them."""

    messages: list[SentSms] = field(default_factory=list)

    async def send(self, phone: str, text: str) -> None:
        self.messages.append(SentSms(phone, text, datetime.now(UTC)))
