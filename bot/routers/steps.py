"""How many steps a binding flow shows ("Step 2 of 4"), shared by the email and phone flows.

Both ask for the address, maybe the workspaces option, maybe a password, and the code.
"""

from __future__ import annotations

from bot.talk import Talk


async def memberships(talk: Talk) -> int:
    """How many workspaces the person belongs to (the workspaces option is asked only then)."""
    async with talk.services.kit.unit() as uow:
        return len(await uow.workspaces.memberships(talk.account_id or 0))


async def count(talk: Talk) -> int:
    """Address, (workspaces), (password), code: how many steps this person will see."""
    has_password = await talk.services.password.has_password(talk.account_id or 0)
    return 2 + (not has_password) + bool(await memberships(talk))


async def total(talk: Talk) -> int:
    """The step count the flow began with, or worked out again when the data was lost."""
    return int(await talk.recall("flow_total") or await count(talk))
