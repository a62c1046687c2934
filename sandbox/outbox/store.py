"""Development and test doubles for the outbound ports: letters and SMS kept in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.ports import Letter


@dataclass(frozen=True)
class SentSms:
    phone: str
    text: str
    at: datetime


@dataclass
class CapturingMailer:
    """Keeps every letter instead of sending it."""

    letters: list[Letter] = field(default_factory=list)

    async def send(self, letter: Letter) -> None:
        self.letters.append(letter)


@dataclass
class SmsOutbox:
    """Keeps every SMS instead of sending it; the sandbox's SMS outbox page shows them."""

    messages: list[SentSms] = field(default_factory=list)

    async def send(self, phone: str, text: str) -> None:
        self.messages.append(SentSms(phone, text, datetime.now(UTC)))
