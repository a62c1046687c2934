"""The mailer and the SMS sender, counted: `accountbot_messages_total{channel, outcome}`."""

from __future__ import annotations

from core.metrics import OpsMetrics
from core.ports import Letter, Mailer, SmsSender


class CountedMailer:
    def __init__(self, inner: Mailer, metrics: OpsMetrics) -> None:
        self.inner, self.metrics = inner, metrics

    async def send(self, letter: Letter) -> None:
        try:
            await self.inner.send(letter)
        except Exception:
            self.metrics.messages.labels("email", "failed").inc()
            raise
        self.metrics.messages.labels("email", "sent").inc()


class CountedSms:
    def __init__(self, inner: SmsSender, metrics: OpsMetrics) -> None:
        self.inner, self.metrics = inner, metrics

    async def send(self, phone: str, text: str) -> None:
        try:
            await self.inner.send(phone, text)
        except Exception:
            self.metrics.messages.labels("sms", "failed").inc()
            raise
        self.metrics.messages.labels("sms", "sent").inc()
