"""Support (PRODUCT §1.8): the person's side (`person`: hand the chat to people, relay, come
back) and the agents' side in the support chat (`agents`). Repeated trouble in a flow offers it
through `bot.routers.steps.trouble`, whose buttons `person` answers."""

from __future__ import annotations

from bot.routers.support import agents, person
from bot.routers.support.person import begin

__all__ = ["agents", "begin", "person"]
