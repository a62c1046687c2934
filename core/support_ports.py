"""The support handoff's ports (PRODUCT §1.8): handoffs, topics and the message map, persisted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Handoff:
    """One person's conversation handed to people; the paused step is kept to resume it."""

    id: int
    telegram_user_id: int
    account_id: int | None
    reason: str
    saved_state: str | None
    saved_data: Mapping[str, Any] = field(default_factory=dict)
    opened_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class NewHandoff:
    """A handoff to open: whose, for which account, why, and the step it pauses."""

    telegram_user_id: int
    account_id: int | None
    reason: str
    saved_state: str | None
    saved_data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Relayed:
    """One message copied between a person's chat and their topic, both ids kept."""

    telegram_user_id: int
    person_message_id: int
    group_message_id: int


class SupportStore(Protocol):
    """Handoffs, one topic per person per support chat, and the map of relayed messages."""

    async def open(self, new: NewHandoff, now: datetime) -> tuple[Handoff, bool]: ...
    async def current(self, telegram_user_id: int) -> Handoff | None: ...
    async def close(self, telegram_user_id: int, now: datetime) -> Handoff | None: ...
    async def last(self, telegram_user_id: int) -> Handoff | None: ...
    async def topic(self, chat_id: int, telegram_user_id: int) -> int | None: ...
    async def set_topic(
        self, chat_id: int, telegram_user_id: int, thread_id: int, now: datetime
    ) -> None: ...
    async def person_in(self, chat_id: int, thread_id: int) -> int | None: ...
    async def remember(self, chat_id: int, relayed: Relayed, now: datetime) -> None: ...
    async def by_group_message(self, chat_id: int, message_id: int) -> Relayed | None: ...
    async def by_person_message(
        self, chat_id: int, telegram_user_id: int, message_id: int
    ) -> Relayed | None: ...
