"""Step numbers of a binding flow, from core's plan (`core.flows.binding.BindingPlan`)."""

from __future__ import annotations

from bot.routers.steps.code import TIPS
from bot.talk import Talk
from core.flows.binding import BindingPlan, Step

TOTAL = "flow_total"  # the conversation data's key of the step count the flow began with


async def began(talk: Talk, plan: BindingPlan, **values: object) -> None:
    """Remember the step count the flow begins with ("Step k of n" keeps its n to the end),
    with the flow's other starting values."""
    await talk.remember(**{TOTAL: plan.total, TIPS: None}, **values)


async def step_of(talk: Talk, plan: BindingPlan, step: Step) -> tuple[int, int]:
    """(k, n) of this step; n the count the flow began with, or the plan's own when the
    conversation lost it."""
    return plan.number(step, int(await talk.recall(TOTAL) or 0) or None)
