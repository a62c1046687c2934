"""The support desk of one bot process: the core flow, send queues, person lines, agents."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.enums import ChatMemberStatus

from bot.support.queue import GroupQueue, PersonLine, Sleep
from core.bootstrap import Services
from core.flows.support import SupportFlow

AGENT_STATUSES = {
    ChatMemberStatus.CREATOR,
    ChatMemberStatus.ADMINISTRATOR,
    ChatMemberStatus.MEMBER,
}
MEMBERSHIP_TTL = 60.0  # seconds; someone removed from the chat stops acting within a minute
RESOURCE = "support_desk"


@dataclass
class Desk:
    """Built once per Services (see `desk_for`); holds only caches and queues, never truth."""

    services: Services
    flow: SupportFlow
    sleep: Sleep | None = None
    patience: float = 5.0
    queues: dict[int, GroupQueue] = field(default_factory=dict)
    lines: dict[int, PersonLine] = field(default_factory=dict)
    members: dict[tuple[int, int], tuple[bool, float]] = field(default_factory=dict)

    @property
    def chat_id(self) -> int | None:
        return self.services.settings.support_chat_id

    def queue(self, chat_id: int) -> GroupQueue:
        if chat_id not in self.queues:
            self.queues[chat_id] = GroupQueue(sleep=self._sleep)
        return self.queues[chat_id]

    async def _sleep(self, seconds: float) -> None:
        await (self.sleep or asyncio.sleep)(seconds)

    def line(self, telegram_user_id: int) -> PersonLine:
        if telegram_user_id not in self.lines:
            self.lines[telegram_user_id] = PersonLine(patience=self.patience)
        return self.lines[telegram_user_id]

    async def is_agent(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        """A member of the support chat (getChatMember), remembered for a minute."""
        key = (chat_id, user_id)
        known = self.members.get(key)
        if known is not None and known[1] > time.monotonic():
            return known[0]
        member = await bot.get_chat_member(chat_id, user_id)
        allowed = member.status in AGENT_STATUSES
        self.members[key] = (allowed, time.monotonic() + MEMBERSHIP_TTL)
        return allowed

    async def close(self) -> None:
        for queue in self.queues.values():
            await queue.stop()


def desk_for(services: Services) -> Desk:
    """The desk of these services, made on first use; its queues stop with the services."""
    found = services.resources.get(RESOURCE)
    if isinstance(found, Desk):
        return found
    desk = Desk(services, services.support)
    services.resources[RESOURCE] = desk
    services.closers.append(desk.close)
    return desk
