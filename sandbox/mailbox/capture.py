"""A mailer for tests that read letters without SMTP: every letter kept in memory."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.ports import Letter


@dataclass
class CapturingMailer:
    """Keeps every letter instead of sending it."""

    letters: list[Letter] = field(default_factory=list)

    async def send(self, letter: Letter) -> None:
        self.letters.append(letter)
