"""The support desk of one bot process: the core flow, person lines, agents.

Sends are paced and retried by the bot's session (bot/pacing.py), not here.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import cast
from weakref import WeakKeyDictionary

from aiogram import Bot
from aiogram.enums import ChatMemberStatus

from bot.support.queue import PersonLine, Straight
from core.bootstrap import Services
from core.flows.support import SupportFlow

AGENT_STATUSES = {
    ChatMemberStatus.CREATOR,
    ChatMemberStatus.ADMINISTRATOR,
    ChatMemberStatus.MEMBER,
}
MEMBERSHIP_TTL = 60.0  # seconds; someone removed from the chat stops acting within a minute
STRAIGHT = Straight()


@dataclass
class Desk:
    """Built once per Services (see `desk_for`); holds only caches and lines, never truth."""

    services: Services
    flow: SupportFlow
    patience: float = 5.0
    lines: dict[int, PersonLine] = field(default_factory=dict)
    members: dict[tuple[int, int], tuple[bool, float]] = field(default_factory=dict)

    @property
    def chat_id(self) -> int | None:
        return self.services.settings.support_chat_id

    def queue(self, chat_id: int) -> Straight:
        """Kept for callers that still wrap their sends; the session paces every chat."""
        return STRAIGHT

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


# One desk per Services; the desk sees its services through a weak proxy, so that an entry
# never keeps its own key alive.
_DESKS: WeakKeyDictionary[Services, Desk] = WeakKeyDictionary()


def desk_for(services: Services) -> Desk:
    """The desk of these services, made on first use."""
    desk = _DESKS.get(services)
    if desk is None:
        desk = _DESKS[services] = Desk(cast(Services, weakref.proxy(services)), services.support)
    return desk
